//! `RmiRecRun`, the NS granule the host passes to `RMI_REC_ENTER`: entry information at 0x000,
//! exit information at 0x800 (DEN0137 B4.4.14-B4.4.17, B4.4.20, A4.2, A4.3), and the GIC
//! virtual-interface bits the host may control (A6.1).

use crate::fieldset::fieldset64;
use crate::rtt::Ripas;
use crate::wire::{impl_wire, window, window_mut, ShortBuffer, Wire};

/// Size of an `RmiRecRun`: one granule.
pub const RMI_REC_RUN_SIZE: usize = crate::GRANULE_SIZE;
/// Size of the entry part.
pub const RMI_REC_ENTER_SIZE: usize = 0x800;
/// Size of the exit part.
pub const RMI_REC_EXIT_SIZE: usize = 0x800;
/// Offset of the exit part in an `RmiRecRun`.
pub const RMI_REC_EXIT_OFFSET: usize = 0x800;
/// General-purpose registers exchanged (x0..x30).
pub const REC_RUN_GPRS: usize = 31;
/// GICv3 list registers exchanged.
pub const GICV3_MAX_LRS: usize = 16;

/// `ICH_HCR_EL2` bit positions (GICv3 architecture) that matter to REC entry and exit.
pub mod ich_hcr {
    /// En: global enable of the virtual CPU interface (RMM-controlled; 0 after REC exit).
    pub const EN: u64 = 1 << 0;
    /// UIE: underflow interrupt enable.
    pub const UIE: u64 = 1 << 1;
    /// LRENPIE: list register entry not present interrupt enable.
    pub const LRENPIE: u64 = 1 << 2;
    /// NPIE: no pending interrupt enable.
    pub const NPIE: u64 = 1 << 3;
    /// VGrp0EIE: virtual group 0 enabled interrupt enable.
    pub const VGRP0EIE: u64 = 1 << 4;
    /// VGrp0DIE: virtual group 0 disabled interrupt enable.
    pub const VGRP0DIE: u64 = 1 << 5;
    /// VGrp1EIE: virtual group 1 enabled interrupt enable.
    pub const VGRP1EIE: u64 = 1 << 6;
    /// VGrp1DIE: virtual group 1 disabled interrupt enable.
    pub const VGRP1DIE: u64 = 1 << 7;
    /// TDIR: trap EL1 writes to ICC_DIR_EL1 / ICV_DIR_EL1.
    pub const TDIR: u64 = 1 << 14;
    /// Shift of EOIcount, bits `[31:27]`.
    pub const EOICOUNT_SHIFT: u32 = 27;
    /// EOIcount, bits `[31:27]`.
    pub const EOICOUNT_MASK: u64 = 0x1F << EOICOUNT_SHIFT;

    /// The only bits `enter.gicv3_hcr` may have set; any other set bit makes `RMI_REC_ENTER`
    /// fail (A6.1).
    pub const ENTER_ALLOWED: u64 =
        UIE | LRENPIE | NPIE | VGRP0EIE | VGRP0DIE | VGRP1EIE | VGRP1DIE | TDIR;

    /// The bits `exit.gicv3_hcr` reports (A6.1): the entry bits plus EOIcount; all others are
    /// zero.
    pub const EXIT_REPORTED: u64 = ENTER_ALLOWED | EOICOUNT_MASK;

    /// True if `hcr` sets no bit outside [`ENTER_ALLOWED`].
    pub const fn enter_value_allowed(hcr: u64) -> bool {
        hcr & !ENTER_ALLOWED == 0
    }
}

/// `ICH_LR<n>_EL2.HW` (bit 61). A6.1 requires it to be 0 in every `enter.gicv3_lrs[n]`.
pub const ICH_LR_HW: u64 = 1 << 61;

/// `ICH_LR<n>_EL2` fields (GICv3 architecture), the values `enter.gicv3_lrs` / `exit.gicv3_lrs`
/// carry: State `[63:62]`, HW `[61]`, Group `[60]`, Priority `[55:48]`, pINTID `[44:32]`,
/// vINTID `[31:0]`.
pub mod ich_lr {
    /// Shift of State, bits `[63:62]`.
    pub const STATE_SHIFT: u32 = 62;
    /// State, bits `[63:62]`: 0b00 invalid, 0b01 pending, 0b10 active, 0b11 pending and active.
    pub const STATE_MASK: u64 = 0b11 << STATE_SHIFT;
    /// State bit 62: pending.
    pub const STATE_PENDING: u64 = 0b01 << STATE_SHIFT;
    /// State bit 63: active.
    pub const STATE_ACTIVE: u64 = 0b10 << STATE_SHIFT;
    /// HW, bit 61 (must be 0 on REC entry, A6.1); the same bit as [`super::ICH_LR_HW`].
    pub const HW: u64 = super::ICH_LR_HW;
    /// Group, bit 60: set for a Group 1 virtual interrupt.
    pub const GROUP1: u64 = 1 << 60;
    /// Shift of Priority, bits `[55:48]`.
    pub const PRIORITY_SHIFT: u32 = 48;
    /// Priority, bits `[55:48]`.
    pub const PRIORITY_MASK: u64 = 0xFF << PRIORITY_SHIFT;
    /// Shift of pINTID, bits `[44:32]` (only meaningful with HW = 1).
    pub const PINTID_SHIFT: u32 = 32;
    /// pINTID, bits `[44:32]`.
    pub const PINTID_MASK: u64 = 0x1FFF << PINTID_SHIFT;
    /// vINTID, bits `[31:0]`.
    pub const VINTID_MASK: u64 = 0xFFFF_FFFF;

