//! Random host behaviour: a seeded PRNG, the universe of addresses, IPAs and levels the host
//! picks from, and the choice of the next command. Choices lean on the model (a granule it
//! believes DELEGATED, a realm it believes exists, an entry it believes ASSIGNED) so that most
//! commands get far enough to test something, while a steady share of arguments is plain wrong.

use std::collections::VecDeque;

use super::abi::{
    mpidr_of, Cmd, Features, RealmParams, RecEnter, RecParams, G, HCR_ENTER_ALLOWED, LR_HW,
    REALM_PARAMS_UNUSED,
};
use super::model::{align_down, GState, Model, Rtte, AUX_COUNT};
use super::ops::Op;

/// Where the generator's choices come from: SplitMix64 (small, fast, and the same sequence on
/// every machine) for a seeded run, or the bytes of a fuzz input, read in order, for a run a
/// coverage-guided fuzzer drives (`fuzz/`, target `rmi_sequence`). Past the end of the input
/// every choice reads zero.
pub struct Rng {
    state: u64,
    input: Option<(Vec<u8>, usize)>,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed,
            input: None,
        }
    }

    /// Choices read from `bytes`: each `below(n)` takes one byte for `n <= 256`, two for
    /// `n <= 65536` and eight otherwise, so a fuzzer's mutations of one byte change one choice.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self {
            state: 0,
            input: Some((bytes.to_vec(), 0)),
        }
    }

    /// True once a fuzz input is used up (never for a seeded generator).
    pub fn exhausted(&self) -> bool {
        self.input.as_ref().is_some_and(|(b, at)| *at >= b.len())
    }

    /// The next `n` input bytes as a little-endian number (zeros past the end).
    fn take(&mut self, n: usize) -> Option<u64> {
        let (bytes, at) = self.input.as_mut()?;
        let mut v = [0u8; 8];
        for (i, b) in v.iter_mut().take(n).enumerate() {
            *b = bytes.get(*at + i).copied().unwrap_or(0);
        }
        *at += n;
        Some(u64::from_le_bytes(v))
    }

    pub fn next_u64(&mut self) -> u64 {
        if let Some(v) = self.take(8) {
            return v;
        }
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if self.input.is_some() && n <= 1 << 16 {
            let width = if n <= 1 << 8 { 1 } else { 2 };
            return self.take(width).unwrap_or(0) % n;
        }
        self.next_u64() % n
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    pub fn weighted<T: Copy>(&mut self, items: &[(u64, T)]) -> T {
        let total: u64 = items.iter().map(|(w, _)| w).sum();
        let mut x = self.below(total);
        for &(w, t) in items {
            if x < w {
                return t;
            }
            x -= w;
        }
        unreachable!()
    }
}

/// 64 KiB-aligned runs of 16 granules each: where starting-level RTTs (up to 16 contiguous,
/// aligned) and most other granules come from.
pub const CLUSTERS: [u64; 3] = [0x8800_0000, 0x8810_0000, 0x8820_0000];
/// Single DRAM granules, including the first and the last of the bank.
pub const SCATTERED: [u64; 6] = [
    0x4000_0000,
    0x4000_1000,
    0x7FFF_F000,
    0x9ABC_D000,
    0xC000_0000,
    0xFFFF_F000,
];
/// Granules of the RMM's own region: DRAM, but Realm PAS from boot.
pub const RMM_OWN: [u64; 3] = [0x4010_0000, 0x4150_0000, 0x418F_F000];
/// Not DRAM at all (device space, below and above the bank, past the PA range).
pub const OUTSIDE: [u64; 6] = [
    0,
    0x0900_0000,
    0x3FFF_F000,
    0x1_0000_0000,
    1 << 48,
    0xFFFF_FFFF_FFFF_F000,
];
pub const UNALIGNED: [u64; 3] = [0x8800_0008, 0x8800_0800, 0x8810_0FFF];
/// NS pages the host writes parameter blocks to.
pub const PARAMS_POOL: [u64; 3] = [0xA000_0000, 0xA000_1000, 0xA000_2000];
/// NS pages the host uses as RecRun.
pub const RUN_POOL: [u64; 2] = [0xA002_0000, 0xA002_1000];
/// NS pages the host fills as DATA sources.
pub const SRC_POOL: [u64; 3] = [0xA001_0000, 0xA001_1000, 0xA001_2000];
/// 512 granules, 2 MiB aligned: the DATA granules of the block-building sequence.
pub const DATA_BLOCK: u64 = 0x9000_0000;
/// RTT granules for the block-building sequences.
pub const MACRO_TABLES: u64 = 0x9040_0000;
/// Granules for the REC-flood sequence (three per REC).
pub const REC_POOL: u64 = 0x9300_0000;
/// NS pages, 2 MiB aligned, that unprotected mappings point at.
pub const NS_TARGET: u64 = 0xB000_0000;

