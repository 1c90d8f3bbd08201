//! Walks over fake RTT trees: full walks, early stops, concatenated starting tables, bad inputs.

use super::FakeRtts;
use crate::s2tt::*;
use hostcall_abi::rtt::Ripas;

const BASE: u64 = 0x10_0000;
const L2: u64 = 0x20_0000;
const L3: u64 = 0x30_0000;

/// 40-bit IPA starting at level 1: two concatenated level-1 tables at `BASE` and `BASE + 4K`.
fn cfg40() -> RttConfig {
    RttConfig::new(40, 1, 2).unwrap()
}

/// An IPA in the second starting table (level-1 index 512 + 3), level-2 index 7, level-3
/// index 9, plus a page offset.
const IPA: u64 = ((512 + 3) << 30) | (7 << 21) | (9 << 12) | 0x123;

/// Start tables (UNASSIGNED, EMPTY), a level-2 RTT under start entry 515 and a level-3 RTT under
/// its entry 7. Every other entry of the new RTTs is UNASSIGNED (RAM, to tell them apart).
fn tree() -> FakeRtts {
    let mut m = FakeRtts::default();
    m.add(BASE, 0);
    m.add(BASE + 4096, 0);
    m.add(L2, S2tte::unassigned(Ripas::Ram).bits());
    m.add(L3, S2tte::unassigned(Ripas::Ram).bits());
    m.set(BASE + 4096, 3, S2tte::table(L2, 1).unwrap().bits());
    m.set(L2, 7, S2tte::table(L3, 2).unwrap().bits());
    let page = S2tte::assigned(0x8000_0000, 3, Ripas::Ram).unwrap();
    m.set(L3, 9, page.bits());
    m
}

#[test]
fn walks_to_the_page_level() {
    let m = tree();
    let w = walk(&m, BASE, &cfg40(), IPA, 3).unwrap();
    assert_eq!((w.level, w.table_pa, w.index), (3, L3, 9));
    assert_eq!(
        w.rtte(),
        Some(Rtte::Assigned {
            pa: 0x8000_0000,
            ripas: Ripas::Ram
        })
    );
}

#[test]
fn stops_at_the_target_level_even_on_a_table_entry() {
    let m = tree();
    let w = walk(&m, BASE, &cfg40(), IPA, 2).unwrap();
    assert_eq!((w.level, w.table_pa, w.index), (2, L2, 7));
    assert_eq!(w.rtte(), Some(Rtte::Table { pa: L3 }));

    let w = walk(&m, BASE, &cfg40(), IPA, 1).unwrap();
    assert_eq!((w.level, w.table_pa, w.index), (1, BASE + 4096, 3));
    assert_eq!(w.rtte(), Some(Rtte::Table { pa: L2 }));
}

#[test]
fn stops_early_at_the_first_non_table_entry() {
    let m = tree();
    // Level-2 entry 8 is UNASSIGNED: a walk to level 3 ends at level 2.
    let ipa = ((512 + 3) << 30) | (8 << 21);
    let w = walk(&m, BASE, &cfg40(), ipa, 3).unwrap();
    assert_eq!((w.level, w.table_pa, w.index), (2, L2, 8));
    assert_eq!(w.rtte(), Some(Rtte::Unassigned { ripas: Ripas::Ram }));

    // Start entry 4 of the second table is UNASSIGNED: the walk ends at the starting level,
    // reporting the second table's granule and the index within it.
    let ipa = (512 + 4) << 30;
    let w = walk(&m, BASE, &cfg40(), ipa, 3).unwrap();
    assert_eq!((w.level, w.table_pa, w.index), (1, BASE + 4096, 4));

    // And in the first table.
    let w = walk(&m, BASE, &cfg40(), 5 << 30, 2).unwrap();
    assert_eq!((w.level, w.table_pa, w.index), (1, BASE, 5));
}

