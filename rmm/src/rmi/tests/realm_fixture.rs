//! A realm to drive the RTT and DATA commands against, through `Sim::call` as a host would:
//! granules handed out and delegated, REALM_CREATE and REC_CREATE with parameter blocks in NS
//! memory, wrappers that build tables and data pages, RTT_READ_ENTRY decoded, and snapshots that
//! prove a failed command changed nothing.
//!
//! The realm: 40-bit IPA from level 1 with two concatenated starting tables. Protected IPAs are
//! `[0, 2^39)`, unprotected ones `[2^39, 2^40)`.

use std::cell::{Cell, RefCell};

use hostcall_abi::el3::MemoryBank;
use hostcall_abi::host_call::RsiHostCall;
use hostcall_abi::realm_params::RmiRealmParams;
use hostcall_abi::rec_params::{rec_index_to_mpidr, RmiRecCreateFlags, RmiRecParams};
use hostcall_abi::rec_run::{RmiRecEnter, RmiRecExit};
use hostcall_abi::rmi::RmiCommand;
use hostcall_abi::rtt::Ripas;
use hostcall_abi::wire::Wire;
use hostcall_abi::GRANULE_SIZE;

use crate::arch::RealmExit;
use crate::granule::{GranuleState, LockError};
use crate::rec::{Rec, RipasRequest, AUX_GRANULES};
use crate::sim::{Sim, QEMU_DRAM, QEMU_RMM_REGION};

pub use hostcall_abi::rmi::RmiCommand as C;

/// One granule.
pub const G: u64 = GRANULE_SIZE as u64;
/// What one level-2 entry maps.
pub const L2: u64 = 1 << 21;
/// What one level-1 entry maps.
pub const L1: u64 = 1 << 30;
/// What one (single) level-1 starting table maps.
pub const START_TABLE: u64 = 1 << 39;
/// The first Unprotected IPA.
pub const UNPROTECTED: u64 = 1 << 39;
/// The first IPA outside the realm.
pub const IPA_LIMIT: u64 = 1 << 40;

/// The fixture realm's RD.
pub const RD: u64 = 0x8000_0000;
/// Its two starting-level RTTs (8 KiB aligned).
pub const RTT_BASE: u64 = 0x8000_2000;
/// Granules the fixture delegates for tests, in order.
const POOL: u64 = 0x8100_0000;
/// NS pages the fixture fills for tests (parameter blocks, DATA sources).
const NS_POOL: u64 = 0x8C00_0000;
/// An NS granule of DRAM that nothing uses.
pub const NS_FREE: u64 = 0xB000_0000;

/// x0 of a successful command.
pub const SUCCESS: u64 = 0;
/// x0 of RMI_ERROR_INPUT.
pub const INPUT: u64 = 1;
/// x0 of RMI_ERROR_REALM, index 0.
pub const REALM: u64 = 2;
/// x0 of RMI_ERROR_REC.
pub const REC: u64 = 3;

/// x0 of RMI_ERROR_RTT with index `level`.
pub const fn rtt(level: u64) -> u64 {
    4 | level << 8
}

/// A level as the host passes it (Int64 in a register).
pub const fn lvl(level: i64) -> u64 {
    level as u64
}

/// The outputs of RMI_RTT_READ_ENTRY.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// x1: level the walk reached.
    pub level: u64,
    /// x2: RmiRttEntryState (0 UNASSIGNED, 1 ASSIGNED, 2 TABLE).
    pub state: u64,
    /// x3: descriptor.
    pub desc: u64,
    /// x4: RmiRipas.
    pub ripas: u64,
}

/// RmiRttEntryState values.
pub const UNASSIGNED: u64 = 0;
/// RMI_ASSIGNED.
pub const ASSIGNED: u64 = 1;
/// RMI_TABLE.
pub const TABLE: u64 = 2;
/// RmiRipas values.
pub const EMPTY: u64 = Ripas::Empty as u64;
/// RMI_RAM.
pub const RAM: u64 = Ripas::Ram as u64;
/// RMI_DESTROYED.
pub const DESTROYED: u64 = Ripas::Destroyed as u64;

