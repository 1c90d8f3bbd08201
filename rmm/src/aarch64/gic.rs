//! The GICv3 virtual CPU interface of a REC: list registers, active priorities, VMCR and HCR.

use super::*;
use aarch64_cpu::registers::{
    Writeable, ICH_AP0R0_EL2, ICH_AP0R1_EL2, ICH_AP0R2_EL2, ICH_AP0R3_EL2, ICH_AP1R0_EL2,
    ICH_AP1R1_EL2, ICH_AP1R2_EL2, ICH_AP1R3_EL2, ICH_HCR_EL2, ICH_MISR_EL2, ICH_VMCR_EL2,
    ICH_VTR_EL2,
};

/// The list registers' moves below are unrolled, from `ICH_LR15_EL2` down to `ICH_LR0_EL2`, two
/// instructions (8 bytes) each; a move of the first `n` branches to `n` moves before the end.
/// A loop with a `match` per register costs about six times as many instructions.
const LR_MOVE_BYTES: usize = 8;

/// Writes `ICH_LR0_EL2` up to `ICH_LR<n-1>_EL2` from `lrs` (`n` is clamped to 1..=16).
fn write_lrs(lrs: &[u64; 16], n: usize) {
    let n = n.clamp(1, 16);
    // SAFETY: the branch lands on one of the sixteen load-and-write pairs (`n` moves before the
    // label, 1 <= n <= 16), each of which reads `lrs[i]` (i < 16, in bounds of the array) and
    // writes a list register, which only the REC about to run uses; nothing else is touched.
    unsafe {
        asm!(
            "adr {t}, 2f",
            "sub {t}, {t}, {n}, lsl #{shift}",
            "br {t}",
            "ldr {v}, [{p}, #120]", "msr ich_lr15_el2, {v}",
            "ldr {v}, [{p}, #112]", "msr ich_lr14_el2, {v}",
            "ldr {v}, [{p}, #104]", "msr ich_lr13_el2, {v}",
            "ldr {v}, [{p}, #96]", "msr ich_lr12_el2, {v}",
            "ldr {v}, [{p}, #88]", "msr ich_lr11_el2, {v}",
            "ldr {v}, [{p}, #80]", "msr ich_lr10_el2, {v}",
            "ldr {v}, [{p}, #72]", "msr ich_lr9_el2, {v}",
            "ldr {v}, [{p}, #64]", "msr ich_lr8_el2, {v}",
            "ldr {v}, [{p}, #56]", "msr ich_lr7_el2, {v}",
            "ldr {v}, [{p}, #48]", "msr ich_lr6_el2, {v}",
            "ldr {v}, [{p}, #40]", "msr ich_lr5_el2, {v}",
            "ldr {v}, [{p}, #32]", "msr ich_lr4_el2, {v}",
            "ldr {v}, [{p}, #24]", "msr ich_lr3_el2, {v}",
            "ldr {v}, [{p}, #16]", "msr ich_lr2_el2, {v}",
            "ldr {v}, [{p}, #8]", "msr ich_lr1_el2, {v}",
            "ldr {v}, [{p}, #0]", "msr ich_lr0_el2, {v}",
            "2:",
            p = in(reg) lrs.as_ptr(),
            n = in(reg) n,
            t = out(reg) _,
            v = out(reg) _,
            shift = const LR_MOVE_BYTES.trailing_zeros(),
            options(nostack, readonly)
        );
    }
}

