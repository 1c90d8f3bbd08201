//! RMI_RTT_CREATE, RTT_DESTROY, RTT_FOLD, RTT_READ_ENTRY, RTT_MAP_UNPROTECTED,
//! RTT_UNMAP_UNPROTECTED, RTT_INIT_RIPAS and RTT_SET_RIPAS (B4.3.15-B4.3.22), driven through the
//! RMI as a host would: the success paths, one test per failure condition (named after the spec's
//! condition ID) that also checks nothing changed, the orderings the spec defines, and whole
//! build-up / tear-down scenarios.

use hostcall_abi::rtt::Ripas;

use super::realm_fixture::*;
use crate::granule::GranuleState;

/// Host attributes of an unprotected mapping: MemAttr\[2:0\] 0b110 (Normal Write-Back), S2AP
/// read/write.
const WB_RW: u64 = (0b110 << 2) | (0b11 << 6);
/// An NS address for unprotected mappings, 1 GiB aligned.
const NS_PA: u64 = 0xC000_0000;

/// Levels that are not levels of the fixture realm's tree (it starts at level 1).
const BAD_LEVELS: [i64; 5] = [0, 4, -1, i64::MIN, i64::MAX];

// ---- RMI_RTT_CREATE ------------------------------------------------------------------------

#[test]
fn rtt_create_succeeds_at_levels_2_and_3() {
    let fx = Fixture::new();
    let ipa = 3 * L1 + 5 * L2;
    let l2 = fx.delegated();
    assert_eq!(fx.ok(C::RTT_CREATE, &[fx.rd, l2, 3 * L1, 2]), [0; 4]);
    assert_eq!(fx.state(l2), GranuleState::Rtt);
    assert_eq!(fx.read_entry(3 * L1, 1), Entry::new(1, TABLE, l2, EMPTY));
    assert_eq!(fx.read_entry(ipa, 3), Entry::new(2, UNASSIGNED, 0, EMPTY));

    let l3 = fx.delegated();
    assert_eq!(fx.ok(C::RTT_CREATE, &[fx.rd, l3, ipa, 3]), [0; 4]);
    assert_eq!(fx.state(l3), GranuleState::Rtt);
    assert_eq!(fx.read_entry(ipa, 2), Entry::new(2, TABLE, l3, EMPTY));
    assert_eq!(
        fx.read_entry(ipa + 7 * G, 3),
        Entry::new(3, UNASSIGNED, 0, EMPTY)
    );
    // Neighbours are untouched.
    assert_eq!(
        fx.read_entry(ipa + L2, 3),
        Entry::new(2, UNASSIGNED, 0, EMPTY)
    );
    assert_eq!(
        fx.read_entry(4 * L1, 3),
        Entry::new(1, UNASSIGNED, 0, EMPTY)
    );
}

#[test]
fn rtt_create_unfolds_the_ripas_of_the_parent() {
    let fx = Fixture::new();
    assert_eq!(
        fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, 2 * L1, 3 * L1]),
        [3 * L1, 0, 0, 0]
    );
    fx.rtt_create(2 * L1, 2);
    assert_eq!(
        fx.read_entry(2 * L1 + 9 * L2, 3),
        Entry::new(2, UNASSIGNED, 0, RAM)
    );
    fx.rtt_create(2 * L1 + 9 * L2, 3);
    assert_eq!(
        fx.read_entry(2 * L1 + 9 * L2 + 3 * G, 3),
        Entry::new(3, UNASSIGNED, 0, RAM)
    );
    // A level-1 entry that was never initialised stays EMPTY.
    assert_eq!(
        fx.read_entry(3 * L1, 3),
        Entry::new(1, UNASSIGNED, 0, EMPTY)
    );
}

#[test]
fn rtt_create_unfolds_unprotected_entries() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED + L1);
    // UNASSIGNED_NS reads as UNASSIGNED, RIPAS EMPTY; MAP_UNPROTECTED accepts it.
    let ipa = UNPROTECTED + L1 + 4 * G;
    assert_eq!(fx.read_entry(ipa, 3), Entry::new(3, UNASSIGNED, 0, EMPTY));
    fx.ok(C::RTT_MAP_UNPROTECTED, &[fx.rd, ipa, 3, NS_PA | WB_RW]);
}

#[test]
fn rtt_create_unfolds_an_assigned_ns_block() {
    let fx = Fixture::new();
    fx.rtt_create(UNPROTECTED, 2);
    let block = NS_PA + 2 * L2;
    fx.ok(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED, 2, block | WB_RW],
    );
    fx.rtt_create(UNPROTECTED, 3);
    // Every page of the block keeps its part of the mapping and the attributes.
    assert_eq!(
        fx.read_entry(UNPROTECTED + 5 * G, 3),
        Entry::new(3, ASSIGNED, (block + 5 * G) | WB_RW, EMPTY)
    );
}

rd_condition_tests!(
    C::RTT_CREATE,
    [
        rtt_create_fails_rd_align: "rd_align",
        rtt_create_fails_rd_bound: "rd_bound",
        rtt_create_fails_rd_state: "rd_state",
    ],
    |fx| vec![fx.delegated(), 0, 2]
);

#[test]
fn rtt_create_fails_level_bound() {
    let fx = Fixture::new();
    let t = fx.delegated();
    // The starting level, and levels outside the tree.
    fx.fails(C::RTT_CREATE, &[fx.rd, t, 0, 1], INPUT);
    for level in BAD_LEVELS {
        fx.fails(C::RTT_CREATE, &[fx.rd, t, 0, lvl(level)], INPUT);
    }
}

#[test]
fn rtt_create_fails_ipa_align() {
    let fx = Fixture::new();
    let t = fx.delegated();
    // A level-2 table describes 1 GiB, a level-3 table 2 MiB.
    fx.fails(C::RTT_CREATE, &[fx.rd, t, L2, 2], INPUT);
    fx.fails(C::RTT_CREATE, &[fx.rd, t, G, 2], INPUT);
    fx.tables(0);
    fx.fails(C::RTT_CREATE, &[fx.rd, t, L2 + G, 3], INPUT);
}

#[test]
fn rtt_create_fails_ipa_bound() {
    let fx = Fixture::new();
    let t = fx.delegated();
    fx.fails(C::RTT_CREATE, &[fx.rd, t, IPA_LIMIT, 2], INPUT);
    fx.fails(C::RTT_CREATE, &[fx.rd, t, !(L1 - 1), 2], INPUT);
}

#[test]
fn rtt_create_fails_rtt_align() {
    let fx = Fixture::new();
    let t = fx.delegated();
    fx.fails(C::RTT_CREATE, &[fx.rd, t + 8, 0, 2], INPUT);
    fx.fails(C::RTT_CREATE, &[fx.rd, t + 0x800, 0, 2], INPUT);
}

#[test]
fn rtt_create_fails_rtt_bound() {
    let fx = Fixture::new();
    for t in [0x1000, 0x0E00_0000, 1 << 47] {
        fx.fails(C::RTT_CREATE, &[fx.rd, t, 0, 2], INPUT);
    }
}

#[test]
fn rtt_create_fails_rtt_state() {
    let fx = Fixture::new();
    fx.tables(0);
    let data = fx.data_create(0);
    // Undelegated, the RD itself, a starting table, an RTT in use, a DATA granule.
    for t in [NS_FREE, fx.rd, RTT_BASE, RTT_BASE + G, data] {
        fx.fails(C::RTT_CREATE, &[fx.rd, t, 3 * L1, 2], INPUT);
    }
    let l2 = fx.read_entry(0, 1).desc;
    fx.fails(C::RTT_CREATE, &[fx.rd, l2, 3 * L1, 2], INPUT);
}

