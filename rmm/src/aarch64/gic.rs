//! The GICv3 virtual CPU interface of a REC: list registers, active priorities, VMCR and HCR.

use super::*;

/// Writes `ICH_LR<n>_EL2`.
pub(super) fn write_lr(n: usize, v: u64) {
    match n {
        0 => msr!("S3_4_C12_C12_0", v),
        1 => msr!("S3_4_C12_C12_1", v),
        2 => msr!("S3_4_C12_C12_2", v),
        3 => msr!("S3_4_C12_C12_3", v),
        4 => msr!("S3_4_C12_C12_4", v),
        5 => msr!("S3_4_C12_C12_5", v),
        6 => msr!("S3_4_C12_C12_6", v),
        7 => msr!("S3_4_C12_C12_7", v),
        8 => msr!("S3_4_C12_C13_0", v),
        9 => msr!("S3_4_C12_C13_1", v),
        10 => msr!("S3_4_C12_C13_2", v),
        11 => msr!("S3_4_C12_C13_3", v),
        12 => msr!("S3_4_C12_C13_4", v),
        13 => msr!("S3_4_C12_C13_5", v),
        14 => msr!("S3_4_C12_C13_6", v),
        _ => msr!("S3_4_C12_C13_7", v),
    }
}

/// Reads `ICH_LR<n>_EL2`.
pub(super) fn read_lr(n: usize) -> u64 {
    match n {
        0 => mrs!("S3_4_C12_C12_0"),
        1 => mrs!("S3_4_C12_C12_1"),
        2 => mrs!("S3_4_C12_C12_2"),
        3 => mrs!("S3_4_C12_C12_3"),
        4 => mrs!("S3_4_C12_C12_4"),
        5 => mrs!("S3_4_C12_C12_5"),
        6 => mrs!("S3_4_C12_C12_6"),
        7 => mrs!("S3_4_C12_C12_7"),
        8 => mrs!("S3_4_C12_C13_0"),
        9 => mrs!("S3_4_C12_C13_1"),
        10 => mrs!("S3_4_C12_C13_2"),
        11 => mrs!("S3_4_C12_C13_3"),
        12 => mrs!("S3_4_C12_C13_4"),
        13 => mrs!("S3_4_C12_C13_5"),
        14 => mrs!("S3_4_C12_C13_6"),
        _ => mrs!("S3_4_C12_C13_7"),
    }
}

/// ICH_HCR_EL2.En: the virtual CPU interface is on.
pub(super) const ICH_HCR_EN: u64 = 1;

/// Loads the REC's virtual CPU interface (only the implemented list registers exist).
pub(super) fn load_gic(g: &crate::arch::GicState) {
    let lrs = ((mrs!("S3_4_C12_C11_1") & 0x1F) + 1) as usize; // ICH_VTR_EL2.ListRegs
    for (n, lr) in g.lrs.iter().enumerate().take(lrs) {
        write_lr(n, *lr);
    }
    let aprs = crate::arch::active_priority_registers(mrs!("S3_4_C12_C11_1"));
    msr!("S3_4_C12_C8_0", g.ap0r[0]); // ICH_AP0R0_EL2
    msr!("S3_4_C12_C9_0", g.ap1r[0]); // ICH_AP1R0_EL2
    if aprs > 1 {
        msr!("S3_4_C12_C8_1", g.ap0r[1]);
        msr!("S3_4_C12_C9_1", g.ap1r[1]);
    }
    if aprs > 2 {
        msr!("S3_4_C12_C8_2", g.ap0r[2]);
        msr!("S3_4_C12_C9_2", g.ap1r[2]);
        msr!("S3_4_C12_C8_3", g.ap0r[3]);
        msr!("S3_4_C12_C9_3", g.ap1r[3]);
    }
    msr!("S3_4_C12_C11_7", g.vmcr); // ICH_VMCR_EL2
    msr!("S3_4_C12_C11_0", g.hcr | ICH_HCR_EN); // ICH_HCR_EL2
}

/// Saves the REC's virtual CPU interface and turns it off (A6.1: En = 0 after a REC exit).
pub(super) fn save_gic(g: &mut crate::arch::GicState) {
    let lrs = ((mrs!("S3_4_C12_C11_1") & 0x1F) + 1) as usize;
    for (n, lr) in g.lrs.iter_mut().enumerate().take(lrs) {
        *lr = read_lr(n);
    }
    let aprs = crate::arch::active_priority_registers(mrs!("S3_4_C12_C11_1"));
    g.ap0r[0] = mrs!("S3_4_C12_C8_0");
    g.ap1r[0] = mrs!("S3_4_C12_C9_0");
    if aprs > 1 {
        g.ap0r[1] = mrs!("S3_4_C12_C8_1");
        g.ap1r[1] = mrs!("S3_4_C12_C9_1");
    }
    if aprs > 2 {
        g.ap0r[2] = mrs!("S3_4_C12_C8_2");
        g.ap1r[2] = mrs!("S3_4_C12_C9_2");
        g.ap0r[3] = mrs!("S3_4_C12_C8_3");
        g.ap1r[3] = mrs!("S3_4_C12_C9_3");
    }
    g.vmcr = mrs!("S3_4_C12_C11_7");
    g.misr = mrs!("S3_4_C12_C11_2"); // ICH_MISR_EL2
    g.hcr = mrs!("S3_4_C12_C11_0") & !ICH_HCR_EN;
    msr!("S3_4_C12_C11_0", 0);
}
