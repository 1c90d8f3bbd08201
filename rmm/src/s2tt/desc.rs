//! Stage-2 translation table entries: the VMSAv8-64 descriptor the hardware walks (4 KiB
//! granule, 48-bit output address, FEAT_S2FWB memory attributes, FEAT_RME's NS bit) and how the
//! RMM encodes the RTT entry states (DEN0137 A5.5.4), HIPAS (A5.3.1) and RIPAS (A5.2.2) in it.
//!
//! # Bit layout
//!
//! Invalid descriptors (bit 0 clear) are ignored by the hardware, so the RMM keeps the entry's
//! state in them. It uses bits the architecture leaves to software in block and page
//! descriptors, `[58:55]`; bit 55 has the same meaning as in a valid descriptor (NS).
//!
//! | bits    | UNASSIGNED   | ASSIGNED (RIPAS EMPTY/DESTROYED) | UNASSIGNED_NS |
//! |---------|--------------|----------------------------------|---------------|
//! | 0       | 0 (invalid)  | 0 (invalid)                      | 0 (invalid)   |
//! | 47:12   | 0            | output address, level-aligned    | 0             |
//! | 55 NS   | 0            | 0                                | 1             |
//! | 56 HIPAS| 0 UNASSIGNED | 1 ASSIGNED                       | 0             |
//! | 58:57   | RIPAS        | RIPAS (EMPTY 0 or DESTROYED 2)   | 0             |
//! | others  | 0            | 0                                | 0             |
//!
//! RIPAS uses the RMI encoding (EMPTY 0, RAM 1, DESTROYED 2); 3 is malformed. An all-zero entry
//! is UNASSIGNED with RIPAS EMPTY, so a wiped granule already reads as a fresh protected table.
//!
//! Valid descriptors are the architectural formats; the software bits of valid descriptors are
//! left zero (bit 55 is not a software bit there: in a Realm stage-2 leaf it selects the
//! Non-secure PAS).
//!
//! | bits         | TABLE (levels 0-2) | ASSIGNED, RIPAS RAM (levels 1-3) | ASSIGNED_NS (levels 1-3)  |
//! |--------------|--------------------|----------------------------------|---------------------------|
//! | 1:0 type     | 0b11               | 0b01 block (L1, L2), 0b11 page (L3) | as ASSIGNED            |
//! | 5:2 MemAttr  | 0                  | 0b0110 Normal Write-Back (FWB)   | host `MemAttr[2:0]`, \[3\] 0 |
//! | 7:6 S2AP     | 0                  | 0b11 read/write                  | host                      |
//! | 9:8 SH       | 0                  | 0b11 Inner Shareable             | IS if cacheable, else OS  |
//! | 10 AF        | 0                  | 1                                | 1                         |
//! | 47:12        | next-level RTT PA  | DATA PA, level-aligned           | NS PA, level-aligned      |
//! | 54:53 XN     | 0                  | 0b00 executable                  | 0b10 execute-never        |
//! | 55 NS        | 0                  | 0 (Realm PAS)                    | 1 (Non-secure PAS)        |
//! | others       | 0                  | 0                                | 0                         |
//!
//! A valid protected leaf is always RIPAS RAM: A5.3.1 maps a protected IPA only when HIPAS is
//! ASSIGNED and RIPAS is RAM, so the RIPAS of a valid entry is derived, never stored. Changing an
//! ASSIGNED entry's RIPAS to or from RAM therefore switches it between the valid and invalid form.
//!
//! Unprotected leaves are execute-never because a realm instruction fetch from an Unprotected IPA
//! must fault (A5.2.6), and hardware access-flag management is off for stage 2 (A5.5.11), so AF
//! is set up front. Shareability follows A5.5.11: Inner Shareable when the host's MemAttr can be
//! cacheable (`0b110` Write-Back, `0b111` "as stage 1"), Outer Shareable for Non-cacheable and
//! Device types (for which the hardware treats any SH value as Outer Shareable anyway).
//!
//! Every encoding is canonical: [`S2tte::decode`] accepts a value only if encoding what it
//! decoded gives the same bits back, so stray bits (an RMM bug or corruption) show up as a
//! malformed entry (`None`) instead of being silently reinterpreted.

use hostcall_abi::rtt::{Ripas, RmiRttEntryState, RTT_PAGE_LEVEL};
use hostcall_abi::GRANULE_SIZE;

