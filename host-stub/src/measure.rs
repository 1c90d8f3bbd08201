//! The host's own account of a realm's measurements, written from DEN0137 (A7.1, B4.3.1.4,
//! B4.3.9.4, B4.3.12.4, B4.3.18.4, C1.11–C1.13) rather than taken from the RMM, so that a realm's
//! RSI_MEASUREMENT_READ can be checked against an independent computation.
//!
//! A host knows everything that goes into a Realm Initial Measurement: the parameters it gave
//! RMI_REALM_CREATE, the pages it gave RMI_DATA_CREATE with the measure flag, the runnable RECs it
//! created and the ranges RMI_RTT_INIT_RIPAS reported done. [`RimBuilder`] follows those commands
//! one by one; [`rem_extend`] is the rule for a Realm Extensible Measurement.
//!
//! Everything here works on fixed-size buffers (no heap) and hashes with the portable, compact
//! `sha2` rounds, so the soft-float image never touches FP/SIMD registers.

use hostcall_abi::realm_params::RmiRealmParams;
use hostcall_abi::rec_params::RmiRecParams;
use sha2::{Digest, Sha256, Sha512};

/// Bytes in a realm measurement: 512 bits, whatever the hash.
pub const MEASUREMENT_BYTES: usize = 64;
/// Bytes of a granule (the size of both hashed parameter pages and of a DATA granule).
const PAGE: usize = 4096;
/// Bytes of every measurement descriptor, and the value of its `len` field.
const DESC_LEN: usize = 0x100;

/// `desc_type` values (C1.11, C1.12, C1.13).
const TYPE_DATA: u8 = 0x0;
const TYPE_REC: u8 = 0x1;
const TYPE_RIPAS: u8 = 0x2;

/// Bit 0 of RMI_DATA_CREATE's flags: measure the granule's contents (RMI_MEASURE_CONTENT).
pub const DATA_MEASURE_CONTENT: u64 = 1;

/// A 64-byte measurement; a shorter digest sits in the first bytes, the rest zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(target_os = "none", derive(defmt::Format))]
pub struct Measurement(pub [u8; MEASUREMENT_BYTES]);

impl Measurement {
    /// All zero: every REM when a realm is created.
    pub const ZERO: Self = Self([0; MEASUREMENT_BYTES]);

    /// The measurement as RSI carries it: eight doublewords, the first holding bytes 0..8
    /// little-endian.
    pub fn words(&self) -> [u64; 8] {
        core::array::from_fn(|i| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&self.0[8 * i..8 * i + 8]);
            u64::from_le_bytes(w)
        })
    }

    /// The measurement RSI carried in `words` (see [`Self::words`]).
    pub fn from_words(words: &[u64; 8]) -> Self {
        let mut m = Self::ZERO;
        for (chunk, w) in m.0.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        m
    }

    /// The first eight bytes read as a big-endian number: their hex digits print in byte order.
    pub fn prefix(&self) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&self.0[..8]);
        u64::from_be_bytes(w)
    }
}

impl Default for Measurement {
    fn default() -> Self {
        Self::ZERO
    }
}

/// A realm's hash algorithm (`RmiHashAlgorithm`, B4.4.12).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(target_os = "none", derive(defmt::Format))]
pub enum Algo {
    /// Encoding 0.
    #[default]
    Sha256,
    /// Encoding 1.
    Sha512,
}

impl Algo {
    /// The algorithm `RmiRealmParams::hash_algo` selects; `None` for a reserved encoding.
    pub const fn from_encoding(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Sha256),
            1 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Bytes of one digest.
    pub const fn digest_bytes(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    /// The name for the log.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha512 => "SHA-512",
        }
    }
}

