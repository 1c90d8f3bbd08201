//! The aarch64-only seam: entry, exception vectors, SMC conduit and system-register reads.
//!
//! Only the image links this; the library above it takes plain values (ID registers, the copied
//! shared buffer, call registers), so `cargo test` runs all of the logic on the build machine.

#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod aarch64;
