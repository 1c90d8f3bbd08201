//! Memory maps of the boards the images run on, as TF-A 2.12 (built with `ENABLE_RME=1`) lays
//! them out.

/// A physical address range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemRegion {
    /// First byte.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
}

impl MemRegion {
    /// One past the last byte.
    pub const fn end(&self) -> u64 {
        self.base + self.size
    }

    /// True if `[addr, addr + len)` lies inside the region (no overflow).
    pub const fn contains(&self, addr: u64, len: u64) -> bool {
        match addr.checked_add(len) {
            Some(end) => addr >= self.base && end <= self.end(),
            None => false,
        }
    }
}

/// What the images need to know about a board.
#[derive(Clone, Copy, Debug)]
pub struct Board {
    /// Short name used in logs and build options.
    pub name: &'static str,
    /// DRAM banks as the hardware has them (the RMM itself trusts the boot manifest instead).
    pub dram: &'static [MemRegion],
    /// The Realm region TF-A loads the RMM into (its shared buffer excluded).
    pub rmm: MemRegion,
    /// The 4 KiB buffer EL3 shares with the RMM (boot manifest, attestation).
    pub rmm_shared: MemRegion,
    /// Where TF-A loads and enters BL33 (the host stub) at NS-EL2.
    pub ns_image_base: u64,
    /// Device tree blob the loader leaves in NS memory, if any.
    pub dtb: Option<u64>,
    /// PL011 the normal world prints on.
    pub ns_uart: u64,
    /// GICv3 distributor.
    pub gicd: u64,
    /// GICv3 redistributors.
    pub gicr: u64,
}

const QEMU_DRAM: [MemRegion; 1] = [MemRegion {
    base: 0x4000_0000,
    size: 0xC000_0000,
}];

/// QEMU `virt` with `secure=on,virtualization=on,gic-version=3` and `-cpu max,x-rme=on`, TF-A
/// `PLAT=qemu`: a 24 MiB Realm region at 0x40100000 whose last page is the shared buffer.
pub const QEMU_VIRT: Board = Board {
    name: "qemu",
    dram: &QEMU_DRAM,
    rmm: MemRegion {
        base: 0x4010_0000,
        size: 0x017F_F000,
    },
    rmm_shared: MemRegion {
        base: 0x418F_F000,
        size: 0x1000,
    },
    ns_image_base: 0x6000_0000,
    dtb: Some(0x4000_0000),
    ns_uart: 0x0900_0000,
    gicd: 0x0800_0000,
    gicr: 0x080A_0000,
};

const FVP_DRAM: [MemRegion; 2] = [
    MemRegion {
        base: 0x8000_0000,
        size: 0x8000_0000,
    },
    MemRegion {
        base: 0x8_8000_0000,
        size: 0x8000_0000,
    },
];

/// Arm FVP Base RevC-2xAEMvA, TF-A `PLAT=fvp`: the Realm region (32 MiB less the shared page)
/// sits below the EL3 TZC region and the L1 GPTs at the top of DRAM bank 0. Untested here: no
/// FVP runs on the build machines.
pub const FVP_BASE_REVC: Board = Board {
    name: "fvp",
    dram: &FVP_DRAM,
    rmm: MemRegion {
        base: 0xFDC0_0000,
        size: 0x01FF_F000,
    },
    rmm_shared: MemRegion {
        base: 0xFFBF_F000,
        size: 0x1000,
    },
    ns_image_base: 0x8800_0000,
    dtb: Some(0x8200_0000),
    ns_uart: 0x1C09_0000,
    gicd: 0x2F00_0000,
    gicr: 0x2F10_0000,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_buffer_is_the_page_after_the_rmm_region() {
        for b in [QEMU_VIRT, FVP_BASE_REVC] {
            assert_eq!(b.rmm.end(), b.rmm_shared.base, "{}", b.name);
            assert_eq!(b.rmm.base % 4096, 0);
            assert_eq!(b.rmm_shared.size, 4096);
            assert!(
                b.dram
                    .iter()
                    .any(|d| d.contains(b.rmm.base, b.rmm.size + 4096)),
                "{}",
                b.name
            );
            assert!(
                b.dram.iter().any(|d| d.contains(b.ns_image_base, 4096)),
                "{}",
                b.name
            );
        }
        // The QEMU figures the design notes give: 24 MiB region, shared page at 0x418FF000.
        assert_eq!(QEMU_VIRT.rmm.size + QEMU_VIRT.rmm_shared.size, 24 << 20);
    }

    #[test]
    fn region_contains_rejects_overflow() {
        let r = MemRegion {
            base: 0x1000,
            size: 0x1000,
        };
        assert!(r.contains(0x1000, 0x1000));
        assert!(!r.contains(0x1800, 0x1000));
        assert!(!r.contains(0xFFF, 1));
        assert!(!r.contains(u64::MAX, 2));
    }
}
