//! `RmiRecParams`, the NS granule the host passes to `RMI_REC_CREATE` (DEN0137 B4.4.19,
//! B4.4.13), the `RmiRecMpidr` fieldset (B4.4.18) and the MPIDR <-> REC index mapping (A2.3.3).

use crate::fieldset::fieldset64;
use crate::wire::impl_wire;

/// Size of an `RmiRecParams`: one granule.
pub const RMI_REC_PARAMS_SIZE: usize = crate::GRANULE_SIZE;
/// Most auxiliary granules a REC can take (length of `aux`).
pub const MAX_REC_AUX_GRANULES: usize = 16;
/// Registers a REC is created with (x0..x7; x8..x30 start at zero).
pub const REC_PARAMS_GPRS: usize = 8;

fieldset64! {
    /// Flags of a new REC (`RmiRecCreateFlags`, B4.4.13). Bits 63:1 SBZ.
    pub struct RmiRecCreateFlags {
        /// Bit 0: the REC is eligible for execution (`RMI_RUNNABLE`).
        RUNNABLE = 0;
    }
}

/// The bits an `RmiRecMpidr` may have set: `Aff0[3:0]`, Aff1 `[15:8]`, Aff2 `[23:16]` and
/// Aff3 `[31:24]`. `Aff0[7:4]` and bits 63:32 are SBZ.
pub const REC_MPIDR_MASK: u64 = 0xFFFF_FF0F;
/// The bits a REC's affinity may have set in the architectural `MPIDR_EL1` layout, which the
/// realm reads and passes to PSCI (`target_cpu`, `target_affinity`): `Aff0[3:0]`, Aff1 `[15:8]`,
/// Aff2 `[23:16]` and Aff3 `[39:32]`. Note that `RmiRecMpidr` instead carries Aff3 at
/// `[31:24]`, where `MPIDR_EL1` has its U, MT and RES1 bits.
pub const MPIDR_EL1_REC_AFFINITY_MASK: u64 = 0xFF_00FF_FF0F;
/// The largest REC index (28 bits: 4 from Aff0 and 8 from each of Aff1..Aff3).
pub const MAX_REC_INDEX: u64 = (1 << 28) - 1;

/// The REC index an `RmiRecMpidr` names: `Aff0[3:0] | Aff1 << 4 | Aff2 << 12 | Aff3 << 20`
/// (A2.3.3, B3.38), with Aff3 taken from bits `[31:24]`.
///
/// `None` if any SBZ bit of `RmiRecMpidr` is set (`Aff0[7:4]`, bits 63:32).
pub const fn mpidr_to_rec_index(mpidr: u64) -> Option<u64> {
    if mpidr & !REC_MPIDR_MASK != 0 {
        return None;
    }
    Some(pack_index(
        mpidr & 0xF,
        mpidr >> 8,
        mpidr >> 16,
        mpidr >> 24,
    ))
}

/// The `RmiRecMpidr` value of REC `index`; `None` above [`MAX_REC_INDEX`].
pub const fn rec_index_to_mpidr(index: u64) -> Option<u64> {
    if index > MAX_REC_INDEX {
        return None;
    }
    let [aff0, aff1, aff2, aff3] = unpack_index(index);
    Some(aff0 | aff1 << 8 | aff2 << 16 | aff3 << 24)
}

/// The REC index an affinity value in the `MPIDR_EL1` layout names (Aff3 at `[39:32]`), as a realm
/// passes it to PSCI_CPU_ON / PSCI_AFFINITY_INFO. `None` if a bit outside
/// [`MPIDR_EL1_REC_AFFINITY_MASK`] is set.
pub const fn mpidr_el1_to_rec_index(mpidr: u64) -> Option<u64> {
    if mpidr & !MPIDR_EL1_REC_AFFINITY_MASK != 0 {
        return None;
    }
    Some(pack_index(
        mpidr & 0xF,
        mpidr >> 8,
        mpidr >> 16,
        mpidr >> 32,
    ))
}

/// The affinity fields, in the `MPIDR_EL1` layout, of REC `index` (what the realm should read
/// from `MPIDR_EL1`, before the RMM adds the register's RES1 bit 31); `None` above
/// [`MAX_REC_INDEX`].
pub const fn rec_index_to_mpidr_el1(index: u64) -> Option<u64> {
    if index > MAX_REC_INDEX {
        return None;
    }
    let [aff0, aff1, aff2, aff3] = unpack_index(index);
    Some(aff0 | aff1 << 8 | aff2 << 16 | aff3 << 32)
}

/// Concatenates the affinity fields (each already shifted down to bit 0) into a REC index.
const fn pack_index(aff0: u64, aff1: u64, aff2: u64, aff3: u64) -> u64 {
    (aff0 & 0xF) | (aff1 & 0xFF) << 4 | (aff2 & 0xFF) << 12 | (aff3 & 0xFF) << 20
}

