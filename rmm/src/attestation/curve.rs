//! P-384 point arithmetic for the two multiples of the generator G the RMM computes: the public
//! key d·G at cold boot and a signature's R = k·G. Both scalars are secret; nothing here
//! branches on, or picks an address by, a scalar or a coordinate.
//!
//! Points are in homogeneous projective coordinates (X:Y:Z), the identity (0:1:0), and are added
//! and doubled with the complete formulas for a = -3 of Renes, Costello and Batina ("Complete
//! addition formulas for prime order elliptic curves", 2016, algorithms 4 to 6), on the field
//! arithmetic of the `p384` crate. The multiples of G the two computations add are fixed, so
//! they are made by the compiler (constant evaluation) and cost nothing at boot:
//!
//! - [`GENERATOR_MULTIPLES`]: 1·G..15·G, for the signer's four-bit windows of the nonce;
//! - [`COMB`]: four tables of fifteen sums of 2^(96t + 24g)·G over the teeth t = 0..3, for the
//!   public key's fixed-base comb (23 doublings and 96 additions in all, against 384 doublings
//!   for a windowed multiplication); constant evaluation converts them from the integers in
//!   `comb.rs`, which the tests check against their computation from G.
//!
//! The affine conversion inverts Z by Fermat's little theorem (Z^(p-2), a fixed chain of 385
//! squarings and 14 multiplications): its sequence of operations does not depend on Z.

use p384::elliptic_curve::subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use p384::{FieldBytes, FieldElement as Fe, NistP384};
use primeorder::PrimeCurveParams;
use zeroize::Zeroize;

/// The curve's b (y² = x³ - 3x + b).
const B: Fe = <NistP384 as PrimeCurveParams>::EQUATION_B;

/// A point in homogeneous projective coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    x: Fe,
    y: Fe,
    z: Fe,
}

/// A point other than the identity, in affine coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Affine {
    x: Fe,
    y: Fe,
}

impl Zeroize for Point {
    fn zeroize(&mut self) {
        self.x.zeroize();
        self.y.zeroize();
        self.z.zeroize();
    }
}

/// The generator.
pub const G: Affine = Affine {
    x: <NistP384 as PrimeCurveParams>::GENERATOR.0,
    y: <NistP384 as PrimeCurveParams>::GENERATOR.1,
};

