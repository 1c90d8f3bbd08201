//! The realm and platform claims maps (DEN0137 A7.2.3.1 and A7.2.3.2).

use ciborium::value::Value;
use hostcall_abi::attest::{
    HASH_SHA256, HASH_SHA512, PLATFORM_CHALLENGE, PLATFORM_IMPLEMENTATION_ID, PLATFORM_INSTANCE_ID,
    PLATFORM_PROFILE, PLATFORM_PROFILE_NAME, REALM_CHALLENGE, REALM_EXTENSIBLE_MEASUREMENTS,
    REALM_HASH_ALGO_ID, REALM_INITIAL_MEASUREMENT, REALM_PERSONALIZATION_VALUE, REALM_PROFILE,
    REALM_PROFILE_NAME, REALM_PUBLIC_KEY, REALM_PUBLIC_KEY_HASH_ALGO_ID, REM_COUNT,
};
use hostcall_abi::realm_params::RPV_SIZE;
use hostcall_abi::rsi::CHALLENGE_SIZE;
use p384::ecdsa::VerifyingKey;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::cbor::{decode_exact, type_name, LabelMap};
use crate::key::decode_cose_key;
use crate::Error;

/// Bytes in the platform implementation ID claim.
pub const IMPLEMENTATION_ID_SIZE: usize = 32;
/// Bytes in the platform instance ID claim: a type byte (0x01) then a 32-byte hash.
pub const INSTANCE_ID_SIZE: usize = 33;

/// The claims of the realm token, as the RMM reported them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmClaims {
    /// The challenge the realm passed to `RSI_ATTESTATION_TOKEN_INIT`.
    pub challenge: [u8; CHALLENGE_SIZE],
    /// The Realm Personalization Value.
    pub personalization: [u8; RPV_SIZE],
    /// The Realm Initial Measurement (as many bytes as `hash_algo` produces).
    pub rim: Vec<u8>,
    /// The Realm Extensible Measurements, each the size of `rim`.
    pub rems: [Vec<u8>; REM_COUNT],
    /// The measurement hash algorithm: `"sha-256"` or `"sha-512"`.
    pub hash_algo: String,
    /// The realm public key claim's content: the COSE_Key encoding of the realm attestation key.
    pub public_key: Vec<u8>,
    /// The hash algorithm of the platform token's challenge: `"sha-256"` or `"sha-512"`.
    pub public_key_hash_algo: String,
    /// The EAT profile, if the RMM included it (it can only be the realm profile).
    pub profile: Option<String>,
}

/// The claims of the platform token that this verifier reads (the others are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformClaims {
    /// The EAT profile: always the CCA platform profile.
    pub profile: String,
    /// The challenge: a hash of the realm public key claim.
    pub challenge: Vec<u8>,
    /// The implementation ID.
    pub implementation_id: [u8; IMPLEMENTATION_ID_SIZE],
    /// The instance ID.
    pub instance_id: [u8; INSTANCE_ID_SIZE],
}

