//! A CBOR (RFC 8949) encoder that writes definite-length items into a caller's fixed buffer.
//!
//! It owns only the byte encoding: the shortest head for every integer argument, byte and text
//! strings, array and map heads, and tags. What the items mean (the realm token's claims, the
//! COSE_Sign1 envelope) belongs to the attestation code that drives it. No heap: a full buffer is
//! reported as [`CborError::Full`] and leaves the bytes already written untouched.

/// Why an item could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CborError {
    /// The buffer has no room for the whole item; nothing of it was written.
    Full,
}

/// CBOR major types (the top three bits of an item's first byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Major {
    Unsigned = 0,
    Negative = 1,
    Bytes = 2,
    Text = 3,
    Array = 4,
    Map = 5,
    Tag = 6,
    Simple = 7,
}

/// Simple values `false`, `true` and `null` (major type 7).
const SIMPLE_FALSE: u8 = 20;
const SIMPLE_TRUE: u8 = 21;
const SIMPLE_NULL: u8 = 22;

/// Writes CBOR items one after another into `buf`.
pub struct CborWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> CborWriter<'a> {
    /// A writer that starts at the beginning of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The encoded bytes so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// An unsigned integer.
    pub fn uint(&mut self, v: u64) -> Result<(), CborError> {
        self.item(Major::Unsigned, v, &[])
    }

    /// A signed integer (negative values use major type 1, encoding `-1 - v`).
    pub fn int(&mut self, v: i64) -> Result<(), CborError> {
        if v >= 0 {
            self.item(Major::Unsigned, v as u64, &[])
        } else {
            // -1 - v for v < 0 is in 0..=i64::MAX, so the cast cannot wrap.
            self.item(Major::Negative, (-1 - v) as u64, &[])
        }
    }

    /// A byte string.
    pub fn bytes(&mut self, b: &[u8]) -> Result<(), CborError> {
        self.item(Major::Bytes, b.len() as u64, b)
    }

    /// Only the head of a byte string of `len` bytes: the caller supplies the content elsewhere
    /// (hashes it, or copies it after). Used where a large string is never held in one buffer.
    pub fn bytes_head(&mut self, len: usize) -> Result<(), CborError> {
        self.item(Major::Bytes, len as u64, &[])
    }

    /// A text string (UTF-8 by construction of `&str`).
    pub fn text(&mut self, s: &str) -> Result<(), CborError> {
        self.item(Major::Text, s.len() as u64, s.as_bytes())
    }

    /// The head of an array of `n` items; the items follow.
    pub fn array(&mut self, n: u64) -> Result<(), CborError> {
        self.item(Major::Array, n, &[])
    }

    /// The head of a map of `n` key/value pairs; the pairs follow.
    pub fn map(&mut self, n: u64) -> Result<(), CborError> {
        self.item(Major::Map, n, &[])
    }

    /// A tag; the tagged item follows.
    pub fn tag(&mut self, t: u64) -> Result<(), CborError> {
        self.item(Major::Tag, t, &[])
    }

    /// `true` or `false`.
    pub fn bool(&mut self, v: bool) -> Result<(), CborError> {
        let simple = if v { SIMPLE_TRUE } else { SIMPLE_FALSE };
        self.item(Major::Simple, simple.into(), &[])
    }

    /// `null`.
    pub fn null(&mut self) -> Result<(), CborError> {
        self.item(Major::Simple, SIMPLE_NULL.into(), &[])
    }

    /// The head for `major` with argument `arg` in its shortest form, then `payload`; all or
    /// nothing.
    fn item(&mut self, major: Major, arg: u64, payload: &[u8]) -> Result<(), CborError> {
        let mut head = [0u8; 9];
        let m = (major as u8) << 5;
        let head_len = match arg {
            0..=23 => {
                head[0] = m | arg as u8;
                1
            }
            24..=0xff => {
                head[0] = m | 24;
                head[1] = arg as u8;
                2
            }
            0x100..=0xffff => {
                head[0] = m | 25;
                head[1..3].copy_from_slice(&(arg as u16).to_be_bytes());
                3
            }
            0x1_0000..=0xffff_ffff => {
                head[0] = m | 26;
                head[1..5].copy_from_slice(&(arg as u32).to_be_bytes());
                5
            }
            _ => {
                head[0] = m | 27;
                head[1..9].copy_from_slice(&arg.to_be_bytes());
                9
            }
        };
        let end = self
            .len
            .checked_add(head_len)
            .and_then(|e| e.checked_add(payload.len()))
            .filter(|&e| e <= self.buf.len())
            .ok_or(CborError::Full)?;
        let body = self.len + head_len;
        self.buf[self.len..body].copy_from_slice(&head[..head_len]);
        self.buf[body..end].copy_from_slice(payload);
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes with `f` into a 64-byte buffer and returns the bytes.
    fn enc(f: impl FnOnce(&mut CborWriter<'_>) -> Result<(), CborError>) -> ([u8; 64], usize) {
        let mut buf = [0u8; 64];
        let mut w = CborWriter::new(&mut buf);
        f(&mut w).unwrap();
        let n = w.len();
        (buf, n)
    }

    fn check(f: impl FnOnce(&mut CborWriter<'_>) -> Result<(), CborError>, want: &[u8]) {
        let (buf, n) = enc(f);
        assert_eq!(&buf[..n], want);
    }

    // Vectors from RFC 8949 Appendix A.
    #[test]
    fn integers_take_their_shortest_head() {
        check(|w| w.uint(0), &[0x00]);
        check(|w| w.uint(23), &[0x17]);
        check(|w| w.uint(24), &[0x18, 0x18]);
        check(|w| w.uint(100), &[0x18, 0x64]);
        check(|w| w.uint(1000), &[0x19, 0x03, 0xe8]);
        check(|w| w.uint(1_000_000), &[0x1a, 0x00, 0x0f, 0x42, 0x40]);
        check(
            |w| w.uint(1_000_000_000_000),
            &[0x1b, 0x00, 0x00, 0x00, 0xe8, 0xd4, 0xa5, 0x10, 0x00],
        );
        check(
            |w| w.uint(u64::MAX),
            &[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        );
        check(|w| w.int(-1), &[0x20]);
        check(|w| w.int(-10), &[0x29]);
        check(|w| w.int(-100), &[0x38, 0x63]);
        check(|w| w.int(-1000), &[0x39, 0x03, 0xe7]);
        check(
            |w| w.int(i64::MIN),
            &[0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        );
    }

    #[test]
    fn strings_arrays_maps_tags_and_simples() {
        check(|w| w.bytes(&[]), &[0x40]);
        check(|w| w.bytes(&[1, 2, 3, 4]), &[0x44, 1, 2, 3, 4]);
        // A head alone, for content supplied elsewhere: 1-, 2- and 3-byte forms.
        check(|w| w.bytes_head(4), &[0x44]);
        check(|w| w.bytes_head(1518), &[0x59, 0x05, 0xee]);
        check(|w| w.bytes_head(96), &[0x58, 0x60]);
        check(|w| w.text(""), &[0x60]);
        check(|w| w.text("IETF"), &[0x64, 0x49, 0x45, 0x54, 0x46]);
        check(|w| w.text("\u{00fc}"), &[0x62, 0xc3, 0xbc]);
        check(
            |w| {
                w.array(3)?;
                w.uint(1)?;
                w.uint(2)?;
                w.uint(3)
            },
            &[0x83, 0x01, 0x02, 0x03],
        );
        check(
            |w| {
                w.map(2)?;
                w.uint(1)?;
                w.uint(2)?;
                w.uint(3)?;
                w.uint(4)
            },
            &[0xa2, 0x01, 0x02, 0x03, 0x04],
        );
        check(
            |w| {
                w.tag(1)?;
                w.uint(1_363_896_240)
            },
            &[0xc1, 0x1a, 0x51, 0x4b, 0x67, 0xb0],
        );
        // Tags the attestation token uses: COSE_Sign1 (18) and the CCA collection (399).
        check(|w| w.tag(18), &[0xd2]);
        check(|w| w.tag(399), &[0xd9, 0x01, 0x8f]);
        check(|w| w.bool(false), &[0xf4]);
        check(|w| w.bool(true), &[0xf5]);
        check(|w| w.null(), &[0xf6]);
    }

    #[test]
    fn a_full_buffer_refuses_the_whole_item_and_keeps_what_was_written() {
        let mut buf = [0xaau8; 6];
        let mut w = CborWriter::new(&mut buf);
        w.uint(1).unwrap();
        assert_eq!(w.bytes(&[9; 5]), Err(CborError::Full));
        assert_eq!(w.uint(u64::MAX), Err(CborError::Full));
        assert_eq!(w.as_bytes(), &[0x01]);
        w.bytes(&[7; 4]).unwrap();
        assert_eq!(w.as_bytes(), &[0x01, 0x44, 7, 7, 7, 7]);
        assert_eq!(w.null(), Err(CborError::Full));
        assert_eq!(buf, [0x01, 0x44, 7, 7, 7, 7]);
    }

    #[test]
    fn an_empty_buffer_takes_nothing() {
        let mut buf = [];
        let mut w = CborWriter::new(&mut buf);
        assert!(w.is_empty());
        assert_eq!(w.uint(0), Err(CborError::Full));
        assert_eq!(w.len(), 0);
    }
}
