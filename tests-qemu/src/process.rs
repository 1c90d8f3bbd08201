//! Starting QEMU, watching the clock and collecting what it left behind.

use std::env;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::config::RunConfig;
use crate::decode::{decode_defmt_file, merge_lines};
use crate::outcome::{RunOutcome, RunStatus, Source};
use crate::{runs_dir, Images};

/// Name of the QEMU executable looked up on `PATH`.
pub const QEMU_BINARY: &str = "qemu-system-aarch64";

/// How often the exit status is polled while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Finds `qemu-system-aarch64` on `PATH`.
pub fn find_qemu() -> Result<PathBuf, String> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .map(|dir| dir.join(QEMU_BINARY))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| {
            format!(
                "`{QEMU_BINARY}` was not found on PATH; install it \
                 (Debian: `apt-get install qemu-system-arm`)"
            )
        })
}

fn is_executable(path: &Path) -> bool {
    match fs::metadata(path) {
        #[cfg(unix)]
        Ok(meta) => {
            use std::os::unix::fs::PermissionsExt;
            meta.is_file() && meta.permissions().mode() & 0o111 != 0
        }
        #[cfg(not(unix))]
        Ok(meta) => meta.is_file(),
        Err(_) => false,
    }
}

/// Every run, the demo's, the tests' and the bench's alike, counts time in instructions: the
/// `max` CPU's counter advances one tick per executed instruction (`shift=0`) and never
/// jumps while CPUs idle (`sleep=off`), and QEMU's random sources are seeded. Timer ticks
/// then land at the same point of the firmware's work on every run, whatever the load on
/// the machine, so nothing a run checks depends on wall-clock time or machine speed.
pub const DETERMINISTIC: [&str; 4] = ["-icount", "shift=0,sleep=off", "-seed", "1"];

/// QEMU's arguments for `cfg` (without the program name).
///
/// The bios path is made absolute because QEMU runs inside the run
/// directory. Output file names are relative to that directory.
///
/// `-nic none` drops the virt board's default virtio NIC: the firmware has
/// no use for it, and creating it needs the iPXE option ROM
/// (`efi-virtio.rom`), which a plain `qemu-system-arm` install may lack; QEMU
/// then refuses to start.
pub fn qemu_args(images: &Images, cfg: &RunConfig) -> Vec<OsString> {
    let bios = std::path::absolute(&images.bios).unwrap_or_else(|_| images.bios.clone());
    let mut args: Vec<OsString> = [
        "-M",
        "virt,secure=on,virtualization=on,gic-version=3",
        "-cpu",
        "max,x-rme=on",
        "-m",
        "3G",
        "-smp",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    args.push(cfg.cpus.to_string().into());
    args.push("-bios".into());
    args.push(bios.into_os_string());
    args.extend(
        [
            "-display",
            "none",
            "-monitor",
            "none",
            "-serial",
            "file:uart.log",
            "-semihosting-config",
            "enable=on,target=native",
            "-no-reboot",
            "-nic",
            "none",
        ]
        .iter()
        .map(OsString::from),
    );
    args.extend(DETERMINISTIC.iter().map(OsString::from));
    args.extend(cfg.extra_args.iter().map(OsString::from));
    args
}

/// Boots `images` under QEMU as described by `cfg` and collects the result.
///
/// Never panics because of QEMU: a missing binary, a refused command line,
/// a crash or a hang all end up in [`RunOutcome::status`].
pub fn run(images: &Images, cfg: &RunConfig) -> RunOutcome {
    let run_dir = runs_dir().join(&cfg.name);
    let mut outcome = RunOutcome {
        name: cfg.name.clone(),
        status: RunStatus::SpawnFailed(String::new()),
        run_dir: run_dir.clone(),
        command: Vec::new(),
        timeout: cfg.timeout,
        elapsed: Duration::ZERO,
        pid: None,
        uart: String::new(),
        lines: Vec::new(),
        malformed_frames: 0,
        qemu_stderr: String::new(),
        notes: Vec::new(),
    };

    let qemu = match prepare(cfg, &run_dir) {
        Ok(qemu) => qemu,
        Err(why) => {
            outcome.status = RunStatus::SpawnFailed(why);
            return outcome;
        }
    };
    let args = qemu_args(images, cfg);
    outcome.command = std::iter::once(qemu.as_os_str())
        .chain(args.iter().map(OsString::as_os_str))
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let command_file = run_dir.join("command.txt");
    if let Err(err) = fs::write(&command_file, outcome.command.join(" ") + "\n") {
        outcome
            .notes
            .push(format!("cannot write {}: {err}", command_file.display()));
    }

    let started = Instant::now();
    match spawn(&qemu, &args, &run_dir) {
        Ok(mut child) => {
            outcome.pid = Some(child.id());
            outcome.status = wait_with_timeout(&mut child, cfg.timeout, &mut outcome.notes);
        }
        Err(why) => outcome.status = RunStatus::SpawnFailed(why),
    }
    outcome.elapsed = started.elapsed();

    collect(images, &mut outcome);
    outcome
}

/// Boots `images` as [`run`] does but in the foreground, with the UART on this process's
/// terminal (input too) instead of `uart.log`, for a user at a prompt; no timeout. Ends when
/// QEMU does.
pub fn run_interactive(images: &Images, cfg: &RunConfig) -> Result<(), String> {
    let run_dir = runs_dir().join(&cfg.name);
    let qemu = prepare(cfg, &run_dir)?;
    let args: Vec<OsString> = qemu_args(images, cfg)
        .into_iter()
        .map(|a| {
            if a == "file:uart.log" {
                "stdio".into()
            } else {
                a
            }
        })
        .collect();
    let mut command = Command::new(&qemu);
    die_with_parent(&mut command);
    let status = command
        .args(&args)
        .current_dir(&run_dir)
        .status()
        .map_err(|e| format!("cannot start {}: {e}", qemu.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("QEMU exited with {status}"))
    }
}

/// Validates the config, recreates the run directory and finds QEMU.
fn prepare(cfg: &RunConfig, run_dir: &Path) -> Result<PathBuf, String> {
    cfg.validate()?;
    match fs::remove_dir_all(run_dir) {
        Ok(()) => {}
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(format!("cannot clear {}: {err}", run_dir.display())),
    }
    fs::create_dir_all(run_dir)
        .map_err(|err| format!("cannot create {}: {err}", run_dir.display()))?;
    for (name, contents) in &cfg.input_files {
        let path = run_dir.join(name);
        fs::write(&path, contents)
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    }
    match &cfg.qemu_binary {
        Some(path) if is_executable(path) => Ok(path.clone()),
        Some(path) => Err(format!(
            "QEMU binary {} does not exist or is not executable",
            path.display()
        )),
        None => find_qemu(),
    }
}

/// Starts QEMU in `run_dir` with its output going to files there, so that
/// nothing can block on a full pipe.
fn spawn(qemu: &Path, args: &[OsString], run_dir: &Path) -> Result<Child, String> {
    let create = |name: &str| {
        let path = run_dir.join(name);
        File::create(&path).map_err(|err| format!("cannot create {}: {err}", path.display()))
    };
    let stdout = create("qemu.stdout")?;
    let stderr = create("qemu.stderr")?;
    let mut command = Command::new(qemu);
    die_with_parent(&mut command);
    command
        .args(args)
        .current_dir(run_dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|err| format!("cannot start {}: {err}", qemu.display()))
}

/// Makes the kernel kill QEMU if the thread that started it goes away (for
/// example the test binary is killed), so no emulator is left spinning.
/// [`run`] waits on the same thread that spawned QEMU, so this never fires
/// during a normal run.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the forked child before exec and only
    // makes one async-signal-safe system call.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}

/// Waits for QEMU to exit; kills and reaps it once `timeout` has passed.
fn wait_with_timeout(child: &mut Child, timeout: Duration, notes: &mut Vec<String>) -> RunStatus {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return exit_status(status, notes),
            Ok(None) => {}
            Err(err) => {
                kill_and_reap(child, notes);
                return RunStatus::SpawnFailed(format!("lost track of QEMU: {err}"));
            }
        }
        let now = Instant::now();
        if now >= deadline {
            kill_and_reap(child, notes);
            return RunStatus::TimedOut;
        }
        thread::sleep(POLL_INTERVAL.min(deadline - now));
    }
}

