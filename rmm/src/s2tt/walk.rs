//! RTT walks (DEN0137 A5.5.10, `RttWalk` B3.78): from a realm's starting-level tables down to a
//! target level, following TABLE entries, over any memory that holds RTTs.
//!
//! The walk reads entries only. It takes no locks: the caller holds whatever makes the tables it
//! walks stable (the RMI layer's locking), and reads each entry once.

use hostcall_abi::rtt::RTT_ENTRIES;
use hostcall_abi::GRANULE_SIZE;

use super::desc::{Rtte, S2tte};
use super::geometry::{index_of, RttConfig};

/// The memory RTTs live in: entry `index` (0..512) of the 4 KiB RTT at physical address
/// `table_pa`. The image implements it over its mapping of delegated granules, tests over a map.
/// Implementations must make each access a single 64-bit access (the hardware walker may read
/// the entry concurrently).
pub trait RttMemory {
    /// Reads entry `index` of the RTT at `table_pa`.
    fn read(&self, table_pa: u64, index: usize) -> u64;
    /// Writes entry `index` of the RTT at `table_pa`.
    fn write(&mut self, table_pa: u64, index: usize, value: u64);
}

/// Where a walk stopped (`RmmRttWalkResult`, C1.31).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WalkResult {
    /// RTT level reached: the target level, or the level of the first entry on the way that was
    /// not TABLE. This is the index an `RMI_ERROR_RTT` reports.
    pub level: i64,
    /// Physical address of the RTT holding the entry (for the starting level, the one granule
    /// of the concatenated tables that holds it).
    pub table_pa: u64,
    /// Index of the entry within that RTT (0..512).
    pub index: usize,
    /// The entry reached.
    pub entry: S2tte,
}

impl WalkResult {
    /// The reached entry, decoded at the level it was found at; `None` if it is malformed.
    pub fn rtte(&self) -> Option<Rtte> {
        self.entry.decode(self.level)
    }
}

/// Walks the RTTs of a realm whose starting-level tables start at `rtt_base`, for `ipa`, down to
/// `target_level` (`RttWalk(rd, ipa, level)`, B3.78).
///
/// The walk reads the entry for `ipa` at the starting level and, while that entry is TABLE and
/// the target level is not yet reached, continues in the next-level RTT it points to. It stops
/// at the target level (whatever the entry there is) or earlier at the first entry that is not
/// TABLE, malformed entries included.
///
/// `None` when `ipa` is outside the realm's IPA space or `target_level` is not a level of the
/// realm (both host-controlled; the commands check them first as `RMI_ERROR_INPUT`).
pub fn walk<M: RttMemory + ?Sized>(
    mem: &M,
    rtt_base: u64,
    cfg: &RttConfig,
    ipa: u64,
    target_level: i64,
) -> Option<WalkResult> {
    if !cfg.level_is_valid(target_level) {
        return None;
    }
    let start = cfg.start_index(ipa)?;
    let mut level = cfg.level_start();
    let mut table_pa = rtt_base.checked_add((start / RTT_ENTRIES) as u64 * GRANULE_SIZE as u64)?;
    let mut index = start % RTT_ENTRIES;
    loop {
        let entry = S2tte::from_bits(mem.read(table_pa, index));
        let next = match entry.decode(level) {
            Some(Rtte::Table { pa }) if level < target_level => pa,
            _ => {
                return Some(WalkResult {
                    level,
                    table_pa,
                    index,
                    entry,
                })
            }
        };
        level += 1;
        table_pa = next;
        index = index_of(ipa, level)?;
    }
}
