//! A realm vCPU: its REC and RecRun page, the register cache behind ONE_REG, its `kvm_run`, and
//! `KVM_RUN` itself ([`Vcpu::run`]).
//!
//! One `run` is a loop of RMI_REC_ENTER calls. Before each entry it completes what the previous
//! exit left open (host-call results from the register cache, the value of an emulated MMIO
//! read, the answer to a RIPAS change); after each exit it does what the Arm CCA KVM series
//! does with the exit reason:
//!
//! | REC exit | model |
//! |---|---|
//! | HOST_CALL with x0 = [`BENCH_MINIMAL`](hostcall_abi::payload::BENCH_MINIMAL) | not KVM: the bench's minimal host. `rec_enter.gprs[0]` = 0 and REC_ENTER again at once, before anything else reads the exit |
//! | HOST_CALL | cache = `exit.gprs`; filter on x0: HANDLE -> answered in the kernel ([`super::hypercalls`]) and re-entered; DENY -> x0 = NOT_SUPPORTED, x1..x3 = 0, re-entered; FWD_TO_USER -> `KVM_EXIT_HYPERCALL` |
//! | PSCI | cache = `exit.gprs`; CPU_ON / AFFINITY_INFO: RMI_PSCI_COMPLETE, re-entered; CPU_SUSPEND: re-entered; CPU_OFF: the vCPU powers off (EINTR); SYSTEM_OFF / SYSTEM_RESET: `KVM_EXIT_SYSTEM_EVENT` |
//! | SYNC, data abort, unprotected IPA, ISV | `KVM_EXIT_MMIO`; completed with EMULATED_MMIO on the next entry |
//! | SYNC, data abort, unprotected IPA, no ISV | ENOSYS (KVM without `KVM_CAP_ARM_NISV_TO_USER`) |
//! | SYNC, data abort, protected IPA, RIPAS RAM, nothing assigned, a backing granule left | mapped in the kernel (GRANULE_DELEGATE, DATA_CREATE_UNKNOWN from the VM's backing, [`Vm::add_backing`]) and re-entered: the realm repeats the access |
//! | SYNC, data or instruction abort, protected IPA, otherwise | EFAULT + `KVM_EXIT_MEMORY_FAULT` (private page) |
//! | SYNC, trapped WFI/WFE | re-entered (KVM would block until an interrupt); with a clock ([`Vcpu::set_clock`]) the REC_ENTER that ended in it is timed |
//! | SYNC, trapped GIC register write (ICC_SGI1R_EL1 and the like; the value in `exit.gprs[0]`) | recorded and re-entered; with an in-kernel vGIC ([`Vm::create_vgic`]) an ICC_SGI1R_EL1 write makes the SGI pending at its targets and kicks the other vCPUs ([`Vcpu::set_kick`]) |
//! | SYNC, data abort, unprotected IPA in the vGIC's frames | served in the kernel by the vGIC, completed on the next entry |
//! | RIPAS_CHANGE | EFAULT + `KVM_EXIT_MEMORY_FAULT`; RMI_RTT_SET_RIPAS before the next entry |
//! | IRQ, FIQ, SERROR | the host takes its pending interrupt (in the image: acknowledges it at the GIC, [`Vcpu::set_host_interrupts`]) and re-enters; the realm's timers in the exit are compared with the last exit's (fired / stopped, counted), and a virtual timer that starts firing gets its interrupt (27) injected |
//! | (every exit) | with a vGIC: every list register goes back to it, and the timers' lines follow `cntv_ctl`/`cntp_ctl`; every entry takes its list registers from it. Without one: an interrupt injected with [`Vcpu::inject_virq`] stays in `rec_enter.gicv3_lrs[0]` until rec_exit shows its list register inactive (taken and ended) |
//! | REC_ENTER: ERROR_REALM index 1 | `KVM_EXIT_SHUTDOWN` (the realm is off; the series' v9 on) |
//! | REC_ENTER: any other error, an exit reason not listed | ENXIO |
//!
//! Every re-entry inside one `run` spends one unit of the vCPU's entry budget; when it is spent,
//! `run` returns EINTR with `KVM_EXIT_INTR`, as KVM does when a signal is pending, so a realm that
//! only ever takes interrupts or in-kernel calls cannot hold the VMM forever.

use core::mem::offset_of;

use hostcall_abi::host_call::RSI_HOST_CALL_GPRS;
use hostcall_abi::kvm::{
    KvmRegId, KvmRunHypercall, KvmRunMemoryFault, KvmRunMmio, KvmRunSystemEvent,
    KvmSmcccFilterAction, KvmSystemEventType, KVM_HYPERCALL_EXIT_SMC, KVM_MEMORY_EXIT_FLAG_PRIVATE,
};
use hostcall_abi::psci::{PsciFunction, PsciReturn};
use hostcall_abi::rec_params::{RmiRecCreateFlags, RmiRecParams, REC_PARAMS_GPRS};
use hostcall_abi::rec_run::exit_esr::{Esr, SysregAccess};
use hostcall_abi::rec_run::{
    ich_hcr, RmiExitReason, RmiRecEnter, RmiRecEnterFlags, RmiRecExit, RmiRecExitFields,
    GICV3_MAX_LRS, RMI_REC_EXIT_OFFSET,
};
use hostcall_abi::rmi::{RmiCommand, RmiReturn, RmiStatus};
use hostcall_abi::rtt::{Ripas, RmiRttEntryState};
use hostcall_abi::smccc::canonical_fid;

use super::hypercalls::{self, SMCCC_RET_NOT_SUPPORTED};
use super::one_reg::RegCache;
use super::run::{KvmExit, KvmRun};
use super::vm::{GicFrame, Vm};
use super::{Errno, RmmLink};
use crate::mmio::{self, MmioError, MmioKind};
use crate::{Conduit, HostMemory};

/// Entries one `run` may make before it gives up with EINTR (see the module documentation).
pub const DEFAULT_ENTRY_BUDGET: usize = 64;
/// Trapped-WFx entries whose duration a vCPU keeps (the first ones).
pub const WFX_SAMPLES: usize = 128;
/// Most RMI_RTT_SET_RIPAS calls one RIPAS change may take.
const MAX_SET_RIPAS_CALLS: usize = 512;

/// The exception classes the exit handling tells apart (ESR_EL2.EC; the syndrome is decoded
/// by the ABI's [`Esr`]).
mod ec {
    pub const WFX: u64 = 0x01;
    pub const SYS64: u64 = 0x18;
    pub const IABT_LOW: u64 = 0x20;
    pub const DABT_LOW: u64 = 0x24;
}

