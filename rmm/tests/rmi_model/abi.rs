//! The wire facts the model needs, written down here from the ABI notes and DEN0137 rather than
//! taken from the `rmm` or `hostcall-abi` crates: function IDs, how x0 packs a status, the output
//! registers of each command, and the byte layout of the blocks the host writes (RmiRealmParams,
//! RmiRecParams, rec_enter).

use std::fmt;

/// Granule size.
pub const G: u64 = 0x1000;

/// The RMI commands the model drives (FEATURES only to read the feature register).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub enum Cmd {
    GranuleDelegate,
    GranuleUndelegate,
    DataCreate,
    DataCreateUnknown,
    DataDestroy,
    RealmActivate,
    RealmCreate,
    RealmDestroy,
    RecCreate,
    RecDestroy,
    RecEnter,
    RttCreate,
    RttDestroy,
    RttMapUnprotected,
    RttReadEntry,
    RttUnmapUnprotected,
    PsciComplete,
    Features,
    RttFold,
    RecAuxCount,
    RttInitRipas,
    RttSetRipas,
}

impl Cmd {
    /// Every command the random sequences use.
    pub const DRIVEN: [Cmd; 21] = [
        Cmd::GranuleDelegate,
        Cmd::GranuleUndelegate,
        Cmd::DataCreate,
        Cmd::DataCreateUnknown,
        Cmd::DataDestroy,
        Cmd::RealmActivate,
        Cmd::RealmCreate,
        Cmd::RealmDestroy,
        Cmd::RecCreate,
        Cmd::RecDestroy,
        Cmd::RecEnter,
        Cmd::RttCreate,
        Cmd::RttDestroy,
        Cmd::RttMapUnprotected,
        Cmd::RttReadEntry,
        Cmd::RttUnmapUnprotected,
        Cmd::PsciComplete,
        Cmd::RttFold,
        Cmd::RecAuxCount,
        Cmd::RttInitRipas,
        Cmd::RttSetRipas,
    ];

    /// SMC64 function ID (ABI notes, section 2).
    pub const fn fid(self) -> u64 {
        0xC400_0000
            | match self {
                Cmd::GranuleDelegate => 0x151,
                Cmd::GranuleUndelegate => 0x152,
                Cmd::DataCreate => 0x153,
                Cmd::DataCreateUnknown => 0x154,
                Cmd::DataDestroy => 0x155,
                Cmd::RealmActivate => 0x157,
                Cmd::RealmCreate => 0x158,
                Cmd::RealmDestroy => 0x159,
                Cmd::RecCreate => 0x15A,
                Cmd::RecDestroy => 0x15B,
                Cmd::RecEnter => 0x15C,
                Cmd::RttCreate => 0x15D,
                Cmd::RttDestroy => 0x15E,
                Cmd::RttMapUnprotected => 0x15F,
                Cmd::RttReadEntry => 0x161,
                Cmd::RttUnmapUnprotected => 0x162,
                Cmd::PsciComplete => 0x164,
                Cmd::Features => 0x165,
                Cmd::RttFold => 0x166,
                Cmd::RecAuxCount => 0x167,
                Cmd::RttInitRipas => 0x168,
                Cmd::RttSetRipas => 0x169,
            }
    }

    /// How many result registers (x1..) the command defines; the others must read as zero
    /// (B1.2: registers that are not outputs MBZ).
    pub const fn outputs(self) -> usize {
        match self {
            Cmd::RttReadEntry => 4,
            Cmd::DataDestroy | Cmd::RttDestroy => 2,
            Cmd::RttUnmapUnprotected
            | Cmd::Features
            | Cmd::RttFold
            | Cmd::RecAuxCount
            | Cmd::RttInitRipas
            | Cmd::RttSetRipas => 1,
            _ => 0,
        }
    }

    /// Upper-case name as the spec spells it (without the RMI_ prefix).
    pub const fn name(self) -> &'static str {
        match self {
            Cmd::GranuleDelegate => "GRANULE_DELEGATE",
            Cmd::GranuleUndelegate => "GRANULE_UNDELEGATE",
            Cmd::DataCreate => "DATA_CREATE",
            Cmd::DataCreateUnknown => "DATA_CREATE_UNKNOWN",
            Cmd::DataDestroy => "DATA_DESTROY",
            Cmd::RealmActivate => "REALM_ACTIVATE",
            Cmd::RealmCreate => "REALM_CREATE",
            Cmd::RealmDestroy => "REALM_DESTROY",
            Cmd::RecCreate => "REC_CREATE",
            Cmd::RecDestroy => "REC_DESTROY",
            Cmd::RecEnter => "REC_ENTER",
            Cmd::RttCreate => "RTT_CREATE",
            Cmd::RttDestroy => "RTT_DESTROY",
            Cmd::RttMapUnprotected => "RTT_MAP_UNPROTECTED",
            Cmd::RttReadEntry => "RTT_READ_ENTRY",
            Cmd::RttUnmapUnprotected => "RTT_UNMAP_UNPROTECTED",
            Cmd::PsciComplete => "PSCI_COMPLETE",
            Cmd::Features => "FEATURES",
            Cmd::RttFold => "RTT_FOLD",
            Cmd::RecAuxCount => "REC_AUX_COUNT",
            Cmd::RttInitRipas => "RTT_INIT_RIPAS",
            Cmd::RttSetRipas => "RTT_SET_RIPAS",
        }
    }
}

