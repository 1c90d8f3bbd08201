//! The arm64 Linux `Image` a realm boots: checking its 64-byte header and placing the kernel,
//! its device tree and its initrd in the realm's RAM.
//!
//! It owns the header format and the boot protocol's placement rules (Linux
//! `Documentation/arch/arm64/booting.rst`), nothing else: it must not read or write realm
//! memory, call the RMM or build the device tree. The caller hands it the image's first bytes
//! and length and gets back the load constraints ([`ImageInfo`]), then a [`Placement`] of IPAs
//! to copy the pieces to. The header comes from a file and is not trusted: every field is
//! checked and every sum is checked for overflow; a bad image is an [`ImageError`].
//!
//! Header (little-endian): `code0` u32 @0, `code1` u32 @4, `text_offset` u64 @8, `image_size`
//! u64 @16, `flags` u64 @24, three reserved u64 @32..56, `magic` u32 @56 = "ARM\x64", `res5`
//! u32 @60 (the PE header offset of an EFI stub). Flags: bit 0 big-endian kernel, bits 2:1
//! page size (0 unspecified, 1 4 KiB, 2 16 KiB, 3 64 KiB), bit 3 may be placed anywhere in
//! RAM (else as close to its base as possible).
//!
//! Placement rules used: the image goes `text_offset` bytes above a 2 MiB-aligned base, with
//! `image_size` bytes free from there (the image plus its BSS); the DTB is 8-byte aligned and
//! at most 2 MiB, in a 2 MiB block of its own; the initrd lies, with the kernel, inside one
//! 1 GiB-aligned window of at most 32 GiB. Everything lies inside RAM.

use core::fmt;

/// Bytes of the header.
pub const IMAGE_HEADER_SIZE: usize = 64;
/// `magic` at 0x38: "ARM\x64" read little-endian.
pub const ARM64_IMAGE_MAGIC: u32 = 0x644D_5241;
/// Offset of `magic`.
pub const MAGIC_OFFSET: usize = 0x38;
/// The alignment of the base the image's `text_offset` counts from.
pub const KERNEL_ALIGN: u64 = 2 << 20;
/// The largest DTB the kernel accepts (and the block it gets).
pub const DTB_MAX_SIZE: u64 = 2 << 20;
/// The alignment the initrd is placed at (a page).
const INITRD_ALIGN: u64 = 4096;
/// The initrd and kernel window: 1 GiB aligned, at most 32 GiB.
const WINDOW_ALIGN: u64 = 1 << 30;
const WINDOW_SIZE: u64 = 32 << 30;

/// `flags` fields.
pub mod flags {
    /// Bit 0: big-endian kernel.
    pub const BE: u64 = 1 << 0;
    /// Shift of the page size field, bits 2:1.
    pub const PAGE_SIZE_SHIFT: u32 = 1;
    /// Page size field, bits 2:1.
    pub const PAGE_SIZE_MASK: u64 = 0b11 << PAGE_SIZE_SHIFT;
    /// Bit 3: the 2 MiB-aligned base may be anywhere in RAM.
    pub const PHYS_ANYWHERE: u64 = 1 << 3;
}

/// Why a file is not an `Image` this host can boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// Shorter than the 64-byte header.
    TooShort,
    /// No "ARM\x64" magic at 0x38: not an arm64 Image (a compressed `Image.gz`, a
    /// `vmlinuz` with a different wrapper, an ELF `vmlinux` ...).
    NotArm64Image,
    /// A header without `image_size` (kernels before 3.17): the memory it needs is unknown.
    NoImageSize,
    /// The kernel is big-endian; realms here run little-endian.
    BigEndian,
    /// The kernel was built for 16 KiB or 64 KiB pages (the value of the page size field).
    UnsupportedPageSize(u8),
    /// `image_size` is smaller than the file, or `text_offset + image_size` overflows.
    BadSize,
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort => write!(f, "not an arm64 Image: shorter than its 64-byte header"),
            Self::NotArm64Image => {
                write!(
                    f,
                    "not an arm64 Image: no \"ARM\\x64\" magic at offset 0x38"
                )
            }
            Self::NoImageSize => write!(f, "arm64 Image without image_size (before Linux 3.17)"),
            Self::BigEndian => write!(f, "arm64 Image is big-endian"),
            Self::UnsupportedPageSize(p) => {
                let kib = match p {
                    2 => 16,
                    _ => 64,
                };
                write!(f, "arm64 Image built for {kib} KiB pages, not 4 KiB")
            }
            Self::BadSize => write!(f, "arm64 Image header sizes are inconsistent"),
        }
    }
}

