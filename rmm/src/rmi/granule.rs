//! RMI_GRANULE_DELEGATE (B4.3.5) and RMI_GRANULE_UNDELEGATE (B4.3.6).
//!
//! Every failure condition of both commands (gran_align, gran_bound, gran_state, gran_gpt) is
//! RMI_ERROR_INPUT, and neither command orders them, so one check per lookup suffices.

use hostcall_abi::rmi::RmiStatus;

use super::{RmiContext, RmiError, RmiResult, NO_OUTPUTS};
use crate::granule::GranuleState;

const INPUT: RmiError = RmiError::new(RmiStatus::ErrorInput);

/// Delegates the granule at `args[0]`: UNDELEGATED -> DELEGATED, NS PAS -> Realm PAS.
pub fn delegate(ctx: &RmiContext, args: &[u64; 1]) -> RmiResult {
    let mut g = ctx
        .granules
        .lock(args[0], GranuleState::Undelegated)
        .map_err(|_| INPUT)?;
    // gran_gpt: EL3 refuses granules that are not NS (already Realm, secure, root, or not
    // memory at all), so its answer is the GPT check.
    ctx.el3.gtsi_delegate(g.pa()).map_err(|_| INPUT)?;
    g.set_state(GranuleState::Delegated);
    Ok(NO_OUTPUTS)
}

/// Undelegates the granule at `args[0]`: wiped, then DELEGATED -> UNDELEGATED, back to NS.
pub fn undelegate(ctx: &RmiContext, args: &[u64; 1]) -> RmiResult {
    let mut g = ctx
        .granules
        .lock(args[0], GranuleState::Delegated)
        .map_err(|_| INPUT)?;
    ctx.mem.wipe(g.pa());
    // EL3 delegated this granule for us, so it cannot refuse to take it back; if it does, the
    // granule stays DELEGATED (wiped) rather than being reported as NS.
    ctx.el3.gtsi_undelegate(g.pa()).map_err(|_| INPUT)?;
    g.set_state(GranuleState::Undelegated);
    Ok(NO_OUTPUTS)
}
