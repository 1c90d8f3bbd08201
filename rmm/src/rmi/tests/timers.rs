//! The realm's EL1 timers across REC_ENTER (A6.2): a timer output that changes while the RMM
//! handles a call inside itself ends the run with an IRQ exit showing the new state; an
//! unchanged one does not.

use hostcall_abi::rec_run::RmiExitReason;
use hostcall_abi::rsi::{RsiCommand, RSI_VERSION_1_0};

use super::realm_fixture::*;
use crate::arch::RealmRegs;
use crate::sim::{IRQ_EXIT, SMC_EXIT};
use crate::timers::{Asserted, CTL_ENABLE, CTL_ISTATUS};

const FIRED: u64 = CTL_ENABLE | CTL_ISTATUS;

/// A step in which the realm sets its virtual timer control to `cntv_ctl` and calls
/// RSI_VERSION, which the RMM answers itself.
fn version_call_with_timer(r: &Running, cntv_ctl: u64, cntv_cval: u64) {
    r.script(move |regs: &mut RealmRegs| {
        regs.el1.cntv_ctl = cntv_ctl;
        regs.el1.cntv_cval = cntv_cval;
        regs.gprs[..2].copy_from_slice(&[RsiCommand::VERSION.fid() as u64, RSI_VERSION_1_0.raw()]);
        SMC_EXIT
    });
}

#[test]
fn a_timer_that_fires_during_an_rmm_call_is_reported_with_an_irq_exit_after_the_call() {
    let r = Running::new();
    let pc = r.fx.with_rec(r.rec, |rec| rec.regs.pc);
    version_call_with_timer(&r, FIRED, 0x1234);
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.fx.sim.cpu.pending(), 0);
    let e = r.exit();
    assert_eq!(e.exit_reason, RmiExitReason::Irq as u8);
    assert_eq!((e.cntv_ctl, e.cntv_cval), (FIRED, 0x1234));
    assert_eq!((e.esr, e.far, e.hpfar), (0, 0, 0));
    assert_eq!(e.gprs, [0; 31], "nothing of the realm's registers");
    // The call itself was answered: the realm continues after it.
    r.fx.with_rec(r.rec, |rec| {
        assert_eq!(rec.regs.gprs[0], 0, "RSI_SUCCESS");
        assert_eq!(rec.regs.pc, pc + 4);
    });
}

#[test]
fn the_next_run_masks_the_timer_the_host_saw_fire_and_a_silent_call_is_not_an_exit() {
    let r = Running::new();
    version_call_with_timer(&r, FIRED, 7);
    r.enter();
    // Still firing: the RMM answers the call and runs the realm on, with the timer masked.
    version_call_with_timer(&r, FIRED, 7);
    // Then an interrupt ends the run.
    r.script(|_: &mut RealmRegs| IRQ_EXIT);
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.fx.sim.cpu.pending(), 0, "both steps ran in one REC_ENTER");
    let entries = r.fx.sim.cpu.entries();
    let masked: Vec<Asserted> = entries
        .iter()
        .map(|(regs, ..)| Asserted::of(&regs.el1))
        .collect();
    let fired = Asserted {
        virt: true,
        phys: false,
    };
    assert_eq!(masked, vec![Asserted::default(), fired, fired]);
}

#[test]
fn a_timer_the_realm_stops_during_an_rmm_call_is_reported_too() {
    let r = Running::new();
    version_call_with_timer(&r, FIRED, 7);
    r.enter();
    version_call_with_timer(&r, CTL_ENABLE, 9_000);
    assert_eq!(r.enter()[0], SUCCESS);
    let e = r.exit();
    assert_eq!(e.exit_reason, RmiExitReason::Irq as u8);
    assert_eq!((e.cntv_ctl, e.cntv_cval), (CTL_ENABLE, 9_000));
}

#[test]
fn the_physical_timer_counts_as_well() {
    let r = Running::new();
    r.script(|regs: &mut RealmRegs| {
        regs.el1.cntp_ctl = FIRED;
        regs.gprs[..2].copy_from_slice(&[RsiCommand::VERSION.fid() as u64, RSI_VERSION_1_0.raw()]);
        SMC_EXIT
    });
    r.enter();
    let e = r.exit();
    assert_eq!(e.exit_reason, RmiExitReason::Irq as u8);
    assert_eq!(e.cntp_ctl, FIRED);
}
