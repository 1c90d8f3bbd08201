//! The realm descriptor (RD): what the RMM records about a realm, kept in the RD granule itself.

use crate::granule::GranuleState;
use crate::memory::GranuleObject;
use crate::s2tt::RttConfig;

use super::RealmConfig;

/// Realm lifecycle states (A2.1.5).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum RealmState {
    /// Being built: RECs and data can be added.
    New,
    /// Activated: its RECs can run.
    Active,
    /// A REC asked for SYSTEM_OFF or SYSTEM_RESET: no REC runs again.
    SystemOff,
}

/// The realm descriptor. It lives at the start of the RD granule and is written only by
/// [`crate::memory::init`] at RMI_REALM_CREATE.
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Rd {
    /// Lifecycle state.
    pub state: RealmState,
    /// The validated creation parameters.
    pub config: RealmConfig,
    /// Shape of the stage-2 tables.
    pub rtt: RttConfig,
    /// RECs created so far: the index the next REC must have.
    pub recs_created: u64,
}

// SAFETY: `Rd` is far smaller than a granule, and only `init` writes it, into granules that
// have just become RD.
unsafe impl GranuleObject for Rd {
    const STATE: GranuleState = GranuleState::Rd;
}
