//! The RTT commands: RMI_RTT_CREATE (B4.3.15), RMI_RTT_DESTROY (B4.3.16), RMI_RTT_FOLD
//! (B4.3.17), RMI_RTT_INIT_RIPAS (B4.3.18), RMI_RTT_MAP_UNPROTECTED (B4.3.19),
//! RMI_RTT_READ_ENTRY (B4.3.20), RMI_RTT_SET_RIPAS (B4.3.21) and RMI_RTT_UNMAP_UNPROTECTED
//! (B4.3.22), plus what the DATA commands (`data.rs`) share with them.
//!
//! Locking: each command locks the realm's RD first, or the RD together with the one granule it
//! takes over (`lock_two`, ascending address order: the new RTT of RTT_CREATE, the REC of
//! RTT_SET_RIPAS). While the RD lock is held the realm's RTTs are read and written through
//! [`RttView`] without locking their granules (the invariant documented in `memory.rs`). A table
//! granule changing state is locked itself: the new one together with the RD, one being destroyed
//! or folded after the RD (a realm's RD before what it owns).
//!
//! Liveness is computed by scanning tables ([`rtt_is_live`]), never counted: RTT granules keep a
//! reference count of zero, so the count cannot disagree with the table.
//!
//! TLB maintenance ([`crate::tlb`]): RECs of the realm may be running on other CPUs while a
//! command changes its RTTs, so every valid entry a command removes or changes is invalidated on
//! every CPU before the command goes on, and always before a granule the entry named or led to
//! is wiped or changes state. A valid entry replaced by a valid entry of another size is first
//! written invalid and invalidated (break-before-make).

use hostcall_abi::rmi::RmiStatus;
use hostcall_abi::rtt::{Ripas, RTT_ENTRIES, RTT_PAGE_LEVEL};

use super::{Outputs, RmiContext, RmiError, RmiResult, NO_OUTPUTS};
use crate::granule::{GranuleState, Locked};
use crate::measurement;
use crate::memory::{self, RttView};
use crate::realm::{Rd, RealmState};
use crate::rec::Rec;
use crate::s2tt::{
    align_down, align_up, block_size, is_aligned, ns_from_host_desc, pa_in_oa_range, rtt_fold,
    rtt_is_live, skip_entries_with_ripas, skip_non_live_entries, unfold, walk, RttConfig,
    RttMemory, Rtte, S2tte, WalkResult,
};
use crate::tlb::RealmTlb;

/// RMI_ERROR_INPUT, index 0, no outputs.
pub(super) const INPUT: RmiError = RmiError::new(RmiStatus::ErrorInput);
/// RMI_ERROR_REALM, index 0.
pub(super) const REALM: RmiError = RmiError::new(RmiStatus::ErrorRealm);
const REC: RmiError = RmiError::new(RmiStatus::ErrorRec);

/// What an entry holds between "break" and "make" when a valid entry is replaced: invalid to
/// the hardware. No RMM reader sees it: the RD lock is held throughout.
const BREAK: u64 = 0;

/// RMI_ERROR_RTT whose index is `level` (where the walk stopped, or the level of the table at
/// fault), with the outputs the command defines on failure.
pub(super) fn rtt_error(level: i64, outputs: Outputs) -> RmiError {
    RmiError {
        status: RmiStatus::ErrorRtt,
        // RTT levels of a realm are 0..=3 (no LPA2), so the cast keeps the value.
        index: level as u8,
        outputs,
    }
}

/// Locks the granule at `rd` as an RD (`rd_align`, `rd_bound`, `rd_state`: RMI_ERROR_INPUT).
pub(super) fn lock_rd<'a>(ctx: &RmiContext<'a>, rd: u64) -> Result<Locked<'a>, RmiError> {
    ctx.granules.lock(rd, GranuleState::Rd).map_err(|_| INPUT)
}

/// What the RTT and DATA commands need from a realm's RD, copied out under its lock.
#[derive(Clone, Copy, Debug)]
pub(super) struct RealmRtts {
    /// Shape of the stage-2 tables.
    pub cfg: RttConfig,
    /// Address of the first starting-level RTT.
    pub base: u64,
    /// Lifecycle state.
    pub state: RealmState,
    /// Whether the realm was created with LPA2 (output addresses may be 52 bits wide).
    pub lpa2: bool,
    /// The realm's VMID, which its cached translations are tagged with.
    pub vmid: u16,
}

