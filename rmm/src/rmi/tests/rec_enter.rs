//! RMI_REC_ENTER with realms simulated by scripted steps (`SimCpu`): the entry checks (B4.3.14),
//! RSI_HOST_CALL end to end, RSI/PSCI/SMCCC answers, exits and what each exit shows the host.

use hostcall_abi::host_call::RsiHostCall;
use hostcall_abi::rec_run::{RmiExitReason, RmiRecEnter, RmiRecEnterFlags, RmiRecExit};
use hostcall_abi::rsi::RsiCommand;
use hostcall_abi::wire::Wire;
use hostcall_abi::GRANULE_SIZE;

use super::realm_fixture::*;
use crate::arch::{ExitClass, RealmExit};
use crate::sim::{IRQ_EXIT, SMC_EXIT};

fn smc(regs: &mut crate::arch::RealmRegs, x: &[u64]) -> RealmExit {
    regs.gprs[..x.len()].copy_from_slice(x);
    SMC_EXIT
}

const HOST_CALL: u64 = 0xC400_0199;

#[test]
fn rec_enter_fails_realm_new() {
    let fx = Fixture::new();
    let rec = fx.rec_create(fx.rd);
    let run = fx.ns_page(&[0; GRANULE_SIZE]);
    assert_eq!(fx.call(C::REC_ENTER, &[rec, run]), [REALM, 0, 0, 0, 0]);
}

#[test]
fn rec_enter_fails_rec_and_run_checks() {
    let r = Running::new();
    let fx = &r.fx;
    assert_eq!(
        fx.call(C::REC_ENTER, &[r.rec + 8, r.run])[0],
        INPUT,
        "rec_align"
    );
    assert_eq!(
        fx.call(C::REC_ENTER, &[0x20_0000_0000, r.run])[0],
        INPUT,
        "rec_bound"
    );
    assert_eq!(
        fx.call(C::REC_ENTER, &[fx.rd, r.run])[0],
        INPUT,
        "rec_gran_state"
    );
    assert_eq!(
        fx.call(C::REC_ENTER, &[r.rec, r.run + 8])[0],
        INPUT,
        "run_align"
    );
    assert_eq!(
        fx.call(C::REC_ENTER, &[r.rec, 0x20_0000_0000])[0],
        INPUT,
        "run_bound"
    );
    assert_eq!(
        fx.call(C::REC_ENTER, &[r.rec, r.hc_data])[0],
        INPUT,
        "run_pas: a DATA granule"
    );
    assert_eq!(
        fx.call(C::REC_ENTER, &[r.rec, crate::sim::QEMU_RMM_REGION.0])[0],
        INPUT,
        "run_pas: RMM"
    );
    assert!(fx.sim.cpu.entries().is_empty(), "nothing ran");
}

#[test]
fn rec_enter_fails_rec_state_running() {
    let r = Running::new();
    r.fx.with_rec(r.rec, |rec| rec.running = true);
    assert_eq!(r.enter(), [REC, 0, 0, 0, 0]);
}

#[test]
fn rec_enter_fails_rec_runnable() {
    let r = Running::new();
    r.fx.with_rec(r.rec, |rec| rec.runnable = false);
    assert_eq!(r.enter(), [REC, 0, 0, 0, 0]);
}

#[test]
fn rec_enter_fails_rec_mmio_without_an_emulatable_exit() {
    let r = Running::new();
    r.set_enter(&RmiRecEnter {
        flags: RmiRecEnterFlags::EMULATED_MMIO,
        ..RmiRecEnter::ZERO
    });
    assert_eq!(r.enter(), [REC, 0, 0, 0, 0]);
}

#[test]
fn rec_enter_fails_rec_gicv3() {
    let r = Running::new();
    let mut e = RmiRecEnter::ZERO;
    e.gicv3_hcr = 1 << 31; // not a bit the host may set
    r.set_enter(&e);
    assert_eq!(r.enter(), [REC, 0, 0, 0, 0]);
    let mut e = RmiRecEnter::ZERO;
    e.gicv3_lrs[2] = hostcall_abi::rec_run::ICH_LR_HW;
    r.set_enter(&e);
    assert_eq!(r.enter(), [REC, 0, 0, 0, 0]);
}

