//! Realm measurements (A7.1): the hash functions a realm may choose and the byte layouts the RMM
//! hashes to build its Realm Initial Measurement (RIM) and to extend its Realm Extensible
//! Measurements (REMs).
//!
//! A measurement is always 64 bytes; a digest shorter than that (SHA-256) fills the low bytes
//! and the rest stays zero. This module only computes values: where a realm's measurements live
//! and who may change them is the business of the RMI and RSI handlers.
//!
//! In the image, hashing uses RustCrypto's portable, compact implementation
//! (`force-soft-compact`): the RMM never touches FP/SIMD registers, which may hold a realm's
//! state, and the rolled-up rounds keep the image small. Host builds (tests, the simulation, the
//! fuzz targets) may take sha2's faster backends: the digests are the same.

use hostcall_abi::realm_params::RmiRealmParams;
use hostcall_abi::rec_params::RmiRecParams;
use hostcall_abi::rmi::RmiHashAlgorithm;
use hostcall_abi::wire::Wire;
use hostcall_abi::GRANULE_SIZE;
use sha2::{Digest, Sha256, Sha512};

/// Bytes in a realm measurement (`RmmRealmMeasurement`, 512 bits).
pub const MEASUREMENT_SIZE: usize = 64;

/// A realm measurement: a digest, zero-extended to 64 bytes.
pub type Measurement = [u8; MEASUREMENT_SIZE];

/// Number of REMs a realm has (measurement indices 1..=4; index 0 is the RIM).
pub const REM_COUNT: usize = 4;

/// Size of every measurement descriptor (C1.11–C1.13), also written into its `len` field.
const DESCRIPTOR_SIZE: usize = 0x100;

/// `desc_type` of `RmmMeasurementDescriptorData` (C1.11).
const DESC_DATA: u8 = 0;
/// `desc_type` of `RmmMeasurementDescriptorRec` (C1.12).
const DESC_REC: u8 = 1;
/// `desc_type` of `RmmMeasurementDescriptorRipas` (C1.13).
const DESC_RIPAS: u8 = 2;

/// Byte offsets shared by the three descriptor types.
const AT_LEN: usize = 0x08;
const AT_RIM: usize = 0x10;
/// First field after the RIM: `ipa` (DATA), `content` (REC) or `base` (RIPAS).
const AT_FIELD0: usize = 0x50;
/// Second field after the RIM: `flags` (DATA) or `top` (RIPAS).
const AT_FIELD1: usize = 0x58;
/// `content` of the DATA descriptor.
const AT_DATA_CONTENT: usize = 0x60;

/// A realm's hash algorithm (A3.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgo {
    /// SHA-256: 32-byte digests.
    Sha256,
    /// SHA-512: 64-byte digests.
    Sha512,
}

impl HashAlgo {
    /// Bytes in one digest of this algorithm.
    pub const fn digest_size(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }
}

impl From<RmiHashAlgorithm> for HashAlgo {
    fn from(a: RmiHashAlgorithm) -> Self {
        match a {
            RmiHashAlgorithm::Sha256 => Self::Sha256,
            RmiHashAlgorithm::Sha512 => Self::Sha512,
        }
    }
}

/// Hashes the concatenation of `parts` with `algo`; the digest is zero-extended to 64 bytes.
fn hash_parts(algo: HashAlgo, parts: &[&[u8]]) -> Measurement {
    let mut out = [0u8; MEASUREMENT_SIZE];
    match algo {
        HashAlgo::Sha256 => {
            let mut h = Sha256::new();
            for p in parts {
                h.update(p);
            }
            out[..32].copy_from_slice(&h.finalize());
        }
        HashAlgo::Sha512 => {
            let mut h = Sha512::new();
            for p in parts {
                h.update(p);
            }
            out.copy_from_slice(&h.finalize());
        }
    }
    out
}

/// The digest of `data` with `algo`, zero-extended to 64 bytes.
pub fn hash(algo: HashAlgo, data: &[u8]) -> Measurement {
    hash_parts(algo, &[data])
}

/// Hashes the 4 KiB image of a structure (the measured realm or REC parameters).
fn hash_granule_image<T: Wire>(algo: HashAlgo, value: &T) -> Measurement {
    let mut image = [0u8; GRANULE_SIZE];
    // Both parameter structures are exactly one granule, so the encoding always fits; were it
    // ever to fail, the zeroed image would still be hashed (no partial structure is possible).
    let _ = value.encode(&mut image);
    hash(algo, &image)
}

