//! Running a realm on this CPU (`Cpu`, the world switch) and the EL2 controls of the Realm world
//! that stay put between runs; the values come from `trap_policy`.

use super::*;

/// The EL2 controls of this CPU's Realm world that stay put between runs (EL3 keeps them apart
/// from the host's, and starts them zero): the MIDR_EL1 realms read (VPIDR_EL2, the CPU's own),
/// `trap_policy`'s `HCRX_EL2` on a CPU that has it, a zero virtual counter offset (A6.2), its
/// `CNTHCTL_EL2` and `MDCR_EL2` traps; and which pointer authentication keys the world
/// switch must move. Every CPU, at cold and warm boot.
pub fn init_realm_controls() {
    find_pauth_keys();
    msr!("vpidr_el2", mrs!("midr_el1"));
    // ID_AA64MMFR1_EL1.HCX [43:40]: HCRX_EL2 exists.
    if (mrs!("id_aa64mmfr1_el1") >> 40) & 0xF != 0 {
        msr!("S3_4_C1_C2_2", trap_policy::HCRX_REALM); // HCRX_EL2
    }
    msr!("cntvoff_el2", 0);
    msr!("cnthctl_el2", trap_policy::CNTHCTL_REALM);
    msr!("mdcr_el2", mrs!("mdcr_el2") | trap_policy::MDCR_REALM_TRAPS);
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
        let host_hcr = mrs!("hcr_el2");
        let host_cptr = mrs!("cptr_el2");
        msr!("cptr_el2", host_cptr | CPTR_TFP | CPTR_REALM_TRAPS);
        load_el1(&regs.el1);
        let pauth = pauth_keys_present();
        load_pauth(&regs.pauth, pauth);
        load_gic(&regs.gic);
        msr!("S3_4_C12_C1_1", regs.vdisr); // VDISR_EL2
        let hcr = trap_policy::hcr(traps);
        // VTTBR_EL2.VMID and VMPIDR_EL2 still name the REC that last ran on this CPU (the TLB
        // maintenance of `arch::tlbi` puts VTTBR_EL2 back): see the flush below.
        let other_rec = (mrs!("vttbr_el2") ^ s2.vttbr) >> 48 != 0 || mrs!("vmpidr_el2") != vmpidr;
        msr!("vtcr_el2", s2.vtcr);
        msr!("vttbr_el2", s2.vttbr);
        msr!("vmpidr_el2", vmpidr);
        mask_asserted_timers(crate::timers::Asserted::of(&regs.el1));
        msr!("hcr_el2", hcr);
        msr!("elr_el2", regs.pc);
        msr!("spsr_el2", regs.pstate);
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
            let ec = hostcall_abi::rec_run::exit_esr::Esr(mrs!("esr_el2")).ec();
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
            esr: mrs!("esr_el2"),
            far: mrs!("far_el2"),
            hpfar: mrs!("hpfar_el2"),
        };
        regs.pc = mrs!("elr_el2");
        regs.pstate = mrs!("spsr_el2");
        regs.el1 = save_el1();
        save_pauth(&mut regs.pauth, pauth);
        save_gic(&mut regs.gic);
        regs.vdisr = mrs!("S3_4_C12_C1_1");
        if let Some(host) = &host_fp {
            host.swap_out(&mut regs.fp, &saved);
        }
        msr!("cptr_el2", host_cptr);
        load_el1(&host_el1);
        msr!("hcr_el2", host_hcr);
        // SAFETY: a barrier so the host's EL1 state is in effect before the RMM returns.
        unsafe { asm!("isb", options(nostack)) };
        exit
    }

    fn read_id_register(&self, reg: crate::id_regs::IdRegister) -> u64 {
        read_id_register(reg.crm, reg.op2)
    }

    fn interrupt_pending(&self) -> bool {
        // ISR_EL1 at EL2 shows the physical interrupt state: I (bit 7) and F (bit 6).
        mrs!("isr_el1") & (1 << 7 | 1 << 6) != 0
    }
}
