//! The error type every command handler returns, and its outputs: the bottom layer RMI, RSI,
//! NS copies and realm parameters share. It depends on nothing in the crate.

use hostcall_abi::rmi::RmiStatus;

/// A handler's outputs x1..x4.
pub type Outputs = [u64; 4];

/// Outputs of a command that has none.
pub const NO_OUTPUTS: Outputs = [0; 4];

/// A failed command: status, index, and the outputs the command defines even on failure
/// (e.g. RMI_VERSION's revisions); all other outputs read as zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RmiError {
    /// Status code.
    pub status: RmiStatus,
    /// Index (RTT level for ERROR_RTT, per-command for ERROR_REALM, else 0).
    pub index: u8,
    /// Outputs defined on failure.
    pub outputs: Outputs,
}

impl RmiError {
    /// A failure with index 0 and no outputs.
    pub const fn new(status: RmiStatus) -> Self {
        Self {
            status,
            index: 0,
            outputs: [0; 4],
        }
    }
}

/// What a handler returns.
pub type RmiResult = Result<Outputs, RmiError>;