/// What the header says about loading the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    /// Bytes from a 2 MiB-aligned base to where the image is loaded (and entered).
    pub text_offset: u64,
    /// Bytes from the load address the kernel uses (image and BSS).
    pub image_size: u64,
    /// Bytes of the file.
    pub file_size: u64,
    /// `flags` bit 3: the base may be anywhere in RAM.
    pub place_anywhere: bool,
    /// `flags` page size field was 1 (4 KiB); false when unspecified (0).
    pub page_size_4k: bool,
    /// `res5`: the offset of the PE header of an EFI stub (0 without one).
    pub pe_header_offset: u32,
}

fn le64(b: &[u8], off: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(w)
}

fn le32(b: &[u8], off: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(w)
}

/// Checks an `Image` header: `header` is at least the file's first 64 bytes, `file_size` the
/// whole file's length.
pub fn parse_header(header: &[u8], file_size: u64) -> Result<ImageInfo, ImageError> {
    let Some(h) = header.get(..IMAGE_HEADER_SIZE) else {
        return Err(ImageError::TooShort);
    };
    if file_size < IMAGE_HEADER_SIZE as u64 {
        return Err(ImageError::TooShort);
    }
    if le32(h, MAGIC_OFFSET) != ARM64_IMAGE_MAGIC {
        return Err(ImageError::NotArm64Image);
    }
    let (text_offset, image_size, f) = (le64(h, 8), le64(h, 16), le64(h, 24));
    if image_size == 0 {
        return Err(ImageError::NoImageSize);
    }
    if f & flags::BE != 0 {
        return Err(ImageError::BigEndian);
    }
    let page = ((f & flags::PAGE_SIZE_MASK) >> flags::PAGE_SIZE_SHIFT) as u8;
    if page > 1 {
        return Err(ImageError::UnsupportedPageSize(page));
    }
    if image_size < file_size || text_offset.checked_add(image_size).is_none() {
        return Err(ImageError::BadSize);
    }
    Ok(ImageInfo {
        text_offset,
        image_size,
        file_size,
        place_anywhere: f & flags::PHYS_ANYWHERE != 0,
        page_size_4k: page == 1,
        pe_header_offset: le32(h, 60),
    })
}

/// Why the pieces do not fit the realm's RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceError {
    /// RAM is empty, or its end is beyond the address space.
    BadRam,
    /// The kernel (2 MiB-aligned base + `text_offset` + `image_size`) does not fit.
    KernelDoesNotFit,
    /// The DTB is larger than 2 MiB.
    DtbTooLarge,
    /// No room for the DTB's 2 MiB block after the kernel.
    DtbDoesNotFit,
    /// No room for the initrd after the DTB.
    InitrdDoesNotFit,
    /// The initrd would end beyond the 32 GiB window that starts at the kernel's 1 GiB-aligned
    /// base.
    InitrdOutsideWindow,
}

impl fmt::Display for PlaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::BadRam => "realm RAM is empty or wraps",
            Self::KernelDoesNotFit => "the kernel does not fit in realm RAM",
            Self::DtbTooLarge => "the device tree is larger than 2 MiB",
            Self::DtbDoesNotFit => "no room for the device tree after the kernel",
            Self::InitrdDoesNotFit => "the initrd does not fit in realm RAM after the kernel",
            Self::InitrdOutsideWindow => "the initrd is outside the kernel's 32 GiB window",
        };
        f.write_str(s)
    }
}

/// Where each piece goes (IPAs in the realm's RAM).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The load address of the image, and the entry point (PC on the first REC entry).
    pub kernel: u64,
    /// End of the memory the kernel uses (`kernel + image_size`).
    pub kernel_end: u64,
    /// The DTB (x0 on the first REC entry); 2 MiB aligned, with [`DTB_MAX_SIZE`] reserved.
    pub dtb: u64,
    /// The initrd's `[start, end)`, if there is one.
    pub initrd: Option<(u64, u64)>,
    /// The first byte after everything placed.
    pub end: u64,
}

const fn align_up(v: u64, align: u64) -> Option<u64> {
    match v.checked_add(align - 1) {
        Some(x) => Some(x & !(align - 1)),
        None => None,
    }
}

