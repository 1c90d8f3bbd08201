//! RTT geometry: how an IPA splits into per-level table indexes, what each level's entries map,
//! which IPAs are protected, and which starting-level configurations a realm may ask for
//! (DEN0137 A5.5.2, A5.5.3, A5.2.1; B3.4-B3.8, B3.55, B3.60, B3.65-B3.68).
//!
//! Only 4 KiB granules and 48-bit IPAs are covered: this RMM does not offer LPA2, so levels are
//! 0 (512 GiB per entry) to 3 (4 KiB pages). Level -1 and IPAs wider than 48 bits are rejected.
//!
//! Every input here may come straight from the host (an IPA, a level, an IPA width): functions
//! answer `None` or `false` for values outside the architecture instead of panicking.

use hostcall_abi::rtt::{
    rtt_level_shift, rtt_num_start, MAX_IPA_WIDTH, RTT_ENTRIES, RTT_MIN_LEVEL, RTT_PAGE_LEVEL,
};
use hostcall_abi::GRANULE_SIZE;

/// Lowest level whose entries may map memory directly (1 GiB blocks). Levels 1 and 2 hold block
/// entries, level 3 page entries; a level-0 entry is only ever UNASSIGNED, UNASSIGNED_NS or TABLE
/// (A5.5.4).
pub const MIN_BLOCK_LEVEL: i64 = 1;

/// log2 of the bytes one entry at `level` maps: 39, 30, 21, 12 for levels 0..=3; `None` for any
/// other level.
pub const fn level_shift(level: i64) -> Option<u32> {
    if level < RTT_MIN_LEVEL {
        return None;
    }
    rtt_level_shift(level)
}

/// Bytes one entry at `level` maps (`RttLevelSize`, B3.68): the block size at levels 1 and 2,
/// the page size at level 3, 512 GiB at level 0. `None` for a level outside 0..=3.
pub const fn block_size(level: i64) -> Option<u64> {
    match level_shift(level) {
        Some(shift) => Some(1 << shift),
        None => None,
    }
}

/// Index of the entry describing `ipa` in a single (not concatenated) level-`level` RTT
/// (`RttEntryIndex`, B3.60): IPA bits `[shift + 8 : shift]`. For the starting level, whose
/// tables may be concatenated, use [`RttConfig::start_index`]. `None` for an invalid level.
pub const fn index_of(ipa: u64, level: i64) -> Option<usize> {
    match level_shift(level) {
        Some(shift) => Some(((ipa >> shift) as usize) & (RTT_ENTRIES - 1)),
        None => None,
    }
}

/// `addr` rounded down to the range one level-`level` entry maps (`AlignDownToRttLevel`, B3.7).
pub const fn align_down(addr: u64, level: i64) -> Option<u64> {
    match block_size(level) {
        Some(size) => Some(addr & !(size - 1)),
        None => None,
    }
}

/// `addr` rounded up to the range one level-`level` entry maps (`AlignUpToRttLevel`, B3.8);
/// `None` for an invalid level or when the result does not fit in 64 bits.
pub const fn align_up(addr: u64, level: i64) -> Option<u64> {
    match block_size(level) {
        Some(size) => match addr.checked_add(size - 1) {
            Some(v) => Some(v & !(size - 1)),
            None => None,
        },
        None => None,
    }
}

/// Whether `addr` is aligned to the range one level-`level` entry maps
/// (`AddrIsRttLevelAligned`, B3.5); `false` for an invalid level.
pub const fn is_aligned(addr: u64, level: i64) -> bool {
    match block_size(level) {
        Some(size) => addr & (size - 1) == 0,
        None => false,
    }
}

/// Whether entries at `level` may map memory (blocks at levels 1 and 2, pages at level 3), that
/// is whether an ASSIGNED or ASSIGNED_NS entry can exist there (A5.5.4).
pub const fn is_block_or_page_level(level: i64) -> bool {
    level >= MIN_BLOCK_LEVEL && level <= RTT_PAGE_LEVEL
}

/// `2^s2sz`, the first IPA outside a realm of IPA width `s2sz`; `None` when `s2sz` is 0 or wider
/// than 48 bits.
pub const fn ipa_limit(s2sz: u64) -> Option<u64> {
    if s2sz == 0 || s2sz > MAX_IPA_WIDTH {
        return None;
    }
    Some(1 << s2sz)
}

/// Whether `ipa` lies inside the IPA space of a realm of width `s2sz` (`ipa < 2^s2sz`, the
/// commands' `ipa_bound` condition). `false` for an unsupported width.
pub const fn ipa_in_range(ipa: u64, s2sz: u64) -> bool {
    match ipa_limit(s2sz) {
        Some(limit) => ipa < limit,
        None => false,
    }
}

/// Whether `ipa` is a Protected IPA of a realm of width `s2sz` (`AddrIsProtected`, B3.4): the
/// lower half of the IPA space, `ipa < 2^(s2sz - 1)`. The most significant IPA bit selects the
/// Unprotected half (A5.2.1). `false` for an unsupported width.
pub const fn ipa_is_protected(ipa: u64, s2sz: u64) -> bool {
    match ipa_limit(s2sz) {
        Some(limit) => ipa < limit / 2,
        None => false,
    }
}

/// Whether `ipa` is an Unprotected IPA of a realm of width `s2sz`: inside the IPA space and in its
/// upper half. `false` for an unsupported width.
pub const fn ipa_is_unprotected(ipa: u64, s2sz: u64) -> bool {
    ipa_in_range(ipa, s2sz) && !ipa_is_protected(ipa, s2sz)
}

