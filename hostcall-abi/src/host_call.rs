//! The `RsiHostCall` structure a realm passes (by IPA) to `RSI_HOST_CALL` (DEN0137 B5.4.3, A4.5).
//!
//! The RMM copies `imm` to `rec_exit.imm` and `gprs` to `rec_exit.gprs` when the call exits to the
//! host, and copies `rec_enter.gprs` back into `gprs` (not `imm`) on the next entry of that REC.

use crate::wire::impl_wire;

/// Required alignment of an `RsiHostCall` IPA (B5.3.4 `addr_align`). Because it equals the size,
/// a correctly aligned structure never crosses a granule boundary.
pub const RSI_HOST_CALL_ALIGN: usize = 256;
/// Size of an `RsiHostCall`.
pub const RSI_HOST_CALL_SIZE: usize = 0x100;
/// Number of general-purpose registers carried (x0..x30).
pub const RSI_HOST_CALL_GPRS: usize = 31;

/// Host call arguments and results, in realm memory. Unused bits SBZ.
///
/// The type is aligned to [`RSI_HOST_CALL_ALIGN`] so that a realm that declares one gets an address
/// `RSI_HOST_CALL` accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(256))]
pub struct RsiHostCall {
    /// Immediate value (UInt16), passed to the host in `rec_exit.imm`.
    pub imm: u16,
    /// Reserved, SBZ.
    pub reserved0: [u8; 6],
    /// x0..x30: arguments on the call, results on return.
    pub gprs: [u64; RSI_HOST_CALL_GPRS],
}
assert_layout!(
    RsiHostCall,
    size = RSI_HOST_CALL_SIZE,
    imm = 0x0,
    reserved0 = 0x2,
    gprs = 0x8
);
const _: () = assert!(core::mem::align_of::<RsiHostCall>() == RSI_HOST_CALL_ALIGN);

impl_wire!(RsiHostCall {
    imm,
    reserved0,
    gprs
});

impl RsiHostCall {
    /// All zero.
    pub const ZERO: Self = Self {
        imm: 0,
        reserved0: [0; 6],
        gprs: [0; RSI_HOST_CALL_GPRS],
    };

    /// A call with immediate `imm` and registers `gprs`.
    pub const fn new(imm: u16, gprs: [u64; RSI_HOST_CALL_GPRS]) -> Self {
        Self {
            imm,
            reserved0: [0; 6],
            gprs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Wire;

    #[test]
    fn layout_matches_b5_4_3() {
        // gprs[n] at 0x8 + 8n; gprs[30] is the last 8 bytes of the structure.
        assert_eq!(core::mem::offset_of!(RsiHostCall, gprs) + 8 * 30, 0xF8);
        assert_eq!(RsiHostCall::SIZE, 256);
        crate::wire::assert_image_round_trips::<RsiHostCall>();
    }

    #[test]
    fn image_places_fields() {
        let mut gprs = [0u64; RSI_HOST_CALL_GPRS];
        gprs[0] = 0xC600_0001;
        gprs[30] = 0x1122_3344_5566_7788;
        let hc = RsiHostCall::new(0xBEEF, gprs);
        let mut img = [0xAAu8; 256];
        hc.encode(&mut img).unwrap();
        assert_eq!(&img[0..2], &[0xEF, 0xBE]);
        assert_eq!(&img[2..8], &[0; 6]);
        assert_eq!(&img[8..16], &0xC600_0001u64.to_le_bytes());
        assert_eq!(&img[0xF8..0x100], &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(RsiHostCall::decode(&img).unwrap(), hc);
        assert_eq!(RsiHostCall::default(), RsiHostCall::ZERO);
    }
}
