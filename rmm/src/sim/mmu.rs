//! The simulated stage-2 MMU (host tests only): each simulated CPU's TLB and walk cache, the
//! hardware walk that fills them, and the realm memory accesses that go through them.
//!
//! It models what isolation depends on, the way the hardware fails: a translation is cached
//! when a realm uses it and stays cached, whatever happens to the RTTs since, until the RMM
//! invalidates it ([`crate::tlb::Stage2Tlb`], broadcast to every simulated CPU). A leaf is cached
//! per CPU with the VMID it was walked for; so is every table descriptor a walk passed through
//! (also for a walk that then faulted), and a later walk starts from the deepest cached table, so
//! a stale walk cache sends it into whatever the old table granule holds now.
//!
//! Two checks tell a missing invalidation apart from a correct RMM:
//! - [`Tlbs::stale`]: every cached entry must still be exactly what a fresh walk from the same
//!   VTTBR finds at its level (a removed, changed or resized entry is stale; break-before-make
//!   skipped shows as a leaf cached at a level the tables no longer have);
//! - [`Tlbs::references`]: what is cached that leads to a granule; the simulated memory refuses
//!   to wipe a granule that a CPU can still reach ([`super::SimMemory`]).
//!
//! Not modelled: stage 1 (realms run with it off here), the GPT check on realm accesses,
//! translation-table access flags and TLB conflict aborts, and eviction (nothing is ever dropped
//! except by an invalidation or [`Tlbs::clear`]), which makes it stricter than hardware.

use std::sync::Mutex;

use crate::arch::Stage2;

/// Output address bits `[47:12]` of a descriptor (no LPA2).
const OA_MASK: u64 = 0x0000_FFFF_FFFF_F000;
/// VTTBR_EL2.BADDR as this model uses it (the starting tables are granule aligned).
const BADDR_MASK: u64 = OA_MASK;

/// log2 of the bytes one entry at `level` maps (4 KiB granule).
fn shift(level: i64) -> u32 {
    (12 + 9 * (3 - level)) as u32
}

fn size(level: i64) -> u64 {
    1 << shift(level)
}

/// Index of the entry for `ipa` in its table at `level`; the starting level's tables may be
/// concatenated, so there the index runs over every IPA bit above the level's.
fn index(ipa: u64, level: i64, start: i64, s2sz: u32) -> u64 {
    let bits = if level == start {
        s2sz - shift(level)
    } else {
        9
    };
    (ipa >> shift(level)) & ((1 << bits) - 1)
}

fn align(ipa: u64, level: i64) -> u64 {
    ipa & !(size(level) - 1)
}

/// A cached descriptor: a leaf (page or block) or a table descriptor a walk went through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cached {
    /// The simulated CPU whose TLB holds it.
    pub cpu: usize,
    /// VTTBR_EL2.VMID of the walk.
    pub vmid: u16,
    /// Where the walk started (VTTBR_EL2, VTCR_EL2).
    pub root: Stage2,
    /// Level of the descriptor.
    pub level: i64,
    /// First IPA the descriptor covers.
    pub ipa: u64,
    /// The descriptor as the walk read it.
    pub desc: u64,
    /// A leaf (page or block) rather than a table descriptor.
    pub leaf: bool,
}

impl Cached {
    /// Whether the entry covers `ipa`.
    fn covers(&self, ipa: u64) -> bool {
        align(ipa, self.level) == self.ipa
    }

    /// What the descriptor points at: the first byte of the block or page, or the next table.
    pub fn output(&self) -> u64 {
        self.desc
            & OA_MASK
            & if self.leaf {
                !(size(self.level) - 1)
            } else {
                !0
            }
    }

    /// Bytes of output the descriptor reaches: the block or page, or one table granule.
    fn output_len(&self) -> u64 {
        if self.leaf {
            size(self.level)
        } else {
            4096
        }
    }
}

/// Why a simulated realm access did not reach memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A stage-2 translation fault at this level (an invalid or reserved descriptor).
    Translation(i64),
    /// The IPA lies beyond the realm's IPA space (VTCR_EL2.T0SZ).
    AddressSize,
    /// S2AP does not allow the access.
    Permission(i64),
}

/// A realm-side translation: where `ipa` lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// Physical address of the byte at the IPA.
    pub pa: u64,
    /// The leaf descriptor.
    pub desc: u64,
    /// The leaf's level.
    pub level: i64,
}

/// One invalidation the RMM issued, as the simulated CPUs received it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalidation {
    /// TLBI IPAS2E1IS for each IPA `first + i * stride`, `i < count`, then VMALLE1IS.
    Ipas {
        /// VMID.
        vmid: u16,
        /// First IPA.
        first: u64,
        /// Distance between IPAs.
        stride: u64,
        /// Number of IPAs.
        count: u64,
    },
    /// TLBI VMALLS12E1IS.
    Vmid(u16),
}

/// The TLBs and walk caches of every simulated CPU, and the invalidations received.
#[derive(Default)]
pub struct Tlbs {
    entries: Mutex<Vec<Cached>>,
    log: Mutex<Vec<Invalidation>>,
}

/// The starting level and IPA width a VTCR_EL2 value gives (4 KiB granule): `None` for a value
/// this model does not walk.
fn geometry(vtcr: u64) -> Option<(i64, u32)> {
    let s2sz = 64u32.checked_sub((vtcr & 0x3F) as u32)?;
    let start = match (vtcr >> 6) & 0b11 {
        0 => 2,
        1 => 1,
        2 => 0,
        _ => return None,
    };
    (s2sz <= 48 && s2sz > shift(start)).then_some((start, s2sz))
}