#[test]
fn stops_at_a_block() {
    let mut m = FakeRtts::default();
    m.add(BASE, 0);
    m.add(BASE + 4096, 0);
    m.add(L2, 0);
    m.set(BASE, 1, S2tte::table(L2, 1).unwrap().bits());
    let block = S2tte::assigned(0x4000_0000 + (6 << 21), 2, Ripas::Ram).unwrap();
    m.set(L2, 6, block.bits());
    // The fake has no level-3 table: reading one would panic.
    let w = walk(&m, BASE, &cfg40(), (1 << 30) | (6 << 21) | (5 << 12), 3).unwrap();
    assert_eq!((w.level, w.table_pa, w.index), (2, L2, 6));
    assert!(w.entry.is_assigned(2));
}

#[test]
fn a_malformed_entry_ends_the_walk() {
    let mut m = tree();
    m.set(L2, 7, 3 << 57);
    let w = walk(&m, BASE, &cfg40(), IPA, 3).unwrap();
    assert_eq!((w.level, w.index), (2, 7));
    assert_eq!(w.rtte(), None);
}

#[test]
fn rejects_ipas_outside_the_realm_and_invalid_levels() {
    let m = tree();
    let cfg = cfg40();
    assert!(walk(&m, BASE, &cfg, (1 << 40) - 1, 3).is_some());
    assert_eq!(walk(&m, BASE, &cfg, 1 << 40, 3), None);
    assert_eq!(walk(&m, BASE, &cfg, u64::MAX, 3), None);
    assert_eq!(
        walk(&m, BASE, &cfg, IPA, 0),
        None,
        "above the starting level"
    );
    assert_eq!(walk(&m, BASE, &cfg, IPA, 4), None);
    assert_eq!(walk(&m, BASE, &cfg, IPA, -1), None);
    assert_eq!(
        walk(&m, u64::MAX - 100, &cfg, IPA, 3),
        None,
        "rtt_base overflow"
    );
}

#[test]
fn four_level_walk_from_level_zero() {
    let cfg = RttConfig::new(48, 0, 1).unwrap();
    let (l0, l1, l2, l3) = (0x1000, 0x2000, 0x3000, 0x4000);
    let ipa: u64 = (300 << 39) | (2 << 30) | (3 << 21) | (4 << 12);
    let mut m = FakeRtts::default();
    for t in [l0, l1, l2, l3] {
        m.add(t, S2tte::unassigned_ns().bits());
    }
    m.set(l0, 300, S2tte::table(l1, 0).unwrap().bits());
    m.set(l1, 2, S2tte::table(l2, 1).unwrap().bits());
    m.set(l2, 3, S2tte::table(l3, 2).unwrap().bits());
    let w = walk(&m, l0, &cfg, ipa, 3).unwrap();
    assert_eq!((w.level, w.table_pa, w.index), (3, l3, 4));
    assert!(w.entry.is_unassigned_ns(3));
    let w = walk(&m, l0, &cfg, ipa, 0).unwrap();
    assert_eq!((w.level, w.table_pa, w.index), (0, l0, 300));
}

#[test]
fn starting_level_two_with_four_tables() {
    // 32-bit IPA from level 2: four concatenated tables; level 3 directly below.
    let cfg = RttConfig::new(32, 2, 4).unwrap();
    let mut m = FakeRtts::default();
    for i in 0..4 {
        m.add(BASE + i * 4096, 0);
    }
    m.add(L3, 0);
    let ipa = (3 << 30) | (17 << 21) | (5 << 12);
    m.set(BASE + 3 * 4096, 17, S2tte::table(L3, 2).unwrap().bits());
    let w = walk(&m, BASE, &cfg, ipa, 3).unwrap();
    assert_eq!((w.level, w.table_pa, w.index), (3, L3, 5));
    let w = walk(&m, BASE, &cfg, ipa - (1 << 30), 3).unwrap();
    assert_eq!((w.level, w.table_pa, w.index), (2, BASE + 2 * 4096, 17));
}
