//! Self-tests of the runner. None of them need the firmware images: the
//! QEMU ones use a hand-made bios or none at all.

use std::fs;
use std::panic;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tests_qemu::{
    decode_defmt_file, merge_lines, run, Images, LogLine, RunConfig, RunOutcome, RunStatus, Source,
};

/// Images whose ELF files do not exist: fine as long as the guest writes no
/// defmt stream.
fn images_with_bios(dir: &Path, bios: PathBuf) -> Images {
    Images {
        rmm_elf: dir.join("no-rmm.elf"),
        host_elf: dir.join("no-host.elf"),
        bios,
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => match payload.downcast::<&str>() {
            Ok(text) => text.to_string(),
            Err(_) => String::from("<non-string panic>"),
        },
    }
}

fn expect_pass_message(outcome: &RunOutcome) -> String {
    match panic::catch_unwind(|| outcome.expect_pass()) {
        Ok(()) => panic!("expect_pass accepted a failed run: {}", outcome.summary()),
        Err(payload) => panic_message(payload),
    }
}

#[test]
fn a_hanging_guest_is_killed_at_the_timeout() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // 64 KiB of `b .` (0x14000000): every CPU spins at the reset vector.
    let bios = tmp.path().join("spin.bios");
    let spin: Vec<u8> = 0x1400_0000u32
        .to_le_bytes()
        .iter()
        .copied()
        .cycle()
        .take(64 * 1024)
        .collect();
    fs::write(&bios, spin).expect("write dummy bios");

    let cfg = RunConfig::new("selftest-hang", 2).with_timeout(Duration::from_secs(3));
    let outcome = run(&images_with_bios(tmp.path(), bios), &cfg);

    assert_eq!(outcome.status, RunStatus::TimedOut, "{}", outcome.report());
    assert!(!outcome.passed());
    assert!(
        outcome.elapsed >= Duration::from_secs(3),
        "{:?}",
        outcome.elapsed
    );
    assert!(
        outcome.elapsed < Duration::from_secs(10),
        "{:?}",
        outcome.elapsed
    );
    assert!(outcome.lines.is_empty());
    assert_eq!(outcome.malformed_frames, 0);

    let report = outcome.report();
    assert!(report.contains("timed out"), "{report}");
    assert!(report.contains("-smp 2"), "{report}");

    // The process was reaped, so its /proc entry is gone.
    let pid = outcome.pid.expect("QEMU was spawned");
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "QEMU (pid {pid}) still exists after the run"
    );

    // QEMU ran inside the run directory and its output went to files there.
    assert!(outcome.run_dir.ends_with("qemu-runs/selftest-hang"));
    for file in ["qemu.stdout", "qemu.stderr", "uart.log", "command.txt"] {
        assert!(outcome.run_dir.join(file).is_file(), "{file} missing");
    }

    let message = expect_pass_message(&outcome);
    assert!(message.contains("timed out"), "{message}");
    assert!(message.contains("---- uart.log"), "{message}");
}

#[test]
fn qemu_refusing_to_start_is_reported_with_its_stderr() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let bios = tmp.path().join("does-not-exist.bios");
    let cfg = RunConfig::new("selftest-no-bios", 1).with_timeout(Duration::from_secs(30));
    let outcome = run(&images_with_bios(tmp.path(), bios), &cfg);

    match outcome.status {
        RunStatus::Exited(code) => assert_ne!(code, 0, "{}", outcome.report()),
        ref other => panic!(
            "expected a non-zero exit, got {other:?}\n{}",
            outcome.report()
        ),
    }
    assert!(!outcome.passed());
    assert!(
        outcome.qemu_stderr.contains("does-not-exist.bios"),
        "stderr: {}",
        outcome.qemu_stderr
    );
    let report = outcome.report();
    assert!(report.contains("---- QEMU stderr ----"), "{report}");
    assert!(report.contains(outcome.qemu_stderr.trim()), "{report}");

    let message = expect_pass_message(&outcome);
    assert!(message.contains(outcome.qemu_stderr.trim()), "{message}");
}

#[test]
fn a_missing_qemu_binary_is_a_spawn_failure() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let missing = tmp.path().join("qemu-system-aarch64");
    let cfg = RunConfig::new("selftest-no-qemu", 1).with_qemu_binary(&missing);
    let outcome = run(&images_with_bios(tmp.path(), tmp.path().join("x")), &cfg);

    match &outcome.status {
        RunStatus::SpawnFailed(why) => {
            assert!(why.contains(&missing.display().to_string()), "{why}")
        }
        other => panic!("expected SpawnFailed, got {other:?}"),
    }
    assert_eq!(outcome.pid, None);
    assert!(outcome.report().contains("could not be started"));
}

