//! Realm PSCI that asks the host: PSCI_CPU_ON and PSCI_AFFINITY_INFO (B6.3.3, B6.3.1), their
//! PSCI exits, REC_ENTER's `rec_psci` condition and RMI_PSCI_COMPLETE (B4.3.7), one test per
//! failure condition (named after its ID), and the results the RMM computes itself.
//!
//! The realm: three RECs (indexes 0, 1, 2; all runnable unless a test turns one off), DATA at
//! IPA 0, and a RecRun page.

use std::sync::{Arc, Mutex};

use hostcall_abi::psci::PsciReturn;
use hostcall_abi::rec_params::rec_index_to_mpidr_el1;
use hostcall_abi::rec_run::{RmiExitReason, RmiRecEnter, RmiRecExit};
use hostcall_abi::wire::Wire;
use hostcall_abi::GRANULE_SIZE;

use super::realm_fixture::*;
use crate::arch::{El1Regs, RealmExit, RealmRegs, PSTATE_EL1H_MASKED};
use crate::rec::{PsciRequest, Rec};
use crate::sim::{IRQ_EXIT, SMC_EXIT};

const CPU_ON: u64 = 0xC400_0003;
const CPU_ON_32: u64 = 0x8400_0003;
const AFFINITY_INFO: u64 = 0xC400_0004;
const AFFINITY_INFO_32: u64 = 0x8400_0004;
const CPU_OFF: u64 = 0x8400_0002;
const FEATURES: u64 = 0x8400_000A;

const SUCCESS_PSCI: u64 = PsciReturn::Success.raw();
const ON: u64 = PsciReturn::Success.raw();
const OFF: u64 = PsciReturn::Off.raw();
const INVALID_PARAMS: u64 = PsciReturn::InvalidParameters.raw();
const DENIED: u64 = PsciReturn::Denied.raw();
const ALREADY_ON: u64 = PsciReturn::AlreadyOn.raw();
const INVALID_ADDRESS: u64 = PsciReturn::InvalidAddress.raw();
const NOT_SUPPORTED: u64 = PsciReturn::NotSupported.raw();

/// An entry point in the realm's Protected IPA space, and a context ID.
const ENTRY: u64 = 0x8_0000;
const CONTEXT: u64 = 0xC0_7E47;

/// SCTLR_EL1.EE.
const EE: u64 = 1 << 25;

/// The MPIDR_EL1 affinity a realm passes for REC `index`.
fn mpidr(index: u64) -> u64 {
    rec_index_to_mpidr_el1(index).expect("small index")
}

/// An active realm with three RECs.
struct Cpus {
    fx: Fixture,
    recs: [u64; 3],
    run: u64,
}

impl Cpus {
    fn new() -> Self {
        let fx = Fixture::new();
        fx.tables(0);
        fx.data_create(0);
        let recs = [
            fx.rec_create(fx.rd),
            fx.rec_create(fx.rd),
            fx.rec_create(fx.rd),
        ];
        fx.activate();
        let run = fx.ns_page(&[0; GRANULE_SIZE]);
        Self { fx, recs, run }
    }

    /// Turns REC `i` off, as its own PSCI_CPU_OFF would have.
    fn off(&self, i: usize) {
        self.fx.with_rec(self.recs[i], |r| r.runnable = false);
    }

    fn rec<T>(&self, i: usize, f: impl FnOnce(&mut Rec) -> T) -> T {
        self.fx.with_rec(self.recs[i], f)
    }

    fn script(&self, step: impl FnMut(&mut RealmRegs) -> RealmExit + Send + 'static) {
        self.fx.sim.cpu.script(step);
    }

    /// REC_ENTER of REC `i` with a zeroed rec_enter; returns x0.
    fn enter(&self, i: usize) -> u64 {
        let mut page = self.fx.sim.mem.read(self.run);
        RmiRecEnter::ZERO
            .encode(&mut page[..0x800])
            .expect("rec_enter fits");
        self.fx.sim.mem.write(self.run, &page);
        self.fx.call(C::REC_ENTER, &[self.recs[i], self.run])[0]
    }

