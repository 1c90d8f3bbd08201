//! The RMM <-> EL3 firmware interface (TF-A RMMD, interface 0.4) and the boot manifest 0.3.
//!
//! Boot: EL3 enters the RMM at its base address with x0 = linear CPU index and, on cold boot only,
//! x1 = interface version, x2 = number of CPUs, x3 = PA of the 4 KiB shared buffer that holds the
//! [`BootManifest`]. The RMM answers with [`RMM_BOOT_COMPLETE`]; the "return" of that SMC is the
//! first RMI call, and each later call arrives as the return of [`RMM_RMI_REQ_COMPLETE`].

use crate::smccc::smc64_std;
use crate::AbiVersion;

/// RMM_RMI_REQ_COMPLETE: x1.. = results of the RMI call just served; returns the next call.
pub const RMM_RMI_REQ_COMPLETE: u32 = smc64_std(0x18F);
/// RMM_GTSI_DELEGATE(pa): move a granule to the Realm PAS.
pub const RMM_GTSI_DELEGATE: u32 = smc64_std(0x1B0);
/// RMM_GTSI_UNDELEGATE(pa): move a granule back to the Non-secure PAS.
pub const RMM_GTSI_UNDELEGATE: u32 = smc64_std(0x1B1);
/// RMM_ATTEST_GET_REALM_KEY(buf, size, curve) -> key size.
pub const RMM_ATTEST_GET_REALM_KEY: u32 = smc64_std(0x1B2);
/// RMM_ATTEST_GET_PLAT_TOKEN(buf, size, challenge size) -> written, remaining.
pub const RMM_ATTEST_GET_PLAT_TOKEN: u32 = smc64_std(0x1B3);
/// RMM_EL3_FEATURES(index) -> feature register (interface 0.4).
pub const RMM_EL3_FEATURES: u32 = smc64_std(0x1B4);
/// RMM_BOOT_COMPLETE(status): ends cold or warm boot of this CPU.
pub const RMM_BOOT_COMPLETE: u32 = smc64_std(0x1CF);

/// The RMM-EL3 interface revision this RMM implements. EL3 must offer the same major revision
/// and a minor revision at least this one.
pub const RMM_EL3_IFC_VERSION: AbiVersion = AbiVersion::new(0, 4);

/// Status passed to EL3 in x1 of [`RMM_BOOT_COMPLETE`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(i64)]
pub enum BootStatus {
    /// Boot succeeded; the RMM is ready for RMI calls on this CPU.
    Success = 0,
    /// Unclassified failure.
    Unknown = -1,
    /// The RMM-EL3 interface version is not supported.
    VersionMismatch = -2,
    /// The number of CPUs exceeds what the RMM supports.
    CpusOutOfRange = -3,
    /// The CPU index is not below the number of CPUs.
    CpuIdOutOfRange = -4,
    /// The shared buffer address is not usable.
    InvalidSharedBuffer = -5,
    /// The boot manifest version is not supported.
    ManifestVersionNotSupported = -6,
    /// The boot manifest content is inconsistent (checksum, counts, pointers).
    ManifestDataError = -7,
}

impl BootStatus {
    /// The x1 register value.
    pub const fn raw(self) -> u64 {
        self as i64 as u64
    }
}

/// Return codes of the EL3 services (GTSI, attestation).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(i64)]
pub enum El3Status {
    /// Success.
    Ok = 0,
    /// Unknown command.
    Unknown = -1,
    /// Bad address.
    BadAddr = -2,
    /// Bad physical address space.
    BadPas = -3,
    /// Out of memory.
    NoMem = -4,
    /// Invalid argument.
    Inval = -5,
    /// Try again.
    Again = -6,
}

impl El3Status {
    /// Decodes x0 of an EL3 service return.
    pub const fn from_raw(raw: u64) -> Option<Self> {
        Some(match raw as i64 {
            0 => Self::Ok,
            -1 => Self::Unknown,
            -2 => Self::BadAddr,
            -3 => Self::BadPas,
            -4 => Self::NoMem,
            -5 => Self::Inval,
            -6 => Self::Again,
            _ => return None,
        })
    }
}

/// Size of the shared buffer EL3 and the RMM exchange data through.
pub const SHARED_BUFFER_SIZE: usize = crate::GRANULE_SIZE;

/// The boot manifest version this RMM understands.
pub const BOOT_MANIFEST_VERSION: AbiVersion = AbiVersion::new(0, 3);

/// Boot manifest 0.3, at the start of the shared buffer. Pointers are physical addresses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct BootManifest {
    /// Manifest version ([`AbiVersion`] packing).
    pub version: u32,
    /// RES0.
    pub padding: u32,
    /// Platform-specific data pointer (unused by this RMM).
    pub plat_data: u64,
    /// Non-secure DRAM banks (since 0.2).
    pub plat_dram: DramInfo,
    /// Consoles (since 0.3).
    pub plat_console: ConsoleList,
}
assert_layout!(
    BootManifest,
    size = 64,
    version = 0,
    padding = 4,
    plat_data = 8,
    plat_dram = 16,
    plat_console = 40
);