use super::geometry::{is_aligned, is_block_or_page_level, level_shift};

/// Width of the output addresses the descriptors hold (no LPA2): PAs must be below `2^48`.
pub const OA_BITS: u32 = 48;

const VALID: u64 = 1 << 0;
const TYPE_MASK: u64 = 0b11;
/// Descriptor type of a block at levels 1-2.
const TYPE_BLOCK: u64 = 0b01;
/// Descriptor type of a table at levels 0-2 and of a page at level 3.
const TYPE_TABLE_OR_PAGE: u64 = 0b11;

/// Output address bits `[47:12]`.
const OA_MASK: u64 = ((1 << OA_BITS) - 1) & !(GRANULE_SIZE as u64 - 1);

const MEMATTR_SHIFT: u32 = 2;
/// The host-controlled part of stage-2 MemAttr, `MemAttr[2:0]` (descriptor bits `[4:2]`).
const HOST_MEMATTR_MASK: u64 = 0b111 << MEMATTR_SHIFT;
/// With FEAT_S2FWB, MemAttr `0b0110`: Normal, Inner and Outer Write-Back, whatever stage 1 says.
const MEMATTR_FWB_NORMAL_WB: u64 = 0b0110 << MEMATTR_SHIFT;
/// With FEAT_S2FWB, `MemAttr[2:0]` `0b100` is reserved.
const MEMATTR_FWB_RESERVED: u8 = 0b100;
/// `MemAttr[2:0]` `0b101`: Normal Non-cacheable.
const MEMATTR_FWB_NORMAL_NC: u8 = 0b101;

const S2AP_SHIFT: u32 = 6;
const S2AP_MASK: u64 = 0b11 << S2AP_SHIFT;
const S2AP_RW: u64 = 0b11 << S2AP_SHIFT;

const SH_SHIFT: u32 = 8;
const SH_OUTER: u64 = 0b10 << SH_SHIFT;
const SH_INNER: u64 = 0b11 << SH_SHIFT;

const AF: u64 = 1 << 10;
/// `XN[1:0]` = `0b10`: execute-never at EL1 and EL0 (the same with or without FEAT_XNX).
const XN_NEVER: u64 = 0b10 << 53;
/// Realm stage 2: the output address is in the Non-secure PAS. Invalid descriptors: the entry
/// belongs to the Unprotected IPA half.
const NS: u64 = 1 << 55;

/// Software bit of invalid descriptors: HIPAS is ASSIGNED (an output address is kept).
const SW_ASSIGNED: u64 = 1 << 56;
/// Software field of invalid descriptors: the RIPAS.
const SW_RIPAS_SHIFT: u32 = 57;

/// Attributes of every ASSIGNED protected page or block (A5.5.11).
const PROTECTED_ATTRS: u64 = MEMATTR_FWB_NORMAL_WB | S2AP_RW | SH_INNER | AF;

/// An RTT entry state (`RmmRttEntryState`, A5.5.4). RMI reports these folded into three values
/// ([`EntryState::to_rmi`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum EntryState {
    /// Protected IPA, not associated with any granule.
    Unassigned,
    /// Protected IPA whose output address is a DATA granule.
    Assigned,
    /// Unprotected IPA, not associated with any granule.
    UnassignedNs,
    /// Unprotected IPA whose output address is an NS granule.
    AssignedNs,
    /// The output address is the next-level RTT.
    Table,
}

impl EntryState {
    /// The state `RMI_RTT_READ_ENTRY` reports (`RttEntryState`, B3.61): the NS states read as
    /// their protected counterparts.
    pub const fn to_rmi(self) -> RmiRttEntryState {
        match self {
            Self::Unassigned | Self::UnassignedNs => RmiRttEntryState::Unassigned,
            Self::Assigned | Self::AssignedNs => RmiRttEntryState::Assigned,
            Self::Table => RmiRttEntryState::Table,
        }
    }

    /// Whether an entry in this state is live: it stores a physical address (A5.5.8).
    pub const fn is_live(self) -> bool {
        matches!(self, Self::Assigned | Self::AssignedNs | Self::Table)
    }
}

/// The host-controlled attributes of an ASSIGNED_NS entry (A5.5.11): stage-2 `MemAttr[2:0]` and
/// S2AP. Always an architecturally valid combination.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct NsAttrs {
    mem_attr: u8,
    s2ap: u8,
}

