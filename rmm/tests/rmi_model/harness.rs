//! Runs commands against the simulated RMM and the model side by side and compares: the status
//! (one the model allows), the outputs the spec fixes, the states of the granules the command
//! named, contents the spec defines (wiped on UNDELEGATE, copied or wiped DATA), and at
//! checkpoints every granule of the universe (state, reference count where the model knows it,
//! GPT) and every RTT entry the model holds (through RMI_RTT_READ_ENTRY).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::rc::Rc;

use rmm::granule::GranuleState;
use rmm::sim::Sim;

use super::abi::{Cmd, Features, Page, Ret, G, SMC_UNKNOWN};
use super::gen::{universe, Gen, Rng};
use super::model::{delegable, entry_size, in_dram, GState, Model, Rtte};
use super::ops::Op;

/// How many recent commands a failure report lists.
const HISTORY: usize = 20;
/// The simulated CPU the racing realm runs on (the host calls on CPU 0).
const RACING_CPU: usize = 1;
/// Granules the final tear-down takes new RTTs from (to unfold blocks).
const TEARDOWN_POOL: u64 = 0x9200_0000;

/// Random commands one fuzz input makes at most (fuzz target `rmi_sequence` and the replay of
/// its corpus in `rmi_model.rs`).
pub const FUZZ_OPS: usize = 256;
/// Commands between checkpoints in a fuzz run.
pub const FUZZ_CHECK_EVERY: usize = 64;

