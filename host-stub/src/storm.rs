//! A concurrency storm: the RECs of two realms run on several CPUs while every CPU also issues
//! RMI commands on the same realms' objects, for a bounded number of rounds of seeded random
//! choices, and every answer must be one the spec allows for what the issuing CPU can know.
//!
//! Each realm runs the realm payload in its storm mode on REC 0 (REC 1, never runnable, is the
//! target of the payload's PSCI AFFINITY_INFO requests). A REC's bursts mark themselves in a
//! heartbeat page (odd while the REC runs), touch and check the realm's memory, and end with a
//! host call, a RIPAS change request or AFFINITY_INFO ([`hostcall_abi::payload::storm`]).
//!
//! Every CPU runs [`run_cpu`]: each round it picks, with its own PRNG (seeded from [`SEED`] and
//! its number), one of
//! - **a REC turn**: it takes the realm's REC token (a host-side try-lock: one VMM thread per
//!   vCPU), enters REC 0 with its own RecRun page, and services the exit (RTT_SET_RIPAS for a
//!   RIPAS request, RMI_PSCI_COMPLETE for AFFINITY_INFO): SUCCESS expected;
//! - **a table or data command** on one of the realm's [`SLOTS`] level-3 tables (a host-side
//!   try-lock per slot, so the CPU knows the slot's state exactly): RTT_CREATE, DATA_CREATE_UNKNOWN,
//!   DATA_DESTROY, RTT_DESTROY and RTT_FOLD, both the ones that must succeed (outputs checked:
//!   the granule DATA_DESTROY, RTT_DESTROY and RTT_FOLD return is the one the slot holds) and the
//!   ones that must fail with RMI_ERROR_RTT at the level the spec names (a page another CPU
//!   already destroyed, a table that does not exist or is still live, a table already there);
//! - **an intrusion** on a REC another CPU may be running: once its heartbeat is odd (polled a
//!   bounded number of times), REC_ENTER or
//!   REC_DESTROY of it. If the heartbeat did not move across the call, the REC was running
//!   throughout and only RMI_ERROR_REC is allowed; otherwise SUCCESS is allowed too (the REC had
//!   exited: an entry then runs it, a destroy takes it away for good).
//!
//! A CPU whose command of its own was overtaken by an intrusion (one started or still inside
//! across it) also accepts RMI_ERROR_REC and RMI_ERROR_INPUT for its REC commands. Nothing waits
//! for another CPU except [`wait_for_cpus`] at the end, which is bounded. Then [`teardown`] takes
//! both realms apart with SUCCESS expected at every step and undelegates every granule, and the
//! census compares what was delegated with what came back.
//!
//! Granules for the tables and data come from one shared pool of [`GRANULES`] delegated granules
//! (a free flag each): a granule a DATA_DESTROY, RTT_DESTROY or RTT_FOLD returns goes back to it,
//! whichever CPU created it.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use hostcall_abi::payload::storm as pl;
use hostcall_abi::psci::PsciFunction;
use hostcall_abi::rec_run::{RmiExitReason, RmiRecExit, RMI_REC_EXIT_OFFSET};
use hostcall_abi::rmi::{RmiCommand as C, RmiReturn, RmiStatus};

use crate::realm_build::{Failure, Host, Pool, NS_ATTRS, UNPROTECTED};
use crate::realm_run::{self, Loaded, RecStart};
use crate::{Conduit, HostMemory};

const G: u64 = 4096;
const OK: RmiReturn = RmiReturn::SUCCESS;

/// The storm's seed (printed with its figures; each CPU's PRNG starts from it and its number).
pub const SEED: u64 = 0x5EED_C0DE_0511_2026;
/// CPUs the storm runs on at most.
pub const MAX_CPUS: usize = 4;
/// Realms in the storm.
pub const REALMS: usize = 2;
/// Level-3 tables per realm the CPUs create, fill, empty, destroy and fold.
pub const SLOTS: usize = 6;
/// DATA pages per slot.
pub const SLOT_PAGES: usize = 4;
/// The IPA of slot 0's table; slot `k` is [`SLOT_SIZE`] further per `k`.
pub const SLOT_BASE_IPA: u64 = 0x40_0000;
/// IPA space one slot's level-3 table maps.
pub const SLOT_SIZE: u64 = 0x20_0000;
/// Delegated granules in the shared pool: enough for every slot's table and pages at once.
pub const GRANULES: usize = REALMS * SLOTS * (1 + SLOT_PAGES);
/// The heartbeat page's unprotected IPA (x1 of the payload in its storm mode).
pub const HEARTBEAT_IPA: u64 = UNPROTECTED + 0x1000;
/// Polls of a REC's heartbeat an intrusion makes at most, waiting for a burst to be running.
pub const INTRUDE_POLLS: usize = 64;
/// Polls of the other CPUs' round counts the first CPU makes at most at the end.
pub const WAIT_LIMIT: u64 = 50_000_000;

