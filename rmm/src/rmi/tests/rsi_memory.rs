//! The realm's memory calls, driven through RMI_REC_ENTER with scripted realm steps:
//! RSI_IPA_STATE_SET (B5.3.6) and its completion (RIPAS_CHANGE exit, RMI_RTT_SET_RIPAS, the
//! RIPAS_RESPONSE flag of the next entry), RSI_IPA_STATE_GET (B5.3.5) and RSI_REALM_CONFIG
//! (B5.3.9). Every failure condition of the three calls has its own test.
//!
//! The realm: DATA (RIPAS RAM) at IPA 0 and 0x1000, the rest of the level-3 table covering
//! `[0, 2 MiB)` UNASSIGNED EMPTY, and level-2 entries (2 MiB blocks) UNASSIGNED EMPTY above it.

use hostcall_abi::realm_config::RsiRealmConfig;
use hostcall_abi::rec_run::{RmiExitReason, RmiRecEnter, RmiRecEnterFlags, RmiRecExit};
use hostcall_abi::rmi::RmiHashAlgorithm;
use hostcall_abi::rsi::{RsiCommand, RsiHashAlgorithm};
use hostcall_abi::rtt::Ripas;
use hostcall_abi::wire::Wire;

use super::realm_fixture::*;
use crate::arch::{RealmExit, RealmRegs};
use crate::granule::GranuleState;
use crate::memory;
use crate::realm::Rd;
use crate::rec::RipasRequest;
use crate::sim::{IRQ_EXIT, SMC_EXIT};

const SET: u64 = RsiCommand::IPA_STATE_SET.fid() as u64;
const GET: u64 = RsiCommand::IPA_STATE_GET.fid() as u64;
const CONFIG: u64 = RsiCommand::REALM_CONFIG.fid() as u64;

/// x0 values of RSI_SUCCESS and RSI_ERROR_INPUT.
const RSI_SUCCESS: u64 = 0;
const RSI_ERROR_INPUT: u64 = 1;
/// x2 values of RSI_IPA_STATE_SET.
const ACCEPT: u64 = 0;
const REJECT: u64 = 1;
/// RSI_CHANGE_DESTROYED in x4.
const CHANGE_DESTROYED: u64 = 1;

/// IPA of the second DATA page (the first is at IPA 0).
const DATA1_IPA: u64 = HC_IPA;

/// The shared fixture: an active realm with one REC at PC 0, DATA at IPA 0 and at
/// [`DATA1_IPA`] (its `hc_data`), and a RecRun page.
type Realm = Running;

impl Running {
    /// REC_ENTER with rec_enter holding only `flags`; returns x0.
    fn enter_with(&self, flags: RmiRecEnterFlags) -> u64 {
        self.set_enter(&RmiRecEnter {
            flags,
            ..RmiRecEnter::ZERO
        });
        self.fx.call(C::REC_ENTER, &[self.rec, self.run])[0]
    }

    fn regs(&self) -> RealmRegs {
        self.fx.with_rec(self.rec, |r| r.regs)
    }

    fn request(&self) -> RipasRequest {
        self.fx.with_rec(self.rec, |r| r.ripas)
    }

    /// The realm makes the SMC `x` (x0.., the other registers as the realm left them), and REC_ENTER
    /// returns with the exit it caused.
    #[track_caller]
    fn call(&self, x: &[u64]) -> RmiRecExit {
        let x = x.to_vec();
        self.script(move |regs| smc(regs, &x));
        assert_eq!(self.enter_with(RmiRecEnterFlags::EMPTY), SUCCESS);
        self.exit()
    }

    /// The realm makes the SMC `x`, which must be answered without an exit (the realm runs on
    /// and next takes an IRQ), with the PC past the SMC. Returns the realm's x0..x3.
    #[track_caller]
    fn answered(&self, x: &[u64]) -> [u64; 4] {
        let pc = self.regs().pc;
        let exit = self.call(x);
        assert_eq!(
            exit.exit_reason(),
            Some(RmiExitReason::Irq),
            "the call did not exit"
        );
        let regs = self.regs();
        assert_eq!(regs.pc, pc + 4, "PC past the SMC");
        [regs.gprs[0], regs.gprs[1], regs.gprs[2], regs.gprs[3]]
    }

