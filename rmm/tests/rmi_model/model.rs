//! The reference model: what DEN0137 says the host can observe, kept in plain maps.
//!
//! State: the state of every granule the run has touched (UNDELEGATED when absent), realms
//! (state, VMID, IPA width, RTT shape, next REC index, live RECs), RECs (owner, aux granules), the
//! realms' RTTs as tables of abstract entries (UNASSIGNED + RIPAS, ASSIGNED + PA + RIPAS,
//! UNASSIGNED_NS, ASSIGNED_NS + host descriptor, TABLE + PA), the VMIDs in use, and the contents
//! the host wrote to NS pages and the contents DATA granules must hold.
//!
//! [`Model::exec`] takes one command, evaluates every failure condition of its spec page, and
//! returns the set of results the spec allows: SUCCESS (with the outputs it defines) when no
//! condition holds, or otherwise one entry per failing condition that no other failing condition
//! is ordered before (B1.6: conditions the "Failure condition ordering" leaves unordered may be
//! reported either way). On a predicted success the model applies the command's effect at once:
//! success is never a choice, so a run whose RMM disagrees stops there anyway.
//!
//! Adding a command: an [`Op`] variant (arguments, footprint), a method here that records each
//! failure condition of its spec page with [`Conds::check`] (status, and the conditions the page
//! orders before it) and applies the success conditions, and a `Kind` with a weight in `gen.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::abi::{
    index_of_mpidr, Features, Page, RealmParams, RecEnter, RecParams, Ret, DESC_ADDR, DESC_MEMATTR,
    DESC_S2AP, ENTER_EMULATED_MMIO, EXIT_IRQ, G, HCR_ENTER_ALLOWED, LR_HW, MEMATTR_RESERVED,
};
use super::ops::Op;

/// DRAM of the simulated QEMU board: one bank.
pub const DRAM: (u64, u64) = (0x4000_0000, 0x1_0000_0000);
/// The RMM's own Realm-PAS carve-out (never NS, never delegable through GTSI).
pub const RMM_REGION: (u64, u64) = (0x4010_0000, 0x4190_0000);

/// `RecAuxCount` (B3.36) is IMPLEMENTATION DEFINED. The model fixes it at this RMM's value and
/// checks every RMI_REC_AUX_COUNT answer against it, so a change shows up as one clear mismatch.
pub const AUX_COUNT: u64 = 2;
/// The narrowest IPA width this RMM accepts (A3.1.2 leaves the minimum to the implementation).
/// The generator only asks for widths from this value up, or for 0.
pub const MIN_S2SZ: u64 = 32;
/// The simulated CPU implements 16-bit VMIDs, so every VMID is valid (B3.82).
pub const VMID16: bool = true;

pub fn in_dram(pa: u64) -> bool {
    (DRAM.0..DRAM.1).contains(&pa)
}

pub fn in_rmm_region(pa: u64) -> bool {
    (RMM_REGION.0..RMM_REGION.1).contains(&pa)
}

/// `PaIsDelegable`: a granule of DRAM (the RMM region is DRAM too; GTSI refuses it).
pub fn delegable(pa: u64) -> bool {
    pa.is_multiple_of(G) && in_dram(pa)
}

/// Granule states (A2.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum GState {
    Undelegated,
    Delegated,
    Rd,
    Rec,
    RecAux,
    Data,
    Rtt,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RealmState {
    New,
    Active,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ripas {
    Empty = 0,
    Ram = 1,
    Destroyed = 2,
}

/// An RTT entry as A5.5.4 describes it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Rtte {
    Unassigned(Ripas),
    Assigned {
        pa: u64,
        ripas: Ripas,
    },
    UnassignedNs,
    /// The host's descriptor (address, MemAttr, S2AP) as it was mapped.
    AssignedNs {
        desc: u64,
    },
    Table {
        pa: u64,
    },
}

impl Rtte {
    /// A5.5.8: ASSIGNED, ASSIGNED_NS and TABLE entries are live.
    fn live(self) -> bool {
        matches!(
            self,
            Rtte::Assigned { .. } | Rtte::AssignedNs { .. } | Rtte::Table { .. }
        )
    }

    /// A5.5.8: an RTT is live if an entry is ASSIGNED or TABLE.
    fn makes_rtt_live(self) -> bool {
        matches!(self, Rtte::Assigned { .. } | Rtte::Table { .. })
    }

    /// RMI_RTT_READ_ENTRY's state, desc and ripas (B4.3.20.3, B3.61). `None` for the RIPAS of a
    /// TABLE entry, which the spec leaves unconstrained.
    pub fn read_entry(self) -> (u64, u64, Option<u64>) {
        match self {
            Rtte::Unassigned(r) => (0, 0, Some(r as u64)),
            Rtte::Assigned { pa, ripas } => (1, pa, Some(ripas as u64)),
            Rtte::UnassignedNs => (0, 0, Some(Ripas::Empty as u64)),
            Rtte::AssignedNs { desc } => (1, desc, Some(Ripas::Empty as u64)),
            Rtte::Table { pa } => (2, pa, None),
        }
    }
}

/// Bytes one entry of a level-`level` RTT maps (4 KiB granules).
pub fn entry_size(level: i64) -> u64 {
    1 << (12 + 9 * (3 - level))
}

pub fn is_aligned(addr: u64, level: i64) -> bool {
    addr.is_multiple_of(entry_size(level))
}

pub fn align_down(addr: u64, level: i64) -> u64 {
    addr & !(entry_size(level) - 1)
}

/// Number of concatenated starting tables for an IPA width and starting level (the Arm ARM's
/// consistency rule for 4 KiB granules, A5.5.3): the width must need more than one entry at the
/// starting level and at most 16 tables. `None` for an inconsistent pair.
pub fn num_start_for(s2sz: u64, level: i64) -> Option<u32> {
    if !(0..=3).contains(&level) {
        return None;
    }
    let entry_bits = 12 + 9 * (3 - level) as u64;
    let table_bits = entry_bits + 9;
    if s2sz <= entry_bits || s2sz > table_bits + 4 {
        return None;
    }
    Some(1 << s2sz.saturating_sub(table_bits))
}

/// One RTT granule of a realm.
#[derive(Clone, Debug)]
pub struct Table {
    pub rd: u64,
    pub level: i64,
    /// IPA of entry 0.
    pub base: u64,
    pub entries: Vec<Rtte>,
}

impl Table {
    fn index(&self, ipa: u64) -> usize {
        ((ipa >> (12 + 9 * (3 - self.level))) & 511) as usize
    }

    fn ipa_of(&self, index: usize) -> u64 {
        self.base + index as u64 * entry_size(self.level)
    }

    /// The end of the IPA range this table maps.
    fn end(&self) -> u64 {
        self.ipa_of(512)
    }

