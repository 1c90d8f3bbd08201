//! The storm scenario: every CPU at once throws RMI commands at two realms whose RECs run the
//! payload's storm mode ([`crate::storm`] has the rounds, their expectations and the census).
//! It owns what the CPUs share ([`Stage`]), each CPU's part ([`cpu`], [`secondary`]) and the
//! primary's: set-up, the figures, the teardown and the verdict. Waking the other CPUs and
//! pausing between polls come in as functions; it must not touch memory outside its pool.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use hostcall_abi::GRANULE_SIZE;

use crate::log;
use crate::realm_build::{Host, Pool};
use crate::rmi::RmiClient;
use crate::storm::{self, CpuReport, COMMANDS, EXIT_NAMES, STATUS_NAMES};
use crate::{Conduit, HostMemory};

/// Rounds each CPU runs.
pub const ROUNDS: u64 = 1000;

/// What the CPUs share.
pub struct Stage {
    /// The storm's shared state.
    pub storm: storm::Shared,
    /// Set by the primary once the realms are built: each CPU's RecRun page (0: not taking
    /// part).
    pub runs: [AtomicU64; storm::MAX_CPUS],
    /// Set by the primary when the CPUs may start.
    pub go: AtomicBool,
    /// Each CPU's report, stored before it reports its round count.
    pub reports: [spin::Mutex<Option<CpuReport>>; storm::MAX_CPUS],
    /// Wakes the CPUs waiting for [`Self::go`] (the image: SEV).
    pub wake: fn(),
    /// Between two polls of another CPU's progress (the image: YIELD, which moves QEMU's
    /// round-robin TCG on to the next CPU).
    pub pause: fn(),
}

impl Stage {
    /// Nothing built yet; `wake` and `pause` as [`Self::wake`] and [`Self::pause`].
    pub const fn new(wake: fn(), pause: fn()) -> Self {
        Self {
            storm: storm::Shared::new(),
            runs: [const { AtomicU64::new(0) }; storm::MAX_CPUS],
            go: AtomicBool::new(false),
            reports: [const { spin::Mutex::new(None) }; storm::MAX_CPUS],
            wake,
            pause,
        }
    }
}

/// Runs CPU `slot`'s rounds with its RecRun page `run`; stores its report.
pub fn cpu<C: Conduit, M: HostMemory>(
    rmi: &mut RmiClient<C>,
    mem: &mut M,
    stage: &Stage,
    slot: usize,
    run: u64,
) {
    let mut h = Host::new(rmi, mem);
    let cfg = storm::CpuConfig {
        cpu: slot,
        rounds: ROUNDS,
        run,
        seed: storm::SEED,
    };
    let report = storm::run_cpu(&mut h, &stage.storm, cfg, stage.pause);
    if let Some(r) = stage.reports.get(slot) {
        *r.lock() = Some(report);
    }
}

/// A secondary CPU's part: waits (bounded) for the primary's go, runs its rounds if it has a
/// RecRun page.
pub fn secondary<C: Conduit, M: HostMemory>(
    rmi: &mut RmiClient<C>,
    mem: &mut M,
    stage: &Stage,
    slot: usize,
) {
    for _ in 0..storm::WAIT_LIMIT {
        if stage.go.load(Ordering::Acquire) {
            break;
        }
        (stage.pause)();
    }
    let run = stage
        .runs
        .get(slot)
        .map_or(0, |r| r.load(Ordering::Acquire));
    if stage.go.load(Ordering::Acquire) && run != 0 {
        cpu(rmi, mem, stage, slot, run);
    }
}

