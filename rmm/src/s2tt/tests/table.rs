//! Whole-table rules: start tables, unfold, fold/homogeneity, liveness, scans.

use super::FakeRtts;
use crate::s2tt::*;
use hostcall_abi::rtt::{Ripas, RTT_ENTRIES};

const T: u64 = 0x50_0000;
/// A PA aligned to 1 GiB, so any parent level accepts it.
const PA: u64 = 0x1_4000_0000;

fn ns(mem_attr: u8, s2ap: u8) -> NsAttrs {
    NsAttrs::new(mem_attr, s2ap).unwrap()
}

/// A fake with one RTT at `T` filled by unfolding `parent` (at `level - 1`).
fn unfolded(parent: S2tte, level: i64) -> FakeRtts {
    let mut m = FakeRtts::default();
    m.add(T, 0xDEAD_0000_0000_0001);
    unfold(&mut m, T, parent, level - 1).unwrap();
    m
}

#[test]
fn start_tables_split_protected_and_unprotected() {
    // s2sz 40 from level 1: 1024 entries of 1 GiB; the first 512 protected.
    let cfg = RttConfig::new(40, 1, 2).unwrap();
    let mut m = FakeRtts::default();
    m.add(0x10_0000, u64::MAX);
    m.add(0x10_1000, u64::MAX);
    init_start_tables(&mut m, 0x10_0000, &cfg).unwrap();
    let c0 = census(&m, 0x10_0000, 1);
    let c1 = census(&m, 0x10_1000, 1);
    assert_eq!((c0.unassigned, c0.unassigned_ns), (512, 0));
    assert_eq!((c1.unassigned, c1.unassigned_ns), (0, 512));
    assert_eq!(
        m.get(0x10_0000, 511),
        S2tte::unassigned(Ripas::Empty).bits()
    );
    assert!(!rtt_is_live(&m, 0x10_0000, 1));
    assert!(!rtt_is_live(&m, 0x10_1000, 1));

    // s2sz 32 from level 1: one table, only entries 0..4 in the IPA space (2 + 2).
    let cfg = RttConfig::new(32, 1, 1).unwrap();
    let mut m = FakeRtts::default();
    m.add(0x20_0000, u64::MAX);
    init_start_tables(&mut m, 0x20_0000, &cfg).unwrap();
    let states: Vec<_> = (0..5)
        .map(|i| S2tte::from_bits(m.get(0x20_0000, i)).state(1).unwrap())
        .collect();
    use EntryState::*;
    assert_eq!(
        states,
        [
            Unassigned,
            Unassigned,
            UnassignedNs,
            UnassignedNs,
            Unassigned
        ]
    );
    assert_eq!(m.get(0x20_0000, 511), 0, "outside the IPA space: zero");
}

#[test]
fn unfold_copies_state_and_spreads_addresses() {
    // ASSIGNED RAM block at level 2 -> 512 mapped pages.
    let m = unfolded(S2tte::assigned(PA, 2, Ripas::Ram).unwrap(), 3);
    for i in [0, 1, 255, 511] {
        let e = S2tte::from_bits(m.get(T, i));
        assert_eq!(
            e.decode(3),
            Some(Rtte::Assigned {
                pa: PA + i as u64 * 4096,
                ripas: Ripas::Ram
            })
        );
        assert!(e.is_valid_hw());
    }
    // ASSIGNED DESTROYED block at level 1 -> 512 invalid level-2 entries keeping addresses.
    let m = unfolded(S2tte::assigned(PA, 1, Ripas::Destroyed).unwrap(), 2);
    let e = S2tte::from_bits(m.get(T, 511));
    assert_eq!(e.pa(2), Some(PA + 511 * (2 << 20)));
    assert_eq!(e.ripas(2), Some(Ripas::Destroyed));
    // ASSIGNED_NS at level 1 -> level-2 NS blocks with the same attributes.
    let attrs = ns(0b101, 0b01);
    let m = unfolded(S2tte::assigned_ns(PA, 1, attrs).unwrap(), 2);
    assert_eq!(
        S2tte::from_bits(m.get(T, 3)).decode(2),
        Some(Rtte::AssignedNs {
            pa: PA + 3 * (2 << 20),
            attrs
        })
    );
    // UNASSIGNED and UNASSIGNED_NS copy across, down from level 0 too.
    let m = unfolded(S2tte::unassigned(Ripas::Destroyed), 1);
    assert_eq!(census(&m, T, 1).unassigned, RTT_ENTRIES);
    assert_eq!(m.get(T, 77), S2tte::unassigned(Ripas::Destroyed).bits());
    let m = unfolded(S2tte::unassigned_ns(), 3);
    assert_eq!(census(&m, T, 3).unassigned_ns, RTT_ENTRIES);
}

