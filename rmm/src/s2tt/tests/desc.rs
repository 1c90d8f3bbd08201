//! Descriptors: encodings of every state, round trips, malformed values, READ_ENTRY outputs and
//! the host's unprotected descriptors.

use crate::s2tt::*;
use hostcall_abi::rtt::{Ripas, RmiRttEntryState};

const RIPAS: [Ripas; 3] = [Ripas::Empty, Ripas::Ram, Ripas::Destroyed];
const LEAF_LEVELS: [i64; 3] = [1, 2, 3];

/// A PA usable at every leaf level: 1 GiB-aligned, below 2^48, several address bits set.
const PA: u64 = 0x08A4_0000_0000;
/// The realm memory attributes: MemAttr 0b0110, S2AP RW, SH Inner, AF.
const RAM_ATTRS: u64 = (0b0110 << 2) | (0b11 << 6) | (0b11 << 8) | (1 << 10);

fn ns_attrs(mem_attr: u8, s2ap: u8) -> NsAttrs {
    NsAttrs::new(mem_attr, s2ap).unwrap()
}

/// Every state at `level` (leaf states only at block/page levels), with the expected bits.
fn all_states(level: i64) -> Vec<(Rtte, u64)> {
    let mut v = vec![
        (
            Rtte::Unassigned {
                ripas: Ripas::Empty,
            },
            0,
        ),
        (Rtte::Unassigned { ripas: Ripas::Ram }, 1 << 57),
        (
            Rtte::Unassigned {
                ripas: Ripas::Destroyed,
            },
            2 << 57,
        ),
        (Rtte::UnassignedNs, 1 << 55),
    ];
    if level < 3 {
        v.push((Rtte::Table { pa: 0x1234_5000 }, 0x1234_5000 | 0b11));
    }
    if (1..=3).contains(&level) {
        let leaf = if level == 3 { 0b11 } else { 0b01 };
        v.push((
            Rtte::Assigned {
                pa: PA,
                ripas: Ripas::Ram,
            },
            PA | leaf | RAM_ATTRS,
        ));
        v.push((
            Rtte::Assigned {
                pa: PA,
                ripas: Ripas::Empty,
            },
            PA | (1 << 56),
        ));
        v.push((
            Rtte::Assigned {
                pa: PA,
                ripas: Ripas::Destroyed,
            },
            PA | (1 << 56) | (2 << 57),
        ));
        // Device-nGnRE, read-only: Outer Shareable, XN, NS, AF.
        v.push((
            Rtte::AssignedNs {
                pa: PA,
                attrs: ns_attrs(0b001, 0b01),
            },
            PA | leaf
                | (0b001 << 2)
                | (0b01 << 6)
                | (0b10 << 8)
                | (1 << 10)
                | (1 << 54)
                | (1 << 55),
        ));
        // Normal Write-Back, read/write: Inner Shareable.
        v.push((
            Rtte::AssignedNs {
                pa: PA,
                attrs: ns_attrs(0b110, 0b11),
            },
            PA | leaf
                | (0b110 << 2)
                | (0b11 << 6)
                | (0b11 << 8)
                | (1 << 10)
                | (1 << 54)
                | (1 << 55),
        ));
    }
    v
}

#[test]
fn every_state_encodes_to_the_documented_bits_and_round_trips() {
    for level in [0, 1, 2, 3] {
        for (rtte, bits) in all_states(level) {
            let e = rtte
                .encode(level)
                .unwrap_or_else(|| panic!("{rtte:?} at {level}"));
            assert_eq!(e.bits(), bits, "{rtte:?} at level {level}: {:#x}", e.bits());
            assert_eq!(e.decode(level), Some(rtte), "{rtte:?} at level {level}");
            assert_eq!(e.state(level), Some(rtte.state()));
            assert_eq!(e.ripas(level), rtte.ripas());
            assert_eq!(e.pa(level), rtte.pa());
            assert_eq!(S2tte::from_bits(bits), e);
        }
    }
}

