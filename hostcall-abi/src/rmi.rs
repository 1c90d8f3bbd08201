//! Realm Management Interface (host -> RMM), RMM 1.0 REL0: command IDs, status codes and the
//! RMI_FEATURES register. Parameter blocks live in their own modules.

use crate::smccc::{canonical_fid, smc64_std};
use crate::AbiVersion;

/// The RMI revision this ABI describes.
pub const RMI_VERSION_1_0: AbiVersion = AbiVersion::new(1, 0);

/// First function number of the RMI range.
pub const FNUM_FIRST: u32 = 0x150;
/// Last function number of the RMI range (0x18F is RMM_RMI_REQ_COMPLETE, an EL3 call).
pub const FNUM_LAST: u32 = 0x18F;

macro_rules! rmi_commands {
    ($($(#[$doc:meta])* $name:ident = $fnum:expr,)*) => {
        /// An RMI 1.0 command, identified by its SMC64 function number. Variants carry the
        /// specification's names so that a reader can grep for them.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        #[repr(u32)]
        pub enum RmiCommand {
            $($(#[$doc])* $name = $fnum,)*
        }

        impl RmiCommand {
            /// Every RMI 1.0 command, in function-number order.
            pub const ALL: [RmiCommand; [$($fnum),*].len()] = [$(RmiCommand::$name),*];

            /// Looks up the command for a raw x0 (SVE hint and bits 63:32 ignored).
            pub const fn from_fid(x0: u64) -> Option<Self> {
                match canonical_fid(x0) {
                    $(f if f == smc64_std($fnum) => Some(RmiCommand::$name),)*
                    _ => None,
                }
            }

            /// The command's name as the specification spells it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(RmiCommand::$name => concat!("RMI_", stringify!($name)),)*
                }
            }
        }
    };
}

rmi_commands! {
    /// RMI_VERSION(req) -> lower, higher.
    VERSION = 0x150,
    /// RMI_GRANULE_DELEGATE(addr).
    GRANULE_DELEGATE = 0x151,
    /// RMI_GRANULE_UNDELEGATE(addr).
    GRANULE_UNDELEGATE = 0x152,
    /// RMI_DATA_CREATE(rd, data, ipa, src, flags).
    DATA_CREATE = 0x153,
    /// RMI_DATA_CREATE_UNKNOWN(rd, data, ipa).
    DATA_CREATE_UNKNOWN = 0x154,
    /// RMI_DATA_DESTROY(rd, ipa) -> data, top.
    DATA_DESTROY = 0x155,
    /// RMI_REALM_ACTIVATE(rd).
    REALM_ACTIVATE = 0x157,
    /// RMI_REALM_CREATE(rd, params_ptr).
    REALM_CREATE = 0x158,
    /// RMI_REALM_DESTROY(rd).
    REALM_DESTROY = 0x159,
    /// RMI_REC_CREATE(rd, rec, params_ptr).
    REC_CREATE = 0x15A,
    /// RMI_REC_DESTROY(rec).
    REC_DESTROY = 0x15B,
    /// RMI_REC_ENTER(rec, run_ptr).
    REC_ENTER = 0x15C,
    /// RMI_RTT_CREATE(rd, rtt, ipa, level).
    RTT_CREATE = 0x15D,
    /// RMI_RTT_DESTROY(rd, ipa, level) -> rtt, top.
    RTT_DESTROY = 0x15E,
    /// RMI_RTT_MAP_UNPROTECTED(rd, ipa, level, desc).
    RTT_MAP_UNPROTECTED = 0x15F,
    /// RMI_RTT_READ_ENTRY(rd, ipa, level) -> walk_level, state, desc, ripas.
    RTT_READ_ENTRY = 0x161,
    /// RMI_RTT_UNMAP_UNPROTECTED(rd, ipa, level) -> top.
    RTT_UNMAP_UNPROTECTED = 0x162,
    /// RMI_PSCI_COMPLETE(calling_rec, target_rec, status).
    PSCI_COMPLETE = 0x164,
    /// RMI_FEATURES(index) -> value.
    FEATURES = 0x165,
    /// RMI_RTT_FOLD(rd, ipa, level) -> rtt.
    RTT_FOLD = 0x166,
    /// RMI_REC_AUX_COUNT(rd) -> aux_count.
    REC_AUX_COUNT = 0x167,
    /// RMI_RTT_INIT_RIPAS(rd, base, top) -> top.
    RTT_INIT_RIPAS = 0x168,
    /// RMI_RTT_SET_RIPAS(rd, rec, base, top) -> top.
    RTT_SET_RIPAS = 0x169,
}

impl RmiCommand {
    /// The SMC64 function ID the host puts in x0.
    pub const fn fid(self) -> u32 {
        smc64_std(self as u32)
    }
}

/// RMI command status (the low byte of x0 on return).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u8)]
pub enum RmiStatus {
    /// Command completed successfully.
    Success = 0,
    /// The value of a command input was invalid.
    ErrorInput = 1,
    /// An attribute of a Realm does not match the expected value.
    ErrorRealm = 2,
    /// An attribute of a REC does not match the expected value.
    ErrorRec = 3,
    /// An RTT walk terminated before reaching the target RTT level, or reached an RTTE with an
    /// unexpected value.
    ErrorRtt = 4,
}

impl RmiStatus {
    /// The status name as the specification spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Success => "RMI_SUCCESS",
            Self::ErrorInput => "RMI_ERROR_INPUT",
            Self::ErrorRealm => "RMI_ERROR_REALM",
            Self::ErrorRec => "RMI_ERROR_REC",
            Self::ErrorRtt => "RMI_ERROR_RTT",
        }
    }

    /// Decodes a status byte; `None` for values RMI 1.0 does not define.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Success,
            1 => Self::ErrorInput,
            2 => Self::ErrorRealm,
            3 => Self::ErrorRec,
            4 => Self::ErrorRtt,
            _ => return None,
        })
    }
}

