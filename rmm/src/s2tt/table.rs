//! Rules over a whole RTT: creating the starting-level tables, unfolding an entry into a new
//! child RTT, folding a homogeneous child RTT back into one entry, liveness, and the scans that
//! give the `top` outputs of the RTT commands (DEN0137 A5.5.6-A5.5.9; B3.63, B3.64, B3.75,
//! B3.76).
//!
//! Each function works on one RTT through [`RttMemory`]; none takes locks or changes granule
//! states (the caller does, around the call). Entries that do not decode (an RMM bug, never a
//! host input) are treated conservatively: they keep an RTT live, make it non-homogeneous and
//! stop scans.

use hostcall_abi::rtt::{Ripas, RTT_ENTRIES, RTT_PAGE_LEVEL};
use hostcall_abi::GRANULE_SIZE;

use super::desc::{EntryState, Rtte, S2tte};
use super::geometry::{align_down, block_size, index_of, is_aligned, RttConfig};
use super::walk::RttMemory;

/// How many entries of one RTT are in each state (one pass over the table).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct TableCensus {
    /// UNASSIGNED entries.
    pub unassigned: usize,
    /// ASSIGNED entries.
    pub assigned: usize,
    /// UNASSIGNED_NS entries.
    pub unassigned_ns: usize,
    /// ASSIGNED_NS entries.
    pub assigned_ns: usize,
    /// TABLE entries.
    pub table: usize,
    /// Entries that do not decode at the table's level.
    pub malformed: usize,
}

impl TableCensus {
    /// Live entries: those that store a physical address (ASSIGNED, ASSIGNED_NS, TABLE; A5.5.8).
    pub const fn live_entries(&self) -> usize {
        self.assigned + self.assigned_ns + self.table
    }

    /// Whether the RTT is live (`RttIsLive`, B3.64): some entry refers to another RMM object, a
    /// DATA granule (ASSIGNED) or an RTT (TABLE). ASSIGNED_NS entries do not count (A5.5.8): an
    /// RTT mapping only NS memory can be destroyed. Malformed entries count as live.
    pub const fn rtt_is_live(&self) -> bool {
        self.assigned + self.table + self.malformed != 0
    }
}

/// Counts the states of the entries of the RTT at `table_pa`, which is at `level`.
pub fn census<M: RttMemory + ?Sized>(mem: &M, table_pa: u64, level: i64) -> TableCensus {
    let mut c = TableCensus::default();
    for i in 0..RTT_ENTRIES {
        match S2tte::from_bits(mem.read(table_pa, i)).state(level) {
            Some(EntryState::Unassigned) => c.unassigned += 1,
            Some(EntryState::Assigned) => c.assigned += 1,
            Some(EntryState::UnassignedNs) => c.unassigned_ns += 1,
            Some(EntryState::AssignedNs) => c.assigned_ns += 1,
            Some(EntryState::Table) => c.table += 1,
            None => c.malformed += 1,
        }
    }
    c
}

/// Whether the RTT at `table_pa` (at `level`) is live (`RttIsLive`, B3.64); see
/// [`TableCensus::rtt_is_live`]. `RMI_RTT_DESTROY` refuses a live RTT.
pub fn rtt_is_live<M: RttMemory + ?Sized>(mem: &M, table_pa: u64, level: i64) -> bool {
    (0..RTT_ENTRIES).any(|i| {
        !matches!(
            S2tte::from_bits(mem.read(table_pa, i)).state(level),
            Some(EntryState::Unassigned | EntryState::UnassignedNs | EntryState::AssignedNs)
        )
    })
}

