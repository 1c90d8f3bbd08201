//! RSI: the realm's calls to the RMM (conduit SMC), and the PSCI and SMCCC calls the RMM answers
//! for realms. One file per command group; [`handle_smc`] is the single dispatcher.
//!
//! Handlers decide what happens next and say so as an [`Action`]; the exit handling applies it
//! ([`Action::apply`], the one epilogue), and the REC_ENTER loop acts on the [`Outcome`].
//! Every register a realm passes is untrusted: bad values get an RSI or PSCI error code.

mod attestation;
mod config;
mod host_call;
mod measurement;
mod memory;
mod psci;
mod version;

pub use host_call::complete as complete_host_call;
pub use memory::complete as complete_ripas_change;

use hostcall_abi::rec_run::RmiRecExitFields;
use hostcall_abi::rsi::RsiCommand;
use hostcall_abi::smccc::{canonical_fid, SMCCC_VERSION, SMCCC_VERSION_1_2, SMC_UNKNOWN};

use crate::context::RmiContext;
use crate::realm::Rd;
use crate::rec::Rec;

pub use crate::rec::{Action, Outcome};

/// Handles an SMC the realm executed (x0 = FID). `rd` is the realm's descriptor, held locked by
/// the caller for the duration; `exit` is the (zeroed) record to fill for an exit to the host.
pub fn handle_smc(
    ctx: &RmiContext,
    rd: &mut Rd,
    rec: &mut Rec,
    exit: &mut RmiRecExitFields,
) -> Action {
    let fid = canonical_fid(rec.regs.gprs[0]);
    match RsiCommand::from_fid(fid as u64) {
        Some(RsiCommand::VERSION) => version::version(rec),
        Some(RsiCommand::FEATURES) => Action::Answer([0, 0, 0, 0]),
        Some(RsiCommand::HOST_CALL) => host_call::call(ctx, rd, rec, exit),
        Some(RsiCommand::REALM_CONFIG) => config::realm_config(ctx, rd, rec, exit),
        Some(RsiCommand::IPA_STATE_SET) => memory::set(rd, rec, exit),
        Some(RsiCommand::IPA_STATE_GET) => memory::get(ctx, rd, rec),
        Some(RsiCommand::MEASUREMENT_READ) => measurement::read(rd, rec),
        Some(RsiCommand::MEASUREMENT_EXTEND) => measurement::extend(rd, rec),
        Some(RsiCommand::ATTESTATION_TOKEN_INIT) => attestation::init(ctx, rec),
        Some(RsiCommand::ATTESTATION_TOKEN_CONTINUE) => {
            attestation::continue_token(ctx, rd, rec, exit)
        }
        None if fid == SMCCC_VERSION => Action::Answer([SMCCC_VERSION_1_2, 0, 0, 0]),
        None if hostcall_abi::psci::is_psci_fid(fid as u64) => psci::call(rd, rec, fid, exit),
        None => Action::Answer([SMC_UNKNOWN, 0, 0, 0]),
    }
}
