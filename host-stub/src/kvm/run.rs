//! `struct kvm_run` as this model keeps it: a Rust mirror of the parts a VMM reads and writes
//! (the exit reason and the exit union), with [`KvmRun::encode`] producing the real byte layout
//! so the offsets can be checked against `hostcall_abi::kvm`.
//!
//! As with the page userspace maps from a vCPU fd, the VMM reads the exit information after
//! `KVM_RUN` returns and writes into it before the next one: the data of an emulated MMIO read goes
//! into `mmio.data` ([`KvmRun::mmio_data_mut`]), and [`KvmRun::immediate_exit`] asks the next run
//! to return at once.

use hostcall_abi::kvm::{
    KvmExitReason, KvmRunHeader, KvmRunHypercall, KvmRunMemoryFault, KvmRunMmio, KvmRunSystemEvent,
    KVM_RUN_EXIT_UNION_OFFSET, KVM_RUN_EXIT_UNION_SIZE,
};

/// `KVM_EXIT_UNKNOWN`: no exit has been reported yet (the value of a fresh `kvm_run`).
pub const KVM_EXIT_UNKNOWN: u32 = KvmExitReason::Unknown.raw();
/// `KVM_EXIT_INTR`: `KVM_RUN` returned EINTR before the guest asked for anything.
pub const KVM_EXIT_INTR: u32 = KvmExitReason::Intr.raw();

/// Bytes of `struct kvm_run` this model encodes: the header and the exit union (the sync-register
/// area that follows in Linux is not modelled).
pub const KVM_RUN_SIZE: usize = KVM_RUN_EXIT_UNION_OFFSET + KVM_RUN_EXIT_UNION_SIZE;

/// The exit union of `struct kvm_run`, tagged by the exit reason it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvmExit {
    /// `KVM_EXIT_UNKNOWN`: nothing reported (no run yet, or the last `KVM_RUN` failed).
    Unknown,
    /// `KVM_EXIT_HYPERCALL`: a host call the SMCCC filter forwards to userspace.
    Hypercall(KvmRunHypercall),
    /// `KVM_EXIT_MMIO`: an access to an unprotected IPA to emulate.
    Mmio(KvmRunMmio),
    /// `KVM_EXIT_SHUTDOWN`: the realm is off (REC_ENTER reported the realm in SYSTEM_OFF).
    Shutdown,
    /// `KVM_EXIT_SYSTEM_EVENT`: PSCI SYSTEM_OFF or SYSTEM_RESET.
    SystemEvent(KvmRunSystemEvent),
    /// `KVM_EXIT_MEMORY_FAULT` (only with `KVM_RUN` failing with EFAULT): a RIPAS change, or an
    /// abort on protected memory, for userspace to resolve.
    MemoryFault(KvmRunMemoryFault),
    /// `KVM_EXIT_INTR` (with `KVM_RUN` failing with EINTR).
    Intr,
}

impl KvmExit {
    /// The `exit_reason` value.
    pub const fn reason(&self) -> u32 {
        match self {
            Self::Unknown => KVM_EXIT_UNKNOWN,
            Self::Hypercall(_) => KvmExitReason::Hypercall.raw(),
            Self::Mmio(_) => KvmExitReason::Mmio.raw(),
            Self::Shutdown => KvmExitReason::Shutdown.raw(),
            Self::SystemEvent(_) => KvmExitReason::SystemEvent.raw(),
            Self::MemoryFault(_) => KvmExitReason::MemoryFault.raw(),
            Self::Intr => KVM_EXIT_INTR,
        }
    }
}

/// The vCPU's `struct kvm_run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvmRun {
    /// In: when set, the next `KVM_RUN` returns EINTR without entering the realm (anything the
    /// last exit left to complete stays pending).
    pub immediate_exit: bool,
    exit: KvmExit,
}

impl Default for KvmRun {
    fn default() -> Self {
        Self::new()
    }
}

