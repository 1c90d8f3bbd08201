//! The realm scenario against the RMM's real handlers on the simulated platform (`rmm::sim`:
//! an EL3 double with a GPT and simulated DRAM).

use super::*;
use crate::testing::SimHost;
use rmm::sim::{Sim, QEMU_RMM_REGION};

#[test]
fn build_attack_and_teardown_against_the_rmm() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut h = Host::new(&mut rmi, &mut mem);
    let mut pool = Pool::new(0x6200_0000, 0x10_0000);
    let realm = build(&mut h, &mut pool, 1).expect("build");
    adversarial(&mut h, &mut pool, &realm, QEMU_RMM_REGION.0, 0x0E00_0000)
        .expect("attacks refused");
    teardown(&mut h, &realm).expect("teardown");
    assert!(h.report.refusals >= 20);
    // Every granule is back with the host.
    for &pa in &realm.delegated[..realm.num_delegated] {
        assert_eq!(
            sim.granules.peek(pa).map(|p| p.0),
            Ok(rmm::granule::GranuleState::Undelegated)
        );
        assert!(!sim.el3.is_realm(pa));
    }
}

#[test]
fn a_wrong_expectation_is_reported_with_its_step() {
    // Against a fresh RMM, destroying a realm that was never created is refused: the scenario's
    // teardown must report that step rather than carry on.
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut h = Host::new(&mut rmi, &mut mem);
    let realm = Realm {
        rd: 0x6300_0000,
        ..Realm::default()
    };
    let err = teardown(&mut h, &realm).expect_err("nothing to destroy");
    assert_eq!(err.step, "REC_DESTROY");
    assert_eq!(err.got, INPUT);
}
