//! Turning the semihosted defmt byte streams back into text.
//!
//! Each stream is decoded with the table from the ELF that produced it. The
//! firmware's global timestamp is the system counter (`{=u64}`), which is
//! the same on every CPU, so lines from both streams can be merged by it.

use std::fs;
use std::io::ErrorKind;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use defmt_decoder::{DecodeError, Table};

use crate::outcome::{LogLine, Source};

/// What came out of one defmt stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamLog {
    /// Decoded lines, in stream order.
    pub lines: Vec<LogLine>,
    /// Frames the decoder rejected.
    pub malformed: usize,
    /// Anything that stopped the stream from being decoded fully.
    pub problems: Vec<String>,
}

/// Decodes the defmt file `defmt_path` with the table in `elf_path`.
///
/// A missing or empty `defmt_path` means the firmware logged nothing on that
/// stream: the result is empty and the ELF is not even read. Problems
/// (unreadable ELF, no defmt table, decoder failure) are described in
/// [`StreamLog::problems`] instead of being returned as errors, so a run's
/// outcome always carries whatever could be recovered.
pub fn decode_defmt_file(elf_path: &Path, defmt_path: &Path, source: Source) -> StreamLog {
    let mut log = StreamLog::default();
    let bytes = match fs::read(defmt_path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == ErrorKind::NotFound => return log,
        Err(err) => {
            log.problems
                .push(format!("cannot read {}: {err}", defmt_path.display()));
            return log;
        }
    };
    if bytes.is_empty() {
        return log;
    }

    let undecoded = |why: String| {
        format!(
            "{} ({} bytes) left undecoded: {why}",
            defmt_path.display(),
            bytes.len()
        )
    };
    let elf = match fs::read(elf_path) {
        Ok(elf) => elf,
        Err(err) => {
            log.problems.push(undecoded(format!(
                "cannot read {}: {err}",
                elf_path.display()
            )));
            return log;
        }
    };
    let table = match Table::parse(&elf) {
        Ok(Some(table)) => table,
        Ok(None) => {
            log.problems.push(undecoded(format!(
                "{} has no .defmt section",
                elf_path.display()
            )));
            return log;
        }
        Err(err) => {
            log.problems.push(undecoded(format!(
                "cannot read the defmt table of {}: {err:#}",
                elf_path.display()
            )));
            return log;
        }
    };

    // The decoder is third-party code fed with whatever the guest wrote; a
    // panic in it must not take the rest of the outcome down with it.
    match panic::catch_unwind(AssertUnwindSafe(|| decode_stream(&table, &bytes, source))) {
        Ok(decoded) => decoded,
        Err(_) => {
            log.problems
                .push(undecoded("the defmt decoder panicked".to_string()));
            log
        }
    }
}

/// Decodes a whole defmt byte stream with `table`.
///
/// Frames whose timestamp is missing or not a plain integer take the
/// timestamp of the frame before them in the same stream (0 at the start).
pub fn decode_stream(table: &Table, bytes: &[u8], source: Source) -> StreamLog {
    let mut log = StreamLog::default();
    let mut decoder = table.new_stream_decoder();
    decoder.received(bytes);

    let mut last_ticks = 0;
    loop {
        match decoder.decode() {
            Ok(frame) => {
                let ticks = frame
                    .display_timestamp()
                    .and_then(|ts| ts.to_string().trim().parse::<u64>().ok())
                    .unwrap_or(last_ticks);
                last_ticks = ticks;
                log.lines.push(LogLine {
                    ticks,
                    source,
                    level: frame.level().map(|l| l.as_str().to_ascii_uppercase()),
                    text: frame.display_message().to_string(),
                });
            }
            Err(DecodeError::UnexpectedEof) => break,
            Err(DecodeError::Malformed) => {
                log.malformed += 1;
                if !table.encoding().can_recover() {
                    log.problems.push(format!(
                        "{source} stream: malformed frame and the encoding cannot resync; \
                         the rest of the stream was dropped"
                    ));
                    break;
                }
            }
        }
    }

    // rzCOBS frames end with a 0x00; anything after the last one is a frame
    // the firmware did not finish (e.g. QEMU was killed mid-write).
    if table.encoding().can_recover() && bytes.last().is_some_and(|&b| b != 0) {
        log.problems.push(format!(
            "{source} stream ends inside an unterminated frame (dropped)"
        ));
    }
    log
}

