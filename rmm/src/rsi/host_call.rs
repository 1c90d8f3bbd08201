//! RSI_HOST_CALL (B5.3.4): the realm hands the host the 31 GPRs and the `imm` of an RsiHostCall
//! structure in its own memory; the host answers through rec_enter.gprs on the next REC_ENTER.
//!
//! Only the structure's contents cross to the host, never the realm's live registers. The call
//! walks the realm's RTT for the structure's IPA:
//! - ASSIGNED with RIPAS RAM: copy out, exit HOST_CALL, PC advanced, call pending;
//! - RIPAS EMPTY: RSI_ERROR_INPUT, no exit;
//! - otherwise (unassigned, or RIPAS DESTROYED): an emulated stage-2 data abort exit, PC not
//!   advanced, so the realm repeats the call once the host has mapped the page.

use hostcall_abi::host_call::RSI_HOST_CALL_ALIGN;
use hostcall_abi::rec_run::{RmiExitReason, RmiRecExitFields};
use hostcall_abi::rsi::RsiStatus;

use super::{Action, Outcome};
use crate::context::RmiContext;
use crate::realm::Rd;
use crate::realm_memory::{rtt_writes, Lookup, RealmPage};
use crate::rec::{PendingHostCall, Rec};

/// Fills the exit that reports an emulated stage-2 translation fault at `ipa` (walk stopped at
/// `level`): EC 0x24, FSC "translation fault" at that level, no syndrome; HPFAR.FIPA = IPA\[47:12\].
pub fn emulated_abort(ipa: u64, level: i64, exit: &mut RmiRecExitFields) {
    exit.exit_reason = RmiExitReason::Sync as u8;
    exit.esr = (0x24 << 26) | (0x04 + level.clamp(0, 3) as u64);
    exit.hpfar = (ipa >> 12) << 4;
}

/// Offset of `imm` in an RsiHostCall; the 31 GPRs follow it (B5.4.2).
const IMM: usize = 0;
const GPRS: usize = 8;

/// Offset of the RsiHostCall at `ipa` in its granule. The IPA is RSI_HOST_CALL_ALIGN-aligned
/// (checked at the call), so the mask changes nothing, but tells the compiler the structure lies
/// in the granule: the accesses' bounds checks fold away.
const fn structure_offset(ipa: u64) -> usize {
    RealmPage::offset_of(ipa) & !(RSI_HOST_CALL_ALIGN - 1)
}

/// The realm's RSI_HOST_CALL(x1 = IPA of its RsiHostCall).
pub fn call(ctx: &RmiContext, rd: &Rd, rec: &mut Rec, exit: &mut RmiRecExitFields) -> Action {
    let ipa = rec.regs.gprs[1];
    if !ipa.is_multiple_of(RSI_HOST_CALL_ALIGN as u64) || !rd.rtt.ipa_is_protected(ipa) {
        return Action::Answer([RsiStatus::ErrorInput as u64, 0, 0, 0]);
    }
    // A realm makes its calls through one structure, as a rule: the translation of the last
    // completed call at this IPA holds while no RTT entry has been written since.
    let lookup = match rec.host_call_memo {
        Some(m) if m.ipa == ipa => RealmPage::lookup_again(ctx.mem, rd, ipa, m.pa, m.rtt_writes),
        _ => RealmPage::lookup(ctx.mem, rd, ipa),
    };
    match lookup {
        Lookup::Mapped(page) => {
            // The 256-byte structure is 256-aligned, so within the granule: the reads cannot
            // fail (and a failed read leaves `exit` untouched).
            let at = structure_offset(ipa);
            let Some(imm) = page.read_u64(at + IMM) else {
                return Action::Answer([RsiStatus::ErrorInput as u64, 0, 0, 0]);
            };
            if page.read_u64s(at + GPRS, &mut exit.gprs).is_none() {
                return Action::Answer([RsiStatus::ErrorInput as u64, 0, 0, 0]);
            }
            exit.exit_reason = RmiExitReason::HostCall as u8;
            exit.imm = imm as u16;
            rec.host_call = Some(PendingHostCall {
                ipa,
                pa: page.granule_pa() + at as u64,
                rtt_writes: rtt_writes(),
            });
            Action::DoneAndExit
        }
        Lookup::Empty => Action::Answer([RsiStatus::ErrorInput as u64, 0, 0, 0]),
        Lookup::Unmapped(level) => {
            emulated_abort(ipa, level, exit);
            Action::Exit
        }
    }
}

/// Delivers the host's answer (`gprs` from rec_enter) into the realm's RsiHostCall and completes
/// the call with RSI_SUCCESS (`imm` is not written back). Returns [`Action::Resume`] when the
/// realm may run (nothing pending, or delivered), or [`Action::Exit`] with `exit` filled when the
/// structure's page is not mapped any more: the abort is reported again and the realm not run.
pub fn complete(
    ctx: &RmiContext,
    rd: &Rd,
    rec: &mut Rec,
    gprs: &[u64; 31],
    exit: &mut RmiRecExitFields,
) -> Outcome {
    let Some(pending) = rec.host_call else {
        return Outcome::Resume;
    };
    let ipa = pending.ipa;
    rec.host_call_memo = None;
    let status = match RealmPage::lookup_again(ctx.mem, rd, ipa, pending.pa, pending.rtt_writes) {
        Lookup::Mapped(page) => {
            rec.host_call_memo = Some(PendingHostCall {
                ipa,
                pa: page.granule_pa(),
                rtt_writes: rtt_writes(),
            });
            // In the granule (as at the call), so the write cannot fail.
            match page.write_u64s(structure_offset(ipa) + GPRS, gprs) {
                Some(()) => RsiStatus::Success,
                None => RsiStatus::ErrorInput,
            }
        }
        // The host made the page EMPTY: the call fails (defined here; the spec is silent).
        Lookup::Empty => RsiStatus::ErrorInput,
        Lookup::Unmapped(level) => {
            emulated_abort(ipa, level, exit);
            return Outcome::Exit;
        }
    };
    rec.regs.gprs[..4].copy_from_slice(&[status as u64, 0, 0, 0]);
    rec.host_call = None;
    Outcome::Resume
}
