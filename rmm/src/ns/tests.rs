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

/// The image's NS door as far as alignment goes: its copy routine moves doublewords, so it
/// refuses (as a fault would) any copy whose RMM-side buffer, NS address or length is not a
/// multiple of 8. The simulated door copies bytes and never notices.
struct DoublewordDoor<'a>(&'a Sim);

fn doubleword_copy(pa: u64, buf: *const u8, len: usize) -> bool {
    pa.is_multiple_of(8) && (buf as usize).is_multiple_of(8) && len.is_multiple_of(8)
}

impl NsMemory for DoublewordDoor<'_> {
    fn copy_in(&self, pa: u64, dst: &mut [u8]) -> bool {
        doubleword_copy(pa, dst.as_ptr(), dst.len()) && self.0.copy_in(pa, dst)
    }

    fn copy_out(&self, pa: u64, src: &[u8]) -> bool {
        doubleword_copy(pa, src.as_ptr(), src.len()) && self.0.copy_out(pa, src)
    }
}

#[test]
fn structures_cross_the_doubleword_door() {
    let sim = Sim::qemu();
    let door = DoublewordDoor(&sim);
    let mut p = RmiRealmParams::ZERO;
    p.s2sz = 35;
    write(&door, &sim.granules, 0x8000_1000, &p).expect("write");
    let q: RmiRealmParams = read(&door, &sim.granules, 0x8000_1000).expect("read");
    assert_eq!(q, p);
    let hc = hostcall_abi::host_call::RsiHostCall {
        imm: 0x77,
        gprs: [5; 31],
        ..Default::default()
    };
    write_at(&door, &sim.granules, 0x8000_2000, 0x100, &hc).expect("write_at");
    let back: hostcall_abi::host_call::RsiHostCall =
        read_at(&door, &sim.granules, 0x8000_2000, 0x100).expect("read_at");
    assert_eq!(back, hc);
}

#[test]
fn field_maps_cross_the_doubleword_door() {
    use hostcall_abi::rec_run::{RmiRecExitFields, REC_EXIT_FIELD_RUNS};
    const RUNS: NsRuns<'static> = NsRuns::new(&NsRun::from_map(REC_EXIT_FIELD_RUNS));
    let sim = Sim::qemu();
    let door = DoublewordDoor(&sim);
    let exit = RmiRecExitFields {
        exit_reason: 3,
        imm: 7,
        ..Default::default()
    };
    write_map(&door, &sim.granules, 0x8000_3000, &exit, RUNS).expect("write");
    let mut back = RmiRecExitFields::default();
    read_map(&door, &sim.granules, 0x8000_3000, &mut back, RUNS).expect("read");
    assert_eq!(back, exit);
}

#[test]
fn a_granule_read_into_a_buffer_at_any_address_crosses_the_doubleword_door() {
    let sim = Sim::qemu();
    let door = DoublewordDoor(&sim);
    let page: [u8; GRANULE_SIZE] = core::array::from_fn(|i| i as u8);
    sim.mem.write(0x8000_4000, &page);
    let mut raw = [0u8; GRANULE_SIZE + 16];
    // A destination one byte past a doubleword boundary, wherever the array landed.
    let skew = 1 + (8 - raw.as_ptr() as usize % 8) % 8;
    let dst: &mut [u8; GRANULE_SIZE] = (&mut raw[skew..skew + GRANULE_SIZE]).try_into().unwrap();
    read_granule(&door, &sim.granules, 0x8000_4000, dst).expect("read_granule");
    assert_eq!(*dst, page);
}

#[test]
fn runs_that_do_not_fit_the_record_are_refused() {
    let sim = Sim::qemu();
    // Two doublewords of runs, read into a record of one.
    const LONG: NsRuns<'static> = NsRuns::new(&NsRun::from_map([(0, 0, 8), (8, 0x100, 8)]));
    assert_eq!(LONG.end(), 16);
    let mut one = Word::default();
    assert!(read_map(&sim, &sim.granules, 0x8000_3000, &mut one, LONG).is_err());
    assert!(write_map(&sim, &sim.granules, 0x8000_3000, &one, LONG).is_err());
}

#[test]
#[should_panic(expected = "whole doublewords")]
fn a_run_of_part_of_a_doubleword_is_refused_when_made() {
    let _ = NsRuns::new(&NsRun::from_map([(0, 4, 8)]));
}

#[test]
#[should_panic(expected = "inside one granule")]
fn a_run_past_the_granule_is_refused_when_made() {
    let _ = NsRuns::new(&NsRun::from_map([(0, 4088, 16)]));
}

/// A one-doubleword record.
#[derive(Default)]
#[repr(C, align(8))]
struct Word(u64);

// SAFETY: one u64: every byte initialised, any bytes a valid value.
unsafe impl Plain for Word {}

#[test]
#[should_panic(expected = "inside one granule and its record")]
fn a_run_whose_end_wraps_is_refused_when_made() {
    let _ = NsRuns::new(&NsRun::from_map([(usize::MAX - 7, 0, 16)]));
}
