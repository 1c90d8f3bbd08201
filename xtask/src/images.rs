//! Builds the firmware images and leaves them at stable paths under `target/images/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::setup::{cargo, sh};
use crate::tfa;

const TARGET: &str = "aarch64-unknown-none-softfloat";

fn images_dir(sub: &str) -> Result<PathBuf, String> {
    let dir = tests_qemu::workspace_root().join("target/images").join(sub);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Builds one image crate for `board`, copies the ELF and a flat binary into `out`.
fn build_image(package: &str, board: Option<&str>, out: &Path) -> Result<(), String> {
    let feature = board.map(|b| format!("board-{b}"));
    let mut args = vec![
        "build",
        "--release",
        "-p",
        package,
        "--bin",
        package,
        "--target",
        TARGET,
    ];
    if let Some(f) = &feature {
        args.extend(["--no-default-features", "--features", f]);
    }
    cargo(&args)?;
    let elf = tests_qemu::workspace_root()
        .join("target")
        .join(TARGET)
        .join("release")
        .join(package);
    let out_elf = out.join(format!("{package}.elf"));
    std::fs::copy(&elf, &out_elf).map_err(|e| format!("cannot copy {}: {e}", elf.display()))?;
    sh(Command::new("aarch64-linux-gnu-objcopy")
        .args(["-O", "binary"])
        .arg(&out_elf)
        .arg(out.join(format!("{package}.bin"))))
}

/// The realm payload (`realm-payload.{elf,bin}`), then the host stub, which embeds the payload's
/// flat binary (found through `REALM_PAYLOAD_BIN`) to load it into a realm.
fn build_payload_then_host_stub(board: &str, out: &Path) -> Result<(), String> {
    build_image("realm-payload", None, out)?;
    // The host stub's build script reads this; xtask is the only process that builds it.
    std::env::set_var("REALM_PAYLOAD_BIN", out.join("realm-payload.bin"));
    build_image("host-stub", Some(board), out)
}

/// The QEMU images: rmm, host-stub, and TF-A's `qemu_fw.bios` with both packed in.
pub fn build_qemu() -> Result<PathBuf, String> {
    let out = images_dir("")?;
    build_image("rmm", Some("qemu"), &out)?;
    build_payload_then_host_stub("qemu", &out)?;
    let bios = tfa::pack_qemu_bios(&out.join("rmm.bin"), &out.join("host-stub.bin"), &out)?;
    println!("xtask: images ready in {}", out.display());
    Ok(bios)
}

/// The FVP images (RMM and host stub linked for FVP Base RevC); TF-A for FVP is built as the
/// README describes. Untested: no FVP runs on these machines.
pub fn build_fvp_images() -> Result<(), String> {
    let out = images_dir("fvp")?;
    build_image("rmm", Some("fvp"), &out)?;
    build_payload_then_host_stub("fvp", &out)?;
    println!(
        "xtask: FVP images in {} (see README: Running on FVP)",
        out.display()
    );
    Ok(())
}
