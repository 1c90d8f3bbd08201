//! Interface version numbers (RMI, RSI, RMM-EL3 interface, boot manifest): bits \[30:16\] hold the
//! major revision, bits \[15:0\] the minor revision.

/// A `major.minor` interface version in the packed form every CCA interface uses.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub struct AbiVersion(u32);

impl AbiVersion {
    const MAJOR_SHIFT: u32 = 16;
    const MAJOR_MASK: u32 = 0x7FFF;
    const MINOR_MASK: u32 = 0xFFFF;

    /// Builds `major.minor`; out-of-range bits are dropped.
    pub const fn new(major: u16, minor: u16) -> Self {
        Self((((major as u32) & Self::MAJOR_MASK) << Self::MAJOR_SHIFT) | minor as u32)
    }

    /// Decodes a register value. Bits 63:31 are not part of the version and are ignored.
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw as u32 & ((Self::MAJOR_MASK << Self::MAJOR_SHIFT) | Self::MINOR_MASK))
    }

    /// The packed register value.
    pub const fn raw(self) -> u64 {
        self.0 as u64
    }

    /// Major revision.
    pub const fn major(self) -> u16 {
        ((self.0 >> Self::MAJOR_SHIFT) & Self::MAJOR_MASK) as u16
    }

    /// Minor revision.
    pub const fn minor(self) -> u16 {
        (self.0 & Self::MINOR_MASK) as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_major_and_minor() {
        assert_eq!(AbiVersion::new(1, 0).raw(), 0x1_0000);
        assert_eq!(AbiVersion::new(0, 4).raw(), 0x4);
        let v = AbiVersion::from_raw(0xFFFF_FFFF_0002_0003);
        assert_eq!((v.major(), v.minor()), (2, 3));
        assert!(AbiVersion::new(1, 1) > AbiVersion::new(1, 0));
    }
}
