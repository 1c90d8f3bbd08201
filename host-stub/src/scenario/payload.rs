//! The payload scenario: the realm payload in its full mode under the KVM model and its VMM,
//! and everything the host checks around it. Its FP/SIMD and SVE registers across the run, the
//! VMM's log told as KVM exits, the measurements the realm read against the host's own, the
//! attestation token handed to the runner's verifier, and the benchmark figures.
//!
//! It owns those checks and their log lines; the run itself is [`crate::kvm::vmm::run_payload`].
//! The host's hardware (FP/SIMD and SVE registers, its timer and interrupt controller, the
//! runner's files) comes in through [`Hardware`]; it must not touch any other.

use core::ffi::CStr;

use hostcall_abi::payload::{
    ADD, ATTEST_CHALLENGE, ATTEST_TOKEN, BENCH, BENCH_FP_RESULT, BENCH_ITERATIONS,
    BENCH_MINIMAL_RESULT, BENCH_RESULT, ECHO, ECHO_IMM, HOST_FP_PATTERN, INJECT_VIRQ, MEASUREMENTS,
    MUL, REM_EXTEND_INDEX, REM_EXTEND_VALUE, REPORT, TOKEN_ATTEMPTS, TOKEN_PIECE,
};

use crate::kvm::vmm::{
    self, Event, PayloadError, PayloadReport, PayloadRun, Stop, DENIED, FORWARDED,
};
use crate::log;
use crate::measure::{rem_extend, Measurement, RimBuilder};
use crate::realm_build::Pool;
use crate::rmi::RmiClient;
use crate::{Conduit, HostMemory};

/// Z31 and P15 as the host read them back: `vl` bytes of Z31 and `vl / 8` of P15 are live
/// (the arrays hold the largest vector length, 2048 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostSve {
    /// The vector length in bytes.
    pub vl: usize,
    /// Z31, as doublewords.
    pub z31: [u64; 32],
    /// P15, as bytes.
    pub p15: [u8; 32],
}

/// Every byte of P15 after `ptrue p15.h`: one predicate bit per halfword.
pub const P15_HALFWORDS: u8 = 0x55;

/// The host's hardware the payload scenario uses.
pub trait Hardware {
    /// Puts `v` in the host's D0 (FP/SIMD state the RMM must preserve across realm runs).
    fn set_fp(&mut self, v: u64);
    /// D0.
    fn fp(&mut self) -> u64;
    /// Fills Z31 with copies of `v` and P15 with `ptrue p15.h` at the largest vector length;
    /// the vector length in bytes, or `None` without SVE.
    fn set_sve(&mut self, v: u64) -> Option<usize>;
    /// Z31 and P15 at vector length `vl` bytes (as [`Self::set_sve`] returned it).
    fn sve(&mut self, vl: usize) -> HostSve;
    /// The attestation challenge for the realm, and whether the relying party (the runner)
    /// chose it.
    fn attestation_challenge(&mut self) -> ([u8; 64], bool);
    /// Enables the host's timer interrupt at the interrupt controller; false if it cannot.
    fn timer_enable(&mut self) -> bool;
    /// Turns the timer and its interrupt off again.
    fn timer_disable(&mut self);
    /// The host's clock for the KVM model (counter ticks).
    fn clock(&self) -> fn() -> u64;
    /// Takes the host's pending interrupt after an IRQ exit (see
    /// [`crate::kvm::Vcpu::set_host_interrupts`]).
    fn take_interrupt(&self) -> fn() -> Option<u32>;
    /// Arms the host's timer for a token request (called when the VMM hands out the
    /// challenge).
    fn arm_for_token(&self) -> fn();
    /// Counter ticks from the host timer's last deadline to the host taking its interrupt.
    fn timer_latency(&self) -> u64;
    /// Writes the concatenation of `data` to the runner's file `path`; false if that failed.
    fn write_file(&mut self, path: &CStr, data: &[&[u8]]) -> bool;
}

/// 64 challenge bytes mixed from `seed` (splitmix64): the host's challenge when the runner
/// left none, fresh per run (seeded from the counter) but not chosen by a verifier.
pub fn challenge_from_seed(seed: u64) -> [u8; 64] {
    let mut c = [0u8; 64];
    let mut x = seed;
    for chunk in c.chunks_exact_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    c
}

