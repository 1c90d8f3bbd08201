//! The granule lock protocol with three threads, under `shuttle`'s PCT scheduler (probabilistic
//! concurrency testing: random priorities and a few random priority change points per run, which
//! finds any bug of depth up to the one given with a known probability per run), seeded, so
//! every run explores the same schedules. Loom (`lock_protocol.rs`) explores every interleaving of
//! two threads but cannot finish with three spinning threads; shuttle's schedulers treat a spin's
//! yield as a hint to run someone else, so three threads run to the end.
//!
//! As in the loom models, `src/granule/entry.rs` and `src/granule/table.rs` are compiled again
//! here over the checker's atomics, and the commands' acquisition orders are those of
//! `lock_model/patterns.rs`. Mutual exclusion is checked explicitly: each critical section counts
//! itself in and out of its granule (an atomic, so a scheduling point: the checker may switch
//! threads inside) and fails if it finds another thread already in. A deadlock of spin locks shows
//! as an execution that exceeds the step bound. The tests of the test: REC_ENTER's order without
//! its `try_lock`, and a write outside the lock, are caught.

use shuttle::scheduler::PctScheduler;
use shuttle::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use shuttle::{thread, Config, MaxSteps, Runner};

mod atomic {
    pub use shuttle::hint::spin_loop;
    pub use shuttle::sync::atomic::{AtomicU16, Ordering};
}

#[allow(dead_code)]
#[path = "../src/granule/entry.rs"]
mod entry;
#[allow(dead_code)]
#[path = "../src/granule/table.rs"]
mod table;

use entry::GranuleState;
use entry::GranuleState as S;
use hostcall_abi::el3::MemoryBank;
use table::{GranuleTable, Locked};

#[path = "lock_model/patterns.rs"]
mod patterns;
use patterns::*;

/// The PCT runs per test, their depth, and the seed of their schedules.
const RUNS: usize = 3000;
const DEPTH: usize = 3;
const SEED: u64 = 0x10C4_5EED;
/// Steps one run may take (the models take a few hundred): past it, a deadlock.
const MAX_STEPS: usize = 20_000;

/// The table, and per granule the threads inside its critical section and how many were.
struct World {
    table: GranuleTable<'static>,
    inside: Vec<AtomicU32>,
    sections: Vec<AtomicU32>,
}

