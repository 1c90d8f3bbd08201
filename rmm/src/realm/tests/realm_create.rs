//! RMI_REALM_CREATE parameter checks (B4.3.9).

use hostcall_abi::realm_params::{RmiRealmFlags, RmiRealmParams, RPV_SIZE};
use hostcall_abi::rmi::{RmiFeatureRegister0, RmiHashAlgorithm, RmiStatus};

use crate::error::RmiError;
use crate::realm::params::{
    check_realm_params, validate_realm_params, vmid_is_valid, RealmConfig, RealmParamsFault as F,
    MIN_IPA_WIDTH,
};

const RD: u64 = 0x8000_0000;
const RTT_BASE: u64 = 0x8800_0000;
const G: u64 = 0x1000;

/// What the RMM advertises on QEMU `max`: 48-bit IPAs, no LPA2/SVE/PMU, 6 breakpoints and
/// 4 watchpoints (5 and 3 in the "minus one" encoding), both hash algorithms.
fn qemu() -> RmiFeatureRegister0 {
    RmiFeatureRegister0::default()
        .with_s2sz(48)
        .with_num_bps(5)
        .with_num_wps(3)
        .with_hash_sha_256(1)
        .with_hash_sha_512(1)
        .with_gicv3_num_lrs(3)
        .with_max_recs_order(6)
}

/// A platform offering LPA2 and 52-bit IPAs.
fn lpa2_platform() -> RmiFeatureRegister0 {
    qemu().with_s2sz(52).with_lpa2(1)
}

/// A platform offering SVE up to VL 512 (encoded 3) and a PMU with 8 counters.
fn sve_pmu_platform() -> RmiFeatureRegister0 {
    qemu()
        .with_sve_en(1)
        .with_sve_vl(3)
        .with_pmu_en(1)
        .with_pmu_num_ctrs(8)
}

/// The first valid baseline: a 40-bit IPA from level 1, two concatenated tables.
fn base_40() -> RmiRealmParams {
    let mut p = RmiRealmParams::ZERO;
    p.s2sz = 40;
    p.num_bps = 1;
    p.num_wps = 1;
    p.hash_algo = RmiHashAlgorithm::Sha256 as u8;
    p.vmid = 1;
    p.rtt_base = RTT_BASE;
    p.rtt_level_start = 1;
    p.rtt_num_start = 2;
    p
}

/// The second valid baseline: a 48-bit IPA from level 0, one table.
fn base_48() -> RmiRealmParams {
    let mut p = base_40();
    p.s2sz = 48;
    p.rtt_level_start = 0;
    p.rtt_num_start = 1;
    p
}

/// A valid LPA2 baseline: a 52-bit IPA from level -1, one table.
fn base_52() -> RmiRealmParams {
    let mut p = base_40();
    p.flags = RmiRealmFlags::LPA2;
    p.s2sz = 52;
    p.rtt_level_start = -1;
    p.rtt_num_start = 1;
    p
}

fn accepted(p: &RmiRealmParams, f: RmiFeatureRegister0) -> RealmConfig {
    match check_realm_params(p, f, RD) {
        Ok(cfg) => {
            assert_eq!(validate_realm_params(p, f, RD), Ok(cfg));
            cfg
        }
        Err(fault) => panic!("valid parameters rejected: {fault:?}"),
    }
}

/// Asserts that `p` fails with exactly `fault`, which belongs to `condition`, and that the command
/// reports RMI_ERROR_INPUT with index 0.
#[track_caller]
fn rejected(p: &RmiRealmParams, f: RmiFeatureRegister0, rd: u64, fault: F, condition: &str) {
    assert_eq!(check_realm_params(p, f, rd), Err(fault));
    assert_eq!(fault.condition(), condition);
    let err = validate_realm_params(p, f, rd).unwrap_err();
    assert_eq!(err, RmiError::new(RmiStatus::ErrorInput));
    assert_eq!(err.index, 0);
}

// ---- Valid baselines ----------------------------------------------------------------------

#[test]
fn realm_create_accepts_s2sz_40_from_level_1_with_two_tables() {
    let cfg = accepted(&base_40(), qemu());
    assert_eq!(
        (cfg.s2sz, cfg.rtt_level_start, cfg.rtt_num_start),
        (40, 1, 2)
    );
    assert_eq!(cfg.rtt_size(), 2 * G);
    assert!(cfg.rtt_granules().eq([RTT_BASE, RTT_BASE + G]));
}

