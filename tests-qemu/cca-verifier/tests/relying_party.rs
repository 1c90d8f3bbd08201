//! The relying party's appraisal of a run directory: a token built here (sample platform token,
//! realm token signed with the sample realm key) and host measurements written beside it.

mod support;

use std::path::PathBuf;

use cca_verifier::relying_party::{appraise, fresh_challenge, HOST_MEASUREMENTS_FILE, TOKEN_FILE};
use hostcall_abi::attest::{REALM_CHALLENGE, REALM_EXTENSIBLE_MEASUREMENTS};
use support::*;

/// A fresh directory under the system's temp dir.
fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cca-rp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes a token whose challenge is `challenge`, REM\[1\] = [1; 32] and the rest zero, and host
/// measurements `rim` / `rem1` (zero-extended to 64 bytes).
fn write_run(name: &str, challenge: &[u8; 64], rems: [u8; 4], rim: u8, rem1: u8) -> PathBuf {
    let key = sample_realm_key();
    let mut claims = realm_claims(key.verifying_key());
    set(&mut claims, REALM_CHALLENGE, bytes(challenge));
    let rems = rems.iter().map(|&v| bytes(&[v; 32])).collect();
    set(
        &mut claims,
        REALM_EXTENSIBLE_MEASUREMENTS,
        ciborium::value::Value::Array(rems),
    );
    let token = collection(SAMPLE_PLATFORM_TOKEN, &realm_token(claims, &key));
    let dir = run_dir(name);
    std::fs::write(dir.join(TOKEN_FILE), token).unwrap();
    let mut host = vec![0u8; 128];
    host[..32].fill(rim);
    host[64..96].fill(rem1);
    std::fs::write(dir.join(HOST_MEASUREMENTS_FILE), host).unwrap();
    dir
}

#[test]
fn a_matching_run_is_accepted_and_summarized() {
    let c = fresh_challenge().unwrap();
    // realm_claims puts 0x11 in the RIM.
    let dir = write_run("ok", &c, [1, 0, 0, 0], 0x11, 1);
    let a = appraise(&dir, &c).unwrap();
    let line = a.summary();
    assert!(line.contains("realm token of "), "{line}");
    assert!(line.contains("RIM 1111111111111111.. (sha-256)"), "{line}");
}

#[test]
fn another_challenge_is_refused() {
    let c = fresh_challenge().unwrap();
    let dir = write_run("challenge", &c, [1, 0, 0, 0], 0x11, 1);
    let mut other = c;
    other[63] ^= 1;
    assert!(appraise(&dir, &other).unwrap_err().contains("challenge"));
}

#[test]
fn measurements_other_than_the_hosts_are_refused() {
    let c = [7; 64];
    let rim = write_run("rim", &c, [1, 0, 0, 0], 0x12, 1);
    assert!(appraise(&rim, &c).unwrap_err().contains("RIM"));
    let rem = write_run("rem", &c, [1, 0, 0, 0], 0x11, 2);
    assert!(appraise(&rem, &c).unwrap_err().contains("REM[1]"));
    let others = write_run("rems", &c, [1, 0, 3, 0], 0x11, 1);
    assert!(appraise(&others, &c).unwrap_err().contains("REM[2..4]"));
}

#[test]
fn a_flipped_token_byte_or_a_missing_file_is_refused() {
    let c = [9; 64];
    let dir = write_run("flip", &c, [1, 0, 0, 0], 0x11, 1);
    let mut token = std::fs::read(dir.join(TOKEN_FILE)).unwrap();
    let mid = token.len() / 2;
    token[mid] ^= 0x40;
    std::fs::write(dir.join(TOKEN_FILE), &token).unwrap();
    assert!(appraise(&dir, &c).unwrap_err().contains("does not verify"));
    std::fs::remove_file(dir.join(TOKEN_FILE)).unwrap();
    assert!(appraise(&dir, &c).unwrap_err().contains(TOKEN_FILE));
}
