//! The realm PSCI scenario: the payload in its PSCI mode, one REC making every PSCI call a
//! single vCPU can (answered by the RMM; CPU_SUSPEND notified to the host), ending with
//! SYSTEM_RESET. It owns the verdict and its log lines; the run is [`crate::kvm::vmm`]'s.

use hostcall_abi::payload::MODE_PSCI;

use crate::kvm::vmm::{self, Stop};
use crate::log;
use crate::realm_build::Pool;
use crate::rmi::RmiClient;
use crate::{Conduit, HostMemory};

/// Runs `image` (the realm payload) in its PSCI mode as realm VMID 3 from `pool`; true if the
/// realm's checks passed and it ended with SYSTEM_RESET.
pub fn run<C: Conduit, M: HostMemory>(
    rmi: &mut RmiClient<C>,
    mem: &mut M,
    pool: &mut Pool,
    image: &[u8],
) -> bool {
    let start = vmm::PayloadStart {
        mode: MODE_PSCI,
        ..vmm::PayloadStart::FULL
    };
    match vmm::run_payload(rmi, mem, pool, image, 3, 64, start) {
        Ok(run) => {
            let verdict = run.vmm.payload().verdict;
            let reset = run.stop == Stop::Reset;
            match verdict {
                Some(0) => log::info!(
                    "realm PSCI: VERSION 1.1, FEATURES, MIGRATE not supported, CPU_ON with a bad entry / unknown MPIDR / itself, AFFINITY_INFO of itself and at level 1, CPU_SUSPEND: all answered by the RMM as the spec says"
                ),
                Some(v) => log::error!("realm PSCI: the realm reports failed check {=u64}", v),
                None => log::error!("realm PSCI: no verdict from the realm"),
            }
            if reset {
                log::info!("realm PSCI: SYSTEM_RESET reached the VMM as KVM_EXIT_SYSTEM_EVENT reset; realm destroyed");
            } else {
                log::error!("realm PSCI: the realm did not end with SYSTEM_RESET");
            }
            verdict == Some(0) && reset
        }
        Err(_) => {
            log::error!("realm PSCI: the scenario failed to run");
            false
        }
    }
}
