//! The NS door against the simulated platform: a GPT that says Realm, or an address outside DRAM,
//! is an input error, never a crash.

use super::*;
use crate::sim::{Sim, QEMU_RMM_REGION};
use hostcall_abi::realm_params::RmiRealmParams;

#[test]
fn reads_what_the_host_wrote() {
    let sim = Sim::qemu();
    let mut page = [0u8; GRANULE_SIZE];
    page[8] = 40; // s2sz
    page[0x800] = 7; // vmid
    sim.mem.write(0x8000_0000, &page);
    let p: RmiRealmParams = read(&sim, &sim.granules, 0x8000_0000).expect("read");
    assert_eq!((p.s2sz, p.vmid), (40, 7));
}

#[test]
fn unaligned_address_is_input_error() {
    let sim = Sim::qemu();
    let r: Result<RmiRealmParams, _> = read(&sim, &sim.granules, 0x8000_0008);
    assert_eq!(r.err(), Some(INPUT));
}

#[test]
fn address_outside_dram_is_input_error() {
    let sim = Sim::qemu();
    for pa in [0x0900_0000, 0x1_0000_0000, 0] {
        let r: Result<RmiRealmParams, _> = read(&sim, &sim.granules, pa);
        assert_eq!(r.err(), Some(INPUT), "{pa:#x}");
    }
}

#[test]
fn delegated_granule_is_input_error() {
    let sim = Sim::qemu();
    assert_eq!(sim.call(0xC400_0151, &[0x8000_0000])[0], 0);
    let r: Result<RmiRealmParams, _> = read(&sim, &sim.granules, 0x8000_0000);
    assert_eq!(r.err(), Some(INPUT));
}

#[test]
fn realm_pas_memory_the_table_calls_ns_faults_to_input_error() {
    // The RMM's own region is in a DRAM bank and UNDELEGATED in the table, but Realm in the GPT:
    // the simulated copy faults like a granule protection fault, and the error is ERROR_INPUT.
    let sim = Sim::qemu();
    let r: Result<RmiRealmParams, _> = read(&sim, &sim.granules, QEMU_RMM_REGION.0);
    assert_eq!(r.err(), Some(INPUT));
    let w = write(
        &sim,
        &sim.granules,
        QEMU_RMM_REGION.0,
        &RmiRealmParams::ZERO,
    );
    assert_eq!(w.err(), Some(INPUT));
}

#[test]
fn write_then_read_round_trip() {
    let sim = Sim::qemu();
    let mut p = RmiRealmParams::ZERO;
    p.s2sz = 33;
    write(&sim, &sim.granules, 0x8000_1000, &p).expect("write");
    let q: RmiRealmParams = read(&sim, &sim.granules, 0x8000_1000).expect("read");
    assert_eq!(q, p);
}
