//! A realm exception, turned into what happens next: handled inside the RMM (resume the realm),
//! or an exit to the host with only the fields the spec names for that exit reason.

use hostcall_abi::rec_run::exit_esr::Esr;
use hostcall_abi::rec_run::{RmiExitReason, RmiRecExitFields};

use hostcall_abi::rtt::{Ripas, RTT_PAGE_LEVEL};

use crate::arch::{ExitClass, RealmExit, RealmRegs};
use crate::context::RmiContext;
use crate::memory::RttView;
use crate::realm::Rd;
use crate::rec::{AbortSyndrome, Rec};
use crate::rec::{Action, Outcome};
use crate::rsi;
use crate::s2tt::walk;
use crate::sysreg_trap::{self, Trapped};

/// ESR_EL2 exception classes the RMM handles.
mod ec {
    pub const UNKNOWN: u64 = 0x00;
    pub const WFX: u64 = 0x01;
    pub const SYS64: u64 = 0x18;
    pub const HVC32: u64 = 0x12;
    pub const SMC32: u64 = 0x13;
    pub const HVC64: u64 = 0x16;
    pub const SMC64: u64 = 0x17;
    pub const IABT_LOWER: u64 = 0x20;
    pub const IABT_CURRENT: u64 = 0x21;
    pub const DABT_LOWER: u64 = 0x24;
    pub const DABT_CURRENT: u64 = 0x25;
}

use hostcall_abi::rec_run::exit_esr::{self as esr, EC_MASK as ESR_EC, IL as ESR_IL};

/// The ISS fields of a syndrome this module reports or builds (one definition, shared with the
/// host: `hostcall_abi::rec_run::exit_esr`).
mod iss {
    pub use hostcall_abi::rec_run::exit_esr::{
        AET_MASK as AET, DFSC_MASK as FSC, EA, FNV, IDS, ISV, SAS_MASK as SAS, SET_MASK as SET, SF,
        TI_MASK as TI, WNR,
    };
}
/// Fault status: synchronous external abort, not on a translation table walk.
const FSC_SEA: u64 = 0x10;
/// What any data abort exit shows of ESR_EL2 (A4.3.4.3): EC, SET, FnV, EA and DFSC. The spec
/// also names IL for a non-emulatable abort at an Unprotected IPA; the reference implementation
/// and Arm's compliance tests expect IL = 0 there, which this RMM follows: IL is never shown.
const DABT_REPORTED: u64 = ESR_EC | iss::SET | iss::FNV | iss::EA | iss::FSC;
/// What an emulatable data abort exit adds (A4.3.4.3): ISV, SAS, SF and WnR. Not SSE, SRT or AR:
/// the RMM completes a read into the register itself, sign-extended as the REC's ESR says.
const DABT_EMULATABLE_REPORTED: u64 = DABT_REPORTED | iss::ISV | iss::SAS | iss::SF | iss::WNR;
/// What an instruction abort exit shows (A4.3.4.2): EC, SET, EA and IFSC.
const IABT_REPORTED: u64 = ESR_EC | iss::SET | iss::EA | iss::FSC;
/// What a WFI/WFE exit shows (A4.3.4.1): EC and TI.
const WFX_REPORTED: u64 = ESR_EC | iss::TI;
/// What an SError exit shows (A4.3.10): EC, IDS, AET, EA and DFSC.
const SERROR_REPORTED: u64 = ESR_EC | iss::IDS | iss::AET | iss::EA | iss::FSC;
/// What a trapped MRS/MSR the host emulates shows of ESR_EL2: EC, IL and the whole ISS (op0,
/// op2, op1, CRn, Rt, CRm, direction).
const ESR_SYS64_REPORTED: u64 = ESR_EC | ESR_IL | 0x3F_FFFF;

/// PSTATE fields an exception entry sets or reads (Arm ARM, `AArch64.TakeException`).
mod pstate {
    /// M\[4\]: the exception came from AArch32 (nRW).
    pub const NRW: u64 = 1 << 4;
    /// M\[3:2\]: exception level.
    pub const EL_SHIFT: u64 = 2;
    /// M\[0\]: SP_ELx selected (the "h" of EL1h).
    pub const SP: u64 = 1;
    /// EL1h: M\[3:0\] = 0b0101.
    pub const EL1H: u64 = 0b0101;
    /// D, A, I, F.
    pub const DAIF: u64 = 0b1111 << 6;
    pub const SSBS: u64 = 1 << 12;
    pub const IL: u64 = 1 << 20;
    pub const SS: u64 = 1 << 21;
    pub const PAN: u64 = 1 << 22;
    pub const UAO: u64 = 1 << 23;
    /// BTYPE \[11:10\].
    pub const BTYPE: u64 = 0b11 << 10;
    /// M\[4:0\].
    pub const M: u64 = 0x1F;
}
/// SCTLR_EL1.SPAN: when clear, taking an exception to EL1 sets PSTATE.PAN.
const SCTLR_SPAN: u64 = 1 << 23;
/// SCTLR_EL1.DSSBS: PSTATE.SSBS on exception entry to EL1.
const SCTLR_DSSBS: u64 = 1 << 44;

