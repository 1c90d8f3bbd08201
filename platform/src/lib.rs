//! Board facts and the few drivers both firmware images share.
//!
//! This crate owns what differs between boards (memory maps, UART and GIC addresses, the RMM's
//! load address and the NS image address) and the drivers for devices we touch directly: the PL011
//! UART, the semihosting channel that carries defmt logs, and the GICv3 redistributor and CPU
//! interface registers a host needs to take its own PPIs. It must not know anything about the
//! RMM's or the host's logic: images pick a [`Board`] here and pass it down.
#![cfg_attr(not(test), no_std)]

pub mod board;
#[cfg(all(
    feature = "defmt-semihosting",
    target_arch = "aarch64",
    target_os = "none"
))]
pub mod defmt_logger;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod gicv3;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod mem;
pub mod pl011;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod semihosting;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod smc;

pub use board::{Board, MemRegion, FVP_BASE_REVC, QEMU_VIRT};