impl RealmRtts {
    /// Reads the RD behind `rd` (locked, state RD).
    pub fn read(ctx: &RmiContext, rd: &mut Locked<'_>) -> Self {
        let r: &mut Rd = memory::get(ctx.mem, rd);
        Self {
            cfg: r.rtt,
            base: r.config.rtt_base,
            state: r.state,
            lpa2: r.config.lpa2,
            vmid: r.config.vmid,
        }
    }

    /// The realm's stage-2 TLB maintenance, issued from this CPU.
    pub fn tlb<'a>(&self, ctx: &RmiContext<'a>) -> RealmTlb<'a> {
        RealmTlb::new(ctx.cpu, self.vmid)
    }

    /// Whether `pa` may be an output address of this realm's RTTs: the `*_bound2` and
    /// `addr_bound` conditions (`pa < 2^48` unless the realm uses LPA2).
    pub fn pa_fits(&self, pa: u64) -> bool {
        self.lpa2 || pa_in_oa_range(pa)
    }

    /// Walks the realm's RTTs for `ipa` down to `level` (`RttWalk`). The caller has checked that
    /// `ipa` is in the IPA space and `level` is a level of the realm, so `walk` cannot refuse;
    /// should it, the command fails with RMI_ERROR_INPUT rather than trusting anything.
    pub fn walk(&self, view: &RttView, ipa: u64, level: i64) -> Result<WalkResult, RmiError> {
        walk(view, self.base, &self.cfg, ipa, level).ok_or(INPUT)
    }
}

/// The entry a walk reached, decoded. A malformed entry (never written by a correct RMM) is
/// reported as RMI_ERROR_RTT at the walk's level instead of being interpreted.
pub(super) fn reached(w: &WalkResult) -> Result<Rtte, RmiError> {
    w.rtte().ok_or(rtt_error(w.level, NO_OUTPUTS))
}

/// `RttSkipNonLiveEntries(Rtt(walk.rtt_addr), walk.level, ipa)`: the `top` output of
/// RMI_RTT_DESTROY, RMI_DATA_DESTROY and RMI_RTT_UNMAP_UNPROTECTED.
pub(super) fn walk_top(view: &RttView, w: &WalkResult, ipa: u64) -> Result<u64, RmiError> {
    // Only an IPA within 2^48 of 2^64 could overflow; the caller checked it is in the IPA space.
    skip_non_live_entries(view, w.table_pa, w.level, ipa).ok_or(INPUT)
}

/// The `level_bound`, `ipa_align` and `ipa_bound` conditions of RTT_CREATE, RTT_DESTROY and
/// RTT_FOLD: `level` is a level of the realm's tree other than its starting level, and `ipa` lies
/// in the IPA space, aligned to the range of one entry of the level above. Returns that parent
/// level, the level the commands walk to.
fn parent_level(realm: &RealmRtts, ipa: u64, level: i64) -> Result<i64, RmiError> {
    if !realm.cfg.level_is_valid(level) || realm.cfg.level_is_starting(level) {
        return Err(INPUT);
    }
    // `level` is above the starting level, which is at least 0: no overflow.
    let parent = level - 1;
    if !is_aligned(ipa, parent) || !realm.cfg.ipa_in_range(ipa) {
        return Err(INPUT);
    }
    Ok(parent)
}

/// The table an RTT_DESTROY or RTT_FOLD walk to `parent` reached: the address of the child RTT
/// when the walk got to `parent` and found a TABLE entry there. Otherwise the `rtt_walk` or
/// `rtte_state` failure, RMI_ERROR_RTT at the walk's level, with `outputs(walk)`.
fn child_table(
    w: &WalkResult,
    parent: i64,
    outputs: impl FnOnce() -> Result<Outputs, RmiError>,
) -> Result<u64, RmiError> {
    match w.rtte() {
        Some(Rtte::Table { pa }) if w.level == parent => Ok(pa),
        _ => Err(rtt_error(w.level, outputs()?)),
    }
}

