//! The scenarios against the RMM's real handlers on the simulated platform (`rmm::sim`), the
//! realm's side scripted step by step, and the host's hardware faked.

use std::ffi::CStr;
use std::vec::Vec;

use hostcall_abi::host_call::RsiHostCall;
use hostcall_abi::payload::{
    REM_EXTEND_INDEX, REM_EXTEND_VALUE, REPORT, SMP_CONTEXT, SMP_HELLO, TOKEN_LAST,
};
use hostcall_abi::psci::PsciFunction;
use hostcall_abi::rec_params::rec_index_to_mpidr_el1;
use hostcall_abi::rsi::RsiCommand;
use hostcall_abi::wire::Wire;
use rmm::arch::{ExitClass, RealmExit, RealmRegs};
use rmm::sim::{Sim, QEMU_RMM_REGION, SMC_EXIT};

use super::*;
use crate::kvm::vcpu::Vcpu;
use crate::kvm::vm::Vm;
use crate::kvm::vmm::{self, PayloadReport, Vmm};
use crate::measure::{rem_extend, Measurement};
use crate::realm_build::Pool;
use crate::testing::SimHost;
use crate::HostMemory;

const POOL: u64 = 0x6400_0000;
const POOL_SIZE: u64 = 0x10_0000;
/// Where the scripted realms keep their RsiHostCall structures (one every 0x100 bytes).
const HC_IPA: u64 = 0x2000;

fn smc(regs: &mut RealmRegs, x: &[u64]) -> RealmExit {
    regs.gprs[..x.len()].copy_from_slice(x);
    SMC_EXIT
}

fn host_call(slot: u64) -> impl FnMut(&mut RealmRegs) -> RealmExit {
    move |r| {
        smc(
            r,
            &[RsiCommand::HOST_CALL.fid() as u64, HC_IPA + slot * 0x100],
        )
    }
}

fn irq() -> RealmExit {
    RealmExit {
        class: ExitClass::Irq,
        esr: 0,
        far: 0,
        hpfar: 0,
    }
}

/// A payload "image": two pages of code, then the host-call structures `calls` at [`HC_IPA`].
fn image_with_calls(calls: &[[u64; 31]]) -> Vec<u8> {
    let mut image = vec![0u8; 3 * 4096];
    for (slot, g) in calls.iter().enumerate() {
        let at = HC_IPA as usize + slot * 0x100;
        RsiHostCall::new(0, *g)
            .encode(&mut image[at..at + 0x100])
            .expect("fits");
    }
    image
}

fn call(fid: u64, args: &[u64]) -> [u64; 31] {
    let mut g = [0u64; 31];
    g[0] = fid;
    g[1..=args.len()].copy_from_slice(args);
    g
}

fn fid(f: PsciFunction) -> u64 {
    f.spec_fid() as u64
}

#[test]
fn hostile_realm_scenario_passes_against_the_rmm() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut pool = Pool::new(POOL, POOL_SIZE);
    assert!(hostile::run(
        &mut rmi,
        &mut mem,
        &mut pool,
        QEMU_RMM_REGION.0,
        0x0E00_0000
    ));
}

#[test]
fn hostile_realm_scenario_fails_without_granules() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut pool = Pool::new(POOL, 4096);
    assert!(!hostile::run(
        &mut rmi,
        &mut mem,
        &mut pool,
        QEMU_RMM_REGION.0,
        0x0E00_0000
    ));
}

thread_local! {
    static CLOCK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// 10 ticks per read, per thread.
fn tick() -> u64 {
    CLOCK.with(|c| {
        c.set(c.get() + 10);
        c.get()
    })
}

#[test]
fn rmi_version_bench_times_each_call() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    assert_eq!(bench_rmi_version(&mut rmi, tick), (10, 10, 10));
}

#[test]
fn delegation_bench_times_each_pair_and_gives_the_granule_back() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    assert_eq!(bench_delegation(&mut rmi, POOL, tick), Some((10, 10, 10)));
    assert!(!sim.el3.is_realm(POOL), "undelegated at the end");
    // A granule the RMM refuses (its own region): no figure.
    assert_eq!(bench_delegation(&mut rmi, QEMU_RMM_REGION.0, tick), None);
}