/// The commands the storm counts, in the order of [`Counts::calls`].
pub const COMMANDS: [C; 9] = [
    C::REC_ENTER,
    C::REC_DESTROY,
    C::PSCI_COMPLETE,
    C::RTT_SET_RIPAS,
    C::RTT_CREATE,
    C::RTT_DESTROY,
    C::RTT_FOLD,
    C::DATA_CREATE_UNKNOWN,
    C::DATA_DESTROY,
];
/// Statuses counted: SUCCESS, ERROR_INPUT, ERROR_REALM, ERROR_REC, ERROR_RTT, anything else.
pub const STATUSES: usize = 6;
/// Their names, for the log.
pub const STATUS_NAMES: [&str; STATUSES] = [
    "SUCCESS",
    "ERROR_INPUT",
    "ERROR_REALM",
    "ERROR_REC",
    "ERROR_RTT",
    "other",
];
/// Exit reasons counted (RmiExitReason 0..=6, then anything else).
pub const EXIT_REASONS: usize = 8;
/// Their names, for the log.
pub const EXIT_NAMES: [&str; EXIT_REASONS] = [
    "SYNC",
    "IRQ",
    "FIQ",
    "PSCI",
    "RIPAS_CHANGE",
    "HOST_CALL",
    "SERROR",
    "other",
];

/// A set of allowed statuses (bit `s` for RmiStatus `s`), and for RMI_ERROR_RTT the level the
/// spec says it reports (the walk's level, or the command's), if one is required.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowed {
    bits: u8,
    rtt_level: Option<u8>,
}

impl Allowed {
    const fn of(s: RmiStatus) -> Self {
        Self {
            bits: 1 << s as u8,
            rtt_level: None,
        }
    }
    const fn or(self, s: RmiStatus) -> Self {
        Self {
            bits: self.bits | 1 << s as u8,
            ..self
        }
    }
    /// RMI_ERROR_RTT at `level` only.
    const fn rtt_at(level: u8) -> Self {
        Self {
            rtt_level: Some(level),
            ..Self::of(RmiStatus::ErrorRtt)
        }
    }
    const NOTHING: Self = Self {
        bits: 0,
        rtt_level: None,
    };
    fn contains(self, r: RmiReturn) -> bool {
        let level_ok = r.status() != Some(RmiStatus::ErrorRtt)
            || self.rtt_level.is_none_or(|l| l == r.index());
        r.status().is_some_and(|s| self.bits & 1 << s as u8 != 0) && level_ok
    }
    /// The status bits, for the log.
    pub const fn bits(self) -> u8 {
        self.bits
    }
}

const SUCCESS: Allowed = Allowed::of(RmiStatus::Success);
/// RMI_ERROR_RTT from a walk that stopped at level 2 (no level-3 table there).
const RTT_NO_TABLE: Allowed = Allowed::rtt_at(2);
/// RMI_ERROR_RTT at level 3 (the page's entry, or a live or mixed level-3 table).
const RTT_AT_3: Allowed = Allowed::rtt_at(3);
const REC: Allowed = Allowed::of(RmiStatus::ErrorRec);
/// What a REC command of a CPU overtaken by an intrusion may get.
const OVERTAKEN: Allowed = SUCCESS.or(RmiStatus::ErrorRec).or(RmiStatus::ErrorInput);

/// A slot: one level-3 table's worth of IPA space, its table and pages as the host made them.
pub struct Slot {
    lock: AtomicBool,
    table: AtomicU64,
    data: [AtomicU64; SLOT_PAGES],
}

/// One realm as every CPU sees it.
pub struct RealmShared {
    rd: AtomicU64,
    rec: AtomicU64,
    target_rec: AtomicU64,
    heartbeat: AtomicU64,
    /// The REC token: held by the CPU whose turn it is to run REC 0.
    token: AtomicBool,
    /// Intrusions started on REC 0, and those still inside (their command and exit handling).
    intrusions: AtomicU32,
    inside: AtomicU32,
    /// REC 0 was destroyed by an intrusion.
    rec_gone: AtomicBool,
    slots: [Slot; SLOTS],
}

/// What the CPUs share: the realms, the granule pool, each CPU's round count.
pub struct Shared {
    realms: [RealmShared; REALMS],
    pool: [AtomicU64; GRANULES],
    free: [AtomicBool; GRANULES],
    rounds: [AtomicU64; MAX_CPUS],
}

/// A CPU's round count before it finished.
const NOT_DONE: u64 = u64::MAX;