    /// RSI_IPA_STATE_SET(base, top, ripas, flags), which must exit RIPAS_CHANGE.
    #[track_caller]
    fn request_change(&self, base: u64, top: u64, ripas: Ripas, flags: u64) {
        let exit = self.call(&[SET, base, top, ripas as u64, flags]);
        assert_eq!(exit.exit_reason(), Some(RmiExitReason::RipasChange));
    }

    /// RMI_RTT_SET_RIPAS over `[base, top)`, asserting success; returns its `out_top`.
    #[track_caller]
    fn set_ripas(&self, base: u64, top: u64) -> u64 {
        self.fx
            .ok(C::RTT_SET_RIPAS, &[self.fx.rd, self.rec, base, top])[0]
    }

    /// The next entry with `flags`: returns what the realm finds in x0..x3 when it runs.
    #[track_caller]
    fn resume(&self, flags: RmiRecEnterFlags) -> [u64; 4] {
        let seen = std::sync::Arc::new(std::sync::Mutex::new([0u64; 4]));
        let out = seen.clone();
        self.script(move |regs| {
            out.lock().expect("lock").copy_from_slice(&regs.gprs[..4]);
            irq()
        });
        assert_eq!(self.enter_with(flags), SUCCESS);
        let x = *seen.lock().expect("lock");
        x
    }
}

fn smc(regs: &mut RealmRegs, x: &[u64]) -> RealmExit {
    regs.gprs[..x.len()].copy_from_slice(x);
    SMC_EXIT
}

fn irq() -> RealmExit {
    IRQ_EXIT
}

// ---- RSI_IPA_STATE_SET: failure conditions --------------------------------------------------

/// Each call is refused with RSI_ERROR_INPUT (x1..x3 zero), without an exit and without a
/// request recorded; the same realm then makes a valid request, which does exit.
#[track_caller]
fn set_is_refused(calls: &[[u64; 4]]) {
    let r = Realm::new();
    for &[base, top, ripas, flags] in calls {
        assert_eq!(
            r.answered(&[SET, base, top, ripas, flags]),
            [RSI_ERROR_INPUT, 0, 0, 0],
            "IPA_STATE_SET({base:#x}, {top:#x}, {ripas:#x}, {flags:#x})"
        );
        assert_eq!(r.request(), RipasRequest::default(), "nothing recorded");
    }
    r.request_change(0x2000, 0x3000, Ripas::Ram, 0);
}

#[test]
fn ipa_state_set_fails_base_align() {
    set_is_refused(&[[0x2008, 0x4000, 1, 0], [0x2800, 0x4000, 1, 0]]);
}

#[test]
fn ipa_state_set_fails_top_align() {
    set_is_refused(&[[0x2000, 0x3001, 1, 0], [0x2000, 0x3FF8, 0, 0]]);
}

#[test]
fn ipa_state_set_fails_size_valid() {
    set_is_refused(&[
        [0x2000, 0x2000, 1, 0],
        [0x4000, 0x2000, 1, 0],
        [0x1000, 0, 0, 0],
    ]);
}

#[test]
fn ipa_state_set_fails_rgn_bound() {
    set_is_refused(&[
        // Top in the unprotected half, or outside the IPA space.
        [0x2000, UNPROTECTED + G, 1, 0],
        [0x2000, IPA_LIMIT, 1, 0],
        // Wholly unprotected.
        [UNPROTECTED, UNPROTECTED + G, 0, 0],
        [IPA_LIMIT, IPA_LIMIT + G, 0, 0],
        [!(G - 1) - G, !(G - 1), 0, 0],
    ]);
}

#[test]
fn ipa_state_set_fails_ripas_valid() {
    set_is_refused(&[
        [0x2000, 0x3000, Ripas::Destroyed as u64, 0],
        [0x2000, 0x3000, 3, 0], // RSI_DEV, not in 1.0's RIPAS change
        [0x2000, 0x3000, 0xFF, 0],
        // X3[63:8] are SBZ: a RAM request with them set is refused, not truncated.
        [0x2000, 0x3000, 0x100 | 1, 0],
        [0x2000, 0x3000, 1 << 63, 0],
    ]);
}

#[test]
fn ipa_state_set_refuses_reserved_flag_bits() {
    set_is_refused(&[[0x2000, 0x3000, 1, 2], [0x2000, 0x3000, 1, 1 << 63 | 1]]);
}

// ---- RSI_IPA_STATE_SET: the exit and the request --------------------------------------------

