//! The RMM's point arithmetic against the p384 crate's (an independent implementation of the
//! same group): the same points, tables and multiples, compared in affine coordinates.

use super::*;
use p384::elliptic_curve::sec1::ToEncodedPoint;
use p384::elliptic_curve::Group;
use p384::elliptic_curve::PrimeField;
use p384::{ProjectivePoint, Scalar};

/// The p384 crate's affine coordinates of `p` (zeros for the identity, as ours).
fn reference(p: &ProjectivePoint) -> (FieldBytes, FieldBytes) {
    let e = p.to_affine().to_encoded_point(false);
    match (e.x(), e.y()) {
        (Some(x), Some(y)) => (*x, *y),
        _ => (FieldBytes::default(), FieldBytes::default()),
    }
}

fn scalar(k: &[u8; 48]) -> Scalar {
    Scalar::from_repr((*k).into()).unwrap()
}

fn ref_mul(k: &[u8; 48]) -> ProjectivePoint {
    ProjectivePoint::GENERATOR * scalar(k)
}

/// Ours at `k·G`, projective, through the reference's public scalar multiplication of the
/// generator (in affine form, then back) and some doublings of it.
fn ours_at(i: u64) -> Point {
    let mut k = [0u8; 48];
    k[40..].copy_from_slice(&i.to_be_bytes());
    mul_generator(&k)
}

/// A few scalars spread over the range: small, large, all ones below the order, patterns.
fn scalars() -> Vec<[u8; 48]> {
    let mut out = Vec::new();
    for i in [1u64, 2, 3, 15, 16, 17, 255, 0x1234_5678_9abc_def0] {
        let mut k = [0u8; 48];
        k[40..].copy_from_slice(&i.to_be_bytes());
        out.push(k);
    }
    // n - 1, n - 2 (the negations of G and 2·G).
    for d in [1u64, 2] {
        out.push((-Scalar::from(d)).to_repr().into());
    }
    let mut k = [0u8; 48];
    k[0] = 0x80;
    out.push(k);
    out.push([0x5a; 48]);
    out.push([0x7f; 48]);
    // Pseudo-random scalars (reduced below the order by the reference).
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..8 {
        let mut k = [0u8; 48];
        for b in k.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        k[0] &= 0x7f;
        out.push(k);
    }
    out
}

#[test]
fn the_inversion_is_the_reference_inversion() {
    assert_eq!(invert(&Fe::ZERO), Fe::ZERO);
    assert_eq!(invert(&Fe::ONE), Fe::ONE);
    let mut a = Fe::from_u64(3);
    for _ in 0..20 {
        let inv = invert(&a);
        assert_eq!(inv, a.invert().unwrap());
        assert_eq!(inv.multiply(&a), Fe::ONE);
        a = a.square().add(&Fe::from_u64(0x1234_5678));
    }
    assert_eq!(invert(&Fe::ONE.neg()), Fe::ONE.neg());
}

#[test]
fn the_generator_table_holds_its_multiples() {
    for (i, e) in GENERATOR_MULTIPLES.iter().enumerate().skip(1) {
        let want = reference(&(ProjectivePoint::GENERATOR * Scalar::from(i as u64)));
        assert_eq!(Point::from_affine(e).affine_bytes(), want, "{i}·G");
    }
}

#[test]
fn the_comb_tables_hold_their_sums() {
    let two = Scalar::from(2u64);
    for (g, table) in COMB.iter().enumerate() {
        for (b, e) in table.iter().enumerate().skip(1) {
            let mut k = Scalar::ZERO;
            for t in 0..TEETH {
                if (b >> t) & 1 == 1 {
                    k += two.pow_vartime(&[(TOOTH_BITS * t + SPACING * g) as u64]);
                }
            }
            let want = reference(&(ProjectivePoint::GENERATOR * k));
            assert_eq!(Point::from_affine(e).affine_bytes(), want, "table {g}, {b}");
        }
    }
}

#[test]
fn multiples_of_the_generator_are_the_reference_multiples() {
    for k in scalars() {
        assert_eq!(
            mul_generator(&k).affine_bytes(),
            reference(&ref_mul(&k)),
            "{k:02x?}"
        );
    }
    // 0·G is the identity.
    assert_eq!(mul_generator(&[0; 48]), Point::IDENTITY);
    assert_eq!(
        Point::IDENTITY.affine_bytes(),
        (FieldBytes::default(), FieldBytes::default())
    );
}

#[test]
fn addition_and_doubling_are_complete() {
    let p = ours_at(5);
    let q = ours_at(7);
    let r5 = ProjectivePoint::GENERATOR * Scalar::from(5u64);
    let r7 = ProjectivePoint::GENERATOR * Scalar::from(7u64);
    assert_eq!(p.add(&q).affine_bytes(), reference(&(r5 + r7)));
    assert_eq!(p.add(&p).affine_bytes(), reference(&r5.double()));
    assert_eq!(p.double().affine_bytes(), reference(&r5.double()));
    assert_eq!(p.add(&Point::IDENTITY).affine_bytes(), reference(&r5));
    assert_eq!(Point::IDENTITY.add(&p).affine_bytes(), reference(&r5));
    assert_eq!(
        Point::IDENTITY.double().affine_bytes(),
        Point::IDENTITY.affine_bytes()
    );
    // P + (-P): -(5·G) = (n - 5)·G.
    let minus_p = mul_generator(&(-Scalar::from(5u64)).to_repr().into());
    assert_eq!(
        p.add(&minus_p).affine_bytes(),
        Point::IDENTITY.affine_bytes()
    );
    // Mixed additions: onto the identity, onto the same point, onto its negation.
    let g = GENERATOR_MULTIPLES[1];
    let one = ours_at(1);
    assert_eq!(
        Point::IDENTITY.add_affine(&g).affine_bytes(),
        one.affine_bytes()
    );
    assert_eq!(one.add_affine(&g).affine_bytes(), ours_at(2).affine_bytes());
    let minus_one = mul_generator(&(-Scalar::ONE).to_repr().into());
    assert_eq!(
        minus_one.add_affine(&g).affine_bytes(),
        Point::IDENTITY.affine_bytes()
    );
}

#[test]
fn windows_add_their_multiple() {
    // 16·(3·G) + n·G for every nibble n.
    let p = ours_at(3);
    for n in 0..16u8 {
        assert_eq!(
            p.add_window(n).affine_bytes(),
            ours_at(48 + u64::from(n)).affine_bytes(),
            "nibble {n}"
        );
    }
}

#[test]
fn the_comb_literal_is_the_comb_computed_from_g() {
    assert_eq!(COMB, comb_tables());
}

/// Prints `comb.rs`'s table (run with `--ignored --nocapture`).
#[test]
#[ignore]
fn print_comb_limbs() {
    let limbs = |f: &Fe| {
        let b = f.to_bytes();
        let mut w = [0u64; 6];
        for (i, w) in w.iter_mut().enumerate() {
            let o = 48 - 8 * (i + 1);
            *w = u64::from_be_bytes(b[o..o + 8].try_into().unwrap());
        }
        w
    };
    let t = comb_tables();
    let mut out = String::new();
    for table in t.iter() {
        out.push_str("    [\n");
        for e in table.iter() {
            let (x, y) = (limbs(&e.x), limbs(&e.y));
            out.push_str("        [\n");
            for c in [x, y] {
                out.push_str("            [");
                for (i, w) in c.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&format!("0x{w:016x}"));
                }
                out.push_str("],\n");
            }
            out.push_str("        ],\n");
        }
        out.push_str("    ],\n");
    }
    print!("{out}");
}
