//! The realm's side of the RMM: an ACTIVE realm with one REC (`rmm::sim::realm::RunningRealm`)
//! whose scripted steps, decoded from the input, make RSI calls, PSCI calls, trapped system
//! register accesses (EC 0x18), data and instruction aborts, WFI/WFE, HVCs, interrupts and
//! SErrors with fuzzed registers and syndromes, and write its own memory; between entries the
//! host answers (rec_enter flags and registers, RMI_PSCI_COMPLETE, RMI_RTT_SET_RIPAS).
//!
//! Checked after every successful RMI_REC_ENTER, besides "no panic":
//! - the exit record holds only what DEN0137 A4.3 allows for its exit reason (reserved bytes
//!   zero; gprs only for HOST_CALL and PSCI, and `gprs[0]` for an emulatable write or a WFxT;
//!   esr/far/hpfar only for SYNC, and esr only for SERROR; ripas fields only for RIPAS_CHANGE;
//!   imm only for HOST_CALL; the syndrome bits each exit class may carry, far masked to the
//!   granule offset);
//! - a HOST_CALL exit carries exactly the RsiHostCall the realm passed, a PSCI exit the FID the
//!   realm called;
//! - no NS memory changed except the exit half of the RecRun page: nothing of the realm reaches
//!   the host except through the exit record.

#![no_main]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hostcall_abi::rec_run::{RmiRecEnter, RmiRecEnterFlags, RmiRecExit};
use hostcall_abi::rmi::RmiCommand;
use hostcall_abi::GRANULE_SIZE;
use libfuzzer_sys::fuzz_target;
use rmm::arch::{ExitClass, RealmExit};
use rmm::sim::realm::{RunningRealm, HC_IPA, IPA_LIMIT, UNPROTECTED};

/// Steps one input scripts at most.
const MAX_STEPS: usize = 24;

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }

    fn u64(&mut self) -> u64 {
        let mut v = [0u8; 8];
        for b in &mut v {
            *b = self.byte();
        }
        u64::from_le_bytes(v)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.byte() as usize % items.len()]
    }

    /// An address or register value: mostly ones that mean something to the RMM.
    fn value(&mut self) -> u64 {
        match self.byte() % 16 {
            0 => 0,
            1 => HC_IPA,
            2 => self.byte() as u64 * 0x100,
            3 => 0x2000,
            4 => UNPROTECTED,
            5 => UNPROTECTED + (self.byte() as u64) * GRANULE_SIZE as u64,
            6 => IPA_LIMIT - GRANULE_SIZE as u64,
            7 => IPA_LIMIT,
            8 => UNPROTECTED - GRANULE_SIZE as u64,
            9 => self.byte() as u64,
            10 => 1 << (self.byte() % 64),
            11 => !0,
            12 => 0x8000_0000 + (self.byte() as u64) * GRANULE_SIZE as u64,
            _ => self.u64(),
        }
    }

    /// An IPA for an abort: in or near the realm's mapped, unmapped and unprotected ranges.
    fn ipa(&mut self) -> u64 {
        match self.byte() % 6 {
            0 => 0,
            1 => HC_IPA,
            2 => 0x2000 + (self.byte() as u64) * GRANULE_SIZE as u64,
            3 => UNPROTECTED + (self.byte() as u64) * GRANULE_SIZE as u64,
            4 => IPA_LIMIT - GRANULE_SIZE as u64,
            _ => self.u64() & ((1 << 48) - 1),
        }
    }
}

const EC_SHIFT: u32 = 26;
const IL: u64 = 1 << 25;
const EC_WFX: u64 = 0x01;
const EC_HVC: u64 = 0x16;
const EC_SMC: u64 = 0x17;
const EC_SYSREG: u64 = 0x18;
const EC_IABT: u64 = 0x20;
const EC_DABT: u64 = 0x24;
const EC_SERROR: u64 = 0x2F;