impl Shared {
    /// Empty: [`setup`] fills it in.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self {
            realms: [const {
                RealmShared {
                    rd: AtomicU64::new(0),
                    rec: AtomicU64::new(0),
                    target_rec: AtomicU64::new(0),
                    heartbeat: AtomicU64::new(0),
                    token: AtomicBool::new(false),
                    intrusions: AtomicU32::new(0),
                    inside: AtomicU32::new(0),
                    rec_gone: AtomicBool::new(false),
                    slots: [const {
                        Slot {
                            lock: AtomicBool::new(false),
                            table: AtomicU64::new(0),
                            data: [const { AtomicU64::new(0) }; SLOT_PAGES],
                        }
                    }; SLOTS],
                }
            }; REALMS],
            pool: [const { AtomicU64::new(0) }; GRANULES],
            free: [const { AtomicBool::new(false) }; GRANULES],
            rounds: [const { AtomicU64::new(NOT_DONE) }; MAX_CPUS],
        }
    }

    /// Takes a free granule of the pool, looking from `start` on.
    fn alloc(&self, start: usize) -> Option<u64> {
        (0..GRANULES).map(|i| (start + i) % GRANULES).find_map(|i| {
            self.free[i]
                .compare_exchange(true, false, Ordering::AcqRel, Ordering::Relaxed)
                .ok()
                .map(|_| self.pool[i].load(Ordering::Relaxed))
        })
    }

    /// Gives `pa` back to the pool; false if it is not one of the pool's or was free already.
    fn release(&self, pa: u64) -> bool {
        self.pool
            .iter()
            .position(|p| p.load(Ordering::Relaxed) == pa)
            .is_some_and(|i| !self.free[i].swap(true, Ordering::AcqRel))
    }

    /// The round count CPU `cpu` reported, once it finished.
    pub fn rounds_of(&self, cpu: usize) -> Option<u64> {
        let r = self.rounds.get(cpu)?.load(Ordering::Acquire);
        (r != NOT_DONE).then_some(r)
    }
}

/// A small PRNG (xorshift64*): the storm's choices, reproducible from the seed.
#[derive(Clone, Copy, Debug)]
pub struct Rng(u64);

impl Rng {
    /// The PRNG of CPU `cpu` for `seed`.
    pub const fn new(seed: u64, cpu: usize) -> Self {
        let s = seed ^ (cpu as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Self(if s == 0 { 1 } else { s })
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (> 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() >> 33) as usize % n
    }
}

/// Counters of one CPU, or of all of them added up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Rounds run.
    pub rounds: u64,
    /// RMI calls by command ([`COMMANDS`]) and status ([`STATUS_NAMES`]).
    pub calls: [[u32; STATUSES]; COMMANDS.len()],
    /// REC entries that ran the REC (REC_ENTER answered SUCCESS).
    pub entries: u32,
    /// Of those, by realm (each realm's REC 0 runs on whichever CPU takes its token).
    pub entries_by_realm: [u32; REALMS],
    /// Of those, entries made by an intrusion.
    pub intruder_entries: u32,
    /// REC exits by reason ([`EXIT_NAMES`]).
    pub exits: [u32; EXIT_REASONS],
    /// Rounds that found the REC token (then went on to a slot), a slot or the pool taken by
    /// another CPU.
    pub busy: u32,
    /// Intrusions made (the heartbeat said running), and rounds that wanted one but found the
    /// REC between bursts.
    pub intrusions: u32,
    /// See [`Self::intrusions`].
    pub idle: u32,
    /// Answers outside what the spec allows.
    pub violations: u32,
}

impl Counts {
    /// Adds `o` to these.
    pub fn add(&mut self, o: &Counts) {
        self.rounds += o.rounds;
        for (a, b) in self.calls.iter_mut().zip(o.calls.iter()) {
            for (x, y) in a.iter_mut().zip(b.iter()) {
                *x += y;
            }
        }
        self.entries += o.entries;
        for (x, y) in self
            .entries_by_realm
            .iter_mut()
            .zip(o.entries_by_realm.iter())
        {
            *x += y;
        }
        self.intruder_entries += o.intruder_entries;
        for (x, y) in self.exits.iter_mut().zip(o.exits.iter()) {
            *x += y;
        }
        self.busy += o.busy;
        self.intrusions += o.intrusions;
        self.idle += o.idle;
        self.violations += o.violations;
    }

    /// RMI calls made.
    pub fn total_calls(&self) -> u32 {
        self.calls.iter().flatten().sum()
    }
}

/// An answer the spec does not allow for what the CPU knew.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The round it came in.
    pub round: u64,
    /// What the CPU was doing.
    pub what: &'static str,
    /// The command.
    pub cmd: C,
    /// Its answer.
    pub got: RmiReturn,
    /// What was allowed ([`Allowed::bits`]).
    pub allowed: u8,
}

/// What one CPU did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuReport {
    /// Its counters.
    pub counts: Counts,
    /// The first answer it did not accept.
    pub first: Option<Violation>,
}

/// One CPU's storm.
#[derive(Clone, Copy, Debug)]
pub struct CpuConfig {
    /// Its number (0..[`MAX_CPUS`]).
    pub cpu: usize,
    /// Rounds to run.
    pub rounds: u64,
    /// Its own RecRun page (NS).
    pub run: u64,
    /// The seed.
    pub seed: u64,
}