#[test]
fn rtt_create_fails_rtt_bound2() {
    let (fx, high) = Fixture::with_high_bank();
    fx.delegate(high);
    fx.fails(C::RTT_CREATE, &[fx.rd, high, 0, 2], INPUT);
    assert_eq!(fx.state(high), GranuleState::Delegated);
}

#[test]
fn rtt_create_fails_rtt_walk() {
    let fx = Fixture::new();
    let t = fx.delegated();
    // No level-2 table: the walk to level 2 stops at level 1.
    fx.fails(C::RTT_CREATE, &[fx.rd, t, 0, 3], rtt(1));
    fx.fails(C::RTT_CREATE, &[fx.rd, t, UNPROTECTED + 7 * L2, 3], rtt(1));
}

#[test]
fn rtt_create_fails_rtte_state() {
    let fx = Fixture::new();
    fx.tables(0);
    let t = fx.delegated();
    fx.fails(C::RTT_CREATE, &[fx.rd, t, 0, 2], rtt(1));
    fx.fails(C::RTT_CREATE, &[fx.rd, t, 0, 3], rtt(2));
}

#[test]
fn rtt_create_level_bound_precedes_rtt_walk() {
    let fx = Fixture::new();
    let t = fx.delegated();
    // Level 4 is no level; a walk to level 3 would stop at level 1.
    fx.fails(C::RTT_CREATE, &[fx.rd, t, 0, 4], INPUT);
}

#[test]
fn rtt_create_rd_state_precedes_rtt_walk() {
    let fx = Fixture::new();
    let t = fx.delegated();
    fx.fails(C::RTT_CREATE, &[RTT_BASE, t, 0, 3], INPUT);
}

// ---- RMI_RTT_DESTROY -----------------------------------------------------------------------

#[test]
fn rtt_destroy_succeeds_bottom_up() {
    let fx = Fixture::new();
    let (l2, l3) = fx.tables(0);
    let other = fx.rtt_create(5 * L1, 2);
    // The level-3 table: the level-2 table holds nothing else live, so `top` is its end.
    assert_eq!(fx.ok(C::RTT_DESTROY, &[fx.rd, 0, 3]), [l3, L1, 0, 0]);
    assert_eq!(fx.state(l3), GranuleState::Delegated);
    assert_eq!(fx.sim.mem.read(l3), [0; 4096], "wiped");
    assert_eq!(fx.read_entry(0, 3), Entry::new(2, UNASSIGNED, 0, DESTROYED));
    // The level-2 table: the next live entry of the starting table is the other table's.
    assert_eq!(fx.ok(C::RTT_DESTROY, &[fx.rd, 0, 2]), [l2, 5 * L1, 0, 0]);
    assert_eq!(fx.state(l2), GranuleState::Delegated);
    assert_eq!(fx.read_entry(0, 3), Entry::new(1, UNASSIGNED, 0, DESTROYED));
    assert_eq!(
        fx.ok(C::RTT_DESTROY, &[fx.rd, 5 * L1, 2]),
        [other, START_TABLE, 0, 0]
    );
    for t in [l2, l3, other] {
        assert_eq!(fx.call(C::GRANULE_UNDELEGATE, &[t])[0], SUCCESS);
    }
}

#[test]
fn rtt_destroy_unprotected_leaves_unassigned_ns() {
    let fx = Fixture::new();
    let (_, l3) = fx.tables(UNPROTECTED);
    // ASSIGNED_NS entries do not make a table live (A5.5.8).
    fx.ok(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + 3 * G, 3, NS_PA | WB_RW],
    );
    assert_eq!(
        fx.ok(C::RTT_DESTROY, &[fx.rd, UNPROTECTED, 3]),
        [l3, UNPROTECTED + L1, 0, 0]
    );
    assert_eq!(
        fx.read_entry(UNPROTECTED, 3),
        Entry::new(2, UNASSIGNED, 0, EMPTY)
    );
    // The entry is UNASSIGNED_NS: an unprotected block can be mapped there.
    fx.ok(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED, 2, NS_PA | WB_RW],
    );
}

rd_condition_tests!(
    C::RTT_DESTROY,
    [
        rtt_destroy_fails_rd_align: "rd_align",
        rtt_destroy_fails_rd_bound: "rd_bound",
        rtt_destroy_fails_rd_state: "rd_state",
    ],
    |fx| {
        fx.tables(0);
        vec![0, 3]
    }
);

#[test]
fn rtt_destroy_fails_level_bound() {
    let fx = Fixture::new();
    fx.tables(0);
    assert_eq!(fx.fails(C::RTT_DESTROY, &[fx.rd, 0, 1], INPUT), [0; 4]);
    for level in BAD_LEVELS {
        assert_eq!(
            fx.fails(C::RTT_DESTROY, &[fx.rd, 0, lvl(level)], INPUT),
            [0; 4]
        );
    }
}

#[test]
fn rtt_destroy_fails_ipa_align() {
    let fx = Fixture::new();
    fx.tables(0);
    assert_eq!(fx.fails(C::RTT_DESTROY, &[fx.rd, G, 3], INPUT), [0; 4]);
    assert_eq!(fx.fails(C::RTT_DESTROY, &[fx.rd, L2, 2], INPUT), [0; 4]);
}

#[test]
fn rtt_destroy_fails_ipa_bound() {
    let fx = Fixture::new();
    assert_eq!(
        fx.fails(C::RTT_DESTROY, &[fx.rd, IPA_LIMIT, 2], INPUT),
        [0; 4]
    );
    assert_eq!(
        fx.fails(C::RTT_DESTROY, &[fx.rd, IPA_LIMIT + L2, 3], INPUT),
        [0; 4]
    );
}

#[test]
fn rtt_destroy_fails_rtt_walk() {
    let fx = Fixture::new();
    fx.rtt_create(L1, 2);
    // Missing level-2 table: the walk stops at level 1; `top` is the next live entry there.
    assert_eq!(
        fx.fails(C::RTT_DESTROY, &[fx.rd, 0, 3], rtt(1)),
        [0, L1, 0, 0]
    );
    assert_eq!(
        fx.fails(C::RTT_DESTROY, &[fx.rd, 3 * L1, 3], rtt(1)),
        [0, START_TABLE, 0, 0]
    );
    // A block at a lower level: `top` is the start of the block (the IPA aligned down to the
    // walk's level, as RttSkipNonLiveEntries computes it).
    fx.ok(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + 3 * L1, 1, NS_PA | WB_RW],
    );
    assert_eq!(
        fx.fails(
            C::RTT_DESTROY,
            &[fx.rd, UNPROTECTED + 3 * L1 + L2, 3],
            rtt(1)
        ),
        [0, UNPROTECTED + 3 * L1, 0, 0]
    );
}

