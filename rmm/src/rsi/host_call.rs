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
use hostcall_abi::rec_run::RmiExitReason;

use hostcall_abi::rec_run::RmiRecExitFields;
use hostcall_abi::rsi::RsiStatus;
use hostcall_abi::rtt::Ripas;

use super::{answer, Outcome};
use core::sync::atomic::Ordering;

use crate::memory::{RttView, RTT_WRITES};
use crate::realm::Rd;
use crate::rec::{PendingHostCall, Rec};
use crate::rmi::RmiContext;
use crate::s2tt::{block_size, walk, Rtte};

/// Where a realm structure at an IPA lives, as the realm's RTT says (also used by
/// RSI_REALM_CONFIG, which writes one).
pub(super) enum Page {
    /// Readable at this PA (Realm PAS).
    Mapped(u64),
    /// RIPAS EMPTY: not the realm's memory.
    Empty,
    /// Not mapped yet (or DESTROYED): the walk stopped at this level.
    Unmapped(i64),
}

/// Walks the realm's RTTs (the caller holds the RD lock) for `ipa`, a Protected IPA.
pub(super) fn lookup(ctx: &RmiContext, rd: &Rd, ipa: u64) -> Page {
    let view = RttView::new(ctx.mem);
    let Some(w) = walk(&view, rd.config.rtt_base, &rd.rtt, ipa, 3) else {
        return Page::Unmapped(rd.rtt.level_start());
    };
    match w.rtte() {
        Some(Rtte::Assigned {
            pa,
            ripas: Ripas::Ram,
        }) => {
            let mask = block_size(w.level).map_or(0xFFF, |s| s - 1);
            Page::Mapped(pa + (ipa & mask))
        }
        Some(Rtte::Unassigned {
            ripas: Ripas::Empty,
        })
        | Some(Rtte::Assigned {
            ripas: Ripas::Empty,
            ..
        }) => Page::Empty,
        _ => Page::Unmapped(w.level),
    }
}

/// Fills the exit that reports an emulated stage-2 translation fault at `ipa` (walk stopped at
/// `level`): EC 0x24, FSC "translation fault" at that level, no syndrome; HPFAR.FIPA = IPA\[47:12\].
pub fn emulated_abort(ipa: u64, level: i64, exit: &mut RmiRecExitFields) -> Outcome {
    exit.exit_reason = RmiExitReason::Sync as u8;
    exit.esr = (0x24 << 26) | (0x04 + level.clamp(0, 3) as u64);
    exit.hpfar = (ipa >> 12) << 4;
    Outcome::Exit
}

/// Doublewords `pa..pa + 8 * N` of realm memory: an 8-aligned range inside one DATA granule of
/// the realm whose RD lock the caller holds (a [`Page::Mapped`] address and what follows it in
/// the same granule).
fn words<const N: usize>(ctx: &RmiContext, pa: u64) -> *mut u64 {
    debug_assert!(pa.is_multiple_of(8) && (pa & 0xFFF) as usize + 8 * N <= 0x1000);
    ctx.mem.ptr(pa & !0xFFF).wrapping_add((pa & 0xFFF) as usize) as *mut u64
}

/// Copies the RsiHostCall at `pa` into the exit record: `imm` and the 31 GPRs.
fn read_host_call(ctx: &RmiContext, pa: u64, exit: &mut RmiRecExitFields) {
    let p = words::<32>(ctx, pa);
    // SAFETY: the 256-byte RsiHostCall at `pa` (256-aligned, so within one granule) lies in a
    // DATA granule of the realm whose RD lock the caller holds: it cannot be destroyed meanwhile,
    // and it is in the RMM's Realm-PAS view.
    unsafe {
        exit.imm = core::ptr::read_volatile(p) as u16;
        for (i, g) in exit.gprs.iter_mut().enumerate() {
            *g = core::ptr::read_volatile(p.add(1 + i));
        }
    }
}

/// Writes `v` at `pa`, an 8-aligned address in a DATA granule of the realm whose RD lock the
/// caller holds (a [`Page::Mapped`] address).
pub(super) fn write_u64(ctx: &RmiContext, pa: u64, v: u64) {
    // SAFETY: as for `read_host_call`: one doubleword of a DATA granule of the locked realm.
    unsafe { core::ptr::write_volatile(words::<1>(ctx, pa), v) }
}

/// The realm's RSI_HOST_CALL(x1 = IPA of its RsiHostCall).
pub fn call(ctx: &RmiContext, rd: &Rd, rec: &mut Rec, exit: &mut RmiRecExitFields) -> Outcome {
    let ipa = rec.regs.gprs[1];
    if !ipa.is_multiple_of(RSI_HOST_CALL_ALIGN as u64) || !rd.rtt.ipa_is_protected(ipa) {
        return answer(rec, [RsiStatus::ErrorInput as u64, 0, 0, 0]);
    }
    match lookup(ctx, rd, ipa) {
        Page::Mapped(pa) => {
            exit.exit_reason = RmiExitReason::HostCall as u8;
            read_host_call(ctx, pa, exit);
            rec.host_call = Some(PendingHostCall {
                ipa,
                pa,
                rtt_writes: RTT_WRITES.load(Ordering::Relaxed),
            });
            rec.regs.pc = rec.regs.pc.wrapping_add(4);
            Outcome::Exit
        }
        Page::Empty => answer(rec, [RsiStatus::ErrorInput as u64, 0, 0, 0]),
        Page::Unmapped(level) => emulated_abort(ipa, level, exit),
    }
}

/// Delivers the host's answer (`gprs` from rec_enter) into the realm's RsiHostCall and completes
/// the call with RSI_SUCCESS (`imm` is not written back). Returns [`Outcome::Resume`] when the
/// realm may run (nothing pending, or delivered), or [`Outcome::Exit`] with `exit` filled when the
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
    // Both reads of the counter happen under the realm's RD lock, which every RTT write holds:
    // unchanged, no entry changed, and the translation made at the call still holds.
    let page = if RTT_WRITES.load(Ordering::Relaxed) == pending.rtt_writes {
        Page::Mapped(pending.pa)
    } else {
        lookup(ctx, rd, ipa)
    };
    match page {
        Page::Mapped(pa) => {
            let p = words::<32>(ctx, pa);
            for (i, g) in gprs.iter().enumerate() {
                // SAFETY: as for `read_host_call`: gprs[i] of the RsiHostCall at `pa`.
                unsafe { core::ptr::write_volatile(p.add(1 + i), *g) };
            }
            rec.regs.gprs[..4].copy_from_slice(&[RsiStatus::Success as u64, 0, 0, 0]);
        }
        // The host made the page EMPTY: the call fails (defined here; the spec is silent).
        Page::Empty => rec.regs.gprs[..4].copy_from_slice(&[RsiStatus::ErrorInput as u64, 0, 0, 0]),
        Page::Unmapped(level) => return emulated_abort(ipa, level, exit),
    }
    rec.host_call = None;
    Outcome::Resume
}