    /// A list register value for a virtual interrupt the host injects: `vintid`, `priority`,
    /// Group 1 if `group1`, HW = 0, and State from `pending` / `active` (both false: invalid).
    pub const fn encode(
        vintid: u32,
        priority: u8,
        group1: bool,
        pending: bool,
        active: bool,
    ) -> u64 {
        let mut v = (vintid as u64) | ((priority as u64) << PRIORITY_SHIFT);
        if group1 {
            v |= GROUP1;
        }
        if pending {
            v |= STATE_PENDING;
        }
        if active {
            v |= STATE_ACTIVE;
        }
        v
    }

    /// The vINTID of `lr`.
    pub const fn vintid(lr: u64) -> u32 {
        (lr & VINTID_MASK) as u32
    }

    /// True if `lr` holds a pending interrupt (State bit 62).
    pub const fn is_pending(lr: u64) -> bool {
        lr & STATE_PENDING != 0
    }

    /// True if `lr` holds an active interrupt (State bit 63).
    pub const fn is_active(lr: u64) -> bool {
        lr & STATE_ACTIVE != 0
    }

    /// True if `lr` is invalid (State 0b00): the list register is free.
    pub const fn is_invalid(lr: u64) -> bool {
        lr & STATE_MASK == 0
    }
}

/// ESR_EL2 fields of a data abort as `exit.esr` reports it (A4.3.4.3): EC, and the ISS fields
/// the RMM may pass on. For an Emulatable Data Abort these are ISV, SAS, SF and WnR besides
/// SET, FnV, EA and DFSC; SRT and SSE never reach the host (the RMM writes the loaded value to
/// the right register itself, sign-extended, on the next REC entry).
pub mod exit_esr {
    /// Shift of EC, bits `[31:26]`.
    pub const EC_SHIFT: u32 = 26;
    /// EC, bits `[31:26]`.
    pub const EC_MASK: u64 = 0x3F << EC_SHIFT;
    /// EC value: data abort from a lower exception level.
    pub const EC_DABT_LOWER: u64 = 0x24;
    /// EC value: trapped MSR, MRS or system instruction (AArch64).
    pub const EC_SYS64: u64 = 0x18;
    /// IL, bit 25 (reported only for a non-emulatable abort at an unprotected IPA).
    pub const IL: u64 = 1 << 25;
    /// ISV, bit 24: the syndrome (SAS, SF, WnR) is valid.
    pub const ISV: u64 = 1 << 24;
    /// Shift of SAS, bits `[23:22]`: access size, log2 bytes.
    pub const SAS_SHIFT: u32 = 22;
    /// SAS, bits `[23:22]`.
    pub const SAS_MASK: u64 = 0b11 << SAS_SHIFT;
    /// SSE, bit 21 (never reported to the host).
    pub const SSE: u64 = 1 << 21;
    /// Shift of SRT, bits `[20:16]` (never reported to the host for an emulatable abort).
    pub const SRT_SHIFT: u32 = 16;
    /// SRT, bits `[20:16]`.
    pub const SRT_MASK: u64 = 0x1F << SRT_SHIFT;
    /// SF, bit 15: the register is 64 bits wide.
    pub const SF: u64 = 1 << 15;
    /// WnR, bit 6: a write.
    pub const WNR: u64 = 1 << 6;
    /// DFSC, bits `[5:0]` (IFSC for an instruction abort, the same bits).
    pub const DFSC_MASK: u64 = 0x3F;
    /// Abort: SET, bits `[12:11]` (synchronous error type).
    pub const SET_MASK: u64 = 0b11 << 11;
    /// Abort: FnV, bit 10 (FAR not valid).
    pub const FNV: u64 = 1 << 10;
    /// Abort or SError: EA, bit 9 (external abort type).
    pub const EA: u64 = 1 << 9;
    /// SError: IDS, bit 24 (implementation-defined syndrome).
    pub const IDS: u64 = 1 << 24;
    /// SError: AET, bits `[12:10]` (asynchronous error type).
    pub const AET_MASK: u64 = 0b111 << 10;
    /// WFx: TI, bits `[1:0]` (WFI, WFE, WFIT, WFET).
    pub const TI_MASK: u64 = 0b11;

    /// The EC of `esr`.
    pub const fn ec(esr: u64) -> u64 {
        Esr(esr).ec()
    }

    /// An `ESR_EL2` value, decoded by name: the one decoder of syndromes (the RMM's exit
    /// handling, trapped system registers and MMIO completion, and the host's exit handling).
    /// Field positions from the Arm ARM (ESR_EL2; ISS encodings for data aborts and for
    /// exceptions from MSR, MRS or system instructions).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Esr(pub u64);