#[test]
fn constructors_match_the_decoded_form() {
    for level in LEAF_LEVELS {
        for r in RIPAS {
            let u = S2tte::unassigned(r);
            assert!(u.is_unassigned(level));
            assert!(!u.is_valid_hw());
            assert_eq!(u.ripas(level), Some(r));
            assert_eq!(u.pa(level), None);
            assert_eq!(u.is_live(level), Some(false));

            let a = S2tte::assigned(PA, level, r).unwrap();
            assert!(a.is_assigned(level));
            assert_eq!(a.ripas(level), Some(r));
            assert_eq!(a.pa(level), Some(PA));
            assert_eq!(a.is_live(level), Some(true));
            // Only RIPAS RAM is mapped (A5.3.1).
            assert_eq!(a.is_valid_hw(), r == Ripas::Ram, "{r:?}");
        }

        let uns = S2tte::unassigned_ns();
        assert!(uns.is_unassigned_ns(level));
        assert_eq!(uns.ripas(level), None);
        assert_eq!(uns.is_live(level), Some(false));

        let attrs = ns_attrs(0b101, 0b10);
        let ans = S2tte::assigned_ns(PA, level, attrs).unwrap();
        assert!(ans.is_assigned_ns(level));
        assert!(ans.is_valid_hw());
        assert_eq!(ans.pa(level), Some(PA));
        assert_eq!(ans.ripas(level), None);
        assert_eq!(ans.decode(level), Some(Rtte::AssignedNs { pa: PA, attrs }));
        assert_eq!(ans.is_live(level), Some(true));
    }
    for level in [0, 1, 2] {
        let t = S2tte::table(0x7000, level).unwrap();
        assert!(t.is_table(level));
        assert!(t.is_valid_hw());
        assert_eq!(t.pa(level), Some(0x7000));
        assert_eq!(t.ripas(level), None);
        assert_eq!(t.is_live(level), Some(true));
    }
}

#[test]
fn level_zero_holds_no_leaves() {
    for r in RIPAS {
        assert_eq!(S2tte::assigned(0, 0, r), None);
    }
    assert_eq!(S2tte::assigned_ns(0, 0, ns_attrs(0b110, 3)), None);
    assert!(S2tte::unassigned(Ripas::Ram).is_unassigned(0));
    assert!(S2tte::unassigned_ns().is_unassigned_ns(0));
}

#[test]
fn constructors_reject_bad_addresses_and_levels() {
    // Alignment to the level.
    assert!(S2tte::assigned(2 << 20, 2, Ripas::Ram).is_some());
    assert_eq!(S2tte::assigned((2 << 20) + 4096, 2, Ripas::Ram), None);
    assert_eq!(S2tte::assigned(1 << 21, 1, Ripas::Empty), None);
    assert_eq!(S2tte::assigned(0x800, 3, Ripas::Destroyed), None);
    assert_eq!(S2tte::assigned_ns(0x1000, 2, ns_attrs(0b110, 3)), None);
    // Output address width.
    assert!(S2tte::assigned((1 << 48) - 4096, 3, Ripas::Ram).is_some());
    assert_eq!(S2tte::assigned(1 << 48, 3, Ripas::Ram), None);
    assert_eq!(S2tte::assigned_ns(1 << 48, 3, ns_attrs(0b110, 3)), None);
    assert_eq!(S2tte::table(1 << 48, 2), None);
    // Tables: granule-aligned, not at the page level.
    assert_eq!(S2tte::table(0x7800, 2), None);
    assert_eq!(S2tte::table(0x7000, 3), None);
    // Levels outside 0..=3.
    for level in [-1, 4, i64::MIN, i64::MAX] {
        assert_eq!(S2tte::assigned(0, level, Ripas::Ram), None);
        assert_eq!(S2tte::table(0, level), None);
        assert_eq!(S2tte::unassigned(Ripas::Empty).decode(level), None);
        assert_eq!(Rtte::UnassignedNs.encode(level), None);
    }
}

#[test]
fn descriptor_type_depends_on_the_level() {
    // A page at level 3 is not a table at level 2, and a table at level 2 is not a page at 3.
    let page = S2tte::assigned(0x5000, 3, Ripas::Ram).unwrap();
    assert_eq!(page.decode(2), None);
    let table = S2tte::table(0x5000, 2).unwrap();
    assert_eq!(table.decode(3), None);
    // A level-2 block is not valid at level 3, where type 0b01 is reserved.
    let block = S2tte::assigned(2 << 20, 2, Ripas::Ram).unwrap();
    assert_eq!(block.decode(3), None);
    assert_eq!(block.decode(1), None, "2 MiB is not 1 GiB aligned");
    let block1 = S2tte::assigned(1 << 30, 1, Ripas::Ram).unwrap();
    assert_eq!(
        block1.state(2),
        Some(EntryState::Assigned),
        "a 1 GiB-aligned block"
    );
    assert_eq!(block1.decode(0), None, "no blocks at level 0");
}