#[test]
fn ipa_state_set_exits_ripas_change_with_only_the_request() {
    let r = Realm::new();
    r.script(|regs| {
        // Live registers the call does not name: none of them may reach the host.
        for (i, g) in regs.gprs.iter_mut().enumerate() {
            *g = 0xDEAD_0000 + i as u64;
        }
        smc(regs, &[SET, 0x2000, 0x6000, Ripas::Ram as u64, 0])
    });
    assert_eq!(r.enter_with(RmiRecEnterFlags::EMPTY), SUCCESS);
    let expected = RmiRecExit {
        ripas_base: 0x2000,
        ripas_top: 0x6000,
        ripas_value: Ripas::Ram as u8,
        ..RmiRecExit::with_reason(RmiExitReason::RipasChange)
    };
    assert_eq!(r.exit(), expected);
    assert_eq!(
        r.request(),
        RipasRequest {
            addr: 0x2000,
            top: 0x6000,
            value: Ripas::Ram as u8,
            change_destroyed: false,
        }
    );
    let regs = r.regs();
    assert_eq!(regs.pc, 4, "past the SMC");
    assert_eq!(regs.gprs[0], SET, "no answer before the next entry");
}

#[test]
fn ipa_state_set_records_an_empty_request_and_the_destroyed_flag() {
    let r = Realm::new();
    let exit = r.call(&[SET, 0, 0x2000, Ripas::Empty as u64, CHANGE_DESTROYED]);
    assert_eq!(exit.exit_reason(), Some(RmiExitReason::RipasChange));
    assert_eq!(
        (exit.ripas_base, exit.ripas_top, exit.ripas_value),
        (0, 0x2000, 0)
    );
    assert_eq!(
        r.request(),
        RipasRequest {
            addr: 0,
            top: 0x2000,
            value: Ripas::Empty as u8,
            change_destroyed: true,
        }
    );
}

// ---- RSI_IPA_STATE_SET: completion ----------------------------------------------------------

#[test]
fn ipa_state_set_accepted_in_full() {
    let r = Realm::new();
    r.request_change(0x2000, 0x5000, Ripas::Ram, 0);
    assert_eq!(r.set_ripas(0x2000, 0x5000), 0x5000);
    assert_eq!(
        r.resume(RmiRecEnterFlags::EMPTY),
        [RSI_SUCCESS, 0x5000, ACCEPT, 0]
    );
    assert_eq!(r.request(), RipasRequest::default(), "request cleared");
    for ipa in [0x2000, 0x3000, 0x4000] {
        assert_eq!(r.fx.read_entry(ipa, 3).ripas, RAM, "{ipa:#x}");
    }
    assert_eq!(r.fx.read_entry(0x5000, 3).ripas, EMPTY, "beyond the range");
}

#[test]
fn ipa_state_set_rejected_before_any_change() {
    let r = Realm::new();
    r.request_change(0x2000, 0x5000, Ripas::Ram, 0);
    assert_eq!(
        r.resume(RmiRecEnterFlags::RIPAS_RESPONSE),
        [RSI_SUCCESS, 0x2000, REJECT, 0],
        "new_base == base, REJECT"
    );
    assert_eq!(r.request(), RipasRequest::default());
    assert_eq!(r.fx.read_entry(0x2000, 3).ripas, EMPTY);
}

#[test]
fn ipa_state_set_partially_applied_and_rejected() {
    let r = Realm::new();
    r.request_change(0x2000, 0x5000, Ripas::Ram, 0);
    assert_eq!(r.set_ripas(0x2000, 0x3000), 0x3000);
    assert_eq!(
        r.resume(RmiRecEnterFlags::RIPAS_RESPONSE),
        [RSI_SUCCESS, 0x3000, REJECT, 0]
    );
    assert_eq!(r.fx.read_entry(0x2000, 3).ripas, RAM);
    assert_eq!(r.fx.read_entry(0x3000, 3).ripas, EMPTY);
}