/// Splits a REC index into Aff0..Aff3.
const fn unpack_index(index: u64) -> [u64; 4] {
    [
        index & 0xF,
        (index >> 4) & 0xFF,
        (index >> 12) & 0xFF,
        (index >> 20) & 0xFF,
    ]
}

/// REC creation parameters. Unused bits SBZ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct RmiRecParams {
    /// Flags.
    pub flags: RmiRecCreateFlags,
    /// Reserved, SBZ.
    pub reserved0: [u8; 0xF8],
    /// MPIDR of the REC (`RmiRecMpidr`); see [`mpidr_to_rec_index`].
    pub mpidr: u64,
    /// Reserved, SBZ.
    pub reserved1: [u8; 0xF8],
    /// Initial program counter.
    pub pc: u64,
    /// Reserved, SBZ.
    pub reserved2: [u8; 0xF8],
    /// Initial x0..x7.
    pub gprs: [u64; REC_PARAMS_GPRS],
    /// Reserved, SBZ.
    pub reserved3: [u8; 0x4C0],
    /// Number of auxiliary granules (must equal `RMI_REC_AUX_COUNT`).
    pub num_aux: u64,
    /// PAs of the auxiliary granules; the first `num_aux` are used.
    pub aux: [u64; MAX_REC_AUX_GRANULES],
    /// Reserved, SBZ.
    pub reserved4: [u8; 0x778],
}
assert_layout!(
    RmiRecParams,
    size = RMI_REC_PARAMS_SIZE,
    flags = 0x0,
    reserved0 = 0x8,
    mpidr = 0x100,
    reserved1 = 0x108,
    pc = 0x200,
    reserved2 = 0x208,
    gprs = 0x300,
    reserved3 = 0x340,
    num_aux = 0x800,
    aux = 0x808,
    reserved4 = 0x888,
);

impl_wire!(RmiRecParams {
    flags,
    reserved0,
    mpidr,
    reserved1,
    pc,
    reserved2,
    gprs,
    reserved3,
    num_aux,
    aux,
    reserved4,
});

impl RmiRecParams {
    /// All zero.
    pub const ZERO: Self = Self {
        flags: RmiRecCreateFlags::EMPTY,
        reserved0: [0; 0xF8],
        mpidr: 0,
        reserved1: [0; 0xF8],
        pc: 0,
        reserved2: [0; 0xF8],
        gprs: [0; REC_PARAMS_GPRS],
        reserved3: [0; 0x4C0],
        num_aux: 0,
        aux: [0; MAX_REC_AUX_GRANULES],
        reserved4: [0; 0x778],
    };

    /// The used part of `aux`, or `None` if `num_aux` exceeds [`MAX_REC_AUX_GRANULES`].
    pub fn aux_granules(&self) -> Option<&[u64]> {
        let n = usize::try_from(self.num_aux).ok()?;
        self.aux.get(..n)
    }

    /// The REC index `mpidr` names (see [`mpidr_to_rec_index`]).
    pub const fn rec_index(&self) -> Option<u64> {
        mpidr_to_rec_index(self.mpidr)
    }

    /// The measured REC parameters (B4.3.12.4): a zeroed structure holding only `flags`, `pc` and
    /// `gprs`. A runnable REC extends the RIM with the hash of its 4 KiB
    /// [`crate::wire::Wire`] image.
    pub const fn measured(&self) -> Self {
        let mut m = Self::ZERO;
        m.flags = self.flags;
        m.pc = self.pc;
        m.gprs = self.gprs;
        m
    }
}

