//! Emulatable data aborts as MMIO accesses: decoding a REC exit (or the `KVM_EXIT_MMIO` the KVM
//! model already makes of one) into an [`MmioAccess`] — faulting IPA with the realm's
//! unprotected ("shared") bit stripped, size, read or write and the written value — and the
//! `rec_enter` values that complete it ([`MmioCompletion`]).
//!
//! It owns only that translation. It must not touch the RecRun page, issue RMI commands or
//! know any device: the caller reads `rec_exit`, hands the access to a device model (vGIC,
//! PL011) and writes the completion into `rec_enter`. Every field comes from the realm or the
//! RMM and is untrusted: a syndrome that does not describe an emulatable access is an
//! [`MmioError`], never a panic.
//!
//! What the host may rely on (DEN0137 A4.3.4.3, A4.4): for an Emulatable Data Abort
//! `exit.esr` carries EC, ISV, SAS, SF and WnR (and SET, FnV, EA, DFSC); `exit.far` holds the
//! offset in the granule, `exit.hpfar` the page; a write's value is in `exit.gprs[0]`. SRT and
//! SSE are not reported: the RMM writes a read's value (from `enter.gprs[0]`) to the right
//! register and sign-extends it on the next REC entry with `EMULATED_MMIO` set, so decoding
//! never looks at them.
//!
//! The KVM model ([`crate::kvm::vcpu`]) already decodes the same fields inline for
//! `KVM_EXIT_MMIO` (keeping the unprotected bit in `mmio.phys_addr`, as its documentation says)
//! and completes reads from `mmio.data`; [`MmioAccess::from_kvm_mmio`] and
//! [`MmioAccess::complete_kvm_run`] sit on top of that path for a VMM, and [`decode_exit`] is
//! the same decoding for an in-kernel device (the vGIC) that answers without leaving the kernel.

use hostcall_abi::kvm::KvmRunMmio;
use hostcall_abi::rec_run::{exit_esr, RmiRecEnterFlags, RmiRecExitFields};

use crate::kvm::KvmRun;

/// HPFAR_EL2.FIPA, bits `[47:4]`: IPA bits `[51:12]`.
const HPFAR_FIPA_MASK: u64 = 0x0000_FFFF_FFFF_FFF0;
/// Bytes of a granule (FAR carries the offset in it).
const GRANULE: u64 = hostcall_abi::GRANULE_SIZE as u64;

/// Why a REC exit is not an MMIO access the host can emulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmioError {
    /// `exit.esr.EC` is not a data abort from a lower exception level.
    NotDataAbort,
    /// ISV is clear: no access size or direction (KVM answers ENOSYS without
    /// `KVM_CAP_ARM_NISV_TO_USER`).
    NoSyndrome,
    /// The IPA is not in the unprotected half of the realm's IPA space (or `ipa_bits` is not a
    /// valid IPA width): not device memory the host emulates.
    NotUnprotected,
    /// A `kvm_run.mmio` whose length is not 1, 2, 4 or 8.
    BadLength,
}

/// Direction of an access, with the written value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmioKind {
    /// A load: the device answers a value.
    Read,
    /// A store of this value (already masked to the access size).
    Write(u64),
}

/// One MMIO access to emulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmioAccess {
    /// The IPA accessed, unprotected bit stripped (the address the device tree gave the
    /// device).
    pub ipa: u64,
    /// Bytes: 1, 2, 4 or 8.
    pub size: usize,
    /// Read, or write with its value.
    pub kind: MmioKind,
}

/// What completes an access on the next REC entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmioCompletion {
    /// `enter.flags`: `EMULATED_MMIO`, or `INJECT_SEA` for an access nothing answers.
    pub flags: RmiRecEnterFlags,
    /// `enter.gprs[0]` for a read (masked to the access size); `None`: leave it.
    pub gpr0: Option<u64>,
}

impl MmioCompletion {
    /// An access the host refuses: a synchronous external abort is injected instead
    /// (`INJECT_SEA`; the RMM then ignores `EMULATED_MMIO`).
    pub const INJECT_ABORT: Self = Self {
        flags: RmiRecEnterFlags::INJECT_SEA,
        gpr0: None,
    };
}

