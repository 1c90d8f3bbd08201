//! The tracking table: sizing, address lookup across banks, locks, states and references.

use super::*;
use crate::sim::leak_storage;
use hostcall_abi::el3::MemoryBank;

const GIB: u64 = 1 << 30;

fn table(banks: &[MemoryBank]) -> GranuleTable<'static> {
    let words = GranuleTable::words_needed(banks).expect("size");
    GranuleTable::new(banks, leak_storage(words)).expect("fits")
}

#[test]
fn two_bytes_per_granule() {
    assert_eq!(TRACKING_BYTES_PER_GRANULE, 2);
    let banks = [MemoryBank {
        base: 0x4000_0000,
        size: 3 * GIB,
    }];
    assert_eq!(GranuleTable::words_needed(&banks), Some(786_432));
}

#[test]
fn storage_too_small_is_refused() {
    let banks = [MemoryBank {
        base: 0x4000_0000,
        size: 0x10_0000,
    }];
    assert!(GranuleTable::new(&banks, leak_storage(255)).is_none());
    assert!(GranuleTable::new(&banks, leak_storage(256)).is_some());
}

#[test]
fn lookup_across_banks_and_holes() {
    let banks = [
        MemoryBank {
            base: 0x8000_0000,
            size: 0x2000,
        },
        MemoryBank {
            base: 0x8_8000_0000,
            size: 0x3000,
        },
    ];
    let t = table(&banks);
    assert_eq!(t.len(), 5);
    for pa in [0x8000_0000, 0x8000_1000, 0x8_8000_0000, 0x8_8000_2000] {
        assert!(t.is_delegable(pa), "{pa:#x}");
    }
    for pa in [
        0x7FFF_F000,
        0x8000_2000,
        0x8_7FFF_F000,
        0x8_8000_3000,
        0,
        !0xFFF,
    ] {
        assert!(!t.is_delegable(pa), "{pa:#x}");
    }
    assert_eq!(t.peek(0x8000_0800), Err(LockError::Unaligned));
    // Each granule has its own word: changing one leaves its neighbours alone.
    t.lock(0x8_8000_1000, GranuleState::Undelegated)
        .expect("lock")
        .set_state(GranuleState::Rtt);
    assert_eq!(t.peek(0x8_8000_1000), Ok((GranuleState::Rtt, 0)));
    assert_eq!(t.peek(0x8_8000_0000), Ok((GranuleState::Undelegated, 0)));
    assert_eq!(t.peek(0x8000_1000), Ok((GranuleState::Undelegated, 0)));
}

#[test]
fn one_tib_of_dram_in_many_banks() {
    // 1 TiB as 16 banks of 64 GiB with holes between them: 512 MiB of tracking, no cap.
    let banks: Vec<MemoryBank> = (0..16u64)
        .map(|i| MemoryBank {
            base: (1 << 42) + i * 128 * GIB,
            size: 64 * GIB,
        })
        .collect();
    let t = table(&banks);
    assert_eq!(t.len() as u64, (1u64 << 40) >> 12);
    let last = banks[15].base + banks[15].size - 0x1000;
    t.lock(last, GranuleState::Undelegated)
        .expect("lock")
        .set_state(GranuleState::Data);
    assert_eq!(t.peek(last), Ok((GranuleState::Data, 0)));
    assert!(!t.is_delegable(banks[15].base + banks[15].size));
    assert!(
        !t.is_delegable(banks[0].base + 64 * GIB),
        "hole between banks"
    );
}

#[test]
fn every_state_round_trips_with_references() {
    let t = table(&[MemoryBank {
        base: 0x1000,
        size: 0x1000,
    }]);
    let states = [
        GranuleState::Undelegated,
        GranuleState::Delegated,
        GranuleState::Rd,
        GranuleState::Rec,
        GranuleState::RecAux,
        GranuleState::Data,
        GranuleState::Rtt,
    ];
    for (i, s) in states.into_iter().enumerate() {
        let mut g = t.lock_any(0x1000).expect("lock");
        g.set_state(s);
        for _ in 0..i {
            assert!(g.get_ref());
        }
        drop(g);
        assert_eq!(t.peek(0x1000), Ok((s, i as u16)));
        let mut g = t.lock(0x1000, s).expect("expected state");
        for _ in 0..i {
            assert!(g.put_ref());
        }
    }
}