impl Point {
    /// The identity (the point at infinity).
    pub const IDENTITY: Self = Self {
        x: Fe::ZERO,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    /// The point `a` in projective coordinates.
    pub const fn from_affine(a: &Affine) -> Self {
        Self {
            x: a.x,
            y: a.y,
            z: Fe::ONE,
        }
    }

    /// self + q (algorithm 4; complete: either may be the identity, or both equal).
    pub const fn add(&self, q: &Self) -> Self {
        let (x1, y1, z1) = (&self.x, &self.y, &self.z);
        let (x2, y2, z2) = (&q.x, &q.y, &q.z);
        let mut t0 = x1.multiply(x2);
        let mut t1 = y1.multiply(y2);
        let mut t2 = z1.multiply(z2);
        let mut t3 = x1.add(y1);
        let mut t4 = x2.add(y2);
        t3 = t3.multiply(&t4);
        t4 = t0.add(&t1);
        t3 = t3.sub(&t4);
        t4 = y1.add(z1);
        let mut x3 = y2.add(z2);
        t4 = t4.multiply(&x3);
        x3 = t1.add(&t2);
        t4 = t4.sub(&x3);
        x3 = x1.add(z1);
        let mut y3 = x2.add(z2);
        x3 = x3.multiply(&y3);
        y3 = t0.add(&t2);
        y3 = x3.sub(&y3);
        let mut z3 = B.multiply(&t2);
        x3 = y3.sub(&z3);
        z3 = x3.double();
        x3 = x3.add(&z3);
        z3 = t1.sub(&x3);
        x3 = t1.add(&x3);
        y3 = B.multiply(&y3);
        t1 = t2.double();
        t2 = t1.add(&t2);
        y3 = y3.sub(&t2);
        y3 = y3.sub(&t0);
        t1 = y3.double();
        y3 = t1.add(&y3);
        t1 = t0.double();
        t0 = t1.add(&t0);
        t0 = t0.sub(&t2);
        t1 = t4.multiply(&y3);
        t2 = t0.multiply(&y3);
        y3 = x3.multiply(&z3);
        y3 = y3.add(&t2);
        x3 = x3.multiply(&t3);
        x3 = x3.sub(&t1);
        z3 = t4.multiply(&z3);
        t1 = t3.multiply(&t0);
        z3 = z3.add(&t1);
        Self {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// self + q for an affine q (algorithm 5; complete in self, and q is never the identity).
    pub const fn add_affine(&self, q: &Affine) -> Self {
        let (x1, y1, z1) = (&self.x, &self.y, &self.z);
        let (x2, y2) = (&q.x, &q.y);
        let mut t0 = x1.multiply(x2);
        let mut t1 = y1.multiply(y2);
        let mut t3 = x2.add(y2);
        let mut t4 = x1.add(y1);
        t3 = t3.multiply(&t4);
        t4 = t0.add(&t1);
        t3 = t3.sub(&t4);
        t4 = y2.multiply(z1);
        t4 = t4.add(y1);
        let mut y3 = x2.multiply(z1);
        y3 = y3.add(x1);
        let mut z3 = B.multiply(z1);
        let mut x3 = y3.sub(&z3);
        z3 = x3.double();
        x3 = x3.add(&z3);
        z3 = t1.sub(&x3);
        x3 = t1.add(&x3);
        y3 = B.multiply(&y3);
        t1 = z1.double();
        let mut t2 = t1.add(z1);
        y3 = y3.sub(&t2);
        y3 = y3.sub(&t0);
        t1 = y3.double();
        y3 = t1.add(&y3);
        t1 = t0.double();
        t0 = t1.add(&t0);
        t0 = t0.sub(&t2);
        t1 = t4.multiply(&y3);
        t2 = t0.multiply(&y3);
        y3 = x3.multiply(&z3);
        y3 = y3.add(&t2);
        x3 = x3.multiply(&t3);
        x3 = x3.sub(&t1);
        z3 = t4.multiply(&z3);
        t1 = t3.multiply(&t0);
        z3 = z3.add(&t1);
        Self {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// 2·self (algorithm 6; complete).
    pub const fn double(&self) -> Self {
        let (x, y, z) = (&self.x, &self.y, &self.z);
        let mut t0 = sqr(x);
        let t1 = sqr(y);
        let mut t2 = sqr(z);
        let mut t3 = x.multiply(y);
        t3 = t3.double();
        let mut z3 = x.multiply(z);
        z3 = z3.double();
        let mut y3 = B.multiply(&t2);
        y3 = y3.sub(&z3);
        let mut x3 = y3.double();
        y3 = x3.add(&y3);
        x3 = t1.sub(&y3);
        y3 = t1.add(&y3);
        y3 = x3.multiply(&y3);
        x3 = x3.multiply(&t3);
        t3 = t2.double();
        t2 = t2.add(&t3);
        z3 = B.multiply(&z3);
        z3 = z3.sub(&t2);
        z3 = z3.sub(&t0);
        t3 = z3.double();
        z3 = z3.add(&t3);
        t3 = t0.double();
        t0 = t3.add(&t0);
        t0 = t0.sub(&t2);
        t0 = t0.multiply(&z3);
        y3 = y3.add(&t0);
        t0 = y.multiply(z);
        t0 = t0.double();
        z3 = t0.multiply(&z3);
        x3 = x3.sub(&z3);
        z3 = t0.multiply(&t1);
        z3 = z3.double();
        z3 = z3.double();
        Self {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// self + entries[index], where entry 0 stands for the identity (its contents are never
    /// used); every entry is read and the addition always done, whatever the index.
    fn add_entry(&self, entries: &[Affine; 16], index: u8) -> Self {
        let mut pick = entries[1];
        for (i, e) in entries.iter().enumerate().skip(2) {
            let hit = (i as u8).ct_eq(&index);
            pick.x.conditional_assign(&e.x, hit);
            pick.y.conditional_assign(&e.y, hit);
        }
        let mut sum = self.add_affine(&pick);
        sum.conditional_assign(self, index.ct_eq(&0));
        sum
    }

    fn conditional_assign(&mut self, other: &Self, choice: Choice) {
        self.x.conditional_assign(&other.x, choice);
        self.y.conditional_assign(&other.y, choice);
        self.z.conditional_assign(&other.z, choice);
    }

    /// 16·self + nibble·G (`nibble` below 16): one window of the signer's multiplication.
    pub fn add_window(&self, nibble: u8) -> Self {
        let mut p = *self;
        for _ in 0..4 {
            p = p.double();
        }
        p.add_entry(&GENERATOR_MULTIPLES, nibble)
    }

    /// The affine x- and y-coordinates, big-endian; zeros for the identity.
    pub fn affine_bytes(&self) -> (FieldBytes, FieldBytes) {
        let z_inv = invert(&self.z);
        (
            self.x.multiply(&z_inv).to_bytes(),
            self.y.multiply(&z_inv).to_bytes(),
        )
    }
}

/// a². The p384 crate's own squaring compiles to 516 instructions in the image, its
/// multiplication to 409: squares are multiplications here.
const fn sqr(a: &Fe) -> Fe {
    a.multiply(a)
}

/// a^(2^n).
const fn square_n(a: &Fe, n: usize) -> Fe {
    let mut r = *a;
    let mut i = 0;
    while i < n {
        r = sqr(&r);
        i += 1;
    }
    r
}

/// 1/a (0 for 0): a^(p-2), p - 2 being, from the top bit down, 255 ones, a zero, 32 ones, 64
/// zeros, 30 ones, a zero and a one. x_n below is a^(2^n - 1) (n ones).
pub const fn invert(a: &Fe) -> Fe {
    let x1 = *a;
    let x2 = square_n(&x1, 1).multiply(&x1);
    let x3 = square_n(&x2, 1).multiply(&x1);
    let x6 = square_n(&x3, 3).multiply(&x3);
    let x12 = square_n(&x6, 6).multiply(&x6);
    let x15 = square_n(&x12, 3).multiply(&x3);
    let x30 = square_n(&x15, 15).multiply(&x15);
    let x32 = square_n(&x30, 2).multiply(&x2);
    let x60 = square_n(&x30, 30).multiply(&x30);
    let x120 = square_n(&x60, 60).multiply(&x60);
    let x240 = square_n(&x120, 120).multiply(&x120);
    let x255 = square_n(&x240, 15).multiply(&x15);
    let t = square_n(&x255, 1 + 32).multiply(&x32);
    let t = square_n(&t, 64 + 30).multiply(&x30);
    square_n(&t, 2).multiply(&x1)
}

/// Converts `N` points, none the identity, to affine coordinates with one inversion
/// (Montgomery's trick). Compile-time only: its `while` loops run in constant evaluation.
const fn batch_to_affine<const N: usize>(points: &[Point; N]) -> [Affine; N] {
    // prefix[i] = z_0 · .. · z_i
    let mut prefix = [Fe::ONE; N];
    let mut acc = Fe::ONE;
    let mut i = 0;
    while i < N {
        acc = acc.multiply(&points[i].z);
        prefix[i] = acc;
        i += 1;
    }
    // inv = 1 / (z_0 · .. · z_i) as i goes down.
    let mut inv = invert(&acc);
    let mut out = [G; N];
    let mut i = N;
    while i > 0 {
        i -= 1;
        let z_inv = if i == 0 {
            inv
        } else {
            inv.multiply(&prefix[i - 1])
        };
        inv = inv.multiply(&points[i].z);
        out[i] = Affine {
            x: points[i].x.multiply(&z_inv),
            y: points[i].y.multiply(&z_inv),
        };
    }
    out
}

/// A placeholder (G, never added) for 0·G, then 1·G, .., 15·G.
pub static GENERATOR_MULTIPLES: [Affine; 16] = generator_multiples();

const fn generator_multiples() -> [Affine; 16] {
    let g = Point::from_affine(&G);
    let mut points = [g; 16];
    let mut i = 2;
    while i < 16 {
        points[i] = points[i - 1].add(&g);
        i += 1;
    }
    // Entry 0 holds G too: any point but the identity converts.
    batch_to_affine(&points)
}

/// Teeth of the comb: the scalar's 384 bits in four blocks of 96.
const TEETH: usize = 4;
/// Bits per tooth.
const TOOTH_BITS: usize = 384 / TEETH;
/// Comb tables, each for a quarter of every tooth: 24 doublings in all.
const COMB_TABLES: usize = 4;
/// Columns (bits of each tooth) per comb table.
const SPACING: usize = TOOTH_BITS / COMB_TABLES;

/// COMB[g][b] = the sum over the set bits t of b of 2^(96t + 24g)·G (entry 0 a placeholder),
/// from the integers in `comb.rs` (what the tests' `comb_tables` computes from G).
pub static COMB: [[Affine; 16]; COMB_TABLES] = comb_from_limbs(&comb::COMB_LIMBS);

/// 2^(64i) in the field, i = 0..5.
const POW64: [Fe; 6] = {
    let two32 = Fe::from_u64(1 << 32);
    let two64 = two32.multiply(&two32);
    let mut p = [Fe::ONE; 6];
    let mut i = 1;
    while i < 6 {
        p[i] = p[i - 1].multiply(&two64);
        i += 1;
    }
    p
};

/// The field element whose canonical value has the limbs `w` (least significant first).
const fn fe_from_limbs(w: &[u64; 6]) -> Fe {
    let mut r = Fe::from_u64(w[0]);
    let mut i = 1;
    while i < 6 {
        r = r.add(&Fe::from_u64(w[i]).multiply(&POW64[i]));
        i += 1;
    }
    r
}

const fn comb_from_limbs(
    limbs: &[[[[u64; 6]; 2]; 16]; COMB_TABLES],
) -> [[Affine; 16]; COMB_TABLES] {
    let mut out = [[G; 16]; COMB_TABLES];
    let mut g = 0;
    while g < COMB_TABLES {
        let mut b = 0;
        while b < 16 {
            out[g][b] = Affine {
                x: fe_from_limbs(&limbs[g][b][0]),
                y: fe_from_limbs(&limbs[g][b][1]),
            };
            b += 1;
        }
        g += 1;
    }
    out
}

/// The comb tables computed from G: 384 doublings, 128 additions and one batched inversion
/// (too long for constant evaluation in every build: `comb.rs` holds the result, which the
/// tests compare with this and with the p384 crate).
#[cfg(test)]
const fn comb_tables() -> [[Affine; 16]; COMB_TABLES] {
    // bases[j] = 2^(24j)·G, j = 4t + g.
    let mut bases = [Point::IDENTITY; TEETH * COMB_TABLES];
    let mut p = Point::from_affine(&G);
    let mut j = 0;
    while j < bases.len() {
        bases[j] = p;
        let mut k = 0;
        while k < SPACING {
            p = p.double();
            k += 1;
        }
        j += 1;
    }
    let mut points = [Point::IDENTITY; 16 * COMB_TABLES];
    let mut g = 0;
    while g < COMB_TABLES {
        // Entry 0: a placeholder, G.
        points[16 * g] = Point::from_affine(&G);
        let mut b = 1;
        while b < 16 {
            let mut sum = Point::IDENTITY;
            let mut t = 0;
            while t < TEETH {
                if (b >> t) & 1 == 1 {
                    sum = sum.add(&bases[COMB_TABLES * t + g]);
                }
                t += 1;
            }
            points[16 * g + b] = sum;
            b += 1;
        }
        g += 1;
    }
    let flat = batch_to_affine(&points);
    let mut out = [[G; 16]; COMB_TABLES];
    let mut i = 0;
    while i < flat.len() {
        out[i / 16][i % 16] = flat[i];
        i += 1;
    }
    out
}

/// Bit `i` (0 the least significant) of the big-endian scalar `k`.
fn bit(k: &[u8; 48], i: usize) -> u8 {
    (k[47 - i / 8] >> (i % 8)) & 1
}

/// k·G for the big-endian scalar `k` (below the group order), by the fixed-base comb: the same
/// doublings, table reads and additions whatever `k` is.
pub fn mul_generator(k: &[u8; 48]) -> Point {
    let mut r = Point::IDENTITY;
    for col in (0..SPACING).rev() {
        if col != SPACING - 1 {
            r = r.double();
        }
        for (g, table) in COMB.iter().enumerate() {
            let mut index = 0u8;
            for t in 0..TEETH {
                index |= bit(k, TOOTH_BITS * t + SPACING * g + col) << t;
            }
            r = r.add_entry(table, index);
        }
    }
    r
}

mod comb;
#[cfg(test)]
mod tests;