/// The initial RIM (B4.3.9.4): the hash of a zeroed `RmiRealmParams` holding only `flags`,
/// `s2sz`, `sve_vl`, `num_bps`, `num_wps`, `pmu_num_ctrs` and `hash_algo` of `params`.
pub fn rim_init(algo: HashAlgo, params: &RmiRealmParams) -> Measurement {
    hash_granule_image(algo, &params.measured())
}

/// A zeroed descriptor of type `desc_type` carrying its length and the current `rim`.
fn descriptor(desc_type: u8, rim: &Measurement) -> [u8; DESCRIPTOR_SIZE] {
    let mut d = [0u8; DESCRIPTOR_SIZE];
    d[0] = desc_type;
    d[AT_LEN..AT_LEN + 8].copy_from_slice(&(DESCRIPTOR_SIZE as u64).to_le_bytes());
    d[AT_RIM..AT_RIM + MEASUREMENT_SIZE].copy_from_slice(rim);
    d
}

/// Writes `value` little-endian at `at`.
fn put_u64(d: &mut [u8; DESCRIPTOR_SIZE], at: usize, value: u64) {
    d[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

/// The RIM after RMI_DATA_CREATE (B4.3.1.4): `content` is the hash of the DATA granule when
/// `flags` asks for its contents to be measured, zero otherwise (the caller decides).
pub fn extend_data(
    algo: HashAlgo,
    rim: &Measurement,
    ipa: u64,
    flags: u64,
    content: &Measurement,
) -> Measurement {
    let mut d = descriptor(DESC_DATA, rim);
    put_u64(&mut d, AT_FIELD0, ipa);
    put_u64(&mut d, AT_FIELD1, flags);
    d[AT_DATA_CONTENT..AT_DATA_CONTENT + MEASUREMENT_SIZE].copy_from_slice(content);
    hash(algo, &d)
}

/// The RIM after RMI_REC_CREATE of a runnable REC (B4.3.12.4): the descriptor's `content` is
/// the hash of a zeroed `RmiRecParams` holding only `flags`, `pc` and `gprs` of `params`.
pub fn extend_rec(algo: HashAlgo, rim: &Measurement, params: &RmiRecParams) -> Measurement {
    let content = hash_granule_image(algo, &params.measured());
    let mut d = descriptor(DESC_REC, rim);
    d[AT_FIELD0..AT_FIELD0 + MEASUREMENT_SIZE].copy_from_slice(&content);
    hash(algo, &d)
}

/// The RIM after one `RmmMeasurementDescriptorRipas` for `[base, top)`
/// (`RimExtendRipasForEntry`).
pub fn extend_ripas(algo: HashAlgo, rim: &Measurement, base: u64, top: u64) -> Measurement {
    let mut d = descriptor(DESC_RIPAS, rim);
    put_u64(&mut d, AT_FIELD0, base);
    put_u64(&mut d, AT_FIELD1, top);
    hash(algo, &d)
}

/// The RIM after RMI_RTT_INIT_RIPAS changed `[base, top)` at a level whose entries each map
/// `entry_size` bytes (`RimExtendRipas`, B4.3.18.4): one descriptor per entry, from `base` in
/// steps of `entry_size`, each ending at the entry's end or at `top`, whichever comes first.
/// `base` is the IPA of an entry (the command's `base_align` guarantees it).
pub fn extend_ripas_entries(
    algo: HashAlgo,
    rim: &Measurement,
    base: u64,
    top: u64,
    entry_size: u64,
) -> Measurement {
    let mut rim = *rim;
    if entry_size == 0 {
        // No level has empty entries; refuse to loop forever on one.
        return rim;
    }
    let mut addr = base;
    while addr < top {
        let end = addr.saturating_add(entry_size).min(top);
        rim = extend_ripas(algo, &rim, addr, end);
        addr = end;
    }
    rim
}

/// The REM after RSI_MEASUREMENT_EXTEND (`RemExtend`, B3.42): the hash of the current value's
/// digest bytes followed by the first `size` bytes of `value`. `None` if `size` exceeds 64 (the
/// command's `size_bound`).
pub fn extend_rem(
    algo: HashAlgo,
    rem: &Measurement,
    value: &Measurement,
    size: u64,
) -> Option<Measurement> {
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s <= MEASUREMENT_SIZE)?;
    let old = rem.get(..algo.digest_size())?;
    Some(hash_parts(algo, &[old, value.get(..size)?]))
}

#[cfg(test)]
mod tests {
    //! Expected values are built here from the spec's byte offsets, written out literally, and
    //! hashed with `sha2` directly: nothing below calls the descriptor code to get an answer.

    use super::*;
    use hostcall_abi::realm_params::RmiRealmFlags;
    use hostcall_abi::rec_params::RmiRecCreateFlags;

    const ALGOS: [HashAlgo; 2] = [HashAlgo::Sha256, HashAlgo::Sha512];

    /// The reference digest of `bytes`, zero-extended.
    fn reference(algo: HashAlgo, bytes: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        match algo {
            HashAlgo::Sha256 => out[..32].copy_from_slice(&Sha256::digest(bytes)),
            HashAlgo::Sha512 => out.copy_from_slice(&Sha512::digest(bytes)),
        }
        out
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// A recognisable, non-zero 64-byte value.
    fn pattern(seed: u8) -> [u8; 64] {
        core::array::from_fn(|i| seed.wrapping_add((i as u8).wrapping_mul(7)) | 0x10)
    }

    /// A descriptor header as C1.11–C1.13 lay it out.
    fn header(desc_type: u8, rim: &[u8; 64]) -> [u8; 0x100] {
        let mut d = [0u8; 0x100];
        d[0x00] = desc_type;
        d[0x08..0x10].copy_from_slice(&0x100u64.to_le_bytes());
        d[0x10..0x50].copy_from_slice(rim);
        d
    }

    #[test]
    fn hash_matches_fips_180_vectors_zero_extended() {
        let sha256 = hash(HashAlgo::Sha256, b"abc");
        assert_eq!(
            sha256[..32],
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")[..]
        );
        assert_eq!(sha256[32..], [0; 32], "SHA-256 is zero-extended");
        let sha512 = hash(HashAlgo::Sha512, b"abc");
        assert_eq!(
            sha512[..],
            hex(concat!(
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a",
                "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
            ))[..]
        );
        assert_eq!(HashAlgo::Sha256.digest_size(), 32);
        assert_eq!(HashAlgo::Sha512.digest_size(), 64);
        assert_eq!(HashAlgo::from(RmiHashAlgorithm::Sha512), HashAlgo::Sha512);
        assert_eq!(HashAlgo::from(RmiHashAlgorithm::Sha256), HashAlgo::Sha256);
    }

    #[test]
    fn rim_init_hashes_only_the_measured_realm_params() {
        for algo in ALGOS {
            let mut p = RmiRealmParams::ZERO;
            p.flags = RmiRealmFlags::SVE | RmiRealmFlags::PMU;
            p.s2sz = 40;
            p.sve_vl = 3;
            p.num_bps = 5;
            p.num_wps = 6;
            p.pmu_num_ctrs = 7;
            p.hash_algo = algo as u8;
            // Fields that must not be measured.
            p.rpv = [0xEE; 64];
            p.vmid = 9;
            p.rtt_base = 0x8000_2000;
            p.rtt_level_start = 1;
            p.rtt_num_start = 2;

            // B4.4.12: flags @0 (u64), s2sz @8, sve_vl @0x10, num_bps @0x18, num_wps @0x20,
            // pmu_num_ctrs @0x28, hash_algo @0x30; everything else zero.
            let mut page = [0u8; 4096];
            page[0x00..0x08].copy_from_slice(&(0b110u64).to_le_bytes());
            page[0x08] = 40;
            page[0x10] = 3;
            page[0x18] = 5;
            page[0x20] = 6;
            page[0x28] = 7;
            page[0x30] = algo as u8;
            assert_eq!(rim_init(algo, &p), reference(algo, &page), "{algo:?}");

            // And the unmeasured fields really are left out.
            let mut q = p;
            q.rpv = [0; 64];
            q.vmid = 1;
            q.rtt_base = 0;
            assert_eq!(rim_init(algo, &q), rim_init(algo, &p));
        }
    }

    #[test]
    fn extend_data_builds_the_c1_11_descriptor() {
        for algo in ALGOS {
            let rim = pattern(1);
            let content = reference(algo, &[0x5A; 4096]);
            for (flags, content) in [(1u64, content), (0, [0u8; 64])] {
                let mut d = header(0, &rim);
                d[0x50..0x58].copy_from_slice(&0x0000_0040_1234_5000u64.to_le_bytes());
                d[0x58..0x60].copy_from_slice(&flags.to_le_bytes());
                d[0x60..0xA0].copy_from_slice(&content);
                assert_eq!(
                    extend_data(algo, &rim, 0x0000_0040_1234_5000, flags, &content),
                    reference(algo, &d),
                    "{algo:?} flags {flags}"
                );
            }
        }
    }

    #[test]
    fn extend_rec_hashes_the_measured_rec_params_into_c1_12() {
        for algo in ALGOS {
            let rim = pattern(2);
            let mut p = RmiRecParams::ZERO;
            p.flags = RmiRecCreateFlags::RUNNABLE;
            p.mpidr = 0x0102;
            p.pc = 0x8_0000;
            p.gprs = [1, 2, 3, 4, 5, 6, 7, 8];
            p.num_aux = 3;
            p.aux[0] = 0x9000_0000;

            // B4.4.19: flags @0, mpidr @0x100, pc @0x200, gprs @0x300 (8 x u64); num_aux and
            // aux @0x800.. are not measured.
            let mut page = [0u8; 4096];
            page[0x000..0x008].copy_from_slice(&1u64.to_le_bytes());
            page[0x200..0x208].copy_from_slice(&0x8_0000u64.to_le_bytes());
            for (i, g) in (1u64..=8).enumerate() {
                page[0x300 + 8 * i..0x308 + 8 * i].copy_from_slice(&g.to_le_bytes());
            }
            let mut d = header(1, &rim);
            d[0x50..0x90].copy_from_slice(&reference(algo, &page));
            assert_eq!(extend_rec(algo, &rim, &p), reference(algo, &d), "{algo:?}");
        }
    }

    #[test]
    fn extend_ripas_builds_the_c1_13_descriptor() {
        for algo in ALGOS {
            let rim = pattern(3);
            let mut d = header(2, &rim);
            d[0x50..0x58].copy_from_slice(&0x20_0000u64.to_le_bytes());
            d[0x58..0x60].copy_from_slice(&0x20_3000u64.to_le_bytes());
            assert_eq!(
                extend_ripas(algo, &rim, 0x20_0000, 0x20_3000),
                reference(algo, &d),
                "{algo:?}"
            );
        }
    }

    /// The chain of RIPAS descriptors for `entries` (base, top) pairs, from `rim`.
    fn ripas_chain(algo: HashAlgo, rim: [u8; 64], entries: &[(u64, u64)]) -> [u8; 64] {
        entries.iter().fold(rim, |rim, &(base, top)| {
            let mut d = header(2, &rim);
            d[0x50..0x58].copy_from_slice(&base.to_le_bytes());
            d[0x58..0x60].copy_from_slice(&top.to_le_bytes());
            reference(algo, &d)
        })
    }

    #[test]
    fn extend_ripas_entries_measures_each_entry_clipped_to_top() {
        for algo in ALGOS {
            let rim = pattern(4);
            // Three level-3 pages.
            assert_eq!(
                extend_ripas_entries(algo, &rim, 0x1000, 0x4000, 0x1000),
                ripas_chain(
                    algo,
                    rim,
                    &[(0x1000, 0x2000), (0x2000, 0x3000), (0x3000, 0x4000)]
                ),
                "{algo:?} pages"
            );
            // Two level-2 blocks, the second cut short by `top`.
            assert_eq!(
                extend_ripas_entries(algo, &rim, 0x20_0000, 0x60_0000 - 0x10_0000, 0x20_0000),
                ripas_chain(algo, rim, &[(0x20_0000, 0x40_0000), (0x40_0000, 0x50_0000)]),
                "{algo:?} blocks"
            );
            // An empty range leaves the RIM alone.
            assert_eq!(
                extend_ripas_entries(algo, &rim, 0x5000, 0x5000, 0x1000),
                rim
            );
            assert_eq!(extend_ripas_entries(algo, &rim, 0x5000, 0x6000, 0), rim);
        }
    }

    #[test]
    fn extend_rem_hashes_the_old_digest_and_size_bytes_of_the_value() {
        let value = pattern(5);
        let old = pattern(6);
        for size in [0u64, 1, 31, 32, 33, 63, 64] {
            let n = size as usize;
            let mut input = old[..32].to_vec();
            input.extend_from_slice(&value[..n]);
            assert_eq!(
                extend_rem(HashAlgo::Sha256, &old, &value, size),
                Some(reference(HashAlgo::Sha256, &input)),
                "SHA-256 size {size}"
            );
            let mut input = old.to_vec();
            input.extend_from_slice(&value[..n]);
            assert_eq!(
                extend_rem(HashAlgo::Sha512, &old, &value, size),
                Some(reference(HashAlgo::Sha512, &input)),
                "SHA-512 size {size}"
            );
        }
        for algo in ALGOS {
            for size in [65, 4096, u64::MAX] {
                assert_eq!(
                    extend_rem(algo, &old, &value, size),
                    None,
                    "{algo:?} {size}"
                );
            }
        }
    }
}