#[test]
fn rtt_destroy_fails_rtte_state() {
    let fx = Fixture::new();
    fx.rtt_create(L1, 2);
    // The level-1 entry for 2 GiB is UNASSIGNED: no level-2 table to destroy.
    assert_eq!(
        fx.fails(C::RTT_DESTROY, &[fx.rd, 2 * L1, 2], rtt(1)),
        [0, START_TABLE, 0, 0]
    );
    // The level-2 entry is UNASSIGNED: no level-3 table.
    assert_eq!(
        fx.fails(C::RTT_DESTROY, &[fx.rd, L1 + 4 * L2, 3], rtt(2)),
        [0, 2 * L1, 0, 0]
    );
    // The level-2 entry is an ASSIGNED_NS block: `top` is the IPA.
    fx.rtt_create(UNPROTECTED, 2);
    fx.ok(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + L2, 2, NS_PA | WB_RW],
    );
    assert_eq!(
        fx.fails(C::RTT_DESTROY, &[fx.rd, UNPROTECTED + L2, 3], rtt(2)),
        [0, UNPROTECTED + L2, 0, 0]
    );
}

#[test]
fn rtt_destroy_fails_rtt_live() {
    let fx = Fixture::new();
    fx.tables(L1);
    fx.data_create(L1 + 7 * G);
    // A DATA page makes the level-3 table live, which makes the level-2 table live.
    assert_eq!(
        fx.fails(C::RTT_DESTROY, &[fx.rd, L1, 3], rtt(3)),
        [0, L1, 0, 0]
    );
    assert_eq!(
        fx.fails(C::RTT_DESTROY, &[fx.rd, L1, 2], rtt(2)),
        [0, L1, 0, 0]
    );
}

#[test]
fn rtt_destroy_level_bound_precedes_rtt_walk() {
    let fx = Fixture::new();
    assert_eq!(fx.fails(C::RTT_DESTROY, &[fx.rd, 0, 4], INPUT), [0; 4]);
}

#[test]
fn rtt_destroy_ipa_bound_precedes_rtte_state() {
    let fx = Fixture::new();
    // 2^40 + 2 GiB: outside the realm; inside it, the walk would find an UNASSIGNED entry.
    assert_eq!(
        fx.fails(C::RTT_DESTROY, &[fx.rd, IPA_LIMIT + 2 * L1, 2], INPUT),
        [0; 4]
    );
}

// ---- RMI_RTT_FOLD --------------------------------------------------------------------------

#[test]
fn rtt_fold_unassigned_table() {
    let fx = Fixture::new();
    let (_, l3) = fx.tables(0);
    assert_eq!(fx.ok(C::RTT_FOLD, &[fx.rd, 0, 3]), [l3, 0, 0, 0]);
    assert_eq!(fx.state(l3), GranuleState::Delegated);
    assert_eq!(fx.sim.mem.read(l3), [0; 4096], "wiped");
    assert_eq!(fx.read_entry(0, 3), Entry::new(2, UNASSIGNED, 0, EMPTY));
}

#[test]
fn rtt_fold_keeps_a_common_ripas() {
    let fx = Fixture::new();
    fx.tables(0);
    assert_eq!(fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, 0, L2]), [L2, 0, 0, 0]);
    fx.ok(C::RTT_FOLD, &[fx.rd, 0, 3]);
    assert_eq!(fx.read_entry(0, 3), Entry::new(2, UNASSIGNED, 0, RAM));
}

#[test]
fn rtt_fold_contiguous_data_into_a_level_2_block() {
    let fx = Fixture::new();
    let (l2, l3) = fx.tables(L1);
    let base = fx.delegated_run(512, L2);
    for i in 0..512 {
        fx.data_create_at(base + i * G, L1 + i * G);
    }
    assert_eq!(fx.ok(C::RTT_FOLD, &[fx.rd, L1, 3]), [l3, 0, 0, 0]);
    assert_eq!(fx.state(l3), GranuleState::Delegated);
    // One ASSIGNED RAM block now maps the 2 MiB; the pages keep their contents.
    assert_eq!(fx.read_entry(L1, 3), Entry::new(2, ASSIGNED, base, RAM));
    assert_eq!(
        fx.read_entry(L1 + 100 * G, 3),
        Entry::new(2, ASSIGNED, base, RAM)
    );
    assert_eq!(fx.sim.mem.read(base + 9 * G), Fixture::pattern(L1 + 9 * G));
    // DATA_DESTROY needs a page: a block is an RTT walk failure at level 2, top == ipa.
    assert_eq!(
        fx.fails(C::DATA_DESTROY, &[fx.rd, L1 + 9 * G], rtt(2)),
        [0, L1, 0, 0]
    );
    // Unfold it again and take it down page by page.
    let l3 = fx.rtt_create(L1, 3);
    assert_eq!(
        fx.read_entry(L1 + 9 * G, 3),
        Entry::new(3, ASSIGNED, base + 9 * G, RAM)
    );
    for i in 0..512 {
        assert_eq!(
            fx.ok(C::DATA_DESTROY, &[fx.rd, L1 + i * G])[0],
            base + i * G
        );
    }
    assert_eq!(fx.ok(C::RTT_DESTROY, &[fx.rd, L1, 3])[0], l3);
    assert_eq!(fx.ok(C::RTT_DESTROY, &[fx.rd, L1, 2])[0], l2);
    fx.ok(C::REALM_DESTROY, &[fx.rd]);
}

#[test]
fn rtt_fold_ns_pages_into_an_ns_block() {
    let fx = Fixture::new();
    let (_, l3) = fx.tables(UNPROTECTED);
    let ns = NS_PA + 4 * L2;
    for i in 0..512 {
        let desc = (ns + i * G) | WB_RW;
        fx.ok(
            C::RTT_MAP_UNPROTECTED,
            &[fx.rd, UNPROTECTED + i * G, 3, desc],
        );
    }
    assert_eq!(fx.ok(C::RTT_FOLD, &[fx.rd, UNPROTECTED, 3]), [l3, 0, 0, 0]);
    assert_eq!(
        fx.read_entry(UNPROTECTED + 5 * G, 3),
        Entry::new(2, ASSIGNED, ns | WB_RW, EMPTY)
    );
    // The block unmaps at level 2; `top` runs to the end of the level-2 table.
    assert_eq!(
        fx.ok(C::RTT_UNMAP_UNPROTECTED, &[fx.rd, UNPROTECTED, 2]),
        [UNPROTECTED + L1, 0, 0, 0]
    );
}

rd_condition_tests!(
    C::RTT_FOLD,
    [
        rtt_fold_fails_rd_align: "rd_align",
        rtt_fold_fails_rd_bound: "rd_bound",
        rtt_fold_fails_rd_state: "rd_state",
    ],
    |fx| {
        fx.tables(0);
        vec![0, 3]
    }
);

#[test]
fn rtt_fold_fails_level_bound() {
    let fx = Fixture::new();
    fx.tables(0);
    fx.fails(C::RTT_FOLD, &[fx.rd, 0, 1], INPUT);
    for level in BAD_LEVELS {
        fx.fails(C::RTT_FOLD, &[fx.rd, 0, lvl(level)], INPUT);
    }
}

#[test]
fn rtt_fold_fails_ipa_align() {
    let fx = Fixture::new();
    fx.tables(0);
    fx.fails(C::RTT_FOLD, &[fx.rd, G, 3], INPUT);
    fx.fails(C::RTT_FOLD, &[fx.rd, L2, 2], INPUT);
}

#[test]
fn rtt_fold_fails_ipa_bound() {
    let fx = Fixture::new();
    fx.fails(C::RTT_FOLD, &[fx.rd, IPA_LIMIT, 3], INPUT);
    fx.fails(C::RTT_FOLD, &[fx.rd, !(L1 - 1), 2], INPUT);
}

#[test]
fn rtt_fold_fails_rtt_walk() {
    let fx = Fixture::new();
    fx.fails(C::RTT_FOLD, &[fx.rd, 3 * L1, 3], rtt(1));
}

