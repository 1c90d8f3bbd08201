//! A reader for the few parts of our ELF64 little-endian images the bench needs: section headers
//! (name, kind, flags, address, size) and function symbols (name, address, size).

/// One section header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub kind: u32,
    pub flags: u64,
    pub addr: u64,
    pub size: u64,
}

/// One function symbol: its (mangled) name and address range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub addr: u64,
    pub size: u64,
}

pub const SHF_ALLOC: u64 = 2;
pub const SHF_EXECINSTR: u64 = 4;
pub const SHT_PROGBITS: u32 = 1;
pub const SHT_SYMTAB: u32 = 2;
pub const SHT_NOBITS: u32 = 8;
const STT_FUNC: u8 = 2;

/// An ELF64 little-endian file held in memory.
pub struct Elf<'a> {
    data: &'a [u8],
}

impl<'a> Elf<'a> {
    /// `None` unless `data` starts like an ELF64 little-endian file.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        (data.get(..6)? == b"\x7fELF\x02\x01").then_some(Elf { data })
    }

    fn u16_at(&self, o: usize) -> Option<u16> {
        Some(u16::from_le_bytes(
            self.data.get(o..o + 2)?.try_into().ok()?,
        ))
    }

    fn u32_at(&self, o: usize) -> Option<u32> {
        Some(u32::from_le_bytes(
            self.data.get(o..o + 4)?.try_into().ok()?,
        ))
    }

    fn u64_at(&self, o: usize) -> Option<u64> {
        Some(u64::from_le_bytes(
            self.data.get(o..o + 8)?.try_into().ok()?,
        ))
    }

    /// The NUL-terminated string at `offset` of the string table section `table`.
    fn string(&self, table: &RawSection, offset: u64) -> Option<String> {
        let start = usize::try_from(table.offset.checked_add(offset)?).ok()?;
        let end = usize::try_from(table.offset.checked_add(table.size)?).ok()?;
        let bytes = self.data.get(start..end)?;
        let len = bytes.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&bytes[..len]).into_owned())
    }

    fn raw_sections(&self) -> Option<Vec<RawSection>> {
        let shoff = usize::try_from(self.u64_at(0x28)?).ok()?;
        let shentsize = usize::from(self.u16_at(0x3A)?);
        let shnum = usize::from(self.u16_at(0x3C)?);
        (0..shnum)
            .map(|i| {
                let h = shoff.checked_add(i.checked_mul(shentsize)?)?;
                Some(RawSection {
                    name: self.u32_at(h)?,
                    kind: self.u32_at(h + 4)?,
                    flags: self.u64_at(h + 8)?,
                    addr: self.u64_at(h + 0x10)?,
                    offset: self.u64_at(h + 0x18)?,
                    size: self.u64_at(h + 0x20)?,
                    link: self.u32_at(h + 0x28)?,
                    entsize: self.u64_at(h + 0x38)?,
                })
            })
            .collect()
    }

    /// Every section header, with its name.
    pub fn sections(&self) -> Option<Vec<Section>> {
        let raw = self.raw_sections()?;
        let names = raw.get(usize::from(self.u16_at(0x3E)?))?;
        raw.iter()
            .map(|s| {
                Some(Section {
                    name: self.string(names, u64::from(s.name))?,
                    kind: s.kind,
                    flags: s.flags,
                    addr: s.addr,
                    size: s.size,
                })
            })
            .collect()
    }

    /// The function symbols of the symbol table (none if the file has no `.symtab`).
    pub fn functions(&self) -> Option<Vec<Symbol>> {
        let raw = self.raw_sections()?;
        let mut out = Vec::new();
        for table in raw
            .iter()
            .filter(|s| s.kind == SHT_SYMTAB && s.entsize >= 24)
        {
            let strings = raw.get(usize::try_from(table.link).ok()?)?;
            for i in 0..table.size / table.entsize {
                let e = usize::try_from(table.offset + i * table.entsize).ok()?;
                if self.data.get(e + 4).copied()? & 0xF != STT_FUNC {
                    continue;
                }
                out.push(Symbol {
                    name: self.string(strings, u64::from(self.u32_at(e)?))?,
                    addr: self.u64_at(e + 8)?,
                    size: self.u64_at(e + 16)?,
                });
            }
        }
        Some(out)
    }

    /// Bytes of the allocated sections: (loaded: text, rodata, data; zero-initialised: bss).
    pub fn footprint(&self) -> Option<(u64, u64)> {
        let (mut loaded, mut zeroed) = (0, 0);
        for s in self
            .raw_sections()?
            .iter()
            .filter(|s| s.flags & SHF_ALLOC != 0)
        {
            match s.kind {
                SHT_PROGBITS => loaded += s.size,
                SHT_NOBITS => zeroed += s.size,
                _ => {}
            }
        }
        Some((loaded, zeroed))
    }

    /// The address range `[lo, hi)` covering every executable allocated section.
    pub fn text_range(&self) -> Option<(u64, u64)> {
        self.sections()?
            .iter()
            .filter(|s| s.flags & (SHF_ALLOC | SHF_EXECINSTR) == SHF_ALLOC | SHF_EXECINSTR)
            .filter(|s| s.size > 0)
            .map(|s| (s.addr, s.addr + s.size))
            .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
    }

    /// The function whose Rust (legacy-mangled) path ends in `path` (`a::b` as written in the
    /// source, the crate first): `[addr, addr + size)`.
    pub fn function(&self, path: &str) -> Option<(u64, u64)> {
        let mangled: String = path
            .split("::")
            .map(|part| format!("{}{part}", part.len()))
            .collect();
        let wanted = format!("{mangled}17h");
        self.functions()?
            .into_iter()
            .find(|s| s.size > 0 && s.name.contains(&wanted))
            .map(|s| (s.addr, s.addr + s.size))
    }
}