#[test]
fn realm_create_accepts_s2sz_48_from_level_0_with_one_table() {
    let cfg = accepted(&base_48(), qemu());
    assert_eq!(
        (cfg.s2sz, cfg.rtt_level_start, cfg.rtt_num_start),
        (48, 0, 1)
    );
    assert!(cfg.rtt_granules().eq([RTT_BASE]));
}

#[test]
fn realm_create_accepts_the_deepest_start_qemu_allows() {
    // 32 bits from level 2 takes 4 concatenated level-2 tables.
    let mut p = base_40();
    p.s2sz = 32;
    p.rtt_level_start = 2;
    p.rtt_num_start = 4;
    assert_eq!(accepted(&p, qemu()).rtt_num_start, 4);
    // 43 bits from level 1 takes the most, 16.
    p.s2sz = 43;
    p.rtt_level_start = 1;
    p.rtt_num_start = 16;
    p.rtt_base = 0x8801_0000;
    assert_eq!(accepted(&p, qemu()).rtt_size(), 16 * G);
}

#[test]
fn realm_create_config_carries_every_parameter() {
    let mut p = base_40();
    p.hash_algo = RmiHashAlgorithm::Sha512 as u8;
    p.num_bps = 5;
    p.num_wps = 3;
    p.vmid = 0xABCD;
    p.rpv = [0x5A; RPV_SIZE];
    let cfg = accepted(&p, qemu());
    assert_eq!(
        cfg,
        RealmConfig {
            s2sz: 40,
            lpa2: false,
            sve: false,
            sve_vl: 0,
            pmu: false,
            pmu_num_ctrs: 0,
            num_bps: 5,
            num_wps: 3,
            hash_algo: RmiHashAlgorithm::Sha512,
            vmid: 0xABCD,
            rtt_base: RTT_BASE,
            rtt_level_start: 1,
            rtt_num_start: 2,
            rpv: [0x5A; RPV_SIZE],
        }
    );
}

#[test]
fn realm_create_accepts_sve_and_pmu_at_their_limits() {
    let mut p = base_40();
    p.flags = RmiRealmFlags::SVE | RmiRealmFlags::PMU;
    p.sve_vl = 3;
    p.pmu_num_ctrs = 8;
    let cfg = accepted(&p, sve_pmu_platform());
    assert!(cfg.sve && cfg.pmu && !cfg.lpa2);
    assert_eq!((cfg.sve_vl, cfg.pmu_num_ctrs), (3, 8));
}

#[test]
fn realm_create_accepts_lpa2_with_52_bits_from_level_minus_1() {
    let cfg = accepted(&base_52(), lpa2_platform());
    assert!(cfg.lpa2);
    assert_eq!(
        (cfg.s2sz, cfg.rtt_level_start, cfg.rtt_num_start),
        (52, -1, 1)
    );
    // The same width from level 0 takes 16 tables.
    let mut p = base_52();
    p.rtt_level_start = 0;
    p.rtt_num_start = 16;
    p.rtt_base = 0x8801_0000;
    assert_eq!(accepted(&p, lpa2_platform()).rtt_num_start, 16);
}

#[test]
fn realm_create_accepts_lpa2_with_a_narrow_ipa() {
    // A3.1.2: the host may pick a smaller width whether or not LPA2 is enabled.
    let mut p = base_40();
    p.flags = RmiRealmFlags::LPA2;
    assert!(accepted(&p, lpa2_platform()).lpa2);
}

#[test]
fn realm_create_accepts_an_rd_just_outside_the_rtts() {
    for rd in [RTT_BASE - G, RTT_BASE + 2 * G, 0, !(G - 1)] {
        assert!(
            check_realm_params(&base_40(), qemu(), rd).is_ok(),
            "rd {rd:#x}"
        );
    }
}