/// x0 for a function ID the RMM does not serve.
pub const SMC_UNKNOWN: u64 = u64::MAX;

/// An x0 value: `status | index << 8` (B4.2).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ret(pub u64);

impl Ret {
    pub const SUCCESS: Ret = Ret(0);
    pub const INPUT: Ret = Ret(1);
    pub const REALM: Ret = Ret(2);
    pub const REC: Ret = Ret(3);

    /// RMI_ERROR_RTT reporting RTT level `level`.
    pub const fn rtt(level: i64) -> Ret {
        Ret(4 | (level as u64 & 0xFF) << 8)
    }
}

impl fmt::Debug for Ret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let index = self.0 >> 8;
        match self.0 & 0xFF {
            0 if index == 0 => write!(f, "SUCCESS"),
            1 if index == 0 => write!(f, "ERROR_INPUT"),
            2 => write!(f, "ERROR_REALM({index})"),
            3 if index == 0 => write!(f, "ERROR_REC"),
            4 => write!(f, "ERROR_RTT({index})"),
            _ => write!(f, "{:#x}", self.0),
        }
    }
}

/// RMI_FEATURES register 0, decoded (ABI notes, section 2).
#[derive(Clone, Copy, Debug)]
pub struct Features {
    pub s2sz: u64,
    pub lpa2: bool,
    pub sve: bool,
    pub sve_vl: u64,
    pub num_bps: u64,
    pub num_wps: u64,
    pub pmu: bool,
    pub pmu_num_ctrs: u64,
    pub sha256: bool,
    pub sha512: bool,
    pub max_recs_order: u64,
}

impl Features {
    pub fn decode(r: u64) -> Self {
        let field = |lo: u32, bits: u32| (r >> lo) & ((1 << bits) - 1);
        Self {
            s2sz: field(0, 8),
            lpa2: field(8, 1) != 0,
            sve: field(9, 1) != 0,
            sve_vl: field(10, 4),
            num_bps: field(14, 6),
            num_wps: field(20, 6),
            pmu: field(26, 1) != 0,
            pmu_num_ctrs: field(27, 5),
            sha256: field(32, 1) != 0,
            sha512: field(33, 1) != 0,
            max_recs_order: field(38, 4),
        }
    }
}

/// A 4 KiB page image.
pub type Page = [u8; G as usize];

fn put(page: &mut Page, off: usize, bytes: &[u8]) {
    page[off..off + bytes.len()].copy_from_slice(bytes);
}

/// RmiRealmParams as the host fills it (B4.4.12): each 8-bit field at its own 8-byte slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealmParams {
    pub flags: u64,
    pub s2sz: u8,
    pub sve_vl: u8,
    pub num_bps: u8,
    pub num_wps: u8,
    pub pmu_num_ctrs: u8,
    pub hash_algo: u8,
    pub vmid: u16,
    pub rtt_base: u64,
    pub rtt_level_start: i64,
    pub rtt_num_start: u32,
    /// A byte of the structure's unused (SBZ) space written non-zero, if any.
    pub stray: Option<usize>,
}

/// Unused (SBZ) byte offsets of RmiRealmParams: padding after the 8-bit fields, around the RPV,
/// after the VMID and after `rtt_num_start`.
pub const REALM_PARAMS_UNUSED: [usize; 8] = [0x9, 0x17, 0x31, 0x3FF, 0x440, 0x803, 0x81C, 0xFFF];

impl RealmParams {
    pub fn encode(&self) -> Box<Page> {
        let mut p = Box::new([0u8; G as usize]);
        put(&mut p, 0x0, &self.flags.to_le_bytes());
        p[0x8] = self.s2sz;
        p[0x10] = self.sve_vl;
        p[0x18] = self.num_bps;
        p[0x20] = self.num_wps;
        p[0x28] = self.pmu_num_ctrs;
        p[0x30] = self.hash_algo;
        // The RPV is free-form: a recognisable value, which must not matter.
        for (i, b) in p[0x400..0x440].iter_mut().enumerate() {
            *b = i as u8 ^ 0xA5;
        }
        put(&mut p, 0x800, &self.vmid.to_le_bytes());
        put(&mut p, 0x808, &self.rtt_base.to_le_bytes());
        put(&mut p, 0x810, &self.rtt_level_start.to_le_bytes());
        put(&mut p, 0x818, &self.rtt_num_start.to_le_bytes());
        if let Some(off) = self.stray {
            p[off] = 0x5A;
        }
        p
    }
}

