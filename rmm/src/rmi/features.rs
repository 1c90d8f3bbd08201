//! RMI_FEATURES (B4.3.4): feature register 0 as fixed at boot; every other index reads as zero.

use super::{RmiContext, RmiResult};

/// Returns the feature register at `index` (x1).
pub fn rmi_features(ctx: &RmiContext, args: &[u64; 1]) -> RmiResult {
    let value = if args[0] == 0 { ctx.rmm.features.0 } else { 0 };
    Ok([value, 0, 0, 0])
}