#[test]
fn realm_create_accepts_rtts_at_the_top_of_the_address_space() {
    // Without LPA2 the top is 2^48 (see `..._rtt_base_above_48_bits_without_lpa2`); with it,
    // the end of the 64-bit space, where the granule list must not overflow.
    let mut p = base_40();
    p.rtt_base = (1 << 48) - 2 * G;
    let cfg = accepted(&p, qemu());
    assert!(cfg.rtt_granules().eq([p.rtt_base, p.rtt_base + G]));
    let mut p = base_52();
    p.s2sz = 49;
    p.rtt_level_start = 0;
    p.rtt_num_start = 2;
    p.rtt_base = u64::MAX - 2 * G + 1;
    let cfg = accepted(&p, lpa2_platform());
    assert!(cfg.rtt_granules().eq([p.rtt_base, p.rtt_base + G]));
}

#[test]
fn vmid_validity_follows_vmid16() {
    assert!(vmid_is_valid(0xFF, false));
    assert!(!vmid_is_valid(0x100, false));
    assert!(vmid_is_valid(0xFFFF, true));
}

// ---- params_valid -------------------------------------------------------------------------

#[test]
fn realm_create_fails_params_valid_flags_reserved() {
    for bit in [3, 4, 31, 32, 63] {
        let mut p = base_40();
        p.flags = RmiRealmFlags::from_bits(1 << bit);
        rejected(&p, qemu(), RD, F::FlagsReserved, "params_valid");
    }
}

#[test]
fn realm_create_fails_params_valid_unused_bytes_not_zero() {
    let setters: [fn(&mut RmiRealmParams); 13] = [
        |p| p.reserved0[0] = 1,
        |p| p.reserved0[6] = 0x80,
        |p| p.reserved1[3] = 1,
        |p| p.reserved2[0] = 1,
        |p| p.reserved3[6] = 1,
        |p| p.reserved4[2] = 1,
        |p| p.reserved5[0] = 1,
        |p| p.reserved5[0x3CE] = 1,
        |p| p.reserved6[0x200] = 1,
        |p| p.reserved7[0] = 1,
        |p| p.reserved7[5] = 1,
        |p| p.reserved8[0] = 1,
        |p| p.reserved8[0x7E3] = 1,
    ];
    for (i, set) in setters.iter().enumerate() {
        let mut p = base_40();
        set(&mut p);
        assert_eq!(
            check_realm_params(&p, qemu(), RD),
            Err(F::ReservedNonZero),
            "case {i}"
        );
    }
    let mut p = base_40();
    p.reserved8[100] = 0xFF;
    rejected(&p, qemu(), RD, F::ReservedNonZero, "params_valid");
}

#[test]
fn realm_create_fails_params_valid_hash_algo_reserved() {
    for algo in [2, 3, 0x80, 0xFF] {
        let mut p = base_40();
        p.hash_algo = algo;
        rejected(&p, qemu(), RD, F::HashAlgoReserved, "params_valid");
    }
}

#[test]
fn realm_create_fails_params_valid_num_bps_zero_is_reserved() {
    let mut p = base_40();
    p.num_bps = 0;
    rejected(&p, qemu(), RD, F::NumBpsReserved, "params_valid");
}

#[test]
fn realm_create_fails_params_valid_num_wps_zero_is_reserved() {
    let mut p = base_40();
    p.num_wps = 0;
    rejected(&p, qemu(), RD, F::NumWpsReserved, "params_valid");
}

// ---- params_supp --------------------------------------------------------------------------

#[test]
fn realm_create_fails_params_supp_lpa2_unsupported() {
    rejected(&base_52(), qemu(), RD, F::Lpa2Unsupported, "params_supp");
    // Even for an IPA width that would not need it.
    let mut p = base_40();
    p.flags = RmiRealmFlags::LPA2;
    rejected(&p, qemu(), RD, F::Lpa2Unsupported, "params_supp");
}

#[test]
fn realm_create_fails_params_supp_rtt_base_above_48_bits_without_lpa2() {
    // VTTBR_EL2 = rtt_base | vmid << 48: such a base would change the realm's VMID.
    for rtt_base in [1 << 48, 0x000F_FFFF_FFFF_E000, 1 << 63] {
        let mut p = base_40();
        p.rtt_base = rtt_base;
        rejected(&p, lpa2_platform(), RD, F::RttBaseNeedsLpa2, "params_supp");
    }
    // The highest base below 2^48 is fine, and so is any base for a realm with LPA2.
    let mut p = base_40();
    p.rtt_base = (1 << 48) - 2 * G;
    assert_eq!(accepted(&p, qemu()).rtt_base, (1 << 48) - 2 * G);
    let mut p = base_52();
    p.rtt_base = 1 << 48;
    assert_eq!(accepted(&p, lpa2_platform()).rtt_base, 1 << 48);
}