/// Places the image at the first 2 MiB-aligned base of RAM `[ram_base, ram_base + ram_size)`,
/// the DTB (`dtb_size` bytes, at most 2 MiB) in the 2 MiB block after the kernel, and the
/// initrd (`initrd_size` bytes, none if 0) right after that block.
///
/// The DTB's slot does not depend on its size, so a caller can place first (passing the
/// largest DTB it may write) and then build the tree with the initrd's addresses.
pub fn place(
    image: &ImageInfo,
    ram_base: u64,
    ram_size: u64,
    dtb_size: u64,
    initrd_size: u64,
) -> Result<Placement, PlaceError> {
    let ram_end = ram_base
        .checked_add(ram_size)
        .filter(|_| ram_size != 0)
        .ok_or(PlaceError::BadRam)?;
    if dtb_size > DTB_MAX_SIZE {
        return Err(PlaceError::DtbTooLarge);
    }
    let kernel = align_up(ram_base, KERNEL_ALIGN)
        .and_then(|base| base.checked_add(image.text_offset))
        .ok_or(PlaceError::KernelDoesNotFit)?;
    let kernel_end = kernel
        .checked_add(image.image_size)
        .filter(|&end| end <= ram_end)
        .ok_or(PlaceError::KernelDoesNotFit)?;
    let dtb = align_up(kernel_end, KERNEL_ALIGN).ok_or(PlaceError::DtbDoesNotFit)?;
    let dtb_end = dtb
        .checked_add(DTB_MAX_SIZE)
        .filter(|&end| end <= ram_end)
        .ok_or(PlaceError::DtbDoesNotFit)?;
    if initrd_size == 0 {
        return Ok(Placement {
            kernel,
            kernel_end,
            dtb,
            initrd: None,
            end: dtb_end,
        });
    }
    let start = align_up(dtb_end, INITRD_ALIGN).ok_or(PlaceError::InitrdDoesNotFit)?;
    let end = start
        .checked_add(initrd_size)
        .filter(|&end| end <= ram_end)
        .ok_or(PlaceError::InitrdDoesNotFit)?;
    let window = kernel & !(WINDOW_ALIGN - 1);
    if end - window > WINDOW_SIZE {
        return Err(PlaceError::InitrdOutsideWindow);
    }
    Ok(Placement {
        kernel,
        kernel_end,
        dtb,
        initrd: Some((start, end)),
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// A header like Debian's 7.3 kernel: text_offset 0, 4 KiB pages, LE, anywhere, EFI stub.
    fn header(text_offset: u64, image_size: u64, flags: u64) -> [u8; 64] {
        let mut h = [0u8; 64];
        h[0..4].copy_from_slice(b"MZ@\xFA"); // code0 of an EFI-stub kernel.
        h[8..16].copy_from_slice(&text_offset.to_le_bytes());
        h[16..24].copy_from_slice(&image_size.to_le_bytes());
        h[24..32].copy_from_slice(&flags.to_le_bytes());
        h[56..60].copy_from_slice(b"ARM\x64");
        h[60..64].copy_from_slice(&0x40u32.to_le_bytes());
        h
    }

    fn debian() -> ImageInfo {
        parse_header(&header(0, 52 * MIB, 0b1010), 50 * MIB).unwrap()
    }

    #[test]
    fn a_debian_like_header() {
        let i = debian();
        assert_eq!(
            i,
            ImageInfo {
                text_offset: 0,
                image_size: 52 * MIB,
                file_size: 50 * MIB,
                place_anywhere: true,
                page_size_4k: true,
                pe_header_offset: 0x40,
            }
        );
        assert_eq!(u32::from_le_bytes(*b"ARM\x64"), ARM64_IMAGE_MAGIC);
    }

    #[test]
    fn header_errors() {
        let ok = header(0x8_0000, 4 * MIB, 0b010);
        assert!(parse_header(&ok, 3 * MIB).is_ok());
        assert_eq!(parse_header(&ok[..63], 3 * MIB), Err(ImageError::TooShort));
        assert_eq!(parse_header(&ok, 63), Err(ImageError::TooShort));
        let mut gz = ok;
        gz[..4].copy_from_slice(&[0x1F, 0x8B, 8, 0]);
        gz[56..60].copy_from_slice(&[0; 4]);
        assert_eq!(parse_header(&gz, 3 * MIB), Err(ImageError::NotArm64Image));
        assert_eq!(
            parse_header(&header(0x8_0000, 0, 0), 3 * MIB),
            Err(ImageError::NoImageSize)
        );
        assert_eq!(
            parse_header(&header(0, 4 * MIB, 0b011), 3 * MIB),
            Err(ImageError::BigEndian)
        );
        assert_eq!(
            parse_header(&header(0, 4 * MIB, 0b100), 3 * MIB),
            Err(ImageError::UnsupportedPageSize(2))
        );
        assert_eq!(
            parse_header(&header(0, 4 * MIB, 0b110), 3 * MIB),
            Err(ImageError::UnsupportedPageSize(3))
        );
        assert_eq!(
            parse_header(&header(0, 2 * MIB, 0), 3 * MIB),
            Err(ImageError::BadSize)
        );
        assert_eq!(
            parse_header(&header(u64::MAX, 4 * MIB, 0), 3 * MIB),
            Err(ImageError::BadSize)
        );
        // Page size unspecified is accepted.
        assert!(
            !parse_header(&header(0, 4 * MIB, 0), 3 * MIB)
                .unwrap()
                .page_size_4k
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let mut s = heapless::String::<96>::new();
        core::fmt::Write::write_fmt(&mut s, format_args!("{}", ImageError::NotArm64Image)).unwrap();
        assert!(s.starts_with("not an arm64 Image"));
        s.clear();
        core::fmt::Write::write_fmt(
            &mut s,
            format_args!("{}", ImageError::UnsupportedPageSize(2)),
        )
        .unwrap();
        assert!(s.contains("16 KiB"));
        s.clear();
        core::fmt::Write::write_fmt(&mut s, format_args!("{}", PlaceError::InitrdDoesNotFit))
            .unwrap();
        assert!(s.contains("initrd"));
    }

    #[test]
    fn kernel_dtb_and_initrd_in_order() {
        let p = place(&debian(), 0x4000_0000, 128 * MIB, 4096, 5 * MIB + 7).unwrap();
        assert_eq!(p.kernel, 0x4000_0000);
        assert_eq!(p.kernel_end, 0x4000_0000 + 52 * MIB);
        assert_eq!(p.dtb, 0x4000_0000 + 52 * MIB);
        assert_eq!(p.dtb % 8, 0);
        assert_eq!(
            p.initrd,
            Some((0x4000_0000 + 54 * MIB, 0x4000_0000 + 59 * MIB + 7))
        );
        assert_eq!(p.end, 0x4000_0000 + 59 * MIB + 7);
    }

    #[test]
    fn an_unaligned_ram_base_and_a_text_offset() {
        let i = parse_header(&header(0x8_0000, 3 * MIB, 0), 2 * MIB).unwrap();
        let p = place(&i, 0x4010_0000, 64 * MIB, DTB_MAX_SIZE, 0).unwrap();
        assert_eq!(p.kernel, 0x4020_0000 + 0x8_0000);
        assert_eq!(p.kernel_end, 0x4020_0000 + 0x8_0000 + 3 * MIB);
        assert_eq!(p.dtb, 0x4060_0000, "the next 2 MiB block");
        assert_eq!(p.initrd, None);
        assert_eq!(p.end, 0x4080_0000);
    }

    #[test]
    fn what_does_not_fit() {
        let i = debian();
        let base = 0x4000_0000;
        assert_eq!(place(&i, base, 0, 0, 0), Err(PlaceError::BadRam));
        assert_eq!(place(&i, u64::MAX, 2, 0, 0), Err(PlaceError::BadRam));
        assert_eq!(
            place(&i, base, 51 * MIB, 0, 0),
            Err(PlaceError::KernelDoesNotFit)
        );
        assert_eq!(
            place(&i, base, 64 * MIB, DTB_MAX_SIZE + 1, 0),
            Err(PlaceError::DtbTooLarge)
        );
        assert_eq!(
            place(&i, base, 53 * MIB, 0, 0),
            Err(PlaceError::DtbDoesNotFit)
        );
        assert!(place(&i, base, 54 * MIB, 0, 0).is_ok());
        assert_eq!(
            place(&i, base, 54 * MIB, 0, 1),
            Err(PlaceError::InitrdDoesNotFit)
        );
        assert_eq!(
            place(&i, base, 64 * MIB, 0, 10 * MIB + 1),
            Err(PlaceError::InitrdDoesNotFit)
        );
        assert!(place(&i, base, 64 * MIB, 0, 10 * MIB).is_ok());
        assert_eq!(
            place(&i, base, 64 << 30, 0, 33 << 30),
            Err(PlaceError::InitrdOutsideWindow)
        );
        assert_eq!(
            place(&i, base, 64 << 30, 0, u64::MAX),
            Err(PlaceError::InitrdDoesNotFit)
        );
        // A RAM base near the top of the address space does not wrap.
        assert_eq!(
            place(&i, u64::MAX - 4 * MIB, 4 * MIB, 0, 0),
            Err(PlaceError::KernelDoesNotFit)
        );
    }
}
