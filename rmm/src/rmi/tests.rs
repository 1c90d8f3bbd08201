//! The dispatcher: table coverage, version negotiation, features, unknown FIDs.

use super::*;
use hostcall_abi::smccc::{smc64_std, SMC64, SVE_HINT};

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
    // Every row has a handler (the table's type has no unserved rows); none of them answers
    // like an unknown function, even to garbage arguments.
    for row in TABLE.iter() {
        let out = call(row.cmd.fid() as u64, &[0x8000_0008, 1, 2, 3, 4, 5, 6]);
        assert_ne!(out[0], SMC_UNKNOWN, "{}", row.cmd.name());
    }
}

#[test]
fn exactly_the_commands_are_served() {
    // Every function ID of the RMI range and around it, with and without the SVE hint and
    // junk in bits 63:32: the answer is SMC_UNKNOWN exactly when `from_fid` names no command.
    let sim = Sim::qemu();
    for fnum in 0x100..0x1a0u32 {
        for high in [0u64, 0xdead_beef << 32] {
            for hint in [0, SVE_HINT] {
                for fid in [smc64_std(fnum), smc64_std(fnum) & !SMC64, fnum] {
                    let x0 = high | hint | fid as u64;
                    let unknown = sim.call(x0, &[0x8000_0008, 1, 2, 3, 4, 5, 6])[0] == SMC_UNKNOWN;
                    assert_eq!(unknown, RmiCommand::from_fid(x0).is_none(), "{x0:#x}");
                }
            }
        }
    }
}

#[test]
fn answers_keep_only_the_commands_results() {
    assert_eq!(answer::<0>(Ok([1, 2, 3, 4])), [0, 0, 0, 0, 0]);
    assert_eq!(answer::<1>(Ok([1, 2, 3, 4])), [0, 1, 0, 0, 0]);
    assert_eq!(answer::<4>(Ok([1, 2, 3, 4])), [0, 1, 2, 3, 4]);
    let e = RmiError {
        status: hostcall_abi::rmi::RmiStatus::ErrorRtt,
        index: 2,
        outputs: [7, 8, 9, 10],
    };
    let ret = RmiReturn::new(e.status, e.index).raw();
    assert_eq!(answer::<2>(Err(e)), [ret, 7, 8, 0, 0]);
}

#[test]
fn handlers_see_only_their_own_arguments() {
    // RMI_VERSION takes one argument: junk in x2..x7 changes nothing.
    assert_eq!(
        call(0xC400_0150, &[V1_0, 1, 2, 3, 4, 5, 6]),
        [0, V1_0, V1_0, 0, 0]
    );
    let call = [0, 1, 2, 3, 4, 5, 6, 7];
    assert_eq!(arguments::<2>(&call), &[1, 2]);
    assert_eq!(arguments::<7>(&call), &[1, 2, 3, 4, 5, 6, 7]);
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
