//! P-384 public keys: the realm attestation key's COSE_Key encoding and the QEMU trust anchor.

use hostcall_abi::attest::{
    COSE_CRV_P384, COSE_KEY_CRV, COSE_KEY_KTY, COSE_KEY_X, COSE_KEY_Y, COSE_KTY_EC2,
    P384_SCALAR_SIZE,
};
use p384::ecdsa::VerifyingKey;

use crate::cbor::{decode_exact, LabelMap};
use crate::Error;

/// Bytes in an uncompressed SEC1 P-384 point: `0x04 || x || y`.
const SEC1_UNCOMPRESSED_SIZE: usize = 1 + 2 * P384_SCALAR_SIZE;
/// SEC1 tag of an uncompressed point.
const SEC1_UNCOMPRESSED_TAG: u8 = 0x04;

/// The CPAK (CCA Platform Attestation Key) public key of TF-A's QEMU platform, as an uncompressed
/// SEC1 point `0x04 || x || y`.
///
/// QEMU has no RSE, so TF-A returns a fixed sample platform token: TF-M tools' iat-verifier
/// `cca_example_platform_token.yaml`, signed with TF-M's test key `cca_platform.pem`. This is that
/// key's public half, decoded from its JWK (crv P-384,
/// x = `IShnxS4rlQiwpCCpBWDzlNLfqiG911FP8akBr-fh94uxHU5m-Kijivp2r2oxxN6M`,
/// y = `hM4tr8mWQli1P61xh3T0ViDREbF26DGOEYfbAjWjGNN7pZf-6A4OTHYqEryz6m7U`).
pub const QEMU_SAMPLE_CPAK_SEC1: [u8; SEC1_UNCOMPRESSED_SIZE] = [
    0x04, // uncompressed point
    // x
    0x21, 0x28, 0x67, 0xc5, 0x2e, 0x2b, 0x95, 0x08, 0xb0, 0xa4, 0x20, 0xa9, 0x05, 0x60, 0xf3, 0x94,
    0xd2, 0xdf, 0xaa, 0x21, 0xbd, 0xd7, 0x51, 0x4f, 0xf1, 0xa9, 0x01, 0xaf, 0xe7, 0xe1, 0xf7, 0x8b,
    0xb1, 0x1d, 0x4e, 0x66, 0xf8, 0xa8, 0xa3, 0x8a, 0xfa, 0x76, 0xaf, 0x6a, 0x31, 0xc4, 0xde, 0x8c,
    // y
    0x84, 0xce, 0x2d, 0xaf, 0xc9, 0x96, 0x42, 0x58, 0xb5, 0x3f, 0xad, 0x71, 0x87, 0x74, 0xf4, 0x56,
    0x20, 0xd1, 0x11, 0xb1, 0x76, 0xe8, 0x31, 0x8e, 0x11, 0x87, 0xdb, 0x02, 0x35, 0xa3, 0x18, 0xd3,
    0x7b, 0xa5, 0x97, 0xfe, 0xe8, 0x0e, 0x0e, 0x4c, 0x76, 0x2a, 0x12, 0xbc, 0xb3, 0xea, 0x6e, 0xd4,
];

/// The trust anchor of TF-A's QEMU platform: the public key that verifies its sample platform
/// token (see [`QEMU_SAMPLE_CPAK_SEC1`]).
pub fn qemu_sample_cpak() -> VerifyingKey {
    // A constant, not token data; the unit test `qemu_sample_cpak_is_a_p384_point` covers it.
    VerifyingKey::from_sec1_bytes(&QEMU_SAMPLE_CPAK_SEC1)
        .expect("QEMU_SAMPLE_CPAK_SEC1 is a valid P-384 point")
}

/// Decodes the realm public key claim: a COSE_Key `{kty: EC2, crv: P-384, x, y}` and nothing
/// else, whose point must lie on the curve.
pub(crate) fn decode_cose_key(bytes: &[u8]) -> Result<VerifyingKey, Error> {
    const WHAT: &str = "realm public key (COSE_Key)";
    let mut map = LabelMap::new(decode_exact(bytes, WHAT)?, WHAT)?;
    expect_int(&mut map, COSE_KEY_KTY, "kty", COSE_KTY_EC2, "EC2")?;
    expect_int(&mut map, COSE_KEY_CRV, "crv", COSE_CRV_P384, "P-384")?;
    let x = take_coordinate(&mut map, COSE_KEY_X, "x")?;
    let y = take_coordinate(&mut map, COSE_KEY_Y, "y")?;
    map.reject_unknown()?;

    let mut sec1 = Vec::with_capacity(SEC1_UNCOMPRESSED_SIZE);
    sec1.push(SEC1_UNCOMPRESSED_TAG);
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    VerifyingKey::from_sec1_bytes(&sec1)
        .map_err(|_| Error::Decode(format!("{WHAT}: (x, y) is not a point on P-384")))
}

/// Takes the integer at `label` and requires it to be `expected`.
fn expect_int(
    map: &mut LabelMap,
    label: i64,
    name: &str,
    expected: i64,
    expected_name: &str,
) -> Result<(), Error> {
    let found = map.take_int(label, name)?;
    if found == expected {
        Ok(())
    } else {
        Err(map.invalid(
            label,
            name,
            &format!("is {found}, expected {expected} ({expected_name})"),
        ))
    }
}

/// Takes a P-384 coordinate: a byte string of exactly one scalar's size.
fn take_coordinate(map: &mut LabelMap, label: i64, name: &str) -> Result<Vec<u8>, Error> {
    let coordinate = map.take_bytes(label, name)?;
    if coordinate.len() == P384_SCALAR_SIZE {
        Ok(coordinate)
    } else {
        Err(map.invalid(
            label,
            name,
            &format!("is {} bytes, expected {P384_SCALAR_SIZE}", coordinate.len()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes unpadded base64url (RFC 4648 §5), as JWK coordinates are written.
    fn base64url(text: &str) -> Vec<u8> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut bits = 0u32;
        let mut nbits = 0;
        let mut out = Vec::new();
        for c in text.bytes() {
            let digit = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
            bits = (bits << 6) | digit;
            nbits += 6;
            if nbits >= 8 {
                nbits -= 8;
                out.push((bits >> nbits) as u8);
                bits &= (1 << nbits) - 1;
            }
        }
        out
    }

    #[test]
    fn qemu_sample_cpak_is_a_p384_point() {
        let key = qemu_sample_cpak();
        let encoded = key.to_encoded_point(false);
        assert_eq!(encoded.as_bytes(), QEMU_SAMPLE_CPAK_SEC1);
    }

    #[test]
    fn qemu_sample_cpak_matches_its_jwk() {
        let x = base64url("IShnxS4rlQiwpCCpBWDzlNLfqiG911FP8akBr-fh94uxHU5m-Kijivp2r2oxxN6M");
        let y = base64url("hM4tr8mWQli1P61xh3T0ViDREbF26DGOEYfbAjWjGNN7pZf-6A4OTHYqEryz6m7U");
        assert_eq!(QEMU_SAMPLE_CPAK_SEC1[0], SEC1_UNCOMPRESSED_TAG);
        assert_eq!(
            &QEMU_SAMPLE_CPAK_SEC1[1..1 + P384_SCALAR_SIZE],
            x.as_slice()
        );
        assert_eq!(&QEMU_SAMPLE_CPAK_SEC1[1 + P384_SCALAR_SIZE..], y.as_slice());
    }
}
