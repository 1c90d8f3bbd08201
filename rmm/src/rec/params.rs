//! RMI_REC_CREATE (DEN0137 B4.3.12): the failure conditions on `RmiRecParams` that need no
//! granule state — only the parameters, the REC's address, and two values the caller reads from
//! the locked RD (the realm's REC aux count and its next REC index).
//!
//! # What is checked here, in this order
//!
//! All `RMI_ERROR_INPUT`, index 0. B4.3.12.2.1 orders none of them, so the order is this RMM's
//! (fixed, as B1.6 asks); [`RecParamsFault`] names the check that fired.
//!
//! 1. `mpidr_index`: `params.mpidr` is the MPIDR of REC index `realm.rec_index` (A2.3.3). A value
//!    with a reserved bit set (`Aff0[7:4]`, bits 63:32; B4.4.18) is the MPIDR of no REC index and
//!    fails here too (see [`RecParamsFault::MpidrInvalid`]).
//! 2. `num_aux`: `params.num_aux == RecAuxCount(rd)`.
//! 3. `aux_align` (`AuxAligned`, B3.10): the first `num_aux` entries of `aux` are granule-aligned.
//! 4. `aux_alias` (`AuxAlias`, B3.9): none of them equals `rec`, and no two are equal.
//!
//! Nothing else in the structure can fail the command: it has no "params valid" condition, so
//! reserved bits of `flags` and the reserved bytes are ignored (B1.6: a command whose failure
//! pre-conditions are all false succeeds). Only `flags.runnable` (bit 0) is used; the RIM
//! extension (B4.3.12.4) still hashes `flags` as the host wrote it
//! (`RmiRecParams::measured`). Entries of `aux` past `num_aux` are not looked at.
//!
//! # What the caller still checks
//!
//! - `params_align`, `params_bound`, `params_pas` before the parameters can be read
//!   (`RMI_ERROR_INPUT`);
//! - `rec_align`, `rec_bound`, `rec_state` (the REC granule is DELEGATED) and `rd_align`,
//!   `rd_bound`, `rd_state` (the RD granule is an RD) (`RMI_ERROR_INPUT`);
//! - `realm_state`: the realm is NEW, else `RMI_ERROR_REALM`;
//! - `num_recs`: the realm has fewer than `2^MAX_RECS_ORDER - 1` live RECs, else
//!   `RMI_ERROR_REALM`;
//! - `aux_state`: each aux granule is DELEGATED (`RMI_ERROR_INPUT`).
//!
//! The only ordering the spec gives is `[rd_bound, rd_state] < [realm_state, num_recs]`. Since
//! `next_rec_index` and `aux_count` come from the RD, the natural sequence is: granule checks on
//! `rd` and `rec` (locking both), `realm_state` and `num_recs`, then [`validate_rec_params`], then
//! `aux_state` on [`RecConfig::aux`] — which this module has already proved aligned and distinct
//! from each other and from `rec`, so locking them cannot self-deadlock.

use hostcall_abi::rec_params::{
    mpidr_to_rec_index, RmiRecCreateFlags, RmiRecParams, MAX_REC_AUX_GRANULES, REC_PARAMS_GPRS,
};
use hostcall_abi::rmi::RmiStatus;
use hostcall_abi::GRANULE_SIZE;

use crate::error::RmiError;

/// Which check rejected a REC's parameters. Every fault is `RMI_ERROR_INPUT` with index 0;
/// [`Self::condition`] gives the B4.3.12 failure condition it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecParamsFault {
    /// `mpidr_index`: `mpidr` has a reserved bit set, so it is not the MPIDR of any REC index.
    /// (The pseudocode's `RecIndex` reads only the affinity fields; A2.3.3 requires the host to
    /// pass the MPIDR of index n, whose reserved bits are zero. TF-RMM rejects such values too.)
    MpidrInvalid,
    /// `mpidr_index`: `mpidr` names a REC index other than the realm's next one.
    MpidrIndexMismatch,
    /// `num_aux`: `num_aux` differs from the realm's REC aux count.
    NumAuxMismatch,
    /// `aux_align`: one of the first `num_aux` aux addresses is not granule-aligned.
    AuxUnaligned,
    /// `aux_alias`: an aux address equals the REC's address.
    AuxAliasesRec,
    /// `aux_alias`: two aux addresses are equal.
    AuxDuplicate,
}

