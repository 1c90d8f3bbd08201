//! `KVM_GET_ONE_REG` / `KVM_SET_ONE_REG` for a realm vCPU: which register ids exist, which a realm
//! vCPU exposes, and the register cache behind them.
//!
//! The host never sees a realm's registers; it sees what the RMM publishes in `rec_exit.gprs` on
//! a host call or PSCI exit, and what it sends back in `rec_enter.gprs`. The cache is that copy:
//! x0..x30, plus the PC that goes into `RmiRecParams` while the REC does not exist yet.
//!
//! Errors (this model's choice, following arm64 KVM's id decoding):
//! - an id of another architecture, or a core-register id whose size field does not match the
//!   register at that offset -> EINVAL (KVM's `validate_core_offset`);
//! - a core-register offset past the end of `struct kvm_regs`, or an id outside the core group
//!   (system, firmware, SVE registers: this model keeps none) -> ENOENT;
//! - a core register that exists but that a realm vCPU does not expose (SP, PSTATE, the EL1 and
//!   FP/SIMD state, and the PC once the REC exists) -> EINVAL, for reads as well as writes. The
//!   Arm CCA KVM series limits writes for a realm vCPU to these registers; reads of the others
//!   return KVM's own copy, which says nothing about the realm, so this model refuses them.

use hostcall_abi::kvm::{
    KvmRegId, KVM_CORE_GPRS, KVM_REG_ARM64, KVM_REG_ARM_COPROC_SHIFT, KVM_REG_ARM_CORE,
    KVM_REG_SIZE_U64,
};

use super::Errno;

/// Architecture field of a register id (bits 63:56).
const ARCH_MASK: u64 = 0xFF00_0000_0000_0000;
/// Size field of a register id (bits 55:52).
const SIZE_MASK: u64 = 0x00F0_0000_0000_0000;
/// `KVM_REG_SIZE_U32`.
const SIZE_U32: u64 = 0x0020_0000_0000_0000;
/// `KVM_REG_SIZE_U128`.
const SIZE_U128: u64 = 0x0040_0000_0000_0000;
/// The arm64 coprocessor field (bits 31:16).
const COPROC_MASK: u64 = 0xFFFF << KVM_REG_ARM_COPROC_SHIFT;
/// Offset field of a core-register id: 32-bit words into `struct kvm_regs` (bits 15:0).
const CORE_INDEX_MASK: u64 = 0xFFFF;

/// `struct kvm_regs` in 32-bit words: `user_pt_regs` (x0..x30, sp, pc, pstate), sp_el1, elr_el1,
/// spsr\[5\], then the 16-byte aligned `user_fpsimd_state` (v0..v31, fpsr, fpcr, two reserved).
mod words {
    /// `regs.sp`.
    pub const SP: u64 = 62;
    /// `regs.pc` (`regs.pstate` follows at 66).
    pub const PC: u64 = 64;
    /// End (exclusive) of the 64-bit registers: `user_pt_regs`, then `sp_el1`, `elr_el1` and
    /// `spsr[0..5]` from word 68.
    pub const EL1_END: u64 = 82;
    /// `fp_regs.vregs[0]` (offset 0x150); 128-bit registers up to `FPSR`.
    pub const VREGS: u64 = 84;
    /// `fp_regs.fpsr` (32-bit).
    pub const FPSR: u64 = 212;
    /// `fp_regs.fpcr` (32-bit).
    pub const FPCR: u64 = 213;
    /// Size of `struct kvm_regs`.
    pub const END: u64 = 216;
}

/// What a register id names, for a realm vCPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegName {
    /// `x<n>`, n in 0..=30.
    Gpr(usize),
    /// The PC.
    Pc,
    /// A core register that exists but that a realm vCPU does not expose.
    Hidden,
}

/// Decodes `id`: the register it names, or the errno KVM gives for it.
pub fn decode(id: KvmRegId) -> Result<RegName, Errno> {
    let raw = id.raw();
    if raw & ARCH_MASK != KVM_REG_ARM64 {
        return Err(Errno::EINVAL);
    }
    if raw & COPROC_MASK != KVM_REG_ARM_CORE
        || raw & !(ARCH_MASK | SIZE_MASK | COPROC_MASK) > CORE_INDEX_MASK
    {
        return Err(Errno::ENOENT);
    }
    let index = raw & CORE_INDEX_MASK;
    if index >= words::END {
        return Err(Errno::ENOENT);
    }
    let size = raw & SIZE_MASK;
    let wanted = match index {
        i if i < words::EL1_END => i.is_multiple_of(2).then_some(KVM_REG_SIZE_U64),
        i if (words::VREGS..words::FPSR).contains(&i) => {
            (i - words::VREGS).is_multiple_of(4).then_some(SIZE_U128)
        }
        words::FPSR | words::FPCR => Some(SIZE_U32),
        _ => None,
    };
    if wanted != Some(size) {
        return Err(Errno::EINVAL);
    }
    Ok(match index {
        i if i < words::SP => RegName::Gpr((i / 2) as usize),
        words::PC => RegName::Pc,
        // SP, PSTATE, the EL1 registers and the FP/SIMD state.
        _ => RegName::Hidden,
    })
}

/// The host's copy of a realm vCPU's registers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegCache {
    /// x0..x30.
    pub x: [u64; KVM_CORE_GPRS as usize],
    /// The PC the REC starts at (used only before the REC exists).
    pub pc: u64,
}

impl RegCache {
    /// `KVM_GET_ONE_REG`; `rec_exists` says whether the vCPU's REC has been created.
    pub fn get(&self, id: KvmRegId, rec_exists: bool) -> Result<u64, Errno> {
        match decode(id)? {
            RegName::Gpr(n) => self.x.get(n).copied().ok_or(Errno::ENOENT),
            RegName::Pc if !rec_exists => Ok(self.pc),
            RegName::Pc | RegName::Hidden => Err(Errno::EINVAL),
        }
    }

    /// `KVM_SET_ONE_REG`; `rec_exists` says whether the vCPU's REC has been created.
    pub fn set(&mut self, id: KvmRegId, value: u64, rec_exists: bool) -> Result<(), Errno> {
        match decode(id)? {
            RegName::Gpr(n) => {
                let slot = self.x.get_mut(n).ok_or(Errno::ENOENT)?;
                *slot = value;
                Ok(())
            }
            RegName::Pc if !rec_exists => {
                self.pc = value;
                Ok(())
            }
            RegName::Pc | RegName::Hidden => Err(Errno::EINVAL),
        }
    }
}