    /// A trapped MSR or MRS, as its ISS (EC 0x18) names it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct SysregAccess {
        /// Op0, `[21:20]`.
        pub op0: u8,
        /// Op1, `[16:14]`.
        pub op1: u8,
        /// CRn, `[13:10]`.
        pub crn: u8,
        /// CRm, `[4:1]`.
        pub crm: u8,
        /// Op2, `[19:17]`.
        pub op2: u8,
        /// Rt, `[9:5]` (31: XZR).
        pub rt: usize,
        /// Direction, `[0]`: MRS (a read).
        pub read: bool,
    }

    impl SysregAccess {
        /// The ISS bits that name the register (all but Rt and Direction).
        pub const NAME_MASK: u64 =
            (0b11 << 20) | (0b111 << 17) | (0b111 << 14) | (0xF << 10) | (0xF << 1);

        /// The ISS bits naming register `op0, op1, CRn, CRm, op2` (compare with
        /// `esr.iss() & NAME_MASK`).
        pub const fn name_bits(op0: u8, op1: u8, crn: u8, crm: u8, op2: u8) -> u64 {
            (op0 as u64) << 20
                | (op2 as u64) << 17
                | (op1 as u64) << 14
                | (crn as u64) << 10
                | (crm as u64) << 1
        }
    }

    impl Esr {
        /// EC, `[31:26]`: the exception class.
        pub const fn ec(self) -> u64 {
            (self.0 & EC_MASK) >> EC_SHIFT
        }

        /// IL, `[25]`: a 32-bit instruction.
        pub const fn il(self) -> bool {
            self.0 & IL != 0
        }

        /// ISS, `[24:0]`.
        pub const fn iss(self) -> u64 {
            self.0 & 0x1FF_FFFF
        }

        /// Data abort: ISV, `[24]`: SAS, SSE, SRT, SF and WnR are valid.
        pub const fn isv(self) -> bool {
            self.0 & ISV != 0
        }

        /// Data abort: the access size in bytes (SAS, `[23:22]`).
        pub const fn access_bytes(self) -> usize {
            1 << ((self.0 & SAS_MASK) >> SAS_SHIFT)
        }

        /// Data abort: SSE, `[21]`: a load is sign-extended.
        pub const fn sign_extend(self) -> bool {
            self.0 & SSE != 0
        }

        /// Data abort: SRT, `[20:16]`: the register transferred (31: XZR).
        pub const fn srt(self) -> usize {
            ((self.0 & SRT_MASK) >> SRT_SHIFT) as usize
        }

        /// Data abort: SF, `[15]`: the register is 64 bits wide.
        pub const fn sixty_four(self) -> bool {
            self.0 & SF != 0
        }

        /// Data abort: WnR, `[6]`: a write.
        pub const fn write(self) -> bool {
            self.0 & WNR != 0
        }

        /// A trapped MSR/MRS (EC 0x18): the register and transfer its ISS names.
        pub const fn sysreg(self) -> SysregAccess {
            let e = self.0;
            SysregAccess {
                op0: ((e >> 20) & 0b11) as u8,
                op2: ((e >> 17) & 0b111) as u8,
                op1: ((e >> 14) & 0b111) as u8,
                crn: ((e >> 10) & 0xF) as u8,
                rt: ((e >> 5) & 0x1F) as usize,
                crm: ((e >> 1) & 0xF) as u8,
                read: e & 1 != 0,
            }
        }
    }
}

/// The host's answer to a RIPAS change request (`RmiResponse`, B4.4.22).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u8)]
pub enum RmiResponse {
    /// The host accepted the request.
    Accept = 0,
    /// The host rejected the request.
    Reject = 1,
}

fieldset64! {
    /// Flags the host passes on REC entry (`RmiRecEnterFlags`, B4.4.15). Bits 63:5 SBZ.
    pub struct RmiRecEnterFlags {
        /// Bit 0 (`emul_mmio`): the host completed emulation of an Emulatable Data Abort; for a
        /// read, the value is in `enter.gprs[0]`.
        EMULATED_MMIO = 0;
        /// Bit 1 (`inject_sea`): inject a Synchronous External Abort (after a data abort at an
        /// unprotected IPA); `EMULATED_MMIO` is then ignored.
        INJECT_SEA = 1;
        /// Bit 2 (`trap_wfi`): trap WFI/WFIT to the host.
        TRAP_WFI = 2;
        /// Bit 3 (`trap_wfe`): trap WFE/WFET to the host.
        TRAP_WFE = 3;
        /// Bit 4 (`ripas_response`): set = `RMI_REJECT` the pending RIPAS change, clear = accept.
        RIPAS_RESPONSE = 4;
    }
}

impl RmiRecEnterFlags {
    /// The RIPAS change response the flags carry.
    pub const fn ripas_response(self) -> RmiResponse {
        if self.contains(Self::RIPAS_RESPONSE) {
            RmiResponse::Reject
        } else {
            RmiResponse::Accept
        }
    }
}

/// Why a REC exited (`RmiRecExitReason`, B4.4.17).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u8)]
pub enum RmiExitReason {
    /// Synchronous exception (data/instruction abort, trapped WFx, emulated host-call abort).
    Sync = 0,
    /// IRQ for the host.
    Irq = 1,
    /// FIQ for the host.
    Fiq = 2,
    /// PSCI call the host must know about (`gprs[0]` = FID, `gprs[1..3]` = arguments).
    Psci = 3,
    /// RIPAS change request (`ripas_base`, `ripas_top`, `ripas_value`).
    RipasChange = 4,
    /// `RSI_HOST_CALL` (`imm`, `gprs` from the realm's `RsiHostCall`).
    HostCall = 5,
    /// SError for the host.
    Serror = 6,
}

impl RmiExitReason {
    /// Decodes the 8-bit encoding.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Sync,
            1 => Self::Irq,
            2 => Self::Fiq,
            3 => Self::Psci,
            4 => Self::RipasChange,
            5 => Self::HostCall,
            6 => Self::Serror,
            _ => return None,
        })
    }

    /// Decodes a 64-bit value (for readers that load the field as a doubleword; the upper bits are
    /// MBZ, so any of them set gives `None`).
    pub const fn from_u64(v: u64) -> Option<Self> {
        if v > u8::MAX as u64 {
            return None;
        }
        Self::from_u8(v as u8)
    }

    /// The encoding.
    pub const fn raw(self) -> u8 {
        self as u8
    }
}

/// PMU overflow status reported on exit (`RmiPmuOverflowStatus`, B4.4.10).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u8)]
pub enum RmiPmuOverflowStatus {
    /// No PMU overflow is active.
    NotActive = 0,
    /// A PMU overflow is active.
    Active = 1,
}

impl RmiPmuOverflowStatus {
    /// Decodes the 8-bit encoding.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::NotActive,
            1 => Self::Active,
            _ => return None,
        })
    }
}

