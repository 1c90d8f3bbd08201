//! Loading, running and unloading a realm against the RMM's real handlers on the simulated
//! platform; the realm itself is scripted (`SimCpu`) to follow the payload's protocol.

use super::*;
use crate::realm_build::Pool;
use crate::rmi::RmiClient;
use crate::testing::SimHost;
use hostcall_abi::host_call::RsiHostCall;
use hostcall_abi::wire::Wire;
use realm_payload::BENCH_RESULT;
use rmm::arch::{ExitClass, RealmExit};
use rmm::sim::{Sim, SMC_EXIT};

const HOST_CALL: u64 = 0xC400_0199;

fn struct_page(imm: u16, gprs: [u64; 31]) -> [u8; 4096] {
    let mut page = [0u8; 4096];
    let hc = RsiHostCall {
        imm,
        gprs,
        ..RsiHostCall::ZERO
    };
    hc.encode(&mut page[..0x100]).expect("fits");
    page
}

#[test]
fn the_payload_protocol_end_to_end() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut h = Host::new(&mut rmi, &mut mem);
    let mut pool = Pool::new(0x6400_0000, 0x10_0000);
    let image = [0xAAu8; 5000]; // two pages of "code"
    let mut l = load(&mut h, &mut pool, &image, 9).expect("load");
    assert_eq!(l.image_pages, 2);

    // The realm's two RsiHostCall structures, in its (unknown-content) page at IPA 0x2000.
    let mut echo = [0u64; 31];
    echo[0] = ECHO;
    for (i, g) in echo.iter_mut().enumerate().skip(1) {
        *g = echo_arg(i);
    }
    let mut page = struct_page(ECHO_IMM, echo);
    let mut report = [0u64; 31];
    report[0] = REPORT;
    page[0x100..0x200].copy_from_slice(&struct_page(0, report)[..0x100]);
    sim.mem.write(l.data[2], &page);

    sim.cpu.script(|r| {
        r.gprs[..2].copy_from_slice(&[HOST_CALL, 0x2000]);
        SMC_EXIT
    });
    sim.cpu.script(|r| {
        assert_eq!(r.gprs[0], 0, "RSI_SUCCESS for the echo");
        r.gprs[..2].copy_from_slice(&[HOST_CALL, 0x2100]);
        SMC_EXIT
    });
    // A host interrupt between the calls: the VMM just enters again.
    sim.cpu.script(|_| RealmExit {
        class: ExitClass::Irq,
        esr: 0,
        far: 0,
        hpfar: 0,
    });
    // The benchmark phase: the realm's summary host call, then two trapped WFIs.
    sim.cpu.script(|r| {
        r.gprs[..2].copy_from_slice(&[HOST_CALL, 0x2200]);
        SMC_EXIT
    });
    for _ in 0..2 {
        sim.cpu.script(|_| RealmExit {
            class: ExitClass::Sync,
            esr: 0x01 << 26 | 1 << 25,
            far: 0,
            hpfar: 0,
        });
    }
    sim.cpu.script(|r| {
        r.gprs[0] = 0x8400_0008;
        SMC_EXIT
    });
    let mut result = [0u64; 31];
    result[..4].copy_from_slice(&[BENCH_RESULT, 4000, 3900, 4500]);
    let mut page = sim.mem.read(l.data[2]);
    page[0x200..0x300].copy_from_slice(&struct_page(0, result)[..0x100]);
    sim.mem.write(l.data[2], &page);
    // Every clock read advances 50 ticks, so each timed REC_ENTER measures 50.
    let clock = std::cell::Cell::new(0u64);
    let tick = || {
        clock.set(clock.get() + 50);
        clock.get()
    };
    let rep = run(&mut h, &mut pool, &mut l, 10, &tick).expect("run");
    assert_eq!(
        rep,
        RunReport {
            entries: 7,
            host_calls: 3,
            echo_seen_intact: true,
            verdict: Some(0),
            system_off: true,
            host_call_round_trip: Some((4000, 3900, 4500)),
            wfi_enter_exit: Some((50, 50, 50)),
            ripas_changes: 0,
            pages_faulted_in: 0,
        }
    );
    // The VMM's answers are in the realm's structure.
    let answered = RsiHostCall::decode(&sim.mem.read(l.data[2])[..0x100]).expect("decode");
    assert!((1..31).all(|i| answered.gprs[i] == !echo_arg(i)));

    unload(&mut h, &l).expect("unload");
    for &pa in &l.realm.delegated[..l.realm.num_delegated] {
        assert!(!sim.el3.is_realm(pa), "{pa:#x} back with the host");
    }
}

#[test]
fn a_realm_that_never_powers_off_is_reported() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut h = Host::new(&mut rmi, &mut mem);
    let mut pool = Pool::new(0x6400_0000, 0x10_0000);
    let mut l = load(&mut h, &mut pool, &[0u8; 100], 9).expect("load");
    // No script: every entry ends in an IRQ exit.
    let err = run(&mut h, &mut pool, &mut l, 5, &|| 0).expect_err("never off");
    assert_eq!(err.step, "the realm did not power off");
}
