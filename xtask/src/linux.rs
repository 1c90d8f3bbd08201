//! `cargo xtask run linux [--kernel FILE] [--initrd FILE] [--append "..."] [--vcpus N]
//! [--mem MIB] [--cpus N] [--shell]`: a Linux kernel booted as a realm on this RMM under QEMU.
//!
//! The runner checks the guest before QEMU starts (the kernel is an arm64 `Image`, the initrd
//! fits, the vCPU count and RAM size are possible: one line each), has QEMU load the files into
//! the host's NS memory (`-device loader`), and hands the host stub a request (the `linux` file
//! in the run directory). With the default initramfs it is also the realm's relying party: it
//! picks the challenge (`rmm.challenge=` on the kernel command line), reads what `/init` prints,
//! and verifies the CCA token: the chain, the challenge, and a RIM equal to its own computation
//! of what the loader measured (`host_stub::linux::expected_rim`, from the same files).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use host_stub::linux::{self, qemu, Blob, Config, Layout, Source, DTB_CAPACITY, PAGE};
use tests_qemu::{Images, RunConfig, RunOutcome};

use crate::flag_value;
use crate::guest::{self, parse_blob};

/// What the user asked for, checked.
pub struct Options {
    kernel: PathBuf,
    initrd: Option<PathBuf>,
    append: String,
    vcpus: usize,
    mem_mib: u64,
    cpus: u32,
    shell: bool,
    /// Our own initramfs: run its checks and verify its token.
    ours: bool,
}

/// The lines our `/init` prints in a realm when everything works.
const EXPECTED: [&str; 10] = [
    "rmm-guest: CHECK realm PASS",
    "rmm-guest: CHECK vcpus PASS",
    "rmm-guest: CHECK memory PASS",
    "rmm-guest: CHECK module:configfs PASS",
    "rmm-guest: CHECK module:tsm_report PASS",
    "rmm-guest: CHECK module:arm-cca-guest PASS",
    "rmm-guest: CHECK configfs PASS",
    "rmm-guest: CHECK challenge PASS",
    "rmm-guest: CHECK attestation PASS",
    "rmm-guest: powering off",
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses the command line; the defaults need `cargo xtask setup-guest`'s files.
pub fn options(args: &[String]) -> Result<Options, String> {
    let number = |flag: &str, default: u64| -> Result<u64, String> {
        flag_value(args, flag)?.map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("{flag} {v:?} is not a number"))
        })
    };
    let known = [
        "--kernel", "--initrd", "--append", "--vcpus", "--mem", "--cpus",
    ];
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            a if known.contains(&a) => i += 2,
            "--shell" => i += 1,
            other => return Err(format!("run linux: unknown argument {other:?}")),
        }
    }
    let vcpus = number("--vcpus", 2)?;
    let mem_mib = number("--mem", 256)?;
    let cpus = u32::try_from(number("--cpus", 4)?).unwrap_or(u32::MAX);
    let shell = args.iter().any(|a| a == "--shell");
    let kernel = flag_value(args, "--kernel")?.map(PathBuf::from);
    let initrd = flag_value(args, "--initrd")?.map(PathBuf::from);
    let ours = initrd.as_deref().is_none_or(guest::is_our_initramfs);
    let (kernel, initrd) = match (kernel, initrd) {
        (Some(k), Some(i)) => (k, Some(i)),
        (k, i) => {
            let g = guest::setup(false)?;
            (k.unwrap_or(g.image), Some(i.unwrap_or(g.initramfs)))
        }
    };
    if !(1..=4).contains(&cpus) {
        return Err("--cpus must be 1..=4 (QEMU virt with GICv3 here)".into());
    }
    let vcpus = usize::try_from(vcpus).unwrap_or(usize::MAX);
    if vcpus == 0 || vcpus > linux::MAX_VCPUS {
        return Err(format!(
            "--vcpus {vcpus}: a realm guest here has 1 to {} vCPUs",
            linux::MAX_VCPUS
        ));
    }
    Ok(Options {
        kernel,
        initrd,
        append: flag_value(args, "--append")?.unwrap_or("").to_string(),
        vcpus,
        mem_mib,
        cpus,
        shell,
        ours,
    })
}

