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

use core::mem::{offset_of, size_of_val};
use hostcall_abi::rec_params::rec_index_to_mpidr_el1;
use hostcall_abi::rec_run::{ich_hcr, RmiRecEnter, RmiRecEnterFlags, RmiRecExit, ICH_LR_HW};

use hostcall_abi::rmi::RmiStatus;

use super::{RmiContext, RmiError, RmiResult, NO_OUTPUTS};
use crate::arch::{EntryTraps, RealmRegs};
use crate::granule::GranuleState;
use crate::memory;
use crate::realm::{Rd, RealmState};
use crate::rec::Rec;
use crate::rsi::{self, Outcome};
use crate::{exit, ns};

const INPUT: RmiError = RmiError::new(RmiStatus::ErrorInput);
const REC: RmiError = RmiError::new(RmiStatus::ErrorRec);
const REALM_NEW: RmiError = RmiError::new(RmiStatus::ErrorRealm);
const SYSTEM_OFF: RmiError = RmiError {
    index: 1,
    ..RmiError::new(RmiStatus::ErrorRealm)
};

/// Offset of rec_exit in an RmiRecRun.
const EXIT_OFFSET: usize = 0x800;

/// `Gicv3ConfigIsValid`: only the ICH_HCR_EL2 bits a host may set, and no hardware interrupt in a
/// list register.
fn gicv3_valid(enter: &RmiRecEnter) -> bool {
    ich_hcr::enter_value_allowed(enter.gicv3_hcr)
        && enter.gicv3_lrs.iter().all(|lr| lr & ICH_LR_HW == 0)
}

/// Completes an emulated MMIO read: the value from rec_enter.gprs[0], masked to the access size
/// and sign-extended as the syndrome says, goes to the target register; the realm moves past the
/// access. (For a write there is nothing to deliver.)
fn complete_mmio(rec: &mut Rec, esr: u64, value: u64) {
    let write = esr & (1 << 6) != 0;
    let rt = ((esr >> 16) & 0x1F) as usize;
    if !write && rt != 31 {
        let bits = 8u32 << ((esr >> 22) & 0b11);
        let mut v = if bits == 64 {
            value
        } else {
            value & ((1u64 << bits) - 1)
        };
        if esr & (1 << 21) != 0 && bits < 64 && v & (1u64 << (bits - 1)) != 0 {
            v |= !((1u64 << bits) - 1); // SSE: sign-extend
        }
        if esr & (1 << 15) == 0 {
            v &= 0xFFFF_FFFF; // SF clear: a W register
        }
        rec.regs.gprs[rt] = v;
    }
    rec.regs.pc = rec.regs.pc.wrapping_add(4);
}

