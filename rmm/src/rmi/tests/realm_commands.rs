//! RMI_REALM_CREATE / ACTIVATE / DESTROY and RMI_REC_AUX_COUNT on the simulated platform: the
//! success paths and one test per failure condition (B4.3.8-B4.3.11), named after it.

use hostcall_abi::realm_params::{RmiRealmFlags, RmiRealmParams};
use hostcall_abi::wire::Wire;

use crate::granule::GranuleState;
use crate::memory::RttView;
use crate::s2tt::{walk, RttConfig, S2tte};
use crate::sim::{Sim, QEMU_RMM_REGION};

pub const DELEGATE: u64 = 0xC400_0151;
pub const UNDELEGATE: u64 = 0xC400_0152;
pub const REALM_ACTIVATE: u64 = 0xC400_0157;
pub const REALM_CREATE: u64 = 0xC400_0158;
pub const REALM_DESTROY: u64 = 0xC400_0159;
pub const REC_CREATE: u64 = 0xC400_015A;
pub const REC_DESTROY: u64 = 0xC400_015B;
pub const REC_AUX_COUNT: u64 = 0xC400_0167;

pub const SUCCESS: u64 = 0;
pub const ERROR_INPUT: u64 = 1;
pub const ERROR_REALM: u64 = 2;
pub const ERROR_REC: u64 = 3;

/// Where the fixture puts things: RD, two starting-level RTTs, the params page (NS).
pub const RD: u64 = 0x8000_0000;
pub const RTT_BASE: u64 = 0x8001_0000;
pub const PARAMS: u64 = 0x9000_0000;

/// Valid parameters: 40-bit IPA from level 1 (two concatenated tables), SHA-256.
pub fn params(vmid: u16) -> RmiRealmParams {
    let mut p = RmiRealmParams::ZERO;
    p.s2sz = 40;
    p.num_bps = 1;
    p.num_wps = 1;
    p.hash_algo = 0;
    p.vmid = vmid;
    p.rtt_base = RTT_BASE;
    p.rtt_level_start = 1;
    p.rtt_num_start = 2;
    p
}

/// Writes `p` into the NS granule at `pa`.
pub fn put_params<T: Wire>(sim: &Sim, pa: u64, p: &T) {
    let mut page = [0u8; 4096];
    p.encode(&mut page).expect("fits a granule");
    sim.mem.write(pa, &page);
}

pub fn delegate(sim: &Sim, pa: u64) {
    assert_eq!(sim.call(DELEGATE, &[pa])[0], SUCCESS, "delegate {pa:#x}");
}

/// Delegates the RD and start tables and writes valid parameters; returns them.
pub fn prepare(sim: &Sim, vmid: u16) -> RmiRealmParams {
    delegate(sim, RD);
    delegate(sim, RTT_BASE);
    delegate(sim, RTT_BASE + 0x1000);
    let p = params(vmid);
    put_params(sim, PARAMS, &p);
    p
}

/// A NEW realm at [`RD`].
pub fn new_realm(sim: &Sim) {
    prepare(sim, 1);
    assert_eq!(sim.call(REALM_CREATE, &[RD, PARAMS])[0], SUCCESS);
}

fn create(sim: &Sim) -> u64 {
    sim.call(REALM_CREATE, &[RD, PARAMS])[0]
}

/// Nothing was created: the RD and tables are still DELEGATED.
fn untouched(sim: &Sim) {
    for pa in [RD, RTT_BASE, RTT_BASE + 0x1000] {
        assert_eq!(
            sim.granules.peek(pa).map(|p| p.0),
            Ok(GranuleState::Delegated),
            "{pa:#x}"
        );
    }
}

#[test]
fn realm_create_builds_rd_and_start_tables() {
    let sim = Sim::qemu();
    new_realm(&sim);
    assert_eq!(sim.granules.peek(RD), Ok((GranuleState::Rd, 0)));
    assert_eq!(
        sim.granules.peek(RTT_BASE).map(|p| p.0),
        Ok(GranuleState::Rtt)
    );
    assert_eq!(
        sim.granules.peek(RTT_BASE + 0x1000).map(|p| p.0),
        Ok(GranuleState::Rtt)
    );
    // Protected IPAs start UNASSIGNED/EMPTY, the unprotected half UNASSIGNED_NS.
    let cfg = RttConfig::new(40, 1, 2).expect("config");
    let view = RttView::new(&sim.mem);
    let low = walk(&view, RTT_BASE, &cfg, 0, 1).expect("walk");
    assert_eq!(
        low.entry,
        S2tte::unassigned(hostcall_abi::rtt::Ripas::Empty)
    );
    let high = walk(&view, RTT_BASE, &cfg, 1 << 39, 1).expect("walk");
    assert_eq!(high.entry, S2tte::unassigned_ns());
    assert_eq!(
        high.table_pa,
        RTT_BASE + 0x1000,
        "upper half lives in the second start table"
    );
    // The stage-2 registers every REC_ENTER loads were made here, from this RD and the CPU.
    let mut g = sim.granules.lock(RD, GranuleState::Rd).expect("the RD");
    let rd: &mut crate::realm::Rd = crate::memory::get(&sim.mem, &mut g);
    let made = rd.stage2(sim.rmm.features.s2sz(), sim.rmm.vmid16);
    assert_eq!(rd.s2, made);
    assert_eq!(made.vttbr, RTT_BASE | u64::from(rd.config.vmid) << 48);
}

