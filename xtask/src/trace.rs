//! The split of the bench's round trips by image (RMM, EL3, host, realm), from a per-PC trace.
//!
//! The bench's QEMU run logs `-d exec,nochain,in_asm` into a FIFO that [`Analyzer`] reads as
//! QEMU writes it (about 22 M lines for a bench run; nothing goes to disk). `in_asm` prints each
//! translation block (TB) once, when it is translated, just before its first execution; `exec`
//! with `nochain` prints every execution of a TB with its host-code address and guest PC. So the
//! instructions of each execution are known (the TB's size, from its translation), and each PC
//! falls in one image: the RMM's, the host stub's or the realm payload's text, or else EL3's
//! (TF-A, and the firmware before it).
//!
//! A path is measured in the window of one function of the image that times it (the realm
//! payload's `bench_minimal_host`, say): from the first to the last TB executed in that function.
//! Inside the window, every *excursion* (the TBs run outside the timing image, from leaving it to
//! coming back) is one round trip, or part of one (`per_sample`). The median sample's split is
//! reported.
//!
//! Limits: counts are per TB, so an exception taken in the middle of a TB (an abort, or an
//! interrupt before the TB's end) counts the TB's remaining instructions too; the timed figures
//! also include the few instructions of the timing image itself (reading the counter, the SMC),
//! which an excursion leaves out. One CPU only (`-smp 1`): excursions of several CPUs interleave.

use std::collections::HashMap;

/// QEMU's `-d` flags the analyzer reads.
pub const QEMU_LOG_FLAGS: &str = "exec,nochain,in_asm";

/// Who runs an instruction, by its PC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Rmm = 0,
    El3 = 1,
    Host = 2,
    Realm = 3,
}

/// The text ranges `[lo, hi)` of the three images we build; any other PC is EL3's.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub rmm: (u64, u64),
    pub host: (u64, u64),
    pub realm: (u64, u64),
}

impl Layout {
    fn who(&self, pc: u64) -> Who {
        let within = |(lo, hi): (u64, u64)| (lo..hi).contains(&pc);
        if within(self.rmm) {
            Who::Rmm
        } else if within(self.host) {
            Who::Host
        } else if within(self.realm) {
            Who::Realm
        } else {
            Who::El3
        }
    }
}

/// One measured path: the function whose window holds it, in the image that times it, and how
/// many excursions make one sample (two for a DELEGATE + UNDELEGATE pair).
#[derive(Clone, Debug)]
pub struct Path {
    pub label: &'static str,
    pub timer: Who,
    pub function: (u64, u64),
    pub per_sample: usize,
}

/// A path's result: samples found, and the instructions of each [`Who`] (indexed by `Who as usize`) in
/// the sample with the median total (the upper one for an even count).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub samples: usize,
    pub counts: [u64; 4],
}

impl Split {
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn of(&self, who: Who) -> u64 {
        self.counts[who as usize]
    }
}

#[derive(Clone, Copy, Debug)]
struct Excursion {
    start: u64,
    end: u64,
    counts: [u64; 4],
}

/// Reads QEMU's log line by line ([`Analyzer::line`]) and keeps what the paths need.
pub struct Analyzer {
    layout: Layout,
    paths: Vec<Path>,
    /// Instructions per TB, by host-code address (from its `in_asm` block).
    sizes: HashMap<u64, u64>,
    /// The instruction count of the `in_asm` block being read, or just read.
    block: Option<u64>,
    reading_block: bool,
    /// TB executions so far.
    seq: u64,
    /// The RMM has run: before, low PCs are the boot ROM's, not the realm's.
    started: bool,
    windows: Vec<Option<(u64, u64)>>,
    /// Open and finished excursions from the host (index 0) and from the realm (index 1).
    open: [Option<Excursion>; 2],
    done: [Vec<Excursion>; 2],
    /// TB executions with no `in_asm` block seen (counted as one instruction).
    pub unknown: u64,
}

fn timer_index(who: Who) -> Option<usize> {
    match who {
        Who::Host => Some(0),
        Who::Realm => Some(1),
        _ => None,
    }
}

impl Analyzer {
    pub fn new(layout: Layout, paths: Vec<Path>) -> Self {
        let windows = vec![None; paths.len()];
        Analyzer {
            layout,
            paths,
            sizes: HashMap::new(),
            block: None,
            reading_block: false,
            seq: 0,
            started: false,
            windows,
            open: [None, None],
            done: [Vec::new(), Vec::new()],
            unknown: 0,
        }
    }

