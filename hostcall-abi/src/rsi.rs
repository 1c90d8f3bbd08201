//! Realm Services Interface (realm -> RMM), RSI 1.0: command IDs, return codes and the small
//! register-level types (DEN0137 B5). The in-memory structures are in [`crate::host_call`] and
//! [`crate::realm_config`]; RIPAS values are [`crate::rtt::Ripas`].

use crate::fieldset::fieldset64;
use crate::smccc::{canonical_fid, smc64_std};
use crate::AbiVersion;

/// The RSI revision this ABI describes.
pub const RSI_VERSION_1_0: AbiVersion = AbiVersion::new(1, 0);

/// First function number of the RSI range.
pub const FNUM_FIRST: u32 = 0x190;
/// Last function number of the RSI range.
pub const FNUM_LAST: u32 = 0x1AF;

/// Number of realm measurements: index 0 is the RIM, 1..=4 the REMs.
pub const MEASUREMENT_COUNT: u64 = 5;
/// Largest measurement (and measurement extension) in bytes; shorter hashes are zero-extended.
pub const MEASUREMENT_MAX_SIZE: u64 = 64;
/// Size of the attestation challenge passed in x1..x8 of `RSI_ATTESTATION_TOKEN_INIT`.
pub const CHALLENGE_SIZE: usize = 64;

macro_rules! rsi_commands {
    ($($(#[$doc:meta])* $name:ident = $fnum:expr,)*) => {
        /// An RSI 1.0 command, identified by its SMC64 function number. Variants carry the
        /// specification's names so that a reader can grep for them.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        #[repr(u32)]
        pub enum RsiCommand {
            $($(#[$doc])* $name = $fnum,)*
        }

        impl RsiCommand {
            /// Every RSI 1.0 command, in function-number order.
            pub const ALL: [RsiCommand; [$($fnum),*].len()] = [$(RsiCommand::$name),*];

            /// Looks up the command for a raw x0 (SVE hint and bits 63:32 ignored).
            pub const fn from_fid(x0: u64) -> Option<Self> {
                match canonical_fid(x0) {
                    $(f if f == smc64_std($fnum) => Some(RsiCommand::$name),)*
                    _ => None,
                }
            }

            /// The command's name as the specification spells it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(RsiCommand::$name => concat!("RSI_", stringify!($name)),)*
                }
            }
        }
    };
}

rsi_commands! {
    /// RSI_VERSION(req) -> lower, higher.
    VERSION = 0x190,
    /// RSI_FEATURES(index) -> value.
    FEATURES = 0x191,
    /// RSI_MEASUREMENT_READ(index) -> `value[8]` in x1..x8.
    MEASUREMENT_READ = 0x192,
    /// RSI_MEASUREMENT_EXTEND(index, size, `value[8]` in x3..x10).
    MEASUREMENT_EXTEND = 0x193,
    /// RSI_ATTESTATION_TOKEN_INIT(`challenge[8]` in x1..x8) -> upper bound of the token size.
    ATTESTATION_TOKEN_INIT = 0x194,
    /// RSI_ATTESTATION_TOKEN_CONTINUE(addr, offset, size) -> bytes written.
    ATTESTATION_TOKEN_CONTINUE = 0x195,
    /// RSI_REALM_CONFIG(addr of an `RsiRealmConfig`).
    REALM_CONFIG = 0x196,
    /// RSI_IPA_STATE_SET(base, top, ripas, flags) -> new_base, response.
    IPA_STATE_SET = 0x197,
    /// RSI_IPA_STATE_GET(base, end) -> top, ripas.
    IPA_STATE_GET = 0x198,
    /// RSI_HOST_CALL(addr of an `RsiHostCall`).
    HOST_CALL = 0x199,
}

impl RsiCommand {
    /// The SMC64 function ID the realm puts in x0.
    pub const fn fid(self) -> u32 {
        smc64_std(self as u32)
    }
}

/// RSI command return code, the whole of x0 (`RsiCommandReturnCode`, B5.4.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u64)]
pub enum RsiStatus {
    /// Command completed successfully.
    Success = 0,
    /// The value of a command input caused the command to fail.
    ErrorInput = 1,
    /// The state of the current realm or REC does not match the state the command expects.
    ErrorState = 2,
    /// The operation requested by the command is not complete.
    Incomplete = 3,
    /// The operation failed for an unknown reason.
    ErrorUnknown = 4,
}

impl RsiStatus {
    /// The x0 value.
    pub const fn raw(self) -> u64 {
        self as u64
    }

    /// Decodes x0; `None` for values RSI 1.0 does not define.
    pub const fn from_u64(v: u64) -> Option<Self> {
        Some(match v {
            0 => Self::Success,
            1 => Self::ErrorInput,
            2 => Self::ErrorState,
            3 => Self::Incomplete,
            4 => Self::ErrorUnknown,
            _ => return None,
        })
    }
}

/// Hash algorithm of a realm as the realm sees it (`RsiHashAlgorithm`, B5.4.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u8)]
pub enum RsiHashAlgorithm {
    /// SHA-256.
    Sha256 = 0,
    /// SHA-512.
    Sha512 = 1,
}

impl RsiHashAlgorithm {
    /// Decodes the 8-bit encoding.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Sha256,
            1 => Self::Sha512,
            _ => return None,
        })
    }
}

