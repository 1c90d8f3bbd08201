//! The result of a run and the ways of looking at it.

use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::time::Duration;

/// Which firmware image a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// The RMM (`rmm.defmt`, decoded with `rmm.elf`).
    Rmm,
    /// The host stub (`host.defmt`, decoded with `host-stub.elf`).
    Host,
}

impl Source {
    /// Short lowercase name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Source::Rmm => "rmm",
            Source::Host => "host",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One decoded defmt message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// System counter value when the message was logged.
    pub ticks: u64,
    /// Which stream it came from.
    pub source: Source,
    /// `TRACE`, `DEBUG`, `INFO`, `WARN` or `ERROR`; `None` for `println!`.
    pub level: Option<String>,
    /// The formatted message.
    pub text: String,
}

/// Width of the `[ticks] src LEVEL ` prefix, used to indent continuation
/// lines of multi-line messages.
const PREFIX_WIDTH: usize = 1 + 13 + 2 + 4 + 1 + 5 + 1;

impl fmt::Display for LogLine {
    /// `[    123456789] rmm  INFO  cpu 0: cold boot`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = self.level.as_deref().unwrap_or("");
        write!(
            f,
            "[{:>13}] {:<4} {:<5} ",
            self.ticks,
            self.source.name(),
            level
        )?;
        let mut pieces = self.text.split('\n');
        if let Some(first) = pieces.next() {
            f.write_str(first)?;
        }
        for piece in pieces {
            write!(f, "\n{:width$}{piece}", "", width = PREFIX_WIDTH)?;
        }
        Ok(())
    }
}

/// How QEMU finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    /// QEMU exited by itself with this status. 0 means the host stub reported
    /// success through semihosting. If QEMU died from a signal the status is
    /// `128 + signal`, as a shell would show it, and the outcome's notes say
    /// so.
    Exited(i32),
    /// The timeout expired; QEMU was killed and reaped.
    TimedOut,
    /// QEMU never ran (not installed, bad run name, run dir not writable...).
    SpawnFailed(String),
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunStatus::Exited(0) => f.write_str("exited with status 0 (passed)"),
            RunStatus::Exited(code) => write!(f, "exited with status {code} (FAILED)"),
            RunStatus::TimedOut => f.write_str("timed out; QEMU was killed (FAILED)"),
            RunStatus::SpawnFailed(why) => write!(f, "QEMU could not be started (FAILED): {why}"),
        }
    }
}

/// Everything known about a finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// The run's name (from [`crate::RunConfig::name`]).
    pub name: String,
    /// How QEMU finished.
    pub status: RunStatus,
    /// `target/qemu-runs/<name>/`, which keeps the raw files.
    pub run_dir: PathBuf,
    /// Program and arguments that were (or would have been) run.
    pub command: Vec<String>,
    /// The timeout the run was given.
    pub timeout: Duration,
    /// Wall-clock time from spawn until QEMU was reaped.
    pub elapsed: Duration,
    /// QEMU's process id, once it was spawned.
    pub pid: Option<u32>,
    /// Contents of `uart.log` (CRLF turned into LF).
    pub uart: String,
    /// Both defmt streams, decoded and merged by ticks.
    pub lines: Vec<LogLine>,
    /// Frames the defmt decoder rejected, both streams together.
    pub malformed_frames: usize,
    /// Contents of `qemu.stderr`.
    pub qemu_stderr: String,
    /// Things the runner noticed that do not fit elsewhere (undecodable
    /// streams, QEMU killed by a signal, ...).
    pub notes: Vec<String>,
}

impl RunOutcome {
    /// True when QEMU exited with status 0, i.e. the firmware reported a pass.
    pub fn passed(&self) -> bool {
        self.status == RunStatus::Exited(0)
    }

    /// Panics with the full [`report`](Self::report) unless the run passed.
    #[track_caller]
    pub fn expect_pass(&self) {
        if !self.passed() {
            panic!(
                "QEMU run `{}` did not pass: {}\n\n{}",
                self.name,
                self.status,
                self.report()
            );
        }
    }

    /// Decoded lines from one source, in time order.
    pub fn lines_from(&self, source: Source) -> impl Iterator<Item = &LogLine> {
        self.lines.iter().filter(move |line| line.source == source)
    }

    /// Texts of the host stub's lines, in time order.
    pub fn host_lines(&self) -> impl Iterator<Item = &str> {
        self.lines_from(Source::Host).map(|line| line.text.as_str())
    }

    /// Texts of the RMM's lines, in time order.
    pub fn rmm_lines(&self) -> impl Iterator<Item = &str> {
        self.lines_from(Source::Rmm).map(|line| line.text.as_str())
    }

    /// First line from `source` whose text contains `needle`.
    pub fn find(&self, source: Source, needle: &str) -> Option<&LogLine> {
        self.lines_from(source)
            .find(|line| line.text.contains(needle))
    }

    /// Index in [`lines`](Self::lines) of the first line from `source`
    /// containing `needle`; compare two of these to check ordering.
    pub fn position(&self, source: Source, needle: &str) -> Option<usize> {
        self.lines
            .iter()
            .position(|line| line.source == source && line.text.contains(needle))
    }