/// HPFAR_EL2.FIPA, bits 47:4: IPA bits 51:12.
const HPFAR_FIPA_MASK: u64 = 0x0000_FFFF_FFFF_FFF0;
/// Bytes of one page.
const PAGE: u64 = 4096;

/// What the last exit left to complete on the next entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    /// Nothing: enter with zero registers.
    Nothing,
    /// A host call or PSCI exit: the register cache goes back in `rec_enter.gprs`.
    Registers,
    /// An MMIO exit not yet completed by userspace (its data is read at the next `run`).
    Mmio { write: bool, len: u32 },
    /// An MMIO access completed: EMULATED_MMIO, and for a read the value in `gprs[0]`.
    MmioDone { value: Option<u64> },
    /// A RIPAS change to commit (or refuse) before the next entry.
    Ripas { base: u64, top: u64 },
}

/// What to do after one REC exit.
enum Next {
    /// Enter the realm again without returning to userspace.
    ReEnter,
    /// Return to userspace with the exit in `kvm_run` (set by [`Vcpu::exit_to_user`]).
    Exit,
    /// Return EFAULT with the memory fault in `kvm_run` (set by [`Vcpu::memory_fault`]).
    Fault,
    /// The vCPU stopped (CPU_OFF) or is preempted: return EINTR.
    Stopped,
}

/// Counters of what the vCPU did, for the log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuStats {
    /// RMI_REC_ENTER calls.
    pub entries: u64,
    /// Host calls answered in the kernel (HANDLE).
    pub handled_calls: u64,
    /// Host calls refused by the filter (DENY).
    pub denied_calls: u64,
    /// Host calls forwarded to userspace (FWD_TO_USER).
    pub forwarded_calls: u64,
    /// PSCI exits.
    pub psci_exits: u64,
    /// RMI_PSCI_COMPLETE calls that succeeded.
    pub psci_completions: u64,
    /// IRQ, FIQ and SError exits.
    pub interrupt_exits: u64,
    /// Host interrupts taken after IRQ exits (through [`Vcpu::set_host_interrupts`]).
    pub host_interrupts: u64,
    /// The INTID of the last host interrupt taken.
    pub last_host_intid: Option<u32>,
    /// IRQ exits whose rec_exit showed one of the realm's EL1 timers start firing (its output
    /// asserted: enabled, condition met, not masked by the realm).
    pub realm_timer_fired: u64,
    /// IRQ exits whose rec_exit showed one of the realm's EL1 timers stop firing.
    pub realm_timer_stopped: u64,
    /// Trapped WFI/WFE exits.
    pub wfx_exits: u64,
    /// Exits for a GIC CPU interface register write the host emulates (an SGI the realm sends,
    /// ICC_SGI1R_EL1 and the like; the value written in `rec_exit.gprs[0]`).
    pub gic_register_exits: u64,
    /// The value of the last such write.
    pub last_gic_register_write: u64,
    /// Virtual interrupts injected ([`Vcpu::inject_virq`]) through a list register.
    pub virqs_injected: u64,
    /// Injected virtual interrupts the realm took and ended (their list register came back
    /// inactive in rec_exit).
    pub virqs_ended: u64,
    /// MMIO exits to userspace.
    pub mmio_exits: u64,
    /// Stage-2 faults resolved in the kernel by mapping a backing page.
    pub pages_mapped: u64,
    /// GIC distributor and redistributor accesses served by the in-kernel vGIC.
    pub gic_mmio_exits: u64,
    /// SGIs made pending at their targets by trapped ICC_SGI1R_EL1 writes (one per target).
    pub sgis_sent: u64,
}

/// An RMI command the model issued that the RMM refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RmiFailure {
    /// The command.
    pub command: RmiCommand,
    /// What the RMM answered.
    pub ret: RmiReturn,
}

/// A realm vCPU.
#[derive(Clone, Debug)]
pub struct Vcpu {
    id: usize,
    mpidr: u64,
    rec: Option<(u64, u64)>,
    regs: RegCache,
    run: KvmRun,
    pending: Pending,
    reject_ripas: bool,
    entry_budget: usize,
    trap_wfi: bool,
    trap_wfe: bool,
    stats: VcpuStats,
    last_rmi_failure: Option<RmiFailure>,
    /// `rec_exit.imm` of the last host call (kept by the model; KVM drops it).
    last_imm: u16,
    /// Reads a tick counter, to time REC_ENTERs.
    clock: Option<fn() -> u64>,
    /// Takes the host's pending interrupt after an IRQ exit: its INTID, if there was one.
    host_interrupts: Option<fn() -> Option<u32>>,
    /// A host interrupt taken after an IRQ exit ends `run` with EINTR (the host's scheduler
    /// tick: another vCPU gets this CPU).
    preempt: bool,
    /// Ticks of the last REC_ENTER, if timed.
    last_entry_ticks: Option<u64>,
    /// Ticks of the REC_ENTERs that ended in a trapped WFI/WFE.
    wfx_ticks: heapless::Vec<u64, WFX_SAMPLES>,
    /// The last exit as read from rec_exit: every field the spec defines is read on each exit,
    /// so it is made zero once, not per run.
    exit: RmiRecExitFields,
    /// Whether the realm's virtual and physical timers fired as of the exit before `exit`.
    timers_fired: [bool; 2],
    /// List register 0 as the next entry should carry it: an injected virtual interrupt until
    /// the realm has ended it, then zero.
    lr0: u64,
    /// List register 0 as rec_enter holds it now (written only when it changes).
    lr0_written: u64,
    /// With an in-kernel vGIC: the list registers and `gicv3_hcr` of the next entry.
    gic_lrs: [u64; GICV3_MAX_LRS],
    gic_hcr: u64,
    /// Kicks the vCPUs (bit i: vCPU i) an SGI was just made pending for (see
    /// [`Vcpu::set_kick`]).
    kick: Option<fn(u64)>,
}

/// The virtual timer's interrupt as a guest sees it (PPI 27, KVM's default).
const VIRTUAL_TIMER_INTID: u32 = 27;

/// `ICH_LR<n>_EL2` fields: State \[63:62\] (0b01 pending), Group \[60\] (1), Priority \[55:48\].
const LR_PENDING: u64 = 1 << 62;
const LR_STATE: u64 = 0b11 << 62;
const LR_GROUP1: u64 = 1 << 60;
const LR_PRIORITY: u64 = 0x80 << 48;

/// Whether a realm EL1 timer whose control register rec_exit reports as `ctl` asserts its
/// output: ENABLE and ISTATUS set, IMASK clear.
const fn timer_fires(ctl: u64) -> bool {
    ctl & 0b111 == 0b101
}