/// A running hash of either algorithm.
enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    fn new(algo: Algo) -> Self {
        match algo {
            Algo::Sha256 => Self::Sha256(Sha256::new()),
            Algo::Sha512 => Self::Sha512(Sha512::new()),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(bytes),
            Self::Sha512(h) => h.update(bytes),
        }
    }

    /// Feeds `n` zero bytes, a block at a time (no page-sized buffer on the stack).
    fn zeros(&mut self, mut n: usize) {
        const ZEROS: [u8; 128] = [0; 128];
        while n > 0 {
            let k = n.min(ZEROS.len());
            self.update(&ZEROS[..k]);
            n -= k;
        }
    }

    /// The digest, zero-extended to a measurement.
    fn finish(self) -> Measurement {
        let mut m = Measurement::ZERO;
        match self {
            Self::Sha256(h) => m.0[..32].copy_from_slice(&h.finalize()),
            Self::Sha512(h) => m.0.copy_from_slice(&h.finalize()),
        }
        m
    }
}

/// The measurement of `bytes`.
pub fn digest(algo: Algo, bytes: &[u8]) -> Measurement {
    let mut h = Hasher::new(algo);
    h.update(bytes);
    h.finish()
}

/// Hashes a 4 KiB page whose first `head.len()` bytes are `head` and the rest zero.
fn digest_page(algo: Algo, head: &[u8]) -> Measurement {
    let mut h = Hasher::new(algo);
    h.update(head);
    h.zeros(PAGE - head.len());
    h.finish()
}

/// Bytes of `RmiRealmParams` up to and including `hash_algo` (B4.4.12): every measured field.
const REALM_HEAD: usize = 0x38;
/// Bytes of `RmiRecParams` up to the end of `gprs` (B4.4.19): every measured field.
const REC_HEAD: usize = 0x340;

/// The start of the measured `RmiRealmParams` page (B4.3.9.4): `flags` (u64) at 0x0 and the
/// 8-bit `s2sz`, `sve_vl`, `num_bps`, `num_wps`, `pmu_num_ctrs` and `hash_algo` at 0x8, 0x10,
/// 0x18, 0x20, 0x28 and 0x30. Everything else on the page is zero.
fn measured_realm_params(p: &RmiRealmParams) -> [u8; REALM_HEAD] {
    let mut b = [0u8; REALM_HEAD];
    b[..8].copy_from_slice(&p.flags.bits().to_le_bytes());
    for (at, v) in [
        (0x08, p.s2sz),
        (0x10, p.sve_vl),
        (0x18, p.num_bps),
        (0x20, p.num_wps),
        (0x28, p.pmu_num_ctrs),
        (0x30, p.hash_algo),
    ] {
        b[at] = v;
    }
    b
}

/// The start of the measured `RmiRecParams` page (B4.3.12.4): `flags` at 0x0, `pc` at 0x200
/// and `gprs[0..8]` at 0x300; `mpidr`, `num_aux` and `aux` are left out (zero).
fn measured_rec_params(p: &RmiRecParams) -> [u8; REC_HEAD] {
    let mut b = [0u8; REC_HEAD];
    b[..8].copy_from_slice(&p.flags.bits().to_le_bytes());
    b[0x200..0x208].copy_from_slice(&p.pc.to_le_bytes());
    for (i, g) in p.gprs.iter().enumerate() {
        b[0x300 + 8 * i..0x308 + 8 * i].copy_from_slice(&g.to_le_bytes());
    }
    b
}

/// Bytes of IPA space one RTT entry at `level` (-1..=3, 4 KiB granules) describes.
pub const fn rtt_entry_bytes(level: i64) -> Option<u64> {
    if level < -1 || level > 3 {
        return None;
    }
    Some(1u64 << (12 + 9 * (3 - level) as u32))
}

/// The RIM a host expects, built by following the commands it issued.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(target_os = "none", derive(defmt::Format))]
pub struct RimBuilder {
    algo: Algo,
    rim: Measurement,
    descriptors: usize,
}

