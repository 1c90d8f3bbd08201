//! The whole stack under QEMU: TF-A boots the RMM at R-EL2 on the primary CPU (cold boot), enters
//! the host stub at NS-EL2, which powers on every other CPU through PSCI CPU_ON (the RMM
//! warm-boots on each) and has every CPU negotiate RMI 1.0, read RMI_FEATURES, check that
//! unused RMI function IDs get SMC_UNKNOWN without stopping the RMM, and delegate and undelegate
//! granules of its own (concurrently with the other CPUs), with every refusal the RMM owes.

use cca_verifier::relying_party::{self, CHALLENGE_FILE};
use tests_qemu::{run, Images, RunConfig, RunOutcome, Source};

/// Boots on `cpus` CPUs, with a fresh attestation challenge for the realm; returns the outcome
/// and the challenge.
fn boot(cpus: u32) -> (RunOutcome, [u8; 64]) {
    let images = Images::locate().unwrap_or_else(|e| panic!("{e}"));
    let challenge = relying_party::fresh_challenge().expect("a random challenge");
    let cfg = RunConfig::new(format!("boot-{cpus}cpu"), cpus)
        .with_input_file(CHALLENGE_FILE, challenge.to_vec());
    let outcome = run(&images, &cfg);
    outcome.expect_pass();
    (outcome, challenge)
}

/// The realm's attestation token, as the host stub handed it out, verifies with the independent
/// verifier: the chain of trust from TF-A's QEMU sample CPAK through the platform token's binding
/// to the realm key's signature, our challenge, and the host's own RIM and REM\[1\]. The same
/// token with one byte flipped (in the platform token, in the realm claims, in the realm
/// signature) does not.
fn check_attestation(o: &RunOutcome, challenge: &[u8; 64]) {
    expect_count(o, Source::Rmm, "attestation: realm attestation key from EL3 (P-384, H(RAK_pub) 0d22e08a98469058..), platform token of 1518 bytes", 1);
    expect_count(o, Source::Host, "from the runner's challenge.bin", 1);
    let a = relying_party::appraise(&o.run_dir, challenge)
        .unwrap_or_else(|e| panic!("{e}\n{}", o.report()));
    let token = &a.token;
    let platform_len = 1518;
    for (what, at) in [
        ("platform token", 100),
        ("realm claims", platform_len + 200),
        ("realm signature", token.len() - 10),
    ] {
        let mut bad = token.clone();
        bad[at] ^= 0x01;
        assert!(
            cca_verifier::verify(&bad, &cca_verifier::qemu_sample_cpak()).is_err(),
            "a flipped byte in the {what} (offset {at}) still verifies"
        );
    }
}

/// Asserts `needle` appears exactly `n` times in `source`'s lines, with the report on failure.
fn expect_count(o: &RunOutcome, source: Source, needle: &str, n: usize) {
    let got = o.count(source, needle);
    assert_eq!(
        got,
        n,
        "{source:?} line {needle:?}: {got} times, expected {n}\n{}",
        o.report()
    );
}

/// The number between `prefix` and `suffix` in the one host line that has them around a number.
fn number_between(o: &RunOutcome, prefix: &str, suffix: &str) -> usize {
    let found: Vec<usize> = o
        .host_lines()
        .filter_map(|l| {
            let rest = &l[l.find(prefix)? + prefix.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let n = digits.parse().ok()?;
            rest[digits.len()..].starts_with(suffix).then_some(n)
        })
        .collect();
    match found.as_slice() {
        [n] => *n,
        _ => panic!("{prefix:?} followed by a number: {found:?}\n{}", o.report()),
    }
}

/// The RMM's stacks, painted at cold boot, reported how deep they went (at the end of cold boot,
/// then after each REALM_DESTROY that found them deeper): the deepest use must leave an eighth
/// of a stack unused, before an overflow faults on the guard page.
fn check_rmm_stacks(o: &RunOutcome) {
    let prefix = "stack: deepest use so far ";
    let reports: Vec<(usize, usize)> = o
        .rmm_lines()
        .filter_map(|l| {
            let rest = &l[l.find(prefix)? + prefix.len()..];
            let mut nums = rest
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<usize>().ok());
            Some((nums.next()??, nums.next()??))
        })
        .collect();
    let Some(&(deepest, usable)) = reports.iter().max() else {
        panic!("the RMM did not report its stack use\n{}", o.report());
    };
    assert!(
        deepest <= usable - usable / 8,
        "the RMM's deepest stack use, {deepest} of {usable} bytes, leaves less than an eighth\n{}",
        o.report()
    );
}