impl NsAttrs {
    /// Attributes from `MemAttr[2:0]` (with FEAT_S2FWB: `0b0xx` Device, `0b101` Normal
    /// Non-cacheable, `0b110` Normal Write-Back, `0b111` as stage 1) and S2AP (`0b00` none,
    /// `0b01` read, `0b10` write, `0b11` read/write). `None` for the reserved MemAttr `0b100` or a
    /// value wider than its field.
    pub const fn new(mem_attr: u8, s2ap: u8) -> Option<Self> {
        if mem_attr > 0b111 || mem_attr == MEMATTR_FWB_RESERVED || s2ap > 0b11 {
            return None;
        }
        Some(Self { mem_attr, s2ap })
    }

    /// Stage-2 `MemAttr[2:0]` as the host gave it.
    pub const fn mem_attr(self) -> u8 {
        self.mem_attr
    }

    /// S2AP as the host gave it.
    pub const fn s2ap(self) -> u8 {
        self.s2ap
    }

    /// Whether the memory type may be cacheable: Normal Write-Back, or "as stage 1" (which may
    /// pick a cacheable type). Device and Normal Non-cacheable are not.
    pub const fn may_be_cacheable(self) -> bool {
        self.mem_attr > MEMATTR_FWB_NORMAL_NC
    }

    /// The attributes at their descriptor positions (MemAttr `[4:2]`, S2AP `[7:6]`).
    const fn desc_bits(self) -> u64 {
        ((self.mem_attr as u64) << MEMATTR_SHIFT) | ((self.s2ap as u64) << S2AP_SHIFT)
    }

    /// The shareability the RMM sets for these attributes (A5.5.11).
    const fn shareability(self) -> u64 {
        if self.may_be_cacheable() {
            SH_INNER
        } else {
            SH_OUTER
        }
    }
}

/// A decoded RTT entry: its state and the attributes that state carries.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Rtte {
    /// UNASSIGNED, with the RIPAS of the IPA range.
    Unassigned {
        /// RIPAS of the range.
        ripas: Ripas,
    },
    /// ASSIGNED: a DATA granule (or a contiguous, aligned block of them) at `pa`. Mapped (a valid
    /// descriptor) exactly when `ripas` is RAM.
    Assigned {
        /// Output address, aligned to the entry's level.
        pa: u64,
        /// RIPAS of the range.
        ripas: Ripas,
    },
    /// UNASSIGNED_NS.
    UnassignedNs,
    /// ASSIGNED_NS: NS memory at `pa` with host-chosen attributes.
    AssignedNs {
        /// Output address, aligned to the entry's level.
        pa: u64,
        /// Host-controlled attributes.
        attrs: NsAttrs,
    },
    /// TABLE: the next-level RTT at `pa`.
    Table {
        /// Physical address of the next-level RTT.
        pa: u64,
    },
}

impl Rtte {
    /// The entry's state.
    pub const fn state(&self) -> EntryState {
        match self {
            Self::Unassigned { .. } => EntryState::Unassigned,
            Self::Assigned { .. } => EntryState::Assigned,
            Self::UnassignedNs => EntryState::UnassignedNs,
            Self::AssignedNs { .. } => EntryState::AssignedNs,
            Self::Table { .. } => EntryState::Table,
        }
    }

    /// The RIPAS of a protected entry (UNASSIGNED or ASSIGNED); `None` for the other states,
    /// which have no RIPAS.
    pub const fn ripas(&self) -> Option<Ripas> {
        match self {
            Self::Unassigned { ripas } | Self::Assigned { ripas, .. } => Some(*ripas),
            _ => None,
        }
    }

    /// The output address of a live entry (ASSIGNED, ASSIGNED_NS, TABLE); `None` otherwise.
    pub const fn pa(&self) -> Option<u64> {
        match self {
            Self::Assigned { pa, .. } | Self::AssignedNs { pa, .. } | Self::Table { pa } => {
                Some(*pa)
            }
            _ => None,
        }
    }

