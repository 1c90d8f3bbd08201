//! The RMI dispatcher: one table maps every RMI 1.0 command to its handler, argument count and
//! result count. A handler sees exactly its command's argument registers (its parameter is an
//! array of that length), and its answer goes back with the registers past its own results zero.

mod data;
mod features;
mod granule;
mod psci_complete;
mod realm;
mod rec;
mod rec_enter;
mod rtt;
mod version;

use hostcall_abi::rmi::{RmiCommand, RmiReturn, FNUM_FIRST};
use hostcall_abi::smccc::{canonical_fid, smc64_std, SMC_UNKNOWN};

pub use crate::context::RmiContext;
pub use crate::error::{Outputs, RmiError, RmiResult, NO_OUTPUTS};

/// Registers of an RMI call as EL3 delivers it: x0 = FID, x1.. = arguments.
pub type CallRegs = [u64; 8];
/// Result registers x0..x4 (TF-A forwards five).
pub type ResultRegs = [u64; 5];

/// What a table row runs for a call: its handler on the command's own argument registers, the
/// answer turned into x0..x4, the registers past its results zero.
pub type Serve = fn(&RmiContext, &CallRegs) -> ResultRegs;

/// One row of the command table.
#[derive(Clone, Copy)]
pub struct Command {
    /// Which command.
    pub cmd: RmiCommand,
    /// Runs the handler on the command's argument registers and keeps its results (the counts
    /// are the row's, in [`TABLE`]).
    pub serve: Serve,
}

/// The command's first `N` argument registers, x1..xN, in place: a handler is given these and
/// can index no other.
#[inline(always)]
fn arguments<const N: usize>(call: &CallRegs) -> &[u64; N] {
    const {
        assert!(
            N <= 7,
            "an RMI command has at most seven argument registers"
        )
    };
    match call[1..].first_chunk() {
        Some(args) => args,
        // N <= 7 = call.len() - 1, checked above when the row is built.
        None => unreachable!(),
    }
}

/// A handler's result as x0..x4: the return code, then its first `R` outputs; the outputs past
/// them go back as zero, whatever the handler left there.
#[inline(always)]
fn answer<const R: usize>(result: RmiResult) -> ResultRegs {
    const { assert!(R <= 4, "an RMI command has at most four result registers") };
    let (ret, o) = match result {
        Ok(o) => (RmiReturn::SUCCESS, o),
        Err(e) => (RmiReturn::new(e.status, e.index), e.outputs),
    };
    let keep = |i: usize| if i < R { o[i] } else { 0 };
    [ret.raw(), keep(0), keep(1), keep(2), keep(3)]
}

/// A table row: the command, its argument and result counts, and the handler, which must take
/// an array of exactly that many arguments (or the row does not build).
macro_rules! row {
    ($cmd:ident, $args:literal -> $results:literal, $handler:path) => {
        Command {
            cmd: RmiCommand::$cmd,
            serve: |ctx, call| answer::<$results>($handler(ctx, arguments::<$args>(call))),
        }
    };
}

/// Every RMI 1.0 command, in function-number order.
pub const TABLE: [Command; RmiCommand::ALL.len()] = [
    row!(VERSION, 1 -> 2, version::rmi_version),
    row!(GRANULE_DELEGATE, 1 -> 0, granule::delegate),
    row!(GRANULE_UNDELEGATE, 1 -> 0, granule::undelegate),
    row!(DATA_CREATE, 5 -> 0, data::create),
    row!(DATA_CREATE_UNKNOWN, 3 -> 0, data::create_unknown),
    row!(DATA_DESTROY, 2 -> 2, data::destroy),
    row!(REALM_ACTIVATE, 1 -> 0, realm::activate),
    row!(REALM_CREATE, 2 -> 0, realm::create),
    row!(REALM_DESTROY, 1 -> 0, realm::destroy),
    row!(REC_CREATE, 3 -> 0, rec::create),
    row!(REC_DESTROY, 1 -> 0, rec::destroy),
    row!(REC_ENTER, 2 -> 0, rec_enter::enter),
    row!(RTT_CREATE, 4 -> 0, rtt::create),
    row!(RTT_DESTROY, 3 -> 2, rtt::destroy),
    row!(RTT_MAP_UNPROTECTED, 4 -> 0, rtt::map_unprotected),
    row!(RTT_READ_ENTRY, 3 -> 4, rtt::read_entry),
    row!(RTT_UNMAP_UNPROTECTED, 3 -> 1, rtt::unmap_unprotected),
    row!(PSCI_COMPLETE, 3 -> 0, psci_complete::complete),
    row!(FEATURES, 1 -> 1, features::rmi_features),
    row!(RTT_FOLD, 3 -> 1, rtt::fold),
    row!(REC_AUX_COUNT, 1 -> 1, realm::rec_aux_count),
    row!(RTT_INIT_RIPAS, 3 -> 1, rtt::init_ripas),
    row!(RTT_SET_RIPAS, 4 -> 1, rtt::set_ripas),
];

/// Function numbers from `FNUM_FIRST` to the last command's.
const SPAN: usize = {
    let all = RmiCommand::ALL;
    (all[all.len() - 1] as u32 - FNUM_FIRST) as usize + 1
};

/// What a function number no command has runs: the host gets SMC_UNKNOWN.
fn unknown(_: &RmiContext, _: &CallRegs) -> ResultRegs {
    [SMC_UNKNOWN, 0, 0, 0, 0]
}

/// The table indexed by function number less `FNUM_FIRST`; numbers no command has run
/// [`unknown`] (a slot for each, so the dispatch has no gap to test for), and so does the slot
/// after the last, where every function ID outside the range lands.
const BY_FNUM: [Serve; SPAN + 1] = {
    let mut by: [Serve; SPAN + 1] = [unknown; SPAN + 1];
    let mut taken = [false; SPAN];
    let mut i = 0;
    while i < TABLE.len() {
        // The table covers every command exactly once, in order.
        assert!(TABLE[i].cmd as u32 == RmiCommand::ALL[i] as u32);
        let slot = (TABLE[i].cmd as u32 - FNUM_FIRST) as usize;
        assert!(!taken[slot]);
        taken[slot] = true;
        by[slot] = TABLE[i].serve;
        i += 1;
    }
    by
};

/// The slot of a raw x0 in [`BY_FNUM`]: SVE hint and bits 63:32 ignored, like
/// [`RmiCommand::from_fid`]; any function ID outside the RMI range lands in the last slot.
fn slot(x0: u64) -> usize {
    (canonical_fid(x0).wrapping_sub(smc64_std(FNUM_FIRST)) as usize).min(SPAN)
}

/// Looks up the table row for a raw x0.
pub fn lookup(fid: u64) -> Option<&'static Command> {
    let cmd = RmiCommand::from_fid(fid)?;
    TABLE.iter().find(|row| row.cmd == cmd)
}

/// Serves one RMI call: x0..x4 to hand back to the host.
pub fn handle(ctx: &RmiContext, call: &CallRegs) -> ResultRegs {
    // `slot` is at most SPAN, the last index: the bounds check folds away.
    BY_FNUM[slot(call[0])](ctx, call)
}

#[cfg(test)]
mod tests;
