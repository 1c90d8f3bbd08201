//! Property test of the RMI: long random command sequences run against the RMM's real handlers
//! on the simulated platform (`rmm::sim`, QEMU layout) and, side by side, against a small
//! reference model written from DEN0137 1.0-REL0 (not from this crate's code). After every
//! command the status must be one the model allows and the outputs the spec defines must match;
//! at checkpoints and at the end the state of every granule, the GPT and every RTT entry must
//! agree, and a final tear-down through the RMI must hand every granule back to the host.
//!
//! # What is modelled
//!
//! - Commands: GRANULE_DELEGATE/UNDELEGATE, REALM_CREATE/ACTIVATE/DESTROY, REC_AUX_COUNT,
//!   REC_CREATE/DESTROY, REC_ENTER, PSCI_COMPLETE, DATA_CREATE, DATA_CREATE_UNKNOWN,
//!   DATA_DESTROY, RTT_CREATE/DESTROY/FOLD, RTT_READ_ENTRY, RTT_MAP/UNMAP_UNPROTECTED,
//!   RTT_INIT_RIPAS and RTT_SET_RIPAS: every failure condition of their spec pages and the pages'
//!   "failure condition ordering". Where the spec leaves conditions unordered, any of them may be
//!   reported (B1.6), so the model predicts a set of allowed results and the RMM's answer must be
//!   in it. Commands the RMM answers with SMC_UNKNOWN (probed at the start of each run) are left
//!   out, so the test keeps working while commands are being added.
//! - State: granule states (all seven), the GPT (Realm exactly for delegated granules and the
//!   RMM's own region), realms (NEW/ACTIVE, VMID, IPA width, RTT shape, next REC index, live
//!   RECs), RECs (owner, aux granules, runnable), the RTT trees entry by entry (UNASSIGNED with
//!   RIPAS, ASSIGNED with PA and RIPAS, UNASSIGNED_NS, ASSIGNED_NS with the host's descriptor,
//!   TABLE), including unfolding (RTT_CREATE under a block) and folding (homogeneous tables into
//!   blocks), and the REC limit (2^MAX_RECS_ORDER - 1 live RECs).
//! - Outputs: REC_AUX_COUNT, RTT_READ_ENTRY, the `top`/`out_top` of the DESTROY, UNMAP and
//!   INIT_RIPAS commands (also on the RMI_ERROR_RTT failures that define them, and 0 on the
//!   others), the addresses DATA_DESTROY/RTT_DESTROY/RTT_FOLD return, REC_ENTER's exit reason,
//!   and B1.2's rule that registers which are not outputs read as zero.
//! - Contents: a granule is wiped when undelegated; a DATA granule holds a copy of its source
//!   (DATA_CREATE) or zeros (DATA_CREATE_UNKNOWN) for as long as it lives; a failed REC_ENTER
//!   leaves the RecRun page alone.
//! - Reference counts where the model knows them: an RD counts its live RECs (this RMM's
//!   bookkeeping), free granules count nothing.
//! - Stage-2 TLB maintenance: before each command that may unmap something, a realm of the
//!   command's RD running on simulated CPU 1 touches the IPAs the command may unmap (and a
//!   spread of a table's entries), so their translations and the walks to them are cached in
//!   that CPU's simulated TLB; after the command no cached translation may be one the RTTs no
//!   longer back, and no granule may have been wiped while a TLB still led into it.
//!
//! # What is not
//!
//! No realm code runs: the simulated CPU is never scripted, so every REC_ENTER that passes its
//! checks ends at once with an IRQ exit. No REC is therefore ever left running or has an
//! emulatable abort, a host call, a PSCI request or a RIPAS change pending, and no realm reaches
//! SYSTEM_OFF: RTT_SET_RIPAS and PSCI_COMPLETE can only fail (RTT_SET_RIPAS's
//! `base_align`/`no_progress` depend on the REC's unobservable request and are accepted where
//! the ordering allows them). Measurements (RIM, REMs) are not observable through the RMI and
//! are not modelled; nor are REC registers or the exit record beyond its reason.
//! Implementation-defined values are fixed in the model: RecAuxCount = 2, IPA widths from 32
//! bits, 16-bit VMIDs; the feature register is read through RMI_FEATURES. Inputs whose outcome
//! the spec does not pin down are not generated: MPIDRs with reserved bits set, DATA_CREATE
//! flags other than 0 and 1, `sve_vl`/`pmu_num_ctrs` without the feature requested, SBZ bytes of
//! RecEnter and list registers the CPU does not have.
//!
//! # Interpretation
//!
//! RTT_DESTROY of an Unprotected IPA leaves the parent entry UNASSIGNED_NS (A5.5.4 defines
//! UNASSIGNED and RIPAS for Protected IPAs only); for a Protected IPA it is UNASSIGNED with RIPAS
//! DESTROYED, as B4.3.16 says.
//!
//! # Reproducing a failure
//!
//! A mismatch report names the seed, the number of the command, what differed (with the set of
//! results the model allowed and the condition behind each), and the last 20 commands with the
//! registers they returned. Runs are deterministic: re-run one seed alone with
//!
//! ```text
//! RMI_MODEL_SEED=0x... RMI_MODEL_OPS=... cargo test -p rmm --test rmi_model -- --nocapture
//! ```
//!
//! (`RMI_MODEL_OPS` is the number of random commands, which also fixes where the queued
//! sequences go; the report prints both values. The sequence also depends on which commands the
//! RMM serves.) To look further back, raise `HISTORY` in `rmi_model/harness.rs`.