#[test]
fn rtt_fold_fails_rtte_state() {
    let fx = Fixture::new();
    fx.rtt_create(L1, 2);
    fx.fails(C::RTT_FOLD, &[fx.rd, L1 + 4 * L2, 3], rtt(2));
    fx.fails(C::RTT_FOLD, &[fx.rd, 2 * L1, 2], rtt(1));
}

#[test]
fn rtt_fold_fails_rtt_homo() {
    let fx = Fixture::new();
    // One DATA page among UNASSIGNED entries.
    fx.tables(0);
    fx.data_create(5 * G);
    fx.fails(C::RTT_FOLD, &[fx.rd, 0, 3], rtt(3));
    // UNASSIGNED entries with two RIPAS values.
    fx.l3(L2);
    fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, L2, L2 + G]);
    fx.fails(C::RTT_FOLD, &[fx.rd, L2, 3], rtt(3));
    // A level-2 table holding a table.
    fx.fails(C::RTT_FOLD, &[fx.rd, 0, 2], rtt(2));
    // NS pages that are not contiguous.
    fx.tables(UNPROTECTED);
    for i in 0..512 {
        let desc = (NS_PA + (i ^ 1) * G) | WB_RW;
        fx.ok(
            C::RTT_MAP_UNPROTECTED,
            &[fx.rd, UNPROTECTED + i * G, 3, desc],
        );
    }
    fx.fails(C::RTT_FOLD, &[fx.rd, UNPROTECTED, 3], rtt(3));
}

#[test]
fn rtt_fold_level_bound_precedes_rtt_walk() {
    let fx = Fixture::new();
    fx.fails(C::RTT_FOLD, &[fx.rd, 0, 4], INPUT);
}

// ---- RMI_RTT_READ_ENTRY --------------------------------------------------------------------

#[test]
fn rtt_read_entry_reports_every_state() {
    let fx = Fixture::new();
    let (l2, l3) = fx.tables(0);
    fx.data_create(2 * G);
    fx.tables(UNPROTECTED);
    fx.ok(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + G, 3, NS_PA | WB_RW],
    );
    fx.ok(C::DATA_DESTROY, &[fx.rd, 2 * G]);
    let data = fx.data_create(3 * G);

    // TABLE at levels 1 and 2: the next table's address, RIPAS EMPTY.
    assert_eq!(fx.read_entry(0, 1), Entry::new(1, TABLE, l2, EMPTY));
    assert_eq!(fx.read_entry(0, 2), Entry::new(2, TABLE, l3, EMPTY));
    // UNASSIGNED (EMPTY, DESTROYED) and ASSIGNED (RAM) pages.
    assert_eq!(fx.read_entry(0, 3), Entry::new(3, UNASSIGNED, 0, EMPTY));
    assert_eq!(
        fx.read_entry(2 * G, 3),
        Entry::new(3, UNASSIGNED, 0, DESTROYED)
    );
    assert_eq!(fx.read_entry(3 * G, 3), Entry::new(3, ASSIGNED, data, RAM));
    // UNASSIGNED_NS and ASSIGNED_NS read as UNASSIGNED/ASSIGNED, RIPAS EMPTY.
    assert_eq!(
        fx.read_entry(UNPROTECTED, 3),
        Entry::new(3, UNASSIGNED, 0, EMPTY)
    );
    assert_eq!(
        fx.read_entry(UNPROTECTED + G, 3),
        Entry::new(3, ASSIGNED, NS_PA | WB_RW, EMPTY)
    );
    // The walk stops early at a non-TABLE entry.
    assert_eq!(
        fx.read_entry(7 * L1, 3),
        Entry::new(1, UNASSIGNED, 0, EMPTY)
    );
    assert_eq!(
        fx.read_entry(UNPROTECTED + 7 * L1, 2),
        Entry::new(1, UNASSIGNED, 0, EMPTY)
    );
}

rd_condition_tests!(
    C::RTT_READ_ENTRY,
    [
        rtt_read_entry_fails_rd_align: "rd_align",
        rtt_read_entry_fails_rd_bound: "rd_bound",
        rtt_read_entry_fails_rd_state: "rd_state",
    ],
    |fx| vec![0, 3]
);

#[test]
fn rtt_read_entry_fails_level_bound() {
    let fx = Fixture::new();
    for level in BAD_LEVELS {
        fx.fails(C::RTT_READ_ENTRY, &[fx.rd, 0, lvl(level)], INPUT);
    }
    // The starting level itself is readable.
    assert_eq!(fx.read_entry(0, 1), Entry::new(1, UNASSIGNED, 0, EMPTY));
}

#[test]
fn rtt_read_entry_fails_ipa_align() {
    let fx = Fixture::new();
    fx.fails(C::RTT_READ_ENTRY, &[fx.rd, G, 2], INPUT);
    fx.fails(C::RTT_READ_ENTRY, &[fx.rd, L2, 1], INPUT);
    fx.fails(C::RTT_READ_ENTRY, &[fx.rd, 0x800, 3], INPUT);
}

#[test]
fn rtt_read_entry_fails_ipa_bound() {
    let fx = Fixture::new();
    fx.fails(C::RTT_READ_ENTRY, &[fx.rd, IPA_LIMIT, 1], INPUT);
    fx.fails(C::RTT_READ_ENTRY, &[fx.rd, !(G - 1), 3], INPUT);
}

// ---- RMI_RTT_MAP_UNPROTECTED ---------------------------------------------------------------

#[test]
fn rtt_map_unprotected_succeeds_at_levels_1_2_and_3() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED);
    let page = UNPROTECTED + 3 * G;
    assert_eq!(
        fx.ok(C::RTT_MAP_UNPROTECTED, &[fx.rd, page, 3, NS_PA | WB_RW]),
        [0; 4]
    );
    assert_eq!(
        fx.read_entry(page, 3),
        Entry::new(3, ASSIGNED, NS_PA | WB_RW, EMPTY)
    );
    // Device nGnRE, read-only: the host's attributes come back as given.
    let dev = (0b001 << 2) | (0b01 << 6);
    fx.ok(C::RTT_MAP_UNPROTECTED, &[fx.rd, page + G, 3, NS_PA | dev]);
    assert_eq!(fx.read_entry(page + G, 3).desc, NS_PA | dev);
    let block = UNPROTECTED + 7 * L2;
    fx.ok(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, block, 2, (NS_PA + L2) | WB_RW],
    );
    assert_eq!(
        fx.read_entry(block, 3),
        Entry::new(2, ASSIGNED, (NS_PA + L2) | WB_RW, EMPTY)
    );
    let huge = UNPROTECTED + 5 * L1;
    fx.ok(C::RTT_MAP_UNPROTECTED, &[fx.rd, huge, 1, NS_PA | WB_RW]);
    assert_eq!(
        fx.read_entry(huge, 1),
        Entry::new(1, ASSIGNED, NS_PA | WB_RW, EMPTY)
    );
}

