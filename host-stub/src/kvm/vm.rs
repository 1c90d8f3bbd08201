//! The VM: what the VM file descriptor owns in KVM. Here that is the realm's RD and IPA width,
//! the SMCCC filter (`KVM_{SET,HAS}_DEVICE_ATTR`), whether any vCPU has run yet, and the table of
//! vCPUs that PSCI needs (MPIDR -> REC, and whether each vCPU is powered on).
//!
//! The VM keeps one slot per vCPU: the vCPU side creates a slot when it is created
//! (`Vcpu::create`, like `KVM_CREATE_VCPU`: the MPIDR follows from the vCPU id exactly as KVM
//! derives it, which is also how RMI numbers RECs) and binds it to its REC when it is finalized
//! (`Vcpu::finalize`; the Arm CCA series creates the REC at `KVM_ARM_VCPU_FINALIZE`). The vCPU
//! itself is a separate value, as a vCPU fd is, and the dependency runs one way: the vCPU module
//! uses the VM, never the other way round.
//!
//! The VM also owns the memory KVM populates realm RAM from on a stage-2 fault (in Linux, the
//! guest_memfd behind a private memslot): a fixed set of NS granules handed over with
//! [`Vm::add_backing`]. A fault at a protected IPA whose RIPAS is RAM with nothing assigned takes
//! one (the vCPU's fault handling: GRANULE_DELEGATE, DATA_CREATE_UNKNOWN); [`Vm::release_pages`] gives
//! them back (DATA_DESTROY, GRANULE_UNDELEGATE) before the realm's tables are torn down.

use heapless::Vec;
use hostcall_abi::kvm::{
    KvmDeviceAttr, KvmSmcccFilter, KvmSmcccFilterAction, KVM_ARM_VM_SMCCC_CTRL,
    KVM_ARM_VM_SMCCC_FILTER,
};
use hostcall_abi::rec_params::{mpidr_el1_to_rec_index, rec_index_to_mpidr};
use hostcall_abi::rmi::{RmiCommand, RmiReturn};

use super::filter::SmcccFilter;
use super::memslot::Memslot;
use super::{Errno, RmmLink};
use crate::vgic::{self, Vgic};
use crate::{Conduit, HostMemory};

/// The affinity fields of `MPIDR_EL1` (Aff3 `[39:32]`, Aff2..Aff0 `[23:0]`).
const MPIDR_HWID_BITMASK: u64 = 0xFF_00FF_FFFF;
/// Bytes of one granule.
const PAGE: u64 = 4096;

/// Most vCPUs a VM holds.
pub const MAX_VCPUS: usize = 8;
/// Most NS granules a VM holds to back realm RAM on faults.
pub const MAX_BACKING_PAGES: usize = 8;

/// What the VM knows about one of its vCPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VcpuSlot {
    /// The vCPU id (also the REC index).
    pub id: usize,
    /// MPIDR as RMI carries it (`RmiRecMpidr`).
    pub mpidr: u64,
    /// The REC backing the vCPU, once finalized.
    pub rec: Option<u64>,
    /// Powered on: runnable from the VM's point of view.
    pub powered_on: bool,
    /// The VMM's answer to a PSCI CPU_ON for this vCPU while it is off: `false` makes KVM
    /// complete the request with PSCI_DENIED (a model knob; KVM always agrees).
    pub allow_cpu_on: bool,
}

/// A realm VM.
#[derive(Clone, Debug)]
pub struct Vm {
    rd: u64,
    ipa_bits: u32,
    filter: SmcccFilter,
    ran_once: bool,
    vcpus: Vec<VcpuSlot, MAX_VCPUS>,
    /// NS granules not in use, to back realm RAM on faults.
    free_pages: Vec<u64, MAX_BACKING_PAGES>,
    /// Pages mapped on faults: (IPA, granule).
    mapped: Vec<(u64, u64), MAX_BACKING_PAGES>,
    /// The realm's RAM, backed one to one and populated on faults ([`Vm::set_memslot`]).
    memslot: Option<Memslot>,
    /// The in-kernel GICv3 ([`Vm::create_vgic`]).
    vgic: Option<InKernelGic>,
}