#[test]
fn psci_scenario_needs_the_verdict_and_system_reset() {
    for (verdict, end, want) in [
        (0, PsciFunction::SYSTEM_RESET, true),
        (24, PsciFunction::SYSTEM_RESET, false),
        (0, PsciFunction::SYSTEM_OFF, false),
    ] {
        let sim = Sim::qemu();
        let mut rmi = RmiClient::new(SimHost(&sim));
        let mut mem = SimHost(&sim);
        let mut pool = Pool::new(POOL, POOL_SIZE);
        let image = image_with_calls(&[call(REPORT, &[verdict])]);
        sim.cpu.script(host_call(0));
        sim.cpu.script(move |r| smc(r, &[fid(end)]));
        assert_eq!(
            psci::run(&mut rmi, &mut mem, &mut pool, &image),
            want,
            "verdict {verdict}, {end:?}"
        );
        assert_eq!(sim.cpu.pending(), 0);
    }
}

/// The host's hardware for the payload scenario: FP/SIMD in a variable, no SVE, no timer,
/// files kept.
#[derive(Default)]
struct FakeHw {
    d0: u64,
    files: Vec<(String, Vec<u8>)>,
}

impl payload::Hardware for FakeHw {
    fn set_fp(&mut self, v: u64) {
        self.d0 = v;
    }
    fn fp(&mut self) -> u64 {
        self.d0
    }
    fn set_sve(&mut self, _: u64) -> Option<usize> {
        None
    }
    fn sve(&mut self, vl: usize) -> payload::HostSve {
        payload::HostSve {
            vl,
            z31: [0; 32],
            p15: [0; 32],
        }
    }
    fn attestation_challenge(&mut self) -> ([u8; 64], bool) {
        ([0x11; 64], true)
    }
    fn timer_enable(&mut self) -> bool {
        false
    }
    fn timer_disable(&mut self) {}
    fn clock(&self) -> fn() -> u64 {
        tick
    }
    fn take_interrupt(&self) -> fn() -> Option<u32> {
        || None
    }
    fn arm_for_token(&self) -> fn() {
        || {}
    }
    fn timer_latency(&self) -> u64 {
        0
    }
    fn write_file(&mut self, path: &CStr, data: &[&[u8]]) -> bool {
        let name = path.to_str().expect("utf-8").to_string();
        self.files.push((name, data.concat()));
        true
    }
}

#[test]
fn payload_scenario_runs_and_fails_without_a_token() {
    // The realm reports success and powers off, but hands over no attestation token: the
    // scenario runs to the end, restores nothing it should not, and fails.
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut pool = Pool::new(POOL, POOL_SIZE);
    let image = image_with_calls(&[call(REPORT, &[0])]);
    sim.cpu.script(host_call(0));
    sim.cpu.script(|r| smc(r, &[fid(PsciFunction::SYSTEM_OFF)]));
    let mut hw = FakeHw::default();
    assert!(!payload::run(
        &mut rmi, &mut mem, &mut pool, &image, &mut hw
    ));
    assert_eq!(sim.cpu.pending(), 0);
    assert_eq!(hw.d0, hostcall_abi::payload::HOST_FP_PATTERN);
    assert!(hw.files.is_empty(), "no token, nothing written");
}

#[test]
fn payload_scenario_fails_on_a_bad_image() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut pool = Pool::new(POOL, POOL_SIZE);
    let too_big = vec![0u8; 0x2_0000];
    assert!(!payload::run(
        &mut rmi,
        &mut mem,
        &mut pool,
        &too_big,
        &mut FakeHw::default()
    ));
}

#[test]
fn every_payload_call_has_a_story() {
    use hostcall_abi::payload::*;
    for nr in [
        ECHO,
        REPORT,
        BENCH,
        BENCH_RESULT,
        BENCH_FP_RESULT,
        INJECT_VIRQ,
        MEASUREMENTS,
        ADD,
        MUL,
        ATTEST_CHALLENGE,
        ATTEST_TOKEN,
    ] {
        assert_ne!(payload::hypercall_story(nr).0, "unknown", "{nr:#x}");
    }
    assert_eq!(payload::hypercall_story(DENIED_PROBE).0, "unknown");
}

#[test]
fn sve_registers_are_checked_over_the_vector_length() {
    use payload::{sve_unchanged, HostSve, P15_HALFWORDS};
    let v = 0x1234;
    let good = HostSve {
        vl: 32,
        z31: [v; 32],
        p15: [P15_HALFWORDS; 32],
    };
    assert!(sve_unchanged(None, v), "no SVE: nothing to check");
    assert!(sve_unchanged(Some(good), v));
    let mut beyond = good;
    beyond.z31[4] = 0;
    assert!(sve_unchanged(Some(beyond), v), "past VL 256 bits: not live");
    let mut changed = good;
    changed.z31[3] = 0;
    assert!(!sve_unchanged(Some(changed), v));
    let mut p = good;
    p.p15[0] = 0;
    assert!(!sve_unchanged(Some(p), v));
}

