//! Running the Linux realm's vCPUs: the VMM's loop around `KVM_RUN` for each vCPU thread.
//!
//! One [`Guest`] is shared by every host CPU that runs a vCPU: the VM (locked only between REC
//! entries, [`crate::kvm::vcpu::Vcpu::run_shared`]), the console UART and the guest's state
//! (running, or how it stopped). Each host CPU calls [`run_vcpus`] for its vCPUs; the loop serves
//! what KVM leaves to userspace: the PL011 at its MMIO window (its interrupt line driven into
//! the vGIC after each access, as `KVM_IRQ_LINE` would), RIPAS changes (always accepted: the
//! kernel commits them with RMI_RTT_SET_RIPAS on the next run), system events. Every other MMIO
//! access reads as zero. What the loop does not own: the host's interrupts and time, which the
//! caller's [`Host`] hooks provide.

use core::sync::atomic::{AtomicU8, Ordering};

use hostcall_abi::kvm::{KvmRunMemoryFault, KvmSystemEventType};

use super::IPA_BITS;
use crate::kvm::run::KvmExit;
use crate::kvm::vcpu::Vcpu;
use crate::kvm::vm::Vm;
use crate::kvm::{Errno, RmmLink};
use crate::mmio::{MmioAccess, MmioKind};
use crate::pl011::{ConsoleSink, Pl011, PL011_SIZE};
use crate::{Conduit, HostMemory};

/// The guest is running.
const RUNNING: u8 = 0;
/// The guest asked for SYSTEM_OFF.
const POWERED_OFF: u8 = 1;
/// The guest asked for SYSTEM_RESET (a Linux panic with `panic=-1` ends here).
const RESET: u8 = 2;
/// A vCPU failed (see its [`Outcome`]).
const FAILED: u8 = 3;

/// How the guest ended, or why a vCPU gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// SYSTEM_OFF.
    PoweredOff,
    /// SYSTEM_RESET.
    Reset,
    /// Another vCPU failed.
    Aborted,
    /// This vCPU failed: `KVM_RUN` returned this errno.
    Failed(Errno),
    /// The same memory fault came back after the VMM had resolved it.
    UnresolvedFault {
        /// The faulting IPA.
        gpa: u64,
    },
}

/// What the caller provides around each vCPU: the host's side of time and interrupts.
pub trait Host {
    /// Called before each `KVM_RUN` (e.g. to arm the host tick that ends a run, so that the
    /// loop sees other vCPUs' news and the guest's end).
    fn before_run(&mut self);
    /// Called when `KVM_RUN` returned EINTR (the host took an interrupt or the entry budget ran
    /// out): a byte of console input, if the host has one.
    fn console_input(&mut self) -> Option<u8>;
    /// Called when the vCPU is off (not started yet, or after CPU_OFF): wait until something
    /// may have changed (the host's next tick), instead of spinning on `KVM_RUN`.
    fn idle(&mut self);
}

/// Counters of what the VMM side saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VmmStats {
    /// `KVM_RUN` calls.
    pub runs: u64,
    /// UART accesses served.
    pub uart_accesses: u64,
    /// MMIO accesses no device claimed (read as zero).
    pub unclaimed_mmio: u64,
    /// RIPAS changes accepted.
    pub ripas_changes: u64,
    /// Runs that ended with EINTR.
    pub interrupted: u64,
}

/// What every vCPU thread of the guest shares.
pub struct Guest<S: ConsoleSink> {
    /// The VM.
    pub vm: spin::Mutex<Vm>,
    /// The console.
    pub uart: spin::Mutex<Pl011<S>>,
    /// The UART's window (IPA) and interrupt.
    uart_base: u64,
    uart_intid: u32,
    state: AtomicU8,
    stats: spin::Mutex<VmmStats>,
}

impl<S: ConsoleSink> Guest<S> {
    /// A guest around `vm` (its vGIC created) with the console `uart` at `uart_base`, raising
    /// `uart_intid`.
    pub const fn new(vm: Vm, uart: Pl011<S>, uart_base: u64, uart_intid: u32) -> Self {
        Self {
            vm: spin::Mutex::new(vm),
            uart: spin::Mutex::new(uart),
            uart_base,
            uart_intid,
            state: AtomicU8::new(RUNNING),
            stats: spin::Mutex::new(VmmStats {
                runs: 0,
                uart_accesses: 0,
                unclaimed_mmio: 0,
                ripas_changes: 0,
                interrupted: 0,
            }),
        }
    }

    /// True while no vCPU has stopped the guest.
    pub fn running(&self) -> bool {
        self.state.load(Ordering::Acquire) == RUNNING
    }

    /// What the VMM side saw so far.
    pub fn stats(&self) -> VmmStats {
        *self.stats.lock()
    }

    fn stop(&self, how: u8) {
        // The first reason wins.
        let _ = self
            .state
            .compare_exchange(RUNNING, how, Ordering::AcqRel, Ordering::Acquire);
    }

    /// How the guest ended, once it has.
    pub fn outcome(&self) -> Option<Outcome> {
        match self.state.load(Ordering::Acquire) {
            POWERED_OFF => Some(Outcome::PoweredOff),
            RESET => Some(Outcome::Reset),
            FAILED => Some(Outcome::Aborted),
            _ => None,
        }
    }

