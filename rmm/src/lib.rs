//! The Realm Management Monitor: what it owns, and the rule it lives by.
//!
//! The RMM runs at Realm EL2 under EL3 firmware (TF-A). It owns the realms' memory, descriptors,
//! RECs and stage-2 tables, and serves the host's RMI calls and the realms' RSI calls. It must never
//! trust the host or a realm: every value they pass is checked and answered with a specification
//! error code, never a panic, a hang or silent corruption. No heap: capacities are fixed or sized
//! at boot from the boot manifest.
//!
//! Everything in this library is plain Rust that `cargo test` runs on the build machine; the
//! aarch64-only glue (entry, vectors, SMC, system registers, the world switch) is `aarch64`,
//! linked only by the image (`src/main.rs`), behind the types and traits of [`arch`].
//!
//! Where each concept lives: the boot and its manifest in [`boot`]; the split of the RMM's
//! carve-out (per-CPU stacks, its translation tables, granule tracking) in [`carve_out`];
//! granule tracking in [`granule`]; delegated memory and realm memory in [`memory`] and [`realm_memory`]; NS memory
//! in [`ns`]; stage-2 tables in [`s2tt`] and their TLB rules in [`tlb`]; the realm (its
//! parameters and RD) in [`realm`]; the REC (its object, parameters, run) in [`rec`]; RMI
//! commands, one file per group, in [`rmi`]; realm exits in [`exit`] and trapped system
//! registers in [`sysreg_trap`]; the realm's calls (RSI, PSCI) in [`rsi`]; measurements and
//! attestation in [`measurement`] and [`attestation`]. Every handler shares [`context`] and
//! [`error`], which depend on none of them; no module imports one that imports it back.
#![cfg_attr(not(any(test, feature = "sim")), no_std)]

#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod aarch64;
pub mod arch;
pub mod attestation;
pub mod boot;
pub mod carve_out;
pub mod cbor;
pub mod context;
pub mod el3;
pub mod error;
pub mod exit;
pub mod features;
pub mod granule;
pub mod id_regs;
/// Capacities of the image (shared with the build script).
pub mod limits;
pub mod measurement;
pub mod memory;
pub mod mmu;
pub mod ns;
pub mod realm;
pub mod realm_memory;
pub mod rec;
pub mod rmi;
pub mod rsi;
pub mod s2tt;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
pub mod sysreg_trap;
pub mod timers;
pub mod tlb;
pub mod vmid;

pub use boot::Rmm;
