//! What a realm's aborts and injected exceptions do (A4.3.4, A5.2, A4.3.10): which aborts the
//! RMM turns into a synchronous external abort for the realm, which exit to the host and what
//! their syndromes show, and how an exception is taken to the realm's EL1 (vector offset, ESR,
//! PSTATE), as the Arm ARM's exception entry does it.

use hostcall_abi::rec_run::{RmiExitReason, RmiRecEnter, RmiRecEnterFlags, RmiRecExit};

use super::realm_fixture::*;
use crate::arch::{ExitClass, RealmExit, RealmRegs};
use crate::sim::IRQ_EXIT;

/// A Protected IPA inside the fixture's level-3 table that is UNASSIGNED, RIPAS EMPTY.
const EMPTY_IPA: u64 = 0x8000;
/// A Protected IPA made UNASSIGNED, RIPAS RAM, by [`with_ram_hole`].
const RAM_IPA: u64 = 0x7000;

const IL: u64 = 1 << 25;
const EA: u64 = 1 << 9;
const SEA: u64 = 0x10;

/// The running fixture with [`RAM_IPA`] given RIPAS RAM (no data) while it was NEW.
fn with_ram_hole() -> Running {
    Running::prepared(|fx| {
        fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, RAM_IPA, RAM_IPA + G]);
    })
}

fn sync(esr: u64, far: u64, ipa: u64) -> RealmExit {
    RealmExit {
        class: ExitClass::Sync,
        esr,
        far,
        hpfar: (ipa >> 12) << 4,
    }
}

/// A data abort from EL1 with every ISS field set that any exit may or may not show: ISV, SAS
/// 0b10, SSE, SRT 9, SF, AR, SET 0b11, FnV clear, EA, WnR, DFSC 0x07, and IL.
const DABT_ALL: u64 = 0x24 << 26
    | IL
    | 1 << 24
    | 0b10 << 22
    | 1 << 21
    | 9 << 16
    | 1 << 15
    | 1 << 14
    | 0b11 << 11
    | EA
    | 1 << 6
    | 0x07;

