//! PSCI for realms (B6.3), serviced by the RMM. VERSION and FEATURES are answered at once;
//! CPU_SUSPEND, CPU_OFF, SYSTEM_OFF and SYSTEM_RESET take effect and tell the host with a PSCI
//! exit. CPU_ON and AFFINITY_INFO name another REC by MPIDR, which only the host can map to a REC
//! granule: after the checks that need no REC (answered without an exit) they leave a
//! [`PsciRequest`] pending and exit PSCI; RMI_PSCI_COMPLETE (`rmi/psci_complete.rs`) supplies the
//! REC and computes the realm's result. The SMC32 forms of CPU_SUSPEND, CPU_ON and
//! AFFINITY_INFO are served too (B6.3 lists the SMC64 ones); their arguments are the low 32 bits
//! of the registers, as SMCCC defines for SMC32 calls.
//!
//! What the host sees of CPU_ON: A4.3.3 says `exit.gprs[1..3]` hold the call's arguments, so
//! gprs\[1\] = target MPIDR, gprs\[2\] = entry point, gprs\[3\] = context ID (TF-RMM zeroes the last two
//! instead). They are passed as the spec says: the host needs nothing else from the realm's
//! registers, and it cannot use the entry point or context ID to do anything the RMM does not
//! check (the RMM, not the host, starts the target at them).

use hostcall_abi::psci::{PsciFunction, PsciReturn, AFFINITY_INFO_ON, PSCI_VERSION_1_1};
use hostcall_abi::rec_params::mpidr_el1_to_rec_index;
use hostcall_abi::rec_run::RmiExitReason;

use hostcall_abi::rec_run::RmiRecExitFields;
use hostcall_abi::smccc::{is_smc64, SMCCC_VERSION};

use super::Action;
use crate::realm::{Rd, RealmState};
use crate::rec::{PsciRequest, Rec};

/// Fills the PSCI exit that tells the host of call `fid` with its first `args` arguments.
fn notify(rec: &Rec, fid: u32, args: usize, exit: &mut RmiRecExitFields) {
    exit.exit_reason = RmiExitReason::Psci as u8;
    exit.gprs[0] = fid as u64;
    exit.gprs[1..=args].copy_from_slice(&rec.regs.gprs[1..=args]);
}

/// Handles PSCI function `fid` (SVE hint stripped) from the realm.
pub fn call(rd: &mut Rd, rec: &mut Rec, fid: u32, exit: &mut RmiRecExitFields) -> Action {
    let not_supported = PsciReturn::NotSupported.raw();
    let Some(f) = PsciFunction::from_fid(fid as u64) else {
        return Action::Answer([not_supported, 0, 0, 0]);
    };
    match f {
        PsciFunction::VERSION => Action::Answer([PSCI_VERSION_1_1.raw(), 0, 0, 0]),
        PsciFunction::FEATURES => {
            // Every function B6.3 lists is served, in each form `from_fid` recognises; and
            // SMCCC_VERSION, which the RMM answers: PSCI_FEATURES(SMCCC_VERSION) is how SMCCC
            // says a caller finds out that it may ask (the first step of B1.1's discovery flow;
            // Linux takes the SMCCC version as 1.0, and a realm for no realm, without it).
            let queried = rec.regs.gprs[1];
            let r = if PsciFunction::from_fid(queried).is_some()
                || queried == u64::from(SMCCC_VERSION)
            {
                PsciReturn::Success.raw()
            } else {
                not_supported
            };
            Action::Answer([r, 0, 0, 0])
        }
        PsciFunction::CPU_SUSPEND => {
            // Treated as a suspend that wakes at once; the host is told.
            notify(rec, fid, 3, exit);
            Action::AnswerAndExit([PsciReturn::Success.raw(), 0, 0, 0])
        }
        PsciFunction::CPU_OFF => {
            rec.runnable = false;
            notify(rec, fid, 0, exit);
            Action::Exit
        }
        PsciFunction::SYSTEM_OFF | PsciFunction::SYSTEM_RESET => {
            rd.state = RealmState::SystemOff;
            notify(rec, fid, 0, exit);
            Action::Exit
        }
        PsciFunction::CPU_ON => cpu_on(rd, rec, fid, exit),
        PsciFunction::AFFINITY_INFO => affinity_info(rd, rec, fid, exit),
    }
}