/// Every fixed address of the universe (compared with the RMM's view at each checkpoint).
pub fn universe() -> Vec<u64> {
    let mut v = Vec::new();
    for c in CLUSTERS {
        v.extend((0..16).map(|i| c + i * G));
    }
    v.extend(SCATTERED);
    v.extend(RMM_OWN);
    v.extend(OUTSIDE);
    v.extend(UNALIGNED);
    v.extend(PARAMS_POOL);
    v.extend(SRC_POOL);
    v.extend(RUN_POOL);
    v
}

/// The state of the generator for one run.
pub struct Gen {
    pub rng: Rng,
    queue: VecDeque<Op>,
    /// Commands the host issues before the one being generated (delegations, reclaiming an NS
    /// page).
    pre: Vec<Op>,
    /// Random commands produced so far (queued sequences not counted).
    pub random_ops: usize,
    data_fill_at: Option<usize>,
    ns_fill_at: Option<usize>,
    rec_flood_at: Option<usize>,
    next_pattern: u64,
    next_macro_table: u64,
    universe: Vec<u64>,
    /// Commands the RMM serves; the others are not generated.
    served: Vec<Cmd>,
    /// The granules the model holds DELEGATED, as of the model's epoch.
    delegated_cache: Option<(u64, Vec<u64>)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Delegate,
    Undelegate,
    RealmCreate,
    RealmActivate,
    RealmDestroy,
    RecAuxCount,
    RecCreate,
    RecDestroy,
    RecEnter,
    DataCreate,
    DataCreateUnknown,
    DataDestroy,
    RttCreate,
    RttDestroy,
    RttFold,
    RttReadEntry,
    RttMap,
    RttUnmap,
    RttInitRipas,
    RttSetRipas,
    PsciComplete,
}

const WEIGHTS: [(u64, Kind); 21] = [
    (130, Kind::Delegate),
    (60, Kind::Undelegate),
    (60, Kind::RealmCreate),
    (12, Kind::RealmActivate),
    (25, Kind::RealmDestroy),
    (15, Kind::RecAuxCount),
    (60, Kind::RecCreate),
    (35, Kind::RecDestroy),
    (40, Kind::RecEnter),
    (70, Kind::DataCreate),
    (50, Kind::DataCreateUnknown),
    (60, Kind::DataDestroy),
    (100, Kind::RttCreate),
    (45, Kind::RttDestroy),
    (35, Kind::RttFold),
    (70, Kind::RttReadEntry),
    (55, Kind::RttMap),
    (35, Kind::RttUnmap),
    (50, Kind::RttInitRipas),
    (15, Kind::RttSetRipas),
    (12, Kind::PsciComplete),
];

/// Valid realm shapes: (IPA width, starting level, number of starting tables).
const SHAPES: [(u8, i64, u32); 7] = [
    (40, 1, 2),
    (39, 1, 1),
    (48, 0, 1),
    (32, 2, 4),
    (33, 2, 8),
    (36, 1, 1),
    (42, 1, 8),
];

impl Gen {
    /// A generator for a run of `ops` random commands. Each run also builds, once, a level-2
    /// block of DATA and a level-2 block of NS mappings (512 commands each, then RTT_FOLD), and
    /// fills one realm with RECs up to the limit and one past it, each at a random point of its
    /// first half.
    pub fn new(seed: u64, ops: usize, served: Vec<Cmd>) -> Self {
        let mut rng = Rng::new(seed);
        let half = (ops as u64 / 2).max(1);
        let data_fill_at = Some(rng.below(half) as usize);
        let ns_fill_at = Some(rng.below(half) as usize);
        let rec_flood_at = Some(rng.below(half) as usize);
        Self {
            rng,
            queue: VecDeque::new(),
            pre: Vec::new(),
            random_ops: 0,
            data_fill_at,
            ns_fill_at,
            rec_flood_at,
            next_pattern: seed << 20,
            next_macro_table: MACRO_TABLES,
            universe: universe(),
            served,
            delegated_cache: None,
        }
    }

    /// A generator whose every choice is read from a fuzz input (see [`Rng::from_bytes`]). The
    /// first byte says which
    /// of the long queued sequences (DATA block, NS block, REC flood: bits 0, 1, 2) the run
    /// builds, each after a number of random commands the next bytes give.
    pub fn from_bytes(bytes: &[u8], served: Vec<Cmd>) -> Self {
        let mut rng = Rng::from_bytes(bytes);
        let which = rng.below(256);
        let mut at = |bit: u64| {
            let n = rng.below(256) as usize;
            (which & 1 << bit != 0).then_some(n)
        };
        let (data_fill_at, ns_fill_at, rec_flood_at) = (at(0), at(1), at(2));
        Self {
            rng,
            queue: VecDeque::new(),
            pre: Vec::new(),
            random_ops: 0,
            data_fill_at,
            ns_fill_at,
            rec_flood_at,
            next_pattern: 0,
            next_macro_table: MACRO_TABLES,
            universe: universe(),
            served,
            delegated_cache: None,
        }
    }