#[test]
fn rtt_map_unprotected_fails_attr_valid() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED);
    let bad = [
        NS_PA | (0b100 << 2),      // reserved MemAttr
        NS_PA | WB_RW | 1,         // descriptor type bits
        NS_PA | WB_RW | 0b11,      //
        NS_PA | WB_RW | 1 << 5,    // MemAttr[3], RES0 with FWB
        NS_PA | WB_RW | 0b11 << 8, // SH: the RMM's
        NS_PA | WB_RW | 1 << 10,   // AF: the RMM's
        NS_PA | WB_RW | 1 << 54,   // XN: the RMM's
        NS_PA | WB_RW | 1 << 55,   // NS: the RMM's
        NS_PA | WB_RW | 1 << 63,   // ignored/software bits
    ];
    for desc in bad {
        fx.fails(
            C::RTT_MAP_UNPROTECTED,
            &[fx.rd, UNPROTECTED, 3, desc],
            INPUT,
        );
    }
}

rd_condition_tests!(
    C::RTT_MAP_UNPROTECTED,
    [
        rtt_map_unprotected_fails_rd_align: "rd_align",
        rtt_map_unprotected_fails_rd_bound: "rd_bound",
        rtt_map_unprotected_fails_rd_state: "rd_state",
    ],
    |fx| {
        fx.tables(UNPROTECTED);
        vec![UNPROTECTED, 3, NS_PA | WB_RW]
    }
);

#[test]
fn rtt_map_unprotected_fails_level_bound() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED);
    for level in BAD_LEVELS {
        fx.fails(
            C::RTT_MAP_UNPROTECTED,
            &[fx.rd, UNPROTECTED, lvl(level), NS_PA | WB_RW],
            INPUT,
        );
    }
}

#[test]
fn rtt_map_unprotected_fails_addr_align() {
    let fx = Fixture::new();
    fx.rtt_create(UNPROTECTED, 2);
    let desc = (NS_PA + G) | WB_RW;
    fx.fails(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED, 2, desc],
        INPUT,
    );
    fx.fails(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + L1, 1, (NS_PA + L2) | WB_RW],
        INPUT,
    );
}

#[test]
fn rtt_map_unprotected_fails_addr_bound() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED);
    for pa in [1 << 48, 1 << 51, 0xF << 48 | NS_PA] {
        fx.fails(
            C::RTT_MAP_UNPROTECTED,
            &[fx.rd, UNPROTECTED, 3, pa | WB_RW],
            INPUT,
        );
    }
}

#[test]
fn rtt_map_unprotected_fails_ipa_align() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED);
    let desc = NS_PA | WB_RW;
    fx.fails(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + 0x800, 3, desc],
        INPUT,
    );
    fx.fails(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + L2 + G, 2, desc],
        INPUT,
    );
}

#[test]
fn rtt_map_unprotected_fails_ipa_bound() {
    let fx = Fixture::new();
    fx.tables(0);
    let desc = NS_PA | WB_RW;
    // A protected IPA (its level-3 entry exists), and IPAs outside the realm.
    fx.fails(C::RTT_MAP_UNPROTECTED, &[fx.rd, G, 3, desc], INPUT);
    fx.fails(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED - G, 3, desc],
        INPUT,
    );
    fx.fails(C::RTT_MAP_UNPROTECTED, &[fx.rd, IPA_LIMIT, 1, desc], INPUT);
    fx.fails(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, IPA_LIMIT + G, 3, desc],
        INPUT,
    );
}

#[test]
fn rtt_map_unprotected_fails_rtt_walk() {
    let fx = Fixture::new();
    let desc = NS_PA | WB_RW;
    fx.fails(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED, 3, desc],
        rtt(1),
    );
    fx.rtt_create(UNPROTECTED, 2);
    fx.fails(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED, 3, desc],
        rtt(2),
    );
}

#[test]
fn rtt_map_unprotected_fails_rtte_state() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED);
    let desc = NS_PA | WB_RW;
    fx.ok(C::RTT_MAP_UNPROTECTED, &[fx.rd, UNPROTECTED, 3, desc]);
    // Already mapped, or a TABLE entry where a block was asked for.
    fx.fails(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED, 3, desc],
        rtt(3),
    );
    fx.fails(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED, 2, desc],
        rtt(2),
    );
    fx.fails(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED, 1, desc],
        rtt(1),
    );
}

#[test]
fn rtt_map_unprotected_ipa_bound_precedes_rtt_walk() {
    let fx = Fixture::new();
    // Protected and without tables: the walk would stop at level 1.
    fx.fails(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, 5 * L1, 3, NS_PA | WB_RW],
        INPUT,
    );
}

// ---- RMI_RTT_UNMAP_UNPROTECTED -------------------------------------------------------------

#[test]
fn rtt_unmap_unprotected_returns_the_next_live_entry() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED);
    let desc = NS_PA | WB_RW;
    fx.ok(C::RTT_MAP_UNPROTECTED, &[fx.rd, UNPROTECTED, 3, desc]);
    fx.ok(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + 5 * G, 3, desc],
    );
    assert_eq!(
        fx.ok(C::RTT_UNMAP_UNPROTECTED, &[fx.rd, UNPROTECTED, 3]),
        [UNPROTECTED + 5 * G, 0, 0, 0]
    );
    assert_eq!(
        fx.read_entry(UNPROTECTED, 3),
        Entry::new(3, UNASSIGNED, 0, EMPTY)
    );
    assert_eq!(
        fx.ok(C::RTT_UNMAP_UNPROTECTED, &[fx.rd, UNPROTECTED + 5 * G, 3]),
        [UNPROTECTED + L2, 0, 0, 0]
    );
    // The entry is UNASSIGNED_NS again: it can be mapped again.
    fx.ok(C::RTT_MAP_UNPROTECTED, &[fx.rd, UNPROTECTED, 3, desc]);
    // A block: the level-3 table before it is live, nothing after it.
    fx.ok(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + 3 * L2, 2, desc],
    );
    assert_eq!(
        fx.ok(C::RTT_UNMAP_UNPROTECTED, &[fx.rd, UNPROTECTED + 3 * L2, 2]),
        [UNPROTECTED + L1, 0, 0, 0]
    );
}

rd_condition_tests!(
    C::RTT_UNMAP_UNPROTECTED,
    [
        rtt_unmap_unprotected_fails_rd_align: "rd_align",
        rtt_unmap_unprotected_fails_rd_bound: "rd_bound",
        rtt_unmap_unprotected_fails_rd_state: "rd_state",
    ],
    |fx| {
        fx.tables(UNPROTECTED);
        fx.ok(C::RTT_MAP_UNPROTECTED, &[fx.rd, UNPROTECTED, 3, NS_PA | WB_RW]);
        vec![UNPROTECTED, 3]
    }
);

#[test]
fn rtt_unmap_unprotected_fails_level_bound() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED);
    fx.ok(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED, 3, NS_PA | WB_RW],
    );
    for level in BAD_LEVELS {
        let out = fx.fails(
            C::RTT_UNMAP_UNPROTECTED,
            &[fx.rd, UNPROTECTED, lvl(level)],
            INPUT,
        );
        assert_eq!(out, [0; 4]);
    }
}

#[test]
fn rtt_unmap_unprotected_fails_ipa_align() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED);
    fx.fails(
        C::RTT_UNMAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + 0x10, 3],
        INPUT,
    );
    fx.fails(
        C::RTT_UNMAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + G, 2],
        INPUT,
    );
}

#[test]
fn rtt_unmap_unprotected_fails_ipa_bound() {
    let fx = Fixture::new();
    fx.tables(0);
    fx.fails(C::RTT_UNMAP_UNPROTECTED, &[fx.rd, 0, 3], INPUT);
    fx.fails(C::RTT_UNMAP_UNPROTECTED, &[fx.rd, IPA_LIMIT, 2], INPUT);
}

