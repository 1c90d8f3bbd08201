//! The stepwise signer against the ECDSA implementation it splits up: the same RFC 6979 nonce
//! gives the same bytes, however the windows are cut into steps.

use super::*;
use crate::sim::SAMPLE_RAK;
use p384::ecdsa::signature::hazmat::PrehashVerifier;
use p384::ecdsa::VerifyingKey;
use sha2::Digest;

fn key() -> RealmAttestKey {
    RealmAttestKey::from_scalar(&SAMPLE_RAK).unwrap()
}

fn digest(seed: u8) -> Sha384Digest {
    Sha384::digest([seed; 7]).into()
}

/// Runs a signature in steps of `windows`; returns it and the number of steps taken.
fn sign_in_steps(key: &RealmAttestKey, d: &Sha384Digest, windows: usize) -> ([u8; 96], usize) {
    let mut s = Signing::start(key, d);
    let mut steps = 0;
    loop {
        steps += 1;
        assert!(steps <= STEPS + 1, "the signer does not finish");
        if s.step(windows) {
            break;
        }
        assert!(
            s.finish(key).is_none(),
            "no signature before the last window"
        );
    }
    (s.finish(key).expect("a signature"), steps)
}

#[test]
fn signatures_in_steps_are_the_one_shot_signatures() {
    let key = key();
    for seed in 0..6 {
        let d = digest(seed);
        let want = key.sign_digest(&d).unwrap();
        for n in [1, 5, 97] {
            let (got, calls) = sign_in_steps(&key, &d, n);
            assert_eq!(got, want, "digest {seed}, {n} step(s) a call");
            assert_eq!(calls, STEPS.div_ceil(n));
        }
    }
}

#[test]
fn the_signature_verifies_and_a_different_digest_does_not() {
    let key = key();
    let d = digest(9);
    let (sig, _) = sign_in_steps(&key, &d, 8);
    let secret = p384::SecretKey::from_slice(&SAMPLE_RAK).unwrap();
    let vk = VerifyingKey::from(secret.public_key());
    let sig = Signature::from_slice(&sig).unwrap();
    assert!(vk.verify_prehash(&d, &sig).is_ok());
    assert!(vk.verify_prehash(&digest(10), &sig).is_err());
}

#[test]
fn zero_steps_do_nothing_and_steps_past_the_end_are_harmless() {
    let key = key();
    let d = digest(3);
    let mut s = Signing::start(&key, &d);
    let fresh = s;
    assert!(!s.step(0));
    assert_eq!(s, fresh);
    assert!(s.step(STEPS + 10));
    let done = s;
    assert!(s.step(4));
    assert_eq!(s, done, "nothing is done after the last step");
    assert_eq!(s.finish(&key), key.sign_digest(&d));
}

#[test]
fn restart_in_place_is_start_and_zeroize_leaves_no_nonce() {
    let key = key();
    let d = digest(3);
    let mut s = Signing::IDLE;
    s.restart(&key, &d);
    assert_eq!(s, Signing::start(&key, &d));
    assert_ne!(s.nonce(), [0; P384_SCALAR_SIZE]);
    s.step(5);
    s.zeroize();
    assert_eq!(s.nonce(), [0; P384_SCALAR_SIZE]);
    assert_eq!(s.steps_done(), 0);
    assert!(s.finish(&key).is_none(), "nothing left to sign with");
}
