//! A Linux kernel as a realm guest: what the VMM loads where, in which order, and what the realm's
//! initial measurement must then be.
//!
//! This module owns the guest's layout (RAM at [`RAM_BASE`], the kernel, its device tree and its
//! initrd placed by [`crate::image`]), the device tree's contents, and the ordered list of
//! measured load steps ([`steps`]) that both the loader ([`load`]) and anyone checking the
//! realm's RIM ([`expected_rim`]) walk, so the two cannot drift apart. It must not issue RMI
//! commands or touch memory itself: [`load`] executes the steps, [`run`] runs the vCPUs.
//!
//! The guest is built for a lazily populated realm (`linux-realm-guest.md`): the whole of RAM
//! gets RIPAS RAM through one RMI_RTT_INIT_RIPAS walk at level 2 (one descriptor per 2 MiB),
//! only the pages with contents (kernel file, device tree, initrd) are created with their
//! contents measured, and everything else is mapped on the realm's first touch.

pub mod load;
pub mod run;

use core::fmt;

use hostcall_abi::realm_params::RmiRealmParams;
use hostcall_abi::rec_params::{rec_index_to_mpidr, RmiRecCreateFlags, RmiRecParams};

use crate::fdt::{self, FdtError, RealmDtConfig};
use crate::image::{self, ImageError, ImageInfo, PlaceError, Placement};
use crate::measure::{Measurement, RimBuilder, DATA_MEASURE_CONTENT};
use crate::vgic;

/// Bytes of one granule.
pub const PAGE: u64 = 4096;
/// The guest's RAM starts here (as on QEMU's virt board).
pub const RAM_BASE: u64 = 0x4000_0000;
/// Most RAM a guest may have: one level-2 RTT's worth (1 GiB from [`RAM_BASE`]).
pub const MAX_RAM: u64 = 1 << 30;
/// Least RAM a guest may have.
pub const MIN_RAM: u64 = 64 << 20;
/// The realm's IPA width: a 40-bit space, the top half unprotected.
pub const IPA_BITS: u32 = 40;
/// The level RMI_RTT_INIT_RIPAS walks at over RAM: only the level-2 table exists then.
pub const RIPAS_LEVEL: i64 = 2;
/// Bytes one level-2 RTT entry covers (one level-3 table).
pub const L2_BLOCK: u64 = 2 << 20;
/// Bytes reserved for the device tree blob the loader writes.
pub const DTB_CAPACITY: usize = 8192;
/// The VMID of the Linux realm.
pub const VMID: u16 = 12;
/// Most vCPUs a guest may have.
pub const MAX_VCPUS: usize = vgic::MAX_VCPUS;

/// Where the host stub on QEMU virt (3 GiB of NS DRAM from 0x4000_0000, the image at
/// 0x6000_0000) keeps a Linux guest: the runner loads the files at [`qemu::IMAGE`] and
/// [`qemu::INITRD`]; RAM is backed from [`qemu::RAM_BACKING`], metadata comes from
/// [`qemu::POOL`].
pub mod qemu {
    /// The kernel file (up to 256 MiB).
    pub const IMAGE: u64 = 0x8000_0000;
    /// Room for the kernel file.
    pub const IMAGE_ROOM: u64 = 0x1000_0000;
    /// The initrd file (up to 256 MiB).
    pub const INITRD: u64 = 0x9000_0000;
    /// Room for the initrd file.
    pub const INITRD_ROOM: u64 = 0x1000_0000;
    /// The granules that back the guest's RAM, one to one ([`super::MAX_RAM`]).
    pub const RAM_BACKING: u64 = 0xA000_0000;
    /// Metadata granules, parameter and RecRun pages, the device tree.
    pub const POOL: u64 = 0xE000_0000;
    /// Bytes of [`POOL`].
    pub const POOL_SIZE: u64 = 0x0100_0000;
}

/// A file the VMM has in its own (NS) memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blob {
    /// Where it starts (granule aligned).
    pub pa: u64,
    /// Its length in bytes.
    pub len: u64,
}

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config<'a> {
    /// The kernel `Image`.
    pub image: Blob,
    /// The initrd, if any.
    pub initrd: Option<Blob>,
    /// vCPUs (1..=[`MAX_VCPUS`]).
    pub vcpus: usize,
    /// Bytes of RAM ([`MIN_RAM`]..=[`MAX_RAM`], a multiple of 2 MiB).
    pub mem_size: u64,
    /// The kernel command line.
    pub bootargs: &'a str,
}

