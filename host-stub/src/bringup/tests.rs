//! The bring-up checks against the RMM's real dispatcher, behind an EL3 double that forwards each
//! SMC to `rmm::rmi::handle` the way TF-A's RMMD does (x1..x5 of the RMM's REQ_COMPLETE become the
//! host's x0..x4, the other registers read back as zero).

use super::*;
use hostcall_abi::smccc::SVE_HINT;
use rmm::sim::Sim;

/// EL3 double: hands the call to the RMM dispatcher of a simulated monitor.
struct El3Double<'a> {
    sim: &'a Sim,
}

impl Conduit for El3Double<'_> {
    fn smc(&mut self, regs: [u64; 8]) -> [u64; 8] {
        let out = rmm::rmi::handle(&self.sim.ctx(), &regs);
        let mut r = [0; 8];
        r[..5].copy_from_slice(&out);
        r
    }
}

#[test]
fn bringup_checks_pass_against_the_rmm_dispatcher() {
    let sim = Sim::qemu();
    let mut client = RmiClient::new(El3Double { sim: &sim });
    let report = run(&mut client);
    assert_eq!(report.verdict(), Ok(()));
    assert_eq!(report.features.1.s2sz(), 48);
}

#[test]
fn sve_hint_does_not_change_the_answer() {
    let sim = Sim::qemu();
    let mut client = RmiClient::new(El3Double { sim: &sim });
    let plain = client.raw(0xC400_0150, &[0x1_0000]);
    let hinted = client.raw(0xC400_0150 | SVE_HINT, &[0x1_0000]);
    assert_eq!(plain, hinted);
}

/// A broken RMM double that accepts any version: the checks must notice.
struct AcceptsAnything;
impl Conduit for AcceptsAnything {
    fn smc(&mut self, regs: [u64; 8]) -> [u64; 8] {
        match regs[0] {
            0xC400_0150 => [0, 0x1_0000, 0x1_0000, 0, 0, 0, 0, 0],
            0xC400_0165 => [0, 48 | 1 << 32, 0, 0, 0, 0, 0, 0],
            _ => [SMC_UNKNOWN, 0, 0, 0, 0, 0, 0, 0],
        }
    }
}

#[test]
fn checks_catch_an_rmm_that_accepts_version_2() {
    let report = run(&mut RmiClient::new(AcceptsAnything));
    assert_eq!(report.verdict(), Err(Failure::RefusedVersion));
}

/// A double that answers unused FIDs with success.
struct AnswersEverything<'a>(El3Double<'a>);
impl Conduit for AnswersEverything<'_> {
    fn smc(&mut self, regs: [u64; 8]) -> [u64; 8] {
        let r = self.0.smc(regs);
        if r[0] == SMC_UNKNOWN {
            [0; 8]
        } else {
            r
        }
    }
}

#[test]
fn checks_catch_unknown_fids_answered() {
    let sim = Sim::qemu();
    let report = run(&mut RmiClient::new(AnswersEverything(El3Double {
        sim: &sim,
    })));
    assert_eq!(report.verdict(), Err(Failure::UnknownFid));
}
