//! RMI_DATA_CREATE, RMI_DATA_CREATE_UNKNOWN and RMI_DATA_DESTROY (B4.3.1-B4.3.3), driven through
//! the RMI as a host would: the success paths, one test per failure condition (named after the
//! spec's condition ID) that also checks nothing changed, and the orderings the spec defines.

use hostcall_abi::GRANULE_SIZE;

use super::realm_fixture::*;
use crate::granule::GranuleState;
use crate::sim::QEMU_RMM_REGION;

/// A realm with a level-3 table over `[0, 2 MiB)`, a delegated granule and a source page: the
/// arguments after `rd` of a DATA_CREATE that succeeds at `ipa`.
fn data_create_args(fx: &Fixture, ipa: u64) -> [u64; 4] {
    let data = fx.delegated();
    let src = fx.ns_page(&Fixture::pattern(ipa));
    [data, ipa, src, 0]
}

/// RMI_DATA_CREATE(fx.rd, args...).
fn data_create(fx: &Fixture, [data, ipa, src, flags]: [u64; 4]) -> [u64; 5] {
    fx.call(C::DATA_CREATE, &[fx.rd, data, ipa, src, flags])
}

// ---- RMI_DATA_CREATE -----------------------------------------------------------------------

#[test]
fn data_create_copies_the_source_and_maps_it_as_ram() {
    let fx = Fixture::new();
    fx.tables(0);
    let [data, ipa, src, flags] = data_create_args(&fx, 5 * G);
    assert_eq!(
        data_create(&fx, [data, ipa, src, flags]),
        [SUCCESS, 0, 0, 0, 0]
    );
    assert_eq!(fx.state(data), GranuleState::Data);
    assert_eq!(fx.sim.mem.read(data), Fixture::pattern(5 * G));
    assert_eq!(
        fx.sim.mem.read(src),
        Fixture::pattern(5 * G),
        "source untouched"
    );
    assert_eq!(fx.read_entry(5 * G, 3), Entry::new(3, ASSIGNED, data, RAM));
    // The neighbours stay unassigned.
    assert_eq!(fx.read_entry(4 * G, 3), Entry::new(3, UNASSIGNED, 0, EMPTY));
}

#[test]
fn data_create_accepts_the_measure_flag() {
    let fx = Fixture::new();
    fx.tables(0);
    let [data, ipa, src, _] = data_create_args(&fx, 0);
    assert_eq!(data_create(&fx, [data, ipa, src, 1])[0], SUCCESS);
    assert_eq!(fx.read_entry(0, 3), Entry::new(3, ASSIGNED, data, RAM));
}

#[test]
fn data_create_makes_any_ripas_ram() {
    let fx = Fixture::new();
    fx.tables(0);
    // A DESTROYED page.
    fx.data_create(G);
    fx.ok(C::DATA_DESTROY, &[fx.rd, G]);
    assert_eq!(fx.read_entry(G, 3).ripas, DESTROYED);
    let data = fx.data_create(G);
    assert_eq!(fx.read_entry(G, 3), Entry::new(3, ASSIGNED, data, RAM));
}

#[test]
fn data_create_fails_flags_reserved() {
    // Not a condition of the spec's table: RmiDataFlags bits 63:1 are SBZ (B4.4.2) and are
    // refused, as TF-RMM does, rather than given a meaning.
    let fx = Fixture::new();
    fx.tables(0);
    let [data, ipa, src, _] = data_create_args(&fx, 0);
    for flags in [2, 3, 1 << 63, u64::MAX] {
        fx.fails(C::DATA_CREATE, &[fx.rd, data, ipa, src, flags], INPUT);
    }
    assert_eq!(data_create(&fx, [data, ipa, src, 0])[0], SUCCESS);
}

#[test]
fn data_create_fails_src_align() {
    let fx = Fixture::new();
    fx.tables(0);
    let [data, ipa, src, _] = data_create_args(&fx, 0);
    for bad in [src + 8, src + 0x800, src | 1] {
        fx.fails(C::DATA_CREATE, &[fx.rd, data, ipa, bad, 0], INPUT);
    }
}

