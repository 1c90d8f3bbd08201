//! The chain of trust: a valid token verifies, and each link fails with its own error.

mod support;

use cca_verifier::{qemu_sample_cpak, verify, verify_platform_token, Error, TokenKind};
use ciborium::value::Value;
use coset::{iana, CborSerializable, TaggedCborSerializable};
use hostcall_abi::attest::{
    COSE_SIGN1_CONTEXT, ES384_SIGNATURE_SIZE, HASH_SHA512, PLATFORM_PROFILE_NAME,
    REALM_EXTENSIBLE_MEASUREMENTS, REALM_HASH_ALGO_ID, REALM_INITIAL_MEASUREMENT, REALM_PROFILE,
    REALM_PROFILE_NAME, REALM_PUBLIC_KEY_HASH_ALGO_ID, REM_COUNT,
};
use p384::ecdsa::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use support::*;

#[test]
fn valid_token_verifies() {
    let token = valid_token();
    let verified = verify(&token, &qemu_sample_cpak()).unwrap();

    let realm = &verified.realm;
    assert_eq!(realm.challenge, [0xc5; 64]);
    assert_eq!(realm.personalization, [0x9e; 64]);
    assert_eq!(realm.rim, [0x11; 32]);
    for (i, rem) in realm.rems.iter().enumerate() {
        assert_eq!(rem, &[i as u8 + 1; 32]);
    }
    assert_eq!(realm.hash_algo, "sha-256");
    assert_eq!(
        realm.public_key,
        cose_key(sample_realm_key().verifying_key())
    );
    assert_eq!(realm.public_key_hash_algo, "sha-256");
    assert_eq!(realm.profile.as_deref(), Some(REALM_PROFILE_NAME));
    assert_eq!(verified.platform.challenge, unhex(SAMPLE_CHALLENGE));
    assert_eq!(verified.token_len, token.len());
}

#[test]
fn sample_realm_key_is_bound_by_the_sample_platform_challenge() {
    let key = sample_realm_key();
    let public = key.verifying_key().to_encoded_point(false);
    assert_eq!(public.as_bytes(), unhex(SAMPLE_REALM_KEY_PUB));

    let encoded = cose_key(key.verifying_key());
    let mut expected = unhex("a401022002215830");
    expected.extend_from_slice(public.x().unwrap());
    expected.extend_from_slice(&[0x22, 0x58, 0x30]);
    expected.extend_from_slice(public.y().unwrap());
    assert_eq!(encoded, expected);
    assert_eq!(Sha256::digest(&encoded).as_slice(), unhex(SAMPLE_CHALLENGE));
}

#[test]
fn sample_platform_token_alone_verifies_and_parses() {
    let claims = verify_platform_token(SAMPLE_PLATFORM_TOKEN, &qemu_sample_cpak()).unwrap();
    assert_eq!(SAMPLE_PLATFORM_TOKEN.len(), 1518);
    assert_eq!(claims.profile, PLATFORM_PROFILE_NAME);
    assert_eq!(claims.challenge, unhex(SAMPLE_CHALLENGE));
    assert_eq!(claims.implementation_id.len(), 32);
    assert_eq!(claims.instance_id.len(), 33);
    assert_eq!(claims.instance_id[0], 0x01);
}

#[test]
fn sample_platform_token_fails_with_another_trust_anchor() {
    let other = *other_realm_key().verifying_key();
    assert_eq!(
        verify_platform_token(SAMPLE_PLATFORM_TOKEN, &other),
        Err(Error::PlatformSignature)
    );
    assert_eq!(
        verify(&valid_token(), &other),
        Err(Error::PlatformSignature)
    );
}

#[test]
fn platform_signature_byte_flipped() {
    let mut platform = SAMPLE_PLATFORM_TOKEN.to_vec();
    let signature_start = platform.len() - ES384_SIGNATURE_SIZE;
    platform[signature_start + 20] ^= 0x40;
    let realm = realm_token(
        realm_claims(sample_realm_key().verifying_key()),
        &sample_realm_key(),
    );
    let token = collection(&platform, &realm);
    assert_eq!(
        verify(&token, &qemu_sample_cpak()),
        Err(Error::PlatformSignature)
    );
}