#[test]
fn stage2_keeps_the_rtt_base_out_of_the_vmid_field() {
    use crate::realm::{Rd, RealmState};
    let mut p = base_40();
    p.vmid = 0x1234;
    let mut config = accepted(&p, qemu());
    // An RD recorded with address bits above 47 (not creatable any more, see above).
    config.rtt_base = 0xFFFF_8000_0880_0000;
    let rd = Rd {
        state: RealmState::Active,
        config,
        rtt: crate::s2tt::RttConfig::new(40, 1, 2).expect("valid"),
        recs_created: 0,
        rim: [0; crate::measurement::MEASUREMENT_SIZE],
        rems: [[0; crate::measurement::MEASUREMENT_SIZE]; crate::measurement::REM_COUNT],
        s2: crate::arch::Stage2 { vttbr: 0, vtcr: 0 },
    };
    let s2 = rd.stage2(48, true);
    assert_eq!(s2.vttbr >> 48, 0x1234, "the VMID, untouched");
    assert_eq!(s2.vttbr & ((1 << 48) - 1), 0x8000_0880_0000);
}

#[test]
fn realm_create_fails_params_supp_s2sz_too_small() {
    for s2sz in [0, 12, 25, MIN_IPA_WIDTH as u8 - 1] {
        let mut p = base_40();
        p.s2sz = s2sz;
        rejected(&p, qemu(), RD, F::S2szTooSmall, "params_supp");
    }
}

#[test]
fn realm_create_fails_params_supp_s2sz_above_48_needs_lpa2() {
    // The platform offers 52 bits, but only to realms that enable LPA2.
    let mut p = base_52();
    p.flags = RmiRealmFlags::EMPTY;
    p.rtt_level_start = 0;
    p.rtt_num_start = 16;
    p.rtt_base = 0x8801_0000;
    rejected(&p, lpa2_platform(), RD, F::S2szNeedsLpa2, "params_supp");
}

#[test]
fn realm_create_fails_params_supp_s2sz_too_large() {
    // QEMU with a 42-bit PA range advertises 42.
    let mut p = base_40();
    p.s2sz = 43;
    p.rtt_num_start = 16;
    p.rtt_base = 0x8801_0000;
    rejected(&p, qemu().with_s2sz(42), RD, F::S2szTooLarge, "params_supp");
    // LPA2 supported, but IPAs capped at 50.
    let mut p = base_52();
    p.rtt_level_start = -1;
    rejected(
        &p,
        lpa2_platform().with_s2sz(50),
        RD,
        F::S2szTooLarge,
        "params_supp",
    );
    // Values no IPA can have.
    for s2sz in [53, 64, 0xFF] {
        let mut p = base_52();
        p.s2sz = s2sz;
        rejected(&p, lpa2_platform(), RD, F::S2szTooLarge, "params_supp");
    }
}

#[test]
fn realm_create_fails_params_supp_sve_unsupported() {
    let mut p = base_40();
    p.flags = RmiRealmFlags::SVE;
    rejected(&p, qemu(), RD, F::SveUnsupported, "params_supp");
}

#[test]
fn realm_create_fails_params_supp_sve_vl_too_large() {
    let mut p = base_40();
    p.flags = RmiRealmFlags::SVE;
    p.sve_vl = 4;
    rejected(&p, sve_pmu_platform(), RD, F::SveVlTooLarge, "params_supp");
    p.sve_vl = 0xFF;
    rejected(&p, sve_pmu_platform(), RD, F::SveVlTooLarge, "params_supp");
}

#[test]
fn realm_create_fails_params_supp_sve_vl_without_sve() {
    // The bound holds whether or not SVE is requested (decision documented in params.rs).
    let mut p = base_40();
    p.sve_vl = 1;
    rejected(&p, qemu(), RD, F::SveVlTooLarge, "params_supp");
}

