//! An independent verifier of CCA attestation tokens (DEN0137 RMM 1.0, A7.2.3), run on the build
//! machine by the QEMU tests and the demo.
//!
//! It verifies a CCA attestation token independently of the RMM's code: its own CBOR/COSE
//! decoding via `ciborium`/`coset`, P-384 ECDSA and SHA-2 via RustCrypto (`p384`, `sha2`). It
//! shares only the wire numbers of [`hostcall_abi::attest`] (labels, tags, profile strings, COSE
//! parameters) with the RMM, and must not use the RMM crate's CBOR encoder or any other RMM code:
//! a bug in the RMM's token encoding must not be able to hide in its own verifier.
//!
//! [`verify`] checks the whole chain of trust of a token collection:
//! 1. both COSE_Sign1 protected headers say `alg: ES384`;
//! 2. the platform token's signature verifies with the caller's trust anchor (the CPAK);
//! 3. the platform challenge is the hash, by the realm's public key hash algorithm, of the realm
//!    public key claim (this binds the realm token to the platform);
//! 4. the realm token's signature verifies with that realm public key.
//!
//! Decoding is strict for the realm token (this verifier checks our RMM): unknown or duplicate
//! labels, wrong sizes and trailing bytes are all rejected. The platform token comes from
//! firmware, so its claims beyond the four read here are ignored.
#![forbid(unsafe_code)]

mod cbor;
mod claims;
mod cose;
mod key;
pub mod relying_party;

use std::fmt;

use ciborium::value::Value;
use hostcall_abi::attest::{
    CCA_TOKEN_COLLECTION_TAG, COLLECTION_PLATFORM_LABEL, COLLECTION_REALM_LABEL, COSE_ALG_ES384,
};
use p384::ecdsa::VerifyingKey;

pub use claims::{PlatformClaims, RealmClaims, IMPLEMENTATION_ID_SIZE, INSTANCE_ID_SIZE};
pub use key::{qemu_sample_cpak, QEMU_SAMPLE_CPAK_SEC1};

use cbor::{decode_exact, type_name, LabelMap};
use claims::{decode_platform, decode_realm, DecodedRealm};
use cose::Sign1;

/// Which of the two tokens of a collection an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// The CCA platform token, signed by the platform (CPAK).
    Platform,
    /// The realm token, signed by the RMM with the realm attestation key.
    Realm,
}

impl TokenKind {
    /// Names the token's COSE_Sign1 in error messages.
    fn cose_name(self) -> &'static str {
        match self {
            Self::Platform => "platform token",
            Self::Realm => "realm token",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Platform => "platform",
            Self::Realm => "realm",
        })
    }
}

/// Why a token was rejected. Each step of the chain of trust fails with its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Malformed CBOR, COSE or claims: wrong structure, type, size, label or value.
    #[error("malformed token: {0}")]
    Decode(String),
    /// A protected header names an algorithm other than ES384 (or none).
    #[error(
        "{token} token: protected header alg is {found}, expected ES384 ({})",
        COSE_ALG_ES384
    )]
    Algorithm {
        /// The token whose header is wrong.
        token: TokenKind,
        /// The `alg` found, as text (`"absent"` when missing).
        found: String,
    },
    /// The platform token's signature does not verify with the trust anchor.
    #[error("platform token signature does not verify with the trust anchor (CPAK)")]
    PlatformSignature,
    /// The platform challenge is not the hash of the realm public key claim.
    #[error(
        "platform challenge {} is not the {hash_algo} hash of the realm public key ({})",
        hex(found),
        hex(expected)
    )]
    Binding {
        /// The realm's public key hash algorithm claim.
        hash_algo: String,
        /// The hash of the realm public key claim.
        expected: Vec<u8>,
        /// The platform token's challenge.
        found: Vec<u8>,
    },
    /// The realm token's signature does not verify with the realm public key claim.
    #[error("realm token signature does not verify with the realm public key claim")]
    RealmSignature,
}

/// The claims of a token whose whole chain of trust verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The realm token's claims.
    pub realm: RealmClaims,
    /// The platform token's claims.
    pub platform: PlatformClaims,
    /// The size of the whole token in bytes.
    pub token_len: usize,
}

/// Verifies a CCA attestation token (the tagged collection of a platform token and a realm
/// token) against the platform trust anchor `cpak`, and returns its claims.
pub fn verify(token: &[u8], cpak: &VerifyingKey) -> Result<Verified, Error> {
    let (platform_bytes, realm_bytes) = decode_collection(token)?;
    let platform_token = Sign1::decode(&platform_bytes, TokenKind::Platform)?;
    let realm_token = Sign1::decode(&realm_bytes, TokenKind::Realm)?;
    realm_token.require_empty_unprotected()?;
    let platform = decode_platform(platform_token.payload())?;
    let realm = decode_realm(realm_token.payload())?;

    platform_token.check_algorithm()?;
    realm_token.check_algorithm()?;
    if !platform_token.signature_verifies(cpak) {
        return Err(Error::PlatformSignature);
    }
    check_binding(&platform, &realm)?;
    if !realm_token.signature_verifies(&realm.key) {
        return Err(Error::RealmSignature);
    }
    Ok(Verified {
        realm: realm.claims,
        platform,
        token_len: token.len(),
    })
}

/// Verifies a platform token on its own (a tagged COSE_Sign1, ES384, signed by `cpak`) and
/// returns its claims. The realm binding is not checked: there is no realm token.
pub fn verify_platform_token(token: &[u8], cpak: &VerifyingKey) -> Result<PlatformClaims, Error> {
    let platform_token = Sign1::decode(token, TokenKind::Platform)?;
    let platform = decode_platform(platform_token.payload())?;
    platform_token.check_algorithm()?;
    if !platform_token.signature_verifies(cpak) {
        return Err(Error::PlatformSignature);
    }
    Ok(platform)
}

/// Splits the collection `#6.399({44234: bstr, 44241: bstr})` into the platform and realm token
/// bytes; any other label is rejected.
fn decode_collection(token: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Error> {
    const WHAT: &str = "CCA token collection";
    let inner = match decode_exact(token, WHAT)? {
        Value::Tag(CCA_TOKEN_COLLECTION_TAG, inner) => *inner,
        Value::Tag(tag, _) => {
            return Err(Error::Decode(format!(
                "{WHAT}: CBOR tag {tag}, expected {CCA_TOKEN_COLLECTION_TAG}"
            )))
        }
        other => {
            return Err(Error::Decode(format!(
                "{WHAT}: found {}, expected CBOR tag {CCA_TOKEN_COLLECTION_TAG}",
                type_name(&other)
            )))
        }
    };
    let mut map = LabelMap::new(inner, WHAT)?;
    let platform = map.take_bytes(COLLECTION_PLATFORM_LABEL, "platform token")?;
    let realm = map.take_bytes(COLLECTION_REALM_LABEL, "realm token")?;
    map.reject_unknown()?;
    Ok((platform, realm))
}

/// Checks that the platform challenge is H(realm public key claim), H named by the realm's
/// public key hash algorithm claim.
fn check_binding(platform: &PlatformClaims, realm: &DecodedRealm) -> Result<(), Error> {
    let expected = realm.key_hash.digest(&realm.claims.public_key);
    if platform.challenge == expected {
        Ok(())
    } else {
        Err(Error::Binding {
            hash_algo: realm.claims.public_key_hash_algo.clone(),
            expected,
            found: platform.challenge.clone(),
        })
    }
}

/// Formats bytes as lower-case hex, for error messages.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