/// Whether every address in `[base, top)` is a Protected IPA (`AddrRangeIsProtected`, B3.6): the
/// range is non-empty and both its ends are protected.
pub const fn range_is_protected(base: u64, top: u64, s2sz: u64) -> bool {
    if top <= base {
        return false;
    }
    ipa_is_protected(base, s2sz) && ipa_is_protected(top - 1, s2sz)
}

/// Whether a walk starting at `level_start` can translate `s2sz`-bit IPAs: the Arm ARM's
/// starting-level consistency rule (the one A5.5.3 defers to) with 4 KiB granules and no LPA2.
/// The IPA must need more than one entry of one starting-level table and at most 16 concatenated
/// tables, so level 0 takes 40..=48 bits, level 1 31..=43, level 2 22..=34, level 3 13..=25.
///
/// The smallest IPA width the RMM accepts is a separate, platform-level policy (A3.1.2) that
/// realm creation checks on top of this.
pub const fn start_level_valid(s2sz: u64, level_start: i64) -> bool {
    s2sz <= MAX_IPA_WIDTH
        && level_start >= RTT_MIN_LEVEL
        && level_start <= RTT_PAGE_LEVEL
        && rtt_num_start(s2sz, level_start).is_some()
}

/// Required alignment of `rtt_base` for this shape: the total size of the concatenated
/// starting-level tables, `rtt_num_start * 4 KiB` (REALM_CREATE's `rtt_align` condition).
/// `None` when the shape is not valid ([`start_level_valid`]).
pub const fn rtt_align(s2sz: u64, level_start: i64) -> Option<u64> {
    if !start_level_valid(s2sz, level_start) {
        return None;
    }
    match rtt_num_start(s2sz, level_start) {
        Some(n) => Some(n as u64 * GRANULE_SIZE as u64),
        None => None,
    }
}

/// A realm's validated stage-2 shape: IPA width, starting level and the number of concatenated
/// starting-level RTTs. Built only through [`RttConfig::new`], so every value in it is
/// architecturally consistent and the methods need no further checks on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RttConfig {
    s2sz: u64,
    level_start: i64,
    num_start: u32,
}

impl RttConfig {
    /// Validates a realm's `(s2sz, rtt_level_start, rtt_num_start)` (`RttConfigIsValid`, B3.55):
    /// the starting level must suit the IPA width ([`start_level_valid`]) and `num_start` must be
    /// exactly the number of tables the architecture defines for them (A2.1.3 DNDKV: the host
    /// states all three so that a mismatch with its intent fails instead of being corrected).
    pub const fn new(s2sz: u64, level_start: i64, num_start: u64) -> Option<Self> {
        if !start_level_valid(s2sz, level_start) {
            return None;
        }
        match rtt_num_start(s2sz, level_start) {
            Some(n) if n as u64 == num_start => Some(Self {
                s2sz,
                level_start,
                num_start: n,
            }),
            _ => None,
        }
    }

    /// IPA width in bits.
    pub const fn s2sz(&self) -> u64 {
        self.s2sz
    }

    /// Starting level of the walk.
    pub const fn level_start(&self) -> i64 {
        self.level_start
    }

    /// Number of physically contiguous starting-level RTTs.
    pub const fn num_start(&self) -> u32 {
        self.num_start
    }

    /// Entries in all the starting-level RTTs together (`num_start * 512`).
    pub const fn start_entries(&self) -> usize {
        self.num_start as usize * RTT_ENTRIES
    }

    /// Alignment `rtt_base` must have: the starting-level tables' total size.
    pub const fn rtt_align(&self) -> u64 {
        self.num_start as u64 * GRANULE_SIZE as u64
    }

    /// `2^s2sz`, the first IPA outside the realm.
    pub const fn ipa_limit(&self) -> u64 {
        1 << self.s2sz
    }

    /// Whether `ipa` lies inside the realm's IPA space.
    pub const fn ipa_in_range(&self, ipa: u64) -> bool {
        ipa < self.ipa_limit()
    }

    /// Whether `ipa` is a Protected IPA of the realm (`AddrIsProtected`, B3.4).
    pub const fn ipa_is_protected(&self, ipa: u64) -> bool {
        ipa < self.ipa_limit() / 2
    }

    /// Whether `level` is an RTT level of the realm, from the starting level down to the page
    /// level (`RttLevelIsValid`, B3.67).
    pub const fn level_is_valid(&self, level: i64) -> bool {
        level >= self.level_start && level <= RTT_PAGE_LEVEL
    }

    /// Whether `level` is the realm's starting level (`RttLevelIsStarting`, B3.66). RTT_CREATE,
    /// RTT_DESTROY and RTT_FOLD refuse it: starting-level tables live as long as the realm.
    pub const fn level_is_starting(&self, level: i64) -> bool {
        level == self.level_start
    }

    /// Whether `level` is a block or page level of the realm (`RttLevelIsBlockOrPage`, B3.65):
    /// a level of its tree ([`Self::level_is_valid`]) whose entries may map memory
    /// ([`is_block_or_page_level`]).
    pub const fn level_is_block_or_page(&self, level: i64) -> bool {
        self.level_is_valid(level) && is_block_or_page_level(level)
    }

    /// Index of the entry describing `ipa` across the concatenated starting-level tables: the IPA
    /// bits from the starting level's shift up to `s2sz - 1`. Table `i / 512` of the
    /// concatenation holds entry `i % 512`. `None` when `ipa` is outside the IPA space.
    pub const fn start_index(&self, ipa: u64) -> Option<usize> {
        if !self.ipa_in_range(ipa) {
            return None;
        }
        match level_shift(self.level_start) {
            Some(shift) => Some((ipa >> shift) as usize),
            None => None,
        }
    }
}