/// Merges per-stream line lists into one list ordered by `ticks`.
///
/// The sort is stable, so lines with equal ticks keep their stream order,
/// and on a tie between streams the earlier argument comes first.
pub fn merge_lines(first: Vec<LogLine>, second: Vec<LogLine>) -> Vec<LogLine> {
    let mut all = first;
    all.extend(second);
    all.sort_by_key(|line| line.ticks);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a decoder table by hand (the real one comes from an ELF).
    /// Index 1 is the timestamp-free `println`, 2..=4 are leveled formats.
    fn table() -> Table {
        let json = serde_json::json!({
            "timestamp": {
                "string": { "tag": "Timestamp", "string": "{=u64}" },
                "raw_symbol": "ts"
            },
            "entries": {
                "1": { "string": { "tag": "Println", "string": "plain {=u8}" }, "raw_symbol": "a" },
                "2": { "string": { "tag": "Info", "string": "cpu {=u8}: cold boot" }, "raw_symbol": "b" },
                "3": { "string": { "tag": "Warn", "string": "slow path {=u32:#x}" }, "raw_symbol": "c" },
                "4": { "string": { "tag": "Error", "string": "no arguments" }, "raw_symbol": "d" }
            },
            "bitflags": {},
            "encoding": "Rzcobs"
        });
        match serde_json::from_value(json) {
            Ok(table) => table,
            Err(err) => panic!("test table does not deserialize: {err}"),
        }
    }

    /// rzCOBS encoding of one frame, terminator included. Groups of up to
    /// seven bytes carry a bitmap of which of them were zero; runs of seven
    /// or more non-zero bytes are written as a length byte (`0x80 | n-7`)
    /// that also stands for the zero following them.
    fn rzcobs(frame: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut run: u8 = 0;
        let mut zero_bits: u8 = 0;
        for &byte in frame {
            if run < 7 {
                if byte == 0 {
                    zero_bits |= 1 << run;
                } else {
                    out.push(byte);
                }
                run += 1;
                if run == 7 && zero_bits != 0 {
                    out.push(zero_bits);
                    run = 0;
                    zero_bits = 0;
                }
            } else if byte == 0 {
                out.push(0x80 | (run - 7));
                run = 0;
                zero_bits = 0;
            } else {
                out.push(byte);
                run += 1;
                if run == 134 {
                    out.push(0xff);
                    run = 0;
                    zero_bits = 0;
                }
            }
        }
        match run {
            0 => {}
            // Pad the unfinished group with zeros; the decoder ignores them.
            1..=6 => out.push((zero_bits | (0xff << run)) & 0x7f),
            _ => out.push(0x80 | (run - 7)),
        }
        out.push(0);
        out
    }

    /// Index, u64 timestamp, then the argument bytes.
    fn frame(index: u16, ticks: u64, args: &[u8]) -> Vec<u8> {
        let mut raw = index.to_le_bytes().to_vec();
        raw.extend_from_slice(&ticks.to_le_bytes());
        raw.extend_from_slice(args);
        rzcobs(&raw)
    }

    #[test]
    fn decodes_levels_arguments_and_timestamps() {
        let mut bytes = vec![0];
        bytes.extend(frame(2, 1_000, &[3]));
        bytes.extend(frame(3, 0x1234_5678_9abc, &0xbeefu32.to_le_bytes()));
        bytes.extend(frame(1, 2_000, &[0]));
        bytes.extend(frame(4, u64::MAX, &[]));

        let log = decode_stream(&table(), &bytes, Source::Rmm);
        assert_eq!(log.malformed, 0);
        assert!(log.problems.is_empty(), "{:?}", log.problems);
        let got: Vec<(u64, Option<&str>, &str)> = log
            .lines
            .iter()
            .map(|l| (l.ticks, l.level.as_deref(), l.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (1_000, Some("INFO"), "cpu 3: cold boot"),
                (0x1234_5678_9abc, Some("WARN"), "slow path 0xbeef"),
                (2_000, None, "plain 0"),
                (u64::MAX, Some("ERROR"), "no arguments"),
            ]
        );
        assert!(log.lines.iter().all(|l| l.source == Source::Rmm));
    }

    #[test]
    fn malformed_frames_are_counted_and_the_stream_resyncs() {
        let mut bytes = frame(2, 10, &[0]);
        bytes.extend([0x05, 0x00]); // a group byte with its data bytes missing
        bytes.extend(frame(99, 11, &[])); // index not in the table
        bytes.extend(frame(2, 12, &[1]));

        let log = decode_stream(&table(), &bytes, Source::Host);
        assert_eq!(log.malformed, 2);
        let texts: Vec<&str> = log.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["cpu 0: cold boot", "cpu 1: cold boot"]);
    }

    #[test]
    fn a_truncated_last_frame_is_reported() {
        let mut bytes = frame(2, 10, &[0]);
        let partial = frame(2, 11, &[1]);
        bytes.extend_from_slice(&partial[..partial.len() - 2]);

        let log = decode_stream(&table(), &bytes, Source::Rmm);
        assert_eq!(log.lines.len(), 1);
        assert_eq!(log.problems.len(), 1, "{:?}", log.problems);
        assert!(log.problems[0].contains("unterminated"));
    }

    #[test]
    fn long_runs_without_zeros_round_trip() {
        // A 140-byte string argument exercises the run-length encodings.
        let json = serde_json::json!({
            "timestamp": { "string": { "tag": "Timestamp", "string": "{=u64}" }, "raw_symbol": "ts" },
            "entries": { "7": { "string": { "tag": "Debug", "string": "{=[u8]:a}" }, "raw_symbol": "s" } },
            "bitflags": {},
            "encoding": "Rzcobs"
        });
        let table: Table = match serde_json::from_value(json) {
            Ok(table) => table,
            Err(err) => panic!("{err}"),
        };
        let payload = vec![b'x'; 140];
        let mut args = (payload.len() as u32).to_le_bytes().to_vec();
        args.extend_from_slice(&payload);
        let bytes = frame(7, 0x0101_0101_0101_0101, &args);

        let log = decode_stream(&table, &bytes, Source::Rmm);
        assert_eq!(log.malformed, 0);
        assert_eq!(log.lines.len(), 1);
        assert_eq!(log.lines[0].ticks, 0x0101_0101_0101_0101);
        assert_eq!(log.lines[0].text, format!("b\"{}\"", "x".repeat(140)));
    }
}