#[test]
fn realm_create_fails_params_supp_pmu_unsupported() {
    let mut p = base_40();
    p.flags = RmiRealmFlags::PMU;
    rejected(&p, qemu(), RD, F::PmuUnsupported, "params_supp");
}

#[test]
fn realm_create_fails_params_supp_pmu_num_ctrs_too_large() {
    let mut p = base_40();
    p.flags = RmiRealmFlags::PMU;
    p.pmu_num_ctrs = 9;
    rejected(
        &p,
        sve_pmu_platform(),
        RD,
        F::PmuNumCtrsTooLarge,
        "params_supp",
    );
}

#[test]
fn realm_create_fails_params_supp_pmu_num_ctrs_without_pmu() {
    let mut p = base_40();
    p.pmu_num_ctrs = 1;
    rejected(&p, qemu(), RD, F::PmuNumCtrsTooLarge, "params_supp");
}

#[test]
fn realm_create_fails_params_supp_num_bps_too_large() {
    let mut p = base_40();
    p.num_bps = 6; // QEMU offers 5 ("six, minus one").
    rejected(&p, qemu(), RD, F::NumBpsTooLarge, "params_supp");
    p.num_bps = 5;
    assert!(check_realm_params(&p, qemu(), RD).is_ok());
}

#[test]
fn realm_create_fails_params_supp_num_wps_too_large() {
    let mut p = base_40();
    p.num_wps = 4; // QEMU offers 3.
    rejected(&p, qemu(), RD, F::NumWpsTooLarge, "params_supp");
    p.num_wps = 3;
    assert!(check_realm_params(&p, qemu(), RD).is_ok());
}

#[test]
fn realm_create_fails_params_supp_hash_algo_unsupported() {
    let mut p = base_40();
    p.hash_algo = RmiHashAlgorithm::Sha512 as u8;
    rejected(
        &p,
        qemu().with_hash_sha_512(0),
        RD,
        F::HashAlgoUnsupported,
        "params_supp",
    );
    p.hash_algo = RmiHashAlgorithm::Sha256 as u8;
    rejected(
        &p,
        qemu().with_hash_sha_256(0),
        RD,
        F::HashAlgoUnsupported,
        "params_supp",
    );
}

// ---- rtt_num_level ------------------------------------------------------------------------

#[test]
fn realm_create_fails_rtt_num_level_level_out_of_range() {
    for level in [4, -2, 5, i64::MAX, i64::MIN] {
        let mut p = base_40();
        p.rtt_level_start = level;
        rejected(&p, qemu(), RD, F::RttLevelStartOutOfRange, "rtt_num_level");
    }
}

#[test]
fn realm_create_fails_rtt_num_level_level_minus_1_without_lpa2() {
    let mut p = base_52();
    p.flags = RmiRealmFlags::EMPTY;
    p.s2sz = 48;
    rejected(
        &p,
        lpa2_platform(),
        RD,
        F::RttLevelStartNeedsLpa2,
        "rtt_num_level",
    );
}

#[test]
fn realm_create_fails_rtt_num_level_level_0_on_a_small_pa_range() {
    // 40 bits from level 0 is consistent, but a 42-bit PA range cannot start at level 0.
    let mut p = base_48();
    p.s2sz = 40;
    rejected(
        &p,
        qemu().with_s2sz(42),
        RD,
        F::RttLevelStartUnsupported,
        "rtt_num_level",
    );
    // From 44 bits on it can.
    assert!(check_realm_params(&p, qemu().with_s2sz(44), RD).is_ok());
}

#[test]
fn realm_create_fails_rtt_num_level_s2sz_inconsistent_with_level() {
    // Too narrow for level 0 (should start at level 1).
    let mut p = base_48();
    p.s2sz = 39;
    rejected(
        &p,
        qemu(),
        RD,
        F::RttLevelStartInconsistent,
        "rtt_num_level",
    );
    // Would need 32 level-1 tables.
    let mut p = base_40();
    p.s2sz = 44;
    p.rtt_num_start = 32;
    rejected(
        &p,
        qemu(),
        RD,
        F::RttLevelStartInconsistent,
        "rtt_num_level",
    );
    // Level 3 cannot resolve 32 bits.
    let mut p = base_40();
    p.s2sz = 32;
    p.rtt_level_start = 3;
    rejected(
        &p,
        qemu(),
        RD,
        F::RttLevelStartInconsistent,
        "rtt_num_level",
    );
    // 48 bits from level -1 should start at level 0.
    let mut p = base_52();
    p.s2sz = 48;
    rejected(
        &p,
        lpa2_platform(),
        RD,
        F::RttLevelStartInconsistent,
        "rtt_num_level",
    );
}

