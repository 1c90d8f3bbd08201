//! The Linux KVM (arm64) uAPI shapes the host stub models: the SMCCC filter device attribute, the
//! parts of `struct kvm_run` a realm VMM reads, and ONE_REG ids of the core registers.
//!
//! Numbers and layouts follow `include/uapi/linux/kvm.h` and `arch/arm64/include/uapi/asm/kvm.h`
//! (SMCCC filter and `KVM_HYPERCALL_EXIT_*` since Linux 6.4). Only what the host stub needs is
//! here; `struct kvm_run` itself is larger (its exit union is padded to 256 bytes and followed by
//! the sync-register area).

use core::ops::RangeInclusive;

use crate::fieldset::fieldset64;

// ---- SMCCC filter (KVM_SET_DEVICE_ATTR on the VM fd) ----

/// Device-attribute group of the VM-wide SMCCC controls (`kvm_device_attr.group`).
pub const KVM_ARM_VM_SMCCC_CTRL: u32 = 0;
/// Attribute that inserts one filter range (`kvm_device_attr.attr`); `addr` points to a
/// [`KvmSmcccFilter`].
pub const KVM_ARM_VM_SMCCC_FILTER: u64 = 0;

/// `struct kvm_device_attr`, the argument of `KVM_SET_DEVICE_ATTR` / `KVM_HAS_DEVICE_ATTR`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct KvmDeviceAttr {
    /// No flags are defined; 0.
    pub flags: u32,
    /// Attribute group, e.g. [`KVM_ARM_VM_SMCCC_CTRL`].
    pub group: u32,
    /// Attribute within the group, e.g. [`KVM_ARM_VM_SMCCC_FILTER`].
    pub attr: u64,
    /// User address of the attribute's payload.
    pub addr: u64,
}
assert_layout!(
    KvmDeviceAttr,
    size = 24,
    flags = 0,
    group = 4,
    attr = 8,
    addr = 16
);

/// What KVM does with a call in a filter range (`enum kvm_smccc_filter_action`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u8)]
pub enum KvmSmcccFilterAction {
    /// `KVM_SMCCC_FILTER_HANDLE`: handled in the kernel if KVM implements the call.
    Handle = 0,
    /// `KVM_SMCCC_FILTER_DENY`: the guest gets SMCCC NOT_SUPPORTED (-1).
    Deny = 1,
    /// `KVM_SMCCC_FILTER_FWD_TO_USER`: exit to userspace with `KVM_EXIT_HYPERCALL`.
    FwdToUser = 2,
}

impl KvmSmcccFilterAction {
    /// Decodes the `action` byte; `None` for values KVM rejects with EINVAL.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Handle,
            1 => Self::Deny,
            2 => Self::FwdToUser,
            _ => return None,
        })
    }
}

/// Function-ID ranges of the Arm Architecture Service that KVM refuses to filter (EEXIST).
pub const KVM_SMCCC_FILTER_RESERVED: [RangeInclusive<u32>; 2] =
    [0x8000_0000..=0x8000_FFFF, 0xC000_0000..=0xC000_FFFF];

/// True if `fid` lies in one of the [`KVM_SMCCC_FILTER_RESERVED`] ranges.
pub const fn is_unfilterable_fid(fid: u32) -> bool {
    (fid >= 0x8000_0000 && fid <= 0x8000_FFFF) || (fid >= 0xC000_0000 && fid <= 0xC000_FFFF)
}

/// `struct kvm_smccc_filter`: the function IDs `[base, base + nr_functions)` get `action`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct KvmSmcccFilter {
    /// First function ID of the range.
    pub base: u32,
    /// Number of function IDs in the range (0 is EINVAL).
    pub nr_functions: u32,
    /// [`KvmSmcccFilterAction`] encoding; see [`Self::action`].
    pub action: u8,
    /// Must be zero (EINVAL otherwise).
    pub pad: [u8; 15],
}
assert_layout!(
    KvmSmcccFilter,
    size = 24,
    base = 0,
    nr_functions = 4,
    action = 8,
    pad = 9
);

