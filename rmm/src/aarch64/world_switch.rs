//! Running a realm on this CPU (`Cpu`, the world switch) and the EL2 controls of the Realm world
//! that stay put between runs; the values come from `trap_policy`.

use super::*;
use aarch64_cpu::registers::{
    Writeable, CNTHCTL_EL2, CNTVOFF_EL2, CPTR_EL2, ELR_EL2, ESR_EL2, FAR_EL2, HCR_EL2, HPFAR_EL2,
    MDCR_EL2, MIDR_EL1, SPSR_EL2, VMPIDR_EL2, VTCR_EL2, VTTBR_EL2,
};
use sysregs::{HCRX_EL2, ID_AA64MMFR1_EL1_HCX, ISR_EL1, VDISR_EL2, VPIDR_EL2};

/// The EL2 controls of this CPU's Realm world that stay put between runs (EL3 keeps them apart
/// from the host's, and starts them zero): the MIDR_EL1 realms read (VPIDR_EL2, the CPU's own),
/// `trap_policy`'s `HCRX_EL2` on a CPU that has it, a zero virtual counter offset (A6.2), its
/// `CNTHCTL_EL2` and `MDCR_EL2` traps; and which pointer authentication keys the world
/// switch must move. Every CPU, at cold and warm boot.
pub fn init_realm_controls() {
    find_pauth_keys();
    VPIDR_EL2.set(MIDR_EL1.get());
    // `ID_AA64MMFR1_EL1`.HCX \[43:40\]: `HCRX_EL2` exists.
    if ID_AA64MMFR1_EL1_HCX::HCX.read(ID_AA64MMFR1_EL1.get()) != 0 {
        HCRX_EL2.set(trap_policy::HCRX_REALM);
    }
    CNTVOFF_EL2.set(0);
    CNTHCTL_EL2.set(trap_policy::CNTHCTL_REALM);
    MDCR_EL2.set(MDCR_EL2.get() | trap_policy::MDCR_REALM_TRAPS);
    // SAFETY: an isb so the controls are in effect before any realm runs.
    unsafe { asm!("isb", options(nostack)) };
}

/// Runs realms on this CPU (the world switch).
///
/// FP/SIMD is switched lazily: a realm starts each run with FP/SIMD trapped to EL2 and the
/// host's registers still in place, out of its reach. Its first FP/SIMD access in the run traps
/// here; the host's registers (SVE too) are saved, the realm's loaded, and the access retried,
/// without an exit. At the exit the realm's go back to the REC and the host's are loaded. A run
/// in which the realm does not touch FP/SIMD (most host calls, MMIO and timer exits) moves none.
pub struct Cpu;

impl crate::arch::RealmCpu for Cpu {
    fn run(
        &self,
        regs: &mut crate::arch::RealmRegs,
        s2: &crate::arch::Stage2,
        traps: crate::arch::EntryTraps,
        vmpidr: u64,
    ) -> crate::arch::RealmExit {
        use crate::arch::{ExitClass, RealmExit};
        let host_el1 = save_el1();
        let host_hcr = HCR_EL2.get();
        let host_cptr = CPTR_EL2.get();
        CPTR_EL2.set(host_cptr | CPTR_TFP | CPTR_REALM_TRAPS);
        load_el1(&regs.el1);
        let pauth = pauth_keys_present();
        load_pauth(&regs.pauth, pauth);
        load_gic(&regs.gic);
        VDISR_EL2.set(regs.vdisr);
        let hcr = trap_policy::hcr(traps);
        // VTTBR_EL2.VMID and VMPIDR_EL2 still name the REC that last ran on this CPU (the TLB
        // maintenance of `arch::tlbi` puts VTTBR_EL2 back): see the flush below.
        let other_rec =
            VTTBR_EL2::VMID.read(VTTBR_EL2.get() ^ s2.vttbr) != 0 || VMPIDR_EL2.get() != vmpidr;
        VTCR_EL2.set(s2.vtcr);
        VTTBR_EL2.set(s2.vttbr);
        VMPIDR_EL2.set(vmpidr);
        mask_asserted_timers(crate::timers::Asserted::of(&regs.el1));
        HCR_EL2.set(hcr);
        ELR_EL2.set(regs.pc);
        SPSR_EL2.set(regs.pstate);
        // The RTT changes the RMI handlers made are already invalidated on every CPU
        // (`crate::tlb`); what is left is this CPU's own copy of the realm's translations when
        // another REC of it ran here last: a realm may use one ASID for different stage-1 tables
        // on different vCPUs and invalidate only locally (as KVM flushes when another vCPU of
        // the VM last ran on the CPU). Only then is the VMID's local TLB dropped.
        if other_rec {
            // SAFETY: barriers and a local invalidation of the realm's own VMID (VTTBR_EL2 was
            // written above; the first ISB puts it in effect for the TLBI).
            unsafe {
                asm!(
                    "isb",
                    "dsb ishst",
                    "tlbi vmalls12e1",
                    "dsb nsh",
                    "isb",
                    options(nostack)
                );
            }
        } else {
            // SAFETY: barriers only: this CPU's RTT writes are visible to its walker, and the
            // EL2 controls above are in effect, before the realm runs.
            unsafe { asm!("dsb ishst", "isb", options(nostack)) };
        }
        let mut saved = HostFpRegs::new();
        let mut host_fp: Option<HostFp> = None;
        let class = loop {
            // SAFETY: `rmm_run_realm` saves and restores every register the RMM relies on and
            // writes only `regs.gprs` (31 u64s, which it points to). On a retry ELR_EL2 and
            // SPSR_EL2 still hold the trapped access and the realm's PSTATE: nothing between
            // takes an exception at EL2.
            let class = unsafe { rmm_run_realm(regs.gprs.as_mut_ptr()) };
            // At most one retry: once loaded, FP/SIMD is no longer trapped.
            let ec = hostcall_abi::rec_run::exit_esr::Esr(ESR_EL2.get()).ec();
            if class == 0 && host_fp.is_none() && ec == EC_FP_TRAPPED {
                host_fp = Some(HostFp::swap_in(host_cptr, &regs.fp, &mut saved));
                continue;
            }
            break class;
        };
        let exit = RealmExit {
            class: match class {
                0 => ExitClass::Sync,
                1 => ExitClass::Irq,
                2 => ExitClass::Fiq,
                _ => ExitClass::SError,
            },
            esr: ESR_EL2.get(),
            far: FAR_EL2.get(),
            hpfar: HPFAR_EL2.get(),
        };
        regs.pc = ELR_EL2.get();
        regs.pstate = SPSR_EL2.get();
        regs.el1 = save_el1();
        save_pauth(&mut regs.pauth, pauth);
        save_gic(&mut regs.gic);
        regs.vdisr = VDISR_EL2.get();
        if let Some(host) = &host_fp {
            host.swap_out(&mut regs.fp, &saved);
        }
        CPTR_EL2.set(host_cptr);
        load_el1(&host_el1);
        HCR_EL2.set(host_hcr);
        // SAFETY: a barrier so the host's EL1 state is in effect before the RMM returns.
        unsafe { asm!("isb", options(nostack)) };
        exit
    }

    fn read_id_register(&self, reg: crate::id_regs::IdRegister) -> u64 {
        read_id_register(reg.crm, reg.op2)
    }

    fn realm_destroyed(&self) {
        report_stack_depth();
    }

    fn interrupt_pending(&self) -> bool {
        // `ISR_EL1` at EL2 shows the physical interrupt state.
        let isr = ISR_EL1.extract();
        isr.is_set(ISR_EL1::I) || isr.is_set(ISR_EL1::F)
    }
}
