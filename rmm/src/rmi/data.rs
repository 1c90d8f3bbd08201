//! The DATA commands: RMI_DATA_CREATE (B4.3.1), RMI_DATA_CREATE_UNKNOWN (B4.3.2) and
//! RMI_DATA_DESTROY (B4.3.3).
//!
//! Locking follows `rtt.rs`: the RD and the new DATA granule are locked together (ascending
//! address order); a DATA granule being destroyed is locked after the RD. The realm's RTTs are
//! reached through [`RttView`] under the RD lock. A destroyed DATA granule's translation is
//! invalidated on every CPU before the granule is wiped ([`crate::tlb`]).

use hostcall_abi::rtt::{Ripas, RTT_PAGE_LEVEL};
use hostcall_abi::GRANULE_SIZE;

use super::rtt::{lock_rd, reached, rtt_error, walk_top, RealmRtts, INPUT, REALM};
use super::{RmiContext, RmiError, RmiResult, NO_OUTPUTS};
use crate::granule::{GranuleState, Locked};
use crate::measurement;
use crate::memory::{self, RttView};
use crate::ns;
use crate::realm::{Rd, RealmState};
use crate::s2tt::{is_aligned, RttMemory, Rtte, S2tte, WalkResult};

/// `RmiDataFlags.measure` (B4.4.2): hash the DATA granule's contents into the RIM. Bits 63:1 are
/// reserved.
const MEASURE_CONTENT: u64 = 1;

/// Creates a DATA granule: RD `args[0]`, DATA granule `args[1]`, mapped at the protected `ipa`
/// `args[2]`, filled from the NS granule `args[3]`, with `flags` `args[4]`. The IPA becomes
/// ASSIGNED with RIPAS RAM.
///
/// Order: reserved `flags` bits (RMI_ERROR_INPUT; see below); the source granule, copied first
/// (`src_align`, `src_bound`, `src_pas`); RD and DATA granules locked together (`rd_*`,
/// `data_align`, `data_bound`, `data_state`); `data_bound2`, `ipa_align`, `ipa_bound` (all
/// RMI_ERROR_INPUT); `realm_state` (RMI_ERROR_REALM); the walk to level 3: `rtt_walk`,
/// `rtte_state` (RMI_ERROR_RTT at the walk's level).
///
/// The spec lists no failure condition for `flags`; B4.4.2 makes bits 63:1 SBZ, and B2 keeps
/// reserved encodings for later revisions, so a 1.0 RMM refuses them (as TF-RMM does) rather
/// than give them a meaning now.
pub fn create(ctx: &RmiContext, args: &[u64; 5]) -> RmiResult {
    let (rd, data, ipa, src, flags) = (args[0], args[1], args[2], args[3], args[4]);
    if flags & !MEASURE_CONTENT != 0 {
        return Err(INPUT);
    }
    let mut contents = [0u8; GRANULE_SIZE];
    ns::read_granule(ctx.ns, ctx.granules, src, &mut contents)?;
    let (mut rd_g, mut data_g) = lock_rd_and_data(ctx, rd, data)?;
    let realm = RealmRtts::read(ctx, &mut rd_g);
    check_data_target(&realm, data, ipa)?;
    if realm.state != RealmState::New {
        return Err(REALM);
    }
    let mut view = RttView::new(ctx.mem);
    let w = unassigned_page(&realm, &view, ipa)?;
    let entry = S2tte::assigned(data, RTT_PAGE_LEVEL, Ripas::Ram).ok_or(INPUT)?;
    memory::fill(ctx.mem, &mut data_g, &contents);
    // RIM: extend with an RmmMeasurementDescriptorData for `ipa` and `flags`, hashing the
    // contents only when `flags` asks for it (B4.3.1.4).
    let r: &mut Rd = memory::get(ctx.mem, &mut rd_g);
    let algo = r.hash_algo();
    let content = if flags & MEASURE_CONTENT != 0 {
        measurement::hash(algo, &contents)
    } else {
        [0; measurement::MEASUREMENT_SIZE]
    };
    r.rim = measurement::extend_data(algo, &r.rim, ipa, flags, &content);
    data_g.set_state(GranuleState::Data);
    // An invalid entry becomes valid: nothing can be cached for it.
    view.write(w.table_pa, w.index, entry.bits());
    Ok(NO_OUTPUTS)
}

