//! A realm's EL1 timers at the world switch: masking the outputs the host already knows of.

use super::*;
use aarch64_cpu::registers::{Writeable, CNTHCTL_EL2};
use sysregs::ICC_HPPIR1_EL1;

/// The PPIs of the EL1 virtual and physical timers (SBSA).
pub(super) const VIRTUAL_TIMER_PPI: u64 = 27;

pub(super) const PHYSICAL_TIMER_PPI: u64 = 30;

/// `ICC_HPPIR1_EL1` reads that may wait for a masked timer's interrupt to leave the CPU interface.
pub(super) const TIMER_RETIRE_READS: usize = 64;

/// Masks at EL2 the outputs of the timers that `asserted` names (A6.2), and waits a little for
/// their interrupts to leave the CPU interface, so that the realm is not stopped at once by an
/// interrupt the host has already been told of. It enters anyway if one lingers: that costs an
/// IRQ exit, not correctness.
pub(super) fn mask_asserted_timers(asserted: crate::timers::Asserted) {
    CNTHCTL_EL2.set(trap_policy::cnthctl(asserted.virt, asserted.phys));
    if !(asserted.virt || asserted.phys) {
        return;
    }
    // SAFETY: an isb so the mask is in effect before the CPU interface is read.
    unsafe { asm!("isb", options(nostack)) };
    for _ in 0..TIMER_RETIRE_READS {
        let intid = ICC_HPPIR1_EL1.read(ICC_HPPIR1_EL1::INTID);
        let lingering = (asserted.virt && intid == VIRTUAL_TIMER_PPI)
            || (asserted.phys && intid == PHYSICAL_TIMER_PPI);
        if !lingering {
            break;
        }
    }
}
