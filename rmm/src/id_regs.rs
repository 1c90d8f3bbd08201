//! What a realm reads from the CPU's ID registers (DEN0137 A2.1.2.3): the hardware's values,
//! less the features the realm does not have. The RMM traps these reads (HCR_EL2.TID3) and
//! answers them here.
//!
//! Hidden: SVE and SME (realms are not offered them; their instructions trap), the Activity
//! Monitors, MPAM and the Memory Tagging Extension (none is switched for realms), the PMU and
//! SPE (their registers trap to the RMM, which makes them undefined for the realm), trace (its
//! registers trap and read as zero), and the newer EL1 state that the RMM neither switches nor
//! enables (EL3 starts HCRX_EL2 and the fine-grained traps zero, which leaves it undefined for
//! EL1): TCR2, SCTLR2, the permission indirection and overlay registers, MAIR2/AMAIR2, the
//! guarded control stack, the translation hardening extension, LS64, FPMR, SCXTNUM, LORegions
//! and 128-bit system registers. Every other ID register reads as the hardware has it.
//!
//! Owns the rules only: the world switch reads the hardware registers, `crate::sysreg_trap`
//! decodes the trapped instruction.

/// An ID register in the trapped space: op0 = 3, op1 = 0, CRn = 0, CRm 1..=7, any op2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdRegister {
    /// CRm, 1..=7.
    pub crm: u8,
    /// op2, 0..=7.
    pub op2: u8,
}

impl IdRegister {
    /// ID_AA64PFR0_EL1.
    pub const AA64PFR0: Self = Self { crm: 4, op2: 0 };
    /// ID_AA64PFR1_EL1.
    pub const AA64PFR1: Self = Self { crm: 4, op2: 1 };
    /// ID_AA64PFR2_EL1.
    pub const AA64PFR2: Self = Self { crm: 4, op2: 2 };
    /// ID_AA64ZFR0_EL1 (SVE features).
    pub const AA64ZFR0: Self = Self { crm: 4, op2: 4 };
    /// ID_AA64SMFR0_EL1 (SME features).
    pub const AA64SMFR0: Self = Self { crm: 4, op2: 5 };
    /// ID_AA64DFR0_EL1.
    pub const AA64DFR0: Self = Self { crm: 5, op2: 0 };
    /// ID_AA64ISAR1_EL1.
    pub const AA64ISAR1: Self = Self { crm: 6, op2: 1 };
    /// ID_AA64ISAR2_EL1.
    pub const AA64ISAR2: Self = Self { crm: 6, op2: 2 };
    /// ID_AA64MMFR1_EL1.
    pub const AA64MMFR1: Self = Self { crm: 7, op2: 1 };
    /// ID_AA64MMFR3_EL1.
    pub const AA64MMFR3: Self = Self { crm: 7, op2: 3 };
}

/// A 4-bit ID field at bit `shift`.
const fn field(shift: u32) -> u64 {
    0xF << shift
}

/// ID_AA64PFR0_EL1 fields hidden: SVE \[35:32\], MPAM \[43:40\], AMU \[47:44\].
const PFR0_HIDDEN: u64 = field(32) | field(40) | field(44);
/// ID_AA64PFR1_EL1 fields hidden: MTE \[11:8\], MPAM_frac \[19:16\], SME \[27:24\], GCS \[47:44\],
/// THE \[51:48\].
const PFR1_HIDDEN: u64 = field(8) | field(16) | field(24) | field(44) | field(48);
/// ID_AA64PFR2_EL1 fields hidden: MTEPERM \[3:0\], MTESTOREONLY \[7:4\], MTEFAR \[11:8\], FPMR
/// \[35:32\].
const PFR2_HIDDEN: u64 = field(0) | field(4) | field(8) | field(32);
/// ID_AA64PFR0_EL1.CSV2 \[59:56\] and ID_AA64PFR1_EL1.CSV2_frac \[35:32\]: values above 1 add the
/// SCXTNUM registers (left undefined at EL1: HCRX_EL2.EnSCXT is clear); capped at 1, which keeps
/// what they say about branch target speculation.
const CSV2_SHIFT: u32 = 56;
const CSV2_FRAC_SHIFT: u32 = 32;

/// `hw` with the 4-bit field at `shift` no more than 1.
const fn at_most_one(hw: u64, shift: u32) -> u64 {
    if (hw >> shift) & 0xF > 1 {
        (hw & !field(shift)) | 1 << shift
    } else {
        hw
    }
}
/// ID_AA64ISAR1_EL1 fields hidden: LS64 \[63:60\].
const ISAR1_HIDDEN: u64 = field(60);
/// ID_AA64ISAR2_EL1 fields hidden: SYSREG_128 \[35:32\].
const ISAR2_HIDDEN: u64 = field(32);
/// ID_AA64MMFR1_EL1 fields hidden: LO \[19:16\] (the LORegion registers trap: not switched).
const MMFR1_HIDDEN: u64 = field(16);
/// ID_AA64MMFR3_EL1 fields hidden: TCRX \[3:0\], SCTLRX \[7:4\], S1PIE \[11:8\], S2PIE \[15:12\],
/// S1POE \[19:16\], S2POE \[23:20\], AIE \[27:24\], MEC \[31:28\].
const MMFR3_HIDDEN: u64 = 0xFFFF_FFFF;
/// ID_AA64DFR0_EL1 fields hidden: TraceVer \[7:4\], PMUVer \[11:8\], PMSVer \[35:32\], TraceFilt
/// \[43:40\], TraceBuffer \[47:44\], MTPMU \[51:48\], BRBE \[55:52\], HPMN0 \[63:60\].
const DFR0_HIDDEN: u64 =
    field(4) | field(8) | field(32) | field(40) | field(44) | field(48) | field(52) | field(60);

