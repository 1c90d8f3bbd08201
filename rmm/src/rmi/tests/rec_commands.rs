//! RMI_REC_CREATE / RMI_REC_DESTROY on the simulated platform: success paths and one test per
//! failure condition of B4.3.12 and B4.3.13, named after it.

use hostcall_abi::rec_params::{rec_index_to_mpidr, RmiRecCreateFlags, RmiRecParams};

use super::realm_commands::*;
use crate::granule::GranuleState;
use crate::rec::{Rec, AUX_GRANULES};
use crate::sim::Sim;

const REC_PARAMS: u64 = 0x9000_1000;

/// Parameters for REC `index` whose aux granules follow the REC granule.
fn rec_params(index: u64, rec: u64) -> RmiRecParams {
    let mut p = RmiRecParams::ZERO;
    p.flags = RmiRecCreateFlags::RUNNABLE;
    p.mpidr = rec_index_to_mpidr(index).expect("index");
    p.pc = 0x1000;
    p.gprs = [1, 2, 3, 4, 5, 6, 7, 8];
    p.num_aux = AUX_GRANULES;
    for i in 0..AUX_GRANULES {
        p.aux[i as usize] = rec + 0x1000 * (i + 1);
    }
    p
}

fn prepare_rec(sim: &Sim, index: u64, rec: u64) -> RmiRecParams {
    for i in 0..=AUX_GRANULES {
        delegate(sim, rec + 0x1000 * i);
    }
    let p = rec_params(index, rec);
    put_params(sim, REC_PARAMS, &p);
    p
}

/// Creates REC `index` at `rec` (aux granules right after it) in the realm at [`RD`].
pub fn create_rec(sim: &Sim, index: u64, rec: u64) {
    prepare_rec(sim, index, rec);
    assert_eq!(
        sim.call(REC_CREATE, &[RD, rec, REC_PARAMS])[0],
        SUCCESS,
        "REC {index}"
    );
}

fn rec_create(sim: &Sim, rec: u64) -> [u64; 5] {
    sim.call(REC_CREATE, &[RD, rec, REC_PARAMS])
}

const REC: u64 = 0x8200_0000;

/// Nothing was created: the REC and its aux granules are still DELEGATED, no REC counted.
fn no_rec(sim: &Sim) {
    for i in 0..=AUX_GRANULES {
        let pa = REC + 0x1000 * i;
        assert_eq!(
            sim.granules.peek(pa).map(|p| p.0),
            Ok(GranuleState::Delegated),
            "{pa:#x}"
        );
    }
    assert_eq!(sim.granules.peek(RD), Ok((GranuleState::Rd, 0)));
}

#[test]
fn rec_create_records_the_parameters() {
    let sim = Sim::qemu();
    new_realm(&sim);
    create_rec(&sim, 0, REC);
    assert_eq!(sim.granules.peek(REC).map(|p| p.0), Ok(GranuleState::Rec));
    assert_eq!(
        sim.granules.peek(REC + 0x1000).map(|p| p.0),
        Ok(GranuleState::RecAux)
    );
    assert_eq!(sim.granules.peek(RD), Ok((GranuleState::Rd, 1)));
    let mut g = sim.granules.lock(REC, GranuleState::Rec).expect("lock");
    let r: &mut Rec = crate::rec::idle(&sim.mem, &mut g).expect("not running");
    assert_eq!(
        (r.rd, r.index, r.regs.pc, r.runnable, r.running),
        (RD, 0, 0x1000, true, false)
    );
    assert_eq!(&r.regs.gprs[..9], &[1, 2, 3, 4, 5, 6, 7, 8, 0]);
    assert_eq!(r.regs.pstate, crate::arch::PSTATE_EL1H_MASKED);
    assert_eq!(r.host_call, None);
    assert_eq!(&r.aux[..2], &[REC + 0x1000, REC + 0x2000]);
}

#[test]
fn rec_create_fails_params_align_bound_pas() {
    let sim = Sim::qemu();
    new_realm(&sim);
    prepare_rec(&sim, 0, REC);
    for bad in [REC_PARAMS + 8, 0x1_4000_0000, crate::sim::QEMU_RMM_REGION.0] {
        assert_eq!(
            sim.call(REC_CREATE, &[RD, REC, bad])[0],
            ERROR_INPUT,
            "{bad:#x}"
        );
    }
    no_rec(&sim);
}

#[test]
fn rec_create_fails_rec_align() {
    let sim = Sim::qemu();
    new_realm(&sim);
    prepare_rec(&sim, 0, REC);
    assert_eq!(rec_create(&sim, REC + 0x40)[0], ERROR_INPUT);
    no_rec(&sim);
}

#[test]
fn rec_create_fails_rec_bound() {
    let sim = Sim::qemu();
    new_realm(&sim);
    prepare_rec(&sim, 0, REC);
    assert_eq!(rec_create(&sim, 0x1_4000_0000)[0], ERROR_INPUT);
    no_rec(&sim);
}

