//! Running a realm as a VMM would: load the realm payload into a new realm as DATA granules, enter
//! its REC, answer its host calls, and stop when it powers off; then take it all apart.
//!
//! The payload's protocol is in `realm_payload` (the crate of the payload itself): an ECHO host
//! call whose arguments the VMM checks and answers with their complements, then a REPORT host
//! call with the payload's own verdict, then PSCI SYSTEM_OFF.

use core::mem::offset_of;
use hostcall_abi::rec_params::{rec_index_to_mpidr, RmiRecCreateFlags, RmiRecParams};

use hostcall_abi::rec_run::{RmiExitReason, RmiRecEnter, RmiRecEnterFlags, RmiRecExit, RmiRecRun};
use hostcall_abi::rmi::{RmiCommand as C, RmiReturn, RmiStatus};
use realm_payload::{
    echo_arg, summarize, BENCH, BENCH_RESULT, ECHO, ECHO_IMM, NOP, REFUSED_IPA, REGION_SIZE,
    REPORT, WFI_ITERATIONS,
};

use crate::realm_build::{realm_params, Failure, Host, Pool, Realm};
use crate::{Conduit, HostMemory};

const G: u64 = 4096;
const OK: RmiReturn = RmiReturn::SUCCESS;
const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;

/// A realm with the payload loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// The realm (RD, starting tables, its one REC, every delegated granule).
    pub realm: Realm,
    /// Level-2 and level-3 RTTs mapping the payload region.
    pub rtts: [u64; 2],
    /// DATA granules, one per 4 KiB of the region, in IPA order.
    pub data: [u64; (REGION_SIZE / G) as usize],
    /// The RecRun page (NS).
    pub run: u64,
    /// Pages the image filled (the rest are DATA_CREATE_UNKNOWN).
    pub image_pages: usize,
    /// Pages the VMM mapped while the realm ran (IPA, DATA granule), on the realm's faults.
    pub faulted_in: [(u64, u64); 4],
    /// How many of `faulted_in` are used.
    pub num_faulted_in: usize,
}

/// What happened while the realm ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// REC_ENTER calls.
    pub entries: usize,
    /// Host calls answered.
    pub host_calls: usize,
    /// The echo call's arguments and imm were what the payload sends.
    pub echo_seen_intact: bool,
    /// The payload's verdict (0: every check passed in the realm).
    pub verdict: Option<u64>,
    /// The realm powered off with PSCI SYSTEM_OFF.
    pub system_off: bool,
    /// The realm's timing of its BENCH host calls (median, minimum, maximum counter ticks).
    pub host_call_round_trip: Option<(u64, u64, u64)>,
    /// REC_ENTER calls that ended in a trapped WFI, timed by the host (median, min, max ticks).
    pub wfi_enter_exit: Option<(u64, u64, u64)>,
    /// RIPAS_CHANGE exits handled.
    pub ripas_changes: usize,
    /// Pages mapped on the realm's stage-2 faults.
    pub pages_faulted_in: usize,
}

fn fail(step: &'static str, got: u64) -> Failure {
    Failure {
        step,
        got: RmiReturn::from_raw(got),
        want: OK,
    }
}

/// Creates a realm (VMID `vmid`) whose first 64 KiB of IPA space hold `image` followed by pages
/// of unknown content, and one runnable REC starting at IPA 0; activates it.
pub fn load<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    image: &[u8],
    vmid: u16,
) -> Result<Loaded, Failure> {
    let pages = (REGION_SIZE / G) as usize;
    let image_pages = image.len().div_ceil(G as usize);
    if image.is_empty() || image_pages > pages {
        return Err(fail(
            "payload image empty or larger than its region",
            image.len() as u64,
        ));
    }
    let mut l = Loaded {
        image_pages,
        ..Loaded::default()
    };
    let realm = &mut l.realm;
    realm.params = pool.take(1)?;
    realm.rtt_base = pool.take(2)?;
    realm.rd = pool.take(1)?;
    for pa in [realm.rd, realm.rtt_base, realm.rtt_base + G] {
        h.delegate(realm, pa)?;
    }
    h.put(realm.params, &realm_params(vmid, realm.rtt_base));
    h.expect(
        "REALM_CREATE (payload)",
        C::REALM_CREATE,
        &[realm.rd, realm.params],
        OK,
    )?;
    for (i, level) in [2u64, 3].into_iter().enumerate() {
        let t = pool.take(1)?;
        h.delegate(realm, t)?;
        h.expect(
            "RTT_CREATE (payload)",
            C::RTT_CREATE,
            &[realm.rd, t, 0, level],
            OK,
        )?;
        l.rtts[i] = t;
    }
    // RIPAS RAM over the whole region, then its contents.
    let mut base = 0;
    while base < REGION_SIZE {
        let top = h.expect(
            "RTT_INIT_RIPAS",
            C::RTT_INIT_RIPAS,
            &[realm.rd, base, REGION_SIZE],
            OK,
        )?[0];
        if top <= base {
            return Err(fail("RTT_INIT_RIPAS made no progress", top));
        }
        base = top;
    }
    let src = pool.take(1)?;
    for i in 0..pages {
        let data = pool.take(1)?;
        h.delegate(realm, data)?;
        let ipa = i as u64 * G;
        if i < image_pages {
            let chunk = &image[i * G as usize..image.len().min((i + 1) * G as usize)];
            let mut page = [0u8; G as usize];
            page[..chunk.len()].copy_from_slice(chunk);
            h.write_page(src, &page);
            h.expect(
                "DATA_CREATE (payload image)",
                C::DATA_CREATE,
                &[realm.rd, data, ipa, src, 0],
                OK,
            )?;
        } else {
            h.expect(
                "DATA_CREATE_UNKNOWN",
                C::DATA_CREATE_UNKNOWN,
                &[realm.rd, data, ipa],
                OK,
            )?;
        }
        l.data[i] = data;
    }

    let aux_count = h.expect("REC_AUX_COUNT", C::REC_AUX_COUNT, &[realm.rd], OK)?[0] as usize;
    let rec = pool.take(1)?;
    h.delegate(realm, rec)?;
    let mut p = RmiRecParams::ZERO;
    p.flags = RmiRecCreateFlags::RUNNABLE;
    p.mpidr = rec_index_to_mpidr(0).unwrap_or(0);
    p.pc = 0;
    p.num_aux = aux_count as u64;
    for slot in p.aux.iter_mut().take(aux_count.min(16)) {
        let a = pool.take(1)?;
        h.delegate(realm, a)?;
        *slot = a;
    }
    h.put(realm.params, &p);
    h.expect(
        "REC_CREATE (payload)",
        C::REC_CREATE,
        &[realm.rd, rec, realm.params],
        OK,
    )?;
    realm.recs[0] = rec;
    h.expect(
        "REALM_ACTIVATE (payload)",
        C::REALM_ACTIVATE,
        &[realm.rd],
        OK,
    )?;
    l.run = pool.take(1)?;
    h.write_page(l.run, &[0; G as usize]);
    Ok(l)
}

