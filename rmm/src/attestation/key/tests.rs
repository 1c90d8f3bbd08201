//! Known-answer tests with the P-384 key TF-A's QEMU platform hands the RMM (it has no RSE). The
//! expected public key and hash were computed separately from the RMM (plain affine arithmetic
//! on the curve, and the platform sample token's own challenge).

use super::*;
use crate::sim::SAMPLE_RAK;
use p384::ecdsa::signature::hazmat::PrehashVerifier;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn the_public_key_is_the_cose_key_of_the_derived_point() {
    let key = RealmAttestKey::from_scalar(&SAMPLE_RAK).unwrap();
    let x = hex("76f988091be585ed41801aecfab858548c63057e16b0e676120bbd0d2f9c29e056c5d41a0130eb9c21517899dc23146b");
    let y = hex("28e1b062bd3ea4b315fd219f1cbb528cb6e74ca49be16773734f61a1ca61031b2bbf3d918f2f94ffc4228e50919544ae");
    let mut want = vec![0xa4, 0x01, 0x02, 0x20, 0x02, 0x21, 0x58, 0x30];
    want.extend_from_slice(&x);
    want.extend_from_slice(&[0x22, 0x58, 0x30]);
    want.extend_from_slice(&y);
    assert_eq!(key.public_cose_key().as_slice(), want.as_slice());
}

#[test]
fn the_public_key_hash_is_the_qemu_sample_platform_tokens_challenge() {
    let key = RealmAttestKey::from_scalar(&SAMPLE_RAK).unwrap();
    assert_eq!(
        key.public_key_hash().to_vec(),
        hex("0d22e08a98469058486318283489bdb36f09dbefeb1864df433fa6e54ea2d711")
    );
}

#[test]
fn invalid_scalars_are_refused() {
    assert!(RealmAttestKey::from_scalar(&[0; 48]).is_none(), "zero");
    // The group order n itself, and all-ones (above n).
    let n = hex("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973");
    assert!(RealmAttestKey::from_scalar(&n).is_none(), "n");
    assert!(
        RealmAttestKey::from_scalar(&[0xff; 48]).is_none(),
        "above n"
    );
    assert!(
        RealmAttestKey::from_scalar(&SAMPLE_RAK[..47]).is_none(),
        "short"
    );
    let mut long = SAMPLE_RAK.to_vec();
    long.push(0);
    assert!(RealmAttestKey::from_scalar(&long).is_none(), "long");
    let mut one = [0u8; 48];
    one[47] = 1;
    assert!(
        RealmAttestKey::from_scalar(&one).is_some(),
        "1 is a valid scalar"
    );
}

#[test]
fn signatures_verify_under_the_public_key_and_only_for_their_digest() {
    let key = RealmAttestKey::from_scalar(&SAMPLE_RAK).unwrap();
    let digest = [0x5a; 48];
    let sig = key.sign_digest(&digest).unwrap();
    let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(&{
        let c = key.public_cose_key();
        let mut p = vec![0x04];
        p.extend_from_slice(&c[8..56]);
        p.extend_from_slice(&c[59..107]);
        p
    })
    .unwrap();
    let s = p384::ecdsa::Signature::from_slice(&sig).unwrap();
    assert!(vk.verify_prehash(&digest, &s).is_ok());
    assert!(vk.verify_prehash(&[0x5b; 48], &s).is_err());
    // Deterministic nonces: the same digest gives the same signature.
    assert_eq!(key.sign_digest(&digest).unwrap(), sig);
}
