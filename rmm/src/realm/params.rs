//! RMI_REALM_CREATE (DEN0137 B4.3.9): every failure condition that can be decided from the realm
//! parameters, the feature register the RMM advertises and the RD address alone.
//!
//! # What is checked here, in this order
//!
//! B4.3.9.2.1 gives no ordering between the command's failure conditions, and every one of them
//! reports `RMI_ERROR_INPUT` with index 0. The order below is therefore this RMM's choice; it is
//! fixed (B1.6 asks for deterministic behaviour) and [`RealmParamsFault`] names the check that
//! fired, so that tests and logs can tell the cases apart.
//!
//! 1. `params_valid` (`RmiRealmParamsIsValid`, B3.50): the structure is a valid encoding.
//!    - no reserved bit of `flags` set (B4.4.11, bits 63:3 SBZ);
//!    - every unused byte of the structure zero (B4.4.12, "Unused bits ... SBZ");
//!    - `hash_algo` is a defined `RmiHashAlgorithm` (B4.4.7);
//!    - `num_bps` and `num_wps` are not 0, the value B4.4.12 reserves ("minus one" encodings).
//! 2. `params_supp` (`RealmParamsSupported`, B3.34, A3.1): every requested feature is offered by
//!    `RmiFeatureRegister0` (B4.4.6).
//!    - LPA2 requested only if `features.LPA2`;
//!    - `s2sz` at least [`MIN_IPA_WIDTH`], at most 48 without LPA2 and at most `features.S2SZ`;
//!    - SVE requested only if `features.SVE_EN`; `sve_vl <= features.SVE_VL`;
//!    - PMU requested only if `features.PMU_EN`; `pmu_num_ctrs <= features.PMU_NUM_CTRS`;
//!    - `num_bps <= features.NUM_BPS`, `num_wps <= features.NUM_WPS` (both "minus one", so they
//!      compare directly);
//!    - the hash algorithm's `features.HASH_SHA_*` bit set.
//! 3. `rtt_num_level` (`RttConfigIsValid`, B3.55, A5.5.3): `rtt_level_start` is -1..=3, -1 only
//!    with LPA2, 0 only on a platform whose PA range allows it (Arm ARM `AArch64.S2InvalidSL`:
//!    level 0 needs PAMax >= 44), the IPA width is resolvable from that level (Arm ARM
//!    `AArch64.S2InconsistentSL`), and `rtt_num_start` is the number of concatenated tables that
//!    takes ([`hostcall_abi::rtt::rtt_num_start`]).
//! 4. `rtt_align`: `rtt_base` aligned to `rtt_num_start * RMM_GRANULE_SIZE`.
//! 5. `alias`: `rd` not in `[rtt_base, rtt_base + (rtt_num_start - 1) * RMM_GRANULE_SIZE]`
//!    (B3.1 `AddrInRange`, both ends included).
//! 6. `params_supp` again: `rtt_base` below 2^48 unless LPA2 is requested (a stage 2 without
//!    LPA2 cannot start above it). Last, so that the address checks above see any base first.
//!
//! Checks 4 and 5 use `rtt_num_start` only once check 3 has proved it is 1, 2, 4, 8 or 16, so
//! they can neither divide by zero nor overflow.
//!
//! # What the caller still checks
//!
//! All `RMI_ERROR_INPUT`, in any order relative to these (the spec orders none of them):
//!
//! - before the parameters exist: `params_align`, `params_bound`, `params_pas` (the granule at
//!   `params_ptr` is aligned, delegable memory and readable as Non-secure) — and a fault while
//!   copying it in is also `params_pas`;
//! - `rd_align`, `rd_bound`, `rd_state` (the RD granule is DELEGATED);
//! - `rtt_state` (`RttsStateEqual`, B3.77): each of the `rtt_num_start` granules from `rtt_base`
//!   ([`RealmConfig::rtt_granules`]) is delegable and DELEGATED. Lock them together with the RD,
//!   in ascending address order. (An `rtt_base` the platform cannot address fails here, as
//!   `PaIsDelegable`.)
//! - `vmid_valid`: [`vmid_is_valid`] for the platform's VMID width, and the VMID not used by any
//!   other realm (`VmidIsFree`), reserved atomically with that test.
//!
//! Cheapest and lock-free first is the natural order: call [`validate_realm_params`] right after
//! copying the parameters in, then take the granule locks, then reserve the VMID.

