//! A realm's EL1/EL0 system registers: saving the host's and loading a REC's, and back.

use aarch64_cpu::registers::{
    Readable, Writeable, AFSR0_EL1, AFSR1_EL1, AMAIR_EL1, CNTKCTL_EL1, CNTP_CTL_EL0, CNTP_CVAL_EL0,
    CNTV_CTL_EL0, CNTV_CVAL_EL0, CONTEXTIDR_EL1, CPACR_EL1, CSSELR_EL1, ELR_EL1, ESR_EL1, FAR_EL1,
    MAIR_EL1, MDSCR_EL1, PAR_EL1, SCTLR_EL1, SPSR_EL1, SP_EL0, SP_EL1, TCR_EL1, TPIDRRO_EL0,
    TPIDR_EL0, TPIDR_EL1, TTBR0_EL1, TTBR1_EL1, VBAR_EL1,
};

/// Saves and restores every field of `El1Regs` with its system register.
macro_rules! el1_regs {
    ($($field:ident => $reg:ident),* $(,)?) => {
        pub(super) fn save_el1() -> crate::arch::El1Regs {
            crate::arch::El1Regs { $($field: $reg.get(),)* }
        }
        pub(super) fn load_el1(r: &crate::arch::El1Regs) {
            $($reg.set(r.$field);)*
        }
    };
}

el1_regs! {
    sctlr => SCTLR_EL1, cpacr => CPACR_EL1, ttbr0 => TTBR0_EL1, ttbr1 => TTBR1_EL1,
    tcr => TCR_EL1, esr => ESR_EL1, afsr0 => AFSR0_EL1, afsr1 => AFSR1_EL1,
    far => FAR_EL1, mair => MAIR_EL1, amair => AMAIR_EL1, vbar => VBAR_EL1,
    contextidr => CONTEXTIDR_EL1, tpidr_el0 => TPIDR_EL0, tpidrro_el0 => TPIDRRO_EL0,
    tpidr_el1 => TPIDR_EL1, sp_el0 => SP_EL0, sp_el1 => SP_EL1, elr => ELR_EL1,
    spsr => SPSR_EL1, par => PAR_EL1, cntkctl => CNTKCTL_EL1, csselr => CSSELR_EL1,
    mdscr => MDSCR_EL1, cntv_ctl => CNTV_CTL_EL0, cntv_cval => CNTV_CVAL_EL0,
    cntp_ctl => CNTP_CTL_EL0, cntp_cval => CNTP_CVAL_EL0,
}
