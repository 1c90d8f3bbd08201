//! A VMM model: the userspace side of KVM for one realm vCPU.
//!
//! It does what a VMM with realm support would do with the interfaces of [`super`]:
//! - detects the SMCCC filter with `KVM_HAS_DEVICE_ATTR` and installs two ranges: the first
//!   256 function IDs of the vendor-specific hypervisor service ([`FORWARDED`]) come to it, the
//!   next 256 ([`DENIED`]) are refused without leaving the kernel;
//! - serves the forwarded calls, reading arguments with `KVM_GET_ONE_REG` and writing results
//!   with `KVM_SET_ONE_REG`: the realm payload's protocol (`hostcall_abi::payload`: ECHO, REPORT, BENCH,
//!   BENCH_RESULT, BENCH_FP_RESULT, BENCH_MINIMAL_RESULT, MEASUREMENTS, ATTEST_CHALLENGE, ATTEST_TOKEN, SMP_HELLO) and
//!   a small math service ([`ADD`], [`MUL`]), so values travel realm -> VMM -> realm; any other
//!   forwarded ID gets NOT_SUPPORTED;
//! - emulates the data and flag registers of a PL011 UART at an unprotected IPA
//!   ([`Vmm::uart_base`]) through `KVM_EXIT_MMIO`, collecting what the realm writes;
//! - accepts the realm's RIPAS changes (`KVM_EXIT_MEMORY_FAULT`; the kernel commits them with
//!   RMI_RTT_SET_RIPAS on the next `KVM_RUN`) except at the IPAs it was told to refuse
//!   ([`Vmm::refuse_conversion`]), which it declines with [`Vcpu::reject_ripas_change`];
//! - runs the vCPU until the realm powers off ([`Vmm::run_until_shutdown`]), keeping a
//!   fixed-capacity log of [`Event`]s for the image to print.
//!
//! [`run_payload`] puts it together for the image: load the realm payload, hand the VM a few
//! granules to back the realm's RAM on faults, run it under the VMM, give the pages back and take
//! the realm apart.
//!
//! KVM does not pass `rec_exit.imm` to userspace; the ECHO check reads it through the model's
//! [`Vcpu::host_call_imm`], which KVM does not have, and reports it apart from the arguments
//! ([`PayloadReport::echo_imm`]).

use heapless::Vec;
use hostcall_abi::kvm::{
    core_reg_id, KvmRunMemoryFault, KvmRunMmio, KvmSmcccFilter, KvmSmcccFilterAction,
    KvmSystemEventType, KVM_ARM_VM_SMCCC_CTRL, KVM_ARM_VM_SMCCC_FILTER,
    KVM_MEMORY_EXIT_FLAG_PRIVATE,
};
use hostcall_abi::payload::{
    echo_arg, summarize, ATTEST_CHALLENGE, ATTEST_TOKEN, BENCH, BENCH_FP_RESULT,
    BENCH_MINIMAL_RESULT, BENCH_RESULT, ECHO, MEASUREMENTS, REFUSED_IPA, REPORT, TOKEN_CAPACITY,
    TOKEN_PIECE,
};

use super::hypercalls::SMCCC_RET_NOT_SUPPORTED;
use super::run::KvmExit;
use super::vcpu::{Exclusive, Vcpu, VcpuStats, VmAccess, WFX_SAMPLES};
use super::vm::{Vm, MAX_BACKING_PAGES};
use super::{Errno, RmmLink};
use crate::realm_build::{Failure, Host, Pool};
use crate::realm_run::{load_with_x0, unload, Loaded};
use crate::rmi::RmiClient;
use crate::{Conduit, HostMemory};

/// The range forwarded to the VMM: vendor-specific hypervisor service, SMC64, functions
/// 0x00..0xFF.
pub const FORWARDED: KvmSmcccFilter =
    KvmSmcccFilter::new(0xC600_0000, 0x100, KvmSmcccFilterAction::FwdToUser);
/// The range the VMM has the kernel refuse: the next 256 vendor-hypervisor functions.
pub const DENIED: KvmSmcccFilter =
    KvmSmcccFilter::new(0xC600_0100, 0x100, KvmSmcccFilterAction::Deny);