/// The host's answer to a RIPAS change request, returned in x2 of `RSI_IPA_STATE_SET`
/// (`RsiResponse`, B5.4.6).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u64)]
pub enum RsiResponse {
    /// The host accepted the request.
    Accept = 0,
    /// The host rejected the request (result is still `RSI_SUCCESS`, new_base == base).
    Reject = 1,
}

impl RsiResponse {
    /// The x2 value.
    pub const fn raw(self) -> u64 {
        self as u64
    }

    /// Decodes x2 (bits 63:1 are MBZ, so any of them set gives `None`).
    pub const fn from_u64(v: u64) -> Option<Self> {
        Some(match v {
            0 => Self::Accept,
            1 => Self::Reject,
            _ => return None,
        })
    }
}

fieldset64! {
    /// Flags of `RSI_IPA_STATE_SET` in x4 (`RsiRipasChangeFlags`, B5.4.9). Bits 63:1 SBZ.
    pub struct RsiRipasChangeFlags {
        /// Bit 0 (`destroyed` = `RSI_CHANGE_DESTROYED`): a change away from RIPAS DESTROYED is
        /// permitted.
        CHANGE_DESTROYED = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_ids_match_the_spec_table() {
        let expected: [(u32, RsiCommand); 10] = [
            (0xC400_0190, RsiCommand::VERSION),
            (0xC400_0191, RsiCommand::FEATURES),
            (0xC400_0192, RsiCommand::MEASUREMENT_READ),
            (0xC400_0193, RsiCommand::MEASUREMENT_EXTEND),
            (0xC400_0194, RsiCommand::ATTESTATION_TOKEN_INIT),
            (0xC400_0195, RsiCommand::ATTESTATION_TOKEN_CONTINUE),
            (0xC400_0196, RsiCommand::REALM_CONFIG),
            (0xC400_0197, RsiCommand::IPA_STATE_SET),
            (0xC400_0198, RsiCommand::IPA_STATE_GET),
            (0xC400_0199, RsiCommand::HOST_CALL),
        ];
        assert_eq!(RsiCommand::ALL.len(), expected.len());
        for ((fid, cmd), listed) in expected.into_iter().zip(RsiCommand::ALL) {
            assert_eq!(cmd, listed);
            assert_eq!(cmd.fid(), fid, "{}", cmd.name());
            assert_eq!(RsiCommand::from_fid(fid as u64), Some(cmd));
            assert_eq!(
                RsiCommand::from_fid(fid as u64 | crate::smccc::SVE_HINT),
                Some(cmd)
            );
            assert_eq!(
                RsiCommand::from_fid(0xFFFF_FFFF_0000_0000 | fid as u64),
                Some(cmd)
            );
        }
        assert_eq!(RsiCommand::HOST_CALL.name(), "RSI_HOST_CALL");
        assert_eq!(
            RsiCommand::ATTESTATION_TOKEN_CONTINUE.name(),
            "RSI_ATTESTATION_TOKEN_CONTINUE"
        );
        for unused in [
            0xC400_018Fu64, // RMM_RMI_REQ_COMPLETE
            0xC400_019A,
            0xC400_01AF,
            0x8400_0190, // SMC32 form
            0xC400_0150, // RMI_VERSION
        ] {
            assert_eq!(RsiCommand::from_fid(unused), None);
        }
    }

    #[test]
    fn status_codes_match_the_spec_table() {
        let expected = [
            (0u64, RsiStatus::Success),
            (1, RsiStatus::ErrorInput),
            (2, RsiStatus::ErrorState),
            (3, RsiStatus::Incomplete),
            (4, RsiStatus::ErrorUnknown),
        ];
        for (raw, status) in expected {
            assert_eq!(status.raw(), raw);
            assert_eq!(RsiStatus::from_u64(raw), Some(status));
        }
        assert_eq!(RsiStatus::from_u64(5), None);
        assert_eq!(RsiStatus::from_u64(u64::MAX), None);
    }

    #[test]
    fn small_types() {
        assert_eq!(RSI_VERSION_1_0.raw(), 0x1_0000);
        assert_eq!(RsiResponse::Accept.raw(), 0);
        assert_eq!(RsiResponse::Reject.raw(), 1);
        assert_eq!(RsiResponse::from_u64(1), Some(RsiResponse::Reject));
        assert_eq!(RsiResponse::from_u64(3), None);
        assert_eq!(RsiHashAlgorithm::from_u8(1), Some(RsiHashAlgorithm::Sha512));
        assert_eq!(RsiHashAlgorithm::from_u8(2), None);
        assert_eq!(RsiRipasChangeFlags::CHANGE_DESTROYED.bits(), 1);
        assert!(!RsiRipasChangeFlags::from_bits(1).reserved_bits_set());
        assert!(RsiRipasChangeFlags::from_bits(2).reserved_bits_set());
    }
}