    fn exit(&self) -> RmiRecExit {
        RmiRecExit::decode(&self.fx.sim.mem.read(self.run)[0x800..]).expect("rec_exit")
    }

    /// REC `i` makes the SMC `x`; returns the exit REC_ENTER reported.
    #[track_caller]
    fn call(&self, i: usize, x: &[u64]) -> RmiRecExit {
        let x = x.to_vec();
        self.script(move |regs| smc(regs, &x));
        assert_eq!(self.enter(i), SUCCESS);
        self.exit()
    }

    /// REC `i` makes the SMC `x`, which is answered without an exit and with the PC past the SMC;
    /// returns its x0..x3.
    #[track_caller]
    fn answered(&self, i: usize, x: &[u64]) -> [u64; 4] {
        let pc = self.rec(i, |r| r.regs.pc);
        let exit = self.call(i, x);
        assert_eq!(exit.exit_reason(), Some(RmiExitReason::Irq), "no exit");
        let regs = self.rec(i, |r| r.regs);
        assert_eq!(regs.pc, pc + 4);
        assert_eq!(self.rec(i, |r| r.psci), None, "nothing pending");
        [regs.gprs[0], regs.gprs[1], regs.gprs[2], regs.gprs[3]]
    }

    /// REC `i` makes the SMC `x`, which must exit PSCI with a request pending.
    #[track_caller]
    fn ask(&self, i: usize, x: &[u64]) -> RmiRecExit {
        let exit = self.call(i, x);
        assert_eq!(exit.exit_reason(), Some(RmiExitReason::Psci));
        assert!(self.rec(i, |r| r.psci.is_some()), "request pending");
        exit
    }

    /// RMI_PSCI_COMPLETE(calling, target, status).
    fn complete(&self, calling: u64, target: u64, status: u64) -> u64 {
        self.fx.call(C::PSCI_COMPLETE, &[calling, target, status])[0]
    }

    /// Runs REC `i` once: returns the x0..x3 and PC it starts with.
    #[track_caller]
    fn resume(&self, i: usize) -> ([u64; 4], u64) {
        let seen = Arc::new(Mutex::new(([0u64; 4], 0u64)));
        let out = seen.clone();
        self.script(move |regs| {
            let mut s = out.lock().expect("lock");
            s.0.copy_from_slice(&regs.gprs[..4]);
            s.1 = regs.pc;
            irq()
        });
        assert_eq!(self.enter(i), SUCCESS);
        let s = *seen.lock().expect("lock");
        s
    }
}

fn smc(regs: &mut RealmRegs, x: &[u64]) -> RealmExit {
    regs.gprs[..x.len()].copy_from_slice(x);
    SMC_EXIT
}

fn irq() -> RealmExit {
    IRQ_EXIT
}

// ---- Checks made at the call, without an exit -----------------------------------------------

#[test]
fn cpu_on_fails_entry_outside_the_protected_space() {
    let c = Cpus::new();
    c.off(1);
    for entry in [UNPROTECTED, UNPROTECTED + ENTRY, IPA_LIMIT, u64::MAX] {
        assert_eq!(
            c.answered(0, &[CPU_ON, mpidr(1), entry, CONTEXT]),
            [INVALID_ADDRESS, 0, 0, 0],
            "entry {entry:#x}"
        );
    }
    c.ask(0, &[CPU_ON, mpidr(1), ENTRY, CONTEXT]);
}

