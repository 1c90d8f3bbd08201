//! RMI_REC_CREATE parameter checks (B4.3.12).

use hostcall_abi::rec_params::{
    rec_index_to_mpidr, RmiRecCreateFlags, RmiRecParams, MAX_REC_AUX_GRANULES,
};
use hostcall_abi::rmi::RmiStatus;

use crate::error::RmiError;
use crate::rec::params::{check_rec_params, validate_rec_params, RecConfig, RecParamsFault as F};

const REC: u64 = 0x9000_1000;
const AUX0: u64 = 0x9000_0000;
const AUX1: u64 = 0x9000_2000;
const AUX_COUNT: u64 = 2;
const G: u64 = 0x1000;

/// The valid baseline: the first REC of a realm needing two aux granules, runnable.
fn base() -> RmiRecParams {
    let mut p = RmiRecParams::ZERO;
    p.flags = RmiRecCreateFlags::RUNNABLE;
    p.mpidr = 0;
    p.pc = 0x8008_0000;
    p.gprs = [10, 11, 12, 13, 14, 15, 16, 17];
    p.num_aux = AUX_COUNT;
    p.aux[0] = AUX0;
    p.aux[1] = AUX1;
    p
}

fn accepted(p: &RmiRecParams, aux_count: u64, next: u64) -> RecConfig {
    match check_rec_params(p, REC, aux_count, next) {
        Ok(cfg) => {
            assert_eq!(validate_rec_params(p, REC, aux_count, next), Ok(cfg));
            cfg
        }
        Err(fault) => panic!("valid parameters rejected: {fault:?}"),
    }
}

/// Asserts that `p` fails with exactly `fault`, which belongs to `condition`, reported as
/// RMI_ERROR_INPUT with index 0.
#[track_caller]
fn rejected(p: &RmiRecParams, aux_count: u64, next: u64, fault: F, condition: &str) {
    assert_eq!(check_rec_params(p, REC, aux_count, next), Err(fault));
    assert_eq!(fault.condition(), condition);
    assert_eq!(
        validate_rec_params(p, REC, aux_count, next),
        Err(RmiError::new(RmiStatus::ErrorInput))
    );
}

// ---- Valid baselines ----------------------------------------------------------------------

#[test]
fn rec_create_accepts_the_first_rec() {
    let cfg = accepted(&base(), AUX_COUNT, 0);
    assert_eq!(
        cfg,
        RecConfig {
            rec_index: 0,
            mpidr: 0,
            runnable: true,
            pc: 0x8008_0000,
            gprs: [10, 11, 12, 13, 14, 15, 16, 17],
            num_aux: 2,
            aux_list: {
                let mut a = [0; MAX_REC_AUX_GRANULES];
                a[0] = AUX0;
                a[1] = AUX1;
                a
            },
        }
    );
    assert_eq!(cfg.aux(), &[AUX0, AUX1]);
}

#[test]
fn rec_create_accepts_later_indexes_by_their_mpidr() {
    // Index 17 is Aff1 = 1, Aff0 = 1; index 2^20 is Aff3 = 1 (bit 24 of RmiRecMpidr).
    for (index, mpidr) in [(1, 0x1), (17, 0x101), (4096, 0x1_0000), (1 << 20, 1 << 24)] {
        let mut p = base();
        p.mpidr = mpidr;
        let cfg = accepted(&p, AUX_COUNT, index);
        assert_eq!((cfg.rec_index, cfg.mpidr), (index, mpidr));
    }
}

#[test]
fn rec_create_accepts_a_not_runnable_rec() {
    let mut p = base();
    p.flags = RmiRecCreateFlags::EMPTY;
    assert!(!accepted(&p, AUX_COUNT, 0).runnable);
}

#[test]
fn rec_create_ignores_reserved_flag_bits() {
    // B4.3.12 has no failure condition for them, and B1.6 says the command then succeeds; only
    // bit 0 (runnable) means anything.
    let mut p = base();
    p.flags = RmiRecCreateFlags::from_bits(1 << 1 | 1 << 63);
    assert!(!accepted(&p, AUX_COUNT, 0).runnable);
    p.flags = RmiRecCreateFlags::from_bits(u64::MAX);
    assert!(accepted(&p, AUX_COUNT, 0).runnable);
}

