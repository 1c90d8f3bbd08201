//! Tamper evidence: flipping any single byte of a valid token makes verification fail.

mod support;

use std::time::Instant;

use cca_verifier::{qemu_sample_cpak, verify};
use support::valid_token;

/// Every `STRIDE`-th byte is flipped, plus all of the first and last `EDGE` bytes. The stride
/// keeps the debug-build run short (each position costs up to two P-384 verifications): about
/// 8 s for the ~2 KiB token on the build machine.
const STRIDE: usize = 13;
/// Bytes at each end of the token that are all flipped.
const EDGE: usize = 64;

/// XOR masks, used in turn: one low bit, one high bit (CBOR major type), the whole byte.
const MASKS: [u8; 3] = [0x01, 0x80, 0xff];

/// The byte positions to flip in a token of `len` bytes, ascending.
fn positions(len: usize) -> Vec<usize> {
    (0..len)
        .filter(|&i| i.is_multiple_of(STRIDE) || i < EDGE || i >= len - EDGE)
        .collect()
}

#[test]
fn one_flipped_byte_anywhere_fails() {
    let token = valid_token();
    let cpak = qemu_sample_cpak();
    assert!(verify(&token, &cpak).is_ok());

    let start = Instant::now();
    let positions = positions(token.len());
    for (n, &i) in positions.iter().enumerate() {
        let mask = MASKS[n % MASKS.len()];
        let mut tampered = token.clone();
        tampered[i] ^= mask;
        assert!(
            verify(&tampered, &cpak).is_err(),
            "byte {i} of {} ^ {mask:#04x} still verifies",
            token.len()
        );
    }
    eprintln!(
        "{} flipped bytes of a {}-byte token in {:?}",
        positions.len(),
        token.len(),
        start.elapsed()
    );
}
