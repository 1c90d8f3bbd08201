//! The SMCCC calls the model answers "in the kernel": what KVM's SMCCC handler does for a host
//! call whose filter action is HANDLE.
//!
//! KVM answers the Arm Architecture Service calls, PSCI, TRNG, paravirtualised time and its own
//! vendor-hypervisor calls. For a realm, PSCI never arrives as a host call (the RMM services it),
//! and the others need state this model does not have, so it answers:
//! - `SMCCC_VERSION` -> 1.1 (the version KVM reports);
//! - `SMCCC_ARCH_FEATURES(fid)` -> for the three `SMCCC_ARCH_WORKAROUND_*` calls, what KVM reports
//!   on a CPU that is not affected (WORKAROUND_1 and _3: "unaffected", 1; WORKAROUND_2: "not
//!   required", -2); NOT_SUPPORTED for anything else;
//! - NOT_SUPPORTED (-1 in x0) for every other function ID, PSCI IDs included (a host call with a
//!   PSCI ID is not a PSCI call; KVM would run its own PSCI emulation on it, which the Arm CCA
//!   maintainers consider a bug).
//!
//! As in KVM, x0..x3 are the results and x1..x3 are zero unless the call defines them.

use hostcall_abi::smccc::{SMCCC_VERSION, SMC_UNKNOWN};

/// `SMCCC_ARCH_FEATURES`.
pub const SMCCC_ARCH_FEATURES: u32 = 0x8000_0001;
/// `SMCCC_ARCH_WORKAROUND_1` (Spectre-v2 branch predictor hardening).
pub const SMCCC_ARCH_WORKAROUND_1: u32 = 0x8000_8000;
/// `SMCCC_ARCH_WORKAROUND_2` (Spectre-v4 speculative store bypass).
pub const SMCCC_ARCH_WORKAROUND_2: u32 = 0x8000_7FFF;
/// `SMCCC_ARCH_WORKAROUND_3` (Spectre-BHB).
pub const SMCCC_ARCH_WORKAROUND_3: u32 = 0x8000_3FFF;
/// The SMCCC version KVM reports to guests: 1.1.
pub const KVM_SMCCC_VERSION: u64 = 0x1_0001;
/// SMCCC NOT_SUPPORTED (-1).
pub const SMCCC_RET_NOT_SUPPORTED: u64 = SMC_UNKNOWN;
/// SMCCC NOT_REQUIRED (-2).
pub const SMCCC_RET_NOT_REQUIRED: u64 = -2i64 as u64;
/// `SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED` (1).
pub const SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED: u64 = 1;

/// The in-kernel answer (x0..x3) to function `fid` called with registers `x`.
pub fn handle(fid: u32, x: &[u64; 31]) -> [u64; 4] {
    let x0 = match fid {
        SMCCC_VERSION => KVM_SMCCC_VERSION,
        SMCCC_ARCH_FEATURES => match x[1] as u32 {
            SMCCC_ARCH_WORKAROUND_1 | SMCCC_ARCH_WORKAROUND_3 => {
                SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED
            }
            SMCCC_ARCH_WORKAROUND_2 => SMCCC_RET_NOT_REQUIRED,
            _ => SMCCC_RET_NOT_SUPPORTED,
        },
        _ => SMCCC_RET_NOT_SUPPORTED,
    };
    [x0, 0, 0, 0]
}