#[test]
fn realm_create_fails_rtt_num_level_rtt_num_start_mismatch() {
    for n in [0, 1, 3, 4, 16, 17, u32::MAX] {
        let mut p = base_40();
        p.rtt_num_start = n;
        rejected(&p, qemu(), RD, F::RttNumStartMismatch, "rtt_num_level");
    }
    let mut p = base_48();
    p.rtt_num_start = 2;
    rejected(&p, qemu(), RD, F::RttNumStartMismatch, "rtt_num_level");
}

// ---- rtt_align ----------------------------------------------------------------------------

#[test]
fn realm_create_fails_rtt_align_base_not_aligned_to_the_tables() {
    // Two tables need 8 KiB alignment: 4 KiB alignment is not enough.
    let mut p = base_40();
    p.rtt_base = RTT_BASE + G;
    rejected(&p, qemu(), RD, F::RttBaseUnaligned, "rtt_align");
    // Sixteen tables need 64 KiB.
    let mut p = base_40();
    p.s2sz = 43;
    p.rtt_num_start = 16;
    p.rtt_base = RTT_BASE + 0x8000;
    rejected(&p, qemu(), RD, F::RttBaseUnaligned, "rtt_align");
}

#[test]
fn realm_create_fails_rtt_align_base_not_granule_aligned() {
    for base in [RTT_BASE + 8, RTT_BASE + 0xFFF, 1, u64::MAX] {
        let mut p = base_48();
        p.rtt_base = base;
        rejected(&p, qemu(), RD, F::RttBaseUnaligned, "rtt_align");
    }
}

// ---- alias --------------------------------------------------------------------------------

#[test]
fn realm_create_fails_alias_rd_is_rtt_base() {
    rejected(&base_48(), qemu(), RTT_BASE, F::RttAliasesRd, "alias");
}

#[test]
fn realm_create_fails_alias_rd_is_a_later_start_table() {
    // The second of two tables.
    rejected(&base_40(), qemu(), RTT_BASE + G, F::RttAliasesRd, "alias");
    // Any of sixteen.
    let mut p = base_40();
    p.s2sz = 43;
    p.rtt_num_start = 16;
    p.rtt_base = 0x8801_0000;
    for i in 0..16 {
        rejected(&p, qemu(), p.rtt_base + i * G, F::RttAliasesRd, "alias");
    }
    assert!(check_realm_params(&p, qemu(), p.rtt_base + 16 * G).is_ok());
}

#[test]
fn realm_create_alias_follows_addr_in_range() {
    // AddrInRange(rd, rtt_base, (rtt_num_start - 1) * granule) includes both ends, whatever
    // rd's alignment (an unaligned rd is the caller's rd_align).
    rejected(&base_40(), qemu(), RTT_BASE + 8, F::RttAliasesRd, "alias");
    rejected(&base_40(), qemu(), RTT_BASE + G, F::RttAliasesRd, "alias");
    assert!(check_realm_params(&base_40(), qemu(), RTT_BASE + G + 8).is_ok());
    assert!(check_realm_params(&base_40(), qemu(), RTT_BASE - 1).is_ok());
}

// ---- Order (B4.3.9.2.1 gives none; this is the RMM's fixed choice) ------------------------

#[test]
fn realm_create_order_params_valid_before_params_supp() {
    let mut p = base_40();
    p.flags = RmiRealmFlags::from_bits(RmiRealmFlags::LPA2.bits() | 1 << 7);
    assert_eq!(check_realm_params(&p, qemu(), RD), Err(F::FlagsReserved));
    let mut p = base_40();
    p.hash_algo = 7;
    p.s2sz = 60;
    assert_eq!(check_realm_params(&p, qemu(), RD), Err(F::HashAlgoReserved));
}

#[test]
fn realm_create_order_lpa2_unsupported_before_s2sz() {
    let mut p = base_52();
    p.s2sz = 60;
    assert_eq!(check_realm_params(&p, qemu(), RD), Err(F::Lpa2Unsupported));
}

