//! A private memslot: the realm's RAM backed one to one by a contiguous range of the host's NS
//! memory, populated on demand (the model's stand-in for a guest_memfd memslot as the Arm CCA
//! KVM series uses it for a realm's RAM).
//!
//! It owns the IPA -> granule rule (`pa = pa_base + (ipa - ipa_base)`) and the count of pages
//! it has handed to the realm; it keeps no per-page list, so it stays small whatever the size of
//! the RAM: the RTTs say which pages are mapped, and [`Memslot::release`] finds them with
//! RMI_DATA_DESTROY's `top` output. It must not touch realm memory or decide anything about the
//! realm's RIPAS: the vCPU asks the RMM before it maps a page ([`super::vcpu`]).

use hostcall_abi::rmi::{RmiCommand, RmiReturn, RmiStatus};

use super::{Errno, RmmLink};
use crate::{Conduit, HostMemory};

/// Bytes of one granule.
const PAGE: u64 = 4096;

/// A range of realm IPA space backed by a range of NS memory of the same size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memslot {
    ipa_base: u64,
    pa_base: u64,
    size: u64,
    /// Pages handed to the realm and not yet released.
    mapped: u64,
}

impl Memslot {
    /// The IPAs `[ipa_base, ipa_base + size)` backed by the NS granules `[pa_base, pa_base +
    /// size)`. EINVAL for an unaligned or empty range or one that wraps.
    pub const fn new(ipa_base: u64, pa_base: u64, size: u64) -> Result<Self, Errno> {
        let aligned = ipa_base.is_multiple_of(PAGE)
            && pa_base.is_multiple_of(PAGE)
            && size.is_multiple_of(PAGE);
        let fits = ipa_base.checked_add(size).is_some() && pa_base.checked_add(size).is_some();
        if !aligned || !fits || size == 0 {
            return Err(Errno::EINVAL);
        }
        Ok(Self {
            ipa_base,
            pa_base,
            size,
            mapped: 0,
        })
    }

    /// First IPA of the slot.
    pub const fn ipa_base(&self) -> u64 {
        self.ipa_base
    }

    /// Bytes of the slot.
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// The NS granule that backs the page of `ipa`, if the slot covers it.
    pub const fn backing(&self, ipa: u64) -> Option<u64> {
        match ipa.checked_sub(self.ipa_base) {
            Some(off) if off < self.size => Some(self.pa_base + (off & !(PAGE - 1))),
            _ => None,
        }
    }

    /// Pages mapped into the realm and not yet released.
    pub const fn mapped(&self) -> u64 {
        self.mapped
    }

    /// Counts a page the realm now holds (mapped by a loader's DATA_CREATE or on a fault).
    pub fn record_mapped(&mut self) {
        self.mapped += 1;
    }

    /// Takes back every page of the slot the realm holds: RMI_DATA_DESTROY at each live entry
    /// (found through the command's `top`, so unmapped ranges cost one call per level-3 table),
    /// then RMI_GRANULE_UNDELEGATE of the granule it returns. Returns how many pages it released;
    /// ENXIO if the RMM refused a command or returned a granule outside the slot.
    pub fn release<C: Conduit, M: HostMemory>(
        &mut self,
        rd: u64,
        link: &mut RmmLink<'_, C, M>,
    ) -> Result<u64, Errno> {
        let top = self.ipa_base + self.size;
        let mut ipa = self.ipa_base;
        let mut released = 0;
        while ipa < top {
            let (ret, out) = link.rmi.cmd(RmiCommand::DATA_DESTROY, &[rd, ipa]);
            let next = if ret == RmiReturn::SUCCESS {
                let pa = out[0];
                if self.backing(ipa) != Some(pa) {
                    return Err(Errno::ENXIO);
                }
                let (ret, _) = link.rmi.cmd(RmiCommand::GRANULE_UNDELEGATE, &[pa]);
                if ret != RmiReturn::SUCCESS {
                    return Err(Errno::ENXIO);
                }
                self.mapped = self.mapped.saturating_sub(1);
                released += 1;
                out[1]
            } else if ret.status() == Some(RmiStatus::ErrorRtt) {
                out[1]
            } else {
                return Err(Errno::ENXIO);
            };
            // `top` is the next live entry; anything not past this page is no progress.
            ipa = if next > ipa { next } else { ipa + PAGE };
        }
        Ok(released)
    }
}
