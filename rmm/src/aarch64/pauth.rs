//! Pointer authentication keys: which ones the CPU has, and switching them per REC.

use super::*;

/// Which pointer authentication keys the CPUs have, as [`find_pauth_keys`] recorded it at boot:
/// bit 0 the four address keys, bit 1 the generic key.
pub(super) static PAUTH_KEYS: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);

/// Records which pointer authentication keys this CPU has, from ID_AA64ISAR1_EL1 (APA \[7:4\],
/// API \[11:8\], GPA \[27:24\], GPI \[31:28\]) and ID_AA64ISAR2_EL1 (GPA3 \[11:8\], APA3 \[15:12\]), so
/// that the world switch does not read them on every run.
pub(super) fn find_pauth_keys() {
    let (isar1, isar2) = (mrs!("id_aa64isar1_el1"), mrs!("S3_0_C0_C6_2"));
    let field = |v: u64, shift: u32| (v >> shift) & 0xF != 0;
    let address = field(isar1, 4) || field(isar1, 8) || field(isar2, 12);
    let generic = field(isar1, 24) || field(isar1, 28) || field(isar2, 8);
    let keys = u8::from(address) | u8::from(generic) << 1;
    PAUTH_KEYS.store(keys, core::sync::atomic::Ordering::Relaxed);
}

/// (the four address keys, the generic key) this CPU has.
pub(super) fn pauth_keys_present() -> (bool, bool) {
    let keys = PAUTH_KEYS.load(core::sync::atomic::Ordering::Relaxed);
    (keys & 1 != 0, keys & 2 != 0)
}

/// Loads a REC's pointer authentication keys (those the CPU has).
pub(super) fn load_pauth(k: &crate::arch::PauthKeys, (address, generic): (bool, bool)) {
    if address {
        msr!("S3_0_C2_C1_0", k.ia[0]); // APIAKeyLo_EL1
        msr!("S3_0_C2_C1_1", k.ia[1]);
        msr!("S3_0_C2_C1_2", k.ib[0]); // APIBKeyLo_EL1
        msr!("S3_0_C2_C1_3", k.ib[1]);
        msr!("S3_0_C2_C2_0", k.da[0]); // APDAKeyLo_EL1
        msr!("S3_0_C2_C2_1", k.da[1]);
        msr!("S3_0_C2_C2_2", k.db[0]); // APDBKeyLo_EL1
        msr!("S3_0_C2_C2_3", k.db[1]);
    }
    if generic {
        msr!("S3_0_C2_C3_0", k.ga[0]); // APGAKeyLo_EL1
        msr!("S3_0_C2_C3_1", k.ga[1]);
    }
}

/// Saves a REC's pointer authentication keys (those the CPU has).
pub(super) fn save_pauth(k: &mut crate::arch::PauthKeys, (address, generic): (bool, bool)) {
    if address {
        k.ia = [mrs!("S3_0_C2_C1_0"), mrs!("S3_0_C2_C1_1")];
        k.ib = [mrs!("S3_0_C2_C1_2"), mrs!("S3_0_C2_C1_3")];
        k.da = [mrs!("S3_0_C2_C2_0"), mrs!("S3_0_C2_C2_1")];
        k.db = [mrs!("S3_0_C2_C2_2"), mrs!("S3_0_C2_C2_3")];
    }
    if generic {
        k.ga = [mrs!("S3_0_C2_C3_0"), mrs!("S3_0_C2_C3_1")];
    }
}
