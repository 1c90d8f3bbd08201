//! Every race against the RMM's real handlers on the simulated platform: the realm's side is
//! scripted (the simulated CPU's REC_ENTER runs a step instead of a realm), and the other CPU is
//! this one, entering the REC when the host first asks whether it returned. What the tests check
//! is the host's side: setup, the commands under test and the reuse succeed, the verdict follows
//! the exit, and a race that passed leaves every granule undelegated.

use super::*;
use crate::realm_build::Pool;
use crate::rmi::RmiClient;
use crate::testing::SimHost;
use hostcall_abi::psci::PsciFunction;
use hostcall_abi::rsi::RsiCommand;
use rmm::arch::{ExitClass, RealmExit};
use rmm::sim::{Sim, SMC_EXIT};

/// The "other CPU": touches the target (writes the flag page as the realm would) when started,
/// and runs the REC's scripted rest at the first poll after GO, after writing `reads` (what the
/// realm's accesses after GO found, doublewords 0 and 1) if they completed.
struct Scripted<'a> {
    sim: &'a Sim,
    flags: u64,
    started: Option<(u64, u64)>,
    reads: Option<[u64; 2]>,
}

impl OtherCpu for Scripted<'_> {
    fn start_rec(&mut self, rec: u64, run: u64) {
        let mut mem = SimHost(self.sim);
        mem.write_words(self.flags + iso::FIRST_READ as u64 * 8, &[TARGET_INITIAL]);
        mem.write_words(self.flags + iso::READY as u64 * 8, &[iso::READY_VALUE]);
        self.started = Some((rec, run));
    }

    fn rec_returned(&mut self) -> Option<u64> {
        let mut w = [0u64];
        SimHost(self.sim).read_words(self.flags + iso::GO as u64 * 8, &mut w);
        if w[0] != iso::GO_VALUE {
            return None;
        }
        let (rec, run) = self.started.take()?;
        if let Some([second, own]) = self.reads {
            let mut mem = SimHost(self.sim);
            mem.write_words(self.flags + iso::SECOND_READ as u64 * 8, &[second, own]);
            mem.write_words(self.flags + iso::STATUS as u64 * 8, &[iso::STATUS_REACHED]);
        }
        Some(self.sim.call(C::REC_ENTER.fid() as u64, &[rec, run])[0])
    }

    fn pause(&mut self) {}
}

/// A data abort at `ipa` (a translation fault, no valid syndrome).
fn dabt(ipa: u64) -> RealmExit {
    RealmExit {
        class: ExitClass::Sync,
        esr: 0x24 << 26 | 1 << 25 | 0x07,
        far: ipa,
        hpfar: (ipa >> 12) << 4,
    }
}

/// The pool the tests give each race, and the NS block.
const POOL: u64 = 0x6400_0000;
const BLOCK: u64 = 0x6600_0000;

/// Runs `race` with the realm's rest scripted by `rest` (after the host's change), its
/// completed reads `reads`.
fn race_with(
    race: Race,
    reads: Option<[u64; 2]>,
    mut rest: impl FnMut(&mut rmm::arch::RealmRegs) -> RealmExit + Send + 'static,
) -> (RaceOutcome, Sim) {
    race_with_steps(race, reads, vec![Box::new(move |r, _| rest(r))])
}

/// [`race_with`], the realm's rest in several steps (each one run of the REC).
fn race_with_steps(
    race: Race,
    reads: Option<[u64; 2]>,
    rest: std::vec::Vec<rmm::sim::RealmStep>,
) -> (RaceOutcome, Sim) {
    let sim = Sim::qemu();
    if race.has_ripas_requester() {
        // REC 0 asks for RIPAS EMPTY over the target first.
        sim.cpu.script(|r| {
            let fid = RsiCommand::IPA_STATE_SET.fid() as u64;
            r.gprs[..5].copy_from_slice(&[fid, TARGET_IPA, TARGET_IPA + G, 0, 0]);
            SMC_EXIT
        });
    }
    for step in rest {
        sim.cpu.script_guest(step);
    }
    let outcome = {
        let mut rmi = RmiClient::new(SimHost(&sim));
        let mut mem = SimHost(&sim);
        let mut h = Host::new(&mut rmi, &mut mem);
        let mut pool = Pool::new(POOL, 0x8_0000);
        // The pool hands out the source page, then the flag page.
        let mut other = Scripted {
            sim: &sim,
            flags: POOL + G,
            started: None,
            reads,
        };
        let setup = Setup {
            image: &[0xAA; 5000],
            vmid: 7,
            ns_block: BLOCK,
        };
        run_race(&mut h, &mut pool, &mut other, race, &setup).expect("the race runs")
    };
    (outcome, sim)
}

fn nothing_left_delegated(sim: &Sim) -> bool {
    (POOL..POOL + 0x8_0000)
        .step_by(G as usize)
        .all(|pa| !sim.el3.is_realm(pa))
}

#[test]
fn a_fault_at_the_old_ipa_passes_and_everything_is_returned() {
    for race in RACES
        .into_iter()
        .filter(|r| !r.keeps_mapping() && !r.ends_empty())
    {
        let target = race.target();
        let (o, sim) = race_with(race, None, move |_| dabt(target));
        assert_eq!(o.end, End::Faulted, "{race:?}: {o:?}");
        assert!(o.passed() && o.cleaned_up, "{race:?}");
        assert_eq!(o.fault_ipa, target, "{race:?}");
        assert!(nothing_left_delegated(&sim), "{race:?}");
        assert_eq!(sim.cpu.pending(), 0, "{race:?}");
    }
}

