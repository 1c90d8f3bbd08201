//! Realms: the checks RMI_REALM_CREATE (B4.3.9) makes on the parameter block the host passes,
//! the decoded configuration it yields, and the realm descriptor (RD). A REC's parameters are
//! the REC's own (`crate::rec::params`).
//!
//! This module owns the pure part of those commands: given a parameter structure that the caller
//! has already copied out of the host's NS granule, plus the values the checks need (the RMI
//! feature register, the RD and REC addresses, the realm's REC aux count and next REC index), it
//! decides every failure condition that depends on nothing else and returns either the exact
//! failure or a [`RealmConfig`] to build the RD from.
//!
//! It must not, and does not:
//! - look up, lock or change granule state (`rd_state`, `rtt_state`, `rec_state`, `aux_state`,
//!   and the `*_bound` conditions are the caller's);
//! - hold or take locks, or keep any state of its own (VMID allocation, REC counts);
//! - touch NS memory: it never sees an address it would dereference, only copied structures.
//!
//! [`params`] documents which failure conditions the caller still owns,
//! and where they fit relative to these checks.

pub mod params;
pub mod rd;

pub use params::{
    check_realm_params, validate_realm_params, vmid_is_valid, RealmConfig, RealmParamsFault,
};
pub use rd::{Rd, RealmState};

#[cfg(test)]
mod tests;