/// Creates an RTT: RD `args[0]`, the new table `args[1]`, for `ipa` `args[2]` at `level`
/// `args[3]`. The parent entry is unfolded into the new table (A5.5.7) and becomes TABLE.
///
/// Order: RD and RTT granules locked together (`rd_*`, `rtt_align`, `rtt_bound`, `rtt_state`);
/// `level_bound`, `ipa_align`, `ipa_bound`, `rtt_bound2` (all RMI_ERROR_INPUT); then the walk to
/// `level - 1`: `rtt_walk`, `rtte_state` (RMI_ERROR_RTT at the walk's level). This meets the
/// spec's order: every RMI_ERROR_INPUT condition before the walk's.
pub fn create(ctx: &RmiContext, args: &[u64; 4]) -> RmiResult {
    let (rd, rtt, ipa, level) = (args[0], args[1], args[2], args[3] as i64);
    let (mut rd_g, mut rtt_g) = ctx
        .granules
        .lock_two((rd, GranuleState::Rd), (rtt, GranuleState::Delegated))
        .map_err(|_| INPUT)?;
    let realm = RealmRtts::read(ctx, &mut rd_g);
    let parent = parent_level(&realm, ipa, level)?;
    if !realm.pa_fits(rtt) {
        return Err(INPUT);
    }
    let mut view = RttView::new(ctx.mem);
    let w = realm.walk(&view, ipa, parent)?;
    if w.level < parent {
        return Err(rtt_error(w.level, NO_OUTPUTS));
    }
    if matches!(reached(&w)?, Rtte::Table { .. }) {
        return Err(rtt_error(w.level, NO_OUTPUTS));
    }
    // Both encodings checked before anything is written: `rtt` is granule aligned and below
    // 2^48, `parent` is 0..=2, and the parent entry is a valid non-TABLE entry.
    let table = S2tte::table(rtt, parent).ok_or(INPUT)?;
    unfold(&mut view, rtt, w.entry, parent).ok_or(rtt_error(w.level, NO_OUTPUTS))?;
    if w.entry.is_valid_hw() {
        // A mapped block (ASSIGNED RAM or ASSIGNED_NS) becomes a table of pages or smaller
        // blocks: break-before-make.
        view.write(w.table_pa, w.index, BREAK);
        realm.tlb(ctx).entry(ipa, parent);
    }
    view.write(w.table_pa, w.index, table.bits());
    rtt_g.set_state(GranuleState::Rtt);
    Ok(NO_OUTPUTS)
}

/// Destroys the RTT for `ipa` `args[1]` at `level` `args[2]` of the realm `args[0]`. Outputs:
/// the RTT's address and `top`, the IPA of the next live entry after `ipa` in the parent table
/// (`top` is defined on the RMI_ERROR_RTT failures too: the next live entry from where the walk
/// stopped, or `ipa` itself when the table is live; 0 on every other failure).
///
/// Order: `rd_*`; `level_bound`, `ipa_align`, `ipa_bound`; the walk to `level - 1`: `rtt_walk`,
/// `rtte_state` (RMI_ERROR_RTT at the walk's level); then `rtt_live` (RMI_ERROR_RTT at `level`).
///
/// The parent entry becomes UNASSIGNED with RIPAS DESTROYED (A5.5.9) for a protected IPA, and
/// UNASSIGNED_NS for an unprotected one: A5.5.4 and A5.3.1 define UNASSIGNED and RIPAS for
/// Protected IPAs only, and A5.3.6 lists RTT_DESTROY among the HIPAS changes of Unprotected IPAs,
/// whose only unassigned state is UNASSIGNED_NS. The table is wiped and goes back to DELEGATED.
pub fn destroy(ctx: &RmiContext, args: &[u64; 3]) -> RmiResult {
    let (rd, ipa, level) = (args[0], args[1], args[2] as i64);
    let mut rd_g = lock_rd(ctx, rd)?;
    let realm = RealmRtts::read(ctx, &mut rd_g);
    let parent = parent_level(&realm, ipa, level)?;
    let mut view = RttView::new(ctx.mem);
    let w = realm.walk(&view, ipa, parent)?;
    let child = child_table(&w, parent, || Ok([0, walk_top(&view, &w, ipa)?, 0, 0]))?;
    if rtt_is_live(&view, child, level) {
        return Err(rtt_error(level, [0, ipa, 0, 0]));
    }
    // A TABLE entry of this realm always points to one of its RTT granules.
    let mut child_g = ctx
        .granules
        .lock(child, GranuleState::Rtt)
        .map_err(|_| INPUT)?;
    let replacement = if realm.cfg.ipa_is_protected(ipa) {
        S2tte::unassigned(Ripas::Destroyed)
    } else {
        S2tte::unassigned_ns()
    };
    // The TABLE entry was valid: walks through it may be cached. A non-live table may still
    // hold mapped entries: an unprotected one may map NS pages (A5.5.8: ASSIGNED_NS entries do
    // not make an RTT live), and those leaves may be cached too.
    let maps = (0..RTT_ENTRIES).any(|i| S2tte::from_bits(view.read(child, i)).is_valid_hw());
    view.write(w.table_pa, w.index, replacement.bits());
    if maps {
        realm.tlb(ctx).entries(ipa, level, RTT_ENTRIES as u64);
    } else {
        realm.tlb(ctx).entry(ipa, parent);
    }
    ctx.mem.wipe(child);
    child_g.set_state(GranuleState::Delegated);
    let top = walk_top(&view, &w, ipa)?;
    Ok([child, top, 0, 0])
}

