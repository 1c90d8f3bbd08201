//! SMC Calling Convention: function ID encoding and the codes every SMCCC service shares.

/// Bit 31: fast call.
pub const FAST_CALL: u32 = 1 << 31;
/// Bit 30: SMC64 calling convention.
pub const SMC64: u32 = 1 << 30;
/// Owning entity "Standard Secure Service" (4) in bits \[29:24\].
pub const OWNER_STANDARD: u32 = 4 << 24;
/// Owning entity "Arm Architecture Service" (0).
pub const OWNER_ARCH: u32 = 0;
/// SMCCC 1.3 bit 16: "no live SVE state" hint a caller may set; strip it before dispatch.
pub const SVE_HINT: u64 = 1 << 16;
/// Mask of the function number field.
pub const FNUM_MASK: u32 = 0xFFFF;

/// x0 for a function ID the callee does not implement.
pub const SMC_UNKNOWN: u64 = u64::MAX;

/// SMCCC_VERSION (Arm Architecture Service, SMC32).
pub const SMCCC_VERSION: u32 = FAST_CALL | OWNER_ARCH;
/// The SMCCC version the RMM reports to realms: 1.2.
pub const SMCCC_VERSION_1_2: u64 = 0x1_0002;

/// SMC64 fast call of the Standard Secure Service with function number `fnum`.
pub const fn smc64_std(fnum: u32) -> u32 {
    FAST_CALL | SMC64 | OWNER_STANDARD | (fnum & FNUM_MASK)
}

/// SMC32 fast call of the Standard Secure Service with function number `fnum`.
pub const fn smc32_std(fnum: u32) -> u32 {
    FAST_CALL | OWNER_STANDARD | (fnum & FNUM_MASK)
}

/// The function ID a caller put in x0, with the SVE hint and bits 63:32 (which SMCCC ignores)
/// removed.
pub const fn canonical_fid(x0: u64) -> u32 {
    (x0 & !SVE_HINT) as u32
}

/// The function number field of a function ID.
pub const fn fnum(fid: u32) -> u32 {
    fid & FNUM_MASK
}

/// True if `fid` uses the SMC64 convention.
pub const fn is_smc64(fid: u32) -> bool {
    fid & SMC64 != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_standard_service_ids() {
        assert_eq!(smc64_std(0x150), 0xC400_0150);
        assert_eq!(smc32_std(0x0), 0x8400_0000);
        assert_eq!(SMCCC_VERSION, 0x8000_0000);
    }

    #[test]
    fn strips_sve_hint_and_upper_bits() {
        assert_eq!(canonical_fid(0xC401_0150), 0xC400_0150);
        assert_eq!(canonical_fid(0xFFFF_FFFF_C400_0150), 0xC400_0150);
        assert!(is_smc64(0xC400_0150));
        assert!(!is_smc64(0x8400_0000));
        assert_eq!(fnum(0xC400_0169), 0x169);
    }
}