impl KvmSmcccFilter {
    /// A filter entry with zero padding.
    pub const fn new(base: u32, nr_functions: u32, action: KvmSmcccFilterAction) -> Self {
        Self {
            base,
            nr_functions,
            action: action as u8,
            pad: [0; 15],
        }
    }

    /// The action, if the byte holds a defined value.
    pub const fn action(&self) -> Option<KvmSmcccFilterAction> {
        KvmSmcccFilterAction::from_u8(self.action)
    }

    /// The last function ID of the range; `None` if the range is empty or wraps past
    /// 0xFFFF_FFFF (both EINVAL in KVM).
    pub const fn last(&self) -> Option<u32> {
        if self.nr_functions == 0 {
            return None;
        }
        self.base.checked_add(self.nr_functions - 1)
    }

    /// True if the (well-formed) range contains `fid`.
    pub const fn contains(&self, fid: u32) -> bool {
        match self.last() {
            Some(last) => fid >= self.base && fid <= last,
            None => false,
        }
    }

    /// True if both ranges are well formed and share a function ID (EEXIST in KVM).
    pub const fn overlaps(&self, other: &Self) -> bool {
        match (self.last(), other.last()) {
            (Some(a), Some(b)) => self.base <= b && other.base <= a,
            _ => false,
        }
    }

    /// True if the (well-formed) range touches a [`KVM_SMCCC_FILTER_RESERVED`] range.
    pub const fn overlaps_reserved(&self) -> bool {
        let reserved = [
            Self::new(0x8000_0000, 0x1_0000, KvmSmcccFilterAction::Handle),
            Self::new(0xC000_0000, 0x1_0000, KvmSmcccFilterAction::Handle),
        ];
        self.overlaps(&reserved[0]) || self.overlaps(&reserved[1])
    }
}

// ---- struct kvm_run ----

/// `kvm_run.exit_reason` values the host stub produces.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u32)]
pub enum KvmExitReason {
    /// `KVM_EXIT_UNKNOWN`: nothing reported yet (a fresh `kvm_run`, or after a failed `KVM_RUN`).
    Unknown = 0,
    /// `KVM_EXIT_HYPERCALL`: an SMCCC call forwarded by the filter ([`KvmRunHypercall`]).
    Hypercall = 3,
    /// `KVM_EXIT_MMIO`: an access to emulate ([`KvmRunMmio`]).
    Mmio = 6,
    /// `KVM_EXIT_SHUTDOWN`: the guest can no longer run.
    Shutdown = 8,
    /// `KVM_EXIT_INTR`: `KVM_RUN` returned EINTR before the guest asked for anything (a pending
    /// signal, or `immediate_exit`).
    Intr = 10,
    /// `KVM_EXIT_SYSTEM_EVENT`: PSCI SYSTEM_OFF / SYSTEM_RESET ([`KvmRunSystemEvent`]).
    SystemEvent = 24,
    /// `KVM_EXIT_MEMORY_FAULT`: a fault KVM could not resolve, e.g. a private/shared (RIPAS)
    /// conversion ([`KvmRunMemoryFault`]).
    MemoryFault = 39,
}

impl KvmExitReason {
    /// The `exit_reason` value.
    pub const fn raw(self) -> u32 {
        self as u32
    }

    /// Decodes `exit_reason`; `None` for reasons not modelled here.
    pub const fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            0 => Self::Unknown,
            3 => Self::Hypercall,
            6 => Self::Mmio,
            8 => Self::Shutdown,
            10 => Self::Intr,
            24 => Self::SystemEvent,
            39 => Self::MemoryFault,
            _ => return None,
        })
    }
}

/// Offset of `exit_reason` in `struct kvm_run`.
pub const KVM_RUN_EXIT_REASON_OFFSET: usize = 8;
/// Offset of the exit-information union in `struct kvm_run`.
pub const KVM_RUN_EXIT_UNION_OFFSET: usize = 32;
/// Size of the exit-information union (its padding member).
pub const KVM_RUN_EXIT_UNION_SIZE: usize = 256;

