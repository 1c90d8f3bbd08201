//! Realm memory: the one door through which the RMM reads and writes a realm's own memory (the
//! DATA granules its RTTs map) on the realm's behalf, for the RSI calls that pass structures by
//! IPA.
//!
//! Owns [`RealmPage`], the only way to reach realm memory: one granule that a stage-2 walk of the
//! realm's RTTs, under its RD lock, found ASSIGNED with RIPAS RAM. Every access is bounds-checked
//! (an offset and length outside the granule, or a misaligned doubleword, is `None`, never a
//! panic) and volatile: the realm's other RECs may write the same granule from other CPUs at any
//! moment, so the RMM never forms a `&` or `&mut` to it and reads each value once.
//!
//! Must not touch: NS memory (that is [`crate::ns`]), or the granules the RMM keeps its own
//! objects in (RD, REC, REC_AUX, RTT: [`crate::memory`]); nor decide what a realm may ask for
//! (the RSI handlers do).

use core::marker::PhantomData;
use core::sync::atomic::Ordering;

use hostcall_abi::rtt::Ripas;
use hostcall_abi::GRANULE_SIZE;

use crate::memory::{GranuleMemory, RttView, RTT_WRITES};
use crate::realm::Rd;
use crate::s2tt::{block_size, walk, Rtte};

/// Offset bits of an address within its granule.
const IN_GRANULE: u64 = GRANULE_SIZE as u64 - 1;

/// What the realm's RTTs say about a Protected IPA.
pub enum Lookup<'a> {
    /// ASSIGNED with RIPAS RAM: realm memory the RMM may read and write.
    Mapped(RealmPage<'a>),
    /// RIPAS EMPTY: not the realm's memory.
    Empty,
    /// Not mapped yet (or RIPAS DESTROYED): the walk stopped at this level.
    Unmapped(i64),
}

/// One granule of a realm's memory, found by a stage-2 walk under the realm's RD lock.
///
/// It borrows the locked RD, so it cannot outlive the lock: while the lock is held no RTT entry
/// of the realm changes, so the granule stays the realm's DATA and cannot be destroyed or
/// reassigned under the access. Its contents are the realm's, shared with its running RECs:
/// only volatile, bounds-checked accesses, one at a time.
pub struct RealmPage<'a> {
    /// The granule's first byte in the RMM's view ([`GranuleMemory::ptr`]).
    base: *mut u8,
    /// PA of the granule (granule aligned).
    granule: u64,
    /// The RD lock the walk was made under.
    _rd: PhantomData<&'a Rd>,
}

/// What a walk found: [`Lookup`] with the page's PA rather than the page (small enough to
/// return in registers from the walk, which is not inlined).
enum Translation {
    Mapped(u64),
    Empty,
    Unmapped(i64),
}

/// Walks the RTTs of the realm `rd` (the caller holds its RD lock) for `ipa`.
fn translate(mem: &dyn GranuleMemory, rd: &Rd, ipa: u64) -> Translation {
    let view = RttView::new(mem);
    let Some(w) = walk(&view, rd.config.rtt_base, &rd.rtt, ipa, 3) else {
        return Translation::Unmapped(rd.rtt.level_start());
    };
    match w.rtte() {
        Some(Rtte::Assigned {
            pa,
            ripas: Ripas::Ram,
        }) => {
            let mask = block_size(w.level).map_or(IN_GRANULE, |s| s - 1);
            Translation::Mapped(pa + (ipa & mask))
        }
        Some(Rtte::Unassigned {
            ripas: Ripas::Empty,
        })
        | Some(Rtte::Assigned {
            ripas: Ripas::Empty,
            ..
        }) => Translation::Empty,
        _ => Translation::Unmapped(w.level),
    }
}

impl<'a> RealmPage<'a> {
    /// The page holding `pa`, which a walk under the RD lock `'a` found mapped.
    fn at_pa(mem: &dyn GranuleMemory, pa: u64) -> Self {
        let granule = pa & !IN_GRANULE;
        Self {
            base: mem.ptr(granule),
            granule,
            _rd: PhantomData,
        }
    }

    /// Walks the RTTs of the realm `rd` (whose RD lock the caller holds: the reference comes from
    /// the lock guard) for `ipa`, a Protected IPA.
    #[inline]
    pub fn lookup(mem: &dyn GranuleMemory, rd: &'a Rd, ipa: u64) -> Lookup<'a> {
        match translate(mem, rd, ipa) {
            Translation::Mapped(pa) => Lookup::Mapped(Self::at_pa(mem, pa)),
            Translation::Empty => Lookup::Empty,
            Translation::Unmapped(level) => Lookup::Unmapped(level),
        }
    }

    /// The page of an earlier [`Self::lookup`] of `ipa` in the same realm, which found the
    /// granule at `granule_pa` when [`rtt_writes`] read `stamp`: reused without a walk if no RTT
    /// entry of any realm has been written since (the counter is unchanged), looked up again
    /// otherwise.
    #[inline]
    pub fn lookup_again(
        mem: &dyn GranuleMemory,
        rd: &'a Rd,
        ipa: u64,
        granule_pa: u64,
        stamp: u64,
    ) -> Lookup<'a> {
        // Both reads of the counter happen under the realm's RD lock, which every RTT write
        // holds: unchanged, no entry changed, and the earlier translation still holds.
        if rtt_writes() == stamp {
            Lookup::Mapped(Self::at_pa(mem, granule_pa))
        } else {
            Self::lookup(mem, rd, ipa)
        }
    }

