//! RMI_REC_CREATE (B4.3.12) and RMI_REC_DESTROY (B4.3.13).

use heapless::Vec;
use hostcall_abi::rec_params::{mpidr_to_rec_index, RmiRecParams};
use hostcall_abi::rmi::RmiStatus;

use super::{RmiContext, RmiError, RmiResult, NO_OUTPUTS};
use crate::features::MAX_RECS_ORDER;
use crate::granule::{GranuleState, MAX_LOCKED};
use crate::ns;
use crate::realm::{Rd, RealmState};
use crate::rec::check_rec_params;
use crate::rec::{self, AttestProgress, Rec, RipasRequest, AUX_GRANULES};
use crate::{measurement, memory};

const INPUT: RmiError = RmiError::new(RmiStatus::ErrorInput);
const REALM: RmiError = RmiError::new(RmiStatus::ErrorRealm);
const REC: RmiError = RmiError::new(RmiStatus::ErrorRec);

/// Most RECs a realm may have at once (the spec's 2^MAX_RECS_ORDER − 1).
const MAX_RECS: u16 = (1 << MAX_RECS_ORDER) - 1;

/// Creates a REC: RD `args[0]`, REC granule `args[1]`, parameters in the NS granule `args[2]`.
///
/// Order: the parameter granule; the aux list's shape (`num_aux`, `aux_align`, `aux_alias`) and
/// the MPIDR's encoding, which need no realm state; then RD, REC and aux granules locked together
/// in ascending address order (`rd_*`, `rec_*`, `aux_state`); then `realm_state` and `num_recs`
/// (after `rd_*`, as the spec orders) and the MPIDR's index against the realm's next index.
pub fn create(ctx: &RmiContext, args: &[u64; 3]) -> RmiResult {
    let (rd, rec, params_ptr) = (args[0], args[1], args[2]);
    let params: RmiRecParams = ns::read(ctx.ns, ctx.granules, params_ptr)?;
    let index = mpidr_to_rec_index(params.mpidr).ok_or(INPUT)?;
    // With its own index as "next", only the index comparison is left for later.
    let config = check_rec_params(&params, rec, AUX_GRANULES, index).map_err(|_| INPUT)?;

    let mut wanted: Vec<(u64, GranuleState), MAX_LOCKED> = Vec::new();
    wanted.push((rd, GranuleState::Rd)).map_err(|_| INPUT)?;
    wanted
        .push((rec, GranuleState::Delegated))
        .map_err(|_| INPUT)?;
    for &aux in config.aux() {
        wanted
            .push((aux, GranuleState::Delegated))
            .map_err(|_| INPUT)?;
    }
    let mut locked = ctx.granules.lock_many(&wanted).map_err(|_| INPUT)?;
    let [rd_guard, rec_guard, aux_guards @ ..] = locked.as_mut_slice() else {
        return Err(INPUT);
    };

    let live_recs = rd_guard.refcount();
    let realm: &mut Rd = memory::get(ctx.mem, rd_guard);
    if realm.state != RealmState::New || live_recs >= MAX_RECS {
        return Err(REALM);
    }
    if index != realm.recs_created {
        return Err(INPUT);
    }
    realm.recs_created += 1;
    if config.runnable {
        // RIM: only a runnable REC is measured (B4.3.12.4).
        realm.rim = measurement::extend_rec(realm.hash_algo(), &realm.rim, &params);
    }
    // Cannot fail: live RECs are capped at MAX_RECS, far below the count's limit.
    let counted = rd_guard.get_ref();
    debug_assert!(counted);

    for g in aux_guards.iter_mut() {
        ctx.mem.wipe(g.pa());
        g.set_state(GranuleState::RecAux);
    }
    let mut aux = [0u64; hostcall_abi::rec_params::MAX_REC_AUX_GRANULES];
    aux[..config.aux().len()].copy_from_slice(config.aux());
    rec_guard.set_state(GranuleState::Rec);
    rec::create(
        ctx.mem,
        rec_guard,
        Rec {
            rd,
            index,
            mpidr: config.mpidr,
            runnable: config.runnable,
            running: false,
            regs: Rec::initial_regs(config.pc, config.gprs),
            host_call: None,
            host_call_memo: None,
            emulatable_abort: None,
            unprotected_abort: None,
            aux,
            num_aux: config.num_aux as u64,
            ripas: RipasRequest::default(),
            psci: None,
            attest: AttestProgress::IDLE,
        },
    );
    Ok(NO_OUTPUTS)
}

/// Destroys the REC at `args[0]` unless it is running: its aux granules and itself go back to
/// DELEGATED, wiped, and the realm has one REC fewer.
pub fn destroy(ctx: &RmiContext, args: &[u64; 1]) -> RmiResult {
    let rec = args[0];
    // Find the owner first (the RD is locked before what the realm owns), then lock both.
    let rd = {
        let g = ctx
            .granules
            .lock(rec, GranuleState::Rec)
            .map_err(|_| INPUT)?;
        let status = rec::status(ctx.mem, &g);
        if status.running {
            return Err(REC);
        }
        status.rd
    };
    let (mut rd_guard, mut rec_guard) = ctx
        .granules
        .lock_two((rd, GranuleState::Rd), (rec, GranuleState::Rec))
        .map_err(|_| INPUT)?;
    if rec::status(ctx.mem, &rec_guard).rd != rd {
        // Destroyed and re-created for another realm in between: not this REC any more.
        return Err(INPUT);
    }
    let Some(r) = rec::idle(ctx.mem, &mut rec_guard) else {
        return Err(REC);
    };
    // The RD counts this REC, so the count is at least one (checked before anything changes).
    if rd_guard.refcount() == 0 {
        return Err(INPUT);
    }
    // The aux granules first, all locked before anything changes (they are this REC's, which
    // is locked, so none is held elsewhere); a failure leaves every granule as it was.
    let mut aux: Vec<(u64, GranuleState), MAX_LOCKED> = Vec::new();
    for &pa in r.aux.iter().take(r.num_aux as usize) {
        aux.push((pa, GranuleState::RecAux)).map_err(|_| INPUT)?;
    }
    let mut aux_guards = ctx.granules.lock_many(&aux).map_err(|_| INPUT)?;
    for g in aux_guards.iter_mut() {
        ctx.mem.wipe(g.pa());
        g.set_state(GranuleState::Delegated);
    }
    drop(aux_guards);
    ctx.mem.wipe(rec);
    rec_guard.set_state(GranuleState::Delegated);
    // Last, once nothing of the REC is left: the realm's count of RECs. Cannot fail: the count
    // is at least one (checked above).
    let dropped = rd_guard.put_ref();
    debug_assert!(dropped);
    Ok(NO_OUTPUTS)
}
