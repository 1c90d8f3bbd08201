//! `cargo xtask bench`: figures measured on the real stack under QEMU, printed as tables.
//!
//! Instruction counts: QEMU runs with `-icount shift=0,sleep=off -seed 1`, so its `max` CPU's
//! 1 GHz counter advances exactly one tick per executed instruction and runs repeat exactly.
//! The realm payload times its own host calls (SMC to resume) with CNTVCT; the host stub times
//! REC_ENTER calls that end in a trapped WFI, and RMI_VERSION calls, with CNTPCT. Each figure is
//! the median of at least 100 samples, and covers every exception level the path crosses (EL3
//! included).
//!
//! Granule tracking: the RMM reports at cold boot how many granules its table tracks, the bytes
//! per granule and the carve-out memory left for the table; from these follow the tracking cost
//! and the largest DRAM this build can track on this board.
//!
//! Static RAM: the RMM reports at cold boot the CPUs EL3 named, the stack each gets and the
//! stage-1 tables it built, all carved from its carve-out at boot, and its `.bss`; the figure
//! is `.bss` (read from the ELF, checked against the RMM's own) plus those stacks and tables.

use std::time::Duration;

use tests_qemu::{Images, RunConfig, Source};

use crate::elf::Elf;
use crate::trace::{self, Layout, Path, Split, Who};

/// Numbers parsed from the RMM's "granule tracking: N granules, B bytes each, T KiB of F KiB
/// free" line.
struct Tracking {
    granules: u64,
    bytes_each: u64,
    table_kib: u64,
    free_kib: u64,
}

/// The decimal numbers in `line` after the first `marker`, in order (`None` without it).
fn numbers_after(line: &str, marker: &str) -> Option<Vec<u64>> {
    let rest = line.split(marker).nth(1)?;
    Some(
        rest.split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect(),
    )
}

fn parse_tracking(line: &str) -> Option<Tracking> {
    let nums = numbers_after(line, "granule tracking: ")?;
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

/// Numbers parsed from the RMM's "memory: N CPUs x S KiB stacks, T KiB tables from the
/// carve-out; .bss B bytes" line.
struct Memory {
    cpus: u64,
    stack_kib: u64,
    tables_kib: u64,
    bss: u64,
}

impl Memory {
    /// Bytes the stacks and tables take from the carve-out.
    fn carved(&self) -> u64 {
        (self.cpus * self.stack_kib + self.tables_kib) * 1024
    }
}

fn parse_memory(line: &str) -> Option<Memory> {
    let nums = numbers_after(line, "memory: ")?;
    match nums[..] {
        [cpus, stack_kib, tables_kib, bss, ..] => Some(Memory {
            cpus,
            stack_kib,
            tables_kib,
            bss,
        }),
        _ => None,
    }
}

/// The numbers of a host-stub "bench: NAME: median M ticks (min A, max B) over N ..." line.
fn parse_bench(line: &str) -> Option<[u64; 4]> {
    let nums = numbers_after(line, "median ")?;
    match nums[..] {
        [median, min, max, n, ..] => Some([median, min, max, n]),
        _ => None,
    }
}

/// (line prefix, table label, reference C implementation's figure on this stack if measured).
const PATHS: [(&str, &str, Option<u64>); 6] = [
    (
        "bench: host-call round trip, minimal host",
        "host-call round trip, minimal host (realm SMC -> the host re-enters at once -> realm resume)",
        Some(12_931),
    ),
    (
        "bench: host-call round trip (",
        "host-call round trip, KVM model (realm SMC -> KVM_EXIT_HYPERCALL, ONE_REG -> realm resume)",
        None,
    ),
    (
        "bench: host-call round trip, the realm using FP/SIMD",
        "host-call round trip, realm writing an FP/SIMD register before and after each call",
        None,
    ),
    (
        "bench: empty REC_ENTER/exit",
        "empty REC_ENTER/exit (trapped WFI)",
        Some(9_891),
    ),
    (
        "bench: RMI_VERSION",
        "RMI_VERSION (host SMC -> host resume)",
        Some(1_294),
    ),
    (
        "bench: GRANULE_DELEGATE + UNDELEGATE",
        "GRANULE_DELEGATE + GRANULE_UNDELEGATE (host, EL3's GPT updates included)",
        None,
    ),
];

/// An address range `[lo, hi)`.
type Range = (u64, u64);

/// The text range of the ELF file at `path`, and the function at each of `functions` (Rust
/// paths; see [`Elf::function`]).
fn text_and_functions(
    path: &std::path::Path,
    functions: &[&str],
) -> Result<(Range, Vec<Range>), String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let elf = Elf::parse(&data).ok_or(format!("{} is not an ELF64 file", path.display()))?;
    let text = elf
        .text_range()
        .ok_or(format!("{}: no executable section", path.display()))?;
    let found = functions
        .iter()
        .map(|f| {
            elf.function(f)
                .ok_or(format!("{}: no function {f}", path.display()))
        })
        .collect::<Result<_, _>>()?;
    Ok((text, found))
}

