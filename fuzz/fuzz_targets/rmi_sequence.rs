//! A sequence of RMI commands decoded from the input, run against the RMM on the simulated
//! platform and, side by side, against the reference model of `rmm/tests/rmi_model` (the
//! generator reads its choices from the input instead of its PRNG). A status the model does not
//! allow, an output, state, content or RTT entry that differs, a translation a TLB still holds
//! that the RTTs no longer back, a granule wiped while a TLB led into it, a failed tear-down,
//! or a panic is a crash.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmm_fuzz::harness::{Run, FUZZ_CHECK_EVERY, FUZZ_OPS};

fuzz_target!(|data: &[u8]| {
    let mut run = Run::from_bytes(data, FUZZ_OPS);
    if let Err(report) = run.drive(FUZZ_CHECK_EVERY) {
        panic!("{report}");
    }
});