/// The mask of an access of `size` bytes (8 or more: all ones).
pub const fn size_mask(size: usize) -> u64 {
    match 1u64.checked_shl((size as u32).saturating_mul(8)) {
        Some(bit) => bit - 1,
        None => u64::MAX,
    }
}

/// The unprotected bit of a realm with `ipa_bits` of IPA space (`1 << (ipa_bits - 1)`), if
/// `ipa_bits` is a width that has one (2..=64).
pub const fn shared_bit(ipa_bits: u32) -> Option<u64> {
    if ipa_bits < 2 || ipa_bits > 64 {
        return None;
    }
    Some(1 << (ipa_bits - 1))
}

/// `ipa` without its unprotected bit, if it is an unprotected IPA of a realm with `ipa_bits`
/// (the bit set, nothing above the IPA space).
pub const fn strip_shared(ipa: u64, ipa_bits: u32) -> Option<u64> {
    let Some(bit) = shared_bit(ipa_bits) else {
        return None;
    };
    // Nothing above the IPA space: ipa < 2 * bit (2 * bit overflows only for 64 bits).
    if ipa & bit == 0 || (ipa_bits < 64 && ipa >> ipa_bits != 0) {
        return None;
    }
    Some(ipa & !bit)
}

/// The faulting IPA of a stage-2 abort: the page from `HPFAR_EL2.FIPA`, the offset from
/// `FAR_EL2` (which the RMM reduces to the offset in the granule).
pub const fn fault_ipa(hpfar: u64, far: u64) -> u64 {
    ((hpfar & HPFAR_FIPA_MASK) << 8) | (far & (GRANULE - 1))
}

/// Decodes an exit's syndrome, addresses and `gprs[0]` (see [`decode_exit`]).
pub fn decode(
    esr: u64,
    far: u64,
    hpfar: u64,
    gpr0: u64,
    ipa_bits: u32,
) -> Result<MmioAccess, MmioError> {
    let esr = exit_esr::Esr(esr);
    if esr.ec() != exit_esr::EC_DABT_LOWER {
        return Err(MmioError::NotDataAbort);
    }
    if !esr.isv() {
        return Err(MmioError::NoSyndrome);
    }
    let ipa = strip_shared(fault_ipa(hpfar, far), ipa_bits).ok_or(MmioError::NotUnprotected)?;
    let size = esr.access_bytes();
    let kind = if esr.write() {
        MmioKind::Write(gpr0 & size_mask(size))
    } else {
        MmioKind::Read
    };
    Ok(MmioAccess { ipa, size, kind })
}

/// Decodes a SYNC REC exit that is an Emulatable Data Abort of a realm with `ipa_bits` of IPA
/// space (its `s2sz`). The exit reason is the caller's to check.
pub fn decode_exit(exit: &RmiRecExitFields, ipa_bits: u32) -> Result<MmioAccess, MmioError> {
    decode(exit.esr, exit.far, exit.hpfar, exit.gprs[0], ipa_bits)
}

impl MmioAccess {
    /// The access a `KVM_EXIT_MMIO` of the KVM model describes (its `phys_addr` keeps the
    /// unprotected bit).
    pub fn from_kvm_mmio(mmio: &KvmRunMmio, ipa_bits: u32) -> Result<Self, MmioError> {
        let size = match mmio.len {
            1 | 2 | 4 | 8 => mmio.len as usize,
            _ => return Err(MmioError::BadLength),
        };
        let ipa = strip_shared(mmio.phys_addr, ipa_bits).ok_or(MmioError::NotUnprotected)?;
        let kind = if mmio.is_write != 0 {
            MmioKind::Write(u64::from_le_bytes(mmio.data) & size_mask(size))
        } else {
            MmioKind::Read
        };
        Ok(Self { ipa, size, kind })
    }

    /// True for a write.
    pub const fn is_write(&self) -> bool {
        matches!(self.kind, MmioKind::Write(_))
    }

