//! Byte images of the shared memory structures, without `unsafe`.
//!
//! Every structure in this crate is `#[repr(C)]` with each reserved byte spelled out as a field,
//! so it has no implicit padding and its in-memory form on a little-endian machine (AArch64, as
//! CCA requires, and the x86-64/AArch64 machines the host tests run on) is exactly the wire
//! format. [`Wire`] writes and parses that form field by field, for code that must not or cannot
//! reinterpret memory: hashing the measured `RmiRealmParams`/`RmiRecParams`, copying a structure
//! through a byte window onto an NS granule or realm memory, or building images in tests.
//!
//! Encoding writes every field, reserved ones included, so `decode(encode(x)) == x` and encoding a
//! decoded buffer reproduces the buffer byte for byte.

/// A buffer was shorter than the structure it had to hold.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ShortBuffer {
    /// Bytes the structure occupies.
    pub needed: usize,
    /// Bytes the buffer had.
    pub got: usize,
}

/// A structure with a fixed little-endian byte image of [`Wire::SIZE`] bytes.
pub trait Wire: Sized {
    /// Size of the image in bytes (equal to `size_of::<Self>()`).
    const SIZE: usize;

    /// Writes the image to `out[..SIZE]`; bytes beyond `SIZE` are left alone.
    fn encode(&self, out: &mut [u8]) -> Result<(), ShortBuffer>;

    /// Parses the image at `bytes[..SIZE]`. Every bit pattern is accepted: fields that hold
    /// enumerations stay raw integers, to be decoded by their typed accessors.
    fn decode(bytes: &[u8]) -> Result<Self, ShortBuffer>;
}

/// A field that knows its own little-endian image (crate-internal building block of [`Wire`]).
pub(crate) trait Field: Sized {
    /// Writes the field at the start of `out`.
    fn put(&self, out: &mut [u8]);
    /// Reads the field from the start of `bytes`.
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! int_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn put(&self, out: &mut [u8]) {
                out[..size_of::<$t>()].copy_from_slice(&self.to_le_bytes());
            }

            fn get(bytes: &[u8]) -> Self {
                let mut raw = [0u8; size_of::<$t>()];
                raw.copy_from_slice(&bytes[..size_of::<$t>()]);
                <$t>::from_le_bytes(raw)
            }
        }
    )*};
}

int_field!(u8, u16, u32, u64, i64);

impl<const N: usize> Field for [u8; N] {
    fn put(&self, out: &mut [u8]) {
        out[..N].copy_from_slice(self);
    }

    fn get(bytes: &[u8]) -> Self {
        let mut raw = [0u8; N];
        raw.copy_from_slice(&bytes[..N]);
        raw
    }
}

impl<const N: usize> Field for [u64; N] {
    fn put(&self, out: &mut [u8]) {
        for (v, chunk) in self.iter().zip(out.chunks_exact_mut(8)) {
            v.put(chunk);
        }
    }

    fn get(bytes: &[u8]) -> Self {
        let mut raw = [0u64; N];
        for (v, chunk) in raw.iter_mut().zip(bytes.chunks_exact(8)) {
            *v = u64::get(chunk);
        }
        raw
    }
}

/// `bytes[..size]`, or the reason it does not exist.
pub(crate) fn window(bytes: &[u8], size: usize) -> Result<&[u8], ShortBuffer> {
    bytes.get(..size).ok_or(ShortBuffer {
        needed: size,
        got: bytes.len(),
    })
}

/// `out[..size]`, or the reason it does not exist.
pub(crate) fn window_mut(out: &mut [u8], size: usize) -> Result<&mut [u8], ShortBuffer> {
    let got = out.len();
    out.get_mut(..size).ok_or(ShortBuffer { needed: size, got })
}

/// Implements [`Wire`] for a `#[repr(C)]` struct from the list of all its fields. A field left out
/// of the list fails to compile (the decoder builds the struct with a literal), and each field is
/// placed at its `offset_of!`, so the image cannot drift from the layout.
macro_rules! impl_wire {
    ($ty:ty { $($field:ident),+ $(,)? }) => {
        impl $crate::wire::Wire for $ty {
            const SIZE: usize = ::core::mem::size_of::<$ty>();

            fn encode(&self, out: &mut [u8]) -> Result<(), $crate::wire::ShortBuffer> {
                use $crate::wire::Field;
                let out = $crate::wire::window_mut(out, Self::SIZE)?;
                $(self.$field.put(&mut out[::core::mem::offset_of!($ty, $field)..]);)+
                Ok(())
            }

            fn decode(bytes: &[u8]) -> Result<Self, $crate::wire::ShortBuffer> {
                use $crate::wire::Field;
                let bytes = $crate::wire::window(bytes, Self::SIZE)?;
                Ok(Self {
                    $($field: Field::get(&bytes[::core::mem::offset_of!($ty, $field)..]),)+
                })
            }
        }
    };
}

pub(crate) use impl_wire;

/// Test helper: decoding a patterned buffer and encoding the result into a zeroed one must
/// reproduce the pattern, which proves that the field list covers every byte exactly once.
#[cfg(test)]
pub(crate) fn assert_image_round_trips<T: Wire + PartialEq + core::fmt::Debug>() {
    const MAX: usize = 4096;
    assert!(T::SIZE <= MAX);
    let mut pattern = [0u8; MAX];
    for (i, b) in pattern.iter_mut().enumerate() {
        // Distinct-ish, never zero, and different in neighbouring bytes.
        *b = (i as u8).wrapping_mul(31).wrapping_add(7) | 1;
    }
    let value = T::decode(&pattern[..T::SIZE]).unwrap();
    let mut out = [0u8; MAX];
    value.encode(&mut out[..T::SIZE]).unwrap();
    assert_eq!(&out[..T::SIZE], &pattern[..T::SIZE]);
    assert_eq!(T::decode(&out[..T::SIZE]).unwrap(), value);
    assert_eq!(
        T::decode(&pattern[..T::SIZE - 1]).unwrap_err(),
        ShortBuffer {
            needed: T::SIZE,
            got: T::SIZE - 1
        }
    );
    assert_eq!(
        value.encode(&mut out[..T::SIZE - 1]).unwrap_err(),
        ShortBuffer {
            needed: T::SIZE,
            got: T::SIZE - 1
        }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_little_endian() {
        let mut b = [0u8; 8];
        0x0102_0304_0506_0708u64.put(&mut b);
        assert_eq!(b, [8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(u16::get(&[0x34, 0x12]), 0x1234);
        assert_eq!(i64::get(&[0xFF; 8]), -1);
        let mut w = [0u8; 16];
        [1u64, 2].put(&mut w);
        assert_eq!(w[0], 1);
        assert_eq!(w[8], 2);
        assert_eq!(<[u64; 2]>::get(&w), [1, 2]);
    }
}