#[test]
fn data_create_fails_src_bound() {
    let fx = Fixture::new();
    fx.tables(0);
    let [data, ipa, _, _] = data_create_args(&fx, 0);
    for bad in [0x1000, 0x0900_0000, 1 << 47, !(G - 1)] {
        fx.fails(C::DATA_CREATE, &[fx.rd, data, ipa, bad, 0], INPUT);
    }
}

#[test]
fn data_create_fails_src_pas() {
    let fx = Fixture::new();
    fx.tables(0);
    let [data, ipa, _, _] = data_create_args(&fx, 0);
    // Realm PAS: a delegated granule, the RD, a starting table, the RMM's own region.
    let delegated = fx.delegated();
    for bad in [delegated, fx.rd, RTT_BASE, QEMU_RMM_REGION.0] {
        fx.fails(C::DATA_CREATE, &[fx.rd, data, ipa, bad, 0], INPUT);
    }
}

#[test]
fn data_create_fails_data_align() {
    let fx = Fixture::new();
    fx.tables(0);
    let [data, ipa, src, _] = data_create_args(&fx, 0);
    for bad in [data + 8, data + 0x800] {
        fx.fails(C::DATA_CREATE, &[fx.rd, bad, ipa, src, 0], INPUT);
    }
}

#[test]
fn data_create_fails_data_bound() {
    let fx = Fixture::new();
    fx.tables(0);
    let [_, ipa, src, _] = data_create_args(&fx, 0);
    for bad in [0x1000, 0x0900_0000, 1 << 47] {
        fx.fails(C::DATA_CREATE, &[fx.rd, bad, ipa, src, 0], INPUT);
    }
}

#[test]
fn data_create_fails_data_state() {
    let fx = Fixture::new();
    let (l2, _) = fx.tables(0);
    let other = fx.data_create(G);
    let [_, ipa, src, _] = data_create_args(&fx, 0);
    // Undelegated, the RD itself, an RTT, a DATA granule.
    for bad in [NS_FREE, fx.rd, RTT_BASE, l2, other] {
        fx.fails(C::DATA_CREATE, &[fx.rd, bad, ipa, src, 0], INPUT);
    }
}

#[test]
fn data_create_fails_data_bound2() {
    let (fx, high) = Fixture::with_high_bank();
    fx.tables(0);
    fx.delegate(high);
    let src = fx.ns_page(&[7; GRANULE_SIZE]);
    fx.fails(C::DATA_CREATE, &[fx.rd, high, 0, src, 0], INPUT);
    assert_eq!(fx.state(high), GranuleState::Delegated);
}

rd_condition_tests!(
    C::DATA_CREATE,
    [
        data_create_fails_rd_align: "rd_align",
        data_create_fails_rd_bound: "rd_bound",
        data_create_fails_rd_state: "rd_state",
    ],
    |fx| {
        fx.tables(0);
        data_create_args(&fx, 0).to_vec()
    }
);

#[test]
fn data_create_fails_ipa_align() {
    let fx = Fixture::new();
    fx.tables(0);
    let [data, _, src, _] = data_create_args(&fx, 0);
    for bad in [8, 0x800, G + 1] {
        fx.fails(C::DATA_CREATE, &[fx.rd, data, bad, src, 0], INPUT);
    }
}

#[test]
fn data_create_fails_ipa_bound() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED);
    let [data, _, src, _] = data_create_args(&fx, 0);
    // Unprotected (with a level-3 table there), and outside the realm.
    for bad in [UNPROTECTED, UNPROTECTED + 5 * G, IPA_LIMIT, !(G - 1)] {
        fx.fails(C::DATA_CREATE, &[fx.rd, data, bad, src, 0], INPUT);
    }
}

#[test]
fn data_create_fails_realm_state() {
    let fx = Fixture::new();
    fx.tables(0);
    let args = data_create_args(&fx, 0);
    fx.activate();
    let [data, ipa, src, _] = args;
    assert_eq!(
        fx.fails(C::DATA_CREATE, &[fx.rd, data, ipa, src, 0], REALM),
        [0; 4]
    );
}

#[test]
fn data_create_fails_rtt_walk() {
    let fx = Fixture::new();
    let [data, ipa, src, _] = data_create_args(&fx, 0);
    fx.fails(C::DATA_CREATE, &[fx.rd, data, ipa, src, 0], rtt(1));
    fx.rtt_create(0, 2);
    fx.fails(C::DATA_CREATE, &[fx.rd, data, ipa, src, 0], rtt(2));
}