/// A hash algorithm that a realm claim may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// Parses an IANA Named Information hash name, accepting those RMM 1.0 uses.
    fn from_name(name: &str) -> Option<Self> {
        match name {
            HASH_SHA256 => Some(Self::Sha256),
            HASH_SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Bytes in one digest.
    fn output_size(self) -> usize {
        match self {
            Self::Sha256 => Sha256::output_size(),
            Self::Sha512 => Sha512::output_size(),
        }
    }

    /// Hashes `data`.
    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

/// A decoded realm token payload, with what verification needs besides the claims.
pub(crate) struct DecodedRealm {
    /// The claims.
    pub(crate) claims: RealmClaims,
    /// The key decoded from the realm public key claim.
    pub(crate) key: VerifyingKey,
    /// The algorithm named by the public key hash algorithm claim.
    pub(crate) key_hash: HashAlgorithm,
}

/// Decodes the realm claims map: every label mandatory except the profile, nothing unknown.
pub(crate) fn decode_realm(payload: &[u8]) -> Result<DecodedRealm, Error> {
    const WHAT: &str = "realm claims";
    let mut map = LabelMap::new(decode_exact(payload, WHAT)?, WHAT)?;

    let profile = map.take_optional_text(REALM_PROFILE, "profile")?;
    if let Some(found) = profile.as_deref().filter(|p| *p != REALM_PROFILE_NAME) {
        return Err(map.invalid(
            REALM_PROFILE,
            "profile",
            &format!("is {found:?}, expected {REALM_PROFILE_NAME:?}"),
        ));
    }
    let challenge = take_fixed(&mut map, REALM_CHALLENGE, "challenge")?;
    let personalization = take_fixed(&mut map, REALM_PERSONALIZATION_VALUE, "personalization")?;
    let (hash_algo, measurement) = take_hash_algo(&mut map, REALM_HASH_ALGO_ID, "hash algo id")?;
    let rim = take_measurement(&mut map, REALM_INITIAL_MEASUREMENT, "RIM", measurement)?;
    let rems = take_rems(&mut map, measurement)?;
    let public_key = map.take_bytes(REALM_PUBLIC_KEY, "public key")?;
    let key = decode_cose_key(&public_key)?;
    let (public_key_hash_algo, key_hash) = take_hash_algo(
        &mut map,
        REALM_PUBLIC_KEY_HASH_ALGO_ID,
        "public key hash algo id",
    )?;
    map.reject_unknown()?;

    let claims = RealmClaims {
        challenge,
        personalization,
        rim,
        rems,
        hash_algo,
        public_key,
        public_key_hash_algo,
        profile,
    };
    Ok(DecodedRealm {
        claims,
        key,
        key_hash,
    })
}

/// Decodes the platform claims map: the profile, challenge, implementation ID and instance ID
/// are mandatory; other labels are ignored.
pub(crate) fn decode_platform(payload: &[u8]) -> Result<PlatformClaims, Error> {
    const WHAT: &str = "platform claims";
    let mut map = LabelMap::new(decode_exact(payload, WHAT)?, WHAT)?;

    let profile = map.take_text(PLATFORM_PROFILE, "profile")?;
    if profile != PLATFORM_PROFILE_NAME {
        return Err(map.invalid(
            PLATFORM_PROFILE,
            "profile",
            &format!("is {profile:?}, expected {PLATFORM_PROFILE_NAME:?}"),
        ));
    }
    let challenge = map.take_bytes(PLATFORM_CHALLENGE, "challenge")?;
    let sizes = [
        Sha256::output_size(),
        Sha384::output_size(),
        Sha512::output_size(),
    ];
    if !sizes.contains(&challenge.len()) {
        return Err(map.invalid(
            PLATFORM_CHALLENGE,
            "challenge",
            &format!("is {} bytes, expected one of {sizes:?}", challenge.len()),
        ));
    }
    let implementation_id = take_fixed(&mut map, PLATFORM_IMPLEMENTATION_ID, "implementation id")?;
    let instance_id = take_fixed(&mut map, PLATFORM_INSTANCE_ID, "instance id")?;
    Ok(PlatformClaims {
        profile,
        challenge,
        implementation_id,
        instance_id,
    })
}

/// Takes a byte string of exactly `N` bytes.
fn take_fixed<const N: usize>(
    map: &mut LabelMap,
    label: i64,
    name: &str,
) -> Result<[u8; N], Error> {
    let bytes = map.take_bytes(label, name)?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| {
        map.invalid(
            label,
            name,
            &format!("is {} bytes, expected {N}", bytes.len()),
        )
    })
}

/// Takes a hash algorithm name, returning it with the algorithm it names.
fn take_hash_algo(
    map: &mut LabelMap,
    label: i64,
    name: &str,
) -> Result<(String, HashAlgorithm), Error> {
    let text = map.take_text(label, name)?;
    match HashAlgorithm::from_name(&text) {
        Some(algorithm) => Ok((text, algorithm)),
        None => Err(map.invalid(
            label,
            name,
            &format!("is {text:?}, expected {HASH_SHA256:?} or {HASH_SHA512:?}"),
        )),
    }
}

/// Takes a measurement: a byte string of `algorithm`'s digest size.
fn take_measurement(
    map: &mut LabelMap,
    label: i64,
    name: &str,
    algorithm: HashAlgorithm,
) -> Result<Vec<u8>, Error> {
    let value = map.take(label, name)?;
    check_measurement(map, value, label, name, algorithm)
}

/// Takes the REM array: exactly [`REM_COUNT`] measurements.
fn take_rems(map: &mut LabelMap, algorithm: HashAlgorithm) -> Result<[Vec<u8>; REM_COUNT], Error> {
    const NAME: &str = "REMs";
    let items = map.take_array(REALM_EXTENSIBLE_MEASUREMENTS, NAME)?;
    if items.len() != REM_COUNT {
        return Err(map.invalid(
            REALM_EXTENSIBLE_MEASUREMENTS,
            NAME,
            &format!("has {} entries, expected {REM_COUNT}", items.len()),
        ));
    }
    let rems = items
        .into_iter()
        .map(|item| check_measurement(map, item, REALM_EXTENSIBLE_MEASUREMENTS, NAME, algorithm))
        .collect::<Result<Vec<_>, _>>()?;
    <[Vec<u8>; REM_COUNT]>::try_from(rems).map_err(|_| {
        map.invalid(
            REALM_EXTENSIBLE_MEASUREMENTS,
            NAME,
            "has the wrong number of entries",
        )
    })
}

/// Requires `value` to be a byte string of `algorithm`'s digest size.
fn check_measurement(
    map: &LabelMap,
    value: Value,
    label: i64,
    name: &str,
    algorithm: HashAlgorithm,
) -> Result<Vec<u8>, Error> {
    let Value::Bytes(bytes) = value else {
        return Err(map.invalid(
            label,
            name,
            &format!("holds {}, expected a byte string", type_name(&value)),
        ));
    };
    if bytes.len() != algorithm.output_size() {
        return Err(map.invalid(
            label,
            name,
            &format!(
                "holds a {}-byte measurement, expected {} for the realm hash algorithm",
                bytes.len(),
                algorithm.output_size()
            ),
        ));
    }
    Ok(bytes)
}
