//! `cargo xtask`: everything a fresh machine needs, in one place.
//!
//! - `setup`: installs what is missing (Rust targets, QEMU 10, the aarch64 cross toolchain, TF-A
//!   2.12.1 source and its BL1/BL2/BL31 build). Idempotent: each step checks first.
//! - `build [--board qemu|fvp]`: builds the RMM and host-stub images and packs them with TF-A into
//!   `target/images/` (`rmm.elf`, `rmm.bin`, `host-stub.elf`, `host-stub.bin`, `qemu_fw.bios`).
//! - `run [--cpus N]`: setup + build, then boots the stack under QEMU and tells what happened,
//!   ending with a Linux realm guest.
//! - `run linux [--kernel FILE] [--initrd FILE] [--append "..."] [--vcpus N] [--mem MIB]
//!   [--cpus N] [--shell]`: a Linux kernel as a realm guest (`linux`).
//! - `test`: setup + build, the lint gates (`lint`), then the host tests, the fuzz smoke and the
//!   QEMU tests.
//! - `lint`: setup + build, then fmt, clippy (host and aarch64 images) and rustdoc, warnings as
//!   errors.
//! - `setup-guest [--refresh]`: fetches the Linux realm guest (Debian arm64 kernel, modules,
//!   busybox) into `target/linux/<release>/` and builds its initramfs (see `guest`). Separate from
//!   `setup`: the first run downloads about 100 MB.
//! - `guest-vm [--cpus N] [--mem MiB] [--shell] [-- QEMU ARGS]`: boots that guest as a plain
//!   (non-realm) VM under QEMU TCG and checks what `/init` reports.
//! - `fuzz [--target NAME] [--time SECONDS] [--smoke]`: coverage-guided fuzzing of the RMM on the
//!   simulated platform (libFuzzer, `fuzz/`); `test` runs a short smoke of each target.
//!
//! It owns the build and packaging steps; what is checked in QEMU belongs to `tests-qemu`.

mod bench;
mod cpio;
mod elf;
mod fuzz;
mod guest;
mod guest_vm;
mod images;
mod lint;
mod linux;
mod modgraph;
mod setup;
mod tfa;
mod trace;

use std::process::ExitCode;
use std::time::Duration;

use tests_qemu::{Images, RunConfig};

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask <setup | build [--board qemu|fvp] | run [--cpus N] | run linux [...]\n\
         \x20                   | test | lint | bench\n\
         \x20                   | setup-guest [--refresh] | guest-vm [--cpus N] [--mem MiB] [--shell]\n\
         \x20                   | fuzz [--target NAME] [--time SECONDS] [--smoke]>\n\
         \n  setup   install what is missing (rust targets, QEMU 10, cross gcc, TF-A 2.12.1)\
         \n  build   build the images into target/images/ (FVP images into target/images/fvp/)\
         \n  run     boot TF-A -> RMM -> host stub under QEMU and show the story (default 4 CPUs),\
         \n          then a Linux realm guest\
         \n  run linux [--kernel FILE] [--initrd FILE] [--append \"...\"] [--vcpus N] [--mem MIB]\
         \n          [--cpus N] [--shell]   boot a Linux kernel as a realm (defaults: the Debian\
         \n          kernel and our initramfs from setup-guest, 2 vCPUs, 256 MiB, 4 host CPUs)\
         \n  test    lint, host tests, fuzz smoke, then the QEMU tests\
         \n  lint    fmt --check, clippy -D warnings (host and aarch64 images), cargo doc -D warnings\
         \n  bench   measured figures (granule tracking cost)\
         \n  setup-guest  fetch the Linux realm guest (arm64 kernel, modules, busybox; ~100 MB once)\
         \n               into target/linux/<release>/ and build its initramfs\
         \n  guest-vm     boot that guest as a plain (non-realm) VM under QEMU TCG and check /init\
         \n  fuzz    libFuzzer on the simulated RMM: each target (rmi_sequence, realm_side,\
         \n          boot_args) or --target NAME, for --time SECONDS each (default 600);\
         \n          --smoke: the short run `test` makes"
    );
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    if let Some(code) = fuzz::rustc_wrapper() {
        return code;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run(),
        Some("build") => build(&args[1..]),
        Some("run") => run(&args[1..]),
        Some("test") => test(),
        Some("lint") => lint(),
        Some("bench") => bench(),
        Some("setup-guest") => guest::setup(args[1..].iter().any(|a| a == "--refresh")).map(|g| {
            println!(
                "xtask: guest {}: kernel {}, initramfs {}",
                g.release,
                g.image.display(),
                g.initramfs.display()
            )
        }),
        Some("guest-vm") => guest_vm::run(&args[1..]),
        Some("fuzz") => fuzz(&args[1..]),
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Value after `flag` in `args`, if present.
fn flag_value<'a>(args: &'a [String], flag: &str) -> Result<Option<&'a str>, String> {
    match args.iter().position(|a| a == flag) {
        None => Ok(None),
        Some(i) => args
            .get(i + 1)
            .map(|s| Some(s.as_str()))
            .ok_or(format!("{flag} needs a value")),
    }
}

