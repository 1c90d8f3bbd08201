//! The context every handler works with ([`RmiContext`]): the monitor's state and the doors to
//! memory, EL3 and the CPU. A bottom layer: it names the services it carries, never the modules
//! that use it (`rmi`, `rsi`, `exit`, `sysreg_trap`).

use crate::arch::RealmCpu;
use crate::boot::Rmm;
use crate::el3::El3;
use crate::granule::GranuleTable;
use crate::memory::GranuleMemory;
use crate::ns::NsMemory;
use crate::vmid::VmidSet;

/// What a handler works with: the monitor's boot-time state, the granule table, EL3, the
/// contents of delegated memory and the door to NS memory.
pub struct RmiContext<'a> {
    /// Boot-time state (features, platform).
    pub rmm: &'a Rmm,
    /// Granule tracking.
    pub granules: &'a GranuleTable<'a>,
    /// EL3 services.
    pub el3: &'a dyn El3,
    /// Delegated memory.
    pub mem: &'a dyn GranuleMemory,
    /// NS memory (copies only).
    pub ns: &'a dyn NsMemory,
    /// VMIDs in use.
    pub vmids: &'a VmidSet,
    /// Runs RECs on this CPU.
    pub cpu: &'a dyn RealmCpu,
    /// The attestation key and platform token; `None` if EL3 could not provide them at boot.
    pub attest: Option<&'a crate::attestation::Attestation>,
}