#[test]
fn cpu_on_fails_mpidr_that_names_no_rec() {
    let c = Cpus::new();
    for target in [
        mpidr(3), // the realm has three RECs
        mpidr(1 << 4),
        mpidr(1) | 1 << 31, // MPIDR_EL1's RES1 bit is not an affinity field
        0x10,               // Aff0[7:4]: no REC index uses it
        1 << 40,
    ] {
        assert_eq!(
            c.answered(0, &[CPU_ON, target, ENTRY, CONTEXT]),
            [INVALID_PARAMS, 0, 0, 0],
            "target {target:#x}"
        );
    }
    c.ask(0, &[CPU_ON, mpidr(2), ENTRY, CONTEXT]);
}

#[test]
fn cpu_on_of_the_caller_is_already_on() {
    let c = Cpus::new();
    assert_eq!(
        c.answered(1, &[CPU_ON, mpidr(1), ENTRY, CONTEXT]),
        [ALREADY_ON, 0, 0, 0]
    );
}

#[test]
fn affinity_info_fails_target_bound() {
    let c = Cpus::new();
    for level in [1, 2, 3, 0xFFFF_FFFF] {
        assert_eq!(
            c.answered(0, &[AFFINITY_INFO, mpidr(1), level]),
            [INVALID_PARAMS, 0, 0, 0],
            "level {level}"
        );
    }
    // Bits 63:32 are SBZ, not part of the level.
    let exit = c.ask(0, &[AFFINITY_INFO, mpidr(1), 1 << 32]);
    assert_eq!(exit.gprs[2], 0, "the level the RMM used");
}

#[test]
fn affinity_info_fails_target_match() {
    let c = Cpus::new();
    for target in [mpidr(3), mpidr(1) | 1 << 31, 0x10, u64::MAX] {
        assert_eq!(
            c.answered(0, &[AFFINITY_INFO, target, 0]),
            [INVALID_PARAMS, 0, 0, 0],
            "target {target:#x}"
        );
    }
}

#[test]
fn affinity_info_of_the_caller_is_on() {
    let c = Cpus::new();
    assert_eq!(c.answered(2, &[AFFINITY_INFO, mpidr(2), 0]), [ON, 0, 0, 0]);
}

#[test]
fn psci_features_reports_cpu_on_and_affinity_info() {
    let c = Cpus::new();
    for fid in [
        CPU_ON,
        CPU_ON_32,
        AFFINITY_INFO,
        AFFINITY_INFO_32,
        CPU_OFF,
        FEATURES,
    ] {
        assert_eq!(c.answered(0, &[FEATURES, fid])[0], SUCCESS_PSCI, "{fid:#x}");
    }
    for fid in [0x8400_0005u64, 0xC400_0002, 0x8400_000E, 0x8000_0001] {
        assert_eq!(
            c.answered(0, &[FEATURES, fid])[0],
            NOT_SUPPORTED,
            "{fid:#x}"
        );
    }
}

/// SMCCC's discovery of SMCCC_VERSION (B1.1 step 1): PSCI_FEATURES of its FID succeeds, because
/// the RMM answers SMCCC_VERSION itself (with 1.2 or later, as B1.1 requires).
#[test]
fn psci_features_reports_smccc_version() {
    let c = Cpus::new();
    assert_eq!(c.answered(0, &[FEATURES, 0x8000_0000])[0], SUCCESS_PSCI);
    assert!(c.answered(0, &[0x8000_0000])[0] >= 0x1_0002);
}

// ---- The PSCI exits ----------------------------------------------------------------------------

#[test]
fn cpu_on_exits_with_the_fid_and_its_arguments_only() {
    let c = Cpus::new();
    c.off(2);
    c.script(|regs| {
        for (i, g) in regs.gprs.iter_mut().enumerate() {
            *g = 0xDEAD_0000 + i as u64;
        }
        smc(regs, &[CPU_ON, mpidr(2), ENTRY, CONTEXT])
    });
    assert_eq!(c.enter(0), SUCCESS);
    let mut gprs = [0u64; 31];
    gprs[..4].copy_from_slice(&[CPU_ON, mpidr(2), ENTRY, CONTEXT]);
    assert_eq!(
        c.exit(),
        RmiRecExit {
            gprs,
            ..RmiRecExit::with_reason(RmiExitReason::Psci)
        },
        "A4.3.3: gprs[1..3] are the arguments; nothing else"
    );
    assert_eq!(
        c.rec(0, |r| r.psci),
        Some(PsciRequest::CpuOn {
            target: 2,
            entry: ENTRY,
            context_id: CONTEXT
        })
    );
    assert_eq!(c.rec(0, |r| r.regs.pc), 4, "past the SMC");
}

