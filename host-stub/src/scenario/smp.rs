//! The SMP scenario: the payload in its SMP mode, a realm with two RECs. vCPU 0 (REC 0) runs on
//! this CPU and starts vCPU 1 (REC 1) with PSCI CPU_ON; vCPU 1 runs on another host CPU, as a
//! VMM's vCPU thread would, both sharing one VM locked only between REC_ENTERs, or, with one
//! CPU, time-sliced with vCPU 0 by the host's timer (IRQ exits).
//!
//! It owns the VM and vCPU set-up, both ways of running the two vCPUs, the other CPU's part
//! ([`serve_vcpu`]) and the verdict with its log lines. Handing a vCPU to another CPU, the
//! host's timer and interrupt controller and the CPU's own MPIDR come in through [`Hardware`];
//! it must not touch any other hardware nor own the statics the CPUs share.

use hostcall_abi::payload::{MODE_SMP, SMP_CONTEXT};

use crate::kvm::vcpu::{Vcpu, VcpuStats};
use crate::kvm::vm::Vm;
use crate::kvm::vmm::{Stop, Vmm, VmmError};
use crate::kvm::RmmLink;
use crate::log;
use crate::realm_build::{Host, Pool};
use crate::realm_run::{load_with_recs, unload};
use crate::rmi::RmiClient;
use crate::{Conduit, HostMemory};

/// Length of a time slice when one CPU runs both vCPUs.
pub const SLICE_US: u64 = 1_000;
/// Most time slices the SMP realm gets on one CPU.
pub const MAX_SLICES: usize = 10_000;

/// What the CPU that ran vCPU 1 saw: its MPIDR, how its vCPU stopped, the SMP_HELLO it served
/// and its REC_ENTER count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecondReport {
    /// The host CPU's MPIDR.
    pub host_mpidr: u64,
    /// How vCPU 1 stopped.
    pub stop: Result<Stop, VmmError>,
    /// The MPIDR and context ID REC 1 reported in SMP_HELLO.
    pub hello: Option<(u64, u64)>,
    /// vCPU 1's REC_ENTERs.
    pub entries: u64,
}

/// What running the two vCPUs gave.
#[derive(Clone, Copy, Debug)]
pub struct Ran {
    /// How vCPU 0 stopped.
    pub stop: Result<Stop, VmmError>,
    /// The realm's verdict.
    pub verdict: Option<u64>,
    /// vCPU 0's counters.
    pub stats: VcpuStats,
    /// The report about vCPU 1.
    pub second: Option<SecondReport>,
    /// Time slices used (0 on two CPUs).
    pub slices: usize,
}

/// The host's side of the SMP scenario.
pub trait Hardware {
    /// This CPU's MPIDR.
    fn mpidr(&self) -> u64;
    /// Hands `vcpu` to the other CPU, which runs it with [`serve_vcpu`].
    fn offer_vcpu(&mut self, vcpu: Vcpu);
    /// Waits (bounded) for the other CPU's report.
    fn wait_for_other(&mut self) -> Option<SecondReport>;
    /// Enables the host's timer interrupt at the interrupt controller; false if it cannot.
    fn timer_enable(&mut self) -> bool;
    /// Arms the host's timer to fire `us` microseconds from now.
    fn arm_timer_in(&mut self, us: u64);
    /// Turns the timer and its interrupt off again.
    fn timer_disable(&mut self);
    /// Takes the host's pending interrupt after an IRQ exit.
    fn take_interrupt(&self) -> fn() -> Option<u32>;
}

/// The other CPU's part: waits (until `expired`) for the realm to power `vcpu` on, runs it
/// until it powers off, and reports; `mpidr` is that CPU's.
pub fn serve_vcpu<C: Conduit, M: HostMemory>(
    vm: &spin::Mutex<Vm>,
    mut vcpu: Vcpu,
    link: &mut RmmLink<'_, C, M>,
    mpidr: u64,
    mut expired: impl FnMut() -> bool,
) -> SecondReport {
    while !vm.lock().is_powered_on(vcpu.id()) && !expired() {
        for _ in 0..1000 {
            core::hint::spin_loop();
        }
    }
    let mut vmm = Vmm::new(vm.lock().ipa_bits());
    let stop = if vm.lock().is_powered_on(vcpu.id()) {
        vmm.run_vcpu_shared(vm, &mut vcpu, link, 64)
    } else {
        Ok(Stop::CpuOff)
    };
    SecondReport {
        host_mpidr: mpidr,
        stop,
        hello: vmm.payload().smp_hello,
        entries: vcpu.stats().entries,
    }
}