#[test]
fn measurements_are_compared_with_the_hosts_own() {
    // The RIM of a realm the host loaded, as the host computed it.
    let sim = Sim::qemu();
    let l = {
        let mut rmi = RmiClient::new(SimHost(&sim));
        let mut mem = SimHost(&sim);
        let mut h = crate::realm_build::Host::new(&mut rmi, &mut mem);
        let mut pool = Pool::new(POOL, POOL_SIZE);
        crate::realm_run::load(&mut h, &mut pool, &[0xAA; 100], 9).expect("load")
    };
    let rim = l.rim.value();
    let rem = rem_extend(l.rim.algo(), &Measurement::ZERO, &REM_EXTEND_VALUE).expect("fits");
    let words = |m: &Measurement| {
        core::array::from_fn::<u64, 8, _>(|i| {
            u64::from_le_bytes(m.0[8 * i..8 * i + 8].try_into().expect("8"))
        })
    };
    let mut p = PayloadReport::default();
    assert!(!payload::measurement_checks(&l.rim, &p), "nothing reported");
    p.measurements[0] = Some(words(&rim));
    assert!(!payload::measurement_checks(&l.rim, &p), "no REM");
    p.measurements[REM_EXTEND_INDEX as usize] = Some(words(&rem));
    assert!(payload::measurement_checks(&l.rim, &p));
    p.measurements[0] = Some(words(&rem));
    assert!(!payload::measurement_checks(&l.rim, &p), "a wrong RIM");
}

#[test]
fn attestation_handover_needs_a_complete_interrupted_token() {
    // A token collected by the VMM, its last piece saying one CONTINUE was interrupted.
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut pool = Pool::new(POOL, POOL_SIZE);
    let image = image_with_calls(&[
        call(hostcall_abi::payload::ATTEST_CHALLENGE, &[]),
        call(
            hostcall_abi::payload::ATTEST_TOKEN,
            &[0, 3, TOKEN_LAST | 1 << 8, 0x00C0_FFEE],
        ),
    ]);
    sim.cpu.script(host_call(0));
    sim.cpu.script(host_call(1));
    sim.cpu.script(|r| smc(r, &[fid(PsciFunction::SYSTEM_OFF)]));
    let start = vmm::PayloadStart {
        challenge: Some([7; 64]),
        ..vmm::PayloadStart::FULL
    };
    let run =
        vmm::run_payload(&mut rmi, &mut mem, &mut pool, &image, 2, 16, start).expect("payload");
    assert!(run.vmm.attestation().complete);
    let mut hw = FakeHw::default();
    assert!(payload::attestation_handover(&mut hw, &run, &[7; 64], true));
    assert_eq!(
        hw.files[0],
        ("realm-token.cbor".into(), vec![0xEE, 0xFF, 0xC0])
    );
    assert_eq!(hw.files[1].0, "host-measurements.bin");
    assert_eq!(hw.files[1].1.len(), 128);
    assert_eq!(hw.files[1].1[..64], run.loaded.rim.value().0);
}

/// The SMP scenario's host on one CPU: the timer is a no-op, an IRQ exit is the host's tick.
struct OneCpu;

impl smp::Hardware for OneCpu {
    fn mpidr(&self) -> u64 {
        0x8000_0000
    }
    fn offer_vcpu(&mut self, _: Vcpu) {
        unreachable!("one CPU")
    }
    fn wait_for_other(&mut self) -> Option<smp::SecondReport> {
        None
    }
    fn timer_enable(&mut self) -> bool {
        true
    }
    fn arm_timer_in(&mut self, _: u64) {}
    fn timer_disable(&mut self) {}
    fn take_interrupt(&self) -> fn() -> Option<u32> {
        || Some(26)
    }
}