fn kill_and_reap(child: &mut Child, notes: &mut Vec<String>) {
    // Failing to signal is fine if QEMU exited in the meantime; wait() below
    // tells whether it is really gone.
    let _ = child.kill();
    if let Err(err) = child.wait() {
        notes.push(format!(
            "could not reap QEMU (pid {}) after killing it: {err}",
            child.id()
        ));
    }
}

fn exit_status(status: ExitStatus, notes: &mut Vec<String>) -> RunStatus {
    if let Some(code) = status.code() {
        return RunStatus::Exited(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            notes.push(format!("QEMU was killed by signal {signal}"));
            return RunStatus::Exited(128 + signal);
        }
    }
    notes.push(format!("QEMU ended without an exit code ({status})"));
    RunStatus::Exited(-1)
}

/// Reads back the UART, QEMU's stderr and both defmt streams.
fn collect(images: &Images, outcome: &mut RunOutcome) {
    let dir = outcome.run_dir.clone();
    outcome.uart = read_text(&dir.join("uart.log"), &mut outcome.notes).replace("\r\n", "\n");
    outcome.qemu_stderr = read_text(&dir.join("qemu.stderr"), &mut outcome.notes);
    let stdout = read_text(&dir.join("qemu.stdout"), &mut outcome.notes);
    if !stdout.trim().is_empty() {
        outcome
            .notes
            .push(format!("QEMU wrote to stdout:\n{}", stdout.trim_end()));
    }

    let rmm = decode_defmt_file(&images.rmm_elf, &dir.join("rmm.defmt"), Source::Rmm);
    let host = decode_defmt_file(&images.host_elf, &dir.join("host.defmt"), Source::Host);
    outcome.malformed_frames = rmm.malformed + host.malformed;
    outcome.notes.extend(rmm.problems);
    outcome.notes.extend(host.problems);
    if outcome.malformed_frames > 0 {
        outcome.notes.push(format!(
            "{} malformed defmt frame(s) were skipped",
            outcome.malformed_frames
        ));
    }
    outcome.lines = merge_lines(rmm.lines, host.lines);
}

/// A text file as a string; missing means empty, other errors become notes.
fn read_text(path: &Path, notes: &mut Vec<String>) -> String {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(err) if err.kind() == ErrorKind::NotFound => String::new(),
        Err(err) => {
            notes.push(format!("cannot read {}: {err}", path.display()));
            String::new()
        }
    }
}
