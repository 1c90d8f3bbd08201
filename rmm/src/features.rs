//! What the RMM offers realms, derived once at boot from the CPU's ID registers.

use hostcall_abi::rmi::RmiFeatureRegister0;

/// log2 of how many RECs a realm may have (the spec allows 2^order − 1).
pub const MAX_RECS_ORDER: u64 = 6;
/// Widest IPA a realm may ask for without LPA2 (which this RMM does not offer yet).
pub const MAX_S2SZ_WITHOUT_LPA2: u64 = 48;

/// The ID registers the feature register is computed from (read by the image, synthetic in tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdRegisters {
    /// ID_AA64MMFR0_EL1 (PARange in `[3:0]`).
    pub id_aa64mmfr0: u64,
    /// ID_AA64MMFR1_EL1 (VMIDBits in `[7:4]`: 0b0010 means 16-bit VMIDs).
    pub id_aa64mmfr1: u64,
    /// ID_AA64DFR0_EL1 (BRPs in `[15:12]`, WRPs in `[23:20]`, both "count minus one").
    pub id_aa64dfr0: u64,
    /// ICH_VTR_EL2 (ListRegs in `[4:0]`, "count minus one").
    pub ich_vtr: u64,
}

/// True if the CPU implements 16-bit VMIDs.
pub const fn vmid16(ids: IdRegisters) -> bool {
    (ids.id_aa64mmfr1 >> 4) & 0xF == 0b0010
}

/// Physical address width for an ID_AA64MMFR0_EL1.PARange encoding.
pub const fn pa_bits(parange: u64) -> u64 {
    match parange {
        0 => 32,
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        5 => 48,
        _ => 52,
    }
}

/// RMI_FEATURES register 0 for this CPU: the IPA width the PA range allows (capped while LPA2 is
/// not offered), the debug resources present, the GIC list registers, both hash algorithms, and no
/// SVE or PMU for realms yet.
pub fn rmi_features(ids: IdRegisters) -> RmiFeatureRegister0 {
    let s2sz = pa_bits(ids.id_aa64mmfr0 & 0xF).min(MAX_S2SZ_WITHOUT_LPA2);
    RmiFeatureRegister0::default()
        .with_s2sz(s2sz)
        .with_num_bps((ids.id_aa64dfr0 >> 12) & 0xF)
        .with_num_wps((ids.id_aa64dfr0 >> 20) & 0xF)
        .with_hash_sha_256(1)
        .with_hash_sha_512(1)
        .with_gicv3_num_lrs(ids.ich_vtr & 0xF)
        .with_max_recs_order(MAX_RECS_ORDER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_max_cpu_features() {
        // QEMU `max`: PARange 6 (52 bits), 6 BRPs, 4 WRPs, 4 list registers.
        let ids = IdRegisters {
            id_aa64mmfr0: 6,
            id_aa64mmfr1: 0x2 << 4,
            id_aa64dfr0: 5 << 12 | 3 << 20,
            ich_vtr: 3,
        };
        assert!(vmid16(ids));
        assert!(!vmid16(IdRegisters {
            id_aa64mmfr1: 0,
            ..ids
        }));
        let f = rmi_features(ids);
        assert_eq!(f.s2sz(), 48);
        assert_eq!((f.num_bps(), f.num_wps(), f.gicv3_num_lrs()), (5, 3, 3));
        assert_eq!((f.hash_sha_256(), f.hash_sha_512()), (1, 1));
        assert_eq!((f.lpa2(), f.sve_en(), f.pmu_en()), (0, 0, 0));
        assert_eq!(f.max_recs_order(), MAX_RECS_ORDER);
    }

    #[test]
    fn small_pa_range_limits_ipa_width() {
        let f = rmi_features(IdRegisters {
            id_aa64mmfr0: 2,
            ..Default::default()
        });
        assert_eq!(f.s2sz(), 40);
        // The list-register count is a 4-bit field even if the GIC reports more.
        let f = rmi_features(IdRegisters {
            ich_vtr: 0x1F,
            ..Default::default()
        });
        assert_eq!(f.gicv3_num_lrs(), 0xF);
    }
}