/// The math service the VMM computes (the payload's protocol).
pub use hostcall_abi::payload::{ADD, MUL};

/// Where the UART sits in the unprotected half of the IPA space (QEMU virt's PL011 address).
pub const UART_OFFSET: u64 = 0x0900_0000;
/// Size of the UART's MMIO window.
pub const UART_SIZE: u64 = 0x1000;
/// PL011 data register.
pub const UARTDR: u64 = 0x000;
/// PL011 flag register (reads as 0: transmit FIFO not full, nothing received).
pub const UARTFR: u64 = 0x018;

/// Events the log holds.
pub const LOG_CAPACITY: usize = 128;
/// Bytes of UART output kept.
pub const UART_CAPACITY: usize = 256;
/// IPAs whose conversion the VMM can be told to refuse.
pub const MAX_REFUSED: usize = 4;
/// Granules [`run_payload`] hands the VM to back the realm's RAM on faults.
pub const PAYLOAD_BACKING_PAGES: usize = 4;
/// Measurements a realm can report: the RIM (index 0) and four REMs.
pub const MEASUREMENT_SLOTS: usize = 5;

/// Something the VMM saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(target_os = "none", derive(defmt::Format))]
pub enum Event {
    /// `KVM_EXIT_HYPERCALL` for function `nr`; `count` consecutive ones are merged.
    Hypercall {
        /// Function ID.
        nr: u64,
        /// How many in a row.
        count: u32,
    },
    /// `KVM_EXIT_MMIO`.
    Mmio {
        /// IPA accessed.
        addr: u64,
        /// Access size in bytes.
        len: u32,
        /// A write (else a read).
        write: bool,
        /// Value written, or returned to the realm.
        value: u64,
    },
    /// `KVM_EXIT_MEMORY_FAULT` (with EFAULT).
    MemoryFault {
        /// First IPA.
        gpa: u64,
        /// Bytes.
        size: u64,
        /// To private (RIPAS RAM) rather than shared.
        private: bool,
        /// The VMM declined it (for a RIPAS change: RIPAS_RESPONSE = REJECT on the next entry).
        refused: bool,
    },
    /// `KVM_EXIT_SYSTEM_EVENT` (`kind` 1 shutdown, 2 reset).
    SystemEvent {
        /// `system_event.type`.
        kind: u32,
    },
    /// `KVM_EXIT_SHUTDOWN`.
    Shutdown,
}

/// How the realm stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(target_os = "none", derive(defmt::Format))]
pub enum Stop {
    /// PSCI SYSTEM_OFF (`KVM_SYSTEM_EVENT_SHUTDOWN`).
    PowerOff,
    /// PSCI SYSTEM_RESET (`KVM_SYSTEM_EVENT_RESET`); the model does not restart the realm.
    Reset,
    /// `KVM_EXIT_SHUTDOWN`: the realm was already off.
    Shutdown,
    /// The vCPU is powered off (it called PSCI CPU_OFF, or was never turned on).
    CpuOff,
}

/// Why [`Vmm::run_until_shutdown`] gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(target_os = "none", derive(defmt::Format))]
pub enum VmmError {
    /// `KVM_RUN` failed with this errno (other than EINTR, and EFAULT for a fault the VMM
    /// could act on).
    Run(Errno),
    /// ONE_REG failed while serving a host call.
    OneReg(Errno),
    /// The same memory fault came back: nothing the VMM can do resolves it.
    UnresolvedFault {
        /// First IPA.
        gpa: u64,
    },
    /// The realm did not stop within the allowed number of runs.
    TooManyRuns,
}

