//! The hostile-host scenario: builds a realm, throws hostile calls at the RMM while it exists,
//! tears it down, and logs each stage (the steps themselves are [`crate::realm_build`]'s). It
//! owns only the order and the log lines; it must not touch memory outside its pool.

use crate::log;
use crate::realm_build::{self, Host, Pool};
use crate::rmi::RmiClient;
use crate::{Conduit, HostMemory};

/// Builds a realm (VMID 1) from `pool`, attacks the RMM (whose image lies at `rmm_base`; `secure`
/// is an address in secure memory) while it exists, tears it down; true if every step answered
/// as the RMI says.
pub fn run<C: Conduit, M: HostMemory>(
    rmi: &mut RmiClient<C>,
    mem: &mut M,
    pool: &mut Pool,
    rmm_base: u64,
    secure: u64,
) -> bool {
    let mut h = Host::new(rmi, mem);
    let result = realm_build::build(&mut h, pool, 1).and_then(|realm| {
        log::info!(
            "realm: created RD {=u64:#x} with 2 starting RTTs at {=u64:#x}, {} RECs with aux granules, RTTs at levels 2 and 3 (protected and unprotected), 2 DATA from NS + 1 unknown, 1 unprotected NS mapping; read back entry by entry, activated",
            realm.rd,
            realm.rtt_base,
            realm_build::RECS
        );
        realm_build::adversarial(&mut h, pool, &realm, rmm_base, secure)?;
        log::info!("realm: {} hostile calls refused, the realm intact", h.report.refusals);
        realm_build::teardown(&mut h, &realm)?;
        log::info!("realm: destroyed, {} granules undelegated", realm.num_delegated);
        Ok(())
    });
    match result {
        Ok(()) => true,
        Err(f) => {
            log::error!(
                "realm scenario failed at {=str}: got {=u64:#x}, expected {=u64:#x}",
                f.step,
                f.got.raw(),
                f.want.raw()
            );
            false
        }
    }
}