    /// The next command: queued ones first, then a new sequence if one is due, else a random one.
    pub fn next(&mut self, m: &Model) -> Op {
        if let Some(op) = self.queue.pop_front() {
            return op;
        }
        if self.data_fill_at.is_some_and(|at| self.random_ops >= at) && self.plan_data_block(m) {
            self.data_fill_at = None;
            return self.queue.pop_front().expect("planned");
        }
        if self.ns_fill_at.is_some_and(|at| self.random_ops >= at) && self.plan_ns_block(m) {
            self.ns_fill_at = None;
            return self.queue.pop_front().expect("planned");
        }
        if self.rec_flood_at.is_some_and(|at| self.random_ops >= at) && self.plan_rec_flood(m) {
            self.rec_flood_at = None;
            return self.queue.pop_front().expect("planned");
        }
        self.random_ops += 1;
        let op = self.random(m);
        if self.pre.is_empty() {
            return op;
        }
        let mut seq = std::mem::take(&mut self.pre);
        seq.push(op);
        for op in seq.into_iter().rev() {
            self.queue.push_front(op);
        }
        self.queue.pop_front().expect("queued")
    }

    /// True while queued commands remain.
    pub fn busy(&self) -> bool {
        !self.queue.is_empty()
    }

    fn random(&mut self, m: &Model) -> Op {
        loop {
            let op = self.random_any(m);
            if self.served.contains(&op.cmd()) {
                return op;
            }
            // Whatever the host meant to do first is moot too.
            self.pre.clear();
        }
    }