impl Entry {
    /// An entry read back with these values.
    pub const fn new(level: u64, state: u64, desc: u64, ripas: u64) -> Self {
        Self {
            level,
            state,
            desc,
            ripas,
        }
    }
}

/// One granule in a [`Snapshot`]: its address, state and reference count, and contents.
type GranuleImage = (
    u64,
    Result<(GranuleState, u16), LockError>,
    Box<[u8; GRANULE_SIZE]>,
);

/// State, reference count and contents of a set of granules at one moment.
pub struct Snapshot(Vec<GranuleImage>);

/// A simulated monitor holding one realm (more can be added).
pub struct Fixture {
    /// The monitor.
    pub sim: Sim,
    /// The realm's RD.
    pub rd: u64,
    next: Cell<u64>,
    next_ns: Cell<u64>,
    recs: Cell<u64>,
    /// Every granule the fixture delegated or the realm owns: what snapshots cover.
    tracked: RefCell<Vec<u64>>,
}

impl Fixture {
    /// A monitor on the QEMU layout with the fixture realm (VMID 1).
    pub fn new() -> Self {
        Self::with_sim(Sim::qemu())
    }

    /// The QEMU layout plus one small DRAM bank at 2^48, where granules can be delegated but
    /// cannot be named by a descriptor without LPA2. Returns the fixture and that bank's base.
    pub fn with_high_bank() -> (Self, u64) {
        let high = 1 << 48;
        let banks = [
            QEMU_DRAM,
            MemoryBank {
                base: high,
                size: 0x10_0000,
            },
        ];
        (
            Self::with_sim(Sim::with_dram(&banks, QEMU_RMM_REGION)),
            high,
        )
    }

    fn with_sim(sim: Sim) -> Self {
        let fx = Self {
            sim,
            rd: RD,
            next: Cell::new(POOL),
            next_ns: Cell::new(NS_POOL),
            recs: Cell::new(0),
            tracked: RefCell::new(Vec::new()),
        };
        fx.create_realm(RD, RTT_BASE, 1);
        fx
    }

    /// Creates another realm (RD and starting tables delegated here) and returns its RD.
    pub fn create_realm(&self, rd: u64, rtt_base: u64, vmid: u16) -> u64 {
        for pa in [rd, rtt_base, rtt_base + G] {
            self.delegate(pa);
        }
        let mut p = RmiRealmParams::ZERO;
        p.s2sz = 40;
        p.num_bps = 1;
        p.num_wps = 1;
        p.hash_algo = 0;
        p.vmid = vmid;
        p.rtt_base = rtt_base;
        p.rtt_level_start = 1;
        p.rtt_num_start = 2;
        let params = self.ns_encoded(&p);
        self.ok(C::REALM_CREATE, &[rd, params]);
        rd
    }

    /// The next free granule, delegated.
    pub fn delegated(&self) -> u64 {
        let pa = self.next.get();
        self.next.set(pa + G);
        self.delegate(pa);
        pa
    }

    /// `n` physically contiguous delegated granules starting at an address aligned to `align`.
    pub fn delegated_run(&self, n: u64, align: u64) -> u64 {
        let start = self.next.get().next_multiple_of(align);
        self.next.set(start);
        for _ in 0..n {
            self.delegated();
        }
        start
    }

    /// Delegates the granule at `pa` and tracks it in snapshots.
    #[track_caller]
    pub fn delegate(&self, pa: u64) {
        assert_eq!(
            self.call(C::GRANULE_DELEGATE, &[pa])[0],
            SUCCESS,
            "delegate {pa:#x}"
        );
        self.tracked.borrow_mut().push(pa);
    }

    /// Every granule the fixture delegated (the RDs and starting tables included), in order.
    pub fn granules(&self) -> Vec<u64> {
        self.tracked.borrow().clone()
    }