/// Entry information, host -> RMM (B4.4.14). Unused bits SBZ; the RMM ignores every field the
/// entry does not call for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct RmiRecEnter {
    /// Flags.
    pub flags: RmiRecEnterFlags,
    /// Reserved, SBZ.
    pub reserved0: [u8; 0x1F8],
    /// x0..x30: host-call results, or the MMIO read value in `gprs[0]`.
    pub gprs: [u64; REC_RUN_GPRS],
    /// Reserved, SBZ.
    pub reserved1: [u8; 0x8],
    /// ICH_HCR_EL2 value; only [`ich_hcr::ENTER_ALLOWED`] bits may be set.
    pub gicv3_hcr: u64,
    /// `ICH_LR<n>_EL2` values (HW must be 0).
    pub gicv3_lrs: [u64; GICV3_MAX_LRS],
    /// Reserved, SBZ.
    pub reserved2: [u8; 0x478],
}
assert_layout!(
    RmiRecEnter,
    size = RMI_REC_ENTER_SIZE,
    flags = 0x0,
    reserved0 = 0x8,
    gprs = 0x200,
    reserved1 = 0x2F8,
    gicv3_hcr = 0x300,
    gicv3_lrs = 0x308,
    reserved2 = 0x388,
);

impl_wire!(RmiRecEnter {
    flags,
    reserved0,
    gprs,
    reserved1,
    gicv3_hcr,
    gicv3_lrs,
    reserved2,
});

impl RmiRecEnter {
    /// All zero.
    pub const ZERO: Self = Self {
        flags: RmiRecEnterFlags::EMPTY,
        reserved0: [0; 0x1F8],
        gprs: [0; REC_RUN_GPRS],
        reserved1: [0; 0x8],
        gicv3_hcr: 0,
        gicv3_lrs: [0; GICV3_MAX_LRS],
        reserved2: [0; 0x478],
    };
}

impl Default for RmiRecEnter {
    fn default() -> Self {
        Self::ZERO
    }
}

/// Exit information, RMM -> host (B4.4.16). Offsets below are relative to the start of the exit
/// part (absolute offset in `RmiRecRun` = this + 0x800). On every exit all fields are zero unless
/// the exit reason says otherwise (A4.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct RmiRecExit {
    /// Exit reason (`RmiRecExitReason`, an 8-bit enumeration); see [`Self::exit_reason`].
    pub exit_reason: u8,
    /// Reserved, MBZ.
    pub reserved0: [u8; 0xFF],
    /// Sanitised ESR_EL2.
    pub esr: u64,
    /// FAR_EL2 (bits above the granule offset masked for emulatable aborts).
    pub far: u64,
    /// HPFAR_EL2.
    pub hpfar: u64,
    /// Reserved, MBZ.
    pub reserved1: [u8; 0xE8],
    /// x0..x30 for host calls and PSCI exits (`gprs[0]` = written value of an MMIO write).
    pub gprs: [u64; REC_RUN_GPRS],
    /// Reserved, MBZ.
    pub reserved2: [u8; 0x8],
    /// ICH_HCR_EL2 fields listed in [`ich_hcr::EXIT_REPORTED`].
    pub gicv3_hcr: u64,
    /// `ICH_LR<n>_EL2` values.
    pub gicv3_lrs: [u64; GICV3_MAX_LRS],
    /// ICH_MISR_EL2.
    pub gicv3_misr: u64,
    /// ICH_VMCR_EL2.
    pub gicv3_vmcr: u64,
    /// Reserved, MBZ.
    pub reserved3: [u8; 0x68],
    /// CNTP_CTL_EL0.
    pub cntp_ctl: u64,
    /// CNTP_CVAL_EL0.
    pub cntp_cval: u64,
    /// CNTV_CTL_EL0.
    pub cntv_ctl: u64,
    /// CNTV_CVAL_EL0.
    pub cntv_cval: u64,
    /// Reserved, MBZ.
    pub reserved4: [u8; 0xE0],
    /// Base of the region of a pending RIPAS change.
    pub ripas_base: u64,
    /// Top of the region of a pending RIPAS change.
    pub ripas_top: u64,
    /// Requested RIPAS (`RmiRipas` encoding); see [`Self::ripas_value`].
    pub ripas_value: u8,
    /// Reserved, MBZ.
    pub reserved5: [u8; 0xEF],
    /// Host call immediate (from `RsiHostCall.imm`).
    pub imm: u16,
    /// Reserved, MBZ.
    pub reserved6: [u8; 0xFE],
    /// PMU overflow status (`RmiPmuOverflowStatus` encoding); see [`Self::pmu_ovf_status`].
    pub pmu_ovf_status: u8,
    /// Reserved, MBZ.
    pub reserved7: [u8; 0xFF],
}
assert_layout!(
    RmiRecExit,
    size = RMI_REC_EXIT_SIZE,
    exit_reason = 0x0,
    reserved0 = 0x1,
    esr = 0x100,
    far = 0x108,
    hpfar = 0x110,
    reserved1 = 0x118,
    gprs = 0x200,
    reserved2 = 0x2F8,
    gicv3_hcr = 0x300,
    gicv3_lrs = 0x308,
    gicv3_misr = 0x388,
    gicv3_vmcr = 0x390,
    reserved3 = 0x398,
    cntp_ctl = 0x400,
    cntp_cval = 0x408,
    cntv_ctl = 0x410,
    cntv_cval = 0x418,
    reserved4 = 0x420,
    ripas_base = 0x500,
    ripas_top = 0x508,
    ripas_value = 0x510,
    reserved5 = 0x511,
    imm = 0x600,
    reserved6 = 0x602,
    pmu_ovf_status = 0x700,
    reserved7 = 0x701,
);

