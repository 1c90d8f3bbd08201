//! The image's scenarios, as logic: what each one builds, runs, checks and logs, and its
//! verdict.
//!
//! Each submodule owns one scenario and talks to the RMM only through an [`RmiClient`] (or an
//! [`crate::kvm::RmmLink`]) over a [`Conduit`], to the host's memory through [`HostMemory`],
//! and to the host's hardware (its timer and interrupt controller, FP/SIMD registers, the
//! runner's files, the other CPUs) through a small trait of its own that the image implements.
//! So `cargo test` runs every scenario against the RMM's real handlers on the simulated
//! platform. They must not touch hardware, own statics or decide which scenario runs: the image
//! does the bring-up and the wiring.
//!
//! [`RmiClient`]: crate::rmi::RmiClient
//! [`Conduit`]: crate::Conduit
//! [`HostMemory`]: crate::HostMemory

pub mod cpu;
pub mod hostile;
pub mod isolation;
pub mod linux;
pub mod payload;
pub mod psci;
pub mod smp;
pub mod storm;

use crate::log;
use crate::rmi::RmiClient;
use crate::Conduit;

/// Calls RMI_VERSION `N` times, timing each with `clock` (host SMC to host resume, through EL3
/// and the RMM), and logs the median, minimum and maximum.
// Not inlined: `cargo xtask bench` finds its calls in the per-PC trace by this symbol.
#[inline(never)]
pub fn bench_rmi_version<C: Conduit>(
    rmi: &mut RmiClient<C>,
    clock: fn() -> u64,
) -> (u64, u64, u64) {
    const N: usize = 128;
    let mut samples = [0u64; N];
    for s in samples.iter_mut() {
        let t0 = clock();
        rmi.version(hostcall_abi::rmi::RMI_VERSION_1_0);
        *s = clock().wrapping_sub(t0);
    }
    let (median, min, max) = hostcall_abi::payload::summarize(&mut samples);
    log::info!(
        "bench: RMI_VERSION: median {=u64} ticks (min {=u64}, max {=u64}) over {} calls",
        median,
        min,
        max,
        N
    );
    (median, min, max)
}

/// The bench's delegation figure: GRANULE_DELEGATE then GRANULE_UNDELEGATE of the NS granule
/// `pa`, 128 times, each pair timed with `clock` (EL3's GPT updates included). Returns the
/// (median, min, max) ticks of a pair, or `None` if the RMM refused a command (logged).
// Not inlined: `cargo xtask bench` finds its calls in the per-PC trace by this symbol.
#[inline(never)]
pub fn bench_delegation<C: Conduit>(
    rmi: &mut RmiClient<C>,
    pa: u64,
    clock: fn() -> u64,
) -> Option<(u64, u64, u64)> {
    use hostcall_abi::rmi::{RmiCommand, RmiReturn};
    const N: usize = 128;
    let mut samples = [0u64; N];
    for s in samples.iter_mut() {
        let t0 = clock();
        let (d, _) = rmi.cmd(RmiCommand::GRANULE_DELEGATE, &[pa]);
        let (u, _) = rmi.cmd(RmiCommand::GRANULE_UNDELEGATE, &[pa]);
        *s = clock().wrapping_sub(t0);
        if d != RmiReturn::SUCCESS || u != RmiReturn::SUCCESS {
            log::error!(
                "bench: GRANULE_DELEGATE/UNDELEGATE({=u64:#x}) refused: {=str}, {=str}",
                pa,
                d.status_name(),
                u.status_name()
            );
            return None;
        }
    }
    let (median, min, max) = hostcall_abi::payload::summarize(&mut samples);
    log::info!(
        "bench: GRANULE_DELEGATE + UNDELEGATE: median {=u64} ticks (min {=u64}, max {=u64}) over {} pairs",
        median,
        min,
        max,
        N
    );
    Some((median, min, max))
}

#[cfg(test)]
mod tests;
