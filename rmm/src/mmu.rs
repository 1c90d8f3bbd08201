//! Stage-1 translation tables for the RMM's own address space at R-EL2 (4 KiB granule, 48-bit VA,
//! one range through TTBR0_EL2), built as plain data so the layout is tested on the build machine.
//!
//! The image maps: all DRAM the manifest lists, identity, in the Realm PAS (execute-never, and
//! the RMM's own image with the permissions of its sections); the same DRAM again at
//! [`NS_VIEW_BASE`] + PA with the NS attribute, which is the only way the RMM reads host buffers;
//! and its console as Device memory. This module owns the descriptor format and the mapping
//! algorithm; it must not touch system registers (the image does that).

/// VA at which the NS view of physical memory starts (VA = NS_VIEW_BASE + PA).
pub const NS_VIEW_BASE: u64 = 1 << 47;
/// Entries per table.
pub const ENTRIES: usize = 512;
/// A translation table.
pub type Table = [u64; ENTRIES];

const PAGE: u64 = 4096;
const VA_BITS: u32 = 48;

/// Memory types, indexes into MAIR_EL2 ([`MAIR`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MemType {
    /// Normal, inner/outer write-back read/write-allocate, inner shareable.
    Normal = 0,
    /// Device-nGnRE.
    Device = 1,
}

/// MAIR_EL2 value matching [`MemType`]: Attr0 = Normal WB, Attr1 = Device-nGnRE.
pub const MAIR: u64 = 0xFF | (0x04 << 8);

/// How a range is mapped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Attrs {
    /// Memory type.
    pub mem: MemType,
    /// Access the Non-secure PAS (NS = 1) rather than the Realm PAS.
    pub ns: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
}

impl Attrs {
    /// Realm data: RW, execute-never.
    pub const REALM_RW: Self = Self {
        mem: MemType::Normal,
        ns: false,
        write: true,
        exec: false,
    };
    /// Realm read-only data.
    pub const REALM_RO: Self = Self {
        mem: MemType::Normal,
        ns: false,
        write: false,
        exec: false,
    };
    /// Realm code: read-only, executable.
    pub const REALM_RX: Self = Self {
        mem: MemType::Normal,
        ns: false,
        write: false,
        exec: true,
    };
    /// Host memory seen from the RMM: RW, execute-never, NS.
    pub const NS_RW: Self = Self {
        mem: MemType::Normal,
        ns: true,
        write: true,
        exec: false,
    };
    /// NS device (the console).
    pub const NS_DEVICE: Self = Self {
        mem: MemType::Device,
        ns: true,
        write: true,
        exec: false,
    };

    /// Lower and upper attribute bits of a block or page descriptor.
    pub const fn bits(self) -> u64 {
        let mut d = (self.mem as u64) << 2 // AttrIndx
            | 1 << 6 // AP[1]: RES1 in the EL2 regime
            | 1 << 10; // AF
        if self.ns {
            d |= 1 << 5;
        }
        if !self.write {
            d |= 1 << 7; // AP[2]: read-only
        }
        if matches!(self.mem, MemType::Normal) {
            d |= 0b11 << 8; // inner shareable
        }
        if !self.exec {
            d |= 1 << 54; // XN
        }
        d
    }
}

/// Why a mapping could not be made.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MapError {
    /// Addresses or size not page aligned, or the range leaves the 48-bit VA space.
    Range,
    /// The range overlaps an existing mapping.
    Overlap,
    /// The table pool is exhausted.
    OutOfTables,
}

/// Tables carved from a fixed pool; table 0 is the root (level 0).
pub struct Tables<'p> {
    pool: &'p mut [Table],
    /// Physical (= RMM virtual) address of `pool[0]`.
    pool_pa: u64,
    used: usize,
}

const fn shift(level: u32) -> u32 {
    12 + 9 * (3 - level)
}

impl<'p> Tables<'p> {
    /// Starts with an empty root in `pool[0]`; `pool_pa` is where the pool sits in memory.
    pub fn new(pool: &'p mut [Table], pool_pa: u64) -> Option<Self> {
        let root = pool.first_mut()?;
        root.fill(0);
        Some(Self {
            pool,
            pool_pa,
            used: 1,
        })
    }

