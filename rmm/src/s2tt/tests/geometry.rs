//! Geometry: level sizes and indexes, alignment, IPA halves, starting-level shapes.

use crate::s2tt::*;
use hostcall_abi::rtt::rtt_num_start;

#[test]
fn level_sizes_and_shifts() {
    assert_eq!(level_shift(0), Some(39));
    assert_eq!(level_shift(3), Some(12));
    assert_eq!(block_size(1), Some(1 << 30));
    assert_eq!(block_size(2), Some(2 << 20));
    assert_eq!(block_size(3), Some(4096));
    // No LPA2: level -1 is rejected here even though the ABI crate knows its size.
    assert_eq!(level_shift(-1), None);
    assert_eq!(block_size(-1), None);
    assert_eq!(block_size(4), None);
    assert_eq!(block_size(i64::MIN), None);
    assert_eq!(block_size(i64::MAX), None);
}

#[test]
fn index_of_each_level() {
    // IPA with distinct indexes at every level: L0 = 1, L1 = 2, L2 = 3, L3 = 4, offset 5.
    let ipa = (1 << 39) | (2 << 30) | (3 << 21) | (4 << 12) | 5;
    assert_eq!(index_of(ipa, 0), Some(1));
    assert_eq!(index_of(ipa, 1), Some(2));
    assert_eq!(index_of(ipa, 2), Some(3));
    assert_eq!(index_of(ipa, 3), Some(4));
    assert_eq!(index_of(ipa, 4), None);
    assert_eq!(index_of(ipa, -1), None);
    // Indexes wrap at 512 within one table.
    assert_eq!(index_of(511 << 12, 3), Some(511));
    assert_eq!(index_of(512 << 12, 3), Some(0));
}

#[test]
fn alignment() {
    let two_mib = 2 << 20;
    assert!(is_aligned(two_mib, 2));
    assert!(!is_aligned(two_mib + 4096, 2));
    assert!(is_aligned(two_mib + 4096, 3));
    assert!(!is_aligned(0x800, 3));
    assert!(is_aligned(0, 0));
    assert!(!is_aligned(0, 4), "invalid level is never aligned (B3.5)");
    assert!(!is_aligned(0, -1));
    assert_eq!(align_down(two_mib + 0x1234, 2), Some(two_mib));
    assert_eq!(align_down(two_mib + 0x1234, 3), Some(two_mib + 0x1000));
    assert_eq!(align_up(two_mib + 1, 2), Some(2 * two_mib));
    assert_eq!(align_up(two_mib, 2), Some(two_mib));
    assert_eq!(align_up(u64::MAX, 3), None);
    assert_eq!(align_down(0, 9), None);
}

#[test]
fn block_or_page_levels() {
    assert!(!is_block_or_page_level(-1));
    assert!(!is_block_or_page_level(0));
    assert!(is_block_or_page_level(1));
    assert!(is_block_or_page_level(2));
    assert!(is_block_or_page_level(3));
    assert!(!is_block_or_page_level(4));
}

#[test]
fn protected_and_unprotected_halves() {
    for s2sz in 32..=48u64 {
        let half = 1u64 << (s2sz - 1);
        assert!(ipa_is_protected(0, s2sz));
        assert!(ipa_is_protected(half - 1, s2sz));
        assert!(!ipa_is_protected(half, s2sz));
        assert!(ipa_is_unprotected(half, s2sz));
        assert!(ipa_is_unprotected(2 * half - 1, s2sz));
        assert!(ipa_in_range(2 * half - 1, s2sz));
        assert!(!ipa_in_range(2 * half, s2sz));
        assert!(!ipa_is_unprotected(2 * half, s2sz));
        assert!(!ipa_is_protected(2 * half, s2sz));
    }
    // Unsupported widths cover nothing.
    for s2sz in [0, 49, 64, 65, u64::MAX] {
        assert!(!ipa_in_range(0, s2sz));
        assert!(!ipa_is_protected(0, s2sz));
        assert_eq!(ipa_limit(s2sz), None);
    }
}

#[test]
fn protected_ranges() {
    let s2sz = 40;
    let half = 1u64 << 39;
    assert!(range_is_protected(0, half, s2sz));
    assert!(range_is_protected(0x1000, 0x2000, s2sz));
    assert!(!range_is_protected(0x1000, 0x1000, s2sz), "empty");
    assert!(!range_is_protected(0x2000, 0x1000, s2sz), "reversed");
    assert!(
        !range_is_protected(0, half + 1, s2sz),
        "crosses into the unprotected half"
    );
    assert!(!range_is_protected(half, half + 0x1000, s2sz));
}

#[test]
fn start_level_validity_table() {
    // (level, narrowest, widest) with 4 KiB granules and up to 16 concatenated tables,
    // capped at 48 bits without LPA2.
    let expected = [(0, 40, 48), (1, 31, 43), (2, 22, 34), (3, 13, 25)];
    for (level, lo, hi) in expected {
        for s2sz in 0..=64u64 {
            assert_eq!(
                start_level_valid(s2sz, level),
                (lo..=hi).contains(&s2sz),
                "s2sz {s2sz} level {level}"
            );
        }
    }
    assert!(!start_level_valid(52, -1), "level -1 needs LPA2");
    assert!(!start_level_valid(40, 4));
}

