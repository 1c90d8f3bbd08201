//! The Linux guest scenario: the runner's Linux kernel booted as a realm guest, its vCPUs spread
//! over the host's CPUs (vCPU i on CPU i modulo the CPUs, time-sliced where a CPU has several),
//! until it powers off; then the realm taken apart.
//!
//! It owns what the CPUs share for the guest ([`Stage`]), each CPU's vCPU loop around
//! [`crate::linux::run::run_vcpus`] ([`run_vcpus`]), and the primary's part: placing and
//! building the guest from the runner's request, the VM, vGIC and vCPUs, the figures and the
//! verdict. The host's hardware (its counter and timer, the console's sink, waking the other
//! CPUs) comes in through [`Hardware`] and [`Thread`]; it must not touch any other, nor read
//! the runner's files.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::kvm::vcpu::{Vcpu, VcpuStats};
use crate::kvm::RmmLink;
use crate::limits::MAX_CPUS;
use crate::linux::load::Built;
use crate::linux::run::{Guest, Outcome};
use crate::linux::{self as linux_guest, Request};
use crate::log;
use crate::pl011::ConsoleSink;
use crate::realm_build::Pool;
use crate::rmi::RmiClient;
use crate::{Conduit, HostMemory};

/// How long a vCPU runs before its host CPU looks at the guest again (the host's tick).
pub const TICK_US: u64 = 1_000;
/// Entries one `KVM_RUN` may make (the tick ends runs sooner).
pub const ENTRY_BUDGET: usize = 4096;

/// The start of the first line the guest's `/init` prints.
pub const INIT_MARKER: &[u8] = b"rmm-guest: init started";

/// Watches the guest's console output for [`INIT_MARKER`].
#[derive(Clone, Copy, Debug, Default)]
pub struct InitWatch {
    matched: usize,
}

impl InitWatch {
    /// Nothing seen yet.
    pub const fn new() -> Self {
        Self { matched: 0 }
    }

    /// Takes the next byte of output; true when it completes [`INIT_MARKER`].
    pub fn feed(&mut self, byte: u8) -> bool {
        if INIT_MARKER.get(self.matched) == Some(&byte) {
            self.matched += 1;
            if self.matched == INIT_MARKER.len() {
                self.matched = 0;
                return true;
            }
        } else {
            self.matched = usize::from(INIT_MARKER.first() == Some(&byte));
        }
        false
    }
}

/// The vCPUs one host CPU runs.
type VcpuQueue = heapless::Vec<Vcpu, { linux_guest::MAX_VCPUS }>;

/// What the CPUs share for the guest.
pub struct Stage<S: ConsoleSink> {
    /// The guest every vCPU thread shares (set once by the primary).
    pub guest: spin::Once<Guest<S>>,
    /// The vCPUs each host CPU runs.
    queues: [spin::Mutex<VcpuQueue>; MAX_CPUS],
    /// How each vCPU ended and what it did, once it has. (A `Once`, not a `Mutex<Option<_>>`:
    /// an empty `Once` is all zero bytes, so the stage lies in .bss; `None` of that option is
    /// not, and put the whole 330 KiB stage in .data, which TF-A copies a byte at a time.)
    results: [spin::Once<(Outcome, VcpuStats)>; linux_guest::MAX_VCPUS],
    /// The guest's device tree, as the loader writes it.
    dtb: spin::Mutex<[u8; linux_guest::DTB_CAPACITY]>,
    /// What the loader built (kept for the teardown).
    built: spin::Mutex<Built>,
    /// Set when the vCPUs are offered.
    go: AtomicBool,
}

impl<S: ConsoleSink> Stage<S> {
    /// Nothing built yet.
    pub const fn new() -> Self {
        Self {
            guest: spin::Once::new(),
            queues: [const { spin::Mutex::new(heapless::Vec::new()) }; MAX_CPUS],
            results: [const { spin::Once::new() }; linux_guest::MAX_VCPUS],
            dtb: spin::Mutex::new([0; linux_guest::DTB_CAPACITY]),
            built: spin::Mutex::new(Built::new()),
            go: AtomicBool::new(false),
        }
    }

