//! RMI_REC_ENTER (B4.3.14): run a REC until it exits to the host.
//!
//! Checks, in the spec's order: the REC granule and the RecRun granule (`rec_*`, `run_*`: all
//! ERROR_INPUT); then, with the realm's RD and the REC locked together, `rec_state` (running),
//! `rec_runnable`, `rec_mmio`, `realm_new` (ERROR_REALM, index 0), `system_off` (ERROR_REALM,
//! index 1), `rec_gicv3` and `rec_psci`. The REC is then marked running and no lock is held
//! while the realm runs; each exit is handled with the RD and the REC locked again (RSI calls read
//! the realm's RTTs and memory). The exit record written to the host is built from zero for every
//! exit, so nothing from an earlier exit, or from realm registers the exit does not name, reaches
//! the host.

use core::mem::{offset_of, size_of};
use hostcall_abi::rec_params::rec_index_to_mpidr_el1;
use hostcall_abi::rec_run::exit_esr::Esr;
use hostcall_abi::rec_run::{
    ich_hcr, RmiRecEnter, RmiRecEnterFlags, GICV3_MAX_LRS, ICH_LR_HW, REC_RUN_GPRS,
};

use hostcall_abi::rmi::RmiStatus;

use super::{RmiContext, RmiError, RmiResult, NO_OUTPUTS};
use crate::arch::Completion;
use crate::arch::{EntryTraps, RealmRegs};
use crate::granule::{GranuleState, Locked};
use crate::memory;
use crate::ns::{NsRun, NsRuns};
use crate::realm::{Rd, RealmState};
use crate::rec::{self, Rec};
use crate::rsi::{self, Outcome};
use crate::timers::Asserted;
use crate::{exit, ns};
use hostcall_abi::rec_run::{RmiExitReason, RmiRecExitFields, REC_EXIT_FIELD_RUNS};

const INPUT: RmiError = RmiError::new(RmiStatus::ErrorInput);
const REC: RmiError = RmiError::new(RmiStatus::ErrorRec);
const REALM_NEW: RmiError = RmiError::new(RmiStatus::ErrorRealm);
const SYSTEM_OFF: RmiError = RmiError {
    index: 1,
    ..RmiError::new(RmiStatus::ErrorRealm)
};

/// `ICH_LR<n>_EL2` fields (GICv3).
mod lr {
    /// State \[63:62\]: 0b00 invalid (the list register holds nothing).
    pub const STATE_SHIFT: u64 = 62;
    /// RES0 \[59:56\] and, with HW = 0, \[47:45\].
    pub const RES0: u64 = 0xF << 56 | 0b111 << 45;
    /// Priority \[55:48\].
    pub const PRIORITY_SHIFT: u64 = 48;
    /// pINTID \[44:32\], with HW = 0 all RES0 but bit 41, EOI (a maintenance interrupt on EOI).
    pub const PINTID: u64 = 0x1FFF << 32;
    pub const EOI: u64 = 1 << 41;
    /// vINTID \[31:0\].
    pub const VINTID: u64 = 0xFFFF_FFFF;
}

/// The first LPI INTID; 1020-1023 are special, 1024-8191 reserved or extended ranges.
const FIRST_LPI: u64 = 8192;
/// The highest SPI INTID.
const LAST_SPI: u64 = 1019;