/// What the VMM learned from the realm payload's protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(target_os = "none", derive(defmt::Format))]
pub struct PayloadReport {
    /// The ECHO arguments were the pattern the payload sends.
    pub echo_seen_intact: bool,
    /// REPORT's verdict (0: every check in the realm passed).
    pub verdict: Option<u64>,
    /// BENCH_RESULT: median, minimum, maximum ticks of a host-call round trip.
    pub bench: Option<(u64, u64, u64)>,
    /// BENCH_FP_RESULT: the same for round trips in which the realm uses FP/SIMD.
    pub bench_fp: Option<(u64, u64, u64)>,
    /// BENCH_MINIMAL_RESULT: the same for round trips the minimal host answers.
    pub bench_minimal: Option<(u64, u64, u64)>,
    /// `rec_exit.imm` of the ECHO call, through the model's non-KVM accessor.
    pub echo_imm: Option<u16>,
    /// MEASUREMENTS: what the realm read as measurement `i` (0 the RIM, 1..=4 its REMs), as
    /// the eight doublewords RSI_MEASUREMENT_READ returned; the latest report per index.
    pub measurements: [Option<[u64; 8]>; MEASUREMENT_SLOTS],
    /// SMP_HELLO: the MPIDR and context ID the secondary REC reported.
    pub smp_hello: Option<(u64, u64)>,
}

/// The realm's attestation token as the VMM collects it (ATTEST_CHALLENGE, ATTEST_TOKEN): the
/// challenge its relying party chose, and the token's bytes in order.
#[derive(Clone, Debug, Default)]
pub struct TokenCollector {
    /// The challenge handed to the realm; `None` refuses ATTEST_CHALLENGE.
    pub challenge: Option<[u8; 64]>,
    /// The bytes received so far.
    pub token: Vec<u8, TOKEN_CAPACITY>,
    /// The realm sent its last piece.
    pub complete: bool,
    /// How many of the realm's RSI_ATTESTATION_TOKEN_CONTINUE calls came back RSI_INCOMPLETE
    /// with nothing written (an IRQ exit mid-token), as the realm reported with its last piece.
    pub interrupted: u64,
    /// Challenges handed out (each starts the token afresh).
    pub requests: u64,
}

impl TokenCollector {
    /// Takes one piece at `offset`; false (nothing taken) unless it continues the token, fits,
    /// and no last piece came before.
    fn take(&mut self, offset: u64, bytes: &[u8], last: bool) -> bool {
        if self.complete || offset != self.token.len() as u64 {
            return false;
        }
        if self.token.extend_from_slice(bytes).is_err() {
            return false;
        }
        self.complete = last;
        true
    }

    /// Starts over for a new token request.
    fn restart(&mut self) {
        self.token.clear();
        self.complete = false;
        self.interrupted = 0;
        self.requests += 1;
    }
}

/// The VMM.
#[derive(Clone, Debug)]
pub struct Vmm {
    uart_base: u64,
    log: Vec<Event, LOG_CAPACITY>,
    dropped: usize,
    uart: Vec<u8, UART_CAPACITY>,
    payload: PayloadReport,
    runs: usize,
    interrupted: usize,
    refused: Vec<u64, MAX_REFUSED>,
    attest: TokenCollector,
    /// Called when the VMM hands out a challenge (the image arms a host timer there, so that it
    /// fires while the RMM signs the token).
    on_challenge: Option<fn()>,
}

/// `KVM_GET_ONE_REG` of `x<n>`.
fn get(vcpu: &Vcpu, n: u32) -> Result<u64, VmmError> {
    let id = core_reg_id(n).ok_or(VmmError::OneReg(Errno::ENOENT))?;
    vcpu.get_one_reg(id).map_err(VmmError::OneReg)
}

/// `KVM_SET_ONE_REG` of `x<n>`.
fn set(vcpu: &mut Vcpu, n: u32, value: u64) -> Result<(), VmmError> {
    let id = core_reg_id(n).ok_or(VmmError::OneReg(Errno::ENOENT))?;
    vcpu.set_one_reg(id, value).map_err(VmmError::OneReg)
}

/// The IPA width of the realms `realm_build` and `realm_run` create.
fn realm_ipa_bits() -> u32 {
    crate::realm_build::realm_params(0, 0).s2sz as u32
}