fn read(path: &Path, what: &str, room: u64) -> Result<Vec<u8>, String> {
    let bytes = fs::read(path).map_err(|e| format!("{what} {}: {e}", path.display()))?;
    if bytes.len() as u64 > room {
        return Err(format!(
            "{what} {} is {} MiB; the host keeps at most {} MiB for it",
            path.display(),
            bytes.len() >> 20,
            room >> 20
        ));
    }
    Ok(bytes)
}

/// The guest as the host stub will load it, or the one line that says why not.
pub struct Prepared {
    kernel: Vec<u8>,
    initrd: Option<Vec<u8>>,
    bootargs: String,
    layout: Layout,
    dtb: Vec<u8>,
    request: String,
}

/// Checks the files and the shape against the loader's own rules (`host_stub::linux::layout`).
pub fn prepare(o: &Options, challenge: &[u8; 64]) -> Result<Prepared, String> {
    let kernel = read(&o.kernel, "kernel", qemu::IMAGE_ROOM)?;
    let initrd = match &o.initrd {
        Some(p) => Some(read(p, "initrd", qemu::INITRD_ROOM)?),
        None => None,
    };
    let mut bootargs = String::from("console=ttyAMA0 swiotlb=4096 panic=-1");
    if o.ours {
        bootargs.push_str(&format!(
            " quiet rmm.vcpus={} rmm.mem_mib={} rmm.challenge={}",
            o.vcpus,
            o.mem_mib,
            hex(challenge)
        ));
        if o.shell {
            bootargs.push_str(" rmm.shell=1");
        }
    }
    if !o.append.is_empty() {
        bootargs.push(' ');
        bootargs.push_str(&o.append);
    }
    let cfg = Config {
        image: Blob {
            pa: qemu::IMAGE,
            len: kernel.len() as u64,
        },
        initrd: initrd.as_ref().map(|i| Blob {
            pa: qemu::INITRD,
            len: i.len() as u64,
        }),
        vcpus: o.vcpus,
        mem_size: o.mem_mib.saturating_mul(1 << 20),
        bootargs: &bootargs,
    };
    let layout = linux::layout(&cfg, &kernel).map_err(|e| match e {
        linux::ConfigError::Image(_) => format!("{}: {e}", o.kernel.display()),
        _ => e.to_string(),
    })?;
    let mut dtb = [0u8; DTB_CAPACITY];
    let dtb_len = linux::device_tree(&layout, &bootargs, &mut dtb).map_err(|e| e.to_string())?;
    let request = format!(
        "image={:#x}\nimage_len={}\ninitrd={:#x}\ninitrd_len={}\nvcpus={}\nmem_mib={}\nbootargs={}\n",
        qemu::IMAGE,
        kernel.len(),
        qemu::INITRD,
        initrd.as_ref().map_or(0, Vec::len),
        o.vcpus,
        o.mem_mib,
        bootargs
    );
    Ok(Prepared {
        kernel,
        initrd,
        bootargs,
        layout,
        dtb: dtb[..dtb_len].to_vec(),
        request,
    })
}

impl Prepared {
    /// The RIM the realm must report: the loader's steps over these very files.
    pub fn expected_rim(&self) -> Option<Vec<u8>> {
        let m = linux::expected_rim(&self.layout, self.dtb.len(), |source, offset, page| {
            let file: &[u8] = match source {
                Source::Image => &self.kernel,
                Source::DeviceTree => &self.dtb,
                Source::Initrd => self.initrd.as_deref().unwrap_or(&[]),
            };
            page.fill(0);
            let start = (offset as usize).min(file.len());
            let end = (start + PAGE as usize).min(file.len());
            page[..end - start].copy_from_slice(&file[start..end]);
        })?;
        // SHA-256: the first 32 bytes.
        Some(m.0[..32].to_vec())
    }