const fn sync(ec: u64, iss: u64) -> RealmExit {
    RealmExit {
        class: ExitClass::Sync,
        esr: ec << EC_SHIFT | iss,
        far: 0,
        hpfar: 0,
    }
}

/// What the step that ended an entry did, for the checks on its exit.
#[derive(Clone, Copy, Debug, Default)]
struct Did {
    /// x0 of an SMC (RSI or PSCI FID), 0 for other steps.
    smc_fid: u64,
    /// x1 of that SMC.
    x1: u64,
}

/// Decodes one realm step; it records what it did in `did[index]` when it runs.
fn step(
    input: &mut Input,
    index: usize,
    ran: Arc<AtomicUsize>,
    did: &mut Vec<Did>,
) -> impl FnMut(&mut rmm::arch::RealmRegs, &rmm::sim::SimGuest) -> RealmExit + Send + 'static {
    let mut gprs = [0u64; 8];
    let mut exit = RealmExit {
        class: ExitClass::Irq,
        esr: 0,
        far: 0,
        hpfar: 0,
    };
    let mut writes = Vec::new();
    let mut d = Did::default();
    match input.byte() % 12 {
        // RSI (SMC64 or SMC32 FIDs of the RSI range), the host call's struct written first.
        0..=3 => {
            let fnum = 0x190 + input.byte() as u64 % 0x20;
            gprs[0] = fnum
                | if input.byte().is_multiple_of(8) {
                    0x8400_0000
                } else {
                    0xC400_0000
                };
            for r in &mut gprs[1..7] {
                *r = input.value();
            }
            if input.byte().is_multiple_of(2) {
                gprs[1] = HC_IPA;
                for i in 0..input.byte() as u64 % 6 {
                    writes.push((HC_IPA + 8 * i, input.value()));
                }
            }
            exit = sync(EC_SMC, IL);
        }
        // PSCI.
        4 | 5 => {
            gprs[0] = input.pick(&[
                0x8400_0000u64,
                0x8400_0001,
                0xC400_0001,
                0x8400_0002,
                0x8400_0003,
                0xC400_0003,
                0x8400_0004,
                0xC400_0004,
                0x8400_0008,
                0x8400_0009,
                0x8400_000A,
                0x8400_0005,
                0xC400_0012,
                0x8400_001F,
            ]);
            for r in &mut gprs[1..4] {
                *r = input.pick(&[0u64, 1, 2, 0x100, 0x8000_0000, 0x1_0000_0001, !0]);
            }
            exit = sync(EC_SMC, IL);
        }
        // A trapped MSR/MRS/system instruction: ISS and Rt's value fuzzed.
        6 => {
            let iss = input.u64() & 0x1FF_FFFF;
            let rt = (iss >> 5) & 0x1F;
            if rt < 8 {
                gprs[rt as usize] = input.value();
            }
            exit = sync(EC_SYSREG, IL | iss);
        }
        // A data abort: ISS, FAR and the IPA fuzzed.
        7 => {
            let ipa = input.ipa();
            let iss = input.u64() & 0x1FF_FFFF;
            exit = RealmExit {
                far: ipa | input.u64() & 0xFFF,
                hpfar: (ipa >> 12) << 4,
                ..sync(EC_DABT, iss | input.pick(&[0, IL]))
            };
            gprs[((iss >> 16) & 7) as usize] = input.value();
        }
        // An instruction abort.
        8 => {
            let ipa = input.ipa();
            exit = RealmExit {
                far: ipa,
                hpfar: (ipa >> 12) << 4,
                ..sync(EC_IABT, IL | input.u64() & 0x1FF_FFFF)
            };
        }
        // WFI/WFE/WFIT/WFET (TI in ISS[1:0]), the timeout in a register.
        9 => {
            let iss = input.pick(&[0u64, 1, 2, 3]) | (input.byte() as u64 & 0x1F) << 5;
            gprs[(iss >> 5) as usize & 7] = input.value();
            exit = sync(EC_WFX, IL | iss);
        }
        // An HVC, an IRQ, an FIQ, an SError, or any syndrome at all.
        10 => {
            exit = match input.byte() % 5 {
                0 => sync(EC_HVC, IL | input.byte() as u64),
                1 => RealmExit {
                    class: ExitClass::Fiq,
                    ..exit
                },
                2 => RealmExit {
                    class: ExitClass::SError,
                    esr: EC_SERROR << EC_SHIFT | input.u64() & 0x1FF_FFFF,
                    far: 0,
                    hpfar: 0,
                },
                3 => exit,
                _ => RealmExit {
                    class: input.pick(&[ExitClass::Sync, ExitClass::SError]),
                    esr: input.u64() & 0xFFFF_FFFF,
                    far: input.value(),
                    hpfar: input.u64() & 0xFFF_FFFF_FFF0,
                },
            };
        }
        // The realm writes its own memory, then is interrupted.
        _ => {
            for _ in 0..1 + input.byte() % 4 {
                writes.push((
                    input.ipa() | (input.byte() as u64 * 8 % 0x1000),
                    input.value(),
                ));
            }
        }
    }
    if exit.class == ExitClass::Sync && exit.esr >> EC_SHIFT == EC_SMC {
        d.smc_fid = gprs[0];
        d.x1 = gprs[1];
    }
    did.push(d);
    move |regs, guest| {
        ran.store(index, Ordering::Relaxed);
        for &(ipa, v) in &writes {
            let _ = guest.write_u64(ipa & !7, v);
        }
        regs.gprs[..8].copy_from_slice(&gprs);
        exit
    }
}