fn check_every_cpu(o: &RunOutcome, cpus: u32) {
    expect_count(o, Source::Host, "verdict: PASS", 1);
    // The images' own memcpy/memset, checked in place against byte-by-byte copies: 16
    // destination and 16 source offsets, 30 lengths up to 511, each function.
    expect_count(
        o,
        Source::Host,
        "memcpy/memset: 15360 aligned and unaligned cases match byte-by-byte copies",
        1,
    );
    expect_count(
        o,
        Source::Host,
        &format!("{cpus} of {cpus} CPU(s) booted the RMM and got RMI 1.0"),
        1,
    );
    // Every host CPU's stack stayed within bounds, with headroom (the image paints them).
    for cpu in 0..cpus {
        expect_count(o, Source::Host, &format!("cpu {cpu}: stack use "), 1);
    }
    // The RMM booted exactly once cold (CPU 0) and once warm on every other CPU.
    expect_count(o, Source::Rmm, "cold boot: RMM-EL3 interface 0.4", 1);
    expect_count(o, Source::Rmm, "cpu 0: cold boot", 1);
    expect_count(o, Source::Rmm, "warm boot", cpus as usize - 1);
    for cpu in 1..cpus {
        expect_count(o, Source::Rmm, &format!("cpu {cpu}: warm boot"), 1);
    }
    expect_count(o, Source::Rmm, "failed", 0);
    // The RMM carved a stack for each CPU EL3 names (TF-A's QEMU platform names 32, whatever
    // QEMU's -smp) and its translation tables from its carve-out, and its stacks kept headroom.
    expect_count(o, Source::Rmm, "memory: 32 CPUs x ", 1);
    check_rmm_stacks(o);
    // 3 GiB of NS DRAM in the manifest: one 2-byte word per 4 KiB granule.
    expect_count(
        o,
        Source::Rmm,
        "granule tracking: 786432 granules, 2 bytes each, 1536 KiB",
        1,
    );
    for cpu in 0..cpus {
        let v = format!("cpu {cpu}: RMI_VERSION(1.0) -> RMI_SUCCESS, lower 1.0, higher 1.0");
        expect_count(o, Source::Host, &v, 1);
        let r = format!("cpu {cpu}: RMI_VERSION(2.0) -> RMI_ERROR_INPUT, lower 1.0, higher 1.0");
        expect_count(o, Source::Host, &r, 1);
        let f = format!("cpu {cpu}: RMI_FEATURES(0) -> RMI_SUCCESS");
        expect_count(o, Source::Host, &f, 1);
        let u = format!(
            "cpu {cpu}: 4 unused RMI FIDs -> SMC_UNKNOWN; RMI_VERSION after them -> RMI_SUCCESS"
        );
        expect_count(o, Source::Host, &u, 1);
        let d = format!(
            "cpu {cpu}: GRANULE_DELEGATE/UNDELEGATE of 4 granules, contents wiped; 21 refusals as expected"
        );
        expect_count(o, Source::Host, &d, 1);
        expect_count(o, Source::Host, &format!("cpu {cpu}: RMI checks passed"), 1);
    }
    // The realm scenario on the primary CPU: built, attacked, torn down.
    expect_count(o, Source::Host, "realm: created RD", 1);
    expect_count(
        o,
        Source::Host,
        "hostile calls refused, the realm intact",
        1,
    );
    expect_count(
        o,
        Source::Host,
        "realm: destroyed, 19 granules undelegated",
        1,
    );
    expect_count(o, Source::Host, "read back entry by entry, activated", 1);
    expect_count(
        o,
        Source::Host,
        "realm: 30 hostile calls refused, the realm intact",
        1,
    );
    expect_count(o, Source::Host, "realm scenario failed", 0);
    // A realm really ran at R-EL1: its host calls reached the VMM intact, its own checks passed
    // (RSI, FP/SIMD, RIPAS changes, the host-call retry), the host's FP/SIMD and SVE state
    // survived, and it powered off.
    for line in [
        "ECHO arguments and imm intact at the VMM: true",
        "the host's FP/SIMD registers came back unchanged",
        "the host's SVE registers (Z31 above 128 bits, P15) came back unchanged, VL ",
        "2 RIPAS change(s) applied or refused by the VMM, 1 page(s) mapped on the realm's faults",
        "realm payload: the realm's own checks passed (RSI_VERSION, host-call results, a denied, \
         two in-kernel and two VMM-computed host calls, FP/SIMD, \
         host-call address checks, REALM_CONFIG, IPA_STATE_GET/SET accepted and rejected, \
         host-call retry, MEASUREMENT_READ/EXTEND, attestation token in TOKEN_PIECE chunks \
         within INIT's bound)",
        "realm payload: SYSTEM_OFF, realm destroyed, every granule undelegated",
        "kvm: the realm's UART (KVM_EXIT_MMIO): hello from the realm, through the VMM's emulated UART",
        "realm PSCI: VERSION 1.1, FEATURES, MIGRATE not supported, CPU_ON with a bad entry / \
         unknown MPIDR / itself, AFFINITY_INFO of itself and at level 1, CPU_SUSPEND: all \
         answered by the RMM as the spec says",
        "realm PSCI: SYSTEM_RESET reached the VMM as KVM_EXIT_SYSTEM_EVENT reset; realm destroyed",
    ] {
        expect_count(o, Source::Host, line, 1);
    }
    // The realm read its measurements and they are what the host computed on its own: the RIM
    // from the commands that built the realm, REM 1 from the value the realm extended it with.
    for line in [
        "measurement: the realm's RIM ",
        "matches the host's own computation (SHA-256, ",
        "measurement: REM[1] after RSI_MEASUREMENT_EXTEND matches the host's computation",
    ] {
        expect_count(o, Source::Host, line, 1);
    }
    expect_count(o, Source::Host, "measurement: ", 2);
    // ... and it ran under the KVM model: host calls as KVM_EXIT_HYPERCALL served through
    // ONE_REG, RIPAS changes as KVM_EXIT_MEMORY_FAULT (one accepted, one refused), the fault on
    // unassigned RAM resolved in the kernel, SYSTEM_OFF as a system event.
    for line in [
        "kvm: KVM_EXIT_HYPERCALL nr 0xc6000001 (ECHO), 1 time(s): x1..x30 read with \
         KVM_GET_ONE_REG, answered with KVM_SET_ONE_REG",
        "kvm: KVM_EXIT_HYPERCALL nr 0xc6000003 (BENCH), 256 time(s)",
        "kvm: KVM_EXIT_HYPERCALL nr 0xc6000009 (BENCH_FP_RESULT), 1 time(s)",
        "kvm: KVM_EXIT_HYPERCALL nr 0xc6000005 (MEASUREMENTS), 2 time(s): the measurement in x1..x8 \
         and its index in x9 read with KVM_GET_ONE_REG",
        "kvm: KVM_EXIT_MEMORY_FAULT gpa 0x10000 size 0x1000 to private: the VMM accepts",
        "kvm: KVM_EXIT_MEMORY_FAULT gpa 0x11000 size 0x1000 to private: the VMM refuses",
        "kvm: stage-2 fault at IPA 0x10000 (RIPAS RAM, unassigned) resolved in the kernel",
        "kvm: KVM_EXIT_SYSTEM_EVENT shutdown (PSCI SYSTEM_OFF)",
        // Virtual interrupts taken at the realm's vector: its timer's (27, injected when the
        // timer started firing) and one the VMM injected at the realm's request (42).
        "kvm: KVM_EXIT_HYPERCALL nr 0xc6000012 (INJECT_VIRQ), 1 time(s)",
        "kvm: 2 virtual interrupt(s) injected through rec_enter.gicv3_lrs[0], 2 taken and ended \
         by the realm (the list register came back inactive in rec_exit)",
        // The realm's ICC_SGI1R_EL1 write (INTID 1 to itself), handed to the host to emulate.
        "kvm: 1 exit(s) for a GIC register write the host emulates (an SGI the realm sent with \
         ICC_SGI1R_EL1), the last writing 0x1000001",
        "attestation: the realm's token (2124 bytes",
        "attestation: the host's timer (INTID 26) fired while the RMM was making the token: ",
    ] {
        expect_count(o, Source::Host, line, 1);
    }
    // The realm requests tokens until one is interrupted mid-token by the host's timer (the
    // first, unless the machine stalled QEMU for milliseconds); each request is one challenge
    // and 2,124 bytes (1,518 of platform token) in 216-byte CONTINUE chunks, one host call each.
    let requests = number_between(o, "token request ", " of at most 4");
    assert!((1..=4).contains(&requests), "{}", o.report());
    let challenge =
        format!("kvm: KVM_EXIT_HYPERCALL nr 0xc6000006 (ATTEST_CHALLENGE), {requests} time(s)");
    expect_count(o, Source::Host, &challenge, 1);
    let pieces = format!(
        "kvm: KVM_EXIT_HYPERCALL nr 0xc6000007 (ATTEST_TOKEN), {} time(s)",
        10 * requests
    );
    expect_count(o, Source::Host, &pieces, 1);
    for line in [
        "kvm: KVM_EXIT_HYPERCALL nr 0xc6000010 (ADD), 2 time(s)",
        "kvm: KVM_EXIT_HYPERCALL nr 0xc6000011 (MUL), 1 time(s)",
        // The BENCH_MINIMAL calls never reach the KVM model (the minimal host answers them in
        // its entry loop); their result does.
        "kvm: KVM_EXIT_HYPERCALL nr 0xc6000014 (BENCH_MINIMAL_RESULT), 1 time(s)",
        // The denied probe and SMCCC_VERSION / ARCH_FEATURES never leave the kernel; the NOP host
        // call of the unassigned-page retry (x0 = 0) is answered there too.
        "host calls: ",
        "forwarded, 3 answered in the kernel (",
        "), 1 denied;",
    ] {
        expect_count(o, Source::Host, line, 1);
    }
    expect_count(o, Source::Host, "kvm: KVM_EXIT_HYPERCALL", 12);
    // Every IRQ exit was either the host's own timer interrupt, taken at the GIC after the exit,
    // or news of the realm's own virtual timer: it fired (and the realm ran on, the RMM masking
    // it), and the realm stopped it.
    let exits = number_between(o, "kvm: ", " IRQ/FIQ exit(s)");
    let fired = number_between(
        o,
        "kvm: IRQ exits for the realm's own timer: ",
        " with rec_exit",
    );
    let stopped = number_between(o, "and the realm ran on), ", " showing it stopped");
    assert_eq!((fired, stopped), (1, 1));
    let host = exits - fired - stopped;
    assert!(host >= 1);
    let irq = format!(
        "kvm: {exits} IRQ/FIQ exit(s), after which the host took {host} interrupt(s) of its own \
         at the GIC (last INTID 26) and re-entered"
    );
    expect_count(o, Source::Host, &irq, 1);
    assert!(
        o.uart.contains("RMM: cold boot on CPU 0, RMI 1.0"),
        "the RMM's console banner is missing from the UART\n{}",
        o.report()
    );
}

