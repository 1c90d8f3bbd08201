//! Malformed tokens: every structural, type or size violation is a decode error.

mod support;

use cca_verifier::{qemu_sample_cpak, verify, Error};
use ciborium::value::Value;
use coset::{iana, CoseSign1, HeaderBuilder, TaggedCborSerializable};
use hostcall_abi::attest::{
    CCA_TOKEN_COLLECTION_TAG, COLLECTION_PLATFORM_LABEL, COLLECTION_REALM_LABEL, COSE_CRV_P384,
    COSE_KEY_CRV, COSE_KEY_KTY, COSE_KEY_X, COSE_KEY_Y, COSE_KTY_EC2, HASH_SHA512, REALM_CHALLENGE,
    REALM_EXTENSIBLE_MEASUREMENTS, REALM_HASH_ALGO_ID, REALM_INITIAL_MEASUREMENT,
    REALM_PERSONALIZATION_VALUE, REALM_PROFILE, REALM_PUBLIC_KEY, REALM_PUBLIC_KEY_HASH_ALGO_ID,
    REM_COUNT,
};
use support::*;

/// Asserts that `token` fails to decode, with a message mentioning `needle`.
#[track_caller]
fn assert_decode_error(token: &[u8], needle: &str) {
    match verify(token, &qemu_sample_cpak()) {
        Err(Error::Decode(message)) => {
            assert!(message.contains(needle), "{message:?} lacks {needle:?}")
        }
        other => panic!("expected a decode error mentioning {needle:?}, got {other:?}"),
    }
}

/// The sample realm key's claims, passed through `edit`, in a complete token.
fn token_edited(edit: impl FnOnce(&mut Vec<(Value, Value)>)) -> Vec<u8> {
    let mut claims = realm_claims(sample_realm_key().verifying_key());
    edit(&mut claims);
    token_with_claims(claims)
}

/// A complete token whose realm public key claim holds `cose_key_entries`.
fn token_with_cose_key(cose_key_entries: Vec<(Value, Value)>) -> Vec<u8> {
    let key = bytes(&encode(&Value::Map(cose_key_entries)));
    token_edited(|claims| set(claims, REALM_PUBLIC_KEY, key))
}

/// The sample realm key's COSE_Key entries.
fn sample_cose_key_entries() -> Vec<(Value, Value)> {
    let public = sample_realm_key().verifying_key().to_encoded_point(false);
    vec![
        (int(COSE_KEY_KTY), int(COSE_KTY_EC2)),
        (int(COSE_KEY_CRV), int(COSE_CRV_P384)),
        (int(COSE_KEY_X), bytes(public.x().unwrap())),
        (int(COSE_KEY_Y), bytes(public.y().unwrap())),
    ]
}

#[test]
fn missing_mandatory_realm_claim() {
    for label in [
        REALM_CHALLENGE,
        REALM_PERSONALIZATION_VALUE,
        REALM_INITIAL_MEASUREMENT,
        REALM_EXTENSIBLE_MEASUREMENTS,
        REALM_HASH_ALGO_ID,
        REALM_PUBLIC_KEY,
        REALM_PUBLIC_KEY_HASH_ALGO_ID,
    ] {
        let token = token_edited(|claims| remove(claims, label));
        assert_decode_error(&token, &format!("missing mandatory label {label}"));
    }
}

#[test]
fn rem_array_of_three_or_five() {
    for count in [REM_COUNT - 1, REM_COUNT + 1] {
        let rems = Value::Array(vec![bytes(&[0; 32]); count]);
        let token = token_edited(|claims| set(claims, REALM_EXTENSIBLE_MEASUREMENTS, rems));
        assert_decode_error(&token, &format!("has {count} entries"));
    }
}

#[test]
fn measurement_of_33_bytes() {
    let token = token_edited(|claims| set(claims, REALM_INITIAL_MEASUREMENT, bytes(&[0; 33])));
    assert_decode_error(&token, "33-byte measurement");

    let mut rems = vec![bytes(&[0; 32]); REM_COUNT];
    rems[2] = bytes(&[0; 33]);
    let token =
        token_edited(|claims| set(claims, REALM_EXTENSIBLE_MEASUREMENTS, Value::Array(rems)));
    assert_decode_error(&token, "33-byte measurement");
}

#[test]
fn measurement_size_must_match_the_hash_algorithm() {
    // 32-byte measurements under sha-512.
    let token = token_edited(|claims| set(claims, REALM_HASH_ALGO_ID, text(HASH_SHA512)));
    assert_decode_error(&token, "expected 64");
}

#[test]
fn rem_must_be_a_byte_string() {
    let mut rems = vec![bytes(&[0; 32]); REM_COUNT];
    rems[0] = text("not a hash");
    let token =
        token_edited(|claims| set(claims, REALM_EXTENSIBLE_MEASUREMENTS, Value::Array(rems)));
    assert_decode_error(&token, "expected a byte string");
}

