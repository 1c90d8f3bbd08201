use super::*;

const MIB: u64 = 1 << 20;

/// A header like Debian's 7.3 kernel: text_offset 0, 4 KiB pages, LE, anywhere, EFI stub.
fn header(image_size: u64) -> [u8; 64] {
    let mut h = [0u8; 64];
    h[0..4].copy_from_slice(b"MZ@\xFA");
    h[16..24].copy_from_slice(&image_size.to_le_bytes());
    h[24..32].copy_from_slice(&0b1010u64.to_le_bytes());
    h[56..60].copy_from_slice(b"ARM\x64");
    h[60..64].copy_from_slice(&0x40u32.to_le_bytes());
    h
}

fn config(vcpus: usize, mem: u64) -> Config<'static> {
    Config {
        image: Blob {
            pa: qemu::IMAGE,
            len: 10 * MIB + 100,
        },
        initrd: Some(Blob {
            pa: qemu::INITRD,
            len: MIB + 1,
        }),
        vcpus,
        mem_size: mem,
        bootargs: "console=ttyAMA0",
    }
}

#[test]
fn a_request_reads_back_as_the_runner_wrote_it() {
    let text = b"image=0x80000000\nimage_len=4096\ninitrd=0x90000000\ninitrd_len=10\nvcpus=2\n\
                 mem_mib=256\nbootargs=console=ttyAMA0 quiet a=b\n";
    let r = Request::parse(text).unwrap();
    assert_eq!(
        r.config.image,
        Blob {
            pa: 0x8000_0000,
            len: 4096
        }
    );
    assert_eq!(
        r.config.initrd,
        Some(Blob {
            pa: 0x9000_0000,
            len: 10
        })
    );
    assert_eq!((r.config.vcpus, r.config.mem_size), (2, 256 * MIB));
    assert_eq!(r.config.bootargs, "console=ttyAMA0 quiet a=b");
}

#[test]
fn a_bad_request_is_an_error() {
    assert_eq!(
        Request::parse(b"image=0x1\n"),
        Err(RequestError::Missing("mem_mib"))
    );
    assert_eq!(
        Request::parse(b"colour=blue\n"),
        Err(RequestError::UnknownKey)
    );
    assert_eq!(Request::parse(b"vcpus=two\n"), Err(RequestError::BadNumber));
    assert_eq!(Request::parse(b"\xff\xfe"), Err(RequestError::NotText));
    let no_initrd = b"image=4096\nimage_len=1\nvcpus=1\nmem_mib=64\nbootargs=\n";
    assert_eq!(Request::parse(no_initrd).unwrap().config.initrd, None);
}

#[test]
fn layout_refuses_what_cannot_boot() {
    let h = header(12 * MIB);
    assert_eq!(layout(&config(0, 256 * MIB), &h), Err(ConfigError::Vcpus));
    assert_eq!(
        layout(&config(MAX_VCPUS + 1, 256 * MIB), &h),
        Err(ConfigError::Vcpus)
    );
    assert_eq!(layout(&config(1, 3 * MIB), &h), Err(ConfigError::Memory));
    assert_eq!(layout(&config(1, 65 * MIB), &h), Err(ConfigError::Memory));
    assert_eq!(
        layout(&config(1, 2 * MAX_RAM), &h),
        Err(ConfigError::Memory)
    );
    let mut not_arm64 = h;
    not_arm64[56] = b'X';
    assert!(matches!(
        layout(&config(1, 256 * MIB), &not_arm64),
        Err(ConfigError::Image(_))
    ));
    // A kernel whose image_size does not fit in RAM.
    assert!(matches!(
        layout(&config(1, 64 * MIB), &header(63 * MIB)),
        Err(ConfigError::Place(_))
    ));
    let mut unaligned = config(1, 256 * MIB);
    unaligned.image.pa += 1;
    assert_eq!(layout(&unaligned, &h), Err(ConfigError::Blob));
}

#[test]
fn steps_measure_ripas_then_contents_then_the_recs() {
    let l = layout(&config(2, 256 * MIB), &header(12 * MIB)).unwrap();
    let mut seen = Vec::new();
    steps::<()>(&l, 100, |s| {
        seen.push(s);
        Ok(())
    })
    .unwrap();
    assert_eq!(
        seen[0],
        Step::InitRipas {
            base: RAM_BASE,
            top: RAM_BASE + 256 * MIB
        }
    );
    let data = |src| {
        seen.iter()
            .filter(|s| matches!(s, Step::Data { source, .. } if *source == src))
            .count() as u64
    };
    // 10 MiB + 100 bytes of kernel: 2561 pages; one page of device tree; 1 MiB + 1: 257 pages.
    assert_eq!(data(Source::Image), 2561);
    assert_eq!(data(Source::DeviceTree), 1);
    assert_eq!(data(Source::Initrd), 257);
    assert_eq!(
        seen[seen.len() - 2..],
        [Step::Rec { index: 0 }, Step::Rec { index: 1 }]
    );
    // Every page lies in RAM and none is measured twice.
    let mut ipas: Vec<u64> = seen
        .iter()
        .filter_map(|s| match s {
            Step::Data { ipa, .. } => Some(*ipa),
            _ => None,
        })
        .collect();
    assert!(ipas
        .iter()
        .all(|&i| (RAM_BASE..RAM_BASE + 256 * MIB).contains(&i)));
    let n = ipas.len();
    ipas.sort();
    ipas.dedup();
    assert_eq!(ipas.len(), n);
}

#[test]
fn only_rec_0_starts_at_the_kernel_with_the_device_tree() {
    let l = layout(&config(2, 256 * MIB), &header(12 * MIB)).unwrap();
    let r0 = rec_params(&l, 0);
    assert!(r0.flags.contains(RmiRecCreateFlags::RUNNABLE));
    assert_eq!((r0.pc, r0.gprs[0]), (l.place.kernel, l.place.dtb));
    let r1 = rec_params(&l, 1);
    assert!(!r1.flags.contains(RmiRecCreateFlags::RUNNABLE));
    assert_ne!(r0.mpidr, r1.mpidr);
}

#[test]
fn the_expected_rim_follows_every_byte_loaded() {
    let l = layout(&config(1, 128 * MIB), &header(12 * MIB)).unwrap();
    let rim = |flip: Option<(Source, u64)>| {
        expected_rim(&l, 100, |source, offset, page| {
            page.fill(0x5A);
            if flip == Some((source, offset)) {
                page[7] ^= 1;
            }
        })
        .unwrap()
    };
    let base = rim(None);
    assert_eq!(base, rim(None));
    assert_ne!(base, rim(Some((Source::Image, 4096))));
    assert_ne!(base, rim(Some((Source::DeviceTree, 0))));
    assert_ne!(base, rim(Some((Source::Initrd, MIB))));
}