/// The access size an MMIO exit reports, as a mask of its bytes.
const fn size_mask(len: u32) -> u64 {
    match 1u64.checked_shl(len.saturating_mul(8)) {
        Some(bit) => bit - 1,
        None => u64::MAX,
    }
}

/// The faulting IPA of a stage-2 abort: page from HPFAR_EL2, offset from FAR_EL2 (which the RMM
/// reduces to the offset in the page for emulatable aborts and zeroes otherwise).
const fn fault_ipa(exit: &RmiRecExitFields) -> u64 {
    ((exit.hpfar & HPFAR_FIPA_MASK) << 8) | (exit.far & (PAGE - 1))
}

/// How [`Vcpu::run`] reaches its VM: exclusively, or through a lock other CPUs share.
pub(crate) trait VmAccess {
    fn with<R>(&self, f: impl FnOnce(&mut Vm) -> R) -> R;
}

/// A VM only this caller uses.
pub(crate) struct Exclusive<'a>(pub(crate) core::cell::RefCell<&'a mut Vm>);

impl VmAccess for Exclusive<'_> {
    fn with<R>(&self, f: impl FnOnce(&mut Vm) -> R) -> R {
        f(&mut self.0.borrow_mut())
    }
}

impl VmAccess for spin::Mutex<Vm> {
    fn with<R>(&self, f: impl FnOnce(&mut Vm) -> R) -> R {
        f(&mut self.lock())
    }
}

/// What one REC_ENTER writes to rec_enter.gprs: only what the RMM reads there (the results of
/// a host call, or the value of an emulated MMIO read); otherwise the field is left as it is.
#[derive(Clone, Copy)]
enum EntryGprs {
    /// Nothing to complete.
    Untouched,
    /// The host call's results: x0..x30 from the register cache.
    Registers,
    /// An emulated MMIO read: the value in gprs\[0\].
    MmioRead(u64),
}

/// The rec_enter fields the model sets for one REC_ENTER.
struct Entry {
    flags: RmiRecEnterFlags,
    gprs: EntryGprs,
    /// With an in-kernel vGIC: write every list register and `gicv3_hcr` from
    /// [`Vcpu::gic_lrs`] and [`Vcpu::gic_hcr`].
    gic: bool,
}

/// `ICC_SGI1R_EL1` as a trapped MSR's ISS names it: op0 3, op1 0, CRn 12, CRm 11, op2 5.
const ISS_ICC_SGI1R: u64 = SysregAccess::name_bits(3, 0, 12, 11, 5);
/// The realm's EL1 physical timer's interrupt (PPI 30).
const PHYSICAL_TIMER_INTID: u32 = 30;

impl Vcpu {
    /// `KVM_CREATE_VCPU(id)` on `vm`: a vCPU without a REC yet, its slot in the VM's table
    /// created. EEXIST for an id in use, EINVAL for one the VM cannot hold, EBUSY once a vCPU of
    /// the VM has run (the realm's REC set is fixed at activation).
    pub fn create(vm: &mut Vm, id: usize) -> Result<Self, Errno> {
        let mpidr = vm.create_slot(id)?;
        Ok(Self::new(id, mpidr))
    }

    /// `KVM_ARM_VCPU_FINALIZE`: binds this vCPU of `vm` to its REC at `rec` and the RecRun
    /// page at `run` (NS). `runnable` is the REC's RUNNABLE flag: whether the vCPU starts
    /// powered on. After this only x0..x30 can be read or written. EINVAL if the vCPU is not
    /// `vm`'s or already has a REC.
    pub fn finalize(
        &mut self,
        vm: &mut Vm,
        rec: u64,
        run: u64,
        runnable: bool,
    ) -> Result<(), Errno> {
        vm.bind_slot(self.id, self.mpidr, rec, runnable)?;
        self.attach(rec, run)
    }

    /// A vCPU without a REC yet (see [`Vcpu::create`]).
    const fn new(id: usize, mpidr: u64) -> Self {
        Self {
            id,
            mpidr,
            rec: None,
            regs: RegCache { x: [0; 31], pc: 0 },
            run: KvmRun::new(),
            pending: Pending::Nothing,
            reject_ripas: false,
            entry_budget: DEFAULT_ENTRY_BUDGET,
            trap_wfi: true,
            trap_wfe: false,
            stats: VcpuStats {
                entries: 0,
                handled_calls: 0,
                denied_calls: 0,
                forwarded_calls: 0,
                psci_exits: 0,
                psci_completions: 0,
                interrupt_exits: 0,
                host_interrupts: 0,
                last_host_intid: None,
                realm_timer_fired: 0,
                realm_timer_stopped: 0,
                wfx_exits: 0,
                gic_register_exits: 0,
                last_gic_register_write: 0,
                virqs_injected: 0,
                virqs_ended: 0,
                mmio_exits: 0,
                pages_mapped: 0,
                gic_mmio_exits: 0,
                sgis_sent: 0,
            },
            last_rmi_failure: None,
            last_imm: 0,
            clock: None,
            host_interrupts: None,
            preempt: false,
            last_entry_ticks: None,
            wfx_ticks: heapless::Vec::new(),
            exit: RmiRecExitFields::ZERO,
            timers_fired: [false; 2],
            lr0: 0,
            lr0_written: 0,
            gic_lrs: [0; GICV3_MAX_LRS],
            gic_hcr: 0,
            kick: None,
        }
    }

    /// Binds the REC and RecRun page (see [`Vcpu::finalize`]).
    fn attach(&mut self, rec: u64, run: u64) -> Result<(), Errno> {
        if self.rec.is_some() {
            return Err(Errno::EINVAL);
        }
        self.rec = Some((rec, run));
        Ok(())
    }

    /// The vCPU id (also its REC index).
    pub const fn id(&self) -> usize {
        self.id
    }

    /// The MPIDR of the vCPU as RMI carries it (`RmiRecMpidr`).
    pub const fn mpidr(&self) -> u64 {
        self.mpidr
    }

    /// The REC and RecRun page, once finalized.
    pub const fn rec(&self) -> Option<(u64, u64)> {
        self.rec
    }

    /// The vCPU's `kvm_run`.
    pub const fn kvm_run(&self) -> &KvmRun {
        &self.run
    }

    /// The vCPU's `kvm_run`, writable (MMIO read data, `immediate_exit`).
    pub fn kvm_run_mut(&mut self) -> &mut KvmRun {
        &mut self.run
    }

    /// What the vCPU did so far.
    pub const fn stats(&self) -> &VcpuStats {
        &self.stats
    }

    /// The last RMI command the RMM refused (the cause of an ENXIO from [`Self::run`]).
    pub const fn last_rmi_failure(&self) -> Option<RmiFailure> {
        self.last_rmi_failure
    }