#[test]
fn unsupported_hash_algorithms() {
    let token = token_edited(|claims| set(claims, REALM_HASH_ALGO_ID, text("sha-384")));
    assert_decode_error(&token, "\"sha-384\"");
    let token = token_edited(|claims| set(claims, REALM_PUBLIC_KEY_HASH_ALGO_ID, text("md5")));
    assert_decode_error(&token, "\"md5\"");
    let token = token_edited(|claims| set(claims, REALM_HASH_ALGO_ID, int(1)));
    assert_decode_error(&token, "must be a text string");
}

#[test]
fn challenge_and_personalization_sizes() {
    let token = token_edited(|claims| set(claims, REALM_CHALLENGE, bytes(&[0; 32])));
    assert_decode_error(&token, "is 32 bytes, expected 64");
    let token = token_edited(|claims| set(claims, REALM_PERSONALIZATION_VALUE, bytes(&[0; 65])));
    assert_decode_error(&token, "is 65 bytes, expected 64");
}

#[test]
fn other_realm_profile() {
    let token =
        token_edited(|claims| set(claims, REALM_PROFILE, text("tag:arm.com,2023:realm#2.0.0")));
    assert_decode_error(&token, "realm#2.0.0");
}

#[test]
fn unknown_realm_claim() {
    let token = token_edited(|claims| claims.push((int(44242), bytes(&[1]))));
    assert_decode_error(&token, "unexpected label 44242");
    let token = token_edited(|claims| claims.push((text("extra"), bytes(&[1]))));
    assert_decode_error(&token, "expected an integer label");
}

#[test]
fn duplicate_realm_claim() {
    let token = token_edited(|claims| claims.push((int(REALM_CHALLENGE), bytes(&[0xc5; 64]))));
    assert_decode_error(&token, &format!("duplicate label {REALM_CHALLENGE}"));
}

#[test]
fn realm_claims_not_a_map() {
    let key = sample_realm_key();
    let payload = encode(&Value::Array(vec![int(1)]));
    let realm = signed(&payload, &key, iana::Algorithm::ES384)
        .to_tagged_vec()
        .unwrap();
    assert_decode_error(&collection(SAMPLE_PLATFORM_TOKEN, &realm), "expected a map");
}

#[test]
fn realm_public_key_must_be_an_ec2_p384_cose_key() {
    let mut entries = sample_cose_key_entries();
    entries[0].1 = int(1); // kty OKP
    assert_decode_error(&token_with_cose_key(entries), "expected 2 (EC2)");

    let mut entries = sample_cose_key_entries();
    entries[1].1 = int(1); // crv P-256
    assert_decode_error(&token_with_cose_key(entries), "expected 2 (P-384)");

    let mut entries = sample_cose_key_entries();
    entries[3].1 = bytes(&[0x01; 47]);
    assert_decode_error(&token_with_cose_key(entries), "is 47 bytes, expected 48");

    let mut entries = sample_cose_key_entries();
    entries.push((int(2), bytes(b"kid")));
    assert_decode_error(&token_with_cose_key(entries), "unexpected label 2");

    let mut entries = sample_cose_key_entries();
    entries[3].1 = bytes(&[0x01; 48]); // off the curve
    assert_decode_error(&token_with_cose_key(entries), "not a point on P-384");
}

#[test]
fn realm_cose_key_with_trailing_bytes() {
    let mut key = encode(&Value::Map(sample_cose_key_entries()));
    key.push(0x00);
    let token = token_edited(|claims| set(claims, REALM_PUBLIC_KEY, bytes(&key)));
    assert_decode_error(&token, "trailing byte");
}

#[test]
fn not_tag_399() {
    let valid = valid_token();
    // Strip the 3-byte tag head d9 01 8f: a bare map.
    assert_eq!(valid[..3], [0xd9, 0x01, 0x8f]);
    assert_decode_error(&valid[3..], "found a map, expected CBOR tag 399");
    // Tag 398 instead.
    let mut other_tag = valid.clone();
    other_tag[2] = 0x8e;
    assert_decode_error(&other_tag, "CBOR tag 398, expected 399");
}

#[test]
fn collection_not_a_map() {
    let array = Value::Array(vec![bytes(SAMPLE_PLATFORM_TOKEN), bytes(&[0; 4])]);
    let token = encode(&Value::Tag(CCA_TOKEN_COLLECTION_TAG, Box::new(array)));
    assert_decode_error(&token, "expected a map, found an array");
}

