//! A realm's trapped MRS/MSR across REC_ENTER ([`crate::sysreg_trap`]): ID register reads
//! answered from the RMM's view of them (A2.1.2.3), debug and RAS registers read as zero, GIC
//! SGI writes handed to the host, and everything else undefined for the realm.

use std::sync::{Arc, Mutex};

use super::realm_fixture::*;
use crate::arch::RealmCpu;
use crate::arch::{ExitClass, RealmExit, RealmRegs};
use crate::id_regs::{realm_view, IdRegister};
use crate::sim::{SimCpu, IRQ_EXIT};

/// The exit of `mrs x<rt>, S<op0>_<op1>_C<crn>_C<crm>_<op2>` (or `msr` if `!read`): EC 0x18, IL.
fn sys64(op0: u64, op1: u64, crn: u64, crm: u64, op2: u64, rt: u64, read: bool) -> RealmExit {
    let iss = op0 << 20 | op2 << 17 | op1 << 14 | crn << 10 | rt << 5 | crm << 1 | read as u64;
    RealmExit {
        class: ExitClass::Sync,
        esr: 0x18 << 26 | 1 << 25 | iss,
        far: 0,
        hpfar: 0,
    }
}

/// Runs one trapped access and then an interrupt that ends the run; returns the registers the
/// realm had when it ran again, and the PC it made the access at.
fn trapped(r: &Running, exit: RealmExit) -> (RealmRegs, u64) {
    let seen = Arc::new(Mutex::new(None));
    let pc = r.fx.with_rec(r.rec, |rec| rec.regs.pc);
    r.script(move |regs: &mut RealmRegs| {
        regs.gprs[5] = 0x5555;
        exit
    });
    let out = seen.clone();
    r.script(move |regs: &mut RealmRegs| {
        *out.lock().unwrap() = Some(*regs);
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    let regs = seen.lock().unwrap().take().expect("the realm ran on");
    (regs, pc)
}

#[test]
fn an_id_register_read_gets_the_realms_view_and_the_realm_moves_on() {
    let r = Running::new();
    let hw = SimCpu::default().read_id_register(IdRegister::AA64PFR0);
    let (regs, pc) = trapped(&r, sys64(3, 0, 0, 4, 0, 5, true));
    assert_eq!(regs.gprs[5], realm_view(IdRegister::AA64PFR0, hw));
    assert_eq!((regs.gprs[5] >> 32) & 0xF, 0, "no SVE");
    assert_eq!(regs.pc, pc + 4);
}

#[test]
fn every_id_register_reads_through_the_view() {
    let r = Running::new();
    for crm in 1..=7 {
        for op2 in 0..8 {
            let reg = IdRegister { crm, op2 };
            let hw = SimCpu::default().read_id_register(reg);
            let (regs, _) = trapped(&r, sys64(3, 0, 0, crm as u64, op2 as u64, 5, true));
            assert_eq!(regs.gprs[5], realm_view(reg, hw), "CRm {crm} op2 {op2}");
        }
    }
}

#[test]
fn a_read_into_xzr_changes_no_register() {
    let r = Running::new();
    let (regs, pc) = trapped(&r, sys64(3, 0, 0, 4, 0, 31, true));
    assert_eq!(regs.gprs[5], 0x5555);
    assert_eq!(regs.pc, pc + 4);
}

#[test]
fn writes_and_other_trapped_registers_are_undefined_for_the_realm() {
    // An ID register write, PMCR_EL0 (S3_3_C9_C12_0, trapped by MDCR_EL2.TPMCR) and MIDR_EL1
    // (CRm 0, outside the trapped ID space).
    for exit in [
        sys64(3, 0, 0, 4, 0, 5, false),
        sys64(3, 3, 9, 12, 0, 5, true),
        sys64(3, 0, 0, 0, 0, 5, true),
    ] {
        let r = Running::new();
        let vbar = 0x8_0000;
        r.fx.with_rec(r.rec, |rec| rec.regs.el1.vbar = vbar);
        let (regs, pc) = trapped(&r, exit);
        assert_eq!(regs.gprs[5], 0x5555, "no value delivered");
        assert_eq!(regs.pc, vbar + 0x200, "the realm's synchronous vector");
        assert_eq!(regs.el1.elr, pc);
        assert_eq!(regs.el1.esr >> 26, 0, "EC 0: unknown reason");
    }
}

#[test]
fn debug_registers_read_as_zero_and_ignore_writes() {
    // DBGBVR0_EL1 (S2_0_C0_C0_4) read into x5, then a write from x5; OSLAR_EL1 (S2_0_C1_C0_4).
    let r = Running::new();
    let (regs, pc) = trapped(&r, sys64(2, 0, 0, 0, 4, 5, true));
    assert_eq!((regs.gprs[5], regs.pc), (0, pc + 4));
    for write in [
        sys64(2, 0, 0, 0, 4, 5, false),
        sys64(2, 0, 1, 0, 4, 5, false),
    ] {
        let (regs, pc) = trapped(&r, write);
        assert_eq!((regs.gprs[5], regs.pc), (0x5555, pc + 4));
        assert_eq!(regs.el1.esr, 0, "no exception for the realm");
    }
}

#[test]
fn error_record_registers_read_as_zero_and_ignore_writes() {
    // ERRIDR_EL1 (S3_0_C5_C3_0) read, ERRSELR_EL1 (S3_0_C5_C3_1) and ERXMISC3_EL1
    // (S3_0_C5_C5_3) written.
    let r = Running::new();
    let (regs, pc) = trapped(&r, sys64(3, 0, 5, 3, 0, 5, true));
    assert_eq!((regs.gprs[5], regs.pc), (0, pc + 4));
    for write in [
        sys64(3, 0, 5, 3, 1, 5, false),
        sys64(3, 0, 5, 5, 3, 5, false),
    ] {
        let (regs, pc) = trapped(&r, write);
        assert_eq!((regs.gprs[5], regs.pc, regs.el1.esr), (0x5555, pc + 4, 0));
    }
}

#[test]
fn a_realms_sgi_goes_to_the_host_with_the_value_written() {
    use hostcall_abi::rec_run::RmiExitReason;
    // msr ICC_SGI1R_EL1, x7 (S3_0_C12_C11_5, a write).
    let r = Running::new();
    let pc = r.fx.with_rec(r.rec, |rec| rec.regs.pc);
    let exit = sys64(3, 0, 12, 11, 5, 7, false);
    r.script(move |regs: &mut RealmRegs| {
        regs.gprs[7] = 0x0001_0000_0000_0002; // INTID 1 to the target list
        regs.gprs[8] = 0x5EC2E7;
        exit
    });
    assert_eq!(r.enter()[0], SUCCESS);
    let e = r.exit();
    assert_eq!(e.exit_reason, RmiExitReason::Sync as u8);
    assert_eq!(e.esr, exit.esr);
    assert_eq!(e.gprs[0], 0x0001_0000_0000_0002);
    assert!(
        e.gprs[1..].iter().all(|&g| g == 0),
        "nothing else of the realm's"
    );
    assert_eq!((e.far, e.hpfar), (0, 0));
    assert_eq!(r.fx.with_rec(r.rec, |rec| rec.regs.pc), pc + 4);
    // Reading it is undefined (it is write-only); so is a write to another GIC register.
    for exit in [
        sys64(3, 0, 12, 11, 5, 7, true),
        sys64(3, 0, 12, 12, 5, 7, false),
    ] {
        let r = Running::new();
        let (regs, _) = trapped(&r, exit);
        assert_eq!(regs.el1.esr >> 26, 0, "undefined for the realm");
    }
}

#[test]
fn data_cache_set_way_operations_complete_with_no_effect() {
    // DC ISW, DC CSW, DC CISW (op0 1, op1 0, CRn 7, CRm 6/10/14, op2 2) and their MTE tag
    // variants (op2 4 and 6): trapped by HCR_EL2.TSW, and nothing else for the realm (A5.2.10).
    for crm in [6, 10, 14] {
        for op2 in [2, 4, 6] {
            let r = Running::new();
            let (regs, pc) = trapped(&r, sys64(1, 0, 7, crm, op2, 5, false));
            assert_eq!(regs.pc, pc + 4, "CRm {crm} op2 {op2}: past the instruction");
            assert_eq!(regs.gprs[5], 0x5555);
            assert_eq!(regs.el1.esr, 0, "no exception taken");
        }
    }
}