#[test]
fn rec_create_ignores_reserved_bytes_and_unused_aux_entries() {
    let mut p = base();
    p.reserved0[0] = 1;
    p.reserved3[0x4BF] = 0xFF;
    p.reserved4[0] = 1;
    // Past num_aux: unaligned, equal to the REC, and duplicates.
    p.aux[2] = 0x123;
    p.aux[3] = REC;
    p.aux[4] = AUX0;
    p.aux[15] = AUX0;
    let cfg = accepted(&p, AUX_COUNT, 0);
    assert_eq!(cfg.aux(), &[AUX0, AUX1]);
    assert!(cfg.aux_list[2..].iter().all(|&a| a == 0));
}

#[test]
fn rec_create_accepts_no_aux_granules() {
    let mut p = base();
    p.num_aux = 0;
    p.aux[0] = REC;
    assert!(accepted(&p, 0, 0).aux().is_empty());
}

#[test]
fn rec_create_accepts_sixteen_aux_granules() {
    let mut p = base();
    p.num_aux = 16;
    for (i, a) in p.aux.iter_mut().enumerate() {
        *a = 0xA000_0000 + i as u64 * G;
    }
    assert_eq!(accepted(&p, 16, 0).aux().len(), 16);
}

// ---- mpidr_index --------------------------------------------------------------------------

#[test]
fn rec_create_fails_mpidr_index_skipped() {
    // The realm's next REC is index 0; the host names index 1.
    let mut p = base();
    p.mpidr = 1;
    rejected(&p, AUX_COUNT, 0, F::MpidrIndexMismatch, "mpidr_index");
    // Aff1 = 1 is index 16, not 1.
    p.mpidr = 0x100;
    rejected(&p, AUX_COUNT, 1, F::MpidrIndexMismatch, "mpidr_index");
}

#[test]
fn rec_create_fails_mpidr_index_reused() {
    rejected(&base(), AUX_COUNT, 1, F::MpidrIndexMismatch, "mpidr_index");
}

#[test]
fn rec_create_fails_mpidr_index_reserved_bits_set() {
    // Aff0[7:4] and bits 63:32 are SBZ (B4.4.18); Aff3 belongs at [31:24], not [39:32].
    for mpidr in [0x10, 0x80, 1 << 32, 0xFF << 32, u64::MAX] {
        let mut p = base();
        p.mpidr = mpidr;
        rejected(&p, AUX_COUNT, 0, F::MpidrInvalid, "mpidr_index");
    }
    // 0x10 would otherwise read as index 0, 1 << 32 as index 0 too.
    let mut p = base();
    p.mpidr = rec_index_to_mpidr(0).unwrap() | 0x10;
    rejected(&p, AUX_COUNT, 0, F::MpidrInvalid, "mpidr_index");
}

// ---- num_aux ------------------------------------------------------------------------------

#[test]
fn rec_create_fails_num_aux_mismatch() {
    for num_aux in [0, 1, 3, 16, 17, u64::MAX] {
        let mut p = base();
        p.num_aux = num_aux;
        rejected(&p, AUX_COUNT, 0, F::NumAuxMismatch, "num_aux");
    }
}

#[test]
fn rec_create_fails_num_aux_beyond_the_array() {
    // RecAuxCount never exceeds 16 (B3.36); if a caller passed more, nothing may index past aux.
    let mut p = base();
    p.num_aux = 17;
    rejected(&p, 17, 0, F::NumAuxMismatch, "num_aux");
    p.num_aux = u64::MAX;
    rejected(&p, u64::MAX, 0, F::NumAuxMismatch, "num_aux");
}

// ---- aux_align ----------------------------------------------------------------------------