/// `Gicv3ConfigIsValid` (B3.18, A6.1): only the ICH_HCR_EL2 bits a host may set; no hardware
/// interrupt in a list register; and each implemented list register that holds an interrupt an
/// architecturally valid encoding for this CPU's interface (`ich_vtr`, ICH_VTR_EL2): RES0 bits
/// and priority bits below the implemented ones zero, pINTID zero but EOI, a vINTID that is an
/// SGI, PPI, SPI or an LPI within the implemented INTID bits (not 1020-1023 nor reserved; the
/// extended PPI and SPI ranges are refused too, as this RMM does not check that the interface
/// implements them), and no vINTID in two list registers (UNPREDICTABLE in GICv3).
fn gicv3_valid(enter: &EnterRecord, ich_vtr: u64) -> bool {
    // Every list register's bits ORed: one pass, no branch per register.
    let all = enter.gicv3_lrs.iter().fold(0, |acc, lr| acc | lr);
    if !ich_hcr::enter_value_allowed(enter.gicv3_hcr) || all & ICH_LR_HW != 0 {
        return false;
    }
    // The common entry: no list register holds an interrupt, nothing more to check.
    if all >> lr::STATE_SHIFT == 0 {
        return true;
    }
    let implemented = ((ich_vtr & 0x1F) + 1) as usize; // ListRegs
    let pri_bits = ((ich_vtr >> 29) & 0b111) + 1; // PRIbits
    let priority_res0 = (1u64 << (8 - pri_bits)) - 1;
    let max_vintid = if (ich_vtr >> 23) & 0b111 == 0 {
        (1 << 16) - 1 // IDbits: 16
    } else {
        (1 << 24) - 1
    };
    let lrs = enter
        .gicv3_lrs
        .get(..implemented)
        .unwrap_or(&enter.gicv3_lrs);
    let holds = |lr: &u64| lr >> lr::STATE_SHIFT != 0;
    lrs.iter()
        .enumerate()
        .filter(|(_, l)| holds(l))
        .all(|(i, &l)| {
            let vintid = l & lr::VINTID;
            l & lr::RES0 == 0
                && (l >> lr::PRIORITY_SHIFT) & priority_res0 == 0
                && l & lr::PINTID & !lr::EOI == 0
                && (vintid <= LAST_SPI || (FIRST_LPI..=max_vintid).contains(&vintid))
                && !lrs[i + 1..]
                    .iter()
                    .any(|other| holds(other) && other & lr::VINTID == vintid)
        })
}

/// Completes an emulated MMIO read: the value from rec_enter.gprs\[0\], masked to the access size
/// and sign-extended as the syndrome says, goes to the target register; the realm moves past the
/// access. (For a write there is nothing to deliver.)
fn complete_mmio(rec: &mut Rec, esr: u64, value: u64) {
    let esr = Esr(esr);
    let rt = esr.srt();
    if !esr.write() && rt != 31 {
        let bits = 8 * esr.access_bytes() as u32;
        let mut v = if bits == 64 {
            value
        } else {
            value & ((1u64 << bits) - 1)
        };
        if esr.sign_extend() && bits < 64 && v & (1u64 << (bits - 1)) != 0 {
            v |= !((1u64 << bits) - 1);
        }
        if !esr.sixty_four() {
            v &= 0xFFFF_FFFF; // a W register
        }
        rec.regs.gprs[rt] = v;
    }
    rec.regs.complete(Completion::Done);
}

/// Locks the REC at `rec_pa` and its realm's RD (ERROR_INPUT if `rec_pa` is not a REC). The
/// REC names its RD, so it is locked first; locks are taken in address order everywhere, so the
/// RD is then waited for only if it lies above the REC. Below it, one attempt is made, and if
/// another CPU holds it the REC is let go and both are taken in order.
fn lock_rd_and_rec<'a>(
    ctx: &RmiContext<'a>,
    rec_pa: u64,
) -> Result<(Locked<'a>, Locked<'a>, u64), RmiError> {
    let rec_g = ctx
        .granules
        .lock(rec_pa, GranuleState::Rec)
        .map_err(|_| INPUT)?;
    let owner = rec::status(ctx.mem, &rec_g).rd;
    // A REC's RD holds it (num_recs): while the REC is locked, `owner` is that realm's RD.
    let rd_g = if owner > rec_pa {
        Some(ctx.granules.lock(owner, GranuleState::Rd))
    } else {
        ctx.granules.try_lock(owner, GranuleState::Rd).transpose()
    };
    match rd_g {
        Some(rd_g) => Ok((rd_g.map_err(|_| INPUT)?, rec_g, owner)),
        None => {
            drop(rec_g);
            let (rd_g, rec_g) = ctx
                .granules
                .lock_two((owner, GranuleState::Rd), (rec_pa, GranuleState::Rec))
                .map_err(|_| INPUT)?;
            // Between the two, the REC may have been destroyed and its granule reused.
            if rec::status(ctx.mem, &rec_g).rd != owner {
                return Err(INPUT);
            }
            Ok((rd_g, rec_g, owner))
        }
    }
}

