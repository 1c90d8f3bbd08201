//! The granule lock protocol under a model checker: `loom` runs two threads through the
//! acquisition patterns of the RMI commands on overlapping granules and explores every
//! interleaving (up to a bound on preemptions), and shows that none deadlocks and that no two
//! threads are ever inside the same granule's critical section at once. (Three threads of spin
//! locks do not terminate under loom: two waiters may take turns spinning forever, which loom
//! cannot tell from progress. A deadlock needs a cycle of waits, and every cycle of two is
//! covered here; three threads run under shuttle's seeded PCT scheduler in
//! `lock_protocol_shuttle.rs`, and the order argument below covers longer cycles.)
//!
//! The order argument: a command waits while holding a lock only (a) for a granule above every
//! one it holds (`lock_two`, `lock_many`, REC_ENTER's wait for an RD above its REC), or (b) for a
//! child of an RD it holds: an RTT, DATA or aux granule in its expected state, which only
//! commands holding that RD lock in that state and hold while waiting (a command that takes such
//! a granule expecting DELEGATED, in (a), finds the wrong state and releases it at once). Waits
//! of kind (a) cannot close a cycle among themselves; a wait of kind (b) is for a holder that
//! holds the same RD, which the waiter holds: impossible. So no cycle of any length exists, and
//! the two-thread models check that the code does what the argument assumes.
//!
//! The code checked is the RMM's own: `src/granule/entry.rs` and `src/granule/table.rs` are
//! compiled again here, inside a module whose `atomic` is loom's (the granule module reaches its
//! atomics and `spin_loop` through `super::atomic`, which is `core`'s in the RMM), so `lock`,
//! `try_lock`, `lock_two` and `lock_many` are exactly the firmware's. The commands' orders are
//! copied from their handlers (which need the whole RMM context to run):
//!
//! - REC_ENTER (`rmi/rec_enter.rs`, `lock_rd_and_rec`): the REC, then its RD: waited for if it
//!   lies above the REC; below it, one `try_lock`, and if that fails the REC is let go and both
//!   are taken with `lock_two`.
//! - REC_DESTROY (`rmi/rec.rs`): the REC alone (to read its owner), released; RD and REC with
//!   `lock_two`; then each aux granule, waited for while both are held.
//! - RTT_DESTROY, RTT_FOLD, DATA_DESTROY (`rmi/rtt.rs`, `rmi/data.rs`): the RD, then the child
//!   table or DATA granule, waited for whatever its address.
//! - RTT_CREATE, DATA_CREATE, RTT_SET_RIPAS (RD and REC), PSCI_COMPLETE (two RECs): `lock_two`.
//! - REC_CREATE: `lock_many` (RD, REC, aux granules in ascending order).
//!
//! Mutual exclusion is checked by loom itself: each granule's "contents" are a `loom::cell`
//! written only under that granule's lock, and loom fails the model if two writes are not
//! ordered by happens-before (a lock that let two threads in, or a release that does not
//! publish). A deadlock of spin locks shows as threads that yield forever: loom stops such an
//! execution at its branch limit and fails the model. The last tests are the tests of the test:
//! the order REC_ENTER would have without its `try_lock` (the REC, then the RD below it, waited
//! for) deadlocks against REC_DESTROY and is caught, and so is a write outside the lock.

use loom::cell::UnsafeCell;
use loom::model::Builder;
use loom::sync::atomic::AtomicU16;
use loom::thread;

// The firmware's granule module, over loom's atomics: `entry.rs` and `table.rs` reach their
// atomics through `super::atomic`, their sibling through `super::entry`, the state through
// `super::GranuleState` and the bank limit through `crate::boot`, all supplied here.

