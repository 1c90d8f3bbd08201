//! COSE_Sign1 handling (RFC 9052) through `coset`: tagged decoding, the ES384 algorithm check
//! and signature verification.

use ciborium::value::Value;
use coset::{iana, AsCborValue, CoseSign1, RegisteredLabelWithPrivate};
use hostcall_abi::attest::{COSE_ALG_ES384, COSE_HEADER_ALG, COSE_SIGN1_TAG, ES384_SIGNATURE_SIZE};
use p384::ecdsa::signature::Verifier;
use p384::ecdsa::{Signature, VerifyingKey};

use crate::cbor::{decode_exact, type_name};
use crate::{Error, TokenKind};

// `coset` fills in the tag and the `alg` label itself: pin them to the wire contract.
const _: () = assert!(<CoseSign1 as coset::TaggedCborSerializable>::TAG == COSE_SIGN1_TAG);
const _: () = assert!(iana::HeaderParameter::Alg as i64 == COSE_HEADER_ALG);

/// A decoded COSE_Sign1 with an attached payload and a signature of ES384 size.
pub(crate) struct Sign1 {
    kind: TokenKind,
    message: CoseSign1,
}

impl Sign1 {
    /// Decodes a tagged COSE_Sign1 (`#6.18([...])`) that fills `bytes` exactly.
    pub(crate) fn decode(bytes: &[u8], kind: TokenKind) -> Result<Self, Error> {
        let what = kind.cose_name();
        let inner = match decode_exact(bytes, what)? {
            Value::Tag(COSE_SIGN1_TAG, inner) => *inner,
            Value::Tag(tag, _) => {
                return Err(Error::Decode(format!(
                    "{what}: CBOR tag {tag}, expected {COSE_SIGN1_TAG} (COSE_Sign1)"
                )))
            }
            other => {
                return Err(Error::Decode(format!(
                    "{what}: found {}, expected CBOR tag {COSE_SIGN1_TAG} (COSE_Sign1)",
                    type_name(&other)
                )))
            }
        };
        let message = CoseSign1::from_cbor_value(inner)
            .map_err(|e| Error::Decode(format!("{what}: not a COSE_Sign1: {e}")))?;
        let sign1 = Self { kind, message };
        sign1.check_shape()?;
        Ok(sign1)
    }

    /// Checks what `coset` leaves open: an attached payload, no critical header parameters (none
    /// is understood here) and a raw r || s signature of ES384 size.
    fn check_shape(&self) -> Result<(), Error> {
        let what = self.kind.cose_name();
        if self.message.payload.is_none() {
            return Err(Error::Decode(format!("{what}: detached (nil) payload")));
        }
        if !self.message.protected.header.crit.is_empty() {
            return Err(Error::Decode(format!(
                "{what}: critical header parameters are not supported"
            )));
        }
        let len = self.message.signature.len();
        if len != ES384_SIGNATURE_SIZE {
            return Err(Error::Decode(format!(
                "{what}: signature is {len} bytes, expected {ES384_SIGNATURE_SIZE} (ES384 r || s)"
            )));
        }
        Ok(())
    }

    /// Requires an empty unprotected header bucket.
    pub(crate) fn require_empty_unprotected(&self) -> Result<(), Error> {
        if self.message.unprotected.is_empty() {
            Ok(())
        } else {
            Err(Error::Decode(format!(
                "{}: unprotected header is not empty",
                self.kind.cose_name()
            )))
        }
    }

    /// The signed payload (the claims map encoding).
    pub(crate) fn payload(&self) -> &[u8] {
        self.message.payload.as_deref().unwrap_or_default()
    }

    /// Requires the protected header's `alg` to be ES384.
    pub(crate) fn check_algorithm(&self) -> Result<(), Error> {
        let found = match &self.message.protected.header.alg {
            Some(RegisteredLabelWithPrivate::Assigned(alg)) if *alg as i64 == COSE_ALG_ES384 => {
                return Ok(())
            }
            Some(RegisteredLabelWithPrivate::Assigned(alg)) => (*alg as i64).to_string(),
            Some(RegisteredLabelWithPrivate::PrivateUse(alg)) => alg.to_string(),
            Some(RegisteredLabelWithPrivate::Text(alg)) => format!("{alg:?}"),
            None => "absent".to_owned(),
        };
        Err(Error::Algorithm {
            token: self.kind,
            found,
        })
    }

    /// Checks the ES384 signature over the Sig_structure (external AAD empty) with `key`.
    pub(crate) fn signature_verifies(&self, key: &VerifyingKey) -> bool {
        self.message
            .verify_signature(&[], |signature, to_be_signed| {
                let signature = Signature::from_slice(signature)?;
                key.verify(to_be_signed, &signature)
            })
            .is_ok()
    }
}