#[test]
fn data_create_fails_rtte_state() {
    let fx = Fixture::new();
    fx.tables(0);
    fx.data_create(0);
    let [data, ipa, src, _] = data_create_args(&fx, 0);
    fx.fails(C::DATA_CREATE, &[fx.rd, data, ipa, src, 0], rtt(3));
}

#[test]
fn data_create_ipa_bound_precedes_rtt_walk() {
    let fx = Fixture::new();
    // Unprotected, no tables: the walk would stop at level 1.
    let [data, _, src, _] = data_create_args(&fx, 0);
    fx.fails(
        C::DATA_CREATE,
        &[fx.rd, data, UNPROTECTED + 3 * L1, src, 0],
        INPUT,
    );
}

#[test]
fn data_create_rd_state_precedes_realm_state_and_rtt_walk() {
    let fx = Fixture::new();
    fx.activate();
    let [data, ipa, src, _] = data_create_args(&fx, 0);
    // The starting table is no RD: the realm's state and its RTTs are never looked at.
    fx.fails(C::DATA_CREATE, &[RTT_BASE, data, ipa, src, 0], INPUT);
}

#[test]
fn data_create_reports_realm_state_before_rtt_walk() {
    // The spec leaves these two unordered; this RMM checks the realm's state first.
    let fx = Fixture::new();
    fx.activate();
    let [data, ipa, src, _] = data_create_args(&fx, 0);
    fx.fails(C::DATA_CREATE, &[fx.rd, data, ipa, src, 0], REALM);
}

// ---- RMI_DATA_CREATE_UNKNOWN ---------------------------------------------------------------

#[test]
fn data_create_unknown_wipes_and_keeps_the_ripas() {
    let fx = Fixture::new();
    fx.tables(0);
    fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, 4 * G, 5 * G]);
    fx.activate();
    // Whatever a granule held while delegated does not reach the realm.
    let empty = fx.delegated();
    let ram = fx.delegated();
    fx.sim.mem.write(empty, &[0xEE; GRANULE_SIZE]);
    fx.sim.mem.write(ram, &[0xDD; GRANULE_SIZE]);
    assert_eq!(
        fx.ok(C::DATA_CREATE_UNKNOWN, &[fx.rd, empty, 3 * G]),
        [0; 4]
    );
    assert_eq!(fx.ok(C::DATA_CREATE_UNKNOWN, &[fx.rd, ram, 4 * G]), [0; 4]);
    for (pa, ipa, ripas) in [(empty, 3 * G, EMPTY), (ram, 4 * G, RAM)] {
        assert_eq!(fx.state(pa), GranuleState::Data);
        assert_eq!(fx.sim.mem.read(pa), [0; GRANULE_SIZE]);
        assert_eq!(fx.read_entry(ipa, 3), Entry::new(3, ASSIGNED, pa, ripas));
    }
}

#[test]
fn data_create_unknown_keeps_destroyed() {
    let fx = Fixture::new();
    fx.tables(0);
    fx.data_create(G);
    fx.ok(C::DATA_DESTROY, &[fx.rd, G]);
    let data = fx.delegated();
    fx.ok(C::DATA_CREATE_UNKNOWN, &[fx.rd, data, G]);
    assert_eq!(
        fx.read_entry(G, 3),
        Entry::new(3, ASSIGNED, data, DESTROYED)
    );
}

/// A realm with a level-3 table at 0 and a delegated granule: DATA_CREATE_UNKNOWN of it at 0
/// succeeds.
fn unknown_fixture() -> (Fixture, u64) {
    let fx = Fixture::new();
    fx.tables(0);
    let data = fx.delegated();
    (fx, data)
}

#[test]
fn data_create_unknown_fails_data_align() {
    let (fx, data) = unknown_fixture();
    for bad in [data + 8, data + 0x800, data | 1] {
        fx.fails(C::DATA_CREATE_UNKNOWN, &[fx.rd, bad, 0], INPUT);
    }
    fx.ok(C::DATA_CREATE_UNKNOWN, &[fx.rd, data, 0]);
}

