//! The syndrome an exit record shows for each kind of synchronous exit and for an SError: only the
//! ESR_EL2 fields DEN0137 A4.3.4 and A4.3.10 name for it (A4.3.1: every other exit field is
//! zero). The `realm_side` fuzz target (`fuzz/`) found the RMM showing more (IL on a WFx exit,
//! SSE/SRT/AR on an emulatable abort, the whole ESR on an SError) and its corpus keeps the input;
//! `fix(rmm/exit)` had fixed the same independently. These tests drive it through the public
//! simulated realm, as the fuzz target does.

use hostcall_abi::GRANULE_SIZE;
use rmm::arch::{ExitClass, RealmExit};
use rmm::sim::realm::{RunningRealm, UNPROTECTED};

const EC_SHIFT: u32 = 26;
const IL: u64 = 1 << 25;
const ISV: u64 = 1 << 24;
const SAS: u64 = 0b11 << 22;
const SSE: u64 = 1 << 21;
const SRT_5: u64 = 5 << 16;
const SF: u64 = 1 << 15;
const AR: u64 = 1 << 14;
const SET: u64 = 0b10 << 11;
const FNV: u64 = 1 << 10;
const EA: u64 = 1 << 9;
const S1PTW: u64 = 1 << 7;
const WNR: u64 = 1 << 6;
const FSC: u64 = 0x07; // translation fault, level 3

/// The exit record after the realm's one step ends with `exit`.
fn exit_for(exit: RealmExit) -> hostcall_abi::rec_run::RmiRecExit {
    let r = RunningRealm::new([&[0; GRANULE_SIZE]; 2]);
    r.sim.cpu.script(move |regs| {
        regs.gprs[5] = 0x1234_5678;
        exit
    });
    let out = r.enter();
    assert_eq!(out[0], 0, "REC_ENTER");
    r.exit()
}

fn sync(ec: u64, iss: u64, ipa: u64) -> RealmExit {
    RealmExit {
        class: ExitClass::Sync,
        esr: ec << EC_SHIFT | iss,
        far: ipa | 0x10,
        hpfar: (ipa >> 12) << 4,
    }
}

/// A4.3.4.3: EC, ISV, SAS, SF, WnR, SET, FnV, EA, DFSC; not SSE ("not propagated"), SRT, AR,
/// S1PTW or IL. The written value is in gprs[0], the FAR masked to the granule offset.
#[test]
fn an_emulatable_data_abort_shows_only_its_named_fields() {
    let all = IL | ISV | SAS | SSE | SRT_5 | SF | AR | SET | FNV | EA | S1PTW | WNR | FSC;
    let e = exit_for(sync(0x24, all, UNPROTECTED + 0x3000));
    assert_eq!(e.exit_reason, 0);
    assert_eq!(
        e.esr,
        0x24 << EC_SHIFT | ISV | SAS | SF | SET | FNV | EA | WNR | FSC
    );
    assert_eq!(
        (e.far, e.hpfar),
        (0x10, ((UNPROTECTED + 0x3000) >> 12) << 4)
    );
    assert_eq!(e.gprs[0], 0x1234_5678);
}

/// A4.3.4.3: a non-emulatable abort at an Unprotected IPA shows no WnR (and, as this RMM
/// follows the reference implementation there, no IL).
#[test]
fn a_non_emulatable_unprotected_data_abort_shows_no_wnr() {
    let iss = IL | SSE | SRT_5 | AR | SET | FNV | EA | S1PTW | WNR | FSC;
    let e = exit_for(sync(0x24, iss, UNPROTECTED + 0x3000));
    assert_eq!(e.esr, 0x24 << EC_SHIFT | SET | FNV | EA | FSC);
    assert_eq!(e.far, 0);
    assert_eq!(e.gprs, [0; 31]);
}

/// A4.3.4.3: at a Protected IPA (of RIPAS RAM: an EMPTY one is the realm's own SEA, no exit),
/// EC, SET, FnV, EA and DFSC only.
#[test]
fn a_protected_data_abort_shows_set_fnv_ea_dfsc() {
    let iss = IL | SSE | SRT_5 | AR | SET | FNV | EA | S1PTW | WNR | FSC;
    let e = exit_for(sync(0x24, iss, 0));
    assert_eq!(e.esr, 0x24 << EC_SHIFT | SET | FNV | EA | FSC);
    assert_eq!(e.far, 0);
}

/// A4.3.4.2: EC, SET, EA and IFSC (at an IPA of RIPAS RAM).
#[test]
fn an_instruction_abort_shows_set_ea_ifsc() {
    let e = exit_for(sync(0x20, IL | SET | FNV | EA | S1PTW | FSC, 0));
    assert_eq!(e.esr, 0x20 << EC_SHIFT | SET | EA | FSC);
    assert_eq!((e.far, e.hpfar), (0, 0));
}

/// A4.3.4.1: EC and TI only.
#[test]
fn a_wfi_exit_shows_ec_and_ti() {
    let r = RunningRealm::new([&[0; GRANULE_SIZE]; 2]);
    let mut enter = hostcall_abi::rec_run::RmiRecEnter::ZERO;
    enter.flags = hostcall_abi::rec_run::RmiRecEnterFlags::TRAP_WFI;
    r.set_enter(&enter);
    r.sim.cpu.script(|_| sync(0x01, IL | 3 << 5, 0));
    assert_eq!(r.enter()[0], 0);
    let e = r.exit();
    assert_eq!((e.exit_reason, e.esr), (0, 0x01 << EC_SHIFT));
}

/// A4.3.10: EC, IDS, AET, EA and DFSC.
#[test]
fn an_serror_shows_ids_aet_ea_dfsc() {
    let ids = 1 << 24;
    let aet = 0b010 << 10;
    let e = exit_for(RealmExit {
        class: ExitClass::SError,
        esr: 0x2F << EC_SHIFT | IL | ids | 0xABC << 13 | aet | EA | 0x11,
        far: 0,
        hpfar: 0,
    });
    assert_eq!(e.exit_reason, 6);
    assert_eq!(e.esr, 0x2F << EC_SHIFT | ids | aet | EA | 0x11);
}