/// Runs the REC at `args[0]` with the RecRun granule at `args[1]`.
pub fn enter(ctx: &RmiContext, args: &[u64; 2]) -> RmiResult {
    let (rec_pa, run_pa) = (args[0], args[1]);
    let (mut rd_g, mut rec_g, owner) = lock_rd_and_rec(ctx, rec_pa)?;
    // `rec_state`: a REC another CPU runs is its alone (`crate::rec::status`); refused below,
    // after the RecRun's own checks.
    let idle = rec::idle(ctx.mem, &mut rec_g);
    // rec_enter.gprs matter only to a host call or an emulated MMIO read being completed:
    // otherwise they stay unread (31 doublewords fewer) and zero.
    let completes = idle
        .as_ref()
        .is_some_and(|r| r.host_call.is_some() || r.emulatable_abort.is_some());
    let mut enter = EnterRecord::default();
    let runs = if completes {
        ENTER_RUNS
    } else {
        ENTER_RUNS_NO_GPRS
    };
    ns::read_map(ctx.ns, ctx.granules, run_pa, &mut enter, runs)?;
    let rd: &mut Rd = memory::get(ctx.mem, &mut rd_g);
    let rec: &mut Rec = idle.ok_or(REC)?;
    let flags = enter.flags;
    let mmio = flags.contains(RmiRecEnterFlags::EMULATED_MMIO);
    if !rec.runnable || (mmio && rec.emulatable_abort.is_none()) {
        return Err(REC);
    }
    match rd.state {
        RealmState::New => return Err(REALM_NEW),
        RealmState::SystemOff => return Err(SYSTEM_OFF),
        RealmState::Active => {}
    }
    // `rec_psci`: a PSCI request waits for RMI_PSCI_COMPLETE.
    if !gicv3_valid(&enter, ctx.rmm.ich_vtr) || rec.psci.is_some() {
        return Err(REC);
    }

    // Deliver what the host completed since the last exit: an SEA it asked for (which wins over
    // EMULATED_MMIO), or the emulated MMIO access. INJECT_SEA after any other exit does nothing.
    let sea = flags.contains(RmiRecEnterFlags::INJECT_SEA);
    if let (true, Some(abort)) = (sea, rec.unprotected_abort) {
        exit::inject_sea(rec, abort);
    } else if let (true, Some(esr)) = (mmio, rec.emulatable_abort) {
        complete_mmio(rec, esr, enter.gprs[0]);
    }
    rec.emulatable_abort = None;
    rec.unprotected_abort = None;
    // One exit record, reset before each use: nothing from an earlier exit can reach the host.
    let mut exit_record = RmiRecExitFields::default();
    if rsi::complete_host_call(ctx, rd, rec, &enter.gprs, &mut exit_record) == Outcome::Exit {
        return finish(ctx, run_pa, &exit_record);
    }
    rsi::complete_ripas_change(rec, flags.ripas_response());

    let traps = EntryTraps {
        wfi: flags.contains(RmiRecEnterFlags::TRAP_WFI),
        wfe: flags.contains(RmiRecEnterFlags::TRAP_WFE),
    };
    let s2 = rd.s2;
    let vmpidr = rec_index_to_mpidr_el1(rec.index).unwrap_or(0) | 1 << 31;
    rec.regs.gic.hcr = enter.gicv3_hcr;
    rec.regs.gic.lrs = enter.gicv3_lrs;
    // The timer outputs as the host last saw them (this entry follows a reported exit).
    let timers = Asserted::of(&rec.regs.el1);
    // The realm runs on the registers where they live, in the REC granule: no lock is held
    // while it runs. From here until `release`, this CPU owns the REC's registers, and every
    // other command either reads only the REC's status or is refused it (`crate::rec`).
    let mut claim = rec::claim(rec, rec_pa);
    drop((rd_g, rec_g));

    let mut reuse = false;
    loop {
        let realm_exit = rec::run_claimed(ctx.cpu, ctx.mem, &mut claim, &s2, traps, vmpidr);
        let (mut rd_g, mut rec_g) = ctx
            .granules
            .lock_two((owner, GranuleState::Rd), (rec_pa, GranuleState::Rec))
            .map_err(|_| INPUT)?;
        let rd: &mut Rd = memory::get(ctx.mem, &mut rd_g);
        let rec: &mut Rec = rec::owned(ctx.mem, &mut rec_g, &claim);
        // The record is still as made for the first exit; later exits start it afresh.
        if reuse {
            exit_record = RmiRecExitFields::default();
        }
        reuse = true;
        let mut outcome = exit::handle(ctx, rd, rec, realm_exit, &mut exit_record);
        // A timer output that changed while the RMM handled a call inside itself is news for
        // the host (it drives the virtual interrupt): an IRQ exit before the realm runs again.
        // Unchanged, the next run masks the same timers as the host saw (A6.2).
        if outcome == Outcome::Resume && Asserted::of(&rec.regs.el1) != timers {
            exit_record = RmiRecExitFields::default();
            exit_record.exit_reason = RmiExitReason::Irq as u8;
            outcome = Outcome::Exit;
        }
        report_interrupts_and_timers(&rec.regs, &mut exit_record);
        match outcome {
            Outcome::Resume if rd.state == RealmState::Active && rec.runnable => {}
            Outcome::Resume | Outcome::Exit => {
                rec::release(rec, claim);
                drop((rd_g, rec_g));
                return finish(ctx, run_pa, &exit_record);
            }
        }
    }
}

