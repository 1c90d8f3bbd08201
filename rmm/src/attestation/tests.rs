//! Attestation setup against the simulated EL3 (a double of TF-A's RMMD attestation calls):
//! what the RMM asks for and how it treats each answer.

use hostcall_abi::el3::El3Status;

use super::*;
use crate::sim::{sample_platform_token, Sim, SimAttestEl3, SAMPLE_RAK};

/// A simulated EL3 whose attestation service is `attest`.
fn el3_with(attest: SimAttestEl3) -> Sim {
    let sim = Sim::qemu();
    *sim.el3.attest.lock().unwrap() = attest;
    sim
}

#[test]
fn init_takes_the_key_then_the_platform_token_bound_to_its_public_hash() {
    let sim = el3_with(SimAttestEl3::default());
    let a = Attestation::init(&sim.el3).unwrap();
    assert_eq!(a.platform_token(), sample_platform_token().as_slice());
    let asked = sim.el3.attest.lock().unwrap().challenges.clone();
    assert_eq!(asked, vec![a.key().public_key_hash().to_vec()]);
    assert_eq!(
        a.key().public_cose_key(),
        RealmAttestKey::from_scalar(&SAMPLE_RAK)
            .unwrap()
            .public_cose_key()
    );
}

#[test]
fn a_platform_token_in_parts_is_gathered_whole() {
    let token: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let sim = el3_with(SimAttestEl3 {
        platform_token: Ok(token.clone()),
        part_size: 700,
        ..SimAttestEl3::default()
    });
    let a = Attestation::init(&sim.el3).unwrap();
    assert_eq!(a.platform_token(), token.as_slice());
    let asked = sim.el3.attest.lock().unwrap().challenges.clone();
    assert_eq!(asked.len(), 5000usize.div_ceil(700), "one call per part");
    assert!(asked.iter().all(|c| c.len() == PUBLIC_KEY_HASH_SIZE));
}

#[test]
fn each_failure_of_el3_is_reported() {
    let cases: Vec<(SimAttestEl3, InitError)> = vec![
        (
            SimAttestEl3 {
                key: Err(El3Status::Inval),
                ..SimAttestEl3::default()
            },
            InitError::KeyRefused(El3Status::Inval),
        ),
        (
            SimAttestEl3 {
                key: Ok(vec![0; 48]),
                ..SimAttestEl3::default()
            },
            InitError::InvalidKey,
        ),
        (
            SimAttestEl3 {
                key: Ok(SAMPLE_RAK[..32].to_vec()),
                ..SimAttestEl3::default()
            },
            InitError::InvalidKey,
        ),
        (
            SimAttestEl3 {
                platform_token: Err(El3Status::BadAddr),
                ..SimAttestEl3::default()
            },
            InitError::PlatformTokenRefused(El3Status::BadAddr),
        ),
        (
            SimAttestEl3 {
                platform_token: Ok(Vec::new()),
                ..SimAttestEl3::default()
            },
            InitError::EmptyPlatformToken,
        ),
        (
            SimAttestEl3 {
                stall: true,
                ..SimAttestEl3::default()
            },
            InitError::PlatformTokenRefused(El3Status::Unknown),
        ),
        (
            SimAttestEl3 {
                platform_token: Ok(vec![7; PLATFORM_TOKEN_MAX + 1]),
                part_size: 4096,
                ..SimAttestEl3::default()
            },
            InitError::PlatformTokenRefused(El3Status::NoMem),
        ),
    ];
    for (attest, want) in cases {
        let sim = el3_with(attest.clone());
        assert_eq!(Attestation::init(&sim.el3).err(), Some(want), "{attest:?}");
    }
}

#[test]
fn a_platform_token_of_exactly_the_maximum_fits() {
    let sim = el3_with(SimAttestEl3 {
        platform_token: Ok(vec![7; PLATFORM_TOKEN_MAX]),
        part_size: 4096,
        ..SimAttestEl3::default()
    });
    let a = Attestation::init(&sim.el3).unwrap();
    assert_eq!(a.platform_token().len(), PLATFORM_TOKEN_MAX);
}