    /// `RttSkipEntriesUnlessState`-style scan (B3.74): the IPA of the first entry from the one
    /// holding `ipa` for which `pred` holds, or the end of the table.
    fn skip_until(&self, ipa: u64, pred: impl Fn(Rtte) -> bool) -> u64 {
        (self.index(ipa)..512)
            .find(|&i| pred(self.entries[i]))
            .map_or(self.end(), |i| self.ipa_of(i))
    }

    /// `RttSkipNonLiveEntries` (B3.76).
    pub fn skip_non_live(&self, ipa: u64) -> u64 {
        align_down(self.skip_until(ipa, Rtte::live), self.level)
    }

    /// `RttIsLive` (B3.64).
    fn is_live(&self) -> bool {
        self.entries.iter().any(|e| e.makes_rtt_live())
    }

    /// `RttFold` of a homogeneous table (A5.5.6), `None` if it is not homogeneous.
    fn fold(&self) -> Option<Rtte> {
        let size = entry_size(self.level);
        let parent_size = entry_size(self.level - 1);
        let block_level = self.level == 2 || self.level == 3;
        let all = |f: &dyn Fn(usize, Rtte) -> bool| {
            self.entries.iter().enumerate().all(|(i, &e)| f(i, e))
        };
        match self.entries[0] {
            Rtte::Unassigned(r) => {
                all(&|_, e| e == Rtte::Unassigned(r)).then_some(Rtte::Unassigned(r))
            }
            Rtte::UnassignedNs => {
                all(&|_, e| e == Rtte::UnassignedNs).then_some(Rtte::UnassignedNs)
            }
            Rtte::Assigned { pa, ripas } => (block_level
                && pa.is_multiple_of(parent_size)
                && all(&|i, e| {
                    e == Rtte::Assigned {
                        pa: pa + i as u64 * size,
                        ripas,
                    }
                }))
            .then_some(Rtte::Assigned { pa, ripas }),
            Rtte::AssignedNs { desc } => {
                let (addr, attrs) = (desc & DESC_ADDR, desc & !DESC_ADDR);
                (block_level
                    && addr.is_multiple_of(parent_size)
                    && all(&|i, e| {
                        e == Rtte::AssignedNs {
                            desc: (addr + i as u64 * size) | attrs,
                        }
                    }))
                .then_some(Rtte::AssignedNs { desc })
            }
            Rtte::Table { .. } => None,
        }
    }
}

/// The entries of a new level-`level` RTT unfolded from its parent entry (A5.5.7).
fn unfold(parent: Rtte, level: i64) -> Vec<Rtte> {
    let size = entry_size(level);
    (0..512u64)
        .map(|i| match parent {
            Rtte::Assigned { pa, ripas } => Rtte::Assigned {
                pa: pa + i * size,
                ripas,
            },
            Rtte::AssignedNs { desc } => Rtte::AssignedNs {
                desc: ((desc & DESC_ADDR) + i * size) | (desc & !DESC_ADDR),
            },
            other => other,
        })
        .collect()
}

#[derive(Clone, Debug)]
pub struct Realm {
    pub state: RealmState,
    pub vmid: u16,
    pub s2sz: u64,
    pub level_start: i64,
    pub num_start: u32,
    pub rtt_base: u64,
    /// The index the next REC must have.
    pub next_rec: u64,
    pub live_recs: u64,
}

impl Realm {
    pub fn ipa_limit(&self) -> u64 {
        1 << self.s2sz
    }

    /// `AddrIsProtected` (B3.4).
    pub fn protected(&self, ipa: u64) -> bool {
        ipa < self.ipa_limit() / 2
    }

    /// `RttLevelIsValid` (B3.67).
    pub fn level_valid(&self, level: i64) -> bool {
        (self.level_start..=3).contains(&level)
    }

    /// `RttLevelIsBlockOrPage` (B3.65): a level of the tree at which entries may map memory.
    pub fn level_block_or_page(&self, level: i64) -> bool {
        self.level_valid(level) && level >= 1
    }

    pub fn start_tables(&self) -> impl Iterator<Item = u64> + '_ {
        (0..u64::from(self.num_start)).map(move |i| self.rtt_base + i * G)
    }
}

#[derive(Clone, Debug)]
pub struct Rec {
    pub owner: u64,
    pub aux: Vec<u64>,
    pub runnable: bool,
}

/// Where a walk stopped (`RmmRttWalkResult`).
#[derive(Clone, Copy, Debug)]
pub struct Walk {
    pub level: i64,
    pub table: u64,
    pub index: usize,
    pub entry: Rtte,
}

/// What the RMM may answer: one of these results, with the outputs the spec fixes for it
/// (`None`: unconstrained).
#[derive(Clone, Debug)]
pub struct Outcome {
    pub ret: Ret,
    /// The failure condition (or "success").
    pub why: &'static str,
    pub outputs: [Option<u64>; 4],
}

/// What a granule's contents must be after a command.
#[derive(Clone, Debug)]
pub enum Contents {
    Zero,
    Bytes(Rc<Page>),
    /// A RecRun whose rec_exit.exit_reason is this value.
    ExitReason(u8),
}