#[test]
fn unfold_refuses_tables_and_bad_levels_without_writing() {
    let sentinel = 0xDEAD_0000_0000_0001;
    let mut m = FakeRtts::default();
    m.add(T, sentinel);
    let table = S2tte::table(0x9000, 1).unwrap();
    assert_eq!(unfold(&mut m, T, table, 1), None);
    let page = S2tte::assigned(PA, 3, Ripas::Ram).unwrap();
    assert_eq!(
        unfold(&mut m, T, page, 3),
        None,
        "nothing below the page level"
    );
    assert_eq!(
        unfold(&mut m, T, S2tte::from_bits(3 << 57), 2),
        None,
        "malformed parent"
    );
    assert_eq!(unfold(&mut m, T, S2tte::unassigned_ns(), -1), None);
    assert!((0..RTT_ENTRIES).all(|i| m.get(T, i) == sentinel));
}

#[test]
fn fold_undoes_unfold_for_every_foldable_state() {
    let mut parents = vec![];
    for level in [1, 2] {
        for r in [Ripas::Empty, Ripas::Ram, Ripas::Destroyed] {
            parents.push((S2tte::unassigned(r), level));
            parents.push((S2tte::assigned(PA, level, r).unwrap(), level));
        }
        parents.push((S2tte::unassigned_ns(), level));
        for (m, ap) in [(0b001, 0b00), (0b110, 0b11), (0b111, 0b10)] {
            parents.push((S2tte::assigned_ns(PA, level, ns(m, ap)).unwrap(), level));
        }
    }
    // Unassigned entries fold from level 1 into level 0 too.
    parents.push((S2tte::unassigned(Ripas::Ram), 0));
    parents.push((S2tte::unassigned_ns(), 0));
    for (parent, parent_level) in parents {
        let m = unfolded(parent, parent_level + 1);
        assert_eq!(
            rtt_fold(&m, T, parent_level + 1),
            Some(parent),
            "{:?} at level {parent_level}",
            parent.decode(parent_level)
        );
        assert!(rtt_is_homogeneous(&m, T, parent_level + 1));
    }
}

#[test]
fn fold_rejects_mixed_ripas_and_states() {
    let mut m = unfolded(S2tte::unassigned(Ripas::Empty), 3);
    m.set(T, 300, S2tte::unassigned(Ripas::Ram).bits());
    assert_eq!(rtt_fold(&m, T, 3), None, "UNASSIGNED with two RIPAS values");

    let mut m = unfolded(S2tte::unassigned(Ripas::Empty), 3);
    m.set(T, 511, S2tte::unassigned_ns().bits());
    assert_eq!(rtt_fold(&m, T, 3), None, "UNASSIGNED and UNASSIGNED_NS");

    let mut m = unfolded(S2tte::assigned(PA, 2, Ripas::Ram).unwrap(), 3);
    let destroyed = S2tte::assigned(PA + 5 * 4096, 3, Ripas::Destroyed).unwrap();
    m.set(T, 5, destroyed.bits());
    assert_eq!(rtt_fold(&m, T, 3), None, "ASSIGNED with two RIPAS values");

    let mut m = unfolded(S2tte::assigned(PA, 2, Ripas::Ram).unwrap(), 3);
    m.set(T, 0, S2tte::unassigned(Ripas::Ram).bits());
    assert_eq!(rtt_fold(&m, T, 3), None, "first entry differs");

    let mut m = unfolded(S2tte::unassigned(Ripas::Ram), 2);
    m.set(T, 9, S2tte::table(0x9000, 2).unwrap().bits());
    assert_eq!(rtt_fold(&m, T, 2), None, "a TABLE entry");

    let mut m = unfolded(S2tte::unassigned(Ripas::Ram), 2);
    m.set(T, 0, S2tte::table(0x9000, 2).unwrap().bits());
    assert_eq!(rtt_fold(&m, T, 2), None, "all TABLE-led");

    let mut m = unfolded(S2tte::unassigned(Ripas::Ram), 2);
    m.set(T, 400, 3 << 57);
    assert_eq!(rtt_fold(&m, T, 2), None, "a malformed entry");
}

