//! The realm attestation key (RAK): a P-384 private key EL3 hands over at cold boot, and its
//! public half as the COSE_Key the realm token carries and the platform token's challenge hashes.

use hostcall_abi::attest::{
    COSE_CRV_P384, COSE_KEY_CRV, COSE_KEY_KTY, COSE_KEY_X, COSE_KEY_Y, COSE_KTY_EC2,
    ES384_SIGNATURE_SIZE, P384_SCALAR_SIZE,
};
use p384::ecdsa::signature::hazmat::PrehashSigner;
use p384::ecdsa::{Signature, SigningKey};
use p384::SecretKey;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use super::curve;
use crate::cbor::{CborError, CborWriter};

/// Bytes of the public key's COSE_Key encoding: a 4-pair map (1), kty and crv (2 + 2), and the
/// two 48-byte coordinates with their labels and heads (1 + 2 + 48, twice).
pub const COSE_KEY_SIZE: usize = 1 + 2 + 2 + 2 * (1 + 2 + P384_SCALAR_SIZE);

/// Bytes of H(RAK_pub), the platform token's challenge: SHA-256 of the COSE_Key.
pub const PUBLIC_KEY_HASH_SIZE: usize = 32;

/// A SHA-384 digest, what ES384 signs.
pub type Sha384Digest = [u8; 48];

/// The realm attestation key.
pub struct RealmAttestKey {
    /// The private scalar (wiped when dropped).
    secret: SecretKey,
    cose_key: [u8; COSE_KEY_SIZE],
}

impl RealmAttestKey {
    /// The key whose private scalar is `scalar` (big-endian, exactly 48 bytes); `None` if that is
    /// not a valid P-384 private key (zero, or not below the group order).
    pub fn from_scalar(scalar: &[u8]) -> Option<Self> {
        if scalar.len() != P384_SCALAR_SIZE {
            return None;
        }
        let secret = SecretKey::from_slice(scalar).ok()?;
        // The public key d·G with the RMM's fixed-base comb (`curve`), not the p384 crate's
        // generic multiplication, which builds its table of multiples at run time.
        let mut d: [u8; P384_SCALAR_SIZE] = secret.to_bytes().into();
        let public = curve::mul_generator(&d);
        d.zeroize();
        let (x, y) = public.affine_bytes();
        let cose_key = cose_key(&x, &y).ok()?;
        Some(Self { secret, cose_key })
    }

    /// The public key as a COSE_Key: {kty: EC2, crv: P-384, x, y}, in that order.
    pub fn public_cose_key(&self) -> &[u8; COSE_KEY_SIZE] {
        &self.cose_key
    }

    /// SHA-256 of [`Self::public_cose_key`]: the challenge the platform token must carry.
    pub fn public_key_hash(&self) -> [u8; PUBLIC_KEY_HASH_SIZE] {
        Sha256::digest(self.cose_key).into()
    }

    /// The private scalar, for [`super::signer::Signing`] (it stays inside this module tree).
    pub(super) fn secret_scalar(&self) -> p384::Scalar {
        *self.secret.to_nonzero_scalar().as_ref()
    }

    /// The ES384 signature (r || s) of a SHA-384 digest, with a deterministic nonce (RFC 6979),
    /// at once by the p384 crate's ECDSA (the reference [`super::Signing`] is tested against; it
    /// computes the public key again, about as costly as the signature).
    pub fn sign_digest(&self, digest: &Sha384Digest) -> Option<[u8; ES384_SIGNATURE_SIZE]> {
        let signing = SigningKey::from(&self.secret);
        let sig: Signature = signing.sign_prehash(digest).ok()?;
        let mut out = [0u8; ES384_SIGNATURE_SIZE];
        out.copy_from_slice(sig.to_bytes().as_slice());
        Some(out)
    }
}

/// Encodes the COSE_Key of the P-384 point (`x`, `y`).
fn cose_key(x: &[u8], y: &[u8]) -> Result<[u8; COSE_KEY_SIZE], CborError> {
    let mut out = [0u8; COSE_KEY_SIZE];
    let mut w = CborWriter::new(&mut out);
    w.map(4)?;
    w.int(COSE_KEY_KTY)?;
    w.int(COSE_KTY_EC2)?;
    w.int(COSE_KEY_CRV)?;
    w.int(COSE_CRV_P384)?;
    w.int(COSE_KEY_X)?;
    w.bytes(x)?;
    w.int(COSE_KEY_Y)?;
    w.bytes(y)?;
    if w.len() != COSE_KEY_SIZE {
        return Err(CborError::Full);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