#[test]
fn affinity_info_exits_with_the_fid_target_and_level() {
    let c = Cpus::new();
    let exit = c.ask(1, &[AFFINITY_INFO, mpidr(0), 0, 0xDEAD]);
    let mut gprs = [0u64; 31];
    gprs[..2].copy_from_slice(&[AFFINITY_INFO, mpidr(0)]);
    assert_eq!(
        exit,
        RmiRecExit {
            gprs,
            ..RmiRecExit::with_reason(RmiExitReason::Psci)
        }
    );
    assert_eq!(
        c.rec(1, |r| r.psci),
        Some(PsciRequest::AffinityInfo { target: 0 })
    );
}

#[test]
fn smc32_forms_take_32_bit_arguments() {
    let c = Cpus::new();
    c.off(1);
    let junk = 0xABCD_0000_0000_0000;
    let exit = c.ask(
        0,
        &[CPU_ON_32, junk | mpidr(1), junk | ENTRY, junk | CONTEXT],
    );
    assert_eq!(exit.gprs[..4], [CPU_ON_32, mpidr(1), ENTRY, CONTEXT]);
    assert_eq!(
        c.rec(0, |r| r.psci),
        Some(PsciRequest::CpuOn {
            target: 1,
            entry: ENTRY,
            context_id: CONTEXT
        })
    );
    assert_eq!(c.complete(c.recs[0], c.recs[1], SUCCESS_PSCI), SUCCESS);
    assert_eq!(c.resume(0).0, [SUCCESS_PSCI, 0, 0, 0]);

    let exit = c.ask(2, &[AFFINITY_INFO_32, junk | mpidr(0), junk]);
    assert_eq!(exit.gprs[..4], [AFFINITY_INFO_32, mpidr(0), 0, 0]);
    assert_eq!(c.complete(c.recs[2], c.recs[0], SUCCESS_PSCI), SUCCESS);
    assert_eq!(c.resume(2).0, [ON, 0, 0, 0]);
}

// ---- REC_ENTER while a request is pending ----------------------------------------------------

#[test]
fn rec_enter_fails_rec_psci() {
    let c = Cpus::new();
    c.off(1);
    c.ask(0, &[CPU_ON, mpidr(1), ENTRY, CONTEXT]);
    let runs = c.fx.sim.cpu.entries().len();
    assert_eq!(c.enter(0), REC);
    assert_eq!(c.fx.sim.cpu.entries().len(), runs, "nothing ran");
    assert!(c.rec(0, |r| r.psci.is_some()), "still pending");
    // Other RECs of the realm are not held up.
    assert_eq!(c.answered(2, &[FEATURES, CPU_ON])[0], SUCCESS_PSCI);
    assert_eq!(c.complete(c.recs[0], c.recs[1], SUCCESS_PSCI), SUCCESS);
    assert_eq!(c.resume(0).0[0], SUCCESS_PSCI);
}

// ---- RMI_PSCI_COMPLETE: failure conditions ---------------------------------------------------

/// REC 0 has asked to start REC 1, which is off.
fn cpu_on_pending() -> Cpus {
    let c = Cpus::new();
    c.off(1);
    c.ask(0, &[CPU_ON, mpidr(1), ENTRY, CONTEXT]);
    c
}