/// The in-kernel interrupt controller and where the realm sees it.
#[derive(Clone, Debug)]
pub struct InKernelGic {
    /// The GIC's state.
    pub gic: Vgic,
    /// IPA of the distributor ([`vgic::GICD_SIZE`] bytes).
    pub gicd: u64,
    /// IPA of the redistributors ([`vgic::gicr_region_size`] bytes).
    pub gicr: u64,
    /// List registers a REC entry may fill (RMI_FEATURES' GICV3_NUM_LRS + 1).
    pub nr_lrs: usize,
}

/// A GIC register access the in-kernel vGIC serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GicFrame {
    /// The distributor, at this offset.
    Distributor(u64),
    /// The redistributor region, at this offset.
    Redistributors(u64),
}

impl InKernelGic {
    /// Which frame `ipa` (protected alias, shared bit stripped) falls in, if any.
    pub(crate) fn frame(&self, ipa: u64) -> Option<GicFrame> {
        let within = |base: u64, len: u64| ipa.checked_sub(base).filter(|&off| off < len);
        if let Some(off) = within(self.gicd, vgic::GICD_SIZE) {
            return Some(GicFrame::Distributor(off));
        }
        within(self.gicr, vgic::gicr_region_size(self.gic.nr_vcpus())).map(GicFrame::Redistributors)
    }
}

impl Vm {
    /// A VM for the realm whose RD is at `rd`, with an IPA space of `ipa_bits` bits (the realm's
    /// `s2sz`; the top half of it is unprotected).
    pub const fn new(rd: u64, ipa_bits: u32) -> Self {
        Self {
            rd,
            ipa_bits,
            filter: SmcccFilter::new(),
            ran_once: false,
            vcpus: Vec::new(),
            free_pages: Vec::new(),
            mapped: Vec::new(),
            memslot: None,
            vgic: None,
        }
    }

    /// Backs the realm's RAM with `slot` (`KVM_SET_USER_MEMORY_REGION2` of a private slot): a
    /// stage-2 fault in it at an unassigned RIPAS RAM entry is mapped from the slot's granule.
    /// EEXIST if the VM has one already (the model holds one).
    pub fn set_memslot(&mut self, slot: Memslot) -> Result<(), Errno> {
        if self.memslot.is_some() {
            return Err(Errno::EEXIST);
        }
        self.memslot = Some(slot);
        Ok(())
    }

    /// The RAM memslot, if set.
    pub const fn memslot(&self) -> Option<&Memslot> {
        self.memslot.as_ref()
    }

    /// The RAM memslot, writable (a loader counts the pages it maps).
    pub fn memslot_mut(&mut self) -> Option<&mut Memslot> {
        self.memslot.as_mut()
    }

    /// `KVM_CREATE_DEVICE(KVM_DEV_TYPE_ARM_VGIC_V3)` with its distributor at `gicd` and
    /// redistributors at `gicr` (`KVM_DEV_ARM_VGIC_GRP_ADDR`), for `nr_vcpus` vCPUs and `nr_lrs`
    /// list registers per entry. From then on the vCPUs serve the GIC's MMIO, trapped SGI writes
    /// and timer lines in the kernel and fill every list register from it. EEXIST if there is
    /// one; EINVAL for a vCPU count or list-register count it cannot have, or overlapping frames.
    pub fn create_vgic(
        &mut self,
        nr_vcpus: usize,
        gicd: u64,
        gicr: u64,
        nr_lrs: usize,
    ) -> Result<(), Errno> {
        if self.vgic.is_some() {
            return Err(Errno::EEXIST);
        }
        let gic = Vgic::new(nr_vcpus).ok_or(Errno::EINVAL)?;
        let gicr_end = gicr.checked_add(vgic::gicr_region_size(nr_vcpus));
        let gicd_end = gicd.checked_add(vgic::GICD_SIZE);
        let (Some(gicr_end), Some(gicd_end)) = (gicr_end, gicd_end) else {
            return Err(Errno::EINVAL);
        };
        let overlap = gicd < gicr_end && gicr < gicd_end;
        if overlap || nr_lrs == 0 || nr_lrs > hostcall_abi::rec_run::GICV3_MAX_LRS {
            return Err(Errno::EINVAL);
        }
        self.vgic = Some(InKernelGic {
            gic,
            gicd,
            gicr,
            nr_lrs,
        });
        Ok(())
    }

    /// The in-kernel GIC, if created.
    pub const fn vgic(&self) -> Option<&InKernelGic> {
        self.vgic.as_ref()
    }