#[test]
fn boot_1_cpu() {
    let (o, challenge) = boot(1);
    check_every_cpu(&o, 1);
    check_attestation(&o, &challenge);
    check_smp(&o, 1);
}

/// The realm with two RECs: REC 0 starts REC 1 with PSCI CPU_ON, and REC 1 runs as vCPU 1 on
/// another physical CPU of the host, concurrently with REC 0 on the primary; with one CPU,
/// both vCPUs share it in time slices the host's timer ends.
fn check_smp(o: &RunOutcome, cpus: u32) {
    let placement = if cpus > 1 {
        "realm SMP: vCPU 1 (REC 1) ran on physical CPU MPIDR 0x1 while vCPU 0 (REC 0) ran on 0x0: "
    } else {
        "realm SMP: vCPU 1 (REC 1) shared this one CPU with vCPU 0 (REC 0), "
    };
    for line in [
        placement,
        "its SMP_HELLO reported MPIDR 0x80000001 and the CPU_ON context 0x5ec0da7a00000c01; it \
         stopped with Ok(CpuOff)",
        "realm SMP: PSCI CPU_ON of REC 1 serviced with a single RMI_PSCI_COMPLETE (",
        "AFFINITY_INFO ON, REC 1's report through shared realm memory, its CPU_OFF, \
         AFFINITY_INFO OFF: the realm's checks passed; SYSTEM_OFF after ",
    ] {
        expect_count(o, Source::Host, line, 1);
    }
}

#[test]
fn boot_4_cpus() {
    let (o, challenge) = boot(4);
    check_every_cpu(&o, 4);
    check_attestation(&o, &challenge);
    check_smp(&o, 4);
    // All four CPUs report the same feature register.
    let features: Vec<&str> = o
        .host_lines()
        .filter_map(|l| {
            l.split_once("RMI_FEATURES(0) -> RMI_SUCCESS, ")
                .map(|(_, f)| f)
        })
        .collect();
    assert_eq!(features.len(), 4, "{}", o.report());
    assert!(features.iter().all(|f| *f == features[0]), "{features:?}");
}