mod atomic {
    pub use loom::hint::spin_loop;
    pub use loom::sync::atomic::{AtomicU16, Ordering};
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

/// The table and the granules' contents, shared by the model's threads (leaked: loom's threads
/// must be `'static`, and every execution builds its own).
struct World {
    table: GranuleTable<'static>,
    contents: Vec<UnsafeCell<u64>>,
}

// SAFETY: the contents are written only through `touch`, each under its granule's lock (or, in
// the test that shows loom catching it, deliberately not), and loom checks every access.
unsafe impl Sync for World {}

impl World {
    /// A table over [`GRANULES`] granules, each in the state `states` gives it.
    fn new(states: &[(u64, S)]) -> &'static World {
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
        let contents = (0..GRANULES).map(|_| UnsafeCell::new(0)).collect();
        Box::leak(Box::new(World { table, contents }))
    }

    /// The critical section: writes the locked granule's contents (loom checks that no other
    /// thread's write to them is concurrent).
    fn touch(&self, g: &Locked<'_>) {
        self.touch_unlocked(g.pa());
    }

    /// Writes granule `pa`'s contents whether or not its lock is held.
    fn touch_unlocked(&self, pa: u64) {
        let i = ((pa - BASE) / G) as usize;
        self.contents[i].with_mut(|c| {
            // SAFETY: loom's cell: the pointer is valid for the closure, and loom reports any
            // access not ordered with this one.
            unsafe { *c += 1 }
        });
    }

    /// How many critical sections granule `i` saw.
    fn count(&self, i: u64) -> u64 {
        // SAFETY: as in `touch_unlocked`; called after every thread was joined.
        self.contents[i as usize].with(|c| unsafe { *c })
    }
}

