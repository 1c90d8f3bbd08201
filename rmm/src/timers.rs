//! A realm's EL1 timers as the RMM treats them (DEN0137 A6.2).
//!
//! The realm's virtual counter offset is zero (CNTVOFF_EL2 = 0, set at boot), so the CVALs it
//! writes are reported to the host as they are. A timer whose output asserted at the last REC
//! exit (enabled, condition met, not masked by the realm) has its hardware signal masked at EL2
//! (CNTHCTL_EL2.CNTVMASK / CNTPMASK) while the realm runs: the host has seen it in the exit and
//! drives the virtual interrupt, and the physical interrupt would otherwise end every run at once.
//! If a timer's output changes while the RMM handles an exit inside itself, the host is told with
//! an IRQ exit before the realm runs again.
//!
//! Owns the rules only; the world switch (`arch`) applies the masks, REC_ENTER reports changes.

use crate::arch::El1Regs;

/// CNTx_CTL_EL0.ENABLE.
pub const CTL_ENABLE: u64 = 1 << 0;
/// CNTx_CTL_EL0.IMASK.
pub const CTL_IMASK: u64 = 1 << 1;
/// CNTx_CTL_EL0.ISTATUS.
pub const CTL_ISTATUS: u64 = 1 << 2;

/// Whether a timer with control register `ctl` asserts its output.
pub const fn asserts(ctl: u64) -> bool {
    ctl & (CTL_ENABLE | CTL_IMASK | CTL_ISTATUS) == CTL_ENABLE | CTL_ISTATUS
}

/// Which of a realm's EL1 timers assert their output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Asserted {
    /// The virtual timer (CNTV).
    pub virt: bool,
    /// The physical timer (CNTP).
    pub phys: bool,
}

impl Asserted {
    /// The timers' outputs in the state `el1` holds (as saved at a realm exit): the timers the
    /// world switch masks when it loads that state.
    pub const fn of(el1: &El1Regs) -> Self {
        Self {
            virt: asserts(el1.cntv_ctl),
            phys: asserts(el1.cntp_ctl),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_enabled_unmasked_timer_whose_condition_is_met_asserts() {
        for ctl in 0..8u64 {
            assert_eq!(
                asserts(ctl),
                ctl == CTL_ENABLE | CTL_ISTATUS,
                "ctl {ctl:#b}"
            );
        }
        // Bits above the three are ignored.
        assert!(asserts(CTL_ENABLE | CTL_ISTATUS | 1 << 40));
    }

    #[test]
    fn each_timer_is_read_from_its_own_control_register() {
        let mut el1 = El1Regs::RESET;
        assert_eq!(Asserted::of(&el1), Asserted::default());
        el1.cntv_ctl = CTL_ENABLE | CTL_ISTATUS;
        assert_eq!(
            Asserted::of(&el1),
            Asserted {
                virt: true,
                phys: false
            }
        );
        el1.cntp_ctl = CTL_ENABLE | CTL_ISTATUS;
        el1.cntv_ctl |= CTL_IMASK;
        assert_eq!(
            Asserted::of(&el1),
            Asserted {
                virt: false,
                phys: true
            }
        );
    }
}