fn put(out: &mut [u8], offset: usize, bytes: &[u8]) {
    if let Some(dst) = out.get_mut(offset..offset + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

impl KvmRun {
    /// A fresh `kvm_run`: no exit reported.
    pub const fn new() -> Self {
        Self {
            immediate_exit: false,
            exit: KvmExit::Unknown,
        }
    }

    /// The last exit.
    pub const fn exit(&self) -> &KvmExit {
        &self.exit
    }

    /// `kvm_run.exit_reason`.
    pub const fn exit_reason(&self) -> u32 {
        self.exit.reason()
    }

    /// The header as Linux lays it out (only `immediate_exit` and `exit_reason` carry values).
    pub fn header(&self) -> KvmRunHeader {
        KvmRunHeader {
            immediate_exit: self.immediate_exit as u8,
            exit_reason: self.exit_reason(),
            ..KvmRunHeader::default()
        }
    }

    /// `mmio.data`, for the VMM to fill in after a `KVM_EXIT_MMIO` read; `None` after any other
    /// exit.
    pub fn mmio_data_mut(&mut self) -> Option<&mut [u8; 8]> {
        match &mut self.exit {
            KvmExit::Mmio(m) => Some(&mut m.data),
            _ => None,
        }
    }

    /// Records an exit (the kernel side of the model writes it).
    pub(crate) fn set_exit(&mut self, exit: KvmExit) {
        self.exit = exit;
    }

    /// Writes the header and exit union in Linux's byte layout (little-endian) into `out`, which
    /// is zeroed first.
    pub fn encode(&self, out: &mut [u8; KVM_RUN_SIZE]) {
        out.fill(0);
        let h = self.header();
        out[core::mem::offset_of!(KvmRunHeader, immediate_exit)] = h.immediate_exit;
        put(
            out,
            core::mem::offset_of!(KvmRunHeader, exit_reason),
            &h.exit_reason.to_le_bytes(),
        );
        let u = KVM_RUN_EXIT_UNION_OFFSET;
        match &self.exit {
            KvmExit::Hypercall(hc) => {
                put(out, u, &hc.nr.to_le_bytes());
                for (i, a) in hc.args.iter().enumerate() {
                    put(
                        out,
                        u + core::mem::offset_of!(KvmRunHypercall, args) + 8 * i,
                        &a.to_le_bytes(),
                    );
                }
                put(
                    out,
                    u + core::mem::offset_of!(KvmRunHypercall, ret),
                    &hc.ret.to_le_bytes(),
                );
                put(
                    out,
                    u + core::mem::offset_of!(KvmRunHypercall, flags),
                    &hc.flags.bits().to_le_bytes(),
                );
            }
            KvmExit::Mmio(m) => {
                put(out, u, &m.phys_addr.to_le_bytes());
                put(out, u + core::mem::offset_of!(KvmRunMmio, data), &m.data);
                put(
                    out,
                    u + core::mem::offset_of!(KvmRunMmio, len),
                    &m.len.to_le_bytes(),
                );
                out[u + core::mem::offset_of!(KvmRunMmio, is_write)] = m.is_write;
            }
            KvmExit::SystemEvent(e) => {
                put(out, u, &e.event_type.to_le_bytes());
                put(
                    out,
                    u + core::mem::offset_of!(KvmRunSystemEvent, ndata),
                    &e.ndata.to_le_bytes(),
                );
                for (i, d) in e.data.iter().enumerate() {
                    put(
                        out,
                        u + core::mem::offset_of!(KvmRunSystemEvent, data) + 8 * i,
                        &d.to_le_bytes(),
                    );
                }
            }
            KvmExit::MemoryFault(f) => {
                put(out, u, &f.flags.to_le_bytes());
                put(
                    out,
                    u + core::mem::offset_of!(KvmRunMemoryFault, gpa),
                    &f.gpa.to_le_bytes(),
                );
                put(
                    out,
                    u + core::mem::offset_of!(KvmRunMemoryFault, size),
                    &f.size.to_le_bytes(),
                );
            }
            KvmExit::Unknown | KvmExit::Shutdown | KvmExit::Intr => {}
        }
    }
}
