//! Typed accessors for the system registers `aarch64-cpu` lacks, or names only with an assembler
//! feature the image is not built with, and named fields for the ones whose fields it lacks.
//!
//! Every register here is a [`SysReg`] constant: a zero-sized value implementing tock-registers'
//! [`Readable`] (and [`Writeable`] when the register may be written) through `mrs`/`msr` of its
//! encoding `S<op0>_<op1>_C<CRn>_C<CRm>_<op2>`, so a call site reads `ZCR_EL2.set(v)` as it
//! reads `aarch64-cpu`'s `VTTBR_EL2.set(v)`. Only this file makes them: the constructor is
//! private, so the `unsafe` below covers exactly the registers listed here.

use core::arch::asm;
use core::marker::PhantomData;

pub use aarch64_cpu::registers::{Readable, Writeable};
use tock_registers::RegisterLongName;

pub use crate::arch::trap_policy::fields::HCRX_EL2;
pub use fields::{
    DCZID_EL0, ICC_HPPIR1_EL1, ID_AA64ISAR2_EL1, ID_AA64MMFR1_EL1_HCX, ISR_EL1, TLBI_IPAS2, ZCR_EL2,
};

/// Access marker: the register may only be read.
pub enum ReadOnly {}

/// Access marker: the register may be read and written.
pub enum ReadWrite {}

/// The system register encoded `S<OP0>_<OP1>_C<CRN>_C<CRM>_<OP2>`, with the fields `R` and the
/// access `A` ([`ReadOnly`] or [`ReadWrite`]).
pub struct SysReg<
    const OP0: u8,
    const OP1: u8,
    const CRN: u8,
    const CRM: u8,
    const OP2: u8,
    R = (),
    A = ReadWrite,
>(PhantomData<(R, A)>);