#[test]
fn every_supported_width_has_a_start_level() {
    for s2sz in 32..=48u64 {
        let levels: Vec<i64> = (0..=3).filter(|&l| start_level_valid(s2sz, l)).collect();
        assert!(!levels.is_empty(), "s2sz {s2sz}");
        // A 4 KiB-granule table never starts at level 3 for the widths realms use.
        assert!(!levels.contains(&3), "s2sz {s2sz}");
    }
}

#[test]
fn rtt_alignment_is_the_concatenated_size() {
    assert_eq!(rtt_align(40, 1), Some(2 * 4096));
    assert_eq!(rtt_align(43, 1), Some(16 * 4096));
    assert_eq!(rtt_align(39, 1), Some(4096));
    assert_eq!(rtt_align(48, 0), Some(4096));
    assert_eq!(rtt_align(32, 2), Some(4 * 4096));
    assert_eq!(rtt_align(44, 1), None);
    assert_eq!(rtt_align(39, 0), None);
}

#[test]
fn config_requires_the_exact_table_count() {
    let cfg = RttConfig::new(40, 1, 2).unwrap();
    assert_eq!((cfg.s2sz(), cfg.level_start(), cfg.num_start()), (40, 1, 2));
    assert_eq!(cfg.rtt_align(), 8192);
    assert_eq!(cfg.start_entries(), 1024);
    assert_eq!(RttConfig::new(40, 1, 1), None, "too few tables");
    assert_eq!(RttConfig::new(40, 1, 4), None, "too many tables");
    assert_eq!(RttConfig::new(40, 1, 0), None);
    assert_eq!(RttConfig::new(40, 1, (1 << 32) | 2), None, "no truncation");
    assert_eq!(RttConfig::new(44, 1, 32), None, "more than 16 tables");
    assert_eq!(RttConfig::new(39, 0, 1), None, "start level too shallow");
    assert_eq!(RttConfig::new(52, -1, 1), None, "LPA2 not offered");
    assert_eq!(RttConfig::new(49, 0, 2), None);
    assert!(RttConfig::new(48, 0, 1).is_some());
    assert!(RttConfig::new(32, 1, 1).is_some());
    assert!(RttConfig::new(32, 2, 4).is_some());
}

#[test]
fn config_levels() {
    let cfg = RttConfig::new(40, 1, 2).unwrap();
    assert!(!cfg.level_is_valid(0));
    assert!(cfg.level_is_valid(1) && cfg.level_is_valid(3));
    assert!(!cfg.level_is_valid(4));
    assert!(cfg.level_is_starting(1) && !cfg.level_is_starting(2));
    assert!(cfg.level_is_block_or_page(1));
    assert!(cfg.level_is_block_or_page(3));

    let deep = RttConfig::new(32, 2, 4).unwrap();
    assert!(
        !deep.level_is_block_or_page(1),
        "level 1 is not part of this tree"
    );
    assert!(deep.level_is_block_or_page(2));

    let shallow = RttConfig::new(48, 0, 1).unwrap();
    assert!(shallow.level_is_valid(0));
    assert!(
        !shallow.level_is_block_or_page(0),
        "level 0 holds no blocks"
    );
}

#[test]
fn start_index_spans_concatenated_tables() {
    // 40-bit IPA from level 1: two tables of 512 1 GiB entries.
    let cfg = RttConfig::new(40, 1, 2).unwrap();
    assert_eq!(cfg.start_index(0), Some(0));
    assert_eq!(cfg.start_index((1 << 30) - 1), Some(0));
    assert_eq!(cfg.start_index(511 << 30), Some(511));
    assert_eq!(
        cfg.start_index(512 << 30),
        Some(512),
        "first entry of the second table"
    );
    assert_eq!(cfg.start_index((1 << 40) - 1), Some(1023));
    assert_eq!(cfg.start_index(1 << 40), None, "outside the IPA space");
    assert_eq!(cfg.start_index(u64::MAX), None);
    // Whereas the single-table index wraps.
    assert_eq!(index_of(512 << 30, 1), Some(0));

    // 32-bit IPA from level 2: four tables of 2 MiB entries.
    let cfg = RttConfig::new(32, 2, 4).unwrap();
    assert_eq!(cfg.start_index((3 << 30) + (5 << 21)), Some(3 * 512 + 5));
    assert_eq!(cfg.start_entries(), 2048);

    // 48-bit IPA from level 0: one table.
    let cfg = RttConfig::new(48, 0, 1).unwrap();
    assert_eq!(cfg.start_index((1 << 48) - 1), Some(511));
}

#[test]
fn config_protection_matches_free_functions() {
    for s2sz in 32..=48u64 {
        for level in 0..=3 {
            let Some(n) = rtt_num_start(s2sz, level) else {
                continue;
            };
            let cfg = RttConfig::new(s2sz, level, n as u64).unwrap();
            for ipa in [
                0,
                (1 << (s2sz - 1)) - 1,
                1 << (s2sz - 1),
                (1 << s2sz) - 1,
                1 << s2sz,
            ] {
                assert_eq!(cfg.ipa_is_protected(ipa), ipa_is_protected(ipa, s2sz));
                assert_eq!(cfg.ipa_in_range(ipa), ipa_in_range(ipa, s2sz));
            }
            assert_eq!(Some(cfg.rtt_align()), rtt_align(s2sz, level));
        }
    }
}
