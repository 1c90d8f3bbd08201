//! RMI_REALM_CREATE (B4.3.9), RMI_REALM_ACTIVATE (B4.3.8), RMI_REALM_DESTROY (B4.3.10) and
//! RMI_REC_AUX_COUNT (B4.3.11).

use heapless::Vec;
use hostcall_abi::realm_params::RmiRealmParams;
use hostcall_abi::rmi::RmiStatus;

use super::{RmiContext, RmiError, RmiResult, NO_OUTPUTS};
use crate::arch::Stage2;
use crate::granule::{GranuleState, MAX_LOCKED};
use crate::memory::{self, RttView};
use crate::realm::{validate_realm_params, vmid_is_valid, Rd, RealmState};
use crate::s2tt::{census, init_start_tables, RttConfig};
use crate::tlb::RealmTlb;
use crate::{measurement, ns, rec};

const INPUT: RmiError = RmiError::new(RmiStatus::ErrorInput);
const REALM: RmiError = RmiError::new(RmiStatus::ErrorRealm);

/// Creates a realm: RD at `args[0]`, parameters in the NS granule at `args[1]`.
///
/// Every failure condition is RMI_ERROR_INPUT and the spec orders none of them. Checks run as:
/// the parameter granule (`params_align`, `params_bound`, `params_pas` in the copy),
/// `params_valid`/`params_supp`/`rtt_num_level`/`rtt_align`/`alias` on the copy, then the RD and
/// starting-level RTT granules together (`rd_*`, `rtt_state`, locked in ascending address
/// order), then `vmid_valid`.
pub fn create(ctx: &RmiContext, args: &[u64; 2]) -> RmiResult {
    let (rd, params_ptr) = (args[0], args[1]);
    let params: RmiRealmParams = ns::read(ctx.ns, ctx.granules, params_ptr)?;
    let config = validate_realm_params(&params, ctx.rmm.features, rd)?;
    let rtt = RttConfig::new(
        u64::from(config.s2sz),
        config.rtt_level_start,
        config.rtt_num_start.into(),
    )
    .ok_or(INPUT)?;

    let mut wanted: Vec<(u64, GranuleState), MAX_LOCKED> = Vec::new();
    wanted
        .push((rd, GranuleState::Delegated))
        .map_err(|_| INPUT)?;
    for pa in config.rtt_granules() {
        wanted
            .push((pa, GranuleState::Delegated))
            .map_err(|_| INPUT)?;
    }
    let mut locked = ctx.granules.lock_many(&wanted).map_err(|_| INPUT)?;

    if !vmid_is_valid(config.vmid, ctx.rmm.vmid16) || !ctx.vmids.claim(config.vmid) {
        return Err(INPUT);
    }

    let (rd_guard, rtts) = locked.split_first_mut().ok_or(INPUT)?;
    for g in rtts.iter_mut() {
        g.set_state(GranuleState::Rtt);
    }
    init_start_tables(&mut RttView::new(ctx.mem), config.rtt_base, &rtt).ok_or(INPUT)?;
    rd_guard.set_state(GranuleState::Rd);
    // RIM: seeded from the measured parameters (B4.3.9.4); the REMs start at zero.
    let rim = measurement::rim_init(config.hash_algo.into(), &params);
    let mut rd = Rd {
        state: RealmState::New,
        config,
        rtt,
        recs_created: 0,
        rim,
        rems: [[0; measurement::MEASUREMENT_SIZE]; measurement::REM_COUNT],
        s2: Stage2 { vttbr: 0, vtcr: 0 },
    };
    rd.s2 = rd.stage2(ctx.rmm.features.s2sz(), ctx.rmm.vmid16);
    memory::init(ctx.mem, rd_guard, rd);
    Ok(NO_OUTPUTS)
}

/// Activates the realm at `args[0]`: NEW -> ACTIVE.
pub fn activate(ctx: &RmiContext, args: &[u64; 1]) -> RmiResult {
    let mut g = ctx
        .granules
        .lock(args[0], GranuleState::Rd)
        .map_err(|_| INPUT)?;
    let rd: &mut Rd = memory::get(ctx.mem, &mut g);
    if rd.state != RealmState::New {
        return Err(REALM);
    }
    rd.state = RealmState::Active;
    Ok(NO_OUTPUTS)
}

/// Destroys the realm at `args[0]` once it is not live: no RECs (the RD's reference count) and
/// no live entry in its starting-level RTTs. The RD and those RTTs go back to DELEGATED, wiped,
/// and the VMID is freed.
pub fn destroy(ctx: &RmiContext, args: &[u64; 1]) -> RmiResult {
    let mut g = ctx
        .granules
        .lock(args[0], GranuleState::Rd)
        .map_err(|_| INPUT)?;
    let live_recs = g.refcount() != 0;
    let rd = memory::get::<Rd>(ctx.mem, &mut g).clone();
    let view = RttView::new(ctx.mem);
    let live_rtt = rd
        .config
        .rtt_granules()
        .any(|pa| census(&view, pa, rd.rtt.level_start()).rtt_is_live());
    if live_recs || live_rtt {
        return Err(REALM);
    }
    // Every entry was invalidated as it went, but the VMID is about to be free for another
    // realm: nothing cached under it may survive (and the start tables are wiped below).
    RealmTlb::new(ctx.cpu, rd.config.vmid).all();
    for pa in rd.config.rtt_granules() {
        // The starting-level RTTs belong to this realm alone, and the RD lock is held.
        let mut t = ctx
            .granules
            .lock(pa, GranuleState::Rtt)
            .map_err(|_| INPUT)?;
        ctx.mem.wipe(pa);
        t.set_state(GranuleState::Delegated);
    }
    ctx.vmids.release(rd.config.vmid);
    ctx.mem.wipe(g.pa());
    g.set_state(GranuleState::Delegated);
    ctx.cpu.realm_destroyed();
    Ok(NO_OUTPUTS)
}

/// Number of auxiliary granules a REC of the realm at `args[0]` needs.
pub fn rec_aux_count(ctx: &RmiContext, args: &[u64; 1]) -> RmiResult {
    let _g = ctx
        .granules
        .lock(args[0], GranuleState::Rd)
        .map_err(|_| INPUT)?;
    Ok([rec::AUX_GRANULES, 0, 0, 0])
}