    /// Address to load into TTBR0_EL2.
    pub fn root_pa(&self) -> u64 {
        self.pool_pa
    }

    /// Tables used so far.
    pub fn used(&self) -> usize {
        self.used
    }

    fn table_index(&self, pa: u64) -> usize {
        ((pa - self.pool_pa) / PAGE) as usize
    }

    /// The next-level table under entry `idx` of table `t`, created if the entry is empty.
    fn next(&mut self, t: usize, idx: usize) -> Result<usize, MapError> {
        let e = self.pool[t][idx];
        match e & 0b11 {
            0b11 => Ok(self.table_index(e & 0x0000_FFFF_FFFF_F000)),
            0b01 => Err(MapError::Overlap),
            _ => {
                let n = self.used;
                let new = self.pool.get_mut(n).ok_or(MapError::OutOfTables)?;
                new.fill(0);
                self.used += 1;
                self.pool[t][idx] = (self.pool_pa + n as u64 * PAGE) | 0b11;
                Ok(n)
            }
        }
    }

    /// Maps `[va, va + size)` to `[pa, pa + size)` with the largest blocks alignment allows.
    pub fn map(&mut self, va: u64, pa: u64, size: u64, attrs: Attrs) -> Result<(), MapError> {
        let aligned =
            va.is_multiple_of(PAGE) && pa.is_multiple_of(PAGE) && size.is_multiple_of(PAGE);
        let end = va.checked_add(size).ok_or(MapError::Range)?;
        if !aligned || end > 1 << VA_BITS || pa.checked_add(size).is_none_or(|e| e > 1 << VA_BITS) {
            return Err(MapError::Range);
        }
        let (mut va, mut pa) = (va, pa);
        while va < end {
            // Largest block (1 GiB at level 1, 2 MiB at level 2, else a page) that fits.
            let level = (1..=3)
                .find(|&l| {
                    let s = 1u64 << shift(l);
                    va.is_multiple_of(s) && pa.is_multiple_of(s) && end - va >= s
                })
                .unwrap_or(3);
            let mut t = 0;
            for l in 0..level {
                t = self.next(t, ((va >> shift(l)) & 0x1FF) as usize)?;
            }
            let idx = ((va >> shift(level)) & 0x1FF) as usize;
            let kind = if level == 3 { 0b11 } else { 0b01 };
            let s = 1u64 << shift(level);
            // This block and the ones after it in the same table, while they fit: before the
            // table ends, no address is aligned for a larger block, so the walk above would pick
            // this table and level again (cold boot maps thousands of pages this way).
            for e in &mut self.pool[t][idx..] {
                if *e != 0 {
                    return Err(MapError::Overlap);
                }
                *e = pa | attrs.bits() | kind;
                va += s;
                pa += s;
                if end - va < s {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Walks `va` as the hardware would: the output address and the leaf descriptor.
    pub fn translate(&self, va: u64) -> Option<(u64, u64)> {
        let mut t = 0;
        for level in 0..=3 {
            let e = self.pool[t][((va >> shift(level)) & 0x1FF) as usize];
            let s = shift(level);
            match (e & 0b11, level) {
                (0b11, 3) | (0b01, 1..=2) => {
                    let base = e & 0x0000_FFFF_FFFF_F000 & !((1u64 << s) - 1);
                    return Some((base | (va & ((1u64 << s) - 1)), e));
                }
                (0b11, _) => t = self.table_index(e & 0x0000_FFFF_FFFF_F000),
                _ => return None,
            }
        }
        None
    }
}

/// TCR_EL2 for this layout: T0SZ = 16 (48-bit VA), 4 KiB granule, inner shareable write-back
/// walks, 48-bit PA size.
pub const TCR: u64 = 16 // T0SZ
    | 0b01 << 8 // IRGN0 WB RA WA
    | 0b01 << 10 // ORGN0 WB RA WA
    | 0b11 << 12 // SH0 inner shareable
    | 0b101 << 16 // PS: 48 bits
    | 1 << 23 // RES1
    | 1 << 31; // RES1

#[cfg(test)]
mod tests;