/// The fixed header of `struct kvm_run`, up to the exit union.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct KvmRunHeader {
    /// In: request an exit when interrupts can be injected (x86).
    pub request_interrupt_window: u8,
    /// In: return from KVM_RUN at once with EINTR.
    pub immediate_exit: u8,
    /// Padding.
    pub padding1: [u8; 6],
    /// Out: [`KvmExitReason`] encoding.
    pub exit_reason: u32,
    /// Out: interrupts can be injected (x86).
    pub ready_for_interrupt_injection: u8,
    /// Out: interrupt flag (x86).
    pub if_flag: u8,
    /// Out: `KVM_RUN_*` flags.
    pub flags: u16,
    /// In/out: CR8 (x86).
    pub cr8: u64,
    /// In/out: APIC base (x86).
    pub apic_base: u64,
}
assert_layout!(
    KvmRunHeader,
    size = KVM_RUN_EXIT_UNION_OFFSET,
    request_interrupt_window = 0,
    immediate_exit = 1,
    padding1 = 2,
    exit_reason = KVM_RUN_EXIT_REASON_OFFSET,
    ready_for_interrupt_injection = 12,
    if_flag = 13,
    flags = 14,
    cr8 = 16,
    apic_base = 24
);

impl KvmRunHeader {
    /// The exit reason, if it is one modelled here.
    pub const fn exit_reason(&self) -> Option<KvmExitReason> {
        KvmExitReason::from_u32(self.exit_reason)
    }
}

fieldset64! {
    /// `kvm_run.hypercall.flags` on arm64.
    pub struct KvmHypercallFlags {
        /// `KVM_HYPERCALL_EXIT_SMC` (bit 0): the call came by SMC, not HVC.
        EXIT_SMC = 0;
        /// `KVM_HYPERCALL_EXIT_16BIT` (bit 1): the trapping instruction was 16-bit (ESR.IL == 0;
        /// never for an AArch64 guest).
        EXIT_16BIT = 1;
    }
}

/// `KVM_HYPERCALL_EXIT_SMC`.
pub const KVM_HYPERCALL_EXIT_SMC: KvmHypercallFlags = KvmHypercallFlags::EXIT_SMC;
/// `KVM_HYPERCALL_EXIT_16BIT`.
pub const KVM_HYPERCALL_EXIT_16BIT: KvmHypercallFlags = KvmHypercallFlags::EXIT_16BIT;

/// `kvm_run.hypercall` (at `kvm_run` + 32) for `KVM_EXIT_HYPERCALL`. On arm64 KVM fills only
/// `nr` (the SMCCC function ID) and `flags`; arguments are read with `KVM_GET_ONE_REG`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct KvmRunHypercall {
    /// The function ID (x0).
    pub nr: u64,
    /// Arguments (left zero by arm64 KVM).
    pub args: [u64; 6],
    /// Return value (unused on arm64).
    pub ret: u64,
    /// Flags.
    pub flags: KvmHypercallFlags,
}
assert_layout!(
    KvmRunHypercall,
    size = 72,
    nr = 0,
    args = 8,
    ret = 56,
    flags = 64
);

/// `kvm_run.mmio` (at `kvm_run` + 32) for `KVM_EXIT_MMIO`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct KvmRunMmio {
    /// Guest physical address of the access.
    pub phys_addr: u64,
    /// Data written, or to be filled in for a read (first `len` bytes).
    pub data: [u8; 8],
    /// Access size in bytes.
    pub len: u32,
    /// Non-zero for a write.
    pub is_write: u8,
    /// Trailing padding of the C struct.
    pub pad: [u8; 3],
}
assert_layout!(
    KvmRunMmio,
    size = 24,
    phys_addr = 0,
    data = 8,
    len = 16,
    is_write = 20,
    pad = 21
);

/// `kvm_run.system_event.type` values for realm power-off and reset.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u32)]
pub enum KvmSystemEventType {
    /// `KVM_SYSTEM_EVENT_SHUTDOWN` (PSCI SYSTEM_OFF).
    Shutdown = 1,
    /// `KVM_SYSTEM_EVENT_RESET` (PSCI SYSTEM_RESET).
    Reset = 2,
}