/// The ESR bits each kind of SYNC exit may carry (A4.3.4).
fn sync_esr_allowed(esr: u64) -> Option<u64> {
    let ec = esr >> EC_SHIFT;
    let isv = esr & 1 << 24 != 0;
    let iss = match ec {
        // TI.
        EC_WFX => 0b11,
        // SET, EA, IFSC.
        EC_IABT => 0b11 << 11 | 1 << 9 | 0x3F,
        // Emulatable: ISV, SAS, SF, WnR, SET, FnV, EA, DFSC.
        EC_DABT if isv => {
            1 << 24 | 0b11 << 22 | 1 << 15 | 1 << 6 | 0b11 << 11 | 1 << 10 | 1 << 9 | 0x3F
        }
        // Others: IL (at an Unprotected IPA), SET, FnV, EA, DFSC.
        EC_DABT => IL | 0b11 << 11 | 1 << 10 | 1 << 9 | 0x3F,
        // Not in A4.3.4 (which has the RMM emulate every trapped MSR/MRS): this RMM forwards
        // the realm's GIC system register writes (SGI generation) to the host, with the
        // syndrome and the value written in gprs[0].
        EC_SYSREG => IL | 0x1FF_FFFF,
        _ => return None,
    };
    Some(0x3F << EC_SHIFT | iss)
}