impl RimBuilder {
    /// The RIM right after RMI_REALM_CREATE with `params`; `None` if `hash_algo` is reserved
    /// (the RMM refuses such a realm).
    pub fn new(params: &RmiRealmParams) -> Option<Self> {
        let algo = Algo::from_encoding(params.hash_algo)?;
        Some(Self {
            algo,
            rim: digest_page(algo, &measured_realm_params(params)),
            descriptors: 0,
        })
    }

    /// The realm's hash algorithm.
    pub const fn algo(&self) -> Algo {
        self.algo
    }

    /// The RIM so far.
    pub const fn value(&self) -> Measurement {
        self.rim
    }

    /// Descriptors folded in since RMI_REALM_CREATE.
    pub const fn descriptors(&self) -> usize {
        self.descriptors
    }

    /// Hashes a descriptor of `desc_type` whose bytes from 0x50 on are `body`, and makes it the
    /// RIM.
    fn fold(&mut self, desc_type: u8, body: &[u8]) {
        let mut d = [0u8; DESC_LEN];
        d[0] = desc_type;
        d[0x08..0x10].copy_from_slice(&(DESC_LEN as u64).to_le_bytes());
        d[0x10..0x50].copy_from_slice(&self.rim.0);
        d[0x50..0x50 + body.len()].copy_from_slice(body);
        self.rim = digest(self.algo, &d);
        self.descriptors += 1;
    }

    /// RMI_DATA_CREATE of `contents` at `ipa` with `flags` (C1.11: ipa at 0x50, flags at 0x58,
    /// the contents' hash at 0x60 when `flags` asks for it, else zero).
    pub fn data(&mut self, ipa: u64, flags: u64, contents: &[u8; PAGE]) {
        let mut body = [0u8; 0x10 + MEASUREMENT_BYTES];
        body[..8].copy_from_slice(&ipa.to_le_bytes());
        body[8..16].copy_from_slice(&flags.to_le_bytes());
        if flags & DATA_MEASURE_CONTENT != 0 {
            body[16..].copy_from_slice(&digest(self.algo, contents).0);
        }
        self.fold(TYPE_DATA, &body);
    }

    /// RMI_REC_CREATE of a runnable REC with `params` (C1.12: the hash of the measured parameter
    /// page at 0x50). A REC created not runnable leaves the RIM alone: do not call this for it.
    pub fn rec(&mut self, params: &RmiRecParams) {
        let content = digest_page(self.algo, &measured_rec_params(params));
        self.fold(TYPE_REC, &content.0);
    }

    /// RMI_RTT_INIT_RIPAS over `[base, top)` (`top` as the command returned it) with the walk
    /// ending at `level`: one C1.13 descriptor per RTT entry, starting at `base` (entry-aligned,
    /// as the command requires), each covering its entry up to `top` at most. Returns false,
    /// changing nothing, for a level that does not exist.
    pub fn init_ripas(&mut self, base: u64, top: u64, level: i64) -> bool {
        let Some(step) = rtt_entry_bytes(level) else {
            return false;
        };
        let mut ipa = base;
        while ipa < top {
            let end = ipa.saturating_add(step).min(top);
            let mut body = [0u8; 16];
            body[..8].copy_from_slice(&ipa.to_le_bytes());
            body[8..].copy_from_slice(&end.to_le_bytes());
            self.fold(TYPE_RIPAS, &body);
            ipa = end;
        }
        true
    }
}

/// A REM after RSI_MEASUREMENT_EXTEND with `value` (its first `size` bytes, `size` = the
/// slice's length, at most 64): the hash of the old REM's digest-length bytes followed by
/// `value`. `None` for a value longer than a measurement (the RMM refuses it).
pub fn rem_extend(algo: Algo, old: &Measurement, value: &[u8]) -> Option<Measurement> {
    if value.len() > MEASUREMENT_BYTES {
        return None;
    }
    let mut h = Hasher::new(algo);
    h.update(&old.0[..algo.digest_bytes()]);
    h.update(value);
    Some(h.finish())
}

#[cfg(test)]
mod tests;