#[test]
fn ipa_state_set_partially_applied_and_continued() {
    let r = Realm::new();
    r.request_change(0x2000, 0x5000, Ripas::Ram, 0);
    assert_eq!(r.set_ripas(0x2000, 0x3000), 0x3000);
    // The host takes two steps before re-entering.
    assert_eq!(r.set_ripas(0x3000, 0x4000), 0x4000);
    assert_eq!(
        r.resume(RmiRecEnterFlags::EMPTY),
        [RSI_SUCCESS, 0x4000, ACCEPT, 0],
        "incomplete: new_base < top, ACCEPT"
    );
    // The realm asks again from new_base; only that range is the host's to change.
    let exit = r.call(&[SET, 0x4000, 0x5000, Ripas::Ram as u64, 0]);
    assert_eq!((exit.ripas_base, exit.ripas_top), (0x4000, 0x5000));
    r.fx.fails(C::RTT_SET_RIPAS, &[r.fx.rd, r.rec, 0x3000, 0x5000], INPUT);
    assert_eq!(r.set_ripas(0x4000, 0x5000), 0x5000);
    assert_eq!(
        r.resume(RmiRecEnterFlags::EMPTY),
        [RSI_SUCCESS, 0x5000, ACCEPT, 0]
    );
}

#[test]
fn ipa_state_set_rejection_only_counts_for_an_incomplete_change_to_ram() {
    // A change to EMPTY cannot be rejected: RIPAS_RESPONSE is ignored.
    let r = Realm::new();
    r.request_change(0, 0x2000, Ripas::Empty, 0);
    assert_eq!(
        r.resume(RmiRecEnterFlags::RIPAS_RESPONSE),
        [RSI_SUCCESS, 0, ACCEPT, 0]
    );
    // A change to RAM that the host completed cannot be rejected either.
    r.request_change(0x2000, 0x3000, Ripas::Ram, 0);
    assert_eq!(r.set_ripas(0x2000, 0x3000), 0x3000);
    assert_eq!(
        r.resume(RmiRecEnterFlags::RIPAS_RESPONSE),
        [RSI_SUCCESS, 0x3000, ACCEPT, 0]
    );
}

#[test]
fn ipa_state_set_answer_is_delivered_only_by_the_next_entry_that_runs() {
    let r = Realm::new();
    r.request_change(0x2000, 0x4000, Ripas::Ram, 0);
    assert_eq!(r.set_ripas(0x2000, 0x3000), 0x3000);
    assert_eq!(
        r.regs().gprs[..3],
        [SET, 0x2000, 0x4000],
        "not answered yet"
    );
    // An entry that fails its checks delivers nothing and keeps the request.
    let mut bad = RmiRecEnter::ZERO;
    bad.gicv3_hcr = 1 << 31;
    r.set_enter(&bad);
    assert_eq!(r.fx.call(C::REC_ENTER, &[r.rec, r.run])[0], REC);
    assert_eq!(r.regs().gprs[..3], [SET, 0x2000, 0x4000]);
    assert_eq!(r.request().addr, 0x3000);
    // The host can still go on.
    assert_eq!(r.set_ripas(0x3000, 0x4000), 0x4000);
    assert_eq!(
        r.resume(RmiRecEnterFlags::EMPTY),
        [RSI_SUCCESS, 0x4000, ACCEPT, 0]
    );
    // Answered once: the request is gone, RTT_SET_RIPAS has nothing to work on, and a later
    // entry does not answer again.
    r.fx.fails(C::RTT_SET_RIPAS, &[r.fx.rd, r.rec, 0x4000, 0x5000], INPUT);
    r.script(|regs| {
        regs.gprs[..3].copy_from_slice(&[7, 8, 9]);
        irq()
    });
    assert_eq!(r.enter_with(RmiRecEnterFlags::EMPTY), SUCCESS);
    assert_eq!(r.resume(RmiRecEnterFlags::RIPAS_RESPONSE)[..3], [7, 8, 9]);
}

#[test]
fn ipa_state_set_without_change_destroyed_stops_at_a_destroyed_page() {
    let r = Realm::new();
    // The host takes the page at DATA1_IPA away: RIPAS DESTROYED.
    r.fx.ok(C::DATA_DESTROY, &[r.fx.rd, DATA1_IPA]);
    assert_eq!(r.fx.read_entry(DATA1_IPA, 3).ripas, DESTROYED);
    r.request_change(0, 0x3000, Ripas::Ram, 0);
    assert_eq!(
        r.set_ripas(0, 0x3000),
        DATA1_IPA,
        "stops at the DESTROYED page"
    );
    r.fx.fails(
        C::RTT_SET_RIPAS,
        &[r.fx.rd, r.rec, DATA1_IPA, 0x3000],
        rtt(3),
    );
    assert_eq!(
        r.resume(RmiRecEnterFlags::RIPAS_RESPONSE),
        [RSI_SUCCESS, DATA1_IPA, REJECT, 0]
    );
    // With the flag the host may change it.
    r.request_change(DATA1_IPA, 0x3000, Ripas::Ram, CHANGE_DESTROYED);
    assert_eq!(r.set_ripas(DATA1_IPA, 0x3000), 0x3000);
    assert_eq!(r.fx.read_entry(DATA1_IPA, 3).ripas, RAM);
    assert_eq!(
        r.resume(RmiRecEnterFlags::EMPTY),
        [RSI_SUCCESS, 0x3000, ACCEPT, 0]
    );
}

