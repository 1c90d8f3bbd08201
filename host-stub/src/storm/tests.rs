//! The storm against the RMM's real handlers on the simulated platform, on four host threads
//! (each a simulated CPU with its own TLB and script): the realm's side is scripted to do what
//! the payload's storm mode does (heartbeat, memory touches, the same exits), so the host's
//! commands, its expectations, the exit servicing, the teardown and the census all run for
//! real, with real concurrency on the granule locks.

use super::*;
use crate::realm_build::Pool;
use crate::rmi::RmiClient;
use crate::testing::SimHost;
use hostcall_abi::rsi::RsiCommand;
use rmm::arch::{RealmExit, RealmRegs};
use rmm::sim::{Sim, SimCpu, SimGuest, SMC_EXIT};

/// RMI calls served on one simulated CPU.
struct OnCpu<'a>(&'a Sim, &'a SimCpu);

impl Conduit for OnCpu<'_> {
    fn smc(&mut self, regs: [u64; 8]) -> [u64; 8] {
        let out = rmm::rmi::handle(&self.0.ctx_on(self.1), &regs);
        let mut r = [0; 8];
        r[..5].copy_from_slice(&out);
        r
    }
}

/// A conduit that turns every SUCCESS of `cmd` into RMI_ERROR_RTT (the test of the test).
struct Lying<'a>(OnCpu<'a>, C);

impl Conduit for Lying<'_> {
    fn smc(&mut self, regs: [u64; 8]) -> [u64; 8] {
        let mut r = self.0.smc(regs);
        if regs[0] == self.1.fid() as u64 && r[0] == 0 {
            r[0] = RmiReturn::new(RmiStatus::ErrorRtt, 3).raw();
        }
        r
    }
}

const POOL: u64 = 0x6400_0000;
const POOL_SIZE: u64 = 0x20_0000;
/// Where the scripted payload keeps its RsiHostCall and its scratch words (DATA pages of the
/// payload region).
const HOST_CALL_IPA: u64 = 0x9000;
const SCRATCH_IPA: u64 = 0xA000;

/// One burst of the payload's storm mode: burst number in x20 (the realm's own register).
fn burst(regs: &mut RealmRegs, guest: &SimGuest) -> RealmExit {
    let n = regs.gprs[20];
    regs.gprs[20] = n + 1;
    let seed = 7;
    let _ = guest.write_u64(HEARTBEAT_IPA, 2 * n + 1);
    let mut errors = 0;
    for i in 0..8 {
        let ipa = SCRATCH_IPA + i as u64 * 8;
        let v = pl::pattern(seed, n, i);
        let _ = guest.write_u64(ipa, v);
        std::thread::yield_now();
        if guest.read_u64(ipa) != Ok(v) {
            errors += 1;
        }
    }
    if errors != 0 {
        let old = guest.read_u64(HEARTBEAT_IPA + 8).unwrap_or(0);
        let _ = guest.write_u64(HEARTBEAT_IPA + 8, old + errors);
    }
    let _ = guest.write_u64(HEARTBEAT_IPA, 2 * n + 2);
    let call: [u64; 5] = match pl::exit_of(n) {
        pl::Exit::HostCall => [RsiCommand::HOST_CALL.fid() as u64, HOST_CALL_IPA, 0, 0, 0],
        pl::Exit::Ripas { base, ripas } => [
            RsiCommand::IPA_STATE_SET.fid() as u64,
            base,
            base + G,
            ripas,
            0,
        ],
        pl::Exit::AffinityInfo => [
            PsciFunction::AFFINITY_INFO.spec_fid() as u64,
            pl::PSCI_TARGET_MPIDR,
            0,
            0,
            0,
        ],
    };
    regs.gprs[..5].copy_from_slice(&call);
    SMC_EXIT
}

