//! Services the RMM asks of EL3 firmware besides the boot and RMI hand-offs.
//!
//! The trait is the seam: the image issues real SMCs ([`crate::arch`]), host tests use the
//! simulated EL3 in [`crate::sim`].

use hostcall_abi::el3::El3Status;

/// EL3 services.
pub trait El3 {
    /// Moves the granule at `pa` from the NS PAS to the Realm PAS (RMM_GTSI_DELEGATE).
    fn gtsi_delegate(&self, pa: u64) -> Result<(), El3Status>;
    /// Moves the granule at `pa` from the Realm PAS back to the NS PAS (RMM_GTSI_UNDELEGATE).
    fn gtsi_undelegate(&self, pa: u64) -> Result<(), El3Status>;
}