impl<const OP0: u8, const OP1: u8, const CRN: u8, const CRM: u8, const OP2: u8, R, A>
    SysReg<OP0, OP1, CRN, CRM, OP2, R, A>
{
    /// Private: only the registers this file lists exist.
    const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<
        const OP0: u8,
        const OP1: u8,
        const CRN: u8,
        const CRM: u8,
        const OP2: u8,
        R: RegisterLongName,
        A,
    > Readable for SysReg<OP0, OP1, CRN, CRM, OP2, R, A>
{
    type T = u64;
    type R = R;

    #[inline]
    fn get(&self) -> u64 {
        let v: u64;
        // SAFETY: reading the registers of this file at EL2 has no side effects (none is an
        // acknowledge register such as ICC_IAR1_EL1).
        unsafe {
            asm!(
                "mrs {v}, S{op0}_{op1}_C{crn}_C{crm}_{op2}",
                v = out(reg) v,
                op0 = const OP0,
                op1 = const OP1,
                crn = const CRN,
                crm = const CRM,
                op2 = const OP2,
                options(nomem, nostack)
            )
        };
        v
    }
}

impl<
        const OP0: u8,
        const OP1: u8,
        const CRN: u8,
        const CRM: u8,
        const OP2: u8,
        R: RegisterLongName,
    > Writeable for SysReg<OP0, OP1, CRN, CRM, OP2, R, ReadWrite>
{
    type T = u64;
    type R = R;

    #[inline]
    fn set(&self, v: u64) {
        // SAFETY: the writable registers of this file are a realm's context (its pointer
        // authentication keys, VDISR_EL2) or EL2 controls of realm execution (VPIDR_EL2,
        // HCRX_EL2) and of the SVE vector length (ZCR_EL2); the RMM itself runs at EL2 and
        // depends on none of them (it uses neither SVE nor pointer authentication).
        unsafe {
            asm!(
                "msr S{op0}_{op1}_C{crn}_C{crm}_{op2}, {v}",
                v = in(reg) v,
                op0 = const OP0,
                op1 = const OP1,
                crn = const CRN,
                crm = const CRM,
                op2 = const OP2,
                options(nomem, nostack)
            )
        };
    }
}

/// `DCZID_EL0` (`S3_3_C0_C0_7`): whether DC ZVA may be used, and the block it zeroes.
pub const DCZID_EL0: SysReg<3, 3, 0, 0, 7, DCZID_EL0::Register, ReadOnly> = SysReg::new();

/// `ZCR_EL2` (FEAT_SVE, `S3_4_C1_C2_0`): the SVE vector length at EL2 and below. The assembler
/// names it only with the SVE feature, which the image is not built with.
pub const ZCR_EL2: SysReg<3, 4, 1, 2, 0, ZCR_EL2::Register> = SysReg::new();

/// `HCRX_EL2` (FEAT_HCX, `S3_4_C1_C2_2`): the extended hypervisor configuration; its fields
/// are `crate::arch::trap_policy`'s.
pub const HCRX_EL2: SysReg<3, 4, 1, 2, 2, HCRX_EL2::Register> = SysReg::new();

/// `VDISR_EL2` (FEAT_RAS, `S3_4_C12_C1_1`): the virtual deferred interrupt status a realm's ESB
/// records.
pub const VDISR_EL2: SysReg<3, 4, 12, 1, 1> = SysReg::new();

/// `VPIDR_EL2` (`S3_4_C0_C0_0`): the `MIDR_EL1` value EL1 reads; `MIDR_EL1`'s layout.
pub const VPIDR_EL2: SysReg<3, 4, 0, 0, 0, aarch64_cpu::registers::MIDR_EL1::Register> =
    SysReg::new();

/// `ISR_EL1` (`S3_0_C12_C1_0`): the pending physical interrupts (at EL2, the CPU's own).
pub const ISR_EL1: SysReg<3, 0, 12, 1, 0, ISR_EL1::Register, ReadOnly> = SysReg::new();

/// `ICC_HPPIR1_EL1` (GICv3, `S3_0_C12_C12_2`): the highest-priority pending Group 1 interrupt
/// (reading it does not acknowledge it).
pub const ICC_HPPIR1_EL1: SysReg<3, 0, 12, 12, 2, ICC_HPPIR1_EL1::Register, ReadOnly> =
    SysReg::new();

/// `ID_AA64ISAR2_EL1` (`S3_0_C0_C6_2`): instruction set attributes (pointer authentication's
/// QARMA3 algorithm, among others).
pub const ID_AA64ISAR2_EL1: SysReg<3, 0, 0, 6, 2, ID_AA64ISAR2_EL1::Register, ReadOnly> =
    SysReg::new();

/// An AArch64 ID register `S3_0_C0_C<CRM>_<OP2>` (CRm 1..=7: defined, or reserved and read as
/// zero), as a trapped ID register read names it.
pub type IdRegister<const CRM: u8, const OP2: u8> = SysReg<3, 0, 0, CRM, OP2, (), ReadOnly>;

/// The ID register `S3_0_C0_C<CRM>_<OP2>`; CRm outside 1..=7 does not compile.
pub const fn id_register<const CRM: u8, const OP2: u8>() -> IdRegister<CRM, OP2> {
    const { assert!(CRM >= 1 && CRM <= 7 && OP2 <= 7) };
    SysReg::new()
}

// The pointer authentication keys (FEAT_PAuth). `aarch64-cpu` names them, but the assembler
// accepts the names only with the PAuth feature, which the image is not built with.

/// `APIAKeyLo_EL1` (`S3_0_C2_C1_0`): instruction key A, bits \[63:0\].
pub const APIAKEYLO_EL1: SysReg<3, 0, 2, 1, 0> = SysReg::new();
/// `APIAKeyHi_EL1` (`S3_0_C2_C1_1`): instruction key A, bits \[127:64\].
pub const APIAKEYHI_EL1: SysReg<3, 0, 2, 1, 1> = SysReg::new();
/// `APIBKeyLo_EL1` (`S3_0_C2_C1_2`): instruction key B, bits \[63:0\].
pub const APIBKEYLO_EL1: SysReg<3, 0, 2, 1, 2> = SysReg::new();
/// `APIBKeyHi_EL1` (`S3_0_C2_C1_3`): instruction key B, bits \[127:64\].
pub const APIBKEYHI_EL1: SysReg<3, 0, 2, 1, 3> = SysReg::new();
/// `APDAKeyLo_EL1` (`S3_0_C2_C2_0`): data key A, bits \[63:0\].
pub const APDAKEYLO_EL1: SysReg<3, 0, 2, 2, 0> = SysReg::new();
/// `APDAKeyHi_EL1` (`S3_0_C2_C2_1`): data key A, bits \[127:64\].
pub const APDAKEYHI_EL1: SysReg<3, 0, 2, 2, 1> = SysReg::new();
/// `APDBKeyLo_EL1` (`S3_0_C2_C2_2`): data key B, bits \[63:0\].
pub const APDBKEYLO_EL1: SysReg<3, 0, 2, 2, 2> = SysReg::new();
/// `APDBKeyHi_EL1` (`S3_0_C2_C2_3`): data key B, bits \[127:64\].
pub const APDBKEYHI_EL1: SysReg<3, 0, 2, 2, 3> = SysReg::new();
/// `APGAKeyLo_EL1` (`S3_0_C2_C3_0`): the generic key, bits \[63:0\].
pub const APGAKEYLO_EL1: SysReg<3, 0, 2, 3, 0> = SysReg::new();
/// `APGAKeyHi_EL1` (`S3_0_C2_C3_1`): the generic key, bits \[127:64\].
pub const APGAKEYHI_EL1: SysReg<3, 0, 2, 3, 1> = SysReg::new();

/// Named fields of the registers above, and those `aarch64-cpu` lacks on registers it has (the
/// macro's generated items carry no documentation of their own: each field's doc comment is
/// above it).
#[allow(missing_docs)]
pub mod fields {
    use tock_registers::register_bitfields;

    register_bitfields! {u64,
        /// `DCZID_EL0`: the block DC ZVA zeroes.
        pub DCZID_EL0 [
            /// DZP: DC ZVA is prohibited.
            DZP OFFSET(4) NUMBITS(1) [],
            /// BS: log2 of the block size in words (4 bytes).
            BS OFFSET(0) NUMBITS(4) []
        ],
        /// `ZCR_EL2`.
        pub ZCR_EL2 [
            /// LEN: the vector length is (LEN + 1) x 128 bits, clamped to what the CPU has.
            LEN OFFSET(0) NUMBITS(4) [
                /// All ones: the largest vector length the CPU implements.
                Max = 0xF
            ]
        ],
        /// `ISR_EL1`: which physical interrupts are pending.
        pub ISR_EL1 [
            /// A: an SError is pending.
            A OFFSET(8) NUMBITS(1) [],
            /// I: an IRQ is pending.
            I OFFSET(7) NUMBITS(1) [],
            /// F: an FIQ is pending.
            F OFFSET(6) NUMBITS(1) []
        ],
        /// `ICC_HPPIR1_EL1`.
        pub ICC_HPPIR1_EL1 [
            /// INTID: the highest-priority pending interrupt's ID (1023: none), 24 bits.
            INTID OFFSET(0) NUMBITS(24) []
        ],
        /// `ID_AA64ISAR2_EL1`: the pointer authentication fields.
        pub ID_AA64ISAR2_EL1 [
            /// APA3: address authentication with the QARMA3 algorithm.
            APA3 OFFSET(12) NUMBITS(4) [],
            /// GPA3: generic authentication with the QARMA3 algorithm.
            GPA3 OFFSET(8) NUMBITS(4) []
        ],
        /// `ID_AA64MMFR1_EL1` fields `aarch64-cpu` does not name.
        pub ID_AA64MMFR1_EL1_HCX [
            /// HCX: `HCRX_EL2` is implemented (FEAT_HCX).
            HCX OFFSET(40) NUMBITS(4) []
        ],
        /// The operand of `TLBI IPAS2E1IS` (an IPA and, left zero, its TTL hint and NS bit).
        pub TLBI_IPAS2 [
            /// IPA\[47:12\] of the address whose stage-2 entries are invalidated.
            IPA OFFSET(0) NUMBITS(36) []
        ]
    }
}