/// RmiRecParams as the host fills it (B4.4.19).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecParams {
    pub flags: u64,
    pub mpidr: u64,
    pub pc: u64,
    pub gprs: [u64; 8],
    pub num_aux: u64,
    pub aux: [u64; 16],
}

impl RecParams {
    pub fn encode(&self) -> Box<Page> {
        let mut p = Box::new([0u8; G as usize]);
        put(&mut p, 0x0, &self.flags.to_le_bytes());
        put(&mut p, 0x100, &self.mpidr.to_le_bytes());
        put(&mut p, 0x200, &self.pc.to_le_bytes());
        for (i, r) in self.gprs.iter().enumerate() {
            put(&mut p, 0x300 + 8 * i, &r.to_le_bytes());
        }
        put(&mut p, 0x800, &self.num_aux.to_le_bytes());
        for (i, a) in self.aux.iter().enumerate() {
            put(&mut p, 0x808 + 8 * i, &a.to_le_bytes());
        }
        p
    }
}

/// The rec_enter part of an RmiRecRun as the host fills it (B4.4.14; ABI notes, section 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecEnter {
    pub flags: u64,
    pub gicv3_hcr: u64,
    /// The first four list registers (the simulated CPU has four); the others stay zero.
    pub gicv3_lrs: [u64; 4],
}

/// rec_enter.flags.emul_mmio.
pub const ENTER_EMULATED_MMIO: u64 = 1;
/// ICH_HCR_EL2 bits a host may set on entry (A6.1): UIE, LRENPIE, NPIE, VGrp0EIE, VGrp0DIE,
/// VGrp1EIE, VGrp1DIE (bits 1..=7) and TDIR (bit 14).
pub const HCR_ENTER_ALLOWED: u64 = 0xFE | 1 << 14;
/// `ICH_LR<n>_EL2`.HW, which must be clear on entry (A6.1).
pub const LR_HW: u64 = 1 << 61;
/// Offset of rec_exit.exit_reason in an RmiRecRun.
pub const EXIT_REASON: usize = 0x800;
/// RMI_EXIT_IRQ.
pub const EXIT_IRQ: u8 = 1;

impl RecEnter {
    /// Writes rec_enter (the first half of the RecRun image `page`): the fields, everything else
    /// of that half zero (list registers 4..15, gprs and the SBZ space included). rec_exit is
    /// left as it is.
    pub fn encode_into(&self, page: &mut Page) {
        page[..EXIT_REASON].fill(0);
        put(page, 0x0, &self.flags.to_le_bytes());
        put(page, 0x300, &self.gicv3_hcr.to_le_bytes());
        for (i, lr) in self.gicv3_lrs.iter().enumerate() {
            put(page, 0x308 + 8 * i, &lr.to_le_bytes());
        }
    }
}

/// The RmiRecMpidr value of REC index `index` (A2.3.3): Aff0\[3:0\] = index\[3:0\],
/// Aff1 = index\[11:4\], Aff2 = index\[19:12\], Aff3 (bits 31:24) = index\[27:20\].
pub const fn mpidr_of(index: u64) -> u64 {
    (index & 0xF)
        | ((index >> 4) & 0xFF) << 8
        | ((index >> 12) & 0xFF) << 16
        | ((index >> 20) & 0xFF) << 24
}

/// The REC index an RmiRecMpidr names (inverse of [`mpidr_of`] on the affinity fields).
pub const fn index_of_mpidr(mpidr: u64) -> u64 {
    (mpidr & 0xF)
        | ((mpidr >> 8) & 0xFF) << 4
        | ((mpidr >> 16) & 0xFF) << 12
        | ((mpidr >> 24) & 0xFF) << 20
}

/// Host descriptor fields of RMI_RTT_MAP_UNPROTECTED (A5.5.11): output address \[47:12\],
/// MemAttr\[2:0\] at \[4:2\] and S2AP at \[7:6\]. Everything else must be zero.
pub const DESC_ADDR: u64 = 0x0000_FFFF_FFFF_F000;
pub const DESC_MEMATTR: u64 = 0b111 << 2;
pub const DESC_S2AP: u64 = 0b11 << 6;
/// MemAttr\[2:0\] = 0b100 is reserved under FEAT_S2FWB.
pub const MEMATTR_RESERVED: u64 = 0b100;