/// The entry that replaces the RTT at `table_pa` (at `level`) in its parent when it is folded
/// (`RttFold`, B3.62), or `None` when the RTT is not homogeneous (`RttIsHomogeneous`, B3.63;
/// A5.5.6). Homogeneous means one of:
/// - every entry UNASSIGNED with the same RIPAS: the parent becomes UNASSIGNED with that RIPAS;
/// - every entry UNASSIGNED_NS: the parent becomes UNASSIGNED_NS;
/// - `level` is 2 or 3, every entry ASSIGNED with the same RIPAS, output addresses contiguous
///   from a first one aligned to the parent's entry size: the parent becomes an ASSIGNED block
///   of that RIPAS;
/// - the same for ASSIGNED_NS with identical attributes: the parent becomes an ASSIGNED_NS
///   block with those attributes.
///
/// `None` also for a `level` that has no parent level (0) or is invalid.
pub fn rtt_fold<M: RttMemory + ?Sized>(mem: &M, table_pa: u64, level: i64) -> Option<S2tte> {
    let parent_level = level.checked_sub(1)?;
    let size = block_size(level)?;
    let first = S2tte::from_bits(mem.read(table_pa, 0)).decode(level)?;
    match first {
        Rtte::Unassigned { .. } | Rtte::UnassignedNs => {}
        Rtte::Assigned { pa, .. } | Rtte::AssignedNs { pa, .. } => {
            if level < 2 || !is_aligned(pa, parent_level) {
                return None;
            }
        }
        Rtte::Table { .. } => return None,
    }
    // Entry `i` must be the first entry with its output address (if any) moved on by `i`
    // entries. Encodings are canonical, so comparing bits compares state, RIPAS and attributes.
    for i in 1..RTT_ENTRIES {
        let expected = with_pa_offset(first, i as u64 * size)?.encode(level)?;
        if mem.read(table_pa, i) != expected.bits() {
            return None;
        }
    }
    // The parent holds the same state over the whole range, starting at the first child's PA.
    first.encode(parent_level)
}

/// Whether the RTT at `table_pa` (at `level`) is homogeneous (`RttIsHomogeneous`, B3.63), that
/// is whether `RMI_RTT_FOLD` may fold it; see [`rtt_fold`].
pub fn rtt_is_homogeneous<M: RttMemory + ?Sized>(mem: &M, table_pa: u64, level: i64) -> bool {
    rtt_fold(mem, table_pa, level).is_some()
}

/// Fills the new RTT at `table_pa` from the parent entry `parent` at `parent_level` (RTT
/// unfolding, A5.5.7; `RMI_RTT_CREATE`): every child entry gets the parent's state, RIPAS and
/// attributes, and for ASSIGNED and ASSIGNED_NS parents the output addresses of the children
/// cover the parent's range in order. The caller then points the parent at the new RTT with
/// [`S2tte::table`].
///
/// `None`, with nothing written, when `parent` is TABLE or malformed or `parent_level` is not
/// 0..=2.
pub fn unfold<M: RttMemory + ?Sized>(
    mem: &mut M,
    table_pa: u64,
    parent: S2tte,
    parent_level: i64,
) -> Option<()> {
    if parent_level >= RTT_PAGE_LEVEL {
        return None;
    }
    let level = parent_level + 1;
    let size = block_size(level)?;
    let rtte = parent.decode(parent_level)?;
    if matches!(rtte, Rtte::Table { .. }) {
        return None;
    }
    // The parent's PA is aligned to the parent level and below 2^48, so if the first and last
    // children encode, all do: check them before writing anything.
    let last = (RTT_ENTRIES - 1) as u64 * size;
    with_pa_offset(rtte, 0)?.encode(level)?;
    with_pa_offset(rtte, last)?.encode(level)?;
    for i in 0..RTT_ENTRIES {
        let child = with_pa_offset(rtte, i as u64 * size)?.encode(level)?;
        mem.write(table_pa, i, child.bits());
    }
    Some(())
}