/// The storm on the first [`storm::MAX_CPUS`] of `slots` CPUs (granules from `pool`): builds the realms, runs every
/// CPU's rounds, tears down, and logs the figures; true if every answer was allowed, every
/// CPU came back and the census matches.
pub fn run<C: Conduit, M: HostMemory>(
    rmi: &mut RmiClient<C>,
    mem: &mut M,
    pool: &mut Pool,
    image: &[u8],
    stage: &Stage,
    slots: usize,
) -> bool {
    let cpus = slots.min(storm::MAX_CPUS);
    let realms = match storm::setup(&mut Host::new(rmi, mem), pool, &stage.storm, image, 40) {
        Ok(r) => r,
        Err(f) => {
            log::error!(
                "storm: FAIL: setup: {=str}: got {=u64:#x}, expected {=u64:#x}",
                f.step,
                f.got.raw(),
                f.want.raw()
            );
            return false;
        }
    };
    for (i, r) in stage.runs.iter().enumerate().take(cpus) {
        let Ok(run) = pool.take(1) else {
            log::error!("storm: FAIL: no RecRun page for cpu {}", i);
            return false;
        };
        Host::new(rmi, mem).write_page(run, &[0; GRANULE_SIZE]);
        r.store(run, Ordering::Release);
    }
    log::info!(
        "storm: seed {=u64:#x}, {} CPUs, {=u64} rounds each, 2 realms with REC 0 in the payload's storm mode, {} slots of {} pages per realm, a pool of {} granules",
        storm::SEED,
        cpus,
        ROUNDS,
        storm::SLOTS,
        storm::SLOT_PAGES,
        storm::GRANULES
    );
    stage.go.store(true, Ordering::Release);
    (stage.wake)();
    cpu(rmi, mem, stage, 0, stage.runs[0].load(Ordering::Acquire));
    let all_back = storm::wait_for_cpus(&stage.storm, cpus, stage.pause);
    let mut ok = all_back;
    let mut total = storm::Counts::default();
    for (cpu, slot) in stage.reports.iter().enumerate().take(cpus) {
        let report = slot.lock().take();
        let Some(r) = report else {
            log::error!(
                "storm: FAIL: cpu {} never came back (rounds: {})",
                cpu,
                stage.storm.rounds_of(cpu).unwrap_or(0)
            );
            ok = false;
            continue;
        };
        let c = &r.counts;
        log::info!(
            "storm: cpu {} ran {=u64} rounds: {} RMI calls, {} REC entries (realm A's REC {}, realm B's {}), {} intrusions on running RECs, {} rounds found the token or slot taken, {} violations",
            cpu,
            c.rounds,
            c.total_calls(),
            c.entries,
            c.entries_by_realm[0],
            c.entries_by_realm[1],
            c.intrusions,
            c.busy,
            c.violations
        );
        if let Some(v) = r.first {
            log::error!(
                "storm: FAIL: cpu {} round {=u64}: {=str}: {=str} answered {=u64:#x} (allowed statuses {=u8:#07b})",
                cpu,
                v.round,
                v.what,
                v.cmd.name(),
                v.got.raw(),
                v.allowed
            );
            ok = false;
        }
        total.add(c);
    }
    if !all_back {
        log::error!("storm: FAIL: not every CPU reported its rounds; no teardown");
        return false;
    }
    log::info!(
        "storm: {=u64} rounds, {} RMI calls, {} REC entries ({} by an intrusion), {} intrusions on running RECs",
        total.rounds,
        total.total_calls(),
        total.entries,
        total.intruder_entries,
        total.intrusions
    );
    for (cmd, row) in COMMANDS.iter().zip(total.calls.iter()) {
        log::info!(
            "storm: {=str}: {=str} {}, {=str} {}, {=str} {}, {=str} {}, {=str} {}, {=str} {}",
            cmd.name(),
            STATUS_NAMES[0],
            row[0],
            STATUS_NAMES[1],
            row[1],
            STATUS_NAMES[2],
            row[2],
            STATUS_NAMES[3],
            row[3],
            STATUS_NAMES[4],
            row[4],
            STATUS_NAMES[5],
            row[5]
        );
    }
    for (name, n) in EXIT_NAMES.iter().zip(total.exits.iter()) {
        if *n != 0 {
            log::info!("storm: exits {=str}: {}", name, n);
        }
    }
    if !ok {
        return false;
    }
    match storm::teardown(&mut Host::new(rmi, mem), &stage.storm, &realms) {
        Ok(c) => {
            log::info!(
                "storm: census: {} granules delegated, {} undelegated (each GRANULE_UNDELEGATE SUCCESS); {=u64} bursts, {=u64} memory errors; {} RECs destroyed by an intrusion",
                c.delegated,
                c.undelegated,
                c.bursts,
                c.memory_errors,
                c.recs_destroyed
            );
            let pass = c.delegated == c.undelegated && c.memory_errors == 0;
            log::info!("storm: {=str}", if pass { "PASS" } else { "FAIL" });
            pass
        }
        Err(f) => {
            log::error!(
                "storm: FAIL: teardown: {=str}: got {=u64:#x}, expected {=u64:#x}",
                f.step,
                f.got.raw(),
                f.want.raw()
            );
            false
        }
    }
}