#[test]
fn malformed_values_do_not_decode() {
    let page = S2tte::assigned(0x5000, 3, Ripas::Ram).unwrap().bits();
    let ns_page = S2tte::assigned_ns(0x5000, 3, ns_attrs(0b110, 3))
        .unwrap()
        .bits();
    let bad = [
        // Invalid descriptors.
        (3 << 57, "RIPAS encoding 3"),
        (
            (1 << 56) | (1 << 57) | 0x5000,
            "ASSIGNED with RIPAS RAM left unmapped",
        ),
        (0x5000, "UNASSIGNED with an address"),
        ((1 << 55) | (1 << 56), "UNASSIGNED_NS with HIPAS ASSIGNED"),
        ((1 << 55) | (1 << 57), "UNASSIGNED_NS with a RIPAS"),
        ((1 << 55) | 0x5000, "UNASSIGNED_NS with an address"),
        (1 << 2, "stray attribute bit in an invalid entry"),
        (1 << 60, "stray high bit"),
        ((1 << 56) | 0x5800, "stray bit 11 in an ASSIGNED entry"),
        // Valid descriptors.
        (page & !(1 << 10), "page without AF"),
        (page | (1 << 54), "protected page made execute-never"),
        (
            (page & !(0b1111 << 2)) | (0b0111 << 2),
            "protected page with other MemAttr",
        ),
        (page | (1 << 48), "address bit 48"),
        (page | (1 << 56), "software bit in a valid entry"),
        (ns_page & !(1 << 54), "executable NS page"),
        (
            (ns_page & !(0b111 << 2)) | (0b100 << 2),
            "NS page with reserved MemAttr",
        ),
        (ns_page | (1 << 5), "NS page with MemAttr[3]"),
        (ns_page ^ (0b01 << 8), "NS page with the wrong shareability"),
    ];
    for (bits, what) in bad {
        assert_eq!(S2tte::from_bits(bits).decode(3), None, "{what}: {bits:#x}");
        assert_eq!(S2tte::from_bits(bits).state(3), None, "{what}");
        assert_eq!(S2tte::from_bits(bits).read_entry_outputs(3), None, "{what}");
    }
    let assigned_empty_page = (1 << 56) | 0x5000;
    assert!(S2tte::from_bits(assigned_empty_page).is_assigned(3));
    assert_eq!(
        S2tte::from_bits(assigned_empty_page).decode(2),
        None,
        "misaligned for level 2"
    );
    let table = S2tte::table(0x5000, 2).unwrap().bits();
    assert_eq!(
        S2tte::from_bits(table | (1 << 10)).decode(2),
        None,
        "table with AF"
    );
    assert_eq!(
        S2tte::from_bits(table | (1 << 55)).decode(2),
        None,
        "table with NS"
    );
    assert_eq!(S2tte::from_bits(0b01).decode(0), None, "block at level 0");
}

#[test]
fn ns_shareability_follows_cacheability() {
    let sh = |mem_attr| {
        let e = S2tte::assigned_ns(0x1000, 3, ns_attrs(mem_attr, 3)).unwrap();
        (e.bits() >> 8) & 0b11
    };
    for device in 0b000..=0b011 {
        assert_eq!(sh(device), 0b10, "device {device:#b} is outer shareable");
    }
    assert_eq!(sh(0b101), 0b10, "non-cacheable is outer shareable");
    assert_eq!(sh(0b110), 0b11, "write-back is inner shareable");
    assert_eq!(
        sh(0b111),
        0b11,
        "as-stage-1 may be cacheable: inner shareable"
    );
}

