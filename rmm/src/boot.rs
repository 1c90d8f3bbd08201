//! Cold and warm boot: the checks on what EL3 hands the RMM, and the boot manifest.
//!
//! EL3 enters the RMM with x0 = CPU index and, on cold boot, x1 = RMM-EL3 interface version,
//! x2 = CPU count, x3 = PA of the shared buffer holding the boot manifest. Each check failure maps
//! to the [`BootStatus`] the RMM reports in RMM_BOOT_COMPLETE.

use heapless::Vec;
use hostcall_abi::el3::{
    checksum_ok, BootStatus, ConsoleInfo, MemoryBank, BOOT_MANIFEST_VERSION, RMM_EL3_IFC_VERSION,
    SHARED_BUFFER_SIZE,
};
use hostcall_abi::rmi::RmiFeatureRegister0;
use hostcall_abi::{AbiVersion, GRANULE_SIZE};

use crate::features::{rmi_features, IdRegisters};
use crate::limits::MAX_CPUS;

pub use hostcall_abi::el3::MAX_DRAM_BANKS;

/// Registers EL3 passes on cold boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColdBootArgs {
    /// x0: linear index of this CPU.
    pub cpu: u64,
    /// x1: RMM-EL3 interface version offered by EL3.
    pub ifc_version: u64,
    /// x2: number of CPUs EL3 may boot.
    pub num_cpus: u64,
    /// x3: PA of the shared buffer.
    pub shared_buf: u64,
}

/// What the boot manifest says about the platform, after validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformInfo {
    /// Manifest version as EL3 wrote it.
    pub manifest_version: AbiVersion,
    /// NS DRAM banks, in ascending address order, granule aligned, not overlapping.
    pub dram: Vec<MemoryBank, MAX_DRAM_BANKS>,
    /// The first console, if EL3 gave one.
    pub console: Option<ConsoleInfo>,
}

impl PlatformInfo {
    /// Total DRAM bytes across all banks.
    pub fn dram_bytes(&self) -> u64 {
        self.dram.iter().map(|b| b.size).sum()
    }
}

/// The monitor's global, read-only state after cold boot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rmm {
    /// CPUs EL3 may enter the RMM on (indexes `0..num_cpus`).
    pub num_cpus: usize,
    /// Interface version EL3 offered.
    pub ifc_version: AbiVersion,
    /// Platform description from the manifest.
    pub platform: PlatformInfo,
    /// RMI_FEATURES register 0, fixed at boot.
    pub features: RmiFeatureRegister0,
    /// The CPU implements 16-bit VMIDs.
    pub vmid16: bool,
    /// ICH_VTR_EL2: the virtual GIC interface's list registers, priority and INTID bits.
    pub ich_vtr: u64,
}

/// Validates the cold-boot registers, then reads the shared buffer through `read_shared` (called
/// only once its address has passed the checks) and parses the manifest.
pub fn cold_boot(
    args: ColdBootArgs,
    ids: IdRegisters,
    read_shared: impl FnOnce(u64) -> [u8; SHARED_BUFFER_SIZE],
) -> Result<Rmm, BootStatus> {
    let offered = AbiVersion::from_raw(args.ifc_version);
    if args.ifc_version >> 31 != 0
        || offered.major() != RMM_EL3_IFC_VERSION.major()
        || offered.minor() < RMM_EL3_IFC_VERSION.minor()
    {
        return Err(BootStatus::VersionMismatch);
    }
    if args.num_cpus == 0 || args.num_cpus > MAX_CPUS as u64 {
        return Err(BootStatus::CpusOutOfRange);
    }
    if args.cpu >= args.num_cpus {
        return Err(BootStatus::CpuIdOutOfRange);
    }
    if args.shared_buf == 0
        || !args.shared_buf.is_multiple_of(GRANULE_SIZE as u64)
        || args
            .shared_buf
            .checked_add(SHARED_BUFFER_SIZE as u64)
            .is_none()
    {
        return Err(BootStatus::InvalidSharedBuffer);
    }
    let buf = read_shared(args.shared_buf);
    let platform = parse_manifest(&buf, args.shared_buf)?;
    Ok(Rmm {
        num_cpus: args.num_cpus as usize,
        ifc_version: offered,
        platform,
        features: rmi_features(ids),
        vmid16: crate::features::vmid16(ids),
        ich_vtr: ids.ich_vtr,
    })
}

/// Tracking words (2 bytes each) the manifest's DRAM needs, if `available` bytes hold them;
/// otherwise the DRAM is larger than this RMM's carve-out can track (reported as a manifest data
/// error, the boot status EL3 knows for "cannot use this manifest").
pub fn tracking_words(platform: &PlatformInfo, available: usize) -> Result<usize, BootStatus> {
    let words = crate::granule::GranuleTable::words_needed(&platform.dram)
        .ok_or(BootStatus::ManifestDataError)?;
    let bytes = words.checked_mul(crate::granule::TRACKING_BYTES_PER_GRANULE);
    match bytes {
        Some(b) if b <= available => Ok(words),
        _ => Err(BootStatus::ManifestDataError),
    }
}

