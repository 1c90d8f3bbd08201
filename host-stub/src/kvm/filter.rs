//! The VM's SMCCC filter: the ranges userspace installs with `KVM_SET_DEVICE_ATTR`
//! (`KVM_ARM_VM_SMCCC_CTRL` / `KVM_ARM_VM_SMCCC_FILTER`), checked the way Linux (6.4 on) checks
//! them, and the lookup that decides what happens to a host call.
//!
//! KVM keeps the ranges in a maple tree into which it puts the two Arm Architecture Service
//! ranges as `HANDLE` before the first range userspace adds, so a range that touches them collides
//! like any other (EEXIST, not EINVAL). Here the ranges sit
//! in a fixed-capacity table and the reserved ranges are checked explicitly; the errors are the
//! same, in the same order:
//!
//! 1. non-zero `pad` -> EINVAL;
//! 2. an empty range (`nr_functions == 0`) or one that wraps past `0xFFFF_FFFF` -> EINVAL;
//! 3. an action KVM does not define -> EINVAL;
//! 4. any vCPU of the VM has run -> EBUSY (checked by [`crate::kvm::vm::Vm`]);
//! 5. the range touches a reserved range or one already installed -> EEXIST;
//! 6. the table is full -> ENOMEM (KVM would fail the maple-tree allocation the same way; the
//!    capacity is this model's limit, not KVM's).

use heapless::Vec;
use hostcall_abi::kvm::{is_unfilterable_fid, KvmSmcccFilter, KvmSmcccFilterAction};

use super::Errno;

/// How many ranges a VM's filter holds.
pub const MAX_FILTER_RANGES: usize = 16;

/// The installed ranges of one VM.
#[derive(Clone, Debug, Default)]
pub struct SmcccFilter {
    ranges: Vec<KvmSmcccFilter, MAX_FILTER_RANGES>,
}

impl SmcccFilter {
    /// An empty filter: every function ID is handled in the kernel.
    pub const fn new() -> Self {
        Self { ranges: Vec::new() }
    }

    /// Checks a range the way KVM checks `struct kvm_smccc_filter` before it looks at the VM's
    /// state (steps 1-3 of the module documentation).
    pub fn validate(f: &KvmSmcccFilter) -> Result<KvmSmcccFilterAction, Errno> {
        if f.pad.iter().any(|&b| b != 0) {
            return Err(Errno::EINVAL);
        }
        if f.last().is_none() {
            return Err(Errno::EINVAL);
        }
        f.action().ok_or(Errno::EINVAL)
    }

    /// Inserts a range (steps 1-3, 5 and 6 of the module documentation; the caller checks
    /// EBUSY between 3 and 5, as KVM does).
    pub fn insert(&mut self, f: &KvmSmcccFilter) -> Result<(), Errno> {
        Self::validate(f)?;
        if f.overlaps_reserved() || self.ranges.iter().any(|r| r.overlaps(f)) {
            return Err(Errno::EEXIST);
        }
        self.ranges.push(*f).map_err(|_| Errno::ENOMEM)
    }

    /// The action for function ID `fid`: the one of the range that holds it, `HANDLE` for the
    /// reserved Arm Architecture ranges and for IDs no range lists.
    pub fn action(&self, fid: u32) -> KvmSmcccFilterAction {
        if is_unfilterable_fid(fid) {
            return KvmSmcccFilterAction::Handle;
        }
        self.ranges
            .iter()
            .find(|r| r.contains(fid))
            .and_then(KvmSmcccFilter::action)
            .unwrap_or(KvmSmcccFilterAction::Handle)
    }

    /// The installed ranges, in insertion order.
    pub fn ranges(&self) -> &[KvmSmcccFilter] {
        &self.ranges
    }
}
