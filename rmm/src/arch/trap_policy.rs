//! What the RMM traps, and what it leaves to the realm, while a realm runs: the values of
//! `HCR_EL2`, `HCRX_EL2`, `MDCR_EL2`, `CPTR_EL2` and `CNTHCTL_EL2` for realm execution, each
//! built from the registers' named fields with the reason it is set.
//!
//! This file owns the policy and nothing else: it is portable (host tests check it field by
//! field, `tests` below) and never touches a register; the world switch (`crate::aarch64`)
//! writes these values. Fields `aarch64-cpu` does not name (FEAT_HCX's `HCRX_EL2`, FEAT_RME's
//! timer masks, the nVHE layout of `CPTR_EL2`) get typed definitions here.
//!
//! Where a trapped access goes: ID registers to `crate::id_regs`, other system registers to
//! `crate::sysreg_trap` (undefined, read as zero, or forwarded to the host for GIC SGIs), WFI
//! and WFE to the host when `rec_enter.flags` asks (A4.3.4), FP/SIMD to a lazy register switch.

use super::EntryTraps;
use aarch64_cpu::registers::{CNTHCTL_EL2, HCR_EL2, MDCR_EL2};
pub use fields::{CNTHCTL_EL2_RME, CPTR_EL2_NVHE, HCRX_EL2};

/// Typed definitions of the register fields `aarch64-cpu` does not name (the macro's generated
/// items carry no documentation of their own: each field's doc comment is above it).
#[allow(missing_docs)]
pub mod fields {
    use tock_registers::register_bitfields;

    register_bitfields! {u64,
        /// `HCRX_EL2` (FEAT_HCX): the fields this policy sets.
        pub HCRX_EL2 [
            /// MSCEn: the memory copy and set instructions (FEAT_MOPS) are usable at EL1 and EL0.
            MSCEN OFFSET(11) NUMBITS(1) []
        ],
        /// `CNTHCTL_EL2` fields of FEAT_RME (Realm EL2 timer masks).
        pub CNTHCTL_EL2_RME [
            /// CNTVMASK: the EL1 virtual timer's output is masked.
            CNTVMASK OFFSET(18) NUMBITS(1) [],
            /// CNTPMASK: the EL1 physical timer's output is masked.
            CNTPMASK OFFSET(19) NUMBITS(1) []
        ],
        /// `CPTR_EL2` with `HCR_EL2.E2H` = 0 (the layout the RMM runs with).
        pub CPTR_EL2_NVHE [
            /// TTA: trace system register accesses trap to EL2.
            TTA OFFSET(20) NUMBITS(1) [],
            /// TSM: SME trap to EL2.
            TSM OFFSET(12) NUMBITS(1) [],
            /// TFP: FP/SIMD trap to EL2.
            TFP OFFSET(10) NUMBITS(1) [],
            /// TZ: SVE traps to EL2.
            TZ OFFSET(8) NUMBITS(1) []
        ]
    }
}

/// `HCR_EL2` while a realm runs, before the WFx traps the host asks for ([`hcr`]):
/// - VM: stage 2 translation on (the realm's RTTs);
/// - SWIO: set/way invalidation behaves as clean and invalidate;
/// - FMO, IMO, AMO: physical FIQ, IRQ and SError go to EL2 (the RMM exits to the host);
/// - FB, BSU inner shareable: broadcast TLB maintenance and barriers from EL1;
/// - TID3: ID register reads trap (answered by `crate::id_regs`: the realm's view of features);
/// - TACR, TLOR: ACTLR_EL1 (implementation defined) and the LORegion registers are not switched
///   between worlds: trapped, undefined for realms;
/// - TERR: the RAS error records trap and read as zero;
/// - TSC: SMC traps (RSI, PSCI, anything else answered NOT_SUPPORTED);
/// - TIDCP, TSW: implementation-defined registers and set/way cache operations trap (a set/way
///   operation completes with no effect);
/// - RW: EL1 is AArch64;
/// - APK, API: pointer authentication is not trapped (the keys are switched per REC);
/// - FWB: stage 2 forces write-back attributes.
pub const HCR_REALM: u64 = HCR_EL2::VM::SET.value
    | HCR_EL2::SWIO::SET.value
    | HCR_EL2::FMO::SET.value
    | HCR_EL2::IMO::SET.value
    | HCR_EL2::AMO::SET.value
    | HCR_EL2::FB::SET.value
    | HCR_EL2::BSU::InnerShareable.value
    | HCR_EL2::TID3::SET.value
    | HCR_EL2::TSC::SET.value
    | HCR_EL2::TIDCP::SET.value
    | HCR_EL2::TACR::SET.value
    | HCR_EL2::TSW::SET.value
    | HCR_EL2::RW::SET.value
    | HCR_EL2::TLOR::SET.value
    | HCR_EL2::TERR::SET.value
    | HCR_EL2::APK::SET.value
    | HCR_EL2::API::SET.value
    | HCR_EL2::FWB::SET.value;