#[test]
fn rec_enter_fails_rec_gicv3_for_list_registers_gicv3_does_not_allow() {
    const PENDING: u64 = 0b01 << 62;
    const ACTIVE: u64 = 0b10 << 62;
    const PRIORITY_A0: u64 = 0xA0 << 48;
    let r = Running::new();
    let entry = |lrs: &[(usize, u64)]| {
        let mut e = RmiRecEnter::ZERO;
        for &(n, lr) in lrs {
            e.gicv3_lrs[n] = lr;
        }
        r.set_enter(&e);
        r.enter()[0]
    };
    for (lrs, what) in [
        (
            &[(0, PENDING | 32), (3, ACTIVE | 32)][..],
            "the same vINTID twice",
        ),
        (&[(1, PENDING | 1020)], "special INTID 1020"),
        (&[(1, PENDING | 1023)], "special INTID 1023"),
        (&[(1, PENDING | 1024)], "a reserved INTID"),
        (&[(1, PENDING | 8191)], "a reserved INTID below the LPIs"),
        (&[(1, PENDING | 0x1_0000)], "an LPI beyond 16 INTID bits"),
        (
            &[(1, PENDING | 0x04 << 48 | 32)],
            "an unimplemented priority bit",
        ),
        (&[(1, PENDING | 1 << 32 | 32)], "a pINTID without HW"),
        (&[(1, PENDING | 1 << 56 | 32)], "a RES0 bit"),
    ] {
        assert_eq!(entry(lrs), REC, "{what}");
    }
    assert_eq!(r.fx.sim.cpu.entries().len(), 0, "never entered");
    // What a host may give: distinct INTIDs, an empty list register repeating one, EOI, an LPI,
    // implemented priorities, and whatever fills the list registers the CPU does not have.
    for lrs in [
        &[(0, PENDING | PRIORITY_A0 | 32), (1, ACTIVE | 33), (2, 32)][..],
        &[
            (0, PENDING | 1 << 41 | 27),
            (1, PENDING | 0xF8 << 48 | 8192),
        ],
        &[
            (0, PENDING | 0xFFFF),
            (3, ACTIVE | 1 << 60 | 1019),
            (4, PENDING | 1020),
        ],
        &[(5, ACTIVE | 32), (6, ACTIVE | 32)],
    ] {
        assert_eq!(entry(lrs), SUCCESS, "{lrs:x?}");
    }
}

#[test]
fn input_checks_come_before_rec_checks() {
    let r = Running::new();
    r.fx.with_rec(r.rec, |rec| rec.runnable = false);
    assert_eq!(r.enter_with_bad_run(), INPUT);
}

impl Running {
    fn enter_with_bad_run(&self) -> u64 {
        self.fx.call(C::REC_ENTER, &[self.rec, self.run + 0x10])[0]
    }
}

#[test]
fn host_call_round_trip_exposes_only_the_structure() {
    let r = Running::new();
    let mut hc = RsiHostCall::ZERO;
    hc.imm = 0x5A17;
    for (i, g) in hc.gprs.iter_mut().enumerate() {
        *g = 0x1111_0000 + i as u64;
    }
    r.write_host_call(&hc);
    r.script(|regs| {
        // Live registers the realm does not put in the structure: they must not leak.
        for (i, g) in regs.gprs.iter_mut().enumerate() {
            *g = 0xDEAD_0000 + i as u64;
        }
        smc(regs, &[HOST_CALL, HC_IPA])
    });
    assert_eq!(r.enter(), [SUCCESS, 0, 0, 0, 0]);
    let exit = r.exit();
    assert_eq!(exit.exit_reason(), Some(RmiExitReason::HostCall));
    assert_eq!(exit.gprs, hc.gprs);
    assert_eq!(exit.imm, 0x5A17);
    let expected = RmiRecExit {
        exit_reason: 5,
        gprs: hc.gprs,
        imm: 0x5A17,
        ..RmiRecExit::ZERO
    };
    assert_eq!(exit, expected, "nothing but reason, gprs and imm");

    // The host answers; the realm sees RSI_SUCCESS after the SMC and the answers in memory.
    let mut e = RmiRecEnter::ZERO;
    for (i, g) in e.gprs.iter_mut().enumerate() {
        *g = !(0x1111_0000 + i as u64);
    }
    r.set_enter(&e);
    r.script(|regs| {
        assert_eq!(regs.gprs[0], 0, "RSI_SUCCESS");
        assert_eq!(regs.pc, 4, "past the SMC at IPA 0");
        smc(regs, &[0x8400_0008]) // SYSTEM_OFF
    });
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.fx.sim.cpu.pending(), 0);
    assert_eq!(r.read_host_call().gprs, e.gprs);
    assert_eq!(r.read_host_call().imm, 0x5A17, "imm is not written back");
    assert_eq!(r.exit().exit_reason(), Some(RmiExitReason::Psci));
    assert_eq!(r.exit().gprs[0], 0x8400_0008);
    // The realm is off: no REC runs again.
    assert_eq!(r.enter(), [REALM | 1 << 8, 0, 0, 0, 0]);
}