#[test]
fn ns_attrs_reject_reserved_and_oversized_values() {
    assert_eq!(NsAttrs::new(0b100, 0), None);
    assert_eq!(NsAttrs::new(0b1000, 0), None);
    assert_eq!(NsAttrs::new(0b110, 0b100), None);
    for m in [0, 1, 2, 3, 5, 6, 7] {
        for ap in 0..=3 {
            let a = NsAttrs::new(m, ap).unwrap();
            assert_eq!((a.mem_attr(), a.s2ap()), (m, ap));
        }
    }
}

#[test]
fn entry_state_to_rmi_and_liveness() {
    use EntryState::*;
    assert_eq!(Unassigned.to_rmi(), RmiRttEntryState::Unassigned);
    assert_eq!(UnassignedNs.to_rmi(), RmiRttEntryState::Unassigned);
    assert_eq!(Assigned.to_rmi(), RmiRttEntryState::Assigned);
    assert_eq!(AssignedNs.to_rmi(), RmiRttEntryState::Assigned);
    assert_eq!(Table.to_rmi(), RmiRttEntryState::Table);
    assert!(!Unassigned.is_live() && !UnassignedNs.is_live());
    assert!(Assigned.is_live() && AssignedNs.is_live() && Table.is_live());
}

#[test]
fn read_entry_outputs_per_state() {
    let out = |e: S2tte, level| {
        let r = e.read_entry_outputs(level).unwrap();
        (r.state, r.desc, r.ripas)
    };
    for level in LEAF_LEVELS {
        for r in RIPAS {
            // UNASSIGNED: no descriptor, its RIPAS.
            assert_eq!(
                out(S2tte::unassigned(r), level),
                (RmiRttEntryState::Unassigned, 0, r)
            );
            // ASSIGNED: the address only (no attributes even when mapped), its RIPAS.
            assert_eq!(
                out(S2tte::assigned(PA, level, r).unwrap(), level),
                (RmiRttEntryState::Assigned, PA, r)
            );
        }
        // UNASSIGNED_NS: reads as UNASSIGNED, RIPAS EMPTY.
        assert_eq!(
            out(S2tte::unassigned_ns(), level),
            (RmiRttEntryState::Unassigned, 0, Ripas::Empty)
        );
        // ASSIGNED_NS: address, MemAttr and S2AP only (no SH/AF/XN/NS/type), RIPAS EMPTY.
        let host = PA | (0b101 << 2) | (0b01 << 6);
        assert_eq!(
            out(ns_from_host_desc(host, level).unwrap(), level),
            (RmiRttEntryState::Assigned, host, Ripas::Empty)
        );
    }
    for level in [0, 1, 2] {
        // TABLE: the next RTT's address only; no RIPAS, reported as EMPTY.
        assert_eq!(
            out(S2tte::table(0x9000, level).unwrap(), level),
            (RmiRttEntryState::Table, 0x9000, Ripas::Empty)
        );
    }
}

#[test]
fn map_unprotected_descriptor_reads_back_unchanged() {
    for level in LEAF_LEVELS {
        for m in [0, 1, 2, 3, 5, 6, 7] {
            for ap in 0..=3u64 {
                let host = PA | (m << 2) | (ap << 6);
                let e = ns_from_host_desc(host, level).unwrap();
                assert!(e.is_assigned_ns(level));
                assert_eq!(e.pa(level), Some(PA));
                assert_eq!(e.read_entry_outputs(level).unwrap().desc, host);
            }
        }
    }
}