/// The packed RMI return code: `status | index << 8`, as carried in x0.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct RmiReturn(u64);

impl RmiReturn {
    /// Success.
    pub const SUCCESS: Self = Self(0);

    /// Packs a status with its index (the RTT level for ERROR_RTT, a per-command value for
    /// ERROR_REALM, 0 otherwise).
    pub const fn new(status: RmiStatus, index: u8) -> Self {
        Self(status as u64 | (index as u64) << 8)
    }

    /// Wraps a raw x0.
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// The register value.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// The status field, if it is an RMI 1.0 status.
    pub const fn status(self) -> Option<RmiStatus> {
        RmiStatus::from_u8(self.0 as u8)
    }

    /// The index field.
    pub const fn index(self) -> u8 {
        (self.0 >> 8) as u8
    }

    /// The status name, or "SMC_UNKNOWN"/"(invalid)" for values that are not RMI statuses.
    pub const fn status_name(self) -> &'static str {
        match self.status() {
            Some(s) => s.name(),
            None if self.0 == crate::smccc::SMC_UNKNOWN => "SMC_UNKNOWN",
            None => "(invalid)",
        }
    }
}

/// Hash algorithms a realm may choose (RmiHashAlgorithm).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u8)]
pub enum RmiHashAlgorithm {
    /// SHA-256.
    Sha256 = 0,
    /// SHA-512.
    Sha512 = 1,
}

/// RMI_FEATURES register 0 (index 0): what the RMM supports for realms it creates.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Default)]
pub struct RmiFeatureRegister0(pub u64);