    /// QEMU's extra arguments and the run's input files.
    pub fn run_config(&self, o: &Options, name: &str) -> RunConfig {
        let mut cfg = RunConfig::new(name, o.cpus)
            .with_timeout(Duration::from_secs(900))
            .with_input_file("linux", self.request.clone().into_bytes())
            .with_arg("-device")
            .with_arg(format!(
                "loader,file={},addr={:#x},force-raw=on",
                abs(&o.kernel),
                qemu::IMAGE
            ));
        if let Some(i) = &o.initrd {
            cfg = cfg.with_arg("-device").with_arg(format!(
                "loader,file={},addr={:#x},force-raw=on",
                abs(i),
                qemu::INITRD
            ));
        }
        cfg
    }
}

fn abs(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// What a run of our initramfs showed: problems, or none.
pub fn check_guest(outcome: &RunOutcome, p: &Prepared, challenge: &[u8; 64]) -> Vec<String> {
    let log = &outcome.uart;
    let mut problems: Vec<String> = EXPECTED
        .iter()
        .filter(|e| !log.contains(*e))
        .map(|e| format!("no line {e:?}"))
        .collect();
    match parse_blob(log, "TOKEN") {
        Ok(token) => {
            let cpak = cca_verifier::qemu_sample_cpak();
            match cca_verifier::verify(&token, &cpak) {
                Ok(v) => {
                    if v.realm.challenge != *challenge {
                        problems.push("the token's challenge is not ours".into());
                    }
                    match p.expected_rim() {
                        Some(rim) if rim == v.realm.rim => println!(
                            "xtask: token verified: chain, challenge, and RIM {} equal to the \
                             runner's own computation of what the host loaded",
                            hex(&rim)
                        ),
                        Some(rim) => problems.push(format!(
                            "RIM {} in the token, {} computed",
                            hex(&v.realm.rim),
                            hex(&rim)
                        )),
                        None => problems.push("no RIM computed".into()),
                    }
                }
                Err(e) => problems.push(format!("the token does not verify: {e}")),
            }
        }
        Err(e) => problems.push(e),
    }
    problems
}

/// What one boot showed.
pub struct Boot {
    /// Problems found (none: it passed).
    pub problems: Vec<String>,
    /// The guest's uptime when `/init` started (its line), in seconds of model time.
    pub init_uptime: Option<f64>,
    /// The host stub's summary lines about the guest (exits by reason and so on).
    pub host_lines: Vec<String>,
    /// Wall time of the QEMU run.
    pub wall: Duration,
    /// The realm's console: the UART without the firmware's and the RMM's lines.
    pub console: String,
}

/// The UART's lines that the realm wrote (TF-A and the RMM prefix theirs).
fn realm_console(uart: &str) -> String {
    const FIRMWARE: [&str; 5] = ["NOTICE:", "ERROR:", "WARNING:", "INFO:", "RMM:"];
    uart.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !FIRMWARE.iter().any(|p| l.starts_with(p)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The uptime `/init` reports in its first line (`rmm-guest: init started: <release> <s>s ...`).
pub fn init_uptime(log: &str) -> Option<f64> {
    log.lines()
        .find_map(|l| l.split("rmm-guest: init started: ").nth(1))
        .and_then(|rest| {
            rest.split_whitespace()
                .find_map(|w| w.strip_suffix('s')?.parse::<f64>().ok())
        })
}

/// Boots the guest `o` describes (setup and images done by the caller); `show` prints the
/// console and logs as they were.
pub fn boot(o: &Options, images: &Images, name: &str, show: bool) -> Result<Boot, String> {
    let challenge = cca_verifier::relying_party::fresh_challenge()
        .map_err(|e| format!("no random challenge: {e}"))?;
    boot_with(o, images, name, show, &challenge)
}

/// [`boot`] with a given challenge (the bench's is fixed, so its runs repeat exactly).
pub fn boot_with(
    o: &Options,
    images: &Images,
    name: &str,
    show: bool,
    challenge: &[u8; 64],
) -> Result<Boot, String> {
    let challenge = *challenge;
    let p = prepare(o, &challenge)?;
    println!(
        "xtask: Linux realm: {} ({} MiB) with {}, {} vCPU(s), {} MiB RAM, on {} host CPU(s)",
        o.kernel.display(),
        p.kernel.len() >> 20,
        o.initrd
            .as_ref()
            .map_or("no initrd".to_string(), |i| i.display().to_string()),
        o.vcpus,
        o.mem_mib,
        o.cpus,
    );
    println!("xtask: guest command line: {}", p.bootargs);
    let cfg = p.run_config(o, name);
    let outcome = tests_qemu::run(images, &cfg);
    if show {
        println!("--- UART (TF-A, the RMM's banner, the realm's console) ---");
        println!("{}", outcome.uart.trim_end());
        println!("--- defmt logs, RMM and host stub merged by system-counter time ---");
        outcome.print_story();
    }
    let mut problems = Vec::new();
    if !outcome.passed() {
        problems.push(format!(
            "the host stub's run did not pass:\n{}",
            outcome.report()
        ));
    }
    if o.ours {
        problems.extend(check_guest(&outcome, &p, &challenge));
    }
    Ok(Boot {
        problems,
        init_uptime: init_uptime(&outcome.uart),
        host_lines: outcome
            .lines
            .iter()
            .filter(|l| l.text.starts_with("linux:"))
            .map(|l| l.text.clone())
            .collect(),
        wall: outcome.elapsed,
        console: realm_console(&outcome.uart),
    })
}

/// `cargo xtask run linux ...` (setup and images done by the caller).
pub fn run(args: &[String], images: &Images) -> Result<(), String> {
    let o = options(args)?;
    if o.shell {
        return shell(&o, images);
    }
    let b = boot(&o, images, "linux", true)?;
    println!(
        "xtask: wall time {:.1} s (QEMU start to exit)",
        b.wall.as_secs_f64()
    );
    if b.problems.is_empty() {
        println!("xtask: the Linux realm booted and powered off; every granule came back");
        Ok(())
    } else {
        Err(format!(
            "the Linux realm run did not pass:\n  {}",
            b.problems.join("\n  ")
        ))
    }
}

/// `--shell`: QEMU in the foreground with the UART on this terminal (the realm's busybox
/// prompt; `poweroff -f` ends it).
fn shell(o: &Options, images: &Images) -> Result<(), String> {
    let challenge = [0u8; 64];
    let p = prepare(o, &challenge)?;
    let cfg = p.run_config(o, "linux-shell");
    tests_qemu::run_interactive(images, &cfg)
}

/// The command-line options for a boot of the cached guest.
fn default_options(vcpus: usize, cpus: u32, explicit_files: bool) -> Result<Options, String> {
    let mut args: Vec<String> = vec![
        "--vcpus".into(),
        vcpus.to_string(),
        "--cpus".into(),
        cpus.to_string(),
    ];
    if explicit_files {
        let g = guest::setup(false)?;
        args.extend([
            "--kernel".into(),
            g.image.display().to_string(),
            "--initrd".into(),
            g.initramfs.display().to_string(),
        ]);
    }
    options(&args)
}

fn fail_if(b: &Boot, what: &str) -> Result<(), String> {
    if b.problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what} did not pass:\n  {}",
            b.problems.join("\n  ")
        ))
    }
}