impl_wire!(RmiRecExit {
    exit_reason,
    reserved0,
    esr,
    far,
    hpfar,
    reserved1,
    gprs,
    reserved2,
    gicv3_hcr,
    gicv3_lrs,
    gicv3_misr,
    gicv3_vmcr,
    reserved3,
    cntp_ctl,
    cntp_cval,
    cntv_ctl,
    cntv_cval,
    reserved4,
    ripas_base,
    ripas_top,
    ripas_value,
    reserved5,
    imm,
    reserved6,
    pmu_ovf_status,
    reserved7,
});

impl RmiRecExit {
    /// All zero (which reads as exit reason `Sync`).
    pub const ZERO: Self = Self {
        exit_reason: 0,
        reserved0: [0; 0xFF],
        esr: 0,
        far: 0,
        hpfar: 0,
        reserved1: [0; 0xE8],
        gprs: [0; REC_RUN_GPRS],
        reserved2: [0; 0x8],
        gicv3_hcr: 0,
        gicv3_lrs: [0; GICV3_MAX_LRS],
        gicv3_misr: 0,
        gicv3_vmcr: 0,
        reserved3: [0; 0x68],
        cntp_ctl: 0,
        cntp_cval: 0,
        cntv_ctl: 0,
        cntv_cval: 0,
        reserved4: [0; 0xE0],
        ripas_base: 0,
        ripas_top: 0,
        ripas_value: 0,
        reserved5: [0; 0xEF],
        imm: 0,
        reserved6: [0; 0xFE],
        pmu_ovf_status: 0,
        reserved7: [0; 0xFF],
    };

    /// A zeroed exit carrying `reason`.
    pub const fn with_reason(reason: RmiExitReason) -> Self {
        let mut e = Self::ZERO;
        e.exit_reason = reason as u8;
        e
    }

    /// The exit reason, if the field holds a defined encoding.
    pub const fn exit_reason(&self) -> Option<RmiExitReason> {
        RmiExitReason::from_u8(self.exit_reason)
    }

    /// The requested RIPAS of a RIPAS change exit, if the field holds a defined encoding.
    pub const fn ripas_value(&self) -> Option<Ripas> {
        Ripas::from_u8(self.ripas_value)
    }

    /// The PMU overflow status, if the field holds a defined encoding.
    pub const fn pmu_ovf_status(&self) -> Option<RmiPmuOverflowStatus> {
        RmiPmuOverflowStatus::from_u8(self.pmu_ovf_status)
    }
}

impl Default for RmiRecExit {
    fn default() -> Self {
        Self::ZERO
    }
}

/// The fields of [`RmiRecExit`] the specification defines, without its reserved space: what an
/// exit actually carries, compact (504 bytes instead of 2 KiB), for the RMM to fill and the host
/// to read. [`REC_EXIT_FIELD_RUNS`] places each run of fields at its offset in the RmiRecRun
/// granule; the padding after the narrow fields is written as zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct RmiRecExitFields {
    /// Exit reason; see [`Self::exit_reason`].
    pub exit_reason: u8,
    /// Padding to 64 bits, zero.
    pub pad0: [u8; 7],
    /// Sanitised ESR_EL2.
    pub esr: u64,
    /// FAR_EL2.
    pub far: u64,
    /// HPFAR_EL2.
    pub hpfar: u64,
    /// x0..x30 for host calls and PSCI exits.
    pub gprs: [u64; REC_RUN_GPRS],
    /// ICH_HCR_EL2 fields listed in [`ich_hcr::EXIT_REPORTED`].
    pub gicv3_hcr: u64,
    /// `ICH_LR<n>_EL2` values.
    pub gicv3_lrs: [u64; GICV3_MAX_LRS],
    /// ICH_MISR_EL2.
    pub gicv3_misr: u64,
    /// ICH_VMCR_EL2.
    pub gicv3_vmcr: u64,
    /// CNTP_CTL_EL0.
    pub cntp_ctl: u64,
    /// CNTP_CVAL_EL0.
    pub cntp_cval: u64,
    /// CNTV_CTL_EL0.
    pub cntv_ctl: u64,
    /// CNTV_CVAL_EL0.
    pub cntv_cval: u64,
    /// Base of the region of a pending RIPAS change.
    pub ripas_base: u64,
    /// Top of the region of a pending RIPAS change.
    pub ripas_top: u64,
    /// Requested RIPAS; see [`Self::ripas_value`].
    pub ripas_value: u8,
    /// Padding to 64 bits, zero.
    pub pad1: [u8; 7],
    /// Host call immediate.
    pub imm: u16,
    /// Padding to 64 bits, zero.
    pub pad2: [u8; 6],
    /// PMU overflow status.
    pub pmu_ovf_status: u8,
    /// Padding to 64 bits, zero.
    pub pad3: [u8; 7],
}
assert_layout!(
    RmiRecExitFields,
    size = 504,
    exit_reason = 0,
    pad0 = 1,
    esr = 8,
    far = 16,
    hpfar = 24,
    gprs = 32,
    gicv3_hcr = 280,
    gicv3_lrs = 288,
    gicv3_misr = 416,
    gicv3_vmcr = 424,
    cntp_ctl = 432,
    cntp_cval = 440,
    cntv_ctl = 448,
    cntv_cval = 456,
    ripas_base = 464,
    ripas_top = 472,
    ripas_value = 480,
    pad1 = 481,
    imm = 488,
    pad2 = 490,
    pmu_ovf_status = 496,
    pad3 = 497,
);

