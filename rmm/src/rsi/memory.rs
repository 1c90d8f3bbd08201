//! The realm's view of its IPA space: RSI_IPA_STATE_GET (B5.3.5) and RSI_IPA_STATE_SET
//! (B5.3.6), the realm's half of a RIPAS change (A5.4).
//!
//! IPA_STATE_SET never changes an RTT itself: it records the request in the REC
//! ([`RipasRequest`]) and exits to the host with RIPAS_CHANGE. The host applies as much as it
//! wants with RMI_RTT_SET_RIPAS, which moves `rec.ripas.addr` on, and re-enters the REC; only then,
//! before the realm runs again, does [`complete`] answer the call with how far the change got
//! and whether the host rejected the rest. The PC moves past the SMC when the call is made, so the
//! answer is all that is left to deliver.
//!
//! Input checks beyond the spec's failure conditions: bits 63:8 of x3 and bits 63:1 of x4 are SBZ
//! (B5.3.6.1.1, B5.4.9); a realm that sets them gets RSI_ERROR_INPUT rather than having them
//! ignored, so a future flag is never silently dropped.

use hostcall_abi::rec_run::{RmiExitReason, RmiResponse};
use hostcall_abi::rsi::{RsiResponse, RsiRipasChangeFlags, RsiStatus};
use hostcall_abi::rtt::{Ripas, RTT_ENTRIES, RTT_PAGE_LEVEL};
use hostcall_abi::GRANULE_SIZE;

use super::Action;
use crate::context::RmiContext;
use crate::memory::RttView;
use crate::realm::Rd;
use crate::rec::{Rec, RipasRequest};
use crate::s2tt::{align_down, block_size, range_is_protected, walk, RttMemory, S2tte};
use hostcall_abi::rec_run::RmiRecExitFields;

const ERROR_INPUT: [u64; 4] = [RsiStatus::ErrorInput as u64, 0, 0, 0];

const fn granule_aligned(addr: u64) -> bool {
    addr.is_multiple_of(GRANULE_SIZE as u64)
}

/// The checks IPA_STATE_GET and IPA_STATE_SET share: `base_align`, `top_align` (`end_align`),
/// `size_valid` and `rgn_bound` (`AddrRangeIsProtected`, which also fails an empty range).
fn range_valid(rd: &Rd, base: u64, top: u64) -> bool {
    granule_aligned(base)
        && granule_aligned(top)
        && top > base
        && range_is_protected(base, top, rd.rtt.s2sz())
}

/// RSI_IPA_STATE_GET(x1 = base, x2 = top) -> x1 = out_top, x2 = ripas: the RIPAS at `base` and
/// how far it extends, within `[base, top)`. The range reported is the run of entries with that
/// RIPAS in the RTT the walk for `base` reached (one table; the spec only asks for
/// `base < out_top <= top`), so the realm loops to cover a larger range.
pub fn get(ctx: &RmiContext, rd: &Rd, rec: &mut Rec) -> Action {
    let (base, top) = (rec.regs.gprs[1], rec.regs.gprs[2]);
    if !range_valid(rd, base, top) {
        return Action::Answer(ERROR_INPUT);
    }
    match ripas_run(ctx, rd, base) {
        Some((ripas, end)) => {
            Action::Answer([RsiStatus::Success as u64, end.min(top), ripas as u64, 0])
        }
        // Only a corrupt RTT (never written by a correct RMM) gets here: a Protected IPA always
        // walks to an entry with a RIPAS.
        None => Action::Answer([RsiStatus::ErrorUnknown as u64, 0, 0, 0]),
    }
}

/// The RIPAS of the entry for `ipa` (a Protected IPA) and the end of the run of entries with the
/// same RIPAS that starts with it, in the RTT the walk reached. The caller holds the RD lock,
/// which keeps the realm's RTTs stable.
fn ripas_run(ctx: &RmiContext, rd: &Rd, ipa: u64) -> Option<(Ripas, u64)> {
    let view = RttView::new(ctx.mem);
    let w = walk(&view, rd.config.rtt_base, &rd.rtt, ipa, RTT_PAGE_LEVEL)?;
    let ripas = w.rtte()?.ripas()?;
    let same = (w.index..RTT_ENTRIES)
        .take_while(|&i| S2tte::from_bits(view.read(w.table_pa, i)).ripas(w.level) == Some(ripas))
        .count();
    let first = align_down(ipa, w.level)?;
    let end = first.checked_add(block_size(w.level)?.checked_mul(same as u64)?)?;
    Some((ripas, end))
}

/// RSI_IPA_STATE_SET(x1 = base, x2 = top, x3 = ripas, x4 = flags): checks the request
/// (`base_align`, `top_align`, `size_valid`, `rgn_bound`, `ripas_valid`; RSI_ERROR_INPUT without
/// an exit), records it in the REC and exits RIPAS_CHANGE with `ripas_base`, `ripas_top` and
/// `ripas_value` (A4.3.8). The answer waits for the next REC_ENTER ([`complete`]).
pub fn set(rd: &Rd, rec: &mut Rec, exit: &mut RmiRecExitFields) -> Action {
    let [base, top, ripas, flags] = [
        rec.regs.gprs[1],
        rec.regs.gprs[2],
        rec.regs.gprs[3],
        rec.regs.gprs[4],
    ];
    let flags = RsiRipasChangeFlags::from_bits(flags);
    // `Ripas::from_u64` refuses any bit above the 8-bit field; only EMPTY and RAM may be asked for.
    let ripas = match Ripas::from_u64(ripas) {
        Some(r @ (Ripas::Empty | Ripas::Ram)) => r,
        _ => return Action::Answer(ERROR_INPUT),
    };
    if !range_valid(rd, base, top) || flags.reserved_bits_set() {
        return Action::Answer(ERROR_INPUT);
    }
    rec.ripas = RipasRequest {
        addr: base,
        top,
        value: ripas as u8,
        change_destroyed: flags.contains(RsiRipasChangeFlags::CHANGE_DESTROYED),
    };
    exit.exit_reason = RmiExitReason::RipasChange as u8;
    exit.ripas_base = base;
    exit.ripas_top = top;
    exit.ripas_value = ripas as u8;
    Action::DoneAndExit
}

/// On the REC_ENTER after a RIPAS_CHANGE exit (the REC is about to run): answers the realm's
/// RSI_IPA_STATE_SET with x0 = RSI_SUCCESS, x1 = `new_base` (how far the host's
/// RMI_RTT_SET_RIPAS calls got, `rec.ripas_addr`), x2 = the response, and clears the request.
/// The response is REJECT only when the host set RIPAS_RESPONSE, the realm asked for RAM and the
/// range is not complete (`RecRipasChangeResponse`, B3.40); otherwise ACCEPT. Nothing to do when
/// no request is pending.
pub fn complete(rec: &mut Rec, host: RmiResponse) {
    let request = rec.ripas;
    if !request.is_pending() {
        return;
    }
    let rejected = request.value == Ripas::Ram as u8
        && request.addr != request.top
        && host == RmiResponse::Reject;
    let response = if rejected {
        RsiResponse::Reject
    } else {
        RsiResponse::Accept
    };
    rec.regs.gprs[..4].copy_from_slice(&[
        RsiStatus::Success as u64,
        request.addr,
        response.raw(),
        0,
    ]);
    rec.ripas = RipasRequest::default();
}