#[test]
fn rtt_unmap_unprotected_fails_rtt_walk() {
    let fx = Fixture::new();
    // No tables: the walk stops at level 1, nothing live after it in the starting table.
    assert_eq!(
        fx.fails(
            C::RTT_UNMAP_UNPROTECTED,
            &[fx.rd, UNPROTECTED + 3 * L1, 3],
            rtt(1)
        ),
        [IPA_LIMIT, 0, 0, 0]
    );
    // Mapped by a block at a lower level: `top` is the IPA itself.
    fx.rtt_create(UNPROTECTED, 2);
    fx.ok(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + L2, 2, NS_PA | WB_RW],
    );
    assert_eq!(
        fx.fails(
            C::RTT_UNMAP_UNPROTECTED,
            &[fx.rd, UNPROTECTED + L2 + 3 * G, 3],
            rtt(2)
        ),
        [UNPROTECTED + L2, 0, 0, 0]
    );
}

#[test]
fn rtt_unmap_unprotected_fails_rtte_state() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED);
    fx.ok(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + 9 * G, 3, NS_PA | WB_RW],
    );
    // Not mapped: `top` is the next mapped page.
    assert_eq!(
        fx.fails(
            C::RTT_UNMAP_UNPROTECTED,
            &[fx.rd, UNPROTECTED + 2 * G, 3],
            rtt(3)
        ),
        [UNPROTECTED + 9 * G, 0, 0, 0]
    );
    // A TABLE entry is not a mapping either.
    assert_eq!(
        fx.fails(C::RTT_UNMAP_UNPROTECTED, &[fx.rd, UNPROTECTED, 2], rtt(2)),
        [UNPROTECTED, 0, 0, 0]
    );
}

#[test]
fn rtt_unmap_unprotected_ipa_bound_precedes_rtt_walk() {
    let fx = Fixture::new();
    assert_eq!(
        fx.fails(C::RTT_UNMAP_UNPROTECTED, &[fx.rd, 3 * L1, 3], INPUT),
        [0; 4]
    );
}

// ---- RMI_RTT_INIT_RIPAS --------------------------------------------------------------------

#[test]
fn rtt_init_ripas_over_a_level_3_table() {
    let fx = Fixture::new();
    fx.tables(0);
    assert_eq!(
        fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, 0, 4 * G]),
        [4 * G, 0, 0, 0]
    );
    for i in 0..4 {
        assert_eq!(fx.read_entry(i * G, 3), Entry::new(3, UNASSIGNED, 0, RAM));
    }
    assert_eq!(fx.read_entry(4 * G, 3), Entry::new(3, UNASSIGNED, 0, EMPTY));
    // A range running past the table stops at its end.
    assert_eq!(
        fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, 4 * G, 3 * L2]),
        [L2, 0, 0, 0]
    );
    assert_eq!(fx.read_entry(L2 - G, 3), Entry::new(3, UNASSIGNED, 0, RAM));
}

#[test]
fn rtt_init_ripas_at_levels_1_and_2_stops_at_a_table() {
    let fx = Fixture::new();
    // Level 1: one whole entry.
    assert_eq!(
        fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, 2 * L1, 3 * L1]),
        [3 * L1, 0, 0, 0]
    );
    assert_eq!(
        fx.read_entry(2 * L1 + 5 * G, 3),
        Entry::new(1, UNASSIGNED, 0, RAM)
    );
    // Level 2: up to the first TABLE entry.
    fx.rtt_create(L1, 2);
    fx.l3(L1 + 3 * L2);
    assert_eq!(
        fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, L1, 2 * L1]),
        [L1 + 3 * L2, 0, 0, 0]
    );
    assert_eq!(
        fx.read_entry(L1 + 2 * L2, 3),
        Entry::new(2, UNASSIGNED, 0, RAM)
    );
    assert_eq!(
        fx.read_entry(L1 + 3 * L2, 3),
        Entry::new(3, UNASSIGNED, 0, EMPTY)
    );
}

#[test]
fn rtt_init_ripas_covers_assigned_entries() {
    let fx = Fixture::new();
    fx.tables(0);
    let data = fx.delegated();
    fx.ok(C::DATA_CREATE_UNKNOWN, &[fx.rd, data, 2 * G]);
    assert_eq!(
        fx.read_entry(2 * G, 3),
        Entry::new(3, ASSIGNED, data, EMPTY)
    );
    assert_eq!(
        fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, 0, 4 * G]),
        [4 * G, 0, 0, 0]
    );
    assert_eq!(fx.read_entry(2 * G, 3), Entry::new(3, ASSIGNED, data, RAM));
}

rd_condition_tests!(
    C::RTT_INIT_RIPAS,
    [
        rtt_init_ripas_fails_rd_align: "rd_align",
        rtt_init_ripas_fails_rd_bound: "rd_bound",
        rtt_init_ripas_fails_rd_state: "rd_state",
    ],
    |fx| {
        fx.tables(0);
        vec![0, G]
    }
);

#[test]
fn rtt_init_ripas_fails_size_valid() {
    let fx = Fixture::new();
    fx.tables(0);
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, G, G], INPUT);
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, 2 * G, G], INPUT);
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, G, 0], INPUT);
}

#[test]
fn rtt_init_ripas_fails_top_bound() {
    let fx = Fixture::new();
    fx.tables(0);
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, 0, UNPROTECTED + G], INPUT);
    fx.fails(
        C::RTT_INIT_RIPAS,
        &[fx.rd, UNPROTECTED - G, UNPROTECTED + G],
        INPUT,
    );
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, 0, !(G - 1)], INPUT);
    // `top - 4 KiB` wraps below zero for a top under one granule.
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, 0, 0x800], INPUT);
    // The last protected granule is fine.
    fx.rtt_create(UNPROTECTED - L1, 2);
    fx.l3(UNPROTECTED - L2);
    fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, UNPROTECTED - G, UNPROTECTED]);
}

#[test]
fn rtt_init_ripas_fails_realm_state() {
    let fx = Fixture::new();
    fx.tables(0);
    fx.activate();
    assert_eq!(fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, 0, G], REALM), [0; 4]);
}

#[test]
fn rtt_init_ripas_fails_base_align() {
    let fx = Fixture::new();
    fx.rtt_create(0, 2);
    // The walk stops at level 2; the base must be 2 MiB aligned there.
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, G, 2 * G], rtt(2));
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, L1 + L2, L1 + 2 * L2], rtt(1));
}

#[test]
fn rtt_init_ripas_fails_rtte_state() {
    let fx = Fixture::new();
    fx.tables(0);
    fx.data_create(G);
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, G, 2 * G], rtt(3));
}

#[test]
fn rtt_init_ripas_fails_top_gran_align() {
    let fx = Fixture::new();
    fx.tables(0);
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, 0, G + 0x800], INPUT);
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, 0, 3 * G + 1], INPUT);
}

#[test]
fn rtt_init_ripas_fails_no_progress() {
    let fx = Fixture::new();
    // A range inside one level-1 entry, and inside one level-2 entry.
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, 0, 4 * G], rtt(1));
    fx.rtt_create(0, 2);
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, 0, 4 * G], rtt(2));
}

#[test]
fn rtt_init_ripas_top_gran_align_precedes_no_progress() {
    let fx = Fixture::new();
    fx.rtt_create(0, 2);
    fx.fails(C::RTT_INIT_RIPAS, &[fx.rd, 0, G + 0x800], INPUT);
}