/// Every `(calling, target, status)` fails with RMI_ERROR_INPUT and changes nothing; then the
/// right completion succeeds (so only the varied argument was at fault).
#[track_caller]
fn complete_fails(c: &Cpus, calls: &[[u64; 3]]) {
    for call in calls {
        c.fx.fails(C::PSCI_COMPLETE, call, INPUT);
    }
    assert_eq!(c.complete(c.recs[0], c.recs[1], SUCCESS_PSCI), SUCCESS);
}

#[test]
fn psci_complete_fails_alias() {
    let c = cpu_on_pending();
    let rec0 = c.recs[0];
    complete_fails(&c, &[[rec0, rec0, SUCCESS_PSCI]]);
}

#[test]
fn psci_complete_fails_calling_align() {
    let c = cpu_on_pending();
    let (rec0, rec1) = (c.recs[0], c.recs[1]);
    complete_fails(
        &c,
        &[
            [rec0 + 8, rec1, SUCCESS_PSCI],
            [rec0 | 0x800, rec1, SUCCESS_PSCI],
        ],
    );
}

#[test]
fn psci_complete_fails_calling_bound() {
    let c = cpu_on_pending();
    let rec1 = c.recs[1];
    complete_fails(
        &c,
        &[
            [0x1000, rec1, SUCCESS_PSCI],
            [1 << 47, rec1, SUCCESS_PSCI],
            [!(G - 1), rec1, SUCCESS_PSCI],
        ],
    );
}

#[test]
fn psci_complete_fails_calling_state() {
    let c = cpu_on_pending();
    let rec1 = c.recs[1];
    let delegated = c.fx.delegated();
    complete_fails(
        &c,
        &[
            [c.fx.rd, rec1, SUCCESS_PSCI],
            [RTT_BASE, rec1, SUCCESS_PSCI],
            [delegated, rec1, SUCCESS_PSCI],
            [NS_FREE, rec1, SUCCESS_PSCI],
        ],
    );
}

#[test]
fn psci_complete_fails_target_align() {
    let c = cpu_on_pending();
    let (rec0, rec1) = (c.recs[0], c.recs[1]);
    complete_fails(
        &c,
        &[
            [rec0, rec1 + 8, SUCCESS_PSCI],
            [rec0, rec1 | 1, SUCCESS_PSCI],
        ],
    );
}

#[test]
fn psci_complete_fails_target_bound() {
    let c = cpu_on_pending();
    let rec0 = c.recs[0];
    complete_fails(
        &c,
        &[
            [rec0, 0x1000, SUCCESS_PSCI],
            [rec0, 1 << 47, SUCCESS_PSCI],
            [rec0, !(G - 1), SUCCESS_PSCI],
        ],
    );
}

#[test]
fn psci_complete_fails_target_state() {
    let c = cpu_on_pending();
    let rec0 = c.recs[0];
    let delegated = c.fx.delegated();
    complete_fails(
        &c,
        &[
            [rec0, c.fx.rd, SUCCESS_PSCI],
            [rec0, RTT_BASE, SUCCESS_PSCI],
            [rec0, delegated, SUCCESS_PSCI],
            [rec0, NS_FREE, SUCCESS_PSCI],
        ],
    );
}

#[test]
fn psci_complete_fails_pending() {
    let c = cpu_on_pending();
    let (rec0, rec1, rec2) = (c.recs[0], c.recs[1], c.recs[2]);
    // REC 2 asked nothing; nor did REC 1 (the target).
    complete_fails(
        &c,
        &[[rec2, rec1, SUCCESS_PSCI], [rec1, rec0, SUCCESS_PSCI]],
    );
    // Completed once, REC 0 has nothing pending any more.
    c.fx.fails(C::PSCI_COMPLETE, &[rec0, rec1, SUCCESS_PSCI], INPUT);
    // A REC whose last exit was a PSCI notification (CPU_SUSPEND) has nothing pending either.
    let exit = c.call(2, &[0xC400_0001, 0, 0, 0]);
    assert_eq!(exit.exit_reason(), Some(RmiExitReason::Psci));
    c.fx.fails(C::PSCI_COMPLETE, &[rec2, rec0, SUCCESS_PSCI], INPUT);
}