/// Creates the VM and its one vCPU for a realm [`crate::realm_run::load`] made: REC 0,
/// powered on, the RD and IPA width of the realm builder's parameters.
pub fn vm_for_loaded(l: &Loaded) -> Result<(Vm, Vcpu), Errno> {
    let mut vm = Vm::new(l.realm.rd, realm_ipa_bits());
    let mut vcpu = Vcpu::create(&mut vm, 0)?;
    vcpu.finalize(&mut vm, l.realm.recs[0], l.run, true)?;
    Ok((vm, vcpu))
}

impl Vmm {
    /// A VMM for a realm with an IPA space of `ipa_bits` bits: its UART sits at
    /// [`UART_OFFSET`] in the unprotected half.
    pub fn new(ipa_bits: u32) -> Self {
        let unprotected = 1u64.checked_shl(ipa_bits.saturating_sub(1)).unwrap_or(0);
        Self {
            uart_base: unprotected | UART_OFFSET,
            log: Vec::new(),
            dropped: 0,
            uart: Vec::new(),
            payload: PayloadReport::default(),
            runs: 0,
            interrupted: 0,
            refused: Vec::new(),
            attest: TokenCollector::default(),
            on_challenge: None,
        }
    }

    /// Sets the challenge the VMM hands the realm for its attestation token.
    pub fn set_attestation_challenge(&mut self, challenge: [u8; 64]) {
        self.attest.challenge = Some(challenge);
    }

    /// Calls `hook` whenever the VMM hands out the attestation challenge.
    pub fn set_challenge_hook(&mut self, hook: Option<fn()>) {
        self.on_challenge = hook;
    }

    /// The attestation token the realm handed over, and whether it is complete.
    pub const fn attestation(&self) -> &TokenCollector {
        &self.attest
    }

    /// Declines the conversion of the page at `gpa` whenever the realm asks for it (a memory
    /// fault whose range holds `gpa`). ENOMEM when [`MAX_REFUSED`] are listed.
    pub fn refuse_conversion(&mut self, gpa: u64) -> Result<(), Errno> {
        self.refused.push(gpa).map_err(|_| Errno::ENOMEM)
    }

    /// The UART's IPA.
    pub const fn uart_base(&self) -> u64 {
        self.uart_base
    }

    /// Detects the SMCCC filter and installs [`FORWARDED`] and [`DENIED`].
    pub fn install_filters(&self, vm: &mut Vm) -> Result<(), Errno> {
        vm.has_device_attr(KVM_ARM_VM_SMCCC_CTRL, KVM_ARM_VM_SMCCC_FILTER)?;
        vm.set_smccc_filter(&FORWARDED)?;
        vm.set_smccc_filter(&DENIED)
    }

    /// The log, oldest first.
    pub fn log(&self) -> &[Event] {
        &self.log
    }

    /// Events that did not fit in the log.
    pub const fn dropped_events(&self) -> usize {
        self.dropped
    }

    /// What the realm wrote to the UART.
    pub fn uart_output(&self) -> &[u8] {
        &self.uart
    }

    /// What the payload protocol reported.
    pub const fn payload(&self) -> &PayloadReport {
        &self.payload
    }

    /// `KVM_RUN` calls made, and how many of them ended in EINTR.
    pub const fn runs(&self) -> (usize, usize) {
        (self.runs, self.interrupted)
    }

    fn record(&mut self, event: Event) {
        if let (
            Some(Event::Hypercall { nr, count }),
            Event::Hypercall {
                nr: new_nr,
                count: 1,
            },
        ) = (self.log.last_mut(), event)
        {
            if *nr == new_nr {
                *count = count.saturating_add(1);
                return;
            }
        }
        if self.log.push(event).is_err() {
            self.dropped += 1;
        }
    }