#[test]
fn realm_key_not_bound_to_the_platform_challenge() {
    // A well-formed realm token, correctly signed, but by a key the platform never vouched for.
    let other = other_realm_key();
    let realm = realm_token(realm_claims(other.verifying_key()), &other);
    let token = collection(SAMPLE_PLATFORM_TOKEN, &realm);
    let err = verify(&token, &qemu_sample_cpak()).unwrap_err();
    let Error::Binding {
        hash_algo,
        expected,
        found,
    } = &err
    else {
        panic!("expected a binding error, got {err:?}");
    };
    assert_eq!(hash_algo, "sha-256");
    assert_eq!(
        expected.as_slice(),
        Sha256::digest(cose_key(other.verifying_key())).as_slice()
    );
    assert_eq!(found, &unhex(SAMPLE_CHALLENGE));
}

#[test]
fn binding_hash_length_must_match() {
    // SHA-512 of the right key cannot equal the 32-byte platform challenge.
    let mut claims = realm_claims(sample_realm_key().verifying_key());
    set(
        &mut claims,
        REALM_PUBLIC_KEY_HASH_ALGO_ID,
        text(HASH_SHA512),
    );
    let err = verify(&token_with_claims(claims), &qemu_sample_cpak()).unwrap_err();
    assert!(matches!(err, Error::Binding { .. }), "{err:?}");
}

#[test]
fn realm_signature_over_a_different_payload() {
    let key = sample_realm_key();
    let claims = realm_claims(key.verifying_key());
    let mut other_claims = claims.clone();
    set(
        &mut other_claims,
        REALM_INITIAL_MEASUREMENT,
        bytes(&[0x22; 32]),
    );

    let mut message = signed(&encode(&Value::Map(claims)), &key, iana::Algorithm::ES384);
    message.payload = Some(encode(&Value::Map(other_claims)));
    let token = collection(SAMPLE_PLATFORM_TOKEN, &message.to_tagged_vec().unwrap());
    assert_eq!(
        verify(&token, &qemu_sample_cpak()),
        Err(Error::RealmSignature)
    );
}

#[test]
fn realm_signed_by_a_different_key_than_its_claim() {
    let claims = realm_claims(sample_realm_key().verifying_key());
    let realm = realm_token(claims, &other_realm_key());
    let token = collection(SAMPLE_PLATFORM_TOKEN, &realm);
    assert_eq!(
        verify(&token, &qemu_sample_cpak()),
        Err(Error::RealmSignature)
    );
}

#[test]
fn realm_alg_other_than_es384() {
    let key = sample_realm_key();
    let payload = encode(&Value::Map(realm_claims(key.verifying_key())));
    for alg in [
        iana::Algorithm::ES256,
        iana::Algorithm::ES512,
        iana::Algorithm::EdDSA,
    ] {
        let realm = signed(&payload, &key, alg).to_tagged_vec().unwrap();
        let token = collection(SAMPLE_PLATFORM_TOKEN, &realm);
        assert_eq!(
            verify(&token, &qemu_sample_cpak()),
            Err(Error::Algorithm {
                token: TokenKind::Realm,
                found: (alg as i64).to_string(),
            })
        );
    }
}

#[test]
fn realm_alg_absent() {
    let key = sample_realm_key();
    let payload = encode(&Value::Map(realm_claims(key.verifying_key())));
    let mut message = signed(&payload, &key, iana::Algorithm::ES384);
    message.protected = coset::ProtectedHeader::default();
    let token = collection(SAMPLE_PLATFORM_TOKEN, &message.to_tagged_vec().unwrap());
    let err = verify(&token, &qemu_sample_cpak()).unwrap_err();
    assert!(
        matches!(&err, Error::Algorithm { token: TokenKind::Realm, found } if found == "absent"),
        "{err:?}"
    );
}

