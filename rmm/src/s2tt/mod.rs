//! Stage-2 translation tables: the Realm Translation Tables (RTTs) of DEN0137 A5.5, as the
//! hardware walks them and as the RMI commands reason about them.
//!
//! This module owns the RTT format and the rules over it:
//! - [`desc`](S2tte): the VMSAv8-64 stage-2 descriptor (4 KiB granule, no LPA2, FEAT_S2FWB) and
//!   the RMM's encoding of the five RTT entry states with their HIPAS and RIPAS, the outputs of
//!   `RMI_RTT_READ_ENTRY`, and the check of a host's descriptor for an unprotected mapping;
//! - [`geometry`](RttConfig): levels, entry sizes and indexes, alignment, the protected and
//!   unprotected IPA halves, and which starting-level shapes are valid;
//! - [`walk()`]: the walk from the starting-level tables to a target level, over any
//!   [`RttMemory`];
//! - [`table`](TableCensus): whole-table rules (start-table initialisation, unfold, fold and
//!   homogeneity, liveness, the `top` scans).
//!
//! It must not take locks, change granule states or reference counts, issue TLB maintenance, or
//! know about RMI argument registers and status codes: the RMI handlers do those around these
//! pure functions. Everything here is plain computation on values and on the entries an
//! [`RttMemory`] hands over, so host tests cover it completely. Inputs that come from the host
//! (IPAs, levels, descriptors) are answered with `None`/`false`, never a panic.

mod desc;
mod geometry;
mod table;
mod walk;

pub use desc::{
    host_desc_valid_for_unprotected, ns_from_host_desc, pa_in_oa_range, EntryState, NsAttrs,
    ReadEntry, Rtte, S2tte, OA_BITS,
};
pub use geometry::{
    align_down, align_up, block_size, index_of, ipa_in_range, ipa_is_protected, ipa_is_unprotected,
    ipa_limit, is_aligned, is_block_or_page_level, level_shift, range_is_protected, rtt_align,
    start_level_valid, RttConfig, MIN_BLOCK_LEVEL,
};
pub use table::{
    census, init_start_tables, rtt_fold, rtt_is_homogeneous, rtt_is_live, skip_entries_with_ripas,
    skip_non_live_entries, unfold, TableCensus,
};
pub use walk::{walk, RttMemory, WalkResult};

#[cfg(test)]
mod tests;
