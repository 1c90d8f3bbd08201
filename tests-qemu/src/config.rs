//! What one QEMU run should look like.

use std::path::PathBuf;
use std::time::Duration;

/// Timeout used by [`RunConfig::new`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings for one run. Fields are public; the `with_*` methods are a
/// shorthand for changing them in a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunConfig {
    /// Names the run directory `target/qemu-runs/<name>/`. Letters, digits,
    /// `-`, `_` and `.` only (it must not start with a dot).
    pub name: String,
    /// Number of emulated CPUs (`-smp`).
    pub cpus: u32,
    /// Wall-clock budget; QEMU is killed when it runs out.
    pub timeout: Duration,
    /// Appended after the standard command line (which already has
    /// [`crate::DETERMINISTIC`]), e.g. `["-d", "in_asm"]`.
    pub extra_args: Vec<String>,
    /// QEMU executable to use instead of `qemu-system-aarch64` from `PATH`.
    pub qemu_binary: Option<PathBuf>,
    /// Files put in the run directory before QEMU starts (name, contents), for the firmware
    /// to read over semihosting.
    pub input_files: Vec<(String, Vec<u8>)>,
}

impl RunConfig {
    /// A run called `name` on `cpus` CPUs with [`DEFAULT_TIMEOUT`] and no
    /// extra arguments.
    pub fn new(name: impl Into<String>, cpus: u32) -> Self {
        RunConfig {
            name: name.into(),
            cpus,
            timeout: DEFAULT_TIMEOUT,
            extra_args: Vec::new(),
            qemu_binary: None,
            input_files: Vec::new(),
        }
    }

    /// Sets the timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Appends one extra QEMU argument.
    pub fn with_arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    /// Appends several extra QEMU arguments.
    pub fn with_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.extra_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Uses `path` as the QEMU executable.
    pub fn with_qemu_binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.qemu_binary = Some(path.into());
        self
    }

    /// Puts a file called `name` holding `contents` in the run directory before QEMU starts.
    pub fn with_input_file(
        mut self,
        name: impl Into<String>,
        contents: impl Into<Vec<u8>>,
    ) -> Self {
        self.input_files.push((name.into(), contents.into()));
        self
    }

    /// Checks that the name is safe to use as a directory that gets deleted.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let name = &self.name;
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if name.is_empty() || name.starts_with('.') || !name.chars().all(allowed) {
            return Err(format!(
                "invalid run name {name:?}: use letters, digits, '-', '_' and '.' \
                 (not leading), since it names a directory that is deleted on each run"
            ));
        }
        for (file, _) in &self.input_files {
            if file.is_empty() || file.starts_with('.') || !file.chars().all(allowed) {
                return Err(format!("invalid input file name {file:?}"));
            }
        }
        if self.cpus == 0 {
            return Err("a run needs at least one CPU".to_string());
        }
        Ok(())
    }
}