#[test]
fn collection_labels() {
    let realm = realm_token(
        realm_claims(sample_realm_key().verifying_key()),
        &sample_realm_key(),
    );
    let with = |entries: Vec<(Value, Value)>| {
        encode(&Value::Tag(
            CCA_TOKEN_COLLECTION_TAG,
            Box::new(Value::Map(entries)),
        ))
    };
    let platform_entry = (int(COLLECTION_PLATFORM_LABEL), bytes(SAMPLE_PLATFORM_TOKEN));
    let realm_entry = (int(COLLECTION_REALM_LABEL), bytes(&realm));

    assert_decode_error(
        &with(vec![platform_entry.clone()]),
        "missing mandatory label 44241",
    );
    assert_decode_error(
        &with(vec![realm_entry.clone()]),
        "missing mandatory label 44234",
    );
    let extra = (int(44235), bytes(&[]));
    let token = with(vec![platform_entry.clone(), realm_entry.clone(), extra]);
    assert_decode_error(&token, "unexpected label 44235");
    let token = with(vec![platform_entry, realm_entry.clone(), realm_entry]);
    assert_decode_error(&token, "duplicate label 44241");

    // Entries in the other order are still a valid collection.
    let mut swapped = with(vec![
        (int(COLLECTION_REALM_LABEL), bytes(&realm)),
        (int(COLLECTION_PLATFORM_LABEL), bytes(SAMPLE_PLATFORM_TOKEN)),
    ]);
    assert!(verify(&swapped, &qemu_sample_cpak()).is_ok());
    swapped.push(0);
    assert_decode_error(&swapped, "trailing byte");
}

#[test]
fn truncated_input() {
    let valid = valid_token();
    for len in [
        0,
        1,
        3,
        10,
        valid.len() / 2,
        valid.len() - 97,
        valid.len() - 1,
    ] {
        assert_decode_error(&valid[..len], "invalid CBOR");
    }
}

#[test]
fn trailing_bytes_after_the_collection() {
    let mut token = valid_token();
    token.push(0x00);
    assert_decode_error(&token, "1 trailing byte(s)");
    let mut doubled = valid_token();
    doubled.extend_from_slice(&valid_token());
    assert_decode_error(&doubled, "trailing byte(s)");
}

#[test]
fn realm_token_must_be_tagged_cose_sign1() {
    let key = sample_realm_key();
    let payload = encode(&Value::Map(realm_claims(key.verifying_key())));
    let message = signed(&payload, &key, iana::Algorithm::ES384);

    let bare = untagged(message.clone());
    assert_decode_error(
        &collection(SAMPLE_PLATFORM_TOKEN, &bare),
        "expected CBOR tag 18",
    );

    let inner: Value = ciborium::de::from_reader(bare.as_slice()).unwrap();
    let wrong_tag = encode(&Value::Tag(17, Box::new(inner)));
    assert_decode_error(
        &collection(SAMPLE_PLATFORM_TOKEN, &wrong_tag),
        "CBOR tag 17",
    );

    let garbage = encode(&Value::Tag(18, Box::new(Value::Array(vec![int(1)]))));
    assert_decode_error(
        &collection(SAMPLE_PLATFORM_TOKEN, &garbage),
        "not a COSE_Sign1",
    );
}

#[test]
fn realm_token_shape() {
    let key = sample_realm_key();
    let payload = encode(&Value::Map(realm_claims(key.verifying_key())));
    let wrap =
        |message: CoseSign1| collection(SAMPLE_PLATFORM_TOKEN, &message.to_tagged_vec().unwrap());

    let mut detached = signed(&payload, &key, iana::Algorithm::ES384);
    detached.payload = None;
    assert_decode_error(&wrap(detached), "detached");

    let mut short = signed(&payload, &key, iana::Algorithm::ES384);
    short.signature.pop();
    assert_decode_error(&wrap(short), "signature is 95 bytes");

    let mut unprotected = signed(&payload, &key, iana::Algorithm::ES384);
    unprotected.unprotected = HeaderBuilder::new().key_id(b"rak".to_vec()).build();
    assert_decode_error(&wrap(unprotected), "unprotected header is not empty");

    let mut critical = signed(&payload, &key, iana::Algorithm::ES384);
    critical.protected.header = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES384)
        .add_critical(iana::HeaderParameter::Kid)
        .build();
    critical.protected.original_data = None;
    assert_decode_error(&wrap(critical), "critical header");
}

#[test]
fn platform_token_must_carry_its_claims() {
    let key = other_realm_key();
    let payload = encode(&Value::Map(vec![(int(10), bytes(&[0; 32]))]));
    let platform = signed(&payload, &key, iana::Algorithm::ES384)
        .to_tagged_vec()
        .unwrap();
    let realm = realm_token(realm_claims(key.verifying_key()), &key);
    let token = collection(&platform, &realm);
    assert_decode_error(&token, "platform claims: missing mandatory label 265");
}

#[test]
fn decode_error_messages_name_the_label() {
    let token = token_edited(|claims| remove(claims, REALM_PUBLIC_KEY));
    let message = verify(&token, &qemu_sample_cpak()).unwrap_err().to_string();
    assert_eq!(
        message,
        "malformed token: realm claims: missing mandatory label 44237 (public key)"
    );
}