use hostcall_abi::realm_params::{RmiRealmFlags, RmiRealmParams, RPV_SIZE};
use hostcall_abi::rmi::{RmiFeatureRegister0, RmiHashAlgorithm, RmiStatus};
use hostcall_abi::rtt::{
    rtt_num_start, MAX_IPA_WIDTH, MAX_IPA_WIDTH_LPA2, RTT_MAX_LEVEL, RTT_MIN_LEVEL,
    RTT_MIN_LEVEL_LPA2,
};
use hostcall_abi::GRANULE_SIZE;

use crate::error::RmiError;

/// Granule size as a 64-bit address quantity.
const GRANULE: u64 = GRANULE_SIZE as u64;

/// The narrowest IPA a realm may ask for: 32 bits, the smallest PA range the architecture
/// defines (`ID_AA64MMFR0_EL1.PARange` 0b0000). A3.1.2 leaves the minimum to the implementation;
/// TF-RMM and Linux KVM use the same bound. It also keeps level 3 from ever being a starting level
/// (a level-3 walk resolves at most 25 bits, even with 16 concatenated tables).
pub const MIN_IPA_WIDTH: u64 = 32;

/// The widest output address of a stage-2 translation without LPA2 (4 KiB granule).
pub const PA_WIDTH_WITHOUT_LPA2: u64 = 48;

/// The PA width below which a stage-2 walk may not start at level 0 with 4 KiB granules (Arm ARM
/// `AArch64.S2InvalidSL`: `VTCR_EL2.SL0` = 0b10 is reserved when PAMax < 44).
pub const LEVEL_0_START_MIN_PA_WIDTH: u64 = 44;

/// Which check rejected a realm's parameters. Every fault is `RMI_ERROR_INPUT` with index 0;
/// [`Self::condition`] gives the B4.3.9 failure condition it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RealmParamsFault {
    /// `params_valid`: a reserved bit of `flags` (63:3) is set.
    FlagsReserved,
    /// `params_valid`: an unused (SBZ) byte of the structure is not zero.
    ReservedNonZero,
    /// `params_valid`: `hash_algo` is a reserved encoding.
    HashAlgoReserved,
    /// `params_valid`: `num_bps` is 0, which B4.4.12 reserves.
    NumBpsReserved,
    /// `params_valid`: `num_wps` is 0, which B4.4.12 reserves.
    NumWpsReserved,
    /// `params_supp`: LPA2 requested but not supported.
    Lpa2Unsupported,
    /// `params_supp`: `s2sz` below [`MIN_IPA_WIDTH`].
    S2szTooSmall,
    /// `params_supp`: `s2sz` above 48 without LPA2 requested.
    S2szNeedsLpa2,
    /// `params_supp`: `s2sz` above what the RMM supports (`features.S2SZ`).
    S2szTooLarge,
    /// `params_supp`: SVE requested but not supported.
    SveUnsupported,
    /// `params_supp`: `sve_vl` above `features.SVE_VL`.
    SveVlTooLarge,
    /// `params_supp`: PMU requested but not supported.
    PmuUnsupported,
    /// `params_supp`: `pmu_num_ctrs` above `features.PMU_NUM_CTRS`.
    PmuNumCtrsTooLarge,
    /// `params_supp`: `num_bps` above `features.NUM_BPS`.
    NumBpsTooLarge,
    /// `params_supp`: `num_wps` above `features.NUM_WPS`.
    NumWpsTooLarge,
    /// `params_supp`: the hash algorithm is not supported.
    HashAlgoUnsupported,
    /// `params_supp`: `rtt_base` at or above 2^48 in a realm without LPA2, which a stage-2
    /// translation without LPA2 cannot start from (VTTBR_EL2.BADDR holds 48 bits).
    RttBaseNeedsLpa2,
    /// `rtt_num_level`: `rtt_level_start` outside -1..=3.
    RttLevelStartOutOfRange,
    /// `rtt_num_level`: `rtt_level_start` is -1 but LPA2 is not requested.
    RttLevelStartNeedsLpa2,
    /// `rtt_num_level`: `rtt_level_start` is 0 on a platform whose PA range is narrower than
    /// [`LEVEL_0_START_MIN_PA_WIDTH`].
    RttLevelStartUnsupported,
    /// `rtt_num_level`: `s2sz` cannot be resolved from `rtt_level_start` (too narrow for the
    /// level, or more than 16 concatenated tables needed).
    RttLevelStartInconsistent,
    /// `rtt_num_level`: `rtt_num_start` differs from the number of tables `s2sz` and
    /// `rtt_level_start` need.
    RttNumStartMismatch,
    /// `rtt_align`: `rtt_base` not aligned to `rtt_num_start` granules.
    RttBaseUnaligned,
    /// `alias`: `rd` lies within the starting-level RTTs.
    RttAliasesRd,
}