#[test]
fn realm_create_fails_params_align() {
    let sim = Sim::qemu();
    prepare(&sim, 1);
    assert_eq!(sim.call(REALM_CREATE, &[RD, PARAMS + 8])[0], ERROR_INPUT);
    untouched(&sim);
}

#[test]
fn realm_create_fails_params_bound() {
    let sim = Sim::qemu();
    prepare(&sim, 1);
    for bad in [0x0900_0000u64, 0x1_0000_0000] {
        assert_eq!(
            sim.call(REALM_CREATE, &[RD, bad])[0],
            ERROR_INPUT,
            "{bad:#x}"
        );
    }
    untouched(&sim);
}

#[test]
fn realm_create_fails_params_pas() {
    let sim = Sim::qemu();
    prepare(&sim, 1);
    // A delegated granule, and the RMM's own memory: neither is NS.
    delegate(&sim, 0x8100_0000);
    assert_eq!(sim.call(REALM_CREATE, &[RD, 0x8100_0000])[0], ERROR_INPUT);
    assert_eq!(
        sim.call(REALM_CREATE, &[RD, QEMU_RMM_REGION.0])[0],
        ERROR_INPUT
    );
    untouched(&sim);
}

#[test]
fn realm_create_fails_params_valid() {
    let sim = Sim::qemu();
    prepare(&sim, 1);
    let mut p = params(1);
    p.flags = RmiRealmFlags::from_bits(1 << 5);
    put_params(&sim, PARAMS, &p);
    assert_eq!(create(&sim), ERROR_INPUT);
    untouched(&sim);
}

#[test]
fn realm_create_fails_params_supp() {
    let sim = Sim::qemu();
    prepare(&sim, 1);
    let mut p = params(1);
    p.s2sz = 50; // beyond what RMI_FEATURES advertises
    put_params(&sim, PARAMS, &p);
    assert_eq!(create(&sim), ERROR_INPUT);
    untouched(&sim);
}

#[test]
fn realm_create_fails_alias() {
    let sim = Sim::qemu();
    prepare(&sim, 1);
    // The RD is also the second starting-level table.
    assert_eq!(
        sim.call(REALM_CREATE, &[RTT_BASE + 0x1000, PARAMS])[0],
        ERROR_INPUT
    );
    untouched(&sim);
}

#[test]
fn realm_create_fails_rd_align() {
    let sim = Sim::qemu();
    prepare(&sim, 1);
    assert_eq!(sim.call(REALM_CREATE, &[RD + 0x10, PARAMS])[0], ERROR_INPUT);
    untouched(&sim);
}

#[test]
fn realm_create_fails_rd_bound() {
    let sim = Sim::qemu();
    prepare(&sim, 1);
    assert_eq!(
        sim.call(REALM_CREATE, &[0x1_4000_0000, PARAMS])[0],
        ERROR_INPUT
    );
    untouched(&sim);
}

#[test]
fn realm_create_fails_rd_state() {
    let sim = Sim::qemu();
    prepare(&sim, 1);
    assert_eq!(
        sim.call(REALM_CREATE, &[0x8800_0000, PARAMS])[0],
        ERROR_INPUT,
        "undelegated RD"
    );
    untouched(&sim);
}

#[test]
fn realm_create_fails_rtt_align() {
    let sim = Sim::qemu();
    prepare(&sim, 1);
    let mut p = params(1);
    p.rtt_base = RTT_BASE + 0x1000; // two tables need 8 KiB alignment
    delegate(&sim, RTT_BASE + 0x2000);
    put_params(&sim, PARAMS, &p);
    assert_eq!(create(&sim), ERROR_INPUT);
    untouched(&sim);
}

#[test]
fn realm_create_fails_rtt_num_level() {
    let sim = Sim::qemu();
    prepare(&sim, 1);
    let mut p = params(1);
    p.rtt_num_start = 1; // 40 bits from level 1 need two tables
    put_params(&sim, PARAMS, &p);
    assert_eq!(create(&sim), ERROR_INPUT);
    untouched(&sim);
}

#[test]
fn realm_create_fails_rtt_state() {
    let sim = Sim::qemu();
    prepare(&sim, 1);
    assert_eq!(sim.call(UNDELEGATE, &[RTT_BASE + 0x1000])[0], SUCCESS);
    assert_eq!(create(&sim), ERROR_INPUT);
    assert_eq!(
        sim.granules.peek(RD).map(|p| p.0),
        Ok(GranuleState::Delegated)
    );
    assert_eq!(
        sim.granules.peek(RTT_BASE).map(|p| p.0),
        Ok(GranuleState::Delegated)
    );
}