/// Sets the storm up on `sim`, runs `cpus` CPUs of `rounds` rounds on host threads (CPU 0's
/// conduit made by `conduit0`), and tears down if every CPU got only allowed answers.
fn storm(cpus: usize, rounds: u64, lie_about: Option<C>) -> (Sim, Vec<CpuReport>, Option<Census>) {
    let sim = Sim::qemu();
    let shared: &'static Shared = Box::leak(Box::new(Shared::new()));
    let mut pool = Pool::new(POOL, POOL_SIZE);
    let (realms, runs) = {
        let mut rmi = RmiClient::new(SimHost(&sim));
        let mut mem = SimHost(&sim);
        let mut h = Host::new(&mut rmi, &mut mem);
        let realms = setup(&mut h, &mut pool, shared, &[0xAA; 5000], 9).expect("setup");
        let runs: Vec<u64> = (0..cpus)
            .map(|_| {
                let run = pool.take(1).expect("a RecRun page");
                h.write_page(run, &[0; G as usize]);
                run
            })
            .collect();
        (realms, runs)
    };
    let sim_cpus: Vec<SimCpu> = (0..cpus).map(|i| sim.new_cpu(i)).collect();
    for c in &sim_cpus {
        for _ in 0..rounds + 8 {
            c.script_guest(burst);
        }
    }
    let reports: Vec<CpuReport> = std::thread::scope(|s| {
        let handles: Vec<_> = sim_cpus
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (sim, run) = (&sim, runs[i]);
                s.spawn(move || {
                    let cfg = CpuConfig {
                        cpu: i,
                        rounds,
                        run,
                        seed: SEED,
                    };
                    let mut mem = SimHost(sim);
                    match lie_about {
                        Some(cmd) if i == 0 => {
                            let mut rmi = RmiClient::new(Lying(OnCpu(sim, c), cmd));
                            run_cpu(
                                &mut Host::new(&mut rmi, &mut mem),
                                shared,
                                cfg,
                                std::thread::yield_now,
                            )
                        }
                        _ => {
                            let mut rmi = RmiClient::new(OnCpu(sim, c));
                            run_cpu(
                                &mut Host::new(&mut rmi, &mut mem),
                                shared,
                                cfg,
                                std::thread::yield_now,
                            )
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a CPU thread"))
            .collect()
    });
    assert!(wait_for_cpus(shared, cpus, || {}), "every CPU reported");
    let clean = reports.iter().all(|r| r.counts.violations == 0);
    let census = clean.then(|| {
        let mut rmi = RmiClient::new(SimHost(&sim));
        let mut mem = SimHost(&sim);
        teardown(&mut Host::new(&mut rmi, &mut mem), shared, &realms).expect("teardown")
    });
    (sim, reports, census)
}

fn total(reports: &[CpuReport]) -> Counts {
    let mut t = Counts::default();
    for r in reports {
        t.add(&r.counts);
    }
    t
}

fn calls(t: &Counts, cmd: C, status: RmiStatus) -> u32 {
    t.calls[cmd_index(cmd)][status as usize]
}

#[test]
fn four_cpus_get_only_allowed_answers_and_every_granule_comes_back() {
    let (sim, reports, census) = storm(4, 800, None);
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r.first, None, "cpu {i}: {:?}", r.counts);
        assert_eq!(r.counts.rounds, 800, "cpu {i}");
    }
    let census = census.expect("a clean storm is torn down");
    assert_eq!(census.delegated, census.undelegated);
    assert_eq!(census.memory_errors, 0);
    assert!(census.bursts > 0);
    assert!((POOL..POOL + POOL_SIZE)
        .step_by(G as usize)
        .all(|pa| !sim.el3.is_realm(pa)));
    let t = total(&reports);
    assert!(t.entries_by_realm.iter().all(|&n| n > 0), "{t:?}");
    println!("{t:?}\n{census:?}");
    for (cmd, status) in [
        (C::REC_ENTER, RmiStatus::Success),
        (C::RTT_SET_RIPAS, RmiStatus::Success),
        (C::PSCI_COMPLETE, RmiStatus::Success),
        (C::RTT_CREATE, RmiStatus::Success),
        (C::RTT_CREATE, RmiStatus::ErrorRtt),
        (C::RTT_DESTROY, RmiStatus::Success),
        (C::RTT_DESTROY, RmiStatus::ErrorRtt),
        (C::RTT_FOLD, RmiStatus::Success),
        (C::RTT_FOLD, RmiStatus::ErrorRtt),
        (C::DATA_CREATE_UNKNOWN, RmiStatus::Success),
        (C::DATA_CREATE_UNKNOWN, RmiStatus::ErrorRtt),
        (C::DATA_DESTROY, RmiStatus::Success),
        (C::DATA_DESTROY, RmiStatus::ErrorRtt),
    ] {
        assert!(
            calls(&t, cmd, status) > 0,
            "{} {status:?} never happened: {t:?}",
            cmd.name()
        );
    }
    for reason in [
        RmiExitReason::HostCall,
        RmiExitReason::RipasChange,
        RmiExitReason::Psci,
    ] {
        assert!(t.exits[reason as usize] > 0, "{reason:?}: {t:?}");
    }
}

#[test]
fn one_cpu_alone_runs_the_same_storm() {
    let (_, reports, census) = storm(1, 300, None);
    assert_eq!(reports[0].first, None, "{:?}", reports[0].counts);
    let census = census.expect("torn down");
    assert_eq!(census.delegated, census.undelegated);
}

#[test]
fn a_wrong_answer_is_caught() {
    // CPU 0 sees every successful DATA_DESTROY as RMI_ERROR_RTT: the first one it makes of a
    // page it created must be reported.
    let (_, reports, census) = storm(2, 300, Some(C::DATA_DESTROY));
    let v = reports[0].first.expect("the lie was caught");
    assert_eq!(v.cmd.fid(), C::DATA_DESTROY.fid());
    assert_eq!(v.got.status(), Some(RmiStatus::ErrorRtt));
    assert!(census.is_none(), "no teardown after a violation");
}

#[test]
fn the_prng_is_the_seeds() {
    let mut a = Rng::new(SEED, 0);
    let mut b = Rng::new(SEED, 0);
    let mut c = Rng::new(SEED, 1);
    let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
    assert_eq!(xs, (0..8).map(|_| b.next_u64()).collect::<Vec<_>>());
    assert_ne!(xs, (0..8).map(|_| c.next_u64()).collect::<Vec<_>>());
    assert!((0..1000).all(|_| a.below(7) < 7));
}
