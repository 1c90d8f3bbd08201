//! Test-token construction, written independently of the RMM's encoder: claims are encoded with
//! `ciborium`, signed with `coset` + `p384`, and paired with TF-A's QEMU sample platform token.

#![allow(dead_code)] // each test binary uses a different subset

use ciborium::value::Value;
use coset::{
    iana, CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable,
};
use hostcall_abi::attest::{
    CCA_TOKEN_COLLECTION_TAG, COLLECTION_PLATFORM_LABEL, COLLECTION_REALM_LABEL, COSE_CRV_P384,
    COSE_KEY_CRV, COSE_KEY_KTY, COSE_KEY_X, COSE_KEY_Y, COSE_KTY_EC2, HASH_SHA256, REALM_CHALLENGE,
    REALM_EXTENSIBLE_MEASUREMENTS, REALM_HASH_ALGO_ID, REALM_INITIAL_MEASUREMENT,
    REALM_PERSONALIZATION_VALUE, REALM_PROFILE, REALM_PROFILE_NAME, REALM_PUBLIC_KEY,
    REALM_PUBLIC_KEY_HASH_ALGO_ID, REM_COUNT,
};
use p384::ecdsa::signature::Signer;
use p384::ecdsa::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha384};

/// TF-A 2.12.1's QEMU sample platform token (a tagged COSE_Sign1, ES384).
pub const SAMPLE_PLATFORM_TOKEN: &[u8] =
    include_bytes!("../../testdata/qemu-sample-platform-token.cbor");

/// The sample platform token's challenge: SHA-256 of the sample realm key's COSE_Key.
pub const SAMPLE_CHALLENGE: &str =
    "0d22e08a98469058486318283489bdb36f09dbefeb1864df433fa6e54ea2d711";

/// The private scalar of the realm attestation key TF-A's QEMU platform hands the RMM.
pub const SAMPLE_REALM_KEY_D: &str = "2011c7f03cee4325176e524f033c0ce1e21a76e6c1a4f0b839aa1df61e0e8a5c8a05740f9b69efa7eb1a4185bd117f68";

/// Its public key, SEC1 uncompressed.
pub const SAMPLE_REALM_KEY_PUB: &str = "0476f988091be585ed41801aecfab858548c63057e16b0e676120bbd0d2f9c29e056c5d41a0130eb9c21517899dc23146b28e1b062bd3ea4b315fd219f1cbb528cb6e74ca49be16773734f61a1ca61031b2bbf3d918f2f94ffc4228e50919544ae";

/// Decodes a hex string.
pub fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The sample realm attestation key.
pub fn sample_realm_key() -> SigningKey {
    SigningKey::from_slice(&unhex(SAMPLE_REALM_KEY_D)).unwrap()
}

/// A fixed P-384 key unrelated to the platform token.
pub fn other_realm_key() -> SigningKey {
    let scalar = Sha384::digest(b"cca-verifier test: a realm key the platform never saw");
    SigningKey::from_slice(&scalar).unwrap()
}

/// An integer CBOR value.
pub fn int(n: i64) -> Value {
    Value::Integer(n.into())
}

/// A byte-string CBOR value.
pub fn bytes(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

/// A text CBOR value.
pub fn text(t: &str) -> Value {
    Value::Text(t.to_owned())
}

/// CBOR-encodes `value` (ciborium writes definite, shortest-form lengths).
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).unwrap();
    out
}

/// The COSE_Key of `key`: `{1: 2, -1: 2, -2: x, -3: y}` in that order.
pub fn cose_key(key: &VerifyingKey) -> Vec<u8> {
    let point = key.to_encoded_point(false);
    let map = Value::Map(vec![
        (int(COSE_KEY_KTY), int(COSE_KTY_EC2)),
        (int(COSE_KEY_CRV), int(COSE_CRV_P384)),
        (int(COSE_KEY_X), bytes(point.x().unwrap())),
        (int(COSE_KEY_Y), bytes(point.y().unwrap())),
    ]);
    encode(&map)
}

/// A realm claims map, as (label, value) pairs so tests can break it, for realm key `key`.
pub fn realm_claims(key: &VerifyingKey) -> Vec<(Value, Value)> {
    let rems = (1..=REM_COUNT as u8).map(|i| bytes(&[i; 32])).collect();
    vec![
        (int(REALM_PROFILE), text(REALM_PROFILE_NAME)),
        (int(REALM_CHALLENGE), bytes(&[0xc5; 64])),
        (int(REALM_PERSONALIZATION_VALUE), bytes(&[0x9e; 64])),
        (int(REALM_INITIAL_MEASUREMENT), bytes(&[0x11; 32])),
        (int(REALM_EXTENSIBLE_MEASUREMENTS), Value::Array(rems)),
        (int(REALM_HASH_ALGO_ID), text(HASH_SHA256)),
        (int(REALM_PUBLIC_KEY), bytes(&cose_key(key))),
        (int(REALM_PUBLIC_KEY_HASH_ALGO_ID), text(HASH_SHA256)),
    ]
}

/// Replaces the value at `label`.
pub fn set(claims: &mut [(Value, Value)], label: i64, value: Value) {
    let entry = claims.iter_mut().find(|(k, _)| *k == int(label)).unwrap();
    entry.1 = value;
}

/// Removes the entry at `label`.
pub fn remove(claims: &mut Vec<(Value, Value)>, label: i64) {
    claims.retain(|(k, _)| *k != int(label));
}

/// Signs `payload` as a COSE_Sign1 with the given protected `alg`, returning the unsigned message.
pub fn signed(payload: &[u8], key: &SigningKey, alg: iana::Algorithm) -> CoseSign1 {
    CoseSign1Builder::new()
        .protected(HeaderBuilder::new().algorithm(alg).build())
        .payload(payload.to_vec())
        .create_signature(&[], |data| {
            let signature: Signature = key.sign(data);
            signature.to_bytes().to_vec()
        })
        .build()
}

/// A tagged ES384 COSE_Sign1 over the encoded `claims`, signed with `key`.
pub fn realm_token(claims: Vec<(Value, Value)>, key: &SigningKey) -> Vec<u8> {
    let payload = encode(&Value::Map(claims));
    signed(&payload, key, iana::Algorithm::ES384)
        .to_tagged_vec()
        .unwrap()
}

/// The collection `#6.399({44234: platform, 44241: realm})`.
pub fn collection(platform: &[u8], realm: &[u8]) -> Vec<u8> {
    let map = Value::Map(vec![
        (int(COLLECTION_PLATFORM_LABEL), bytes(platform)),
        (int(COLLECTION_REALM_LABEL), bytes(realm)),
    ]);
    encode(&Value::Tag(CCA_TOKEN_COLLECTION_TAG, Box::new(map)))
}

/// A complete token from the sample platform token and a realm token with `claims`, signed with
/// the sample realm key.
pub fn token_with_claims(claims: Vec<(Value, Value)>) -> Vec<u8> {
    collection(
        SAMPLE_PLATFORM_TOKEN,
        &realm_token(claims, &sample_realm_key()),
    )
}

/// A complete token whose whole chain of trust verifies against the QEMU sample CPAK.
pub fn valid_token() -> Vec<u8> {
    token_with_claims(realm_claims(sample_realm_key().verifying_key()))
}

/// Re-encodes a COSE_Sign1 as an untagged array (to test the tag requirement).
pub fn untagged(message: CoseSign1) -> Vec<u8> {
    message.to_vec().unwrap()
}
