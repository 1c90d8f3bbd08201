//! `cargo xtask bench`: figures measured on the real stack under QEMU, printed as a table.
//!
//! Granule tracking: the RMM reports at cold boot how many granules its table tracks, the bytes
//! per granule and the carve-out memory left for the table; from these follow the tracking cost
//! and the largest DRAM this build can track on this board.

use std::time::Duration;

use tests_qemu::{Images, RunConfig, Source};

/// Numbers parsed from the RMM's "granule tracking: N granules, B bytes each, T KiB of F KiB
/// free" line.
struct Tracking {
    granules: u64,
    bytes_each: u64,
    table_kib: u64,
    free_kib: u64,
}

fn parse_tracking(line: &str) -> Option<Tracking> {
    let rest = line.split("granule tracking: ").nth(1)?;
    let nums: Vec<u64> = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    match nums[..] {
        [granules, bytes_each, table_kib, free_kib, ..] => Some(Tracking {
            granules,
            bytes_each,
            table_kib,
            free_kib,
        }),
        _ => None,
    }
}

/// Boots one CPU and reports the tracking figures.
pub fn run() -> Result<(), String> {
    let images = Images::locate()?;
    let cfg = RunConfig::new("bench-tracking", 1).with_timeout(Duration::from_secs(60));
    let outcome = tests_qemu::run(&images, &cfg);
    if !outcome.passed() {
        return Err(format!("the benchmark boot failed:\n{}", outcome.report()));
    }
    let line = outcome
        .find(Source::Rmm, "granule tracking:")
        .ok_or_else(|| {
            format!(
                "the RMM did not report its tracking table\n{}",
                outcome.report()
            )
        })?;
    let t = parse_tracking(&line.text).ok_or(format!("cannot parse {:?}", line.text))?;
    let dram_gib = t.granules * 4096 / (1 << 30);
    let max_granules = t.free_kib * 1024 / t.bytes_each;
    let max_gib = max_granules * 4096 / (1 << 30);
    println!("granule tracking (QEMU virt, measured at cold boot)");
    println!("| figure                              | value |");
    println!("|-------------------------------------|-------|");
    println!("| bytes per 4 KiB granule             | {} |", t.bytes_each);
    println!(
        "| DRAM in the manifest                | {dram_gib} GiB ({} granules) |",
        t.granules
    );
    println!(
        "| tracking table                      | {} KiB |",
        t.table_kib
    );
    println!(
        "| RMM carve-out left for the table    | {} KiB |",
        t.free_kib
    );
    println!("| largest DRAM this carve-out tracks  | {max_gib} GiB |");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_boot_line() {
        let t = parse_tracking(
            "granule tracking: 786432 granules, 2 bytes each, 1536 KiB of 22224 KiB free",
        )
        .expect("parse");
        assert_eq!(
            (t.granules, t.bytes_each, t.table_kib, t.free_kib),
            (786_432, 2, 1536, 22_224)
        );
        assert!(parse_tracking("granule tracking: 12 granules").is_none());
    }
}