#[test]
fn smp_scenario_time_slices_two_vcpus_on_one_cpu() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut pool = Pool::new(POOL, POOL_SIZE);
    let target = rec_index_to_mpidr_el1(1).expect("mpidr");
    let image = image_with_calls(&[
        call(SMP_HELLO, &[1 << 31 | target, SMP_CONTEXT]),
        call(REPORT, &[0]),
    ]);
    // Slice 1, vCPU 0: CPU_ON of REC 1, then the tick.
    sim.cpu
        .script(move |r| smc(r, &[fid(PsciFunction::CPU_ON), target, 0x1000, SMP_CONTEXT]));
    sim.cpu.script(|r| {
        assert_eq!(r.gprs[0], 0, "CPU_ON: SUCCESS");
        irq()
    });
    // Slice 2, vCPU 1: its hello, then CPU_OFF.
    sim.cpu.script(|r| {
        assert_eq!((r.pc, r.gprs[0]), (0x1000, SMP_CONTEXT));
        host_call(0)(r)
    });
    sim.cpu.script(|r| smc(r, &[fid(PsciFunction::CPU_OFF)]));
    // Slice 3, vCPU 0: the verdict, SYSTEM_OFF.
    sim.cpu.script(host_call(1));
    sim.cpu.script(|r| smc(r, &[fid(PsciFunction::SYSTEM_OFF)]));
    let vm = spin::Mutex::new(Vm::new(0, 0));
    assert!(smp::run(
        &mut rmi,
        &mut mem,
        &mut pool,
        &image,
        &vm,
        false,
        &mut OneCpu
    ));
    assert_eq!(sim.cpu.pending(), 0);
}

#[test]
fn smp_second_cpu_reports_an_unstarted_vcpu_as_off() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut vm = Vm::new(0x1000, 40);
    let mut v1 = Vcpu::create(&mut vm, 1).expect("vcpu");
    v1.finalize(&mut vm, 0x5000, 0x6000, false)
        .expect("finalize");
    let vm = spin::Mutex::new(vm);
    let mut link = crate::kvm::RmmLink::new(&mut rmi, &mut mem);
    let r = smp::serve_vcpu(&vm, v1, &mut link, 0x8000_0001, || true);
    assert_eq!(r.stop, Ok(crate::kvm::vmm::Stop::CpuOff));
    assert_eq!((r.host_mpidr, r.entries, r.hello), (0x8000_0001, 0, None));
    let _ = Vmm::new(40);
}

/// An other CPU that is never there.
struct Absent;

impl crate::isolation::OtherCpu for Absent {
    fn start_rec(&mut self, _: u64, _: u64) {}
    fn rec_returned(&mut self) -> Option<u64> {
        None
    }
    fn pause(&mut self) {}
}

#[test]
fn isolation_scenario_needs_a_second_cpu() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let w = isolation::Wiring {
        image: &[0; 100],
        slots: 1,
        race_slot: 1,
        pools: POOL,
        pool_size: 72 * 4096,
        ns_block: 0x6600_0000,
    };
    assert!(!isolation::run(&mut rmi, &mut mem, &mut Absent, &w));
}

#[test]
fn storm_secondary_without_the_go_does_nothing() {
    static STAGE: storm::Stage = storm::Stage::new(|| {}, || {});
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    storm::secondary(&mut rmi, &mut mem, &STAGE, 1);
    assert!(STAGE.reports[1].lock().is_none());
}

