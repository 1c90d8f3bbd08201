//! Realm Translation Tables: RIPAS and RTT entry state encodings, RTT levels and the number of
//! concatenated starting-level tables (DEN0137 A5.5, B4.4.23, B4.4.24, B5.4.7).

use crate::GRANULE_SHIFT;

/// Realm IPA state. RMI (`RmiRipas`, B4.4.23) and RSI (`RsiRipas`, B5.4.7) share these encodings.
///
/// B5.4.7 also lists `RSI_DEV` (3), a device-assignment value from later revisions; no RMM 1.0
/// command produces or accepts it, so it is not a variant here and decodes as `None`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u8)]
pub enum Ripas {
    /// No realm resources are mapped at the address.
    Empty = 0,
    /// Private realm code or data is mapped at the address.
    Ram = 1,
    /// The address is inaccessible to the realm because of a host action.
    Destroyed = 2,
}

impl Ripas {
    /// Decodes an 8-bit RIPAS encoding.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Empty,
            1 => Self::Ram,
            2 => Self::Destroyed,
            _ => return None,
        })
    }

    /// Decodes a register holding a RIPAS. Strict: any bit above the 8-bit encoding makes the value
    /// invalid (mask first if those bits are to be ignored).
    pub const fn from_u64(v: u64) -> Option<Self> {
        if v > u8::MAX as u64 {
            return None;
        }
        Self::from_u8(v as u8)
    }
}

/// RTT entry state as `RMI_RTT_READ_ENTRY` reports it (B4.4.24). The specification's five
/// internal states fold into three (B3.61): `UNASSIGNED_NS` reads as [`Self::Unassigned`] and
/// `ASSIGNED_NS` as [`Self::Assigned`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u8)]
pub enum RmiRttEntryState {
    /// Not associated with any granule.
    Unassigned = 0,
    /// Points to a DATA granule (protected IPA) or an NS granule (unprotected IPA).
    Assigned = 1,
    /// Points to the next-level RTT.
    Table = 2,
}

impl RmiRttEntryState {
    /// Decodes an 8-bit state encoding.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Unassigned,
            1 => Self::Assigned,
            2 => Self::Table,
            _ => return None,
        })
    }

    /// Decodes a register holding a state (strict, as [`Ripas::from_u64`]).
    pub const fn from_u64(v: u64) -> Option<Self> {
        if v > u8::MAX as u64 {
            return None;
        }
        Self::from_u8(v as u8)
    }
}

/// Lowest RTT level without LPA2.
pub const RTT_MIN_LEVEL: i64 = 0;
/// Lowest RTT level with LPA2 (a level -1 table resolves IPA bits `[51:48]`).
pub const RTT_MIN_LEVEL_LPA2: i64 = -1;
/// The page level: the last level, whose entries map 4 KiB granules.
pub const RTT_PAGE_LEVEL: i64 = 3;
/// Highest RTT level (the page level).
pub const RTT_MAX_LEVEL: i64 = RTT_PAGE_LEVEL;

/// IPA bits resolved per level (512 eight-byte entries in a 4 KiB table).
pub const RTT_STRIDE: u32 = 9;
/// Entries in one RTT.
pub const RTT_ENTRIES: usize = 1 << RTT_STRIDE;
/// Most starting-level tables stage 2 can concatenate.
pub const RTT_MAX_START_TABLES: u32 = 16;

/// Largest IPA width without LPA2.
pub const MAX_IPA_WIDTH: u64 = 48;
/// Largest IPA width with LPA2.
pub const MAX_IPA_WIDTH_LPA2: u64 = 52;

/// log2 of the bytes one entry at `level` maps (12 at level 3 ... 48 at level -1); `None` for a
/// level outside -1..=3.
pub const fn rtt_level_shift(level: i64) -> Option<u32> {
    if level < RTT_MIN_LEVEL_LPA2 || level > RTT_PAGE_LEVEL {
        return None;
    }
    Some(GRANULE_SHIFT + RTT_STRIDE * (RTT_PAGE_LEVEL - level) as u32)
}

/// Bytes one entry at `level` maps; `None` for a level outside -1..=3.
pub const fn rtt_level_size(level: i64) -> Option<u64> {
    match rtt_level_shift(level) {
        Some(shift) => Some(1 << shift),
        None => None,
    }
}