impl Default for RmiRecParams {
    fn default() -> Self {
        Self::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Wire;

    #[test]
    fn rec_index_follows_a2_3_3() {
        // The rows of the A2.3.3 table.
        assert_eq!(mpidr_to_rec_index(0x0), Some(0));
        assert_eq!(mpidr_to_rec_index(0x1), Some(1));
        assert_eq!(mpidr_to_rec_index(0x100), Some(16));
        assert_eq!(mpidr_to_rec_index(0x1_0000), Some(4096));
        assert_eq!(mpidr_to_rec_index(0x100_0000), Some(1_048_576));
        // Every field at once.
        assert_eq!(mpidr_to_rec_index(0x0403_0205), Some(0x403_025));
        assert_eq!(mpidr_to_rec_index(0xFFFF_FF0F), Some(MAX_REC_INDEX));
    }

    #[test]
    fn stray_mpidr_bits_are_rejected() {
        // Aff0[7:4] is SBZ in RmiRecMpidr.
        assert_eq!(mpidr_to_rec_index(0x10), None);
        assert_eq!(mpidr_to_rec_index(0x80), None);
        // In RmiRecMpidr bit 31 is the top bit of Aff3...
        assert_eq!(mpidr_to_rec_index(1 << 31), Some(0x80 << 20));
        // ...and bits 63:32 (where MPIDR_EL1 keeps Aff3) are SBZ.
        assert_eq!(mpidr_to_rec_index(1 << 32), None);
        assert_eq!(mpidr_to_rec_index(0xFF << 32), None);
        assert_eq!(mpidr_to_rec_index(u64::MAX), None);
    }

    #[test]
    fn index_and_mpidr_round_trip() {
        for index in [0u64, 1, 15, 16, 17, 255, 4095, 4096, 1 << 20, MAX_REC_INDEX] {
            let mpidr = rec_index_to_mpidr(index).unwrap();
            assert_eq!(mpidr & !REC_MPIDR_MASK, 0);
            assert_eq!(mpidr_to_rec_index(mpidr), Some(index));
        }
        assert_eq!(rec_index_to_mpidr(16), Some(0x100));
        assert_eq!(rec_index_to_mpidr(MAX_REC_INDEX + 1), None);
    }

    #[test]
    fn mpidr_el1_layout_keeps_aff3_at_bit_32() {
        assert_eq!(mpidr_el1_to_rec_index(0x01_0000_0000), Some(1 << 20));
        assert_eq!(mpidr_el1_to_rec_index(0x02_0003_0405), Some(0x203_045));
        // Aff0[7:4], MT (24), U (30), RES1 (31) and bits above Aff3 are not affinity bits.
        for stray in [0x10u64, 1 << 24, 1 << 30, 1 << 31, 1 << 40] {
            assert_eq!(mpidr_el1_to_rec_index(stray), None, "{stray:#x}");
        }
        for index in [0u64, 9, 0x1234, MAX_REC_INDEX] {
            let el1 = rec_index_to_mpidr_el1(index).unwrap();
            assert_eq!(el1 & !MPIDR_EL1_REC_AFFINITY_MASK, 0);
            assert_eq!(mpidr_el1_to_rec_index(el1), Some(index));
        }
        // Aff3 = 1 sits at bit 24 in RmiRecMpidr and at bit 32 in MPIDR_EL1.
        assert_eq!(rec_index_to_mpidr(1 << 20), Some(1 << 24));
        assert_eq!(rec_index_to_mpidr_el1(1 << 20), Some(1 << 32));
        assert_eq!(rec_index_to_mpidr_el1(MAX_REC_INDEX + 1), None);
    }

    #[test]
    fn image_places_fields_per_b4_4_19() {
        let mut p = RmiRecParams::ZERO;
        p.flags = RmiRecCreateFlags::RUNNABLE;
        p.mpidr = 0x0102;
        p.pc = 0x8008_0000;
        p.gprs = [10, 11, 12, 13, 14, 15, 16, 17];
        p.num_aux = 2;
        p.aux[0] = 0x9000_0000;
        p.aux[15] = 0x9000_F000;
        let mut img = [0xCCu8; 4096];
        p.encode(&mut img).unwrap();
        let word = |off: usize| u64::from_le_bytes(img[off..off + 8].try_into().unwrap());
        assert_eq!(word(0x0), 1);
        assert_eq!(word(0x100), 0x0102);
        assert_eq!(word(0x200), 0x8008_0000);
        assert_eq!(word(0x300), 10);
        assert_eq!(word(0x338), 17);
        assert_eq!(word(0x340), 0);
        assert_eq!(word(0x800), 2);
        assert_eq!(word(0x808), 0x9000_0000);
        assert_eq!(word(0x880), 0x9000_F000);
        assert!(img[0x888..].iter().all(|&b| b == 0));
        assert_eq!(RmiRecParams::decode(&img).unwrap(), p);
        assert_eq!(p.aux_granules(), Some(&[0x9000_0000u64, 0][..]));
        assert_eq!(p.rec_index(), Some(0x12));
        crate::wire::assert_image_round_trips::<RmiRecParams>();
    }

    #[test]
    fn aux_count_is_bounded() {
        let mut p = RmiRecParams::default();
        assert_eq!(p.aux_granules(), Some(&[][..]));
        p.num_aux = 16;
        assert_eq!(p.aux_granules().map(<[u64]>::len), Some(16));
        p.num_aux = 17;
        assert_eq!(p.aux_granules(), None);
        p.num_aux = u64::MAX;
        assert_eq!(p.aux_granules(), None);
    }

    #[test]
    fn measured_keeps_flags_pc_and_gprs() {
        let mut p = RmiRecParams::ZERO;
        p.flags = RmiRecCreateFlags::RUNNABLE;
        p.mpidr = 0x3;
        p.pc = 0x1000;
        p.gprs[7] = 7;
        p.num_aux = 1;
        p.aux[0] = 0x5000;
        let m = p.measured();
        assert_eq!(m.flags, RmiRecCreateFlags::RUNNABLE);
        assert_eq!(m.pc, 0x1000);
        assert_eq!(m.gprs[7], 7);
        assert_eq!((m.mpidr, m.num_aux, m.aux[0]), (0, 0, 0));
        assert_eq!(RmiRecCreateFlags::RUNNABLE.bits(), 1);
    }
}
