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
    let ours = initrd.is_none();
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

/// `cargo xtask run linux ...` (setup and images done by the caller).
pub fn run(args: &[String], images: &Images) -> Result<(), String> {
    let o = options(args)?;
    let challenge = cca_verifier::relying_party::fresh_challenge()
        .map_err(|e| format!("no random challenge: {e}"))?;
    let p = prepare(&o, &challenge)?;
    println!(
        "xtask: Linux realm: {} ({} MiB) with {}, {} vCPU(s), {} MiB RAM, on {} host CPU(s); \
         command line: {}",
        o.kernel.display(),
        p.kernel.len() >> 20,
        o.initrd
            .as_ref()
            .map_or("no initrd".to_string(), |i| i.display().to_string()),
        o.vcpus,
        o.mem_mib,
        o.cpus,
        p.bootargs
    );
    let cfg = p.run_config(&o, "linux");
    let outcome = tests_qemu::run(images, &cfg);
    println!("--- UART (TF-A, the RMM's banner, the realm's console) ---");
    println!("{}", outcome.uart.trim_end());
    println!("--- defmt logs, RMM and host stub merged by system-counter time ---");
    outcome.print_story();
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
    println!(
        "xtask: wall time {:.1} s (QEMU start to exit)",
        outcome.elapsed.as_secs_f64()
    );
    if problems.is_empty() {
        println!(
            "xtask: the Linux realm booted, attested and powered off; every granule came back"
        );
        Ok(())
    } else {
        Err(format!(
            "the Linux realm run did not pass:\n  {}",
            problems.join("\n  ")
        ))
    }
}