#[test]
fn unsafe_run_names_are_refused_before_touching_the_disk() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let images = images_with_bios(tmp.path(), tmp.path().join("x"));
    for name in ["", "..", ".hidden", "a/b", "../images"] {
        let outcome = run(&images, &RunConfig::new(name, 1));
        assert!(
            matches!(outcome.status, RunStatus::SpawnFailed(ref why) if why.contains("invalid run name")),
            "{name:?}: {:?}",
            outcome.status
        );
    }
    let outcome = run(&images, &RunConfig::new("no-cpus", 0));
    assert!(matches!(outcome.status, RunStatus::SpawnFailed(_)));
}

#[test]
fn locate_names_the_missing_images() {
    let tmp = tempfile::tempdir().expect("temp dir");
    fs::write(tmp.path().join("rmm.elf"), b"").expect("write");
    let err = Images::locate_in(tmp.path()).expect_err("two files are missing");
    assert!(err.contains("cargo xtask build"), "{err}");
    assert!(
        err.contains("host-stub.elf") && err.contains("qemu_fw.bios"),
        "{err}"
    );
    assert!(!err.contains("rmm.elf"), "{err}");

    fs::write(tmp.path().join("host-stub.elf"), b"").expect("write");
    fs::write(tmp.path().join("qemu_fw.bios"), b"").expect("write");
    let images = Images::locate_in(tmp.path()).expect("all present");
    assert_eq!(images.bios, tmp.path().join("qemu_fw.bios"));
}

fn line(ticks: u64, source: Source, level: Option<&str>, text: &str) -> LogLine {
    LogLine {
        ticks,
        source,
        level: level.map(str::to_string),
        text: text.to_string(),
    }
}

#[test]
fn streams_merge_by_ticks_and_ties_keep_stream_order() {
    let rmm = vec![
        line(10, Source::Rmm, Some("INFO"), "r1"),
        line(30, Source::Rmm, Some("INFO"), "r2"),
        line(30, Source::Rmm, Some("INFO"), "r3"),
        line(50, Source::Rmm, Some("INFO"), "r4"),
    ];
    let host = vec![
        line(5, Source::Host, Some("INFO"), "h1"),
        line(30, Source::Host, Some("INFO"), "h2"),
        line(30, Source::Host, Some("INFO"), "h3"),
        line(60, Source::Host, Some("INFO"), "h4"),
    ];
    let merged: Vec<String> = merge_lines(rmm, host).into_iter().map(|l| l.text).collect();
    assert_eq!(merged, ["h1", "r1", "r2", "r3", "h2", "h3", "r4", "h4"]);
}

fn synthetic_outcome() -> RunOutcome {
    RunOutcome {
        name: "synthetic".to_string(),
        status: RunStatus::Exited(3),
        run_dir: PathBuf::from("/tmp/synthetic"),
        command: vec!["qemu-system-aarch64".into(), "-smp".into(), "4".into()],
        timeout: Duration::from_secs(60),
        elapsed: Duration::from_millis(1500),
        pid: Some(1),
        uart: "NOTICE:  Booting Trusted Firmware\n".to_string(),
        lines: vec![
            line(123_456_789, Source::Rmm, Some("INFO"), "cpu 0: cold boot"),
            line(123_456_800, Source::Host, Some("WARN"), "rmi version 1.0"),
            line(123_456_900, Source::Rmm, None, "two\nlines"),
            line(123_457_000, Source::Rmm, Some("INFO"), "cpu 1: cold boot"),
        ],
        malformed_frames: 1,
        qemu_stderr: "qemu: something odd\n".to_string(),
        notes: vec!["1 malformed defmt frame(s) were skipped".to_string()],
    }
}

#[test]
fn the_report_shows_status_log_uart_and_stderr_in_that_order() {
    let outcome = synthetic_outcome();
    let report = outcome.report();

    let expected = [
        "exited with status 3 (FAILED)",
        "---- decoded defmt log: 4 lines (rmm 3, host 1), 1 malformed frames ----",
        "[    123456789] rmm  INFO  cpu 0: cold boot\n",
        "[    123456800] host WARN  rmi version 1.0\n",
        "[    123456900] rmm        two\n                           lines\n",
        "---- uart.log (34 bytes) ----\nNOTICE:  Booting Trusted Firmware\n",
        "---- QEMU stderr ----\nqemu: something odd\n",
        "---- runner notes ----\n- 1 malformed",
    ];
    let mut from = 0;
    for piece in expected {
        match report[from..].find(piece) {
            Some(at) => from += at + piece.len(),
            None => panic!("{piece:?} missing or out of order in:\n{report}"),
        }
    }

    let message = expect_pass_message(&outcome);
    assert!(message.contains(&report), "{message}");
}