/// The checks on one exit record; `what` says what the realm did last.
fn check_exit(r: &RunningRealm, exit: &RmiRecExit, did: Did) {
    let zero_gprs = |from: usize| {
        assert!(
            exit.gprs[from..].iter().all(|&g| g == 0),
            "exit reason {}: gprs[{from}..] must be zero: {:#x?}",
            exit.exit_reason,
            exit.gprs
        )
    };
    let reserved = [
        &exit.reserved0[..],
        &exit.reserved1,
        &exit.reserved2,
        &exit.reserved3,
        &exit.reserved4,
        &exit.reserved5,
        &exit.reserved6,
        &exit.reserved7,
    ];
    assert!(
        reserved.iter().all(|b| b.iter().all(|&x| x == 0)),
        "reserved bytes of rec_exit are not zero"
    );
    let no_ripas = exit.ripas_base == 0 && exit.ripas_top == 0 && exit.ripas_value == 0;
    let no_syndrome = exit.esr == 0 && exit.far == 0 && exit.hpfar == 0;
    match exit.exit_reason {
        // SYNC: WFx, instruction abort or data abort.
        0 => {
            let allowed = sync_esr_allowed(exit.esr)
                .unwrap_or_else(|| panic!("SYNC exit with esr {:#x}", exit.esr));
            assert_eq!(
                exit.esr & !allowed,
                0,
                "esr {:#x}: bits beyond A4.3.4's",
                exit.esr
            );
            let ec = exit.esr >> EC_SHIFT;
            let isv = exit.esr & 1 << 24 != 0;
            let wnr = exit.esr & 1 << 6 != 0;
            match ec {
                EC_WFX | EC_SYSREG => assert_eq!((exit.far, exit.hpfar), (0, 0), "far/hpfar"),
                EC_IABT => assert_eq!(exit.far, 0, "instruction abort: far"),
                _ => assert!(
                    exit.far < GRANULE_SIZE as u64 && (isv || exit.far == 0),
                    "data abort: far {:#x} (ISV {isv})",
                    exit.far
                ),
            }
            let gpr0_ok = match ec {
                EC_WFX => exit.esr & 0b10 != 0,
                EC_DABT => isv && wnr,
                EC_SYSREG => true,
                _ => false,
            };
            zero_gprs(if gpr0_ok { 1 } else { 0 });
            assert!(no_ripas && exit.imm == 0, "SYNC exit: ripas/imm set");
        }
        // IRQ, FIQ.
        1 | 2 => {
            assert!(no_syndrome, "IRQ/FIQ exit with a syndrome");
            zero_gprs(0);
            assert!(no_ripas && exit.imm == 0, "IRQ/FIQ exit: ripas/imm set");
        }
        // PSCI.
        3 => {
            assert!(
                no_syndrome && no_ripas && exit.imm == 0,
                "PSCI exit: other fields"
            );
            zero_gprs(4);
            assert_eq!(
                exit.gprs[0] & 0xFFFF_FFFF,
                did.smc_fid & 0xFFFF_FFFF,
                "PSCI exit: gprs[0] is not the FID called"
            );
        }
        // RIPAS_CHANGE.
        4 => {
            assert!(no_syndrome && exit.imm == 0, "RIPAS exit: other fields");
            zero_gprs(0);
            assert!(
                exit.ripas_base < exit.ripas_top && exit.ripas_top <= UNPROTECTED,
                "RIPAS exit: region [{:#x}, {:#x})",
                exit.ripas_base,
                exit.ripas_top
            );
            assert!(
                exit.ripas_value <= 1,
                "RIPAS exit: value {}",
                exit.ripas_value
            );
            assert_eq!(
                did.smc_fid, 0xC400_0197,
                "RIPAS exit without RSI_IPA_STATE_SET"
            );
        }
        // HOST_CALL: exactly the realm's RsiHostCall.
        5 => {
            assert!(no_syndrome && no_ripas, "host call exit: other fields");
            assert_eq!(
                did.smc_fid, 0xC400_0199,
                "host call exit without RSI_HOST_CALL"
            );
            let ipa = did.x1;
            assert!(ipa < 0x2000, "host call from unmapped IPA {ipa:#x}");
            let page = r.sim.mem.read(r.data[(ipa >> 12) as usize]);
            let off = (ipa & 0xFFF) as usize;
            assert!(
                off + 256 <= GRANULE_SIZE,
                "host call struct crosses a granule"
            );
            let word = |i: usize| {
                u64::from_le_bytes(page[off + 8 * i..off + 8 * i + 8].try_into().unwrap())
            };
            assert_eq!(u64::from(exit.imm), word(0) & 0xFFFF, "host call imm");
            for (i, &g) in exit.gprs.iter().enumerate() {
                assert_eq!(g, word(i + 1), "host call gprs[{i}]");
            }
        }
        // SERROR.
        6 => {
            let allowed = 0x3F << EC_SHIFT | 1 << 24 | 0b111 << 10 | 1 << 9 | 0x3F;
            assert_eq!(exit.esr & !allowed, 0, "SError esr {:#x}", exit.esr);
            assert_eq!((exit.far, exit.hpfar), (0, 0), "SError: far/hpfar");
            zero_gprs(0);
            assert!(no_ripas && exit.imm == 0, "SError exit: ripas/imm set");
        }
        other => panic!("exit reason {other}"),
    }
}

