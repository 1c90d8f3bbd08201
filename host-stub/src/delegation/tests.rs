//! The delegation checks against the RMM's real handlers on the simulated platform (an EL3 double
//! with a GPT and simulated DRAM; see `rmm::sim`).

use super::*;
use crate::testing::SimHost;
use rmm::sim::Sim;

const PAGES: [u64; 3] = [0x6100_0000, 0x6100_1000, 0x6100_2000];

#[test]
fn checks_pass_against_the_rmm() {
    let sim = Sim::qemu();
    let s = run(
        &mut RmiClient::new(SimHost(&sim)),
        &mut SimHost(&sim),
        &PAGES,
        &QEMU_NOT_DELEGABLE,
    )
    .expect("delegation checks");
    assert_eq!(
        s,
        Summary {
            round_trips: 3,
            refusals: 9 + 9
        }
    );
}

/// An RMM that forgets to wipe: simulated by writing the pattern back after undelegate.
struct Unwiped<'a>(&'a Sim);
impl Conduit for Unwiped<'_> {
    fn smc(&mut self, regs: [u64; 8]) -> [u64; 8] {
        let r = SimHost(self.0).smc(regs);
        if regs[0] == 0xC400_0152 && r[0] == 0 {
            self.0.mem.write(regs[1], &[PATTERN; 4096]);
        }
        r
    }
}

#[test]
fn checks_catch_a_missing_wipe() {
    let sim = Sim::qemu();
    let r = run(
        &mut RmiClient::new(Unwiped(&sim)),
        &mut SimHost(&sim),
        &PAGES,
        &[],
    );
    assert_eq!(r, Err(Failure::NotWiped(PAGES[0])));
}

#[test]
fn checks_catch_an_accepted_bad_address() {
    // Sim's DRAM covers 0x6200_0000, so asking it to refuse an ordinary NS granule must fail.
    let sim = Sim::qemu();
    let r = run(
        &mut RmiClient::new(SimHost(&sim)),
        &mut SimHost(&sim),
        &[],
        &[0x6200_0000],
    );
    assert!(
        matches!(r, Err(Failure::BadAddress(0x6200_0000, _))),
        "{r:?}"
    );
}