/// Why a configuration cannot be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The kernel file is not a usable arm64 `Image`.
    Image(ImageError),
    /// The pieces do not fit in RAM.
    Place(PlaceError),
    /// The vCPU count is out of range.
    Vcpus,
    /// The RAM size is out of range or not a multiple of 2 MiB.
    Memory,
    /// A blob is not granule aligned or wraps.
    Blob,
    /// The device tree could not be written (a command line too long, say).
    DeviceTree(FdtError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Image(e) => write!(f, "the kernel is not a usable arm64 Image: {e}"),
            Self::Place(e) => write!(f, "the guest does not fit in its RAM: {e}"),
            Self::Vcpus => write!(f, "a realm guest has 1 to {MAX_VCPUS} vCPUs"),
            Self::Memory => write!(
                f,
                "guest RAM must be {} to {} MiB, a multiple of 2 MiB",
                MIN_RAM >> 20,
                MAX_RAM >> 20
            ),
            Self::Blob => write!(f, "a guest file is not page aligned in host memory"),
            Self::DeviceTree(_) => {
                write!(f, "the device tree does not fit (command line too long?)")
            }
        }
    }
}

/// Where everything goes in the realm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Bytes of RAM from [`RAM_BASE`].
    pub ram_size: u64,
    /// The kernel's header facts.
    pub image: ImageInfo,
    /// IPAs of the kernel, device tree and initrd.
    pub place: Placement,
    /// vCPUs.
    pub vcpus: usize,
    /// Bytes of the initrd (0: none).
    pub initrd_len: u64,
}

/// Checks `cfg` against the kernel's first bytes (`header`, at least 64) and places the guest.
pub fn layout(cfg: &Config<'_>, header: &[u8]) -> Result<Layout, ConfigError> {
    if cfg.vcpus == 0 || cfg.vcpus > MAX_VCPUS {
        return Err(ConfigError::Vcpus);
    }
    if !(MIN_RAM..=MAX_RAM).contains(&cfg.mem_size) || !cfg.mem_size.is_multiple_of(L2_BLOCK) {
        return Err(ConfigError::Memory);
    }
    let blobs = [Some(cfg.image), cfg.initrd];
    let bad_blob = blobs
        .iter()
        .flatten()
        .any(|b| !b.pa.is_multiple_of(PAGE) || b.pa.checked_add(b.len).is_none());
    if bad_blob {
        return Err(ConfigError::Blob);
    }
    let image = image::parse_header(header, cfg.image.len).map_err(ConfigError::Image)?;
    let initrd_len = cfg.initrd.map_or(0, |b| b.len);
    let place = image::place(
        &image,
        RAM_BASE,
        cfg.mem_size,
        DTB_CAPACITY as u64,
        initrd_len,
    )
    .map_err(ConfigError::Place)?;
    Ok(Layout {
        ram_size: cfg.mem_size,
        image,
        place,
        vcpus: cfg.vcpus,
        initrd_len,
    })
}

/// The guest's device tree (QEMU virt's device addresses) into `buf`; returns its length.
pub fn device_tree(
    layout: &Layout,
    bootargs: &str,
    buf: &mut [u8; DTB_CAPACITY],
) -> Result<usize, ConfigError> {
    let mut dt = RealmDtConfig::virt(layout.vcpus, RAM_BASE, layout.ram_size, bootargs);
    dt.initrd = layout.place.initrd;
    fdt::build_realm_dt(&dt, buf).map_err(ConfigError::DeviceTree)
}

/// The device addresses the device tree gives the guest.
pub fn devices(layout: &Layout) -> RealmDtConfig<'static> {
    RealmDtConfig::virt(layout.vcpus, RAM_BASE, layout.ram_size, "")
}

/// Realm parameters of the guest: 40-bit IPA space from level 1 (two concatenated starting
/// tables at `rtt_base`), SHA-256, no SVE, no PMU.
pub fn realm_params(rtt_base: u64) -> RmiRealmParams {
    let mut p = RmiRealmParams::ZERO;
    p.s2sz = IPA_BITS as u8;
    p.num_bps = 2;
    p.num_wps = 2;
    p.vmid = VMID;
    p.rtt_base = rtt_base;
    p.rtt_level_start = 1;
    p.rtt_num_start = 2;
    p
}

/// The parameters of REC `index` (auxiliary granules aside): vCPU 0 runnable at the kernel's
/// entry with x0 = the device tree, the others off until PSCI CPU_ON.
pub fn rec_params(layout: &Layout, index: usize) -> RmiRecParams {
    let mut p = RmiRecParams::ZERO;
    p.mpidr = rec_index_to_mpidr(index as u64).unwrap_or(0);
    if index == 0 {
        p.flags = RmiRecCreateFlags::RUNNABLE;
        p.pc = layout.place.kernel;
        p.gprs[0] = layout.place.dtb;
    }
    p
}

/// Where the contents of a measured page come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The kernel file.
    Image,
    /// The device tree blob.
    DeviceTree,
    /// The initrd file.
    Initrd,
}

/// One step of loading that the RMM measures, in the order the loader issues them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// RMI_RTT_INIT_RIPAS over `[base, top)`, walking at [`RIPAS_LEVEL`].
    InitRipas {
        /// First IPA.
        base: u64,
        /// End IPA.
        top: u64,
    },
    /// RMI_DATA_CREATE at `ipa`, contents measured, from page `offset` of `source` (a last
    /// partial page is padded with zeros).
    Data {
        /// Where in the realm.
        ipa: u64,
        /// Which file.
        source: Source,
        /// Byte offset of the page in that file.
        offset: u64,
    },
    /// RMI_REC_CREATE of REC `index` ([`rec_params`]).
    Rec {
        /// The REC (vCPU) index.
        index: usize,
    },
}