/// The run of [`RmiRecExitFields`] starting at field `$f`, `$len` bytes: (offset in the fields,
/// offset in the RmiRecRun granule, length).
macro_rules! exit_run {
    ($f:ident, $len:expr) => {
        (
            core::mem::offset_of!(RmiRecExitFields, $f),
            RMI_REC_EXIT_OFFSET + core::mem::offset_of!(RmiRecExit, $f),
            $len,
        )
    };
}

/// Each run of consecutive defined fields of rec_exit: (offset in [`RmiRecExitFields`], offset
/// in the RmiRecRun granule, bytes). Within a run the two layouts agree (asserted below).
pub const REC_EXIT_FIELD_RUNS: [(usize, usize, usize); 8] = [
    exit_run!(exit_reason, 8), // the reason and its padding to 64 bits
    exit_run!(esr, 24),        // esr, far, hpfar
    exit_run!(gprs, 8 * REC_RUN_GPRS),
    exit_run!(gicv3_hcr, 8 * (3 + GICV3_MAX_LRS)), // hcr, lrs, misr, vmcr
    exit_run!(cntp_ctl, 32),                       // cntp_ctl, cntp_cval, cntv_ctl, cntv_cval
    exit_run!(ripas_base, 24),                     // ripas_base, ripas_top, ripas_value (+pad)
    exit_run!(imm, 8),                             // imm and its padding to 64 bits
    exit_run!(pmu_ovf_status, 8),
];

const _: () = {
    use core::mem::offset_of;
    let mut i = 0;
    while i < REC_EXIT_FIELD_RUNS.len() {
        let (at, to, len) = REC_EXIT_FIELD_RUNS[i];
        assert!(at + len <= core::mem::size_of::<RmiRecExitFields>());
        assert!(to + len <= RMI_REC_EXIT_OFFSET + RMI_REC_EXIT_SIZE);
        i += 1;
    }
    // Runs are laid out alike: field distances inside each run match.
    assert!(offset_of!(RmiRecExit, hpfar) - offset_of!(RmiRecExit, esr) == 16);
    assert!(offset_of!(RmiRecExit, gicv3_vmcr) - offset_of!(RmiRecExit, gicv3_hcr) == 8 * 18);
    assert!(
        offset_of!(RmiRecExitFields, gicv3_vmcr) - offset_of!(RmiRecExitFields, gicv3_hcr)
            == 8 * 18
    );
    assert!(offset_of!(RmiRecExit, cntv_cval) - offset_of!(RmiRecExit, cntp_ctl) == 24);
    assert!(offset_of!(RmiRecExit, ripas_value) - offset_of!(RmiRecExit, ripas_base) == 16);
};

impl RmiRecExitFields {
    /// Every field zero.
    pub const ZERO: Self = Self {
        exit_reason: 0,
        pad0: [0; 7],
        esr: 0,
        far: 0,
        hpfar: 0,
        gprs: [0; REC_RUN_GPRS],
        gicv3_hcr: 0,
        gicv3_lrs: [0; GICV3_MAX_LRS],
        gicv3_misr: 0,
        gicv3_vmcr: 0,
        cntp_ctl: 0,
        cntp_cval: 0,
        cntv_ctl: 0,
        cntv_cval: 0,
        ripas_base: 0,
        ripas_top: 0,
        ripas_value: 0,
        pad1: [0; 7],
        imm: 0,
        pad2: [0; 6],
        pmu_ovf_status: 0,
        pad3: [0; 7],
    };

    /// The exit reason, if the field holds a defined encoding.
    pub const fn exit_reason(&self) -> Option<RmiExitReason> {
        RmiExitReason::from_u8(self.exit_reason)
    }

    /// The requested RIPAS of a RIPAS change exit, if the field holds a defined encoding.
    pub const fn ripas_value(&self) -> Option<Ripas> {
        Ripas::from_u8(self.ripas_value)
    }
}

/// The whole run granule (B4.4.20).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct RmiRecRun {
    /// Entry information.
    pub enter: RmiRecEnter,
    /// Exit information.
    pub exit: RmiRecExit,
}
assert_layout!(
    RmiRecRun,
    size = RMI_REC_RUN_SIZE,
    enter = 0x0,
    exit = RMI_REC_EXIT_OFFSET
);

impl RmiRecRun {
    /// All zero.
    pub const ZERO: Self = Self {
        enter: RmiRecEnter::ZERO,
        exit: RmiRecExit::ZERO,
    };
}

impl Wire for RmiRecRun {
    const SIZE: usize = RMI_REC_RUN_SIZE;

    fn encode(&self, out: &mut [u8]) -> Result<(), ShortBuffer> {
        let out = window_mut(out, Self::SIZE)?;
        let (enter, exit) = out.split_at_mut(RMI_REC_EXIT_OFFSET);
        self.enter.encode(enter)?;
        self.exit.encode(exit)
    }