    /// What `RMI_RTT_READ_ENTRY` returns for this entry (B4.3.20.3):
    /// - `state` per [`EntryState::to_rmi`];
    /// - `desc`: 0 for UNASSIGNED and UNASSIGNED_NS; only the output address for ASSIGNED and
    ///   TABLE; output address, MemAttr and S2AP for ASSIGNED_NS (the descriptor the host
    ///   passed to `RMI_RTT_MAP_UNPROTECTED`);
    /// - `ripas`: the entry's RIPAS for UNASSIGNED and ASSIGNED, EMPTY for UNASSIGNED_NS and
    ///   ASSIGNED_NS; EMPTY for TABLE as well, which has no RIPAS (the specification leaves it
    ///   unconstrained).
    pub const fn read_entry_outputs(&self) -> ReadEntry {
        let desc = match self {
            Self::Unassigned { .. } | Self::UnassignedNs => 0,
            Self::Assigned { pa, .. } | Self::Table { pa } => *pa,
            Self::AssignedNs { pa, attrs } => *pa | attrs.desc_bits(),
        };
        let ripas = match self.ripas() {
            Some(r) => r,
            None => Ripas::Empty,
        };
        ReadEntry {
            state: self.state().to_rmi(),
            desc,
            ripas,
        }
    }

    /// Encodes the entry for an RTT at `level`. `None` when the state cannot exist there or its
    /// output address does not fit: ASSIGNED and ASSIGNED_NS need a block or page level
    /// (1..=3) and a level-aligned PA below `2^48`, TABLE a level of 0..=2 and a granule-aligned
    /// PA below `2^48`; UNASSIGNED and UNASSIGNED_NS fit at any level 0..=3.
    pub fn encode(&self, level: i64) -> Option<S2tte> {
        level_shift(level)?;
        let bits = match *self {
            Self::Unassigned { ripas } => (ripas as u64) << SW_RIPAS_SHIFT,
            Self::UnassignedNs => NS,
            Self::Assigned { pa, ripas } => {
                let pa = leaf_oa(pa, level)?;
                match ripas {
                    Ripas::Ram => pa | leaf_type(level) | PROTECTED_ATTRS,
                    Ripas::Empty | Ripas::Destroyed => {
                        pa | SW_ASSIGNED | ((ripas as u64) << SW_RIPAS_SHIFT)
                    }
                }
            }
            Self::AssignedNs { pa, attrs } => {
                let pa = leaf_oa(pa, level)?;
                pa | leaf_type(level)
                    | attrs.desc_bits()
                    | attrs.shareability()
                    | AF
                    | XN_NEVER
                    | NS
            }
            Self::Table { pa } => {
                if level >= RTT_PAGE_LEVEL || pa & !OA_MASK != 0 {
                    return None;
                }
                pa | TYPE_TABLE_OR_PAGE
            }
        };
        Some(S2tte(bits))
    }
}

/// The outputs of `RMI_RTT_READ_ENTRY` for the entry the walk reached (x2, x3, x4; B4.3.20.1.3).
/// The walk level (x1) comes from the walk.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ReadEntry {
    /// RTT entry state as RMI encodes it.
    pub state: RmiRttEntryState,
    /// The RTTE descriptor, in the stage-2 block/page attribute layout.
    pub desc: u64,
    /// RIPAS.
    pub ripas: Ripas,
}

/// A raw stage-2 translation table entry, as stored in an RTT and walked by the hardware.
///
/// Its meaning depends on the level of the RTT holding it (a `0b11` type is a table at levels
/// 0-2 and a page at level 3), so every accessor takes the level. The bit layout is documented
/// at the top of `s2tt/desc.rs`. Accessors answer `None` for a
/// malformed value (see the module documentation) or an invalid level.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct S2tte(u64);

impl S2tte {
    /// Wraps a value read from an RTT.
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// The value to store in an RTT.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// An UNASSIGNED entry with RIPAS `ripas` (valid at every level).
    pub const fn unassigned(ripas: Ripas) -> Self {
        Self((ripas as u64) << SW_RIPAS_SHIFT)
    }

    /// An UNASSIGNED_NS entry (valid at every level).
    pub const fn unassigned_ns() -> Self {
        Self(NS)
    }

    /// An ASSIGNED entry at `level` for the DATA granule(s) at `pa`: a valid block or page with
    /// the realm memory attributes when `ripas` is RAM, an invalid entry keeping `pa` otherwise.
    /// `None` unless `level` is 1..=3 and `pa` is level-aligned and below `2^48`.
    pub fn assigned(pa: u64, level: i64, ripas: Ripas) -> Option<Self> {
        Rtte::Assigned { pa, ripas }.encode(level)
    }