impl RealmParamsFault {
    /// The B4.3.9.2 failure condition identifier this fault belongs to.
    pub const fn condition(self) -> &'static str {
        use RealmParamsFault as F;
        match self {
            F::FlagsReserved
            | F::ReservedNonZero
            | F::HashAlgoReserved
            | F::NumBpsReserved
            | F::NumWpsReserved => "params_valid",
            F::Lpa2Unsupported
            | F::S2szTooSmall
            | F::S2szNeedsLpa2
            | F::S2szTooLarge
            | F::SveUnsupported
            | F::SveVlTooLarge
            | F::PmuUnsupported
            | F::PmuNumCtrsTooLarge
            | F::NumBpsTooLarge
            | F::NumWpsTooLarge
            | F::HashAlgoUnsupported
            | F::RttBaseNeedsLpa2 => "params_supp",
            F::RttLevelStartOutOfRange
            | F::RttLevelStartNeedsLpa2
            | F::RttLevelStartUnsupported
            | F::RttLevelStartInconsistent
            | F::RttNumStartMismatch => "rtt_num_level",
            F::RttBaseUnaligned => "rtt_align",
            F::RttAliasesRd => "alias",
        }
    }

    /// The status the command returns: `RMI_ERROR_INPUT` for every fault.
    pub const fn status(self) -> RmiStatus {
        RmiStatus::ErrorInput
    }

    /// The command's failure (index 0, no outputs).
    pub const fn to_rmi_error(self) -> RmiError {
        RmiError::new(self.status())
    }
}

impl From<RealmParamsFault> for RmiError {
    fn from(fault: RealmParamsFault) -> Self {
        fault.to_rmi_error()
    }
}

/// Realm parameters that passed [`check_realm_params`], decoded: what the RD records (A2.1.3)
/// once the caller's own checks have passed too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealmConfig {
    /// IPA width in bits ([`MIN_IPA_WIDTH`]..=52).
    pub s2sz: u8,
    /// LPA2 enabled.
    pub lpa2: bool,
    /// SVE enabled.
    pub sve: bool,
    /// SVE vector length, encoded as `(VL / 128) - 1`.
    pub sve_vl: u8,
    /// PMU enabled.
    pub pmu: bool,
    /// Number of PMU counters.
    pub pmu_num_ctrs: u8,
    /// Number of breakpoints, minus one (at least 1).
    pub num_bps: u8,
    /// Number of watchpoints, minus one (at least 1).
    pub num_wps: u8,
    /// Measurement algorithm.
    pub hash_algo: RmiHashAlgorithm,
    /// VMID (not yet checked for validity or uniqueness: the caller's `vmid_valid`).
    pub vmid: u16,
    /// PA of the first starting-level RTT, aligned to `rtt_num_start` granules.
    pub rtt_base: u64,
    /// RTT starting level (-1..=3).
    pub rtt_level_start: i64,
    /// Number of concatenated starting-level RTTs (1, 2, 4, 8 or 16).
    pub rtt_num_start: u32,
    /// Realm Personalization Value.
    pub rpv: [u8; RPV_SIZE],
}

