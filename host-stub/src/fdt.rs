//! A flattened device tree (DTB) writer into a caller's byte buffer, and the builder of the
//! minimal device tree a Linux realm guest boots with.
//!
//! It owns the DTB format (Devicetree Specification v0.4, chapter 5: header, memory reservation
//! block, structure block, strings block; version 17, last compatible version 16) and the
//! layout of the realm's tree ([`build_realm_dt`], after `linux-realm-guest.md`). It must not
//! touch realm memory, the RMM or any device model: it only fills `buf`, and the caller copies
//! the blob into the realm. No heap: property names go into a fixed strings table
//! ([`STRINGS_CAPACITY`] bytes, names shared), everything else straight into `buf`; a tree
//! that does not fit is an [`FdtError`], never a panic.

use core::fmt::Write as _;

use hostcall_abi::rec_params::rec_index_to_mpidr_el1;

use crate::{pl011, vgic};

/// `magic` of a DTB header.
pub const FDT_MAGIC: u32 = 0xD00D_FEED;
/// The format version written.
pub const FDT_VERSION: u32 = 17;
/// The oldest version the output is compatible with.
pub const FDT_LAST_COMP_VERSION: u32 = 16;
/// Bytes of the header.
pub const FDT_HEADER_SIZE: usize = 40;
/// Bytes the strings table may hold.
pub const STRINGS_CAPACITY: usize = 1024;

/// Structure block tokens.
pub mod token {
    /// Start of a node (followed by its NUL-terminated name, padded to 4 bytes).
    pub const BEGIN_NODE: u32 = 1;
    /// End of a node.
    pub const END_NODE: u32 = 2;
    /// A property: length, name offset, value padded to 4 bytes.
    pub const PROP: u32 = 3;
    /// Nothing.
    pub const NOP: u32 = 4;
    /// End of the structure block.
    pub const END: u32 = 9;
}

/// Why a tree could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdtError {
    /// The output buffer is too small.
    BufferTooSmall,
    /// The strings table ([`STRINGS_CAPACITY`]) is full.
    StringsFull,
    /// A node or property name is empty or holds a NUL; a string value holds a NUL.
    BadName,
    /// Nodes are not properly nested: a property outside a node, `end_node` without a node, a
    /// second root, or `finish` with nodes open.
    Unbalanced,
    /// A value does not fit its field (a property longer than 4 GiB).
    TooLarge,
    /// A [`RealmDtConfig`] the builder cannot describe.
    BadConfig,
}

/// A DTB being written (see the module documentation).
pub struct FdtWriter<'b> {
    buf: &'b mut [u8],
    /// Offset of the structure block.
    struct_start: usize,
    /// End of what is written so far.
    pos: usize,
    strings: heapless::Vec<u8, STRINGS_CAPACITY>,
    depth: usize,
    root_done: bool,
    boot_cpuid: u32,
}

fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

const fn pad4(n: usize) -> usize {
    (n + 3) & !3
}

impl<'b> FdtWriter<'b> {
    /// Starts a DTB in `buf` with the memory reservation block `reservations` (address, size).
    pub fn new(buf: &'b mut [u8], reservations: &[(u64, u64)]) -> Result<Self, FdtError> {
        let rsv_bytes = reservations
            .len()
            .checked_add(1)
            .and_then(|n| n.checked_mul(16))
            .ok_or(FdtError::TooLarge)?;
        let struct_start = FDT_HEADER_SIZE + rsv_bytes;
        let area = buf
            .get_mut(..struct_start)
            .ok_or(FdtError::BufferTooSmall)?;
        area.fill(0);
        for (i, (addr, size)) in reservations.iter().enumerate() {
            let at = FDT_HEADER_SIZE + 16 * i;
            area[at..at + 8].copy_from_slice(&addr.to_be_bytes());
            area[at + 8..at + 16].copy_from_slice(&size.to_be_bytes());
        }
        Ok(Self {
            buf,
            struct_start,
            pos: struct_start,
            strings: heapless::Vec::new(),
            depth: 0,
            root_done: false,
            boot_cpuid: 0,
        })
    }

