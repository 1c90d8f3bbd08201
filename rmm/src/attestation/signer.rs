//! ES384 signing in steps: the same signature as [`RealmAttestKey::sign_digest`] (ECDSA over
//! P-384 with the RFC 6979 nonce), with the costly part, R = k·G, split into windows of the
//! nonce, so that a caller can stop between steps for a pending interrupt and carry on later.
//!
//! R is computed most significant window first, four nonce bits at a time: four doublings, then
//! the addition of the window's multiple of G, picked from a table of 0·G..15·G by a scan that
//! touches every entry (the nonce is secret: no branch or address depends on it; the point
//! arithmetic and the compile-time table are [`super::curve`]'s). One more step takes R to
//! affine coordinates (a field inversion); [`Signing::finish`] does the rest (a scalar
//! inversion).

use hostcall_abi::attest::{ES384_SIGNATURE_SIZE, P384_SCALAR_SIZE};
use p384::ecdsa::Signature;
use p384::elliptic_curve::bigint::{ArrayEncoding, U384};
use p384::elliptic_curve::ops::Reduce;
use p384::elliptic_curve::{Curve, PrimeField};
use p384::{FieldBytes, NistP384, Scalar};
use sha2::Sha384;
use zeroize::Zeroize;

use super::curve::Point;
use super::key::{RealmAttestKey, Sha384Digest};

/// Nonce bits per window.
const WINDOW_BITS: usize = 4;
/// Windows in a P-384 nonce.
const WINDOWS: usize = P384_SCALAR_SIZE * 8 / WINDOW_BITS;
/// Steps of a signature: one per window, and the affine conversion of R.
pub const STEPS: usize = WINDOWS + 1;

/// A signature in progress: the digest, the nonce, and R so far. It holds the secret nonce
/// (with the signature, it gives the private key): whoever keeps it keeps it in RMM-only memory
/// and zeroizes it ([`Zeroize`]) when the signature is done or abandoned. It is `Copy` (it lives
/// in the REC), so nothing does that on drop: every copy is the keeper's to wipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signing {
    /// The digest as a scalar (z).
    z: Scalar,
    /// The RFC 6979 nonce (k), big-endian.
    k: [u8; P384_SCALAR_SIZE],
    /// Steps done: the windows of k taken into `point`, then the affine conversion.
    steps_done: u8,
    /// The multiple of G of the windows done so far.
    point: Point,
    /// r: R's x-coordinate reduced modulo the group order, once all steps are done.
    r: Scalar,
}

impl Zeroize for Signing {
    /// Overwrites every field in place with zeros (volatile writes the compiler keeps).
    fn zeroize(&mut self) {
        self.z.zeroize();
        self.k.zeroize();
        self.steps_done.zeroize();
        self.point.zeroize();
        self.r.zeroize();
    }
}

impl Signing {
    /// A signer with nothing in it, for [`Self::restart`].
    pub const IDLE: Self = Self {
        z: Scalar::ZERO,
        k: [0; P384_SCALAR_SIZE],
        steps_done: 0,
        point: Point::IDENTITY,
        r: Scalar::ZERO,
    };

    /// Starts signing `digest` with `key`: derives the nonce (cheap next to the steps).
    pub fn start(key: &RealmAttestKey, digest: &Sha384Digest) -> Self {
        let mut s = Self::IDLE;
        s.restart(key, digest);
        s
    }

    /// Starts signing `digest` with `key` in place (the nonce is made where the signer is kept,
    /// not in a value moved there); the copies of the secrets it makes on the way are zeroized.
    pub fn restart(&mut self, key: &RealmAttestKey, digest: &Sha384Digest) {
        let mut d = key.secret_scalar();
        let mut x = d.to_repr();
        d.zeroize();
        let order = NistP384::ORDER.to_be_byte_array();
        let h = FieldBytes::from(*digest);
        let mut k = rfc6979::generate_k::<Sha384, _>(&x, &order, &h, &[]);
        x.zeroize();
        self.k.copy_from_slice(&k);
        k.zeroize();
        self.z = <Scalar as Reduce<U384>>::reduce_bytes(&h);
        self.steps_done = 0;
        self.point = Point::IDENTITY;
        self.r = Scalar::ZERO;
    }

    /// The nonce, for tests that look for traces of it.
    #[cfg(test)]
    pub(crate) fn nonce(&self) -> [u8; P384_SCALAR_SIZE] {
        self.k
    }

    /// How many steps are done.
    pub fn steps_done(&self) -> usize {
        usize::from(self.steps_done)
    }

    /// Whether every step is done (then [`Self::finish`] gives the signature).
    pub fn is_done(&self) -> bool {
        self.steps_done() >= STEPS
    }

    /// Does up to `steps` more steps; true when none is left.
    pub fn step(&mut self, steps: usize) -> bool {
        for _ in 0..steps {
            let w = self.steps_done();
            if let Some(&byte) = self.k.get(w / 2) {
                let nibble = if w.is_multiple_of(2) {
                    byte >> 4
                } else {
                    byte & 0xF
                };
                self.point = self.point.add_window(nibble);
            } else if w < STEPS {
                let (x, _) = self.point.affine_bytes();
                self.r = <Scalar as Reduce<U384>>::reduce_bytes(&x);
            } else {
                break;
            }
            self.steps_done += 1;
        }
        self.is_done()
    }

    /// The signature (r || s), once every step is done; `None` before that, or in the
    /// negligible cases ECDSA has no signature for (r or s zero).
    pub fn finish(&self, key: &RealmAttestKey) -> Option<[u8; ES384_SIGNATURE_SIZE]> {
        if !self.is_done() {
            return None;
        }
        let mut k_bytes = FieldBytes::from(self.k);
        let mut k = Option::<Scalar>::from(Scalar::from_repr(k_bytes));
        k_bytes.zeroize();
        let mut k_inv = k.and_then(|k| Option::<Scalar>::from(k.invert()));
        k.zeroize();
        let mut d = key.secret_scalar();
        let s = k_inv.map(|k_inv| k_inv * (self.z + self.r * d));
        d.zeroize();
        k_inv.zeroize();
        let sig = Signature::from_scalars(self.r, s?).ok()?;
        let mut out = [0u8; ES384_SIGNATURE_SIZE];
        out.copy_from_slice(sig.to_bytes().as_slice());
        Some(out)
    }
}

#[cfg(test)]
mod tests;