#[test]
fn fold_rejects_non_contiguous_or_unaligned_addresses() {
    // Two pages swapped.
    let mut m = unfolded(S2tte::assigned(PA, 2, Ripas::Ram).unwrap(), 3);
    let (a, b) = (m.get(T, 10), m.get(T, 11));
    m.set(T, 10, b);
    m.set(T, 11, a);
    assert_eq!(rtt_fold(&m, T, 3), None, "swapped pages");

    // Contiguous pages, but starting 4 KiB past a 2 MiB boundary.
    let mut m = FakeRtts::default();
    m.add(T, 0);
    for i in 0..RTT_ENTRIES {
        let pa = PA + 4096 + i as u64 * 4096;
        m.set(T, i, S2tte::assigned(pa, 3, Ripas::Ram).unwrap().bits());
    }
    assert_eq!(
        rtt_fold(&m, T, 3),
        None,
        "first PA not aligned to the parent"
    );

    // The same with the aligned start folds: the check above is what failed.
    for i in 0..RTT_ENTRIES {
        let pa = PA + i as u64 * 4096;
        m.set(T, i, S2tte::assigned(pa, 3, Ripas::Ram).unwrap().bits());
    }
    assert_eq!(rtt_fold(&m, T, 3), S2tte::assigned(PA, 2, Ripas::Ram));

    // NS blocks with one differing attribute.
    let attrs = ns(0b110, 0b11);
    let mut m = unfolded(S2tte::assigned_ns(PA, 1, attrs).unwrap(), 2);
    let odd = S2tte::assigned_ns(PA + 7 * (2 << 20), 2, ns(0b110, 0b01)).unwrap();
    m.set(T, 7, odd.bits());
    assert_eq!(rtt_fold(&m, T, 2), None, "ASSIGNED_NS with different S2AP");

    // NS blocks with a gap.
    let mut m = unfolded(S2tte::assigned_ns(PA, 1, attrs).unwrap(), 2);
    let moved = S2tte::assigned_ns(PA + 8 * (2 << 20), 2, attrs).unwrap();
    m.set(T, 7, moved.bits());
    assert_eq!(rtt_fold(&m, T, 2), None, "ASSIGNED_NS not contiguous");
}

#[test]
fn assigned_entries_do_not_fold_into_level_zero() {
    // A level-1 RTT of contiguous 1 GiB blocks: homogeneous in shape, but level 0 holds no
    // blocks, so A5.5.6 limits ASSIGNED folding to levels 2 and 3.
    let mut m = FakeRtts::default();
    m.add(T, 0);
    for i in 0..RTT_ENTRIES {
        let pa = i as u64 * (1 << 30);
        m.set(T, i, S2tte::assigned(pa, 1, Ripas::Ram).unwrap().bits());
    }
    assert_eq!(rtt_fold(&m, T, 1), None);
    assert_eq!(rtt_fold(&m, T, 0), None, "no parent of level 0");
}