    /// Drives the UART's interrupt line into the vGIC (`KVM_IRQ_LINE`).
    fn sync_uart_line(&self, level: bool) {
        if let Some(g) = self.vm.lock().vgic_mut() {
            g.gic.line(self.uart_intid, 0, level);
        }
    }

    /// Serves an MMIO exit: the UART's window, or zero for anything else.
    fn mmio(&self, vcpu: &mut Vcpu) {
        let KvmExit::Mmio(m) = *vcpu.kvm_run().exit() else {
            return;
        };
        let Ok(access) = MmioAccess::from_kvm_mmio(&m, IPA_BITS) else {
            self.stats.lock().unclaimed_mmio += 1;
            return;
        };
        let Some(offset) = access.offset_in(self.uart_base, PL011_SIZE) else {
            self.stats.lock().unclaimed_mmio += 1;
            access.complete_kvm_run(vcpu.kvm_run_mut(), 0);
            return;
        };
        let (value, level) = {
            let mut uart = self.uart.lock();
            let value = match access.kind {
                MmioKind::Read => uart.read(offset, access.size),
                MmioKind::Write(v) => {
                    uart.write(offset, access.size, v);
                    0
                }
            };
            (value, uart.irq_line())
        };
        self.stats.lock().uart_accesses += 1;
        access.complete_kvm_run(vcpu.kvm_run_mut(), value);
        self.sync_uart_line(level);
    }

    /// Queues a byte of console input and raises the UART's line.
    fn input(&self, byte: u8) {
        let level = {
            let mut uart = self.uart.lock();
            let _ = uart.push_input(byte);
            uart.irq_line()
        };
        self.sync_uart_line(level);
    }
}

/// Runs `vcpus` on this host CPU until the guest stops or one of them fails; returns how it
/// ended. Several vCPUs share the CPU in turns: each runs until `KVM_RUN` returns EINTR (the
/// host's tick, or its entry budget), then the next; when every one of them is off, the CPU
/// idles until its next tick.
pub fn run_vcpus<C: Conduit, M: HostMemory, S: ConsoleSink>(
    guest: &Guest<S>,
    vcpus: &mut [Vcpu],
    link: &mut RmmLink<'_, C, M>,
    host: &mut impl Host,
) -> Outcome {
    let mut last_faults = [None; super::MAX_VCPUS];
    loop {
        let mut any_on = false;
        for (vcpu, last_fault) in vcpus.iter_mut().zip(last_faults.iter_mut()) {
            if let Err(failed) = run_slice(guest, vcpu, link, host, last_fault) {
                return failed;
            }
            if let Some(done) = guest.outcome() {
                return done;
            }
            any_on |= guest.vm.lock().is_powered_on(vcpu.id());
        }
        if !any_on {
            host.idle();
        }
    }
}

/// Runs `vcpu` until `KVM_RUN` returns EINTR or the guest stops. `Err` if this vCPU failed.
fn run_slice<C: Conduit, M: HostMemory, S: ConsoleSink>(
    guest: &Guest<S>,
    vcpu: &mut Vcpu,
    link: &mut RmmLink<'_, C, M>,
    host: &mut impl Host,
    last_fault: &mut Option<KvmRunMemoryFault>,
) -> Result<(), Outcome> {
    let fail = |o: Outcome| {
        guest.stop(FAILED);
        Err(o)
    };
    while guest.running() {
        host.before_run();
        guest.stats.lock().runs += 1;
        match vcpu.run_shared(&guest.vm, link) {
            Ok(KvmExit::Mmio(_)) => guest.mmio(vcpu),
            Ok(KvmExit::SystemEvent(e)) => {
                let how = match KvmSystemEventType::from_u32(e.event_type) {
                    Some(KvmSystemEventType::Reset) => RESET,
                    _ => POWERED_OFF,
                };
                guest.stop(how);
            }
            Ok(KvmExit::Shutdown) => guest.stop(POWERED_OFF),
            // No range of the SMCCC filter forwards to this VMM: cannot happen.
            Ok(KvmExit::Hypercall(_)) => return fail(Outcome::Failed(Errno::ENXIO)),
            Ok(_) => {}
            Err(Errno::EINTR) => {
                guest.stats.lock().interrupted += 1;
                if let Some(byte) = host.console_input() {
                    guest.input(byte);
                }
                return Ok(());
            }
            Err(Errno::EFAULT) => {
                let KvmExit::MemoryFault(f) = *vcpu.kvm_run().exit() else {
                    return fail(Outcome::Failed(Errno::EFAULT));
                };
                // A RIPAS change is accepted (committed on the next run); a fault that comes
                // back unchanged was not a RIPAS change the kernel could commit.
                if *last_fault == Some(f) {
                    return fail(Outcome::UnresolvedFault { gpa: f.gpa });
                }
                *last_fault = Some(f);
                guest.stats.lock().ripas_changes += 1;
                continue;
            }
            Err(e) => return fail(Outcome::Failed(e)),
        }
        *last_fault = None;
    }
    Ok(())
}