    /// An ASSIGNED_NS entry at `level` for NS memory at `pa` with host attributes `attrs`.
    /// `None` unless `level` is 1..=3 and `pa` is level-aligned and below `2^48`.
    pub fn assigned_ns(pa: u64, level: i64, attrs: NsAttrs) -> Option<Self> {
        Rtte::AssignedNs { pa, attrs }.encode(level)
    }

    /// A TABLE entry at `level` pointing to the level `level + 1` RTT at `pa`. `None` unless
    /// `level` is 0..=2 and `pa` is granule-aligned and below `2^48`.
    pub fn table(pa: u64, level: i64) -> Option<Self> {
        Rtte::Table { pa }.encode(level)
    }

    /// Whether the hardware treats the entry as valid (bit 0): TABLE, ASSIGNED with RIPAS RAM and
    /// ASSIGNED_NS entries. Replacing a valid entry needs TLB maintenance; an invalid one never
    /// reached the TLBs.
    pub const fn is_valid_hw(self) -> bool {
        self.0 & VALID != 0
    }

    /// Decodes the entry of an RTT at `level`. `None` for a level outside 0..=3 or a value that
    /// is not the canonical encoding of a state at that level.
    pub fn decode(self, level: i64) -> Option<Rtte> {
        let shift = level_shift(level)?;
        let rtte = if !self.is_valid_hw() {
            if self.0 & NS != 0 {
                Rtte::UnassignedNs
            } else {
                let ripas = Ripas::from_u64((self.0 >> SW_RIPAS_SHIFT) & 0b11)?;
                if self.0 & SW_ASSIGNED != 0 {
                    Rtte::Assigned {
                        pa: self.0 & OA_MASK,
                        ripas,
                    }
                } else {
                    Rtte::Unassigned { ripas }
                }
            }
        } else {
            let desc_type = self.0 & TYPE_MASK;
            if desc_type == TYPE_TABLE_OR_PAGE && level < RTT_PAGE_LEVEL {
                Rtte::Table {
                    pa: self.0 & OA_MASK,
                }
            } else {
                let pa = self.0 & OA_MASK & !((1 << shift) - 1);
                if self.0 & NS != 0 {
                    let mem_attr = ((self.0 & HOST_MEMATTR_MASK) >> MEMATTR_SHIFT) as u8;
                    let s2ap = ((self.0 & S2AP_MASK) >> S2AP_SHIFT) as u8;
                    Rtte::AssignedNs {
                        pa,
                        attrs: NsAttrs::new(mem_attr, s2ap)?,
                    }
                } else {
                    Rtte::Assigned {
                        pa,
                        ripas: Ripas::Ram,
                    }
                }
            }
        };
        // Canonical check: wrong descriptor type for the level, stray or misaligned bits,
        // ASSIGNED/RAM kept invalid, foreign attributes... all fail to round-trip.
        if rtte.encode(level)? == self {
            Some(rtte)
        } else {
            None
        }
    }

    /// The entry's state at `level`.
    pub fn state(self, level: i64) -> Option<EntryState> {
        self.decode(level).map(|r| r.state())
    }

    /// The entry's RIPAS at `level`: `Some` for UNASSIGNED and ASSIGNED entries only.
    pub fn ripas(self, level: i64) -> Option<Ripas> {
        self.decode(level)?.ripas()
    }

    /// The entry's output address at `level`, aligned to the level: `Some` for ASSIGNED,
    /// ASSIGNED_NS and TABLE entries only.
    pub fn pa(self, level: i64) -> Option<u64> {
        self.decode(level)?.pa()
    }

    /// Whether the entry is live at `level` (ASSIGNED, ASSIGNED_NS or TABLE; A5.5.8). `None`
    /// for a malformed entry.
    pub fn is_live(self, level: i64) -> Option<bool> {
        self.state(level).map(EntryState::is_live)
    }

    /// Whether the entry is UNASSIGNED at `level`.
    pub fn is_unassigned(self, level: i64) -> bool {
        self.state(level) == Some(EntryState::Unassigned)
    }

    /// Whether the entry is ASSIGNED at `level`.
    pub fn is_assigned(self, level: i64) -> bool {
        self.state(level) == Some(EntryState::Assigned)
    }

    /// Whether the entry is UNASSIGNED_NS at `level`.
    pub fn is_unassigned_ns(self, level: i64) -> bool {
        self.state(level) == Some(EntryState::UnassignedNs)
    }

