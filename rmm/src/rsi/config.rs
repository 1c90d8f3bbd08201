//! RSI_REALM_CONFIG (B5.3.9): the RMM writes an `RsiRealmConfig` (B5.4.5) into a granule of
//! the realm's own memory: the IPA width, the hash algorithm and the Realm Personalization Value,
//! every other byte zero.
//!
//! The spec's failure conditions are `addr_align` and `addr_bound` (RSI_ERROR_INPUT). It does not
//! say what happens when the granule is not usable realm memory; like RSI_HOST_CALL (see
//! `host_call.rs`): RIPAS EMPTY is RSI_ERROR_INPUT, and an unassigned or DESTROYED page is an
//! emulated stage-2 data abort to the host with the PC left on the SMC, so the realm repeats the
//! call once the host has mapped the page.

use hostcall_abi::realm_config::RsiRealmConfig;
use hostcall_abi::rec_run::RmiRecExitFields;
use hostcall_abi::rmi::RmiHashAlgorithm;
use hostcall_abi::rsi::{RsiHashAlgorithm, RsiStatus};
use hostcall_abi::wire::Wire;
use hostcall_abi::GRANULE_SIZE;

use super::host_call::emulated_abort;
use super::Action;
use crate::context::RmiContext;
use crate::realm::Rd;
use crate::realm_memory::{Lookup, RealmPage};
use crate::rec::Rec;

/// The configuration the realm `rd` is told about.
fn config_of(rd: &Rd) -> RsiRealmConfig {
    let hash = match rd.config.hash_algo {
        RmiHashAlgorithm::Sha256 => RsiHashAlgorithm::Sha256,
        RmiHashAlgorithm::Sha512 => RsiHashAlgorithm::Sha512,
    };
    RsiRealmConfig::new(u64::from(rd.config.s2sz), hash, rd.config.rpv)
}

/// The realm's RSI_REALM_CONFIG(x1 = IPA of a granule).
pub fn realm_config(
    ctx: &RmiContext,
    rd: &Rd,
    rec: &mut Rec,
    exit: &mut RmiRecExitFields,
) -> Action {
    let ipa = rec.regs.gprs[1];
    let error_input = [RsiStatus::ErrorInput as u64, 0, 0, 0];
    if !ipa.is_multiple_of(GRANULE_SIZE as u64) || !rd.rtt.ipa_is_protected(ipa) {
        return Action::Answer(error_input);
    }
    match RealmPage::lookup(ctx.mem, rd, ipa) {
        Lookup::Mapped(page) => {
            let mut image = [0u8; GRANULE_SIZE];
            if config_of(rd).encode(&mut image).is_err() || page.write_bytes(0, &image).is_none() {
                // The structure is one granule by construction; refuse rather than write part.
                return Action::Answer([RsiStatus::ErrorUnknown as u64, 0, 0, 0]);
            }
            Action::Answer([RsiStatus::Success as u64, 0, 0, 0])
        }
        Lookup::Empty => Action::Answer(error_input),
        Lookup::Unmapped(level) => {
            emulated_abort(ipa, level, exit);
            Action::Exit
        }
    }
}