#[test]
fn realm_create_fails_vmid_valid_in_use() {
    let sim = Sim::qemu();
    new_realm(&sim); // VMID 1
                     // A second realm with its own granules but the same VMID.
    let (rd2, rtt2) = (0x8400_0000, 0x8402_0000);
    for pa in [rd2, rtt2, rtt2 + 0x1000] {
        delegate(&sim, pa);
    }
    let mut p = params(1);
    p.rtt_base = rtt2;
    put_params(&sim, PARAMS, &p);
    assert_eq!(sim.call(REALM_CREATE, &[rd2, PARAMS])[0], ERROR_INPUT);
    assert_eq!(
        sim.granules.peek(rd2).map(|p| p.0),
        Ok(GranuleState::Delegated)
    );
    p.vmid = 2;
    put_params(&sim, PARAMS, &p);
    assert_eq!(
        sim.call(REALM_CREATE, &[rd2, PARAMS])[0],
        SUCCESS,
        "a free VMID works"
    );
}

#[test]
fn realm_activate_then_not_twice() {
    let sim = Sim::qemu();
    new_realm(&sim);
    assert_eq!(sim.call(REALM_ACTIVATE, &[RD])[0], SUCCESS);
    assert_eq!(
        sim.call(REALM_ACTIVATE, &[RD]),
        [ERROR_REALM, 0, 0, 0, 0],
        "realm_state"
    );
}

#[test]
fn realm_activate_fails_rd_align_bound_state() {
    let sim = Sim::qemu();
    new_realm(&sim);
    assert_eq!(sim.call(REALM_ACTIVATE, &[RD + 1])[0], ERROR_INPUT);
    assert_eq!(sim.call(REALM_ACTIVATE, &[0x1_4000_0000])[0], ERROR_INPUT);
    assert_eq!(
        sim.call(REALM_ACTIVATE, &[RTT_BASE])[0],
        ERROR_INPUT,
        "an RTT is not an RD"
    );
}

#[test]
fn realm_destroy_returns_everything_and_frees_the_vmid() {
    let sim = Sim::qemu();
    new_realm(&sim);
    assert_eq!(sim.call(REALM_DESTROY, &[RD])[0], SUCCESS);
    assert_eq!(
        sim.cpu.realms_destroyed(),
        1,
        "the CPU is told (the image's stack report)"
    );
    untouched(&sim);
    for pa in [RD, RTT_BASE, RTT_BASE + 0x1000] {
        assert_eq!(sim.call(UNDELEGATE, &[pa])[0], SUCCESS);
        assert_eq!(sim.mem.read(pa), [0; 4096], "wiped {pa:#x}");
    }
    // The VMID is free again.
    prepare(&sim, 1);
    assert_eq!(create(&sim), SUCCESS);
}

#[test]
fn realm_destroy_fails_rd_state() {
    let sim = Sim::qemu();
    new_realm(&sim);
    assert_eq!(sim.call(REALM_DESTROY, &[RTT_BASE])[0], ERROR_INPUT);
    assert_eq!(sim.call(REALM_DESTROY, &[RD + 0x800])[0], ERROR_INPUT);
    assert_eq!(sim.granules.peek(RD).map(|p| p.0), Ok(GranuleState::Rd));
    assert_eq!(sim.cpu.realms_destroyed(), 0);
}

#[test]
fn realm_destroy_fails_realm_live_with_a_rec() {
    let sim = Sim::qemu();
    new_realm(&sim);
    super::rec_commands::create_rec(&sim, 0, 0x8200_0000);
    assert_eq!(sim.call(REALM_DESTROY, &[RD]), [ERROR_REALM, 0, 0, 0, 0]);
    assert_eq!(sim.granules.peek(RD), Ok((GranuleState::Rd, 1)));
    assert_eq!(sim.cpu.realms_destroyed(), 0);
}

#[test]
fn rec_aux_count_reports_the_aux_granules() {
    let sim = Sim::qemu();
    new_realm(&sim);
    assert_eq!(
        sim.call(REC_AUX_COUNT, &[RD]),
        [SUCCESS, crate::rec::AUX_GRANULES, 0, 0, 0]
    );
    assert_eq!(
        sim.call(REC_AUX_COUNT, &[RTT_BASE])[0],
        ERROR_INPUT,
        "rd_state"
    );
    assert_eq!(
        sim.call(REC_AUX_COUNT, &[RD + 4])[0],
        ERROR_INPUT,
        "rd_align"
    );
    assert_eq!(
        sim.call(REC_AUX_COUNT, &[0x20_0000_0000])[0],
        ERROR_INPUT,
        "rd_bound"
    );
}