#[test]
fn rec_create_fails_rec_state() {
    let sim = Sim::qemu();
    new_realm(&sim);
    prepare_rec(&sim, 0, REC);
    // The RD itself, and a starting-level RTT, are not DELEGATED.
    assert_eq!(rec_create(&sim, RD)[0], ERROR_INPUT);
    assert_eq!(rec_create(&sim, RTT_BASE)[0], ERROR_INPUT);
    no_rec(&sim);
}

#[test]
fn rec_create_fails_rd_state() {
    let sim = Sim::qemu();
    new_realm(&sim);
    prepare_rec(&sim, 0, REC);
    assert_eq!(
        sim.call(REC_CREATE, &[RTT_BASE, REC, REC_PARAMS])[0],
        ERROR_INPUT
    );
    assert_eq!(
        sim.call(REC_CREATE, &[RD + 8, REC, REC_PARAMS])[0],
        ERROR_INPUT,
        "rd_align"
    );
    no_rec(&sim);
}

#[test]
fn rec_create_fails_realm_state() {
    let sim = Sim::qemu();
    new_realm(&sim);
    assert_eq!(sim.call(REALM_ACTIVATE, &[RD])[0], SUCCESS);
    prepare_rec(&sim, 0, REC);
    assert_eq!(rec_create(&sim, REC), [ERROR_REALM, 0, 0, 0, 0]);
    no_rec(&sim);
}

#[test]
fn rec_create_rd_state_before_realm_state() {
    // [rd_bound, rd_state] < [realm_state]: with a bad RD, the answer is ERROR_INPUT even though
    // the realm is active.
    let sim = Sim::qemu();
    new_realm(&sim);
    assert_eq!(sim.call(REALM_ACTIVATE, &[RD])[0], SUCCESS);
    prepare_rec(&sim, 0, REC);
    assert_eq!(
        sim.call(REC_CREATE, &[RTT_BASE, REC, REC_PARAMS])[0],
        ERROR_INPUT
    );
}

#[test]
fn rec_create_fails_num_recs() {
    let sim = Sim::qemu();
    new_realm(&sim);
    let max = (1u64 << crate::features::MAX_RECS_ORDER) - 1;
    for i in 0..max {
        create_rec(&sim, i, 0xA000_0000 + i * 0x10_0000);
    }
    prepare_rec(&sim, max, REC);
    assert_eq!(rec_create(&sim, REC), [ERROR_REALM, 0, 0, 0, 0]);
    no_rec_beyond(&sim, max);
}

fn no_rec_beyond(sim: &Sim, live: u64) {
    assert_eq!(
        sim.granules.peek(REC).map(|p| p.0),
        Ok(GranuleState::Delegated)
    );
    assert_eq!(sim.granules.peek(RD), Ok((GranuleState::Rd, live as u16)));
}

#[test]
fn rec_create_fails_mpidr_index() {
    let sim = Sim::qemu();
    new_realm(&sim);
    prepare_rec(&sim, 1, REC); // index 1 before index 0
    assert_eq!(rec_create(&sim, REC)[0], ERROR_INPUT);
    no_rec(&sim);
    let mut p = rec_params(0, REC);
    p.mpidr |= 0xF0; // Aff0[7:4] are not part of an RmiRecMpidr
    put_params(&sim, REC_PARAMS, &p);
    assert_eq!(rec_create(&sim, REC)[0], ERROR_INPUT);
    no_rec(&sim);
}

#[test]
fn rec_create_fails_num_aux() {
    let sim = Sim::qemu();
    new_realm(&sim);
    let mut p = prepare_rec(&sim, 0, REC);
    p.num_aux = AUX_GRANULES - 1;
    put_params(&sim, REC_PARAMS, &p);
    assert_eq!(rec_create(&sim, REC)[0], ERROR_INPUT);
    p.num_aux = 17;
    put_params(&sim, REC_PARAMS, &p);
    assert_eq!(rec_create(&sim, REC)[0], ERROR_INPUT);
    no_rec(&sim);
}

#[test]
fn rec_create_fails_aux_align() {
    let sim = Sim::qemu();
    new_realm(&sim);
    let mut p = prepare_rec(&sim, 0, REC);
    p.aux[1] += 0x10;
    put_params(&sim, REC_PARAMS, &p);
    assert_eq!(rec_create(&sim, REC)[0], ERROR_INPUT);
    no_rec(&sim);
}

