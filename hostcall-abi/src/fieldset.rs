//! Single-bit flag fieldsets (the specification's "fieldset" types whose fields are all one bit
//! wide, such as `RmiRecEnterFlags` or `RsiRipasChangeFlags`).
//!
//! Every such type in this crate is a `#[repr(transparent)]` newtype over `u64` with the same API:
//!
//! - one associated constant per defined flag, plus `EMPTY` and `DEFINED_MASK`;
//! - `from_bits` (keeps every bit, reserved ones included: any `u64` is a valid value, so the
//!   type can sit directly in a structure read from untrusted memory) and `bits`;
//! - `contains`, `union`, `difference` and `|`;
//! - `reserved_bits` / `reserved_bits_set`, for the SBZ/MBZ checks the specification asks for.
//!
//! `Debug` prints the set flag names, and any reserved bits in hex.

/// Defines a `u64` flag fieldset with the API described in the module documentation.
macro_rules! fieldset64 {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$fdoc:meta])* $flag:ident = $bit:expr;)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        #[repr(transparent)]
        pub struct $name(u64);

        #[allow(clippy::identity_op)]
        impl $name {
            $($(#[$fdoc])* pub const $flag: Self = Self(1 << $bit);)+

            /// No flag set.
            pub const EMPTY: Self = Self(0);

            /// The bits the specification defines; every other bit is reserved.
            pub const DEFINED_MASK: u64 = 0 $(| 1 << $bit)+;

            /// Wraps a raw value; reserved bits are kept so that they can be checked.
            pub const fn from_bits(bits: u64) -> Self {
                Self(bits)
            }

            /// The raw value.
            pub const fn bits(self) -> u64 {
                self.0
            }

            /// True if every bit set in `other` is also set in `self`.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// `self` with the bits of `other` added.
            #[must_use]
            pub const fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }

            /// `self` with the bits of `other` removed.
            #[must_use]
            pub const fn difference(self, other: Self) -> Self {
                Self(self.0 & !other.0)
            }

            /// The set bits that the specification reserves.
            pub const fn reserved_bits(self) -> u64 {
                self.0 & !Self::DEFINED_MASK
            }

            /// True if any reserved bit is set.
            pub const fn reserved_bits_set(self) -> bool {
                self.reserved_bits() != 0
            }
        }

        impl ::core::ops::BitOr for $name {
            type Output = Self;

            fn bitor(self, rhs: Self) -> Self {
                self.union(rhs)
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(concat!(stringify!($name), "("))?;
                let mut sep = "";
                $(
                    if self.contains(Self::$flag) {
                        write!(f, "{}{}", sep, stringify!($flag))?;
                        sep = " | ";
                    }
                )+
                if self.reserved_bits_set() {
                    write!(f, "{}{:#x}", sep, self.reserved_bits())?;
                }
                f.write_str(")")
            }
        }

        impl $crate::wire::Field for $name {
            fn put(&self, out: &mut [u8]) {
                $crate::wire::Field::put(&self.0, out)
            }

            fn get(bytes: &[u8]) -> Self {
                Self(<u64 as $crate::wire::Field>::get(bytes))
            }
        }
    };
}

pub(crate) use fieldset64;

#[cfg(test)]
mod tests {
    use core::fmt::Write;

    fieldset64! {
        /// Test fieldset.
        pub struct TestFlags {
            /// Bit 0.
            A = 0;
            /// Bit 3.
            B = 3;
        }
    }

    struct Buf {
        bytes: [u8; 64],
        len: usize,
    }

    impl Write for Buf {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = self.len + s.len();
            self.bytes
                .get_mut(self.len..end)
                .ok_or(core::fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }

    fn debug(flags: TestFlags) -> Buf {
        let mut b = Buf {
            bytes: [0; 64],
            len: 0,
        };
        write!(b, "{flags:?}").unwrap();
        b
    }

    #[test]
    fn flag_operations() {
        assert_eq!(TestFlags::DEFINED_MASK, 0b1001);
        let f = TestFlags::A | TestFlags::B;
        assert_eq!(f.bits(), 0b1001);
        assert!(f.contains(TestFlags::B));
        assert!(!TestFlags::A.contains(TestFlags::B));
        assert_eq!(f.difference(TestFlags::A), TestFlags::B);
        assert!(!f.reserved_bits_set());
        let r = TestFlags::from_bits(0b1_0010);
        assert_eq!(r.reserved_bits(), 0b1_0010);
        assert!(r.reserved_bits_set());
    }

    #[test]
    fn debug_names_flags_and_reserved_bits() {
        let b = debug(TestFlags::from_bits(0b1_1001));
        assert_eq!(&b.bytes[..b.len], b"TestFlags(A | B | 0x10)");
        let b = debug(TestFlags::EMPTY);
        assert_eq!(&b.bytes[..b.len], b"TestFlags()");
    }
}
