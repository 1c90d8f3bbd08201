//! RMI_GRANULE_DELEGATE / RMI_GRANULE_UNDELEGATE against the simulated EL3: the success path and
//! one test per failure condition of B4.3.5 and B4.3.6, named after the condition.

use crate::granule::GranuleState;
use crate::sim::{Sim, QEMU_RMM_REGION};

const DELEGATE: u64 = 0xC400_0151;
const UNDELEGATE: u64 = 0xC400_0152;
const SUCCESS: u64 = 0;
const ERROR_INPUT: u64 = 1;
/// An NS granule of the simulated DRAM.
const NS: u64 = 0x8000_0000;

fn status(out: [u64; 5]) -> u64 {
    assert_eq!(&out[1..], &[0; 4], "no outputs");
    out[0]
}

#[test]
fn delegate_then_undelegate_round_trip() {
    let sim = Sim::qemu();
    assert_eq!(status(sim.call(DELEGATE, &[NS])), SUCCESS);
    assert_eq!(sim.granules.peek(NS), Ok((GranuleState::Delegated, 0)));
    assert!(sim.el3.is_realm(NS));
    assert_eq!(status(sim.call(UNDELEGATE, &[NS])), SUCCESS);
    assert_eq!(sim.granules.peek(NS), Ok((GranuleState::Undelegated, 0)));
    assert!(!sim.el3.is_realm(NS));
}

#[test]
fn undelegate_wipes_contents() {
    let sim = Sim::qemu();
    sim.mem.write(NS, &[0xA5; 4096]);
    assert_eq!(status(sim.call(DELEGATE, &[NS])), SUCCESS);
    // Whatever a realm wrote while it was delegated...
    sim.mem.write(NS, &[0x5A; 4096]);
    assert_eq!(status(sim.call(UNDELEGATE, &[NS])), SUCCESS);
    // ...the host gets none of it back.
    assert_eq!(sim.mem.read(NS), [0; 4096]);
}

#[test]
fn delegate_fails_gran_align() {
    let sim = Sim::qemu();
    for pa in [NS + 8, NS + 0x800, NS | 1] {
        assert_eq!(status(sim.call(DELEGATE, &[pa])), ERROR_INPUT, "{pa:#x}");
    }
    assert_eq!(sim.el3.calls(), 0, "no GPT change attempted");
}

#[test]
fn delegate_fails_gran_bound() {
    let sim = Sim::qemu();
    // Below DRAM (flash, secure RAM, devices), just past its end, and far beyond it.
    for pa in [
        0,
        0x0E00_0000,
        0x0900_0000,
        0x1_0000_0000,
        0xFFFF_FFFF_FFFF_F000,
    ] {
        assert_eq!(status(sim.call(DELEGATE, &[pa])), ERROR_INPUT, "{pa:#x}");
        assert_eq!(
            sim.granules.peek(pa).map(|p| p.0),
            Err(crate::granule::LockError::NotDelegable)
        );
    }
    assert_eq!(sim.el3.calls(), 0);
}

#[test]
fn delegate_fails_gran_state() {
    let sim = Sim::qemu();
    assert_eq!(status(sim.call(DELEGATE, &[NS])), SUCCESS);
    let calls = sim.el3.calls();
    assert_eq!(status(sim.call(DELEGATE, &[NS])), ERROR_INPUT);
    assert_eq!(sim.el3.calls(), calls, "state checked before asking EL3");
    assert_eq!(sim.granules.peek(NS), Ok((GranuleState::Delegated, 0)));
}

#[test]
fn delegate_fails_gran_gpt() {
    let sim = Sim::qemu();
    // The RMM's own memory is in a DRAM bank but already Realm in the GPT.
    let rmm_page = QEMU_RMM_REGION.0 + 0x1000;
    assert_eq!(status(sim.call(DELEGATE, &[rmm_page])), ERROR_INPUT);
    assert_eq!(
        sim.granules.peek(rmm_page),
        Ok((GranuleState::Undelegated, 0))
    );
}

#[test]
fn undelegate_fails_gran_align() {
    let sim = Sim::qemu();
    assert_eq!(status(sim.call(DELEGATE, &[NS])), SUCCESS);
    assert_eq!(status(sim.call(UNDELEGATE, &[NS + 0x10])), ERROR_INPUT);
    assert_eq!(sim.granules.peek(NS), Ok((GranuleState::Delegated, 0)));
}

#[test]
fn undelegate_fails_gran_bound() {
    let sim = Sim::qemu();
    for pa in [0, 0x1_0000_0000, 0x3FFF_F000] {
        assert_eq!(status(sim.call(UNDELEGATE, &[pa])), ERROR_INPUT, "{pa:#x}");
    }
}

#[test]
fn undelegate_fails_gran_state() {
    let sim = Sim::qemu();
    sim.mem.write(NS, &[7; 4096]);
    assert_eq!(status(sim.call(UNDELEGATE, &[NS])), ERROR_INPUT);
    assert_eq!(
        sim.mem.read(NS),
        [7; 4096],
        "an undelegated granule is not wiped"
    );
    assert_eq!(sim.el3.calls(), 0);
}

#[test]
fn concurrent_delegation_is_consistent() {
    // Four threads race to delegate and undelegate the same 64 granules: every granule ends in a
    // state that matches the GPT, and every success was a real transition.
    let sim = Sim::qemu();
    let pas: Vec<u64> = (0..64).map(|i| NS + i * 0x1000).collect();
    let wins = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let (sim, pas, wins) = (&sim, &pas, &wins);
            s.spawn(move || {
                for round in 0..50u64 {
                    for &pa in pas {
                        let fid = if (round + t) % 2 == 0 {
                            DELEGATE
                        } else {
                            UNDELEGATE
                        };
                        if sim.call(fid, &[pa])[0] == SUCCESS {
                            wins.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    assert!(wins.into_inner() > 0);
    for pa in pas {
        let (state, refs) = sim.granules.peek(pa).expect("tracked");
        assert_eq!(refs, 0);
        assert_eq!(
            state == GranuleState::Delegated,
            sim.el3.is_realm(pa),
            "{pa:#x}"
        );
    }
}
