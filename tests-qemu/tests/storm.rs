//! A concurrency storm on 2 and 4 CPUs: the host stub's storm scenario (`host_stub::storm`).
//! Two realms run the payload's storm mode on REC 0 (bursts that mark themselves in a heartbeat
//! page, touch and check the realm's memory, and end in a host call, a RIPAS change request or
//! PSCI AFFINITY_INFO), entered by whichever CPU holds the REC's token, while every CPU also
//! creates, fills, empties, destroys and folds level-3 tables of the same realms and intrudes on
//! running RECs with REC_ENTER and REC_DESTROY: a bounded number of rounds of seeded random
//! choices per CPU. Every answer must be one the spec allows for what the issuing CPU knows; at
//! the end every CPU reports its rounds, both realms are taken apart, every granule is
//! undelegated, and the census matches what was delegated.
//!
//! QEMU runs with `-icount shift=0,sleep=off -seed 1` (the runner's standard command line):
//! the interleaving, and so every figure the scenario prints, is the same on every run.

use tests_qemu::{run, Images, RunConfig, RunOutcome, Source};

fn storm(cpus: u32) -> RunOutcome {
    let images = Images::locate().unwrap_or_else(|e| panic!("{e}"));
    let cfg = RunConfig::new(format!("storm-{cpus}cpu"), cpus)
        .with_input_file("storm", b"storm".to_vec());
    run(&images, &cfg)
}

fn check(o: &RunOutcome, cpus: u32) {
    let failures: Vec<&str> = o
        .host_lines()
        .filter(|l| l.contains("storm: FAIL"))
        .collect();
    assert!(
        failures.is_empty(),
        "the storm on {cpus} CPUs failed:\n{}\n\n{}",
        failures.join("\n"),
        o.report()
    );
    for cpu in 0..cpus {
        let line = format!("storm: cpu {cpu} ran ");
        assert_eq!(o.count(Source::Host, &line), 1, "cpu {cpu}: {}", o.report());
    }
    assert_eq!(o.count(Source::Host, "storm: census:"), 1, "{}", o.report());
    assert_eq!(o.count(Source::Host, "storm: PASS"), 1, "{}", o.report());
    assert_eq!(o.count(Source::Host, "verdict: PASS"), 1, "{}", o.report());
    o.expect_pass();
    // The storm's figures, for `--nocapture`.
    for l in o.host_lines().filter(|l| l.contains("storm:")) {
        println!("{l}");
    }
    println!("wall time: {:.1} s", o.elapsed.as_secs_f64());
    // The scenario replaces the others: no payload or SMP realm ran.
    assert_eq!(o.count(Source::Host, "realm payload:"), 0, "{}", o.report());
    assert_eq!(o.count(Source::Rmm, "failed"), 0, "{}", o.report());
}

#[test]
fn a_storm_of_rmi_on_2_cpus_gets_only_allowed_answers() {
    let o = storm(2);
    check(&o, 2);
}

#[test]
fn a_storm_of_rmi_on_4_cpus_gets_only_allowed_answers() {
    let o = storm(4);
    check(&o, 4);
}