/// The fields every exit carries (A4.3.1): the virtual GIC interface as the realm left it (so the
/// host can see which interrupts it took) and the EL1 timers (so the host can schedule their
/// expiry).
fn report_interrupts_and_timers(regs: &RealmRegs, e: &mut RmiRecExitFields) {
    e.gicv3_hcr = regs.gic.hcr & ich_hcr::EXIT_REPORTED;
    e.gicv3_lrs = regs.gic.lrs;
    e.gicv3_misr = regs.gic.misr;
    e.gicv3_vmcr = regs.gic.vmcr;
    e.cntv_ctl = regs.el1.cntv_ctl;
    e.cntv_cval = regs.el1.cntv_cval;
    e.cntp_ctl = regs.el1.cntp_ctl;
    e.cntp_cval = regs.el1.cntp_cval;
}

/// Writes the exit record into the host's RecRun (a GPF here, from a host that changed the
/// granule's PAS meanwhile, is ERROR_INPUT).
fn finish(ctx: &RmiContext, run_pa: u64, exit: &RmiRecExitFields) -> RmiResult {
    ns::write_map(ctx.ns, ctx.granules, run_pa, exit, EXIT_RUNS)?;
    Ok(NO_OUTPUTS)
}

/// The fields of rec_enter the RMM reads (B4.4.13), compact: REC_ENTER reads only these, not the
/// reserved space of the 2 KiB rec_enter.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
struct EnterRecord {
    flags: RmiRecEnterFlags,
    gprs: [u64; REC_RUN_GPRS],
    gicv3_hcr: u64,
    gicv3_lrs: [u64; GICV3_MAX_LRS],
}

const _: () = assert!(size_of::<EnterRecord>() == 8 * (1 + REC_RUN_GPRS + 1 + GICV3_MAX_LRS));
const _: () = assert!(offset_of!(RmiRecEnter, gicv3_lrs) == offset_of!(RmiRecEnter, gicv3_hcr) + 8);

// SAFETY: repr(C) u64s (the flags are a transparent u64 whose every value is valid) with no
// padding (the size assert above): any bytes are a valid value.
unsafe impl ns::Plain for EnterRecord {}

/// (offset in [`EnterRecord`], offset in the RmiRecRun granule, bytes) of each run of fields.
const ENTER_MAP: [(usize, usize, usize); 3] = [
    (
        offset_of!(EnterRecord, flags),
        offset_of!(RmiRecEnter, flags),
        8,
    ),
    (
        offset_of!(EnterRecord, gprs),
        offset_of!(RmiRecEnter, gprs),
        8 * REC_RUN_GPRS,
    ),
    (
        offset_of!(EnterRecord, gicv3_hcr),
        offset_of!(RmiRecEnter, gicv3_hcr),
        8 * (1 + GICV3_MAX_LRS),
    ),
];

