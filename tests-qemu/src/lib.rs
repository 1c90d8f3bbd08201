//! QEMU runner for the RMM's end-to-end scenarios.
//!
//! # What this crate owns
//!
//! Booting the firmware images produced by `cargo xtask build` under
//! `qemu-system-aarch64` and reading back what happened:
//!
//! * locating the images ([`Images::locate`]),
//! * building the QEMU command line and running it in a fresh per-run
//!   directory `target/qemu-runs/<name>/`, always under a timeout
//!   ([`run`], [`RunConfig`]),
//! * collecting the results into a [`RunOutcome`]: QEMU's exit status,
//!   the UART text, QEMU's stderr and the two defmt streams the firmware
//!   writes over semihosting (`rmm.defmt`, `host.defmt`), decoded with the
//!   matching ELF files and merged into one time-ordered log,
//! * presenting that outcome to people ([`RunOutcome::report`],
//!   [`RunOutcome::print_story`]) and to tests ([`RunOutcome::expect_pass`],
//!   [`RunOutcome::find`], [`RunOutcome::count`], ...).
//!
//! # What it must not do
//!
//! * Build anything. Images come from `cargo xtask build`; if they are
//!   missing this crate says so instead of trying to produce them.
//! * Depend on other workspace crates or know about the RMI/ABI. It only sees
//!   the text the firmware logs; scenario-specific knowledge lives in the
//!   test files (`tests/boot.rs`, ...) that use this library.
//! * Decide whether a scenario passed. The firmware's host stub does that and
//!   reports it through the semihosting exit status; a status of 0 is a pass.
//! * Panic or hang because QEMU misbehaved. Every failure (QEMU missing, QEMU
//!   refusing the command line, crashing, hanging) is folded into the
//!   returned [`RunOutcome`]; only [`RunOutcome::expect_pass`] panics, on
//!   purpose, with the whole report attached.
//!
//! # Caveat on exit status 0
//!
//! Because of `-no-reboot`, a guest reset or a PSCI `SYSTEM_OFF` also makes
//! QEMU exit with status 0. Scenario tests should therefore also check for
//! the host stub's closing log line rather than rely on the status alone.
//!
//! # Typical use
//!
//! ```no_run
//! use tests_qemu::{run, Images, RunConfig, Source};
//!
//! let images = Images::locate().expect("images");
//! let outcome = run(&images, &RunConfig::new("boot-4cpu", 4));
//! outcome.expect_pass();
//! assert_eq!(outcome.count(Source::Rmm, "cold boot"), 4);
//! ```

mod config;
mod decode;
mod outcome;
mod process;

use std::path::{Path, PathBuf};

pub use config::{RunConfig, DEFAULT_TIMEOUT};
pub use decode::{decode_defmt_file, decode_stream, merge_lines, StreamLog};
pub use outcome::{LogLine, RunOutcome, RunStatus, Source};
pub use process::{find_qemu, qemu_args, run, run_interactive, DETERMINISTIC, QEMU_BINARY};

/// Root of the cargo workspace (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    match manifest_dir.parent() {
        Some(parent) => parent.to_path_buf(),
        None => manifest_dir.to_path_buf(),
    }
}

/// Where `cargo xtask build` puts the images.
pub fn images_dir() -> PathBuf {
    workspace_root().join("target").join("images")
}

/// Parent of every per-run directory (`target/qemu-runs`).
pub fn runs_dir() -> PathBuf {
    workspace_root().join("target").join("qemu-runs")
}

/// The three files a run needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// RMM ELF: its `.defmt` section decodes `rmm.defmt`.
    pub rmm_elf: PathBuf,
    /// Host stub ELF: its `.defmt` section decodes `host.defmt`.
    pub host_elf: PathBuf,
    /// TF-A BL1 + FIP (with the RMM and host stub inside), given to `-bios`.
    pub bios: PathBuf,
}

impl Images {
    /// File names inside the images directory, in field order.
    pub const FILE_NAMES: [&'static str; 3] = ["rmm.elf", "host-stub.elf", "qemu_fw.bios"];

    /// Finds the images in `target/images` of the workspace.
    ///
    /// Fails with a message naming every missing file and telling the user
    /// to run `cargo xtask build` first.
    pub fn locate() -> Result<Images, String> {
        Self::locate_in(&images_dir())
    }

    /// Like [`Images::locate`], but looks in `dir`.
    pub fn locate_in(dir: &Path) -> Result<Images, String> {
        let [rmm, host, bios] = Self::FILE_NAMES.map(|name| dir.join(name));
        let missing: Vec<String> = [&rmm, &host, &bios]
            .iter()
            .filter(|path| !path.is_file())
            .map(|path| path.display().to_string())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "firmware image(s) not found: {}; run `cargo xtask build` first",
                missing.join(", ")
            ));
        }
        Ok(Images {
            rmm_elf: rmm,
            host_elf: host,
            bios,
        })
    }
}