/// The CPU's state while it runs.
struct Cpu<'s, 'p> {
    shared: &'s Shared,
    pause: &'p mut dyn FnMut(),
    cfg: CpuConfig,
    rng: Rng,
    round: u64,
    report: CpuReport,
}

fn cmd_index(cmd: C) -> usize {
    COMMANDS
        .iter()
        .position(|c| c.fid() == cmd.fid())
        .unwrap_or(0)
}

fn status_index(r: RmiReturn) -> usize {
    r.status().map_or(STATUSES - 1, |s| s as usize)
}

impl Cpu<'_, '_> {
    /// Issues `cmd`, counts it, and checks its status against `allowed`.
    fn call<Cd: Conduit, M: HostMemory>(
        &mut self,
        h: &mut Host<'_, Cd, M>,
        what: &'static str,
        cmd: C,
        args: &[u64],
        allowed: Allowed,
    ) -> (RmiReturn, [u64; 4]) {
        let (r, out) = h.cmd(cmd, args);
        self.report.counts.calls[cmd_index(cmd)][status_index(r)] += 1;
        if !allowed.contains(r) {
            self.violation(what, cmd, r, allowed);
        }
        (r, out)
    }

    fn violation(&mut self, what: &'static str, cmd: C, got: RmiReturn, allowed: Allowed) {
        self.report.counts.violations += 1;
        if self.report.first.is_none() {
            self.report.first = Some(Violation {
                round: self.round,
                what,
                cmd,
                got,
                allowed: allowed.bits(),
            });
        }
    }

    /// Checks an output the spec defines.
    fn output(&mut self, what: &'static str, cmd: C, got: u64, want: u64) {
        if got != want {
            self.violation(what, cmd, RmiReturn::from_raw(got), Allowed::NOTHING);
        }
    }

    fn round<Cd: Conduit, M: HostMemory>(&mut self, h: &mut Host<'_, Cd, M>) {
        let realm = self.rng.below(REALMS);
        match self.rng.below(100) {
            0..30 => {
                // A CPU that finds the REC taken does something else with its round.
                if !self.rec_turn(h, realm) {
                    self.slot_command(h, realm);
                }
            }
            30..80 => self.slot_command(h, realm),
            _ => self.intrude(h, realm),
        }
    }

    /// Whether an intrusion on `realm`'s REC overlapped the window that started at `seen`.
    fn overtaken(&self, realm: usize, seen: (u32, u32)) -> bool {
        let r = &self.shared.realms[realm];
        seen.1 != 0 || r.intrusions.load(Ordering::Acquire) != seen.0
    }

    fn intrusion_state(&self, realm: usize) -> (u32, u32) {
        let r = &self.shared.realms[realm];
        (
            r.intrusions.load(Ordering::Acquire),
            r.inside.load(Ordering::Acquire),
        )
    }

