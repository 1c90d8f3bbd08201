//! The GICv3 virtual CPU interface of a REC: list registers, active priorities, VMCR and HCR.

use super::*;
use aarch64_cpu::registers::{
    Writeable, ICH_AP0R0_EL2, ICH_AP0R1_EL2, ICH_AP0R2_EL2, ICH_AP0R3_EL2, ICH_AP1R0_EL2,
    ICH_AP1R1_EL2, ICH_AP1R2_EL2, ICH_AP1R3_EL2, ICH_HCR_EL2, ICH_LR0_EL2, ICH_LR10_EL2,
    ICH_LR11_EL2, ICH_LR12_EL2, ICH_LR13_EL2, ICH_LR14_EL2, ICH_LR15_EL2, ICH_LR1_EL2, ICH_LR2_EL2,
    ICH_LR3_EL2, ICH_LR4_EL2, ICH_LR5_EL2, ICH_LR6_EL2, ICH_LR7_EL2, ICH_LR8_EL2, ICH_LR9_EL2,
    ICH_MISR_EL2, ICH_VMCR_EL2, ICH_VTR_EL2,
};

/// Writes `ICH_LR<n>_EL2`.
pub(super) fn write_lr(n: usize, v: u64) {
    match n {
        0 => ICH_LR0_EL2.set(v),
        1 => ICH_LR1_EL2.set(v),
        2 => ICH_LR2_EL2.set(v),
        3 => ICH_LR3_EL2.set(v),
        4 => ICH_LR4_EL2.set(v),
        5 => ICH_LR5_EL2.set(v),
        6 => ICH_LR6_EL2.set(v),
        7 => ICH_LR7_EL2.set(v),
        8 => ICH_LR8_EL2.set(v),
        9 => ICH_LR9_EL2.set(v),
        10 => ICH_LR10_EL2.set(v),
        11 => ICH_LR11_EL2.set(v),
        12 => ICH_LR12_EL2.set(v),
        13 => ICH_LR13_EL2.set(v),
        14 => ICH_LR14_EL2.set(v),
        _ => ICH_LR15_EL2.set(v),
    }
}

/// Reads `ICH_LR<n>_EL2`.
pub(super) fn read_lr(n: usize) -> u64 {
    match n {
        0 => ICH_LR0_EL2.get(),
        1 => ICH_LR1_EL2.get(),
        2 => ICH_LR2_EL2.get(),
        3 => ICH_LR3_EL2.get(),
        4 => ICH_LR4_EL2.get(),
        5 => ICH_LR5_EL2.get(),
        6 => ICH_LR6_EL2.get(),
        7 => ICH_LR7_EL2.get(),
        8 => ICH_LR8_EL2.get(),
        9 => ICH_LR9_EL2.get(),
        10 => ICH_LR10_EL2.get(),
        11 => ICH_LR11_EL2.get(),
        12 => ICH_LR12_EL2.get(),
        13 => ICH_LR13_EL2.get(),
        14 => ICH_LR14_EL2.get(),
        _ => ICH_LR15_EL2.get(),
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
    let lrs = list_registers();
    for (n, lr) in g.lrs.iter().enumerate().take(lrs) {
        write_lr(n, *lr);
    }
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
    let lrs = list_registers();
    for (n, lr) in g.lrs.iter_mut().enumerate().take(lrs) {
        *lr = read_lr(n);
    }
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
