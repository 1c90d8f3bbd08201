//! The isolation scenario: every race of [`crate::isolation`] between a running REC on another
//! CPU and the host over one of the realm's stage-2 mappings, one after the other, with the
//! verdict of each and its log lines. The races themselves are [`crate::isolation`]'s; the
//! other CPU comes in through [`OtherCpu`]. It must not touch memory outside the pools and the
//! NS block it is given.

use hostcall_abi::payload::isolation as iso;
use hostcall_abi::GRANULE_SIZE;

use crate::isolation::{self, End, OtherCpu, Setup, RACES};
use crate::log;
use crate::realm_build::{Host, Pool};
use crate::rmi::RmiClient;
use crate::{Conduit, HostMemory};

/// Where the races run: the CPUs, the memory each race takes its granules from, and the 2 MiB
/// NS block the fold and unfold races map.
#[derive(Clone, Copy, Debug)]
pub struct Wiring<'a> {
    /// The realm payload's image.
    pub image: &'a [u8],
    /// CPUs the host brought up.
    pub slots: usize,
    /// The host CPU (slot) that runs the racing RECs.
    pub race_slot: u64,
    /// Race `i` takes its granules from `[pools + i * pool_size, + pool_size)`.
    pub pools: u64,
    /// Bytes of each race's pool.
    pub pool_size: u64,
    /// The NS block ([`isolation::NS_BLOCK_SIZE`], aligned to it).
    pub ns_block: u64,
}

/// Runs every race of [`crate::isolation`] with the racing REC on `other` (the CPU in
/// `w.race_slot`); true if in each the realm no longer reached the granule.
pub fn run<C: Conduit, M: HostMemory, O: OtherCpu>(
    rmi: &mut RmiClient<C>,
    mem: &mut M,
    other: &mut O,
    w: &Wiring<'_>,
) -> bool {
    let (slots, race_slot) = (w.slots, w.race_slot);
    if slots as u64 <= race_slot {
        log::error!("isolation: the races need a second CPU");
        return false;
    }
    let mut h = Host::new(rmi, mem);
    let mut passed = 0;
    for (i, race) in RACES.into_iter().enumerate() {
        let mut pool = Pool::new(w.pools + i as u64 * w.pool_size, w.pool_size);
        let setup = Setup {
            image: w.image,
            vmid: 20 + 2 * i as u16,
            ns_block: w.ns_block,
        };
        let o = match isolation::run_race(&mut h, &mut pool, other, race, &setup) {
            Ok(o) => o,
            Err(f) => {
                log::error!(
                    "isolation race {=str}: FAIL: {=str}: got {=u64:#x}, expected {=u64:#x}",
                    race.name(),
                    f.step,
                    f.got.raw(),
                    f.want.raw()
                );
                continue;
            }
        };
        let target = race.target();
        match o.end {
            End::Faulted if o.passed() => log::info!(
                "isolation race {=str}: PASS: while the REC ran on CPU {=u64} the host did {=str}; the realm's access to IPA {=u64:#x} after that faulted there (REC exit: data abort, ESR {=u64:#x}); realms destroyed, granules undelegated: {=bool}",
                race.name(),
                race_slot,
                race.story(),
                target,
                o.esr,
                o.cleaned_up
            ),
            End::SeaInjected if o.passed() => log::info!(
                "isolation race {=str}: PASS: while the REC ran on CPU {=u64} the host did {=str}; the realm's access to IPA {=u64:#x} after that took a synchronous external abort at its own vector (ESR_EL1 {=u64:#x}, no REC exit: RIPAS EMPTY); realms destroyed, granules undelegated: {=bool}",
                race.name(),
                race_slot,
                race.story(),
                target,
                o.flags[iso::SEA_ESR],
                o.cleaned_up
            ),
            End::SameData if o.passed() => log::info!(
                "isolation race {=str}: PASS: while the REC ran on CPU {=u64} the host did {=str}; the realm's access to IPA {=u64:#x} after that reached its own data again ({=u64:#x}, and its own write intact); realms destroyed, granules undelegated: {=bool}",
                race.name(),
                race_slot,
                race.story(),
                target,
                o.second_read(),
                o.cleaned_up
            ),
            End::Unexpected(why) => log::error!(
                "isolation race {=str}: FAIL: {=str} (REC_ENTER {=u64:#x}, exit reason {=u64}, ESR {=u64:#x}, fault IPA {=u64:#x}, flags {:#x})",
                race.name(),
                why,
                o.enter_status,
                o.exit_reason,
                o.esr,
                o.fault_ipa,
                o.flags
            ),
            _ => log::error!(
                "isolation race {=str}: FAIL: while the REC ran the host did {=str}; the realm's access to IPA {=u64:#x} after that did not fault but REACHED THE GRANULE after the change: read {=u64:#x} (realm B's marker {=u64:#x}, the host's {=u64:#x}, the page held {=u64:#x}), its own word {=u64:#x}",
                race.name(),
                race.story(),
                target,
                o.second_read(),
                isolation::OTHER_REALM_MARKER,
                isolation::HOST_MARKER,
                isolation::TARGET_INITIAL,
                o.flags[iso::OWN_READ]
            ),
        }
        if race == isolation::Race::DataDestroy && o.end == End::ReachedReused {
            let forged = o.forged_read();
            log::error!(
                "isolation race {=str}: through the stale translation the realm wrote a page descriptor into the granule, now its own level-3 RTT, and read {=u64:#x} through it at IPA {=u64:#x}{=str}",
                race.name(),
                forged,
                isolation::REUSED_RTT_IPA
                    + iso::FORGE_WORD as u64 * GRANULE_SIZE as u64,
                if forged == isolation::OTHER_REALM_MARKER {
                    ": realm B's DATA granule"
                } else {
                    ""
                }
            );
        }
        if o.passed() && o.cleaned_up {
            passed += 1;
        }
    }
    log::info!(
        "isolation: {} of {} race(s) passed, the racing RECs on CPU {=u64} of {}",
        passed,
        RACES.len(),
        race_slot,
        slots
    );
    passed == RACES.len()
}