/// Makes the realm take an Undefined Instruction exception at EL1 (what a realm HVC or an
/// unhandled trapped instruction gets), as the architecture would have.
pub fn inject_undef(rec: &mut Rec) {
    take_sync_exception(&mut rec.regs, ec::UNKNOWN << esr::EC_SHIFT | ESR_IL);
}

/// Makes the realm take a synchronous external abort for the data abort `abort` (its ESR_EL2
/// and FAR_EL2) describes: the host's INJECT_SEA answer to a data abort at an Unprotected IPA,
/// or a data access to a Protected IPA whose RIPAS is EMPTY (A5.2.3). ESR_EL1.EA is set (A5.2.7).
pub fn inject_sea(rec: &mut Rec, abort: AbortSyndrome) {
    inject_abort(&mut rec.regs, (ec::DABT_LOWER, ec::DABT_CURRENT), abort);
}

/// Makes the realm take a synchronous external abort for the instruction abort that `abort`
/// describes: a fetch from an Unprotected IPA (A5.2.6) or from a Protected IPA whose RIPAS is
/// EMPTY (A5.2.3).
pub fn inject_instruction_sea(rec: &mut Rec, abort: AbortSyndrome) {
    inject_abort(&mut rec.regs, (ec::IABT_LOWER, ec::IABT_CURRENT), abort);
}

/// What an injected SEA keeps of the stage-2 abort's syndrome: IL and the description of the
/// access (ISV, SAS, SSE, SRT, SF, AR, SET, CM, WnR; RES0 in an instruction abort), as the
/// hardware reports a synchronous external abort on the same access. Not FnV (FAR_EL1 is set),
/// S1PTW nor the fault status, which describe the stage-2 fault.
const SEA_KEPT: u64 = ESR_IL
    | iss::ISV
    | iss::SAS
    | esr::SSE
    | esr::SRT_MASK
    | iss::SF
    | 1 << 14 // AR
    | iss::SET
    | 1 << 8 // CM
    | iss::WNR;

/// An abort (its classes from a lower EL and from the same EL), SEA, with EA.
fn inject_abort(r: &mut RealmRegs, (lower, current): (u64, u64), abort: AbortSyndrome) {
    let ec = if from_el0(r.pstate) { lower } else { current };
    take_sync_exception(
        r,
        ec << esr::EC_SHIFT | (abort.esr & SEA_KEPT) | iss::EA | FSC_SEA,
    );
    r.el1.far = abort.far;
}

const fn from_el0(pstate: u64) -> bool {
    (pstate >> pstate::EL_SHIFT) & 0b11 == 0
}

/// Takes a synchronous exception to the realm's EL1 with syndrome `esr`, as the Arm ARM's
/// exception entry does: ELR/SPSR_EL1 record where it was; it continues at VBAR_EL1 plus the
/// offset for where it came from (current EL with SP_EL0 0x000, with SP_ELx 0x200, lower EL
/// using AArch64 0x400, AArch32 0x600); PSTATE becomes EL1h with D, A, I and F masked, SS, IL,
/// BTYPE and UAO clear, PAN set unless SCTLR_EL1.SPAN, SSBS from SCTLR_EL1.DSSBS, and NZCV, DIT
/// and the rest kept.
fn take_sync_exception(r: &mut RealmRegs, esr: u64) {
    let old = r.pstate;
    let offset = if !from_el0(old) {
        if old & pstate::SP != 0 {
            0x200
        } else {
            0x000
        }
    } else if old & pstate::NRW != 0 {
        0x600
    } else {
        0x400
    };
    let sctlr = r.el1.sctlr;
    let mut new = old
        & !(pstate::M | pstate::SS | pstate::IL | pstate::BTYPE | pstate::UAO | pstate::SSBS)
        | pstate::EL1H
        | pstate::DAIF;
    if sctlr & SCTLR_SPAN == 0 {
        new |= pstate::PAN;
    }
    if sctlr & SCTLR_DSSBS != 0 {
        new |= pstate::SSBS;
    }
    r.el1.esr = esr;
    r.el1.elr = r.pc;
    r.el1.spsr = old;
    // VBAR_EL1 is the realm's: the hardware's address arithmetic wraps, and so does this.
    r.pc = r.el1.vbar.wrapping_add(offset);
    r.pstate = new;
}

/// The RIPAS of the Protected IPA `ipa`, as the realm's RTTs record it (`None` if the walk finds
/// no entry with a RIPAS, which a correct RMM never leaves). The caller holds the RD lock.
fn ripas_at(ctx: &RmiContext, rd: &Rd, ipa: u64) -> Option<Ripas> {
    let view = RttView::new(ctx.mem);
    let w = walk(&view, rd.config.rtt_base, &rd.rtt, ipa, RTT_PAGE_LEVEL)?;
    w.rtte()?.ripas()
}