/// Folds the homogeneous RTT for `ipa` `args[1]` at `level` `args[2]` of the realm `args[0]` into
/// its parent entry (A5.5.6). Output: the folded RTT's address, wiped and DELEGATED again.
///
/// Order: `rd_*`; `level_bound`, `ipa_align`, `ipa_bound`; the walk to `level - 1`: `rtt_walk`,
/// `rtte_state` (RMI_ERROR_RTT at the walk's level); then `rtt_homo` (RMI_ERROR_RTT at `level`).
pub fn fold(ctx: &RmiContext, args: &[u64; 3]) -> RmiResult {
    let (rd, ipa, level) = (args[0], args[1], args[2] as i64);
    let mut rd_g = lock_rd(ctx, rd)?;
    let realm = RealmRtts::read(ctx, &mut rd_g);
    let parent = parent_level(&realm, ipa, level)?;
    let mut view = RttView::new(ctx.mem);
    let w = realm.walk(&view, ipa, parent)?;
    let child = child_table(&w, parent, || Ok(NO_OUTPUTS))?;
    let folded = rtt_fold(&view, child, level).ok_or(rtt_error(level, NO_OUTPUTS))?;
    // A TABLE entry of this realm always points to one of its RTT granules.
    let mut child_g = ctx
        .granules
        .lock(child, GranuleState::Rtt)
        .map_err(|_| INPUT)?;
    // Break-before-make: the TABLE entry goes invalid, then everything cached through it is
    // invalidated (the walks through it, and when the folded entry is mapped, the table's
    // mapped entries, one per entry of the child level), then the folded entry is written.
    view.write(w.table_pa, w.index, BREAK);
    if folded.is_valid_hw() {
        realm.tlb(ctx).entries(ipa, level, RTT_ENTRIES as u64);
    } else {
        realm.tlb(ctx).entry(ipa, parent);
    }
    view.write(w.table_pa, w.index, folded.bits());
    ctx.mem.wipe(child);
    child_g.set_state(GranuleState::Delegated);
    Ok([child, 0, 0, 0])
}

/// Reads the entry for `ipa` `args[1]` at `level` `args[2]` of the realm `args[0]`. Outputs: the
/// level the walk reached, then the entry's state, descriptor and RIPAS as B4.3.20.3 defines them.
///
/// Order: `rd_*`, then `level_bound`, `ipa_align`, `ipa_bound` (all RMI_ERROR_INPUT; the command
/// has no other failure conditions).
pub fn read_entry(ctx: &RmiContext, args: &[u64; 3]) -> RmiResult {
    let (rd, ipa, level) = (args[0], args[1], args[2] as i64);
    let mut rd_g = lock_rd(ctx, rd)?;
    let realm = RealmRtts::read(ctx, &mut rd_g);
    if !realm.cfg.level_is_valid(level) || !is_aligned(ipa, level) || !realm.cfg.ipa_in_range(ipa) {
        return Err(INPUT);
    }
    let view = RttView::new(ctx.mem);
    let w = realm.walk(&view, ipa, level)?;
    let out = reached(&w)?.read_entry_outputs();
    Ok([w.level as u64, out.state as u64, out.desc, out.ripas as u64])
}