/// The realm's argument registers x1..x3 as the call defines them: whole for an SMC64 call, the
/// low 32 bits for an SMC32 one.
fn args(rec: &Rec, fid: u32) -> [u64; 3] {
    let mask = if is_smc64(fid) { u64::MAX } else { 0xFFFF_FFFF };
    [
        rec.regs.gprs[1] & mask,
        rec.regs.gprs[2] & mask,
        rec.regs.gprs[3] & mask,
    ]
}

/// The index of the REC that the MPIDR-format affinity `mpidr` names in the realm `rd`
/// (`MpidrIsUsed`): only RECs the realm was created with exist.
fn rec_of(rd: &Rd, mpidr: u64) -> Option<u64> {
    mpidr_el1_to_rec_index(mpidr).filter(|&index| index < rd.recs_created)
}

/// Leaves `request` pending and exits PSCI with the FID and `shown` as gprs[1..3]. The PC moves
/// past the SMC now; RMI_PSCI_COMPLETE writes the result into x0..x3.
fn ask_host(
    rec: &mut Rec,
    fid: u32,
    shown: [u64; 3],
    request: PsciRequest,
    exit: &mut RmiRecExitFields,
) -> Action {
    rec.psci = Some(request);
    exit.exit_reason = RmiExitReason::Psci as u8;
    exit.gprs[0] = fid as u64;
    exit.gprs[1..4].copy_from_slice(&shown);
    Action::DoneAndExit
}

/// PSCI_CPU_ON(target_cpu, entry_point_address, context_id) (B6.3.3): `entry` (the entry point
/// is not a Protected IPA: INVALID_ADDRESS), `mpidr` (no such REC: INVALID_PARAMETERS) and the
/// caller naming itself (ALREADY_ON, since it is running) are answered without an exit.
fn cpu_on(rd: &Rd, rec: &mut Rec, fid: u32, exit: &mut RmiRecExitFields) -> Action {
    let [mpidr, entry, context_id] = args(rec, fid);
    if !rd.rtt.ipa_is_protected(entry) {
        return Action::Answer([PsciReturn::InvalidAddress.raw(), 0, 0, 0]);
    }
    let Some(target) = rec_of(rd, mpidr) else {
        return Action::Answer([PsciReturn::InvalidParameters.raw(), 0, 0, 0]);
    };
    if target == rec.index {
        return Action::Answer([PsciReturn::AlreadyOn.raw(), 0, 0, 0]);
    }
    let request = PsciRequest::CpuOn {
        target,
        entry,
        context_id,
    };
    ask_host(rec, fid, [mpidr, entry, context_id], request, exit)
}

/// PSCI_AFFINITY_INFO(target_affinity, lowest_affinity_level) (B6.3.1): `target_bound` (a level
/// other than 0) and `target_match` (no such REC) are INVALID_PARAMETERS, and the caller asking
/// about itself is ON, all without an exit. The level is `X2[31:0]`; bits 63:32 are SBZ and not
/// looked at.
fn affinity_info(rd: &Rd, rec: &mut Rec, fid: u32, exit: &mut RmiRecExitFields) -> Action {
    let [mpidr, level, _] = args(rec, fid);
    let invalid = [PsciReturn::InvalidParameters.raw(), 0, 0, 0];
    if level & 0xFFFF_FFFF != 0 {
        return Action::Answer(invalid);
    }
    let Some(target) = rec_of(rd, mpidr) else {
        return Action::Answer(invalid);
    };
    if target == rec.index {
        return Action::Answer([AFFINITY_INFO_ON.raw(), 0, 0, 0]);
    }
    ask_host(
        rec,
        fid,
        [mpidr, 0, 0],
        PsciRequest::AffinityInfo { target },
        exit,
    )
}