/// How long after the VMM hands out the attestation challenge the host's timer fires, for
/// the first token request: after the realm has made its first
/// RSI_ATTESTATION_TOKEN_CONTINUE (a few world switches: about 0.5 ms) and before the RMM has
/// signed the token (about 4.6 ms of P-384 arithmetic, in steps, under `-icount`), so the
/// interrupt arrives mid-token.
pub const TOKEN_TIMER_DELAY_US: u64 = 2_000;

/// When to fire the host's timer for a token request armed at counter value `now`, the last
/// one having been armed at `last` (0: never), with `per_us` counter ticks per microsecond:
/// [`TOKEN_TIMER_DELAY_US`] for the first request. Without `-icount` timing varies, so a
/// request the tick missed makes the next one fire at 2/5 of the time the missed one took.
pub fn token_timer_delay_us(now: u64, last: u64, per_us: u64) -> u64 {
    match now.checked_sub(last) {
        Some(took) if last != 0 && per_us != 0 => took / per_us * 2 / 5,
        _ => TOKEN_TIMER_DELAY_US,
    }
}

/// What the VMM does with a forwarded host call, for the log: name, then its ONE_REG traffic.
pub fn hypercall_story(nr: u64) -> (&'static str, &'static str) {
    match nr {
        ECHO => (
            "ECHO",
            "x1..x30 read with KVM_GET_ONE_REG, answered with KVM_SET_ONE_REG (x0 = 0, x1..x30 complemented)",
        ),
        REPORT => (
            "REPORT",
            "the verdict in x1 read with KVM_GET_ONE_REG, x0 = 0 set with KVM_SET_ONE_REG",
        ),
        BENCH => (
            "BENCH",
            "nothing read, x0 = 0 set with KVM_SET_ONE_REG",
        ),
        BENCH_RESULT => (
            "BENCH_RESULT",
            "median/min/max in x1..x3 read with KVM_GET_ONE_REG, x0 = 0 set with KVM_SET_ONE_REG",
        ),
        BENCH_MINIMAL_RESULT => (
            "BENCH_MINIMAL_RESULT",
            "median/min/max in x1..x3 read with KVM_GET_ONE_REG, x0 = 0 set with KVM_SET_ONE_REG",
        ),
        BENCH_FP_RESULT => (
            "BENCH_FP_RESULT",
            "median/min/max in x1..x3 read with KVM_GET_ONE_REG, x0 = 0 set with KVM_SET_ONE_REG",
        ),
        INJECT_VIRQ => (
            "INJECT_VIRQ",
            "the INTID in x1 read with KVM_GET_ONE_REG, injected as with KVM_IRQ_LINE, x0 = 0 set with KVM_SET_ONE_REG",
        ),
        MEASUREMENTS => (
            "MEASUREMENTS",
            "the measurement in x1..x8 and its index in x9 read with KVM_GET_ONE_REG, x0 = 0 set with KVM_SET_ONE_REG",
        ),
        ADD => (
            "ADD",
            "x1 and x2 read with KVM_GET_ONE_REG, their sum in x1 and x0 = 0 set with KVM_SET_ONE_REG",
        ),
        MUL => (
            "MUL",
            "x1 and x2 read with KVM_GET_ONE_REG, their product in x1 and x0 = 0 set with KVM_SET_ONE_REG",
        ),
        ATTEST_CHALLENGE => (
            "ATTEST_CHALLENGE",
            "the runner's challenge set in x1..x8 and x0 = 0 with KVM_SET_ONE_REG",
        ),
        ATTEST_TOKEN => (
            "ATTEST_TOKEN",
            "offset, length, last flag and up to 216 token bytes in x1..x30 read with KVM_GET_ONE_REG, x0 = 0 set with KVM_SET_ONE_REG",
        ),
        _ => (
            "unknown",
            "x0 = NOT_SUPPORTED set with KVM_SET_ONE_REG",
        ),
    }
}