/// ESR_EL2.EC of a trapped WFI/WFE.
const EC_WFX: u64 = 0x01;
/// ESR_EL2.EC of a data abort from the realm.
const EC_DABT: u64 = 0x24;

const EXIT: usize = offset_of!(RmiRecRun, exit);

/// The rec_exit fields this VMM acts on, read one by one rather than the whole 2 KiB record.
struct Exit {
    reason: Option<RmiExitReason>,
    esr: u64,
    hpfar: u64,
    gprs: [u64; 31],
    imm: u16,
    /// ripas_base, ripas_top, ripas_value.
    ripas: [u64; 3],
}

fn read_exit<Cd: Conduit, M: HostMemory>(h: &Host<'_, Cd, M>, run: u64) -> Exit {
    let mut w = [0u64; 1];
    h.read_words(run, EXIT + offset_of!(RmiRecExit, exit_reason), &mut w);
    let reason = RmiExitReason::from_u8(w[0] as u8);
    let mut syndrome = [0u64; 3];
    h.read_words(run, EXIT + offset_of!(RmiRecExit, esr), &mut syndrome);
    let (esr, hpfar) = (syndrome[0], syndrome[2]);
    let mut ripas = [0u64; 3];
    h.read_words(run, EXIT + offset_of!(RmiRecExit, ripas_base), &mut ripas);
    ripas[2] &= 0xFF;
    let mut gprs = [0u64; 31];
    h.read_words(run, EXIT + offset_of!(RmiRecExit, gprs), &mut gprs);
    h.read_words(run, EXIT + offset_of!(RmiRecExit, imm), &mut w);
    Exit {
        reason,
        esr,
        hpfar,
        gprs,
        imm: w[0] as u16,
        ripas,
    }
}

/// Writes rec_enter's flags and gprs (the fields this VMM uses; the GIC fields stay zero).
fn write_enter<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    run: u64,
    flags: RmiRecEnterFlags,
    gprs: &[u64; 31],
) {
    h.write_words(run, offset_of!(RmiRecEnter, flags), &[flags.bits()]);
    h.write_words(run, offset_of!(RmiRecEnter, gprs), gprs);
}