/// Runs the REC at `args[0]` with the RecRun granule at `args[1]`.
pub fn enter(ctx: &RmiContext, args: &[u64; 7]) -> RmiResult {
    let (rec_pa, run_pa) = (args[0], args[1]);
    let owner = {
        let mut g = ctx
            .granules
            .lock(rec_pa, GranuleState::Rec)
            .map_err(|_| INPUT)?;
        memory::get::<Rec>(ctx.mem, &mut g).rd
    };
    let mut enter = RmiRecEnter::ZERO;
    ns::read_fields(ctx.ns, ctx.granules, run_pa, 0, &mut enter, &ENTER_FIELDS)?;
    // The RD is locked before what the realm owns: take both in address order.
    let (mut rd_g, mut rec_g) = ctx
        .granules
        .lock_two((owner, GranuleState::Rd), (rec_pa, GranuleState::Rec))
        .map_err(|_| INPUT)?;
    let rd: &mut Rd = memory::get(ctx.mem, &mut rd_g);
    let rec: &mut Rec = memory::get(ctx.mem, &mut rec_g);
    if rec.rd != owner {
        return Err(INPUT);
    }
    let flags = enter.flags;
    let mmio = flags.contains(RmiRecEnterFlags::EMULATED_MMIO);
    if rec.running || !rec.runnable || (mmio && rec.emulatable_abort.is_none()) {
        return Err(REC);
    }
    match rd.state {
        RealmState::New => return Err(REALM_NEW),
        RealmState::SystemOff => return Err(SYSTEM_OFF),
        RealmState::Active => {}
    }
    // `rec_psci`: a PSCI request waits for RMI_PSCI_COMPLETE.
    if !gicv3_valid(&enter) || rec.psci.is_some() {
        return Err(REC);
    }

    // Deliver what the host completed since the last exit: an SEA it asked for (which wins over
    // EMULATED_MMIO), or the emulated MMIO access. INJECT_SEA after any other exit does nothing.
    let sea = flags.contains(RmiRecEnterFlags::INJECT_SEA);
    if let (true, Some(far)) = (sea, rec.unprotected_abort) {
        exit::inject_sea(rec, far);
    } else if let (true, Some(esr)) = (mmio, rec.emulatable_abort) {
        complete_mmio(rec, esr, enter.gprs[0]);
    }
    rec.emulatable_abort = None;
    rec.unprotected_abort = None;
    // One exit record, zeroed before each use: nothing from an earlier exit can reach the host.
    let mut exit_record = RmiRecExit::ZERO;
    if rsi::complete_host_call(ctx, rd, rec, &enter.gprs, &mut exit_record) == Outcome::Exit {
        return finish(ctx, run_pa, &exit_record);
    }
    rsi::complete_ripas_change(rec, flags.ripas_response());

    let traps = EntryTraps {
        wfi: flags.contains(RmiRecEnterFlags::TRAP_WFI),
        wfe: flags.contains(RmiRecEnterFlags::TRAP_WFE),
    };
    let s2 = rd.stage2(ctx.rmm.features.s2sz(), ctx.rmm.vmid16);
    let vmpidr = rec_index_to_mpidr_el1(rec.index).unwrap_or(0) | 1 << 31;
    rec.regs.gic.hcr = enter.gicv3_hcr;
    rec.regs.gic.lrs = enter.gicv3_lrs;
    rec.running = true;
    // The realm runs on the registers where they live, in the REC granule: no lock is held
    // while it runs, and nothing else touches a running REC's registers (see below).
    let regs: *mut RealmRegs = &mut rec.regs;
    drop((rd_g, rec_g));

    loop {
        // SAFETY: 1. `regs` points into the REC granule, which stays a REC while `running` is
        // set (REC_DESTROY refuses a running REC). 2. Nothing else reads or writes a running
        // REC's registers (REC_ENTER refuses it; PSCI_COMPLETE changes only a caller, which has
        // a request pending and so is not running, and a target that is off), and no guard's
        // reference to the REC is alive here: this is the only reference, until `run` returns.
        let realm_exit = ctx.cpu.run(unsafe { &mut *regs }, &s2, traps, vmpidr);
        let (mut rd_g, mut rec_g) = ctx
            .granules
            .lock_two((owner, GranuleState::Rd), (rec_pa, GranuleState::Rec))
            .map_err(|_| INPUT)?;
        let rd: &mut Rd = memory::get(ctx.mem, &mut rd_g);
        let rec: &mut Rec = memory::get(ctx.mem, &mut rec_g);
        clear_defined_fields(&mut exit_record);
        let outcome = exit::handle(ctx, rd, rec, realm_exit, &mut exit_record);
        report_interrupts_and_timers(&rec.regs, &mut exit_record);
        match outcome {
            Outcome::Resume if rd.state == RealmState::Active && rec.runnable => {}
            Outcome::Resume | Outcome::Exit => {
                rec.running = false;
                drop((rd_g, rec_g));
                return finish(ctx, run_pa, &exit_record);
            }
        }
    }
}