    /// The offset of the access in a device window `[base, base + len)`, if it lies wholly
    /// inside.
    pub fn offset_in(&self, base: u64, len: u64) -> Option<u64> {
        let offset = self.ipa.checked_sub(base)?;
        let end = offset.checked_add(self.size as u64)?;
        (end <= len).then_some(offset)
    }

    /// The `rec_enter` values that complete the access: `EMULATED_MMIO`, and for a read
    /// `value` (masked to the size) in `gprs[0]`. `value` is ignored for a write.
    pub const fn complete(&self, value: u64) -> MmioCompletion {
        MmioCompletion {
            flags: RmiRecEnterFlags::EMULATED_MMIO,
            gpr0: match self.kind {
                MmioKind::Read => Some(value & size_mask(self.size)),
                MmioKind::Write(_) => None,
            },
        }
    }

    /// Completes the access on the KVM model's path: for a read, `value` goes into
    /// `kvm_run.mmio.data` (which the model turns into `enter.gprs[0]` with `EMULATED_MMIO` on
    /// the next `KVM_RUN`). False if the last exit was not `KVM_EXIT_MMIO`.
    pub fn complete_kvm_run(&self, run: &mut KvmRun, value: u64) -> bool {
        let Some(data) = run.mmio_data_mut() else {
            return false;
        };
        if !self.is_write() {
            *data = (value & size_mask(self.size)).to_le_bytes();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPA_BITS: u32 = 40;
    const SHARED: u64 = 1 << 39;
    const UART: u64 = 0x0900_0000;

    /// An exit as the RMM reports an emulatable abort (no SRT, no SSE).
    fn exit(ipa: u64, sas: u64, write: bool, x0: u64) -> RmiRecExitFields {
        let mut e = RmiRecExitFields::ZERO;
        e.esr = exit_esr::EC_DABT_LOWER << exit_esr::EC_SHIFT
            | exit_esr::ISV
            | sas << exit_esr::SAS_SHIFT
            | if write { exit_esr::WNR } else { 0 }
            | 0x07; // DFSC: translation fault, level 3.
        e.hpfar = (ipa >> 12) << 4;
        e.far = ipa & 0xFFF;
        e.gprs[0] = x0;
        e
    }

    #[test]
    fn a_write_to_the_uart_data_register() {
        let e = exit(SHARED | UART, 2, true, 0xFFFF_FFFF_0000_0041);
        let a = decode_exit(&e, IPA_BITS).unwrap();
        assert_eq!(
            a,
            MmioAccess {
                ipa: UART,
                size: 4,
                kind: MmioKind::Write(0x41)
            }
        );
        assert_eq!(a.offset_in(UART, 0x1000), Some(0));
        assert_eq!(
            a.complete(0x1234),
            MmioCompletion {
                flags: RmiRecEnterFlags::EMULATED_MMIO,
                gpr0: None
            }
        );
    }

    #[test]
    fn reads_of_every_size() {
        for (sas, size) in [(0u64, 1usize), (1, 2), (2, 4), (3, 8)] {
            let e = exit(SHARED | 0x0800_6008, sas, false, 0xDEAD);
            let a = decode_exit(&e, IPA_BITS).unwrap();
            assert_eq!((a.ipa, a.size, a.kind), (0x0800_6008, size, MmioKind::Read));
            let c = a.complete(u64::MAX);
            assert_eq!(c.flags, RmiRecEnterFlags::EMULATED_MMIO);
            assert_eq!(c.gpr0, Some(size_mask(size)));
        }
    }

    #[test]
    fn srt_sse_and_sf_do_not_matter() {
        let plain = exit(SHARED | UART | 0x18, 1, false, 0);
        let mut noisy = plain;
        noisy.esr |= exit_esr::SRT_MASK | exit_esr::SSE | exit_esr::SF;
        assert_eq!(decode_exit(&plain, IPA_BITS), decode_exit(&noisy, IPA_BITS));
    }

    #[test]
    fn what_is_not_an_emulatable_access() {
        let mut e = exit(SHARED | UART, 2, true, 0);
        e.esr &= !exit_esr::ISV;
        assert_eq!(decode_exit(&e, IPA_BITS), Err(MmioError::NoSyndrome));
        let mut e = exit(SHARED | UART, 2, true, 0);
        e.esr = (e.esr & !exit_esr::EC_MASK) | 0x20 << exit_esr::EC_SHIFT;
        assert_eq!(decode_exit(&e, IPA_BITS), Err(MmioError::NotDataAbort));
        let e = exit(UART, 2, true, 0);
        assert_eq!(decode_exit(&e, IPA_BITS), Err(MmioError::NotUnprotected));
        // Above the IPA space.
        let e = exit(1 << 40 | SHARED | UART, 2, true, 0);
        assert_eq!(decode_exit(&e, IPA_BITS), Err(MmioError::NotUnprotected));
        for bits in [0, 1, 65, u32::MAX] {
            assert_eq!(
                decode_exit(&exit(SHARED | UART, 2, true, 0), bits),
                Err(MmioError::NotUnprotected)
            );
        }
    }

    #[test]
    fn hostile_fields_never_panic() {
        for esr in [0, u64::MAX, exit_esr::EC_DABT_LOWER << 26 | exit_esr::ISV] {
            for addr in [0, u64::MAX, 0x8000_0000_0000_0000] {
                for bits in [0, 1, 2, 32, 40, 48, 52, 63, 64, 65, u32::MAX] {
                    let _ = decode(esr, addr, addr, addr, bits);
                }
            }
        }
        assert_eq!(strip_shared(u64::MAX, 64), Some(u64::MAX >> 1));
        assert_eq!(strip_shared(3, 2), Some(1));
        assert_eq!(size_mask(0), 0);
        assert_eq!(size_mask(usize::MAX), u64::MAX);
    }

    #[test]
    fn offsets_in_a_window() {
        let a = MmioAccess {
            ipa: UART + 0xFFC,
            size: 8,
            kind: MmioKind::Read,
        };
        assert_eq!(a.offset_in(UART, 0x1000), None, "crosses the end");
        assert_eq!(a.offset_in(UART, 0x1004), Some(0xFFC));
        assert_eq!(a.offset_in(UART + 0x1000, 0x1000), None);
        let top = MmioAccess {
            ipa: u64::MAX,
            size: 4,
            kind: MmioKind::Read,
        };
        assert_eq!(top.offset_in(0, u64::MAX), None);
    }

    #[test]
    fn the_kvm_models_mmio_exit_decodes_alike() {
        // What kvm/vcpu.rs puts in kvm_run for the same exit: phys_addr with the unprotected
        // bit, the low `len` bytes of x0.
        let e = exit(SHARED | UART, 1, true, 0x1_2345);
        let mut data = [0u8; 8];
        data[..2].copy_from_slice(&0x1_2345u64.to_le_bytes()[..2]);
        let mmio = KvmRunMmio {
            phys_addr: SHARED | UART,
            data,
            len: 2,
            is_write: 1,
            pad: [0; 3],
        };
        assert_eq!(
            MmioAccess::from_kvm_mmio(&mmio, IPA_BITS),
            decode_exit(&e, IPA_BITS)
        );
        let bad = KvmRunMmio { len: 3, ..mmio };
        assert_eq!(
            MmioAccess::from_kvm_mmio(&bad, IPA_BITS),
            Err(MmioError::BadLength)
        );
        // No MMIO exit pending in a fresh kvm_run: nothing to complete.
        let mut run = KvmRun::new();
        let read = MmioAccess {
            ipa: UART,
            size: 2,
            kind: MmioKind::Read,
        };
        assert!(!read.complete_kvm_run(&mut run, 0x90));
        run.set_exit(crate::kvm::KvmExit::Mmio(KvmRunMmio {
            is_write: 0,
            ..mmio
        }));
        assert!(read.complete_kvm_run(&mut run, 0xAB_0090));
        assert_eq!(
            run.mmio_data_mut().copied(),
            Some([0x90, 0, 0, 0, 0, 0, 0, 0])
        );
    }
}