/// The number of concatenated starting-level RTTs (`rtt_num_start`) an IPA width of `s2sz` bits
/// needs when the walk starts at `level_start`, with 4 KiB granules.
///
/// One table at level `l` resolves `12 + 9 * (4 - l)` IPA bits; wider IPAs need
/// `2^(s2sz - that)` concatenated tables. Following the Arm ARM's starting-level consistency rule
/// (the one DEN0137 A5.5.3 defers to), the result is `None` when:
/// - `level_start` is outside -1..=3 or `s2sz` exceeds 52;
/// - the IPA is too narrow for the level (it would not use more than one entry of a single
///   starting table: `s2sz < 12 + 9 * (3 - l) + 1`), i.e. the walk should start deeper;
/// - more than [`RTT_MAX_START_TABLES`] tables would be needed.
///
/// Whether LPA2 is enabled (needed for level -1 and for `s2sz > 48`) is the caller's check.
pub const fn rtt_num_start(s2sz: u64, level_start: i64) -> Option<u32> {
    if s2sz > MAX_IPA_WIDTH_LPA2 {
        return None;
    }
    let entry_shift = match rtt_level_shift(level_start) {
        Some(shift) => shift as u64,
        None => return None,
    };
    let table_bits = entry_shift + RTT_STRIDE as u64;
    if s2sz <= entry_shift {
        return None;
    }
    if s2sz <= table_bits {
        return Some(1);
    }
    let extra = s2sz - table_bits;
    if (1u64 << extra) > RTT_MAX_START_TABLES as u64 {
        return None;
    }
    Some(1 << extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_the_spec_tables() {
        assert_eq!(Ripas::Empty as u8, 0);
        assert_eq!(Ripas::Ram as u8, 1);
        assert_eq!(Ripas::Destroyed as u8, 2);
        assert_eq!(RmiRttEntryState::Unassigned as u8, 0);
        assert_eq!(RmiRttEntryState::Assigned as u8, 1);
        assert_eq!(RmiRttEntryState::Table as u8, 2);
        for r in [Ripas::Empty, Ripas::Ram, Ripas::Destroyed] {
            assert_eq!(Ripas::from_u8(r as u8), Some(r));
            assert_eq!(Ripas::from_u64(r as u64), Some(r));
        }
        for s in [
            RmiRttEntryState::Unassigned,
            RmiRttEntryState::Assigned,
            RmiRttEntryState::Table,
        ] {
            assert_eq!(RmiRttEntryState::from_u64(s as u64), Some(s));
        }
        // RSI_DEV and beyond are not RMM 1.0 values; stray upper bits are rejected.
        assert_eq!(Ripas::from_u8(3), None);
        assert_eq!(Ripas::from_u64(0x101), None);
        assert_eq!(RmiRttEntryState::from_u8(3), None);
        assert_eq!(RmiRttEntryState::from_u64(1 << 8), None);
    }

    #[test]
    fn level_sizes() {
        assert_eq!(rtt_level_size(3), Some(0x1000));
        assert_eq!(rtt_level_size(2), Some(0x20_0000));
        assert_eq!(rtt_level_size(1), Some(0x4000_0000));
        assert_eq!(rtt_level_size(0), Some(1 << 39));
        assert_eq!(rtt_level_size(-1), Some(1 << 48));
        assert_eq!(rtt_level_size(4), None);
        assert_eq!(rtt_level_size(-2), None);
        assert_eq!(RTT_ENTRIES, 512);
    }

    #[test]
    fn start_table_counts() {
        // A 40-bit IPA starting at level 1 needs two concatenated level-1 tables.
        assert_eq!(rtt_num_start(40, 1), Some(2));
        assert_eq!(rtt_num_start(48, 0), Some(1));
        assert_eq!(rtt_num_start(39, 1), Some(1));
        assert_eq!(rtt_num_start(43, 1), Some(16));
        assert_eq!(rtt_num_start(33, 2), Some(8));
        assert_eq!(rtt_num_start(31, 1), Some(1));
        // LPA2 shapes.
        assert_eq!(rtt_num_start(52, -1), Some(1));
        assert_eq!(rtt_num_start(52, 0), Some(16));
    }

    #[test]
    fn start_table_counts_out_of_range() {
        // More than 16 tables.
        assert_eq!(rtt_num_start(44, 1), None);
        assert_eq!(rtt_num_start(48, 2), None);
        // Too narrow for the starting level: one entry of one table would cover it all.
        assert_eq!(rtt_num_start(39, 0), None);
        assert_eq!(rtt_num_start(30, 1), None);
        assert_eq!(rtt_num_start(48, -1), None);
        // Level or width outside the architecture.
        assert_eq!(rtt_num_start(40, 4), None);
        assert_eq!(rtt_num_start(40, -2), None);
        assert_eq!(rtt_num_start(53, 0), None);
        assert_eq!(rtt_num_start(0, 3), None);
    }
}