impl KvmSystemEventType {
    /// Decodes `system_event.type`; `None` for types not modelled here.
    pub const fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            1 => Self::Shutdown,
            2 => Self::Reset,
            _ => return None,
        })
    }
}

/// `kvm_run.system_event` (at `kvm_run` + 32) for `KVM_EXIT_SYSTEM_EVENT`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct KvmRunSystemEvent {
    /// [`KvmSystemEventType`] encoding (`type` in C).
    pub event_type: u32,
    /// Number of valid `data` entries.
    pub ndata: u32,
    /// Event data; `data[0]` is also the older `flags` member.
    pub data: [u64; 16],
}
assert_layout!(
    KvmRunSystemEvent,
    size = 136,
    event_type = 0,
    ndata = 4,
    data = 8
);

/// `KVM_MEMORY_EXIT_FLAG_PRIVATE`: the faulting access was to private memory.
pub const KVM_MEMORY_EXIT_FLAG_PRIVATE: u64 = 1 << 3;

/// `kvm_run.memory_fault` (at `kvm_run` + 32) for `KVM_EXIT_MEMORY_FAULT`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct KvmRunMemoryFault {
    /// `KVM_MEMORY_EXIT_FLAG_*`.
    pub flags: u64,
    /// Guest physical address of the range.
    pub gpa: u64,
    /// Size of the range in bytes.
    pub size: u64,
}
assert_layout!(KvmRunMemoryFault, size = 24, flags = 0, gpa = 8, size = 16);

const _: () = assert!(core::mem::size_of::<KvmRunSystemEvent>() <= KVM_RUN_EXIT_UNION_SIZE);

// ---- ONE_REG ----

/// Architecture field of an arm64 register id.
pub const KVM_REG_ARM64: u64 = 0x6000_0000_0000_0000;
/// Size field of a register id: 64 bits.
pub const KVM_REG_SIZE_U64: u64 = 0x0030_0000_0000_0000;
/// Shift of the "coprocessor" field of an arm64 register id.
pub const KVM_REG_ARM_COPROC_SHIFT: u32 = 16;
/// Coprocessor value of the core registers (`struct kvm_regs`).
pub const KVM_REG_ARM_CORE: u64 = 0x0010 << KVM_REG_ARM_COPROC_SHIFT;

/// General-purpose registers a core register id can name (x0..x30).
pub const KVM_CORE_GPRS: u32 = 31;

/// A `KVM_GET_ONE_REG` / `KVM_SET_ONE_REG` register id.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(transparent)]
pub struct KvmRegId(u64);

/// Id of the 64-bit core register at `u32_index` (its offset in `struct kvm_regs` divided by 4).
const fn core_u64(u32_index: u64) -> KvmRegId {
    KvmRegId(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | u32_index)
}

/// The id of `x<n>` (`regs.regs[n]` at offset `8 * n` of `struct kvm_regs`); `None` for
/// `n > 30`.
pub const fn core_reg_id(n: u32) -> Option<KvmRegId> {
    if n >= KVM_CORE_GPRS {
        return None;
    }
    Some(core_u64(2 * n as u64))
}

impl KvmRegId {
    /// `regs.sp` (SP_EL0).
    pub const SP: Self = core_u64(2 * 31);
    /// `regs.pc`.
    pub const PC: Self = core_u64(2 * 32);
    /// `regs.pstate`.
    pub const PSTATE: Self = core_u64(2 * 33);

    /// Wraps a raw id.
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw id.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// `Some(n)` if this is the id of `x<n>`, the inverse of [`core_reg_id`].
    pub const fn core_gpr(self) -> Option<u32> {
        let base = core_u64(0).0;
        if self.0 < base {
            return None;
        }
        let index = self.0 - base;
        if !index.is_multiple_of(2) || index >= 2 * KVM_CORE_GPRS as u64 {
            return None;
        }
        Some((index / 2) as u32)
    }
}

