//! The guard's accesses on the simulated memory: in bounds they read and write the granule's
//! bytes (any offset and length for bytes, 8-aligned doublewords), out of bounds or misaligned
//! they are refused and touch nothing.

use super::*;
use crate::sim::SimMemory;

const PA: u64 = 0x8800_0000;

fn page(mem: &SimMemory) -> RealmPage<'_> {
    RealmPage::at_pa(mem, PA)
}

fn pattern() -> [u8; GRANULE_SIZE] {
    core::array::from_fn(|i| (i * 7 + 3) as u8)
}

#[test]
fn doublewords_in_bounds_are_read_and_written_little_endian() {
    let mem = SimMemory::default();
    mem.write(PA, &pattern());
    let p = page(&mem);
    let want = u64::from_le_bytes(pattern()[8..16].try_into().unwrap());
    assert_eq!(p.read_u64(8), Some(want));
    assert_eq!(
        p.write_u64(GRANULE_SIZE - 8, 0x0102_0304_0506_0708),
        Some(())
    );
    assert_eq!(
        mem.read(PA)[GRANULE_SIZE - 8..],
        0x0102_0304_0506_0708u64.to_le_bytes()
    );
    let mut words = [0u64; 31];
    assert_eq!(p.read_u64s(8, &mut words), Some(()));
    assert_eq!(words[0], want);
    assert_eq!(p.write_u64s(0, &[u64::MAX; 3]), Some(()));
    assert_eq!(mem.read(PA)[..24], [0xFF; 24]);
}

#[test]
fn out_of_bounds_or_misaligned_doublewords_are_refused_and_touch_nothing() {
    let mem = SimMemory::default();
    mem.write(PA, &pattern());
    let p = page(&mem);
    for off in [GRANULE_SIZE, GRANULE_SIZE - 4, 4, 1, usize::MAX - 3] {
        assert_eq!(p.read_u64(off), None, "{off}");
        assert_eq!(p.write_u64(off, 0), None, "{off}");
    }
    let mut words = [0u64; 2];
    assert_eq!(p.read_u64s(GRANULE_SIZE - 8, &mut words), None);
    assert_eq!(p.write_u64s(GRANULE_SIZE - 8, &words), None);
    assert_eq!(p.write_u64s(usize::MAX - 7, &words), None);
    assert_eq!(words, [0; 2]);
    assert_eq!(mem.read(PA), pattern(), "nothing written");
}

#[test]
fn bytes_at_any_offset_and_length_round_trip() {
    let mem = SimMemory::default();
    let p = page(&mem);
    let src = pattern();
    for (off, len) in [
        (0, 0),
        (0, 4096),
        (1, 1),
        (3, 29),
        (7, 9),
        (8, 16),
        (4090, 6),
        (13, 2000),
    ] {
        mem.write(PA, &[0xEE; GRANULE_SIZE]);
        assert_eq!(p.write_bytes(off, &src[..len]), Some(()), "{off}+{len}");
        let page = mem.read(PA);
        assert_eq!(&page[off..off + len], &src[..len], "{off}+{len}");
        assert!(page[..off].iter().all(|&b| b == 0xEE), "before {off}+{len}");
        assert!(
            page[off + len..].iter().all(|&b| b == 0xEE),
            "after {off}+{len}"
        );
        let mut back = [0u8; GRANULE_SIZE];
        assert_eq!(p.read_bytes(off, &mut back[..len]), Some(()));
        assert_eq!(&back[..len], &src[..len], "{off}+{len}");
    }
}

#[test]
fn bytes_beyond_the_granule_are_refused_and_touch_nothing() {
    let mem = SimMemory::default();
    mem.write(PA, &pattern());
    let p = page(&mem);
    let mut buf = [0u8; 16];
    for off in [GRANULE_SIZE - 15, GRANULE_SIZE, usize::MAX] {
        assert_eq!(p.write_bytes(off, &buf), None, "{off}");
        assert_eq!(p.read_bytes(off, &mut buf), None, "{off}");
    }
    assert_eq!(buf, [0; 16]);
    assert_eq!(mem.read(PA), pattern());
}

#[test]
fn split_covers_the_range_with_aligned_doublewords() {
    for off in 0..16 {
        for len in 0..40 {
            let (head, words, tail) = split(off, len);
            assert_eq!(head + 8 * words + tail, len);
            assert!(tail < 8 && head < 8);
            if words > 0 {
                assert_eq!((off + head) % 8, 0);
            }
        }
    }
}
