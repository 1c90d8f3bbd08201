//! A realm's EL1/EL0 system registers: saving the host's and loading a REC's, and back.

use super::*;

/// Saves and restores every field of `El1Regs` with its system register.
macro_rules! el1_regs {
    ($($field:ident => $reg:literal),* $(,)?) => {
        pub(super) fn save_el1() -> crate::arch::El1Regs {
            crate::arch::El1Regs { $($field: mrs!($reg),)* }
        }
        pub(super) fn load_el1(r: &crate::arch::El1Regs) {
            $(msr!($reg, r.$field);)*
        }
    };
}

el1_regs! {
    sctlr => "sctlr_el1", cpacr => "cpacr_el1", ttbr0 => "ttbr0_el1", ttbr1 => "ttbr1_el1",
    tcr => "tcr_el1", esr => "esr_el1", afsr0 => "afsr0_el1", afsr1 => "afsr1_el1",
    far => "far_el1", mair => "mair_el1", amair => "amair_el1", vbar => "vbar_el1",
    contextidr => "contextidr_el1", tpidr_el0 => "tpidr_el0", tpidrro_el0 => "tpidrro_el0",
    tpidr_el1 => "tpidr_el1", sp_el0 => "sp_el0", sp_el1 => "sp_el1", elr => "elr_el1",
    spsr => "spsr_el1", par => "par_el1", cntkctl => "cntkctl_el1", csselr => "csselr_el1",
    mdscr => "mdscr_el1", cntv_ctl => "cntv_ctl_el0", cntv_cval => "cntv_cval_el0",
    cntp_ctl => "cntp_ctl_el0", cntp_cval => "cntp_cval_el0",
}