// ---- RSI_IPA_STATE_GET ----------------------------------------------------------------------

/// Each RSI_IPA_STATE_GET(base, top) is refused with RSI_ERROR_INPUT and no exit.
#[track_caller]
fn get_is_refused(calls: &[[u64; 2]]) {
    let r = Realm::new();
    for &[base, top] in calls {
        assert_eq!(
            r.answered(&[GET, base, top]),
            [RSI_ERROR_INPUT, 0, 0, 0],
            "IPA_STATE_GET({base:#x}, {top:#x})"
        );
    }
    assert_eq!(r.answered(&[GET, 0, G]), [RSI_SUCCESS, G, RAM, 0]);
}

#[test]
fn ipa_state_get_fails_base_align() {
    get_is_refused(&[[0x10, 0x2000], [0x1800, 0x2000]]);
}

#[test]
fn ipa_state_get_fails_end_align() {
    get_is_refused(&[[0, 0x1001], [0, 0x1FFF]]);
}

#[test]
fn ipa_state_get_fails_size_valid() {
    get_is_refused(&[[0x2000, 0x2000], [0x2000, 0x1000]]);
}

#[test]
fn ipa_state_get_fails_rgn_bound() {
    get_is_refused(&[
        [0, UNPROTECTED + G],
        [UNPROTECTED - G, IPA_LIMIT],
        [UNPROTECTED, UNPROTECTED + G],
        [!(G - 1) - G, !(G - 1)],
    ]);
}

#[test]
fn ipa_state_get_reports_the_run_of_one_ripas() {
    let r = Realm::new();
    let cases: [([u64; 2], [u64; 4]); 8] = [
        // The two DATA pages are RAM; the rest of the level-3 table is EMPTY.
        ([0, 0x10_0000], [RSI_SUCCESS, 0x2000, RAM, 0]),
        ([0, G], [RSI_SUCCESS, G, RAM, 0]),
        ([G, 0x10_0000], [RSI_SUCCESS, 0x2000, RAM, 0]),
        ([0x2000, 0x10_0000], [RSI_SUCCESS, 0x10_0000, EMPTY, 0]),
        // Up to the end of the level-3 table.
        ([0x2000, L1], [RSI_SUCCESS, L2, EMPTY, 0]),
        // A walk that stops at a level-2 block: from inside it, to the end of the level-2 table.
        ([2 * L2 + 0x3000, 4 * L2], [RSI_SUCCESS, 4 * L2, EMPTY, 0]),
        ([2 * L2 + 0x3000, 4 * L1], [RSI_SUCCESS, L1, EMPTY, 0]),
        // A walk that stops at the starting level: to the end of that starting table.
        (
            [L1 + 0x3000, UNPROTECTED],
            [RSI_SUCCESS, START_TABLE, EMPTY, 0],
        ),
    ];
    for ([base, top], expected) in cases {
        assert_eq!(
            r.answered(&[GET, base, top]),
            expected,
            "IPA_STATE_GET({base:#x}, {top:#x})"
        );
    }
    // The state follows RTT changes.
    r.fx.ok(C::DATA_DESTROY, &[r.fx.rd, DATA1_IPA]);
    assert_eq!(r.answered(&[GET, 0, 0x10_0000]), [RSI_SUCCESS, G, RAM, 0]);
    assert_eq!(
        r.answered(&[GET, G, 0x10_0000]),
        [RSI_SUCCESS, 0x2000, DESTROYED, 0]
    );
}

// ---- RSI_REALM_CONFIG -----------------------------------------------------------------------

