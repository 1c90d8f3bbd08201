//! Generic CBOR helpers: strict single-item decoding and integer-labelled maps.

use std::collections::BTreeMap;

use ciborium::value::Value;

use crate::Error;

/// Decodes exactly one CBOR data item from `bytes`; trailing bytes are an error.
pub(crate) fn decode_exact(bytes: &[u8], what: &str) -> Result<Value, Error> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader(&mut rest)
        .map_err(|e| Error::Decode(format!("{what}: invalid CBOR: {e}")))?;
    if !rest.is_empty() {
        return Err(Error::Decode(format!(
            "{what}: {} trailing byte(s) after the CBOR item",
            rest.len()
        )));
    }
    Ok(value)
}

/// Names the CBOR type of `value` with its article ("a map"), for error messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Integer(_) => "an integer",
        Value::Bytes(_) => "a byte string",
        Value::Float(_) => "a float",
        Value::Text(_) => "a text string",
        Value::Bool(_) => "a bool",
        Value::Null => "null",
        Value::Tag(..) => "a tagged item",
        Value::Array(_) => "an array",
        Value::Map(_) => "a map",
        _ => "an unknown CBOR item",
    }
}

/// Returns the integer value of `value` if it is a CBOR integer that fits an `i64`.
pub(crate) fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(i) => i64::try_from(i128::from(*i)).ok(),
        _ => None,
    }
}

/// A CBOR map whose keys are all integers, each present once, consumed label by label.
///
/// Every accessor removes the entry it reads, so after the known labels are taken
/// [`LabelMap::reject_unknown`] can tell whether anything unexpected was left.
pub(crate) struct LabelMap {
    what: &'static str,
    entries: BTreeMap<i64, Value>,
}

impl LabelMap {
    /// Builds the map from a decoded CBOR item; `what` names it in error messages.
    pub(crate) fn new(value: Value, what: &'static str) -> Result<Self, Error> {
        let Value::Map(pairs) = value else {
            return Err(Error::Decode(format!(
                "{what}: expected a map, found {}",
                type_name(&value)
            )));
        };
        let mut entries = BTreeMap::new();
        for (key, item) in pairs {
            let label = as_i64(&key).ok_or_else(|| {
                Error::Decode(format!(
                    "{what}: map key is {}, expected an integer label",
                    type_name(&key)
                ))
            })?;
            if entries.insert(label, item).is_some() {
                return Err(Error::Decode(format!("{what}: duplicate label {label}")));
            }
        }
        Ok(Self { what, entries })
    }

    /// Removes and returns the value at `label`, if present.
    pub(crate) fn take_optional(&mut self, label: i64) -> Option<Value> {
        self.entries.remove(&label)
    }

    /// Removes and returns the mandatory value at `label` (`name` describes it).
    pub(crate) fn take(&mut self, label: i64, name: &str) -> Result<Value, Error> {
        self.take_optional(label).ok_or_else(|| {
            Error::Decode(format!(
                "{}: missing mandatory label {label} ({name})",
                self.what
            ))
        })
    }

    /// Removes the mandatory byte string at `label`.
    pub(crate) fn take_bytes(&mut self, label: i64, name: &str) -> Result<Vec<u8>, Error> {
        let value = self.take(label, name)?;
        self.expect_bytes(value, label, name)
    }

    /// Removes the mandatory text string at `label`.
    pub(crate) fn take_text(&mut self, label: i64, name: &str) -> Result<String, Error> {
        let value = self.take(label, name)?;
        self.expect_text(value, label, name)
    }

    /// Removes the optional text string at `label`.
    pub(crate) fn take_optional_text(
        &mut self,
        label: i64,
        name: &str,
    ) -> Result<Option<String>, Error> {
        self.take_optional(label)
            .map(|value| self.expect_text(value, label, name))
            .transpose()
    }

    /// Removes the mandatory array at `label`.
    pub(crate) fn take_array(&mut self, label: i64, name: &str) -> Result<Vec<Value>, Error> {
        match self.take(label, name)? {
            Value::Array(items) => Ok(items),
            other => Err(self.wrong_type(label, name, "an array", &other)),
        }
    }

    /// Removes the mandatory integer at `label`.
    pub(crate) fn take_int(&mut self, label: i64, name: &str) -> Result<i64, Error> {
        let value = self.take(label, name)?;
        as_i64(&value).ok_or_else(|| self.wrong_type(label, name, "an integer", &value))
    }

    /// Fails if any label was not taken: a strict map admits only the labels it knows.
    pub(crate) fn reject_unknown(self) -> Result<(), Error> {
        match self.entries.keys().next() {
            None => Ok(()),
            Some(label) => Err(Error::Decode(format!(
                "{}: unexpected label {label}",
                self.what
            ))),
        }
    }

    /// Builds the error for a value of the wrong type at `label`.
    pub(crate) fn wrong_type(
        &self,
        label: i64,
        name: &str,
        expected: &str,
        found: &Value,
    ) -> Error {
        Error::Decode(format!(
            "{}: label {label} ({name}) must be {expected}, found {}",
            self.what,
            type_name(found)
        ))
    }

    /// Builds the error for a value at `label` that has the right type but a bad content.
    pub(crate) fn invalid(&self, label: i64, name: &str, detail: &str) -> Error {
        Error::Decode(format!("{}: label {label} ({name}) {detail}", self.what))
    }

    /// Unwraps a byte string taken from `label`.
    fn expect_bytes(&self, value: Value, label: i64, name: &str) -> Result<Vec<u8>, Error> {
        match value {
            Value::Bytes(bytes) => Ok(bytes),
            other => Err(self.wrong_type(label, name, "a byte string", &other)),
        }
    }

    /// Unwraps a text string taken from `label`.
    fn expect_text(&self, value: Value, label: i64, name: &str) -> Result<String, Error> {
        match value {
            Value::Text(text) => Ok(text),
            other => Err(self.wrong_type(label, name, "a text string", &other)),
        }
    }
}
