//! `cargo xtask fuzz`: coverage-guided fuzzing of the RMM on the simulated platform with
//! libFuzzer, on the stable toolchain.
//!
//! libFuzzer comes from the `libfuzzer-sys` crate (crates.io), which compiles it from source with
//! the C++ compiler (Debian's `g++`, installed here if missing). The targets in `fuzz/` are built
//! with rustc's stable SanitizerCoverage pass (`-Cpasses=sancov-module` and its `-Cllvm-args`,
//! the flags cargo-fuzz passes for `--sanitizer none`) for the host triple, so the build scripts
//! stay uninstrumented. Nothing else is installed: no cargo-fuzz, no nightly.
//!
//! - `cargo xtask fuzz [--target NAME] [--time SECONDS]`: fuzzes each target (or one) for
//!   SECONDS (default 600), growing the working corpus `fuzz/target/corpus/NAME` from the
//!   committed seeds `fuzz/corpus/NAME`; a crash leaves its input in `fuzz/artifacts/NAME/`.
//! - [`smoke`] (in `cargo xtask test`, or `cargo xtask fuzz --smoke`): each target from a fresh
//!   copy of its committed corpus, with a fixed seed and a fixed number of runs: exits 0 when
//!   nothing crashes, fails on any crash.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::setup::{have, output, sh};

/// The targets, with the runs of their smoke (about a minute each on this kind of machine).
pub const TARGETS: [(&str, u64); 3] = [
    ("rmi_sequence", 20_000),
    ("realm_side", 150_000),
    ("boot_args", 20_000_000),
];

/// rustc flags for libFuzzer's coverage feedback: 8-bit edge counters, the PC table, and
/// comparison tracing (the values compared become mutation hints).
const SANCOV: [&str; 6] = [
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "--cfg=fuzzing",
];

fn fuzz_dir() -> PathBuf {
    tests_qemu::workspace_root().join("fuzz")
}

fn host_triple() -> Result<String, String> {
    output(Command::new("rustc").arg("-vV"))
        .and_then(|v| {
            v.lines()
                .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        })
        .ok_or("cannot read the host triple from `rustc -vV`".into())
}

/// The C++ compiler libfuzzer-sys builds libFuzzer with.
fn install() -> Result<(), String> {
    if have("c++") {
        return Ok(());
    }
    println!("fuzz: installing g++ (libfuzzer-sys compiles libFuzzer from source)");
    sh(Command::new("apt-get").args(["update", "-q"]))?;
    sh(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends", "g++"])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Builds every target with coverage instrumentation; returns the directory of the binaries.
pub fn build() -> Result<PathBuf, String> {
    install()?;
    let triple = host_triple()?;
    let dir = fuzz_dir();
    println!("fuzz: building the targets in {} ({triple})", dir.display());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    sh(Command::new(cargo)
        .args(["build", "--release", "--bins", "--target", &triple])
        .env("RUSTFLAGS", SANCOV.join(" "))
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .current_dir(&dir))?;
    Ok(dir.join("target").join(triple).join("release"))
}

/// Runs one target's binary: `corpus` first (where new inputs go), then the committed seeds.
fn run_target(bin: &Path, name: &str, corpus: &Path, extra: &[String]) -> Result<(), String> {
    let dir = fuzz_dir();
    let artifacts = dir.join("artifacts").join(name);
    std::fs::create_dir_all(corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    std::fs::create_dir_all(&artifacts).map_err(|e| format!("{}: {e}", artifacts.display()))?;
    let mut cmd = Command::new(bin.join(name));
    cmd.arg(corpus)
        .arg(dir.join("corpus").join(name))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-print_final_stats=1")
        .args(extra);
    let dict = dir.join(format!("{name}.dict"));
    if dict.exists() {
        cmd.arg(format!("-dict={}", dict.display()));
    }
    sh(&mut cmd).map_err(|e| {
        format!(
            "fuzz target {name} failed (a crash, a leak past the RSS limit or a timeout); the \
             input is in {}: {e}",
            artifacts.display()
        )
    })
}

/// `cargo xtask fuzz [--target NAME] [--time SECONDS]`.
pub fn run(target: Option<&str>, seconds: u64) -> Result<(), String> {
    let names: Vec<&str> = match target {
        Some(t) if TARGETS.iter().any(|(n, _)| *n == t) => vec![t],
        Some(t) => return Err(format!("unknown fuzz target {t:?} (one of {TARGETS:?})")),
        None => TARGETS.iter().map(|(n, _)| *n).collect(),
    };
    let bin = build()?;
    for name in names {
        println!("fuzz: {name} for {seconds} s");
        let corpus = fuzz_dir().join("target").join("corpus").join(name);
        run_target(&bin, name, &corpus, &[format!("-max_total_time={seconds}")])?;
    }
    Ok(())
}

/// A short run of every target: a fixed seed, a fixed number of runs, from a fresh copy of
/// nothing but the committed corpus (which holds the reproducers of past findings). Passes when
/// no input crashes. (Not bit-for-bit repeatable: libFuzzer's schedule weighs execution times.)
pub fn smoke() -> Result<(), String> {
    let bin = build()?;
    for (name, runs) in TARGETS {
        println!("fuzz: smoke of {name}: {runs} runs, seed 1");
        let corpus = fuzz_dir().join("target").join("smoke").join(name);
        if corpus.exists() {
            std::fs::remove_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        }
        let extra = [
            "-seed=1".to_string(),
            format!("-runs={runs}"),
            // A bound for a machine much slower than expected; not reached normally.
            "-max_total_time=600".to_string(),
        ];
        run_target(&bin, name, &corpus, &extra)?;
    }
    Ok(())
}