#[test]
fn data_create_unknown_fails_data_bound() {
    let (fx, data) = unknown_fixture();
    for bad in [0x1000, 0x0900_0000, 1 << 47] {
        fx.fails(C::DATA_CREATE_UNKNOWN, &[fx.rd, bad, 0], INPUT);
    }
    fx.ok(C::DATA_CREATE_UNKNOWN, &[fx.rd, data, 0]);
}

#[test]
fn data_create_unknown_fails_data_state() {
    let (fx, data) = unknown_fixture();
    let used = fx.data_create(G);
    let l2 = fx.read_entry(0, 1).desc;
    for bad in [NS_FREE, fx.rd, RTT_BASE, l2, used] {
        fx.fails(C::DATA_CREATE_UNKNOWN, &[fx.rd, bad, 0], INPUT);
    }
    fx.ok(C::DATA_CREATE_UNKNOWN, &[fx.rd, data, 0]);
}

#[test]
fn data_create_unknown_fails_data_bound2() {
    let (fx, high) = Fixture::with_high_bank();
    fx.tables(0);
    fx.delegate(high);
    fx.fails(C::DATA_CREATE_UNKNOWN, &[fx.rd, high, 0], INPUT);
}

rd_condition_tests!(
    C::DATA_CREATE_UNKNOWN,
    [
        data_create_unknown_fails_rd_align: "rd_align",
        data_create_unknown_fails_rd_bound: "rd_bound",
        data_create_unknown_fails_rd_state: "rd_state",
    ],
    |fx| {
        fx.tables(0);
        vec![fx.delegated(), 0]
    }
);

#[test]
fn data_create_unknown_fails_ipa_align() {
    let (fx, data) = unknown_fixture();
    for bad in [8, 0x800, G + 1] {
        fx.fails(C::DATA_CREATE_UNKNOWN, &[fx.rd, data, bad], INPUT);
    }
}

#[test]
fn data_create_unknown_fails_ipa_bound() {
    let (fx, data) = unknown_fixture();
    fx.tables(UNPROTECTED);
    for bad in [UNPROTECTED, UNPROTECTED + 5 * G, IPA_LIMIT, !(G - 1)] {
        fx.fails(C::DATA_CREATE_UNKNOWN, &[fx.rd, data, bad], INPUT);
    }
}

#[test]
fn data_create_unknown_fails_rtt_walk() {
    let (fx, data) = unknown_fixture();
    fx.fails(C::DATA_CREATE_UNKNOWN, &[fx.rd, data, 3 * L1], rtt(1));
    fx.fails(C::DATA_CREATE_UNKNOWN, &[fx.rd, data, 5 * L2], rtt(2));
}

#[test]
fn data_create_unknown_fails_rtte_state() {
    let (fx, data) = unknown_fixture();
    fx.data_create(0);
    fx.fails(C::DATA_CREATE_UNKNOWN, &[fx.rd, data, 0], rtt(3));
}

#[test]
fn data_create_unknown_ipa_bound_precedes_rtt_walk() {
    let (fx, data) = unknown_fixture();
    fx.fails(
        C::DATA_CREATE_UNKNOWN,
        &[fx.rd, data, UNPROTECTED + 3 * L1],
        INPUT,
    );
}

// ---- RMI_DATA_DESTROY ----------------------------------------------------------------------

#[test]
fn data_destroy_returns_the_granule_and_the_next_live_entry() {
    let fx = Fixture::new();
    fx.tables(L1);
    let a = fx.data_create(L1);
    let b = fx.data_create(L1 + 5 * G);
    assert_eq!(fx.ok(C::DATA_DESTROY, &[fx.rd, L1]), [a, L1 + 5 * G, 0, 0]);
    assert_eq!(fx.state(a), GranuleState::Delegated);
    assert_eq!(fx.sim.mem.read(a), [0; GRANULE_SIZE], "wiped");
    assert_eq!(
        fx.read_entry(L1, 3),
        Entry::new(3, UNASSIGNED, 0, DESTROYED)
    );
    // The last live entry: `top` is the end of the level-3 table.
    assert_eq!(
        fx.ok(C::DATA_DESTROY, &[fx.rd, L1 + 5 * G]),
        [b, L1 + L2, 0, 0]
    );
    for pa in [a, b] {
        assert_eq!(fx.call(C::GRANULE_UNDELEGATE, &[pa])[0], SUCCESS);
    }
}

