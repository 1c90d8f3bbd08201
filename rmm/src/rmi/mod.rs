//! The RMI dispatcher: one table maps every RMI 1.0 command to its handler, argument count and
//! result count; one epilogue turns a handler's result into the registers EL3 hands the host.

mod data;
mod features;
mod granule;
mod psci_complete;
mod realm;
mod rec;
mod rec_enter;
mod rtt;
mod version;

use hostcall_abi::rmi::{RmiCommand, RmiReturn};
use hostcall_abi::smccc::SMC_UNKNOWN;

pub use crate::context::RmiContext;
pub use crate::error::{Outputs, RmiError, RmiResult, NO_OUTPUTS};

/// Registers of an RMI call as EL3 delivers it: x0 = FID, x1.. = arguments.
pub type CallRegs = [u64; 8];
/// Result registers x0..x4 (TF-A forwards five).
pub type ResultRegs = [u64; 5];

/// A handler: the context and the arguments x1..x7.
pub type HandlerFn = fn(&RmiContext, &[u64; 7]) -> RmiResult;

/// One row of the command table.
#[derive(Clone, Copy)]
pub struct Command {
    /// Which command.
    pub cmd: RmiCommand,
    /// Number of argument registers (x1..).
    pub args: usize,
    /// Number of result registers (x1..).
    pub results: usize,
    /// The handler, or `None` while the command is not served (the host gets SMC_UNKNOWN).
    pub handler: Option<HandlerFn>,
}

const fn row(cmd: RmiCommand, args: usize, results: usize, handler: Option<HandlerFn>) -> Command {
    Command {
        cmd,
        args,
        results,
        handler,
    }
}

use RmiCommand as C;

/// Every RMI 1.0 command, in function-number order.
pub const TABLE: [Command; RmiCommand::ALL.len()] = [
    row(C::VERSION, 1, 2, Some(version::rmi_version)),
    row(C::GRANULE_DELEGATE, 1, 0, Some(granule::delegate)),
    row(C::GRANULE_UNDELEGATE, 1, 0, Some(granule::undelegate)),
    row(C::DATA_CREATE, 5, 0, Some(data::create)),
    row(C::DATA_CREATE_UNKNOWN, 3, 0, Some(data::create_unknown)),
    row(C::DATA_DESTROY, 2, 2, Some(data::destroy)),
    row(C::REALM_ACTIVATE, 1, 0, Some(realm::activate)),
    row(C::REALM_CREATE, 2, 0, Some(realm::create)),
    row(C::REALM_DESTROY, 1, 0, Some(realm::destroy)),
    row(C::REC_CREATE, 3, 0, Some(rec::create)),
    row(C::REC_DESTROY, 1, 0, Some(rec::destroy)),
    row(C::REC_ENTER, 2, 0, Some(rec_enter::enter)),
    row(C::RTT_CREATE, 4, 0, Some(rtt::create)),
    row(C::RTT_DESTROY, 3, 2, Some(rtt::destroy)),
    row(C::RTT_MAP_UNPROTECTED, 4, 0, Some(rtt::map_unprotected)),
    row(C::RTT_READ_ENTRY, 3, 4, Some(rtt::read_entry)),
    row(C::RTT_UNMAP_UNPROTECTED, 3, 1, Some(rtt::unmap_unprotected)),
    row(C::PSCI_COMPLETE, 3, 0, Some(psci_complete::complete)),
    row(C::FEATURES, 1, 1, Some(features::rmi_features)),
    row(C::RTT_FOLD, 3, 1, Some(rtt::fold)),
    row(C::REC_AUX_COUNT, 1, 1, Some(realm::rec_aux_count)),
    row(C::RTT_INIT_RIPAS, 3, 1, Some(rtt::init_ripas)),
    row(C::RTT_SET_RIPAS, 4, 1, Some(rtt::set_ripas)),
];

// The table covers every command exactly once, in order, within the register budget.
const _: () = {
    let mut i = 0;
    while i < TABLE.len() {
        assert!(TABLE[i].cmd as u32 == RmiCommand::ALL[i] as u32);
        assert!(TABLE[i].args <= 7 && TABLE[i].results <= 4);
        i += 1;
    }
};

/// Looks up the table row for a raw x0.
pub fn lookup(fid: u64) -> Option<&'static Command> {
    let cmd = RmiCommand::from_fid(fid)?;
    TABLE.iter().find(|row| row.cmd == cmd)
}

/// Serves one RMI call: x0..x4 to hand back to the host.
pub fn handle(ctx: &RmiContext, call: &CallRegs) -> ResultRegs {
    let mut out = [0u64; 5];
    let Some((row, handler)) = lookup(call[0]).and_then(|r| Some((r, r.handler?))) else {
        out[0] = SMC_UNKNOWN;
        return out;
    };
    // Registers past the command's own read as zero, and results past its own go back as zero:
    // fixed-size selects, not copies of a per-command length (which become `memcpy` calls).
    let args: [u64; 7] = core::array::from_fn(|i| if i < row.args { call[i + 1] } else { 0 });
    let (ret, outputs) = match handler(ctx, &args) {
        Ok(o) => (RmiReturn::SUCCESS, o),
        Err(e) => (RmiReturn::new(e.status, e.index), e.outputs),
    };
    out[0] = ret.raw();
    for (i, o) in out[1..].iter_mut().enumerate() {
        *o = if i < row.results { outputs[i] } else { 0 };
    }
    out
}

#[cfg(test)]
mod tests;