#[test]
fn rec_create_fails_aux_align() {
    for bad in [AUX1 + 8, AUX1 + 0xFFF, 1, u64::MAX] {
        let mut p = base();
        p.aux[1] = bad;
        rejected(&p, AUX_COUNT, 0, F::AuxUnaligned, "aux_align");
    }
}

// ---- aux_alias ----------------------------------------------------------------------------

#[test]
fn rec_create_fails_aux_alias_with_the_rec() {
    for i in 0..2 {
        let mut p = base();
        p.aux[i] = REC;
        rejected(&p, AUX_COUNT, 0, F::AuxAliasesRec, "aux_alias");
    }
}

#[test]
fn rec_create_fails_aux_alias_duplicate() {
    let mut p = base();
    p.aux[1] = AUX0;
    rejected(&p, AUX_COUNT, 0, F::AuxDuplicate, "aux_alias");
    // Far apart in a full list.
    let mut p = base();
    p.num_aux = 16;
    for (i, a) in p.aux.iter_mut().enumerate() {
        *a = 0xA000_0000 + i as u64 * G;
    }
    p.aux[15] = p.aux[3];
    rejected(&p, 16, 0, F::AuxDuplicate, "aux_alias");
}

// ---- Order (B4.3.12 orders none of these; this is the RMM's fixed choice) -----------------

#[test]
fn rec_create_order_mpidr_before_num_aux() {
    let mut p = base();
    p.mpidr = 5;
    p.num_aux = 9;
    assert_eq!(
        check_rec_params(&p, REC, AUX_COUNT, 0),
        Err(F::MpidrIndexMismatch)
    );
}

#[test]
fn rec_create_order_num_aux_before_aux_align() {
    let mut p = base();
    p.num_aux = 3;
    p.aux[0] = 0x17;
    assert_eq!(
        check_rec_params(&p, REC, AUX_COUNT, 0),
        Err(F::NumAuxMismatch)
    );
}

#[test]
fn rec_create_order_aux_align_before_aux_alias() {
    // An unaligned aux that equals an (equally unaligned) REC address, and a duplicate.
    let mut p = base();
    p.aux[0] = REC + 8;
    p.aux[1] = REC + 8;
    assert_eq!(
        check_rec_params(&p, REC + 8, AUX_COUNT, 0),
        Err(F::AuxUnaligned)
    );
}

#[test]
fn rec_create_order_rec_alias_before_duplicate() {
    let mut p = base();
    p.aux[0] = REC;
    p.aux[1] = REC;
    assert_eq!(
        check_rec_params(&p, REC, AUX_COUNT, 0),
        Err(F::AuxAliasesRec)
    );
}

// ---- Sweep --------------------------------------------------------------------------------

#[test]
fn rec_create_aux_sweep_matches_aux_alias_and_aux_aligned() {
    // Every num_aux 0..=16 with lists drawn from a small address pool (so duplicates, the REC
    // and unaligned values all occur), against a direct reading of B3.9/B3.10.
    let pool = [AUX0, AUX1, REC, AUX0 + 8, 0xB000_0000, 0];
    let mut seed = 0x1234_5678_9ABC_DEF0u64;
    for round in 0..20_000u32 {
        let mut p = base();
        let n = (round % 17) as usize;
        p.num_aux = n as u64;
        for a in p.aux.iter_mut() {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *a = pool[(seed >> 33) as usize % pool.len()];
        }
        let used = &p.aux[..n];
        let unaligned = used.iter().any(|a| a % G != 0);
        let mut alias = false;
        for i in 0..n {
            alias |= used[i] == REC;
            for j in 0..i {
                alias |= used[i] == used[j];
            }
        }
        let got = check_rec_params(&p, REC, n as u64, 0);
        match (unaligned, alias) {
            (true, _) => assert_eq!(got, Err(F::AuxUnaligned)),
            (false, true) => assert!(matches!(got, Err(F::AuxAliasesRec | F::AuxDuplicate))),
            (false, false) => assert_eq!(got.map(|c| c.aux().to_vec()), Ok(used.to_vec())),
        }
    }
}
