//! PSCI as the RMM provides it to realms (DEN0137 B6): function IDs, return codes and the version.
//! Function numbers are those of the Arm PSCI specification (DEN0022).

use crate::smccc::{canonical_fid, smc32_std, smc64_std};
use crate::AbiVersion;

/// The PSCI version the RMM reports to realms (B6.2 asks for at least 1.1).
pub const PSCI_VERSION_1_1: AbiVersion = AbiVersion::new(1, 1);

/// First PSCI function number.
pub const FNUM_FIRST: u32 = 0x00;
/// Last PSCI function number.
pub const FNUM_LAST: u32 = 0x1F;
/// First function ID of the SMC32 PSCI range.
pub const SMC32_FIRST: u32 = smc32_std(FNUM_FIRST);
/// Last function ID of the SMC32 PSCI range.
pub const SMC32_LAST: u32 = smc32_std(FNUM_LAST);
/// First function ID of the SMC64 PSCI range.
pub const SMC64_FIRST: u32 = smc64_std(FNUM_FIRST);
/// Last function ID of the SMC64 PSCI range.
pub const SMC64_LAST: u32 = smc64_std(FNUM_LAST);

/// True if x0 (SVE hint and bits 63:32 ignored) lies in the SMC32 or SMC64 PSCI range, whether or
/// not it names a function the RMM implements.
pub const fn is_psci_fid(x0: u64) -> bool {
    let fid = canonical_fid(x0);
    (fid >= SMC32_FIRST && fid <= SMC32_LAST) || (fid >= SMC64_FIRST && fid <= SMC64_LAST)
}