/// Maps the NS granule(s) the host's descriptor `args[3]` names at the unprotected `ipa`
/// `args[1]`, `level` `args[2]`, of the realm `args[0]`.
///
/// Order: `attr_valid`, `addr_align` and `addr_bound` (the descriptor on its own); `rd_*`;
/// `level_bound`, `ipa_align`, `ipa_bound` (all RMI_ERROR_INPUT); then the walk to `level`:
/// `rtt_walk`, `rtte_state` (RMI_ERROR_RTT at the walk's level).
pub fn map_unprotected(ctx: &RmiContext, args: &[u64; 4]) -> RmiResult {
    let (rd, ipa, level, desc) = (args[0], args[1], args[2] as i64, args[3]);
    // The RMM offers no LPA2 (RMI_FEATURES), so every realm's output addresses are below 2^48,
    // which the descriptor check enforces: that is `addr_bound`.
    let entry = ns_from_host_desc(desc, level).ok_or(INPUT)?;
    let mut rd_g = lock_rd(ctx, rd)?;
    let realm = RealmRtts::read(ctx, &mut rd_g);
    unprotected_target(&realm, ipa, level)?;
    let mut view = RttView::new(ctx.mem);
    let w = realm.walk(&view, ipa, level)?;
    if w.level < level || reached(&w)? != Rtte::UnassignedNs {
        return Err(rtt_error(w.level, NO_OUTPUTS));
    }
    // An invalid entry becomes valid: nothing can be cached for it, no TLB maintenance.
    view.write(w.table_pa, w.index, entry.bits());
    Ok(NO_OUTPUTS)
}

/// Removes the mapping at the unprotected `ipa` `args[1]`, `level` `args[2]`, of the realm
/// `args[0]`. Output: `top`, the IPA of the next live entry after `ipa` in the table the walk
/// reached (also on the RMI_ERROR_RTT failures; 0 on the others).
///
/// Order: `rd_*`; `level_bound`, `ipa_align`, `ipa_bound` (RMI_ERROR_INPUT); then the walk to
/// `level`: `rtt_walk`, `rtte_state` (RMI_ERROR_RTT at the walk's level).
pub fn unmap_unprotected(ctx: &RmiContext, args: &[u64; 3]) -> RmiResult {
    let (rd, ipa, level) = (args[0], args[1], args[2] as i64);
    let mut rd_g = lock_rd(ctx, rd)?;
    let realm = RealmRtts::read(ctx, &mut rd_g);
    unprotected_target(&realm, ipa, level)?;
    let mut view = RttView::new(ctx.mem);
    let w = realm.walk(&view, ipa, level)?;
    if w.level < level || !matches!(reached(&w)?, Rtte::AssignedNs { .. }) {
        return Err(rtt_error(w.level, [walk_top(&view, &w, ipa)?, 0, 0, 0]));
    }
    view.write(w.table_pa, w.index, S2tte::unassigned_ns().bits());
    realm.tlb(ctx).entry(ipa, level);
    Ok([walk_top(&view, &w, ipa)?, 0, 0, 0])
}

/// The `level_bound`, `ipa_align` and `ipa_bound` conditions of RTT_MAP_UNPROTECTED and
/// RTT_UNMAP_UNPROTECTED: a block or page level of the realm, and an Unprotected IPA of the
/// realm aligned to that level.
fn unprotected_target(realm: &RealmRtts, ipa: u64, level: i64) -> Result<(), RmiError> {
    if !realm.cfg.level_is_block_or_page(level)
        || !is_aligned(ipa, level)
        || !realm.cfg.ipa_in_range(ipa)
        || realm.cfg.ipa_is_protected(ipa)
    {
        return Err(INPUT);
    }
    Ok(())
}