/// The guest console's sink in the tests: what the guest printed.
struct Printed(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl crate::pl011::ConsoleSink for Printed {
    fn put(&mut self, byte: u8) {
        self.0.lock().expect("lock").push(byte);
    }
}

/// A vCPU thread with no tick.
struct NoTick;

impl crate::linux::run::Host for NoTick {
    fn before_run(&mut self) {}
    fn console_input(&mut self) -> Option<u8> {
        None
    }
    fn idle(&mut self) {}
}

impl linux::Thread for NoTick {
    fn take_interrupt(&self) -> fn() -> Option<u32> {
        || None
    }
    fn stop_tick(&mut self) {}
}

/// The Linux scenario's primary with a counter of 10 ticks per read.
struct LinuxHost(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl linux::Hardware for LinuxHost {
    type Console = Printed;
    type Thread = NoTick;
    fn clock(&self) -> u64 {
        tick()
    }
    fn frequency(&self) -> u64 {
        1000
    }
    fn console(&mut self) -> Printed {
        Printed(self.0.clone())
    }
    fn timer_enable(&mut self) -> bool {
        true
    }
    fn timer_disable(&mut self) {}
    fn wake_others(&mut self) {}
    fn thread(&mut self) -> NoTick {
        NoTick
    }
    fn init_seen_at(&self) -> u64 {
        0
    }
}

/// An arm64 Image header: text_offset 0, `image_size` bytes, 4 KiB pages, LE, anywhere.
fn kernel_header(image_size: u64) -> [u8; 64] {
    let mut h = [0u8; 64];
    h[0..4].copy_from_slice(b"MZ@\xFA");
    h[16..24].copy_from_slice(&image_size.to_le_bytes());
    h[24..32].copy_from_slice(&0b1010u64.to_le_bytes());
    h[56..60].copy_from_slice(b"ARM\x64");
    h[60..64].copy_from_slice(&0x40u32.to_le_bytes());
    h
}

#[test]
fn linux_scenario_builds_runs_and_takes_the_guest_apart() {
    static STAGE: linux::Stage<Printed> = linux::Stage::new();
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    // An 8 KiB "kernel" where the runner leaves it; it powers off at once.
    let image = crate::linux::qemu::IMAGE;
    mem.write(image, &kernel_header(0x1_0000));
    sim.cpu.script(|r| {
        assert_eq!(r.pc, crate::linux::RAM_BASE, "the kernel's entry");
        smc(r, &[fid(PsciFunction::SYSTEM_OFF)])
    });
    let request =
        format!("image={image:#x}\nimage_len=8192\nvcpus=1\nmem_mib=64\nbootargs=quiet\n");
    let printed = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut hw = LinuxHost(printed.clone());
    assert!(linux::run(
        &mut rmi,
        &mut mem,
        &STAGE,
        request.as_bytes(),
        1,
        &mut hw
    ));
    assert_eq!(sim.cpu.pending(), 0);
    assert!(STAGE.started() && !STAGE.has_vcpus(0));
    assert_eq!(
        STAGE.guest.get().and_then(|g| g.outcome()),
        Some(crate::linux::run::Outcome::PoweredOff)
    );
}

#[test]
fn linux_scenario_refuses_a_bad_request() {
    static STAGE: linux::Stage<Printed> = linux::Stage::new();
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut hw = LinuxHost(Default::default());
    assert!(!linux::run(
        &mut rmi,
        &mut mem,
        &STAGE,
        b"colour=blue\n",
        1,
        &mut hw
    ));
    // A kernel without an Image header cannot be placed.
    let request = b"image=0x80000000\nimage_len=8192\nvcpus=1\nmem_mib=64\nbootargs=\n";
    assert!(!linux::run(&mut rmi, &mut mem, &STAGE, request, 1, &mut hw));
    assert!(!STAGE.started());
}

#[test]
fn outcomes_have_names() {
    use crate::linux::run::Outcome;
    assert_eq!(linux::outcome_name(&Outcome::PoweredOff), "SYSTEM_OFF");
    assert_eq!(linux::outcome_name(&Outcome::Reset), "SYSTEM_RESET");
}

#[test]
fn per_cpu_checks_pass_against_the_rmm_and_fail_on_a_delegable_address() {
    use crate::delegation::QEMU_NOT_DELEGABLE;
    let pages = [0x6100_0000, 0x6100_1000];
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    assert!(cpu::run(&mut rmi, &mut mem, 0, &pages, &QEMU_NOT_DELEGABLE));
    // An address the RMM delegates when the host claims it must not.
    assert!(!cpu::run(&mut rmi, &mut mem, 1, &pages, &[0x6200_0000]));
}

#[test]
fn a_challenge_from_the_counter_is_splitmix64() {
    let c = payload::challenge_from_seed(0);
    // splitmix64's first output for seed 0.
    assert_eq!(c[..8], 0xE220_A839_7B1D_CDAFu64.to_le_bytes());
    assert_ne!(c, payload::challenge_from_seed(1));
    assert_ne!(c[..32], c[32..]);
}

#[test]
fn the_token_timer_fires_at_2ms_then_at_two_fifths_of_a_missed_request() {
    use payload::{token_timer_delay_us, TOKEN_TIMER_DELAY_US};
    assert_eq!(token_timer_delay_us(5_000, 0, 62), TOKEN_TIMER_DELAY_US);
    assert_eq!(token_timer_delay_us(62_000 + 62_000, 62_000, 62), 400);
    assert_eq!(
        token_timer_delay_us(1, 2, 62),
        TOKEN_TIMER_DELAY_US,
        "a counter going back"
    );
    assert_eq!(
        token_timer_delay_us(10, 5, 0),
        TOKEN_TIMER_DELAY_US,
        "no frequency"
    );
}

#[test]
fn init_is_seen_once_per_marker_in_the_console_output() {
    let mut w = linux::InitWatch::new();
    let seen = |w: &mut linux::InitWatch, s: &[u8]| s.iter().filter(|&&b| w.feed(b)).count();
    assert_eq!(seen(&mut w, b"[ 1.0] booting\nrmm-guest: init start"), 0);
    assert_eq!(seen(&mut w, b"ed: 7.3.4 1.08s after boot\n"), 1);
    assert_eq!(
        seen(&mut w, b"rrmm-guest: init started rmm-guest: init started"),
        2
    );
}
