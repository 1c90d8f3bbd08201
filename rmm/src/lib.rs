//! The Realm Management Monitor: what it owns, and the rule it lives by.
//!
//! The RMM runs at Realm EL2 under EL3 firmware (TF-A). It owns the realms' memory, descriptors,
//! RECs and stage-2 tables, and serves the host's RMI calls and the realms' RSI calls. It must never
//! trust the host or a realm: every value they pass is checked and answered with a specification
//! error code, never a panic, a hang or silent corruption. No heap: capacities are fixed or sized
//! at boot from the boot manifest.
//!
//! Everything in this library is plain Rust that `cargo test` runs on the build machine; the
//! aarch64-only glue (entry, vectors, SMC, system registers) lives in the image (`src/main.rs` and
//! [`arch`]) and hands this library plain values.
#![cfg_attr(not(any(test, feature = "sim")), no_std)]

#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod aarch64;
pub mod arch;
pub mod attestation;
pub mod boot;
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