    /// Has the host take its pending interrupt with `take` after each IRQ exit (KVM's host
    /// interrupt handler runs when it unmasks interrupts after the exit); `take` returns the
    /// INTID it handled, if any.
    pub fn set_host_interrupts(&mut self, take: Option<fn() -> Option<u32>>) {
        self.host_interrupts = take;
    }

    /// With an in-kernel vGIC: calls `kick` with the other vCPUs (bit i for vCPU i) a trapped
    /// `ICC_SGI1R_EL1` write of this vCPU made an SGI pending for, as KVM kicks a target vCPU
    /// that runs on another CPU with an IPI so it sees the interrupt now rather than at its
    /// CPU's next tick.
    pub fn set_kick(&mut self, kick: Option<fn(u64)>) {
        self.kick = kick;
    }

    /// Makes a host interrupt taken after an IRQ exit end `run` with EINTR, as a pending
    /// reschedule does in KVM, so that a host with fewer CPUs than vCPUs can time-slice them.
    pub fn set_preempt_on_host_interrupt(&mut self, preempt: bool) {
        self.preempt = preempt;
    }

    /// Times every REC_ENTER with `clock` (a tick counter; `None` stops timing). The entries
    /// that end in a trapped WFI/WFE are kept ([`Self::wfx_entry_ticks`]); a model knob, as
    /// the tracepoints around KVM's `rmi_rec_enter` would be.
    pub fn set_clock(&mut self, clock: Option<fn() -> u64>) {
        self.clock = clock;
    }

    /// Ticks of the REC_ENTER calls that ended in a trapped WFI/WFE, in order (the first
    /// [`WFX_SAMPLES`]; only while a clock is set).
    pub fn wfx_entry_ticks(&self) -> &[u64] {
        &self.wfx_ticks
    }

    /// `rec_exit.imm` of the last host call. KVM ignores it and has no way to hand it to
    /// userspace; the model keeps it so a VMM-side check can see it (a departure from KVM).
    pub const fn host_call_imm(&self) -> u16 {
        self.last_imm
    }

    /// Sets how many entries one [`Self::run`] may make (at least one).
    pub fn set_entry_budget(&mut self, entries: usize) {
        self.entry_budget = entries.max(1);
    }

    /// Whether entries ask the RMM to trap WFI and WFE to the host (default: WFI trapped, WFE
    /// not, as KVM sets them when the physical CPU has other work).
    pub fn set_trap_wfx(&mut self, wfi: bool, wfe: bool) {
        self.trap_wfi = wfi;
        self.trap_wfe = wfe;
    }

    /// After a `KVM_EXIT_MEMORY_FAULT` for a RIPAS change: refuse the change instead of
    /// committing it on the next entry (this model's stand-in for the VMM declining a private
    /// <-> shared conversion).
    pub fn reject_ripas_change(&mut self) {
        self.reject_ripas = true;
    }

    /// Makes virtual interrupt `intid` pending for the realm on its next entries until it takes
    /// and ends it (as KVM's vGIC does after KVM_IRQ_LINE): list register 0 of rec_enter, group
    /// 1, priority 0x80. EBUSY while an earlier one is not ended; EINVAL for a special INTID
    /// (1020 and up).
    pub fn inject_virq(&mut self, intid: u32) -> Result<(), Errno> {
        if intid >= 1020 {
            return Err(Errno::EINVAL);
        }
        if self.lr0 != 0 {
            return Err(Errno::EBUSY);
        }
        self.lr0 = LR_PENDING | LR_GROUP1 | LR_PRIORITY | u64::from(intid);
        self.stats.virqs_injected += 1;
        Ok(())
    }

    /// `KVM_GET_ONE_REG` (see [`super::one_reg`] for the ids and errors).
    pub fn get_one_reg(&self, id: KvmRegId) -> Result<u64, Errno> {
        self.regs.get(id, self.rec.is_some())
    }

    /// `KVM_SET_ONE_REG` (see [`super::one_reg`] for the ids and errors).
    pub fn set_one_reg(&mut self, id: KvmRegId, value: u64) -> Result<(), Errno> {
        self.regs.set(id, value, self.rec.is_some())
    }

    /// The REC parameters this vCPU's state describes, for creating its REC: MPIDR, the PC and
    /// x0..x7 from the register cache, RUNNABLE if `runnable`. Auxiliary granules are the
    /// caller's to add.
    pub fn rec_params(&self, runnable: bool) -> RmiRecParams {
        let mut p = RmiRecParams::ZERO;
        if runnable {
            p.flags = RmiRecCreateFlags::RUNNABLE;
        }
        p.mpidr = self.mpidr;
        p.pc = self.regs.pc;
        p.gprs.copy_from_slice(&self.regs.x[..REC_PARAMS_GPRS]);
        p
    }