    /// Runs REC 0 of `realm` once, as the holder of its token, and services the exit; false if
    /// the REC is gone or another CPU holds its token.
    fn rec_turn<Cd: Conduit, M: HostMemory>(
        &mut self,
        h: &mut Host<'_, Cd, M>,
        realm: usize,
    ) -> bool {
        let r = &self.shared.realms[realm];
        if r.rec_gone.load(Ordering::Acquire)
            || r.token
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            self.report.counts.busy += 1;
            return false;
        }
        let seen = self.intrusion_state(realm);
        let (rec, run) = (r.rec.load(Ordering::Relaxed), self.cfg.run);
        let (ret, _) = h.cmd(C::REC_ENTER, &[rec, run]);
        let allowed = if self.overtaken(realm, seen) {
            OVERTAKEN
        } else {
            SUCCESS
        };
        self.count_and_check(ret, C::REC_ENTER, "REC_ENTER (token holder)", allowed);
        if ret == OK {
            self.report.counts.entries += 1;
            self.report.counts.entries_by_realm[realm] += 1;
            self.service_exit(h, realm, seen);
        }
        r.token.store(false, Ordering::Release);
        true
    }

    fn count_and_check(&mut self, r: RmiReturn, cmd: C, what: &'static str, allowed: Allowed) {
        self.report.counts.calls[cmd_index(cmd)][status_index(r)] += 1;
        if !allowed.contains(r) {
            self.violation(what, cmd, r, allowed);
        }
    }

    /// Services the exit REC 0 of `realm` just made into this CPU's RecRun page. `seen` is the
    /// intrusion state from before the entry.
    fn service_exit<Cd: Conduit, M: HostMemory>(
        &mut self,
        h: &mut Host<'_, Cd, M>,
        realm: usize,
        seen: (u32, u32),
    ) {
        let r = &self.shared.realms[realm];
        let (rd, rec, target) = (
            r.rd.load(Ordering::Relaxed),
            r.rec.load(Ordering::Relaxed),
            r.target_rec.load(Ordering::Relaxed),
        );
        let run = self.cfg.run;
        let at = |h: &Host<'_, Cd, M>, off: usize| {
            h.read_word(run + (RMI_REC_EXIT_OFFSET + off) as u64, 0)
        };
        let reason = at(h, core::mem::offset_of!(RmiRecExit, exit_reason)) & 0xFF;
        self.report.counts.exits[(reason as usize).min(EXIT_REASONS - 1)] += 1;
        match reason {
            x if x == RmiExitReason::HostCall as u64 || x == RmiExitReason::Irq as u64 => {}
            x if x == RmiExitReason::RipasChange as u64 => {
                let base = at(h, core::mem::offset_of!(RmiRecExit, ripas_base));
                let top = at(h, core::mem::offset_of!(RmiRecExit, ripas_top));
                let (ret, out) = h.cmd(C::RTT_SET_RIPAS, &[rd, rec, base, top]);
                let allowed = if self.overtaken(realm, seen) {
                    OVERTAKEN
                } else {
                    SUCCESS
                };
                self.count_and_check(ret, C::RTT_SET_RIPAS, "RTT_SET_RIPAS", allowed);
                if ret == OK && allowed == SUCCESS {
                    self.output("RTT_SET_RIPAS top", C::RTT_SET_RIPAS, out[0], top);
                }
            }
            x if x == RmiExitReason::Psci as u64 => {
                let fid = at(h, core::mem::offset_of!(RmiRecExit, gprs));
                let mpidr = at(h, core::mem::offset_of!(RmiRecExit, gprs) + 8);
                let want = PsciFunction::AFFINITY_INFO.spec_fid() as u64;
                if fid != want || mpidr != pl::PSCI_TARGET_MPIDR {
                    self.violation(
                        "PSCI exit other than AFFINITY_INFO of REC 1",
                        C::REC_ENTER,
                        RmiReturn::from_raw(fid),
                        Allowed::NOTHING,
                    );
                    return;
                }
                let (ret, _) = h.cmd(C::PSCI_COMPLETE, &[rec, target, 0]);
                let allowed = if self.overtaken(realm, seen) {
                    OVERTAKEN
                } else {
                    SUCCESS
                };
                self.count_and_check(ret, C::PSCI_COMPLETE, "PSCI_COMPLETE", allowed);
            }
            _ => self.violation(
                "an exit the payload never causes",
                C::REC_ENTER,
                RmiReturn::from_raw(reason),
                Allowed::NOTHING,
            ),
        }
    }

    /// REC_ENTER or REC_DESTROY of REC 0 of `realm` if its heartbeat says it runs.
    fn intrude<Cd: Conduit, M: HostMemory>(&mut self, h: &mut Host<'_, Cd, M>, realm: usize) {
        let r = &self.shared.realms[realm];
        let hb = r.heartbeat.load(Ordering::Relaxed);
        let mut before = h.read_word(hb, pl::HEARTBEAT);
        for _ in 0..INTRUDE_POLLS {
            if !before.is_multiple_of(2) {
                break;
            }
            (self.pause)();
            before = h.read_word(hb, pl::HEARTBEAT);
        }
        if r.rec_gone.load(Ordering::Acquire) || before.is_multiple_of(2) {
            self.report.counts.idle += 1;
            return;
        }
        self.report.counts.intrusions += 1;
        r.intrusions.fetch_add(1, Ordering::AcqRel);
        r.inside.fetch_add(1, Ordering::AcqRel);
        let rec = r.rec.load(Ordering::Relaxed);
        // Mostly entries: a destroy that meets the REC between bursts takes it away for good.
        let enter = self.rng.below(4) != 0;
        let (cmd, args) = if enter {
            (C::REC_ENTER, [rec, self.cfg.run])
        } else {
            (C::REC_DESTROY, [rec, 0])
        };
        let (ret, _) = h.cmd(cmd, &args[..if enter { 2 } else { 1 }]);
        let after = h.read_word(hb, pl::HEARTBEAT);
        // Still the same burst: the REC was running from before the call until after it (a burst
        // makes no exit before it ends: the storm enables no host interrupt, and its REC takes
        // no fault on its own memory).
        let allowed = if after == before { REC } else { OVERTAKEN };
        let what = if enter {
            "REC_ENTER of a running REC"
        } else {
            "REC_DESTROY of a running REC"
        };
        self.count_and_check(ret, cmd, what, allowed);
        if ret == OK {
            if enter {
                self.report.counts.entries += 1;
                self.report.counts.entries_by_realm[realm] += 1;
                self.report.counts.intruder_entries += 1;
                // Whoever else services this REC now is overtaken: a seen state that never
                // matches.
                self.service_exit(h, realm, (0, 1));
            } else {
                r.rec_gone.store(true, Ordering::Release);
            }
        }
        r.inside.fetch_sub(1, Ordering::AcqRel);
    }

    /// One command on a slot of `realm` whose state this CPU holds (its try-lock).
    fn slot_command<Cd: Conduit, M: HostMemory>(&mut self, h: &mut Host<'_, Cd, M>, realm: usize) {
        let r = &self.shared.realms[realm];
        let k = self.rng.below(SLOTS);
        let s = &r.slots[k];
        if s.lock
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.report.counts.busy += 1;
            return;
        }
        let rd = r.rd.load(Ordering::Relaxed);
        let ipa = SLOT_BASE_IPA + k as u64 * SLOT_SIZE;
        let page = self.rng.below(SLOT_PAGES);
        let pipa = ipa + page as u64 * G;
        let table = s.table.load(Ordering::Relaxed);
        let data = s.data[page].load(Ordering::Relaxed);
        let live = s.data.iter().any(|d| d.load(Ordering::Relaxed) != 0);
        let pick = self.rng.below(100);
        if table == 0 {
            match pick {
                0..70 => {
                    if let Some(g) = self.alloc() {
                        let (ret, _) =
                            self.call(h, "RTT_CREATE", C::RTT_CREATE, &[rd, g, ipa, 3], SUCCESS);
                        self.keep_or_release(ret, g, &s.table);
                    }
                }
                70..78 => {
                    self.call(
                        h,
                        "DATA_DESTROY without a table",
                        C::DATA_DESTROY,
                        &[rd, pipa],
                        RTT_NO_TABLE,
                    );
                }
                78..85 => {
                    self.call(
                        h,
                        "RTT_DESTROY of no table",
                        C::RTT_DESTROY,
                        &[rd, ipa, 3],
                        RTT_NO_TABLE,
                    );
                }
                85..92 => {
                    self.call(
                        h,
                        "RTT_FOLD of no table",
                        C::RTT_FOLD,
                        &[rd, ipa, 3],
                        RTT_NO_TABLE,
                    );
                }
                _ => {
                    if let Some(g) = self.alloc() {
                        self.call(
                            h,
                            "DATA_CREATE_UNKNOWN without a table",
                            C::DATA_CREATE_UNKNOWN,
                            &[rd, g, pipa],
                            RTT_NO_TABLE,
                        );
                        self.give_back(g);
                    }
                }
            }
        } else {
            match pick {
                0..40 if data == 0 => {
                    if let Some(g) = self.alloc() {
                        let (ret, _) = self.call(
                            h,
                            "DATA_CREATE_UNKNOWN",
                            C::DATA_CREATE_UNKNOWN,
                            &[rd, g, pipa],
                            SUCCESS,
                        );
                        self.keep_or_release(ret, g, &s.data[page]);
                    }
                }
                0..40 => {
                    if let Some(g) = self.alloc() {
                        self.call(
                            h,
                            "DATA_CREATE_UNKNOWN over a page",
                            C::DATA_CREATE_UNKNOWN,
                            &[rd, g, pipa],
                            RTT_AT_3,
                        );
                        self.give_back(g);
                    }
                }
                40..75 if data != 0 => {
                    let (ret, out) =
                        self.call(h, "DATA_DESTROY", C::DATA_DESTROY, &[rd, pipa], SUCCESS);
                    if ret == OK {
                        self.output("DATA_DESTROY's granule", C::DATA_DESTROY, out[0], data);
                        self.give_back(out[0]);
                        s.data[page].store(0, Ordering::Relaxed);
                    }
                }
                40..75 => {
                    self.call(
                        h,
                        "DATA_DESTROY of a page already destroyed",
                        C::DATA_DESTROY,
                        &[rd, pipa],
                        RTT_AT_3,
                    );
                }
                75..96 => {
                    let fold = pick >= 88;
                    let (cmd, what, args) = if fold {
                        (C::RTT_FOLD, "RTT_FOLD", [rd, ipa, 3])
                    } else {
                        (C::RTT_DESTROY, "RTT_DESTROY", [rd, ipa, 3])
                    };
                    // A live table (RTT_DESTROY) or a mixed one (RTT_FOLD): the command's level.
                    let allowed = if live { RTT_AT_3 } else { SUCCESS };
                    let (ret, out) = self.call(h, what, cmd, &args, allowed);
                    if live && !fold && ret.status() == Some(RmiStatus::ErrorRtt) {
                        // RTT_DESTROY's rtt_live failure reports top == ipa.
                        self.output("RTT_DESTROY's top (live table)", cmd, out[1], ipa);
                    }
                    if ret == OK && !live {
                        self.output(what, cmd, out[0], table);
                        self.give_back(out[0]);
                        s.table.store(0, Ordering::Relaxed);
                    }
                }
                _ => {
                    if let Some(g) = self.alloc() {
                        self.call(
                            h,
                            "RTT_CREATE over a table",
                            C::RTT_CREATE,
                            &[rd, g, ipa, 3],
                            RTT_NO_TABLE,
                        );
                        self.give_back(g);
                    }
                }
            }
        }
        s.lock.store(false, Ordering::Release);
    }

    fn alloc(&mut self) -> Option<u64> {
        let start = self.rng.below(GRANULES);
        let g = self.shared.alloc(start);
        if g.is_none() {
            self.report.counts.busy += 1;
        }
        g
    }

    fn give_back(&mut self, pa: u64) {
        if !self.shared.release(pa) {
            self.violation(
                "a granule returned that the pool did not lend",
                C::DATA_DESTROY,
                RmiReturn::from_raw(pa),
                Allowed::NOTHING,
            );
        }
    }

    fn keep_or_release(&mut self, ret: RmiReturn, g: u64, into: &AtomicU64) {
        if ret == OK {
            into.store(g, Ordering::Relaxed);
        } else {
            self.give_back(g);
        }
    }
}

