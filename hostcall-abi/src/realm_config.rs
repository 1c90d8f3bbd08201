//! The `RsiRealmConfig` structure `RSI_REALM_CONFIG` writes into realm memory (DEN0137 B5.4.5).

use crate::rsi::RsiHashAlgorithm;
use crate::wire::impl_wire;

/// Size of an `RsiRealmConfig`: one granule.
pub const RSI_REALM_CONFIG_SIZE: usize = crate::GRANULE_SIZE;
pub use crate::realm_params::RPV_SIZE;

/// Realm configuration as reported to the realm. Unused bits MBZ (the RMM writes zeros).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct RsiRealmConfig {
    /// IPA width in bits.
    pub ipa_width: u64,
    /// Hash algorithm (`RsiHashAlgorithm` encoding); see [`Self::hash_algo`].
    pub hash_algo: u8,
    /// Reserved, MBZ.
    pub reserved0: [u8; 0x1F7],
    /// Realm Personalization Value.
    pub rpv: [u8; RPV_SIZE],
    /// Reserved, MBZ.
    pub reserved1: [u8; 0xDC0],
}
assert_layout!(
    RsiRealmConfig,
    size = RSI_REALM_CONFIG_SIZE,
    ipa_width = 0x0,
    hash_algo = 0x8,
    reserved0 = 0x9,
    rpv = 0x200,
    reserved1 = 0x240
);

impl_wire!(RsiRealmConfig {
    ipa_width,
    hash_algo,
    reserved0,
    rpv,
    reserved1
});

impl RsiRealmConfig {
    /// All zero.
    pub const ZERO: Self = Self {
        ipa_width: 0,
        hash_algo: 0,
        reserved0: [0; 0x1F7],
        rpv: [0; RPV_SIZE],
        reserved1: [0; 0xDC0],
    };

    /// A configuration with the given values and every reserved byte zero.
    pub const fn new(ipa_width: u64, hash_algo: RsiHashAlgorithm, rpv: [u8; RPV_SIZE]) -> Self {
        let mut c = Self::ZERO;
        c.ipa_width = ipa_width;
        c.hash_algo = hash_algo as u8;
        c.rpv = rpv;
        c
    }

    /// The hash algorithm, if the field holds a defined encoding.
    pub const fn hash_algo(&self) -> Option<RsiHashAlgorithm> {
        RsiHashAlgorithm::from_u8(self.hash_algo)
    }
}

impl Default for RsiRealmConfig {
    fn default() -> Self {
        Self::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Wire;

    #[test]
    fn image_places_fields_per_b5_4_5() {
        let mut rpv = [0u8; RPV_SIZE];
        rpv[0] = 0x11;
        rpv[63] = 0x99;
        let c = RsiRealmConfig::new(48, RsiHashAlgorithm::Sha512, rpv);
        let mut img = [0xFFu8; 4096];
        c.encode(&mut img).unwrap();
        assert_eq!(&img[0..8], &48u64.to_le_bytes());
        assert_eq!(img[8], 1);
        assert!(img[9..0x200].iter().all(|&b| b == 0));
        assert_eq!(img[0x200], 0x11);
        assert_eq!(img[0x23F], 0x99);
        assert!(img[0x240..].iter().all(|&b| b == 0));
        let back = RsiRealmConfig::decode(&img).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.hash_algo(), Some(RsiHashAlgorithm::Sha512));
        crate::wire::assert_image_round_trips::<RsiRealmConfig>();
    }

    #[test]
    fn undefined_hash_algorithm_decodes_to_none() {
        let mut c = RsiRealmConfig::default();
        assert_eq!(c.hash_algo(), Some(RsiHashAlgorithm::Sha256));
        c.hash_algo = 2;
        assert_eq!(c.hash_algo(), None);
    }
}