    /// `KVM_RUN`. Returns the exit userspace must handle; EINTR (with `KVM_EXIT_INTR`) when the
    /// entry budget is spent, `immediate_exit` is set or the vCPU is powered off; EFAULT (with
    /// `KVM_EXIT_MEMORY_FAULT`) for a memory fault; ENOEXEC before the vCPU has a REC; ENXIO when
    /// the RMM refused a command ([`Self::last_rmi_failure`]) or reported an exit the model does
    /// not know; ENOSYS for an MMIO access without a valid syndrome; EINVAL for a PSCI request
    /// naming a vCPU the VM does not have.
    pub fn run<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &mut Vm,
        link: &mut RmmLink<'_, C, M>,
    ) -> Result<KvmExit, Errno> {
        self.run_with(&Exclusive(core::cell::RefCell::new(vm)), link)?;
        Ok(*self.run.exit())
    }

    /// [`Self::run`] for a VM other CPUs run vCPUs of at the same time: the VM is locked only
    /// while this vCPU reads or changes it (between REC_ENTERs), never while the realm runs.
    pub fn run_shared<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &spin::Mutex<Vm>,
        link: &mut RmmLink<'_, C, M>,
    ) -> Result<KvmExit, Errno> {
        self.run_with(vm, link)?;
        Ok(*self.run.exit())
    }

    /// `KVM_RUN` as the kernel does it: the exit is left in `kvm_run` ([`Self::kvm_run`]) for
    /// userspace to read in place.
    pub(crate) fn run_with<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &impl VmAccess,
        link: &mut RmmLink<'_, C, M>,
    ) -> Result<(), Errno> {
        let (rec, run_pa) = self.rec.ok_or(Errno::ENOEXEC)?;
        let powered_on = vm.with(|vm| {
            vm.mark_ran();
            vm.is_powered_on(self.id)
        });
        // Userspace has handled the last exit: take the data it wrote into kvm_run.
        if let Pending::Mmio { write, len } = self.pending {
            let value = match (write, self.run.exit()) {
                (false, KvmExit::Mmio(m)) => Some(u64::from_le_bytes(m.data) & size_mask(len)),
                _ => None,
            };
            self.pending = Pending::MmioDone { value };
        }
        if self.run.immediate_exit || !powered_on {
            return self.interrupted();
        }
        let mut budget = self.entry_budget;
        loop {
            if budget == 0 {
                return self.interrupted();
            }
            budget -= 1;
            let enter = vm.with(|vm| self.prepare_entry(vm, link, rec));
            self.run.set_exit(KvmExit::Unknown);
            if !self.enter(link, rec, run_pa, &enter)? {
                self.run.set_exit(KvmExit::Shutdown);
                return Ok(());
            };
            match vm.with(|vm| self.handle_exit(vm, link, rec))? {
                Next::ReEnter => {}
                Next::Exit => return Ok(()),
                Next::Fault => return Err(Errno::EFAULT),
                Next::Stopped => return self.interrupted(),
            }
        }
    }

    /// Leaves `exit` in `kvm_run` for userspace (written in place: exits are not moved around).
    fn exit_to_user(&mut self, exit: KvmExit) -> Next {
        self.run.set_exit(exit);
        Next::Exit
    }

    /// Leaves the memory fault `f` in `kvm_run`; `KVM_RUN` returns EFAULT.
    fn memory_fault(&mut self, f: KvmRunMemoryFault) -> Next {
        self.run.set_exit(KvmExit::MemoryFault(f));
        Next::Fault
    }

    fn interrupted<T>(&mut self) -> Result<T, Errno> {
        self.run.set_exit(KvmExit::Intr);
        Err(Errno::EINTR)
    }

    fn rmi_failed(&mut self, command: RmiCommand, ret: RmiReturn) -> Errno {
        self.last_rmi_failure = Some(RmiFailure { command, ret });
        Errno::ENXIO
    }

    /// The entry information for the next REC_ENTER, completing what the last exit left open.
    fn prepare_entry<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &mut Vm,
        link: &mut RmmLink<'_, C, M>,
        rec: u64,
    ) -> Entry {
        let mut e = Entry {
            flags: RmiRecEnterFlags::EMPTY,
            gprs: EntryGprs::Untouched,
            gic: false,
        };
        let mut flags = RmiRecEnterFlags::EMPTY;
        if self.trap_wfi {
            flags = flags | RmiRecEnterFlags::TRAP_WFI;
        }
        if self.trap_wfe {
            flags = flags | RmiRecEnterFlags::TRAP_WFE;
        }
        match core::mem::replace(&mut self.pending, Pending::Nothing) {
            Pending::Nothing => {}
            Pending::Registers => e.gprs = EntryGprs::Registers,
            // Not completed by userspace (cannot happen: `run` converts it first).
            Pending::Mmio { .. } => {}
            Pending::MmioDone { value } => {
                flags = flags | RmiRecEnterFlags::EMULATED_MMIO;
                e.gprs = EntryGprs::MmioRead(value.unwrap_or(0));
            }
            Pending::Ripas { base, top } => {
                let reject = core::mem::take(&mut self.reject_ripas);
                if reject || !self.commit_ripas(vm, link, rec, base, top) {
                    flags = flags | RmiRecEnterFlags::RIPAS_RESPONSE;
                }
            }
        }
        e.flags = flags;
        if let Some(g) = vm.vgic_mut() {
            let fill = g.gic.fill_lrs(self.id, &mut self.gic_lrs, g.nr_lrs);
            // More waiting than fits: ask for an exit when the list registers run dry.
            self.gic_hcr = if fill.overflow { ich_hcr::UIE } else { 0 };
            e.gic = true;
        }
        e
    }

    /// RMI_RTT_SET_RIPAS over `[base, top)` until done; false if the RMM refused (the model does
    /// not create missing RTTs, which KVM would do on RMI_ERROR_RTT).
    fn commit_ripas<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &Vm,
        link: &mut RmmLink<'_, C, M>,
        rec: u64,
        mut base: u64,
        top: u64,
    ) -> bool {
        for _ in 0..MAX_SET_RIPAS_CALLS {
            if base >= top {
                return true;
            }
            let (ret, out) = link
                .rmi
                .cmd(RmiCommand::RTT_SET_RIPAS, &[vm.rd(), rec, base, top]);
            if ret != RmiReturn::SUCCESS {
                self.rmi_failed(RmiCommand::RTT_SET_RIPAS, ret);
                return false;
            }
            if out[0] <= base {
                return false;
            }
            base = out[0];
        }
        // Partial progress: the realm sees how far it got and asks again.
        true
    }

    /// Writes `enter`, issues REC_ENTER and reads the exit into `self.exit`; false if the realm
    /// is off.
    fn enter<C: Conduit, M: HostMemory>(
        &mut self,
        link: &mut RmmLink<'_, C, M>,
        rec: u64,
        run_pa: u64,
        enter: &Entry,
    ) -> Result<bool, Errno> {
        // Only the fields rec_enter defines (the RMM reads nothing else).
        let mem = &mut *link.mem;
        mem.write_words(
            run_pa + offset_of!(RmiRecEnter, flags) as u64,
            &[enter.flags.bits()],
        );
        let gprs = run_pa + offset_of!(RmiRecEnter, gprs) as u64;
        match enter.gprs {
            EntryGprs::Untouched => {}
            EntryGprs::Registers => mem.write_words(gprs, &self.regs.x),
            EntryGprs::MmioRead(value) => mem.write_words(gprs, &[value]),
        }
        // The GIC fields: with a vGIC, every list register and the HCR it asks for; without,
        // list register 0 when it changes (an injected interrupt, then zero once the realm has
        // ended it), the others staying as the RecRun page was made (zero).
        if enter.gic {
            mem.write_words(
                run_pa + offset_of!(RmiRecEnter, gicv3_hcr) as u64,
                &[self.gic_hcr],
            );
            mem.write_words(
                run_pa + offset_of!(RmiRecEnter, gicv3_lrs) as u64,
                &self.gic_lrs,
            );
        } else if self.lr0 != self.lr0_written {
            mem.write_words(
                run_pa + offset_of!(RmiRecEnter, gicv3_lrs) as u64,
                &[self.lr0],
            );
            self.lr0_written = self.lr0;
        }
        let t0 = self.clock.map(|now| now());
        let (mut ret, _) = link.rmi.cmd(RmiCommand::REC_ENTER, &[rec, run_pa]);
        // What completed the last exit is done: a minimal re-entry keeps the traps only.
        let traps = RmiRecEnterFlags::from_bits(
            enter.flags.bits() & (RmiRecEnterFlags::TRAP_WFI | RmiRecEnterFlags::TRAP_WFE).bits(),
        );
        while ret == RmiReturn::SUCCESS && Self::minimal_host_call(link, run_pa, traps) {
            self.stats.entries += 1;
            (ret, _) = link.rmi.cmd(RmiCommand::REC_ENTER, &[rec, run_pa]);
        }
        self.last_entry_ticks = match (self.clock, t0) {
            (Some(now), Some(t0)) => Some(now().wrapping_sub(t0)),
            _ => None,
        };
        self.stats.entries += 1;
        if ret == RmiReturn::new(RmiStatus::ErrorRealm, 1) {
            return Ok(false);
        }
        if ret != RmiReturn::SUCCESS {
            return Err(self.rmi_failed(RmiCommand::REC_ENTER, ret));
        }
        // Only the fields rec_exit defines, not the reserved space around them.
        let base = run_pa + RMI_REC_EXIT_OFFSET as u64;
        let at = |off: usize| base + off as u64;
        let mut w = [0u64; 4];
        let mem = &*link.mem;
        let e = &mut self.exit;
        mem.read_words(at(offset_of!(RmiRecExit, exit_reason)), &mut w[..1]);
        e.exit_reason = w[0] as u8;
        mem.read_words(at(offset_of!(RmiRecExit, esr)), &mut w[..3]);
        (e.esr, e.far, e.hpfar) = (w[0], w[1], w[2]);
        mem.read_words(at(offset_of!(RmiRecExit, gprs)), &mut e.gprs);
        mem.read_words(at(offset_of!(RmiRecExit, gicv3_hcr)), &mut w[..1]);
        e.gicv3_hcr = w[0];
        mem.read_words(at(offset_of!(RmiRecExit, gicv3_lrs)), &mut e.gicv3_lrs);
        mem.read_words(at(offset_of!(RmiRecExit, gicv3_misr)), &mut w[..2]);
        (e.gicv3_misr, e.gicv3_vmcr) = (w[0], w[1]);
        mem.read_words(at(offset_of!(RmiRecExit, cntp_ctl)), &mut w);
        (e.cntp_ctl, e.cntp_cval, e.cntv_ctl, e.cntv_cval) = (w[0], w[1], w[2], w[3]);
        mem.read_words(at(offset_of!(RmiRecExit, ripas_base)), &mut w[..3]);
        (e.ripas_base, e.ripas_top, e.ripas_value) = (w[0], w[1], w[2] as u8);
        mem.read_words(at(offset_of!(RmiRecExit, imm)), &mut w[..1]);
        e.imm = w[0] as u16;
        mem.read_words(at(offset_of!(RmiRecExit, pmu_ovf_status)), &mut w[..1]);
        e.pmu_ovf_status = w[0] as u8;
        Ok(true)
    }

    /// The minimal host of the benchmark: a host call for
    /// [`BENCH_MINIMAL`](hostcall_abi::payload::BENCH_MINIMAL) is answered here (x0 = 0) before
    /// the KVM model sees the exit, and the caller re-enters at once. Reads the exit reason and
    /// x0 of rec_exit, writes x0 and `flags` (the traps alone) of rec_enter; true if it
    /// answered.
    fn minimal_host_call<C: Conduit, M: HostMemory>(
        link: &mut RmmLink<'_, C, M>,
        run_pa: u64,
        flags: RmiRecEnterFlags,
    ) -> bool {
        let exit = run_pa + RMI_REC_EXIT_OFFSET as u64;
        let mut w = [0u64; 1];
        link.mem
            .read_words(exit + offset_of!(RmiRecExit, exit_reason) as u64, &mut w);
        if w[0] as u8 != RmiExitReason::HostCall as u8 {
            return false;
        }
        link.mem
            .read_words(exit + offset_of!(RmiRecExit, gprs) as u64, &mut w);
        if w[0] != hostcall_abi::payload::BENCH_MINIMAL {
            return false;
        }
        link.mem
            .write_words(run_pa + offset_of!(RmiRecEnter, gprs) as u64, &[0]);
        link.mem.write_words(
            run_pa + offset_of!(RmiRecEnter, flags) as u64,
            &[flags.bits()],
        );
        true
    }

    /// Handles `self.exit`.
    fn handle_exit<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &mut Vm,
        link: &mut RmmLink<'_, C, M>,
        rec: u64,
    ) -> Result<Next, Errno> {
        // Every exit reports the list registers and the realm's timers: the vGIC takes back
        // what the realm did with its interrupts and follows the timers' output lines.
        if let Some(g) = vm.vgic_mut() {
            g.gic.sync_lrs(self.id, &self.exit.gicv3_lrs);
            let (virt, phys) = (self.exit.cntv_ctl, self.exit.cntp_ctl);
            g.gic.line(VIRTUAL_TIMER_INTID, self.id, timer_fires(virt));
            g.gic.line(PHYSICAL_TIMER_INTID, self.id, timer_fires(phys));
        }
        // Without a vGIC, list register 0: an injected interrupt the realm has taken and ended
        // comes back inactive.
        if self.lr0 != 0 && self.exit.gicv3_lrs[0] & LR_STATE == 0 {
            self.lr0 = 0;
            self.stats.virqs_ended += 1;
        }
        // Every exit reports the realm's timers.
        let timers_were = self.timers_fired;
        self.timers_fired = [self.exit.cntv_ctl, self.exit.cntp_ctl].map(timer_fires);
        match self.exit.exit_reason().ok_or(Errno::ENXIO)? {
            RmiExitReason::Irq | RmiExitReason::Fiq | RmiExitReason::Serror => {
                self.stats.interrupt_exits += 1;
                // KVM syncs its view of the realm's timers from every exit and raises or lowers
                // their virtual interrupts. The model makes the virtual timer's interrupt
                // pending when it starts firing (an edge, not KVM's level) and counts the IRQ
                // exits that brought such news.
                let changed = |now: bool, was: bool| {
                    (0..2).any(|t| self.timers_fired[t] == now && timers_were[t] == was)
                };
                if changed(true, false) {
                    self.stats.realm_timer_fired += 1;
                    if self.timers_fired[0] && !timers_were[0] && vm.vgic().is_none() {
                        // An interrupt already pending in list register 0 keeps its place.
                        let _ = self.inject_virq(VIRTUAL_TIMER_INTID);
                    }
                } else if changed(false, true) {
                    self.stats.realm_timer_stopped += 1;
                }
                if let Some(intid) = self.host_interrupts.and_then(|take| take()) {
                    self.stats.host_interrupts += 1;
                    self.stats.last_host_intid = Some(intid);
                    if self.preempt {
                        return Ok(Next::Stopped);
                    }
                }
                Ok(Next::ReEnter)
            }
            RmiExitReason::Sync => self.sync_exit(vm, link),
            RmiExitReason::HostCall => Ok(self.host_call(vm)),
            RmiExitReason::Psci => self.psci_exit(vm, link, rec),
            RmiExitReason::RipasChange => self.ripas_change(),
        }
    }

    fn sync_exit<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &mut Vm,
        link: &mut RmmLink<'_, C, M>,
    ) -> Result<Next, Errno> {
        let (syndrome, x0) = (Esr(self.exit.esr), self.exit.gprs[0]);
        let ipa = fault_ipa(&self.exit);
        let private_page = || KvmRunMemoryFault {
            flags: KVM_MEMORY_EXIT_FLAG_PRIVATE,
            gpa: ipa & !(PAGE - 1),
            size: PAGE,
        };
        match syndrome.ec() {
            ec::WFX => {
                self.stats.wfx_exits += 1;
                if let Some(ticks) = self.last_entry_ticks {
                    // The first WFX_SAMPLES are kept; later ones are only counted.
                    let _ = self.wfx_ticks.push(ticks);
                }
                Ok(Next::ReEnter)
            }
            ec::SYS64 => {
                // With a vGIC, an ICC_SGI1R_EL1 write makes the SGI pending at its targets
                // (their list registers on their next entries; the others are kicked through
                // `set_kick`, as KVM kicks them with an IPI). Without one the model records the
                // write.
                self.stats.gic_register_exits += 1;
                self.stats.last_gic_register_write = x0;
                if syndrome.iss() & SysregAccess::NAME_MASK == ISS_ICC_SGI1R {
                    if let Some(g) = vm.vgic_mut() {
                        let targets = g.gic.sgi(self.id, x0);
                        self.stats.sgis_sent += u64::from(targets.count_ones());
                        let others = targets & !(1u64 << self.id);
                        if let (Some(kick), true) = (self.kick, others != 0) {
                            kick(others);
                        }
                    }
                }
                Ok(Next::ReEnter)
            }
            ec::DABT_LOW if vm.ipa_is_unprotected(ipa) && self.gic_mmio(vm)? => Ok(Next::ReEnter),
            ec::DABT_LOW if vm.ipa_is_unprotected(ipa) => {
                if !syndrome.isv() {
                    return Err(Errno::ENOSYS);
                }
                let len = syndrome.access_bytes() as u32;
                let write = syndrome.write();
                let mut data = [0u8; 8];
                if write {
                    let bytes = x0.to_le_bytes();
                    let n = len as usize;
                    data[..n].copy_from_slice(&bytes[..n]);
                }
                self.pending = Pending::Mmio { write, len };
                self.stats.mmio_exits += 1;
                Ok(self.exit_to_user(KvmExit::Mmio(KvmRunMmio {
                    phys_addr: ipa,
                    data,
                    len,
                    is_write: write as u8,
                    pad: [0; 3],
                })))
            }
            ec::DABT_LOW if self.map_on_fault(vm, link, ipa & !(PAGE - 1))? => Ok(Next::ReEnter),
            ec::DABT_LOW | ec::IABT_LOW => Ok(self.memory_fault(private_page())),
            _ => Err(Errno::ENXIO),
        }
    }

    /// An access to the in-kernel vGIC's frames at the exit's unprotected IPA: served here and
    /// completed on the next entry. `Ok(false)` if there is no vGIC or the IPA is not its;
    /// ENOSYS for an access without a valid syndrome.
    fn gic_mmio(&mut self, vm: &mut Vm) -> Result<bool, Errno> {
        let ipa_bits = vm.ipa_bits();
        let Some(g) = vm.vgic_mut() else {
            return Ok(false);
        };
        let access = match mmio::decode_exit(&self.exit, ipa_bits) {
            Ok(a) => a,
            Err(MmioError::NoSyndrome) => return Err(Errno::ENOSYS),
            Err(_) => return Ok(false),
        };
        let Some(frame) = g.frame(access.ipa) else {
            return Ok(false);
        };
        let value = match (frame, access.kind) {
            (GicFrame::Distributor(off), MmioKind::Read) => Some(g.gic.gicd_read(off, access.size)),
            (GicFrame::Redistributors(off), MmioKind::Read) => {
                Some(g.gic.gicr_read(off, access.size))
            }
            (GicFrame::Distributor(off), MmioKind::Write(v)) => {
                g.gic.gicd_write(off, access.size, v);
                None
            }
            (GicFrame::Redistributors(off), MmioKind::Write(v)) => {
                g.gic.gicr_write(off, access.size, v);
                None
            }
        };
        self.pending = Pending::MmioDone { value };
        self.stats.gic_mmio_exits += 1;
        Ok(true)
    }

    /// Demand paging, as the Arm CCA series does on a stage-2 fault at a private IPA: if the VM
    /// has a backing granule left and the RTT entry at `ipa` (level 3) is UNASSIGNED with RIPAS
    /// RAM, delegates the granule and maps it with RMI_DATA_CREATE_UNKNOWN. `Ok(false)`: not
    /// this model's to resolve (no backing left, no level-3 table, RIPAS not RAM, already
    /// assigned), a memory fault for userspace. ENXIO if the RMM refused the delegation or the
    /// mapping (the granule goes back to the VM's backing).
    fn map_on_fault<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &mut Vm,
        link: &mut RmmLink<'_, C, M>,
        ipa: u64,
    ) -> Result<bool, Errno> {
        let slot_page = vm.memslot().and_then(|m| m.backing(ipa));
        if slot_page.is_none() && vm.free_pages().is_empty() {
            return Ok(false);
        }
        let (ret, out) = link.rmi.cmd(RmiCommand::RTT_READ_ENTRY, &[vm.rd(), ipa, 3]);
        let unassigned_ram = ret == RmiReturn::SUCCESS
            && out[0] == 3
            && out[1] == RmiRttEntryState::Unassigned as u64
            && out[3] == Ripas::Ram as u64;
        if !unassigned_ram {
            return Ok(false);
        }
        if let Some(pa) = slot_page {
            // The memslot's own granule for this IPA: nothing else uses it while the entry is
            // unassigned, and nothing is given back on failure.
            let (ret, _) = link.rmi.cmd(RmiCommand::GRANULE_DELEGATE, &[pa]);
            if ret != RmiReturn::SUCCESS {
                return Err(self.rmi_failed(RmiCommand::GRANULE_DELEGATE, ret));
            }
            let (ret, _) = link
                .rmi
                .cmd(RmiCommand::DATA_CREATE_UNKNOWN, &[vm.rd(), pa, ipa]);
            if ret != RmiReturn::SUCCESS {
                let err = self.rmi_failed(RmiCommand::DATA_CREATE_UNKNOWN, ret);
                let _ = link.rmi.cmd(RmiCommand::GRANULE_UNDELEGATE, &[pa]);
                return Err(err);
            }
            if let Some(m) = vm.memslot_mut() {
                m.record_mapped();
            }
            self.stats.pages_mapped += 1;
            return Ok(true);
        }
        let Some(pa) = vm.take_page() else {
            return Ok(false);
        };
        let (ret, _) = link.rmi.cmd(RmiCommand::GRANULE_DELEGATE, &[pa]);
        if ret != RmiReturn::SUCCESS {
            vm.return_page(pa);
            return Err(self.rmi_failed(RmiCommand::GRANULE_DELEGATE, ret));
        }
        let (ret, _) = link
            .rmi
            .cmd(RmiCommand::DATA_CREATE_UNKNOWN, &[vm.rd(), pa, ipa]);
        if ret != RmiReturn::SUCCESS {
            let err = self.rmi_failed(RmiCommand::DATA_CREATE_UNKNOWN, ret);
            // Back to NS before it returns to the backing list; if even that fails, the
            // granule is lost to the VM rather than handed out delegated.
            let (undo, _) = link.rmi.cmd(RmiCommand::GRANULE_UNDELEGATE, &[pa]);
            if undo == RmiReturn::SUCCESS {
                vm.return_page(pa);
            }
            return Err(err);
        }
        vm.record_mapped(ipa, pa);
        self.stats.pages_mapped += 1;
        Ok(true)
    }

    fn host_call(&mut self, vm: &Vm) -> Next {
        self.last_imm = self.exit.imm;
        self.regs
            .x
            .copy_from_slice(&self.exit.gprs[..RSI_HOST_CALL_GPRS]);
        self.pending = Pending::Registers;
        let fid = canonical_fid(self.regs.x[0]);
        match vm.filter_action(fid) {
            KvmSmcccFilterAction::Handle => {
                self.stats.handled_calls += 1;
                let answer = hypercalls::handle(fid, &self.regs.x);
                self.regs.x[..4].copy_from_slice(&answer);
                Next::ReEnter
            }
            KvmSmcccFilterAction::Deny => {
                self.stats.denied_calls += 1;
                self.regs.x[..4].copy_from_slice(&[SMCCC_RET_NOT_SUPPORTED, 0, 0, 0]);
                Next::ReEnter
            }
            KvmSmcccFilterAction::FwdToUser => {
                self.stats.forwarded_calls += 1;
                self.exit_to_user(KvmExit::Hypercall(KvmRunHypercall {
                    nr: fid as u64,
                    args: [0; 6],
                    ret: 0,
                    flags: KVM_HYPERCALL_EXIT_SMC,
                }))
            }
        }
    }

    fn psci_exit<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &mut Vm,
        link: &mut RmmLink<'_, C, M>,
        rec: u64,
    ) -> Result<Next, Errno> {
        self.stats.psci_exits += 1;
        self.regs
            .x
            .copy_from_slice(&self.exit.gprs[..RSI_HOST_CALL_GPRS]);
        self.pending = Pending::Registers;
        // One data word, KVM's `flags`: none for SYSTEM_OFF and SYSTEM_RESET.
        let event = |kind: KvmSystemEventType| {
            KvmExit::SystemEvent(KvmRunSystemEvent {
                event_type: kind as u32,
                ndata: 1,
                data: [0; 16],
            })
        };
        match PsciFunction::from_fid(self.regs.x[0]) {
            Some(PsciFunction::CPU_ON) => {
                let target = vm.slot_by_target(self.regs.x[1]).ok_or(Errno::EINVAL)?;
                let (target_id, target_rec) = (target.id, target.rec.ok_or(Errno::EINVAL)?);
                let status = if target.powered_on || target.allow_cpu_on {
                    PsciReturn::Success
                } else {
                    PsciReturn::Denied
                };
                self.psci_complete(link, rec, target_rec, status)?;
                if status == PsciReturn::Success {
                    if let Some(t) = vm.slot_mut(target_id) {
                        t.powered_on = true;
                    }
                }
                Ok(Next::ReEnter)
            }
            Some(PsciFunction::AFFINITY_INFO) => {
                let target = vm.slot_by_target(self.regs.x[1]).ok_or(Errno::EINVAL)?;
                let target_rec = target.rec.ok_or(Errno::EINVAL)?;
                self.psci_complete(link, rec, target_rec, PsciReturn::Success)?;
                Ok(Next::ReEnter)
            }
            Some(PsciFunction::CPU_OFF) => {
                if let Some(me) = vm.slot_mut(self.id) {
                    me.powered_on = false;
                }
                Ok(Next::Stopped)
            }
            Some(PsciFunction::SYSTEM_OFF) => {
                Ok(self.exit_to_user(event(KvmSystemEventType::Shutdown)))
            }
            Some(PsciFunction::SYSTEM_RESET) => {
                Ok(self.exit_to_user(event(KvmSystemEventType::Reset)))
            }
            // CPU_SUSPEND (KVM would wait for an interrupt), and anything the RMM should not
            // have reported: enter again.
            _ => Ok(Next::ReEnter),
        }
    }

    fn psci_complete<C: Conduit, M: HostMemory>(
        &mut self,
        link: &mut RmmLink<'_, C, M>,
        caller: u64,
        target: u64,
        status: PsciReturn,
    ) -> Result<(), Errno> {
        let (ret, _) = link
            .rmi
            .cmd(RmiCommand::PSCI_COMPLETE, &[caller, target, status.raw()]);
        if ret != RmiReturn::SUCCESS {
            return Err(self.rmi_failed(RmiCommand::PSCI_COMPLETE, ret));
        }
        self.stats.psci_completions += 1;
        Ok(())
    }

    fn ripas_change(&mut self) -> Result<Next, Errno> {
        let (base, top) = (self.exit.ripas_base, self.exit.ripas_top);
        let ripas = self.exit.ripas_value().ok_or(Errno::ENXIO)?;
        if top <= base {
            return Err(Errno::ENXIO);
        }
        self.pending = Pending::Ripas { base, top };
        self.reject_ripas = false;
        Ok(self.memory_fault(KvmRunMemoryFault {
            flags: if ripas == Ripas::Ram {
                KVM_MEMORY_EXIT_FLAG_PRIVATE
            } else {
                0
            },
            gpa: base,
            size: top - base,
        }))
    }
}
