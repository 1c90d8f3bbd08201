//! `cargo xtask fuzz`: coverage-guided fuzzing of the RMM on the simulated platform with
//! libFuzzer, on the stable toolchain.
//!
//! libFuzzer comes from the `libfuzzer-sys` crate (crates.io), which compiles it from source with
//! the C++ compiler (Debian's `g++`, installed here if missing). The targets in `fuzz/` are built
//! for the host triple (so that build scripts stay apart) with `--cfg=fuzzing`, and only the code
//! under test, the crates in [`INSTRUMENTED`] (`rmm` and `hostcall-abi`), with rustc's stable
//! SanitizerCoverage pass ([`SANCOV`]: `-Cpasses=sancov-module` and its `-Cllvm-args`, the flags
//! cargo-fuzz passes for `--sanitizer none`). Cargo has no per-crate RUSTFLAGS on stable, so the
//! build runs this xtask binary itself as `RUSTC_WRAPPER` ([`rustc_wrapper`]): it adds [`SANCOV`]
//! to the compilations of those crates for the host triple and runs rustc unchanged otherwise.
//! The fuzz targets, the RMI model and its harness, libFuzzer's glue and the other dependencies
//! (`sha2`, `p384`, `heapless`, ...) stay uninstrumented: their coverage and comparisons only
//! cost time (they were about half of the callbacks). Nothing else is installed: no
//! cargo-fuzz, no nightly.
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

/// rustc flags for libFuzzer's coverage feedback: 8-bit edge counters, indirect calls and the PC
/// table. Only for [`INSTRUMENTED`]. No comparison tracing (`-sanitizer-coverage-trace-compares`,
/// the values compared as mutation hints): it doubled `rmi_sequence`'s time, and that target's
/// input bytes are the generator's choices, not the values the RMM compares.
const SANCOV: [&str; 4] = [
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
];

/// The crates under test (rustc's crate names): the only ones built with [`SANCOV`].
pub const INSTRUMENTED: [&str; 2] = ["rmm", "hostcall_abi"];

/// RUSTFLAGS of the fuzz build (host triple only): `--cfg=fuzzing` for every crate, then a word
/// naming the [`INSTRUMENTED`] crates and one per [`SANCOV`] flag, each behind a prefix
/// ([`CRATES_MARK`], [`SANCOV_MARK`]) that [`rustc_wrapper`] takes out again. Cargo fingerprints
/// RUSTFLAGS, not what a wrapper adds: this way a change of either list rebuilds the crates.
fn rustflags() -> String {
    let mut words = vec![
        "--cfg=fuzzing".to_string(),
        format!("{CRATES_MARK}{}", INSTRUMENTED.join(",")),
    ];
    words.extend(SANCOV.iter().map(|f| format!("{SANCOV_MARK}{f}")));
    words.join(" ")
}

/// Set in the environment of the build: this binary is then cargo's `RUSTC_WRAPPER`.
const WRAPPER_ENV: &str = "XTASK_FUZZ_RUSTC_WRAPPER";
/// The RUSTFLAGS word that names the instrumented crates (see [`rustflags`]).
const CRATES_MARK: &str = "-Zxtask-fuzz-crates=";
/// The prefix of a RUSTFLAGS word that carries one [`SANCOV`] flag (see [`rustflags`]).
const SANCOV_MARK: &str = "-Zxtask-fuzz-sancov=";

/// When cargo runs this binary as the fuzz build's `RUSTC_WRAPPER` (`xtask RUSTC ARGS...`, with
/// [`WRAPPER_ENV`] set): runs `RUSTC ARGS...` without the marked words of [`rustflags`], plus
/// the SanitizerCoverage flags they carry if it compiles one of the crates they name for the
/// host triple (`--target`; build scripts and proc macros have none). Returns rustc's exit
/// code, or `None` when this binary runs as the xtask.
pub fn rustc_wrapper() -> Option<std::process::ExitCode> {
    std::env::var_os(WRAPPER_ENV)?;
    let mut args = std::env::args_os().skip(1);
    let rustc = args.next()?;
    let (mut crates, mut sancov, mut rest) = (Vec::new(), Vec::new(), Vec::new());
    for a in args {
        match a.to_str() {
            Some(w) if w.starts_with(CRATES_MARK) => {
                crates.extend(w[CRATES_MARK.len()..].split(',').map(str::to_string));
            }
            Some(w) if w.starts_with(SANCOV_MARK) => {
                sancov.push(w[SANCOV_MARK.len()..].to_string())
            }
            _ => rest.push(a),
        }
    }
    let crate_name = rest
        .iter()
        .position(|a| a == "--crate-name")
        .and_then(|i| rest.get(i + 1))
        .and_then(|n| n.to_str());
    let instrument = crate_name.is_some_and(|n| crates.iter().any(|c| c == n))
        && rest.iter().any(|a| a == "--target");
    let mut cmd = Command::new(rustc);
    cmd.args(&rest);
    if instrument {
        cmd.args(&sancov);
    }
    let code = match cmd.status() {
        Ok(status) => status.code().map_or(1, |c| u8::try_from(c).unwrap_or(1)),
        Err(e) => {
            eprintln!("xtask fuzz: rustc wrapper: cannot run rustc: {e}");
            1
        }
    };
    Some(std::process::ExitCode::from(code))
}

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
    let me = std::env::current_exe().map_err(|e| format!("the xtask binary's path: {e}"))?;
    sh(Command::new(cargo)
        .args(["build", "--release", "--bins", "--target", &triple])
        .env("RUSTFLAGS", rustflags())
        .env("RUSTC_WRAPPER", me)
        .env(WRAPPER_ENV, "1")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
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