    fn random_any(&mut self, m: &Model) -> Op {
        match self.rng.weighted(&WEIGHTS) {
            Kind::Delegate => Op::Delegate {
                addr: if self.rng.chance(75) {
                    self.fresh_addr()
                } else {
                    self.any_addr()
                },
            },
            Kind::Undelegate => Op::Undelegate {
                addr: self.delegated_or_any(m, 65),
            },
            Kind::RealmCreate => self.realm_create(m),
            Kind::RealmActivate => Op::RealmActivate { rd: self.rd(m) },
            Kind::RealmDestroy => Op::RealmDestroy { rd: self.rd(m) },
            Kind::RecAuxCount => Op::RecAuxCount { rd: self.rd(m) },
            Kind::RecCreate => self.rec_create(m),
            Kind::RecDestroy => Op::RecDestroy { rec: self.rec(m) },
            Kind::RecEnter => {
                let rec = self.rec(m);
                let run = if self.rng.chance(92) {
                    self.ns_page(m, &RUN_POOL)
                } else {
                    self.any_addr()
                };
                let mut enter = RecEnter {
                    flags: self.rng.pick(&[0, 0, 0, 1 << 2, 1 << 3, 1 << 4, 1]),
                    gicv3_hcr: self.rng.next_u64() & HCR_ENTER_ALLOWED,
                    gicv3_lrs: [0; 4],
                };
                for lr in enter.gicv3_lrs.iter_mut() {
                    if self.rng.chance(30) {
                        // Pending, group 1, a virtual INTID from 32.
                        *lr = 1 << 62 | 1 << 60 | (32 + self.rng.below(64));
                    }
                }
                if self.rng.chance(8) {
                    enter.gicv3_hcr |= 1 << self.rng.pick(&[0, 8, 10, 11, 12, 13, 15, 27, 63]);
                }
                if self.rng.chance(6) {
                    enter.gicv3_lrs[self.rng.below(4) as usize] |= LR_HW;
                }
                Op::RecEnter { rec, run, enter }
            }
            Kind::DataCreate => {
                let rd = self.rd(m);
                let src = if self.rng.chance(85) {
                    self.ns_page(m, &SRC_POOL)
                } else {
                    self.any_addr()
                };
                let fill = self.rng.chance(90).then(|| self.pattern());
                Op::DataCreate {
                    rd,
                    data: self.delegated_or_any(m, 80),
                    ipa: self.ipa(m, rd, Some(3)),
                    src,
                    flags: self.rng.pick(&[0, 1]),
                    fill,
                }
            }
            Kind::DataCreateUnknown => {
                let rd = self.rd(m);
                Op::DataCreateUnknown {
                    rd,
                    data: self.delegated_or_any(m, 80),
                    ipa: self.ipa(m, rd, Some(3)),
                }
            }
            Kind::DataDestroy => {
                let rd = self.rd(m);
                let ipa = match self.existing_entry(m, rd, |e| matches!(e, Rtte::Assigned { .. })) {
                    Some((ipa, _)) if self.rng.chance(60) => ipa,
                    _ => self.ipa(m, rd, Some(3)),
                };
                Op::DataDestroy { rd, ipa }
            }
            Kind::RttCreate => {
                let rd = self.rd(m);
                let level = self.level();
                let rtt = self.delegated_or_any(m, 85);
                let ipa = self.ipa(m, rd, parent(level));
                Op::RttCreate {
                    rd,
                    rtt,
                    ipa,
                    level,
                }
            }
            kind @ (Kind::RttDestroy | Kind::RttFold) => {
                let rd = self.rd(m);
                let (ipa, level) = match self.existing_table(m, rd) {
                    Some(t) if self.rng.chance(60) => t,
                    _ => {
                        let level = self.level();
                        (self.ipa(m, rd, parent(level)), level)
                    }
                };
                if matches!(kind, Kind::RttDestroy) {
                    Op::RttDestroy { rd, ipa, level }
                } else {
                    Op::RttFold { rd, ipa, level }
                }
            }
            Kind::RttReadEntry => {
                let rd = self.rd(m);
                let level = self.level();
                let ipa = self.ipa(m, rd, (0..=3).contains(&level).then_some(level));
                Op::RttReadEntry { rd, ipa, level }
            }
            Kind::RttMap => self.map_unprotected(m),
            Kind::RttUnmap => {
                let rd = self.rd(m);
                let (ipa, level) =
                    match self.existing_entry(m, rd, |e| matches!(e, Rtte::AssignedNs { .. })) {
                        Some(found) if self.rng.chance(60) => found,
                        _ => {
                            let level = self.level();
                            (
                                self.ipa(m, rd, (0..=3).contains(&level).then_some(level)),
                                level,
                            )
                        }
                    };
                Op::RttUnmapUnprotected { rd, ipa, level }
            }
            Kind::RttInitRipas => {
                // Mostly a NEW realm (the only kind the command accepts), from an UNASSIGNED
                // entry the model knows, over a range that may hold DATA further on.
                let new: Vec<u64> = m
                    .realms
                    .iter()
                    .filter(|(_, r)| r.state == super::model::RealmState::New)
                    .map(|(&rd, _)| rd)
                    .collect();
                let rd = if !new.is_empty() && self.rng.chance(70) {
                    self.rng.pick(&new)
                } else {
                    self.rd(m)
                };
                if new.contains(&rd) && self.rng.chance(15) {
                    return self.plan_init_flow(m, rd);
                }
                let base = match self.existing_entry(m, rd, |e| matches!(e, Rtte::Unassigned(_))) {
                    Some((ipa, _)) if self.rng.chance(50) => ipa,
                    _ => self.ipa(m, rd, Some(3)),
                };
                let top = match self.rng.below(10) {
                    0 => base,
                    1 => base.wrapping_sub(G),
                    2 => base.wrapping_add(0x800),
                    3 => m.realms.get(&rd).map_or(1 << 39, |r| r.ipa_limit() / 2),
                    4 | 5 => {
                        let size = 1 << (12 + 9 * self.rng.below(3));
                        (base | (size - 1)).wrapping_add(1)
                    }
                    _ => base.wrapping_add(self.rng.pick(&[
                        G,
                        2 * G,
                        0x10_0000,
                        0x20_0000,
                        0x40_0000,
                        0x4000_0000,
                    ])),
                };
                Op::RttInitRipas { rd, base, top }
            }
            Kind::PsciComplete => Op::PsciComplete {
                calling: self.rec(m),
                target: self.rec(m),
                status: self.rng.pick(&[0, (-3i64) as u64, 1, (-4i64) as u64]),
            },
            Kind::RttSetRipas => {
                let rd = self.rd(m);
                let rec = self.rec(m);
                let base = if self.rng.chance(30) {
                    0
                } else {
                    self.ipa(m, rd, Some(3))
                };
                let top = base.wrapping_add(self.rng.pick(&[0, G, 0x20_0000, 0x800]));
                Op::RttSetRipas { rd, rec, base, top }
            }
        }
    }

    fn pattern(&mut self) -> u64 {
        self.next_pattern += 1;
        self.next_pattern
    }

    /// An address meant to be delegable: a cluster or scattered granule, sometimes an NS pool
    /// page (which a later command may then try to use as NS memory).
    fn fresh_addr(&mut self) -> u64 {
        if self.rng.chance(3) {
            return self.rng.pick(&[PARAMS_POOL[0], SRC_POOL[0]]);
        }
        self.cluster_addr()
    }

    /// A cluster or scattered granule.
    fn cluster_addr(&mut self) -> u64 {
        if self.rng.chance(90) {
            self.rng.pick(&CLUSTERS) + self.rng.below(16) * G
        } else {
            self.rng.pick(&SCATTERED)
        }
    }

