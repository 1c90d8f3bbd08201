//! TF-A 2.12.1: source from the Debian trixie source package, built once for `PLAT=qemu
//! ENABLE_RME=1` (BL1, BL2, BL31 and fiptool), cached under `target/tf-a/`. Packing new RMM or
//! host-stub images into a FIP uses fiptool directly and never rebuilds TF-A.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::setup::{apt_sources, sh};

/// The TF-A version this project is built and tested with.
const TFA_VERSION_PREFIX: &str = "arm-trusted-firmware-2.12";
/// Make arguments of the cached build; a change here rebuilds.
const MAKE_ARGS: [&str; 7] = [
    "CROSS_COMPILE=aarch64-linux-gnu-",
    "PLAT=qemu",
    "ENABLE_RME=1",
    "DEBUG=1",
    "QEMU_USE_GIC_DRIVER=QEMU_GICV3",
    "LOG_LEVEL=20",
    "BUILD_STRING=v2.12.1-debian",
];

fn cache_dir() -> PathBuf {
    tests_qemu::workspace_root().join("target/tf-a")
}

/// The extracted source tree, if present.
fn source_dir() -> Option<PathBuf> {
    std::fs::read_dir(cache_dir())
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(TFA_VERSION_PREFIX))
        })
}

/// Where the qemu build leaves its binaries.
pub fn build_dir() -> Result<PathBuf, String> {
    Ok(source_dir()
        .ok_or("TF-A source missing: run `cargo xtask setup`")?
        .join("build/qemu/debug"))
}

/// The fiptool built with TF-A.
pub fn fiptool() -> Result<PathBuf, String> {
    Ok(source_dir()
        .ok_or("TF-A source missing")?
        .join("tools/fiptool/fiptool"))
}

fn fetch_source() -> Result<PathBuf, String> {
    if let Some(dir) = source_dir() {
        return Ok(dir);
    }
    apt_sources()?;
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    println!("setup: fetching the TF-A source package (arm-trusted-firmware from trixie)");
    sh(Command::new("apt-get")
        .args(["source", "-q", "arm-trusted-firmware/trixie"])
        .current_dir(&dir))?;
    source_dir().ok_or(format!(
        "apt-get source did not produce {TFA_VERSION_PREFIX}*: wrong version?"
    ))
}

/// Builds BL1/BL2/BL31 and fiptool unless the cached build matches [`MAKE_ARGS`].
pub fn ensure_built() -> Result<(), String> {
    let src = fetch_source()?;
    let stamp = cache_dir().join("build.stamp");
    let want = MAKE_ARGS.join(" ");
    let out = src.join("build/qemu/debug");
    let complete = ["bl1.bin", "bl2.bin", "bl31.bin"]
        .iter()
        .all(|f| out.join(f).exists())
        && src.join("tools/fiptool/fiptool").exists();
    if complete && std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) {
        return Ok(());
    }
    println!("setup: building TF-A ({want}) — once, then cached");
    // TF-A wants an RMM and a BL33 to package; the real ones are packed later with fiptool.
    let placeholder = cache_dir().join("placeholder.bin");
    std::fs::write(&placeholder, [0u8; 4096]).map_err(|e| format!("placeholder: {e}"))?;
    let jobs = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    sh(Command::new("make")
        .current_dir(&src)
        .arg(format!("-j{jobs}"))
        .args(MAKE_ARGS)
        .arg(format!("RMM={}", placeholder.display()))
        .arg(format!("BL33={}", placeholder.display()))
        .args(["all", "fip"]))?;
    std::fs::write(&stamp, want).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

/// Packs `rmm` and `bl33` with the cached BL2/BL31 into a FIP, and BL1 + FIP into the
/// `-bios` image QEMU boots (BL1 at 0, the FIP at 256 KiB, as TF-A's qemu platform lays it out).
pub fn pack_qemu_bios(rmm: &Path, bl33: &Path, out_dir: &Path) -> Result<PathBuf, String> {
    let build = build_dir()?;
    let fip = out_dir.join("fip.bin");
    let _ = std::fs::remove_file(&fip);
    sh(Command::new(fiptool()?)
        .arg("create")
        .arg("--tb-fw")
        .arg(build.join("bl2.bin"))
        .arg("--soc-fw")
        .arg(build.join("bl31.bin"))
        .arg("--rmm-fw")
        .arg(rmm)
        .arg("--nt-fw")
        .arg(bl33)
        .arg(&fip))?;
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let mut bios = read(&build.join("bl1.bin"))?;
    const FIP_OFFSET: usize = 256 * 1024;
    if bios.len() > FIP_OFFSET {
        return Err("bl1.bin is larger than the 256 KiB slot before the FIP".into());
    }
    bios.resize(FIP_OFFSET, 0);
    bios.extend(read(&fip)?);
    let path = out_dir.join("qemu_fw.bios");
    std::fs::write(&path, bios).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}
