//! Granule delegation from the host's side: the happy path (delegate, undelegate, contents wiped)
//! and the RMM's refusals (wrong state, unaligned, not delegable), on granules each CPU owns.

use hostcall_abi::rmi::{RmiReturn, RmiStatus};

use crate::rmi::RmiClient;
use crate::{Conduit, HostMemory};

const PATTERN: u8 = 0xA5;

/// What went wrong, for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Delegating a fresh NS granule failed.
    Delegate(u64, RmiReturn),
    /// Delegating an already delegated granule was not refused.
    DelegateTwice(u64, RmiReturn),
    /// Undelegating at an unaligned address was not refused.
    UndelegateUnaligned(u64, RmiReturn),
    /// Undelegating failed.
    Undelegate(u64, RmiReturn),
    /// The granule came back with the host's pattern in it: not wiped.
    NotWiped(u64),
    /// Undelegating an undelegated granule was not refused.
    UndelegateTwice(u64, RmiReturn),
    /// Delegating a non-delegable address was not refused.
    BadAddress(u64, RmiReturn),
}

impl Failure {
    /// The address involved and a description.
    pub const fn describe(self) -> (u64, &'static str) {
        match self {
            Failure::Delegate(pa, _) => (pa, "GRANULE_DELEGATE of an NS granule failed"),
            Failure::DelegateTwice(pa, _) => (pa, "second GRANULE_DELEGATE was not refused"),
            Failure::UndelegateUnaligned(pa, _) => {
                (pa, "unaligned GRANULE_UNDELEGATE was not refused")
            }
            Failure::Undelegate(pa, _) => (pa, "GRANULE_UNDELEGATE failed"),
            Failure::NotWiped(pa) => (pa, "granule returned to the host without being wiped"),
            Failure::UndelegateTwice(pa, _) => (pa, "second GRANULE_UNDELEGATE was not refused"),
            Failure::BadAddress(pa, _) => (
                pa,
                "GRANULE_DELEGATE of a non-delegable address was not refused",
            ),
        }
    }
}

/// What a run of the checks did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Summary {
    /// Granules delegated and undelegated.
    pub round_trips: usize,
    /// Refusals seen as expected.
    pub refusals: usize,
}

fn expect(ret: RmiReturn, status: RmiStatus, fail: Failure) -> Result<(), Failure> {
    if ret == RmiReturn::new(status, 0) {
        Ok(())
    } else {
        Err(fail)
    }
}

/// Delegates and undelegates each granule in `granules` (NS memory this CPU owns), checking
/// every refusal on the way, then asks for each address in `not_delegable` and expects
/// RMI_ERROR_INPUT.
pub fn run<C: Conduit, M: HostMemory>(
    rmi: &mut RmiClient<C>,
    mem: &mut M,
    granules: &[u64],
    not_delegable: &[u64],
) -> Result<Summary, Failure> {
    use RmiStatus::{ErrorInput, Success};
    let mut s = Summary::default();
    for &pa in granules {
        mem.fill(pa, PATTERN);
        let r = rmi.granule_delegate(pa);
        expect(r, Success, Failure::Delegate(pa, r))?;
        let r = rmi.granule_delegate(pa);
        expect(r, ErrorInput, Failure::DelegateTwice(pa, r))?;
        let r = rmi.granule_undelegate(pa + 8);
        expect(r, ErrorInput, Failure::UndelegateUnaligned(pa, r))?;
        let r = rmi.granule_undelegate(pa);
        expect(r, Success, Failure::Undelegate(pa, r))?;
        if !mem.all_equal(pa, 0) {
            return Err(Failure::NotWiped(pa));
        }
        let r = rmi.granule_undelegate(pa);
        expect(r, ErrorInput, Failure::UndelegateTwice(pa, r))?;
        s.round_trips += 1;
        s.refusals += 3;
    }
    for &pa in not_delegable {
        let r = rmi.granule_delegate(pa);
        expect(r, ErrorInput, Failure::BadAddress(pa, r))?;
        s.refusals += 1;
    }
    Ok(s)
}

/// Addresses on QEMU virt (TF-A `PLAT=qemu`, `-m 3G`) that the RMM must refuse to delegate:
/// flash, the UART, secure SRAM and DRAM, the RMM's own image and its shared buffer (both Realm
/// already), just past NS DRAM, the top of the address space, and an unaligned one.
pub const QEMU_NOT_DELEGABLE: [u64; 9] = [
    0x0000_0000,
    0x0900_0000,
    0x0E00_0000,
    0x0E10_0000,
    0x4010_0000,
    0x418F_F000,
    0x1_0000_0000,
    0xFFFF_FFFF_FFFF_F000,
    0x6100_0001,
];

#[cfg(test)]
mod tests;