    /// Sets the header's `boot_cpuid_phys`.
    pub fn set_boot_cpuid(&mut self, id: u32) {
        self.boot_cpuid = id;
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), FdtError> {
        let end = self
            .pos
            .checked_add(bytes.len())
            .ok_or(FdtError::TooLarge)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(FdtError::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// Zero bytes up to the next 4-byte boundary.
    fn align(&mut self) -> Result<(), FdtError> {
        let n = pad4(self.pos) - self.pos;
        self.put(&[0; 3][..n])
    }

    /// Opens a node. The first node is the root, named ""; every other name is non-empty.
    pub fn begin_node(&mut self, name: &str) -> Result<(), FdtError> {
        if self.root_done {
            return Err(FdtError::Unbalanced);
        }
        if (self.depth == 0) != name.is_empty() || name.bytes().any(|b| b == 0) {
            return Err(FdtError::BadName);
        }
        self.put(&be32(token::BEGIN_NODE))?;
        self.put(name.as_bytes())?;
        self.put(&[0])?;
        self.align()?;
        self.depth += 1;
        Ok(())
    }

    /// Closes the innermost open node.
    pub fn end_node(&mut self) -> Result<(), FdtError> {
        if self.depth == 0 {
            return Err(FdtError::Unbalanced);
        }
        self.put(&be32(token::END_NODE))?;
        self.depth -= 1;
        if self.depth == 0 {
            self.root_done = true;
        }
        Ok(())
    }

    /// The offset of `name` in the strings table, adding it if new.
    fn string_offset(&mut self, name: &str) -> Result<u32, FdtError> {
        if name.is_empty() || name.bytes().any(|b| b == 0) {
            return Err(FdtError::BadName);
        }
        let mut at = 0;
        for s in self.strings.split(|&b| b == 0) {
            if s == name.as_bytes() && at < self.strings.len() {
                return Ok(at as u32);
            }
            at += s.len() + 1;
        }
        let off = self.strings.len();
        if off + name.len() + 1 > STRINGS_CAPACITY {
            return Err(FdtError::StringsFull);
        }
        self.strings
            .extend_from_slice(name.as_bytes())
            .map_err(|_| FdtError::StringsFull)?;
        self.strings.push(0).map_err(|_| FdtError::StringsFull)?;
        Ok(off as u32)
    }

    /// A property of `len` bytes whose value `fill` writes into the slice it is given.
    fn property_with(
        &mut self,
        name: &str,
        len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), FdtError> {
        if self.depth == 0 {
            return Err(FdtError::Unbalanced);
        }
        let nameoff = self.string_offset(name)?;
        let len32 = u32::try_from(len).map_err(|_| FdtError::TooLarge)?;
        self.put(&be32(token::PROP))?;
        self.put(&be32(len32))?;
        self.put(&be32(nameoff))?;
        let end = self.pos.checked_add(len).ok_or(FdtError::TooLarge)?;
        let dst = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(FdtError::BufferTooSmall)?;
        fill(dst);
        self.pos = end;
        self.align()
    }

    /// A property with raw bytes.
    pub fn property(&mut self, name: &str, value: &[u8]) -> Result<(), FdtError> {
        self.property_with(name, value.len(), |d| d.copy_from_slice(value))
    }

    /// A property with no value (a flag such as `interrupt-controller`).
    pub fn property_empty(&mut self, name: &str) -> Result<(), FdtError> {
        self.property(name, &[])
    }

    /// A property of 32-bit cells.
    pub fn property_cells(&mut self, name: &str, cells: &[u32]) -> Result<(), FdtError> {
        let len = cells.len().checked_mul(4).ok_or(FdtError::TooLarge)?;
        self.property_with(name, len, |d| {
            for (c, out) in cells.iter().zip(d.chunks_exact_mut(4)) {
                out.copy_from_slice(&c.to_be_bytes());
            }
        })
    }

    /// A property of one 32-bit cell.
    pub fn property_u32(&mut self, name: &str, value: u32) -> Result<(), FdtError> {
        self.property_cells(name, &[value])
    }

    /// A property of 64-bit values, two cells each (addresses and sizes with
    /// `#address-cells` / `#size-cells` = 2).
    pub fn property_u64s(&mut self, name: &str, values: &[u64]) -> Result<(), FdtError> {
        let len = values.len().checked_mul(8).ok_or(FdtError::TooLarge)?;
        self.property_with(name, len, |d| {
            for (v, out) in values.iter().zip(d.chunks_exact_mut(8)) {
                out.copy_from_slice(&v.to_be_bytes());
            }
        })
    }

    /// A string property.
    pub fn property_string(&mut self, name: &str, value: &str) -> Result<(), FdtError> {
        self.property_strings(name, &[value])
    }

    /// A string-list property (each string NUL-terminated).
    pub fn property_strings(&mut self, name: &str, values: &[&str]) -> Result<(), FdtError> {
        if values.iter().any(|s| s.bytes().any(|b| b == 0)) {
            return Err(FdtError::BadName);
        }
        let len = values
            .iter()
            .try_fold(0usize, |n, s| n.checked_add(s.len() + 1))
            .ok_or(FdtError::TooLarge)?;
        self.property_with(name, len, |d| {
            let mut at = 0;
            for s in values {
                d[at..at + s.len()].copy_from_slice(s.as_bytes());
                d[at + s.len()] = 0;
                at += s.len() + 1;
            }
        })
    }

    /// Ends the structure block, appends the strings and writes the header. Returns the
    /// blob's total size (`totalsize`).
    pub fn finish(mut self) -> Result<usize, FdtError> {
        if self.depth != 0 || !self.root_done {
            return Err(FdtError::Unbalanced);
        }
        self.put(&be32(token::END))?;
        let struct_size = self.pos - self.struct_start;
        let strings_start = self.pos;
        let strings = core::mem::take(&mut self.strings);
        self.put(&strings)?;
        let total = self.pos;
        let header = [
            FDT_MAGIC,
            total as u32,
            self.struct_start as u32,
            strings_start as u32,
            FDT_HEADER_SIZE as u32,
            FDT_VERSION,
            FDT_LAST_COMP_VERSION,
            self.boot_cpuid,
            strings.len() as u32,
            struct_size as u32,
        ];
        if u32::try_from(total).is_err() {
            return Err(FdtError::TooLarge);
        }
        for (i, v) in header.iter().enumerate() {
            self.buf[4 * i..4 * i + 4].copy_from_slice(&be32(*v));
        }
        Ok(total)
    }
}

/// The phandle of the GIC node.
pub const GIC_PHANDLE: u32 = 1;
/// The phandle of the UART's fixed clock.
pub const CLOCK_PHANDLE: u32 = 2;
/// `interrupts` cell values of the architected timer: PPI numbers (INTID - 16) of the secure
/// physical (29), non-secure physical (30), virtual (27) and hypervisor (26) timers, level-high.
pub const TIMER_PPIS: [u32; 4] = [13, 14, 11, 10];
/// Interrupt specifier type: SPI.
const GIC_SPI: u32 = 0;
/// Interrupt specifier type: PPI.
const GIC_PPI: u32 = 1;
/// Interrupt specifier flags: level-sensitive, active high.
const IRQ_LEVEL_HIGH: u32 = 4;

/// What the realm's device tree describes (all addresses are IPAs, the protected ones: a realm
/// maps device windows through their unprotected alias itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealmDtConfig<'a> {
    /// vCPUs, 1..=[`vgic::MAX_VCPUS`] (`cpu@N`, `enable-method = "psci"`).
    pub nr_cpus: usize,
    /// Base of RAM.
    pub mem_base: u64,
    /// Bytes of RAM.
    pub mem_size: u64,
    /// The GIC distributor ([`vgic::GICD_SIZE`]).
    pub gicd_base: u64,
    /// The redistributor region ([`vgic::gicr_region_size`] of `nr_cpus`).
    pub gicr_base: u64,
    /// The PL011 ([`pl011::PL011_SIZE`]).
    pub uart_base: u64,
    /// The UART's INTID (an SPI, 32..).
    pub uart_intid: u32,
    /// The UART's reference clock.
    pub uart_clock_hz: u32,
    /// `/chosen/bootargs`.
    pub bootargs: &'a str,
    /// `/chosen/linux,initrd-start` and `-end` (end exclusive), if there is an initrd.
    pub initrd: Option<(u64, u64)>,
}

impl<'a> RealmDtConfig<'a> {
    /// The QEMU virt board's device addresses (GICD 0x0800_0000, GICR 0x080A_0000, PL011
    /// 0x0900_0000 on INTID 33 with a 24 MHz clock) with the given CPUs, RAM and command line.
    pub const fn virt(nr_cpus: usize, mem_base: u64, mem_size: u64, bootargs: &'a str) -> Self {
        Self {
            nr_cpus,
            mem_base,
            mem_size,
            gicd_base: 0x0800_0000,
            gicr_base: 0x080A_0000,
            uart_base: 0x0900_0000,
            uart_intid: 33,
            uart_clock_hz: 24_000_000,
            bootargs,
            initrd: None,
        }
    }
}

/// A node name `prefix@unit` (unit in hex).
fn unit_name(prefix: &str, unit: u64) -> Result<heapless::String<48>, FdtError> {
    let mut s = heapless::String::new();
    write!(s, "{prefix}@{unit:x}").map_err(|_| FdtError::TooLarge)?;
    Ok(s)
}

/// Writes the realm's minimal device tree (the one of `linux-realm-guest.md`) into `buf`;
/// returns its size.
///
/// ```text
/// / { compatible = "linux,dummy-virt"; #address-cells = <2>; #size-cells = <2>;
///     interrupt-parent = <&gic>;
///   psci { compatible = "arm,psci-1.0", "arm,psci-0.2"; method = "smc"; };
///   cpus { cpu@N { device_type = "cpu"; compatible = "arm,arm-v8"; reg = <MPIDR aff>;
///                  enable-method = "psci"; }; ... };
///   memory@base { device_type = "memory"; reg = <base size>; };
///   gic: interrupt-controller@gicd { compatible = "arm,gic-v3"; #interrupt-cells = <3>;
///        interrupt-controller; #redistributor-regions = <1>; #address-cells = <2>;
///        #size-cells = <2>; ranges; reg = <gicd 64K>, <gicr N*128K>; };
///   timer { compatible = "arm,armv8-timer"; interrupts = <1 13 4>, <1 14 4>, <1 11 4>,
///           <1 10 4>; always-on; };
///   apb_pclk: clock-24mhz { compatible = "fixed-clock"; #clock-cells = <0>; clock-frequency; };
///   pl011@uart { compatible = "arm,pl011", "arm,primecell"; arm,primecell-periphid;
///        reg; interrupts = <0 spi 4>; clocks = <&apb_pclk>, <&apb_pclk>;
///        clock-names = "uartclk", "apb_pclk"; };
///   chosen { bootargs; stdout-path = "/pl011@uart"; linux,initrd-start; linux,initrd-end; };
/// };
/// ```
pub fn build_realm_dt(cfg: &RealmDtConfig<'_>, buf: &mut [u8]) -> Result<usize, FdtError> {
    if cfg.nr_cpus == 0 || cfg.nr_cpus > vgic::MAX_VCPUS || cfg.mem_size == 0 {
        return Err(FdtError::BadConfig);
    }
    let uart_spi = cfg
        .uart_intid
        .checked_sub(32)
        .filter(|_| (cfg.uart_intid as usize) < vgic::NR_IRQS)
        .ok_or(FdtError::BadConfig)?;
    if cfg.initrd.is_some_and(|(start, end)| end < start) {
        return Err(FdtError::BadConfig);
    }
    let mut w = FdtWriter::new(buf, &[])?;
    w.begin_node("")?;
    w.property_string("compatible", "linux,dummy-virt")?;
    w.property_u32("#address-cells", 2)?;
    w.property_u32("#size-cells", 2)?;
    w.property_u32("interrupt-parent", GIC_PHANDLE)?;

    w.begin_node("psci")?;
    w.property_strings("compatible", &["arm,psci-1.0", "arm,psci-0.2"])?;
    w.property_string("method", "smc")?;
    w.end_node()?;

    w.begin_node("cpus")?;
    w.property_u32("#address-cells", 1)?;
    w.property_u32("#size-cells", 0)?;
    for i in 0..cfg.nr_cpus {
        // Aff2.Aff1.Aff0 of the REC's MPIDR (Aff3 needs a second cell; no REC this small has
        // one).
        let mpidr = rec_index_to_mpidr_el1(i as u64).ok_or(FdtError::BadConfig)? & 0xFF_FFFF;
        w.begin_node(&unit_name("cpu", mpidr)?)?;
        w.property_string("device_type", "cpu")?;
        w.property_string("compatible", "arm,arm-v8")?;
        w.property_u32("reg", mpidr as u32)?;
        w.property_string("enable-method", "psci")?;
        w.end_node()?;
    }
    w.end_node()?;

    w.begin_node(&unit_name("memory", cfg.mem_base)?)?;
    w.property_string("device_type", "memory")?;
    w.property_u64s("reg", &[cfg.mem_base, cfg.mem_size])?;
    w.end_node()?;

    w.begin_node(&unit_name("interrupt-controller", cfg.gicd_base)?)?;
    w.property_string("compatible", "arm,gic-v3")?;
    w.property_u32("#interrupt-cells", 3)?;
    w.property_empty("interrupt-controller")?;
    w.property_u32("#redistributor-regions", 1)?;
    // No ITS children; the cells and an identity `ranges` keep the node a complete interrupt
    // provider for `dtc` (as QEMU's virt board writes it).
    w.property_u32("#address-cells", 2)?;
    w.property_u32("#size-cells", 2)?;
    w.property_empty("ranges")?;
    w.property_u64s(
        "reg",
        &[
            cfg.gicd_base,
            vgic::GICD_SIZE,
            cfg.gicr_base,
            vgic::gicr_region_size(cfg.nr_cpus),
        ],
    )?;
    w.property_u32("phandle", GIC_PHANDLE)?;
    w.end_node()?;

    w.begin_node("timer")?;
    w.property_string("compatible", "arm,armv8-timer")?;
    let mut timer = [0u32; 12];
    for (cells, ppi) in timer.chunks_exact_mut(3).zip(TIMER_PPIS) {
        cells.copy_from_slice(&[GIC_PPI, ppi, IRQ_LEVEL_HIGH]);
    }
    w.property_cells("interrupts", &timer)?;
    w.property_empty("always-on")?;
    w.end_node()?;

    w.begin_node("apb-pclk")?;
    w.property_string("compatible", "fixed-clock")?;
    w.property_u32("#clock-cells", 0)?;
    w.property_u32("clock-frequency", cfg.uart_clock_hz)?;
    w.property_u32("phandle", CLOCK_PHANDLE)?;
    w.end_node()?;

    let uart = unit_name("pl011", cfg.uart_base)?;
    w.begin_node(&uart)?;
    w.property_strings("compatible", &["arm,pl011", "arm,primecell"])?;
    w.property_u32("arm,primecell-periphid", pl011::PERIPH_ID)?;
    w.property_u64s("reg", &[cfg.uart_base, pl011::PL011_SIZE])?;
    w.property_cells("interrupts", &[GIC_SPI, uart_spi, IRQ_LEVEL_HIGH])?;
    w.property_cells("clocks", &[CLOCK_PHANDLE, CLOCK_PHANDLE])?;
    w.property_strings("clock-names", &["uartclk", "apb_pclk"])?;
    w.end_node()?;

    w.begin_node("chosen")?;
    w.property_string("bootargs", cfg.bootargs)?;
    let mut path = heapless::String::<50>::new();
    write!(path, "/{uart}").map_err(|_| FdtError::TooLarge)?;
    w.property_string("stdout-path", &path)?;
    if let Some((start, end)) = cfg.initrd {
        w.property_u64s("linux,initrd-start", &[start])?;
        w.property_u64s("linux,initrd-end", &[end])?;
    }
    w.end_node()?;

    w.end_node()?;
    w.finish()
}

#[cfg(test)]
mod tests;