// ---- RMI_RTT_SET_RIPAS ---------------------------------------------------------------------

/// A realm with a level-3 table at 0 and a REC asking for RAM over `[0, 4 pages)`.
fn ripas_fixture() -> (Fixture, u64) {
    let fx = Fixture::new();
    fx.tables(0);
    let rec = fx.rec_create(fx.rd);
    fx.request_ripas(rec, 0, 4 * G, Ripas::Ram, false);
    (fx, rec)
}

#[test]
fn rtt_set_ripas_completes_a_request_in_steps() {
    let (fx, rec) = ripas_fixture();
    assert_eq!(
        fx.ok(C::RTT_SET_RIPAS, &[fx.rd, rec, 0, 2 * G]),
        [2 * G, 0, 0, 0]
    );
    assert_eq!(fx.with_rec(rec, |r| r.ripas.addr), 2 * G);
    assert_eq!(fx.read_entry(G, 3), Entry::new(3, UNASSIGNED, 0, RAM));
    assert_eq!(fx.read_entry(2 * G, 3), Entry::new(3, UNASSIGNED, 0, EMPTY));
    assert_eq!(
        fx.ok(C::RTT_SET_RIPAS, &[fx.rd, rec, 2 * G, 4 * G]),
        [4 * G, 0, 0, 0]
    );
    assert_eq!(fx.with_rec(rec, |r| r.ripas.addr), 4 * G);
    assert_eq!(fx.read_entry(3 * G, 3), Entry::new(3, UNASSIGNED, 0, RAM));
    assert_eq!(fx.read_entry(4 * G, 3), Entry::new(3, UNASSIGNED, 0, EMPTY));
}

#[test]
fn rtt_set_ripas_to_empty_keeps_data_assigned() {
    let fx = Fixture::new();
    fx.tables(0);
    let d0 = fx.data_create(0);
    let d1 = fx.data_create(G);
    let rec = fx.rec_create(fx.rd);
    fx.activate();
    fx.request_ripas(rec, 0, 2 * G, Ripas::Empty, false);
    assert_eq!(
        fx.ok(C::RTT_SET_RIPAS, &[fx.rd, rec, 0, 2 * G]),
        [2 * G, 0, 0, 0]
    );
    assert_eq!(fx.read_entry(0, 3), Entry::new(3, ASSIGNED, d0, EMPTY));
    assert_eq!(fx.read_entry(G, 3), Entry::new(3, ASSIGNED, d1, EMPTY));
}

#[test]
fn rtt_set_ripas_stops_at_destroyed_unless_allowed() {
    let (fx, rec) = ripas_fixture();
    fx.data_create(G);
    fx.ok(C::DATA_DESTROY, &[fx.rd, G]);
    assert_eq!(
        fx.ok(C::RTT_SET_RIPAS, &[fx.rd, rec, 0, 4 * G]),
        [G, 0, 0, 0]
    );
    // The next step starts on the DESTROYED entry: no progress.
    fx.fails(C::RTT_SET_RIPAS, &[fx.rd, rec, G, 4 * G], rtt(3));
    // With CHANGE_DESTROYED the realm accepts that it changes too.
    fx.request_ripas(rec, G, 4 * G, Ripas::Ram, true);
    assert_eq!(
        fx.ok(C::RTT_SET_RIPAS, &[fx.rd, rec, G, 4 * G]),
        [4 * G, 0, 0, 0]
    );
    assert_eq!(fx.read_entry(G, 3), Entry::new(3, UNASSIGNED, 0, RAM));
}

#[test]
fn rtt_set_ripas_over_a_block_that_already_has_the_ripas() {
    let fx = Fixture::new();
    let rec = fx.rec_create(fx.rd);
    fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, 2 * L1, 3 * L1]);
    // Nothing to change: no need to split the level-1 entry, the request simply progresses.
    fx.request_ripas(rec, 2 * L1 + G, 2 * L1 + 3 * G, Ripas::Ram, false);
    let out = fx.ok(C::RTT_SET_RIPAS, &[fx.rd, rec, 2 * L1 + G, 2 * L1 + 3 * G]);
    assert_eq!(out, [2 * L1 + 3 * G, 0, 0, 0]);
    assert_eq!(fx.read_entry(2 * L1, 3), Entry::new(1, UNASSIGNED, 0, RAM));
    // Asking for another RIPAS there needs the entry split: base_align at level 1.
    fx.request_ripas(rec, 2 * L1 + G, 2 * L1 + 3 * G, Ripas::Empty, false);
    fx.fails(
        C::RTT_SET_RIPAS,
        &[fx.rd, rec, 2 * L1 + G, 2 * L1 + 3 * G],
        rtt(1),
    );
}

rd_condition_tests!(
    C::RTT_SET_RIPAS,
    [
        rtt_set_ripas_fails_rd_align: "rd_align",
        rtt_set_ripas_fails_rd_bound: "rd_bound",
        rtt_set_ripas_fails_rd_state: "rd_state",
    ],
    |fx| {
        fx.tables(0);
        let rec = fx.rec_create(fx.rd);
        fx.request_ripas(rec, 0, 4 * G, Ripas::Ram, false);
        vec![rec, 0, G]
    }
);

/// Asserts RTT_SET_RIPAS with each of `recs` fails with RMI_ERROR_INPUT, then succeeds with the
/// real REC.
fn set_ripas_rejects_recs(fx: &Fixture, rec: u64, recs: &[u64]) {
    for &bad in recs {
        fx.fails(C::RTT_SET_RIPAS, &[fx.rd, bad, 0, G], INPUT);
    }
    fx.ok(C::RTT_SET_RIPAS, &[fx.rd, rec, 0, G]);
}

#[test]
fn rtt_set_ripas_fails_rec_align() {
    let (fx, rec) = ripas_fixture();
    set_ripas_rejects_recs(&fx, rec, &[rec + 8, rec + 0x800, rec | 1]);
}

#[test]
fn rtt_set_ripas_fails_rec_bound() {
    let (fx, rec) = ripas_fixture();
    set_ripas_rejects_recs(&fx, rec, &[0x1000, 0x0900_0000, 1 << 47]);
}

#[test]
fn rtt_set_ripas_fails_rec_gran_state() {
    let (fx, rec) = ripas_fixture();
    let data = fx.data_create(5 * G);
    let aux = fx.with_rec(rec, |r| r.aux[0]);
    let bad = [NS_FREE, fx.rd, RTT_BASE, data, aux, fx.delegated()];
    set_ripas_rejects_recs(&fx, rec, &bad);
}

#[test]
fn rtt_set_ripas_fails_rec_state() {
    let (fx, rec) = ripas_fixture();
    fx.with_rec(rec, |r| r.running = true);
    fx.fails(C::RTT_SET_RIPAS, &[fx.rd, rec, 0, G], REC);
}

#[test]
fn rtt_set_ripas_fails_rec_owner() {
    let (fx, _) = ripas_fixture();
    let other = fx.create_realm(0x8020_0000, 0x8020_2000, 2);
    let foreign = fx.rec_create(other);
    fx.request_ripas(foreign, 0, 4 * G, Ripas::Ram, false);
    fx.fails(C::RTT_SET_RIPAS, &[fx.rd, foreign, 0, G], REC);
}

#[test]
fn rtt_set_ripas_fails_size_valid() {
    let (fx, rec) = ripas_fixture();
    fx.fails(C::RTT_SET_RIPAS, &[fx.rd, rec, 0, 0], INPUT);
    fx.request_ripas(rec, 2 * G, 4 * G, Ripas::Ram, false);
    fx.fails(C::RTT_SET_RIPAS, &[fx.rd, rec, 2 * G, G], INPUT);
}