/// Zeroes every field of `e` that [`EXIT_FIELDS`] writes to the host (cheaper than zeroing the
/// whole 2 KiB record on every exit; the reserved space stays zero from the start).
fn clear_defined_fields(e: &mut RmiRecExit) {
    e.exit_reason = 0;
    (e.esr, e.far, e.hpfar) = (0, 0, 0);
    e.gprs = [0; 31];
    (e.gicv3_hcr, e.gicv3_misr, e.gicv3_vmcr) = (0, 0, 0);
    e.gicv3_lrs = [0; 16];
    (e.cntp_ctl, e.cntp_cval, e.cntv_ctl, e.cntv_cval) = (0, 0, 0, 0);
    (e.ripas_base, e.ripas_top, e.ripas_value) = (0, 0, 0);
    e.imm = 0;
    e.pmu_ovf_status = 0;
}

/// The fields every exit carries (A4.3.1): the virtual GIC interface as the realm left it (so the
/// host can see which interrupts it took) and the EL1 timers (so the host can schedule their
/// expiry).
fn report_interrupts_and_timers(regs: &RealmRegs, e: &mut RmiRecExit) {
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
fn finish(ctx: &RmiContext, run_pa: u64, exit: &RmiRecExit) -> RmiResult {
    ns::write_fields(
        ctx.ns,
        ctx.granules,
        run_pa,
        EXIT_OFFSET,
        exit,
        &EXIT_FIELDS,
    )?;
    Ok(NO_OUTPUTS)
}

/// (offset, length) of a field of `T`.
macro_rules! field {
    ($t:ty, $f:ident) => {
        (offset_of!($t, $f), size_of_val(&<$t>::ZERO.$f))
    };
}

/// What REC_ENTER reads of rec_enter: every field the spec defines, not the reserved space.
const ENTER_FIELDS: [(usize, usize); 4] = [
    field!(RmiRecEnter, flags),
    field!(RmiRecEnter, gprs),
    field!(RmiRecEnter, gicv3_hcr),
    field!(RmiRecEnter, gicv3_lrs),
];

/// What every exit writes of rec_exit: every field the spec defines (zero where the exit does
/// not set it), so nothing from an earlier exit survives in a defined field. The reserved space
/// between them is never written by the RMM, so it holds nothing of a realm's.
const EXIT_FIELDS: [(usize, usize); 8] = [
    (offset_of!(RmiRecExit, exit_reason), 8), // the 8-bit reason and its padding to 64 bits
    (offset_of!(RmiRecExit, esr), 24),        // esr, far, hpfar
    field!(RmiRecExit, gprs),
    (offset_of!(RmiRecExit, gicv3_hcr), 8 * 19), // hcr, lrs[16], misr, vmcr
    (offset_of!(RmiRecExit, cntp_ctl), 32),      // cntp_ctl, cntp_cval, cntv_ctl, cntv_cval
    (offset_of!(RmiRecExit, ripas_base), 24),    // ripas_base, ripas_top, ripas_value (+pad)
    (offset_of!(RmiRecExit, imm), 8),            // imm and its padding to 64 bits
    (offset_of!(RmiRecExit, pmu_ovf_status), 8),
];

#[cfg(test)]
mod tests {
    use super::*;
    use hostcall_abi::wire::Wire;

    #[test]
    fn clearing_the_defined_fields_leaves_a_zero_record() {
        // A record with every byte set, reserved ones left at zero as REC_ENTER starts them:
        // after clearing, it equals the zero record.
        let mut e = RmiRecExit::decode(&[0xFF; 0x800]).expect("decode");
        e.reserved0 = [0; 0xFF];
        e.reserved1 = RmiRecExit::ZERO.reserved1;
        e.reserved2 = RmiRecExit::ZERO.reserved2;
        e.reserved3 = RmiRecExit::ZERO.reserved3;
        e.reserved4 = RmiRecExit::ZERO.reserved4;
        e.reserved5 = RmiRecExit::ZERO.reserved5;
        e.reserved6 = RmiRecExit::ZERO.reserved6;
        e.reserved7 = RmiRecExit::ZERO.reserved7;
        clear_defined_fields(&mut e);
        assert_eq!(e, RmiRecExit::ZERO);
    }
}