#[test]
fn data_destroy_keeps_empty() {
    let fx = Fixture::new();
    fx.tables(0);
    let data = fx.delegated();
    fx.ok(C::DATA_CREATE_UNKNOWN, &[fx.rd, data, 2 * G]);
    fx.activate();
    assert_eq!(fx.ok(C::DATA_DESTROY, &[fx.rd, 2 * G]), [data, L2, 0, 0]);
    assert_eq!(fx.read_entry(2 * G, 3), Entry::new(3, UNASSIGNED, 0, EMPTY));
}

rd_condition_tests!(
    C::DATA_DESTROY,
    [
        data_destroy_fails_rd_align: "rd_align",
        data_destroy_fails_rd_bound: "rd_bound",
        data_destroy_fails_rd_state: "rd_state",
    ],
    |fx| {
        fx.tables(0);
        fx.data_create(0);
        vec![0]
    }
);

#[test]
fn data_destroy_fails_ipa_align() {
    let fx = Fixture::new();
    fx.tables(0);
    fx.data_create(0);
    for bad in [8, 0x800, 1] {
        assert_eq!(fx.fails(C::DATA_DESTROY, &[fx.rd, bad], INPUT), [0; 4]);
    }
}

#[test]
fn data_destroy_fails_ipa_bound() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED);
    fx.ok(C::RTT_MAP_UNPROTECTED, &[fx.rd, UNPROTECTED, 3, NS_FREE]);
    for bad in [UNPROTECTED, IPA_LIMIT, !(G - 1)] {
        assert_eq!(fx.fails(C::DATA_DESTROY, &[fx.rd, bad], INPUT), [0; 4]);
    }
}

#[test]
fn data_destroy_fails_rtt_walk() {
    let fx = Fixture::new();
    fx.rtt_create(L1, 2);
    // No level-2 table for the first GiB: the next live entry of the starting table is 1 GiB.
    assert_eq!(
        fx.fails(C::DATA_DESTROY, &[fx.rd, 3 * G], rtt(1)),
        [0, L1, 0, 0]
    );
    // No level-3 table under the level-2 one: nothing live after it in that table.
    assert_eq!(
        fx.fails(C::DATA_DESTROY, &[fx.rd, L1 + 2 * L2], rtt(2)),
        [0, 2 * L1, 0, 0]
    );
}

#[test]
fn data_destroy_fails_rtt_walk_on_a_block() {
    let fx = Fixture::new();
    fx.tables(L1);
    let base = fx.delegated_run(512, L2);
    for i in 0..512 {
        fx.data_create_at(base + i * G, L1 + i * G);
    }
    fx.ok(C::RTT_FOLD, &[fx.rd, L1, 3]);
    // Mapped as a block: RMI_ERROR_RTT below level 3, `top` is the block's start.
    assert_eq!(
        fx.fails(C::DATA_DESTROY, &[fx.rd, L1], rtt(2)),
        [0, L1, 0, 0]
    );
    assert_eq!(
        fx.fails(C::DATA_DESTROY, &[fx.rd, L1 + 9 * G], rtt(2)),
        [0, L1, 0, 0]
    );
}

#[test]
fn data_destroy_fails_rtte_state() {
    let fx = Fixture::new();
    fx.tables(0);
    fx.data_create(6 * G);
    // Not mapped: `top` is the next live entry.
    assert_eq!(
        fx.fails(C::DATA_DESTROY, &[fx.rd, 2 * G], rtt(3)),
        [0, 6 * G, 0, 0]
    );
    assert_eq!(
        fx.fails(C::DATA_DESTROY, &[fx.rd, 7 * G], rtt(3)),
        [0, L2, 0, 0]
    );
}

#[test]
fn data_destroy_ipa_bound_precedes_rtt_walk() {
    let fx = Fixture::new();
    // Unprotected, no tables: the walk would stop at level 1.
    assert_eq!(
        fx.fails(C::DATA_DESTROY, &[fx.rd, UNPROTECTED + 3 * L1], INPUT),
        [0; 4]
    );
}
