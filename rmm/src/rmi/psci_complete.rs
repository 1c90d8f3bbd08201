//! RMI_PSCI_COMPLETE (B4.3.7): the host names the REC behind the MPIDR a realm passed to
//! PSCI_CPU_ON or PSCI_AFFINITY_INFO, and says whether it agrees (CPU_ON only).
//!
//! Failure conditions, all RMI_ERROR_INPUT and unordered (B4.3.7.2.1), so the order below is the
//! one this RMM reports: `calling_align`, `calling_bound`, `target_align`, `target_bound`,
//! `alias` (addresses, checked before any lock is taken), `calling_state` and `target_state`
//! (both RECs locked together, in ascending address order, so the lower one's state is checked
//! first), `pending`, `owner`, `target`, `status`. On failure nothing changes.
//!
//! The host's word decides nothing it could lie about: the RMM computes the caller's result from
//! the target REC's state (B4.3.7.3). CPU_ON: a target that is on (runnable, or running) gives
//! ALREADY_ON; otherwise a host DENIED gives DENIED; otherwise the target is reset to start at the
//! entry point with the context ID in x0 and becomes runnable, and the caller gets SUCCESS.
//! AFFINITY_INFO: ON if the target is runnable, else OFF. The caller's x0 takes the result and
//! x1..x3 are zeroed (`args`); the realm sees them on its next entry, and its request is cleared.
//!
//! Only the two RECs are locked: nothing here reads the realm's RD (the call-time checks that
//! needed it were made while the realm's RD was locked, and the RECs name their owner).

use hostcall_abi::psci::{PsciReturn, AFFINITY_INFO_OFF, AFFINITY_INFO_ON};
use hostcall_abi::rmi::RmiStatus;

use super::{RmiContext, RmiError, RmiResult, NO_OUTPUTS};
use crate::granule::GranuleState;
use crate::rec::{self, PsciRequest, Rec, RipasRequest};

const INPUT: RmiError = RmiError::new(RmiStatus::ErrorInput);

/// SCTLR_EL1.EE: endianness of EL1 data accesses. PSCI (DEN0022, CPU_ON) starts the target with
/// the caller's endianness.
const SCTLR_EE: u64 = 1 << 25;

/// Completes the PSCI request of the REC `args[0]` with the REC `args[1]` as its target and the
/// host's `status` `args[2]`.
pub fn complete(ctx: &RmiContext, args: &[u64; 3]) -> RmiResult {
    let (calling_pa, target_pa, status) = (args[0], args[1], args[2]);
    // `lock_two` refuses unaligned or non-delegable addresses, then equal ones (`alias`), then a
    // granule that is not a REC: all of them RMI_ERROR_INPUT.
    let (mut calling_g, mut target_g) = ctx
        .granules
        .lock_two(
            (calling_pa, GranuleState::Rec),
            (target_pa, GranuleState::Rec),
        )
        .map_err(|_| INPUT)?;
    // `pending`. A REC with a request pending cannot be entered, so a running one has none.
    // The target may be running: only its status is read, unless it is off (`rec::status`).
    let calling: &mut Rec = rec::idle(ctx.mem, &mut calling_g).ok_or(INPUT)?;
    let target = rec::status(ctx.mem, &target_g);
    let request = calling.psci.ok_or(INPUT)?;
    if target.rd != calling.rd || target.index != request.target() {
        return Err(INPUT); // `owner`, `target`
    }
    let target_on = target.runnable || target.running;
    let denied = match PsciReturn::from_raw(status) {
        Some(PsciReturn::Success) => false,
        // `PsciReturnCodePermitted` (B3.27): the host may refuse to start a REC that is off.
        Some(PsciReturn::Denied) if matches!(request, PsciRequest::CpuOn { .. }) && !target_on => {
            true
        }
        _ => return Err(INPUT), // `status`
    };

    let result = match request {
        PsciRequest::CpuOn { .. } if target_on => PsciReturn::AlreadyOn,
        PsciRequest::CpuOn { .. } if denied => PsciReturn::Denied,
        PsciRequest::CpuOn {
            entry, context_id, ..
        } => {
            // Off, so not running: no CPU owns its registers.
            let target = rec::idle(ctx.mem, &mut target_g).ok_or(INPUT)?;
            power_on(target, entry, context_id, calling.regs.el1.sctlr & SCTLR_EE);
            PsciReturn::Success
        }
        PsciRequest::AffinityInfo { .. } if target.runnable => AFFINITY_INFO_ON,
        PsciRequest::AffinityInfo { .. } => AFFINITY_INFO_OFF,
    };
    calling.regs.gprs[..4].copy_from_slice(&[result.raw(), 0, 0, 0]);
    calling.psci = None;
    Ok(NO_OUTPUTS)
}

/// Starts the REC `rec`, which is off, as a CPU powered on by PSCI_CPU_ON: PC = `entry`,
/// x0 = `context_id`, x1..x30 zero (B4.3.7.3 `on_success`), EL1h with DAIF masked and the EL1
/// system registers and virtual GIC state at their reset values, as a newly created REC starts;
/// SCTLR_EL1.EE as the caller's (`ee`). It becomes runnable.
///
/// A REC that is off has nothing outstanding (it got there through CPU_OFF, whose exit leaves
/// no host call, RIPAS change or emulatable abort behind, or was created not runnable); they are
/// cleared all the same, since a CPU that is powered on starts afresh.
fn power_on(rec: &mut Rec, entry: u64, context_id: u64, ee: u64) {
    let mut gprs = [0u64; 8];
    gprs[0] = context_id;
    rec.regs = Rec::initial_regs(entry, gprs);
    rec.regs.el1.sctlr = (rec.regs.el1.sctlr & !SCTLR_EE) | ee;
    rec.host_call = None;
    rec.emulatable_abort = None;
    rec.unprotected_abort = None;
    rec.ripas = RipasRequest::default();
    rec.runnable = true;
}
