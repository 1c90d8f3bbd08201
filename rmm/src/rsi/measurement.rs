//! RSI_MEASUREMENT_READ (B5.3.8) and RSI_MEASUREMENT_EXTEND (B5.3.7): the realm reads its RIM
//! (index 0) or a REM (1..=4), and extends a REM.
//!
//! A measurement travels in eight registers, doubleword `i` holding bytes `8i..8i+8`
//! little-endian. The caller holds the RD lock, so an extension cannot race another REC's.

use hostcall_abi::rsi::RsiStatus;

use super::Action;
use crate::measurement::{self, Measurement, MEASUREMENT_SIZE};
use crate::realm::Rd;
use crate::rec::Rec;

/// Doublewords in a measurement.
const WORDS: usize = MEASUREMENT_SIZE / 8;

/// The REM slot a measurement index names (1..=4), if any.
fn rem_slot(index: u64) -> Option<usize> {
    usize::try_from(index).ok()?.checked_sub(1)
}

/// RSI_MEASUREMENT_READ(x1 = index) -> x0 status, x1..x8 the measurement.
///
/// `index_bound`: an index above 4 is RSI_ERROR_INPUT, and x1..x8 then read as zero.
pub fn read(rd: &Rd, rec: &mut Rec) -> Action {
    let index = rec.regs.gprs[1];
    let value = match index {
        0 => Some(&rd.rim),
        _ => rem_slot(index).and_then(|i| rd.rems.get(i)),
    };
    let (status, value) = match value {
        Some(v) => (RsiStatus::Success, *v),
        None => (RsiStatus::ErrorInput, [0; MEASUREMENT_SIZE]),
    };
    for (reg, word) in rec.regs.gprs[1..=WORDS]
        .iter_mut()
        .zip(value.chunks_exact(8))
    {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        *reg = u64::from_le_bytes(bytes);
    }
    let [_, x1, x2, x3, ..] = rec.regs.gprs;
    Action::Answer([status as u64, x1, x2, x3])
}

/// RSI_MEASUREMENT_EXTEND(x1 = index, x2 = size, x3..x10 = value) -> x0 status.
///
/// `index_bound` (index 0, the RIM, or above 4) and `size_bound` (size above 64) are
/// RSI_ERROR_INPUT and change nothing; the spec orders neither before the other.
pub fn extend(rd: &mut Rd, rec: &mut Rec) -> Action {
    let (index, size) = (rec.regs.gprs[1], rec.regs.gprs[2]);
    let mut value: Measurement = [0; MEASUREMENT_SIZE];
    for (bytes, reg) in value.chunks_exact_mut(8).zip(&rec.regs.gprs[3..3 + WORDS]) {
        bytes.copy_from_slice(&reg.to_le_bytes());
    }
    let algo = rd.hash_algo();
    let status = match rem_slot(index).and_then(|i| rd.rems.get_mut(i)) {
        Some(rem) => match measurement::extend_rem(algo, rem, &value, size) {
            Some(new) => {
                *rem = new;
                RsiStatus::Success
            }
            None => RsiStatus::ErrorInput,
        },
        None => RsiStatus::ErrorInput,
    };
    Action::Answer([status as u64, 0, 0, 0])
}
