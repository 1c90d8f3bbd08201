//! The realm descriptor (RD): what the RMM records about a realm, kept in the RD granule itself.

use crate::granule::GranuleState;
use crate::measurement::{HashAlgo, Measurement, REM_COUNT};
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
    /// The Realm Initial Measurement (measurement index 0): set by RMI_REALM_CREATE, extended
    /// while the realm is NEW, fixed once it is ACTIVE.
    pub rim: Measurement,
    /// The Realm Extensible Measurements (indices 1..=4): zero at creation, extended by the
    /// realm through RSI_MEASUREMENT_EXTEND.
    pub rems: [Measurement; REM_COUNT],
    /// VTTBR_EL2 and VTCR_EL2 of the realm, [`Self::stage2`] made once by RMI_REALM_CREATE
    /// (nothing they depend on changes after it), for every REC_ENTER to load.
    pub s2: crate::arch::Stage2,
}

const _: () = assert!(size_of::<Rd>() <= hostcall_abi::GRANULE_SIZE);

// SAFETY: `Rd` fits in a granule (asserted above), and only `init` writes it, into granules that
// have just become RD.
unsafe impl GranuleObject for Rd {
    const STATE: GranuleState = GranuleState::Rd;
}

/// VTTBR_EL2.BADDR for a 4 KiB-granule stage 2 without LPA2: bits \[47:12\] of the start table.
pub const VTTBR_BADDR: u64 = ((1 << 48) - 1) & !0xFFF;

impl Rd {
    /// The realm's measurement hash algorithm.
    pub fn hash_algo(&self) -> HashAlgo {
        self.config.hash_algo.into()
    }

    /// VTTBR_EL2 and VTCR_EL2 for this realm: its starting-level RTT and VMID; IPA width, starting
    /// level, 4 KiB granule, inner-shareable write-back walks, output size `pa_bits` (at most 48),
    /// and 16-bit VMIDs where the CPU has them.
    pub fn stage2(&self, pa_bits: u64, vmid16: bool) -> crate::arch::Stage2 {
        let ps = match pa_bits {
            0..=32 => 0b000,
            33..=36 => 0b001,
            37..=40 => 0b010,
            41..=42 => 0b011,
            43..=44 => 0b100,
            _ => 0b101,
        };
        // SL0 for a 4 KiB granule: level 0 -> 2, level 1 -> 1, level 2 -> 0.
        let sl0 = (2 - self.rtt.level_start().clamp(0, 2)) as u64;
        let vtcr = (64 - u64::from(self.config.s2sz))
            | sl0 << 6
            | 0b01 << 8 // IRGN0 write-back
            | 0b01 << 10 // ORGN0 write-back
            | 0b11 << 12 // SH0 inner shareable
            | ps << 16
            | u64::from(vmid16) << 19
            | 1 << 31; // RES1
                       // BADDR is bits [47:1] (without LPA2, which this RMM does not offer): nothing of the
                       // base may reach the VMID field above it, whatever the RD holds.
        let vttbr = (self.config.rtt_base & VTTBR_BADDR) | u64::from(self.config.vmid) << 48;
        crate::arch::Stage2 { vttbr, vtcr }
    }
}