/// The Linux realm tests `cargo xtask test` runs: 1 host CPU / 1 vCPU with the files named on
/// the command line (as a user's own pair would be), and 4 host CPUs / 2 vCPUs with the defaults;
/// each boots to `/init`, gets its token verified and undelegates every granule.
pub fn qemu_tests(images: &Images) -> Result<(), String> {
    for (vcpus, cpus, explicit, name) in [
        (1, 1, true, "linux-1cpu-1vcpu"),
        (2, 4, false, "linux-4cpu-2vcpu"),
    ] {
        let o = default_options(vcpus, cpus, explicit)?;
        let b = boot(&o, images, name, false)?;
        fail_if(&b, name)?;
        println!(
            "xtask: {name}: PASS (/init at {} of model time, wall {:.1} s)",
            b.init_uptime.map_or("?".into(), |s| format!("{s:.2} s")),
            b.wall.as_secs_f64()
        );
    }
    Ok(())
}

/// The demo's last act: the Linux realm on `cpus` host CPUs (2 vCPUs), its console, its exits
/// and the attestation verdict.
pub fn demo(images: &Images, cpus: u32) -> Result<(), String> {
    println!("xtask: and now a Debian Linux kernel as a realm guest (cargo xtask run linux)");
    let o = default_options(2, cpus, false)?;
    let b = boot(&o, images, "demo-linux", false)?;
    println!("--- the realm's console ---");
    // Hex blocks (the challenge's echo and the token) in one line each.
    let mut hex_lines = 0;
    for line in b.console.lines() {
        if line.contains("-BEGIN bytes=") {
            hex_lines = 1;
            println!("{line}");
        } else if line.contains("-END bytes=") {
            println!("  ({} lines of hex)", hex_lines - 1);
            println!("{line}");
            hex_lines = 0;
        } else if hex_lines > 0 {
            hex_lines += 1;
        } else {
            println!("{line}");
        }
    }
    println!("--- what the host saw ---");
    for l in &b.host_lines {
        println!("host: {l}");
    }
    println!("xtask: wall time {:.1} s", b.wall.as_secs_f64());
    fail_if(&b, "the Linux realm")?;
    println!("xtask: the Linux realm booted, attested (token verified) and powered off");
    Ok(())
}

