//! RSI_VERSION (B5.3.10): this RMM implements RSI 1.0 only.

use hostcall_abi::rsi::{RsiStatus, RSI_VERSION_1_0};

use super::Action;
use crate::rec::Rec;

/// x1 = requested revision -> x0 status, x1 lower, x2 higher (both 1.0).
pub fn version(rec: &mut Rec) -> Action {
    let ours = RSI_VERSION_1_0.raw();
    let status = if rec.regs.gprs[1] == ours {
        RsiStatus::Success
    } else {
        RsiStatus::ErrorInput
    };
    Action::Answer([status as u64, ours, ours, 0])
}