/// HPFAR_EL2.FIPA, bits \[47:4\]: the faulting IPA's bits \[55:12\].
const HPFAR_FIPA: u64 = 0x0000_FFFF_FFFF_FFF0;

/// The IPA of a stage-2 abort, from HPFAR_EL2 and the page offset in FAR_EL2.
const fn fault_ipa(exit: &RealmExit) -> u64 {
    ((exit.hpfar & HPFAR_FIPA) << 8) | (exit.far & 0xFFF)
}

/// Handles one realm exit. The caller holds the realm's RD lock and owns the running REC; `e` is
/// the zeroed exit record, filled only with the fields the spec names for the exit it reports.
pub fn handle(
    ctx: &RmiContext,
    rd: &mut Rd,
    rec: &mut Rec,
    exit: RealmExit,
    e: &mut RmiRecExitFields,
) -> Outcome {
    rec.emulatable_abort = None;
    rec.unprotected_abort = None;
    match exit.class {
        ExitClass::Irq => e.exit_reason = RmiExitReason::Irq as u8,
        ExitClass::Fiq => e.exit_reason = RmiExitReason::Fiq as u8,
        ExitClass::SError => {
            e.exit_reason = RmiExitReason::Serror as u8;
            e.esr = exit.esr & SERROR_REPORTED;
        }
        ExitClass::Sync => return sync(ctx, rd, rec, exit, e),
    }
    Outcome::Exit
}

fn sync(
    ctx: &RmiContext,
    rd: &mut Rd,
    rec: &mut Rec,
    exit: RealmExit,
    e: &mut RmiRecExitFields,
) -> Outcome {
    let class = Esr(exit.esr).ec();
    if matches!(class, ec::SMC64 | ec::SMC32) {
        return rsi::handle_smc(ctx, rd, rec, e).apply(&mut rec.regs);
    }
    e.exit_reason = RmiExitReason::Sync as u8;
    match class {
        ec::HVC64 | ec::HVC32 => {
            inject_undef(rec);
            Outcome::Resume
        }
        ec::WFX => {
            // Only trapped when the host asked; the realm continues after the instruction.
            e.esr = exit.esr & WFX_REPORTED;
            Action::DoneAndExit.apply(&mut rec.regs)
        }
        ec::DABT_LOWER => {
            let ipa = fault_ipa(&exit);
            let abort = AbortSyndrome {
                esr: exit.esr,
                far: exit.far,
            };
            if rd.rtt.ipa_is_protected(ipa) {
                // A5.2.3: RIPAS EMPTY is the realm's own doing, an SEA for it and no exit.
                if ripas_at(ctx, rd, ipa) == Some(Ripas::Empty) {
                    inject_sea(rec, abort);
                    return Outcome::Resume;
                }
                e.esr = exit.esr & DABT_REPORTED;
            } else if Esr(exit.esr).isv() {
                e.esr = exit.esr & DABT_EMULATABLE_REPORTED;
                e.far = exit.far & 0xFFF;
                // The full syndrome stays with the REC: completing a read needs SRT and SSE.
                rec.emulatable_abort = Some(exit.esr);
                rec.unprotected_abort = Some(abort);
                // A store: the host needs the value written (A4.3.4.3), and only that register.
                let syndrome = Esr(exit.esr);
                if syndrome.write() {
                    // Rt = 31: XZR.
                    e.gprs[0] = rec.regs.gprs.get(syndrome.srt()).copied().unwrap_or(0);
                }
            } else {
                e.esr = exit.esr & DABT_REPORTED;
                rec.unprotected_abort = Some(abort);
            }
            e.hpfar = exit.hpfar;
            Outcome::Exit
        }
        ec::SYS64 => match sysreg_trap::handle(ctx, rec, exit.esr) {
            Trapped::Answered => Action::Done.apply(&mut rec.regs),
            Trapped::Undefined => {
                inject_undef(rec);
                Outcome::Resume
            }
            Trapped::ForHost { value } => {
                e.esr = exit.esr & ESR_SYS64_REPORTED;
                e.gprs[0] = value;
                Action::DoneAndExit.apply(&mut rec.regs)
            }
        },
        ec::IABT_LOWER => {
            let ipa = fault_ipa(&exit);
            // A5.2.6: never a fetch from an Unprotected IPA; A5.2.3: nor from RIPAS EMPTY.
            if !rd.rtt.ipa_is_protected(ipa) || ripas_at(ctx, rd, ipa) == Some(Ripas::Empty) {
                let abort = AbortSyndrome {
                    esr: exit.esr,
                    far: exit.far,
                };
                inject_instruction_sea(rec, abort);
                return Outcome::Resume;
            }
            e.esr = exit.esr & IABT_REPORTED;
            e.hpfar = exit.hpfar;
            Outcome::Exit
        }
        _ => {
            inject_undef(rec);
            Outcome::Resume
        }
    }
}