/// Reads `ICH_LR0_EL2` up to `ICH_LR<n-1>_EL2` into `lrs` (`n` is clamped to 1..=16).
fn read_lrs(lrs: &mut [u64; 16], n: usize) {
    let n = n.clamp(1, 16);
    // SAFETY: as in `write_lrs`: each pair reads a list register and writes `lrs[i]`, i < 16,
    // inside the exclusively borrowed array; nothing else is touched.
    unsafe {
        asm!(
            "adr {t}, 2f",
            "sub {t}, {t}, {n}, lsl #{shift}",
            "br {t}",
            "mrs {v}, ich_lr15_el2", "str {v}, [{p}, #120]",
            "mrs {v}, ich_lr14_el2", "str {v}, [{p}, #112]",
            "mrs {v}, ich_lr13_el2", "str {v}, [{p}, #104]",
            "mrs {v}, ich_lr12_el2", "str {v}, [{p}, #96]",
            "mrs {v}, ich_lr11_el2", "str {v}, [{p}, #88]",
            "mrs {v}, ich_lr10_el2", "str {v}, [{p}, #80]",
            "mrs {v}, ich_lr9_el2", "str {v}, [{p}, #72]",
            "mrs {v}, ich_lr8_el2", "str {v}, [{p}, #64]",
            "mrs {v}, ich_lr7_el2", "str {v}, [{p}, #56]",
            "mrs {v}, ich_lr6_el2", "str {v}, [{p}, #48]",
            "mrs {v}, ich_lr5_el2", "str {v}, [{p}, #40]",
            "mrs {v}, ich_lr4_el2", "str {v}, [{p}, #32]",
            "mrs {v}, ich_lr3_el2", "str {v}, [{p}, #24]",
            "mrs {v}, ich_lr2_el2", "str {v}, [{p}, #16]",
            "mrs {v}, ich_lr1_el2", "str {v}, [{p}, #8]",
            "mrs {v}, ich_lr0_el2", "str {v}, [{p}, #0]",
            "2:",
            p = in(reg) lrs.as_mut_ptr(),
            n = in(reg) n,
            t = out(reg) _,
            v = out(reg) _,
            shift = const LR_MOVE_BYTES.trailing_zeros(),
            options(nostack)
        );
    }
}

/// `ICH_HCR_EL2`.En: the virtual CPU interface is on.
pub(super) const ICH_HCR_EN: u64 = ICH_HCR_EL2::En::SET.value;

/// How many list registers the CPU implements (`ICH_VTR_EL2`.ListRegs + 1).
fn list_registers() -> usize {
    ICH_VTR_EL2.read(ICH_VTR_EL2::ListRegs) as usize + 1
}

/// Loads the REC's virtual CPU interface (only the implemented list registers exist).
pub(super) fn load_gic(g: &crate::arch::GicState) {
    write_lrs(&g.lrs, list_registers());
    let aprs = crate::arch::active_priority_registers(ICH_VTR_EL2.get());
    ICH_AP0R0_EL2.set(g.ap0r[0]);
    ICH_AP1R0_EL2.set(g.ap1r[0]);
    if aprs > 1 {
        ICH_AP0R1_EL2.set(g.ap0r[1]);
        ICH_AP1R1_EL2.set(g.ap1r[1]);
    }
    if aprs > 2 {
        ICH_AP0R2_EL2.set(g.ap0r[2]);
        ICH_AP1R2_EL2.set(g.ap1r[2]);
        ICH_AP0R3_EL2.set(g.ap0r[3]);
        ICH_AP1R3_EL2.set(g.ap1r[3]);
    }
    ICH_VMCR_EL2.set(g.vmcr);
    ICH_HCR_EL2.set(g.hcr | ICH_HCR_EN);
}

/// Saves the REC's virtual CPU interface and turns it off (A6.1: En = 0 after a REC exit).
pub(super) fn save_gic(g: &mut crate::arch::GicState) {
    read_lrs(&mut g.lrs, list_registers());
    let aprs = crate::arch::active_priority_registers(ICH_VTR_EL2.get());
    g.ap0r[0] = ICH_AP0R0_EL2.get();
    g.ap1r[0] = ICH_AP1R0_EL2.get();
    if aprs > 1 {
        g.ap0r[1] = ICH_AP0R1_EL2.get();
        g.ap1r[1] = ICH_AP1R1_EL2.get();
    }
    if aprs > 2 {
        g.ap0r[2] = ICH_AP0R2_EL2.get();
        g.ap1r[2] = ICH_AP1R2_EL2.get();
        g.ap0r[3] = ICH_AP0R3_EL2.get();
        g.ap1r[3] = ICH_AP1R3_EL2.get();
    }
    g.vmcr = ICH_VMCR_EL2.get();
    g.misr = ICH_MISR_EL2.get();
    g.hcr = ICH_HCR_EL2.get() & !ICH_HCR_EN;
    ICH_HCR_EL2.set(0);
}