#[test]
fn liveness_and_census() {
    let mut m = FakeRtts::default();
    m.add(T, S2tte::unassigned_ns().bits());
    let ns_page = S2tte::assigned_ns(0x4000, 3, ns(0b110, 3)).unwrap();
    m.set(T, 4, ns_page.bits());
    m.set(T, 5, S2tte::unassigned(Ripas::Destroyed).bits());
    let c = census(&m, T, 3);
    assert_eq!(
        c,
        TableCensus {
            unassigned: 1,
            unassigned_ns: 510,
            assigned_ns: 1,
            ..TableCensus::default()
        }
    );
    assert_eq!(c.live_entries(), 1, "the NS mapping is a live entry");
    assert!(
        !c.rtt_is_live(),
        "...but ASSIGNED_NS does not make the RTT live"
    );
    assert!(!rtt_is_live(&m, T, 3));

    m.set(
        T,
        6,
        S2tte::assigned(0x7000, 3, Ripas::Empty).unwrap().bits(),
    );
    assert!(census(&m, T, 3).rtt_is_live());
    assert!(rtt_is_live(&m, T, 3), "an ASSIGNED entry");
    assert_eq!(census(&m, T, 3).live_entries(), 2);

    let mut m = FakeRtts::default();
    m.add(T, 0);
    m.set(T, 511, S2tte::table(0x9000, 2).unwrap().bits());
    assert!(rtt_is_live(&m, T, 2), "a TABLE entry");
    assert_eq!(census(&m, T, 2).table, 1);

    let mut m = FakeRtts::default();
    m.add(T, 0);
    m.set(T, 0, 3 << 57);
    assert!(rtt_is_live(&m, T, 3), "a malformed entry counts as live");
    assert!(census(&m, T, 3).rtt_is_live());
    assert_eq!(census(&m, T, 3).malformed, 1);
}

#[test]
fn skip_non_live_finds_the_next_live_entry() {
    // A level-3 RTT covering [2 MiB, 4 MiB): entry 10 ASSIGNED_NS, entry 20 ASSIGNED.
    let base = 2 << 20;
    let mut m = FakeRtts::default();
    m.add(T, S2tte::unassigned_ns().bits());
    m.set(
        T,
        10,
        S2tte::assigned_ns(0xA000, 3, ns(6, 3)).unwrap().bits(),
    );
    m.set(
        T,
        20,
        S2tte::assigned(0xB000, 3, Ripas::Ram).unwrap().bits(),
    );
    let ipa = |i: u64| base + i * 4096;
    assert_eq!(skip_non_live_entries(&m, T, 3, ipa(0)), Some(ipa(10)));
    assert_eq!(skip_non_live_entries(&m, T, 3, ipa(10)), Some(ipa(10)));
    assert_eq!(
        skip_non_live_entries(&m, T, 3, ipa(11) + 0x10),
        Some(ipa(20))
    );
    assert_eq!(
        skip_non_live_entries(&m, T, 3, ipa(21)),
        Some(ipa(512)),
        "past the table"
    );
    assert_eq!(skip_non_live_entries(&m, T, 3, ipa(511)), Some(4 << 20));
    assert_eq!(skip_non_live_entries(&m, T, 4, 0), None);
    // An IPA so high the end of its table does not fit in 64 bits.
    assert_eq!(skip_non_live_entries(&m, T, 0, u64::MAX), None);
}

#[test]
fn skip_entries_with_ripas_stops_at_tables_and_destroyed() {
    // A level-2 RTT covering [1 GiB, 2 GiB): entry 5 DESTROYED, entry 9 TABLE.
    let base = 1 << 30;
    let blk = |i: u64| base + i * (2 << 20);
    let mut m = FakeRtts::default();
    m.add(T, S2tte::unassigned(Ripas::Empty).bits());
    m.set(T, 5, S2tte::unassigned(Ripas::Destroyed).bits());
    m.set(T, 9, S2tte::table(0x9000, 2).unwrap().bits());
    let top = 2 << 30;
    // Without stop_at_destroyed, the DESTROYED entry is skipped and the TABLE stops the scan.
    assert_eq!(
        skip_entries_with_ripas(&m, T, 2, blk(0), top, false),
        Some(blk(9))
    );
    // With it, the DESTROYED entry stops the scan.
    assert_eq!(
        skip_entries_with_ripas(&m, T, 2, blk(0), top, true),
        Some(blk(5))
    );
    // Capped at top, then aligned down to the level.
    assert_eq!(
        skip_entries_with_ripas(&m, T, 2, blk(0), blk(3) + 0x1000, false),
        Some(blk(3))
    );
    // Starting on the TABLE entry: no progress.
    assert_eq!(
        skip_entries_with_ripas(&m, T, 2, blk(9), top, false),
        Some(blk(9))
    );
    // After the TABLE entry, to the end of the table.
    assert_eq!(
        skip_entries_with_ripas(&m, T, 2, blk(10), u64::MAX, true),
        Some(2 << 30)
    );
    assert_eq!(skip_entries_with_ripas(&m, T, 9, 0, top, true), None);
}