impl RealmConfig {
    /// Bytes spanned by the starting-level RTTs.
    pub const fn rtt_size(&self) -> u64 {
        self.rtt_num_start as u64 * GRANULE
    }

    /// The PA of each starting-level RTT granule, in ascending order (the granules the caller's
    /// `rtt_state` check and the RD's RTT base cover).
    pub fn rtt_granules(&self) -> impl Iterator<Item = u64> {
        let base = self.rtt_base;
        (0..u64::from(self.rtt_num_start)).map_while(move |i| base.checked_add(i * GRANULE))
    }
}

/// `VmidIsValid` (B3.82): without FEAT_VMID16 only 8-bit VMIDs exist. (Whether the VMID is free
/// is global state, and the caller's check.)
pub const fn vmid_is_valid(vmid: u16, vmid16: bool) -> bool {
    vmid16 || vmid >> 8 == 0
}

/// Checks `p` against every parameter-only failure condition of RMI_REALM_CREATE, for an RMM
/// advertising `features` and an RD at `rd`. See the [module documentation](crate::realm::params)
/// for the order and for the conditions the caller still has to check.
pub fn check_realm_params(
    p: &RmiRealmParams,
    features: RmiFeatureRegister0,
    rd: u64,
) -> Result<RealmConfig, RealmParamsFault> {
    use RealmParamsFault as F;

    // params_valid.
    if p.flags.reserved_bits_set() {
        return Err(F::FlagsReserved);
    }
    if !unused_bytes_are_zero(p) {
        return Err(F::ReservedNonZero);
    }
    let hash_algo = p.hash_algo().ok_or(F::HashAlgoReserved)?;
    if p.num_bps == 0 {
        return Err(F::NumBpsReserved);
    }
    if p.num_wps == 0 {
        return Err(F::NumWpsReserved);
    }

    // params_supp.
    let lpa2 = p.flags.contains(RmiRealmFlags::LPA2);
    let sve = p.flags.contains(RmiRealmFlags::SVE);
    let pmu = p.flags.contains(RmiRealmFlags::PMU);
    if lpa2 && features.lpa2() == 0 {
        return Err(F::Lpa2Unsupported);
    }
    let s2sz = u64::from(p.s2sz);
    if s2sz < MIN_IPA_WIDTH {
        return Err(F::S2szTooSmall);
    }
    if !lpa2 && s2sz > MAX_IPA_WIDTH {
        return Err(F::S2szNeedsLpa2);
    }
    if s2sz > features.s2sz().min(MAX_IPA_WIDTH_LPA2) {
        return Err(F::S2szTooLarge);
    }
    // The vector length and the counter count are bounded whether or not the feature is
    // requested (A3.1.3, A3.1.5 make no exception): a realm without SVE or PMU can only ask for
    // values the RMM could also have given it.
    if sve && features.sve_en() == 0 {
        return Err(F::SveUnsupported);
    }
    if u64::from(p.sve_vl) > features.sve_vl() {
        return Err(F::SveVlTooLarge);
    }
    if pmu && features.pmu_en() == 0 {
        return Err(F::PmuUnsupported);
    }
    if u64::from(p.pmu_num_ctrs) > features.pmu_num_ctrs() {
        return Err(F::PmuNumCtrsTooLarge);
    }
    if u64::from(p.num_bps) > features.num_bps() {
        return Err(F::NumBpsTooLarge);
    }
    if u64::from(p.num_wps) > features.num_wps() {
        return Err(F::NumWpsTooLarge);
    }
    let hash_supported = match hash_algo {
        RmiHashAlgorithm::Sha256 => features.hash_sha_256(),
        RmiHashAlgorithm::Sha512 => features.hash_sha_512(),
    };
    if hash_supported == 0 {
        return Err(F::HashAlgoUnsupported);
    }

    // rtt_num_level.
    let level = p.rtt_level_start;
    if !(RTT_MIN_LEVEL_LPA2..=RTT_MAX_LEVEL).contains(&level) {
        return Err(F::RttLevelStartOutOfRange);
    }
    if level < RTT_MIN_LEVEL && !lpa2 {
        return Err(F::RttLevelStartNeedsLpa2);
    }
    // features.S2SZ is min(PAMax, 48 or 52) and an IPA is never wider than PAMax, so
    // features.S2SZ < 44 exactly when PAMax < 44.
    if level == 0 && features.s2sz() < LEVEL_0_START_MIN_PA_WIDTH {
        return Err(F::RttLevelStartUnsupported);
    }
    let num_start = rtt_num_start(s2sz, level).ok_or(F::RttLevelStartInconsistent)?;
    if p.rtt_num_start != num_start {
        return Err(F::RttNumStartMismatch);
    }

    // rtt_align: num_start is a power of two from 1 to 16, so the size is never 0.
    let rtt_size = u64::from(num_start) * GRANULE;
    if !p.rtt_base.is_multiple_of(rtt_size) {
        return Err(F::RttBaseUnaligned);
    }

    // alias: AddrInRange(rd, rtt_base, (rtt_num_start - 1) * RMM_GRANULE_SIZE), in unbounded
    // arithmetic like the spec's.
    let last = u128::from(p.rtt_base) + u128::from(rtt_size - GRANULE);
    if u128::from(rd) >= u128::from(p.rtt_base) && u128::from(rd) <= last {
        return Err(F::RttAliasesRd);
    }

    // params_supp, checked last (the order is this RMM's): B4.3.9 names no condition for an RTT
    // base beyond 48 bits (A3.1.2 lists only the commands that take a PA for an existing realm),
    // but a realm without LPA2 cannot start its stage 2 there, so this implementation does not
    // support such parameters (`RealmParamsSupported` is implementation defined). Accepted, the
    // base would carry address bits into VTTBR_EL2's VMID field.
    if !lpa2 && p.rtt_base >> PA_WIDTH_WITHOUT_LPA2 != 0 {
        return Err(F::RttBaseNeedsLpa2);
    }

    Ok(RealmConfig {
        s2sz: p.s2sz,
        lpa2,
        sve,
        sve_vl: p.sve_vl,
        pmu,
        pmu_num_ctrs: p.pmu_num_ctrs,
        num_bps: p.num_bps,
        num_wps: p.num_wps,
        hash_algo,
        vmid: p.vmid,
        rtt_base: p.rtt_base,
        rtt_level_start: level,
        rtt_num_start: num_start,
        rpv: p.rpv,
    })
}

/// [`check_realm_params`], with a fault reported as the command's failure
/// (`RMI_ERROR_INPUT`, index 0).
pub fn validate_realm_params(
    p: &RmiRealmParams,
    features: RmiFeatureRegister0,
    rd_pa: u64,
) -> Result<RealmConfig, RmiError> {
    check_realm_params(p, features, rd_pa).map_err(RmiError::from)
}

/// True if every byte B4.4.12 leaves unused is zero: the padding after each 8-bit field, the gaps
/// around `rpv` and after `vmid`, and the tail after `rtt_num_start`.
fn unused_bytes_are_zero(p: &RmiRealmParams) -> bool {
    let unused: [&[u8]; 9] = [
        &p.reserved0,
        &p.reserved1,
        &p.reserved2,
        &p.reserved3,
        &p.reserved4,
        &p.reserved5,
        &p.reserved6,
        &p.reserved7,
        &p.reserved8,
    ];
    unused.iter().all(|bytes| bytes.iter().all(|&b| b == 0))
}