#[test]
fn host_descriptor_rules() {
    let good = 0x4020_0000 | (0b110 << 2) | (0b11 << 6);
    assert!(host_desc_valid_for_unprotected(good, 3));
    assert!(host_desc_valid_for_unprotected(good, 2));
    assert!(
        host_desc_valid_for_unprotected(0, 3),
        "PA 0, Device-nGnRnE, no access"
    );

    // Rule 1: a block or page level.
    assert!(!host_desc_valid_for_unprotected(0, 0));
    assert!(!host_desc_valid_for_unprotected(0, -1));
    assert!(!host_desc_valid_for_unprotected(0, 4));

    // Rule 2: every non-host-controlled field is zero.
    let not_host = [
        (0, "valid bit"),
        (1, "descriptor type bit 1"),
        (5, "MemAttr[3] (RES0 under FWB)"),
        (8, "SH[0]"),
        (9, "SH[1]"),
        (10, "AF"),
        (11, "bit 11"),
        (48, "PA bit 48: PA >= 2^48 without LPA2"),
        (51, "PA bit 51 / DBM"),
        (52, "contiguous"),
        (53, "XN[0]"),
        (54, "XN[1]"),
        (55, "NS"),
        (56, "software bit 56"),
        (58, "software bit 58"),
        (59, "PBHA"),
        (63, "bit 63"),
    ];
    for (bit, what) in not_host {
        assert!(
            !host_desc_valid_for_unprotected(good | (1 << bit), 3),
            "{what}"
        );
        assert_eq!(ns_from_host_desc(good | (1 << bit), 3), None, "{what}");
    }

    // Rule 3: MemAttr[2:0] is architecturally valid (0b100 is reserved under FWB).
    let reserved = (good & !(0b111 << 2)) | (0b100 << 2);
    assert!(!host_desc_valid_for_unprotected(reserved, 3));
    for m in [0, 1, 2, 3, 5, 6, 7] {
        let d = (good & !(0b111 << 2)) | (m << 2);
        assert!(host_desc_valid_for_unprotected(d, 3), "MemAttr {m:#b}");
    }
    for ap in 0..=3 {
        let d = (good & !(0b11 << 6)) | (ap << 6);
        assert!(host_desc_valid_for_unprotected(d, 3), "S2AP {ap:#b}");
    }

    // Rule 4: the address is aligned to the level.
    let page_only = 0x4020_1000 | (0b110 << 2);
    assert!(host_desc_valid_for_unprotected(page_only, 3));
    assert!(!host_desc_valid_for_unprotected(page_only, 2));
    assert!(host_desc_valid_for_unprotected(0x4000_0000, 1));
    assert!(!host_desc_valid_for_unprotected(0x4020_0000, 1));
    // The highest page below 2^48 is fine.
    assert!(host_desc_valid_for_unprotected((1 << 48) - 4096, 3));
}

#[test]
fn ns_entry_carries_the_rmm_forced_bits() {
    let host = 0x4020_0000 | (0b101 << 2) | (0b10 << 6);
    let e = ns_from_host_desc(host, 2).unwrap().bits();
    assert_eq!(e & 0b11, 0b01, "block descriptor");
    assert_ne!(e & (1 << 10), 0, "AF");
    assert_eq!((e >> 53) & 0b11, 0b10, "execute-never");
    assert_ne!(e & (1 << 55), 0, "NS");
    assert_eq!((e >> 8) & 0b11, 0b10, "outer shareable (non-cacheable)");
    assert_eq!(e & 0xFF, (host & 0xFF) | 0b01, "host attributes kept");
    let p = ns_from_host_desc(0x4020_1000, 3).unwrap().bits();
    assert_eq!(p & 0b11, 0b11, "page descriptor");
}

#[test]
fn with_ripas_keeps_state_and_address() {
    for level in LEAF_LEVELS {
        for from in RIPAS {
            for to in RIPAS {
                let u = S2tte::unassigned(from).with_ripas(level, to).unwrap();
                assert_eq!(u, S2tte::unassigned(to));
                let a = S2tte::assigned(PA, level, from)
                    .unwrap()
                    .with_ripas(level, to)
                    .unwrap();
                assert_eq!(a.decode(level), Some(Rtte::Assigned { pa: PA, ripas: to }));
                assert_eq!(a.is_valid_hw(), to == Ripas::Ram);
            }
        }
        assert_eq!(S2tte::unassigned_ns().with_ripas(level, Ripas::Ram), None);
        let ns = S2tte::assigned_ns(PA, level, ns_attrs(6, 3)).unwrap();
        assert_eq!(ns.with_ripas(level, Ripas::Ram), None);
    }
    assert_eq!(
        S2tte::table(0x1000, 2).unwrap().with_ripas(2, Ripas::Ram),
        None
    );
    assert_eq!(S2tte::from_bits(3 << 57).with_ripas(3, Ripas::Ram), None);
}

#[test]
fn pa_bound() {
    assert!(pa_in_oa_range((1 << 48) - 1));
    assert!(!pa_in_oa_range(1 << 48));
    assert_eq!(OA_BITS, 48);
}
