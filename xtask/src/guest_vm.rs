//! `cargo xtask guest-vm`: boots the fetched guest kernel and initramfs as an ordinary (non-realm)
//! VM under QEMU TCG, to check what can be checked without the RMM: `/init` runs, the vCPU,
//! memory and challenge checks pass, the realm check fails, the attestation step is skipped and
//! the guest powers off. Deterministic: `-icount shift=0,sleep=off -seed 1` and a fixed
//! challenge, so the guest executes the same instructions on every run.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::flag_value;
use crate::guest::{self, parse_blob};
use crate::setup::qemu_is_10_or_later;

/// The fixed challenge of the plain-VM check (the realm runner picks a fresh one). It starts with
/// the bytes a shell's hex decoding could trip on: NUL, `%`, backslash, newline, 0xff.
fn challenge() -> [u8; 64] {
    const AWKWARD: [u8; 5] = [0x00, b'%', b'\\', b'\n', 0xff];
    core::array::from_fn(|i| {
        AWKWARD
            .get(i)
            .copied()
            .unwrap_or((i as u8).wrapping_mul(37) ^ 0xa5)
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The lines `/init` must print in a plain VM.
const EXPECTED: [&str; 11] = [
    "rmm-guest: CHECK realm FAIL",
    "rmm-guest: CHECK vcpus PASS",
    "rmm-guest: CHECK memory PASS",
    "rmm-guest: CHECK module:configfs PASS",
    "rmm-guest: CHECK module:tsm_report PASS",
    "rmm-guest: CHECK module:arm-cca-guest SKIP",
    "rmm-guest: CHECK configfs PASS",
    "rmm-guest: CHECK challenge PASS",
    "rmm-guest: CHECK attestation SKIP",
    // Only the realm check fails.
    "rmm-guest: VERDICT FAIL passed=6 failed=1 skipped=2",
    "rmm-guest: powering off",
];

/// `cargo xtask guest-vm [--cpus N] [--mem MiB] [--shell] [-- QEMU ARGS...]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let (ours, qemu_extra) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let number = |flag: &str, default: u32| -> Result<u32, String> {
        flag_value(ours, flag)?.map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("{flag} {v:?} is not a number"))
        })
    };
    let cpus = number("--cpus", 2)?;
    let mem_mib = number("--mem", 256)?;
    let shell = ours.iter().any(|a| a == "--shell");
    boot(cpus, mem_mib, shell, true, qemu_extra).map(|_| ())
}

/// What a plain boot showed.
pub struct PlainBoot {
    /// The guest's uptime when `/init` started (model time under `-icount`), in seconds.
    pub init_uptime: Option<f64>,
}

/// Boots the guest as a plain VM with `cpus` vCPUs and `mem_mib` of RAM; `echo` prints its
/// console as it comes. Fails unless `/init` behaves as a non-realm `/init` must.
pub fn boot(
    cpus: u32,
    mem_mib: u32,
    shell: bool,
    echo: bool,
    qemu_extra: &[String],
) -> Result<PlainBoot, String> {
    let g = guest::setup(false)?;
    if !qemu_is_10_or_later() {
        return Err("QEMU 10 is missing: run `cargo xtask setup`".into());
    }
    let challenge = challenge();
    let append = format!(
        "console=ttyAMA0 swiotlb=4096 panic=-1 quiet rmm.vcpus={cpus} rmm.mem_mib={mem_mib} \
         rmm.challenge={}{}",
        hex(&challenge),
        if shell { " rmm.shell=1" } else { "" }
    );
    let mut cmd = Command::new("qemu-system-aarch64");
    cmd.args([
        "-M",
        "virt,gic-version=3",
        "-cpu",
        "max",
        "-nographic",
        "-no-reboot",
        "-nic",
        "none",
    ])
    .args(["-icount", "shift=0,sleep=off", "-seed", "1"])
    .args(["-m", &format!("{mem_mib}M"), "-smp", &cpus.to_string()])
    .arg("-kernel")
    .arg(&g.image)
    .arg("-initrd")
    .arg(&g.initramfs)
    .args(["-append", &append])
    .args(qemu_extra);
    println!(
        "guest-vm: Linux {} as a plain VM: {cpus} vCPUs, {mem_mib} MiB, QEMU TCG -icount shift=0",
        g.release
    );
    let started = Instant::now();
    if shell {
        crate::setup::sh(&mut cmd)?;
        return Ok(PlainBoot { init_uptime: None });
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let stdout = child.stdout.take().ok_or("QEMU has no stdout")?;
    let mut log = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading QEMU's console: {e}"))?;
        if echo {
            println!("{line}");
        }
        log.push_str(&line);
        log.push('\n');
    }
    let status = child.wait().map_err(|e| format!("QEMU: {e}"))?;
    let wall = started.elapsed();
    let mut problems: Vec<String> = EXPECTED
        .iter()
        .filter(|e| !log.contains(*e))
        .map(|e| format!("no line {e:?}"))
        .collect();
    match parse_blob(&log, "CHALLENGE") {
        Ok(echo) if echo == challenge => {}
        Ok(_) => problems.push("the echoed challenge differs from ours".into()),
        Err(e) => problems.push(e),
    }
    if !status.success() {
        problems.push(format!("QEMU exited with {status}"));
    }
    let init_uptime = crate::linux::init_uptime(&log);
    let init_at = init_uptime.map_or("?".to_string(), |s| format!("{s:.2} s"));
    println!(
        "guest-vm: wall time {:.1} s (QEMU start to exit); /init started at {init_at} of guest \
         virtual time (-icount shift=0: a ns per instruction, plus idle periods skipped over)",
        wall.as_secs_f64()
    );
    if problems.is_empty() {
        println!(
            "guest-vm: as expected for a non-realm VM: /init ran, vCPU, memory and challenge \
             checks PASS, realm FAIL, attestation SKIP, powered off"
        );
        Ok(PlainBoot { init_uptime })
    } else {
        Err(format!(
            "the plain VM did not behave as expected:\n  {}",
            problems.join("\n  ")
        ))
    }
}