/// Reads one descriptor: `read(pa)` is the 8 bytes of memory at `pa`.
type ReadDesc<'a> = &'a dyn Fn(u64) -> u64;

impl Tlbs {
    /// Translates `ipa` as `cpu` would with `s2` loaded: from its TLB, else by a walk that
    /// starts from the deepest table descriptor its walk cache holds for the IPA (else from
    /// VTTBR_EL2) and caches what it passes and finds.
    pub fn translate(
        &self,
        read: ReadDesc,
        cpu: usize,
        s2: &Stage2,
        ipa: u64,
    ) -> Result<Translation, Fault> {
        let vmid = (s2.vttbr >> 48) as u16;
        let (start, s2sz) = geometry(s2.vtcr).ok_or(Fault::AddressSize)?;
        if ipa >> s2sz != 0 {
            return Err(Fault::AddressSize);
        }
        let mut entries = self.entries.lock().expect("tlb lock");
        let mine = |e: &&Cached| e.cpu == cpu && e.vmid == vmid && e.covers(ipa);
        if let Some(hit) = entries.iter().find(|e| e.leaf && mine(e)) {
            return Ok(Translation {
                pa: hit.output() | (ipa & (size(hit.level) - 1)),
                desc: hit.desc,
                level: hit.level,
            });
        }
        let deepest = entries
            .iter()
            .filter(|e| !e.leaf && mine(e))
            .max_by_key(|e| e.level);
        let (mut table, mut level) = match deepest {
            Some(e) => (e.output(), e.level + 1),
            None => (s2.vttbr & BADDR_MASK, start),
        };
        loop {
            let desc = read(table + index(ipa, level, start, s2sz) * 8);
            let kind = desc & 0b11;
            let leaf = match (level, kind) {
                (_, 0b00 | 0b10) => return Err(Fault::Translation(level)),
                (0..=2, 0b11) => false,
                (1 | 2, 0b01) | (3, 0b11) => true,
                _ => return Err(Fault::Translation(level)),
            };
            let e = Cached {
                cpu,
                vmid,
                root: *s2,
                level,
                ipa: align(ipa, level),
                desc,
                leaf,
            };
            if !entries.contains(&e) {
                entries.push(e);
            }
            if leaf {
                return Ok(Translation {
                    pa: e.output() | (ipa & (size(level) - 1)),
                    desc,
                    level,
                });
            }
            table = e.output();
            level += 1;
        }
    }

    /// Drops, on every CPU, what is cached for `vmid` that translates any of the IPAs (leaf or
    /// table descriptor), and records the invalidation.
    pub fn invalidate_ipas(&self, vmid: u16, first: u64, stride: u64, count: u64) {
        let mut entries = self.entries.lock().expect("tlb lock");
        let mut ipa = first;
        for _ in 0..count {
            entries.retain(|e| !(e.vmid == vmid && e.covers(ipa)));
            ipa = ipa.wrapping_add(stride);
        }
        self.log.lock().expect("log lock").push(Invalidation::Ipas {
            vmid,
            first,
            stride,
            count,
        });
    }

    /// Drops, on every CPU, everything cached for `vmid`, and records the invalidation.
    pub fn invalidate_vmid(&self, vmid: u16) {
        self.entries
            .lock()
            .expect("tlb lock")
            .retain(|e| e.vmid != vmid);
        self.log
            .lock()
            .expect("log lock")
            .push(Invalidation::Vmid(vmid));
    }

    /// Every invalidation received so far (and forgets them).
    pub fn take_log(&self) -> Vec<Invalidation> {
        std::mem::take(&mut self.log.lock().expect("log lock"))
    }

    /// Everything cached, on every CPU.
    pub fn cached(&self) -> Vec<Cached> {
        self.entries.lock().expect("tlb lock").clone()
    }

    /// Empties every TLB (as eviction may at any time).
    pub fn clear(&self) {
        self.entries.lock().expect("tlb lock").clear();
    }

    /// Cached entries that lead into the granule at `pa`: leaves whose output covers it, table
    /// descriptors that point at it.
    pub fn references(&self, pa: u64) -> Vec<Cached> {
        let granule = pa & !0xFFF;
        self.entries
            .lock()
            .expect("tlb lock")
            .iter()
            .filter(|e| (e.output()..e.output() + e.output_len()).contains(&granule))
            .copied()
            .collect()
    }

    /// Cached entries the RTTs no longer back: a fresh walk (no caches) from the same VTTBR to
    /// the entry's level does not find the same descriptor there.
    pub fn stale(&self, read: ReadDesc) -> Vec<Cached> {
        let entries = self.entries.lock().expect("tlb lock").clone();
        entries
            .into_iter()
            .filter(|e| fresh_walk(read, &e.root, e.ipa, e.level) != Some(e.desc))
            .collect()
    }
}

/// The descriptor a walk without caches finds for `ipa` at `level`, if the walk gets there
/// through table descriptors.
fn fresh_walk(read: ReadDesc, s2: &Stage2, ipa: u64, level: i64) -> Option<u64> {
    let (start, s2sz) = geometry(s2.vtcr)?;
    if ipa >> s2sz != 0 || level < start {
        return None;
    }
    let mut table = s2.vttbr & BADDR_MASK;
    let mut l = start;
    loop {
        let desc = read(table + index(ipa, l, start, s2sz) * 8);
        if l == level {
            return Some(desc);
        }
        if l >= 3 || desc & 0b11 != 0b11 {
            return None;
        }
        table = desc & OA_MASK;
        l += 1;
    }
}

/// S2AP read (bit 6) and write (bit 7) permission of a leaf.
pub(super) fn permits(desc: u64, write: bool) -> bool {
    desc & (1 << if write { 7 } else { 6 }) != 0
}