    /// Serves forwarded host call `nr`: arguments from the vCPU's registers, results into them.
    pub fn handle_hypercall(&mut self, vcpu: &mut Vcpu, nr: u64) -> Result<(), VmmError> {
        self.record(Event::Hypercall { nr, count: 1 });
        match nr {
            ECHO => {
                let mut intact = true;
                for n in 1..31u32 {
                    let arg = get(vcpu, n)?;
                    intact &= arg == echo_arg(n as usize);
                    set(vcpu, n, !arg)?;
                }
                self.payload.echo_seen_intact = intact;
                self.payload.echo_imm = Some(vcpu.host_call_imm());
                set(vcpu, 0, 0)
            }
            REPORT => {
                self.payload.verdict = Some(get(vcpu, 1)?);
                set(vcpu, 0, 0)
            }
            MEASUREMENTS => {
                let mut words = [0u64; 8];
                for (n, w) in (1u32..).zip(words.iter_mut()) {
                    *w = get(vcpu, n)?;
                }
                let index = get(vcpu, 9)?;
                let slot = usize::try_from(index)
                    .ok()
                    .and_then(|i| self.payload.measurements.get_mut(i));
                match slot {
                    Some(slot) => {
                        *slot = Some(words);
                        set(vcpu, 0, 0)
                    }
                    // No such measurement: refused like an unknown call.
                    None => set(vcpu, 0, SMCCC_RET_NOT_SUPPORTED),
                }
            }
            ATTEST_CHALLENGE => match self.attest.challenge {
                Some(c) => {
                    self.attest.restart();
                    if let Some(f) = self.on_challenge {
                        f();
                    }
                    for (n, w) in (1u32..).zip(c.chunks_exact(8)) {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(w);
                        set(vcpu, n, u64::from_le_bytes(b))?;
                    }
                    set(vcpu, 0, 0)
                }
                None => set(vcpu, 0, SMCCC_RET_NOT_SUPPORTED),
            },
            ATTEST_TOKEN => {
                let (offset, len, flags) = (get(vcpu, 1)?, get(vcpu, 2)?, get(vcpu, 3)?);

                let last = flags & hostcall_abi::payload::TOKEN_LAST != 0;
                if last {
                    self.attest.interrupted =
                        flags >> hostcall_abi::payload::TOKEN_INTERRUPTED_SHIFT;
                }
                let mut piece = [0u8; TOKEN_PIECE];
                for (n, chunk) in (4u32..).zip(piece.chunks_exact_mut(8)) {
                    chunk.copy_from_slice(&get(vcpu, n)?.to_le_bytes());
                }
                let taken = usize::try_from(len)
                    .ok()
                    .and_then(|len| piece.get(..len))
                    .is_some_and(|bytes| self.attest.take(offset, bytes, last));
                set(vcpu, 0, if taken { 0 } else { SMCCC_RET_NOT_SUPPORTED })
            }
            hostcall_abi::payload::SMP_HELLO => {
                let (mpidr, context) = (get(vcpu, 1)?, get(vcpu, 2)?);
                self.payload.smp_hello = Some((mpidr, context));
                set(vcpu, 1, hostcall_abi::payload::smp_answer(mpidr, context))?;
                set(vcpu, 0, 0)
            }
            BENCH => set(vcpu, 0, 0),
            BENCH_RESULT | BENCH_FP_RESULT | BENCH_MINIMAL_RESULT => {
                let summary = Some((get(vcpu, 1)?, get(vcpu, 2)?, get(vcpu, 3)?));
                match nr {
                    BENCH_RESULT => self.payload.bench = summary,
                    BENCH_FP_RESULT => self.payload.bench_fp = summary,
                    _ => self.payload.bench_minimal = summary,
                }
                set(vcpu, 0, 0)
            }
            hostcall_abi::payload::INJECT_VIRQ => {
                let intid = u32::try_from(get(vcpu, 1)?).unwrap_or(u32::MAX);
                let ok = vcpu.inject_virq(intid).is_ok();
                set(vcpu, 0, if ok { 0 } else { SMCCC_RET_NOT_SUPPORTED })
            }
            ADD | MUL => {
                let (a, b) = (get(vcpu, 1)?, get(vcpu, 2)?);
                let r = if nr == ADD {
                    a.wrapping_add(b)
                } else {
                    a.wrapping_mul(b)
                };
                set(vcpu, 1, r)?;
                set(vcpu, 0, 0)
            }
            _ => set(vcpu, 0, SMCCC_RET_NOT_SUPPORTED),
        }
    }

