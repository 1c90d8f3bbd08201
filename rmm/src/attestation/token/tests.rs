//! The token's bytes, decoded with an independent CBOR implementation (ciborium) and the
//! signature checked with the verifying half of the sample key, derived here.

use ciborium::value::Value;
use hostcall_abi::attest as labels;

use super::*;
use crate::attestation::test_support::{claim, decode, int, open_realm_token};
use crate::sim::SAMPLE_RAK;

fn key() -> RealmAttestKey {
    RealmAttestKey::from_scalar(&SAMPLE_RAK).unwrap()
}

fn measurement(seed: u8) -> Measurement {
    core::array::from_fn(|i| seed.wrapping_add(i as u8))
}

fn signed(algo: HashAlgo) -> (Vec<u8>, [u8; 64], Measurement, [Measurement; 4]) {
    let challenge: [u8; 64] = core::array::from_fn(|i| 0xC0 ^ i as u8);
    let rpv = [0x5A; 64];
    let rim = measurement(1);
    let rems = [
        measurement(10),
        measurement(20),
        measurement(30),
        measurement(40),
    ];
    let claims = RealmClaims {
        challenge: &challenge,
        personalization: &rpv,
        algo,
        rim: &rim,
        rems: &rems,
    };
    let mut out = [0u8; REALM_TOKEN_MAX];
    let n = sign_realm_token(&key(), &claims, &mut out).unwrap();
    (out[..n].to_vec(), challenge, rim, rems)
}

fn check_claims(algo: HashAlgo, size: usize, name: &str) {
    let (token, challenge, rim, rems) = signed(algo);
    let claims = open_realm_token(&token);
    assert_eq!(claims.len(), 8);
    assert_eq!(
        claim(&claims, labels::REALM_PROFILE),
        Value::Text("tag:arm.com,2023:realm#1.0.0".into())
    );
    assert_eq!(
        claim(&claims, labels::REALM_CHALLENGE),
        Value::Bytes(challenge.to_vec())
    );
    assert_eq!(
        claim(&claims, labels::REALM_PERSONALIZATION_VALUE),
        Value::Bytes(vec![0x5A; 64])
    );
    assert_eq!(
        claim(&claims, labels::REALM_INITIAL_MEASUREMENT),
        Value::Bytes(rim[..size].to_vec())
    );
    assert_eq!(
        claim(&claims, labels::REALM_EXTENSIBLE_MEASUREMENTS),
        Value::Array(
            rems.iter()
                .map(|r| Value::Bytes(r[..size].to_vec()))
                .collect()
        )
    );
    assert_eq!(
        claim(&claims, labels::REALM_HASH_ALGO_ID),
        Value::Text(name.into())
    );
    assert_eq!(
        claim(&claims, labels::REALM_PUBLIC_KEY_HASH_ALGO_ID),
        Value::Text("sha-256".into())
    );
    // The public key: a COSE_Key map holding the verifying key's coordinates.
    let Value::Bytes(cose_key) = claim(&claims, labels::REALM_PUBLIC_KEY) else {
        panic!("public key not a bstr")
    };
    let point = p384::ecdsa::SigningKey::from_slice(&SAMPLE_RAK)
        .unwrap()
        .verifying_key()
        .to_encoded_point(false);
    assert_eq!(
        decode(&cose_key),
        Value::Map(vec![
            (int(1), int(2)),
            (int(-1), int(2)),
            (int(-2), Value::Bytes(point.x().unwrap().to_vec())),
            (int(-3), Value::Bytes(point.y().unwrap().to_vec())),
        ])
    );
}

#[test]
fn a_sha256_realm_token_carries_32_byte_measurements_and_verifies() {
    check_claims(HashAlgo::Sha256, 32, "sha-256");
}

#[test]
fn a_sha512_realm_token_carries_64_byte_measurements_and_verifies() {
    check_claims(HashAlgo::Sha512, 64, "sha-512");
}

#[test]
fn the_largest_realm_token_fits_with_room_and_a_small_buffer_is_refused() {
    let (token, ..) = signed(HashAlgo::Sha512);
    assert!(token.len() <= REALM_TOKEN_MAX, "{}", token.len());
    let challenge = [0; 64];
    let m = [0; 64];
    let claims = RealmClaims {
        challenge: &challenge,
        personalization: &challenge,
        algo: HashAlgo::Sha512,
        rim: &m,
        rems: &[m; 4],
    };
    let mut small = vec![0u8; token.len() - 1];
    assert_eq!(
        sign_realm_token(&key(), &claims, &mut small),
        Err(TokenError::Full)
    );
}

#[test]
fn the_collection_pairs_the_tokens_under_tag_399_and_copies_any_range() {
    let platform: Vec<u8> = (0..1518u32).map(|i| (i * 3) as u8).collect();
    let (realm, ..) = signed(HashAlgo::Sha256);
    let c = Collection::new(platform.len(), realm.len());
    let mut whole = vec![0u8; c.len()];
    assert_eq!(c.copy(0, &mut whole, &platform, &realm), c.len());
    assert_eq!(
        decode(&whole),
        Value::Tag(
            399,
            Box::new(Value::Map(vec![
                (int(44234), Value::Bytes(platform.clone())),
                (int(44241), Value::Bytes(realm.clone())),
            ]))
        )
    );
    // Any window gives the same bytes as slicing the whole.
    for offset in [
        0,
        1,
        5,
        6,
        7,
        1500,
        1524,
        1525,
        1526,
        1530,
        c.len() - 3,
        c.len(),
    ] {
        for size in [0, 1, 2, 17, 100, 4096] {
            let mut out = vec![0xEEu8; size];
            let n = c.copy(offset, &mut out, &platform, &realm);
            let want = &whole[offset.min(whole.len())..(offset + size).min(whole.len())];
            assert_eq!(&out[..n], want, "offset {offset} size {size}");
            assert!(
                out[n..].iter().all(|&b| b == 0xEE),
                "nothing past the copied bytes"
            );
        }
    }
    assert!(Collection::max_len(platform.len()) >= c.len());
}