    /// The in-kernel GIC, writable (`KVM_IRQ_LINE` drives its lines: [`Vgic::line`]).
    pub fn vgic_mut(&mut self) -> Option<&mut InKernelGic> {
        self.vgic.as_mut()
    }

    /// Hands NS granules to the VM to back realm RAM on stage-2 faults (the model's stand-in for
    /// a guest_memfd memslot). ENOMEM if they do not all fit (none are taken then); EINVAL for
    /// an unaligned or repeated granule.
    pub fn add_backing(&mut self, granules: &[u64]) -> Result<(), Errno> {
        if self.free_pages.len() + self.mapped.len() + granules.len() > MAX_BACKING_PAGES {
            return Err(Errno::ENOMEM);
        }
        for (i, &pa) in granules.iter().enumerate() {
            let known = self.free_pages.contains(&pa)
                || self.mapped.iter().any(|&(_, p)| p == pa)
                || granules[..i].contains(&pa);
            if pa & (PAGE - 1) != 0 || known {
                return Err(Errno::EINVAL);
            }
        }
        for &pa in granules {
            self.free_pages.push(pa).map_err(|_| Errno::ENOMEM)?;
        }
        Ok(())
    }

    /// Backing granules not mapped into the realm.
    pub fn free_pages(&self) -> &[u64] {
        &self.free_pages
    }

    /// Pages mapped on the realm's faults, oldest first: (IPA, granule).
    pub fn mapped_pages(&self) -> &[(u64, u64)] {
        &self.mapped
    }

    /// Takes a backing granule for a fault (None: nothing left).
    pub(crate) fn take_page(&mut self) -> Option<u64> {
        self.free_pages.pop()
    }

    /// Puts back a granule [`Self::take_page`] gave out that was not mapped after all.
    pub(crate) fn return_page(&mut self, pa: u64) {
        // Cannot fail: it came from this list.
        let _ = self.free_pages.push(pa);
    }

    /// Records a page mapped on a fault.
    pub(crate) fn record_mapped(&mut self, ipa: u64, pa: u64) {
        // Cannot fail: the granule came from the backing list, whose capacity bounds both.
        let _ = self.mapped.push((ipa, pa));
    }

    /// Unmaps every page mapped on a fault: RMI_DATA_DESTROY, then RMI_GRANULE_UNDELEGATE, and
    /// the granule is free again. KVM does this when the memslot goes away; here it must happen
    /// before the realm's RTTs are destroyed. Returns how many pages it released; ENXIO if the
    /// RMM refused a command (the pages not yet released stay recorded).
    pub fn release_pages<C: Conduit, M: HostMemory>(
        &mut self,
        link: &mut RmmLink<'_, C, M>,
    ) -> Result<usize, Errno> {
        let mut released = 0;
        while let Some(&(ipa, pa)) = self.mapped.last() {
            let (ret, _) = link.rmi.cmd(RmiCommand::DATA_DESTROY, &[self.rd, ipa]);
            if ret != RmiReturn::SUCCESS {
                return Err(Errno::ENXIO);
            }
            let (ret, _) = link.rmi.cmd(RmiCommand::GRANULE_UNDELEGATE, &[pa]);
            if ret != RmiReturn::SUCCESS {
                return Err(Errno::ENXIO);
            }
            self.mapped.pop();
            self.return_page(pa);
            released += 1;
        }
        Ok(released)
    }

    /// The realm's RD.
    pub const fn rd(&self) -> u64 {
        self.rd
    }

    /// Bits of the realm's IPA space.
    pub const fn ipa_bits(&self) -> u32 {
        self.ipa_bits
    }

    /// True if `ipa` lies in the unprotected half of the realm's IPA space.
    pub const fn ipa_is_unprotected(&self, ipa: u64) -> bool {
        match 1u64.checked_shl(self.ipa_bits.saturating_sub(1)) {
            Some(first) => ipa >= first,
            None => false,
        }
    }

    /// `KVM_HAS_DEVICE_ATTR` on the VM fd: `Ok` for the SMCCC filter attribute (the way a VMM
    /// detects the filter: there is no capability number), ENXIO for anything else.
    pub fn has_device_attr(&self, group: u32, attr: u64) -> Result<(), Errno> {
        if group == KVM_ARM_VM_SMCCC_CTRL && attr == KVM_ARM_VM_SMCCC_FILTER {
            Ok(())
        } else {
            Err(Errno::ENXIO)
        }
    }