/// vCPU 0 here, vCPU 1 handed to the other CPU ([`serve_vcpu`]).
fn run_on_two_cpus<C: Conduit, M: HostMemory, H: Hardware>(
    vm: &spin::Mutex<Vm>,
    mut vmm: Vmm,
    mut v0: Vcpu,
    v1: Vcpu,
    link: &mut RmmLink<'_, C, M>,
    hw: &mut H,
) -> Ran {
    hw.offer_vcpu(v1);
    let stop = vmm.run_vcpu_shared(vm, &mut v0, link, 256);
    let second = hw.wait_for_other();
    Ran {
        stop,
        verdict: vmm.payload().verdict,
        stats: *v0.stats(),
        second,
        slices: 0,
    }
}

/// Both vCPUs on this one CPU, as a host with one CPU runs two vCPU threads: each runs until
/// the host's timer ends its slice (an IRQ exit; `KVM_RUN` returns EINTR) or it stops.
fn run_time_sliced<C: Conduit, M: HostMemory, H: Hardware>(
    vm: &spin::Mutex<Vm>,
    mut vmm0: Vmm,
    mut v0: Vcpu,
    mut v1: Vcpu,
    link: &mut RmmLink<'_, C, M>,
    hw: &mut H,
) -> Ran {
    let timer = hw.timer_enable();
    let mut vmm1 = Vmm::new(vm.lock().ipa_bits());
    for v in [&mut v0, &mut v1] {
        v.set_host_interrupts(Some(hw.take_interrupt()));
        v.set_preempt_on_host_interrupt(true);
    }
    let (mut stop0, mut stop1) = (None, None);
    let mut slices = 0;
    while stop0.is_none() && slices < MAX_SLICES && timer {
        slices += 1;
        hw.arm_timer_in(SLICE_US);
        match vmm0.run_slice(vm, &mut v0, link, 64) {
            Ok(None) => {}
            Ok(Some(s)) => stop0 = Some(Ok(s)),
            Err(e) => stop0 = Some(Err(e)),
        }
        if stop1.is_none() && vm.lock().is_powered_on(v1.id()) {
            slices += 1;
            hw.arm_timer_in(SLICE_US);
            match vmm1.run_slice(vm, &mut v1, link, 64) {
                Ok(None) => {}
                Ok(Some(s)) => stop1 = Some(Ok(s)),
                Err(e) => stop1 = Some(Err(e)),
            }
        }
    }
    hw.timer_disable();
    let second = SecondReport {
        host_mpidr: hw.mpidr(),
        stop: stop1.unwrap_or(Err(VmmError::TooManyRuns)),
        hello: vmm1.payload().smp_hello,
        entries: v1.stats().entries,
    };
    Ran {
        stop: stop0.unwrap_or(Err(VmmError::TooManyRuns)),
        verdict: vmm0.payload().verdict,
        stats: *v0.stats(),
        second: Some(second),
        slices,
    }
}