    /// A fresh NS page holding `bytes`.
    pub fn ns_page(&self, bytes: &[u8; GRANULE_SIZE]) -> u64 {
        let pa = self.next_ns.get();
        self.next_ns.set(pa + G);
        self.sim.mem.write(pa, bytes);
        pa
    }

    fn ns_encoded<T: Wire>(&self, value: &T) -> u64 {
        let mut buf = [0u8; GRANULE_SIZE];
        value.encode(&mut buf).expect("fits a granule");
        self.ns_page(&buf)
    }

    /// Calls `cmd` with `args` (x1..).
    pub fn call(&self, cmd: RmiCommand, args: &[u64]) -> [u64; 5] {
        self.sim.call(cmd.fid() as u64, args)
    }

    /// Calls `cmd`, asserts success, returns x1..x4.
    #[track_caller]
    pub fn ok(&self, cmd: RmiCommand, args: &[u64]) -> [u64; 4] {
        let out = self.call(cmd, args);
        assert_eq!(out[0], SUCCESS, "{} {:x?} -> {:x?}", cmd.name(), args, out);
        [out[1], out[2], out[3], out[4]]
    }

    /// Calls `cmd`, asserts it fails with `x0` and changes nothing the fixture tracks; returns
    /// x1..x4.
    #[track_caller]
    pub fn fails(&self, cmd: RmiCommand, args: &[u64], x0: u64) -> [u64; 4] {
        let before = self.snapshot();
        let out = self.call(cmd, args);
        assert_eq!(out[0], x0, "{} {:x?} -> {:x?}", cmd.name(), args, out);
        self.assert_unchanged(&before);
        [out[1], out[2], out[3], out[4]]
    }

    /// A new RTT for `ipa` at `level` (asserting success); returns its address.
    #[track_caller]
    pub fn rtt_create(&self, ipa: u64, level: i64) -> u64 {
        let t = self.delegated();
        self.ok(C::RTT_CREATE, &[self.rd, t, ipa, lvl(level)]);
        t
    }

    /// The level-2 and level-3 RTTs covering `ipa`; returns (level-2 RTT, level-3 RTT).
    #[track_caller]
    pub fn tables(&self, ipa: u64) -> (u64, u64) {
        let l2 = self.rtt_create(ipa & !(L1 - 1), 2);
        let l3 = self.rtt_create(ipa & !(L2 - 1), 3);
        (l2, l3)
    }

    /// A level-3 RTT covering `ipa` under an existing level-2 RTT.
    #[track_caller]
    pub fn l3(&self, ipa: u64) -> u64 {
        self.rtt_create(ipa & !(L2 - 1), 3)
    }

    /// The recognisable contents of the DATA page created at `ipa`.
    pub fn pattern(ipa: u64) -> [u8; GRANULE_SIZE] {
        let mut page = [0u8; GRANULE_SIZE];
        for (i, b) in page.iter_mut().enumerate() {
            *b = (i as u64 ^ (ipa >> 12)).wrapping_mul(31) as u8 | 1;
        }
        page
    }

    /// RMI_DATA_CREATE of a fresh granule at `ipa` from a page holding [`Self::pattern`];
    /// returns the DATA granule.
    #[track_caller]
    pub fn data_create(&self, ipa: u64) -> u64 {
        let data = self.delegated();
        self.data_create_at(data, ipa);
        data
    }

    /// RMI_DATA_CREATE of the delegated granule `data` at `ipa`.
    #[track_caller]
    pub fn data_create_at(&self, data: u64, ipa: u64) {
        let src = self.ns_page(&Self::pattern(ipa));
        self.ok(C::DATA_CREATE, &[self.rd, data, ipa, src, 0]);
    }

    /// RMI_RTT_READ_ENTRY, asserting success.
    #[track_caller]
    pub fn read_entry(&self, ipa: u64, level: i64) -> Entry {
        self.read_entry_of(self.rd, ipa, level)
    }