/// Logs whether Z31 (above 128 bits too) and P15 hold what `set_sve(v)` put there; true if
/// so, or if the CPU has no SVE.
pub fn sve_unchanged(sve: Option<HostSve>, v: u64) -> bool {
    let Some(s) = sve else {
        log::info!("realm payload: no SVE on this CPU, the host's SVE registers not checked");
        return true;
    };
    let z31 = &s.z31[..s.vl / 8];
    let p15 = &s.p15[..s.vl / 8];
    let ok = z31.iter().all(|&w| w == v) && p15.iter().all(|&b| b == P15_HALFWORDS);
    if ok {
        log::info!(
            "realm payload: the host's SVE registers (Z31 above 128 bits, P15) came back unchanged, VL {} bits",
            s.vl * 8
        );
    } else {
        log::error!(
            "realm payload: the host's SVE registers changed while the realm ran (VL {} bits): Z31 {:#x}, P15 {:#x}",
            s.vl * 8,
            z31,
            p15
        );
    }
    ok
}

/// Compares the measurements the realm read (RSI_MEASUREMENT_READ, handed over in
/// MEASUREMENTS host calls) with the host's own: the RIM it followed while loading the
/// realm, and the REM the payload extends, recomputed from the value it extends it with.
pub fn measurement_checks(expected: &RimBuilder, p: &PayloadReport) -> bool {
    let algo = expected.algo();
    let want_rim = expected.value();
    let rim_ok = match p.measurements[0].map(|w| Measurement::from_words(&w)) {
        Some(got) if got == want_rim => {
            log::info!(
                "measurement: the realm's RIM {=u64:016x} matches the host's own computation ({=str}, {} descriptors)",
                got.prefix(),
                algo.name(),
                expected.descriptors()
            );
            true
        }
        Some(got) => {
            log::error!(
                "measurement: the realm's RIM {=u64:016x} differs from the host's own computation {=u64:016x} ({=str}, {} descriptors)",
                got.prefix(),
                want_rim.prefix(),
                algo.name(),
                expected.descriptors()
            );
            false
        }
        None => {
            log::error!("measurement: the realm did not report its RIM");
            false
        }
    };
    let index = REM_EXTEND_INDEX;
    let got = p
        .measurements
        .get(index as usize)
        .copied()
        .flatten()
        .map(|w| Measurement::from_words(&w));
    let want = rem_extend(algo, &Measurement::ZERO, &REM_EXTEND_VALUE);
    let rem_ok = match (got, want) {
        (Some(got), Some(want)) if got == want => {
            log::info!(
                "measurement: REM[{=u64}] after RSI_MEASUREMENT_EXTEND matches the host's computation ({=u64:016x}, {} bytes extended into a zero REM)",
                index,
                got.prefix(),
                REM_EXTEND_VALUE.len()
            );
            true
        }
        (Some(got), Some(want)) => {
            log::error!(
                "measurement: REM[{=u64}] after RSI_MEASUREMENT_EXTEND is {=u64:016x}, the host computes {=u64:016x}",
                index,
                got.prefix(),
                want.prefix()
            );
            false
        }
        (None, _) => {
            log::error!("measurement: the realm did not report REM[{=u64}]", index);
            false
        }
        (_, None) => {
            log::error!("measurement: the extension value is longer than a measurement");
            false
        }
    };
    rim_ok && rem_ok
}