    /// Number of lines from `source` whose text contains `needle`.
    pub fn count(&self, source: Source, needle: &str) -> usize {
        self.lines_from(source)
            .filter(|line| line.text.contains(needle))
            .count()
    }

    /// The merged decoded log, one formatted [`LogLine`] per line.
    pub fn story(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            let _ = writeln!(out, "{line}");
        }
        out
    }

    /// Prints the merged decoded log followed by a one-line verdict; this is
    /// the demo view used by `cargo xtask run`.
    pub fn print_story(&self) {
        print!("{}", self.story());
        if self.lines.is_empty() {
            println!("(no defmt output from the firmware)");
        }
        println!("{}", self.summary());
    }

    /// One line: name, status, time taken.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "QEMU run `{}`: {} after {:.1} s",
            self.name,
            self.status,
            self.elapsed.as_secs_f64()
        );
        if self.status == RunStatus::TimedOut {
            let _ = write!(line, " (timeout {:.1} s)", self.timeout.as_secs_f64());
        }
        line
    }

    /// Full human-readable account of the run: status, decoded log, UART,
    /// QEMU's stderr and the runner's notes.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "==== {} ====", self.summary());
        let _ = writeln!(out, "run dir: {}", self.run_dir.display());
        if !self.command.is_empty() {
            let _ = writeln!(out, "command: {}", self.command.join(" "));
            let _ = writeln!(
                out,
                "rerun it alone: (cd {} && {})",
                shell_quote(&self.run_dir.display().to_string()),
                self.command
                    .iter()
                    .map(|a| shell_quote(a))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        out.push_str(&self.failure_digest());

        let rmm = self.lines_from(Source::Rmm).count();
        let host = self.lines.len() - rmm;
        let _ = writeln!(
            out,
            "---- decoded defmt log: {} lines (rmm {rmm}, host {host}), {} malformed frames ----",
            self.lines.len(),
            self.malformed_frames
        );
        if self.lines.is_empty() {
            out.push_str("(none)\n");
        } else {
            out.push_str(&self.story());
        }

        let _ = writeln!(out, "---- uart.log ({} bytes) ----", self.uart.len());
        push_block(&mut out, &self.uart);

        if !self.qemu_stderr.trim().is_empty() {
            out.push_str("---- QEMU stderr ----\n");
            push_block(&mut out, &self.qemu_stderr);
        }
        if !self.notes.is_empty() {
            out.push_str("---- runner notes ----\n");
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        let _ = writeln!(out, "==== end of run `{}`: {} ====", self.name, self.status);
        out
    }
}

impl RunOutcome {
    /// What a reader of a failed run wants first: the checks that failed (every ERROR line and
    /// every line that says FAIL), then the last lines each CPU logged (lines that name a CPU as
    /// `cpu N:`) and the last lines of each image. Empty for a run that passed with no error.
    pub fn failure_digest(&self) -> String {
        let mut out = String::new();
        let failed: Vec<&LogLine> = self
            .lines
            .iter()
            .filter(|l| l.level.as_deref() == Some("ERROR") || l.text.contains("FAIL"))
            .collect();
        if self.passed() && failed.is_empty() {
            return out;
        }
        let _ = writeln!(out, "---- failed checks ({}) ----", failed.len());
        if failed.is_empty() {
            out.push_str("(no ERROR or FAIL line: see the status and the logs below)\n");
        }
        for line in &failed {
            let _ = writeln!(out, "{line}");
        }
        let mut cpus: Vec<(Source, u32)> = self
            .lines
            .iter()
            .filter_map(|l| Some((l.source, cpu_of(&l.text)?)))
            .collect();
        cpus.sort();
        cpus.dedup();
        for (source, cpu) in cpus {
            let last: Vec<&LogLine> = self
                .lines_from(source)
                .filter(|l| cpu_of(&l.text) == Some(cpu))
                .collect();
            let _ = writeln!(out, "---- last lines of {source} cpu {cpu} ----");
            for line in &last[last.len().saturating_sub(DIGEST_LINES)..] {
                let _ = writeln!(out, "{line}");
            }
        }
        for source in [Source::Rmm, Source::Host] {
            let last: Vec<&LogLine> = self.lines_from(source).collect();
            let _ = writeln!(out, "---- last lines of {source} ----");
            if last.is_empty() {
                out.push_str("(none)\n");
            }
            for line in &last[last.len().saturating_sub(DIGEST_LINES)..] {
                let _ = writeln!(out, "{line}");
            }
        }
        out
    }
}

/// Lines per CPU and per image in [`RunOutcome::failure_digest`].
const DIGEST_LINES: usize = 6;

/// The CPU a log line names at its start (`cpu 3: ...`), if any.
fn cpu_of(text: &str) -> Option<u32> {
    let rest = text.strip_prefix("cpu ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if rest[digits.len()..].starts_with(':') {
        digits.parse().ok()
    } else {
        None
    }
}

/// `arg` as a POSIX shell word.
fn shell_quote(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Appends `text`, making sure it ends with a newline; `(empty)` if blank.
fn push_block(out: &mut String, text: &str) {
    if text.trim().is_empty() {
        out.push_str("(empty)\n");
        return;
    }
    out.push_str(text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
}
