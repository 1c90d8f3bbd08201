//! Access to the contents of granules in the Realm PAS that the RMM owns (delegated memory).
//!
//! The image writes through its own view of physical memory; host tests use the simulation in
//! [`crate::sim`]. Nothing here ever touches NS memory.

/// Contents of delegated granules.
pub trait GranuleMemory {
    /// Wipes the granule at `pa` so none of its previous contents can be recovered (A2.2.4).
    /// The caller holds the granule's lock and has checked that it is delegated.
    fn wipe(&self, pa: u64);
}