/// Every NS page the simulation holds, but the RecRun page's exit half (a page never touched
/// reads as zeros).
fn ns_image(r: &RunningRealm) -> BTreeMap<u64, Vec<u8>> {
    r.sim
        .mem
        .resident()
        .into_iter()
        .filter(|&pa| !r.sim.el3.is_realm(pa))
        .map(|pa| {
            let page = r.sim.mem.read(pa);
            let keep = if pa == r.run { 0x800 } else { GRANULE_SIZE };
            (pa, page[..keep].to_vec())
        })
        .filter(|(_, bytes)| bytes.iter().any(|&b| b != 0))
        .collect()
}

/// `REALM_SIDE_TRACE=1` prints every exit checked (to see what a corpus reaches).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("REALM_SIDE_TRACE").is_some())
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mut contents = [[0u8; GRANULE_SIZE]; 2];
    for page in &mut contents {
        let seed = input.u64();
        for (i, chunk) in page.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(
                &(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes(),
            );
        }
    }
    let r = RunningRealm::new([&contents[0], &contents[1]]);
    r.sim
        .cpu
        .interrupt_checks(&[input.byte() % 2 == 0, input.byte() % 4 == 0]);

    let ran = Arc::new(AtomicUsize::new(usize::MAX));
    let mut did = Vec::new();
    let steps = input.byte() as usize % (MAX_STEPS + 1);
    for i in 0..steps {
        let s = step(&mut input, i, ran.clone(), &mut did);
        r.sim.cpu.script_guest(s);
    }

    for _ in 0..steps + 2 {
        let mut enter = RmiRecEnter::ZERO;
        enter.flags = RmiRecEnterFlags::from_bits(input.byte() as u64 & 0x1F);
        for g in enter.gprs.iter_mut().take(input.byte() as usize % 8) {
            *g = input.value();
        }
        r.set_enter(&enter);
        match input.byte() % 8 {
            0 => {
                let status = input.pick(&[0u64, 0xFFFF_FFFF_FFFF_FFFF, !1, !2, !3, !4, !6, 7]);
                let fid = RmiCommand::PSCI_COMPLETE.fid() as u64;
                r.sim.call(fid, &[r.rec, r.rec, status]);
            }
            1 => {
                let last = r.exit();
                let (base, top) = match input.byte() % 3 {
                    0 => (last.ripas_base, last.ripas_top),
                    1 => (last.ripas_base, input.value()),
                    _ => (input.value(), input.value()),
                };
                let fid = RmiCommand::RTT_SET_RIPAS.fid() as u64;
                r.sim.call(fid, &[r.rd, r.rec, base, top]);
            }
            _ => {}
        }
        let before = ns_image(&r);
        ran.store(usize::MAX, Ordering::Relaxed);
        let out = r.enter();
        let after = ns_image(&r);
        if out[0] != 0 {
            assert!(
                before == after,
                "REC_ENTER failed with {:#x} but NS memory changed",
                out[0]
            );
            if r.sim.cpu.pending() == 0 {
                break;
            }
            continue;
        }
        assert!(
            before == after,
            "REC_ENTER changed NS memory beyond rec_exit"
        );
        let last = ran.load(Ordering::Relaxed);
        let d = did.get(last).copied().unwrap_or_default();
        let exit = r.exit();
        if trace() {
            eprintln!(
                "exit reason {} esr {:#x} smc {:#x}",
                exit.exit_reason, exit.esr, d.smc_fid
            );
        }
        check_exit(&r, &exit, d);
        if r.sim.cpu.pending() == 0 {
            break;
        }
    }
});