#[test]
fn rec_create_fails_aux_alias() {
    let sim = Sim::qemu();
    new_realm(&sim);
    let mut p = prepare_rec(&sim, 0, REC);
    p.aux[1] = REC; // the REC granule itself
    put_params(&sim, REC_PARAMS, &p);
    assert_eq!(rec_create(&sim, REC)[0], ERROR_INPUT);
    p.aux[1] = p.aux[0]; // the same aux twice
    put_params(&sim, REC_PARAMS, &p);
    assert_eq!(rec_create(&sim, REC)[0], ERROR_INPUT);
    no_rec(&sim);
}

#[test]
fn rec_create_fails_aux_state() {
    let sim = Sim::qemu();
    new_realm(&sim);
    let mut p = prepare_rec(&sim, 0, REC);
    p.aux[1] = 0x8800_0000; // never delegated
    put_params(&sim, REC_PARAMS, &p);
    assert_eq!(rec_create(&sim, REC)[0], ERROR_INPUT);
    p.aux[1] = RTT_BASE; // an RTT
    put_params(&sim, REC_PARAMS, &p);
    assert_eq!(rec_create(&sim, REC)[0], ERROR_INPUT);
    no_rec(&sim);
}

#[test]
fn rec_destroy_returns_rec_and_aux() {
    let sim = Sim::qemu();
    new_realm(&sim);
    create_rec(&sim, 0, REC);
    create_rec(&sim, 1, 0x8300_0000);
    assert_eq!(sim.call(REC_DESTROY, &[REC])[0], SUCCESS);
    no_rec_beyond(&sim, 1);
    for i in 0..=AUX_GRANULES {
        assert_eq!(sim.call(UNDELEGATE, &[REC + 0x1000 * i])[0], SUCCESS);
    }
    // Indexes are not reused: index 0 again is refused, index 2 is next.
    prepare_rec(&sim, 0, REC);
    assert_eq!(rec_create(&sim, REC)[0], ERROR_INPUT);
    let p = rec_params(2, REC);
    put_params(&sim, REC_PARAMS, &p);
    assert_eq!(rec_create(&sim, REC)[0], SUCCESS);
    assert_eq!(sim.call(REC_DESTROY, &[REC])[0], SUCCESS);
    assert_eq!(sim.call(REC_DESTROY, &[0x8300_0000])[0], SUCCESS);
    assert_eq!(sim.call(REALM_DESTROY, &[RD])[0], SUCCESS, "no REC left");
}

#[test]
fn rec_destroy_fails_rec_align_bound_gran_state() {
    let sim = Sim::qemu();
    new_realm(&sim);
    create_rec(&sim, 0, REC);
    assert_eq!(
        sim.call(REC_DESTROY, &[REC + 8])[0],
        ERROR_INPUT,
        "rec_align"
    );
    assert_eq!(
        sim.call(REC_DESTROY, &[0x1_4000_0000])[0],
        ERROR_INPUT,
        "rec_bound"
    );
    assert_eq!(
        sim.call(REC_DESTROY, &[REC + 0x1000])[0],
        ERROR_INPUT,
        "an aux granule"
    );
    assert_eq!(sim.call(REC_DESTROY, &[RD])[0], ERROR_INPUT, "the RD");
    assert_eq!(sim.granules.peek(REC).map(|p| p.0), Ok(GranuleState::Rec));
}

#[test]
fn rec_destroy_fails_rec_state_running() {
    let sim = Sim::qemu();
    new_realm(&sim);
    create_rec(&sim, 0, REC);
    {
        // Stand in for a CPU that is running the REC (REC_ENTER arrives with realm execution).
        let mut g = sim.granules.lock(REC, GranuleState::Rec).expect("lock");
        crate::rec::idle(&sim.mem, &mut g).expect("idle").running = true;
    }
    assert_eq!(sim.call(REC_DESTROY, &[REC]), [ERROR_REC, 0, 0, 0, 0]);
    assert_eq!(sim.granules.peek(REC).map(|p| p.0), Ok(GranuleState::Rec));
}

#[test]
fn rec_destroy_drops_the_realms_reference_last() {
    // A REC whose aux list no longer names its aux granules (which a correct RMM never writes)
    // stands in for any failure while the aux granules are taken: the command fails, and
    // changes nothing, the RD's count of RECs included.
    let sim = Sim::qemu();
    new_realm(&sim);
    create_rec(&sim, 0, REC);
    {
        let mut g = sim.granules.lock(REC, GranuleState::Rec).expect("lock");
        crate::rec::idle(&sim.mem, &mut g).expect("idle").aux[1] = RTT_BASE; // an RTT
    }
    assert_eq!(sim.call(REC_DESTROY, &[REC])[0], ERROR_INPUT);
    assert_eq!(sim.granules.peek(RD), Ok((GranuleState::Rd, 1)), "one REC");
    assert_eq!(sim.granules.peek(REC).map(|p| p.0), Ok(GranuleState::Rec));
    assert_eq!(
        sim.granules.peek(REC + 0x1000).map(|p| p.0),
        Ok(GranuleState::RecAux)
    );
}