/// Runs CPU `cfg.cpu`'s rounds against the realms [`setup`] made, then reports its round count
/// in `shared`. `pause` lets the other CPUs run for a moment (an intrusion's heartbeat polls).
pub fn run_cpu<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    shared: &Shared,
    cfg: CpuConfig,
    mut pause: impl FnMut(),
) -> CpuReport {
    let mut cpu = Cpu {
        shared,
        pause: &mut pause,
        cfg,
        rng: Rng::new(cfg.seed, cfg.cpu),
        round: 0,
        report: CpuReport::default(),
    };
    while cpu.round < cfg.rounds {
        cpu.round(h);
        cpu.round += 1;
    }
    cpu.report.counts.rounds = cpu.round;
    if let Some(r) = shared.rounds.get(cfg.cpu) {
        r.store(cpu.round, Ordering::Release);
    }
    cpu.report
}

/// Waits (at most [`WAIT_LIMIT`] polls, `pause` after each) until CPUs `0..cpus` reported their
/// round counts; true if all did.
pub fn wait_for_cpus(shared: &Shared, cpus: usize, mut pause: impl FnMut()) -> bool {
    for _ in 0..WAIT_LIMIT {
        if (0..cpus).all(|c| shared.rounds_of(c).is_some()) {
            return true;
        }
        pause();
    }
    false
}