    /// Any universe address, good or bad.
    fn any_addr(&mut self) -> u64 {
        let u = std::mem::take(&mut self.universe);
        let a = self.rng.pick(&u);
        self.universe = u;
        a
    }

    fn delegated(&mut self, m: &Model) -> Option<u64> {
        let all = match self.delegated_cache.take() {
            Some((epoch, all)) if epoch == m.epoch => all,
            _ => m
                .granules
                .iter()
                .filter(|(_, &s)| s == GState::Delegated)
                .map(|(&pa, _)| pa)
                .collect(),
        };
        let pick = (!all.is_empty()).then(|| self.rng.pick(&all));
        self.delegated_cache = Some((m.epoch, all));
        pick
    }

    fn delegated_or_any(&mut self, m: &Model, percent: u64) -> u64 {
        match self.delegated(m) {
            Some(pa) if self.rng.chance(percent) => pa,
            _ => self.any_addr(),
        }
    }

    /// An RD argument: mostly a realm the model knows, sometimes another granule.
    fn rd(&mut self, m: &Model) -> u64 {
        let rds: Vec<u64> = m.realms.keys().copied().collect();
        if !rds.is_empty() && self.rng.chance(85) {
            let rd = self.rng.pick(&rds);
            if self.rng.chance(2) {
                return rd + self.rng.pick(&[8, 0x800]);
            }
            return rd;
        }
        if self.rng.chance(40) {
            if let Some(&rec) = m.recs.keys().next() {
                return rec;
            }
        }
        self.delegated_or_any(m, 30)
    }

    fn rec(&mut self, m: &Model) -> u64 {
        let recs: Vec<u64> = m.recs.keys().copied().collect();
        if !recs.is_empty() && self.rng.chance(75) {
            return self.rng.pick(&recs);
        }
        if self.rng.chance(30) {
            if let Some(&rd) = m.realms.keys().next() {
                return rd;
            }
        }
        self.delegated_or_any(m, 30)
    }

    fn level(&mut self) -> i64 {
        self.rng.weighted(&[
            (35, 3),
            (28, 2),
            (15, 1),
            (8, 0),
            (3, -1),
            (3, 4),
            (1, 7),
            (1, i64::MIN),
        ])
    }

    /// An IPA for the realm `rd` (its width, or 40 bits if `rd` is not a realm), aligned down to
    /// `align`'s level most of the time.
    fn ipa(&mut self, m: &Model, rd: u64, align: Option<i64>) -> u64 {
        let w = m.realms.get(&rd).map_or(40, |r| r.s2sz);
        let p = 1u64 << (w - 1);
        let limit = 1u64 << w;
        let ipa = match self.rng.below(100) {
            0..60 => self.rng.pick(&[
                0,
                G,
                2 * G,
                0x1F_F000,
                0x20_0000,
                0x20_1000,
                0x20_2000,
                0x40_0000,
                0x4000_0000,
                p - G,
                p - 0x20_0000,
            ]),
            60..85 => self.rng.pick(&[
                p,
                p + G,
                p + 0x20_0000,
                p + 0x20_1000,
                p + 0x4000_0000,
                limit - G,
            ]),
            85..92 => self.rng.pick(&[limit, limit + G, !(G - 1)]),
            _ => self.rng.pick(&[0x800, 0x20_0800, p + 0x10, 1]),
        };
        match align {
            Some(level) if (0..=3).contains(&level) && self.rng.chance(85) => {
                align_down(ipa, level)
            }
            _ => ipa,
        }
    }

    /// An entry of `rd`'s tables the model holds in a state `pred` accepts: its IPA and level.
    fn existing_entry(
        &mut self,
        m: &Model,
        rd: u64,
        pred: impl Fn(Rtte) -> bool,
    ) -> Option<(u64, i64)> {
        let mut found = Vec::new();
        for t in m.tables.values().filter(|t| t.rd == rd) {
            for (i, &e) in t.entries.iter().enumerate() {
                if pred(e) {
                    found.push((t.base + i as u64 * (1 << (12 + 9 * (3 - t.level))), t.level));
                }
            }
        }
        (!found.is_empty()).then(|| self.rng.pick(&found))
    }

    /// A table of `rd` below the starting level: the IPA and level RTT_DESTROY/FOLD name it by.
    fn existing_table(&mut self, m: &Model, rd: u64) -> Option<(u64, i64)> {
        let start = m.realms.get(&rd)?.level_start;
        let found: Vec<(u64, i64)> = m
            .tables
            .values()
            .filter(|t| t.rd == rd && t.level != start)
            .map(|t| (t.base, t.level))
            .collect();
        (!found.is_empty()).then(|| self.rng.pick(&found))
    }