    /// Emulates an MMIO access: the UART's data register collects written bytes, every read
    /// (the flag register included) returns 0, and accesses elsewhere are ignored.
    pub fn handle_mmio(&mut self, vcpu: &mut Vcpu, mmio: &KvmRunMmio) {
        let len = (mmio.len as usize).min(8);
        let mut bytes = [0u8; 8];
        bytes[..len].copy_from_slice(&mmio.data[..len]);
        let write = mmio.is_write != 0;
        let offset = mmio.phys_addr.wrapping_sub(self.uart_base);
        let value = if write {
            if offset == UARTDR && self.uart.push(bytes[0]).is_err() {
                self.dropped += 1;
            }
            u64::from_le_bytes(bytes)
        } else {
            // UARTFR and every other register read as zero.
            let value = 0u64;
            if let Some(data) = vcpu.kvm_run_mut().mmio_data_mut() {
                *data = value.to_le_bytes();
            }
            value
        };
        self.record(Event::Mmio {
            addr: mmio.phys_addr,
            len: mmio.len,
            write,
            value,
        });
    }

    /// Runs `vcpu` until the realm powers off, resets or is found off, serving its exits; at
    /// most `max_runs` `KVM_RUN` calls.
    pub fn run_until_shutdown<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &mut Vm,
        vcpu: &mut Vcpu,
        link: &mut RmmLink<'_, C, M>,
        max_runs: usize,
    ) -> Result<Stop, VmmError> {
        let vm = Exclusive(core::cell::RefCell::new(vm));
        self.run_loop(&vm, vcpu, link, max_runs)
    }

    /// [`Self::run_until_shutdown`] for one vCPU of a VM whose other vCPUs run on other CPUs at
    /// the same time (a vCPU thread); it also stops, with [`Stop::CpuOff`], when its vCPU is
    /// powered off.
    pub fn run_vcpu_shared<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &spin::Mutex<Vm>,
        vcpu: &mut Vcpu,
        link: &mut RmmLink<'_, C, M>,
        max_runs: usize,
    ) -> Result<Stop, VmmError> {
        self.run_loop(vm, vcpu, link, max_runs)
    }

    fn run_loop<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &impl VmAccess,
        vcpu: &mut Vcpu,
        link: &mut RmmLink<'_, C, M>,
        max_runs: usize,
    ) -> Result<Stop, VmmError> {
        let mut last_fault = None;
        for _ in 0..max_runs {
            match self.step(vm, vcpu, link, &mut last_fault)? {
                Step::Stopped(stop) => return Ok(stop),
                Step::Continue | Step::Interrupted => {}
            }
        }
        Err(VmmError::TooManyRuns)
    }

    /// Runs `vcpu` of the shared VM until `KVM_RUN` returns EINTR with the vCPU still on (a time
    /// slice ended: `Ok(None)`) or it stops (`Ok(Some(_))`), serving its exits meanwhile; at most
    /// `max_runs` `KVM_RUN` calls.
    pub fn run_slice<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &spin::Mutex<Vm>,
        vcpu: &mut Vcpu,
        link: &mut RmmLink<'_, C, M>,
        max_runs: usize,
    ) -> Result<Option<Stop>, VmmError> {
        let mut last_fault = None;
        for _ in 0..max_runs {
            match self.step(vm, vcpu, link, &mut last_fault)? {
                Step::Stopped(stop) => return Ok(Some(stop)),
                Step::Interrupted => return Ok(None),
                Step::Continue => {}
            }
        }
        Err(VmmError::TooManyRuns)
    }

    /// One `KVM_RUN` and what the VMM does with its exit.
    fn step<C: Conduit, M: HostMemory>(
        &mut self,
        vm: &impl VmAccess,
        vcpu: &mut Vcpu,
        link: &mut RmmLink<'_, C, M>,
        last_fault: &mut Option<KvmRunMemoryFault>,
    ) -> Result<Step, VmmError> {
        self.runs += 1;
        match vcpu.run_with(vm, link) {
            Ok(()) => {}
            Err(Errno::EINTR) => {
                self.interrupted += 1;
                if !vm.with(|vm| vm.is_powered_on(vcpu.id())) {
                    return Ok(Step::Stopped(Stop::CpuOff));
                }
                return Ok(Step::Interrupted);
            }
            Err(Errno::EFAULT) => {
                let KvmExit::MemoryFault(f) = *vcpu.kvm_run().exit() else {
                    return Err(VmmError::Run(Errno::EFAULT));
                };
                if *last_fault == Some(f) {
                    return Err(VmmError::UnresolvedFault { gpa: f.gpa });
                }
                *last_fault = Some(f);
                // Accept the conversion (the kernel commits it on the next run) unless the
                // range holds a page the VMM refuses.
                let refused = self
                    .refused
                    .iter()
                    .any(|&r| r >= f.gpa && r - f.gpa < f.size);
                if refused {
                    vcpu.reject_ripas_change();
                }
                self.record(Event::MemoryFault {
                    gpa: f.gpa,
                    size: f.size,
                    private: f.flags & KVM_MEMORY_EXIT_FLAG_PRIVATE != 0,
                    refused,
                });
                return Ok(Step::Continue);
            }
            Err(e) => return Err(VmmError::Run(e)),
        }
        *last_fault = None;
        // Userspace reads the exit in place in kvm_run, taking only what it acts on.
        enum Seen {
            Hypercall(u64),
            Mmio(KvmRunMmio),
            SystemEvent(u32),
            Shutdown,
            Other,
        }
        let seen = match vcpu.kvm_run().exit() {
            KvmExit::Hypercall(h) => Seen::Hypercall(h.nr),
            KvmExit::Mmio(m) => Seen::Mmio(*m),
            KvmExit::SystemEvent(e) => Seen::SystemEvent(e.event_type),
            KvmExit::Shutdown => Seen::Shutdown,
            _ => Seen::Other,
        };
        match seen {
            Seen::Hypercall(nr) => self.handle_hypercall(vcpu, nr)?,
            Seen::Mmio(m) => self.handle_mmio(vcpu, &m),
            Seen::SystemEvent(kind) => {
                self.record(Event::SystemEvent { kind });
                return Ok(Step::Stopped(match KvmSystemEventType::from_u32(kind) {
                    Some(KvmSystemEventType::Reset) => Stop::Reset,
                    _ => Stop::PowerOff,
                }));
            }
            Seen::Shutdown => {
                self.record(Event::Shutdown);
                return Ok(Step::Stopped(Stop::Shutdown));
            }
            // Not an exit `run` returns with success.
            Seen::Other => return Err(VmmError::Run(Errno::ENXIO)),
        }
        Ok(Step::Continue)
    }
}