/// The realms of the storm, as [`setup`] made them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Realms {
    /// Each realm: the payload loaded with its two RECs.
    pub loaded: [Loaded; REALMS],
    /// Granules delegated in all (the realms' and the pool's).
    pub delegated: usize,
}

/// Builds the two realms (VMIDs `vmid`, `vmid + 1`), each with the payload in its storm mode on
/// REC 0 and REC 1 not runnable, its heartbeat page mapped, and delegates the pool.
pub fn setup<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    shared: &Shared,
    image: &[u8],
    vmid: u16,
) -> Result<Realms, Failure> {
    let mut out = Realms::default();
    for (i, r) in shared.realms.iter().enumerate() {
        let hb = pool.take(1)?;
        h.write_page(hb, &[0; G as usize]);
        let starts = [
            RecStart {
                runnable: true,
                args: [
                    hostcall_abi::payload::MODE_STORM,
                    HEARTBEAT_IPA,
                    SEED ^ i as u64,
                ],
            },
            RecStart::OFF,
        ];
        let l = realm_run::load_custom(h, pool, image, vmid + i as u16, &starts, |h, pool, l| {
            for level in [2u64, 3] {
                let t = pool.take(1)?;
                h.delegate(&mut l.realm, t)?;
                h.expect(
                    "RTT_CREATE (storm, unprotected)",
                    C::RTT_CREATE,
                    &[l.realm.rd, t, UNPROTECTED, level],
                    OK,
                )?;
            }
            h.expect(
                "RTT_MAP_UNPROTECTED (heartbeat)",
                C::RTT_MAP_UNPROTECTED,
                &[l.realm.rd, HEARTBEAT_IPA, 3, hb | NS_ATTRS],
                OK,
            )?;
            Ok(())
        })?;
        if l.realm.num_delegated >= l.realm.delegated.len() {
            return Err(Failure {
                step: "the realm's delegation list overflowed (the census would miss granules)",
                got: OK,
                want: OK,
            });
        }
        r.rd.store(l.realm.rd, Ordering::Relaxed);
        r.rec.store(l.realm.recs[0], Ordering::Relaxed);
        r.target_rec.store(l.realm.recs[1], Ordering::Relaxed);
        r.heartbeat.store(hb, Ordering::Relaxed);
        out.delegated += l.realm.num_delegated;
        out.loaded[i] = l;
    }
    for (p, f) in shared.pool.iter().zip(shared.free.iter()) {
        let pa = pool.take(1)?;
        h.expect(
            "GRANULE_DELEGATE (storm pool)",
            C::GRANULE_DELEGATE,
            &[pa],
            OK,
        )?;
        p.store(pa, Ordering::Relaxed);
        f.store(true, Ordering::Release);
        out.delegated += 1;
    }
    Ok(out)
}