/// The paths the per-PC trace splits by image: (label, the image that times it, its function,
/// excursions per sample, the prefix of the timed figure's line).
const SPLIT_PATHS: [(&str, Who, &str, usize, &str); 5] = [
    (
        "host-call round trip, minimal host",
        Who::Realm,
        "realm::bench_minimal_host",
        1,
        "bench: host-call round trip, minimal host",
    ),
    (
        "host-call round trip, KVM model",
        Who::Realm,
        "realm::bench_kvm_host",
        1,
        "bench: host-call round trip (",
    ),
    (
        "empty REC_ENTER + WFI exit",
        Who::Realm,
        "realm::bench_wfi",
        1,
        "bench: empty REC_ENTER/exit",
    ),
    (
        "RMI_VERSION",
        Who::Host,
        "scenario::bench_rmi_version",
        1,
        "bench: RMI_VERSION",
    ),
    (
        "GRANULE_DELEGATE + UNDELEGATE",
        Who::Host,
        "scenario::bench_delegation",
        2,
        "bench: GRANULE_DELEGATE + UNDELEGATE",
    ),
];

/// Runs the bench boot with QEMU's execution log streamed through a FIFO into the analyzer.
fn traced_run(
    images: &Images,
    cfg: RunConfig,
) -> Result<(tests_qemu::RunOutcome, trace::Analyzer), String> {
    let realm_elf = tests_qemu::images_dir().join("realm-payload.elf");
    let realm_fns: Vec<&str> = SPLIT_PATHS
        .iter()
        .filter(|p| p.1 == Who::Realm)
        .map(|p| p.2)
        .collect();
    let host_fns: Vec<&str> = SPLIT_PATHS
        .iter()
        .filter(|p| p.1 == Who::Host)
        .map(|p| p.2)
        .collect();
    let (rmm, _) = text_and_functions(&images.rmm_elf, &[])?;
    let (host, host_found) = text_and_functions(&images.host_elf, &host_fns)?;
    let (realm, realm_found) = text_and_functions(&realm_elf, &realm_fns)?;
    let (mut host_found, mut realm_found) = (host_found.into_iter(), realm_found.into_iter());
    let paths = SPLIT_PATHS
        .iter()
        .map(|&(label, timer, _, per_sample, _)| Path {
            label,
            timer,
            function: if timer == Who::Host {
                host_found.next()
            } else {
                realm_found.next()
            }
            .unwrap_or((0, 0)),
            per_sample,
        })
        .collect();
    let analyzer = trace::Analyzer::new(Layout { rmm, host, realm }, paths);
    let runs = tests_qemu::runs_dir();
    std::fs::create_dir_all(&runs).map_err(|e| format!("{}: {e}", runs.display()))?;
    let fifo = runs.join("bench-trace.fifo");
    let _ = std::fs::remove_file(&fifo);
    crate::setup::sh(std::process::Command::new("mkfifo").arg(&fifo))?;
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || -> Result<trace::Analyzer, String> {
            use std::io::BufRead;
            let mut analyzer = analyzer;
            let file =
                std::fs::File::open(&fifo).map_err(|e| format!("{}: {e}", fifo.display()))?;
            let mut input = std::io::BufReader::with_capacity(1 << 20, file);
            let mut line = Vec::new();
            loop {
                line.clear();
                match input.read_until(b'\n', &mut line) {
                    Ok(0) => return Ok(analyzer),
                    Ok(_) => {
                        let text = std::str::from_utf8(&line).unwrap_or("");
                        analyzer.line(text.trim_end_matches('\n'));
                    }
                    Err(e) => return Err(format!("reading QEMU's log: {e}")),
                }
            }
        })
    };
    let cfg = cfg.with_args(["-d", trace::QEMU_LOG_FLAGS, "-D"]).with_arg(
        fifo.to_str()
            .ok_or("the FIFO's path is not UTF-8")?
            .to_string(),
    );
    let outcome = tests_qemu::run(images, &cfg);
    if !reader.is_finished() {
        // QEMU never opened the FIFO (it failed to start): a writer that opens and closes it
        // ends the reader's wait with an empty log. Otherwise this is a harmless extra writer.
        let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
    }
    let analyzer = reader
        .join()
        .map_err(|_| "the trace reader panicked".to_string())??;
    let _ = std::fs::remove_file(&fifo);
    Ok((outcome, analyzer))
}

