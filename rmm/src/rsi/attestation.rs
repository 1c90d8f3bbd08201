//! RSI_ATTESTATION_TOKEN_INIT (B5.3.2) and RSI_ATTESTATION_TOKEN_CONTINUE (B5.3.1): the realm
//! asks for a CCA attestation token and collects it, a granule at most per call, into its own
//! memory.
//!
//! INIT records the challenge and starts the operation (ending any earlier one on this REC). The
//! first CONTINUE writes the realm token (the RIM and REMs as they are then) into the REC's first
//! auxiliary granule and signs it; each CONTINUE then copies the next bytes of the token
//! collection, answering RSI_INCOMPLETE until the last byte is delivered.
//!
//! The signature is made in steps (see [`crate::attestation::Signing`]), with a check for a
//! pending interrupt before it starts, between steps, and after it: a pending interrupt ends the
//! call with an IRQ exit, the realm sees RSI_INCOMPLETE with nothing written and calls again, and
//! signing carries on where it stopped. An interrupt waits for one step at most (a window of
//! the nonce: four doublings and an addition on P-384; or one field or scalar inversion at the
//! end), not for a whole signature.

use hostcall_abi::rec_run::RmiExitReason;

use hostcall_abi::rec_run::RmiRecExitFields;
use hostcall_abi::rsi::{RsiStatus, CHALLENGE_SIZE};
use hostcall_abi::GRANULE_SIZE;
use zeroize::Zeroize;

use super::host_call::emulated_abort;
use super::Action;
use crate::attestation::{prepare_realm_token, Attestation, Collection, RealmClaims, Signing};
use crate::context::RmiContext;
use crate::realm::Rd;
use crate::realm_memory::{Lookup, RealmPage};
use crate::rec::{AttestProgress, Rec};

/// RSI_ATTESTATION_TOKEN_INIT(x1..x8 = challenge) -> x0 SUCCESS, x1 upper bound of the token
/// size. It has no failure conditions.
pub fn init(ctx: &RmiContext, rec: &mut Rec) -> Action {
    let mut challenge = [0u8; CHALLENGE_SIZE];
    for (bytes, reg) in challenge.chunks_exact_mut(8).zip(&rec.regs.gprs[1..=8]) {
        bytes.copy_from_slice(&reg.to_le_bytes());
    }
    end_operation(rec);
    rec.attest.in_progress = true;
    rec.attest.challenge = challenge;
    let bound = ctx
        .attest
        .map_or(0, |a| Collection::max_len(a.platform_token().len()));
    Action::Answer([RsiStatus::Success as u64, bound as u64, 0, 0])
}

/// RSI_ATTESTATION_TOKEN_CONTINUE(x1 = granule IPA, x2 = offset, x3 = size) -> x0 status,
/// x1 bytes written at IPA + offset.
pub fn continue_token(
    ctx: &RmiContext,
    rd: &Rd,
    rec: &mut Rec,
    exit: &mut RmiRecExitFields,
) -> Action {
    let [_, addr, offset, size, ..] = rec.regs.gprs;
    let granule = GRANULE_SIZE as u64;
    let end = offset.checked_add(size);
    // addr_align, addr_bound, offset_bound, size_overflow, size_bound.
    if !addr.is_multiple_of(granule)
        || !rd.rtt.ipa_is_protected(addr)
        || offset >= granule
        || end.is_none_or(|e| e > granule)
    {
        return Action::Answer([RsiStatus::ErrorInput as u64, 0, 0, 0]);
    }
    if !rec.attest.in_progress {
        return Action::Answer([RsiStatus::ErrorState as u64, 0, 0, 0]);
    }
    let Some(attest) = ctx.attest else {
        return fail(rec);
    };
    if rec.attest.realm_token_len == 0 {
        match sign(ctx, rd, rec, attest) {
            Signed::Done => {}
            Signed::Interrupted => return interrupted(exit),
            Signed::Failed => return fail(rec),
        }
        if ctx.cpu.interrupt_pending() {
            return interrupted(exit);
        }
    }
    let page = match RealmPage::lookup(ctx.mem, rd, addr) {
        Lookup::Mapped(page) => page,
        Lookup::Empty => return Action::Answer([RsiStatus::ErrorInput as u64, 0, 0, 0]),
        Lookup::Unmapped(level) => {
            emulated_abort(addr, level, exit);
            return Action::Exit;
        }
    };
    // `offset` and `size` are within the granule (checked above).
    let Some(written) = deliver(ctx, rec, attest, &page, offset as usize, size as usize) else {
        return fail(rec);
    };
    if written.done {
        end_operation(rec);
        Action::Answer([RsiStatus::Success as u64, written.len as u64, 0, 0])
    } else {
        Action::Answer([RsiStatus::Incomplete as u64, written.len as u64, 0, 0])
    }
}