    /// Whether the entry is ASSIGNED_NS at `level`.
    pub fn is_assigned_ns(self, level: i64) -> bool {
        self.state(level) == Some(EntryState::AssignedNs)
    }

    /// Whether the entry is TABLE at `level`.
    pub fn is_table(self, level: i64) -> bool {
        self.state(level) == Some(EntryState::Table)
    }

    /// The same entry with RIPAS `ripas`, keeping its state and output address: UNASSIGNED stays
    /// UNASSIGNED, ASSIGNED stays ASSIGNED (becoming valid exactly when `ripas` is RAM). `None`
    /// for entries without RIPAS (UNASSIGNED_NS, ASSIGNED_NS, TABLE) or a malformed entry.
    pub fn with_ripas(self, level: i64, ripas: Ripas) -> Option<Self> {
        match self.decode(level)? {
            Rtte::Unassigned { .. } => Some(Self::unassigned(ripas)),
            Rtte::Assigned { pa, .. } => Self::assigned(pa, level, ripas),
            _ => None,
        }
    }

    /// What `RMI_RTT_READ_ENTRY` returns for this entry at `level` (see
    /// [`Rtte::read_entry_outputs`]); `None` for a malformed entry.
    pub fn read_entry_outputs(self, level: i64) -> Option<ReadEntry> {
        self.decode(level).map(|r| r.read_entry_outputs())
    }
}

/// Whether `pa` fits in a descriptor's output address (`pa < 2^48`), the commands' PA bound
/// without LPA2 (A3.1.2).
pub const fn pa_in_oa_range(pa: u64) -> bool {
    pa < 1 << OA_BITS
}

/// Checks the descriptor a host passes to `RMI_RTT_MAP_UNPROTECTED` for an entry at `level`:
/// `RttDescriptorIsValidForUnprotected` (B3.56) plus the checks that need the level. True when:
/// 1. `level` is a block or page level (1..=3);
/// 2. every field that is not a host-controlled attribute (A5.5.11: ADDR `[47:12]`,
///    `MemAttr[2:0]` `[4:2]`, S2AP `[7:6]`) is zero: the descriptor type `[1:0]`, `MemAttr[3]`
///    (RES0 under FEAT_S2FWB), SH, AF, the upper attributes and software bits, and address bits
///    `[51:48]` (so the PA is below `2^48`, the `addr_bound` condition without LPA2);
/// 3. `MemAttr[2:0]` is not the reserved `0b100`;
/// 4. the address is aligned to `level` (the `addr_align` condition).
///
/// All of these are `RMI_ERROR_INPUT` conditions with no ordering among them that a host could
/// observe, so one check serves them all.
pub fn host_desc_valid_for_unprotected(desc: u64, level: i64) -> bool {
    ns_from_host_desc(desc, level).is_some()
}

/// The ASSIGNED_NS entry for a host descriptor passed to `RMI_RTT_MAP_UNPROTECTED` at `level`:
/// the host's address, `MemAttr[2:0]` and S2AP, with the shareability, access flag, execute-never
/// and NS bits the RMM sets. `None` when [`host_desc_valid_for_unprotected`] is false.
pub fn ns_from_host_desc(desc: u64, level: i64) -> Option<S2tte> {
    if !is_block_or_page_level(level) {
        return None;
    }
    if desc & !(OA_MASK | HOST_MEMATTR_MASK | S2AP_MASK) != 0 {
        return None;
    }
    let pa = desc & OA_MASK;
    if !is_aligned(pa, level) {
        return None;
    }
    let mem_attr = ((desc & HOST_MEMATTR_MASK) >> MEMATTR_SHIFT) as u8;
    let s2ap = ((desc & S2AP_MASK) >> S2AP_SHIFT) as u8;
    S2tte::assigned_ns(pa, level, NsAttrs::new(mem_attr, s2ap)?)
}

/// The output address of a block or page at `level`, checked: level 1..=3, aligned, `< 2^48`.
fn leaf_oa(pa: u64, level: i64) -> Option<u64> {
    if !is_block_or_page_level(level) || !is_aligned(pa, level) || !pa_in_oa_range(pa) {
        return None;
    }
    Some(pa)
}

/// Descriptor type of a leaf at `level`: page at level 3, block above.
fn leaf_type(level: i64) -> u64 {
    if level == RTT_PAGE_LEVEL {
        TYPE_TABLE_OR_PAGE
    } else {
        TYPE_BLOCK
    }
}