#[test]
fn refcount_saturates_without_corrupting_state() {
    let t = table(&[MemoryBank {
        base: 0x1000,
        size: 0x1000,
    }]);
    let mut g = t.lock_any(0x1000).expect("lock");
    g.set_state(GranuleState::Rtt);
    for _ in 0..MAX_REFCOUNT {
        assert!(g.get_ref());
    }
    assert!(!g.get_ref());
    assert_eq!((g.state(), g.refcount()), (GranuleState::Rtt, MAX_REFCOUNT));
    for _ in 0..MAX_REFCOUNT {
        assert!(g.put_ref());
    }
    assert!(!g.put_ref());
    assert_eq!((g.state(), g.refcount()), (GranuleState::Rtt, 0));
}

#[test]
fn wrong_state_is_reported_and_releases_the_lock() {
    let t = table(&[MemoryBank {
        base: 0x1000,
        size: 0x2000,
    }]);
    assert_eq!(
        t.lock(0x1000, GranuleState::Rd).err(),
        Some(LockError::WrongState(GranuleState::Undelegated))
    );
    // Not left locked: this would spin forever otherwise.
    assert!(t.lock(0x1000, GranuleState::Undelegated).is_ok());
}

#[test]
fn lock_two_orders_and_rejects_aliases() {
    let t = table(&[MemoryBank {
        base: 0x1000,
        size: 0x2000,
    }]);
    let (a, b) = t
        .lock_two(
            (0x2000, GranuleState::Undelegated),
            (0x1000, GranuleState::Undelegated),
        )
        .expect("two locks");
    assert_eq!((a.pa(), b.pa()), (0x2000, 0x1000));
    drop((a, b));
    let alias = t.lock_two(
        (0x1000, GranuleState::Undelegated),
        (0x1000, GranuleState::Undelegated),
    );
    assert_eq!(alias.err(), Some(LockError::Alias));
    let bad = t.lock_two(
        (0x1000, GranuleState::Undelegated),
        (0x9000, GranuleState::Undelegated),
    );
    assert_eq!(bad.err(), Some(LockError::NotDelegable));
}

#[test]
fn locks_exclude_other_threads() {
    // Eight threads increment one granule's reference count under its lock: no update is lost.
    let t = table(&[MemoryBank {
        base: 0x1000,
        size: 0x1000,
    }]);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..500 {
                    let mut g = t.lock_any(0x1000).expect("lock");
                    let before = g.refcount();
                    std::hint::spin_loop();
                    if before < 4000 {
                        assert!(g.get_ref());
                    }
                }
            });
        }
    });
    assert_eq!(t.peek(0x1000), Ok((GranuleState::Undelegated, 4000)));
}

#[test]
fn try_lock_takes_a_free_lock_only_and_checks_the_state() {
    let t = table(&[MemoryBank {
        base: 0x4000_0000,
        size: 0x10_0000,
    }]);
    let pa = 0x4000_3000;
    {
        let g = t
            .try_lock(pa, GranuleState::Undelegated)
            .expect("tracked")
            .expect("free");
        assert_eq!(g.pa(), pa);
        assert!(
            matches!(t.try_lock(pa, GranuleState::Undelegated), Ok(None)),
            "held: no wait, no lock"
        );
    }
    assert_eq!(
        t.try_lock(pa, GranuleState::Rd).err(),
        Some(LockError::WrongState(GranuleState::Undelegated))
    );
    assert!(
        t.try_lock(pa, GranuleState::Undelegated)
            .expect("tracked")
            .is_some(),
        "the wrong-state attempt let the lock go"
    );
    assert_eq!(
        t.try_lock(pa + 8, GranuleState::Undelegated).err(),
        Some(LockError::Unaligned)
    );
}
