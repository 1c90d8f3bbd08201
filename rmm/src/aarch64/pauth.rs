//! Pointer authentication keys: which ones the CPU has, and switching them per REC.

use super::*;
use aarch64_cpu::registers::ID_AA64ISAR1_EL1;
use sysregs::{
    Writeable, APDAKEYHI_EL1, APDAKEYLO_EL1, APDBKEYHI_EL1, APDBKEYLO_EL1, APGAKEYHI_EL1,
    APGAKEYLO_EL1, APIAKEYHI_EL1, APIAKEYLO_EL1, APIBKEYHI_EL1, APIBKEYLO_EL1, ID_AA64ISAR2_EL1,
};

/// Which pointer authentication keys the CPUs have, as [`find_pauth_keys`] recorded it at boot:
/// [`ADDRESS_KEYS`] and [`GENERIC_KEY`].
pub(super) static PAUTH_KEYS: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);

/// In [`PAUTH_KEYS`]: the CPU has the four address keys (APIA, APIB, APDA, APDB).
pub(super) const ADDRESS_KEYS: u8 = 0b01;

/// In [`PAUTH_KEYS`]: the CPU has the generic key (APGA).
pub(super) const GENERIC_KEY: u8 = 0b10;

/// Records which pointer authentication keys this CPU has, from `ID_AA64ISAR1_EL1` (APA \[7:4\],
/// API \[11:8\], GPA \[27:24\], GPI \[31:28\]) and `ID_AA64ISAR2_EL1` (GPA3 \[11:8\], APA3
/// \[15:12\]), so that the world switch does not read them on every run.
pub(super) fn find_pauth_keys() {
    let (isar1, isar2) = (ID_AA64ISAR1_EL1.extract(), ID_AA64ISAR2_EL1.extract());
    let address = isar1.read(ID_AA64ISAR1_EL1::APA) != 0
        || isar1.read(ID_AA64ISAR1_EL1::API) != 0
        || isar2.read(ID_AA64ISAR2_EL1::APA3) != 0;
    let generic = isar1.read(ID_AA64ISAR1_EL1::GPA) != 0
        || isar1.read(ID_AA64ISAR1_EL1::GPI) != 0
        || isar2.read(ID_AA64ISAR2_EL1::GPA3) != 0;
    let keys = if address { ADDRESS_KEYS } else { 0 } | if generic { GENERIC_KEY } else { 0 };
    PAUTH_KEYS.store(keys, core::sync::atomic::Ordering::Relaxed);
}

/// (the four address keys, the generic key) this CPU has.
pub(super) fn pauth_keys_present() -> (bool, bool) {
    let keys = PAUTH_KEYS.load(core::sync::atomic::Ordering::Relaxed);
    (keys & ADDRESS_KEYS != 0, keys & GENERIC_KEY != 0)
}

/// Loads a REC's pointer authentication keys (those the CPU has).
pub(super) fn load_pauth(k: &crate::arch::PauthKeys, (address, generic): (bool, bool)) {
    if address {
        APIAKEYLO_EL1.set(k.ia[0]);
        APIAKEYHI_EL1.set(k.ia[1]);
        APIBKEYLO_EL1.set(k.ib[0]);
        APIBKEYHI_EL1.set(k.ib[1]);
        APDAKEYLO_EL1.set(k.da[0]);
        APDAKEYHI_EL1.set(k.da[1]);
        APDBKEYLO_EL1.set(k.db[0]);
        APDBKEYHI_EL1.set(k.db[1]);
    }
    if generic {
        APGAKEYLO_EL1.set(k.ga[0]);
        APGAKEYHI_EL1.set(k.ga[1]);
    }
}

/// Saves a REC's pointer authentication keys (those the CPU has).
pub(super) fn save_pauth(k: &mut crate::arch::PauthKeys, (address, generic): (bool, bool)) {
    if address {
        k.ia = [APIAKEYLO_EL1.get(), APIAKEYHI_EL1.get()];
        k.ib = [APIBKEYLO_EL1.get(), APIBKEYHI_EL1.get()];
        k.da = [APDAKEYLO_EL1.get(), APDAKEYHI_EL1.get()];
        k.db = [APDBKEYLO_EL1.get(), APDBKEYHI_EL1.get()];
    }
    if generic {
        k.ga = [APGAKEYLO_EL1.get(), APGAKEYHI_EL1.get()];
    }
}