/// `cargo xtask bench`'s guest figures: the same kernel and initramfs to `/init` as a realm and
/// as a plain VM, same vCPUs and RAM, both under `-icount shift=0`.
pub fn bench(images: &Images) -> Result<(), String> {
    let o = default_options(2, 4, false)?;
    // A fixed challenge: the same inputs, so the run repeats instruction for instruction.
    let challenge: [u8; 64] = core::array::from_fn(|i| i as u8);
    let b = boot_with(&o, images, "bench-linux", false, &challenge)?;
    fail_if(&b, "the Linux realm")?;
    let plain = crate::guest_vm::boot(2, o.mem_mib as u32, false, false, &[])?;
    let (Some(realm), Some(vm)) = (b.init_uptime, plain.init_uptime) else {
        return Err("no /init uptime in one of the boots".into());
    };
    // "linux: /init started N M ticks after the first REC_ENTER ..."
    let entry_to_init = b
        .host_lines
        .iter()
        .find_map(|l| l.split("/init started ").nth(1))
        .and_then(|r| r.split_whitespace().next()?.parse::<f64>().ok())
        .ok_or("the host stub did not see /init start")?;
    println!();
    println!(
        "Linux {} to /init, 2 vCPUs, {} MiB, model time under -icount shift=0 (one tick = one \
         instruction, all CPUs)",
        guest::setup(false)?.release,
        o.mem_mib
    );
    println!("| guest | kernel clock at /init (uptime) | first REC_ENTER -> /init (host-measured) | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| plain VM (QEMU virt, no RME) | {:.0} M | - | 1.00 |",
        vm * 1e3
    );
    println!(
        "| realm on this RMM (4 host CPUs) | {:.0} M ({:.2}x) | {:.0} M | {:.2} |",
        realm * 1e3,
        realm / vm,
        entry_to_init,
        entry_to_init / (vm * 1e3)
    );
    println!(
        "ratio: the realm's whole first-entry-to-/init time over the plain VM's uptime at /init \
         (which leaves out its boot before the kernel's clock starts): an upper bound"
    );
    println!();
    println!("the realm's boot, as the host stub saw it:");
    for l in &b.host_lines {
        println!("  {l}");
    }
    println!(
        "wall time of the realm's run: {:.1} s",
        b.wall.as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory of this test's own.
    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("xtask-linux-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// An arm64 Image header (4 KiB pages, anywhere) of `image_size`, padded to `len` bytes.
    fn image(image_size: u64, len: usize) -> Vec<u8> {
        let mut h = vec![0u8; len.max(64)];
        h[16..24].copy_from_slice(&image_size.to_le_bytes());
        h[24..32].copy_from_slice(&0b1010u64.to_le_bytes());
        h[56..60].copy_from_slice(b"ARM\x64");
        h
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// The error `options` + `prepare` give for these arguments (before any QEMU).
    fn refusal(a: &[&str]) -> String {
        match options(&args(a)).and_then(|o| prepare(&o, &[0; 64]).map(|_| ())) {
            Ok(()) => panic!("accepted {a:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_good_pair_is_accepted_and_its_request_names_the_files() {
        let d = scratch("good");
        let (k, i) = (d.join("Image"), d.join("initrd"));
        fs::write(&k, image(4 << 20, 3 << 20)).unwrap();
        fs::write(&i, vec![7u8; 5000]).unwrap();
        let o = options(&args(&[
            "--kernel",
            k.to_str().unwrap(),
            "--initrd",
            i.to_str().unwrap(),
            "--vcpus",
            "3",
            "--mem",
            "128",
            "--append",
            "foo=bar",
        ]))
        .unwrap();
        assert!(!o.ours);
        let p = prepare(&o, &[0; 64]).unwrap();
        assert!(p.request.contains(&format!("image_len={}\n", 3 << 20)));
        assert!(p.request.contains("initrd_len=5000\n"));
        assert!(p.request.contains("vcpus=3\n") && p.request.contains("mem_mib=128\n"));
        assert!(p.bootargs.ends_with(" foo=bar"));
        // Not our initramfs: no rmm.* arguments for /init.
        assert!(!p.bootargs.contains("rmm."));
        assert!(p.expected_rim().is_some());
    }

    #[test]
    fn a_missing_file_is_one_clear_line() {
        let e = refusal(&[
            "--kernel",
            "/nonexistent/Image",
            "--initrd",
            "/nonexistent/i",
        ]);
        assert!(e.starts_with("kernel /nonexistent/Image:"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn a_file_that_is_not_an_arm64_image_is_refused() {
        let d = scratch("notimage");
        let (k, i) = (d.join("vmlinuz"), d.join("initrd"));
        fs::write(
            &k,
            b"\x1f\x8b gzip, not an Image, and long enough to have a header ....................",
        )
        .unwrap();
        fs::write(&i, b"x").unwrap();
        let e = refusal(&[
            "--kernel",
            k.to_str().unwrap(),
            "--initrd",
            i.to_str().unwrap(),
        ]);
        assert!(e.contains("not a usable arm64 Image"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn an_initrd_that_does_not_fit_is_refused() {
        let d = scratch("bigrd");
        let (k, i) = (d.join("Image"), d.join("initrd"));
        fs::write(&k, image(40 << 20, 4096)).unwrap();
        fs::write(&i, vec![0u8; 30 << 20]).unwrap();
        let e = refusal(&[
            "--kernel",
            k.to_str().unwrap(),
            "--initrd",
            i.to_str().unwrap(),
            "--mem",
            "64",
        ]);
        assert!(e.contains("does not fit"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn impossible_shapes_are_refused() {
        let d = scratch("shapes");
        let (k, i) = (d.join("Image"), d.join("initrd"));
        fs::write(&k, image(4 << 20, 4096)).unwrap();
        fs::write(&i, b"x").unwrap();
        let (k, i) = (k.to_str().unwrap(), i.to_str().unwrap());
        let e = refusal(&["--kernel", k, "--initrd", i, "--vcpus", "9"]);
        assert!(e.contains("1 to 8 vCPUs"), "{e}");
        let e = refusal(&["--kernel", k, "--initrd", i, "--vcpus", "0"]);
        assert!(e.contains("1 to 8 vCPUs"), "{e}");
        let e = refusal(&["--kernel", k, "--initrd", i, "--mem", "3"]);
        assert!(e.contains("guest RAM must be"), "{e}");
        let e = refusal(&["--kernel", k, "--initrd", i, "--cpus", "5"]);
        assert!(e.contains("--cpus must be 1..=4"), "{e}");
        let e = refusal(&["--kernel", k, "--initrd", i, "--frobnicate"]);
        assert!(e.contains("unknown argument"), "{e}");
    }
}