    /// True once the primary has offered the vCPUs.
    pub fn started(&self) -> bool {
        self.go.load(Ordering::Acquire)
    }

    /// True if CPU `slot` has vCPUs to run.
    pub fn has_vcpus(&self, slot: usize) -> bool {
        self.queues.get(slot).is_some_and(|q| !q.lock().is_empty())
    }
}

impl<S: ConsoleSink> Default for Stage<S> {
    fn default() -> Self {
        Self::new()
    }
}

/// A vCPU thread's host side: the hooks of [`crate::linux::run::Host`], and the host's tick.
pub trait Thread: crate::linux::run::Host {
    /// Takes the host's pending interrupt after an IRQ exit (the tick).
    fn take_interrupt(&self) -> fn() -> Option<u32>;
    /// Stops this CPU's tick once its vCPUs are done.
    fn stop_tick(&mut self);
    /// Interrupts the host CPUs that run the given vCPUs (bit i: vCPU i), so that a vCPU an SGI
    /// is pending for takes it at once; `None` if the host cannot (they see it at their tick).
    fn kick(&self) -> Option<fn(u64)> {
        None
    }
}

/// The primary's hardware for the guest.
pub trait Hardware {
    /// The guest console's sink.
    type Console: ConsoleSink;
    /// The vCPU thread of this CPU.
    type Thread: Thread;
    /// The counter (ticks).
    fn clock(&self) -> u64;
    /// The counter's ticks per second.
    fn frequency(&self) -> u64;
    /// A fresh console sink for the guest's UART.
    fn console(&mut self) -> Self::Console;
    /// Enables the host's tick (the timer's interrupt) on this CPU and the distributor; false
    /// if it cannot.
    fn timer_enable(&mut self) -> bool;
    /// Turns the tick off again.
    fn timer_disable(&mut self);
    /// Wakes the other CPUs waiting for [`Stage::started`].
    fn wake_others(&mut self);
    /// This CPU's vCPU thread.
    fn thread(&mut self) -> Self::Thread;
    /// When the console showed the guest's `/init` starting (counter ticks; 0: not yet).
    fn init_seen_at(&self) -> u64;
}

/// Runs CPU `slot`'s vCPUs of the guest until the guest stops, and records how each ended.
pub fn run_vcpus<C: Conduit, M: HostMemory, S: ConsoleSink, T: Thread>(
    rmi: &mut RmiClient<C>,
    mem: &mut M,
    stage: &Stage<S>,
    slot: usize,
    thread: &mut T,
) {
    let Some(guest) = stage.guest.get() else {
        return;
    };
    let Some(queue) = stage.queues.get(slot) else {
        return;
    };
    let mut vcpus = core::mem::take(&mut *queue.lock());
    if vcpus.is_empty() {
        return;
    }
    for vcpu in vcpus.iter_mut() {
        vcpu.set_host_interrupts(Some(thread.take_interrupt()));
        vcpu.set_preempt_on_host_interrupt(true);
        // WFI waits in the realm for the vCPU's next interrupt, or until the host's tick
        // gives the CPU to another vCPU.
        vcpu.set_trap_wfx(false, false);
        vcpu.set_entry_budget(ENTRY_BUDGET);
        vcpu.set_kick(thread.kick());
    }
    let mut link = RmmLink::new(rmi, mem);
    let outcome = crate::linux::run::run_vcpus(guest, &mut vcpus, &mut link, thread);
    thread.stop_tick();
    for vcpu in &vcpus {
        if let Some(r) = stage.results.get(vcpu.id()) {
            r.call_once(|| (outcome, *vcpu.stats()));
        }
    }
}

/// How a vCPU or the guest ended, for the log.
pub fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::PoweredOff => "SYSTEM_OFF",
        Outcome::Reset => "SYSTEM_RESET",
        Outcome::Aborted => "stopped: another vCPU failed",
        Outcome::Failed(_) => "failed: KVM_RUN returned an error",
        Outcome::UnresolvedFault { .. } => "failed: a memory fault the VMM cannot resolve",
    }
}