/// Checks a warm-boot entry against what cold boot established.
pub fn warm_boot(rmm: Option<&Rmm>, cpu: u64) -> Result<(), BootStatus> {
    match rmm {
        None => Err(BootStatus::Unknown),
        Some(r) if cpu >= r.num_cpus as u64 => Err(BootStatus::CpuIdOutOfRange),
        Some(_) => Ok(()),
    }
}

/// A read-only view of the shared buffer that resolves the manifest's physical pointers.
struct SharedView<'a> {
    buf: &'a [u8; SHARED_BUFFER_SIZE],
    pa: u64,
}

impl SharedView<'_> {
    fn u64_at(&self, off: usize) -> Option<u64> {
        let bytes = self.buf.get(off..off.checked_add(8)?)?;
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    }

    /// Offset in the buffer of `count` entries of `size` bytes at physical address `ptr`, if they
    /// lie wholly inside it, 8-byte aligned.
    fn array_offset(&self, ptr: u64, count: u64, size: usize) -> Option<usize> {
        let off = ptr.checked_sub(self.pa)?;
        let len = count.checked_mul(size as u64)?;
        let end = off.checked_add(len)?;
        (ptr.is_multiple_of(8) && end <= SHARED_BUFFER_SIZE as u64).then_some(off as usize)
    }
}

/// Parses and validates boot manifest 0.3 (or a later minor revision, which only appends fields)
/// held in the shared buffer `buf`, located at physical address `buf_pa`.
pub fn parse_manifest(
    buf: &[u8; SHARED_BUFFER_SIZE],
    buf_pa: u64,
) -> Result<PlatformInfo, BootStatus> {
    use BootStatus::ManifestDataError as Bad;
    let view = SharedView { buf, pa: buf_pa };
    let word = |off: usize| view.u64_at(off).ok_or(Bad);

    let version = AbiVersion::from_raw(word(0)? & 0xFFFF_FFFF);
    if version.major() != BOOT_MANIFEST_VERSION.major()
        || version.minor() < BOOT_MANIFEST_VERSION.minor()
    {
        return Err(BootStatus::ManifestVersionNotSupported);
    }

    // plat_dram @16: num_banks, banks, checksum.
    let (num_banks, banks_pa, dram_sum) = (word(16)?, word(24)?, word(32)?);
    if num_banks == 0 || num_banks > MAX_DRAM_BANKS as u64 {
        return Err(Bad);
    }
    let off = view.array_offset(banks_pa, num_banks, 16).ok_or(Bad)?;
    let mut dram = Vec::new();
    for i in 0..num_banks as usize {
        let base = word(off + 16 * i)?;
        let size = word(off + 16 * i + 8)?;
        dram.push(MemoryBank { base, size }).map_err(|_| Bad)?;
    }
    let words = dram.iter().flat_map(|b| b.checksum_words());
    if !checksum_ok(num_banks, banks_pa, dram_sum, words) {
        return Err(Bad);
    }
    let granule = GRANULE_SIZE as u64;
    let mut prev_end = 0u64;
    for (i, b) in dram.iter().enumerate() {
        let end = b.base.checked_add(b.size).ok_or(Bad)?;
        let aligned = b.base.is_multiple_of(granule) && b.size.is_multiple_of(granule);
        if !aligned || b.size == 0 || (i > 0 && b.base < prev_end) {
            return Err(Bad);
        }
        prev_end = end;
    }

    // plat_console @40: num_consoles, consoles, checksum.
    let (num_consoles, consoles_pa, console_sum) = (word(40)?, word(48)?, word(56)?);
    let console = if num_consoles == 0 {
        None
    } else {
        let off = view
            .array_offset(consoles_pa, num_consoles, 48)
            .ok_or(Bad)?;
        let mut words_sum = 0u64;
        let mut first = None;
        for i in 0..num_consoles as usize {
            let e = off + 48 * i;
            let mut name = [0u8; 8];
            name.copy_from_slice(buf.get(e + 16..e + 24).ok_or(Bad)?);
            let c = ConsoleInfo {
                base: word(e)?,
                map_pages: word(e + 8)?,
                name,
                clk_in_hz: word(e + 24)?,
                baud_rate: word(e + 32)?,
                flags: word(e + 40)?,
            };
            words_sum = c
                .checksum_words()
                .iter()
                .fold(words_sum, |s, w| s.wrapping_add(*w));
            if c.base == 0 || !c.base.is_multiple_of(granule) || c.map_pages == 0 {
                return Err(Bad);
            }
            first.get_or_insert(c);
        }
        if !checksum_ok(
            num_consoles,
            consoles_pa,
            console_sum,
            core::iter::once(words_sum),
        ) {
            return Err(Bad);
        }
        first
    };

    Ok(PlatformInfo {
        manifest_version: version,
        dram,
        console,
    })
}

#[cfg(test)]
mod tests;