/// Creates a DATA granule with unknown contents: RD `args[0]`, DATA granule `args[1]`, mapped at
/// the protected `ipa` `args[2]`. The IPA becomes ASSIGNED and keeps its RIPAS. The granule is
/// wiped, so nothing it held before can reach the realm (A2.2.4).
///
/// Order: RD and DATA granules locked together (`rd_*`, `data_align`, `data_bound`,
/// `data_state`); `data_bound2`, `ipa_align`, `ipa_bound` (all RMI_ERROR_INPUT); the walk to
/// level 3: `rtt_walk`, `rtte_state` (RMI_ERROR_RTT at the walk's level).
pub fn create_unknown(ctx: &RmiContext, args: &[u64; 3]) -> RmiResult {
    let (rd, data, ipa) = (args[0], args[1], args[2]);
    let (mut rd_g, mut data_g) = lock_rd_and_data(ctx, rd, data)?;
    let realm = RealmRtts::read(ctx, &mut rd_g);
    check_data_target(&realm, data, ipa)?;
    let mut view = RttView::new(ctx.mem);
    let w = unassigned_page(&realm, &view, ipa)?;
    let ripas = reached(&w)?.ripas().ok_or(INPUT)?;
    let entry = S2tte::assigned(data, RTT_PAGE_LEVEL, ripas).ok_or(INPUT)?;
    ctx.mem.wipe(data);
    data_g.set_state(GranuleState::Data);
    // The entry was UNASSIGNED (invalid): nothing can be cached for it.
    view.write(w.table_pa, w.index, entry.bits());
    Ok(NO_OUTPUTS)
}

/// Destroys the DATA granule mapped at the protected `ipa` `args[1]` of the realm `args[0]`. The
/// IPA becomes UNASSIGNED; RIPAS RAM becomes DESTROYED, EMPTY and DESTROYED stay. Outputs: the
/// granule's address (wiped, DELEGATED again) and `top`, the IPA of the next live entry after
/// `ipa` in the level-3 table (`top` is defined on the RMI_ERROR_RTT failures too, from where the
/// walk stopped; 0 on the others).
///
/// Order: `rd_*`; `ipa_align`, `ipa_bound` (RMI_ERROR_INPUT); the walk to level 3: `rtt_walk`,
/// `rtte_state` (RMI_ERROR_RTT at the walk's level).
pub fn destroy(ctx: &RmiContext, args: &[u64; 2]) -> RmiResult {
    let (rd, ipa) = (args[0], args[1]);
    let mut rd_g = lock_rd(ctx, rd)?;
    let realm = RealmRtts::read(ctx, &mut rd_g);
    if !is_aligned(ipa, RTT_PAGE_LEVEL) || !realm.cfg.ipa_is_protected(ipa) {
        return Err(INPUT);
    }
    let mut view = RttView::new(ctx.mem);
    let w = realm.walk(&view, ipa, RTT_PAGE_LEVEL)?;
    let (data, ripas) = match reached(&w) {
        Ok(Rtte::Assigned { pa, ripas }) if w.level == RTT_PAGE_LEVEL => (pa, ripas),
        _ => return Err(rtt_error(w.level, [0, walk_top(&view, &w, ipa)?, 0, 0])),
    };
    let after = match ripas {
        Ripas::Ram => Ripas::Destroyed,
        other => other,
    };
    // An ASSIGNED entry of this realm always names one of its DATA granules.
    let mut data_g = ctx
        .granules
        .lock(data, GranuleState::Data)
        .map_err(|_| INPUT)?;
    // Invalidated whatever the entry's RIPAS: an entry that is invalid now (EMPTY, DESTROYED)
    // was invalidated when it stopped being RAM, but the granule is handed back here, so this
    // is the last point at which a stale translation of it must be gone.
    view.write(w.table_pa, w.index, S2tte::unassigned(after).bits());
    realm.tlb(ctx).entry(ipa, RTT_PAGE_LEVEL);
    ctx.mem.wipe(data);
    data_g.set_state(GranuleState::Delegated);
    Ok([data, walk_top(&view, &w, ipa)?, 0, 0])
}

/// Locks the RD and the DATA-to-be granule together, in ascending address order (`rd_*`,
/// `data_align`, `data_bound`, `data_state`: RMI_ERROR_INPUT). Guards come back as (RD, data).
fn lock_rd_and_data<'a>(
    ctx: &RmiContext<'a>,
    rd: u64,
    data: u64,
) -> Result<(Locked<'a>, Locked<'a>), RmiError> {
    ctx.granules
        .lock_two((rd, GranuleState::Rd), (data, GranuleState::Delegated))
        .map_err(|_| INPUT)
}

/// `data_bound2`, `ipa_align`, `ipa_bound` of the DATA_CREATE commands: the DATA granule fits
/// in an output address, and `ipa` is a granule-aligned Protected IPA of the realm.
fn check_data_target(realm: &RealmRtts, data: u64, ipa: u64) -> Result<(), RmiError> {
    if !realm.pa_fits(data) || !is_aligned(ipa, RTT_PAGE_LEVEL) || !realm.cfg.ipa_is_protected(ipa)
    {
        return Err(INPUT);
    }
    Ok(())
}

/// The walk of the DATA_CREATE commands: to level 3 (`rtt_walk`), reaching an UNASSIGNED entry
/// (`rtte_state`); both RMI_ERROR_RTT at the walk's level.
fn unassigned_page(realm: &RealmRtts, view: &RttView, ipa: u64) -> Result<WalkResult, RmiError> {
    let w = realm.walk(view, ipa, RTT_PAGE_LEVEL)?;
    if w.level < RTT_PAGE_LEVEL || !matches!(reached(&w)?, Rtte::Unassigned { .. }) {
        return Err(rtt_error(w.level, NO_OUTPUTS));
    }
    Ok(w)
}