impl World {
    fn new(states: &[(u64, GranuleState)]) -> &'static World {
        let banks = [MemoryBank {
            base: BASE,
            size: GRANULES * G,
        }];
        let storage: Vec<AtomicU16> = (0..GRANULES).map(|_| AtomicU16::new(0)).collect();
        let storage: &'static [AtomicU16] = Box::leak(storage.into_boxed_slice());
        let table = GranuleTable::new(&banks, storage).expect("the storage fits");
        for &(i, s) in states {
            table.lock_any(pa(i)).expect("tracked").set_state(s);
        }
        Box::leak(Box::new(World {
            table,
            inside: (0..GRANULES).map(|_| AtomicU32::new(0)).collect(),
            sections: (0..GRANULES).map(|_| AtomicU32::new(0)).collect(),
        }))
    }

    /// The critical section of the locked granule.
    fn touch(&self, g: &Locked<'_>) {
        self.touch_unlocked(g.pa());
    }

    /// A critical section of granule `pa` whether or not its lock is held: fails if another
    /// thread is inside, and lets the checker switch threads while this one is.
    fn touch_unlocked(&self, pa: u64) {
        let i = ((pa - BASE) / G) as usize;
        let before = self.inside[i].fetch_add(1, Ordering::SeqCst);
        assert_eq!(
            before, 0,
            "two threads inside granule {i}'s critical section"
        );
        thread::yield_now();
        self.inside[i].fetch_sub(1, Ordering::SeqCst);
        self.sections[i].fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs `threads` on the world under [`RUNS`] seeded PCT schedules, then checks each granule saw
/// `expected[i]` critical sections.
fn check(
    states: &'static [(u64, GranuleState)],
    threads: Vec<fn(&'static World)>,
    expected: &'static [(u64, u32)],
) {
    let mut config = Config::new();
    config.stack_size = 1 << 20;
    config.max_steps = MaxSteps::FailAfter(MAX_STEPS);
    let runner = Runner::new(PctScheduler::new_from_seed(SEED, DEPTH, RUNS), config);
    runner.run(move || {
        let w = World::new(states);
        let handles: Vec<_> = threads
            .iter()
            .map(|&f| thread::spawn(move || f(w)))
            .collect();
        for h in handles {
            h.join().expect("a thread of the model");
        }
        for &(i, n) in expected {
            assert_eq!(
                w.sections[i as usize].load(Ordering::SeqCst),
                n,
                "critical sections on granule {i}"
            );
        }
    });
}

#[test]
fn two_rec_enters_and_an_rtt_destroy_below_the_rd() {
    check(
        RD_BELOW,
        vec![
            |w| rec_enter(w, pa(REC_A), pa(RD_LOW)),
            |w| rec_enter(w, pa(REC_B), pa(RD_LOW)),
            |w| rd_then_child(w, pa(RD_LOW), pa(RTT_LOW), S::Rtt),
        ],
        &[(RD_LOW, 3), (REC_A, 1), (REC_B, 1), (RTT_LOW, 1)],
    );
}

#[test]
fn rec_enter_psci_complete_and_set_ripas_on_overlapping_recs() {
    check(
        RD_BELOW,
        vec![
            |w| rec_enter(w, pa(REC_A), pa(RD_LOW)),
            |w| two(w, (pa(REC_A), S::Rec), (pa(REC_B), S::Rec)),
            |w| two(w, (pa(RD_LOW), S::Rd), (pa(REC_B), S::Rec)),
        ],
        &[(RD_LOW, 2), (REC_A, 2), (REC_B, 2)],
    );
}

#[test]
fn rec_destroy_rec_enter_and_rtt_create_with_the_rd_above() {
    check(
        RD_ABOVE,
        vec![
            |w| rec_destroy(w, pa(REC_B), pa(RD_HIGH), &[pa(AUX_B)]),
            |w| rec_enter(w, pa(REC_B), pa(RD_HIGH)),
            |w| two(w, (pa(RD_HIGH), S::Rd), (pa(NEW), S::Delegated)),
        ],
        &[(RD_HIGH, 3), (REC_B, 3), (AUX_B, 1), (NEW, 1)],
    );
}

#[test]
fn rec_destroy_rec_enter_and_a_data_destroy_with_the_rd_below() {
    check(
        RD_BELOW,
        vec![
            |w| rec_destroy(w, pa(REC_A), pa(RD_LOW), &[pa(AUX_A)]),
            |w| rec_enter(w, pa(REC_A), pa(RD_LOW)),
            |w| rd_then_child(w, pa(RD_LOW), pa(RTT_LOW), S::Rtt),
        ],
        &[(RD_LOW, 3), (REC_A, 3), (AUX_A, 1), (RTT_LOW, 1)],
    );
}

#[test]
fn rec_create_psci_complete_and_rec_enter() {
    check(
        RD_BELOW,
        vec![
            |w| many(w, &[(pa(RD_LOW), S::Rd), (pa(NEW), S::Delegated)]),
            |w| two(w, (pa(REC_B), S::Rec), (pa(REC_A), S::Rec)),
            |w| rec_enter(w, pa(REC_A), pa(RD_LOW)),
        ],
        &[(RD_LOW, 2), (NEW, 1), (REC_A, 2), (REC_B, 1)],
    );
}

#[test]
fn the_checker_catches_rec_then_rd_below_waited_for_among_three() {
    let msg = failure_of(|| {
        check(
            RD_BELOW,
            vec![
                |w| rec_enter_wrong_order(w, pa(REC_A), pa(RD_LOW)),
                |w| rec_destroy(w, pa(REC_A), pa(RD_LOW), &[]),
                |w| two(w, (pa(REC_A), S::Rec), (pa(REC_B), S::Rec)),
            ],
            &[],
        )
    });
    assert!(
        msg.contains("exceeded max_steps"),
        "the deadlock was not caught: {msg:?}"
    );
}

#[test]
fn the_checker_catches_a_write_outside_the_lock() {
    let msg = failure_of(|| {
        check(
            RD_BELOW,
            vec![
                |w| rec_enter(w, pa(REC_A), pa(RD_LOW)),
                |w| two(w, (pa(REC_A), S::Rec), (pa(REC_B), S::Rec)),
                |w| w.touch_unlocked(pa(REC_B)),
            ],
            &[],
        )
    });
    assert!(
        msg.contains("two threads inside"),
        "the race was not caught: {msg:?}"
    );
}
