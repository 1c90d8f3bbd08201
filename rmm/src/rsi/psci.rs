//! PSCI for realms (B6.3), serviced by the RMM. This file covers the functions that need no
//! answer from the host: VERSION, FEATURES, CPU_SUSPEND, CPU_OFF, SYSTEM_OFF and SYSTEM_RESET.
//! CPU_ON and AFFINITY_INFO (which ask the host, completed by RMI_PSCI_COMPLETE) answer
//! NOT_SUPPORTED until that exchange is implemented.

use hostcall_abi::psci::{PsciFunction, PsciReturn, PSCI_VERSION_1_1};
use hostcall_abi::rec_run::{RmiExitReason, RmiRecExit};

use super::{answer, Outcome};
use crate::realm::{Rd, RealmState};
use crate::rec::Rec;

fn notify(rec: &Rec, fid: u32, args: usize, exit: &mut RmiRecExit) -> Outcome {
    exit.exit_reason = RmiExitReason::Psci as u8;
    exit.gprs[0] = fid as u64;
    exit.gprs[1..=args].copy_from_slice(&rec.regs.gprs[1..=args]);
    Outcome::Exit
}

/// Handles PSCI function `fid` (SVE hint stripped) from the realm.
pub fn call(rd: &mut Rd, rec: &mut Rec, fid: u32, exit: &mut RmiRecExit) -> Outcome {
    let not_supported = PsciReturn::NotSupported.raw();
    let Some(f) = PsciFunction::from_fid(fid as u64) else {
        return answer(rec, [not_supported, 0, 0, 0]);
    };
    match f {
        PsciFunction::VERSION => answer(rec, [PSCI_VERSION_1_1.raw(), 0, 0, 0]),
        PsciFunction::FEATURES => {
            let queried = PsciFunction::from_fid(rec.regs.gprs[1]);
            let served = matches!(
                queried,
                Some(
                    PsciFunction::VERSION
                        | PsciFunction::FEATURES
                        | PsciFunction::CPU_SUSPEND
                        | PsciFunction::CPU_OFF
                        | PsciFunction::SYSTEM_OFF
                        | PsciFunction::SYSTEM_RESET
                )
            );
            let r = if served {
                PsciReturn::Success.raw()
            } else {
                not_supported
            };
            answer(rec, [r, 0, 0, 0])
        }
        PsciFunction::CPU_SUSPEND => {
            // Treated as a suspend that wakes at once; the host is told.
            let out = notify(rec, fid, 3, exit);
            answer(rec, [PsciReturn::Success.raw(), 0, 0, 0]);
            out
        }
        PsciFunction::CPU_OFF => {
            rec.runnable = false;
            notify(rec, fid, 0, exit)
        }
        PsciFunction::SYSTEM_OFF | PsciFunction::SYSTEM_RESET => {
            rd.state = RealmState::SystemOff;
            notify(rec, fid, 0, exit)
        }
        _ => answer(rec, [not_supported, 0, 0, 0]),
    }
}
