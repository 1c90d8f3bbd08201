//! The relying party of a QEMU run: it chooses the challenge the realm's token must carry, and
//! afterwards appraises the token the host stub handed out against that challenge and against
//! the measurements the host stub computed on its own.
//!
//! The files are the run directory's (QEMU's working directory, reached by the firmware through
//! semihosting): [`CHALLENGE_FILE`] is written before the run, [`TOKEN_FILE`] and
//! [`HOST_MEASUREMENTS_FILE`] come back from the host stub.

use std::path::Path;

use crate::{qemu_sample_cpak, verify, Verified};

/// The 64-byte challenge, written by the relying party before the run.
pub const CHALLENGE_FILE: &str = "challenge.bin";
/// The CCA token the realm produced, as the host stub received it.
pub const TOKEN_FILE: &str = "realm-token.cbor";
/// The host stub's own RIM, then the REM\[1\] it expects after the payload's extension (64 bytes
/// each, zero-extended).
pub const HOST_MEASUREMENTS_FILE: &str = "host-measurements.bin";

/// A challenge no one can predict: 64 bytes from the operating system's random source.
pub fn fresh_challenge() -> std::io::Result<[u8; 64]> {
    use std::io::Read;
    let mut c = [0u8; 64];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut c)?;
    Ok(c)
}

/// What the appraisal established.
#[derive(Clone, Debug)]
pub struct Appraisal {
    /// The token, verified (signatures and binding).
    pub verified: Verified,
    /// The token's bytes as read.
    pub token: Vec<u8>,
}

impl Appraisal {
    /// One line for people: size, RIM prefix, what was checked.
    pub fn summary(&self) -> String {
        let v = &self.verified;
        let rim: String = v.realm.rim[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!(
            "attestation: realm token of {} bytes verified (platform token signed by TF-A's QEMU \
             sample CPAK and bound to the realm key, realm token signed by that key, ES384); \
             challenge is ours; RIM {rim}.. ({}) and REM[1] match the host's own computation",
            self.token.len(),
            v.realm.hash_algo,
        )
    }
}

/// Reads the run's token and the host's measurements from `dir` and checks: the token verifies
/// against TF-A's QEMU sample CPAK; its realm challenge is `challenge`; its RIM is the host's;
/// its REM\[1\] is the host's expected value and the other REMs are zero.
pub fn appraise(dir: &Path, challenge: &[u8; 64]) -> Result<Appraisal, String> {
    let read = |name: &str| {
        std::fs::read(dir.join(name)).map_err(|e| format!("{}: {e}", dir.join(name).display()))
    };
    let token = read(TOKEN_FILE)?;
    let host = read(HOST_MEASUREMENTS_FILE)?;
    if host.len() != 128 {
        return Err(format!(
            "{HOST_MEASUREMENTS_FILE}: {} bytes, expected 128",
            host.len()
        ));
    }
    let verified = verify(&token, &qemu_sample_cpak())
        .map_err(|e| format!("the token does not verify: {e}"))?;
    let realm = &verified.realm;
    if realm.challenge != *challenge {
        return Err("the realm token's challenge is not the one the relying party chose".into());
    }
    let n = realm.rim.len();
    if realm.rim[..] != host[..n] || host[n..64].iter().any(|&b| b != 0) {
        return Err("the token's RIM is not the host's computation".into());
    }
    if realm.rems[0][..] != host[64..64 + n] {
        return Err("the token's REM[1] is not the host's computation".into());
    }
    if realm.rems[1..].iter().any(|r| r.iter().any(|&b| b != 0)) {
        return Err("REM[2..4] are not zero".into());
    }
    Ok(Appraisal { verified, token })
}