#[test]
fn platform_alg_other_than_es384() {
    // The sample's protected header is h'A10138 22' ({1: -35}); make it {1: -36} (ES512).
    let mut platform = SAMPLE_PLATFORM_TOKEN.to_vec();
    assert_eq!(platform[..7], [0xd2, 0x84, 0x44, 0xa1, 0x01, 0x38, 0x22]);
    platform[6] = 0x23;
    let realm = realm_token(
        realm_claims(sample_realm_key().verifying_key()),
        &sample_realm_key(),
    );
    let token = collection(&platform, &realm);
    assert_eq!(
        verify(&token, &qemu_sample_cpak()),
        Err(Error::Algorithm {
            token: TokenKind::Platform,
            found: "-36".to_owned(),
        })
    );
}

#[test]
fn realm_profile_is_optional() {
    let mut claims = realm_claims(sample_realm_key().verifying_key());
    remove(&mut claims, REALM_PROFILE);
    let verified = verify(&token_with_claims(claims), &qemu_sample_cpak()).unwrap();
    assert_eq!(verified.realm.profile, None);
}

#[test]
fn sha512_measurements_verify() {
    let mut claims = realm_claims(sample_realm_key().verifying_key());
    set(&mut claims, REALM_HASH_ALGO_ID, text(HASH_SHA512));
    set(&mut claims, REALM_INITIAL_MEASUREMENT, bytes(&[0x33; 64]));
    let rems = vec![bytes(&[0x44; 64]); REM_COUNT];
    set(
        &mut claims,
        REALM_EXTENSIBLE_MEASUREMENTS,
        Value::Array(rems),
    );
    let verified = verify(&token_with_claims(claims), &qemu_sample_cpak()).unwrap();
    assert_eq!(verified.realm.hash_algo, "sha-512");
    assert_eq!(verified.realm.rim, [0x33; 64]);
    assert_eq!(verified.realm.rems[3], [0x44; 64]);
}

#[test]
fn coset_sig_structure_is_rfc9052_signature1() {
    // coset builds the Sig_structure; check it against one built by hand from the wire contract.
    let key = sample_realm_key();
    let payload = encode(&Value::Map(realm_claims(key.verifying_key())));
    let message = signed(&payload, &key, iana::Algorithm::ES384);
    let protected = message.protected.clone().header.to_vec().unwrap();
    assert_eq!(protected, unhex("a1013822"));
    let by_hand = encode(&Value::Array(vec![
        text(COSE_SIGN1_CONTEXT),
        bytes(&protected),
        bytes(&[]),
        bytes(&payload),
    ]));
    assert_eq!(message.tbs_data(&[]), by_hand);
}

#[test]
fn cose_key_helper_round_trips() {
    // Guard the helpers: a fresh key's COSE_Key decodes back to the same point.
    let key = SigningKey::from_slice(&[0x42; 48]).unwrap();
    let encoded = cose_key(key.verifying_key());
    let Value::Map(entries) = ciborium::de::from_reader::<Value, _>(encoded.as_slice()).unwrap()
    else {
        panic!("COSE_Key is not a map");
    };
    let x = entries[2].1.as_bytes().unwrap();
    let y = entries[3].1.as_bytes().unwrap();
    let sec1 = [&[0x04][..], x, y].concat();
    assert_eq!(
        VerifyingKey::from_sec1_bytes(&sec1).unwrap(),
        *key.verifying_key()
    );
}

#[test]
fn errors_explain_themselves() {
    let other = other_realm_key();
    let token = collection(
        SAMPLE_PLATFORM_TOKEN,
        &realm_token(realm_claims(other.verifying_key()), &other),
    );
    let message = verify(&token, &qemu_sample_cpak()).unwrap_err().to_string();
    assert!(message.contains(SAMPLE_CHALLENGE), "{message}");
    assert!(message.contains("sha-256"), "{message}");
}