/// What one [`Vmm::step`] came to.
enum Step {
    /// Run again.
    Continue,
    /// `KVM_RUN` returned EINTR with the vCPU still on.
    Interrupted,
    /// The vCPU or the realm stopped.
    Stopped(Stop),
}

/// Why [`run_payload`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// Building or tearing down the realm.
    Realm(Failure),
    /// Setting up the VM, vCPU or filter.
    Kvm(Errno),
    /// Running the realm.
    Vmm(VmmError),
}

/// What [`run_payload`] did.
#[derive(Clone, Debug)]
pub struct PayloadRun {
    /// The VMM, with its log, UART output and payload report.
    pub vmm: Vmm,
    /// How the realm stopped.
    pub stop: Stop,
    /// What the vCPU did.
    pub stats: VcpuStats,
    /// The realm as loaded.
    pub loaded: Loaded,
    /// Pages the kernel mapped on the realm's faults (IPA, granule), released before unload.
    pub pages_mapped: Vec<(u64, u64), MAX_BACKING_PAGES>,
    /// REC_ENTER calls that ended in a trapped WFI/WFE, timed with the clock: median, minimum,
    /// maximum ticks, and how many.
    pub wfi_enter_exit: Option<(u64, u64, u64, usize)>,
}

/// How the payload starts, and what of the host the model may use while it runs.
#[derive(Clone, Copy, Debug)]
pub struct PayloadStart {
    /// X0 at entry (`hostcall_abi::payload::MODE_*`).
    pub mode: u64,
    /// Answer to ATTEST_CHALLENGE (`None`: refused).
    pub challenge: Option<[u8; 64]>,
    /// A tick counter to time REC_ENTERs with.
    pub clock: Option<fn() -> u64>,
    /// Takes the host's pending interrupt after an IRQ exit ([`Vcpu::set_host_interrupts`]).
    pub host_interrupts: Option<fn() -> Option<u32>>,
    /// Called when the VMM hands out the attestation challenge.
    pub on_challenge: Option<fn()>,
}