/// `HCR_EL2` for one run: [`HCR_REALM`] plus TWI and TWE as the host asked in
/// `rec_enter.flags` (A4.3.4: WFI/WFE exit to the host only then).
pub const fn hcr(traps: EntryTraps) -> u64 {
    let mut v = HCR_REALM;
    if traps.wfi {
        v |= HCR_EL2::TWI::SET.value;
    }
    if traps.wfe {
        v |= HCR_EL2::TWE::SET.value;
    }
    v
}

/// `MDCR_EL2` bits set for realms (added to what EL3 left):
/// - TPM, TPMCR, TPMS: the PMU and the Statistical Profiling Extension trap, undefined for the
///   realm (realms are not offered them; their ID fields read as absent);
/// - TDA, TDOSA, TDRA: the debug registers trap and read as zero (the RMM does not switch them);
/// - TTRF: the trace filter control traps, undefined for realms.
pub const MDCR_REALM_TRAPS: u64 = MDCR_EL2::TPMCR::SET.value
    | MDCR_EL2::TPM::SET.value
    | MDCR_EL2::TDA::SET.value
    | MDCR_EL2::TDOSA::SET.value
    | MDCR_EL2::TDRA::SET.value
    | MDCR_EL2::TPMS::SET.value
    | MDCR_EL2::TTRF::SET.value;

/// `HCRX_EL2` for realms, on a CPU that has it: MSCEn (with it clear the FEAT_MOPS
/// instructions the ID registers offer would be undefined).
pub const HCRX_REALM: u64 = HCRX_EL2::MSCEN::SET.value;

/// `CNTHCTL_EL2` for realms: EL1 and EL0 may read the physical counter (EL1PCTEN) and use the
/// EL1 physical timer (EL1PCEN), as the architecture has it for a realm (A6.2); nothing masked.
pub const CNTHCTL_REALM: u64 = CNTHCTL_EL2::EL1PCTEN::SET.value | CNTHCTL_EL2::EL1PCEN::SET.value;

/// `CNTHCTL_EL2` for one run: [`CNTHCTL_REALM`] with the outputs of the timers that asserted at
/// the last exit masked (A6.2: the host has been told and drives the virtual interrupt).
pub const fn cnthctl(virt_asserted: bool, phys_asserted: bool) -> u64 {
    let mut v = CNTHCTL_REALM;
    if virt_asserted {
        v |= CNTHCTL_EL2_RME::CNTVMASK::SET.value;
    }
    if phys_asserted {
        v |= CNTHCTL_EL2_RME::CNTPMASK::SET.value;
    }
    v
}

/// `CPTR_EL2` bits always set while a realm runs (added to the host's): SVE (TZ) and SME (TSM)
/// trap, since realms are not offered them and the RMM does not switch their state; trace
/// system registers (TTA) trap and read as zero.
pub const CPTR_REALM_TRAPS: u64 =
    CPTR_EL2_NVHE::TZ::SET.value | CPTR_EL2_NVHE::TSM::SET.value | CPTR_EL2_NVHE::TTA::SET.value;

/// `CPTR_EL2`.TFP: FP/SIMD traps until the realm's registers are loaded (the lazy switch).
pub const CPTR_TFP: u64 = CPTR_EL2_NVHE::TFP::SET.value;

/// `CPTR_EL2`.TZ alone (the switch untraps SVE to move the host's Z registers).
pub const CPTR_TZ: u64 = CPTR_EL2_NVHE::TZ::SET.value;

#[cfg(test)]
mod tests;