/// The value a realm reads from `reg` when the hardware holds `hw`.
pub const fn realm_view(reg: IdRegister, hw: u64) -> u64 {
    match (reg.crm, reg.op2) {
        (4, 0) => at_most_one(hw & !PFR0_HIDDEN, CSV2_SHIFT),
        (4, 1) => at_most_one(hw & !PFR1_HIDDEN, CSV2_FRAC_SHIFT),
        (4, 2) => hw & !PFR2_HIDDEN,
        (4, 4) | (4, 5) => 0,
        (5, 0) => hw & !DFR0_HIDDEN,
        (6, 1) => hw & !ISAR1_HIDDEN,
        (6, 2) => hw & !ISAR2_HIDDEN,
        (7, 1) => hw & !MMFR1_HIDDEN,
        (7, 3) => hw & !MMFR3_HIDDEN,
        _ => hw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_features_read_as_absent_and_the_rest_as_the_hardware_has_them() {
        let all = u64::MAX;
        let pfr0 = realm_view(IdRegister::AA64PFR0, all);
        assert_eq!((pfr0 >> 32) & 0xF, 0, "SVE");
        assert_eq!((pfr0 >> 44) & 0xF, 0, "AMU");
        assert_eq!(
            pfr0 & 0xFFFF_FFFF,
            0xFFFF_FFFF,
            "EL0..EL3, FP, AdvSIMD, GIC, RAS kept"
        );
        let pfr1 = realm_view(IdRegister::AA64PFR1, all);
        assert_eq!((pfr1 >> 24) & 0xF, 0, "SME");
        assert_eq!((pfr1 >> 8) & 0xF, 0, "MTE");
        assert_eq!(pfr1 & 0xF, 0xF, "BT kept");
        assert_eq!(realm_view(IdRegister::AA64ZFR0, all), 0);
        assert_eq!(realm_view(IdRegister::AA64SMFR0, all), 0);
        let dfr0 = realm_view(IdRegister::AA64DFR0, all);
        assert_eq!((dfr0 >> 8) & 0xF, 0, "PMUVer");
        assert_eq!((dfr0 >> 32) & 0xF, 0, "PMSVer");
        assert_eq!(dfr0 & 0xF, 0xF, "DebugVer kept");
        assert_eq!((dfr0 >> 12) & 0xFF, 0xFF, "breakpoints kept");
        let pfr1 = realm_view(IdRegister::AA64PFR1, all);
        assert_eq!((pfr1 >> 44) & 0xFF, 0, "GCS, THE");
        assert_eq!((pfr0 >> 56) & 0xF, 1, "CSV2 capped");
        assert_eq!((pfr1 >> 32) & 0xF, 1, "CSV2_frac capped");
        assert_eq!(
            (realm_view(IdRegister::AA64PFR0, 0) >> 56) & 0xF,
            0,
            "CSV2 0 stays 0"
        );
        let mmfr1 = realm_view(IdRegister::AA64MMFR1, all);
        assert_eq!(
            ((mmfr1 >> 16) & 0xF, mmfr1 & 0xFFFF),
            (0, 0xFFFF),
            "LO hidden, rest kept"
        );
        let pfr2 = realm_view(IdRegister::AA64PFR2, all);
        assert_eq!((pfr2 & 0xFFF, (pfr2 >> 32) & 0xF), (0, 0), "MTE*, FPMR");
        assert_eq!(realm_view(IdRegister::AA64ISAR1, all) >> 60, 0, "LS64");
        assert_eq!(
            (realm_view(IdRegister::AA64ISAR1, all) >> 4) & 0xFF,
            0xFF,
            "PAuth kept"
        );
        assert_eq!(
            (realm_view(IdRegister::AA64ISAR2, all) >> 32) & 0xF,
            0,
            "SYSREG_128"
        );
        assert_eq!(
            (realm_view(IdRegister::AA64ISAR2, all) >> 16) & 0xF,
            0xF,
            "MOPS kept"
        );
        assert_eq!(
            realm_view(IdRegister::AA64MMFR3, all) & 0xFFFF_FFFF,
            0,
            "TCRX .. MEC"
        );
        // ID_AA64ISAR0_EL1, ID_AA64MMFR0_EL1 and an AArch32 register pass through.
        for reg in [(6, 0), (7, 0), (1, 0)] {
            let reg = IdRegister {
                crm: reg.0,
                op2: reg.1,
            };
            assert_eq!(
                realm_view(reg, 0x1234_5678_9ABC_DEF0),
                0x1234_5678_9ABC_DEF0
            );
        }
    }
}