    fn realm_create(&mut self, m: &Model) -> Op {
        let f: Features = m.features;
        let (s2sz, level, num) = self.rng.pick(&SHAPES);
        let rtt_base = match self.rng.below(10) {
            0 => self.delegated_or_any(m, 50),
            1 => self.any_addr(),
            _ => {
                let slots = 16 / u64::from(num);
                self.rng.pick(&CLUSTERS) + self.rng.below(slots) * u64::from(num) * G
            }
        };
        let mut p = RealmParams {
            flags: 0,
            s2sz,
            sve_vl: 0,
            num_bps: 1 + self.rng.below(f.num_bps.max(1)) as u8,
            num_wps: 1 + self.rng.below(f.num_wps.max(1)) as u8,
            pmu_num_ctrs: 0,
            hash_algo: self.rng.pick(&[0, 0, 1]),
            vmid: self.rng.pick(&[1, 2, 3, 4, 5, 0, 0xFFFF]),
            rtt_base,
            rtt_level_start: level,
            rtt_num_start: num,
            stray: None,
        };
        if self.rng.chance(20) {
            match self.rng.below(20) {
                0 => p.flags |= 1 << (3 + self.rng.below(61)),
                1 => p.flags |= 1,
                2 => {
                    p.flags |= 2;
                    p.sve_vl = 1;
                }
                3 => {
                    p.flags |= 4;
                    p.pmu_num_ctrs = 1;
                }
                4 => p.s2sz = 0,
                5 => p.s2sz = f.s2sz as u8 + 1,
                6 => p.s2sz = 255,
                7 => p.hash_algo = self.rng.pick(&[2, 0x80, 0xFF]),
                8 => p.num_bps = 0,
                9 => p.num_wps = 0,
                10 => p.num_bps = f.num_bps as u8 + 1,
                11 => p.num_wps = f.num_wps as u8 + 1,
                12 => p.rtt_level_start = -1,
                13 => p.rtt_level_start = self.rng.pick(&[3, 4, i64::MIN, i64::MAX]),
                14 => p.rtt_num_start = num * 2,
                15 => p.rtt_num_start = self.rng.pick(&[0, 3, 32, u32::MAX]),
                16 => p.rtt_base = p.rtt_base.wrapping_add(G),
                17 => p.stray = Some(self.rng.pick(&REALM_PARAMS_UNUSED)),
                18 => p.rtt_level_start += 1,
                _ => p.num_bps = f.num_bps as u8,
            }
        }
        let rd = if self.rng.chance(5) {
            // Inside the tables it names.
            rtt_base.wrapping_add(G * self.rng.below(u64::from(num)))
        } else {
            self.delegated_or_any(m, 80)
        };
        let op = Op::RealmCreate {
            rd,
            params: self.params_page(m),
            p,
        };
        if self.rng.chance(40) {
            // A careful host delegates what the realm needs first.
            let tables = (0..u64::from(num)).map(|i| rtt_base.wrapping_add(i * G));
            self.prepare(m, tables.chain([rd]), op)
        } else {
            op
        }
    }

    /// Has the host delegate those of `granules` the model holds UNDELEGATED before `op`.
    fn prepare(&mut self, m: &Model, granules: impl Iterator<Item = u64>, op: Op) -> Op {
        for addr in granules {
            if m.state(addr) == GState::Undelegated {
                self.pre.push(Op::Delegate { addr });
            }
        }
        op
    }

    /// An NS page of `pool` for the host to write; if the model holds it DELEGATED (a random
    /// DELEGATE took it), the host usually reclaims it first.
    fn ns_page(&mut self, m: &Model, pool: &[u64]) -> u64 {
        let pa = self.rng.pick(pool);
        if m.state(pa) == GState::Delegated && self.rng.chance(70) {
            self.pre.push(Op::Undelegate { addr: pa });
        }
        pa
    }

    fn params_page(&mut self, m: &Model) -> u64 {
        if self.rng.chance(92) {
            self.ns_page(m, &PARAMS_POOL)
        } else {
            self.any_addr()
        }
    }

