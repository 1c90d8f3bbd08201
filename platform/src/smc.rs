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

/// Issues `SMC #0` with x0..x5 = `regs` and returns x0..x7 as EL3 left them: for a call whose
/// callee reads no more than x0..x5 (the RMM's RMI_REQ_COMPLETE, of which EL3 forwards x1..x5 to
/// the host), so x6 and x7 go to EL3 as they happen to be rather than being zeroed first.
pub fn smc_x0_x5(regs: [u64; 6]) -> [u64; 8] {
    let [mut r0, mut r1, mut r2, mut r3, mut r4, mut r5] = regs;
    let (r6, r7): (u64, u64);
    // SAFETY: 1. An SMC to EL3 changes only registers, all declared here. 2. EL3 preserves the
    // caller's memory and its other registers.
    unsafe {
        asm!(
            "smc #0",
            inout("x0") r0, inout("x1") r1, inout("x2") r2, inout("x3") r3,
            inout("x4") r4, inout("x5") r5, lateout("x6") r6, lateout("x7") r7,
            lateout("x8") _, lateout("x9") _, lateout("x10") _, lateout("x11") _,
            lateout("x12") _, lateout("x13") _, lateout("x14") _, lateout("x15") _,
            lateout("x16") _, lateout("x17") _,
            options(nostack),
        );
    }
    [r0, r1, r2, r3, r4, r5, r6, r7]
}

/// Issues `SMC #0` with x0 = `fid`, x1 = `arg` and returns x0: for a call whose callee reads x1
/// only and answers in x0 alone (the RMM's GTSI calls); x2..x7 go to EL3 as they happen to be.
pub fn smc_x0_x1(fid: u64, arg: u64) -> u64 {
    let mut r0 = fid;
    // SAFETY: 1. An SMC to EL3 changes only registers, all declared here (x1..x17 as clobbered).
    // 2. EL3 preserves the caller's memory and its other registers.
    unsafe {
        asm!(
            "smc #0",
            inout("x0") r0, inout("x1") arg => _,
            lateout("x2") _, lateout("x3") _, lateout("x4") _, lateout("x5") _,
            lateout("x6") _, lateout("x7") _,
            lateout("x8") _, lateout("x9") _, lateout("x10") _, lateout("x11") _,
            lateout("x12") _, lateout("x13") _, lateout("x14") _, lateout("x15") _,
            lateout("x16") _, lateout("x17") _,
            options(nostack),
        );
    }
    r0
}