/// Boots one CPU under instruction counting, with the per-PC trace, and reports every figure.
pub fn run() -> Result<(), String> {
    let images = Images::locate()?;
    let cfg = RunConfig::new("bench", 1).with_timeout(Duration::from_secs(600));
    let (outcome, analyzer) = traced_run(&images, cfg)?;
    if !outcome.passed() {
        return Err(format!("the benchmark boot failed:\n{}", outcome.report()));
    }
    let unknown = analyzer.unknown;
    let splits = analyzer.finish();
    let line = outcome
        .find(Source::Rmm, "granule tracking:")
        .ok_or_else(|| {
            format!(
                "the RMM did not report its tracking table\n{}",
                outcome.report()
            )
        })?;
    let t = parse_tracking(&line.text).ok_or(format!("cannot parse {:?}", line.text))?;
    let line = outcome.find(Source::Rmm, "memory: ").ok_or_else(|| {
        format!(
            "the RMM did not report its stacks and tables\n{}",
            outcome.report()
        )
    })?;
    let memory = parse_memory(&line.text).ok_or(format!("cannot parse {:?}", line.text))?;
    let dram_gib = t.granules * 4096 / (1 << 30);
    let max_granules = t.free_kib * 1024 / t.bytes_each;
    let max_gib = max_granules * 4096 / (1 << 30);
    println!("instructions per operation (QEMU 10 virt, -icount shift=0: one counter tick = one instruction; TF-A 2.12.1 debug)");
    println!("| path | median | min | max | samples | reference C RMM |");
    println!("|---|---|---|---|---|---|");
    for (prefix, label, reference) in PATHS {
        let line = outcome
            .find(Source::Host, prefix)
            .ok_or_else(|| format!("no {prefix:?} line\n{}", outcome.report()))?;
        let [median, min, max, n] =
            parse_bench(&line.text).ok_or(format!("cannot parse {:?}", line.text))?;
        let reference = reference.map_or("not measured".to_string(), |r| r.to_string());
        println!("| {label} | {median} | {min} | {max} | {n} | {reference} |");
    }
    println!();
    println!(
        "the split by image of the median sample, from the per-PC trace (instructions; EL3 = TF-A)"
    );
    println!("| path | RMM | EL3 | host | realm | trace total | timed median | samples |");
    println!("|---|---|---|---|---|---|---|---|");
    let figure = |prefix: &str| {
        outcome
            .find(Source::Host, prefix)
            .and_then(|l| parse_bench(&l.text))
            .map_or(0, |[median, ..]| median)
    };
    let mut shares = Vec::new();
    for ((path, split), (_, _, _, _, prefix)) in splits.iter().zip(SPLIT_PATHS) {
        let split: &Split = split
            .as_ref()
            .ok_or(format!("the trace holds no sample of {}", path.label))?;
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            path.label,
            split.of(Who::Rmm),
            split.of(Who::El3),
            split.of(Who::Host),
            split.of(Who::Realm),
            split.total(),
            figure(prefix),
            split.samples
        );
        shares.push(split.of(Who::Rmm));
    }
    if unknown > 0 {
        println!("({unknown} TB executions without a translation in the log, counted as one instruction each)");
    }
    println!("The timed median also holds the timing image's own few instructions (the counter reads, the SMC); the host column of the realm-timed paths is the host's work between the exit and the next REC_ENTER.");
    let latency = outcome
        .find(
            Source::Host,
            "bench: host timer interrupt while the RMM makes a realm token",
        )
        .and_then(|line| {
            let ticks = line.text.rsplit(": ").next()?.strip_suffix(" ticks")?;
            ticks.parse::<u64>().ok()
        })
        .ok_or_else(|| format!("no interrupt latency line\n{}", outcome.report()))?;
    println!();
    println!(
        "interrupt latency while the RMM signs (one interrupt: the demo's mid-token host timer)"
    );
    println!("| path | instructions |");
    println!("|---|---|");
    println!("| host timer deadline -> the host's KVM model takes the interrupt, the RMM signing a realm token | {latency} |");
    println!();
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
    let reset_to_bl33 = outcome
        .find(Source::Host, "host stub up at NS-EL2")
        .map_or(0, |l| l.ticks);
    let elf = std::fs::read(&images.rmm_elf).map_err(|e| format!("rmm.elf: {e}"))?;
    let (loaded, zeroed) = Elf::parse(&elf)
        .and_then(|e| e.footprint())
        .ok_or("rmm.elf is not an ELF64 file")?;
    if zeroed != memory.bss {
        return Err(format!(
            "rmm.elf's zero-initialised sections ({zeroed} B) are not the .bss the RMM reports ({} B)",
            memory.bss
        ));
    }
    println!();
    println!(
        "issue 14's goals (round trips timed by the realm or the host; RMM shares from the trace)"
    );
    println!("| figure | now | goal |");
    println!("|---|---|---|");
    let [minimal, _, wfi, version, delegation] = shares[..] else {
        return Err("one split per path".into());
    };
    println!(
        "| host-call round trip, minimal host | {} (RMM share {minimal}) | <= 2,300 (RMM share <= 1,000) |",
        figure("bench: host-call round trip, minimal host")
    );
    println!(
        "| empty REC_ENTER + exit | {} (RMM share {wfi}) | <= 2,000 (RMM share <= 800) |",
        figure("bench: empty REC_ENTER/exit")
    );
    println!(
        "| RMI_VERSION | {} (RMM share {version}) | RMM share <= 40 |",
        figure("bench: RMI_VERSION")
    );
    println!(
        "| GRANULE_DELEGATE + UNDELEGATE | {} (RMM share {delegation}) | RMM share <= 300 |",
        figure("bench: GRANULE_DELEGATE + UNDELEGATE")
    );
    println!("| reset to BL33 (the host stub's first line) | {reset_to_bl33} | <= 12,000,000 |");
    println!("| RMM image text + rodata + data | {loaded} B | <= 100 KB |");
    println!(
        "| RMM static RAM (bss + stacks and stage-1 tables carved at boot) | {} B ({zeroed} B bss + {} CPUs x {} KiB stacks + {} KiB tables) | <= 1.7 MB |",
        zeroed + memory.carved(),
        memory.cpus,
        memory.stack_kib,
        memory.tables_kib
    );
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

    #[test]
    fn parses_the_memory_line() {
        let m = parse_memory(
            "memory: 32 CPUs x 32 KiB stacks, 36 KiB tables from the carve-out; .bss 28944 bytes",
        )
        .expect("parse");
        assert_eq!(
            (m.cpus, m.stack_kib, m.tables_kib, m.bss),
            (32, 32, 36, 28_944)
        );
        assert_eq!(m.carved(), (32 * 32 + 36) * 1024);
        assert!(parse_memory("memory: 32 CPUs x 32 KiB stacks").is_none());
        assert!(parse_memory("granule tracking: 1 granules").is_none());
    }

    #[test]
    fn parses_a_bench_line() {
        let line = "bench: RMI_VERSION: median 1234 ticks (min 1200, max 1500) over 128 calls";
        assert_eq!(parse_bench(line), Some([1234, 1200, 1500, 128]));
        assert_eq!(parse_bench("bench: RMI_VERSION: median 12 ticks"), None);
    }
}