    /// One line of QEMU's log.
    pub fn line(&mut self, line: &str) {
        if line.starts_with("IN:") {
            self.reading_block = true;
            self.block = Some(0);
        } else if let Some(rest) = line.strip_prefix("Trace ") {
            self.reading_block = false;
            if let Some((tc, pc)) = parse_exec(rest) {
                self.executed(tc, pc);
            }
        } else if self.reading_block {
            if line.starts_with("0x") {
                if let Some(n) = self.block.as_mut() {
                    *n += 1;
                }
            } else if line.is_empty() {
                self.reading_block = false;
            }
        }
    }

    fn executed(&mut self, tc: u64, pc: u64) {
        let n = match self.block.take() {
            Some(n) => {
                self.sizes.insert(tc, n);
                n
            }
            None => self.sizes.get(&tc).copied().unwrap_or_else(|| {
                self.unknown += 1;
                1
            }),
        };
        self.seq += 1;
        let who = self.layout.who(pc);
        self.started |= who == Who::Rmm;
        if !self.started {
            return;
        }
        for (path, window) in self.paths.iter().zip(self.windows.iter_mut()) {
            if path.timer == who && (path.function.0..path.function.1).contains(&pc) {
                let first = window.map_or(self.seq, |w| w.0);
                *window = Some((first, self.seq));
            }
        }
        for (i, timer) in [Who::Host, Who::Realm].into_iter().enumerate() {
            if who == timer {
                if let Some(mut e) = self.open[i].take() {
                    e.end = self.seq;
                    self.done[i].push(e);
                }
            } else {
                let e = self.open[i].get_or_insert(Excursion {
                    start: self.seq,
                    end: 0,
                    counts: [0; 4],
                });
                e.counts[who as usize] += n;
            }
        }
    }

    /// Each path's split (`None` for a path whose function never ran or whose window held no
    /// whole sample).
    pub fn finish(self) -> Vec<(Path, Option<Split>)> {
        let Analyzer {
            paths,
            windows,
            done,
            ..
        } = self;
        paths
            .into_iter()
            .zip(windows)
            .map(|(path, window)| {
                let split = window.and_then(|(first, last)| {
                    let i = timer_index(path.timer)?;
                    let inside: Vec<&Excursion> = done[i]
                        .iter()
                        .filter(|e| e.start > first && e.end <= last)
                        .collect();
                    median_sample(&inside, path.per_sample.max(1))
                });
                (path, split)
            })
            .collect()
    }
}

/// Groups `excursions` into samples of `per` and returns the median-total sample's split.
fn median_sample(excursions: &[&Excursion], per: usize) -> Option<Split> {
    let mut samples: Vec<[u64; 4]> = excursions
        .chunks_exact(per)
        .map(|chunk| {
            let mut sum = [0u64; 4];
            for e in chunk {
                for (s, c) in sum.iter_mut().zip(e.counts) {
                    *s += c;
                }
            }
            sum
        })
        .collect();
    if samples.is_empty() {
        return None;
    }
    samples.sort_by_key(|s| s.iter().sum::<u64>());
    Some(Split {
        samples: samples.len(),
        counts: samples[samples.len() / 2],
    })
}