/// Boots the runner's Linux guest (as its `request` says) as a realm, vCPU i on host CPU i
/// modulo the `slots` CPUs (vCPU 0 here), until it powers off; then takes the realm apart and
/// checks every granule came back.
pub fn run<C: Conduit, M: HostMemory, H: Hardware>(
    rmi: &mut RmiClient<C>,
    mem: &mut M,
    stage: &Stage<H::Console>,
    request: &[u8],
    slots: usize,
    hw: &mut H,
) -> bool {
    let request = match Request::parse(request) {
        Ok(r) => r,
        Err(_) => {
            log::error!("linux: the runner's request does not parse");
            return false;
        }
    };
    let cfg = request.config;
    let mut header = [0u8; 64];
    mem.read(cfg.image.pa, &mut header);
    let layout = match linux_guest::layout(&cfg, &header) {
        Ok(l) => l,
        Err(_) => {
            log::error!("linux: the guest cannot be placed (the runner checks this first)");
            return false;
        }
    };
    let (_, features) = rmi.features(0);
    let nr_lrs = features.gicv3_num_lrs() as usize + 1;
    let mut pool = Pool::new(linux_guest::qemu::POOL, linux_guest::qemu::POOL_SIZE);
    // The device tree, and zeros after each file up to its page's end (measured as such).
    let mut dtb = stage.dtb.lock();
    let Ok(dtb_len) = linux_guest::device_tree(&layout, cfg.bootargs, &mut dtb) else {
        log::error!("linux: the device tree does not fit");
        return false;
    };
    let Ok(dtb_pa) = pool.take(2) else {
        return false;
    };
    mem.write(dtb_pa, &dtb[..]);
    drop(dtb);
    for blob in [Some(cfg.image), cfg.initrd].into_iter().flatten() {
        let tail = blob.len % linux_guest::PAGE;
        if tail != 0 {
            let zeros = [0u8; linux_guest::PAGE as usize];
            mem.write(
                blob.pa + blob.len,
                &zeros[..(linux_guest::PAGE - tail) as usize],
            );
        }
    }
    let sources = crate::linux::load::Sources {
        image: cfg.image,
        dtb: crate::linux::Blob {
            pa: dtb_pa,
            len: dtb_len as u64,
        },
        initrd: cfg.initrd,
    };
    let Ok(mut slot) = crate::kvm::memslot::Memslot::new(
        linux_guest::RAM_BASE,
        linux_guest::qemu::RAM_BACKING,
        layout.ram_size,
    ) else {
        return false;
    };
    log::info!(
        "linux: loading a {} MiB realm with {} vCPU(s): kernel {} bytes at IPA {=u64:#x}, initrd {} bytes, device tree {} bytes",
        layout.ram_size >> 20,
        layout.vcpus,
        layout.image.file_size,
        layout.place.kernel,
        layout.initrd_len,
        dtb_len
    );
    let t0 = hw.clock();
    let mut built = stage.built.lock();
    let result = {
        let mut link = RmmLink::new(&mut *rmi, &mut *mem);
        crate::linux::load::build(
            &mut link, &mut slot, &mut pool, &layout, &sources, &mut built,
        )
    };
    match result {
        Ok(()) => {}
        Err(e) => {
            log::error!(
                "linux: building the realm failed at {=str} ({=u64:#x}): {=str}",
                e.step,
                e.at,
                e.ret.status_name()
            );
            return false;
        }
    };
    let load_ticks = hw.clock() - t0;
    log::info!(
        "linux: realm active: {} measured pages, {} level-3 RTTs, {} RMI commands, {} ms of model time",
        built.measured_pages,
        built.l3_tables,
        built.commands,
        load_ticks * 1000 / hw.frequency()
    );
    let mut vm = crate::kvm::vm::Vm::new(built.rd, linux_guest::IPA_BITS);
    let dev = linux_guest::devices(&layout);
    let mut ok = vm.set_memslot(slot).is_ok()
        && vm
            .create_vgic(layout.vcpus, dev.gicd_base, dev.gicr_base, nr_lrs)
            .is_ok();
    for (i, (&rec, &run)) in built.recs.iter().zip(built.runs.iter()).enumerate() {
        let Ok(mut v) = Vcpu::create(&mut vm, i) else {
            ok = false;
            break;
        };
        ok &= v.finalize(&mut vm, rec, run, i == 0).is_ok();
        ok &= stage.queues[i % slots.clamp(1, MAX_CPUS)]
            .lock()
            .push(v)
            .is_ok();
    }
    if !ok {
        log::error!("linux: the VM's vGIC, memslot or vCPUs could not be set up");
        return false;
    }
    let console = hw.console();
    let guest = stage.guest.call_once(|| {
        Guest::new(
            vm,
            crate::pl011::Pl011::new(console),
            dev.uart_base,
            dev.uart_intid,
        )
    });
    if !hw.timer_enable() {
        return false;
    }
    log::info!("linux: entering the realm (its console follows on the UART)");
    let t1 = hw.clock();
    stage.go.store(true, Ordering::Release);
    hw.wake_others();
    run_vcpus(rmi, mem, stage, 0, &mut hw.thread());
    // The other vCPUs see the end at their next tick.
    let deadline = hw.clock() + 10 * hw.frequency();
    let all_done =
        || (0..layout.vcpus).all(|i| stage.results.get(i).is_some_and(|r| r.is_completed()));
    while !all_done() && hw.clock() < deadline {
        core::hint::spin_loop();
    }
    let run_ticks = hw.clock() - t1;
    hw.timer_disable();
    let outcome = guest.outcome();
    let vmm = guest.stats();
    match hw.init_seen_at().checked_sub(t1) {
        Some(ticks) if ticks < run_ticks => log::info!(
            "linux: /init started {} M ticks after the first REC_ENTER (its first line on the console)",
            ticks / 1_000_000
        ),
        _ => log::info!("linux: no line from /init on the console"),
    }
    log::info!(
        "linux: the guest ended: {=str} after {} ms of model time; VMM: {} runs, {} UART accesses, {} RIPAS changes, {} other MMIO",
        outcome.as_ref().map_or("still running", outcome_name),
        run_ticks * 1000 / hw.frequency(),
        vmm.runs,
        vmm.uart_accesses,
        vmm.ripas_changes,
        vmm.unclaimed_mmio
    );
    for (i, result) in stage.results.iter().enumerate().take(layout.vcpus) {
        match result.get().copied() {
            Some((o, s)) => log::info!(
                "linux: vCPU {}: {=str}; {} entries, exits: {} MMIO to the VMM, {} vGIC MMIO, {} IRQ, {} SGI writes ({} SGIs), {} PSCI, {} host calls, {} pages mapped on faults",
                i,
                outcome_name(&o),
                s.entries,
                s.mmio_exits,
                s.gic_mmio_exits,
                s.interrupt_exits,
                s.gic_register_exits,
                s.sgis_sent,
                s.psci_exits,
                s.handled_calls + s.denied_calls + s.forwarded_calls,
                s.pages_mapped
            ),
            None => log::error!("linux: vCPU {} did not stop", i),
        }
    }
    let mut ok = outcome == Some(Outcome::PoweredOff);
    let mut link = RmmLink::new(rmi, mem);
    let mut vm = guest.vm.lock();
    match crate::linux::load::teardown(&mut link, &mut vm, &built) {
        Ok(n) => log::info!(
            "linux: realm destroyed; {} granules undelegated (every one it used)",
            n
        ),
        Err(e) => {
            log::error!(
                "linux: tearing the realm down failed at {=str} ({=u64:#x}): {=str}",
                e.step,
                e.at,
                e.ret.status_name()
            );
            ok = false;
        }
    }
    ok
}
