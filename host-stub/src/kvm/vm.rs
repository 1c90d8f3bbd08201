//! The VM: what the VM file descriptor owns in KVM. Here that is the realm's RD and IPA width,
//! the SMCCC filter (`KVM_{SET,HAS}_DEVICE_ATTR`), whether any vCPU has run yet, and the table of
//! vCPUs that PSCI needs (MPIDR -> REC, and whether each vCPU is powered on).
//!
//! vCPUs are created here ([`Vm::create_vcpu`], like `KVM_CREATE_VCPU`: the MPIDR follows from
//! the vCPU id exactly as KVM derives it, which is also how RMI numbers RECs) and bound to their
//! REC with [`Vm::finalize_vcpu`] (the Arm CCA series creates the REC at
//! `KVM_ARM_VCPU_FINALIZE`). The [`Vcpu`] itself is a separate value, as a vCPU fd is.

use heapless::Vec;
use hostcall_abi::kvm::{
    KvmDeviceAttr, KvmSmcccFilter, KvmSmcccFilterAction, KVM_ARM_VM_SMCCC_CTRL,
    KVM_ARM_VM_SMCCC_FILTER,
};
use hostcall_abi::rec_params::{mpidr_el1_to_rec_index, rec_index_to_mpidr};

use super::filter::SmcccFilter;
use super::vcpu::Vcpu;
use super::Errno;

/// The affinity fields of `MPIDR_EL1` (Aff3 `[39:32]`, Aff2..Aff0 `[23:0]`).
const MPIDR_HWID_BITMASK: u64 = 0xFF_00FF_FFFF;

/// Most vCPUs a VM holds.
pub const MAX_VCPUS: usize = 8;

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
        }
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

    /// `KVM_CREATE_VCPU(id)`: EEXIST for an id in use, EINVAL for one this VM cannot hold,
    /// EBUSY once a vCPU has run (the realm's REC set is fixed at activation).
    pub fn create_vcpu(&mut self, id: usize) -> Result<Vcpu, Errno> {
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
        Ok(Vcpu::new(id, mpidr))
    }

    /// Binds `vcpu` to its REC at `rec` and the RecRun page at `run` (NS). `runnable` is the
    /// REC's RUNNABLE flag: whether the vCPU starts powered on. After this only x0..x30 can be
    /// read or written. EINVAL if the vCPU is not this VM's or already has a REC.
    pub fn finalize_vcpu(
        &mut self,
        vcpu: &mut Vcpu,
        rec: u64,
        run: u64,
        runnable: bool,
    ) -> Result<(), Errno> {
        let slot = self.slot_mut(vcpu.id()).ok_or(Errno::EINVAL)?;
        if slot.rec.is_some() || slot.mpidr != vcpu.mpidr() {
            return Err(Errno::EINVAL);
        }
        slot.rec = Some(rec);
        slot.powered_on = runnable;
        vcpu.attach(rec, run)
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