mod rmi_model {
    pub mod abi;
    pub mod gen;
    pub mod harness;
    pub mod model;
    pub mod ops;
}

use std::time::Instant;

use rmi_model::abi::{Cmd, Ret};
use rmi_model::harness::{served, Run, Stats, FUZZ_CHECK_EVERY, FUZZ_OPS};
use rmi_model::model::{GState, Plant};
use rmm::el3::El3;
use rmm::granule::GranuleState;
use rmm::sim::Sim;

/// The seeds every `cargo test` runs.
const SEEDS: [u64; 6] = [
    0x5EED_0001,
    0x5EED_0002,
    0x5EED_0003,
    0x00C0_FFEE,
    0xDEAD_BEEF,
    0x0123_4567_89AB_CDEF,
];
/// Random commands per seed. Each run adds, on top, the queued sequences (a DATA block and an NS
/// block of 512 pages each, a REC flood to the limit, the occasional "host prepares" and RIPAS
/// set-up steps) and its tear-down.
const OPS_PER_SEED: usize = 3000;
/// Commands between checkpoints.
const CHECK_EVERY: usize = 250;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

fn run_seed(seed: u64, ops: usize) -> Run {
    let mut run = Run::new(seed, ops);
    if let Err(report) = run.drive(CHECK_EVERY) {
        panic!("{report}");
    }
    run
}

#[test]
fn random_rmi_sequences_match_the_model() {
    if let Some(seed) = env_u64("RMI_MODEL_SEED") {
        let ops = env_u64("RMI_MODEL_OPS").map_or(OPS_PER_SEED, |n| n as usize);
        let run = run_seed(seed, ops);
        println!("seed {seed:#x}: {} commands, all matched", run.executed);
        return;
    }
    let started = Instant::now();
    let mut total = Stats::new();
    let mut executed = 0;
    for seed in SEEDS {
        let run = run_seed(seed, OPS_PER_SEED);
        executed += run.executed;
        for (k, n) in run.stats {
            *total.entry(k).or_default() += n;
        }
    }
    println!(
        "{} seeds, {executed} commands in {:.2?}",
        SEEDS.len(),
        started.elapsed()
    );
    for ((cmd, ret, why), n) in &total {
        println!(
            "  {:<22} {:<15} {why:<15} {n}",
            cmd.name(),
            format!("{ret:?}")
        );
    }
    assert!(executed >= 5000, "only {executed} commands ran");
    // The sequences must reach every served command's success path and its failures, or the test
    // proves little. RTT_SET_RIPAS and PSCI_COMPLETE cannot succeed without a running realm.
    let served = served(&Sim::qemu());
    for cmd in [
        Cmd::GranuleDelegate,
        Cmd::RealmCreate,
        Cmd::RecCreate,
        Cmd::DataCreate,
        Cmd::RttCreate,
        Cmd::RttReadEntry,
    ] {
        assert!(served.contains(&cmd), "{} is not served", cmd.name());
    }
    let count = |cmd: Cmd, ret: Ret| -> u64 {
        let ret = Ret(ret.0 & 0xFF);
        total
            .iter()
            .filter(|((c, r, _), _)| *c == cmd && *r == ret)
            .map(|(_, n)| n)
            .sum()
    };
    for &cmd in &served {
        let failures: u64 = total
            .iter()
            .filter(|((c, r, _), _)| *c == cmd && *r != Ret::SUCCESS)
            .map(|(_, n)| n)
            .sum();
        assert!(failures > 0, "{} never failed", cmd.name());
        if !matches!(cmd, Cmd::RttSetRipas | Cmd::PsciComplete) {
            assert!(
                count(cmd, Ret::SUCCESS) > 0,
                "{} never succeeded",
                cmd.name()
            );
        }
    }
    let rtt_errors = [
        Cmd::DataCreate,
        Cmd::DataDestroy,
        Cmd::RttCreate,
        Cmd::RttDestroy,
        Cmd::RttFold,
        Cmd::RttMapUnprotected,
        Cmd::RttUnmapUnprotected,
        Cmd::RttInitRipas,
    ];
    for cmd in rtt_errors {
        assert!(
            count(cmd, Ret(4)) > 0,
            "{} never failed with RMI_ERROR_RTT",
            cmd.name()
        );
    }
    for cmd in [Cmd::RealmActivate, Cmd::RealmDestroy, Cmd::RecCreate] {
        assert!(
            count(cmd, Ret::REALM) > 0,
            "{} never failed with RMI_ERROR_REALM",
            cmd.name()
        );
    }
    for cmd in [Cmd::RecEnter, Cmd::RttSetRipas] {
        if served.contains(&cmd) {
            assert!(
                count(cmd, Ret::REC) > 0,
                "{} never failed with RMI_ERROR_REC",
                cmd.name()
            );
        }
    }
}