/// Enters the REC until the realm powers off (at most `max_entries` entries), answering its host
/// calls the way the payload's protocol says. WFI is trapped on every entry; `now` reads the
/// system counter to time the entries that end in one.
pub fn run<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    l: &mut Loaded,
    max_entries: usize,
    now: &dyn Fn() -> u64,
) -> Result<RunReport, Failure> {
    let mut report = RunReport::default();
    let rec = l.realm.recs[0];
    let rd = l.realm.rd;
    let mut flags = RmiRecEnterFlags::TRAP_WFI;
    let mut gprs = [0u64; 31];
    let mut wfi = [0u64; WFI_ITERATIONS];
    let mut wfis = 0;
    // The whole rec_enter once (GIC fields zero), then only what changes.
    h.put(l.run, &RmiRecEnter::ZERO);
    while report.entries < max_entries {
        write_enter(h, l.run, flags, &gprs);
        flags = RmiRecEnterFlags::TRAP_WFI;
        let t0 = now();
        h.expect("REC_ENTER", C::REC_ENTER, &[rec, l.run], OK)?;
        let ticks = now().wrapping_sub(t0);
        report.entries += 1;
        let exit = read_exit(h, l.run);
        gprs = [0; 31];
        match exit.reason {
            Some(RmiExitReason::Sync) if exit.esr >> 26 == EC_WFX => {
                if let Some(slot) = wfi.get_mut(wfis) {
                    *slot = ticks;
                    wfis += 1;
                }
            }
            Some(RmiExitReason::HostCall) => {
                report.host_calls += 1;
                match exit.gprs[0] {
                    ECHO => {
                        report.echo_seen_intact =
                            exit.imm == ECHO_IMM && (1..31).all(|i| exit.gprs[i] == echo_arg(i));
                        for (answer, arg) in gprs.iter_mut().zip(&exit.gprs).skip(1) {
                            *answer = !arg;
                        }
                    }
                    REPORT => report.verdict = Some(exit.gprs[1]),
                    NOP => {}
                    BENCH => {}
                    BENCH_RESULT => {
                        report.host_call_round_trip =
                            Some((exit.gprs[1], exit.gprs[2], exit.gprs[3]))
                    }
                    other => return Err(fail("unexpected host call", other)),
                }
            }
            Some(RmiExitReason::Psci) if exit.gprs[0] == PSCI_SYSTEM_OFF => {
                report.system_off = true;
                if wfis > 0 {
                    report.wfi_enter_exit = Some(summarize(&mut wfi[..wfis]));
                }
                let off = RmiReturn::new(RmiStatus::ErrorRealm, 1);
                h.expect(
                    "REC_ENTER after SYSTEM_OFF",
                    C::REC_ENTER,
                    &[rec, l.run],
                    off,
                )?;
                return Ok(report);
            }
            // A RIPAS change: applied with RTT_SET_RIPAS, except for the page the protocol says
            // the VMM refuses (then REJECT, nothing applied).
            Some(RmiExitReason::RipasChange) => {
                report.ripas_changes += 1;
                let [base, top, _] = exit.ripas;
                if base == REFUSED_IPA {
                    flags = flags.union(RmiRecEnterFlags::RIPAS_RESPONSE);
                } else {
                    let mut at = base;
                    while at < top {
                        let next =
                            h.expect("RTT_SET_RIPAS", C::RTT_SET_RIPAS, &[rd, rec, at, top], OK)?
                                [0];
                        if next <= at {
                            return Err(fail("RTT_SET_RIPAS made no progress", next));
                        }
                        at = next;
                    }
                }
            }
            // A stage-2 fault at a protected IPA with nothing assigned: map a page there (its
            // contents unknown to the realm), as a VMM populating memory on demand would.
            Some(RmiExitReason::Sync) if exit.esr >> 26 == EC_DABT => {
                let ipa = (exit.hpfar >> 4) << 12;
                if l.num_faulted_in == l.faulted_in.len() {
                    return Err(fail("too many faults to map", ipa));
                }
                let data = pool.take(1)?;
                h.delegate(&mut l.realm, data)?;
                h.expect(
                    "DATA_CREATE_UNKNOWN on a fault",
                    C::DATA_CREATE_UNKNOWN,
                    &[rd, data, ipa],
                    OK,
                )?;
                l.faulted_in[l.num_faulted_in] = (ipa, data);
                l.num_faulted_in += 1;
                report.pages_faulted_in += 1;
            }
            // An interrupt for the host: nothing to do but enter again.
            Some(RmiExitReason::Irq) | Some(RmiExitReason::Fiq) => {}
            _ => {
                return Err(fail(
                    "unexpected exit (reason, ESR)",
                    exit.reason.map_or(0xFF, |r| r as u64) | exit.esr << 8,
                ))
            }
        }
    }
    Err(fail("the realm did not power off", report.entries as u64))
}

/// Takes the realm apart (REC, data, tables, realm) and undelegates every granule it used.
pub fn unload<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    l: &Loaded,
) -> Result<(), Failure> {
    let rd = l.realm.rd;
    h.expect(
        "REC_DESTROY (payload)",
        C::REC_DESTROY,
        &[l.realm.recs[0]],
        OK,
    )?;
    for i in 0..l.data.len() {
        h.expect("DATA_DESTROY", C::DATA_DESTROY, &[rd, i as u64 * G], OK)?;
    }
    for &(ipa, _) in &l.faulted_in[..l.num_faulted_in] {
        h.expect("DATA_DESTROY (faulted in)", C::DATA_DESTROY, &[rd, ipa], OK)?;
    }
    h.expect("RTT_DESTROY level 3", C::RTT_DESTROY, &[rd, 0, 3], OK)?;
    h.expect("RTT_DESTROY level 2", C::RTT_DESTROY, &[rd, 0, 2], OK)?;
    h.expect("REALM_DESTROY (payload)", C::REALM_DESTROY, &[rd], OK)?;
    for &pa in &l.realm.delegated[..l.realm.num_delegated] {
        h.expect("UNDELEGATE (payload)", C::GRANULE_UNDELEGATE, &[pa], OK)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
