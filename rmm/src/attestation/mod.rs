//! Realm attestation (DEN0137 A7.2): the realm attestation key and the CCA platform token that
//! EL3 hands over at cold boot, and the realm tokens the RMM signs with that key.
//!
//! Owns the key (only signatures leave this module), the platform token's bytes, and the token
//! format. It must not touch realm memory or REC state: the RSI handlers in
//! `crate::rsi::attestation` do, and ask this module only for bytes.

mod curve;
mod key;
mod signer;
#[cfg(test)]
pub(crate) mod test_support;
mod token;

pub use key::{RealmAttestKey, COSE_KEY_SIZE, PUBLIC_KEY_HASH_SIZE};
pub use signer::{Signing, STEPS as SIGNING_STEPS};
pub use token::{
    prepare_realm_token, sign_realm_token, Collection, RealmClaims, TokenError, UnsignedToken,
    REALM_TOKEN_MAX,
};

use hostcall_abi::attest::P384_SCALAR_SIZE;
use hostcall_abi::el3::El3Status;
use zeroize::Zeroize;

use crate::el3::El3;

/// Largest platform token the RMM keeps (TF-A's QEMU sample is 1,518 bytes; tokens from a
/// platform security processor with a few dozen software components stay well under this).
pub const PLATFORM_TOKEN_MAX: usize = 8192;

/// What the RMM attests with, fixed at cold boot.
pub struct Attestation {
    key: RealmAttestKey,
    platform_token: [u8; PLATFORM_TOKEN_MAX],
    platform_len: usize,
}

/// Why attestation could not be set up at boot (the RMM then answers every token request with
/// RSI_ERROR_UNKNOWN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitError {
    /// EL3 refused RMM_ATTEST_GET_REALM_KEY.
    KeyRefused(El3Status),
    /// EL3 returned something that is not a P-384 private key.
    InvalidKey,
    /// EL3 refused RMM_ATTEST_GET_PLAT_TOKEN.
    PlatformTokenRefused(El3Status),
    /// EL3 returned an empty platform token.
    EmptyPlatformToken,
}

impl InitError {
    /// A short description for the boot log.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::KeyRefused(_) => "EL3 refused the realm attestation key",
            Self::InvalidKey => "EL3's realm attestation key is not a P-384 private key",
            Self::PlatformTokenRefused(_) => "EL3 refused the platform token",
            Self::EmptyPlatformToken => "EL3 returned an empty platform token",
        }
    }
}

impl Attestation {
    /// Asks EL3 for the realm attestation key, then for the platform token whose challenge is
    /// the hash of the key's public half.
    pub fn init(el3: &dyn El3) -> Result<Self, InitError> {
        let mut scalar = [0u8; 64];
        let len = el3
            .realm_attest_key(&mut scalar)
            .map_err(InitError::KeyRefused)?;
        let key = scalar
            .get(..len)
            .filter(|s| s.len() == P384_SCALAR_SIZE)
            .and_then(RealmAttestKey::from_scalar);
        // The private scalar stays on the stack no longer than needed (a plain fill of a buffer
        // about to die is a dead store the compiler may drop; zeroize's writes are volatile).
        scalar.zeroize();
        let key = key.ok_or(InitError::InvalidKey)?;
        let mut platform_token = [0u8; PLATFORM_TOKEN_MAX];
        let platform_len = el3
            .platform_token(&key.public_key_hash(), &mut platform_token)
            .map_err(InitError::PlatformTokenRefused)?;
        if platform_len == 0 {
            return Err(InitError::EmptyPlatformToken);
        }
        Ok(Self {
            key,
            platform_token,
            platform_len,
        })
    }

    /// The realm attestation key.
    pub fn key(&self) -> &RealmAttestKey {
        &self.key
    }

    /// The platform token's bytes.
    pub fn platform_token(&self) -> &[u8] {
        &self.platform_token[..self.platform_len]
    }
}

#[cfg(test)]
mod tests;