/// [`ENTER_MAP`] checked for the NS copies.
const ENTER_RUNS: NsRuns<'static> = NsRuns::new(&NsRun::from_map(ENTER_MAP));
/// [`ENTER_MAP`] but the GPRs (the run at index 1).
const ENTER_RUNS_NO_GPRS: NsRuns<'static> =
    NsRuns::new(&NsRun::from_map([ENTER_MAP[0], ENTER_MAP[2]]));
/// The exit record's runs (hostcall-abi's [`REC_EXIT_FIELD_RUNS`]) checked for the NS copies.
const EXIT_RUNS: NsRuns<'static> = NsRuns::new(&NsRun::from_map(REC_EXIT_FIELD_RUNS));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Sim;
    use hostcall_abi::rec_run::RmiRecExit;
    use hostcall_abi::wire::Wire;

    /// An NS granule of the simulated platform.
    const RUN: u64 = 0x8800_0000;

    #[test]
    fn the_exit_map_writes_every_defined_field_and_no_reserved_byte() {
        let sim = Sim::qemu();
        sim.mem.write(RUN, &[0xEE; 4096]);
        let mut e = RmiRecExitFields {
            exit_reason: 3,
            esr: 0x11,
            far: 0x12,
            hpfar: 0x13,
            gicv3_hcr: 0x21,
            gicv3_misr: 0x22,
            gicv3_vmcr: 0x23,
            cntp_ctl: 0x31,
            cntp_cval: 0x32,
            cntv_ctl: 0x33,
            cntv_cval: 0x34,
            ripas_base: 0x41,
            ripas_top: 0x42,
            ripas_value: 1,
            imm: 0x5A17,
            pmu_ovf_status: 1,
            ..RmiRecExitFields::ZERO
        };
        e.gprs = core::array::from_fn(|i| 0x100 + i as u64);
        e.gicv3_lrs = core::array::from_fn(|i| 0x200 + i as u64);
        ns::write_map(&sim, &sim.granules, RUN, &e, EXIT_RUNS).unwrap();
        let page = sim.mem.read(RUN);
        let got = RmiRecExit::decode(&page[0x800..]).unwrap();
        let mut want = RmiRecExit::decode(&[0xEE; 0x800]).unwrap();
        want.exit_reason = 3;
        (want.esr, want.far, want.hpfar) = (0x11, 0x12, 0x13);
        want.gprs = e.gprs;
        (want.gicv3_hcr, want.gicv3_misr, want.gicv3_vmcr) = (0x21, 0x22, 0x23);
        want.gicv3_lrs = e.gicv3_lrs;
        (want.cntp_ctl, want.cntp_cval, want.cntv_ctl, want.cntv_cval) = (0x31, 0x32, 0x33, 0x34);
        (want.ripas_base, want.ripas_top, want.ripas_value) = (0x41, 0x42, 1);
        want.imm = 0x5A17;
        want.pmu_ovf_status = 1;
        // The padding after the narrow fields is written as zero (it was so before, too).
        want.reserved0[..7].fill(0);
        want.reserved5[..7].fill(0);
        want.reserved6[..6].fill(0);
        want.reserved7[..7].fill(0);
        assert_eq!(got, want);
        assert!(
            page[..0x800].iter().all(|&b| b == 0xEE),
            "rec_enter untouched"
        );
    }

    #[test]
    fn the_enter_map_reads_the_fields_rec_enter_defines() {
        let sim = Sim::qemu();
        let page: [u8; 4096] = core::array::from_fn(|i| (i * 7) as u8);
        sim.mem.write(RUN, &page);
        let mut e = EnterRecord::default();
        ns::read_map(&sim, &sim.granules, RUN, &mut e, ENTER_RUNS).unwrap();
        let want = RmiRecEnter::decode(&page[..0x800]).unwrap();
        assert_eq!(e.flags, want.flags);
        assert_eq!(e.gprs, want.gprs);
        assert_eq!(e.gicv3_hcr, want.gicv3_hcr);
        assert_eq!(e.gicv3_lrs, want.gicv3_lrs);
    }
}