    /// `KVM_SET_DEVICE_ATTR` on the VM fd, with the payload `attr.addr` points to already read:
    /// the SMCCC filter attribute installs `filter`; any other group or attribute is ENXIO.
    pub fn set_device_attr(
        &mut self,
        attr: &KvmDeviceAttr,
        filter: &KvmSmcccFilter,
    ) -> Result<(), Errno> {
        self.has_device_attr(attr.group, attr.attr)?;
        self.set_smccc_filter(filter)
    }

    /// Installs one SMCCC filter range with KVM's checks (see [`super::filter`]): EINVAL for a
    /// malformed range, EBUSY once a vCPU has run, EEXIST for an overlap with a reserved or
    /// installed range.
    pub fn set_smccc_filter(&mut self, filter: &KvmSmcccFilter) -> Result<(), Errno> {
        SmcccFilter::validate(filter)?;
        if self.ran_once {
            return Err(Errno::EBUSY);
        }
        self.filter.insert(filter)
    }

    /// What the filter says for function ID `fid` (HANDLE for unlisted IDs).
    pub fn filter_action(&self, fid: u32) -> KvmSmcccFilterAction {
        self.filter.action(fid)
    }

    /// The installed filter.
    pub const fn filter(&self) -> &SmcccFilter {
        &self.filter
    }

    /// True once any vCPU has entered the realm.
    pub const fn has_run(&self) -> bool {
        self.ran_once
    }

    pub(crate) fn mark_ran(&mut self) {
        self.ran_once = true;
    }

    /// The VM's half of `KVM_CREATE_VCPU(id)`: a slot for vCPU `id`, whose MPIDR it returns.
    /// EEXIST for an id in use, EINVAL for one this VM cannot hold, EBUSY once a vCPU has run
    /// (the realm's REC set is fixed at activation).
    pub(crate) fn create_slot(&mut self, id: usize) -> Result<u64, Errno> {
        if self.ran_once {
            return Err(Errno::EBUSY);
        }
        if self.vcpus.iter().any(|v| v.id == id) {
            return Err(Errno::EEXIST);
        }
        if id >= MAX_VCPUS {
            return Err(Errno::EINVAL);
        }
        let mpidr = rec_index_to_mpidr(id as u64).ok_or(Errno::EINVAL)?;
        self.vcpus
            .push(VcpuSlot {
                id,
                mpidr,
                rec: None,
                powered_on: false,
                allow_cpu_on: true,
            })
            .map_err(|_| Errno::EINVAL)?;
        Ok(mpidr)
    }

    /// The VM's half of finalizing vCPU `id` (with MPIDR `mpidr`): binds its slot to the REC at
    /// `rec`; `runnable` is whether it starts powered on. EINVAL if the slot is not this VM's
    /// (no such id, another MPIDR) or already has a REC.
    pub(crate) fn bind_slot(
        &mut self,
        id: usize,
        mpidr: u64,
        rec: u64,
        runnable: bool,
    ) -> Result<(), Errno> {
        let slot = self.slot_mut(id).ok_or(Errno::EINVAL)?;
        if slot.rec.is_some() || slot.mpidr != mpidr {
            return Err(Errno::EINVAL);
        }
        slot.rec = Some(rec);
        slot.powered_on = runnable;
        Ok(())
    }

    /// The VM's view of vCPU `id`.
    pub fn slot(&self, id: usize) -> Option<&VcpuSlot> {
        self.vcpus.iter().find(|v| v.id == id)
    }

    /// The VM's view of vCPU `id`, writable (e.g. to set [`VcpuSlot::allow_cpu_on`]).
    pub fn slot_mut(&mut self, id: usize) -> Option<&mut VcpuSlot> {
        self.vcpus.iter_mut().find(|v| v.id == id)
    }

    /// The vCPU a PSCI `target_cpu` / `target_affinity` argument names: an `MPIDR_EL1` value
    /// whose affinity fields (KVM masks it with `MPIDR_HWID_BITMASK`) give the REC index.
    pub fn slot_by_target(&mut self, target: u64) -> Option<&mut VcpuSlot> {
        let index = mpidr_el1_to_rec_index(target & MPIDR_HWID_BITMASK)?;
        self.vcpus.iter_mut().find(|v| v.id as u64 == index)
    }

    /// True if vCPU `id` is powered on.
    pub fn is_powered_on(&self, id: usize) -> bool {
        self.slot(id).is_some_and(|s| s.powered_on)
    }
}
