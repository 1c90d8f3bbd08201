//! Test-side reading of the tokens the RMM makes, with an independent CBOR implementation
//! (ciborium) and the verifying half of the sample realm attestation key derived here: shared by
//! the token's unit tests and the RSI tests that collect a token from a scripted realm.

use ciborium::value::Value;
use p384::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::{Digest, Sha384};

use crate::sim::SAMPLE_RAK;

/// The one CBOR item `bytes` hold (panics on trailing bytes).
pub fn decode(bytes: &[u8]) -> Value {
    let mut cursor = bytes;
    let v: Value = ciborium::de::from_reader(&mut cursor).expect("one CBOR item");
    assert!(cursor.is_empty(), "nothing after the item");
    v
}

/// A CBOR integer.
pub fn int(v: i64) -> Value {
    Value::Integer(v.into())
}

/// The claims map of a realm token whose COSE_Sign1 envelope ({alg: ES384}, no unprotected
/// parameters) and signature by the sample key are right; panics otherwise.
pub fn open_realm_token(token: &[u8]) -> Vec<(Value, Value)> {
    let Value::Tag(18, inner) = decode(token) else {
        panic!("not a COSE_Sign1 tag")
    };
    let Value::Array(parts) = *inner else {
        panic!("not an array")
    };
    let [Value::Bytes(protected), Value::Map(unprotected), Value::Bytes(payload), Value::Bytes(sig)] =
        parts.as_slice()
    else {
        panic!("not a COSE_Sign1: {parts:?}")
    };
    assert_eq!(decode(protected), Value::Map(vec![(int(1), int(-35))]));
    assert!(unprotected.is_empty());
    let mut to_be_signed = Vec::new();
    ciborium::ser::into_writer(
        &Value::Array(vec![
            Value::Text("Signature1".into()),
            Value::Bytes(protected.clone()),
            Value::Bytes(vec![]),
            Value::Bytes(payload.clone()),
        ]),
        &mut to_be_signed,
    )
    .unwrap();
    let signing = p384::ecdsa::SigningKey::from_slice(&SAMPLE_RAK).unwrap();
    let sig = p384::ecdsa::Signature::from_slice(sig).expect("96-byte r || s");
    signing
        .verifying_key()
        .verify_prehash(&Sha384::digest(&to_be_signed), &sig)
        .expect("the signature verifies");
    let Value::Map(claims) = decode(payload) else {
        panic!("payload not a map")
    };
    claims
}

/// The value of claim `label`, which must appear exactly once.
pub fn claim(claims: &[(Value, Value)], label: i64) -> Value {
    let hits: Vec<_> = claims.iter().filter(|(k, _)| *k == int(label)).collect();
    assert_eq!(hits.len(), 1, "claim {label} once");
    hits[0].1.clone()
}