#[test]
fn host_call_misaligned_or_unprotected_is_refused_without_an_exit() {
    let r = Running::new();
    r.script(|regs| smc(regs, &[HOST_CALL, HC_IPA + 8]));
    r.script(|regs| {
        assert_eq!(regs.gprs[..4], [1, 0, 0, 0], "RSI_ERROR_INPUT");
        smc(regs, &[HOST_CALL, UNPROTECTED])
    });
    r.script(|regs| {
        assert_eq!(regs.gprs[0], 1, "RSI_ERROR_INPUT for an unprotected IPA");
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.fx.sim.cpu.pending(), 0);
    assert_eq!(r.exit(), RmiRecExit::with_reason(RmiExitReason::Irq));
}

#[test]
fn host_call_on_an_unassigned_page_emulates_a_data_abort_and_retries() {
    // RIPAS RAM but nothing assigned: under the level-3 table.
    let ipa = 0x5000;
    let r = Running::prepared(|fx| {
        fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, 0x5000, 0x6000]);
    });
    r.script(move |regs| smc(regs, &[HOST_CALL, ipa]));
    assert_eq!(r.enter()[0], SUCCESS);
    let exit = r.exit();
    assert_eq!(exit.exit_reason(), Some(RmiExitReason::Sync));
    assert_eq!(
        exit.esr,
        0x24 << 26 | 0x07,
        "data abort, translation fault level 3"
    );
    assert_eq!(exit.hpfar, (ipa >> 12) << 4);
    assert_eq!(exit.far, 0);
    // PC not advanced: the realm repeats the SMC.
    r.script(|regs| {
        assert_eq!(regs.pc, 0);
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
}

#[test]
fn host_call_on_an_empty_page_is_refused() {
    let r = Running::new();
    r.script(|regs| smc(regs, &[HOST_CALL, 0x8000]));
    r.script(|regs| {
        assert_eq!(regs.gprs[0], 1);
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
}

#[test]
fn host_call_completion_after_the_page_went_away() {
    let r = Running::new();
    r.script(|regs| smc(regs, &[HOST_CALL, HC_IPA]));
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.exit().exit_reason(), Some(RmiExitReason::HostCall));
    // The host destroys the page before answering: the answer cannot be delivered.
    r.fx.ok(C::DATA_DESTROY, &[r.fx.rd, HC_IPA]);
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(
        r.exit().exit_reason(),
        Some(RmiExitReason::Sync),
        "the abort again, realm not run"
    );
    assert_eq!(r.fx.sim.cpu.entries().len(), 1);
}

#[test]
fn a_host_call_reuses_the_last_translation_only_while_no_rtt_entry_changed() {
    let r = Running::new();
    let mut hc = RsiHostCall::ZERO;
    hc.gprs[0] = 0x1111;
    r.write_host_call(&hc);
    r.script(|regs| smc(regs, &[HOST_CALL, HC_IPA]));
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.exit().gprs[0], 0x1111);
    // The host answers 0x2222, which the completion writes into the structure; a second call
    // at the same IPA (the translation reused) hands the host the structure as it is now.
    r.script(|regs| {
        assert_eq!(regs.gprs[0], 0, "RSI_SUCCESS");
        smc(regs, &[HOST_CALL, HC_IPA])
    });
    let mut answer = RmiRecEnter::ZERO;
    answer.gprs[0] = 0x2222;
    r.set_enter(&answer);
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.exit().exit_reason(), Some(RmiExitReason::HostCall));
    assert_eq!(r.exit().gprs[0], 0x2222);
    // Completed again, the realm stops; the host takes the page away; the third call at the
    // same IPA must walk and fault, not reach the granule the page was.
    r.script(|regs| {
        assert_eq!(regs.gprs[0], 0, "RSI_SUCCESS");
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    r.fx.ok(C::DATA_DESTROY, &[r.fx.rd, HC_IPA]);
    r.script(|regs| smc(regs, &[HOST_CALL, HC_IPA]));
    assert_eq!(r.enter()[0], SUCCESS);
    let exit = r.exit();
    assert_eq!(exit.exit_reason(), Some(RmiExitReason::Sync));
    assert_eq!(exit.esr >> 26, 0x24, "an emulated data abort");
    assert_eq!(exit.hpfar, (HC_IPA >> 12) << 4);
}

#[test]
fn rsi_version_smccc_version_and_unknown_fids() {
    let r = Running::new();
    r.script(|regs| smc(regs, &[RsiCommand::VERSION.fid() as u64, 0x1_0000]));
    r.script(|regs| {
        assert_eq!(regs.gprs[..3], [0, 0x1_0000, 0x1_0000]);
        smc(regs, &[RsiCommand::VERSION.fid() as u64, 0x2_0000])
    });
    r.script(|regs| {
        assert_eq!(regs.gprs[..3], [1, 0x1_0000, 0x1_0000]);
        smc(regs, &[0x8000_0000])
    });
    r.script(|regs| {
        assert_eq!(regs.gprs[0], 0x1_0002, "SMCCC 1.2");
        smc(regs, &[0xC200_1234, 7, 7, 7])
    });
    r.script(|regs| {
        assert_eq!(
            regs.gprs[..4],
            [u64::MAX, 0, 0, 0],
            "SMC_UNKNOWN, x1-x3 zero"
        );
        assert_eq!(regs.pc, 16, "four SMCs stepped over");
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.fx.sim.cpu.pending(), 0);
}

#[test]
fn realm_hvc_gets_an_undefined_instruction() {
    let r = Running::new();
    r.script(|regs| {
        regs.el1.vbar = 0x8000;
        regs.pc = 0x40;
        RealmExit {
            class: ExitClass::Sync,
            esr: 0x16 << 26 | 1 << 25,
            far: 0,
            hpfar: 0,
        }
    });
    r.script(|regs| {
        assert_eq!(regs.pc, 0x8200, "current EL with SP_ELx, synchronous");
        assert_eq!(regs.el1.elr, 0x40);
        assert_eq!(regs.el1.esr >> 26, 0, "unknown reason");
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.fx.sim.cpu.pending(), 0);
}

#[test]
fn every_exit_shows_only_its_fields() {
    let r = Running::new();
    // An earlier exit filled many fields...
    r.script(|regs| smc(regs, &[HOST_CALL, HC_IPA]));
    assert_eq!(r.enter()[0], SUCCESS);
    // ...the next ones must not show any of them.
    let cases = [
        (ExitClass::Irq, RmiRecExit::with_reason(RmiExitReason::Irq)),
        (ExitClass::Fiq, RmiRecExit::with_reason(RmiExitReason::Fiq)),
        (
            ExitClass::SError,
            RmiRecExit {
                // EC and IDS; not IL (A4.3.10).
                esr: 0xBD00_0000,
                ..RmiRecExit::with_reason(RmiExitReason::Serror)
            },
        ),
    ];
    for (class, expected) in cases {
        r.script(move |regs| {
            regs.gprs = [0x5EC2_E700; 31];
            RealmExit {
                class,
                esr: 0xBF00_0000,
                far: 0x1234,
                hpfar: 0x5670,
            }
        });
        assert_eq!(r.enter()[0], SUCCESS);
        assert_eq!(r.exit(), expected, "{class:?}");
    }
}

#[test]
fn trapped_wfi_exits_with_its_syndrome_and_steps_over() {
    let r = Running::new();
    r.set_enter(&RmiRecEnter {
        flags: RmiRecEnterFlags::TRAP_WFI,
        ..RmiRecEnter::ZERO
    });
    r.script(|regs| {
        regs.gprs[7] = 0x5EC2_E700;
        RealmExit {
            class: ExitClass::Sync,
            esr: 0x01 << 26 | 1 << 25,
            far: 0,
            hpfar: 0,
        }
    });
    assert_eq!(r.enter()[0], SUCCESS);
    assert!(r.fx.sim.cpu.entries()[0].2.wfi, "WFI trapping requested");
    let exit = r.exit();
    assert_eq!(
        exit,
        RmiRecExit {
            esr: 0x01 << 26, // EC and TI (WFI), not IL (A4.3.4.1)
            ..RmiRecExit::with_reason(RmiExitReason::Sync)
        }
    );
    r.fx.with_rec(r.rec, |rec| assert_eq!(rec.regs.pc, 4));
}

#[test]
fn emulated_mmio_read_completes_into_the_target_register() {
    let r = Running::new();
    // A 32-bit sign-extended load into W5... from an unprotected IPA, with a valid syndrome.
    let esr = 0x24 << 26 | 1 << 25 | 1 << 24 | 0b10 << 22 | 1 << 21 | 5 << 16;
    let ipa = UNPROTECTED + 0x3000;
    r.script(move |_| RealmExit {
        class: ExitClass::Sync,
        esr,
        far: 0xFFFF_0000_0000_0123,
        hpfar: (ipa >> 12) << 4,
    });
    assert_eq!(r.enter()[0], SUCCESS);
    let exit = r.exit();
    // ISV and SAS only (A4.3.4.3): not IL, SRT, nor SSE, which the RMM applies itself.
    assert_eq!(exit.esr, 0x24 << 26 | 1 << 24 | 0b10 << 22);
    assert_eq!(exit.far, 0x123, "only the offset in the page");
    assert_eq!(exit.hpfar, (ipa >> 12) << 4);
    let mut e = RmiRecEnter {
        flags: RmiRecEnterFlags::EMULATED_MMIO,
        ..RmiRecEnter::ZERO
    };
    e.gprs[0] = 0xAAAA_BBBB_8000_0001;
    r.set_enter(&e);
    r.script(|regs| {
        assert_eq!(regs.gprs[5], 0x8000_0001, "masked to 32 bits, W register");
        assert_eq!(regs.pc, 4);
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.fx.sim.cpu.pending(), 0);
}

#[test]
fn protected_data_abort_shows_no_access_details() {
    // A data abort at a Protected IPA exits only where RIPAS is RAM (or DESTROYED): at an EMPTY
    // one the realm takes an SEA instead (A5.2.3, `realm_aborts`). Make 0x7000 RAM, unassigned.
    let r = Running::prepared(|fx| {
        fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, 0x7000, 0x8000]);
    });
    let esr = 0x24 << 26 | 1 << 25 | 1 << 24 | 0b11 << 22 | 9 << 16 | 1 << 6 | 0x07;
    r.script(move |_| RealmExit {
        class: ExitClass::Sync,
        esr,
        far: 0x7000_0123,
        hpfar: (0x7000 >> 12) << 4,
    });
    assert_eq!(r.enter()[0], SUCCESS);
    let exit = r.exit();
    assert_eq!(exit.esr, 0x24 << 26 | 0x07, "no IL, ISV, SRT, SAS, WnR");
    assert_eq!(exit.far, 0);
    // Not emulatable: EMULATED_MMIO on the next entry is refused.
    r.set_enter(&RmiRecEnter {
        flags: RmiRecEnterFlags::EMULATED_MMIO,
        ..RmiRecEnter::ZERO
    });
    assert_eq!(r.enter()[0], REC);
}

#[test]
fn stage2_and_vmpidr_reach_the_cpu() {
    let r = Running::new();
    r.script(|_| IRQ_EXIT);
    assert_eq!(r.enter()[0], SUCCESS);
    let (regs, s2, _, vmpidr) = r.fx.sim.cpu.entries()[0];
    assert_eq!(s2.vttbr, RTT_BASE | 1 << 48, "start table and VMID 1");
    assert_eq!(s2.vtcr & 0x3F, 24, "T0SZ for a 40-bit IPA");
    assert_eq!((s2.vtcr >> 6) & 0b11, 1, "starting level 1");
    assert_eq!(vmpidr, 1 << 31, "REC 0");
    assert_eq!(regs.pstate, crate::arch::PSTATE_EL1H_MASKED);
}

#[test]
fn gic_and_timer_state_travel_with_each_entry_and_exit() {
    let r = Running::new();
    let mut e = RmiRecEnter::ZERO;
    e.gicv3_hcr = hostcall_abi::rec_run::ich_hcr::UIE;
    e.gicv3_lrs[0] = 0x4000_0000_0000_0020; // a pending virtual interrupt, INTID 32
    r.set_enter(&e);
    r.script(|regs| {
        assert_eq!(regs.gic.hcr, hostcall_abi::rec_run::ich_hcr::UIE);
        assert_eq!(regs.gic.lrs[0], 0x4000_0000_0000_0020);
        regs.gic.lrs[0] = 0; // taken and completed by the realm
        regs.gic.misr = 0b10;
        regs.gic.vmcr = 0xF000_0001;
        regs.el1.cntv_ctl = 1;
        regs.el1.cntv_cval = 0x1234_5678;
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    let exit = r.exit();
    assert_eq!(exit.exit_reason(), Some(RmiExitReason::Irq));
    assert_eq!(exit.gicv3_hcr, hostcall_abi::rec_run::ich_hcr::UIE);
    assert_eq!(exit.gicv3_lrs[0], 0);
    assert_eq!((exit.gicv3_misr, exit.gicv3_vmcr), (0b10, 0xF000_0001));
    assert_eq!((exit.cntv_ctl, exit.cntv_cval), (1, 0x1234_5678));
    // The REC keeps its VMCR for the next run.
    r.script(|regs| {
        assert_eq!(regs.gic.vmcr, 0xF000_0001);
        IRQ_EXIT
    });
    r.set_enter(&RmiRecEnter::ZERO);
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.fx.sim.cpu.pending(), 0);
}

#[test]
fn every_defined_exit_field_is_rewritten_on_each_exit() {
    // The host filled its whole RecRun with ones before entering: after an IRQ exit every field
    // the spec defines reads as that exit sets it (mostly zero), whatever was there before.
    let r = Running::new();
    let mut page = [0xFFu8; GRANULE_SIZE];
    RmiRecEnter::ZERO.encode(&mut page[..0x800]).expect("fits");
    r.fx.sim.mem.write(r.run, &page);
    r.script(|_| IRQ_EXIT);
    assert_eq!(r.enter()[0], SUCCESS);
    let exit = r.exit();
    let mut expected = RmiRecExit::with_reason(RmiExitReason::Irq);
    // Reserved bytes are the host's own: the RMM neither reads nor writes them.
    let scribbled = RmiRecExit::decode(&[0xFF; 0x800]).expect("decode");
    expected.reserved1 = scribbled.reserved1;
    expected.reserved2 = scribbled.reserved2;
    expected.reserved3 = scribbled.reserved3;
    expected.reserved4 = scribbled.reserved4;
    // The bytes after ripas_value, imm and pmu_ovf_status up to the next doubleword are written
    // as zero with them.
    let mut r5 = scribbled.reserved5;
    r5[..7].fill(0);
    expected.reserved5 = r5;
    let mut r6 = scribbled.reserved6;
    r6[..6].fill(0);
    expected.reserved6 = r6;
    let mut r7 = scribbled.reserved7;
    r7[..7].fill(0);
    expected.reserved7 = r7;
    let mut r0 = scribbled.reserved0;
    r0[..7].fill(0);
    expected.reserved0 = r0;
    assert_eq!(exit, expected);
}

#[test]
fn emulated_mmio_write_shows_the_stored_value_and_nothing_else() {
    let r = Running::new();
    // STR X7 to an unprotected IPA: 64-bit, WnR, SRT = 7.
    let esr = 0x24 << 26 | 1 << 25 | 1 << 24 | 0b11 << 22 | 7 << 16 | 1 << 15 | 1 << 6;
    let ipa = UNPROTECTED + 0x3000;
    r.script(move |regs| {
        regs.gprs = [0x5EC2_E700; 31];
        regs.gprs[7] = 0x0123_4567_89AB_CDEF;
        RealmExit {
            class: ExitClass::Sync,
            esr,
            far: 0x3008,
            hpfar: (ipa >> 12) << 4,
        }
    });
    assert_eq!(r.enter()[0], SUCCESS);
    let exit = r.exit();
    let mut gprs = [0u64; 31];
    gprs[0] = 0x0123_4567_89AB_CDEF;
    assert_eq!(
        exit.gprs, gprs,
        "the stored value in gprs[0], no other register"
    );
    // Completing the write only steps over the store.
    r.set_enter(&RmiRecEnter {
        flags: RmiRecEnterFlags::EMULATED_MMIO,
        ..RmiRecEnter::ZERO
    });
    r.script(|regs| {
        assert_eq!(regs.pc, 4);
        assert_eq!(
            regs.gprs[7], 0x0123_4567_89AB_CDEF,
            "a store changes no register"
        );
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.fx.sim.cpu.pending(), 0);
}

#[test]
fn inject_sea_after_an_unprotected_abort() {
    let r = Running::new();
    // LDR W3 from an unprotected IPA at VA 0x4000_0123.
    let esr = 0x24 << 26 | 1 << 25 | 1 << 24 | 0b10 << 22 | 3 << 16;
    let ipa = UNPROTECTED + 0x5000;
    r.script(move |regs| {
        regs.el1.vbar = 0x8000;
        regs.pc = 0x100;
        RealmExit {
            class: ExitClass::Sync,
            esr,
            far: 0x4000_0123,
            hpfar: (ipa >> 12) << 4,
        }
    });
    assert_eq!(r.enter()[0], SUCCESS);
    // The host answers with an SEA; EMULATED_MMIO alongside it is ignored.
    let mut e = RmiRecEnter {
        flags: RmiRecEnterFlags::INJECT_SEA.union(RmiRecEnterFlags::EMULATED_MMIO),
        ..RmiRecEnter::ZERO
    };
    e.gprs[0] = 0xFFFF;
    r.set_enter(&e);
    r.script(|regs| {
        assert_eq!(regs.pc, 0x8200, "the realm's current-EL synchronous vector");
        assert_eq!(regs.el1.elr, 0x100, "the faulting access");
        assert_eq!(
            regs.el1.esr,
            0x25 << 26 | 1 << 25 | 1 << 24 | 0b10 << 22 | 3 << 16 | 1 << 9 | 0x10,
            "data abort: the access (IL, ISV, SAS, SRT), EA, SEA"
        );
        assert_eq!(regs.el1.far, 0x4000_0123);
        assert_ne!(regs.gprs[3], 0xFFFF, "no MMIO value delivered");
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.fx.sim.cpu.pending(), 0);
}

#[test]
fn inject_sea_after_any_other_exit_does_nothing() {
    let r = Running::new();
    r.script(|_| IRQ_EXIT);
    assert_eq!(r.enter()[0], SUCCESS);
    r.set_enter(&RmiRecEnter {
        flags: RmiRecEnterFlags::INJECT_SEA,
        ..RmiRecEnter::ZERO
    });
    r.script(|regs| {
        assert_eq!(regs.pc, 0, "nothing injected");
        assert_eq!(regs.el1.esr, 0);
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.fx.sim.cpu.pending(), 0);
}

#[test]
fn rec_enter_waits_for_the_rd_while_another_cpu_holds_it() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let r = Running::new();
    r.script(|_| IRQ_EXIT);
    // The fixture's RD lies below its REC: REC_ENTER's single attempt at it fails, and it
    // lets the REC go and takes both in address order.
    assert!(r.fx.rd < r.rec);
    let held =
        r.fx.sim
            .granules
            .lock(r.fx.rd, crate::granule::GranuleState::Rd)
            .expect("the RD");
    let done = AtomicBool::new(false);
    let (sim, rec, run) = (&r.fx.sim, r.rec, r.run);
    std::thread::scope(|s| {
        let cpu = s.spawn(|| {
            let out = sim.call(u64::from(C::REC_ENTER.fid()), &[rec, run]);
            done.store(true, Ordering::SeqCst);
            out
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            !done.load(Ordering::SeqCst),
            "REC_ENTER went on without the RD"
        );
        // Meanwhile the REC itself is not held: another command can lock it.
        let rec_lock =
            r.fx.sim
                .granules
                .try_lock(r.rec, crate::granule::GranuleState::Rec);
        assert!(
            matches!(rec_lock, Ok(Some(_))),
            "the REC is free while REC_ENTER waits"
        );
        drop(rec_lock);
        drop(held);
        assert_eq!(cpu.join().expect("the CPU thread")[0], SUCCESS);
    });
    assert_eq!(r.exit().exit_reason, RmiExitReason::Irq as u8);
}

#[test]
fn active_priorities_and_vdisr_stay_with_the_rec() {
    // ICH_AP0R<n>/AP1R<n>_EL2 and VDISR_EL2 are the realm's: what one run leaves, the REC's
    // next run starts with (another REC's runs in between load their own).
    let r = Running::new();
    r.script(|regs| {
        regs.gic.ap0r = [0x1, 0x2, 0x3, 0x4];
        regs.gic.ap1r = [0x8000_0000, 0, 0, 0x10];
        regs.vdisr = 1 << 31 | 0x11;
        IRQ_EXIT
    });
    r.script(|regs| {
        assert_eq!(regs.gic.ap0r, [0x1, 0x2, 0x3, 0x4]);
        assert_eq!(regs.gic.ap1r, [0x8000_0000, 0, 0, 0x10]);
        assert_eq!(regs.vdisr, 1 << 31 | 0x11);
        IRQ_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.enter()[0], SUCCESS);
    assert_eq!(r.fx.sim.cpu.pending(), 0);
    // PREbits 5, 6, 7 (ICH_VTR_EL2 [28:26] + 1): one, two, four registers of each group.
    use crate::arch::active_priority_registers as aprs;
    assert_eq!(
        (aprs(0b100 << 26), aprs(0b101 << 26), aprs(0b110 << 26)),
        (1, 2, 4)
    );
    assert_eq!(aprs(crate::sim::SIM_ICH_VTR), 1);
}

#[test]
fn a_running_rec_is_refused_to_every_other_command() {
    use std::sync::mpsc;
    let other = std::cell::Cell::new(0);
    let r = Running::prepared(|fx| other.set(fx.rec_create(fx.rd)));
    let other = other.get();
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    r.script(move |regs| {
        regs.gprs[9] = 0x5EC2_E700;
        started_tx.send(()).expect("the test waits");
        release_rx.lock().expect("rx").recv().expect("released");
        assert_eq!(regs.gprs[9], 0x5EC2_E700, "nobody else wrote the registers");
        assert_eq!(regs.pc, 0);
        IRQ_EXIT
    });
    let (sim, rec, run, rd) = (&r.fx.sim, r.rec, r.run, r.fx.rd);
    std::thread::scope(|s| {
        let cpu = s.spawn(|| sim.call(u64::from(C::REC_ENTER.fid()), &[rec, run]));
        started.recv().expect("the realm runs");
        let call = |cmd: C, args: &[u64]| sim.call(u64::from(cmd.fid()), args)[0];
        assert_eq!(call(C::REC_ENTER, &[rec, run]), REC, "rec_state");
        assert_eq!(call(C::REC_DESTROY, &[rec]), REC);
        assert_eq!(call(C::RTT_SET_RIPAS, &[rd, rec, 0, G]), REC);
        // Neither REC has a PSCI request pending, the running one as caller or as target.
        assert_eq!(call(C::PSCI_COMPLETE, &[rec, other, 0]), INPUT);
        assert_eq!(call(C::PSCI_COMPLETE, &[other, rec, 0]), INPUT);
        release.send(()).expect("the realm waits");
        assert_eq!(cpu.join().expect("the CPU thread")[0], SUCCESS);
    });
    assert_eq!(r.fx.sim.cpu.pending(), 0);
    r.fx.with_rec(r.rec, |rec| assert!(!rec.running));
}
