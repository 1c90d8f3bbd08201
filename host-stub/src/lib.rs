//! The host stub: the normal-world side that drives the RMM the way Linux KVM would.
//!
//! This library owns the host's logic: the RMI client, the checks each CPU runs on the RMM's
//! answers, the realm builder, the model of KVM and its VMM ([`kvm`]), the Linux guest's loader
//! and VMM loop ([`linux`]), and every scenario the image runs, with its log lines and verdict
//! ([`scenario`]). It talks to EL3 only through a [`Conduit`] and to the host's hardware only
//! through the small traits the scenarios take, so `cargo test` runs the same code against the
//! RMM's real dispatcher behind an EL3 double. It must not touch realm memory or assume anything
//! the RMI does not promise. The BL33 image (`src/main.rs`) adds only bring-up and wiring: the
//! NS-EL2 entry and stacks, PSCI CPU_ON, the SMC conduit and physical memory accessor, GIC,
//! timer and FP/SIMD register access, semihosting, the statics the CPUs share, and which
//! scenarios run.
#![cfg_attr(not(test), no_std)]

pub mod bringup;
pub mod delegation;
pub mod fdt;
pub mod image;
pub mod isolation;
pub mod kvm;
/// Capacities of the image (shared with the build script).
pub mod limits;
pub mod linux;
mod log;
pub mod measure;
pub mod mmio;
pub mod pl011;
pub mod realm_build;
pub mod realm_run;
pub mod rmi;
pub mod scenario;
pub mod storm;
#[cfg(test)]
mod testing;
pub mod vgic;

/// The host's own view of its memory (NS physical addresses), for checks that look at granule
/// contents around delegation.
pub trait HostMemory {
    /// Fills the granule at `pa` with `byte`.
    fn fill(&mut self, pa: u64, byte: u8);
    /// True if every byte of the granule at `pa` equals `byte`.
    fn all_equal(&self, pa: u64, byte: u8) -> bool;
    /// Writes `data` at `pa` (within one of the host's own granules).
    fn write(&mut self, pa: u64, data: &[u8]);
    /// Reads `buf.len()` bytes at `pa` (within one of the host's own granules).
    fn read(&self, pa: u64, buf: &mut [u8]);

    /// Reads `dst.len()` little-endian doublewords at `pa`. Implementations with direct word
    /// access override it; the default goes through [`Self::read`].
    fn read_words(&self, pa: u64, dst: &mut [u64]) {
        self.read_words_bytewise(pa, dst)
    }

    /// Writes `src` as little-endian doublewords at `pa`. Implementations with direct word
    /// access override it; the default goes through [`Self::write`].
    fn write_words(&mut self, pa: u64, src: &[u64]) {
        self.write_words_bytewise(pa, src)
    }

    /// [`Self::read_words`] through [`Self::read`], 256 bytes at a time.
    fn read_words_bytewise(&self, pa: u64, dst: &mut [u64]) {
        let mut buf = [0u8; 256];
        for (i, chunk) in dst.chunks_mut(32).enumerate() {
            let bytes = &mut buf[..chunk.len() * 8];
            self.read(pa + (i * 256) as u64, bytes);
            for (w, b) in chunk.iter_mut().zip(bytes.chunks_exact(8)) {
                *w = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            }
        }
    }

    /// [`Self::write_words`] through [`Self::write`], 256 bytes at a time.
    fn write_words_bytewise(&mut self, pa: u64, src: &[u64]) {
        let mut buf = [0u8; 256];
        for (i, chunk) in src.chunks(32).enumerate() {
            let bytes = &mut buf[..chunk.len() * 8];
            for (w, b) in chunk.iter().zip(bytes.chunks_exact_mut(8)) {
                b.copy_from_slice(&w.to_le_bytes());
            }
            self.write(pa + (i * 256) as u64, bytes);
        }
    }
}

/// The SMC conduit to EL3: x0..x7 in, x0..x7 out.
pub trait Conduit {
    /// Issues one SMC.
    fn smc(&mut self, regs: [u64; 8]) -> [u64; 8];
}