macro_rules! feature_fields {
    ($($(#[$doc:meta])* $get:ident / $set:ident : $lo:expr, $width:expr;)*) => {
        impl RmiFeatureRegister0 {
            $(
                $(#[$doc])*
                pub const fn $get(self) -> u64 {
                    (self.0 >> $lo) & ((1u64 << $width) - 1)
                }
                $(#[$doc])*
                #[must_use]
                pub const fn $set(self, v: u64) -> Self {
                    let mask = ((1u64 << $width) - 1) << $lo;
                    Self((self.0 & !mask) | ((v << $lo) & mask))
                }
            )*
        }
    };
}

feature_fields! {
    /// S2SZ\[7:0\]: maximum IPA width.
    s2sz / with_s2sz: 0, 8;
    /// LPA2\[8\]: LPA2 supported.
    lpa2 / with_lpa2: 8, 1;
    /// SVE_EN\[9\]: SVE supported.
    sve_en / with_sve_en: 9, 1;
    /// SVE_VL\[13:10\]: maximum SVE vector length (encoded).
    sve_vl / with_sve_vl: 10, 4;
    /// NUM_BPS\[19:14\]: number of breakpoints available (minus one).
    num_bps / with_num_bps: 14, 6;
    /// NUM_WPS\[25:20\]: number of watchpoints available (minus one).
    num_wps / with_num_wps: 20, 6;
    /// PMU_EN\[26\]: PMU supported.
    pmu_en / with_pmu_en: 26, 1;
    /// PMU_NUM_CTRS\[31:27\]: number of PMU counters available.
    pmu_num_ctrs / with_pmu_num_ctrs: 27, 5;
    /// HASH_SHA_256\[32\].
    hash_sha_256 / with_hash_sha_256: 32, 1;
    /// HASH_SHA_512\[33\].
    hash_sha_512 / with_hash_sha_512: 33, 1;
    /// GICV3_NUM_LRS\[37:34\]: number of GIC list registers available (minus one).
    gicv3_num_lrs / with_gicv3_num_lrs: 34, 4;
    /// MAX_RECS_ORDER\[41:38\]: log2 of the maximum number of RECs per realm.
    max_recs_order / with_max_recs_order: 38, 4;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_ids_match_the_spec_table() {
        let expected: [(u32, RmiCommand); 23] = [
            (0xC400_0150, RmiCommand::VERSION),
            (0xC400_0151, RmiCommand::GRANULE_DELEGATE),
            (0xC400_0152, RmiCommand::GRANULE_UNDELEGATE),
            (0xC400_0153, RmiCommand::DATA_CREATE),
            (0xC400_0154, RmiCommand::DATA_CREATE_UNKNOWN),
            (0xC400_0155, RmiCommand::DATA_DESTROY),
            (0xC400_0157, RmiCommand::REALM_ACTIVATE),
            (0xC400_0158, RmiCommand::REALM_CREATE),
            (0xC400_0159, RmiCommand::REALM_DESTROY),
            (0xC400_015A, RmiCommand::REC_CREATE),
            (0xC400_015B, RmiCommand::REC_DESTROY),
            (0xC400_015C, RmiCommand::REC_ENTER),
            (0xC400_015D, RmiCommand::RTT_CREATE),
            (0xC400_015E, RmiCommand::RTT_DESTROY),
            (0xC400_015F, RmiCommand::RTT_MAP_UNPROTECTED),
            (0xC400_0161, RmiCommand::RTT_READ_ENTRY),
            (0xC400_0162, RmiCommand::RTT_UNMAP_UNPROTECTED),
            (0xC400_0164, RmiCommand::PSCI_COMPLETE),
            (0xC400_0165, RmiCommand::FEATURES),
            (0xC400_0166, RmiCommand::RTT_FOLD),
            (0xC400_0167, RmiCommand::REC_AUX_COUNT),
            (0xC400_0168, RmiCommand::RTT_INIT_RIPAS),
            (0xC400_0169, RmiCommand::RTT_SET_RIPAS),
        ];
        assert_eq!(RmiCommand::ALL.len(), 23);
        for (fid, cmd) in expected {
            assert_eq!(cmd.fid(), fid, "{}", cmd.name());
            assert_eq!(RmiCommand::from_fid(fid as u64), Some(cmd));
            assert_eq!(
                RmiCommand::from_fid(fid as u64 | crate::smccc::SVE_HINT),
                Some(cmd)
            );
        }
        for unused in [
            0xC400_0156u64,
            0xC400_0160,
            0xC400_0163,
            0xC400_016A,
            0x8400_0150,
        ] {
            assert_eq!(RmiCommand::from_fid(unused), None);
        }
    }

    #[test]
    fn return_code_packs_status_and_index() {
        let r = RmiReturn::new(RmiStatus::ErrorRtt, 2);
        assert_eq!(r.raw(), 0x204);
        assert_eq!(r.status(), Some(RmiStatus::ErrorRtt));
        assert_eq!(r.index(), 2);
        assert_eq!(RmiReturn::from_raw(5).status(), None);
    }

    #[test]
    fn feature_register_fields_are_placed_per_spec() {
        let f = RmiFeatureRegister0::default()
            .with_s2sz(48)
            .with_hash_sha_256(1)
            .with_hash_sha_512(1)
            .with_max_recs_order(3);
        assert_eq!(f.0, 48 | 1 << 32 | 1 << 33 | 3 << 38);
        assert_eq!(f.s2sz(), 48);
        assert_eq!(f.max_recs_order(), 3);
        // A setter never spills into the neighbouring field.
        assert_eq!(RmiFeatureRegister0::default().with_lpa2(3).0, 1 << 8);
    }
}
