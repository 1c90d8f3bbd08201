//! Boot checks and manifest parsing, against manifests laid out the way TF-A writes them: the
//! 64-byte header, then the DRAM banks, then the consoles, all inside the shared page.

use super::*;
use hostcall_abi::el3::checksum_for;

const BUF_PA: u64 = 0x418F_F000;
const IFC_0_4: u64 = 0x4;

fn put(buf: &mut [u8; SHARED_BUFFER_SIZE], off: usize, v: u64) {
    buf[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// A manifest description, turned into shared-buffer bytes by [`Manifest::bytes`].
#[derive(Clone)]
struct Manifest {
    version: u64,
    banks: std::vec::Vec<MemoryBank>,
    consoles: std::vec::Vec<ConsoleInfo>,
}

fn pl011() -> ConsoleInfo {
    ConsoleInfo {
        base: 0x0900_0000,
        map_pages: 1,
        name: *b"pl011\0\0\0",
        clk_in_hz: 1,
        baud_rate: 115_200,
        flags: 0,
    }
}

impl Manifest {
    fn qemu() -> Self {
        Self {
            version: 0x3,
            banks: vec![MemoryBank {
                base: 0x4000_0000,
                size: 0xC000_0000,
            }],
            consoles: vec![pl011()],
        }
    }

    fn bytes(&self) -> [u8; SHARED_BUFFER_SIZE] {
        let mut b = [0u8; SHARED_BUFFER_SIZE];
        put(&mut b, 0, self.version);
        let banks_off = 64;
        let banks_pa = BUF_PA + banks_off as u64;
        for (i, bank) in self.banks.iter().enumerate() {
            put(&mut b, banks_off + 16 * i, bank.base);
            put(&mut b, banks_off + 16 * i + 8, bank.size);
        }
        let n = self.banks.len() as u64;
        put(&mut b, 16, n);
        put(&mut b, 24, banks_pa);
        put(
            &mut b,
            32,
            checksum_for(
                n,
                banks_pa,
                self.banks.iter().flat_map(|x| x.checksum_words()),
            ),
        );
        let cons_off = banks_off + 16 * self.banks.len();
        let cons_pa = BUF_PA + cons_off as u64;
        for (i, c) in self.consoles.iter().enumerate() {
            let e = cons_off + 48 * i;
            put(&mut b, e, c.base);
            put(&mut b, e + 8, c.map_pages);
            b[e + 16..e + 24].copy_from_slice(&c.name);
            put(&mut b, e + 24, c.clk_in_hz);
            put(&mut b, e + 32, c.baud_rate);
            put(&mut b, e + 40, c.flags);
        }
        let n = self.consoles.len() as u64;
        put(&mut b, 40, n);
        put(&mut b, 48, if n == 0 { 0 } else { cons_pa });
        let words = self.consoles.iter().flat_map(|c| c.checksum_words());
        put(
            &mut b,
            56,
            checksum_for(n, if n == 0 { 0 } else { cons_pa }, words),
        );
        b
    }
}

fn args() -> ColdBootArgs {
    ColdBootArgs {
        cpu: 0,
        ifc_version: IFC_0_4,
        num_cpus: 32,
        shared_buf: BUF_PA,
    }
}

fn boot_with(a: ColdBootArgs, buf: [u8; SHARED_BUFFER_SIZE]) -> Result<Rmm, BootStatus> {
    cold_boot(
        a,
        IdRegisters {
            id_aa64mmfr0: 5,
            ..Default::default()
        },
        |pa| {
            assert_eq!(pa, a.shared_buf, "reads the buffer EL3 named");
            buf
        },
    )
}

fn boot_args(a: ColdBootArgs) -> Result<Rmm, BootStatus> {
    boot_with(a, Manifest::qemu().bytes())
}

fn boot_manifest(m: &Manifest) -> Result<Rmm, BootStatus> {
    boot_with(args(), m.bytes())
}

#[test]
fn qemu_manifest_boots() {
    let rmm = boot_args(args()).expect("cold boot");
    assert_eq!(rmm.num_cpus, 32);
    assert_eq!(
        rmm.platform.dram.as_slice(),
        &[MemoryBank {
            base: 0x4000_0000,
            size: 0xC000_0000
        }]
    );
    assert_eq!(rmm.platform.console, Some(pl011()));
    assert_eq!(rmm.platform.dram_bytes(), 3 << 30);
    assert_eq!(rmm.features.s2sz(), 48);
}

#[test]
fn boot_error_version_major_mismatch() {
    let a = ColdBootArgs {
        ifc_version: 0x1_0004,
        ..args()
    };
    assert_eq!(boot_args(a), Err(BootStatus::VersionMismatch));
}

#[test]
fn boot_error_version_minor_too_old() {
    let a = ColdBootArgs {
        ifc_version: 0x3,
        ..args()
    };
    assert_eq!(boot_args(a), Err(BootStatus::VersionMismatch));
}

#[test]
fn boot_error_version_reserved_bits_set() {
    let a = ColdBootArgs {
        ifc_version: 1 << 40 | IFC_0_4,
        ..args()
    };
    assert_eq!(boot_args(a), Err(BootStatus::VersionMismatch));
}

#[test]
fn newer_minor_interface_is_accepted() {
    assert!(boot_args(ColdBootArgs {
        ifc_version: 0x7,
        ..args()
    })
    .is_ok());
}

#[test]
fn boot_error_too_many_cpus() {
    let a = ColdBootArgs {
        num_cpus: MAX_CPUS as u64 + 1,
        ..args()
    };
    assert_eq!(boot_args(a), Err(BootStatus::CpusOutOfRange));
}

#[test]
fn boot_error_zero_cpus() {
    assert_eq!(
        boot_args(ColdBootArgs {
            num_cpus: 0,
            ..args()
        }),
        Err(BootStatus::CpusOutOfRange)
    );
}

#[test]
fn boot_error_cpu_index_out_of_range() {
    let a = ColdBootArgs {
        cpu: 4,
        num_cpus: 4,
        ..args()
    };
    assert_eq!(boot_args(a), Err(BootStatus::CpuIdOutOfRange));
}

#[test]
fn boot_error_unaligned_shared_buffer() {
    let a = ColdBootArgs {
        shared_buf: BUF_PA + 8,
        ..args()
    };
    let r = cold_boot(a, IdRegisters::default(), |_| {
        panic!("must not read an unaligned buffer")
    });
    assert_eq!(r, Err(BootStatus::InvalidSharedBuffer));
}

#[test]
fn boot_error_null_shared_buffer() {
    let a = ColdBootArgs {
        shared_buf: 0,
        ..args()
    };
    let r = cold_boot(a, IdRegisters::default(), |_| {
        panic!("must not read address 0")
    });
    assert_eq!(r, Err(BootStatus::InvalidSharedBuffer));
}

#[test]
fn boot_error_shared_buffer_at_top_of_address_space() {
    let a = ColdBootArgs {
        shared_buf: !0xFFF,
        ..args()
    };
    let r = cold_boot(a, IdRegisters::default(), |_| {
        panic!("must not read a wrapping buffer")
    });
    assert_eq!(r, Err(BootStatus::InvalidSharedBuffer));
}

#[test]
fn boot_error_manifest_version_not_supported() {
    for v in [0x2, 0x1_0003, 0x0] {
        let m = Manifest {
            version: v,
            ..Manifest::qemu()
        };
        assert_eq!(
            boot_manifest(&m),
            Err(BootStatus::ManifestVersionNotSupported),
            "{v:#x}"
        );
    }
}

#[test]
fn newer_manifest_minor_is_accepted() {
    assert!(boot_manifest(&Manifest {
        version: 0x4,
        ..Manifest::qemu()
    })
    .is_ok());
}

#[test]
fn boot_error_bad_dram_checksum() {
    let mut b = Manifest::qemu().bytes();
    b[32] ^= 1;
    assert_eq!(boot_with(args(), b), Err(BootStatus::ManifestDataError));
}

#[test]
fn boot_error_dram_bank_changed_after_checksum() {
    let mut b = Manifest::qemu().bytes();
    b[64 + 8] ^= 0x10; // size of bank 0
    assert_eq!(boot_with(args(), b), Err(BootStatus::ManifestDataError));
}

#[test]
fn boot_error_bad_console_checksum() {
    let mut b = Manifest::qemu().bytes();
    b[56] ^= 1;
    assert_eq!(boot_with(args(), b), Err(BootStatus::ManifestDataError));
}

#[test]
fn console_name_is_not_checksummed() {
    let mut m = Manifest::qemu();
    m.consoles[0].name = *b"uart\0\0\0\0";
    let mut b = m.bytes();
    b[64 + 16 + 16] = b'x'; // rename after checksumming
    assert!(boot_with(args(), b).is_ok());
}

#[test]
fn boot_error_no_dram_banks() {
    let m = Manifest {
        banks: vec![],
        ..Manifest::qemu()
    };
    assert_eq!(boot_manifest(&m), Err(BootStatus::ManifestDataError));
}

#[test]
fn boot_error_banks_pointer_outside_shared_buffer() {
    let mut b = Manifest::qemu().bytes();
    // Point the bank array at RMM memory and fix up the checksum so only the pointer is wrong.
    let bad_ptr = 0x4010_0000u64;
    put(&mut b, 24, bad_ptr);
    put(
        &mut b,
        32,
        checksum_for(1, bad_ptr, [0x4000_0000u64, 0xC000_0000].into_iter()),
    );
    assert_eq!(boot_with(args(), b), Err(BootStatus::ManifestDataError));
}

#[test]
fn boot_error_bank_count_overruns_buffer() {
    let mut b = Manifest::qemu().bytes();
    put(&mut b, 16, MAX_DRAM_BANKS as u64 + 1);
    assert_eq!(boot_with(args(), b), Err(BootStatus::ManifestDataError));
}

#[test]
fn boot_error_unaligned_bank() {
    let m = Manifest {
        banks: vec![MemoryBank {
            base: 0x4000_0800,
            size: 0x1000,
        }],
        ..Manifest::qemu()
    };
    assert_eq!(boot_manifest(&m), Err(BootStatus::ManifestDataError));
}

#[test]
fn boot_error_empty_bank() {
    let m = Manifest {
        banks: vec![MemoryBank {
            base: 0x4000_0000,
            size: 0,
        }],
        ..Manifest::qemu()
    };
    assert_eq!(boot_manifest(&m), Err(BootStatus::ManifestDataError));
}

#[test]
fn boot_error_overlapping_or_unsorted_banks() {
    let a = MemoryBank {
        base: 0x8000_0000,
        size: 0x8000_0000,
    };
    let b = MemoryBank {
        base: 0xC000_0000,
        size: 0x1000,
    };
    let m = Manifest {
        banks: vec![a, b],
        ..Manifest::qemu()
    };
    assert_eq!(boot_manifest(&m), Err(BootStatus::ManifestDataError));
    let m = Manifest {
        banks: vec![b, a],
        ..Manifest::qemu()
    };
    assert_eq!(boot_manifest(&m), Err(BootStatus::ManifestDataError));
}

#[test]
fn boot_error_bank_wraps_address_space() {
    let m = Manifest {
        banks: vec![MemoryBank {
            base: 0xFFFF_FFFF_FFFF_F000,
            size: 0x2000,
        }],
        ..Manifest::qemu()
    };
    assert_eq!(boot_manifest(&m), Err(BootStatus::ManifestDataError));
}

#[test]
fn boot_error_console_without_mmio() {
    let m = Manifest {
        consoles: vec![ConsoleInfo {
            map_pages: 0,
            ..pl011()
        }],
        ..Manifest::qemu()
    };
    assert_eq!(boot_manifest(&m), Err(BootStatus::ManifestDataError));
}

#[test]
fn many_banks_large_dram() {
    // FVP-like split banks adding up to 1 TiB.
    let banks: std::vec::Vec<_> = (0..8u64)
        .map(|i| MemoryBank {
            base: (1 << 40) + i * (1 << 37),
            size: 1 << 37,
        })
        .collect();
    let rmm = boot_manifest(&Manifest {
        banks,
        consoles: vec![],
        ..Manifest::qemu()
    })
    .expect("boot");
    assert_eq!(rmm.platform.dram.len(), 8);
    assert_eq!(rmm.platform.dram_bytes(), 1 << 40);
    assert_eq!(rmm.platform.console, None);
}

#[test]
fn most_banks_that_fit_the_buffer() {
    let banks: std::vec::Vec<_> = (0..MAX_DRAM_BANKS as u64)
        .map(|i| MemoryBank {
            base: (i + 1) << 32,
            size: 0x1000,
        })
        .collect();
    let m = Manifest {
        banks,
        consoles: vec![],
        ..Manifest::qemu()
    };
    assert_eq!(
        boot_manifest(&m).expect("boot").platform.dram.len(),
        MAX_DRAM_BANKS
    );
}

#[test]
fn warm_boot_checks() {
    let rmm = boot_args(ColdBootArgs {
        num_cpus: 4,
        ..args()
    })
    .expect("cold boot");
    assert_eq!(warm_boot(Some(&rmm), 3), Ok(()));
    assert_eq!(warm_boot(Some(&rmm), 4), Err(BootStatus::CpuIdOutOfRange));
    assert_eq!(warm_boot(None, 1), Err(BootStatus::Unknown));
}

#[test]
fn garbage_never_panics() {
    // Arbitrary buffers (a simple LCG) must only ever produce errors or valid results.
    let mut x = 0x1234_5678_9ABC_DEF0u64;
    for _ in 0..2000 {
        let mut b = Manifest::qemu().bytes();
        for _ in 0..4 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let off = (x >> 33) as usize % 128;
            b[off] = (x >> 8) as u8;
        }
        let _ = parse_manifest(&b, BUF_PA);
    }
}

#[test]
fn tracking_fits_the_carve_out() {
    let rmm = boot_args(args()).expect("boot");
    // 3 GiB of DRAM: 786432 granules, 1.5 MiB of tracking.
    assert_eq!(tracking_words(&rmm.platform, 3 << 19), Ok(786_432));
    assert_eq!(
        tracking_words(&rmm.platform, (3 << 19) - 1),
        Err(BootStatus::ManifestDataError)
    );
}