#[test]
fn rtt_set_ripas_fails_base_bound() {
    let (fx, rec) = ripas_fixture();
    fx.fails(C::RTT_SET_RIPAS, &[fx.rd, rec, G, 2 * G], INPUT);
    // A REC with nothing pending accepts no range at all.
    let idle = fx.rec_create(fx.rd);
    fx.fails(C::RTT_SET_RIPAS, &[fx.rd, idle, 0, G], INPUT);
}

#[test]
fn rtt_set_ripas_fails_top_bound() {
    let (fx, rec) = ripas_fixture();
    fx.fails(C::RTT_SET_RIPAS, &[fx.rd, rec, 0, 5 * G], INPUT);
}

#[test]
fn rtt_set_ripas_fails_base_align() {
    let fx = Fixture::new();
    fx.rtt_create(0, 2);
    let rec = fx.rec_create(fx.rd);
    fx.request_ripas(rec, G, 3 * G, Ripas::Ram, false);
    fx.fails(C::RTT_SET_RIPAS, &[fx.rd, rec, G, 3 * G], rtt(2));
}

#[test]
fn rtt_set_ripas_fails_top_gran_align() {
    let (fx, rec) = ripas_fixture();
    fx.fails(C::RTT_SET_RIPAS, &[fx.rd, rec, 0, G + 0x800], INPUT);
}

#[test]
fn rtt_set_ripas_fails_no_progress() {
    let fx = Fixture::new();
    fx.rtt_create(0, 2);
    let rec = fx.rec_create(fx.rd);
    // A range inside one level-2 entry whose RIPAS differs.
    fx.request_ripas(rec, 0, 3 * G, Ripas::Ram, false);
    fx.fails(C::RTT_SET_RIPAS, &[fx.rd, rec, 0, 3 * G], rtt(2));
}

#[test]
fn rtt_set_ripas_base_bound_precedes_base_align() {
    let fx = Fixture::new();
    fx.rtt_create(0, 2);
    let rec = fx.rec_create(fx.rd);
    fx.request_ripas(rec, 0, 4 * G, Ripas::Ram, false);
    // G is not where the request stands, and not 2 MiB aligned where the walk stops.
    fx.fails(C::RTT_SET_RIPAS, &[fx.rd, rec, G, 3 * G], INPUT);
}

#[test]
fn rtt_set_ripas_top_gran_align_precedes_no_progress() {
    let fx = Fixture::new();
    fx.rtt_create(0, 2);
    let rec = fx.rec_create(fx.rd);
    fx.request_ripas(rec, 0, 4 * G, Ripas::Ram, false);
    fx.fails(C::RTT_SET_RIPAS, &[fx.rd, rec, 0, G + 0x800], INPUT);
}

// ---- Scenarios -----------------------------------------------------------------------------

#[test]
fn build_up_read_back_and_tear_down() {
    let fx = Fixture::new();
    // Tables at levels 2 and 3 in two places, DATA pages, an unknown page, an NS page.
    let (l2, l3a) = fx.tables(0);
    let l3b = fx.l3(5 * L2);
    let pages = [0, G, 7 * G, 5 * L2 + 3 * G];
    let data: Vec<u64> = pages.iter().map(|&ipa| fx.data_create(ipa)).collect();
    let unknown = fx.delegated();
    fx.ok(C::DATA_CREATE_UNKNOWN, &[fx.rd, unknown, 9 * G]);
    let (ul2, ul3) = fx.tables(UNPROTECTED);
    fx.ok(
        C::RTT_MAP_UNPROTECTED,
        &[fx.rd, UNPROTECTED + 2 * G, 3, NS_FREE | WB_RW],
    );
    fx.activate();

    for (&ipa, &pa) in pages.iter().zip(&data) {
        assert_eq!(fx.read_entry(ipa, 3), Entry::new(3, ASSIGNED, pa, RAM));
        assert_eq!(fx.sim.mem.read(pa), Fixture::pattern(ipa));
    }
    assert_eq!(
        fx.read_entry(9 * G, 3),
        Entry::new(3, ASSIGNED, unknown, EMPTY)
    );
    assert_eq!(fx.read_entry(5 * L2, 2), Entry::new(2, TABLE, l3b, EMPTY));
    assert_eq!(
        fx.read_entry(UNPROTECTED + 2 * G, 3),
        Entry::new(3, ASSIGNED, NS_FREE | WB_RW, EMPTY)
    );

    // Down: data, the unprotected mapping, tables bottom-up, the realm.
    for (&ipa, &pa) in pages.iter().zip(&data) {
        assert_eq!(fx.ok(C::DATA_DESTROY, &[fx.rd, ipa])[0], pa);
    }
    assert_eq!(fx.ok(C::DATA_DESTROY, &[fx.rd, 9 * G])[0], unknown);
    fx.ok(C::RTT_UNMAP_UNPROTECTED, &[fx.rd, UNPROTECTED + 2 * G, 3]);
    assert_eq!(fx.ok(C::RTT_DESTROY, &[fx.rd, UNPROTECTED, 3])[0], ul3);
    assert_eq!(fx.ok(C::RTT_DESTROY, &[fx.rd, UNPROTECTED, 2])[0], ul2);
    assert_eq!(fx.ok(C::RTT_DESTROY, &[fx.rd, 5 * L2, 3])[0], l3b);
    assert_eq!(fx.ok(C::RTT_DESTROY, &[fx.rd, 0, 3])[0], l3a);
    assert_eq!(fx.ok(C::RTT_DESTROY, &[fx.rd, 0, 2])[0], l2);
    fx.ok(C::REALM_DESTROY, &[fx.rd]);
    for pa in fx.granules() {
        assert_eq!(fx.call(C::GRANULE_UNDELEGATE, &[pa])[0], SUCCESS, "{pa:#x}");
        assert_eq!(fx.sim.mem.read(pa), [0; 4096], "{pa:#x} wiped");
    }
}

#[test]
fn wrong_order_destruction_leaves_the_realm_intact() {
    let fx = Fixture::new();
    let (l2, l3) = fx.tables(0);
    let data = fx.data_create(3 * G);
    // Tables holding data, a realm holding tables, granules in use.
    fx.fails(C::RTT_DESTROY, &[fx.rd, 0, 3], rtt(3));
    fx.fails(C::RTT_DESTROY, &[fx.rd, 0, 2], rtt(2));
    fx.fails(C::REALM_DESTROY, &[fx.rd], REALM);
    for pa in [fx.rd, RTT_BASE, l2, l3, data] {
        fx.fails(C::GRANULE_UNDELEGATE, &[pa], INPUT);
    }
    // Everything still works, and the right order succeeds.
    assert_eq!(fx.read_entry(3 * G, 3), Entry::new(3, ASSIGNED, data, RAM));
    assert_eq!(fx.sim.mem.read(data), Fixture::pattern(3 * G));
    fx.ok(C::DATA_DESTROY, &[fx.rd, 3 * G]);
    fx.fails(C::REALM_DESTROY, &[fx.rd], REALM);
    fx.ok(C::RTT_DESTROY, &[fx.rd, 0, 3]);
    fx.ok(C::RTT_DESTROY, &[fx.rd, 0, 2]);
    fx.ok(C::REALM_DESTROY, &[fx.rd]);
}