/// The host-code address and guest PC of an `exec` line's tail:
/// `0: 0x7f2a4c000100 [00000000/0000000040100000/00000461/ff022200] symbol`.
fn parse_exec(rest: &str) -> Option<(u64, u64)> {
    let (_, rest) = rest.split_once(": 0x")?;
    let (tc, rest) = rest.split_once(' ')?;
    let fields = rest.strip_prefix('[')?.split(']').next()?;
    let pc = fields.split('/').nth(1)?;
    Some((
        u64::from_str_radix(tc, 16).ok()?,
        u64::from_str_radix(pc, 16).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYOUT: Layout = Layout {
        rmm: (0x4010_0000, 0x4020_0000),
        host: (0x6000_0000, 0x6010_0000),
        realm: (0, 0x1_0000),
    };

    /// A block of `n` instructions at `pc` translated to host address `tc`, then executed.
    fn translate(a: &mut Analyzer, tc: u64, pc: u64, n: u64) {
        a.line("----------------");
        a.line("IN: ");
        for i in 0..n {
            a.line(&format!("0x{:08x}:  d503201f  nop", pc + 4 * i));
        }
        a.line("");
        exec(a, tc, pc);
    }

    fn exec(a: &mut Analyzer, tc: u64, pc: u64) {
        a.line(&format!(
            "Trace 0: 0x{tc:x} [00000000/{pc:016x}/00000461/ff022200] "
        ));
    }

    #[test]
    fn parses_an_exec_line() {
        assert_eq!(
            parse_exec("0: 0x7fe564000100 [0030000c/0000000040100008/00000471/ff022200] "),
            Some((0x7fe5_6400_0100, 0x4010_0008))
        );
        assert_eq!(parse_exec("0: garbage"), None);
    }

    /// Three round trips from a realm loop at 0x1000..0x1100: each leaves the realm for the
    /// RMM, EL3 and the host and comes back; the middle one also takes a host interrupt (a
    /// bigger sample, not the median). A boot-ROM block at a realm address before the RMM
    /// first runs is not part of any window.
    #[test]
    fn splits_the_median_round_trip_by_image() {
        let paths = vec![Path {
            label: "host call",
            timer: Who::Realm,
            function: (0x1000, 0x1100),
            per_sample: 1,
        }];
        let mut a = Analyzer::new(LAYOUT, paths);
        translate(&mut a, 0x10, 0x1000, 3); // boot ROM, before the RMM
        translate(&mut a, 0x20, 0x4010_0000, 7); // RMM boot
        translate(&mut a, 0x30, 0x1000, 4); // the realm's loop: first TB of the window
        translate(&mut a, 0x40, 0x4010_0800, 50); // RMM exit path
        translate(&mut a, 0x50, 0x0e09_0000, 20); // EL3
        translate(&mut a, 0x60, 0x6000_1000, 30); // host
        exec(&mut a, 0x50, 0x0e09_0000);
        translate(&mut a, 0x70, 0x4010_0900, 40); // RMM entry path
        exec(&mut a, 0x30, 0x1000);
        // Second trip, with a host interrupt handler (10 more host instructions).
        for (tc, pc) in [
            (0x40, 0x4010_0800),
            (0x50, 0x0e09_0000),
            (0x60, 0x6000_1000),
        ] {
            exec(&mut a, tc, pc);
        }
        translate(&mut a, 0x80, 0x6000_2000, 10);
        for (tc, pc) in [(0x50, 0x0e09_0000), (0x70, 0x4010_0900), (0x30, 0x1000)] {
            exec(&mut a, tc, pc);
        }
        // Third trip, like the first.
        for (tc, pc) in [
            (0x40, 0x4010_0800),
            (0x50, 0x0e09_0000),
            (0x60, 0x6000_1000),
            (0x50, 0x0e09_0000),
            (0x70, 0x4010_0900),
            (0x30, 0x1000),
        ] {
            exec(&mut a, tc, pc);
        }
        // After the window: the realm elsewhere, then another excursion.
        translate(&mut a, 0x90, 0x2000, 2);
        exec(&mut a, 0x40, 0x4010_0800);
        exec(&mut a, 0x90, 0x2000);
        assert_eq!(a.unknown, 0);
        let result = a.finish();
        let split = result[0].1.clone().expect("a split");
        assert_eq!(split.samples, 3);
        assert_eq!(split.of(Who::Rmm), 90);
        assert_eq!(split.of(Who::El3), 40);
        assert_eq!(split.of(Who::Host), 30);
        assert_eq!(split.of(Who::Realm), 0);
        assert_eq!(split.total(), 160);
    }

    /// Samples of two excursions (DELEGATE, then UNDELEGATE) from a host loop.
    #[test]
    fn pairs_excursions_into_samples() {
        let paths = vec![Path {
            label: "pair",
            timer: Who::Host,
            function: (0x6000_0000, 0x6000_0100),
            per_sample: 2,
        }];
        let mut a = Analyzer::new(LAYOUT, paths);
        translate(&mut a, 0x20, 0x4010_0000, 1);
        translate(&mut a, 0x30, 0x6000_0000, 2);
        translate(&mut a, 0x40, 0x0e09_0000, 10);
        translate(&mut a, 0x50, 0x4010_0100, 100);
        exec(&mut a, 0x30, 0x6000_0000);
        exec(&mut a, 0x40, 0x0e09_0000);
        translate(&mut a, 0x60, 0x4010_0200, 300);
        exec(&mut a, 0x30, 0x6000_0000);
        let split = a.finish()[0].1.clone().expect("a split");
        assert_eq!(split.samples, 1);
        assert_eq!(split.counts, [400, 20, 0, 0]);
    }

    /// A path whose function never runs has no split.
    #[test]
    fn no_window_no_split() {
        let paths = vec![Path {
            label: "absent",
            timer: Who::Realm,
            function: (0x3000, 0x3100),
            per_sample: 1,
        }];
        let mut a = Analyzer::new(LAYOUT, paths);
        translate(&mut a, 0x20, 0x4010_0000, 1);
        assert_eq!(a.finish()[0].1, None);
    }
}