/// Counts of (command, result status without its index, the condition behind it).
pub type Stats = BTreeMap<(Cmd, Ret, &'static str), u64>;

/// The page the host fills DATA sources with for pattern `seed`. Made once per seed and thread
/// (a fuzz run uses the seeds 1, 2, 3, ... every time), up to [`PATTERNS_CACHED`] of them.
pub fn pattern(seed: u64) -> Rc<Page> {
    thread_local! {
        static CACHE: RefCell<HashMap<u64, Rc<Page>>> = RefCell::new(HashMap::new());
    }
    CACHE.with_borrow_mut(|cache| {
        if let Some(page) = cache.get(&seed) {
            return page.clone();
        }
        let mut rng = Rng::new(seed);
        let mut page = [0u8; G as usize];
        for chunk in page.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        let page = Rc::new(page);
        if cache.len() < PATTERNS_CACHED {
            cache.insert(seed, page.clone());
        }
        page
    })
}

/// Pattern pages [`pattern`] keeps (4 KiB each).
const PATTERNS_CACHED: usize = 2048;

fn gstate(s: GranuleState) -> GState {
    match s {
        GranuleState::Undelegated => GState::Undelegated,
        GranuleState::Delegated => GState::Delegated,
        GranuleState::Rd => GState::Rd,
        GranuleState::Rec => GState::Rec,
        GranuleState::RecAux => GState::RecAux,
        GranuleState::Data => GState::Data,
        GranuleState::Rtt => GState::Rtt,
    }
}

/// The commands the RMM serves: a call with all-zero arguments (no valid address, so it can
/// change nothing) does not come back as SMC_UNKNOWN.
pub fn served(sim: &Sim) -> Vec<Cmd> {
    Cmd::DRIVEN
        .into_iter()
        .filter(|c| sim.call(c.fid(), &[0; 5])[0] != SMC_UNKNOWN)
        .collect()
}

/// One run: a fresh simulated monitor, a fresh model, and the generator for one seed.
pub struct Run {
    pub sim: Sim,
    pub model: Model,
    pub gen: Gen,
    pub seed: u64,
    /// Random commands this run was asked for (the reproduction recipe needs it).
    pub budget: usize,
    /// Commands executed so far.
    pub executed: usize,
    /// The last [`HISTORY`] commands with their registers, formatted only for a report.
    history: VecDeque<(usize, Op, [u64; 5])>,
    pub stats: Stats,
    /// [`universe`], sorted, without duplicates.
    universe: Vec<u64>,
}

impl Run {
    pub fn new(seed: u64, budget: usize) -> Self {
        Self::with_gen(seed, budget, |served| Gen::new(seed, budget, served))
    }

    /// A run whose choices are read from a fuzz input ([`Gen::from_bytes`]): at most `budget`
    /// random commands, fewer if the input runs out first.
    pub fn from_bytes(bytes: &[u8], budget: usize) -> Self {
        Self::with_gen(0, budget, |served| Gen::from_bytes(bytes, served))
    }

    fn with_gen(seed: u64, budget: usize, gen: impl FnOnce(Vec<Cmd>) -> Gen) -> Self {
        let sim = Sim::qemu();
        // Wipes a TLB can still reach are reported with the run's history, not as a panic.
        sim.mem.set_wipe_check(false);
        let f = sim.call(Cmd::Features.fid(), &[0]);
        assert_eq!(f[0], 0, "RMI_FEATURES(0)");
        Self {
            gen: gen(served(&sim)),
            sim,
            model: Model::new(Features::decode(f[1])),
            seed,
            budget,
            executed: 0,
            history: VecDeque::new(),
            stats: Stats::new(),
            universe: {
                let mut u = universe();
                u.sort_unstable();
                u.dedup();
                u
            },
        }
    }

    /// Drives the whole run: the random commands (with the queued block-building sequences),
    /// a checkpoint every `check_every` commands and at the end, then the tear-down.
    pub fn drive(&mut self, check_every: usize) -> Result<(), String> {
        while (self.gen.random_ops < self.budget && !self.gen.rng.exhausted()) || self.gen.busy() {
            let op = self.gen.next(&self.model);
            self.step(&op)?;
            if self.executed.is_multiple_of(check_every) {
                self.checkpoint(false)?;
            }
        }
        self.checkpoint(true)?;
        self.teardown()
    }

    /// A failure report: what differed, how to reproduce it, and the last commands.
    pub fn report(&self, what: impl std::fmt::Display) -> String {
        let mut s = format!(
            "RMI model mismatch: seed {:#x}, after command #{}: {what}\n\
             reproduce: RMI_MODEL_SEED={:#x} RMI_MODEL_OPS={} cargo test -p rmm --test rmi_model \
             -- --nocapture\nlast commands (newest last):\n",
            self.seed,
            self.executed.saturating_sub(1),
            self.seed,
            self.budget
        );
        for (index, op, out) in &self.history {
            s.push_str(&format!(
                "  #{index} {op} -> {:?} {:#x?}\n",
                Ret(out[0]),
                &out[1..]
            ));
        }
        s
    }

    /// Executes `op` on both sides and compares. Returns the status the RMM gave.
    pub fn step(&mut self, op: &Op) -> Result<Ret, String> {
        self.host_writes(op);
        self.realm_races(op);
        let expect = self.model.exec(op);
        let cmd = op.cmd();
        let out = self.sim.call(cmd.fid(), &op.args());
        let index = self.executed;
        self.executed += 1;
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back((index, *op, out));
        let got = Ret(out[0]);

        let Some(outcome) = expect.outcomes.iter().find(|o| o.ret == got) else {
            let allowed: Vec<String> = expect
                .outcomes
                .iter()
                .map(|o| format!("{:?} ({})", o.ret, o.why))
                .collect();
            return Err(self.report(format!(
                "{} returned {got:?}; the model allows: {}",
                cmd.name(),
                allowed.join(", ")
            )));
        };
        *self
            .stats
            .entry((cmd, Ret(got.0 & 0xFF), outcome.why))
            .or_default() += 1;
        for (i, &v) in out[1..].iter().enumerate() {
            let want = if i < cmd.outputs() {
                outcome.outputs[i]
            } else {
                Some(0) // not an output: MBZ (B1.2)
            };
            if let Some(want) = want.filter(|&w| w != v) {
                return Err(self.report(format!(
                    "{} ({got:?}, {}): x{} = {v:#x}, the model expects {want:#x}",
                    cmd.name(),
                    outcome.why,
                    i + 1
                )));
            }
        }
        for (pa, contents) in &expect.memory {
            if !self.sim.mem.inspect(*pa, |page| contents.matches(page)) {
                return Err(self.report(format!(
                    "{}: contents of {pa:#x} are not what the model expects ({})",
                    cmd.name(),
                    match contents {
                        super::model::Contents::Zero => "wiped".to_string(),
                        super::model::Contents::Bytes(_) => "a copy of the source".to_string(),
                        super::model::Contents::ExitReason(r) => format!("exit_reason {r}"),
                    }
                )));
            }
        }
        if let Op::RecEnter { run, .. } = *op {
            self.after_rec_enter(run, got)?;
        }
        self.check_tlbs(cmd)?;
        for pa in op.footprint() {
            self.compare_granule(pa)?;
        }
        Ok(got)
    }

    /// A realm of the command's RD, running on simulated CPU 1, touches what the command may
    /// unmap ([`Op::racing_touches`]): its TLB then holds those translations (and the walks to
    /// them) unless the RMM invalidates them.
    fn realm_races(&self, op: &Op) {
        let Some((rd, ipas)) = op.racing_touches() else {
            return;
        };
        let Some(realm) = self.sim.try_guest(RACING_CPU, rd) else {
            return;
        };
        for ipa in ipas {
            // A fault is as good as a hit: the walk up to it is cached too.
            let _ = realm.read_u64(ipa & !7);
        }
    }

    /// After every command: no translation is cached that the RTTs no longer back, and no
    /// granule was wiped while a TLB still led into it. The TLBs are then emptied (as eviction
    /// may), so each command starts from what the realm touched for it.
    fn check_tlbs(&self, cmd: Cmd) -> Result<(), String> {
        let stale = self.sim.mem.stale_translations();
        let wipes = self.sim.mem.unsafe_wipes();
        self.sim.mem.tlbs().clear();
        if let Some(e) = stale.first() {
            return Err(self.report(format!(
                "{}: a translation is still cached that the RTTs no longer back (missing TLB \
                 invalidation): {e:#x?}",
                cmd.name()
            )));
        }
        if let Some((pa, cached)) = wipes.first() {
            return Err(self.report(format!(
                "{}: granule {pa:#x} was wiped while a TLB still led into it: {cached:#x?}",
                cmd.name()
            )));
        }
        Ok(())
    }

    /// What the host writes to NS memory before the call: parameter blocks and DATA sources,
    /// only where it can (an NS granule of DRAM).
    fn host_writes(&mut self, op: &Op) {
        let (pa, bytes) = match *op {
            Op::RealmCreate { params, p, .. } => (params, Rc::new(*p.encode())),
            Op::RecCreate { params, p, .. } => (params, Rc::new(*p.encode())),
            Op::DataCreate {
                src,
                fill: Some(seed),
                ..
            } => (src, pattern(seed)),
            Op::RecEnter { run, enter, .. } => {
                // The host edits rec_enter in the page it already has.
                let mut page = self.model.ns_page(run);
                enter.encode_into(&mut page);
                (run, Rc::new(page))
            }
            _ => return,
        };
        if self.model.host_write(pa, bytes.clone()) {
            self.sim.mem.write(pa, &bytes);
        }
    }

    /// The RecRun page after REC_ENTER: the host's view of an NS page must be unchanged after a
    /// failure; after a success the host reads the exit record (checked above) and keeps the
    /// page as the RMM left it.
    fn after_rec_enter(&mut self, run: u64, got: Ret) -> Result<(), String> {
        if !self.model.ns_accessible(run) {
            return Ok(());
        }
        let page = self.sim.mem.read(run);
        if got == Ret::SUCCESS {
            self.model.host_write(run, Rc::new(page));
        } else if page != self.model.ns_page(run) {
            return Err(self.report(format!(
                "REC_ENTER failed with {got:?} but changed the RecRun page {run:#x}"
            )));
        }
        Ok(())
    }

    /// State, reference count and GPT of one address against the model.
    fn compare_granule(&self, pa: u64) -> Result<(), String> {
        let peek = self.sim.granules.peek(pa);
        if !delegable(pa) {
            return match peek {
                Err(_) => Ok(()),
                Ok(s) => Err(self.report(format!(
                    "{pa:#x} is not a granule of DRAM but the RMM tracks it as {s:?}"
                ))),
            };
        }
        let Ok((state, refcount)) = peek else {
            return Err(self.report(format!("{pa:#x}: the RMM does not track it ({peek:?})")));
        };
        let want = self.model.state(pa);
        if gstate(state) != want {
            return Err(self.report(format!(
                "granule {pa:#x} is {state:?} in the RMM, {want:?} in the model"
            )));
        }
        // What the model knows of reference counts: an RD counts its live RECs (this RMM's
        // bookkeeping), and a granule nothing owns holds no references.
        let want_refs = match want {
            GState::Rd => Some(self.model.realms[&pa].live_recs),
            GState::Undelegated | GState::Delegated => Some(0),
            _ => None,
        };
        if let Some(r) = want_refs.filter(|&r| r != u64::from(refcount)) {
            return Err(self.report(format!(
                "granule {pa:#x} ({state:?}) has reference count {refcount}, the model expects {r}"
            )));
        }
        if in_dram(pa) && self.sim.el3.is_realm(pa) != self.model.gpt_realm(pa) {
            return Err(self.report(format!(
                "GPT of {pa:#x}: Realm = {}, the model expects {}",
                self.sim.el3.is_realm(pa),
                self.model.gpt_realm(pa)
            )));
        }
        Ok(())
    }

    /// Compares every granule of the universe and every one the run touched, the contents of
    /// every DATA granule, and (with `rtts`) every RTT entry the model holds.
    pub fn checkpoint(&mut self, rtts: bool) -> Result<(), String> {
        // The universe (sorted, without duplicates), then what the model knows beyond it.
        for &pa in &self.universe {
            self.compare_granule(pa)?;
        }
        for &pa in self.model.granules.keys() {
            if self.universe.binary_search(&pa).is_err() {
                self.compare_granule(pa)?;
            }
        }
        for (&pa, contents) in &self.model.data {
            if !self.sim.mem.inspect(pa, |page| contents.matches(page)) {
                return Err(self.report(format!("DATA granule {pa:#x} does not hold its contents")));
            }
        }
        if rtts {
            self.compare_rtts()?;
        }
        Ok(())
    }

    /// Checks every entry of every RTT the model holds against what RMI_RTT_READ_ENTRY reads back.
    ///
    /// Within one table, an entry whose descriptor bits (in the RTT granule's memory, 8 bytes
    /// at its index) and model entry are both those of an entry RMI_RTT_READ_ENTRY already
    /// confirmed in this table is not read back again: the command would walk the same path to
    /// the same table and decode the same bits. Every other entry is read back. So every entry
    /// is still checked (a bit the RMM changed makes the entry read back), at a fraction of the
    /// calls (most entries of most tables are alike); what the skipped calls would add is only
    /// the walk's index at the table's own level for their IPAs, which every RTT command uses.
    fn compare_rtts(&self) -> Result<(), String> {
        let mut confirmed: Vec<(u64, Rtte)> = Vec::new();
        for (&table_pa, t) in &self.model.tables {
            let limit = self.model.realms[&t.rd].ipa_limit();
            let raw: [u64; 512] = self.sim.mem.inspect(table_pa, |page| {
                core::array::from_fn(|i| {
                    u64::from_le_bytes(page[i * 8..i * 8 + 8].try_into().expect("8 bytes"))
                })
            });
            confirmed.clear();
            for (i, e) in t.entries.iter().enumerate() {
                let ipa = t.base + i as u64 * entry_size(t.level);
                if ipa >= limit {
                    break;
                }
                if confirmed.contains(&(raw[i], *e)) {
                    continue;
                }
                let out = self
                    .sim
                    .call(Cmd::RttReadEntry.fid(), &[t.rd, ipa, t.level as u64]);
                let (state, desc, ripas) = e.read_entry();
                let ok = out[0] == 0
                    && out[1] == t.level as u64
                    && out[2] == state
                    && out[3] == desc
                    && ripas.is_none_or(|r| r == out[4]);
                if !ok {
                    return Err(self.report(format!(
                        "RTT_READ_ENTRY(rd {:#x}, ipa {ipa:#x}, level {}) of table {table_pa:#x} \
                         gave {out:#x?}; the model holds {e:?}",
                        t.rd, t.level
                    )));
                }
                confirmed.push((raw[i], *e));
            }
        }
        Ok(())
    }

    /// Runs `op`, which the model must expect to succeed, and requires success.
    fn must(&mut self, op: &Op) -> Result<(), String> {
        match self.step(op)? {
            Ret::SUCCESS => Ok(()),
            r => Err(self.report(format!(
                "tear-down step {op} failed with {r:?}, as the model also expected (a model bug)"
            ))),
        }
    }

    /// The next tear-down steps for the realm `rd`, all found in one pass over its tables:
    /// destroy every DATA page and unfold every block so that its pages can be destroyed; when
    /// there is none, destroy every non-live RTT below the starting level. Each step stays valid
    /// after the ones before it (they change only their own entry, or add a table), and the
    /// caller asks again until nothing is left.
    fn teardown_steps(&self, rd: u64, scratch: &mut u64) -> Vec<Op> {
        let start = self.model.realms[&rd].level_start;
        let tables = self.model.tables.values().filter(|t| t.rd == rd);
        let mut ops = Vec::new();
        for t in tables.clone() {
            for (i, e) in t.entries.iter().enumerate() {
                if let Rtte::Assigned { .. } = e {
                    let ipa = t.base + i as u64 * entry_size(t.level);
                    if t.level == 3 {
                        ops.push(Op::DataDestroy { rd, ipa });
                        continue;
                    }
                    let rtt = *scratch;
                    *scratch += G;
                    ops.extend([
                        Op::Delegate { addr: rtt },
                        Op::RttCreate {
                            rd,
                            rtt,
                            ipa,
                            level: t.level + 1,
                        },
                    ]);
                }
            }
        }
        if !ops.is_empty() {
            return ops;
        }
        for t in tables {
            let live = t
                .entries
                .iter()
                .any(|e| matches!(e, Rtte::Assigned { .. } | Rtte::Table { .. }));
            if t.level != start && !live {
                ops.push(Op::RttDestroy {
                    rd,
                    ipa: t.base,
                    level: t.level,
                });
            }
        }
        ops
    }

    /// Gives everything back to the host through the RMI, each step checked against the model:
    /// RECs, DATA, RTTs, realms, then every delegated granule. At the end every granule must be
    /// UNDELEGATED and NS again.
    pub fn teardown(&mut self) -> Result<(), String> {
        let mut scratch = TEARDOWN_POOL;
        let recs: Vec<u64> = self.model.recs.keys().copied().collect();
        for rec in recs {
            self.must(&Op::RecDestroy { rec })?;
        }
        let rds: Vec<u64> = self.model.realms.keys().copied().collect();
        for rd in rds {
            loop {
                let ops = self.teardown_steps(rd, &mut scratch);
                if ops.is_empty() {
                    break;
                }
                for op in ops {
                    self.must(&op)?;
                }
            }
            self.must(&Op::RealmDestroy { rd })?;
        }
        let delegated: Vec<u64> = self
            .model
            .granules
            .iter()
            .filter(|(_, &s)| s != GState::Undelegated)
            .map(|(&pa, _)| pa)
            .collect();
        for addr in delegated {
            self.must(&Op::Undelegate { addr })?;
        }
        if let Some((pa, s)) = self
            .model
            .granules
            .iter()
            .find(|(_, &s)| s != GState::Undelegated)
        {
            return Err(self.report(format!("after tear-down the model still has {pa:#x} {s:?}")));
        }
        self.checkpoint(false)
    }
}
