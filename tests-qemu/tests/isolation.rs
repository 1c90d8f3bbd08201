//! Races between a running realm and the host over the realm's stage-2 mappings, on 2 and 4
//! CPUs: the host stub's isolation scenario (`host_stub::isolation`). In each race the realm's
//! REC runs on host CPU 1 and touches a granule, so that CPU's TLB holds its translation; while
//! the REC is still in the same run, the host on CPU 0 removes or changes the mapping with the
//! command under test (DATA_DESTROY, RTT_DESTROY of a protected and of an unprotected table,
//! RTT_FOLD, RTT_UNMAP_UNPROTECTED, RTT_SET_RIPAS then DATA_DESTROY, RTT_CREATE over a live
//! block; and RTT_SET_RIPAS alone, which reuses nothing but leaves an EMPTY IPA that must fault)
//! and reuses the granule (as an RTT of the same
//! realm, as DATA or an RTT of another realm, or back in the Non-secure PAS written by the host),
//! then tells the realm through a flag page. The realm's next access must fault at the old IPA
//! (or, for fold and unfold, reach the same data): it must not reach the reused granule.
//!
//! Without stage-2 TLB maintenance in those commands every race but fold and unfold fails: the
//! realm reads realm B's marker or the host's (and in the DATA_DESTROY race, writes a page
//! descriptor into what became its own RTT and reads realm B's DATA through it). Fold and unfold
//! cannot fail on QEMU, which caches no table walks (see `host_stub::isolation`).
//!
//! QEMU runs with `-icount shift=0,sleep=off` (the runner's standard command line), which makes
//! its TCG round-robin: the realm and the
//! host hand the emulator to each other at their YIELDs, and every wait is a bounded poll count.

use tests_qemu::{run, Images, RunConfig, RunOutcome, Source};

/// The races, by the name each line starts with.
const RACES: [&str; 8] = [
    "DATA_DESTROY",
    "RTT_DESTROY",
    "RTT_DESTROY (unprotected)",
    "RTT_FOLD",
    "RTT_UNMAP_UNPROTECTED",
    "RTT_SET_RIPAS",
    "RTT_CREATE (unfold)",
    "RTT_SET_RIPAS (no DATA_DESTROY)",
];

fn races(cpus: u32) -> RunOutcome {
    let images = Images::locate().unwrap_or_else(|e| panic!("{e}"));
    let cfg = RunConfig::new(format!("isolation-{cpus}cpu"), cpus)
        .with_input_file("isolation", b"all races".to_vec());
    run(&images, &cfg)
}

/// Every race's verdict line, then the run's: the failing races named in one message.
fn check(o: &RunOutcome, cpus: u32) {
    let failed: Vec<String> = RACES
        .iter()
        .filter(|r| o.count(Source::Host, &format!("isolation race {r}: PASS")) != 1)
        .map(|r| {
            o.host_lines()
                .find(|l| l.contains(&format!("isolation race {r}: FAIL")))
                .map_or_else(|| format!("{r}: no verdict"), str::to_string)
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} race(s) failed on {cpus} CPUs:\n{}\n\n{}",
        failed.len(),
        failed.join("\n"),
        o.report()
    );
    let summary = format!("isolation: 8 of 8 race(s) passed, the racing RECs on CPU 1 of {cpus}");
    assert_eq!(o.count(Source::Host, &summary), 1, "{}", o.report());
    assert_eq!(o.count(Source::Host, "verdict: PASS"), 1, "{}", o.report());
    // The two races that leave the target EMPTY end in the SEA the RMM injects (A5.2.3), not
    // in a REC exit; the other faults are REC exits at the old IPA.
    let sea = "took a synchronous external abort at its own vector";
    assert_eq!(o.count(Source::Host, sea), 2, "{}", o.report());
    assert_eq!(
        o.count(Source::Host, "faulted there (REC exit"),
        4,
        "{}",
        o.report()
    );
    o.expect_pass();
    // Each race's story, for `--nocapture`.
    for l in o.host_lines().filter(|l| l.contains("isolation")) {
        println!("{l}");
    }
    // The scenario replaces the others: no payload or SMP realm ran.
    assert_eq!(o.count(Source::Host, "realm payload:"), 0, "{}", o.report());
    assert_eq!(o.count(Source::Rmm, "failed"), 0, "{}", o.report());
}

#[test]
fn a_realm_racing_the_host_on_2_cpus_no_longer_reaches_a_reused_granule() {
    let o = races(2);
    check(&o, 2);
}

#[test]
fn a_realm_racing_the_host_on_4_cpus_no_longer_reaches_a_reused_granule() {
    let o = races(4);
    check(&o, 4);
}
