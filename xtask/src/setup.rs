//! Installs what a fresh machine of this kind lacks. Every step checks before acting, says what it
//! does, and fails with the command that failed.

use std::path::Path;
use std::process::Command;

use crate::tfa;

/// Runs a command, inheriting stdio; an error names it.
pub fn sh(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed with {status}"))
    }
}

/// Runs a command and returns its stdout, or None if it could not run or failed.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs cargo (the one running us) in the workspace root.
pub fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    sh(Command::new(cargo)
        .args(args)
        .current_dir(tests_qemu::workspace_root()))
}

const TARGETS: [&str; 2] = ["aarch64-unknown-none-softfloat", "aarch64-unknown-none"];
const APT_SOURCES: &str = "/etc/apt/sources.list.d/rmm-project.sources";

/// Everything, in dependency order.
pub fn run() -> Result<(), String> {
    rust_targets()?;
    apt_packages()?;
    tfa::ensure_built()
}

fn rust_targets() -> Result<(), String> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    let missing: Vec<&str> = TARGETS
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("setup: adding rust targets {missing:?}");
    sh(Command::new("rustup")
        .args(["target", "add"])
        .args(&missing))
}

pub fn qemu_is_10_or_later() -> bool {
    output(Command::new("qemu-system-aarch64").arg("--version"))
        .and_then(|v| {
            let ver = v.split("version ").nth(1)?;
            ver.split('.').next()?.trim().parse::<u32>().ok()
        })
        .is_some_and(|major| major >= 10)
}

/// True if `cmd` is on the PATH.
pub fn have(cmd: &str) -> bool {
    output(Command::new("sh").args(["-c", &format!("command -v {cmd}")])).is_some()
}

/// The Debian mirror this machine already uses (never written into the repository).
pub fn debian_mirror() -> Result<String, String> {
    let text = std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources")
        .map_err(|e| format!("cannot read /etc/apt/sources.list.d/debian.sources: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("URIs:").map(|u| u.trim().to_string()))
        .ok_or("no URIs line in debian.sources".into())
}

/// Adds bookworm-backports (QEMU 10) and trixie deb-src (TF-A 2.12.1 source) once.
pub fn apt_sources() -> Result<(), String> {
    if Path::new(APT_SOURCES).exists() {
        return Ok(());
    }
    let mirror = debian_mirror()?;
    let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
    let text = format!(
        "# Added by `cargo xtask setup`: QEMU 10 and the TF-A 2.12.1 source package.\n\
         Types: deb\nURIs: {mirror}\nSuites: bookworm-backports\nComponents: main\nSigned-By: {keyring}\n\n\
         Types: deb-src\nURIs: {mirror}\nSuites: trixie\nComponents: main\nSigned-By: {keyring}\n"
    );
    println!("setup: adding apt sources bookworm-backports and trixie (deb-src) -> {APT_SOURCES}");
    std::fs::write(APT_SOURCES, text).map_err(|e| format!("cannot write {APT_SOURCES}: {e}"))?;
    sh(Command::new("apt-get").args(["update", "-q"]))
}

fn apt_packages() -> Result<(), String> {
    let mut wanted: Vec<&str> = Vec::new();
    if !qemu_is_10_or_later() {
        wanted.extend([
            "qemu-system-arm/bookworm-backports",
            "qemu-system-common/bookworm-backports",
            "qemu-system-data/bookworm-backports",
        ]);
    }
    for (cmd, pkg) in [
        ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
        ("make", "make"),
        ("dpkg-source", "dpkg-dev"),
    ] {
        if !have(cmd) {
            wanted.push(pkg);
        }
    }
    if !Path::new("/usr/include/openssl/sha.h").exists() {
        wanted.push("libssl-dev");
    }
    if wanted.is_empty() {
        return Ok(());
    }
    apt_sources()?;
    sh(Command::new("apt-get").args(["update", "-q"]))?;
    println!("setup: installing {wanted:?}");
    sh(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(&wanted)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    if !qemu_is_10_or_later() {
        return Err("QEMU 10 or later is still missing after the install".into());
    }
    Ok(())
}
