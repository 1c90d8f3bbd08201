//! The invalidation rules, against a double that records what it was asked to do.

use std::sync::Mutex;

use super::*;

#[derive(Debug, PartialEq, Eq)]
enum Op {
    Ipas {
        vmid: u16,
        first: u64,
        stride: u64,
        count: u64,
    },
    Vmid(u16),
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Op>>);

impl Stage2Tlb for Recorder {
    fn invalidate_ipas(&self, vmid: u16, first: u64, stride: u64, count: u64) {
        self.0.lock().unwrap().push(Op::Ipas {
            vmid,
            first,
            stride,
            count,
        });
    }

    fn invalidate_vmid(&self, vmid: u16) {
        self.0.lock().unwrap().push(Op::Vmid(vmid));
    }
}

impl Recorder {
    fn take(&self) -> Vec<Op> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

#[test]
fn one_entry_is_invalidated_at_its_level_aligned_ipa() {
    let r = Recorder::default();
    let tlb = RealmTlb::new(&r, 7);
    tlb.entry(0x1234_5000, 3);
    tlb.entry(0x1234_5000, 2);
    assert_eq!(
        r.take(),
        [
            Op::Ipas {
                vmid: 7,
                first: 0x1234_5000,
                stride: 0,
                count: 1
            },
            Op::Ipas {
                vmid: 7,
                first: 0x1220_0000,
                stride: 0,
                count: 1
            }
        ]
    );
}

#[test]
fn a_short_range_is_invalidated_entry_by_entry() {
    let r = Recorder::default();
    RealmTlb::new(&r, 3).entries(0x20_3000, 3, 4);
    RealmTlb::new(&r, 3).entries(0x40_0000, 2, MAX_IPA_INVALIDATIONS);
    assert_eq!(
        r.take(),
        [
            Op::Ipas {
                vmid: 3,
                first: 0x20_3000,
                stride: 0x1000,
                count: 4
            },
            Op::Ipas {
                vmid: 3,
                first: 0x40_0000,
                stride: 0x20_0000,
                count: MAX_IPA_INVALIDATIONS
            }
        ]
    );
}

#[test]
fn a_wide_range_or_a_destroyed_realm_invalidates_the_whole_vmid() {
    let r = Recorder::default();
    RealmTlb::new(&r, 9).entries(0, 3, MAX_IPA_INVALIDATIONS + 1);
    RealmTlb::new(&r, 9).entries(0, 3, 512);
    RealmTlb::new(&r, 0xFFFF).all();
    assert_eq!(r.take(), [Op::Vmid(9), Op::Vmid(9), Op::Vmid(0xFFFF)]);
}

#[test]
fn an_invalid_level_falls_back_to_the_whole_vmid() {
    let r = Recorder::default();
    RealmTlb::new(&r, 1).entries(0x1000, 7, 1);
    assert_eq!(r.take(), [Op::Vmid(1)]);
}
