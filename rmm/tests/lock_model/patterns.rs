//! The acquisition patterns of the RMI commands and the granule layouts the lock-protocol models
//! run them on, shared by the loom models (`lock_protocol.rs`) and the shuttle ones
//! (`lock_protocol_shuttle.rs`): each test crate supplies `World` (the table and the critical
//! section's check) and the granule module compiled over its checker's atomics.

#![allow(dead_code)]

use crate::entry::GranuleState as S;
use crate::World;

pub const G: u64 = 0x1000;
pub const BASE: u64 = 0x8000_0000;
/// Granules tracked in each model.
pub const GRANULES: u64 = 8;

/// Granule `i` of the model's bank.
pub const fn pa(i: u64) -> u64 {
    BASE + i * G
}

/// REC_ENTER's `lock_rd_and_rec`: the REC, then its RD (waited for above the REC, tried once
/// below it, falling back to both in address order).
pub fn rec_enter(w: &World, rec: u64, rd: u64) {
    let rec_g = w.table.lock(rec, S::Rec).expect("a REC");
    let (rd_g, rec_g) = if rd > rec {
        (w.table.lock(rd, S::Rd).expect("an RD"), rec_g)
    } else {
        match w.table.try_lock(rd, S::Rd).expect("an RD") {
            Some(rd_g) => (rd_g, rec_g),
            None => {
                drop(rec_g);
                w.table
                    .lock_two((rd, S::Rd), (rec, S::Rec))
                    .expect("RD and REC")
            }
        }
    };
    w.touch(&rd_g);
    w.touch(&rec_g);
}

/// What REC_ENTER would do without its `try_lock`: the REC, then the RD waited for wherever it
/// lies. Deadlocks against REC_DESTROY when the RD is below the REC.
pub fn rec_enter_wrong_order(w: &World, rec: u64, rd: u64) {
    let rec_g = w.table.lock(rec, S::Rec).expect("a REC");
    let rd_g = w.table.lock(rd, S::Rd).expect("an RD");
    w.touch(&rd_g);
    w.touch(&rec_g);
}

/// REC_DESTROY: the REC alone (its owner read), released; RD and REC in address order; then all
/// its aux granules together (`lock_many`) while both are held (rmi/rec.rs `destroy`).
pub fn rec_destroy(w: &World, rec: u64, rd: u64, aux: &[u64]) {
    {
        let g = w.table.lock(rec, S::Rec).expect("a REC");
        w.touch(&g);
    }
    let (rd_g, rec_g) = w
        .table
        .lock_two((rd, S::Rd), (rec, S::Rec))
        .expect("RD and REC");
    w.touch(&rd_g);
    w.touch(&rec_g);
    let mut wanted = [(0, S::RecAux); 16];
    for (slot, &a) in wanted.iter_mut().zip(aux) {
        *slot = (a, S::RecAux);
    }
    let set = w
        .table
        .lock_many(&wanted[..aux.len()])
        .expect("the aux granules");
    for g in set.iter() {
        w.touch(g);
    }
}

/// RTT_DESTROY / RTT_FOLD / DATA_DESTROY: the RD, then the child (state `child_state`) waited for
/// wherever it lies.
pub fn rd_then_child(w: &World, rd: u64, child: u64, child_state: S) {
    let rd_g = w.table.lock(rd, S::Rd).expect("an RD");
    w.touch(&rd_g);
    let c = w.table.lock(child, child_state).expect("the child");
    w.touch(&c);
}

/// RTT_CREATE, DATA_CREATE, RTT_SET_RIPAS, PSCI_COMPLETE: two granules with `lock_two`.
pub fn two(w: &World, a: (u64, S), b: (u64, S)) {
    let (ga, gb) = w.table.lock_two(a, b).expect("both");
    w.touch(&ga);
    w.touch(&gb);
}

/// REC_CREATE: every granule with `lock_many` (ascending order, returned in argument order); a
/// granule in another state than the one asked for fails the command (released at once).
pub fn many(w: &World, wanted: &[(u64, S)]) {
    if let Ok(set) = w.table.lock_many(wanted) {
        for g in &set {
            w.touch(g);
        }
    }
}

// Granule numbers of the layouts below.
pub const RD_LOW: u64 = 1;
pub const REC_A: u64 = 3;
pub const REC_B: u64 = 5;
pub const RD_HIGH: u64 = 6;
pub const RTT_LOW: u64 = 0;
pub const AUX_A: u64 = 2;
pub const AUX_B: u64 = 4;
pub const NEW: u64 = 7;

/// A realm whose RD lies below its RECs, a table below the RD, aux granules between.
pub const RD_BELOW: &[(u64, S)] = &[
    (RD_LOW, S::Rd),
    (REC_A, S::Rec),
    (REC_B, S::Rec),
    (RTT_LOW, S::Rtt),
    (AUX_A, S::RecAux),
    (AUX_B, S::RecAux),
    (NEW, S::Delegated),
];

/// The same with the RD above the RECs.
pub const RD_ABOVE: &[(u64, S)] = &[
    (RD_HIGH, S::Rd),
    (REC_A, S::Rec),
    (REC_B, S::Rec),
    (RTT_LOW, S::Rtt),
    (AUX_A, S::RecAux),
    (AUX_B, S::RecAux),
    (NEW, S::Delegated),
];

/// Runs a model expected to fail; returns the checker's panic message (empty if it passed).
pub fn failure_of(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(f);
    std::panic::set_hook(hook);
    match r {
        Ok(()) => String::new(),
        Err(e) => e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".into()),
    }
}