impl RecParamsFault {
    /// The B4.3.12.2 failure condition identifier this fault belongs to.
    pub const fn condition(self) -> &'static str {
        match self {
            Self::MpidrInvalid | Self::MpidrIndexMismatch => "mpidr_index",
            Self::NumAuxMismatch => "num_aux",
            Self::AuxUnaligned => "aux_align",
            Self::AuxAliasesRec | Self::AuxDuplicate => "aux_alias",
        }
    }

    /// The status the command returns: `RMI_ERROR_INPUT` for every fault.
    pub const fn status(self) -> RmiStatus {
        RmiStatus::ErrorInput
    }

    /// The command's failure (index 0, no outputs).
    pub const fn to_rmi_error(self) -> RmiError {
        RmiError::new(self.status())
    }
}

impl From<RecParamsFault> for RmiError {
    fn from(fault: RecParamsFault) -> Self {
        fault.to_rmi_error()
    }
}

/// REC parameters that passed [`check_rec_params`], decoded: what the new REC starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecConfig {
    /// The REC's index (equal to the realm's next REC index).
    pub rec_index: u64,
    /// The REC's `RmiRecMpidr` (reserved bits zero; Aff3 in bits 31:24).
    pub mpidr: u64,
    /// `flags.runnable`: the REC may be entered.
    pub runnable: bool,
    /// Initial program counter.
    pub pc: u64,
    /// Initial x0..x7 (x8..x30 start at zero).
    pub gprs: [u64; REC_PARAMS_GPRS],
    /// Number of auxiliary granules (at most [`MAX_REC_AUX_GRANULES`]).
    pub num_aux: usize,
    /// Auxiliary granule addresses; entries from `num_aux` on are zero.
    pub aux_list: [u64; MAX_REC_AUX_GRANULES],
}

impl RecConfig {
    /// The auxiliary granule addresses: aligned, distinct, none equal to the REC.
    pub fn aux(&self) -> &[u64] {
        self.aux_list.get(..self.num_aux).unwrap_or(&[])
    }
}

/// Checks `p` against the parameter failure conditions of RMI_REC_CREATE, for a REC at `rec` in
/// a realm whose REC aux count is `aux_count` and whose next REC index is `next_rec_index`. See
/// the [module documentation](crate::rec::params) for the order and for the conditions the
/// caller still has to check.
pub fn check_rec_params(
    p: &RmiRecParams,
    rec: u64,
    aux_count: u64,
    next_rec_index: u64,
) -> Result<RecConfig, RecParamsFault> {
    use RecParamsFault as F;

    // mpidr_index.
    let rec_index = mpidr_to_rec_index(p.mpidr).ok_or(F::MpidrInvalid)?;
    if rec_index != next_rec_index {
        return Err(F::MpidrIndexMismatch);
    }

    // num_aux. RecAuxCount never exceeds 16 (B3.36); a larger count cannot be matched.
    if p.num_aux != aux_count {
        return Err(F::NumAuxMismatch);
    }
    let aux = p.aux_granules().ok_or(F::NumAuxMismatch)?;

    // aux_align.
    if aux.iter().any(|&a| !a.is_multiple_of(GRANULE_SIZE as u64)) {
        return Err(F::AuxUnaligned);
    }

    // aux_alias.
    if aux.contains(&rec) {
        return Err(F::AuxAliasesRec);
    }
    for (i, a) in aux.iter().enumerate() {
        if aux.get(i + 1..).is_some_and(|rest| rest.contains(a)) {
            return Err(F::AuxDuplicate);
        }
    }

    let mut aux_list = [0u64; MAX_REC_AUX_GRANULES];
    for (slot, &a) in aux_list.iter_mut().zip(aux) {
        *slot = a;
    }
    Ok(RecConfig {
        rec_index,
        mpidr: p.mpidr,
        runnable: p.flags.contains(RmiRecCreateFlags::RUNNABLE),
        pc: p.pc,
        gprs: p.gprs,
        num_aux: aux.len(),
        aux_list,
    })
}

/// [`check_rec_params`], with a fault reported as the command's failure
/// (`RMI_ERROR_INPUT`, index 0).
pub fn validate_rec_params(
    p: &RmiRecParams,
    rec: u64,
    aux_count: u64,
    next_rec_index: u64,
) -> Result<RecConfig, RmiError> {
    check_rec_params(p, rec, aux_count, next_rec_index).map_err(RmiError::from)
}

#[cfg(test)]
mod tests;