/// Loads `image` (the realm payload) in its SMP mode as realm VMID 4 with two RECs from `pool`,
/// puts its VM in `vm` (which the other CPU shares), and runs vCPU 0 here and vCPU 1 on the
/// other CPU when `other_cpu`, else both here time-sliced; then takes the realm apart. True if
/// the realm's checks passed, vCPU 1 reported as expected (from another CPU when `other_cpu`)
/// and the realm powered off and came apart.
pub fn run<C: Conduit, M: HostMemory, H: Hardware>(
    rmi: &mut RmiClient<C>,
    mem: &mut M,
    pool: &mut Pool,
    image: &[u8],
    vm: &spin::Mutex<Vm>,
    other_cpu: bool,
    hw: &mut H,
) -> bool {
    let l = match load_with_recs(&mut Host::new(rmi, mem), pool, image, 4, MODE_SMP, 2) {
        Ok(l) => l,
        Err(f) => {
            log::error!("realm SMP: loading failed at {=str}", f.step);
            return false;
        }
    };
    let bits = crate::realm_build::realm_params(0, 0).s2sz as u32;
    let mut new_vm = Vm::new(l.realm.rd, bits);
    let vmm0 = Vmm::new(bits);
    let vcpus = Vcpu::create(&mut new_vm, 0).and_then(|mut v0| {
        v0.finalize(&mut new_vm, l.realm.recs[0], l.run, true)?;
        let mut v1 = Vcpu::create(&mut new_vm, 1)?;
        v1.finalize(&mut new_vm, l.realm.recs[1], l.secondary_runs[0], false)?;
        vmm0.install_filters(&mut new_vm)?;
        Ok((v0, v1))
    });
    let ran = match vcpus {
        Ok((v0, v1)) => {
            *vm.lock() = new_vm;
            let mut link = RmmLink::new(&mut *rmi, &mut *mem);
            Some(if other_cpu {
                run_on_two_cpus(vm, vmm0, v0, v1, &mut link, hw)
            } else {
                run_time_sliced(vm, vmm0, v0, v1, &mut link, hw)
            })
        }
        Err(e) => {
            log::error!("realm SMP: KVM setup failed: {=str}", e.name());
            None
        }
    };
    let unloaded = unload(&mut Host::new(rmi, mem), &l).is_ok();
    let Some(ran) = ran else {
        return false;
    };
    let me = hw.mpidr();
    let expected_hello = Some((1 << 31 | 1, SMP_CONTEXT));
    let mut ok = unloaded && ran.stop == Ok(Stop::PowerOff) && ran.verdict == Some(0);
    match ran.second {
        Some(r) if other_cpu => {
            log::info!(
                "realm SMP: vCPU 1 (REC 1) ran on physical CPU MPIDR {=u64:#x} while vCPU 0 (REC 0) ran on {=u64:#x}: {} REC_ENTER(s) there; its SMP_HELLO reported MPIDR {=u64:#x} and the CPU_ON context {=u64:#x}; it stopped with {}",
                r.host_mpidr,
                me,
                r.entries,
                r.hello.map_or(0, |h| h.0),
                r.hello.map_or(0, |h| h.1),
                r.stop
            );
            ok &= r.host_mpidr != me && r.stop == Ok(Stop::CpuOff) && r.hello == expected_hello;
        }
        Some(r) => {
            log::info!(
                "realm SMP: vCPU 1 (REC 1) shared this one CPU with vCPU 0 (REC 0), {} time slices of {=u64} us ended by the host's timer (IRQ exits, KVM_RUN EINTR): {} REC_ENTER(s) for vCPU 1; its SMP_HELLO reported MPIDR {=u64:#x} and the CPU_ON context {=u64:#x}; it stopped with {}",
                ran.slices,
                SLICE_US,
                r.entries,
                r.hello.map_or(0, |h| h.0),
                r.hello.map_or(0, |h| h.1),
                r.stop
            );
            ok &= r.stop == Ok(Stop::CpuOff) && r.hello == expected_hello;
        }
        None => {
            log::error!("realm SMP: the second CPU never reported");
            ok = false;
        }
    }
    match ran.verdict {
        Some(0) => log::info!(
            "realm SMP: PSCI CPU_ON of REC 1 serviced with a single RMI_PSCI_COMPLETE ({} in all, the others answering AFFINITY_INFO), AFFINITY_INFO ON, REC 1's report through shared realm memory, its CPU_OFF, AFFINITY_INFO OFF: the realm's checks passed; SYSTEM_OFF after {} REC_ENTER(s) here",
            ran.stats.psci_completions,
            ran.stats.entries
        ),
        Some(v) => log::error!("realm SMP: the realm reports failed check {=u64}", v),
        None => log::error!("realm SMP: no verdict from the realm"),
    }
    if !unloaded {
        log::error!("realm SMP: tearing the realm down failed");
    }
    ok
}
