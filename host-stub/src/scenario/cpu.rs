//! The per-CPU checks every CPU runs once it is up: the bring-up checks of [`crate::bringup`]
//! and the delegation checks of [`crate::delegation`], their log lines and the CPU's verdict.
//! It must not touch memory other than the CPU's own granules it is given.

use crate::bringup::{self, CpuReport};
use crate::delegation;
use crate::log;
use crate::rmi::RmiClient;
use crate::{Conduit, HostMemory};

/// Runs the bring-up checks on CPU `slot` (RMI_VERSION, RMI_FEATURES, unused function IDs)
/// and the delegation checks over its own granules `pages` and the addresses the RMM must
/// refuse (`not_delegable`), and logs them; true if every one passed.
pub fn run<C: Conduit, M: HostMemory>(
    rmi: &mut RmiClient<C>,
    mem: &mut M,
    slot: usize,
    pages: &[u64],
    not_delegable: &[u64],
) -> bool {
    let report = bringup::run(rmi);
    log_report(slot, &report);
    let delegation = delegation::run(rmi, mem, pages, not_delegable);
    let delegation_ok = match delegation {
        Ok(s) => {
            log::info!(
                "cpu {}: GRANULE_DELEGATE/UNDELEGATE of {} granules, contents wiped; {} refusals as expected",
                slot,
                s.round_trips,
                s.refusals
            );
            true
        }
        Err(f) => {
            let (pa, what) = f.describe();
            log::error!(
                "cpu {}: delegation check failed at {=u64:#x}: {=str}",
                slot,
                pa,
                what
            );
            false
        }
    };
    delegation_ok
        && match report.verdict() {
            Ok(()) => {
                log::info!("cpu {}: RMI checks passed", slot);
                true
            }
            Err(f) => {
                log::error!("cpu {}: RMI check failed: {=str}", slot, f.describe());
                false
            }
        }
}

/// Logs what CPU `slot`'s bring-up checks saw.
fn log_report(slot: usize, r: &CpuReport) {
    let v = &r.version;
    log::info!(
        "cpu {}: RMI_VERSION(1.0) -> {=str}, lower {}.{}, higher {}.{}",
        slot,
        v.ret.status_name(),
        v.lower.major(),
        v.lower.minor(),
        v.higher.major(),
        v.higher.minor()
    );
    let v = &r.refused;
    log::info!(
        "cpu {}: RMI_VERSION(2.0) -> {=str}, lower {}.{}, higher {}.{}",
        slot,
        v.ret.status_name(),
        v.lower.major(),
        v.lower.minor(),
        v.higher.major(),
        v.higher.minor()
    );
    let (ret, f) = r.features;
    log::info!(
        "cpu {}: RMI_FEATURES(0) -> {=str}, {=u64:#x}: S2SZ {=u64}, LPA2 {=u64}, SVE {=u64} (VL {=u64}), BPs {=u64}, WPs {=u64}, PMU {=u64} ({=u64} counters), SHA-256 {=u64}, SHA-512 {=u64}, GICv3 LRs {=u64}, MAX_RECS_ORDER {=u64}",
        slot,
        ret.status_name(),
        f.0,
        f.s2sz(),
        f.lpa2(),
        f.sve_en(),
        f.sve_vl(),
        f.num_bps(),
        f.num_wps(),
        f.pmu_en(),
        f.pmu_num_ctrs(),
        f.hash_sha_256(),
        f.hash_sha_512(),
        f.gicv3_num_lrs(),
        f.max_recs_order()
    );
    let unknown_ok = r
        .unknown
        .iter()
        .all(|&x| x == hostcall_abi::smccc::SMC_UNKNOWN);
    log::info!(
        "cpu {}: {} unused RMI FIDs -> {=str}; RMI_VERSION after them -> {=str}",
        slot,
        r.unknown.len(),
        if unknown_ok {
            "SMC_UNKNOWN"
        } else {
            "UNEXPECTED"
        },
        r.version_after.ret.status_name()
    );
}