#[test]
fn realm_config_fails_addr_align() {
    let r = Realm::new();
    let before = r.fx.sim.mem.read(r.hc_data);
    for addr in [DATA1_IPA + 8, DATA1_IPA + 0x800, DATA1_IPA | 1] {
        assert_eq!(
            r.answered(&[CONFIG, addr]),
            [RSI_ERROR_INPUT, 0, 0, 0],
            "{addr:#x}"
        );
    }
    assert_eq!(r.fx.sim.mem.read(r.hc_data), before, "nothing written");
    assert_eq!(r.answered(&[CONFIG, DATA1_IPA]), [RSI_SUCCESS, 0, 0, 0]);
}

#[test]
fn realm_config_fails_addr_bound() {
    let r = Realm::new();
    for addr in [UNPROTECTED, UNPROTECTED + DATA1_IPA, IPA_LIMIT, !(G - 1)] {
        assert_eq!(
            r.answered(&[CONFIG, addr]),
            [RSI_ERROR_INPUT, 0, 0, 0],
            "{addr:#x}"
        );
    }
    assert_eq!(r.answered(&[CONFIG, DATA1_IPA]), [RSI_SUCCESS, 0, 0, 0]);
}

#[test]
fn realm_config_on_an_empty_page_is_refused() {
    let r = Realm::new();
    assert_eq!(r.answered(&[CONFIG, 0x5000]), [RSI_ERROR_INPUT, 0, 0, 0]);
}

#[test]
fn realm_config_on_an_unmapped_page_emulates_a_data_abort() {
    // RIPAS RAM with nothing assigned (0x5000), and a DATA page the host destroyed.
    let r = Realm::prepared(|fx| {
        fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, 0x5000, 0x6000]);
    });
    r.fx.ok(C::DATA_DESTROY, &[r.fx.rd, DATA1_IPA]);
    for ipa in [0x5000, DATA1_IPA] {
        let pc = r.regs().pc;
        let exit = r.call(&[CONFIG, ipa]);
        let expected = RmiRecExit {
            esr: 0x24 << 26 | 0x07, // data abort, translation fault at level 3
            hpfar: (ipa >> 12) << 4,
            ..RmiRecExit::with_reason(RmiExitReason::Sync)
        };
        assert_eq!(exit, expected, "{ipa:#x}");
        assert_eq!(r.regs().pc, pc, "the realm repeats the SMC");
    }
}

/// The RsiRealmConfig in the DATA page at [`DATA1_IPA`].
fn written_config(r: &Realm) -> RsiRealmConfig {
    RsiRealmConfig::decode(&r.fx.sim.mem.read(r.hc_data)).expect("decode")
}

#[test]
fn realm_config_writes_width_algorithm_and_rpv_and_zeroes_the_rest() {
    let mut rpv = [0u8; 64];
    for (i, b) in rpv.iter_mut().enumerate() {
        *b = 0xA0 ^ i as u8;
    }
    // The fixture creates SHA-256 realms without an RPV: give this one SHA-512 and an RPV, as
    // REALM_CREATE would have recorded them.
    let r = Realm::prepared(|fx| {
        let mut g = fx.sim.granules.lock(fx.rd, GranuleState::Rd).expect("RD");
        let rd: &mut Rd = memory::get(&fx.sim.mem, &mut g);
        rd.config.hash_algo = RmiHashAlgorithm::Sha512;
        rd.config.rpv = rpv;
    });
    // The page holds the DATA_CREATE pattern (no zero byte) beforehand.
    assert!(r.fx.sim.mem.read(r.hc_data).iter().all(|&b| b != 0));
    assert_eq!(r.answered(&[CONFIG, DATA1_IPA]), [RSI_SUCCESS, 0, 0, 0]);
    assert_eq!(
        written_config(&r),
        RsiRealmConfig::new(40, RsiHashAlgorithm::Sha512, rpv),
        "ipa_width, hash_algo, rpv; every other byte zero"
    );
}

#[test]
fn realm_config_of_a_sha256_realm() {
    let r = Realm::new();
    assert_eq!(r.answered(&[CONFIG, DATA1_IPA]), [RSI_SUCCESS, 0, 0, 0]);
    let cfg = written_config(&r);
    assert_eq!(
        cfg,
        RsiRealmConfig::new(40, RsiHashAlgorithm::Sha256, [0; 64])
    );
    assert_eq!(cfg.hash_algo(), Some(RsiHashAlgorithm::Sha256));
}
