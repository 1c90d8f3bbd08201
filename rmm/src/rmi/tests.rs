//! The dispatcher: table coverage, version negotiation, features, unknown FIDs.

use super::*;
use hostcall_abi::smccc::SVE_HINT;

use crate::sim::Sim;

fn call(fid: u64, args: &[u64]) -> ResultRegs {
    Sim::qemu().call(fid, args)
}

const V1_0: u64 = 0x1_0000;

#[test]
fn version_1_0_succeeds() {
    assert_eq!(call(0xC400_0150, &[V1_0]), [0, V1_0, V1_0, 0, 0]);
}

#[test]
fn version_higher_major_is_refused_with_our_revision() {
    assert_eq!(call(0xC400_0150, &[0x2_0000]), [1, V1_0, V1_0, 0, 0]);
}

#[test]
fn version_higher_minor_is_refused() {
    assert_eq!(call(0xC400_0150, &[0x1_0001]), [1, V1_0, V1_0, 0, 0]);
}

#[test]
fn version_lower_is_refused_with_lower_equal_higher() {
    assert_eq!(call(0xC400_0150, &[0x0_0005]), [1, V1_0, V1_0, 0, 0]);
}

#[test]
fn version_with_reserved_bits_is_refused() {
    assert_eq!(call(0xC400_0150, &[1 << 40 | V1_0]), [1, V1_0, V1_0, 0, 0]);
}

#[test]
fn features_index_0_is_the_boot_register() {
    let sim = Sim::qemu();
    assert_eq!(
        sim.call(0xC400_0165, &[0]),
        [0, sim.rmm.features.0, 0, 0, 0]
    );
    assert_ne!(sim.rmm.features.0, 0);
}

#[test]
fn features_other_indexes_read_zero() {
    for idx in [1, 2, u64::MAX] {
        assert_eq!(call(0xC400_0165, &[idx]), [0; 5], "index {idx}");
    }
}

#[test]
fn sve_hint_is_stripped() {
    assert_eq!(call(0xC400_0150 | SVE_HINT, &[V1_0]), [0, V1_0, V1_0, 0, 0]);
}

#[test]
fn unknown_fids_get_smc_unknown() {
    for fid in [
        0xC400_0156u64,
        0xC400_0160,
        0xC400_0163,
        0xC400_0170,
        0x8400_0150,
        0,
        u64::MAX,
    ] {
        assert_eq!(call(fid, &[1, 2, 3]), [SMC_UNKNOWN, 0, 0, 0, 0], "{fid:#x}");
    }
}

#[test]
fn every_rmi_1_0_command_is_served() {
    let unserved: Vec<&str> = TABLE
        .iter()
        .filter(|r| r.handler.is_none())
        .map(|r| r.cmd.name())
        .collect();
    assert!(unserved.is_empty(), "not served: {unserved:?}");
    // And none of them answers like an unknown function, even to garbage arguments.
    for row in TABLE.iter() {
        let out = call(row.cmd.fid() as u64, &[0x8000_0008, 1, 2, 3, 4, 5, 6]);
        assert_ne!(out[0], SMC_UNKNOWN, "{}", row.cmd.name());
    }
}

#[test]
fn results_beyond_a_commands_outputs_are_zero() {
    // RMI_FEATURES has one result: x2..x4 are zero even though the caller passed junk in them.
    let mut regs = [0xFFFF_FFFF_FFFF_FFFFu64; 8];
    regs[0] = 0xC400_0165;
    regs[1] = 0;
    let out = handle(&Sim::qemu().ctx(), &regs);
    assert_eq!(&out[2..], &[0, 0, 0]);
}

#[test]
fn table_lookup_covers_every_command() {
    for cmd in RmiCommand::ALL {
        assert_eq!(lookup(cmd.fid() as u64).map(|r| r.cmd), Some(cmd));
    }
}

mod attestation;
mod data_commands;
mod granule_commands;
mod measurements;
mod psci;
mod realm_aborts;
mod realm_commands;
mod realm_fixture;
mod rec_commands;
mod rec_enter;
mod rsi_memory;
mod rtt_commands;
mod stage2_tlb;
mod sysreg_trap;
mod timers;