impl PayloadStart {
    /// The full payload (`MODE_FULL`), nothing of the host's.
    pub const FULL: Self = Self {
        mode: hostcall_abi::payload::MODE_FULL,
        challenge: None,
        clock: None,
        host_interrupts: None,
        on_challenge: None,
    };
}

/// Loads `image` into a new realm (VMID `vmid`, granules from `pool`), hands the VM
/// [`PAYLOAD_BACKING_PAGES`] granules of `pool` to back its RAM on faults, runs it under a
/// [`Vmm`] that refuses the conversion of `hostcall_abi::payload::REFUSED_IPA` until it stops (at most
/// `max_runs` `KVM_RUN` calls), started as `start` says, and takes the realm apart again (the
/// faulted-in pages first), also when the run failed.
pub fn run_payload<C: Conduit, M: HostMemory>(
    rmi: &mut RmiClient<C>,
    mem: &mut M,
    pool: &mut Pool,
    image: &[u8],
    vmid: u16,
    max_runs: usize,
    start: PayloadStart,
) -> Result<PayloadRun, PayloadError> {
    let l = load_with_x0(&mut Host::new(rmi, mem), pool, image, vmid, start.mode)
        .map_err(PayloadError::Realm)?;
    let mut vmm = Vmm::new(realm_ipa_bits());
    if let Some(c) = start.challenge {
        vmm.set_attestation_challenge(c);
    }
    vmm.set_challenge_hook(start.on_challenge);
    let mut backing = [0u64; PAYLOAD_BACKING_PAGES];
    let taken = backing
        .iter_mut()
        .try_for_each(|g| pool.take(1).map(|pa| *g = pa))
        .map_err(PayloadError::Realm);
    let setup = taken.and_then(|()| {
        vm_for_loaded(&l)
            .and_then(|(mut vm, mut vcpu)| {
                vmm.install_filters(&mut vm)?;
                vmm.refuse_conversion(REFUSED_IPA)?;
                vm.add_backing(&backing)?;
                vcpu.set_clock(start.clock);
                vcpu.set_host_interrupts(start.host_interrupts);
                Ok((vm, vcpu))
            })
            .map_err(PayloadError::Kvm)
    });
    let mut pages_mapped = Vec::new();
    let ran = setup.and_then(|(mut vm, mut vcpu)| {
        let mut link = RmmLink::new(&mut *rmi, &mut *mem);
        let stop = vmm
            .run_until_shutdown(&mut vm, &mut vcpu, &mut link, max_runs)
            .map_err(PayloadError::Vmm);
        pages_mapped = vm.mapped_pages().iter().copied().collect();
        let released = vm.release_pages(&mut link).map_err(PayloadError::Kvm);
        let stop = stop?;
        released?;
        let mut ticks = [0u64; WFX_SAMPLES];
        let n = vcpu.wfx_entry_ticks().len();
        ticks[..n].copy_from_slice(vcpu.wfx_entry_ticks());
        let wfi = (n > 0).then(|| {
            let (median, min, max) = summarize(&mut ticks[..n]);
            (median, min, max, n)
        });
        Ok((stop, *vcpu.stats(), wfi))
    });
    let unloaded = unload(&mut Host::new(rmi, mem), &l).map_err(PayloadError::Realm);
    let (stop, stats, wfi_enter_exit) = ran?;
    unloaded?;
    Ok(PayloadRun {
        vmm,
        stop,
        stats,
        loaded: l,
        pages_mapped,
        wfi_enter_exit,
    })
}