#[test]
fn realm_create_order_params_supp_before_rtt_num_level() {
    let mut p = base_40();
    p.num_bps = 63;
    p.rtt_num_start = 0;
    p.rtt_level_start = 9;
    assert_eq!(check_realm_params(&p, qemu(), RD), Err(F::NumBpsTooLarge));
}

#[test]
fn realm_create_order_rtt_num_level_before_rtt_align_and_alias() {
    // A zero table count with an unaligned base that is also the RD: reported as the count,
    // and the alignment check never sees the zero.
    let mut p = base_40();
    p.rtt_num_start = 0;
    p.rtt_base = RD + 8;
    assert_eq!(
        check_realm_params(&p, qemu(), RD + 8),
        Err(F::RttNumStartMismatch)
    );
}

#[test]
fn realm_create_order_rtt_align_before_alias() {
    let mut p = base_40();
    p.rtt_base = RTT_BASE + G;
    assert_eq!(
        check_realm_params(&p, qemu(), RTT_BASE + G),
        Err(F::RttBaseUnaligned)
    );
}

// ---- Sweeps -------------------------------------------------------------------------------

/// The number of starting-level tables a stage-2 walk with 4 KiB granules needs, written from
/// A5.5.3 and the Arm ARM stage-2 rules rather than from `hostcall_abi::rtt`: one entry at level
/// -1, 0, 1, 2, 3 maps 2^48, 2^39, 2^30, 2^21, 2^12 bytes; a walk may start at a level only if the
/// IPA needs more than one of its entries, and one table holds 512 entries, so each level covers
/// the IPA widths below with one table, and up to four bits more by concatenating 2..16 tables.
fn expected_tables(
    s2sz: u64,
    level: i64,
    lpa2: bool,
    max_s2sz: u64,
    pa_ge_44: bool,
) -> Option<u32> {
    let (narrowest, one_table_widest) = match level {
        -1 => (49, 57),
        0 => (40, 48),
        1 => (31, 39),
        2 => (22, 30),
        3 => (13, 21),
        _ => return None,
    };
    let widest_allowed = if lpa2 {
        max_s2sz.min(52)
    } else {
        max_s2sz.min(48)
    };
    if s2sz < 32 || s2sz > widest_allowed || s2sz < narrowest {
        return None;
    }
    if (level == -1 && !lpa2) || (level == 0 && !pa_ge_44) {
        return None;
    }
    match s2sz.saturating_sub(one_table_widest) {
        0 => Some(1),
        1 => Some(2),
        2 => Some(4),
        3 => Some(8),
        4 => Some(16),
        _ => None,
    }
}

/// Sweeps s2sz 0..=64 x level -2..=4 x rtt_num_start 0..=17 and returns how many combinations
/// were accepted, checking each against [`expected_tables`].
fn sweep(features: RmiFeatureRegister0, flags: RmiRealmFlags) -> usize {
    let lpa2 = flags.contains(RmiRealmFlags::LPA2);
    let mut accepted = 0;
    for s2sz in 0..=64u8 {
        for level in -2..=4i64 {
            for n in 0..=17u32 {
                let mut p = base_40();
                p.flags = flags;
                p.s2sz = s2sz;
                p.rtt_level_start = level;
                p.rtt_num_start = n;
                // Aligned for any table count, away from the RD.
                p.rtt_base = 0x8801_0000;
                let got = check_realm_params(&p, features, RD);
                let want = expected_tables(
                    u64::from(s2sz),
                    level,
                    lpa2,
                    features.s2sz(),
                    features.s2sz() >= 44,
                );
                assert_eq!(
                    got.is_ok(),
                    want == Some(n),
                    "s2sz {s2sz} level {level} n {n}: got {got:?}, expected {want:?}"
                );
                if let Ok(cfg) = got {
                    assert_eq!(u64::from(cfg.s2sz), u64::from(s2sz));
                    assert_eq!((cfg.rtt_level_start, cfg.rtt_num_start), (level, n));
                    accepted += 1;
                }
            }
        }
    }
    accepted
}