/// Hands the realm's attestation token to the verifier outside the model: the token in
/// `realm-token.cbor`, and the host's own RIM and expected REM\[1\] in `host-measurements.bin`
/// (64 bytes each), next to the challenge it chose. The host stub does not verify the token
/// itself (it has no P-384 code); the runner does, with an independent verifier.
pub fn attestation_handover<H: Hardware>(
    hw: &mut H,
    run: &PayloadRun,
    challenge: &[u8; 64],
    chosen_by_runner: bool,
) -> bool {
    let t = run.vmm.attestation();
    if !t.complete {
        log::error!(
            "attestation: the realm handed over {} bytes but no complete token",
            t.token.len()
        );
        return false;
    }
    let rim = run.loaded.rim.value();
    let rem = rem_extend(run.loaded.rim.algo(), &Measurement::ZERO, &REM_EXTEND_VALUE)
        .unwrap_or(Measurement::ZERO);
    let written = hw.write_file(c"realm-token.cbor", &[&t.token])
        && hw.write_file(c"host-measurements.bin", &[&rim.0, &rem.0]);
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&challenge[..8]);
    log::info!(
        "attestation: the realm's token ({} bytes, challenge {=u64:016x}.. from {=str}) came through {} ATTEST_TOKEN host calls; written to realm-token.cbor with the host's RIM and REM[1]: {=bool}",
        t.token.len(),
        u64::from_be_bytes(prefix),
        if chosen_by_runner { "the runner's challenge.bin" } else { "the counter" },
        t.token.len().div_ceil(TOKEN_PIECE),
        written
    );
    let st = &run.stats;
    if t.interrupted > 0 {
        log::info!(
            "attestation: the host's timer (INTID {=u32}) fired while the RMM was making the token: {} IRQ exit(s) mid-token, the realm's CONTINUE answered RSI_INCOMPLETE with nothing written and repeated; token request {} of at most {}",
            st.last_host_intid.unwrap_or(0),
            t.interrupted,
            t.requests,
            TOKEN_ATTEMPTS
        );
        log::info!(
            "bench: host timer interrupt while the RMM makes a realm token, deadline to the host taking it: {=u64} ticks",
            hw.timer_latency()
        );
    } else {
        log::error!(
            "attestation: no IRQ exit mid-token in {} token request(s) ({} host interrupt(s) taken)",
            t.requests,
            st.host_interrupts
        );
    }
    written && t.interrupted > 0
}