/// Explores every interleaving of `threads` (each given the world), up to `preemptions`
/// preemptions, then checks each granule saw `expected[i]` critical sections.
fn check(
    preemptions: usize,
    states: &'static [(u64, S)],
    threads: Vec<fn(&'static World)>,
    expected: &'static [(u64, u64)],
) {
    let mut b = Builder::new();
    b.preemption_bound = Some(preemptions);
    b.check(move || {
        let threads = threads.clone();
        // The table's bank list is kilobytes: everything runs on threads with stacks of a size
        // chosen here (loom's default for its main thread is smaller).
        spawn(move || {
            let w = World::new(states);
            let handles: Vec<_> = threads.iter().map(|&f| spawn(move || f(w))).collect();
            for h in handles {
                h.join().expect("a thread of the model");
            }
            for &(i, n) in expected {
                assert_eq!(w.count(i), n, "critical sections on granule {i}");
            }
        })
        .join()
        .expect("the model's main thread");
    });
}

/// A loom thread with a stack big enough for the table in a debug build.
fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> thread::JoinHandle<T> {
    thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .expect("a loom thread")
}

#[test]
fn rec_enter_and_rec_destroy_with_the_rd_below_the_rec() {
    check(
        3,
        RD_BELOW,
        vec![|w| rec_enter(w, pa(REC_A), pa(RD_LOW)), |w| {
            rec_destroy(w, pa(REC_A), pa(RD_LOW), &[pa(AUX_A)])
        }],
        &[(RD_LOW, 2), (REC_A, 3), (AUX_A, 1)],
    );
}

#[test]
fn rec_enter_and_rec_destroy_with_the_rd_above_the_rec() {
    check(
        3,
        RD_ABOVE,
        vec![|w| rec_enter(w, pa(REC_A), pa(RD_HIGH)), |w| {
            rec_destroy(w, pa(REC_A), pa(RD_HIGH), &[pa(AUX_A)])
        }],
        &[(RD_HIGH, 2), (REC_A, 3), (AUX_A, 1)],
    );
}

#[test]
fn rec_enter_and_psci_complete_on_the_same_rec() {
    check(
        3,
        RD_BELOW,
        vec![|w| rec_enter(w, pa(REC_A), pa(RD_LOW)), |w| {
            two(w, (pa(REC_A), S::Rec), (pa(REC_B), S::Rec))
        }],
        &[(RD_LOW, 1), (REC_A, 2), (REC_B, 1)],
    );
}

#[test]
fn rec_enter_and_set_ripas_with_the_rd_below() {
    check(
        3,
        RD_BELOW,
        vec![|w| rec_enter(w, pa(REC_A), pa(RD_LOW)), |w| {
            two(w, (pa(RD_LOW), S::Rd), (pa(REC_A), S::Rec))
        }],
        &[(RD_LOW, 2), (REC_A, 2)],
    );
}

#[test]
fn rec_enter_and_an_rtt_destroy_below_the_rd() {
    check(
        3,
        RD_BELOW,
        vec![|w| rec_enter(w, pa(REC_A), pa(RD_LOW)), |w| {
            rd_then_child(w, pa(RD_LOW), pa(RTT_LOW), S::Rtt)
        }],
        &[(RD_LOW, 2), (REC_A, 1), (RTT_LOW, 1)],
    );
}

#[test]
fn rec_destroy_and_a_rec_create_naming_its_aux_granule() {
    // REC_DESTROY waits for each aux granule while it holds the RD and the REC, out of address
    // order. A REC_CREATE (a hostile host's) naming that aux granule as one of its own takes it
    // first in its ascending order, but finds it in the wrong state and lets it go at once: no
    // command holds an aux granule's lock while it waits for anything.
    check(
        3,
        RD_ABOVE,
        vec![
            |w| rec_destroy(w, pa(REC_A), pa(RD_HIGH), &[pa(AUX_A)]),
            |w| {
                many(
                    w,
                    &[
                        (pa(RD_HIGH), S::Rd),
                        (pa(NEW), S::Delegated),
                        (pa(AUX_A), S::Delegated),
                    ],
                )
            },
        ],
        &[(RD_HIGH, 1), (REC_A, 2), (AUX_A, 1), (NEW, 0)],
    );
}

#[test]
fn the_checker_catches_rec_then_rd_below_waited_for() {
    // REC_ENTER's order without the try_lock, against REC_DESTROY's lock_two (RD first, as it
    // lies below): each thread holds what the other waits for.
    let msg = failure_of(|| {
        check(
            2,
            RD_BELOW,
            vec![|w| rec_enter_wrong_order(w, pa(REC_A), pa(RD_LOW)), |w| {
                rec_destroy(w, pa(REC_A), pa(RD_LOW), &[])
            }],
            &[],
        )
    });
    assert!(
        msg.contains("maximum number of branches"),
        "the deadlock was not caught: {msg:?}"
    );
}

#[test]
fn the_checker_catches_an_aux_granule_held_while_waiting_for_the_rd() {
    // Were any command to hold an aux granule (below the RD) while waiting for the RD, as a
    // `lock_many` expecting the aux state would, it would deadlock against REC_DESTROY.
    let msg = failure_of(|| {
        check(
            2,
            RD_ABOVE,
            vec![
                |w| rec_destroy(w, pa(REC_A), pa(RD_HIGH), &[pa(AUX_A)]),
                |w| many(w, &[(pa(RD_HIGH), S::Rd), (pa(AUX_A), S::RecAux)]),
            ],
            &[],
        )
    });
    assert!(
        msg.contains("maximum number of branches"),
        "the deadlock was not caught: {msg:?}"
    );
}

#[test]
fn the_same_order_is_fine_when_the_rd_lies_above() {
    // REC then RD is the address order there: the wrong-order function deadlocks only below.
    check(
        3,
        RD_ABOVE,
        vec![|w| rec_enter_wrong_order(w, pa(REC_A), pa(RD_HIGH)), |w| {
            rec_destroy(w, pa(REC_A), pa(RD_HIGH), &[])
        }],
        &[(RD_HIGH, 2), (REC_A, 3)],
    );
}

#[test]
fn the_checker_catches_a_write_outside_the_lock() {
    let msg = failure_of(|| {
        check(
            2,
            RD_BELOW,
            vec![|w| rec_enter(w, pa(REC_A), pa(RD_LOW)), |w| {
                w.touch_unlocked(pa(REC_A))
            }],
            &[],
        )
    });
    assert!(
        msg.contains("Causality violation"),
        "the race was not caught: {msg:?}"
    );
}