/// Sets the RIPAS of `[base, top)` (`args[1]`, `args[2]`) to RAM in the NEW realm `args[0]`, as far
/// as the table the walk for `base` reaches allows. Output: `top` of the range changed.
///
/// Order: `rd_*`; `size_valid`, `top_bound`, `top_gran_align` (RMI_ERROR_INPUT; the spec only
/// needs `top_gran_align` before `no_progress`); `realm_state` (RMI_ERROR_REALM); the walk to
/// level 3: `base_align`, `rtte_state`, then `no_progress` (RMI_ERROR_RTT at the walk's level).
///
/// Every entry from `base` up to the first TABLE entry (capped at `top`) becomes RAM, whatever
/// its state, as `RttSkipEntriesWithRipas(.., FALSE)` and the `rtte_ripas` success condition
/// define; only the first entry must be UNASSIGNED.
pub fn init_ripas(ctx: &RmiContext, args: &[u64; 3]) -> RmiResult {
    let (rd, base, top) = (args[0], args[1], args[2]);
    let mut rd_g = lock_rd(ctx, rd)?;
    let realm = RealmRtts::read(ctx, &mut rd_g);
    if top <= base {
        return Err(INPUT);
    }
    // `ToAddress(top - granule)`: wraps like the spec's address arithmetic, then must be
    // protected.
    if !realm
        .cfg
        .ipa_is_protected(top.wrapping_sub(hostcall_abi::GRANULE_SIZE as u64))
    {
        return Err(INPUT);
    }
    if !is_aligned(top, RTT_PAGE_LEVEL) {
        return Err(INPUT);
    }
    if realm.state != RealmState::New {
        return Err(REALM);
    }
    let mut view = RttView::new(ctx.mem);
    let w = realm.walk(&view, base, RTT_PAGE_LEVEL)?;
    if !is_aligned(base, w.level) || !matches!(reached(&w)?, Rtte::Unassigned { .. }) {
        return Err(rtt_error(w.level, NO_OUTPUTS));
    }
    let out_top = skip_entries_with_ripas(&view, w.table_pa, w.level, base, top, false)
        .ok_or(rtt_error(w.level, NO_OUTPUTS))?;
    if out_top <= base {
        return Err(rtt_error(w.level, NO_OUTPUTS));
    }
    let entry_size = block_size(w.level).ok_or(INPUT)?;
    set_ripas_range(&mut view, &w, base, out_top, Ripas::Ram)?;
    // RIM: one RmmMeasurementDescriptorRipas per entry of the walk's level in [base, out_top),
    // each ending at its entry's end or `out_top` (RimExtendRipas, B4.3.18.4).
    let r: &mut Rd = memory::get(ctx.mem, &mut rd_g);
    r.rim = measurement::extend_ripas_entries(r.hash_algo(), &r.rim, base, out_top, entry_size);
    Ok([out_top, 0, 0, 0])
}

