//! The CCA attestation token's bytes (DEN0137 A7.2.3): the realm claims, the COSE_Sign1 that
//! wraps them, and the collection that pairs the realm token with the platform token.
//!
//! The realm token is built whole into a caller's buffer (it is small: [`REALM_TOKEN_MAX`]); the
//! collection never is: [`Collection`] describes it as four pieces (a short head, the platform
//! token, a short middle, the realm token) and copies any byte range of it, so the platform
//! token is kept once for all realms.

use hostcall_abi::attest::{
    CCA_TOKEN_COLLECTION_TAG, COLLECTION_PLATFORM_LABEL, COLLECTION_REALM_LABEL, COSE_ALG_ES384,
    COSE_HEADER_ALG, COSE_SIGN1_CONTEXT, COSE_SIGN1_TAG, ES384_SIGNATURE_SIZE, HASH_SHA256,
    HASH_SHA512, REALM_CHALLENGE, REALM_EXTENSIBLE_MEASUREMENTS, REALM_HASH_ALGO_ID,
    REALM_INITIAL_MEASUREMENT, REALM_PERSONALIZATION_VALUE, REALM_PROFILE, REALM_PROFILE_NAME,
    REALM_PUBLIC_KEY, REALM_PUBLIC_KEY_HASH_ALGO_ID,
};
use hostcall_abi::rsi::CHALLENGE_SIZE;
use sha2::{Digest, Sha384};

use super::key::{RealmAttestKey, Sha384Digest};
use crate::cbor::{CborError, CborWriter};
use crate::measurement::{HashAlgo, Measurement, REM_COUNT};

/// Upper bound of a signed realm token: the claims at their largest (64-byte measurements) are
/// about 640 bytes, the COSE_Sign1 around them about 110 more.
pub const REALM_TOKEN_MAX: usize = 1024;

/// The protected header of every realm token, {alg: ES384}, as its CBOR bytes.
fn protected_header() -> Result<[u8; 4], CborError> {
    let mut out = [0u8; 4];
    let mut w = CborWriter::new(&mut out);
    w.map(1)?;
    w.int(COSE_HEADER_ALG)?;
    w.int(COSE_ALG_ES384)?;
    Ok(out)
}

/// What a realm token says about the realm: the values at the moment it is signed.
pub struct RealmClaims<'a> {
    /// The challenge the realm passed to RSI_ATTESTATION_TOKEN_INIT.
    pub challenge: &'a [u8; CHALLENGE_SIZE],
    /// The Realm Personalization Value.
    pub personalization: &'a [u8; 64],
    /// The realm's measurement algorithm.
    pub algo: HashAlgo,
    /// The RIM.
    pub rim: &'a Measurement,
    /// The REMs.
    pub rems: &'a [Measurement; REM_COUNT],
}

/// The IANA name of a measurement algorithm.
fn algo_name(algo: HashAlgo) -> &'static str {
    match algo {
        HashAlgo::Sha256 => HASH_SHA256,
        HashAlgo::Sha512 => HASH_SHA512,
    }
}

/// Encodes the realm claims map (the realm token's payload) into `w`.
fn encode_claims(
    w: &mut CborWriter<'_>,
    claims: &RealmClaims<'_>,
    key: &RealmAttestKey,
) -> Result<(), CborError> {
    let size = claims.algo.digest_size();
    w.map(8)?;
    w.int(REALM_PROFILE)?;
    w.text(REALM_PROFILE_NAME)?;
    w.int(REALM_CHALLENGE)?;
    w.bytes(claims.challenge)?;
    w.int(REALM_PERSONALIZATION_VALUE)?;
    w.bytes(claims.personalization)?;
    w.int(REALM_INITIAL_MEASUREMENT)?;
    w.bytes(&claims.rim[..size])?;
    w.int(REALM_EXTENSIBLE_MEASUREMENTS)?;
    w.array(REM_COUNT as u64)?;
    for rem in claims.rems {
        w.bytes(&rem[..size])?;
    }
    w.int(REALM_HASH_ALGO_ID)?;
    w.text(algo_name(claims.algo))?;
    w.int(REALM_PUBLIC_KEY)?;
    w.bytes(key.public_cose_key())?;
    w.int(REALM_PUBLIC_KEY_HASH_ALGO_ID)?;
    w.text(HASH_SHA256)
}

/// SHA-384 of the COSE Sig_structure ["Signature1", protected, external_aad = h'', payload],
/// fed piecewise so that the structure is never assembled.
fn sig_structure_digest(protected: &[u8], payload: &[u8]) -> Result<[u8; 48], CborError> {
    let mut head = [0u8; 32];
    let mut w = CborWriter::new(&mut head);
    w.array(4)?;
    w.text(COSE_SIGN1_CONTEXT)?;
    w.bytes(protected)?;
    w.bytes(&[])?;
    w.bytes_head(payload.len())?;
    let mut h = Sha384::new();
    h.update(w.as_bytes());
    h.update(payload);
    Ok(h.finalize().into())
}

/// Why a realm token could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// The output buffer is too small.
    Full,
    /// The signature could not be computed.
    Signature,
}

impl From<CborError> for TokenError {
    fn from(_: CborError) -> Self {
        Self::Full
    }
}

/// A realm token written but for its signature: the COSE_Sign1 bytes up to the signature's
/// last [`ES384_SIGNATURE_SIZE`] bytes, and the digest those are the signature of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsignedToken {
    /// The token's whole length; the signature goes in its last 96 bytes.
    pub len: usize,
    /// SHA-384 of the Sig_structure, what the signature signs.
    pub digest: Sha384Digest,
}