    fn decode(bytes: &[u8]) -> Result<Self, ShortBuffer> {
        let bytes = window(bytes, Self::SIZE)?;
        let (enter, exit) = bytes.split_at(RMI_REC_EXIT_OFFSET);
        Ok(Self {
            enter: RmiRecEnter::decode(enter)?,
            exit: RmiRecExit::decode(exit)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(img: &[u8], off: usize) -> u64 {
        u64::from_le_bytes(img[off..off + 8].try_into().unwrap())
    }

    #[test]
    fn exit_reasons_match_b4_4_17() {
        let expected = [
            (0u8, RmiExitReason::Sync),
            (1, RmiExitReason::Irq),
            (2, RmiExitReason::Fiq),
            (3, RmiExitReason::Psci),
            (4, RmiExitReason::RipasChange),
            (5, RmiExitReason::HostCall),
            (6, RmiExitReason::Serror),
        ];
        for (raw, reason) in expected {
            assert_eq!(reason.raw(), raw);
            assert_eq!(RmiExitReason::from_u8(raw), Some(reason));
            assert_eq!(RmiExitReason::from_u64(raw as u64), Some(reason));
        }
        assert_eq!(RmiExitReason::from_u8(7), None);
        assert_eq!(RmiExitReason::from_u64(0x105), None);
    }

    #[test]
    fn enter_flags_match_b4_4_15() {
        assert_eq!(RmiRecEnterFlags::EMULATED_MMIO.bits(), 1 << 0);
        assert_eq!(RmiRecEnterFlags::INJECT_SEA.bits(), 1 << 1);
        assert_eq!(RmiRecEnterFlags::TRAP_WFI.bits(), 1 << 2);
        assert_eq!(RmiRecEnterFlags::TRAP_WFE.bits(), 1 << 3);
        assert_eq!(RmiRecEnterFlags::RIPAS_RESPONSE.bits(), 1 << 4);
        assert!(!RmiRecEnterFlags::from_bits(0x1F).reserved_bits_set());
        assert!(RmiRecEnterFlags::from_bits(1 << 5).reserved_bits_set());
        assert!(RmiRecEnterFlags::from_bits(1 << 63).reserved_bits_set());
        assert_eq!(
            RmiRecEnterFlags::TRAP_WFI.ripas_response(),
            RmiResponse::Accept
        );
        assert_eq!(
            (RmiRecEnterFlags::TRAP_WFI | RmiRecEnterFlags::RIPAS_RESPONSE).ripas_response(),
            RmiResponse::Reject
        );
    }

    #[test]
    fn gic_masks_follow_a6_1() {
        // UIE, LRENPIE, NPIE, VGrp0EIE, VGrp0DIE, VGrp1EIE, VGrp1DIE are bits 1..=7; TDIR is 14.
        assert_eq!(ich_hcr::ENTER_ALLOWED, 0x40FE);
        assert_eq!(ich_hcr::EXIT_REPORTED, 0xF800_40FE);
        assert!(ich_hcr::enter_value_allowed(0));
        assert!(ich_hcr::enter_value_allowed(ich_hcr::UIE | ich_hcr::TDIR));
        // En, TC (10), TALL0/1 (11/12), TSEI (13), DVIM (15), EOIcount are the RMM's.
        for bit in [0u32, 8, 10, 11, 12, 13, 15, 27, 31, 63] {
            assert!(!ich_hcr::enter_value_allowed(1 << bit), "bit {bit}");
        }
        assert_eq!(ICH_LR_HW, 0x2000_0000_0000_0000);
    }

    #[test]
    fn list_register_fields_follow_the_gicv3_architecture() {
        // State [63:62], HW [61], Group [60], Priority [55:48], pINTID [44:32], vINTID [31:0].
        assert_eq!(ich_lr::STATE_MASK, 0xC000_0000_0000_0000);
        assert_eq!(ich_lr::STATE_PENDING, 0x4000_0000_0000_0000);
        assert_eq!(ich_lr::STATE_ACTIVE, 0x8000_0000_0000_0000);
        assert_eq!(ich_lr::HW, 1 << 61);
        assert_eq!(ich_lr::GROUP1, 1 << 60);
        assert_eq!(ich_lr::PRIORITY_MASK, 0x00FF_0000_0000_0000);
        assert_eq!(ich_lr::PINTID_MASK, 0x0000_1FFF_0000_0000);
        let lr = ich_lr::encode(27, 0xA0, true, true, false);
        assert_eq!(lr, 0x50A0_0000_0000_001B);
        assert_eq!(lr & ich_lr::HW, 0);
        assert_eq!(ich_lr::vintid(lr), 27);
        assert!(ich_lr::is_pending(lr) && !ich_lr::is_active(lr) && !ich_lr::is_invalid(lr));
        let both = ich_lr::encode(33, 0, false, true, true);
        assert!(ich_lr::is_pending(both) && ich_lr::is_active(both));
        assert!(ich_lr::is_invalid(ich_lr::encode(
            5, 0x80, true, false, false
        )));
    }

    #[test]
    fn data_abort_syndrome_fields_follow_the_arm_arm() {
        assert_eq!(exit_esr::EC_MASK, 0xFC00_0000);
        assert_eq!(exit_esr::ec(0x9200_0046), exit_esr::EC_DABT_LOWER);
        assert_eq!(exit_esr::ISV, 0x0100_0000);
        assert_eq!(exit_esr::SAS_MASK, 0x00C0_0000);
        assert_eq!(exit_esr::SSE, 0x0020_0000);
        assert_eq!(exit_esr::SRT_MASK, 0x001F_0000);
        assert_eq!(exit_esr::SF, 0x8000);
        assert_eq!(exit_esr::WNR, 0x40);
    }

    #[test]
    fn enter_image_places_fields_per_b4_4_14() {
        let mut e = RmiRecEnter::ZERO;
        e.flags = RmiRecEnterFlags::EMULATED_MMIO;
        e.gprs[0] = 0xAA;
        e.gprs[30] = 0xBB;
        e.gicv3_hcr = ich_hcr::UIE;
        e.gicv3_lrs[0] = 0x11;
        e.gicv3_lrs[15] = 0x22;
        let mut img = [0x77u8; RMI_REC_ENTER_SIZE];
        e.encode(&mut img).unwrap();
        assert_eq!(word(&img, 0x0), 1);
        assert_eq!(word(&img, 0x200), 0xAA);
        assert_eq!(word(&img, 0x2F0), 0xBB);
        assert_eq!(word(&img, 0x2F8), 0);
        assert_eq!(word(&img, 0x300), 2);
        assert_eq!(word(&img, 0x308), 0x11);
        assert_eq!(word(&img, 0x380), 0x22);
        assert!(img[0x388..].iter().all(|&b| b == 0));
        assert_eq!(RmiRecEnter::decode(&img).unwrap(), e);
        crate::wire::assert_image_round_trips::<RmiRecEnter>();
    }

    #[test]
    fn exit_image_places_fields_per_b4_4_16() {
        let mut x = RmiRecExit::with_reason(RmiExitReason::HostCall);
        x.esr = 0x9200_0046;
        x.far = 0x123;
        x.hpfar = 0x4560;
        x.gprs[0] = 0xC600_0000;
        x.gprs[30] = 30;
        x.gicv3_hcr = ich_hcr::EOICOUNT_MASK;
        x.gicv3_lrs[15] = 0xF;
        x.gicv3_misr = 0x3;
        x.gicv3_vmcr = 0x4;
        x.cntp_ctl = 5;
        x.cntp_cval = 6;
        x.cntv_ctl = 7;
        x.cntv_cval = 8;
        x.ripas_base = 0x8000_0000;
        x.ripas_top = 0x8020_0000;
        x.ripas_value = Ripas::Ram as u8;
        x.imm = 0xABCD;
        x.pmu_ovf_status = RmiPmuOverflowStatus::Active as u8;
        let mut run = RmiRecRun::ZERO;
        run.exit = x;
        let mut img = [0x55u8; RMI_REC_RUN_SIZE];
        run.encode(&mut img).unwrap();
        // Absolute offsets, as in the table of rmm-abi-1.0.md section 2.
        assert_eq!(word(&img, 0x800), 5);
        assert_eq!(word(&img, 0x900), 0x9200_0046);
        assert_eq!(word(&img, 0x908), 0x123);
        assert_eq!(word(&img, 0x910), 0x4560);
        assert_eq!(word(&img, 0xA00), 0xC600_0000);
        assert_eq!(word(&img, 0xAF0), 30);
        assert_eq!(word(&img, 0xB00), 0xF800_0000);
        assert_eq!(word(&img, 0xB80), 0xF);
        assert_eq!(word(&img, 0xB88), 3);
        assert_eq!(word(&img, 0xB90), 4);
        assert_eq!(word(&img, 0xC00), 5);
        assert_eq!(word(&img, 0xC08), 6);
        assert_eq!(word(&img, 0xC10), 7);
        assert_eq!(word(&img, 0xC18), 8);
        assert_eq!(word(&img, 0xD00), 0x8000_0000);
        assert_eq!(word(&img, 0xD08), 0x8020_0000);
        assert_eq!(word(&img, 0xD10), 1);
        assert_eq!(word(&img, 0xE00), 0xABCD);
        assert_eq!(word(&img, 0xF00), 1);
        // The enter half is all zero.
        assert!(img[..0x800].iter().all(|&b| b == 0));
        let back = RmiRecRun::decode(&img).unwrap();
        assert_eq!(back, run);
        assert_eq!(back.exit.exit_reason(), Some(RmiExitReason::HostCall));
        assert_eq!(back.exit.ripas_value(), Some(Ripas::Ram));
        assert_eq!(
            back.exit.pmu_ovf_status(),
            Some(RmiPmuOverflowStatus::Active)
        );
        crate::wire::assert_image_round_trips::<RmiRecExit>();
        crate::wire::assert_image_round_trips::<RmiRecRun>();
    }

    #[test]
    fn undefined_exit_encodings_decode_to_none() {
        let mut x = RmiRecExit::default();
        assert_eq!(x.exit_reason(), Some(RmiExitReason::Sync));
        x.exit_reason = 7;
        x.ripas_value = 3;
        x.pmu_ovf_status = 2;
        assert_eq!(x.exit_reason(), None);
        assert_eq!(x.ripas_value(), None);
        assert_eq!(x.pmu_ovf_status(), None);
        assert_eq!(
            RmiPmuOverflowStatus::from_u8(0),
            Some(RmiPmuOverflowStatus::NotActive)
        );
    }
}

#[cfg(test)]
mod esr_tests {
    use super::exit_esr::{Esr, SysregAccess};

    #[test]
    fn a_data_abort_syndrome_decodes_by_name() {
        // EC 0x24, IL, ISV, SAS 2 (4 bytes), SSE, SRT 7, SF clear, WnR clear, DFSC 0x07.
        let e = Esr(0x24 << 26 | 1 << 25 | 1 << 24 | 2 << 22 | 1 << 21 | 7 << 16 | 0x07);
        assert_eq!(e.ec(), 0x24);
        assert!(e.il() && e.isv() && e.sign_extend());
        assert_eq!((e.access_bytes(), e.srt()), (4, 7));
        assert!(!e.sixty_four() && !e.write());
        let w = Esr(0x24 << 26 | 1 << 24 | 3 << 22 | 1 << 15 | 1 << 6);
        assert_eq!(w.access_bytes(), 8);
        assert!(w.sixty_four() && w.write() && !w.il());
    }

    #[test]
    fn a_trapped_msr_decodes_to_its_register() {
        // MSR ICC_SGI1R_EL1, x7: op0 3, op1 0, CRn 12, CRm 11, op2 5, Rt 7, write.
        let e = Esr(0x18 << 26 | 1 << 25 | 3 << 20 | 5 << 17 | 12 << 10 | 7 << 5 | 11 << 1);
        let a = e.sysreg();
        assert_eq!((a.op0, a.op1, a.crn, a.crm, a.op2), (3, 0, 12, 11, 5));
        assert_eq!((a.rt, a.read), (7, false));
        assert_eq!(
            e.iss() & SysregAccess::NAME_MASK,
            SysregAccess::name_bits(3, 0, 12, 11, 5)
        );
        assert!(Esr(e.0 | 1).sysreg().read);
    }
}