/// RSI_ERROR_UNKNOWN: the token cannot be made (no key from EL3, or signing failed); the
/// operation ends. Kept out of line: inlined into the exit handler's RSI dispatch (once the
/// signer's steps were small enough), it made the measured host-call round trip 5 instructions
/// longer.
#[inline(never)]
fn fail(rec: &mut Rec) -> Action {
    end_operation(rec);
    Action::Answer([RsiStatus::ErrorUnknown as u64, 0, 0, 0])
}

/// Ends the REC's token operation, whatever its outcome (delivered, failed, or abandoned for a
/// new INIT): a signer still kept in the REC is zeroized in place first, since resetting the
/// record need not overwrite the bytes of a `None` (REC_DESTROY wipes the whole REC granule).
fn end_operation(rec: &mut Rec) {
    if let Some((_, signer)) = rec.attest.signing.as_mut() {
        signer.zeroize();
    }
    rec.attest = AttestProgress::IDLE;
}

/// Ends the call with an IRQ exit; the realm resumes after it with RSI_INCOMPLETE and nothing
/// written (A7.2.2).
fn interrupted(exit: &mut RmiRecExitFields) -> Action {
    exit.exit_reason = RmiExitReason::Irq as u8;
    Action::AnswerAndExit([RsiStatus::Incomplete as u64, 0, 0, 0])
}

/// The REC's first auxiliary granule, where its realm token is kept.
const TOKEN_STORE: usize = 0;

/// How far [`sign`] got.
enum Signed {
    /// The realm token is signed (`realm_token_len` is set).
    Done,
    /// An interrupt is pending; signing carries on at the next CONTINUE.
    Interrupted,
    /// The token cannot be made.
    Failed,
}

/// Writes the realm token for the current measurements into the REC's token store (unless an
/// earlier, interrupted CONTINUE did) and signs it, a step at a time.
fn sign(ctx: &RmiContext, rd: &Rd, rec: &mut Rec, attest: &Attestation) -> Signed {
    if rec.attest.signing.is_none() {
        if ctx.cpu.interrupt_pending() {
            return Signed::Interrupted;
        }
        let challenge = rec.attest.challenge;
        let claims = RealmClaims {
            challenge: &challenge,
            personalization: &rd.config.rpv,
            algo: rd.hash_algo(),
            rim: &rd.rim,
            rems: &rd.rems,
        };
        let prepared = crate::rec::aux_granule(ctx.mem, rec, TOKEN_STORE)
            .map(|store| prepare_realm_token(attest.key(), &claims, store));
        let Some(Ok(unsigned)) = prepared else {
            return Signed::Failed;
        };
        // The nonce is made in the REC, where it is kept, not moved there from the stack.
        let (_, signer) = rec.attest.signing.insert((unsigned, Signing::IDLE));
        signer.restart(attest.key(), &unsigned.digest);
    }
    let Some((unsigned, signer)) = rec.attest.signing.as_mut() else {
        return Signed::Failed;
    };
    // A check before every step and after the last: the state is kept in the REC throughout.
    loop {
        if ctx.cpu.interrupt_pending() {
            return Signed::Interrupted;
        }
        if signer.is_done() {
            break;
        }
        signer.step(1);
    }
    let unsigned = *unsigned;
    let signature = signer.finish(attest.key());
    // The nonce goes with the signer, whatever the outcome: wiped, not just let go.
    signer.zeroize();
    rec.attest.signing = None;
    let store = crate::rec::aux_granule(ctx.mem, rec, TOKEN_STORE);
    let signed = signature
        .zip(store)
        .and_then(|(sig, store)| unsigned.sign(store, &sig).ok());
    match (signed, u16::try_from(unsigned.len)) {
        (Some(()), Ok(len)) if len != 0 => {
            rec.attest.realm_token_len = len;
            Signed::Done
        }
        _ => Signed::Failed,
    }
}

struct Delivered {
    len: usize,
    done: bool,
}

/// Copies the next (at most `size`) bytes of the token collection to `page` at `at` (`at` +
/// `size` stays in the granule; `None` if not, or if the REC has no token store).
fn deliver(
    ctx: &RmiContext,
    rec: &mut Rec,
    attest: &Attestation,
    page: &RealmPage<'_>,
    at: usize,
    size: usize,
) -> Option<Delivered> {
    let platform = attest.platform_token();
    let realm_len = usize::from(rec.attest.realm_token_len);
    let collection = Collection::new(platform.len(), realm_len);
    let from = rec.attest.delivered as usize;
    let mut chunk = [0u8; GRANULE_SIZE];
    let out = chunk.get_mut(..size)?;
    let store = crate::rec::aux_granule(ctx.mem, rec, TOKEN_STORE)?;
    let len = collection.copy(from, out, platform, store.get(..realm_len)?);
    page.write_bytes(at, out.get(..len)?)?;
    rec.attest.delivered += len as u32;
    Some(Delivered {
        len,
        done: rec.attest.delivered as usize >= collection.len(),
    })
}