/// The harness notices when the model and the RMM disagree: a model that believes an ACTIVE
/// realm can be activated again is contradicted, and the report says how to reproduce it.
#[test]
fn a_wrong_model_is_caught() {
    let mut run = Run::new(SEEDS[0], OPS_PER_SEED);
    run.model.plant = Some(Plant::ActivateTwice);
    let report = run
        .drive(CHECK_EVERY)
        .expect_err("the planted rule must be contradicted by the RMM");
    assert!(
        report.contains("REALM_ACTIVATE returned ERROR_REALM"),
        "{report}"
    );
    assert!(report.contains("RMI_MODEL_SEED=0x5eed0001"), "{report}");
    assert!(report.contains("last commands"), "{report}");
}

/// The checkpoints notice state changed behind the handlers' back: a granule's tracked state,
/// and separately its GPT entry.
#[test]
fn state_changed_behind_the_handlers_back_is_caught() {
    let mut run = Run::new(SEEDS[1], 400);
    while run.gen.random_ops < 400 {
        let op = run.gen.next(&run.model);
        run.step(&op).unwrap_or_else(|r| panic!("{r}"));
    }
    run.checkpoint(true).unwrap_or_else(|r| panic!("{r}"));
    let pa = *run
        .model
        .granules
        .iter()
        .find(|(_, &s)| s == GState::Delegated)
        .expect("some granule is delegated after 400 commands")
        .0;

    // The tracking word says UNDELEGATED although nothing undelegated it.
    let mut g = run
        .sim
        .granules
        .lock(pa, GranuleState::Delegated)
        .expect("delegated");
    g.set_state(GranuleState::Undelegated);
    drop(g);
    let report = run
        .checkpoint(false)
        .expect_err("a changed state is noticed");
    assert!(
        report.contains(&format!("granule {pa:#x} is Undelegated")),
        "{report}"
    );

    // Tracking restored, but EL3 hands the granule back to NS.
    let mut g = run
        .sim
        .granules
        .lock(pa, GranuleState::Undelegated)
        .expect("lockable");
    g.set_state(GranuleState::Delegated);
    drop(g);
    run.checkpoint(true).unwrap_or_else(|r| panic!("{r}"));
    run.sim.el3.gtsi_undelegate(pa).expect("EL3 undelegates");
    let report = run.checkpoint(false).expect_err("a changed GPT is noticed");
    assert!(report.contains(&format!("GPT of {pa:#x}")), "{report}");
}

/// The RTT read-back notices an entry changed behind the handlers' back, also one that was
/// like its neighbours before (the read-back calls RMI_RTT_READ_ENTRY once per kind of entry in
/// a table, and again for every entry whose bits differ).
#[test]
fn an_rtt_entry_changed_behind_the_handlers_back_is_caught() {
    let mut run = Run::new(SEEDS[1], 400);
    while run.gen.random_ops < 400 {
        let op = run.gen.next(&run.model);
        run.step(&op).unwrap_or_else(|r| panic!("{r}"));
    }
    run.checkpoint(true).unwrap_or_else(|r| panic!("{r}"));
    // The second entry of a table whose first two entries are alike in the model (and in
    // memory, or the read-back above would have read both).
    let (&table, t) = run
        .model
        .tables
        .iter()
        .find(|(_, t)| t.entries[0] == t.entries[1])
        .expect("a table with two alike entries after 400 commands");
    let (rd, level) = (t.rd, t.level);
    let at = table + 8;
    let old = run.sim.mem.read_u64(at);
    assert_eq!(
        old,
        run.sim.mem.read_u64(table),
        "alike entries, alike bits"
    );
    run.sim.mem.write_u64(at, old ^ 1);
    let report = run
        .checkpoint(true)
        .expect_err("a changed entry is noticed");
    assert!(
        report.contains(&format!("RTT_READ_ENTRY(rd {rd:#x}, ipa"))
            && report.contains(&format!("level {level}) of table {table:#x}")),
        "{report}"
    );
}

/// The runs the fuzz target `rmi_sequence` makes (`fuzz/`, `cargo xtask fuzz`): every input of its
/// committed corpus (seeds and reproducers of past findings) still matches the model.
#[test]
fn the_fuzz_corpus_matches_the_model() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/rmi_sequence");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no corpus in {}", dir.display());
    for path in inputs {
        let bytes = std::fs::read(&path).expect("readable");
        let mut run = Run::from_bytes(&bytes, FUZZ_OPS);
        if let Err(report) = run.drive(FUZZ_CHECK_EVERY) {
            panic!("{}: {report}", path.display());
        }
    }
}
