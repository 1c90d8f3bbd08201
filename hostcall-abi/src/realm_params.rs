//! `RmiRealmParams`, the NS granule the host passes to `RMI_REALM_CREATE` (DEN0137 B4.4.12,
//! B4.4.11), and the measured subset that seeds the RIM (B4.3.9.4).

use crate::fieldset::fieldset64;
use crate::rmi::RmiHashAlgorithm;
use crate::wire::impl_wire;

/// Size of an `RmiRealmParams`: one granule.
pub const RMI_REALM_PARAMS_SIZE: usize = crate::GRANULE_SIZE;
/// Size of the Realm Personalization Value.
pub const RPV_SIZE: usize = 64;

fieldset64! {
    /// Features the host enables for a realm (`RmiRealmFlags`, B4.4.11). Bits 63:3 SBZ.
    pub struct RmiRealmFlags {
        /// Bit 0: LPA2 (52-bit IPAs/PAs, RTT level -1).
        LPA2 = 0;
        /// Bit 1: SVE.
        SVE = 1;
        /// Bit 2: PMU.
        PMU = 2;
    }
}

impl RmiHashAlgorithm {
    /// Decodes the 8-bit encoding; `None` for reserved values.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Sha256,
            1 => Self::Sha512,
            _ => return None,
        })
    }
}

/// Realm creation parameters. The specification types `s2sz` ... `hash_algo` as 8-bit values at
/// 8-byte strides; each is followed here by explicit reserved bytes. Unused bits SBZ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct RmiRealmParams {
    /// Enabled features.
    pub flags: RmiRealmFlags,
    /// Requested IPA width in bits (the width itself, not a T0SZ encoding).
    pub s2sz: u8,
    /// Reserved, SBZ.
    pub reserved0: [u8; 7],
    /// Requested SVE vector length, encoded as `(VL / 128) - 1` like ZCR_ELx.LEN.
    pub sve_vl: u8,
    /// Reserved, SBZ.
    pub reserved1: [u8; 7],
    /// Number of breakpoints minus one (0 is reserved).
    pub num_bps: u8,
    /// Reserved, SBZ.
    pub reserved2: [u8; 7],
    /// Number of watchpoints minus one (0 is reserved).
    pub num_wps: u8,
    /// Reserved, SBZ.
    pub reserved3: [u8; 7],
    /// Requested number of PMU counters.
    pub pmu_num_ctrs: u8,
    /// Reserved, SBZ.
    pub reserved4: [u8; 7],
    /// Measurement algorithm (`RmiHashAlgorithm` encoding); see [`Self::hash_algo`].
    pub hash_algo: u8,
    /// Reserved, SBZ.
    pub reserved5: [u8; 0x3CF],
    /// Realm Personalization Value.
    pub rpv: [u8; RPV_SIZE],
    /// Reserved, SBZ.
    pub reserved6: [u8; 0x3C0],
    /// Virtual Machine Identifier.
    pub vmid: u16,
    /// Reserved, SBZ.
    pub reserved7: [u8; 6],
    /// PA of the first starting-level RTT.
    pub rtt_base: u64,
    /// RTT starting level (-1..=3).
    pub rtt_level_start: i64,
    /// Number of concatenated starting-level RTTs (see [`crate::rtt::rtt_num_start`]).
    pub rtt_num_start: u32,
    /// Reserved, SBZ.
    pub reserved8: [u8; 0x7E4],
}
assert_layout!(
    RmiRealmParams,
    size = RMI_REALM_PARAMS_SIZE,
    flags = 0x0,
    s2sz = 0x8,
    reserved0 = 0x9,
    sve_vl = 0x10,
    reserved1 = 0x11,
    num_bps = 0x18,
    reserved2 = 0x19,
    num_wps = 0x20,
    reserved3 = 0x21,
    pmu_num_ctrs = 0x28,
    reserved4 = 0x29,
    hash_algo = 0x30,
    reserved5 = 0x31,
    rpv = 0x400,
    reserved6 = 0x440,
    vmid = 0x800,
    reserved7 = 0x802,
    rtt_base = 0x808,
    rtt_level_start = 0x810,
    rtt_num_start = 0x818,
    reserved8 = 0x81C,
);

impl_wire!(RmiRealmParams {
    flags,
    s2sz,
    reserved0,
    sve_vl,
    reserved1,
    num_bps,
    reserved2,
    num_wps,
    reserved3,
    pmu_num_ctrs,
    reserved4,
    hash_algo,
    reserved5,
    rpv,
    reserved6,
    vmid,
    reserved7,
    rtt_base,
    rtt_level_start,
    rtt_num_start,
    reserved8,
});

impl RmiRealmParams {
    /// All zero.
    pub const ZERO: Self = Self {
        flags: RmiRealmFlags::EMPTY,
        s2sz: 0,
        reserved0: [0; 7],
        sve_vl: 0,
        reserved1: [0; 7],
        num_bps: 0,
        reserved2: [0; 7],
        num_wps: 0,
        reserved3: [0; 7],
        pmu_num_ctrs: 0,
        reserved4: [0; 7],
        hash_algo: 0,
        reserved5: [0; 0x3CF],
        rpv: [0; RPV_SIZE],
        reserved6: [0; 0x3C0],
        vmid: 0,
        reserved7: [0; 6],
        rtt_base: 0,
        rtt_level_start: 0,
        rtt_num_start: 0,
        reserved8: [0; 0x7E4],
    };