    fn rec_create(&mut self, m: &Model) -> Op {
        let rd = self.rd(m);
        if self.rng.chance(40) {
            // A careful host: fresh granules for the REC and its aux granules, delegated first.
            let mut fresh: Vec<u64> = Vec::new();
            while fresh.len() < 1 + AUX_COUNT as usize {
                let a = self.cluster_addr();
                if m.state(a) == GState::Undelegated && !fresh.contains(&a) {
                    fresh.push(a);
                } else if self.rng.chance(5) {
                    break;
                }
            }
            if fresh.len() == 1 + AUX_COUNT as usize {
                let next = m.realms.get(&rd).map_or(0, |r| r.next_rec);
                let mut aux = [0u64; 16];
                aux[..AUX_COUNT as usize].copy_from_slice(&fresh[1..]);
                let p = RecParams {
                    flags: 1,
                    mpidr: mpidr_of(next),
                    pc: self.rng.next_u64(),
                    gprs: [self.rng.next_u64(); 8],
                    num_aux: AUX_COUNT,
                    aux,
                };
                let op = Op::RecCreate {
                    rd,
                    rec: fresh[0],
                    params: self.ns_page(m, &PARAMS_POOL),
                    p,
                };
                return self.prepare(m, fresh.clone().into_iter(), op);
            }
        }
        let rec = self.delegated_or_any(m, 85);
        let next = m.realms.get(&rd).map_or(0, |r| r.next_rec);
        let index = if self.rng.chance(85) {
            next
        } else {
            self.rng
                .pick(&[next + 1, next.wrapping_sub(1) & 0xFF, 0, 0x10, 0x1000])
        };
        let num_aux = if self.rng.chance(92) {
            AUX_COUNT
        } else {
            self.rng.pick(&[0, 1, 3, 16, 17, u64::MAX])
        };
        let mut aux = [0u64; 16];
        for (i, slot) in aux.iter_mut().enumerate() {
            *slot = if (i as u64) < num_aux.min(16) {
                match self.rng.below(100) {
                    0..88 => self.delegated_or_any(m, 90),
                    88..92 => rec,
                    92..96 => self.any_addr(),
                    _ => self.rng.pick(&UNALIGNED),
                }
            } else {
                // Past num_aux: must be ignored.
                self.rng.next_u64()
            };
        }
        if self.rng.chance(5) {
            aux[1] = aux[0];
        }
        let p = RecParams {
            flags: self.rng.pick(&[0, 1, 1, 1 | 1 << 7]),
            mpidr: mpidr_of(index),
            pc: self.rng.next_u64(),
            gprs: [self.rng.next_u64(); 8],
            num_aux,
            aux,
        };
        Op::RecCreate {
            rd,
            rec,
            params: self.params_page(m),
            p,
        }
    }

    fn map_unprotected(&mut self, m: &Model) -> Op {
        let rd = self.rd(m);
        let level = self
            .rng
            .weighted(&[(60, 3), (25, 2), (6, 1), (3, 0), (3, 4), (3, -1)]);
        let mut addr = match level {
            2 => self
                .rng
                .pick(&[NS_TARGET, NS_TARGET + 0x20_0000, NS_TARGET + 0x40_0000]),
            1 => self.rng.pick(&[0xC000_0000, 0x4000_0000]),
            _ => NS_TARGET + self.rng.below(64) * G,
        };
        if self.rng.chance(8) {
            addr += self.rng.pick(&[G, 0x800, 0x20_0000 + G]);
        }
        let memattr = self.rng.pick(&[6, 6, 5, 0, 1, 2, 3, 7, 4]);
        let mut desc = addr | memattr << 2 | self.rng.below(4) << 6;
        if self.rng.chance(8) {
            desc |= 1 << self.rng.pick(&[0, 1, 5, 8, 10, 48, 51, 54, 63]);
        }
        let ipa = match self.rng.below(10) {
            0..7 => {
                let w = m.realms.get(&rd).map_or(40, |r| r.s2sz);
                let p = 1u64 << (w - 1);
                let off = match level {
                    3 => self.rng.below(8) * G,
                    _ => self.rng.below(4) * 0x20_0000,
                };
                let ipa = p + 0x20_0000 + off;
                if (0..=3).contains(&level) {
                    align_down(ipa, level)
                } else {
                    ipa
                }
            }
            _ => self.ipa(m, rd, (0..=3).contains(&level).then_some(level)),
        };
        Op::RttMapUnprotected {
            rd,
            ipa,
            level,
            desc,
        }
    }

    /// The tables from below the starting level down to level 3 for the 2 MiB at `region`.
    fn plan_tables(&mut self, rd: u64, level_start: i64, region: u64) {
        for level in level_start + 1..=3 {
            let t = self.next_macro_table;
            self.next_macro_table += G;
            self.queue.push_back(Op::Delegate { addr: t });
            self.queue.push_back(Op::RttCreate {
                rd,
                rtt: t,
                ipa: align_down(region, level - 1),
                level,
            });
        }
    }

    /// Queues: tables for the 2 MiB at IPA 2 MiB of a realm, 512 DATA granules from one
    /// 2 MiB-aligned run mapped there in order, then RTT_FOLD of the level-3 table (which makes an
    /// ASSIGNED level-2 block if everything before succeeded).
    fn plan_data_block(&mut self, m: &Model) -> bool {
        let rds: Vec<u64> = m.realms.keys().copied().collect();
        if rds.is_empty() {
            return false;
        }
        let rd = self.rng.pick(&rds);
        let r = &m.realms[&rd];
        let region = 0x20_0000;
        self.plan_tables(rd, r.level_start, region);
        let measured = r.state == super::model::RealmState::New && self.rng.chance(50);
        for i in 0..512 {
            let data = DATA_BLOCK + i * G;
            self.queue.push_back(Op::Delegate { addr: data });
            let ipa = region + i * G;
            let op = if measured {
                let fill = Some(self.pattern());
                Op::DataCreate {
                    rd,
                    data,
                    ipa,
                    src: SRC_POOL[(i % 3) as usize],
                    flags: i & 1,
                    fill,
                }
            } else {
                Op::DataCreateUnknown { rd, data, ipa }
            };
            self.queue.push_back(op);
        }
        self.queue.push_back(Op::RttFold {
            rd,
            ipa: region,
            level: 3,
        });
        true
    }