/// Loads the realm payload into a new realm and runs it under the KVM model and its VMM
/// (KVM_RUN over RMI_REC_ENTER, host calls as KVM_EXIT_HYPERCALL served through ONE_REG,
/// RIPAS changes as KVM_EXIT_MEMORY_FAULT, demand paging in the kernel), then tears it down.
pub fn run<C: Conduit, M: HostMemory, H: Hardware>(
    rmi: &mut RmiClient<C>,
    mem: &mut M,
    pool: &mut Pool,
    image: &[u8],
    hw: &mut H,
) -> bool {
    hw.set_fp(HOST_FP_PATTERN);
    let sve_vl = hw.set_sve(HOST_FP_PATTERN);
    let (challenge, chosen_by_runner) = hw.attestation_challenge();
    let host_timer = hw.timer_enable();
    let start = vmm::PayloadStart {
        challenge: Some(challenge),
        clock: Some(hw.clock()),
        host_interrupts: host_timer.then_some(hw.take_interrupt()),
        on_challenge: host_timer.then_some(hw.arm_for_token()),
        ..vmm::PayloadStart::FULL
    };
    let result = vmm::run_payload(rmi, mem, pool, image, 2, 1024, start);
    hw.timer_disable();
    let d0 = hw.fp();
    let sve = sve_vl.map(|vl| hw.sve(vl));
    let run = match result {
        Ok(run) => run,
        Err(e) => {
            match e {
                PayloadError::Realm(f) => log::error!(
                    "payload scenario failed at {=str}: got {=u64:#x}, expected {=u64:#x}",
                    f.step,
                    f.got.raw(),
                    f.want.raw()
                ),
                PayloadError::Kvm(errno) => {
                    log::error!("payload scenario: KVM setup failed: {=str}", errno.name())
                }
                PayloadError::Vmm(v) => {
                    log::error!("payload scenario: the VMM failed: {}", v)
                }
            }
            return false;
        }
    };
    let l = &run.loaded;
    log::info!(
        "realm payload: {} image page(s) (contents measured) and {} of unknown content at IPA 0, one REC at IPA 0, activated",
        l.image_pages,
        l.data.len() - l.image_pages
    );
    log::info!(
        "kvm: VM for RD {=u64:#x}; SMCCC filter by KVM_SET_DEVICE_ATTR: {=u32:#x}..+{=u32:#x} FWD_TO_USER, {=u32:#x}..+{=u32:#x} DENY; vCPU 0 finalized on REC {=u64:#x}; {} granule(s) to back RAM on faults",
        l.realm.rd,
        FORWARDED.base,
        FORWARDED.nr_functions,
        DENIED.base,
        DENIED.nr_functions,
        l.realm.recs[0],
        vmm::PAYLOAD_BACKING_PAGES
    );
    let fp_ok = d0 == HOST_FP_PATTERN;
    if fp_ok {
        log::info!("realm payload: the host's FP/SIMD registers came back unchanged");
    } else {
        log::error!(
            "realm payload: host D0 changed to {=u64:#x} while the realm ran",
            d0
        );
    }
    let sve_ok = sve_unchanged(sve, HOST_FP_PATTERN);
    let log = run.vmm.log();
    // Forwarded host calls, once per function ID with how many there were.
    let mut seen = [0u64; 16];
    let mut kinds = 0;
    let mut ripas_changes = 0;
    for e in log {
        match *e {
            Event::Hypercall { nr, .. } => {
                if seen[..kinds].contains(&nr) || kinds == seen.len() {
                    continue;
                }
                seen[kinds] = nr;
                kinds += 1;
                let count: u32 = log
                    .iter()
                    .map(|x| match *x {
                        Event::Hypercall { nr: n, count } if n == nr => count,
                        _ => 0,
                    })
                    .sum();
                let (name, how) = hypercall_story(nr);
                log::info!(
                    "kvm: KVM_EXIT_HYPERCALL nr {=u64:#x} ({=str}), {=u32} time(s): {=str}",
                    nr,
                    name,
                    count,
                    how
                );
            }
            Event::MemoryFault {
                gpa,
                size,
                private,
                refused,
            } => {
                ripas_changes += 1;
                log::info!(
                    "kvm: KVM_EXIT_MEMORY_FAULT gpa {=u64:#x} size {=u64:#x} to {=str}: {=str}",
                    gpa,
                    size,
                    if private { "private" } else { "shared" },
                    if refused {
                        "the VMM refuses, the realm gets RIPAS_RESPONSE = REJECT"
                    } else {
                        "the VMM accepts, committed with RMI_RTT_SET_RIPAS on the next KVM_RUN"
                    }
                );
            }
            Event::Mmio {
                addr,
                len,
                write,
                value,
            } => log::info!(
                "kvm: KVM_EXIT_MMIO {=str} of {=u32} byte(s) at {=u64:#x}: {=u64:#x}",
                if write { "write" } else { "read" },
                len,
                addr,
                value
            ),
            Event::SystemEvent { kind } => log::info!(
                "kvm: KVM_EXIT_SYSTEM_EVENT {=str} (PSCI {=str})",
                if kind == 2 { "reset" } else { "shutdown" },
                if kind == 2 {
                    "SYSTEM_RESET"
                } else {
                    "SYSTEM_OFF"
                }
            ),
            Event::Shutdown => log::info!("kvm: KVM_EXIT_SHUTDOWN"),
        }
    }
    if run.vmm.dropped_events() > 0 {
        log::warn!(
            "kvm: {} event(s) did not fit in the VMM's log",
            run.vmm.dropped_events()
        );
    }
    for &(ipa, pa) in &run.pages_mapped {
        log::info!(
            "kvm: stage-2 fault at IPA {=u64:#x} (RIPAS RAM, unassigned) resolved in the kernel: granule {=u64:#x} delegated, RMI_DATA_CREATE_UNKNOWN, re-entered without an exit; RMI_DATA_DESTROY and undelegated before unload",
            ipa,
            pa
        );
    }
    let st = &run.stats;
    let (runs, eintr) = run.vmm.runs();
    log::info!(
        "kvm: {} KVM_RUN(s) ({} ended EINTR: the entry budget), {} REC_ENTER(s); host calls: {} forwarded, {} answered in the kernel (x0 = 0: NOT_SUPPORTED, RSI status SUCCESS), {} denied; {} trapped WFI(s) re-entered",
        runs,
        eintr,
        st.entries,
        st.forwarded_calls,
        st.handled_calls,
        st.denied_calls,
        st.wfx_exits
    );
    log::info!(
        "kvm: {} IRQ/FIQ exit(s), after which the host took {} interrupt(s) of its own at the GIC (last INTID {=u32}) and re-entered",
        st.interrupt_exits,
        st.host_interrupts,
        st.last_host_intid.unwrap_or(1023)
    );
    log::info!(
        "kvm: {} exit(s) for a GIC register write the host emulates (an SGI the realm sent with ICC_SGI1R_EL1), the last writing {=u64:#x}",
        st.gic_register_exits,
        st.last_gic_register_write
    );
    log::info!(
        "kvm: {} virtual interrupt(s) injected through rec_enter.gicv3_lrs[0], {} taken and ended by the realm (the list register came back inactive in rec_exit)",
        st.virqs_injected,
        st.virqs_ended
    );
    log::info!(
        "kvm: IRQ exits for the realm's own timer: {} with rec_exit.cntv_ctl showing it fire (the RMM then masked it on the next entries and the realm ran on), {} showing it stopped",
        st.realm_timer_fired,
        st.realm_timer_stopped
    );
    let uart = run.vmm.uart_output();
    if !uart.is_empty() {
        match core::str::from_utf8(uart) {
            Ok(text) => log::info!("kvm: the realm's UART (KVM_EXIT_MMIO): {=str}", text),
            Err(_) => log::info!("kvm: the realm's UART (KVM_EXIT_MMIO): {=[u8]}", uart),
        }
    }
    let p = run.vmm.payload();
    let echo_ok = p.echo_seen_intact && p.echo_imm == Some(ECHO_IMM);
    log::info!(
        "realm payload: {} REC_ENTER(s), {} host call(s); ECHO arguments and imm intact at the VMM: {=bool} (arguments through KVM_GET_ONE_REG, imm through the model's accessor: KVM drops it)",
        st.entries,
        st.forwarded_calls + st.handled_calls + st.denied_calls,
        echo_ok
    );
    log::info!(
        "realm payload: {} RIPAS change(s) applied or refused by the VMM, {} page(s) mapped on the realm's faults",
        ripas_changes,
        run.pages_mapped.len()
    );
    match p.verdict {
        Some(0) => log::info!("realm payload: the realm's own checks passed (RSI_VERSION, host-call results, a denied, two in-kernel and two VMM-computed host calls, FP/SIMD, host-call address checks, REALM_CONFIG, IPA_STATE_GET/SET accepted and rejected, host-call retry, MEASUREMENT_READ/EXTEND, attestation token in TOKEN_PIECE chunks within INIT's bound)"),
        Some(v) => log::error!("realm payload: the realm reports failed check {=u64}", v),
        None => log::error!("realm payload: no verdict from the realm"),
    }
    let measured_ok = measurement_checks(&l.rim, p);
    let attested = attestation_handover(hw, &run, &challenge, chosen_by_runner);
    if let Some((median, min, max)) = p.bench_minimal {
        log::info!(
            "bench: host-call round trip, minimal host (realm SMC to realm resume, the host re-entering at once): median {=u64} ticks (min {=u64}, max {=u64}) over {} calls",
            median,
            min,
            max,
            BENCH_ITERATIONS
        );
    }
    if let Some((median, min, max)) = p.bench {
        log::info!(
            "bench: host-call round trip (realm SMC to realm resume): median {=u64} ticks (min {=u64}, max {=u64}) over {} calls",
            median,
            min,
            max,
            BENCH_ITERATIONS
        );
    }
    if let Some((median, min, max)) = p.bench_fp {
        log::info!(
            "bench: host-call round trip, the realm using FP/SIMD around each call: median {=u64} ticks (min {=u64}, max {=u64}) over {} calls",
            median,
            min,
            max,
            BENCH_ITERATIONS
        );
    }
    if let Some((median, min, max, n)) = run.wfi_enter_exit {
        log::info!(
            "bench: empty REC_ENTER/exit (trapped WFI): median {=u64} ticks (min {=u64}, max {=u64}) over {} entries",
            median,
            min,
            max,
            n
        );
    }
    let off = run.stop == Stop::PowerOff;
    if off {
        log::info!("realm payload: SYSTEM_OFF, realm destroyed, every granule undelegated");
    } else {
        log::error!("realm payload: the realm stopped with {}", run.stop);
    }
    fp_ok && sve_ok && p.verdict == Some(0) && echo_ok && measured_ok && attested && off
}