/// What the end of the storm found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Census {
    /// Granules delegated by [`setup`].
    pub delegated: usize,
    /// Granules undelegated by [`teardown`] (each GRANULE_UNDELEGATE answered SUCCESS).
    pub undelegated: usize,
    /// Scratch words the realms' RECs read back wrong (the heartbeat pages' count).
    pub memory_errors: u64,
    /// Bursts the realms' RECs completed.
    pub bursts: u64,
    /// RECs an intrusion's REC_DESTROY took away.
    pub recs_destroyed: usize,
}

/// Takes both realms apart (every step must succeed) and undelegates every granule.
pub fn teardown<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    shared: &Shared,
    realms: &Realms,
) -> Result<Census, Failure> {
    let mut c = Census {
        delegated: realms.delegated,
        ..Census::default()
    };
    let undelegate = |h: &mut Host<'_, Cd, M>, pa: u64| {
        h.expect(
            "GRANULE_UNDELEGATE (storm)",
            C::GRANULE_UNDELEGATE,
            &[pa],
            OK,
        )
        .map(|_| ())
    };
    for (r, l) in shared.realms.iter().zip(realms.loaded.iter()) {
        let rd = l.realm.rd;
        let hb = r.heartbeat.load(Ordering::Relaxed);
        c.memory_errors += h.read_word(hb, pl::MEMORY_ERRORS);
        c.bursts += h.read_word(hb, pl::HEARTBEAT) / 2;
        if r.rec_gone.load(Ordering::Acquire) {
            c.recs_destroyed += 1;
        } else {
            h.expect(
                "REC_DESTROY (storm REC 0)",
                C::REC_DESTROY,
                &[l.realm.recs[0]],
                OK,
            )?;
        }
        h.expect(
            "REC_DESTROY (storm REC 1)",
            C::REC_DESTROY,
            &[l.realm.recs[1]],
            OK,
        )?;
        for (k, s) in r.slots.iter().enumerate() {
            let ipa = SLOT_BASE_IPA + k as u64 * SLOT_SIZE;
            for (p, d) in s.data.iter().enumerate() {
                let pa = d.swap(0, Ordering::Relaxed);
                if pa != 0 {
                    let out = h.expect(
                        "DATA_DESTROY (storm teardown)",
                        C::DATA_DESTROY,
                        &[rd, ipa + p as u64 * G],
                        OK,
                    )?;
                    pool_back(shared, out[0], pa)?;
                }
            }
            let t = s.table.swap(0, Ordering::Relaxed);
            if t != 0 {
                let out = h.expect(
                    "RTT_DESTROY (storm teardown)",
                    C::RTT_DESTROY,
                    &[rd, ipa, 3],
                    OK,
                )?;
                pool_back(shared, out[0], t)?;
            }
        }
        h.expect(
            "RTT_UNMAP_UNPROTECTED (heartbeat)",
            C::RTT_UNMAP_UNPROTECTED,
            &[rd, HEARTBEAT_IPA, 3],
            OK,
        )?;
        for level in [3u64, 2] {
            h.expect(
                "RTT_DESTROY (storm, unprotected)",
                C::RTT_DESTROY,
                &[rd, UNPROTECTED, level],
                OK,
            )?;
        }
        for i in 0..l.data.len() {
            h.expect(
                "DATA_DESTROY (payload)",
                C::DATA_DESTROY,
                &[rd, i as u64 * G],
                OK,
            )?;
        }
        for level in [3u64, 2] {
            h.expect("RTT_DESTROY (payload)", C::RTT_DESTROY, &[rd, 0, level], OK)?;
        }
        h.expect("REALM_DESTROY (storm)", C::REALM_DESTROY, &[rd], OK)?;
        for &pa in &l.realm.delegated[..l.realm.num_delegated] {
            undelegate(h, pa)?;
            c.undelegated += 1;
        }
    }
    for (p, f) in shared.pool.iter().zip(shared.free.iter()) {
        if !f.load(Ordering::Acquire) {
            return Err(Failure {
                step: "a pool granule is still lent out after the teardown",
                got: RmiReturn::from_raw(p.load(Ordering::Relaxed)),
                want: OK,
            });
        }
        undelegate(h, p.load(Ordering::Relaxed))?;
        c.undelegated += 1;
    }
    Ok(c)
}

/// Checks a returned granule is the one expected, and gives it back to the pool.
fn pool_back(shared: &Shared, got: u64, want: u64) -> Result<(), Failure> {
    if got != want || !shared.release(got) {
        return Err(Failure {
            step: "a DESTROY in the teardown returned another granule than the slot held",
            got: RmiReturn::from_raw(got),
            want: RmiReturn::from_raw(want),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