impl Contents {
    pub fn matches(&self, page: &Page) -> bool {
        match self {
            Contents::Zero => *page == [0; G as usize],
            Contents::Bytes(b) => **b == *page,
            Contents::ExitReason(r) => {
                let at = super::abi::EXIT_REASON;
                page[at..at + 8] == u64::from(*r).to_le_bytes()
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Expect {
    pub outcomes: Vec<Outcome>,
    /// Contents to check right after a successful command.
    pub memory: Vec<(u64, Contents)>,
}

/// A deliberately wrong rule, to prove the harness notices when the RMM and the model disagree.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Plant {
    /// The model believes an ACTIVE realm can be activated again.
    ActivateTwice,
}

/// Failure conditions of one command, collected as they are evaluated.
#[derive(Default)]
struct Conds {
    failing: Vec<(Outcome, &'static [&'static str])>,
}

/// Condition IDs the spec orders the realm and walk conditions after.
const AFTER_RD: &[&str] = &["rd_bound", "rd_state"];

impl Conds {
    /// Records condition `id` if `holds`; `after` lists the conditions that, when they hold too,
    /// must be reported instead.
    fn check(&mut self, holds: bool, id: &'static str, ret: Ret, after: &'static [&'static str]) {
        self.check_out(holds, id, ret, [None; 4], after);
    }

    fn check_out(
        &mut self,
        holds: bool,
        id: &'static str,
        ret: Ret,
        outputs: [Option<u64>; 4],
        after: &'static [&'static str],
    ) {
        if holds {
            self.failing.push((
                Outcome {
                    ret,
                    why: id,
                    outputs,
                },
                after,
            ));
        }
    }

    fn input(&mut self, holds: bool, id: &'static str) {
        self.check(holds, id, Ret::INPUT, &[]);
    }

    fn any(&self) -> bool {
        !self.failing.is_empty()
    }

    /// The reportable failures: failing conditions with no failing condition ordered before
    /// them. `None` if nothing fails.
    fn outcomes(self) -> Option<Vec<Outcome>> {
        if self.failing.is_empty() {
            return None;
        }
        let ids: BTreeSet<&str> = self.failing.iter().map(|(o, _)| o.why).collect();
        Some(
            self.failing
                .iter()
                .filter(|(_, after)| !after.iter().any(|a| ids.contains(a)))
                .map(|(o, _)| o.clone())
                .collect(),
        )
    }
}

/// The model.
pub struct Model {
    pub features: Features,
    /// Granules touched so far and their states (UNDELEGATED when absent).
    pub granules: BTreeMap<u64, GState>,
    pub realms: BTreeMap<u64, Realm>,
    pub recs: BTreeMap<u64, Rec>,
    pub tables: BTreeMap<u64, Table>,
    pub vmids: BTreeSet<u16>,
    /// What the host last wrote to NS pages (unwritten NS pages read as zero).
    pub ns: BTreeMap<u64, Rc<Page>>,
    /// What each DATA granule must hold.
    pub data: BTreeMap<u64, Contents>,
    pub plant: Option<Plant>,
    /// Bumped whenever a granule changes state (lets the generator cache lookups).
    pub epoch: u64,
}

impl Model {
    pub fn new(features: Features) -> Self {
        Self {
            features,
            granules: BTreeMap::new(),
            realms: BTreeMap::new(),
            recs: BTreeMap::new(),
            tables: BTreeMap::new(),
            vmids: BTreeSet::new(),
            ns: BTreeMap::new(),
            data: BTreeMap::new(),
            plant: None,
            epoch: 0,
        }
    }

    pub fn state(&self, pa: u64) -> GState {
        self.granules
            .get(&pa)
            .copied()
            .unwrap_or(GState::Undelegated)
    }

    fn set(&mut self, pa: u64, s: GState) {
        self.granules.insert(pa, s);
        self.epoch += 1;
    }

    /// `GranuleAccessPermitted(pa, PAS_NS)` for a delegable granule: the GPT says NS.
    pub fn ns_accessible(&self, pa: u64) -> bool {
        delegable(pa) && !in_rmm_region(pa) && self.state(pa) == GState::Undelegated
    }

    /// The GPT entry of a DRAM granule: Realm for the RMM region and every delegated granule.
    pub fn gpt_realm(&self, pa: u64) -> bool {
        in_dram(pa) && (in_rmm_region(pa) || self.state(pa) != GState::Undelegated)
    }

    /// The host writes `bytes` to `pa`, if it can (an NS granule of DRAM); returns whether it did.
    pub fn host_write(&mut self, pa: u64, bytes: Rc<Page>) -> bool {
        if !self.ns_accessible(pa) {
            return false;
        }
        self.ns.insert(pa, bytes);
        true
    }

    /// The host's copy of an NS page (zeros if it never wrote it).
    pub fn ns_page(&self, pa: u64) -> Page {
        self.ns.get(&pa).map_or([0; G as usize], |b| **b)
    }

    fn ns_contents(&self, pa: u64) -> Contents {
        self.ns
            .get(&pa)
            .map_or(Contents::Zero, |b| Contents::Bytes(b.clone()))
    }

    fn realm(&self, rd: u64) -> Option<&Realm> {
        (delegable(rd) && self.state(rd) == GState::Rd)
            .then(|| self.realms.get(&rd))
            .flatten()
    }

    /// `rd_align`, `rd_bound`, `rd_state` (all RMI_ERROR_INPUT); the realm when they pass.
    fn rd_checks(&self, cs: &mut Conds, rd: u64) -> Option<Realm> {
        cs.input(!rd.is_multiple_of(G), "rd_align");
        cs.input(!in_dram(rd), "rd_bound");
        cs.input(delegable(rd) && self.state(rd) != GState::Rd, "rd_state");
        self.realm(rd).cloned()
    }

    /// `<x>_align`, `<x>_bound`, `<x>_state` for a granule argument that must be in `want`.
    fn granule_checks(&self, cs: &mut Conds, pa: u64, want: GState, ids: [&'static str; 3]) {
        cs.input(!pa.is_multiple_of(G), ids[0]);
        cs.input(!in_dram(pa), ids[1]);
        cs.input(delegable(pa) && self.state(pa) != want, ids[2]);
    }

    /// `RttWalk(rd, ipa, level)` for `ipa` below the realm's IPA limit and a valid level.
    pub fn walk(&self, realm: &Realm, ipa: u64, target: i64) -> Walk {
        let start_index = ipa >> (12 + 9 * (3 - realm.level_start));
        let mut table = realm.rtt_base + (start_index / 512) * G;
        let mut level = realm.level_start;
        loop {
            let t = &self.tables[&table];
            let index = t.index(ipa);
            let entry = t.entries[index];
            match entry {
                Rtte::Table { pa } if level < target => {
                    table = pa;
                    level += 1;
                }
                _ => {
                    return Walk {
                        level,
                        table,
                        index,
                        entry,
                    }
                }
            }
        }
    }

    fn write_entry(&mut self, w: &Walk, e: Rtte) {
        self.tables.get_mut(&w.table).expect("walked table").entries[w.index] = e;
    }

    /// Runs `op` against the model: the results the spec allows, and the effect of a success.
    pub fn exec(&mut self, op: &Op) -> Expect {
        let mut memory = Vec::new();
        let result = match *op {
            Op::Delegate { addr } => self.delegate(addr),
            Op::Undelegate { addr } => {
                let r = self.undelegate(addr);
                memory.push((addr, Contents::Zero));
                r
            }
            Op::RealmCreate { rd, params, p } => self.realm_create(rd, params, &p),
            Op::RealmActivate { rd } => self.realm_activate(rd),
            Op::RealmDestroy { rd } => self.realm_destroy(rd),
            Op::RecAuxCount { rd } => self.rec_aux_count(rd),
            Op::RecCreate { rd, rec, params, p } => self.rec_create(rd, rec, params, &p),
            Op::RecDestroy { rec } => self.rec_destroy(rec),
            Op::RecEnter { rec, run, enter } => {
                memory.push((run, Contents::ExitReason(EXIT_IRQ)));
                self.rec_enter(rec, run, &enter)
            }
            Op::DataCreate {
                rd,
                data,
                ipa,
                src,
                flags,
                ..
            } => self.data_create(rd, data, ipa, Some((src, flags)), &mut memory),
            Op::DataCreateUnknown { rd, data, ipa } => {
                self.data_create(rd, data, ipa, None, &mut memory)
            }
            Op::DataDestroy { rd, ipa } => self.data_destroy(rd, ipa),
            Op::RttCreate {
                rd,
                rtt,
                ipa,
                level,
            } => self.rtt_create(rd, rtt, ipa, level),
            Op::RttDestroy { rd, ipa, level } => self.rtt_destroy_or_fold(rd, ipa, level, false),
            Op::RttFold { rd, ipa, level } => self.rtt_destroy_or_fold(rd, ipa, level, true),
            Op::RttReadEntry { rd, ipa, level } => self.rtt_read_entry(rd, ipa, level),
            Op::RttMapUnprotected {
                rd,
                ipa,
                level,
                desc,
            } => self.rtt_map_unprotected(rd, ipa, level, desc),
            Op::RttUnmapUnprotected { rd, ipa, level } => {
                self.rtt_unmap_unprotected(rd, ipa, level)
            }
            Op::RttInitRipas { rd, base, top } => self.rtt_init_ripas(rd, base, top),
            Op::RttSetRipas { rd, rec, base, top } => self.rtt_set_ripas(rd, rec, base, top),
            Op::PsciComplete {
                calling, target, ..
            } => self.psci_complete(calling, target),
        };
        match result {
            Ok(outputs) => Expect {
                outcomes: vec![Outcome {
                    ret: Ret::SUCCESS,
                    why: "success",
                    outputs,
                }],
                memory,
            },
            Err(outcomes) => Expect {
                outcomes,
                memory: Vec::new(),
            },
        }
    }
}

/// A command's predicted result: its outputs on success, or the reportable failures.
type Predicted = Result<[Option<u64>; 4], Vec<Outcome>>;

const NO_OUTPUTS: [Option<u64>; 4] = [None; 4];

fn fail_or(cs: Conds) -> Result<(), Vec<Outcome>> {
    match cs.outcomes() {
        Some(o) => Err(o),
        None => Ok(()),
    }
}

impl Model {
    /// B4.3.5: UNDELEGATED, NS in the GPT -> DELEGATED, Realm in the GPT.
    fn delegate(&mut self, addr: u64) -> Predicted {
        let mut cs = Conds::default();
        cs.input(!addr.is_multiple_of(G), "gran_align");
        cs.input(!in_dram(addr), "gran_bound");
        cs.input(
            delegable(addr) && self.state(addr) != GState::Undelegated,
            "gran_state",
        );
        cs.input(delegable(addr) && in_rmm_region(addr), "gran_gpt");
        fail_or(cs)?;
        self.set(addr, GState::Delegated);
        Ok(NO_OUTPUTS)
    }

    /// B4.3.6: DELEGATED -> UNDELEGATED, wiped, NS again.
    fn undelegate(&mut self, addr: u64) -> Predicted {
        let mut cs = Conds::default();
        cs.input(!addr.is_multiple_of(G), "gran_align");
        cs.input(!in_dram(addr), "gran_bound");
        cs.input(
            delegable(addr) && self.state(addr) != GState::Delegated,
            "gran_state",
        );
        fail_or(cs)?;
        self.set(addr, GState::Undelegated);
        self.ns.remove(&addr);
        Ok(NO_OUTPUTS)
    }

    /// B4.3.9. `params_ptr` holds `p` if the host could write it there.
    fn realm_create(&mut self, rd: u64, params_ptr: u64, p: &RealmParams) -> Predicted {
        let f = self.features;
        let mut cs = Conds::default();
        cs.input(!params_ptr.is_multiple_of(G), "params_align");
        cs.input(!in_dram(params_ptr), "params_bound");
        let readable = self.ns_accessible(params_ptr);
        cs.input(delegable(params_ptr) && !readable, "params_pas");
        let mut shape = None;
        if readable {
            let lpa2 = p.flags & 1 != 0;
            let sve = p.flags & 2 != 0;
            let pmu = p.flags & 4 != 0;
            cs.input(
                p.flags >> 3 != 0
                    || p.stray.is_some()
                    || p.hash_algo > 1
                    || p.num_bps == 0
                    || p.num_wps == 0,
                "params_valid",
            );
            let s2sz = u64::from(p.s2sz);
            let hash_ok = match p.hash_algo {
                0 => f.sha256,
                1 => f.sha512,
                _ => true, // params_valid already
            };
            cs.input(
                (lpa2 && !f.lpa2)
                    || (sve && !f.sve)
                    || (pmu && !f.pmu)
                    || s2sz < MIN_S2SZ
                    || s2sz > f.s2sz
                    || u64::from(p.sve_vl) > f.sve_vl
                    || u64::from(p.pmu_num_ctrs) > f.pmu_num_ctrs
                    || u64::from(p.num_bps) > f.num_bps
                    || u64::from(p.num_wps) > f.num_wps
                    || !hash_ok,
                "params_supp",
            );
            let level0_ok = p.rtt_level_start != 0 || f.s2sz >= 44;
            let num = num_start_for(s2sz, p.rtt_level_start).filter(|_| level0_ok);
            cs.input(num != Some(p.rtt_num_start), "rtt_num_level");
            if let Some(num) = num.filter(|&n| n == p.rtt_num_start) {
                let size = u64::from(num) * G;
                cs.input(!p.rtt_base.is_multiple_of(size), "rtt_align");
                let last = u128::from(p.rtt_base) + u128::from(size - G);
                cs.input(
                    u128::from(rd) >= u128::from(p.rtt_base) && u128::from(rd) <= last,
                    "alias",
                );
                let tables: Vec<u64> = (0..u64::from(num))
                    .map(|i| p.rtt_base.wrapping_add(i * G))
                    .collect();
                cs.input(
                    tables
                        .iter()
                        .any(|&t| !delegable(t) || self.state(t) != GState::Delegated),
                    "rtt_state",
                );
                shape = Some((s2sz, p.rtt_level_start, num, tables));
            }
            cs.input(
                !(VMID16 || p.vmid < 256) || self.vmids.contains(&p.vmid),
                "vmid_valid",
            );
        }
        cs.input(!rd.is_multiple_of(G), "rd_align");
        cs.input(!in_dram(rd), "rd_bound");
        cs.input(
            delegable(rd) && self.state(rd) != GState::Delegated,
            "rd_state",
        );
        fail_or(cs)?;
        let (s2sz, level_start, num_start, tables) = shape.expect("checked");
        let realm = Realm {
            state: RealmState::New,
            vmid: p.vmid,
            s2sz,
            level_start,
            num_start,
            rtt_base: p.rtt_base,
            next_rec: 0,
            live_recs: 0,
        };
        let per_table = 512 * entry_size(level_start);
        for (i, &t) in tables.iter().enumerate() {
            let base = i as u64 * per_table;
            let table = Table {
                rd,
                level: level_start,
                base,
                entries: (0..512u64)
                    .map(|j| {
                        if realm.protected(base + j * entry_size(level_start)) {
                            Rtte::Unassigned(Ripas::Empty)
                        } else {
                            Rtte::UnassignedNs
                        }
                    })
                    .collect(),
            };
            self.tables.insert(t, table);
            self.set(t, GState::Rtt);
        }
        self.vmids.insert(p.vmid);
        self.realms.insert(rd, realm);
        self.set(rd, GState::Rd);
        Ok(NO_OUTPUTS)
    }

    /// B4.3.8.
    fn realm_activate(&mut self, rd: u64) -> Predicted {
        let mut cs = Conds::default();
        let realm = self.rd_checks(&mut cs, rd);
        if let Some(r) = &realm {
            let planted = self.plant == Some(Plant::ActivateTwice);
            cs.check(
                r.state != RealmState::New && !planted,
                "realm_state",
                Ret::REALM,
                AFTER_RD,
            );
        }
        fail_or(cs)?;
        self.realms.get_mut(&rd).expect("realm").state = RealmState::Active;
        Ok(NO_OUTPUTS)
    }

    /// B4.3.10: the realm must not be live (A2.1.4): no RECs, no live starting-level RTT.
    fn realm_destroy(&mut self, rd: u64) -> Predicted {
        let mut cs = Conds::default();
        let realm = self.rd_checks(&mut cs, rd);
        if let Some(r) = &realm {
            let live = r.live_recs > 0 || r.start_tables().any(|t| self.tables[&t].is_live());
            cs.check(live, "realm_live", Ret::REALM, AFTER_RD);
        }
        fail_or(cs)?;
        let r = self.realms.remove(&rd).expect("realm");
        for t in r.start_tables() {
            self.tables.remove(&t);
            self.set(t, GState::Delegated);
        }
        self.vmids.remove(&r.vmid);
        self.set(rd, GState::Delegated);
        Ok(NO_OUTPUTS)
    }

    /// B4.3.11.
    fn rec_aux_count(&mut self, rd: u64) -> Predicted {
        let mut cs = Conds::default();
        self.rd_checks(&mut cs, rd);
        fail_or(cs)?;
        Ok([Some(AUX_COUNT), None, None, None])
    }

    /// B4.3.12.
    fn rec_create(&mut self, rd: u64, rec: u64, params_ptr: u64, p: &RecParams) -> Predicted {
        let mut cs = Conds::default();
        cs.input(!params_ptr.is_multiple_of(G), "params_align");
        cs.input(!in_dram(params_ptr), "params_bound");
        let readable = self.ns_accessible(params_ptr);
        cs.input(delegable(params_ptr) && !readable, "params_pas");
        self.granule_checks(
            &mut cs,
            rec,
            GState::Delegated,
            ["rec_align", "rec_bound", "rec_state"],
        );
        let realm = self.rd_checks(&mut cs, rd);
        let max_recs = (1u64 << self.features.max_recs_order) - 1;
        if let Some(r) = &realm {
            cs.check(
                r.state != RealmState::New,
                "realm_state",
                Ret::REALM,
                AFTER_RD,
            );
            cs.check(r.live_recs == max_recs, "num_recs", Ret::REALM, AFTER_RD);
            if readable {
                cs.input(index_of_mpidr(p.mpidr) != r.next_rec, "mpidr_index");
            }
        }
        let aux: Vec<u64> = p.aux[..(p.num_aux.min(16) as usize)].to_vec();
        if readable {
            cs.input(p.num_aux != AUX_COUNT, "num_aux");
            cs.input(aux.iter().any(|a| !a.is_multiple_of(G)), "aux_align");
            let dup = aux
                .iter()
                .enumerate()
                .any(|(i, a)| *a == rec || aux[..i].contains(a));
            cs.input(dup, "aux_alias");
            cs.input(
                aux.iter()
                    .any(|&a| !delegable(a) || self.state(a) != GState::Delegated),
                "aux_state",
            );
        }
        fail_or(cs)?;
        let r = self.realms.get_mut(&rd).expect("realm");
        r.next_rec += 1;
        r.live_recs += 1;
        for &a in &aux {
            self.set(a, GState::RecAux);
        }
        self.set(rec, GState::Rec);
        let runnable = p.flags & 1 != 0;
        self.recs.insert(
            rec,
            Rec {
                owner: rd,
                aux,
                runnable,
            },
        );
        Ok(NO_OUTPUTS)
    }

    /// B4.3.13. No REC is ever running here (REC_ENTER is not driven), so `rec_state` never holds.
    fn rec_destroy(&mut self, rec: u64) -> Predicted {
        let mut cs = Conds::default();
        self.granule_checks(
            &mut cs,
            rec,
            GState::Rec,
            ["rec_align", "rec_bound", "rec_gran_state"],
        );
        fail_or(cs)?;
        let r = self.recs.remove(&rec).expect("rec");
        for a in r.aux {
            self.set(a, GState::Delegated);
        }
        self.set(rec, GState::Delegated);
        self.realms.get_mut(&r.owner).expect("owner").live_recs -= 1;
        Ok(NO_OUTPUTS)
    }

    /// B4.3.14. The simulated CPU runs no realm code unless a test scripts it, so an entry that
    /// passes every check ends at once with an IRQ exit: the REC is never left running, never has
    /// an emulatable abort, a PSCI request or a host call pending, and its realm never reaches
    /// SYSTEM_OFF; `rec_state`, `rec_psci`, `system_off` never hold and `rec_mmio` holds whenever
    /// the host claims to complete an MMIO access.
    fn rec_enter(&mut self, rec: u64, run: u64, enter: &RecEnter) -> Predicted {
        const AFTER: &[&str] = &[
            "rec_align",
            "rec_bound",
            "rec_gran_state",
            "run_pas",
            "run_bound",
            "run_align",
        ];
        let mut cs = Conds::default();
        cs.input(!run.is_multiple_of(G), "run_align");
        cs.input(!in_dram(run), "run_bound");
        let readable = self.ns_accessible(run);
        cs.input(delegable(run) && !readable, "run_pas");
        self.granule_checks(
            &mut cs,
            rec,
            GState::Rec,
            ["rec_align", "rec_bound", "rec_gran_state"],
        );
        if let Some(r) = self
            .recs
            .get(&rec)
            .filter(|_| self.state(rec) == GState::Rec)
        {
            let realm = &self.realms[&r.owner];
            cs.check(
                realm.state == RealmState::New,
                "realm_new",
                Ret::REALM,
                AFTER,
            );
            cs.check(!r.runnable, "rec_runnable", Ret::REC, AFTER);
            if readable {
                cs.check(
                    enter.flags & ENTER_EMULATED_MMIO != 0,
                    "rec_mmio",
                    Ret::REC,
                    AFTER,
                );
                // Gicv3ConfigIsValid (B3.18) is left to A6.1 and GICv3: only the HCR bits a
                // host may set, no hardware interrupt, and no vINTID in two list registers that
                // hold an interrupt (UNPREDICTABLE in GICv3). The generator makes no other
                // invalid encoding.
                let lrs = &enter.gicv3_lrs;
                let holds = |lr: &u64| lr >> 62 != 0;
                let duplicate = lrs.iter().enumerate().any(|(i, a)| {
                    holds(a)
                        && lrs[i + 1..]
                            .iter()
                            .any(|b| holds(b) && b & 0xFFFF_FFFF == a & 0xFFFF_FFFF)
                });
                let gic_ok = enter.gicv3_hcr & !HCR_ENTER_ALLOWED == 0
                    && lrs.iter().all(|lr| lr & LR_HW == 0)
                    && !duplicate;
                cs.check(!gic_ok, "rec_gicv3", Ret::REC, AFTER);
            }
        }
        fail_or(cs)?;
        Ok(NO_OUTPUTS)
    }

    /// B4.3.1 (`src` given) and B4.3.2 (`src` absent).
    fn data_create(
        &mut self,
        rd: u64,
        data: u64,
        ipa: u64,
        src: Option<(u64, u64)>,
        memory: &mut Vec<(u64, Contents)>,
    ) -> Predicted {
        const WALK_AFTER: &[&str] = &["rd_bound", "rd_state", "ipa_bound"];
        let mut cs = Conds::default();
        if let Some((src, _flags)) = src {
            cs.input(!src.is_multiple_of(G), "src_align");
            cs.input(!in_dram(src), "src_bound");
            cs.input(delegable(src) && !self.ns_accessible(src), "src_pas");
        }
        self.granule_checks(
            &mut cs,
            data,
            GState::Delegated,
            ["data_align", "data_bound", "data_state"],
        );
        let realm = self.rd_checks(&mut cs, rd);
        let mut walk = None;
        if let Some(r) = &realm {
            cs.input(!ipa.is_multiple_of(G), "ipa_align");
            cs.input(!r.protected(ipa), "ipa_bound");
            if src.is_some() {
                cs.check(
                    r.state != RealmState::New,
                    "realm_state",
                    Ret::REALM,
                    AFTER_RD,
                );
            }
            if ipa < r.ipa_limit() {
                let w = self.walk(r, ipa, 3);
                cs.check(w.level < 3, "rtt_walk", Ret::rtt(w.level), WALK_AFTER);
                cs.check(
                    !matches!(w.entry, Rtte::Unassigned(_)),
                    "rtte_state",
                    Ret::rtt(w.level),
                    WALK_AFTER,
                );
                walk = Some(w);
            }
        }
        fail_or(cs)?;
        let w = walk.expect("walked");
        let (ripas, contents) = match (src, w.entry) {
            (Some((src, _)), _) => (Ripas::Ram, self.ns_contents(src)),
            (None, Rtte::Unassigned(r)) => (r, Contents::Zero),
            (None, _) => unreachable!("rtte_state"),
        };
        self.write_entry(&w, Rtte::Assigned { pa: data, ripas });
        self.set(data, GState::Data);
        self.data.insert(data, contents.clone());
        memory.push((data, contents));
        Ok(NO_OUTPUTS)
    }

    /// B4.3.3: outputs `data` and `top` (`top` also on the walk failures, 0 on the others).
    fn data_destroy(&mut self, rd: u64, ipa: u64) -> Predicted {
        const WALK_AFTER: &[&str] = &["rd_bound", "rd_state", "ipa_bound"];
        let mut cs = Conds::default();
        let realm = self.rd_checks(&mut cs, rd);
        let mut walk = None;
        if let Some(r) = &realm {
            cs.input(!ipa.is_multiple_of(G), "ipa_align");
            cs.input(!r.protected(ipa), "ipa_bound");
            if r.protected(ipa) {
                let w = self.walk(r, ipa, 3);
                let top = Some(self.tables[&w.table].skip_non_live(ipa));
                let out = [None, top, None, None];
                cs.check_out(w.level < 3, "rtt_walk", Ret::rtt(w.level), out, WALK_AFTER);
                cs.check_out(
                    !matches!(w.entry, Rtte::Assigned { .. }),
                    "rtte_state",
                    Ret::rtt(w.level),
                    out,
                    WALK_AFTER,
                );
                walk = Some(w);
            }
        }
        fail_or(cs).map_err(|o| zero_top_unless_rtt(o, 1))?;
        let w = walk.expect("walked");
        let Rtte::Assigned { pa, ripas } = w.entry else {
            unreachable!("rtte_state")
        };
        let after = if ripas == Ripas::Ram {
            Ripas::Destroyed
        } else {
            ripas
        };
        self.write_entry(&w, Rtte::Unassigned(after));
        self.set(pa, GState::Delegated);
        self.data.remove(&pa);
        let top = self.tables[&w.table].skip_non_live(ipa);
        Ok([Some(pa), Some(top), None, None])
    }

    /// `level_bound`, `ipa_align`, `ipa_bound` of RTT_CREATE/DESTROY/FOLD, and the walk to
    /// `level - 1` when the walk conditions can be evaluated.
    fn parent_walk(&self, cs: &mut Conds, r: &Realm, ipa: u64, level: i64) -> Option<Walk> {
        let level_ok = r.level_valid(level) && level != r.level_start;
        cs.input(!level_ok, "level_bound");
        if level_ok {
            cs.input(!is_aligned(ipa, level - 1), "ipa_align");
        }
        cs.input(ipa >= r.ipa_limit(), "ipa_bound");
        (level_ok && ipa < r.ipa_limit()).then(|| self.walk(r, ipa, level - 1))
    }

    /// B4.3.15.
    fn rtt_create(&mut self, rd: u64, rtt: u64, ipa: u64, level: i64) -> Predicted {
        const WALK_AFTER: &[&str] = &["rd_bound", "rd_state", "level_bound", "ipa_bound"];
        let mut cs = Conds::default();
        let realm = self.rd_checks(&mut cs, rd);
        self.granule_checks(
            &mut cs,
            rtt,
            GState::Delegated,
            ["rtt_align", "rtt_bound", "rtt_state"],
        );
        let mut walk = None;
        if let Some(r) = &realm {
            if let Some(w) = self.parent_walk(&mut cs, r, ipa, level) {
                cs.check(
                    w.level < level - 1,
                    "rtt_walk",
                    Ret::rtt(w.level),
                    WALK_AFTER,
                );
                cs.check(
                    matches!(w.entry, Rtte::Table { .. }),
                    "rtte_state",
                    Ret::rtt(w.level),
                    WALK_AFTER,
                );
                walk = Some(w);
            }
        }
        fail_or(cs)?;
        let w = walk.expect("walked");
        let table = Table {
            rd,
            level,
            base: align_down(ipa, level - 1),
            entries: unfold(w.entry, level),
        };
        self.tables.insert(rtt, table);
        self.write_entry(&w, Rtte::Table { pa: rtt });
        self.set(rtt, GState::Rtt);
        Ok(NO_OUTPUTS)
    }

    /// B4.3.16 (`fold` false) and B4.3.17 (`fold` true).
    ///
    /// RTT_DESTROY leaves the parent entry UNASSIGNED with RIPAS DESTROYED (A5.5.9) for a
    /// Protected IPA. For an Unprotected IPA the model uses UNASSIGNED_NS: A5.5.4 defines
    /// UNASSIGNED (and RIPAS) for Protected IPAs only, and UNASSIGNED_NS is the one non-live
    /// state of an Unprotected entry (TF-RMM does the same).
    fn rtt_destroy_or_fold(&mut self, rd: u64, ipa: u64, level: i64, fold: bool) -> Predicted {
        const WALK_AFTER: &[&str] = &["rd_bound", "rd_state", "level_bound", "ipa_bound"];
        let mut cs = Conds::default();
        let realm = self.rd_checks(&mut cs, rd);
        let mut plan = None;
        if let Some(r) = &realm {
            if let Some(w) = self.parent_walk(&mut cs, r, ipa, level) {
                let top = (!fold).then(|| self.tables[&w.table].skip_non_live(ipa));
                let out = [None, top, None, None];
                cs.check_out(
                    w.level < level - 1,
                    "rtt_walk",
                    Ret::rtt(w.level),
                    out,
                    WALK_AFTER,
                );
                cs.check_out(
                    !matches!(w.entry, Rtte::Table { .. }),
                    "rtte_state",
                    Ret::rtt(w.level),
                    out,
                    WALK_AFTER,
                );
                if let Rtte::Table { pa: child } = w.entry {
                    let c = &self.tables[&child];
                    if fold {
                        let folded = c.fold();
                        cs.check(folded.is_none(), "rtt_homo", Ret::rtt(level), AFTER_RD);
                        plan = folded.map(|f| (w, child, f));
                    } else {
                        let out = [None, Some(ipa), None, None];
                        cs.check_out(c.is_live(), "rtt_live", Ret::rtt(level), out, AFTER_RD);
                        let parent = if r.protected(ipa) {
                            Rtte::Unassigned(Ripas::Destroyed)
                        } else {
                            Rtte::UnassignedNs
                        };
                        plan = Some((w, child, parent));
                    }
                }
            }
        }
        fail_or(cs).map_err(|o| if fold { o } else { zero_top_unless_rtt(o, 1) })?;
        let (w, child, parent) = plan.expect("planned");
        self.write_entry(&w, parent);
        self.tables.remove(&child);
        self.set(child, GState::Delegated);
        if fold {
            Ok([Some(child), None, None, None])
        } else {
            let top = self.tables[&w.table].skip_non_live(ipa);
            Ok([Some(child), Some(top), None, None])
        }
    }

    /// B4.3.20.
    fn rtt_read_entry(&mut self, rd: u64, ipa: u64, level: i64) -> Predicted {
        let mut cs = Conds::default();
        let realm = self.rd_checks(&mut cs, rd);
        let mut walk = None;
        if let Some(r) = &realm {
            let level_ok = r.level_valid(level);
            cs.input(!level_ok, "level_bound");
            cs.input(level_ok && !is_aligned(ipa, level), "ipa_align");
            cs.input(ipa >= r.ipa_limit(), "ipa_bound");
            if !cs.any() {
                walk = Some(self.walk(r, ipa, level));
            }
        }
        fail_or(cs)?;
        let w = walk.expect("walked");
        let (state, desc, ripas) = w.entry.read_entry();
        Ok([Some(w.level as u64), Some(state), Some(desc), ripas])
    }

    /// `level_bound`, `ipa_align`, `ipa_bound` of MAP/UNMAP_UNPROTECTED, and the walk to `level`.
    fn unprotected_walk(&self, cs: &mut Conds, r: &Realm, ipa: u64, level: i64) -> Option<Walk> {
        let level_ok = r.level_block_or_page(level);
        cs.input(!level_ok, "level_bound");
        cs.input(level_ok && !is_aligned(ipa, level), "ipa_align");
        let unprotected = ipa < r.ipa_limit() && !r.protected(ipa);
        cs.input(!unprotected, "ipa_bound");
        (level_ok && unprotected).then(|| self.walk(r, ipa, level))
    }

    /// B4.3.19.
    fn rtt_map_unprotected(&mut self, rd: u64, ipa: u64, level: i64, desc: u64) -> Predicted {
        const WALK_AFTER: &[&str] = &["rd_bound", "rd_state", "level_bound", "ipa_bound"];
        let mut cs = Conds::default();
        let memattr = (desc & DESC_MEMATTR) >> 2;
        cs.input(
            desc & !(DESC_ADDR | DESC_MEMATTR | DESC_S2AP) != 0 || memattr == MEMATTR_RESERVED,
            "attr_valid",
        );
        let realm = self.rd_checks(&mut cs, rd);
        let mut walk = None;
        if let Some(r) = &realm {
            let addr = desc & DESC_ADDR;
            cs.input(
                !(0..=3).contains(&level) || !is_aligned(addr, level),
                "addr_align",
            );
            if let Some(w) = self.unprotected_walk(&mut cs, r, ipa, level) {
                cs.check(w.level < level, "rtt_walk", Ret::rtt(w.level), WALK_AFTER);
                cs.check(
                    w.entry != Rtte::UnassignedNs,
                    "rtte_state",
                    Ret::rtt(w.level),
                    WALK_AFTER,
                );
                walk = Some(w);
            }
        }
        fail_or(cs)?;
        self.write_entry(&walk.expect("walked"), Rtte::AssignedNs { desc });
        Ok(NO_OUTPUTS)
    }

    /// B4.3.22: output `top` (also on the walk failures, 0 on the others).
    fn rtt_unmap_unprotected(&mut self, rd: u64, ipa: u64, level: i64) -> Predicted {
        const WALK_AFTER: &[&str] = &["rd_bound", "rd_state", "level_bound", "ipa_bound"];
        let mut cs = Conds::default();
        let realm = self.rd_checks(&mut cs, rd);
        let mut walk = None;
        if let Some(r) = &realm {
            if let Some(w) = self.unprotected_walk(&mut cs, r, ipa, level) {
                let out = [
                    Some(self.tables[&w.table].skip_non_live(ipa)),
                    None,
                    None,
                    None,
                ];
                cs.check_out(
                    w.level < level,
                    "rtt_walk",
                    Ret::rtt(w.level),
                    out,
                    WALK_AFTER,
                );
                cs.check_out(
                    !matches!(w.entry, Rtte::AssignedNs { .. }),
                    "rtte_state",
                    Ret::rtt(w.level),
                    out,
                    WALK_AFTER,
                );
                walk = Some(w);
            }
        }
        fail_or(cs).map_err(|o| zero_top_unless_rtt(o, 0))?;
        let w = walk.expect("walked");
        self.write_entry(&w, Rtte::UnassignedNs);
        Ok([
            Some(self.tables[&w.table].skip_non_live(ipa)),
            None,
            None,
            None,
        ])
    }

    /// B4.3.18: RIPAS RAM for `[base, walk_top)`, where `walk_top` stops at the first TABLE
    /// entry of the table the walk for `base` reached, at its end, or at `top`.
    fn rtt_init_ripas(&mut self, rd: u64, base: u64, top: u64) -> Predicted {
        let mut cs = Conds::default();
        let realm = self.rd_checks(&mut cs, rd);
        let mut plan = None;
        if let Some(r) = &realm {
            cs.input(top <= base, "size_valid");
            cs.input(!r.protected(top.wrapping_sub(G)), "top_bound");
            cs.check(
                r.state != RealmState::New,
                "realm_state",
                Ret::REALM,
                AFTER_RD,
            );
            cs.input(!top.is_multiple_of(G), "top_gran_align");
            // The walk is defined for IPAs inside the realm (A5.5.10).
            if base < r.ipa_limit() {
                let w = self.walk(r, base, 3);
                let err = Ret::rtt(w.level);
                cs.check(!is_aligned(base, w.level), "base_align", err, AFTER_RD);
                cs.check(
                    !matches!(w.entry, Rtte::Unassigned(_)),
                    "rtte_state",
                    err,
                    AFTER_RD,
                );
                let t = &self.tables[&w.table];
                let first_table = t.skip_until(base, |e| matches!(e, Rtte::Table { .. }));
                let walk_top = align_down(first_table.min(top), w.level);
                cs.check(
                    base == walk_top,
                    "no_progress",
                    err,
                    &["rd_bound", "rd_state", "top_gran_align"],
                );
                plan = Some((w, walk_top));
            }
        }
        fail_or(cs)?;
        let (w, walk_top) = plan.expect("walked");
        let t = self.tables.get_mut(&w.table).expect("table");
        let (from, to) = (t.index(base), t.index(walk_top - 1));
        for e in &mut t.entries[from..=to] {
            *e = match *e {
                Rtte::Unassigned(_) => Rtte::Unassigned(Ripas::Ram),
                Rtte::Assigned { pa, .. } => Rtte::Assigned {
                    pa,
                    ripas: Ripas::Ram,
                },
                other => unreachable!("{other:?} in a protected range without tables"),
            };
        }
        Ok([Some(walk_top), None, None, None])
    }

    /// B4.3.21. No REC ever has a RIPAS change pending here (that takes RSI_IPA_STATE_SET in a
    /// running realm), so its `ripas_addr` and `ripas_top` are still the zeros REC_CREATE set:
    /// `size_valid` or `top_bound` always holds and the command always fails. `base_align` and
    /// `no_progress` depend on the REC's requested RIPAS, which is not observable; where they
    /// could be reported (by the ordering), the model accepts RMI_ERROR_RTT at the walk's level.
    fn rtt_set_ripas(&mut self, rd: u64, rec: u64, base: u64, top: u64) -> Predicted {
        let mut cs = Conds::default();
        let realm = self.rd_checks(&mut cs, rd);
        self.granule_checks(
            &mut cs,
            rec,
            GState::Rec,
            ["rec_align", "rec_bound", "rec_gran_state"],
        );
        let owner = (delegable(rec) && self.state(rec) == GState::Rec)
            .then(|| self.recs.get(&rec).map(|r| r.owner))
            .flatten();
        cs.input(top <= base, "size_valid");
        cs.input(!top.is_multiple_of(G), "top_gran_align");
        if let Some(owner) = owner {
            cs.check(
                owner != rd,
                "rec_owner",
                Ret::REC,
                &["rec_bound", "rec_gran_state"],
            );
            cs.input(base != 0, "base_bound");
            cs.input(top > 0, "top_bound");
            // The conditions on the requested RIPAS need the REC and the realm's tables.
            if let Some(r) = realm.as_ref().filter(|r| base < r.ipa_limit()) {
                let w = self.walk(r, base, 3);
                let err = Ret::rtt(w.level);
                cs.check(
                    !is_aligned(base, w.level),
                    "base_align",
                    err,
                    &["rd_bound", "rd_state", "base_bound"],
                );
                cs.check(
                    true,
                    "no_progress",
                    err,
                    &["rd_bound", "rd_state", "top_gran_align"],
                );
            }
        }
        fail_or(cs)?;
        unreachable!("RTT_SET_RIPAS cannot succeed without a pending RIPAS change")
    }
}

impl Model {
    /// B4.3.7. Every condition is RMI_ERROR_INPUT, unordered. No REC ever has a PSCI request
    /// pending here (that takes a realm's PSCI call), so `pending` holds whenever the calling REC
    /// is a REC and the command always fails; `owner`, `target` and `status` need the request
    /// and are not evaluated.
    fn psci_complete(&mut self, calling: u64, target: u64) -> Predicted {
        let mut cs = Conds::default();
        cs.input(calling == target, "alias");
        self.granule_checks(
            &mut cs,
            calling,
            GState::Rec,
            ["calling_align", "calling_bound", "calling_state"],
        );
        self.granule_checks(
            &mut cs,
            target,
            GState::Rec,
            ["target_align", "target_bound", "target_state"],
        );
        cs.input(
            delegable(calling) && self.state(calling) == GState::Rec,
            "pending",
        );
        fail_or(cs)?;
        unreachable!("RMI_PSCI_COMPLETE cannot succeed without a pending PSCI request")
    }
}

/// The DESTROY commands report `top` (output `index`) only with RMI_ERROR_RTT; for any other
/// error it is 0 (B4.3.3, B4.3.16, B4.3.22: "RTT walk was not performed").
fn zero_top_unless_rtt(mut outcomes: Vec<Outcome>, index: usize) -> Vec<Outcome> {
    for o in &mut outcomes {
        if o.ret.0 & 0xFF != 4 {
            o.outputs[index] = Some(0);
        }
    }
    outcomes
}
