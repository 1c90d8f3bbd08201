//! Table layout checks: what the hardware walker would find.

use super::*;

fn pool(n: usize) -> Vec<Table> {
    vec![[0u64; ENTRIES]; n]
}

#[test]
fn gib_aligned_dram_uses_1g_blocks() {
    let mut p = pool(8);
    let mut t = Tables::new(&mut p, 0x4100_0000).expect("root");
    t.map(0x4000_0000, 0x4000_0000, 3 << 30, Attrs::REALM_RW)
        .expect("map");
    assert_eq!(t.used(), 2, "root + one level-1 table");
    let (pa, d) = t.translate(0x7FFF_FFF8).expect("mapped");
    assert_eq!(pa, 0x7FFF_FFF8);
    assert_eq!(d & 0b11, 0b01, "block");
    assert_eq!(d & (1 << 54), 1 << 54, "XN");
    assert_eq!(d & (1 << 5), 0, "Realm PAS");
    assert!(t.translate(0x1_0000_0000).is_none());
    assert!(t.translate(0x3FFF_FFFF).is_none());
}

#[test]
fn unaligned_ranges_fall_back_to_smaller_blocks_and_pages() {
    let mut p = pool(8);
    let mut t = Tables::new(&mut p, 0x10_0000).expect("root");
    t.map(0x4010_0000, 0x4010_0000, 0x0040_1000, Attrs::REALM_RX)
        .expect("map");
    let (_, d) = t.translate(0x4010_0000).expect("head page");
    assert_eq!(d & 0b11, 0b11);
    let (_, d) = t.translate(0x4020_0000).expect("2 MiB block");
    assert_eq!(d & 0b11, 0b01);
    let (_, d) = t.translate(0x4050_0000).expect("tail page");
    assert_eq!(d & 0b11, 0b11);
    assert!(t.translate(0x4050_1000).is_none());
    // Executable and read-only.
    assert_eq!(d & (1 << 54), 0);
    assert_eq!(d & (1 << 7), 1 << 7);
}

#[test]
fn ns_view_sets_ns_and_translates_to_the_same_pa() {
    let mut p = pool(8);
    let mut t = Tables::new(&mut p, 0x10_0000).expect("root");
    t.map(
        NS_VIEW_BASE + 0x4000_0000,
        0x4000_0000,
        1 << 30,
        Attrs::NS_RW,
    )
    .expect("map");
    let (pa, d) = t.translate(NS_VIEW_BASE + 0x4123_4568).expect("mapped");
    assert_eq!(pa, 0x4123_4568);
    assert_eq!(d & (1 << 5), 1 << 5, "NS");
    assert!(
        t.translate(0x4123_4568).is_none(),
        "no identity mapping was asked for"
    );
}

#[test]
fn device_mapping_is_not_shareable_normal() {
    let mut p = pool(8);
    let mut t = Tables::new(&mut p, 0x10_0000).expect("root");
    t.map(0x0900_0000, 0x0900_0000, 0x1000, Attrs::NS_DEVICE)
        .expect("map");
    let (_, d) = t.translate(0x0900_0000).expect("mapped");
    assert_eq!((d >> 2) & 0b111, MemType::Device as u64);
    assert_eq!((d >> 8) & 0b11, 0);
}

#[test]
fn overlap_and_exhaustion_are_errors() {
    let mut p = pool(4);
    let mut t = Tables::new(&mut p, 0x10_0000).expect("root");
    t.map(0x4000_0000, 0x4000_0000, 1 << 30, Attrs::REALM_RW)
        .expect("map");
    assert_eq!(
        t.map(0x4000_0000, 0x4000_0000, 0x1000, Attrs::REALM_RW),
        Err(MapError::Overlap)
    );
    assert_eq!(
        t.map(0x4000_1000, 0x4000_1000, 0x1000, Attrs::REALM_RW),
        Err(MapError::Overlap)
    );
    // Pages in three distant places need more tables than are left.
    let r = (0..4u64).try_for_each(|i| t.map(i << 39, i << 39, 0x1000, Attrs::REALM_RW));
    assert_eq!(r, Err(MapError::OutOfTables));
}

#[test]
fn bad_ranges_are_refused() {
    let mut p = pool(4);
    let mut t = Tables::new(&mut p, 0x10_0000).expect("root");
    assert_eq!(
        t.map(0x1001, 0x1000, 0x1000, Attrs::REALM_RW),
        Err(MapError::Range)
    );
    assert_eq!(
        t.map(0x1000, 0x1000, 0x800, Attrs::REALM_RW),
        Err(MapError::Range)
    );
    assert_eq!(
        t.map((1 << 48) - 0x1000, 0, 0x2000, Attrs::REALM_RW),
        Err(MapError::Range)
    );
    assert_eq!(
        t.map(u64::MAX - 0xFFF, 0, 0x1000, Attrs::REALM_RW),
        Err(MapError::Range)
    );
}

#[test]
fn el2_descriptor_bits() {
    let b = Attrs::REALM_RW.bits();
    assert_eq!(b & (1 << 6), 1 << 6, "AP[1] RES1");
    assert_eq!(b & (1 << 10), 1 << 10, "AF");
    assert_eq!(b & (1 << 7), 0, "writable");
    assert_eq!(TCR & 0x3F, 16);
    assert_eq!((TCR >> 14) & 0b11, 0, "4 KiB granule");
}