#[test]
fn realm_create_sweep_qemu_start_levels() {
    // Level 0: 40..=48 (9). Level 1: 32..=39 with one table, 40..=43 with 2..16 (12).
    // Level 2: 32..=34 with 4, 8, 16 (3). Level 3: nothing from 32 bits. Level -1: no LPA2.
    assert_eq!(sweep(qemu(), RmiRealmFlags::EMPTY), 24);
}

#[test]
fn realm_create_sweep_lpa2_start_levels() {
    // Level -1: 49..=52 (4). Level 0: 40..=48 and 49..=52 with 2..16 (13). Level 1: 12. Level 2: 3.
    assert_eq!(sweep(lpa2_platform(), RmiRealmFlags::LPA2), 32);
    // Without the flag the same platform gives the QEMU set.
    assert_eq!(sweep(lpa2_platform(), RmiRealmFlags::EMPTY), 24);
}

#[test]
fn realm_create_sweep_small_pa_start_levels() {
    // PA 42 bits: no level 0; level 1: 32..=42 (11); level 2: 3.
    assert_eq!(sweep(qemu().with_s2sz(42), RmiRealmFlags::EMPTY), 14);
}

/// xorshift64*: deterministic pseudo-random values for the fuzz sweep.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Usually `plausible`; sometimes a small value, sometimes anything at all.
    fn usually(&mut self, plausible: u64) -> u64 {
        match self.next() % 8 {
            0 => self.next(),
            1 | 2 => self.next() % 64,
            _ => plausible,
        }
    }
}

#[test]
fn realm_create_random_parameters_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let platforms = [
        qemu(),
        lpa2_platform(),
        sve_pmu_platform(),
        qemu().with_s2sz(40),
    ];
    let mut accepted = 0;
    for i in 0..200_000u32 {
        let f = platforms[i as usize % platforms.len()];
        let mut p = RmiRealmParams::ZERO;
        p.flags = RmiRealmFlags::from_bits(rng.usually(0));
        let s2sz = 32 + rng.next() % 21;
        p.s2sz = rng.usually(s2sz) as u8;
        p.sve_vl = rng.usually(0) as u8;
        let bps = 1 + rng.next() % 5;
        p.num_bps = rng.usually(bps) as u8;
        let wps = 1 + rng.next() % 3;
        p.num_wps = rng.usually(wps) as u8;
        p.pmu_num_ctrs = rng.usually(0) as u8;
        let algo = rng.next() % 2;
        p.hash_algo = rng.usually(algo) as u8;
        p.vmid = rng.next() as u16;
        let base = 0x8801_0000 + ((rng.next() % 64) << 16);
        p.rtt_base = rng.usually(base);
        let level = rng.next() % 5;
        p.rtt_level_start = rng.usually(level) as i64 - 1;
        let n = 1 << (rng.next() % 5);
        p.rtt_num_start = rng.usually(n) as u32;
        if rng.next().is_multiple_of(64) {
            p.reserved5[(rng.next() % 0x3CF) as usize] = 1;
        }
        let rd = match rng.next() % 8 {
            0 => p.rtt_base,
            1 => rng.next(),
            _ => RD,
        };
        let Ok(cfg) = check_realm_params(&p, f, rd) else {
            continue;
        };
        accepted += 1;
        let lpa2 = p.flags.contains(RmiRealmFlags::LPA2);
        let want = expected_tables(
            u64::from(p.s2sz),
            p.rtt_level_start,
            lpa2,
            f.s2sz(),
            f.s2sz() >= 44,
        );
        assert_eq!(want, Some(cfg.rtt_num_start), "{p:?}");
        assert_eq!(cfg.rtt_base % cfg.rtt_size(), 0);
        let (rd, base, size) = (
            u128::from(rd),
            u128::from(cfg.rtt_base),
            u128::from(cfg.rtt_size()),
        );
        assert!(rd < base || rd >= base + size);
        assert!(u64::from(cfg.sve_vl) <= f.sve_vl());
        assert!(u64::from(cfg.pmu_num_ctrs) <= f.pmu_num_ctrs());
        assert!(cfg.num_bps >= 1 && u64::from(cfg.num_bps) <= f.num_bps());
        assert!(cfg.num_wps >= 1 && u64::from(cfg.num_wps) <= f.num_wps());
    }
    // The generator reaches the valid region, so the checks above were exercised.
    assert!(accepted > 100, "only {accepted} accepted");
}