struct RawSection {
    name: u32,
    kind: u32,
    flags: u64,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
    entsize: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64: a null section, `.text`, `.symtab` with one function, `.strtab`,
    /// `.shstrtab`.
    fn tiny_elf() -> Vec<u8> {
        let shstrtab = b"\0.text\0.symtab\0.strtab\0.shstrtab\0".to_vec();
        let strtab = b"\0_ZN4demo5bench4loop17h0123456789abcdefE\0".to_vec();
        let mut symtab = vec![0u8; 48];
        symtab[24..28].copy_from_slice(&1u32.to_le_bytes());
        symtab[28] = STT_FUNC;
        symtab[32..40].copy_from_slice(&0x1000u64.to_le_bytes());
        symtab[40..48].copy_from_slice(&0x40u64.to_le_bytes());
        let mut elf = vec![0u8; 0x40];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        let (sym_off, str_off) = (elf.len(), elf.len() + symtab.len());
        let shstr_off = str_off + strtab.len();
        elf.extend_from_slice(&symtab);
        elf.extend_from_slice(&strtab);
        elf.extend_from_slice(&shstrtab);
        let shoff = elf.len();
        let header = |name: u32, kind: u32, flags: u64, addr: u64, off: usize, size: usize| {
            let mut h = vec![0u8; 64];
            h[..4].copy_from_slice(&name.to_le_bytes());
            h[4..8].copy_from_slice(&kind.to_le_bytes());
            h[8..16].copy_from_slice(&flags.to_le_bytes());
            h[0x10..0x18].copy_from_slice(&addr.to_le_bytes());
            h[0x18..0x20].copy_from_slice(&(off as u64).to_le_bytes());
            h[0x20..0x28].copy_from_slice(&(size as u64).to_le_bytes());
            h
        };
        elf.extend(header(0, 0, 0, 0, 0, 0));
        elf.extend(header(1, SHT_PROGBITS, 6, 0x1000, 0, 0x200));
        let mut sym = header(7, SHT_SYMTAB, 0, 0, sym_off, 48);
        sym[0x28..0x2C].copy_from_slice(&3u32.to_le_bytes());
        sym[0x38..0x40].copy_from_slice(&24u64.to_le_bytes());
        elf.extend(sym);
        elf.extend(header(15, 3, 0, 0, str_off, strtab.len()));
        elf.extend(header(23, 3, 0, 0, shstr_off, shstrtab.len()));
        elf[0x28..0x30].copy_from_slice(&(shoff as u64).to_le_bytes());
        elf[0x3A..0x3C].copy_from_slice(&64u16.to_le_bytes());
        elf[0x3C..0x3E].copy_from_slice(&5u16.to_le_bytes());
        elf[0x3E..0x40].copy_from_slice(&4u16.to_le_bytes());
        elf
    }

    #[test]
    fn reads_sections_functions_and_the_text_range() {
        let data = tiny_elf();
        let elf = Elf::parse(&data).expect("an ELF64 file");
        let names: Vec<String> = elf
            .sections()
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["", ".text", ".symtab", ".strtab", ".shstrtab"]);
        assert_eq!(elf.text_range(), Some((0x1000, 0x1200)));
        assert_eq!(elf.function("demo::bench::loop"), Some((0x1000, 0x1040)));
        assert_eq!(elf.function("bench::loop"), Some((0x1000, 0x1040)));
        assert_eq!(
            elf.function("bench::lo"),
            None,
            "whole path components only"
        );
        assert!(Elf::parse(b"\x7fELF\x01\x01").is_none(), "ELF32 is refused");
    }

    #[test]
    fn footprint_reads_the_allocated_sections() {
        // A 64-byte ELF64 header and three section headers: PROGBITS alloc (100 bytes), NOBITS
        // alloc (200), PROGBITS not alloc (debug, 50).
        let mut elf = vec![0u8; 64 + 3 * 64];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[0x28..0x30].copy_from_slice(&64u64.to_le_bytes());
        elf[0x3A..0x3C].copy_from_slice(&64u16.to_le_bytes());
        elf[0x3C..0x3E].copy_from_slice(&3u16.to_le_bytes());
        for (i, (kind, flags, size)) in [(1u32, 2u64, 100u64), (8, 2, 200), (1, 0, 50)]
            .into_iter()
            .enumerate()
        {
            let h = 64 + i * 64;
            elf[h + 4..h + 8].copy_from_slice(&kind.to_le_bytes());
            elf[h + 8..h + 16].copy_from_slice(&flags.to_le_bytes());
            elf[h + 0x20..h + 0x28].copy_from_slice(&size.to_le_bytes());
        }
        assert_eq!(
            Elf::parse(&elf).and_then(|e| e.footprint()),
            Some((100, 200))
        );
        assert!(Elf::parse(b"not an elf").is_none());
    }
}
