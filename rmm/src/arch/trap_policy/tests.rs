//! The trap policy, field by field: each control with its bit position from the Arm ARM and
//! the reason (DEN0137 or the RMM's design) it is set or left clear.

use super::*;

fn set(v: u64, bit: u32) -> bool {
    v & (1 << bit) != 0
}

/// HCR_EL2 bits the realm value must have, by position: (bit, name, why).
const HCR_SET: [(u32, &str, &str); 18] = [
    (0, "VM", "stage 2 translation through the realm's RTTs"),
    (1, "SWIO", "set/way invalidation as clean and invalidate"),
    (
        3,
        "FMO",
        "physical FIQs to EL2: the host's interrupts end the run",
    ),
    (4, "IMO", "physical IRQs to EL2"),
    (5, "AMO", "physical SErrors to EL2"),
    (9, "FB", "broadcast TLB maintenance from EL1"),
    (10, "BSU[0]", "barriers inner shareable"),
    (18, "TID3", "ID registers answered by the RMM's realm view"),
    (19, "TSC", "SMC is RSI/PSCI, handled by the RMM"),
    (20, "TIDCP", "implementation-defined registers undefined"),
    (21, "TACR", "ACTLR_EL1 is not switched"),
    (22, "TSW", "set/way operations complete with no effect"),
    (31, "RW", "EL1 is AArch64"),
    (35, "TLOR", "LORegion registers are not switched"),
    (36, "TERR", "RAS error records read as zero"),
    (
        40,
        "APK",
        "pointer authentication keys switched per REC, not trapped",
    ),
    (41, "API", "pointer authentication instructions not trapped"),
    (46, "FWB", "stage 2 forces write-back"),
];

/// HCR_EL2 bits that must stay clear, by position: (bit, name, why).
const HCR_CLEAR: [(u32, &str, &str); 12] = [
    (11, "BSU[1]", "inner, not full-system, shareability"),
    (12, "DC", "the realm's stage 1 decides cacheability"),
    (13, "TWI", "WFI traps only when the host asks (A4.3.4)"),
    (14, "TWE", "WFE traps only when the host asks (A4.3.4)"),
    (26, "TVM", "the realm's own EL1 MMU registers are its own"),
    (27, "TGE", "EL1 runs: no trapping of everything to EL2"),
    (30, "TRVM", "reads of EL1 MMU registers are the realm's own"),
    (32, "CD", "stage 2 data cacheability as the RTTs say"),
    (33, "ID", "stage 2 instruction cacheability as the RTTs say"),
    (
        34,
        "E2H",
        "the RMM runs nVHE: CPTR_EL2 and CNTHCTL_EL2 in that layout",
    ),
    (42, "NV", "no nested virtualisation for realms"),
    (48, "GPF", "granule protection faults are EL3's (TF-A)"),
];

#[test]
fn hcr_sets_each_realm_control_for_its_reason() {
    for (bit, name, why) in HCR_SET {
        assert!(
            set(HCR_REALM, bit),
            "HCR_EL2.{name} (bit {bit}) must be set: {why}"
        );
    }
    for (bit, name, why) in HCR_CLEAR {
        assert!(
            !set(HCR_REALM, bit),
            "HCR_EL2.{name} (bit {bit}) must be clear: {why}"
        );
    }
    let named: u64 = HCR_SET.iter().map(|&(b, _, _)| 1u64 << b).sum();
    assert_eq!(HCR_REALM, named, "no bit beyond the listed ones");
}

#[test]
fn wfi_and_wfe_trap_only_when_the_host_asks() {
    let none = hcr(EntryTraps {
        wfi: false,
        wfe: false,
    });
    assert_eq!(none, HCR_REALM);
    let wfi = hcr(EntryTraps {
        wfi: true,
        wfe: false,
    });
    assert_eq!(wfi, HCR_REALM | 1 << 13, "TWI");
    let wfe = hcr(EntryTraps {
        wfi: false,
        wfe: true,
    });
    assert_eq!(wfe, HCR_REALM | 1 << 14, "TWE");
    let both = hcr(EntryTraps {
        wfi: true,
        wfe: true,
    });
    assert_eq!(both, HCR_REALM | 1 << 13 | 1 << 14);
}

#[test]
fn mdcr_traps_the_units_realms_are_not_offered() {
    for (bit, name, why) in [
        (5, "TPMCR", "PMCR_EL0: no PMU for realms"),
        (6, "TPM", "PMU registers: no PMU for realms"),
        (9, "TDA", "debug registers are not switched: read as zero"),
        (10, "TDOSA", "OS lock and power-down registers"),
        (11, "TDRA", "debug ROM registers"),
        (14, "TPMS", "the Statistical Profiling Extension"),
        (19, "TTRF", "the trace filter control"),
    ] {
        assert!(
            set(MDCR_REALM_TRAPS, bit),
            "MDCR_EL2.{name} (bit {bit}): {why}"
        );
    }
    assert_eq!(MDCR_REALM_TRAPS.count_ones(), 7, "nothing else");
    // HPMN [4:0] and TDE (8) stay as EL3 left them: the policy adds no counter partition and
    // does not route debug exceptions.
    assert_eq!(MDCR_REALM_TRAPS & 0x11F, 0);
}

#[test]
fn cptr_traps_sve_sme_and_trace_and_fp_until_loaded() {
    assert!(set(CPTR_REALM_TRAPS, 8), "TZ: SVE is not offered to realms");
    assert!(
        set(CPTR_REALM_TRAPS, 12),
        "TSM: SME is not offered to realms"
    );
    assert!(
        set(CPTR_REALM_TRAPS, 20),
        "TTA: trace registers read as zero"
    );
    assert!(
        !set(CPTR_REALM_TRAPS, 10),
        "TFP is the lazy switch's, not a fixed trap"
    );
    assert_eq!(CPTR_REALM_TRAPS.count_ones(), 3);
    assert_eq!(CPTR_TFP, 1 << 10);
    assert_eq!(CPTR_TZ, 1 << 8);
}

#[test]
fn the_timers_are_the_realms_own_unless_asserted_at_the_last_exit() {
    // A6.2: the realm may use the physical counter and the EL1 physical timer.
    assert_eq!(CNTHCTL_REALM, 0b11, "EL1PCTEN and EL1PCEN, nothing else");
    assert_eq!(cnthctl(false, false), CNTHCTL_REALM);
    assert_eq!(cnthctl(true, false), CNTHCTL_REALM | 1 << 18, "CNTVMASK");
    assert_eq!(cnthctl(false, true), CNTHCTL_REALM | 1 << 19, "CNTPMASK");
}

#[test]
fn hcrx_lets_realms_use_the_mops_instructions() {
    assert_eq!(HCRX_REALM, 1 << 11, "MSCEn only");
}