/// Calls `f` with each measured step of loading `layout` with a device tree of `dtb_len` bytes,
/// in order; stops at the first error.
pub fn steps<E>(
    layout: &Layout,
    dtb_len: usize,
    mut f: impl FnMut(Step) -> Result<(), E>,
) -> Result<(), E> {
    f(Step::InitRipas {
        base: RAM_BASE,
        top: RAM_BASE + layout.ram_size,
    })?;
    let mut pages = |source, ipa: u64, len: u64| {
        let mut offset = 0;
        while offset < len {
            f(Step::Data {
                ipa: ipa + offset,
                source,
                offset,
            })?;
            offset += PAGE;
        }
        Ok(())
    };
    pages(Source::Image, layout.place.kernel, layout.image.file_size)?;
    pages(Source::DeviceTree, layout.place.dtb, dtb_len as u64)?;
    if let Some((start, _)) = layout.place.initrd {
        pages(Source::Initrd, start, layout.initrd_len)?;
    }
    for index in 0..layout.vcpus {
        f(Step::Rec { index })?;
    }
    Ok(())
}

/// The RIM a realm loaded by [`steps`] must have. `page` fills a page of a source from a byte
/// offset (zero past its end).
pub fn expected_rim(
    layout: &Layout,
    dtb_len: usize,
    mut page: impl FnMut(Source, u64, &mut [u8; PAGE as usize]),
) -> Option<Measurement> {
    // The RTT base is not measured.
    let mut rim = RimBuilder::new(&realm_params(0))?;
    let mut buf = [0u8; PAGE as usize];
    let r: Result<(), ()> = steps(layout, dtb_len, |step| {
        match step {
            Step::InitRipas { base, top } => {
                rim.init_ripas(base, top, RIPAS_LEVEL);
            }
            Step::Data {
                ipa,
                source,
                offset,
            } => {
                page(source, offset, &mut buf);
                rim.data(ipa, DATA_MEASURE_CONTENT, &buf);
            }
            Step::Rec { index } => {
                let p = rec_params(layout, index);
                if p.flags.contains(RmiRecCreateFlags::RUNNABLE) {
                    rim.rec(&p);
                }
            }
        }
        Ok(())
    });
    r.ok()?;
    Some(rim.value())
}

/// What the runner asks the image for: where it left the files, and the guest's shape. The
/// runner writes it as text, one `key=value` per line (`image`, `image_len`, `initrd`,
/// `initrd_len`, `vcpus`, `mem_mib`, `bootargs`; numbers decimal or `0x` hex; no initrd when
/// `initrd_len` is 0 or missing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The guest, with the files' NS addresses.
    pub config: Config<'a>,
}

/// Why a [`Request`] could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// A line without `=`, or a key this format does not have.
    UnknownKey,
    /// A number that does not parse.
    BadNumber,
    /// A required key is missing.
    Missing(&'static str),
    /// The text is not UTF-8.
    NotText,
}

fn number(v: &str) -> Result<u64, RequestError> {
    let v = v.trim();
    let r = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    r.map_err(|_| RequestError::BadNumber)
}

impl<'a> Request<'a> {
    /// Reads a request from the runner's text.
    pub fn parse(text: &'a [u8]) -> Result<Self, RequestError> {
        let text = core::str::from_utf8(text).map_err(|_| RequestError::NotText)?;
        let (mut image, mut image_len, mut initrd, mut initrd_len) = (None, None, 0, 0);
        let (mut vcpus, mut mem_mib, mut bootargs) = (None, None, None);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (key, value) = line.split_once('=').ok_or(RequestError::UnknownKey)?;
            match key.trim() {
                "image" => image = Some(number(value)?),
                "image_len" => image_len = Some(number(value)?),
                "initrd" => initrd = number(value)?,
                "initrd_len" => initrd_len = number(value)?,
                "vcpus" => vcpus = Some(number(value)?),
                "mem_mib" => mem_mib = Some(number(value)?),
                "bootargs" => bootargs = Some(value),
                _ => return Err(RequestError::UnknownKey),
            }
        }
        let need = |v: Option<u64>, name| v.ok_or(RequestError::Missing(name));
        let mem_mib = need(mem_mib, "mem_mib")?;
        Ok(Self {
            config: Config {
                image: Blob {
                    pa: need(image, "image")?,
                    len: need(image_len, "image_len")?,
                },
                initrd: (initrd_len != 0).then_some(Blob {
                    pa: initrd,
                    len: initrd_len,
                }),
                vcpus: usize::try_from(need(vcpus, "vcpus")?).unwrap_or(usize::MAX),
                mem_size: mem_mib.saturating_mul(1 << 20),
                bootargs: bootargs.ok_or(RequestError::Missing("bootargs"))?,
            },
        })
    }
}

#[cfg(test)]
mod tests;