macro_rules! psci_functions {
    ($($(#[$doc:meta])* $name:ident = $fnum:expr, smc64: $has64:expr;)*) => {
        /// A PSCI function the RMM implements for realms (B6.3), by function number. Variants
        /// carry the specification's names without the `PSCI_` prefix.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        #[repr(u32)]
        pub enum PsciFunction {
            $($(#[$doc])* $name = $fnum,)*
        }

        impl PsciFunction {
            /// Every function B6.3 lists, in function-number order.
            pub const ALL: [PsciFunction; [$($fnum),*].len()] = [$(PsciFunction::$name),*];

            /// The function's name as the specification spells it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(PsciFunction::$name => concat!("PSCI_", stringify!($name)),)*
                }
            }

            /// True if PSCI defines an SMC64 form (the function takes an address or an MPIDR).
            pub const fn has_smc64_form(self) -> bool {
                match self {
                    $(PsciFunction::$name => $has64,)*
                }
            }
        }
    };
}

psci_functions! {
    /// PSCI_VERSION() -> version.
    VERSION = 0x0, smc64: false;
    /// PSCI_CPU_SUSPEND(power_state, entry_point_address, context_id).
    CPU_SUSPEND = 0x1, smc64: true;
    /// PSCI_CPU_OFF().
    CPU_OFF = 0x2, smc64: false;
    /// PSCI_CPU_ON(target_cpu, entry_point_address, context_id).
    CPU_ON = 0x3, smc64: true;
    /// PSCI_AFFINITY_INFO(target_affinity, lowest_affinity_level) -> ON/OFF.
    AFFINITY_INFO = 0x4, smc64: true;
    /// PSCI_SYSTEM_OFF().
    SYSTEM_OFF = 0x8, smc64: false;
    /// PSCI_SYSTEM_RESET().
    SYSTEM_RESET = 0x9, smc64: false;
    /// PSCI_FEATURES(psci_func_id).
    FEATURES = 0xA, smc64: false;
}

impl PsciFunction {
    /// The SMC32 function ID (every PSCI function has one).
    pub const fn fid32(self) -> u32 {
        smc32_std(self as u32)
    }

    /// The SMC64 function ID, for the functions PSCI defines one for.
    pub const fn fid64(self) -> Option<u32> {
        if self.has_smc64_form() {
            Some(smc64_std(self as u32))
        } else {
            None
        }
    }

    /// The function ID the RMM specification lists (B6.3): the SMC64 form where there is one,
    /// else the SMC32 form.
    pub const fn spec_fid(self) -> u32 {
        match self.fid64() {
            Some(fid) => fid,
            None => self.fid32(),
        }
    }

    /// Looks up the function for a raw x0 (SVE hint and bits 63:32 ignored). Accepts the SMC32
    /// form of every function and the SMC64 form of those that have one; whether to serve an
    /// SMC32 form that B6.3 does not list is the caller's decision (compare with
    /// [`Self::spec_fid`]).
    pub const fn from_fid(x0: u64) -> Option<Self> {
        let fid = canonical_fid(x0);
        let mut i = 0;
        while i < Self::ALL.len() {
            let f = Self::ALL[i];
            if fid == f.fid32() {
                return Some(f);
            }
            if let Some(fid64) = f.fid64() {
                if fid == fid64 {
                    return Some(f);
                }
            }
            i += 1;
        }
        None
    }
}

/// PSCI return code (`PsciReturnCode`, B6.4.2), a signed value carried in a 64-bit register.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(i64)]
pub enum PsciReturn {
    /// Success; also `AFFINITY_INFO` "ON".
    Success = 0,
    /// `AFFINITY_INFO` "OFF".
    Off = 1,
    /// The function is not supported.
    NotSupported = -1,
    /// A parameter is invalid.
    InvalidParameters = -2,
    /// The operation was denied.
    Denied = -3,
    /// The target is already on.
    AlreadyOn = -4,
    /// The target is being turned on.
    OnPending = -5,
    /// Internal failure.
    InternalFailure = -6,
    /// The target is not present.
    NotPresent = -7,
    /// The target is disabled.
    Disabled = -8,
    /// An address is invalid.
    InvalidAddress = -9,
}

/// `AFFINITY_INFO` result: the target is on.
pub const AFFINITY_INFO_ON: PsciReturn = PsciReturn::Success;
/// `AFFINITY_INFO` result: the target is off.
pub const AFFINITY_INFO_OFF: PsciReturn = PsciReturn::Off;

impl PsciReturn {
    /// The signed value.
    pub const fn value(self) -> i64 {
        self as i64
    }

    /// The register value (two's complement).
    pub const fn raw(self) -> u64 {
        self as i64 as u64
    }

    /// Decodes a 64-bit register value; `None` for values B6.4.2 does not define (including a
    /// negative code that was only sign-extended to 32 bits).
    pub const fn from_raw(raw: u64) -> Option<Self> {
        Some(match raw as i64 {
            0 => Self::Success,
            1 => Self::Off,
            -1 => Self::NotSupported,
            -2 => Self::InvalidParameters,
            -3 => Self::Denied,
            -4 => Self::AlreadyOn,
            -5 => Self::OnPending,
            -6 => Self::InternalFailure,
            -7 => Self::NotPresent,
            -8 => Self::Disabled,
            -9 => Self::InvalidAddress,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_ids_match_b6_3() {
        // (function, SMC32 FID, SMC64 FID, FID listed in B6.3)
        let expected: [(PsciFunction, u32, Option<u32>, u32); 8] = [
            (PsciFunction::VERSION, 0x8400_0000, None, 0x8400_0000),
            (
                PsciFunction::CPU_SUSPEND,
                0x8400_0001,
                Some(0xC400_0001),
                0xC400_0001,
            ),
            (PsciFunction::CPU_OFF, 0x8400_0002, None, 0x8400_0002),
            (
                PsciFunction::CPU_ON,
                0x8400_0003,
                Some(0xC400_0003),
                0xC400_0003,
            ),
            (
                PsciFunction::AFFINITY_INFO,
                0x8400_0004,
                Some(0xC400_0004),
                0xC400_0004,
            ),
            (PsciFunction::SYSTEM_OFF, 0x8400_0008, None, 0x8400_0008),
            (PsciFunction::SYSTEM_RESET, 0x8400_0009, None, 0x8400_0009),
            (PsciFunction::FEATURES, 0x8400_000A, None, 0x8400_000A),
        ];
        assert_eq!(PsciFunction::ALL.len(), expected.len());
        for (f, fid32, fid64, spec) in expected {
            assert_eq!(f.fid32(), fid32, "{}", f.name());
            assert_eq!(f.fid64(), fid64, "{}", f.name());
            assert_eq!(f.spec_fid(), spec, "{}", f.name());
            assert_eq!(PsciFunction::from_fid(fid32 as u64), Some(f));
            assert_eq!(
                PsciFunction::from_fid(spec as u64 | crate::smccc::SVE_HINT),
                Some(f)
            );
            if let Some(fid64) = fid64 {
                assert_eq!(PsciFunction::from_fid(fid64 as u64), Some(f));
            }
        }
        assert_eq!(PsciFunction::CPU_ON.name(), "PSCI_CPU_ON");
        assert_eq!(PsciFunction::FEATURES.name(), "PSCI_FEATURES");
    }

    #[test]
    fn undefined_forms_and_functions_are_not_recognised() {
        for fid in [
            0xC400_0000u64, // no SMC64 PSCI_VERSION
            0xC400_0002,    // no SMC64 CPU_OFF
            0xC400_0008,    // no SMC64 SYSTEM_OFF
            0x8400_0005,    // MIGRATE: in range, not implemented
            0x8400_000E,    // SYSTEM_SUSPEND
            0x8400_0020,    // outside the range
            0xC400_0190,    // RSI_VERSION
        ] {
            assert_eq!(PsciFunction::from_fid(fid), None, "{fid:#x}");
        }
    }

    #[test]
    fn range_check() {
        assert!(is_psci_fid(0x8400_0000));
        assert!(is_psci_fid(0x8400_001F));
        assert!(is_psci_fid(0xC400_0005));
        assert!(is_psci_fid(0xC400_001F | crate::smccc::SVE_HINT));
        assert!(!is_psci_fid(0x8400_0020));
        assert!(!is_psci_fid(0xC400_0020));
        assert!(!is_psci_fid(0x8000_0000));
        assert!(!is_psci_fid(0xC400_0150));
        assert_eq!((SMC32_FIRST, SMC32_LAST), (0x8400_0000, 0x8400_001F));
        assert_eq!((SMC64_FIRST, SMC64_LAST), (0xC400_0000, 0xC400_001F));
    }

    #[test]
    fn return_codes_match_b6_4_2() {
        let expected = [
            (0i64, PsciReturn::Success),
            (1, PsciReturn::Off),
            (-1, PsciReturn::NotSupported),
            (-2, PsciReturn::InvalidParameters),
            (-3, PsciReturn::Denied),
            (-4, PsciReturn::AlreadyOn),
            (-5, PsciReturn::OnPending),
            (-6, PsciReturn::InternalFailure),
            (-7, PsciReturn::NotPresent),
            (-8, PsciReturn::Disabled),
            (-9, PsciReturn::InvalidAddress),
        ];
        for (value, code) in expected {
            assert_eq!(code.value(), value);
            assert_eq!(code.raw(), value as u64);
            assert_eq!(PsciReturn::from_raw(value as u64), Some(code));
        }
        assert_eq!(PsciReturn::Denied.raw(), 0xFFFF_FFFF_FFFF_FFFD);
        assert_eq!(PsciReturn::from_raw(2), None);
        assert_eq!(PsciReturn::from_raw(-10i64 as u64), None);
        // A 32-bit -3 that was not sign-extended is not a 64-bit PSCI code.
        assert_eq!(PsciReturn::from_raw(0xFFFF_FFFD), None);
        assert_eq!(AFFINITY_INFO_ON.raw(), 0);
        assert_eq!(AFFINITY_INFO_OFF.raw(), 1);
        assert_eq!(PSCI_VERSION_1_1.raw(), 0x1_0001);
    }
}
