//! Granule tracking: the state, lock and reference count of every 4 KiB granule of delegable
//! memory, in 2 bytes per granule.
//!
//! The table is sized at boot from the boot manifest's DRAM banks and lives in memory the image
//! hands over ([`GranuleTable::new`]); there is no compile-time cap on DRAM, only the size of that
//! memory. This module owns the per-granule state machine bookkeeping and its locks. It must not
//! touch granule contents, talk to EL3 or interpret RMI arguments: callers do that while holding
//! the lock this module gives them.

mod entry;
mod table;

/// What the tracking words are made of. The lock protocol's model-checking test
/// (`rmm/tests/lock_protocol.rs`) compiles `entry.rs` and `table.rs` again inside a module of its
/// own whose `atomic` is `loom`'s, so the checker runs this very code; nothing else changes.
mod atomic {
    pub use core::hint::spin_loop;
    pub use core::sync::atomic::{AtomicU16, Ordering};
}

pub use entry::{GranuleState, MAX_REFCOUNT};
pub use table::{GranuleTable, LockError, Locked, LockedSet, MAX_LOCKED};

/// Bytes of tracking per 4 KiB granule.
pub const TRACKING_BYTES_PER_GRANULE: usize = core::mem::size_of::<entry::Entry>();

#[cfg(test)]
mod tests;
