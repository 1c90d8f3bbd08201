//! FP/SIMD and SVE at the world switch: the lazy swap of the host's and a realm's registers.

use super::*;
use aarch64_cpu::registers::{CPTR_EL2, ESR_EL2, ID_AA64PFR0_EL1};
use sysregs::{Writeable, ZCR_EL2};

extern "C" {
    pub(super) fn rmm_run_realm(gprs: *mut u64) -> u64;
    pub(super) fn rmm_fp_save(fp: *mut crate::arch::FpRegs);
    pub(super) fn rmm_fp_load(fp: *const crate::arch::FpRegs);
    pub(super) fn rmm_sve_save(sve: *mut SveRegs);
    pub(super) fn rmm_sve_load(sve: *const SveRegs);
}

// The assembly above addresses FpRegs by these offsets.
const _: () = assert!(core::mem::offset_of!(crate::arch::FpRegs, fpsr) == 512);

const _: () = assert!(core::mem::offset_of!(crate::arch::FpRegs, fpcr) == 520);

/// The host's SVE state as `rmm_sve_save` lays it out, sized for the largest vector length
/// (2048 bits): Z0..Z31 (256 bytes each), P0..P15 (32 bytes each), FFR (32 bytes).
#[repr(C, align(16))]
pub(super) struct SveRegs([u8; 32 * 256 + 16 * 32 + 32]);

/// `ID_AA64PFR0_EL1`.SVE (bits \[35:32\]) is nonzero when the CPU implements SVE.
pub(super) fn has_sve() -> bool {
    ID_AA64PFR0_EL1.read(ID_AA64PFR0_EL1::SVE) != 0
}

/// Sets `ZCR_EL2`.LEN to all ones, which the CPU clamps to the largest vector length it
/// implements (SVE untrapped at EL2), and returns the `ZCR_EL2` it found: TF-A does not switch
/// `ZCR_EL2` between worlds, so the RMM sees, and must put back, the host's.
pub(super) fn sve_max_vl() -> u64 {
    let zcr = ZCR_EL2.get();
    ZCR_EL2.write(ZCR_EL2::LEN::Max);
    // SAFETY: an isb makes the new vector length visible before SVE registers are touched.
    unsafe { asm!("isb", options(nostack)) };
    zcr
}

/// `ESR_EL2`.EC of an FP/SIMD access trapped by `CPTR_EL2`.TFP.
pub(super) const EC_FP_TRAPPED: u64 = ESR_EL2::EC::Value::TrappedFP as u64;

/// Where the host's FP/SIMD (and SVE) registers wait while a realm's are loaded: on `run`'s
/// stack, so it lives exactly as long as the switch and needs no per-CPU index (8.5 KiB of a
/// 64 KiB stack); uninitialised, so a run that does not switch pays nothing for it.
pub(super) struct HostFpRegs {
    /// Z, P and FFR (on a CPU with SVE).
    sve: core::mem::MaybeUninit<SveRegs>,
    /// V, FPSR and FPCR.
    fp: core::mem::MaybeUninit<crate::arch::FpRegs>,
}

impl HostFpRegs {
    /// Room for the host's registers, filled by [`HostFp::swap_in`].
    pub(super) const fn new() -> Self {
        Self {
            sve: core::mem::MaybeUninit::uninit(),
            fp: core::mem::MaybeUninit::uninit(),
        }
    }
}

/// A switch to the realm's FP/SIMD registers, to be undone at the exit.
pub(super) struct HostFp {
    /// Whether the CPU has SVE: then the host's Z, P and FFR registers were saved too.
    sve: bool,
    /// The host's ZCR_EL2, put back with its SVE registers.
    zcr: u64,
    /// CPTR_EL2 with FP/SIMD (and SVE) untrapped, for moving the registers.
    switch_cptr: u64,
}

impl HostFp {
    /// Saves the host's FP/SIMD and SVE registers and loads the realm's `fp`; leaves CPTR_EL2 as
    /// a realm with its FP/SIMD loaded runs (FP/SIMD untrapped, SVE and SME trapped).
    ///
    /// On a CPU with SVE the registers move with SVE untrapped at the maximum vector length,
    /// where writing a V register zeroes the rest of its Z register on every CPU (with SVE
    /// trapped that is CONSTRAINED UNPREDICTABLE, and QEMU keeps the bits): the host's SVE
    /// registers are saved first and loaded last, and a QEMU run shows it if they are not.
    pub(super) fn swap_in(
        host_cptr: u64,
        fp: &crate::arch::FpRegs,
        saved: &mut HostFpRegs,
    ) -> Self {
        let sve = has_sve();
        let mut host = HostFp {
            sve,
            zcr: 0,
            switch_cptr: host_cptr & !(CPTR_TFP | if sve { CPTR_TZ } else { 0 }),
        };
        CPTR_EL2.set(host.switch_cptr);
        // SAFETY: an isb makes the CPTR_EL2 change visible before FP/SIMD registers are touched.
        unsafe { asm!("isb", options(nostack)) };
        if sve {
            host.zcr = sve_max_vl();
        }
        // SAFETY: the pointers are to a live SveRegs (large enough at any vector length) and
        // live, 16-byte aligned FpRegs; the routines touch only FP/SIMD and SVE registers (the
        // RMM's own code never uses them) and the pointed-to memory.
        unsafe {
            if sve {
                rmm_sve_save(saved.sve.as_mut_ptr());
            }
            rmm_fp_save(saved.fp.as_mut_ptr());
            rmm_fp_load(fp);
        }
        CPTR_EL2.set((host_cptr & !CPTR_TFP) | CPTR_REALM_TRAPS);
        host
    }

    /// Saves the realm's FP/SIMD registers into `fp` and loads the host's back (CPTR_EL2 is the
    /// caller's to restore).
    pub(super) fn swap_out(&self, fp: &mut crate::arch::FpRegs, saved: &HostFpRegs) {
        CPTR_EL2.set(self.switch_cptr);
        // SAFETY: as in `swap_in`, which filled `saved.fp`, and `saved.sve` at this vector
        // length if `sve`.
        unsafe {
            asm!("isb", options(nostack));
            rmm_fp_save(fp);
            rmm_fp_load(saved.fp.as_ptr());
            if self.sve {
                rmm_sve_load(saved.sve.as_ptr());
            }
        }
        if self.sve {
            ZCR_EL2.set(self.zcr);
        }
    }
}