fn build(args: &[String]) -> Result<(), String> {
    setup::run()?;
    match flag_value(args, "--board")?.unwrap_or("qemu") {
        "qemu" => images::build_qemu().map(|_| ()),
        "fvp" => images::build_fvp_images(),
        other => Err(format!("unknown board {other:?} (qemu or fvp)")),
    }
}

fn run(args: &[String]) -> Result<(), String> {
    if args.first().map(String::as_str) == Some("linux") {
        setup::run()?;
        images::build_qemu()?;
        let images = Images::locate()?;
        return linux::run(&args[1..], &images);
    }
    let cpus: u32 = match flag_value(args, "--cpus")? {
        Some(n) => n
            .parse()
            .map_err(|_| format!("--cpus {n:?} is not a number"))?,
        None => 4,
    };
    if !(1..=4).contains(&cpus) {
        return Err("--cpus must be 1..=4 (QEMU virt with GICv3 here)".into());
    }
    setup::run()?;
    images::build_qemu()?;
    let images = Images::locate()?;
    // The demo is the realm's relying party too: it picks the challenge and checks the token.
    let challenge = cca_verifier::relying_party::fresh_challenge()
        .map_err(|e| format!("no random challenge: {e}"))?;
    let cfg = RunConfig::new("demo", cpus)
        .with_timeout(Duration::from_secs(120))
        .with_input_file(
            cca_verifier::relying_party::CHALLENGE_FILE,
            challenge.to_vec(),
        );
    println!(
        "xtask: booting TF-A -> RMM (R-EL2) -> host stub (NS-EL2) on {cpus} CPU(s) under QEMU"
    );
    let outcome = tests_qemu::run(&images, &cfg);
    println!(
        "--- UART (TF-A's console and the RMM's banner) ---\n{}",
        outcome.uart.trim_end()
    );
    println!("--- defmt logs, RMM and host stub merged by system-counter time ---");
    outcome.print_story();
    let attestation = cca_verifier::relying_party::appraise(&outcome.run_dir, &challenge);
    match &attestation {
        Ok(a) => println!("xtask: {}", a.summary()),
        Err(e) => println!("xtask: attestation: the realm's token was NOT accepted: {e}"),
    }
    if !(outcome.passed() && attestation.is_ok()) {
        return Err(format!("the demo did not pass:\n{}", outcome.report()));
    }
    println!("xtask: the host stub's verdict is PASS");
    linux::demo(&images, cpus)?;
    println!("xtask: demo finished");
    Ok(())
}

fn bench() -> Result<(), String> {
    setup::run()?;
    images::build_qemu()?;
    bench::run()?;
    linux::bench(&Images::locate()?)
}

fn fuzz(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--smoke") {
        return fuzz::smoke();
    }
    let seconds = match flag_value(args, "--time")? {
        Some(s) => s
            .parse()
            .map_err(|_| format!("--time {s:?} is not a number of seconds"))?,
        None => 600,
    };
    fuzz::run(flag_value(args, "--target")?, seconds)
}

fn lint() -> Result<(), String> {
    setup::run()?;
    images::build_qemu()?;
    lint::run()
}

fn test() -> Result<(), String> {
    setup::run()?;
    images::build_qemu()?;
    lint::run()?;
    println!("xtask: host tests (cargo test --workspace)");
    setup::cargo(&["test", "--workspace", "--exclude", "tests-qemu"])?;
    println!("xtask: fuzz smoke (each target from its committed corpus, fixed seed and runs)");
    fuzz::smoke()?;
    println!("xtask: QEMU tests (cargo test -p tests-qemu)");
    setup::cargo(&["test", "-p", "tests-qemu", "--", "--test-threads=1"])?;
    println!("xtask: Linux realm tests (the Debian kernel and our initramfs, setup-guest)");
    linux::qemu_tests(&Images::locate()?)
}
