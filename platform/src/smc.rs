//! The SMC conduit both images use to call EL3 (the RMM for its EL3 services and REQ_COMPLETE, the
//! host stub for RMI and PSCI): x0..x7 in, x0..x7 out.

use core::arch::asm;

/// Issues `SMC #0` with x0..x7 = `regs` and returns x0..x7 as EL3 left them. x8..x17 are treated
/// as clobbered (SMCCC allows a callee to change them).
pub fn smc(regs: [u64; 8]) -> [u64; 8] {
    let mut r = regs;
    // SAFETY: 1. An SMC to EL3 changes only registers, all declared here. 2. EL3 preserves the
    // caller's memory and its other registers.
    unsafe {
        asm!(
            "smc #0",
            inout("x0") r[0], inout("x1") r[1], inout("x2") r[2], inout("x3") r[3],
            inout("x4") r[4], inout("x5") r[5], inout("x6") r[6], inout("x7") r[7],
            lateout("x8") _, lateout("x9") _, lateout("x10") _, lateout("x11") _,
            lateout("x12") _, lateout("x13") _, lateout("x14") _, lateout("x15") _,
            lateout("x16") _, lateout("x17") _,
            options(nostack),
        );
    }
    r
}