    /// RMI_RTT_READ_ENTRY on the realm `rd`.
    #[track_caller]
    pub fn read_entry_of(&self, rd: u64, ipa: u64, level: i64) -> Entry {
        let [level, state, desc, ripas] = self.ok(C::RTT_READ_ENTRY, &[rd, ipa, lvl(level)]);
        Entry {
            level,
            state,
            desc,
            ripas,
        }
    }

    /// RMI_REALM_ACTIVATE.
    pub fn activate(&self) {
        self.ok(C::REALM_ACTIVATE, &[self.rd]);
    }

    /// A runnable REC of the realm `rd` (with its auxiliary granules); returns its address.
    #[track_caller]
    pub fn rec_create(&self, rd: u64) -> u64 {
        let rec = self.delegated();
        let mut p = RmiRecParams::ZERO;
        p.flags = RmiRecCreateFlags::RUNNABLE;
        let index = if rd == self.rd {
            let i = self.recs.get();
            self.recs.set(i + 1);
            i
        } else {
            0
        };
        p.mpidr = rec_index_to_mpidr(index).expect("small index");
        p.num_aux = AUX_GRANULES;
        for slot in p.aux.iter_mut().take(AUX_GRANULES as usize) {
            *slot = self.delegated();
        }
        let params = self.ns_encoded(&p);
        self.ok(C::REC_CREATE, &[rd, rec, params]);
        rec
    }

    /// Records a pending RIPAS change on `rec`, as RSI_IPA_STATE_SET would have.
    pub fn request_ripas(&self, rec: u64, base: u64, top: u64, value: Ripas, destroyed: bool) {
        self.with_rec(rec, |r| {
            r.ripas = RipasRequest {
                addr: base,
                top,
                value: value as u8,
                change_destroyed: destroyed,
            }
        });
    }

    /// Runs `f` on the REC object at `rec` (state REC), under its lock.
    pub fn with_rec<T>(&self, rec: u64, f: impl FnOnce(&mut Rec) -> T) -> T {
        let mut g = self
            .sim
            .granules
            .lock(rec, GranuleState::Rec)
            .expect("a REC");
        f(crate::rec::idle(&self.sim.mem, &mut g).expect("not running"))
    }

    /// State and reference count of `pa`.
    pub fn state(&self, pa: u64) -> GranuleState {
        self.sim.granules.peek(pa).expect("tracked granule").0
    }

    /// State, reference count and contents of every granule the fixture tracks (the RD, its
    /// starting tables, every granule it delegated).
    pub fn snapshot(&self) -> Snapshot {
        let tracked = self.tracked.borrow();
        Snapshot(
            tracked
                .iter()
                .map(|&pa| {
                    (
                        pa,
                        self.sim.granules.peek(pa),
                        Box::new(self.sim.mem.read(pa)),
                    )
                })
                .collect(),
        )
    }

    /// Panics, naming the first granule that differs, if anything changed since `before`.
    #[track_caller]
    pub fn assert_unchanged(&self, before: &Snapshot) {
        let now = self.snapshot();
        for ((pa, state, bytes), (_, state_now, bytes_now)) in before.0.iter().zip(&now.0) {
            assert_eq!(state, state_now, "state of {pa:#x} changed");
            if bytes != bytes_now {
                let at = bytes
                    .iter()
                    .zip(bytes_now.iter())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                panic!("contents of {pa:#x} changed at byte {at:#x}");
            }
        }
    }
}

/// Bad `rd` arguments for the `rd_align`, `rd_bound` or `rd_state` condition.
pub fn bad_rds(fx: &Fixture, condition: &str) -> Vec<u64> {
    match condition {
        "rd_align" => vec![fx.rd + 8, fx.rd + 0x800, fx.rd | 1],
        "rd_bound" => vec![0x1000, 0x0900_0000, 1 << 47, !(G - 1)],
        "rd_state" => vec![NS_FREE, RTT_BASE, fx.delegated()],
        _ => panic!("not an rd condition: {condition}"),
    }
}