/// Runs one scripted step that sets the realm at `pc`/`pstate`/`vbar`/`sctlr` and exits with
/// `exit`, then a step that returns the registers the realm resumed with; asserts that the first
/// exit did not reach the host.
fn resumed_after(
    r: &Running,
    (pc, pstate, vbar, sctlr): (u64, u64, u64, u64),
    exit: RealmExit,
) -> RealmRegs {
    use std::sync::{Arc, Mutex};
    r.script(move |regs| {
        regs.pc = pc;
        regs.pstate = pstate;
        regs.el1.vbar = vbar;
        regs.el1.sctlr = sctlr;
        exit
    });
    let seen = Arc::new(Mutex::new(None));
    let out = seen.clone();
    r.script(move |regs| {
        *out.lock().expect("lock") = Some(*regs);
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(
        r.fx.sim.cpu.pending(),
        0,
        "the realm ran on after the exception"
    );
    assert_eq!(
        r.exit().exit_reason(),
        Some(RmiExitReason::Irq),
        "no exit for the exception itself"
    );
    let regs = seen.lock().expect("lock").take().expect("second step ran");
    regs
}

const EL1H: u64 = 0b0101;
const EL1T: u64 = 0b0100;
const EL0: u64 = 0b0000;
/// SCTLR_EL1 reset value (SPAN set, DSSBS clear).
const SCTLR: u64 = 0x30D0_0800;
const HVC: u64 = 0x16 << 26 | IL;

// ---- Aborts the realm takes itself (A5.2.9) --------------------------------------------------

#[test]
fn data_access_to_an_empty_ipa_is_an_sea_for_the_realm_not_an_exit() {
    let r = Running::new();
    let regs = resumed_after(
        &r,
        (0x1000, EL1H, 0x8_0000, SCTLR),
        sync(DABT_ALL, 0x4000_8123, EMPTY_IPA + 0x123),
    );
    assert_eq!(regs.pc, 0x8_0200);
    assert_eq!(regs.el1.elr, 0x1000);
    // The access as the hardware describes it (ISV, SAS, SSE, SRT, SF, AR, SET, WnR, IL), an
    // SEA from the same EL with EA set; not the stage-2 fault status.
    assert_eq!(regs.el1.esr, (DABT_ALL & !0x3F) | 0x25 << 26 | SEA);
    assert_eq!(regs.el1.far, 0x4000_8123);
}

#[test]
fn instruction_fetch_from_an_unprotected_ipa_is_an_sea_for_the_realm() {
    let r = Running::new();
    let regs = resumed_after(
        &r,
        (0x2000, EL0, 0x8_0000, SCTLR),
        sync(0x20 << 26 | IL | 0x07, 0x2000, UNPROTECTED + 0x2000),
    );
    assert_eq!(regs.pc, 0x8_0400, "lower EL using AArch64");
    assert_eq!(regs.el1.esr, 0x20 << 26 | IL | EA | SEA);
    assert_eq!(regs.el1.far, 0x2000);
}

#[test]
fn instruction_fetch_from_an_empty_ipa_is_an_sea_for_the_realm() {
    let r = Running::new();
    let regs = resumed_after(
        &r,
        (EMPTY_IPA, EL1H, 0x8_0000, SCTLR),
        sync(0x20 << 26 | IL | 0x07, EMPTY_IPA, EMPTY_IPA),
    );
    assert_eq!(regs.el1.esr, 0x21 << 26 | IL | EA | SEA, "from the same EL");
    assert_eq!(regs.el1.elr, EMPTY_IPA);
}

#[test]
fn the_hosts_inject_sea_sets_ea() {
    let r = Running::new();
    r.script(|regs| {
        regs.pc = 0x100;
        sync(
            0x24 << 26 | IL | 1 << 24 | 3 << 16,
            0x4000_0123,
            UNPROTECTED + 0x5000,
        )
    });
    assert_eq!(r.enter()[0], SUCCESS);
    r.set_enter(&RmiRecEnter {
        flags: RmiRecEnterFlags::INJECT_SEA,
        ..RmiRecEnter::ZERO
    });
    r.script(|regs| {
        assert_eq!(
            regs.el1.esr,
            0x25 << 26 | IL | 1 << 24 | 3 << 16 | EA | SEA,
            "the access (ISV, SRT), and EA set (A5.2.7)"
        );
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.fx.sim.cpu.pending(), 0);
}

// ---- Exit syndromes (A4.3.4.1, A4.3.4.2, A4.3.4.3, A4.3.10) -------------------------------

fn exit_esr(r: &Running, exit: RealmExit) -> RmiRecExit {
    r.script(move |_| exit);
    assert_eq!(r.enter()[0], SUCCESS);
    r.exit()
}

#[test]
fn an_emulatable_abort_shows_ec_set_fnv_ea_dfsc_isv_sas_sf_wnr_only() {
    let r = Running::new();
    let e = exit_esr(&r, sync(DABT_ALL | 1 << 10, 0x123, UNPROTECTED + 0x3000));
    // Not IL, SSE (which A4.3.4.3 forbids), SRT or AR.
    assert_eq!(
        e.esr,
        0x24 << 26 | 1 << 24 | 0b10 << 22 | 1 << 15 | 0b11 << 11 | 1 << 10 | EA | 1 << 6 | 0x07
    );
}

#[test]
fn a_non_emulatable_abort_at_an_unprotected_ipa_shows_ec_set_fnv_ea_dfsc_only() {
    let r = Running::new();
    let e = exit_esr(&r, sync(DABT_ALL & !(1 << 24), 0x123, UNPROTECTED + 0x3000));
    // IL too is left out, as the reference implementation and Arm's compliance tests expect.
    assert_eq!(e.esr, 0x24 << 26 | 0b11 << 11 | EA | 0x07);
    assert_eq!((e.far, e.gprs), (0, [0; 31]));
}

#[test]
fn an_abort_at_a_protected_ram_ipa_shows_ec_set_fnv_ea_dfsc_only() {
    let r = with_ram_hole();
    let e = exit_esr(&r, sync(DABT_ALL, 0x7123, RAM_IPA + 0x123));
    assert_eq!(e.exit_reason(), Some(RmiExitReason::Sync));
    assert_eq!(e.esr, 0x24 << 26 | 0b11 << 11 | EA | 0x07);
    assert_eq!(e.hpfar, (RAM_IPA >> 12) << 4);
    assert_eq!(e.far, 0);
}

#[test]
fn an_instruction_abort_shows_ec_set_ea_ifsc_only() {
    let r = with_ram_hole();
    let e = exit_esr(
        &r,
        sync(
            0x20 << 26 | IL | 0b11 << 11 | 1 << 10 | EA | 0x07,
            RAM_IPA,
            RAM_IPA,
        ),
    );
    assert_eq!(e.esr, 0x20 << 26 | 0b11 << 11 | EA | 0x07);
    assert_eq!(e.hpfar, (RAM_IPA >> 12) << 4);
}

#[test]
fn a_wfx_exit_shows_ec_and_ti_only() {
    let r = Running::new();
    r.set_enter(&RmiRecEnter {
        flags: RmiRecEnterFlags::TRAP_WFE,
        ..RmiRecEnter::ZERO
    });
    let e = exit_esr(&r, sync(0x01 << 26 | IL | 0b01, 0, 0));
    assert_eq!(e.esr, 0x01 << 26 | 0b01, "WFE: TI 0b01, no IL");
}

#[test]
fn an_serror_exit_shows_ec_ids_aet_ea_dfsc_only() {
    let r = Running::new();
    let esr = 0x2F << 26 | IL | 1 << 24 | 0xFF_0000 | 0b111 << 10 | EA | 0x3F;
    let e = exit_esr(
        &r,
        RealmExit {
            class: ExitClass::SError,
            esr,
            far: 0,
            hpfar: 0,
        },
    );
    assert_eq!(e.esr, 0x2F << 26 | 1 << 24 | 0b111 << 10 | EA | 0x3F);
}

// ---- Exception entry to the realm's EL1 --------------------------------------------------

#[test]
fn the_vector_offset_follows_where_the_exception_came_from() {
    let r = Running::new();
    for (pstate, offset, what) in [
        (EL1T, 0x000, "current EL with SP_EL0"),
        (EL1H, 0x200, "current EL with SP_ELx"),
        (EL0, 0x400, "lower EL using AArch64"),
        (0b1_0000, 0x600, "lower EL using AArch32"),
    ] {
        let regs = resumed_after(&r, (0x40, pstate, 0x8_0000, SCTLR), sync(HVC, 0, 0));
        assert_eq!(regs.pc, 0x8_0000 + offset, "{what}");
        assert_eq!(regs.el1.elr, 0x40);
        assert_eq!(regs.el1.spsr, pstate);
        assert_eq!(regs.el1.esr, IL, "unknown reason");
    }
}

#[test]
fn a_vbar_at_the_top_of_the_address_space_wraps() {
    // VBAR_EL1 [10:0] read as zero on hardware; the REC's copy is the RMM's to cope with, so
    // even a value the hardware would not give back must not overflow the vector arithmetic.
    let r = Running::new();
    let vbar = u64::MAX - 0xFF;
    let regs = resumed_after(&r, (0x40, EL0, vbar, SCTLR), sync(HVC, 0, 0));
    assert_eq!(regs.pc, vbar.wrapping_add(0x400));
    let regs = resumed_after(&r, (0x40, EL1H, vbar, SCTLR), sync(HVC, 0, 0));
    assert_eq!(regs.pc, vbar.wrapping_add(0x200));
}

#[test]
fn the_new_pstate_is_el1h_masked_with_pan_and_ssbs_from_sctlr() {
    const NZCV: u64 = 0b1011 << 28;
    const DIT: u64 = 1 << 24;
    const UAO: u64 = 1 << 23;
    const PAN: u64 = 1 << 22;
    const SS: u64 = 1 << 21;
    const PSTATE_IL: u64 = 1 << 20;
    const SSBS: u64 = 1 << 12;
    const BTYPE: u64 = 0b11 << 10;
    const DAIF: u64 = 0b1111 << 6;
    const SPAN: u64 = 1 << 23;
    const DSSBS: u64 = 1 << 44;
    let r = Running::new();
    let old = NZCV | DIT | UAO | SS | PSTATE_IL | SSBS | BTYPE | EL0;
    // SPAN clear: PAN set; DSSBS clear: SSBS clear.
    let regs = resumed_after(&r, (0x40, old, 0, SCTLR & !SPAN), sync(HVC, 0, 0));
    assert_eq!(regs.pstate, NZCV | DIT | PAN | DAIF | EL1H);
    assert_eq!(regs.el1.spsr, old);
    // SPAN set: PAN unchanged (clear here, kept if set); DSSBS set: SSBS set.
    let regs = resumed_after(&r, (0x40, old, 0, SCTLR | DSSBS), sync(HVC, 0, 0));
    assert_eq!(regs.pstate, NZCV | DIT | SSBS | DAIF | EL1H);
    let regs = resumed_after(&r, (0x40, old | PAN, 0, SCTLR), sync(HVC, 0, 0));
    assert_eq!(regs.pstate, NZCV | DIT | PAN | DAIF | EL1H);
}
