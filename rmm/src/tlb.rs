//! Stage-2 TLB maintenance: what the RMM must invalidate, and when, after it changes a realm's
//! RTTs.
//!
//! Every CPU caches the translations a realm uses (leaf entries in its TLBs, table entries in its
//! walk caches), tagged with the realm's VMID, and keeps them until they are invalidated. A REC
//! runs with no RMM lock held, so while it runs on one CPU the host may change the realm's RTTs
//! from another. Any change that removes or changes a valid stage-2 entry (a leaf the realm may
//! have used, or a table descriptor a walk may have cached) must therefore be followed by a
//! broadcast invalidation of that realm's VMID, completed on every CPU, **before** the granule
//! behind the old entry is wiped or changes state; otherwise a realm keeps reaching a granule the
//! RMM has taken from it. An entry going from invalid to valid needs nothing: CPUs do not cache
//! faults.
//!
//! The rules, as the RMI handlers apply them:
//! - a leaf removed or made invalid (DATA_DESTROY, RTT_UNMAP_UNPROTECTED, RTT_SET_RIPAS from
//!   RAM): its IPA (one TLBI per entry, or the whole VMID for a wide range);
//! - a table descriptor removed (RTT_DESTROY): its IPA, which drops the walk-cache entries that
//!   lead through it; and when the table still maps NS pages (an unprotected table with
//!   ASSIGNED_NS entries is not live, A5.5.8, so it may be destroyed), every entry of it;
//! - a valid entry replaced by another valid entry of another size (RTT_CREATE under a mapped
//!   block, RTT_FOLD of a mapped table) — break-before-make: the old entry is written invalid,
//!   invalidated, and only then the new one written;
//! - a realm destroyed: its whole VMID, before the VMID can be given to another realm.
//!
//! This module owns those rules ([`RealmTlb`]) and the interface the CPU implements
//! ([`Stage2Tlb`]). It must not touch RTTs or granules itself: the handlers sequence the RTT
//! writes, the invalidations and the wipes.

use crate::s2tt::{align_down, block_size};

/// The stage-2 TLB maintenance a CPU performs. Every operation is broadcast to the Inner
/// Shareable domain and complete on every CPU when it returns (TLBI ...IS, then DSB ISH), and
/// is ordered after every RTT write this CPU made before it.
pub trait Stage2Tlb {
    /// Invalidates, on every CPU, what the TLBs and walk caches hold of the translation of each
    /// IPA `first + i * stride` (`i < count`) for `vmid` (leaf and table entries), and then every
    /// stage-1 translation of `vmid` (combined stage 1+2 entries are not tagged with the IPA).
    fn invalidate_ipas(&self, vmid: u16, first: u64, stride: u64, count: u64);

    /// Invalidates, on every CPU, every translation of `vmid`, stage 1 and stage 2.
    fn invalidate_vmid(&self, vmid: u16);
}

/// Most invalidations by IPA issued for one change; a change over more entries invalidates the
/// realm's whole VMID instead (one instruction, at the cost of the realm's other cached
/// translations).
pub const MAX_IPA_INVALIDATIONS: u64 = 32;

/// The TLB maintenance of one realm: its VMID and the CPU that issues it.
#[derive(Clone, Copy)]
pub struct RealmTlb<'a> {
    cpu: &'a dyn Stage2Tlb,
    vmid: u16,
}

impl<'a> RealmTlb<'a> {
    /// Maintenance for the realm with `vmid`, issued by `cpu`.
    pub fn new(cpu: &'a dyn Stage2Tlb, vmid: u16) -> Self {
        Self { cpu, vmid }
    }

    /// After the valid entry at `level` that maps or leads to `ipa` was removed or changed: a
    /// leaf (page or block) or a table descriptor. One IPA is enough for a block: a TLBI by IPA
    /// drops every cached entry that translates that address, whatever its size.
    pub fn entry(&self, ipa: u64, level: i64) {
        let base = align_down(ipa, level).unwrap_or(ipa);
        self.cpu.invalidate_ipas(self.vmid, base, 0, 1);
    }

    /// After `count` consecutive entries at `level` from the one that maps `first` were removed
    /// or changed.
    pub fn entries(&self, first: u64, level: i64, count: u64) {
        match (align_down(first, level), block_size(level)) {
            (Some(base), Some(size)) if count <= MAX_IPA_INVALIDATIONS => {
                self.cpu.invalidate_ipas(self.vmid, base, size, count)
            }
            _ => self.cpu.invalidate_vmid(self.vmid),
        }
    }

    /// Everything the realm's VMID may have cached (the realm is being destroyed).
    pub fn all(&self) {
        self.cpu.invalidate_vmid(self.vmid);
    }
}

#[cfg(test)]
mod tests;