/// The list of NS DRAM banks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct DramInfo {
    /// Number of entries at `banks`.
    pub num_banks: u64,
    /// PA of `[MemoryBank; num_banks]`.
    pub banks: u64,
    /// Two's-complement checksum: see [`checksum_ok`].
    pub checksum: u64,
}
assert_layout!(DramInfo, size = 24, num_banks = 0, banks = 8, checksum = 16);

/// One NS DRAM bank.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct MemoryBank {
    /// Base PA.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
}

/// The most DRAM banks a manifest can describe: as many as fit in the shared buffer after the
/// manifest header.
pub const MAX_DRAM_BANKS: usize = (SHARED_BUFFER_SIZE - core::mem::size_of::<BootManifest>())
    / core::mem::size_of::<MemoryBank>();
assert_layout!(MemoryBank, size = 16, base = 0, size = 8);

/// The list of consoles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct ConsoleList {
    /// Number of entries at `consoles`.
    pub num_consoles: u64,
    /// PA of `[ConsoleInfo; num_consoles]`.
    pub consoles: u64,
    /// Two's-complement checksum: see [`checksum_ok`].
    pub checksum: u64,
}
assert_layout!(
    ConsoleList,
    size = 24,
    num_consoles = 0,
    consoles = 8,
    checksum = 16
);

/// Maximum length of a console name, NUL padding included.
pub const CONSOLE_NAME_LEN: usize = 8;

/// One console the RMM may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct ConsoleInfo {
    /// MMIO base PA.
    pub base: u64,
    /// Number of 4 KiB pages of MMIO to map.
    pub map_pages: u64,
    /// NUL-padded name, e.g. `"pl011"`.
    pub name: [u8; CONSOLE_NAME_LEN],
    /// UART input clock in Hz.
    pub clk_in_hz: u64,
    /// Baud rate.
    pub baud_rate: u64,
    /// RES0.
    pub flags: u64,
}
assert_layout!(
    ConsoleInfo,
    size = 48,
    base = 0,
    map_pages = 8,
    name = 16,
    clk_in_hz = 24,
    baud_rate = 32,
    flags = 40
);

impl MemoryBank {
    /// The u64 words this entry contributes to its list's checksum.
    pub const fn checksum_words(&self) -> [u64; 2] {
        [self.base, self.size]
    }
}

impl ConsoleInfo {
    /// The u64 words this entry contributes to its list's checksum (the name and flags do not).
    pub const fn checksum_words(&self) -> [u64; 4] {
        [self.base, self.map_pages, self.clk_in_hz, self.baud_rate]
    }
}

/// The manifest's checksum rule: the count, the pointer, the checksum itself and every checksummed
/// word of the entries add up to zero modulo 2^64.
pub fn checksum_ok(
    num: u64,
    ptr: u64,
    checksum: u64,
    entry_words: impl Iterator<Item = u64>,
) -> bool {
    entry_words.fold(
        num.wrapping_add(ptr).wrapping_add(checksum),
        u64::wrapping_add,
    ) == 0
}

/// The checksum value that makes a list valid under [`checksum_ok`].
pub fn checksum_for(num: u64, ptr: u64, entry_words: impl Iterator<Item = u64>) -> u64 {
    entry_words
        .fold(num.wrapping_add(ptr), u64::wrapping_add)
        .wrapping_neg()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn el3_ids() {
        assert_eq!(RMM_RMI_REQ_COMPLETE, 0xC400_018F);
        assert_eq!(RMM_GTSI_DELEGATE, 0xC400_01B0);
        assert_eq!(RMM_GTSI_UNDELEGATE, 0xC400_01B1);
        assert_eq!(RMM_ATTEST_GET_REALM_KEY, 0xC400_01B2);
        assert_eq!(RMM_ATTEST_GET_PLAT_TOKEN, 0xC400_01B3);
        assert_eq!(RMM_EL3_FEATURES, 0xC400_01B4);
        assert_eq!(RMM_BOOT_COMPLETE, 0xC400_01CF);
        assert_eq!(BootStatus::ManifestDataError.raw(), (-7i64) as u64);
        assert_eq!(El3Status::from_raw((-3i64) as u64), Some(El3Status::BadPas));
    }

    #[test]
    fn checksum_round_trip() {
        let banks = [MemoryBank {
            base: 0x4000_0000,
            size: 0xC000_0000,
        }];
        let words = || banks.iter().flat_map(|b| b.checksum_words());
        let sum = checksum_for(1, 0x418F_F040, words());
        assert!(checksum_ok(1, 0x418F_F040, sum, words()));
        assert!(!checksum_ok(1, 0x418F_F040, sum.wrapping_add(1), words()));
    }
}