impl UnsignedToken {
    /// Puts `signature` in its place in `out` (the buffer [`prepare_realm_token`] wrote).
    pub fn sign(
        &self,
        out: &mut [u8],
        signature: &[u8; ES384_SIGNATURE_SIZE],
    ) -> Result<(), TokenError> {
        let at = self.len.checked_sub(ES384_SIGNATURE_SIZE);
        let dst = at
            .and_then(|at| out.get_mut(at..self.len))
            .ok_or(TokenError::Full)?;
        dst.copy_from_slice(signature);
        Ok(())
    }
}

/// Writes the realm token for `claims` into `out`: a tagged COSE_Sign1 with the ES384
/// protected header, no unprotected parameters, the claims as payload, and room for the
/// signature (zero until [`UnsignedToken::sign`]). The claims are fixed here, whenever the
/// signature is made.
pub fn prepare_realm_token(
    key: &RealmAttestKey,
    claims: &RealmClaims<'_>,
    out: &mut [u8],
) -> Result<UnsignedToken, TokenError> {
    let mut payload = [0u8; REALM_TOKEN_MAX];
    let mut p = CborWriter::new(&mut payload);
    encode_claims(&mut p, claims, key)?;
    let payload = p.as_bytes();
    let protected = protected_header()?;
    let digest = sig_structure_digest(&protected, payload)?;
    let mut w = CborWriter::new(out);
    w.tag(COSE_SIGN1_TAG)?;
    w.array(4)?;
    w.bytes(&protected)?;
    w.map(0)?;
    w.bytes(payload)?;
    w.bytes(&[0; ES384_SIGNATURE_SIZE])?;
    Ok(UnsignedToken {
        len: w.len(),
        digest,
    })
}

/// Signs the realm token for `claims` with `key` into `out` at once (see
/// [`prepare_realm_token`]). Returns its length.
pub fn sign_realm_token(
    key: &RealmAttestKey,
    claims: &RealmClaims<'_>,
    out: &mut [u8],
) -> Result<usize, TokenError> {
    let unsigned = prepare_realm_token(key, claims, out)?;
    let signature = key
        .sign_digest(&unsigned.digest)
        .ok_or(TokenError::Signature)?;
    unsigned.sign(out, &signature)?;
    Ok(unsigned.len)
}

/// Room for the CBOR that frames the two tokens: a tag, a map head, a label and a byte-string
/// head before each token.
const FRAME_MAX: usize = 16;

/// The token collection {44234: platform token, 44241: realm token} under tag 399, as pieces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Collection {
    head: [u8; FRAME_MAX],
    head_len: usize,
    middle: [u8; FRAME_MAX],
    middle_len: usize,
    platform_len: usize,
    realm_len: usize,
}

impl Collection {
    /// The layout for a platform token of `platform_len` bytes and a realm token of `realm_len`.
    pub fn new(platform_len: usize, realm_len: usize) -> Self {
        let mut head = [0u8; FRAME_MAX];
        let mut middle = [0u8; FRAME_MAX];
        // A frame is at most tag 399 (3 bytes), a map head (1), a label (3) and a byte-string head
        // (at most 9): FRAME_MAX, so the writes cannot fail.
        let head_len = frame(
            &mut head,
            Some(CCA_TOKEN_COLLECTION_TAG),
            COLLECTION_PLATFORM_LABEL,
            platform_len,
        );
        let middle_len = frame(&mut middle, None, COLLECTION_REALM_LABEL, realm_len);
        Self {
            head,
            head_len,
            middle,
            middle_len,
            platform_len,
            realm_len,
        }
    }

    /// The upper bound RSI_ATTESTATION_TOKEN_INIT reports for a platform token of this length.
    pub fn max_len(platform_len: usize) -> usize {
        Self::new(platform_len, REALM_TOKEN_MAX).len()
    }

    /// Bytes in the whole collection.
    pub fn len(&self) -> usize {
        self.head_len + self.platform_len + self.middle_len + self.realm_len
    }

    /// True if the collection has no bytes (never: the framing alone has some).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies the collection's bytes from `offset` into `out` (as many as fit, up to the end),
    /// taking the tokens from `platform` and `realm` (of the lengths given to [`Self::new`]).
    /// Returns how many bytes were copied.
    pub fn copy(&self, offset: usize, out: &mut [u8], platform: &[u8], realm: &[u8]) -> usize {
        let pieces: [&[u8]; 4] = [
            &self.head[..self.head_len],
            &platform[..self.platform_len.min(platform.len())],
            &self.middle[..self.middle_len],
            &realm[..self.realm_len.min(realm.len())],
        ];
        let (mut done, mut start) = (0, 0);
        for piece in pieces {
            let end = start + piece.len();
            let from = offset + done;
            if from < end && done < out.len() {
                let src = &piece[from - start..];
                let n = src.len().min(out.len() - done);
                out[done..done + n].copy_from_slice(&src[..n]);
                done += n;
            }
            start = end;
        }
        done
    }
}

/// Writes the optional `tag`, a 2-entry map head if tagged, the `label` and the head of a byte
/// string of `len` bytes; returns the bytes written.
fn frame(buf: &mut [u8; FRAME_MAX], tag: Option<u64>, label: i64, len: usize) -> usize {
    let mut w = CborWriter::new(buf);
    let written = (|| {
        if let Some(t) = tag {
            w.tag(t)?;
            w.map(2)?;
        }
        w.int(label)?;
        w.bytes_head(len)
    })();
    debug_assert!(written.is_ok(), "a collection frame fits FRAME_MAX");
    w.len()
}

#[cfg(test)]
mod tests;