/// One test per `rd_align`, `rd_bound`, `rd_state` condition of `$cmd`: every bad `rd` fails with
/// RMI_ERROR_INPUT, zero outputs and no change, and the same call on the realm's RD then
/// succeeds (so the RD was the only fault). `$rest` sets the realm up and gives the arguments
/// after `rd`.
macro_rules! rd_condition_tests {
    ($cmd:expr, [$($name:ident: $cond:literal),* $(,)?], |$fx:ident| $rest:expr) => {$(
        #[test]
        fn $name() {
            let $fx = Fixture::new();
            let rest: Vec<u64> = $rest;
            for rd in bad_rds(&$fx, $cond) {
                let mut args = vec![rd];
                args.extend(&rest);
                assert_eq!($fx.fails($cmd, &args, INPUT), [0; 4], "{} {rd:#x}", $cond);
            }
            let mut args = vec![$fx.rd];
            args.extend(&rest);
            $fx.ok($cmd, &args);
        }
    )*};
}
pub(crate) use rd_condition_tests;

/// IPA of the DATA page holding the realm's RsiHostCall (and its first instruction at IPA 0).
pub const HC_IPA: u64 = 0x1000;

/// An active realm with one REC at PC 0, DATA at IPA 0 and [`HC_IPA`], and a RecRun page.
pub struct Running {
    /// The simulated monitor and realm.
    pub fx: Fixture,
    /// The REC.
    pub rec: u64,
    /// The RecRun page (NS).
    pub run: u64,
    /// The DATA granule at [`HC_IPA`].
    pub hc_data: u64,
}

impl Running {
    /// The realm with nothing more done while it was NEW.
    pub fn new() -> Self {
        Self::prepared(|_| {})
    }

    /// Like [`Self::new`], with `prepare` run while the realm is still NEW.
    pub fn prepared(prepare: impl FnOnce(&Fixture)) -> Self {
        let fx = Fixture::new();
        fx.tables(0);
        fx.data_create(0);
        let hc_data = fx.data_create(HC_IPA);
        let rec = fx.rec_create(fx.rd);
        prepare(&fx);
        fx.activate();
        let run = fx.ns_page(&[0; GRANULE_SIZE]);
        Self {
            fx,
            rec,
            run,
            hc_data,
        }
    }

    /// Writes rec_enter into the RecRun page.
    pub fn set_enter(&self, enter: &RmiRecEnter) {
        let mut page = self.fx.sim.mem.read(self.run);
        enter.encode(&mut page[..0x800]).expect("rec_enter fits");
        self.fx.sim.mem.write(self.run, &page);
    }

    /// RMI_REC_ENTER; returns x0..x4.
    pub fn enter(&self) -> [u64; 5] {
        self.fx.call(C::REC_ENTER, &[self.rec, self.run])
    }

    /// rec_exit as the last REC_ENTER left it.
    pub fn exit(&self) -> RmiRecExit {
        RmiRecExit::decode(&self.fx.sim.mem.read(self.run)[0x800..]).expect("rec_exit")
    }

    /// Writes the realm's RsiHostCall into its DATA page (as the realm would).
    pub fn write_host_call(&self, hc: &RsiHostCall) {
        let mut page = self.fx.sim.mem.read(self.hc_data);
        hc.encode(&mut page[..0x100]).expect("fits");
        self.fx.sim.mem.write(self.hc_data, &page);
    }

    pub fn read_host_call(&self) -> RsiHostCall {
        RsiHostCall::decode(&self.fx.sim.mem.read(self.hc_data)[..0x100]).expect("decode")
    }

    /// Queues a step of the simulated realm.
    pub fn script(
        &self,
        step: impl FnMut(&mut crate::arch::RealmRegs) -> RealmExit + Send + 'static,
    ) {
        self.fx.sim.cpu.script(step);
    }
}