/// `struct kvm_one_reg`, the argument of `KVM_GET_ONE_REG` / `KVM_SET_ONE_REG`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct KvmOneReg {
    /// Register id (a [`KvmRegId`] value).
    pub id: u64,
    /// User address of the value.
    pub addr: u64,
}
assert_layout!(KvmOneReg, size = 16, id = 0, addr = 8);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uapi_numbers() {
        assert_eq!(KvmExitReason::Hypercall.raw(), 3);
        assert_eq!(KvmExitReason::Mmio.raw(), 6);
        assert_eq!(KvmExitReason::Shutdown.raw(), 8);
        assert_eq!(KvmExitReason::Unknown.raw(), 0);
        assert_eq!(KvmExitReason::Intr.raw(), 10);
        assert_eq!(KvmExitReason::SystemEvent.raw(), 24);
        assert_eq!(KvmExitReason::MemoryFault.raw(), 39);
        for r in [0u32, 3, 6, 8, 10, 24, 39] {
            assert_eq!(KvmExitReason::from_u32(r).map(KvmExitReason::raw), Some(r));
        }
        assert_eq!(KvmExitReason::from_u32(1), None);
        assert_eq!(KvmExitReason::from_u32(40), None);
        assert_eq!(KvmSystemEventType::Shutdown as u32, 1);
        assert_eq!(KvmSystemEventType::Reset as u32, 2);
        assert_eq!(KvmSystemEventType::from_u32(3), None);
        assert_eq!(KVM_HYPERCALL_EXIT_SMC.bits(), 1);
        assert_eq!(KVM_HYPERCALL_EXIT_16BIT.bits(), 2);
        assert_eq!((KVM_ARM_VM_SMCCC_CTRL, KVM_ARM_VM_SMCCC_FILTER), (0, 0));
        assert_eq!(KVM_MEMORY_EXIT_FLAG_PRIVATE, 8);
    }

    #[test]
    fn filter_actions() {
        assert_eq!(KvmSmcccFilterAction::Handle as u8, 0);
        assert_eq!(KvmSmcccFilterAction::Deny as u8, 1);
        assert_eq!(KvmSmcccFilterAction::FwdToUser as u8, 2);
        assert_eq!(
            KvmSmcccFilterAction::from_u8(2),
            Some(KvmSmcccFilterAction::FwdToUser)
        );
        assert_eq!(KvmSmcccFilterAction::from_u8(3), None);
    }

    #[test]
    fn filter_ranges() {
        let f = KvmSmcccFilter::new(0xC600_0000, 0x100, KvmSmcccFilterAction::FwdToUser);
        assert_eq!(f.action(), Some(KvmSmcccFilterAction::FwdToUser));
        assert_eq!(f.pad, [0; 15]);
        assert_eq!(f.last(), Some(0xC600_00FF));
        assert!(f.contains(0xC600_0000));
        assert!(f.contains(0xC600_00FF));
        assert!(!f.contains(0xC600_0100));
        assert!(!f.contains(0xC5FF_FFFF));
        assert!(!f.overlaps_reserved());

        let empty = KvmSmcccFilter::new(0x1000, 0, KvmSmcccFilterAction::Deny);
        assert_eq!(empty.last(), None);
        assert!(!empty.contains(0x1000));
        let top = KvmSmcccFilter::new(0xFFFF_FFFF, 1, KvmSmcccFilterAction::Deny);
        assert_eq!(top.last(), Some(0xFFFF_FFFF));
        let wraps = KvmSmcccFilter::new(0xFFFF_FFFF, 2, KvmSmcccFilterAction::Deny);
        assert_eq!(wraps.last(), None);

        let next = KvmSmcccFilter::new(0xC600_0100, 1, KvmSmcccFilterAction::Deny);
        let inside = KvmSmcccFilter::new(0xC600_0080, 1, KvmSmcccFilterAction::Deny);
        let around = KvmSmcccFilter::new(0xC500_0000, 0x200_0000, KvmSmcccFilterAction::Deny);
        assert!(!f.overlaps(&next));
        assert!(f.overlaps(&inside) && inside.overlaps(&f));
        assert!(f.overlaps(&around) && around.overlaps(&f));
        assert!(!f.overlaps(&empty));
    }

    #[test]
    fn reserved_ranges() {
        for fid in [0x8000_0000u32, 0x8000_FFFF, 0xC000_0000, 0xC000_FFFF] {
            assert!(is_unfilterable_fid(fid), "{fid:#x}");
            assert!(KVM_SMCCC_FILTER_RESERVED.iter().any(|r| r.contains(&fid)));
        }
        for fid in [
            0x7FFF_FFFFu32,
            0x8001_0000,
            0xBFFF_FFFF,
            0xC001_0000,
            0x8400_0000,
        ] {
            assert!(!is_unfilterable_fid(fid), "{fid:#x}");
            assert!(!KVM_SMCCC_FILTER_RESERVED.iter().any(|r| r.contains(&fid)));
        }
        let psci = KvmSmcccFilter::new(0x8400_0000, 0x20, KvmSmcccFilterAction::FwdToUser);
        assert!(!psci.overlaps_reserved());
        let straddle = KvmSmcccFilter::new(0x7FFF_FFF0, 0x20, KvmSmcccFilterAction::Deny);
        assert!(straddle.overlaps_reserved());
        let smccc_version = KvmSmcccFilter::new(0x8000_0000, 1, KvmSmcccFilterAction::Deny);
        assert!(smccc_version.overlaps_reserved());
        let arch64_tail = KvmSmcccFilter::new(0xC000_FFFF, 2, KvmSmcccFilterAction::Deny);
        assert!(arch64_tail.overlaps_reserved());
    }

    #[test]
    fn core_register_ids() {
        assert_eq!(core_reg_id(0).unwrap().raw(), 0x6030_0000_0010_0000);
        assert_eq!(core_reg_id(1).unwrap().raw(), 0x6030_0000_0010_0002);
        assert_eq!(core_reg_id(30).unwrap().raw(), 0x6030_0000_0010_003C);
        assert_eq!(core_reg_id(31), None);
        assert_eq!(KvmRegId::SP.raw(), 0x6030_0000_0010_003E);
        assert_eq!(KvmRegId::PC.raw(), 0x6030_0000_0010_0040);
        assert_eq!(KvmRegId::PSTATE.raw(), 0x6030_0000_0010_0042);
        for n in 0..KVM_CORE_GPRS {
            assert_eq!(core_reg_id(n).unwrap().core_gpr(), Some(n));
        }
        assert_eq!(KvmRegId::SP.core_gpr(), None);
        assert_eq!(KvmRegId::PC.core_gpr(), None);
        assert_eq!(KvmRegId::from_raw(0x6030_0000_0010_0001).core_gpr(), None);
        // A 32-bit-sized id of the same offset is a different register.
        assert_eq!(KvmRegId::from_raw(0x6020_0000_0010_0000).core_gpr(), None);
        assert_eq!(KvmRegId::from_raw(0).core_gpr(), None);
    }

    #[test]
    fn run_header_decodes_exit_reason() {
        let h = KvmRunHeader {
            exit_reason: 3,
            ..KvmRunHeader::default()
        };
        assert_eq!(h.exit_reason(), Some(KvmExitReason::Hypercall));
        // The hypercall member sits right after the header: nr at kvm_run+32, flags at +96.
        assert_eq!(
            KVM_RUN_EXIT_UNION_OFFSET + core::mem::offset_of!(KvmRunHypercall, nr),
            32
        );
        assert_eq!(
            KVM_RUN_EXIT_UNION_OFFSET + core::mem::offset_of!(KvmRunHypercall, args),
            40
        );
        assert_eq!(
            KVM_RUN_EXIT_UNION_OFFSET + core::mem::offset_of!(KvmRunHypercall, ret),
            88
        );
        assert_eq!(
            KVM_RUN_EXIT_UNION_OFFSET + core::mem::offset_of!(KvmRunHypercall, flags),
            96
        );
    }
}