/// A failed run's report starts with what to look at: the failing checks, each CPU's last
/// lines, each image's last lines, and a command line that reruns QEMU alone.
#[test]
fn a_failed_report_leads_with_the_failing_check_each_cpus_last_lines_and_a_rerun_command() {
    let mut outcome = synthetic_outcome();
    outcome.run_dir = PathBuf::from("/tmp/run dir");
    outcome.lines.push(line(
        123_458_000,
        Source::Host,
        Some("ERROR"),
        "cpu 2: attestation: no IRQ exit mid-token",
    ));
    outcome
        .lines
        .push(line(123_459_000, Source::Host, None, "verdict: FAIL"));
    let report = outcome.report();
    let expected = [
        "rerun it alone: (cd '/tmp/run dir' && qemu-system-aarch64 -smp 4)\n",
        "---- failed checks (2) ----\n",
        "host ERROR cpu 2: attestation: no IRQ exit mid-token\n",
        "host       verdict: FAIL\n",
        "---- last lines of rmm cpu 0 ----\n[    123456789] rmm  INFO  cpu 0: cold boot\n",
        "---- last lines of rmm cpu 1 ----\n[    123457000] rmm  INFO  cpu 1: cold boot\n",
        "---- last lines of host cpu 2 ----\n",
        "---- last lines of rmm ----\n",
        "---- last lines of host ----\n",
        "---- decoded defmt log: 6 lines",
    ];
    let mut from = 0;
    for piece in expected {
        match report[from..].find(piece) {
            Some(at) => from += at + piece.len(),
            None => panic!("{piece:?} missing or out of order in:\n{report}"),
        }
    }
    // A passing run with no error has no digest.
    let mut passed = synthetic_outcome();
    passed.status = RunStatus::Exited(0);
    assert_eq!(passed.failure_digest(), "");
}

#[test]
fn a_passing_outcome_passes_and_hides_empty_sections() {
    let mut outcome = synthetic_outcome();
    outcome.status = RunStatus::Exited(0);
    outcome.qemu_stderr.clear();
    outcome.uart.clear();
    outcome.expect_pass();
    assert!(outcome.passed());
    let report = outcome.report();
    assert!(report.contains("(passed)"), "{report}");
    assert!(!report.contains("QEMU stderr"), "{report}");
    assert!(
        report.contains("---- uart.log (0 bytes) ----\n(empty)\n"),
        "{report}"
    );
}

#[test]
fn query_helpers_filter_by_source() {
    let outcome = synthetic_outcome();
    assert_eq!(
        outcome.rmm_lines().collect::<Vec<_>>(),
        ["cpu 0: cold boot", "two\nlines", "cpu 1: cold boot"]
    );
    assert_eq!(
        outcome.host_lines().collect::<Vec<_>>(),
        ["rmi version 1.0"]
    );
    assert_eq!(outcome.count(Source::Rmm, "cold boot"), 2);
    assert_eq!(outcome.count(Source::Host, "cold boot"), 0);
    assert_eq!(
        outcome.find(Source::Rmm, "cold boot").map(|l| l.ticks),
        Some(123_456_789)
    );
    assert!(outcome.find(Source::Host, "cpu 0").is_none());
    let boot = outcome.position(Source::Rmm, "cpu 1");
    let version = outcome.position(Source::Host, "rmi version");
    assert!(version < boot, "{version:?} {boot:?}");
    assert!(outcome.story().lines().count() == 5);
}

#[test]
fn a_missing_defmt_file_yields_no_lines() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let log = decode_defmt_file(
        &tmp.path().join("absent.elf"),
        &tmp.path().join("rmm.defmt"),
        Source::Rmm,
    );
    assert!(log.lines.is_empty());
    assert_eq!(log.malformed, 0);
    assert!(log.problems.is_empty(), "{:?}", log.problems);

    // An empty file is the same as no file.
    fs::write(tmp.path().join("host.defmt"), b"").expect("write");
    let log = decode_defmt_file(
        &tmp.path().join("absent.elf"),
        &tmp.path().join("host.defmt"),
        Source::Host,
    );
    assert!(log.lines.is_empty() && log.problems.is_empty());
}

#[test]
fn defmt_output_without_a_usable_elf_is_reported() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let defmt = tmp.path().join("rmm.defmt");
    fs::write(&defmt, [0x01, 0x02, 0x00]).expect("write");

    let log = decode_defmt_file(&tmp.path().join("absent.elf"), &defmt, Source::Rmm);
    assert!(log.lines.is_empty());
    assert_eq!(log.problems.len(), 1);
    assert!(log.problems[0].contains("absent.elf"), "{:?}", log.problems);

    let not_elf = tmp.path().join("garbage.elf");
    fs::write(&not_elf, b"definitely not an ELF").expect("write");
    let log = decode_defmt_file(&not_elf, &defmt, Source::Rmm);
    assert_eq!(log.problems.len(), 1);
    assert!(log.problems[0].contains("3 bytes"), "{:?}", log.problems);
}