    /// The hash algorithm, if the field holds a defined encoding.
    pub const fn hash_algo(&self) -> Option<RmiHashAlgorithm> {
        RmiHashAlgorithm::from_u8(self.hash_algo)
    }

    /// The measured realm parameters (B4.3.9.4): a zeroed structure holding only `flags`, `s2sz`,
    /// `sve_vl`, `num_bps`, `num_wps`, `pmu_num_ctrs` and `hash_algo`. The initial RIM is the
    /// hash of its 4 KiB [`crate::wire::Wire`] image.
    pub const fn measured(&self) -> Self {
        let mut m = Self::ZERO;
        m.flags = self.flags;
        m.s2sz = self.s2sz;
        m.sve_vl = self.sve_vl;
        m.num_bps = self.num_bps;
        m.num_wps = self.num_wps;
        m.pmu_num_ctrs = self.pmu_num_ctrs;
        m.hash_algo = self.hash_algo;
        m
    }
}

impl Default for RmiRealmParams {
    fn default() -> Self {
        Self::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Wire;

    fn sample() -> RmiRealmParams {
        let mut p = RmiRealmParams::ZERO;
        p.flags = RmiRealmFlags::LPA2 | RmiRealmFlags::PMU;
        p.s2sz = 40;
        p.sve_vl = 3;
        p.num_bps = 5;
        p.num_wps = 6;
        p.pmu_num_ctrs = 7;
        p.hash_algo = RmiHashAlgorithm::Sha512 as u8;
        p.rpv = [0x5A; RPV_SIZE];
        p.vmid = 0x1234;
        p.rtt_base = 0x8800_0000;
        p.rtt_level_start = -1;
        p.rtt_num_start = 2;
        p
    }

    #[test]
    fn flag_bits_match_b4_4_11() {
        assert_eq!(RmiRealmFlags::LPA2.bits(), 1 << 0);
        assert_eq!(RmiRealmFlags::SVE.bits(), 1 << 1);
        assert_eq!(RmiRealmFlags::PMU.bits(), 1 << 2);
        assert!(RmiRealmFlags::from_bits(1 << 3).reserved_bits_set());
        assert!(!RmiRealmFlags::from_bits(0b111).reserved_bits_set());
    }

    #[test]
    fn image_places_fields_per_b4_4_12() {
        let mut img = [0xEEu8; 4096];
        sample().encode(&mut img).unwrap();
        assert_eq!(&img[0..8], &0b101u64.to_le_bytes());
        for (off, v) in [
            (0x8, 40u8),
            (0x10, 3),
            (0x18, 5),
            (0x20, 6),
            (0x28, 7),
            (0x30, 1),
        ] {
            assert_eq!(img[off], v, "offset {off:#x}");
            // The rest of each 8-byte slot is reserved.
            assert_eq!(&img[off + 1..off + 8], &[0; 7], "offset {off:#x}");
        }
        assert!(img[0x400..0x440].iter().all(|&b| b == 0x5A));
        assert!(img[0x31..0x400].iter().all(|&b| b == 0));
        assert!(img[0x440..0x800].iter().all(|&b| b == 0));
        assert_eq!(&img[0x800..0x808], &[0x34, 0x12, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&img[0x808..0x810], &0x8800_0000u64.to_le_bytes());
        assert_eq!(&img[0x810..0x818], &[0xFF; 8]);
        assert_eq!(&img[0x818..0x81C], &2u32.to_le_bytes());
        assert!(img[0x81C..].iter().all(|&b| b == 0));
        assert_eq!(RmiRealmParams::decode(&img).unwrap(), sample());
        crate::wire::assert_image_round_trips::<RmiRealmParams>();
    }

    #[test]
    fn measured_keeps_only_rim_fields() {
        let p = sample();
        let m = p.measured();
        assert_eq!(m.flags, p.flags);
        assert_eq!(
            (m.s2sz, m.sve_vl, m.num_bps, m.num_wps, m.pmu_num_ctrs),
            (40, 3, 5, 6, 7)
        );
        assert_eq!(m.hash_algo(), Some(RmiHashAlgorithm::Sha512));
        assert_eq!(m.rpv, [0; RPV_SIZE]);
        assert_eq!(
            (m.vmid, m.rtt_base, m.rtt_level_start, m.rtt_num_start),
            (0, 0, 0, 0)
        );
        let mut p2 = p;
        p2.reserved5[0] = 1;
        assert_eq!(p2.measured(), m);
    }

    #[test]
    fn hash_algorithm_decoding() {
        let mut p = RmiRealmParams::default();
        assert_eq!(p.hash_algo(), Some(RmiHashAlgorithm::Sha256));
        p.hash_algo = 2;
        assert_eq!(p.hash_algo(), None);
    }
}