    /// PA of the granule, to remember for [`Self::lookup_again`].
    pub fn granule_pa(&self) -> u64 {
        self.granule
    }

    /// Offset of `addr` (an IPA or PA) within its granule.
    pub const fn offset_of(addr: u64) -> usize {
        (addr & IN_GRANULE) as usize
    }

    /// The first byte of `len` bytes at `off`, if they lie in the granule and start `align`-aligned.
    #[inline]
    fn at(&self, off: usize, len: usize, align: usize) -> Option<*mut u8> {
        let end = off.checked_add(len)?;
        if end > GRANULE_SIZE || !off.is_multiple_of(align) {
            return None;
        }
        // In bounds (checked above) of the granule's GRANULE_SIZE bytes.
        Some(self.base.wrapping_add(off))
    }

    /// The doubleword at `off` (8-aligned, in the granule).
    pub fn read_u64(&self, off: usize) -> Option<u64> {
        let p = self.at(off, 8, 8)?.cast::<u64>();
        // SAFETY: `p` is 8-aligned (the granule is at least 16-aligned, `off` 8-aligned) and in
        // bounds (checked by `at`), in a DATA granule of the realm whose RD lock `self` borrows.
        Some(unsafe { p.read_volatile() })
    }

    /// Writes the doubleword at `off` (8-aligned, in the granule); `None` writes nothing.
    pub fn write_u64(&self, off: usize, value: u64) -> Option<()> {
        let p = self.at(off, 8, 8)?.cast::<u64>();
        // SAFETY: as for `read_u64`.
        unsafe { p.write_volatile(value) };
        Some(())
    }

    /// Reads `dst.len()` doublewords from `off` (8-aligned, all in the granule), one volatile
    /// read each; `None` reads nothing.
    pub fn read_u64s(&self, off: usize, dst: &mut [u64]) -> Option<()> {
        let p = self.at(off, dst.len().checked_mul(8)?, 8)?.cast::<u64>();
        for (i, d) in dst.iter_mut().enumerate() {
            // SAFETY: as for `read_u64`: doubleword `i` of the checked range.
            *d = unsafe { p.add(i).read_volatile() };
        }
        Some(())
    }

    /// Writes `src` as doublewords from `off` (8-aligned, all in the granule), one volatile write
    /// each; `None` writes nothing.
    pub fn write_u64s(&self, off: usize, src: &[u64]) -> Option<()> {
        let p = self.at(off, src.len().checked_mul(8)?, 8)?.cast::<u64>();
        for (i, s) in src.iter().enumerate() {
            // SAFETY: as for `read_u64`: doubleword `i` of the checked range.
            unsafe { p.add(i).write_volatile(*s) };
        }
        Some(())
    }

    /// Reads `dst.len()` bytes from `off` (all in the granule); `None` reads nothing.
    pub fn read_bytes(&self, off: usize, dst: &mut [u8]) -> Option<()> {
        let p = self.at(off, dst.len(), 1)?;
        let (head, words, tail) = split(off, dst.len());
        let mut at = 0;
        for d in &mut dst[..head] {
            // SAFETY: as for `read_u64`: byte `at` of the checked range (any alignment).
            *d = unsafe { p.add(at).read_volatile() };
            at += 1;
        }
        for chunk in dst[head..head + 8 * words].chunks_exact_mut(8) {
            // SAFETY: as for `read_u64`: `off + at` is 8-aligned here (`split`), in range.
            let w = unsafe { p.add(at).cast::<u64>().read_volatile() };
            chunk.copy_from_slice(&w.to_ne_bytes());
            at += 8;
        }
        let n = dst.len();
        for d in &mut dst[n - tail..] {
            // SAFETY: as for the head.
            *d = unsafe { p.add(at).read_volatile() };
            at += 1;
        }
        Some(())
    }

    /// Writes `src` from `off` (all in the granule); `None` writes nothing.
    pub fn write_bytes(&self, off: usize, src: &[u8]) -> Option<()> {
        let p = self.at(off, src.len(), 1)?;
        let (head, words, tail) = split(off, src.len());
        let mut at = 0;
        for s in &src[..head] {
            // SAFETY: as for `read_u64`: byte `at` of the checked range (any alignment).
            unsafe { p.add(at).write_volatile(*s) };
            at += 1;
        }
        for chunk in src[head..head + 8 * words].chunks_exact(8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            // SAFETY: as for `read_u64`: `off + at` is 8-aligned here (`split`), in range.
            unsafe {
                p.add(at)
                    .cast::<u64>()
                    .write_volatile(u64::from_ne_bytes(w))
            };
            at += 8;
        }
        for s in &src[src.len() - tail..] {
            // SAFETY: as for the head.
            unsafe { p.add(at).write_volatile(*s) };
            at += 1;
        }
        Some(())
    }
}

/// Splits `len` bytes at granule offset `off` into bytes up to the next 8-aligned offset,
/// whole doublewords, and the bytes after them: `head + 8 * words + tail == len`.
fn split(off: usize, len: usize) -> (usize, usize, usize) {
    let head = off.wrapping_neg() % 8;
    let head = head.min(len);
    let words = (len - head) / 8;
    (head, words, len - head - 8 * words)
}

/// RTT entries written so far by any command (see [`RTT_WRITES`]): a value to remember with a
/// [`RealmPage::granule_pa`] for [`RealmPage::lookup_again`].
pub fn rtt_writes() -> u64 {
    RTT_WRITES.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests;