    /// Queues REC_CREATE of a NEW realm's next RECs until one more than the realm may have
    /// (2^MAX_RECS_ORDER - 1 live RECs), each REC and aux granule delegated first, then
    /// REC_DESTROY of a few of them.
    fn plan_rec_flood(&mut self, m: &Model) -> bool {
        let Some((&rd, r)) = m
            .realms
            .iter()
            .find(|(_, r)| r.state == super::model::RealmState::New)
        else {
            return false;
        };
        let max = (1u64 << m.features.max_recs_order) - 1;
        let mut recs = Vec::new();
        for i in 0..=max.saturating_sub(r.live_recs) {
            let base = REC_POOL + i * 3 * G;
            let mut aux = [0u64; 16];
            aux[0] = base + G;
            aux[1] = base + 2 * G;
            for g in [base, base + G, base + 2 * G] {
                self.queue.push_back(Op::Delegate { addr: g });
            }
            let p = RecParams {
                flags: i & 1,
                mpidr: mpidr_of(r.next_rec + i),
                pc: i,
                gprs: [i; 8],
                num_aux: AUX_COUNT,
                aux,
            };
            self.queue.push_back(Op::RecCreate {
                rd,
                rec: base,
                params: PARAMS_POOL[1],
                p,
            });
            recs.push(base);
        }
        for _ in 0..4 {
            let rec = self.rng.pick(&recs);
            self.queue.push_back(Op::RecDestroy { rec });
        }
        true
    }

    /// Queues the start of the "initialize memory of a New Realm" flow (D1.2.3) for 2 MiB of a
    /// NEW realm: tables down to level 3, a few DATA_CREATE_UNKNOWN pages (RIPAS EMPTY), then
    /// RTT_INIT_RIPAS over the whole 2 MiB from an UNASSIGNED first page, so the range holds
    /// ASSIGNED pages too; then a READ_ENTRY of one of them. Returns the first command.
    fn plan_init_flow(&mut self, m: &Model, rd: u64) -> Op {
        let r = &m.realms[&rd];
        let region = self.rng.pick(&[0x40_0000, 0x60_0000, 0x4000_0000]);
        self.plan_tables(rd, r.level_start, region);
        let pages: Vec<u64> = (0..4).map(|_| 1 + self.rng.below(511)).collect();
        for &k in &pages {
            let data = self.cluster_addr();
            if m.state(data) == GState::Undelegated {
                self.queue.push_back(Op::Delegate { addr: data });
            }
            self.queue.push_back(Op::DataCreateUnknown {
                rd,
                data,
                ipa: region + k * G,
            });
        }
        self.queue.push_back(Op::RttInitRipas {
            rd,
            base: region,
            top: region + 0x20_0000,
        });
        self.queue.push_back(Op::RttReadEntry {
            rd,
            ipa: region + pages[0] * G,
            level: 3,
        });
        self.queue.pop_front().expect("queued")
    }

    /// Queues: tables for 2 MiB of a realm's Unprotected space, 512 NS pages mapped there in
    /// order with the same attributes, then RTT_FOLD (an ASSIGNED_NS level-2 block).
    fn plan_ns_block(&mut self, m: &Model) -> bool {
        let rds: Vec<u64> = m.realms.keys().copied().collect();
        if rds.is_empty() {
            return false;
        }
        let rd = self.rng.pick(&rds);
        let r = &m.realms[&rd];
        let region = r.ipa_limit() / 2 + 0x20_0000;
        self.plan_tables(rd, r.level_start, region);
        let attrs = self.rng.pick(&[6u64, 5, 1]) << 2 | self.rng.below(4) << 6;
        for i in 0..512 {
            self.queue.push_back(Op::RttMapUnprotected {
                rd,
                ipa: region + i * G,
                level: 3,
                desc: (NS_TARGET + i * G) | attrs,
            });
        }
        self.queue.push_back(Op::RttFold {
            rd,
            ipa: region,
            level: 3,
        });
        true
    }
}

/// The level whose alignment an RTT_CREATE/DESTROY/FOLD IPA needs (`level - 1`), when it is one.
fn parent(level: i64) -> Option<i64> {
    (1..=4).contains(&level).then(|| level - 1)
}