/// Initialises the starting-level RTTs of a new realm (`RMI_REALM_CREATE`, B4.3.9.3): entries for
/// Protected IPAs become UNASSIGNED with RIPAS EMPTY, entries for Unprotected IPAs
/// UNASSIGNED_NS. Entries beyond the IPA space (a single starting table can be wider than the
/// realm) are never walked and are written as UNASSIGNED, EMPTY (zero). `None`, with nothing
/// written, when the tables' addresses would overflow.
pub fn init_start_tables<M: RttMemory + ?Sized>(
    mem: &mut M,
    rtt_base: u64,
    cfg: &RttConfig,
) -> Option<()> {
    let last_table = (cfg.num_start() as u64 - 1) * GRANULE_SIZE as u64;
    rtt_base.checked_add(last_table)?;
    let size = block_size(cfg.level_start())?;
    for i in 0..cfg.start_entries() {
        let ipa = i as u64 * size;
        let entry = if cfg.ipa_in_range(ipa) && !cfg.ipa_is_protected(ipa) {
            S2tte::unassigned_ns()
        } else {
            S2tte::unassigned(Ripas::Empty)
        };
        let table_pa = rtt_base + (i / RTT_ENTRIES) as u64 * GRANULE_SIZE as u64;
        mem.write(table_pa, i % RTT_ENTRIES, entry.bits());
    }
    Some(())
}

/// Scanning the RTT at `table_pa` (at `level`) from the entry for `ipa`, the IPA of the first
/// live entry, or the IPA just past the table's last entry if there is none
/// (`RttSkipNonLiveEntries`, B3.76). This is the `top` of `RMI_RTT_DESTROY` and
/// `RMI_RTT_UNMAP_UNPROTECTED`, which lets the host skip ranges with nothing to unmap.
///
/// `None` for an invalid level or an `ipa` so close to `2^64` that the result does not fit.
pub fn skip_non_live_entries<M: RttMemory + ?Sized>(
    mem: &M,
    table_pa: u64,
    level: i64,
    ipa: u64,
) -> Option<u64> {
    scan(mem, table_pa, level, ipa, |entry| {
        entry.is_live(level).unwrap_or(true)
    })
}

/// Scanning the RTT at `table_pa` (at `level`) from the entry for `base`, the IPA up to which the
/// entries' RIPAS may be changed (`RttSkipEntriesWithRipas`, B3.75): the IPA of the first TABLE
/// entry (or, when `stop_at_destroyed`, the first TABLE entry or entry with RIPAS DESTROYED),
/// else the IPA just past the table's last entry; capped at `top` and aligned down to `level`.
/// `RMI_RTT_INIT_RIPAS` and `RMI_RTT_SET_RIPAS` change RIPAS over `[base, result)`; a result
/// equal to `base` is their `no_progress` failure.
///
/// `None` for an invalid level or an overflowing IPA.
pub fn skip_entries_with_ripas<M: RttMemory + ?Sized>(
    mem: &M,
    table_pa: u64,
    level: i64,
    base: u64,
    top: u64,
    stop_at_destroyed: bool,
) -> Option<u64> {
    let found = scan(mem, table_pa, level, base, |entry| {
        match entry.decode(level) {
            Some(Rtte::Table { .. }) | None => true,
            Some(r) => stop_at_destroyed && r.ripas() == Some(Ripas::Destroyed),
        }
    })?;
    align_down(found.min(top), level)
}

/// From the entry for `ipa` to the end of the RTT at `table_pa`, the IPA of the first entry for
/// which `stop` holds, else the IPA just past the last entry.
fn scan<M: RttMemory + ?Sized>(
    mem: &M,
    table_pa: u64,
    level: i64,
    ipa: u64,
    stop: impl Fn(S2tte) -> bool,
) -> Option<u64> {
    let size = block_size(level)?;
    let first = index_of(ipa, level)?;
    let base = align_down(ipa, level)?;
    let end = (first..RTT_ENTRIES)
        .find(|&i| stop(S2tte::from_bits(mem.read(table_pa, i))))
        .unwrap_or(RTT_ENTRIES);
    base.checked_add((end - first) as u64 * size)
}

/// `rtte` with its output address (if it has one) moved on by `offset` bytes.
fn with_pa_offset(rtte: Rtte, offset: u64) -> Option<Rtte> {
    Some(match rtte {
        Rtte::Assigned { pa, ripas } => Rtte::Assigned {
            pa: pa.checked_add(offset)?,
            ripas,
        },
        Rtte::AssignedNs { pa, attrs } => Rtte::AssignedNs {
            pa: pa.checked_add(offset)?,
            attrs,
        },
        other => other,
    })
}