/// Completes (part of) the RIPAS change the REC `args[1]` of the realm `args[0]` asked for, over
/// `[base, top)` (`args[2]`, `args[3]`). Output: `top` of the range done, which also becomes the
/// REC's next `ripas_addr`.
///
/// Order: RD and REC locked together (`rd_*`, `rec_align`, `rec_bound`, `rec_gran_state`:
/// RMI_ERROR_INPUT); `rec_state`, `rec_owner` (RMI_ERROR_REC); `size_valid`, `base_bound`,
/// `top_bound`, `top_gran_align` (RMI_ERROR_INPUT); the walk to level 3: `base_align`, then
/// `no_progress` (RMI_ERROR_RTT at the walk's level), both only when the entry at `base` does not
/// already have the requested RIPAS.
///
/// RD and REC are locked together in address order, like RMI_REC_DESTROY does: taking the RD and
/// then the REC could deadlock against that command.
///
/// One case departs from the letter of the `out_top` success condition: when the entry at
/// `base` already has the requested RIPAS and `walk_top` (aligned down to the walk's level) would
/// not move past `base`, the spec's value would leave `ripas_addr` where it is or move it
/// backwards. Those addresses need no change, so the command reports progress to the end of that
/// entry, capped at `top`, instead.
pub fn set_ripas(ctx: &RmiContext, args: &[u64; 4]) -> RmiResult {
    let (rd, rec, base, top) = (args[0], args[1], args[2], args[3]);
    let (mut rd_g, mut rec_g) = ctx
        .granules
        .lock_two((rd, GranuleState::Rd), (rec, GranuleState::Rec))
        .map_err(|_| INPUT)?;
    let realm = RealmRtts::read(ctx, &mut rd_g);
    let r: &mut Rec = crate::rec::idle(ctx.mem, &mut rec_g).ok_or(REC)?;
    if r.rd != rd {
        return Err(REC);
    }
    let request = r.ripas;
    if top <= base || base != request.addr || top > request.top || !is_aligned(top, RTT_PAGE_LEVEL)
    {
        return Err(INPUT);
    }
    // The realm's request was validated when it was made (RSI_IPA_STATE_SET); a value that does
    // not decode is refused rather than trusted.
    let value = Ripas::from_u8(request.value).ok_or(INPUT)?;
    let mut view = RttView::new(ctx.mem);
    let w = realm.walk(&view, base, RTT_PAGE_LEVEL)?;
    let differs = reached(&w)?.ripas() != Some(value);
    if differs && !is_aligned(base, w.level) {
        return Err(rtt_error(w.level, NO_OUTPUTS));
    }
    let walk_top = skip_entries_with_ripas(
        &view,
        w.table_pa,
        w.level,
        base,
        top,
        !request.change_destroyed,
    )
    .ok_or(rtt_error(w.level, NO_OUTPUTS))?;
    let out_top = if walk_top > base {
        let start = align_down(base, w.level).ok_or(INPUT)?;
        let changed = set_ripas_range(&mut view, &w, start, walk_top, value)?;
        // ASSIGNED entries going from RAM to EMPTY stop being mapped: invalidated on every CPU
        // before the realm is told the change is done (and long before DATA_DESTROY can hand
        // their granules back).
        if changed.unmapped {
            realm.tlb(ctx).entries(start, w.level, changed.count);
        }
        walk_top
    } else if differs {
        return Err(rtt_error(w.level, NO_OUTPUTS));
    } else {
        // The entry at `base` already has the RIPAS: nothing to write up to its end.
        let entry_end = align_up(base + 1, w.level).ok_or(INPUT)?;
        entry_end.min(top)
    };
    let r: &mut Rec = crate::rec::idle(ctx.mem, &mut rec_g).ok_or(REC)?;
    r.ripas.addr = out_top;
    Ok([out_top, 0, 0, 0])
}

/// Gives the entries of the table the walk `w` reached that describe `[start, end)` (both
/// aligned to `w.level`, `start` the IPA of entry `w.index` or an address inside it) the RIPAS
/// `ripas`, keeping their state and output addresses. Every entry is checked before any is
/// written: an entry without RIPAS (TABLE or NS; the scans that produce `end` stop at tables, and
/// the ranges are protected) fails the whole change with RMI_ERROR_RTT at the walk's level.
fn set_ripas_range(
    view: &mut RttView,
    w: &WalkResult,
    start: u64,
    end: u64,
    ripas: Ripas,
) -> Result<RipasChange, RmiError> {
    let fail = rtt_error(w.level, NO_OUTPUTS);
    let size = block_size(w.level).ok_or(fail)?;
    let first = align_down(start, w.level).ok_or(fail)?;
    let count = usize::try_from(end.saturating_sub(first) / size).map_err(|_| fail)?;
    let last = w.index.checked_add(count).ok_or(fail)?;
    if last > RTT_ENTRIES {
        return Err(fail);
    }
    for i in w.index..last {
        S2tte::from_bits(view.read(w.table_pa, i))
            .with_ripas(w.level, ripas)
            .ok_or(fail)?;
    }
    let mut unmapped = false;
    for i in w.index..last {
        let old = S2tte::from_bits(view.read(w.table_pa, i));
        let entry = old.with_ripas(w.level, ripas).ok_or(fail)?;
        unmapped |= old.is_valid_hw() && !entry.is_valid_hw();
        view.write(w.table_pa, i, entry.bits());
    }
    Ok(RipasChange {
        count: count as u64,
        unmapped,
    })
}

/// What [`set_ripas_range`] changed.
struct RipasChange {
    /// Entries written, from the one the walk reached.
    count: u64,
    /// Whether a mapped entry (ASSIGNED, RIPAS RAM) among them stopped being mapped.
    unmapped: bool,
}