#[test]
fn psci_complete_fails_owner() {
    let c = Cpus::new();
    // A second realm (still NEW) whose REC 0 has the index REC 1 of the first realm asks for.
    let other_rd = c.fx.create_realm(0x8020_0000, 0x8020_2000, 2);
    let other_rec0 = c.fx.rec_create(other_rd);
    c.ask(1, &[AFFINITY_INFO, mpidr(0), 0]);
    c.fx.fails(
        C::PSCI_COMPLETE,
        &[c.recs[1], other_rec0, SUCCESS_PSCI],
        INPUT,
    );
    assert_eq!(c.complete(c.recs[1], c.recs[0], SUCCESS_PSCI), SUCCESS);
    assert_eq!(c.resume(1).0, [ON, 0, 0, 0]);
}

#[test]
fn psci_complete_fails_target() {
    let c = cpu_on_pending();
    let rec0 = c.recs[0];
    // REC 2 is of the same realm, but the realm asked for REC 1.
    complete_fails(&c, &[[rec0, c.recs[2], SUCCESS_PSCI]]);
}

#[test]
fn psci_complete_fails_status() {
    let c = cpu_on_pending();
    let (rec0, rec1) = (c.recs[0], c.recs[1]);
    let bad = [
        OFF,
        NOT_SUPPORTED,
        INVALID_PARAMS,
        ALREADY_ON,
        PsciReturn::OnPending.raw(),
        INVALID_ADDRESS,
        0xFFFF_FFFD, // DENIED, but only 32 bits of it
        2,
        u64::MAX - 100,
    ];
    let calls: Vec<[u64; 3]> = bad.iter().map(|&s| [rec0, rec1, s]).collect();
    complete_fails(&c, &calls);

    // DENIED is for a CPU_ON of a REC that is off only (`PsciReturnCodePermitted`).
    let c = Cpus::new();
    c.ask(0, &[CPU_ON, mpidr(1), ENTRY, CONTEXT]); // REC 1 is on
    c.fx.fails(C::PSCI_COMPLETE, &[c.recs[0], c.recs[1], DENIED], INPUT);
    c.ask(2, &[AFFINITY_INFO, mpidr(1), 0]);
    c.fx.fails(C::PSCI_COMPLETE, &[c.recs[2], c.recs[1], DENIED], INPUT);
    assert_eq!(c.complete(c.recs[2], c.recs[1], SUCCESS_PSCI), SUCCESS);
}

// ---- RMI_PSCI_COMPLETE: the results ----------------------------------------------------------

#[test]
fn cpu_on_success_resets_and_starts_the_target() {
    let c = Cpus::new();
    c.off(1);
    // What REC 1 was left with before it went off.
    c.rec(1, |r| {
        r.regs.gprs = [0x5A5A_5A5A; 31];
        r.regs.pc = 0x1234;
        r.regs.pstate = 0x3C4;
        r.regs.el1.vbar = 0x9000;
        r.regs.el1.sctlr = 0x30D0_1805;
        r.regs.el1.tpidr_el1 = 0x77;
        r.regs.gic.vmcr = 0xF000_0001;
    });
    // The caller runs big-endian at EL1: the target starts the same way.
    c.script(|regs| {
        regs.el1.sctlr |= EE;
        smc(regs, &[CPU_ON, mpidr(1), ENTRY, CONTEXT])
    });
    assert_eq!(c.enter(0), SUCCESS);
    assert_eq!(c.complete(c.recs[0], c.recs[1], SUCCESS_PSCI), SUCCESS);

    let target = c.rec(1, |r| (r.runnable, r.regs));
    assert!(target.0, "runnable");
    let regs = target.1;
    let mut gprs = [0u64; 31];
    gprs[0] = CONTEXT;
    assert_eq!(regs.gprs, gprs, "x0 = context ID, x1..x30 zero");
    assert_eq!(regs.pc, ENTRY);
    assert_eq!(regs.pstate, PSTATE_EL1H_MASKED);
    assert_eq!(
        regs.el1,
        El1Regs {
            sctlr: El1Regs::RESET.sctlr | EE,
            ..El1Regs::RESET
        }
    );
    assert_eq!(regs.gic.vmcr, 0, "virtual CPU interface at reset");

    // The caller learns SUCCESS, with x1..x3 cleared, after the SMC.
    assert_eq!(c.resume(0), ([SUCCESS_PSCI, 0, 0, 0], 4));
    // The target runs from the entry point.
    assert_eq!(c.resume(1), ([CONTEXT, 0, 0, 0], ENTRY));
}

