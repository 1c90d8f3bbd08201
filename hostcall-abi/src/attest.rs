//! The CCA attestation token's wire format (DEN0137 A7.2.3): CBOR tags, map labels, profile
//! strings and the COSE parameters the RMM signs with. The RMM encodes with these numbers and the
//! test-side verifier decodes with them; neither keeps its own copy.

/// CBOR tag of the CCA token collection (a CMW collection).
pub const CCA_TOKEN_COLLECTION_TAG: u64 = 399;
/// Collection label of the CCA platform token (bstr of a tagged COSE_Sign1).
pub const COLLECTION_PLATFORM_LABEL: i64 = 44234;
/// Collection label of the realm token (bstr of a tagged COSE_Sign1).
pub const COLLECTION_REALM_LABEL: i64 = 44241;

/// CBOR tag of a COSE_Sign1 message (RFC 9052).
pub const COSE_SIGN1_TAG: u64 = 18;
/// COSE header label `alg`.
pub const COSE_HEADER_ALG: i64 = 1;
/// COSE algorithm ES384: ECDSA over P-384 with SHA-384.
pub const COSE_ALG_ES384: i64 = -35;
/// The Sig_structure context string of a COSE_Sign1 signature.
pub const COSE_SIGN1_CONTEXT: &str = "Signature1";

/// COSE_Key label `kty`.
pub const COSE_KEY_KTY: i64 = 1;
/// COSE_Key type EC2 (an elliptic-curve key with x and y coordinates).
pub const COSE_KTY_EC2: i64 = 2;
/// COSE_Key EC2 label `crv`.
pub const COSE_KEY_CRV: i64 = -1;
/// COSE_Key EC2 label `x`.
pub const COSE_KEY_X: i64 = -2;
/// COSE_Key EC2 label `y`.
pub const COSE_KEY_Y: i64 = -3;
/// COSE elliptic curve P-384.
pub const COSE_CRV_P384: i64 = 2;
/// Bytes in one P-384 coordinate or scalar.
pub const P384_SCALAR_SIZE: usize = 48;
/// Bytes in a raw ES384 signature (r || s).
pub const ES384_SIGNATURE_SIZE: usize = 2 * P384_SCALAR_SIZE;

/// Realm claim: the challenge the realm passed to RSI_ATTESTATION_TOKEN_INIT (EAT nonce), 64 bytes.
pub const REALM_CHALLENGE: i64 = 10;
/// Realm claim: EAT profile (optional in the spec; this RMM always includes it).
pub const REALM_PROFILE: i64 = 265;
/// Realm claim: the Realm Personalization Value, 64 bytes.
pub const REALM_PERSONALIZATION_VALUE: i64 = 44235;
/// Realm claim: hash algorithm of RIM and REMs, as text.
pub const REALM_HASH_ALGO_ID: i64 = 44236;
/// Realm claim: the realm attestation public key, a bstr holding a COSE_Key.
pub const REALM_PUBLIC_KEY: i64 = 44237;
/// Realm claim: the Realm Initial Measurement.
pub const REALM_INITIAL_MEASUREMENT: i64 = 44238;
/// Realm claim: the four Realm Extensible Measurements, an array.
pub const REALM_EXTENSIBLE_MEASUREMENTS: i64 = 44239;
/// Realm claim: hash algorithm of H(RAK_pub) in the platform token's challenge, as text.
pub const REALM_PUBLIC_KEY_HASH_ALGO_ID: i64 = 44240;

/// Platform claim: the challenge, H(RAK_pub) (EAT nonce).
pub const PLATFORM_CHALLENGE: i64 = 10;
/// Platform claim: EAT profile.
pub const PLATFORM_PROFILE: i64 = 265;
/// Platform claim: implementation ID, 32 bytes.
pub const PLATFORM_IMPLEMENTATION_ID: i64 = 2396;
/// Platform claim: instance ID (0x01 then the hash of the IAK public key).
pub const PLATFORM_INSTANCE_ID: i64 = 256;

/// The realm token's profile claim value.
pub const REALM_PROFILE_NAME: &str = "tag:arm.com,2023:realm#1.0.0";
/// The platform token's profile claim value.
pub const PLATFORM_PROFILE_NAME: &str = "tag:arm.com,2023:cca_platform#1.0.0";

/// Hash algorithm name (IANA Named Information registry) of SHA-256.
pub const HASH_SHA256: &str = "sha-256";
/// Hash algorithm name of SHA-512.
pub const HASH_SHA512: &str = "sha-512";

/// Number of REMs in the realm token.
pub const REM_COUNT: usize = 4;
