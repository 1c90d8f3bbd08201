//! A model of Linux KVM running a realm (Linux 6.4 uAPI plus the Arm CCA host series, RMM 1.0),
//! and of a VMM on top of it.
//!
//! The kernel side owns what KVM owns for a realm:
//! - [`vm::Vm`]: the VM fd. The SMCCC filter (`KVM_SET_DEVICE_ATTR` / `KVM_HAS_DEVICE_ATTR`,
//!   [`filter`]), "has any vCPU run", and the vCPU table PSCI needs (MPIDR -> REC, power state).
//! - [`vcpu::Vcpu`]: a vCPU fd. Its REC and RecRun page, the register cache behind
//!   `KVM_GET_ONE_REG` / `KVM_SET_ONE_REG` ([`one_reg`]), its `kvm_run` ([`run`]) and `KVM_RUN`,
//!   which turns RMI REC exits into `kvm_run` exits, answers what KVM answers itself
//!   ([`hypercalls`]) and completes PSCI requests with RMI_PSCI_COMPLETE.
//!
//! [`vmm`] is the userspace side: it installs filter ranges, serves the host calls it forwards
//! to itself through ONE_REG, emulates a UART by MMIO and keeps a log of what happened.
//!
//! Everything is `no_std` without a heap (fixed capacities), talks to the RMM only through an
//! [`RmmLink`] (RMI SMCs and the NS RecRun page), and takes every value from the RMM or the realm
//! as untrusted: a surprise becomes an errno, never a panic.
//!
//! Where the model departs from KVM:
//! - ioctls are method calls; errors are [`Errno`] values with Linux's numbers, and the memory
//!   userspace would pass by pointer is passed by value or reference.
//! - `hypercall.flags` is `KVM_HYPERCALL_EXIT_SMC`: `RSI_HOST_CALL` is an SMC. KVM derives the
//!   flags from the exit's ESR, which the RMM reports as zero for a host call: EC is not SMC and
//!   IL is clear, so KVM would report `KVM_HYPERCALL_EXIT_16BIT` alone, which means nothing for
//!   a realm. `hypercall.args` and `ret` stay zero, as on arm64 KVM: arguments are read with
//!   `KVM_GET_ONE_REG`. `rec_exit.imm` plays no part in the exit, as in KVM; the model keeps it
//!   behind [`Vcpu::host_call_imm`], an accessor KVM does not have, so a check can see it.
//! - The function ID is x0 with bits 63:32 and the SMCCC 1.3 SVE hint (bit 16) removed.
//! - For a realm vCPU, `KVM_GET_ONE_REG` of a register other than x0..x30 (and the PC before the
//!   REC exists) is EINVAL rather than KVM's stale copy (see [`one_reg`]).
//! - In-kernel SMCCC services are limited to SMCCC_VERSION and SMCCC_ARCH_FEATURES; the rest of
//!   KVM's (TRNG, PV time, KVM vendor calls) answer NOT_SUPPORTED, and the firmware feature
//!   bitmaps are not modelled.
//! - Blocking becomes EINTR: a powered-off vCPU, a trapped WFI/WFE or CPU_SUSPEND would sleep in
//!   KVM until an event; here WFx and CPU_SUSPEND re-enter at once, and `run` on a powered-off
//!   vCPU returns EINTR (`KVM_EXIT_INTR`). The entry budget of a run stands in for a pending
//!   signal.
//! - PSCI_CPU_ON is completed with PSCI_DENIED only if the VMM set
//!   [`vm::VcpuSlot::allow_cpu_on`] to false for an off target, a knob KVM does not have.
//! - A RIPAS change is committed with RMI_RTT_SET_RIPAS before the next entry, or refused
//!   (RIPAS_RESPONSE = REJECT) if the VMM asked for it or the RMM refused the command; KVM would
//!   also create missing RTTs, which this model leaves to the realm builder.
//! - Demand paging: a stage-2 data abort at a protected IPA that RMI_RTT_READ_ENTRY shows
//!   UNASSIGNED with RIPAS RAM at level 3 is resolved in the kernel from a fixed set of NS
//!   granules the VM was handed ([`vm::Vm::add_backing`], standing in for guest_memfd):
//!   GRANULE_DELEGATE, DATA_CREATE_UNKNOWN, re-enter. Without a granule left, a missing
//!   level-3 table or another RIPAS it is a `KVM_EXIT_MEMORY_FAULT`, as before.
//! - With a clock ([`Vcpu::set_clock`]) every REC_ENTER is timed and the ones ending in a
//!   trapped WFI/WFE are kept, a measurement hook KVM has only as tracepoints.
//! - SYSTEM_OFF does not stop the other vCPUs: their next entry fails in the RMM (ERROR_REALM,
//!   index 1), which the model reports as `KVM_EXIT_SHUTDOWN`, as the series does from v9.
//! - `mmio.phys_addr` is the IPA the realm accessed, unprotected bit included; no in-kernel
//!   device (vGIC, ioeventfd) sees MMIO first.

pub mod filter;
pub mod hypercalls;
pub mod memslot;
pub mod one_reg;
pub mod run;
pub mod vcpu;
pub mod vm;
pub mod vmm;

#[cfg(test)]
mod tests;

pub use run::{KvmExit, KvmRun};
pub use vcpu::Vcpu;
pub use vm::Vm;

use crate::rmi::RmiClient;
use crate::{Conduit, HostMemory};

/// The errno values the model returns (Linux numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(target_os = "none", derive(defmt::Format))]
#[repr(i32)]
pub enum Errno {
    /// No such register.
    ENOENT = 2,
    /// Interrupted: `KVM_RUN` returns with `KVM_EXIT_INTR`.
    EINTR = 4,
    /// No such device or address: the RMM refused a command, or reported something unknown;
    /// also an unknown device-attribute group or attribute.
    ENXIO = 6,
    /// Exec format error: the vCPU has not been initialised (no REC yet).
    ENOEXEC = 8,
    /// Out of memory: a fixed-capacity table is full.
    ENOMEM = 12,
    /// Bad address: with `KVM_EXIT_MEMORY_FAULT`.
    EFAULT = 14,
    /// Busy: too late (a vCPU has run).
    EBUSY = 16,
    /// Exists: overlapping filter range, vCPU id in use.
    EEXIST = 17,
    /// Invalid argument.
    EINVAL = 22,
    /// Not implemented: an MMIO access without a valid syndrome.
    ENOSYS = 38,
}

impl Errno {
    /// The positive errno value.
    pub const fn raw(self) -> i32 {
        self as i32
    }

    /// The symbolic name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ENOENT => "ENOENT",
            Self::EINTR => "EINTR",
            Self::ENXIO => "ENXIO",
            Self::ENOEXEC => "ENOEXEC",
            Self::ENOMEM => "ENOMEM",
            Self::EFAULT => "EFAULT",
            Self::EBUSY => "EBUSY",
            Self::EEXIST => "EEXIST",
            Self::EINVAL => "EINVAL",
            Self::ENOSYS => "ENOSYS",
        }
    }
}

/// The kernel's way to the RMM: RMI calls, and the host's memory holding the RecRun pages.
pub struct RmmLink<'a, C: Conduit, M: HostMemory> {
    /// RMI client.
    pub rmi: &'a mut RmiClient<C>,
    /// The host's NS memory.
    pub mem: &'a mut M,
}

impl<'a, C: Conduit, M: HostMemory> RmmLink<'a, C, M> {
    /// A link over this client and memory.
    pub fn new(rmi: &'a mut RmiClient<C>, mem: &'a mut M) -> Self {
        Self { rmi, mem }
    }
}
