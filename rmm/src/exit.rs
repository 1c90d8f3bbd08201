//! A realm exception, turned into what happens next: handled inside the RMM (resume the realm),
//! or an exit to the host with only the fields the spec names for that exit reason.

use hostcall_abi::rec_run::{RmiExitReason, RmiRecExitFields};

use crate::arch::{ExitClass, RealmExit, PSTATE_EL1H_MASKED};
use crate::realm::Rd;
use crate::rec::Rec;
use crate::rmi::RmiContext;
use crate::rsi::{self, Outcome};
use crate::sysreg_trap::{self, Trapped};

/// ESR_EL2 exception classes the RMM handles.
mod ec {
    pub const WFX: u64 = 0x01;
    pub const SYS64: u64 = 0x18;
    pub const HVC32: u64 = 0x12;
    pub const SMC32: u64 = 0x13;
    pub const HVC64: u64 = 0x16;
    pub const SMC64: u64 = 0x17;
    pub const IABT_LOWER: u64 = 0x20;
    pub const DABT_LOWER: u64 = 0x24;
    pub const DABT_CURRENT: u64 = 0x25;
}

const ESR_EC_SHIFT: u64 = 26;
const ESR_IL: u64 = 1 << 25;
/// Data fault status: synchronous external abort.
const DFSC_SEA: u64 = 0x10;
/// ISS bits of a data abort that an emulatable MMIO exit may show (ISV, SAS, SSE, SRT, SF, AR,
/// WnR) and the fault status code.
const DABT_ISS_EMULATABLE: u64 =
    (1 << 24) | (0b11 << 22) | (1 << 21) | (0x1F << 16) | (1 << 15) | (1 << 14) | (1 << 6) | 0x3F;
/// ISS bits kept for other aborts: WnR and the fault status code.
const DABT_ISS_MINIMAL: u64 = (1 << 6) | 0x3F;
/// What a trapped MRS/MSR the host emulates shows of ESR_EL2: EC, IL and the whole ISS (op0,
/// op2, op1, CRn, Rt, CRm, direction).
const ESR_SYS64_REPORTED: u64 = 0x3F << ESR_EC_SHIFT | ESR_IL | 0x3F_FFFF;
/// WFx ISS: TI (which instruction trapped).
const WFX_ISS_TI: u64 = 0b11;

/// Makes the realm take an Undefined Instruction exception at EL1 (what a realm HVC or an
/// unhandled trapped instruction gets), as the architecture would have.
pub fn inject_undef(rec: &mut Rec) {
    inject(rec, ESR_IL); // EC 0: unknown reason
}

/// Makes the realm take a synchronous external abort on a data access at `far` (the host's
/// INJECT_SEA answer to a data abort at an unprotected IPA).
pub fn inject_sea(rec: &mut Rec, far: u64) {
    let from_el0 = (rec.regs.pstate >> 2) & 0b11 == 0;
    let ec = if from_el0 {
        ec::DABT_LOWER
    } else {
        ec::DABT_CURRENT
    };
    inject(rec, (ec << ESR_EC_SHIFT) | ESR_IL | DFSC_SEA);
    rec.regs.el1.far = far;
}

/// Takes a synchronous exception to the realm's EL1 with syndrome `esr`: ELR/SPSR_EL1 record
/// where it was, and it continues at its vector for the exception level it came from.
fn inject(rec: &mut Rec, esr: u64) {
    let r = &mut rec.regs;
    r.el1.esr = esr;
    r.el1.elr = r.pc;
    r.el1.spsr = r.pstate;
    // Current EL with SP_ELx (0x200) when taken from EL1h, lower EL (0x400) from EL0.
    let from_el0 = (r.pstate >> 2) & 0b11 == 0;
    r.pc = r.el1.vbar + if from_el0 { 0x400 } else { 0x200 };
    r.pstate = PSTATE_EL1H_MASKED;
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
            e.esr = exit.esr;
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
    let class = exit.esr >> ESR_EC_SHIFT & 0x3F;
    if matches!(class, ec::SMC64 | ec::SMC32) {
        return rsi::handle_smc(ctx, rd, rec, e);
    }
    e.exit_reason = RmiExitReason::Sync as u8;
    match class {
        ec::HVC64 | ec::HVC32 => {
            inject_undef(rec);
            Outcome::Resume
        }
        ec::WFX => {
            // Only trapped when the host asked; the realm continues after the instruction.
            rec.regs.pc = rec.regs.pc.wrapping_add(4);
            e.esr = (class << ESR_EC_SHIFT) | ESR_IL | (exit.esr & WFX_ISS_TI);
            Outcome::Exit
        }
        ec::DABT_LOWER => {
            let ipa = ((exit.hpfar >> 4) << 12) | (exit.far & 0xFFF);
            let unprotected = !rd.rtt.ipa_is_protected(ipa);
            let isv = exit.esr & (1 << 24) != 0;
            e.hpfar = exit.hpfar;
            if unprotected {
                rec.unprotected_abort = Some(exit.far);
            }
            if unprotected && isv {
                e.esr = (class << ESR_EC_SHIFT) | ESR_IL | (exit.esr & DABT_ISS_EMULATABLE);
                e.far = exit.far & 0xFFF;
                rec.emulatable_abort = Some(exit.esr);
                // A store: the host needs the value written (A4.3.4.3), and only that register.
                let rt = ((exit.esr >> 16) & 0x1F) as usize;
                if exit.esr & (1 << 6) != 0 {
                    e.gprs[0] = rec.regs.gprs.get(rt).copied().unwrap_or(0); // Rt = 31: XZR
                }
            } else {
                e.esr = (class << ESR_EC_SHIFT) | (exit.esr & DABT_ISS_MINIMAL);
            }
            Outcome::Exit
        }
        ec::SYS64 => match sysreg_trap::handle(ctx, rec, exit.esr) {
            Trapped::Answered => Outcome::Resume,
            Trapped::Undefined => {
                inject_undef(rec);
                Outcome::Resume
            }
            Trapped::ForHost { value } => {
                e.esr = exit.esr & ESR_SYS64_REPORTED;
                e.gprs[0] = value;
                Outcome::Exit
            }
        },
        ec::IABT_LOWER => {
            e.esr = (class << ESR_EC_SHIFT) | (exit.esr & 0x3F);
            e.hpfar = exit.hpfar;
            Outcome::Exit
        }
        _ => {
            inject_undef(rec);
            Outcome::Resume
        }
    }
}