/// At an EMPTY IPA the RMM does not exit: it injects an SEA, and the realm's own vector records
/// it in the flag page and powers off (scripted here as the payload's handler does it).
#[test]
fn an_sea_at_an_empty_ipa_passes_and_everything_is_returned() {
    for race in RACES.into_iter().filter(|r| r.ends_empty()) {
        let target = race.target();
        let (o, sim) = race_with_steps(
            race,
            None,
            vec![
                Box::new(move |_, _| dabt(target)),
                Box::new(move |r, guest| {
                    // The RMM resumed the realm at its synchronous vector with the SEA's
                    // syndrome in ESR_EL1/FAR_EL1.
                    if r.el1.esr >> 26 == 0x25 && r.el1.esr & 1 << 9 != 0 {
                        for (i, v) in [
                            (iso::SEA_FAR, r.el1.far),
                            (iso::SEA_ESR, r.el1.esr),
                            (iso::STATUS, iso::STATUS_SEA),
                        ] {
                            guest
                                .write_u64(FLAGS_IPA + i as u64 * 8, v)
                                .expect("flag page");
                        }
                    }
                    system_off(r)
                }),
            ],
        );
        assert_eq!(o.end, End::SeaInjected, "{race:?}: {o:?}");
        assert!(o.passed() && o.cleaned_up, "{race:?}");
        assert!(nothing_left_delegated(&sim), "{race:?}");
        assert_eq!(sim.cpu.pending(), 0, "{race:?}");
    }
}

fn system_off(r: &mut rmm::arch::RealmRegs) -> RealmExit {
    r.gprs[0] = PsciFunction::SYSTEM_OFF.fid32() as u64;
    SMC_EXIT
}

#[test]
fn fold_and_unfold_pass_when_the_realm_reads_its_own_data() {
    for race in RACES.into_iter().filter(|r| r.keeps_mapping()) {
        let own = Some([TARGET_INITIAL, iso::TOUCH_VALUE]);
        let (o, sim) = race_with(race, own, system_off);
        assert_eq!(o.exit_reason, RmiExitReason::Psci as u64, "{race:?}");
        assert_eq!(o.end, End::SameData, "{race:?}: {o:?}");
        assert!(o.passed() && o.cleaned_up, "{race:?}");
        assert!(nothing_left_delegated(&sim), "{race:?}");
    }
}

#[test]
fn a_realm_that_reads_the_reused_granule_fails_and_is_left_alone() {
    let (o, _) = race_with(Race::SetRipas, Some([OTHER_REALM_MARKER, 0]), system_off);
    assert_eq!(o.end, End::ReachedReused);
    assert_eq!(o.second_read(), OTHER_REALM_MARKER);
    assert!(!o.passed() && !o.cleaned_up);
    let (o, _) = race_with(Race::RttFold, Some([HOST_MARKER, 0]), system_off);
    assert_eq!(o.end, End::ReachedReused);
    assert!(!o.passed());
}

#[test]
fn the_verdict_follows_what_the_realm_read() {
    let exit = |reason: RmiExitReason, esr: u64, ipa: u64| Exit {
        exit_reason: reason as u64,
        esr,
        fault_ipa: ipa,
        ripas: (0, 0, 0),
    };
    let mut flags = [0u64; iso::WORDS];
    flags[iso::FIRST_READ] = TARGET_INITIAL;
    flags[iso::STATUS] = iso::STATUS_REACHED;
    flags[iso::SECOND_READ] = TARGET_INITIAL;
    flags[iso::OWN_READ] = iso::TOUCH_VALUE;
    let off = exit(RmiExitReason::Psci, 0, 0);
    let abort = exit(RmiExitReason::Sync, 0x24 << 26, TARGET_IPA);
    assert_eq!(classify(Race::RttFold, 0, &off, &flags), End::SameData);
    assert_eq!(
        classify(Race::DataDestroy, 0, &off, &flags),
        End::ReachedReused
    );
    assert_eq!(classify(Race::DataDestroy, 0, &abort, &flags), End::Faulted);
    let elsewhere = exit(RmiExitReason::Sync, 0x24 << 26, TARGET_IPA + G);
    assert!(matches!(
        classify(Race::DataDestroy, 0, &elsewhere, &flags),
        End::Unexpected(_)
    ));
    let mut reused = flags;
    reused[iso::SECOND_READ] = HOST_MARKER;
    assert_eq!(
        classify(Race::RttFold, 0, &off, &reused),
        End::ReachedReused
    );
    let mut sea = flags;
    sea[iso::STATUS] = iso::STATUS_SEA;
    sea[iso::SEA_FAR] = TARGET_IPA + 8;
    sea[iso::SEA_ESR] = 0x25 << 26 | 1 << 25 | 1 << 9 | 0x10;
    assert_eq!(classify(Race::SetRipas, 0, &off, &sea), End::SeaInjected);
    let mut not_external = sea;
    not_external[iso::SEA_ESR] &= !(1 << 9);
    assert!(matches!(
        classify(Race::SetRipas, 0, &off, &not_external),
        End::Unexpected(_)
    ));
    let mut timed_out = flags;
    timed_out[iso::STATUS] = iso::STATUS_TIMED_OUT;
    assert!(matches!(
        classify(Race::RttFold, 0, &off, &timed_out),
        End::Unexpected(_)
    ));
    assert!(matches!(
        classify(Race::DataDestroy, 1, &abort, &flags),
        End::Unexpected(_)
    ));
}
