//! A realm's trapped MRS/MSR (ESR_EL2.EC 0x18): what the RMM answers itself, what it hands to
//! the host, and what is undefined for the realm.
//!
//! - Reads of the ID registers (HCR_EL2.TID3) get the realm's view of them ([`crate::id_regs`]).
//! - The debug registers (op0 = 2: breakpoints, watchpoints, the OS lock, MDSCR_EL1 and the rest
//!   that MDCR_EL2.TDA/TDOSA/TDRA and CPTR_EL2.TTA trap) and the RAS error records
//!   (HCR_EL2.TERR) read as zero and ignore writes: the RMM does not switch them, so neither the
//!   host nor a realm may see or change the other's.
//! - Writes to ICC_SGI1R_EL1, ICC_ASGI1R_EL1, ICC_SGI0R_EL1 (always trapped with interrupts
//!   virtualized) and ICC_DIR_EL1 (trapped when the host sets ICH_HCR_EL2.TDIR) go to the host,
//!   which emulates them (sends the SGI, deactivates the interrupt).
//! - The data cache maintenance operations by set/way (DC ISW, CSW, CISW and their MTE tag
//!   variants, trapped by HCR_EL2.TSW) complete with no effect, which A5.2.10 allows for an
//!   invalidate and which is also right for a clean here: the realm's stage 2 forces write-back
//!   cacheable memory (HCR_EL2.FWB), so there is nothing its own caches hold that a clean would
//!   make visible to an observer it can share memory with; and set/way operations act on the
//!   whole of this CPU's caches, lines of the host and of other realms included, which a realm
//!   must not be able to evict (a timing channel) nor rely on (its vCPU may move between CPUs).
//! - Anything else (PMU and SPE registers, ID register writes, ACTLR_EL1, LORegions) is undefined.
//!
//! Owns the decoding and the decision; the exit handler builds the exit.

use hostcall_abi::rec_run::exit_esr::Esr;

use crate::context::RmiContext;
use crate::id_regs::{self, IdRegister};
use crate::rec::Rec;

/// What became of a trapped access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trapped {
    /// Answered by the RMM (a read's register written): the realm moves past the instruction.
    Answered,
    /// A write for the host to emulate, with the value written: the realm moves past the
    /// instruction and the host is told.
    ForHost {
        /// The value of the source register (zero for XZR).
        value: u64,
    },
    /// Undefined for the realm (the caller makes it take the exception).
    Undefined,
}

/// A trapped MRS/MSR, as [`Esr::sysreg`] decodes its ISS.
struct Access {
    op0: u64,
    op1: u64,
    crn: u64,
    crm: u64,
    op2: u64,
    rt: usize,
    read: bool,
}

impl Access {
    const fn decode(esr: u64) -> Self {
        let a = Esr(esr).sysreg();
        Self {
            op0: a.op0 as u64,
            op2: a.op2 as u64,
            op1: a.op1 as u64,
            crn: a.crn as u64,
            rt: a.rt,
            crm: a.crm as u64,
            read: a.read,
        }
    }

    /// The ID register it names (op0 3, op1 0, CRn 0, CRm 1..=7), if any.
    fn id_register(&self) -> Option<IdRegister> {
        if (self.op0, self.op1, self.crn) == (3, 0, 0) && matches!(self.crm, 1..=7) {
            Some(IdRegister {
                crm: self.crm as u8,
                op2: self.op2 as u8,
            })
        } else {
            None
        }
    }

    /// ERRIDR_EL1 and ERRSELR_EL1 (op0 3, op1 0, CRn 5, CRm 3), ERXFR/CTLR/STATUS/ADDR_EL1
    /// (CRm 4), ERXMISC0..3_EL1 (CRm 5).
    fn is_error_record(&self) -> bool {
        (self.op0, self.op1, self.crn) == (3, 0, 5) && matches!(self.crm, 3..=5)
    }

    /// DC ISW/IGSW/IGDSW (CRm 6), DC CSW/CGSW/CGDSW (CRm 10), DC CISW/CIGSW/CIGDSW (CRm 14):
    /// op0 1, op1 0, CRn 7, op2 2, 4 or 6.
    fn is_set_way(&self) -> bool {
        !self.read
            && (self.op0, self.op1, self.crn) == (1, 0, 7)
            && matches!(self.crm, 6 | 10 | 14)
            && matches!(self.op2, 2 | 4 | 6)
    }

    /// A write to ICC_DIR_EL1 (op2 1), ICC_SGI1R_EL1 (5), ICC_ASGI1R_EL1 (6) or ICC_SGI0R_EL1
    /// (7): op0 3, op1 0, CRn 12, CRm 11.
    fn is_gic_write(&self) -> bool {
        !self.read
            && (self.op0, self.op1, self.crn, self.crm) == (3, 0, 12, 11)
            && matches!(self.op2, 1 | 5 | 6 | 7)
    }
}

/// Handles the trapped access ESR_EL2 `esr` describes.
pub fn handle(ctx: &RmiContext, rec: &mut Rec, esr: u64) -> Trapped {
    let a = Access::decode(esr);
    let regs = &mut rec.regs;
    if a.is_gic_write() {
        // Rt = 31 is XZR.
        let value = regs.gprs.get(a.rt).copied().unwrap_or(0);
        return Trapped::ForHost { value };
    }
    if a.is_set_way() {
        return Trapped::Answered;
    }
    let value = match a.id_register() {
        Some(reg) if a.read => id_regs::realm_view(reg, ctx.cpu.read_id_register(reg)),
        _ if a.op0 == 2 || a.is_error_record() => 0,
        _ => return Trapped::Undefined,
    };
    if a.read {
        // Rt = 31 is XZR: the value goes nowhere.
        if let Some(r) = regs.gprs.get_mut(a.rt) {
            *r = value;
        }
    }
    Trapped::Answered
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ESR of `mrs x<rt>, S<op0>_<op1>_C<crn>_C<crm>_<op2>` (a read: direction 1).
    fn mrs(op0: u64, op1: u64, crn: u64, crm: u64, op2: u64, rt: u64) -> u64 {
        0x18 << 26
            | 1 << 25
            | op0 << 20
            | op2 << 17
            | op1 << 14
            | crn << 10
            | rt << 5
            | crm << 1
            | 1
    }

    #[test]
    fn only_the_id_space_decodes_as_id_registers() {
        let id = |esr| Access::decode(esr).id_register();
        assert_eq!(id(mrs(3, 0, 0, 4, 0, 7)), Some(IdRegister::AA64PFR0));
        assert_eq!(
            id(mrs(3, 0, 0, 7, 7, 0)),
            Some(IdRegister { crm: 7, op2: 7 })
        );
        // MIDR_EL1 (CRm 0), a CRn 1 register, an op1 3 register, op0 2: not ID registers.
        for other in [
            mrs(3, 0, 0, 0, 0, 1),
            mrs(3, 0, 1, 0, 0, 1),
            mrs(3, 3, 0, 4, 0, 1),
            mrs(2, 0, 0, 4, 0, 1),
        ] {
            assert_eq!(id(other), None, "{other:#x}");
        }
    }
}
