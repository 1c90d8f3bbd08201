//! `cargo xtask lint`: the gates every change passes, run by `cargo xtask test` before any test.
//!
//! Formatting, clippy with every warning an error on the build machine (every crate and target)
//! **and** on the aarch64 image targets (the RMM image with its `arch/` code, the host stub
//! image, the realm payload: code no host build compiles), and the documentation with every
//! rustdoc warning an error. Lints come from the workspace's one `[workspace.lints]` table.
//! Last, no import cycle among the `rmm` crate's top-level modules (`modgraph`).

use std::process::Command;

use crate::setup::{cargo, sh};

const TARGET: &str = "aarch64-unknown-none-softfloat";

/// Every gate, in order; stops at the first that fails.
pub fn run() -> Result<(), String> {
    println!("xtask: lint: cargo fmt --check");
    cargo(&["fmt", "--all", "--", "--check"]).map_err(|e| format!("unformatted code: {e}"))?;
    // The fuzz crate is a workspace of its own (`fuzz/`).
    cargo(&["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"])
        .map_err(|e| format!("unformatted code in fuzz/: {e}"))?;
    println!("xtask: lint: clippy, build machine");
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    // The fuzz crate (its own workspace; builds libFuzzer, uninstrumented here).
    println!("xtask: lint: clippy, fuzz targets");
    cargo(&[
        "clippy",
        "--manifest-path",
        "fuzz/Cargo.toml",
        "--release",
        "--bins",
        "--",
        "-D",
        "warnings",
    ])?;
    for image in ["rmm", "host-stub", "realm-payload"] {
        println!("xtask: lint: clippy, {image} image ({TARGET})");
        image_clippy(image)?;
    }
    println!("xtask: lint: no import cycle among rmm's modules");
    crate::modgraph::check(&tests_qemu::workspace_root().join("rmm/src"))?;
    println!("xtask: lint: cargo doc");
    let cargo_bin = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    sh(Command::new(cargo_bin)
        .args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .current_dir(tests_qemu::workspace_root()))
    .map_err(|e| format!("documentation warnings: {e}"))
}

/// Clippy over one image crate for the aarch64 target, as `images.rs` builds it (the host stub
/// embeds the realm payload built before it).
fn image_clippy(package: &str) -> Result<(), String> {
    let payload = tests_qemu::workspace_root().join("target/images/realm-payload.bin");
    let cargo_bin = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    sh(Command::new(cargo_bin)
        .args([
            "clippy",
            "--release",
            "-p",
            package,
            "--bin",
            package,
            "--target",
            TARGET,
            "--",
            "-D",
            "warnings",
        ])
        .env("REALM_PAYLOAD_BIN", payload)
        .current_dir(tests_qemu::workspace_root()))
}
