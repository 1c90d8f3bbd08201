//! RMI_VERSION: revision negotiation (B4.3.23). This RMM implements exactly RMI 1.0.

use hostcall_abi::rmi::{RmiStatus, RMI_VERSION_1_0};
use hostcall_abi::AbiVersion;

use super::{RmiContext, RmiError, RmiResult};

/// Succeeds only for a request of 1.0 (bits 63:31 clear). Any other request is ERROR_INPUT; in
/// every case lower = higher = 1.0, which is both "the highest revision below the request" and
/// "equal to higher" as the spec's three cases require.
pub fn rmi_version(_: &RmiContext, args: &[u64; 1]) -> RmiResult {
    let ours = RMI_VERSION_1_0.raw();
    let outputs = [ours, ours, 0, 0];
    if args[0] == ours && AbiVersion::from_raw(args[0]) == RMI_VERSION_1_0 {
        Ok(outputs)
    } else {
        Err(RmiError {
            outputs,
            ..RmiError::new(RmiStatus::ErrorInput)
        })
    }
}