#[test]
fn cpu_on_of_a_rec_that_is_on_is_already_on_whatever_the_host_says() {
    let c = Cpus::new();
    c.ask(0, &[CPU_ON, mpidr(1), ENTRY, CONTEXT]);
    let before = c.rec(1, |r| r.regs);
    // The host says SUCCESS, but REC 1 never went off.
    assert_eq!(c.complete(c.recs[0], c.recs[1], SUCCESS_PSCI), SUCCESS);
    assert_eq!(c.rec(1, |r| r.regs), before, "target untouched");
    assert_eq!(c.resume(0).0, [ALREADY_ON, 0, 0, 0]);
}

#[test]
fn cpu_on_denied_by_the_host() {
    let c = cpu_on_pending();
    let before = c.rec(1, |r| r.regs);
    assert_eq!(c.complete(c.recs[0], c.recs[1], DENIED), SUCCESS);
    assert_eq!(c.rec(1, |r| (r.runnable, r.regs)), (false, before));
    assert_eq!(c.enter(1), REC, "still off");
    assert_eq!(c.resume(0).0, [DENIED, 0, 0, 0]);
}

#[test]
fn affinity_info_is_computed_from_the_target() {
    let c = Cpus::new();
    c.ask(0, &[AFFINITY_INFO, mpidr(1), 0]);
    assert_eq!(c.complete(c.recs[0], c.recs[1], SUCCESS_PSCI), SUCCESS);
    assert_eq!(c.resume(0).0, [ON, 0, 0, 0]);

    c.off(2);
    c.ask(0, &[AFFINITY_INFO, mpidr(2), 0]);
    assert_eq!(c.complete(c.recs[0], c.recs[2], SUCCESS_PSCI), SUCCESS);
    assert_eq!(c.resume(0).0, [OFF, 0, 0, 0]);
}

#[test]
fn cpu_off_then_on_again() {
    let c = Cpus::new();
    // REC 2 turns itself off.
    let exit = c.call(2, &[CPU_OFF]);
    assert_eq!(exit.exit_reason(), Some(RmiExitReason::Psci));
    assert_eq!(c.enter(2), REC, "off");
    // REC 0 sees it off, then starts it.
    c.ask(0, &[AFFINITY_INFO, mpidr(2), 0]);
    assert_eq!(c.complete(c.recs[0], c.recs[2], SUCCESS_PSCI), SUCCESS);
    assert_eq!(c.resume(0).0[0], OFF);
    c.ask(0, &[CPU_ON, mpidr(2), ENTRY, CONTEXT]);
    assert_eq!(c.complete(c.recs[0], c.recs[2], SUCCESS_PSCI), SUCCESS);
    assert_eq!(c.resume(0).0[0], SUCCESS_PSCI);
    assert_eq!(c.resume(2), ([CONTEXT, 0, 0, 0], ENTRY));
    // And now it is on.
    c.ask(1, &[AFFINITY_INFO, mpidr(2), 0]);
    assert_eq!(c.complete(c.recs[1], c.recs[2], SUCCESS_PSCI), SUCCESS);
    assert_eq!(c.resume(1).0[0], ON);
}
