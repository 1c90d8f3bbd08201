//! The stage-2 TLB maintenance instructions behind [`crate::tlb::Stage2Tlb`], at Realm EL2.
//!
//! TLBI IPAS2E1IS, VMALLE1IS and VMALLS12E1IS act on the VMID in the issuing CPU's VTTBR_EL2
//! (whichever realm, if any, last ran there), so each operation loads the target VMID first and
//! puts the previous value back afterwards: the world switch reads VTTBR_EL2 and VMPIDR_EL2 to
//! tell which REC last ran on this CPU. The RMM runs with HCR_EL2.{E2H, TGE} clear (EL3 starts
//! the Realm world's EL2 registers at zero and the world switch restores that value), so
//! VMALLE1IS names the EL1&0 regime of that VMID; with both set it would name EL2&0.
//!
//! Sequence, as the Arm ARM's "invalidation of TLB entries from stage 2 translations" gives it:
//! DSB ISHST (the RTT writes reach every walker first), TLBI IPAS2E1IS per IPA, DSB ISH, then
//! TLBI VMALLE1IS (combined stage 1+2 entries are not tagged with the IPA), DSB ISH, ISB. After
//! the last DSB the invalidation is complete on every CPU, including the memory accesses that
//! used the old entries, so the caller may wipe and hand back the granule.

use core::arch::asm;

use aarch64_cpu::registers::{Readable, Writeable, VTTBR_EL2};

use super::sysregs::TLBI_IPAS2;

/// Runs `f` with `vmid` as this CPU's current VMID, then restores VTTBR_EL2.
fn with_vmid(vmid: u16, f: impl FnOnce()) {
    let saved = VTTBR_EL2.get();
    VTTBR_EL2.write(VTTBR_EL2::VMID.val(u64::from(vmid)));
    // SAFETY: barriers only: the new VMID is in effect, and this CPU's RTT writes are visible to
    // every walker, before the invalidations that follow.
    unsafe { asm!("isb", "dsb ishst", options(nostack, preserves_flags)) };
    f();
    VTTBR_EL2.set(saved);
    // SAFETY: a barrier so the restored VTTBR_EL2 is in effect.
    unsafe { asm!("isb", options(nostack, preserves_flags)) };
}

impl crate::tlb::Stage2Tlb for super::Cpu {
    fn invalidate_ipas(&self, vmid: u16, first: u64, stride: u64, count: u64) {
        with_vmid(vmid, || {
            let mut ipa = first;
            for _ in 0..count {
                // SAFETY: invalidates cached translations of the realm's VMID only; no memory
                // access, no effect on the RMM's own (EL2) translations.
                unsafe {
                    asm!("tlbi ipas2e1is, {}", in(reg) TLBI_IPAS2::IPA.val(ipa >> 12).value,
                         options(nostack, preserves_flags))
                };
                ipa = ipa.wrapping_add(stride);
            }
            // SAFETY: completes the invalidations above on every CPU, then drops the VMID's
            // stage-1 (combined) entries and completes that too.
            unsafe {
                asm!(
                    "dsb ish",
                    "tlbi vmalle1is",
                    "dsb ish",
                    options(nostack, preserves_flags)
                )
            };
        });
    }

    fn invalidate_vmid(&self, vmid: u16) {
        with_vmid(vmid, || {
            // SAFETY: drops every cached translation of the realm's VMID on every CPU and waits
            // for completion; the RMM's own (EL2) translations are untouched.
            unsafe {
                asm!(
                    "tlbi vmalls12e1is",
                    "dsb ish",
                    options(nostack, preserves_flags)
                )
            };
        });
    }
}
