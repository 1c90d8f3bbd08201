//! The host's measurement code against bytes laid out here by hand from the spec's offsets,
//! hashed with `sha2` directly, and against digests pinned from an outside implementation
//! (Python's `hashlib`) for one whole build of a small realm.

use super::*;
use hostcall_abi::realm_params::RmiRealmFlags;
use hostcall_abi::rec_params::RmiRecCreateFlags;
use hostcall_abi::wire::Wire;

const ALGOS: [Algo; 2] = [Algo::Sha256, Algo::Sha512];

/// `sha2` over `bytes`, zero-extended to 64 bytes.
fn reference(algo: Algo, bytes: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    match algo {
        Algo::Sha256 => out[..32].copy_from_slice(&Sha256::digest(bytes)),
        Algo::Sha512 => out.copy_from_slice(&Sha512::digest(bytes)),
    }
    out
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The realm parameters `realm_build::realm_params` uses, with `algo`.
fn params(algo: Algo) -> RmiRealmParams {
    let mut p = crate::realm_build::realm_params(4, 0x8800_0000);
    p.hash_algo = algo as u8;
    p
}

/// A 0x100-byte descriptor header: type, len, the current RIM.
fn header(desc_type: u8, rim: &[u8; 64]) -> [u8; 0x100] {
    let mut d = [0u8; 0x100];
    d[0] = desc_type;
    d[8..16].copy_from_slice(&0x100u64.to_le_bytes());
    d[0x10..0x50].copy_from_slice(rim);
    d
}

#[test]
fn digests_are_zero_extended_fips_values() {
    let m = digest(Algo::Sha256, b"abc");
    assert_eq!(
        m.0[..32],
        unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")[..]
    );
    assert_eq!(m.0[32..], [0; 32]);
    assert_eq!(
        digest(Algo::Sha512, b"abc").0[..8],
        unhex("ddaf35a193617aba")[..]
    );
    assert_eq!(Algo::from_encoding(0), Some(Algo::Sha256));
    assert_eq!(Algo::from_encoding(1), Some(Algo::Sha512));
    assert_eq!(Algo::from_encoding(2), None);
}

#[test]
fn words_are_little_endian_doublewords_in_order() {
    let m = Measurement(core::array::from_fn(|i| i as u8));
    let w = m.words();
    assert_eq!(w[0], 0x0706_0504_0302_0100);
    assert_eq!(w[7], 0x3F3E_3D3C_3B3A_3938);
    assert_eq!(Measurement::from_words(&w), m);
    assert_eq!(m.prefix(), 0x0001_0203_0405_0607);
}

#[test]
fn initial_rim_hashes_the_measured_realm_params_page() {
    for algo in ALGOS {
        let mut p = params(algo);
        p.flags = RmiRealmFlags::SVE | RmiRealmFlags::PMU;
        p.sve_vl = 2;
        p.pmu_num_ctrs = 3;
        p.rpv = [0x77; 64]; // not measured, nor vmid, rtt_base, rtt_level_start, rtt_num_start
                            // B4.4.12 offsets: flags u64 @0, then one byte every 8 from 0x8 to 0x30.
        let mut page = [0u8; 4096];
        page[0] = 0b110;
        page[0x08] = 40;
        page[0x10] = 2;
        page[0x18] = 1;
        page[0x20] = 1;
        page[0x28] = 3;
        page[0x30] = algo as u8;
        let b = RimBuilder::new(&p).expect("algo");
        assert_eq!(b.value().0, reference(algo, &page), "{algo:?}");
        assert_eq!(b.descriptors(), 0);
        assert_eq!(b.algo(), algo);
        // The ABI crate's own measured image hashes the same.
        let mut abi = [0u8; 4096];
        p.measured().encode(&mut abi).expect("one page");
        assert_eq!(abi, page, "{algo:?}");
    }
    let mut p = params(Algo::Sha256);
    p.hash_algo = 2;
    assert_eq!(RimBuilder::new(&p), None);
}

#[test]
fn data_descriptor_carries_ipa_flags_and_content_hash() {
    for algo in ALGOS {
        let contents = [0x3Cu8; 4096];
        for flags in [0u64, 1] {
            let mut b = RimBuilder::new(&params(algo)).expect("algo");
            let rim = b.value().0;
            b.data(0x7000, flags, &contents);
            let mut d = header(0, &rim);
            d[0x50..0x58].copy_from_slice(&0x7000u64.to_le_bytes());
            d[0x58..0x60].copy_from_slice(&flags.to_le_bytes());
            if flags == 1 {
                d[0x60..0xA0].copy_from_slice(&reference(algo, &contents));
            }
            assert_eq!(b.value().0, reference(algo, &d), "{algo:?} flags {flags}");
            assert_eq!(b.descriptors(), 1);
        }
    }
}

#[test]
fn rec_descriptor_hashes_flags_pc_and_gprs_only() {
    for algo in ALGOS {
        let mut p = RmiRecParams::ZERO;
        p.flags = RmiRecCreateFlags::RUNNABLE;
        p.mpidr = 0x0001_0203; // not measured, nor num_aux and aux
        p.pc = 0x4_0000;
        p.gprs = [9, 8, 7, 6, 5, 4, 3, 2];
        p.num_aux = 2;
        p.aux[..2].copy_from_slice(&[0x9000_0000, 0x9000_1000]);
        // B4.4.19 offsets: flags @0, pc @0x200, gprs @0x300.
        let mut page = [0u8; 4096];
        page[0] = 1;
        page[0x200..0x208].copy_from_slice(&0x4_0000u64.to_le_bytes());
        for (i, g) in [9u64, 8, 7, 6, 5, 4, 3, 2].iter().enumerate() {
            page[0x300 + 8 * i..0x308 + 8 * i].copy_from_slice(&g.to_le_bytes());
        }
        let mut b = RimBuilder::new(&params(algo)).expect("algo");
        let rim = b.value().0;
        b.rec(&p);
        let mut d = header(1, &rim);
        d[0x50..0x90].copy_from_slice(&reference(algo, &page));
        assert_eq!(b.value().0, reference(algo, &d), "{algo:?}");
        let mut abi = [0u8; 4096];
        p.measured().encode(&mut abi).expect("one page");
        assert_eq!(abi, page, "{algo:?}");
    }
}

#[test]
fn init_ripas_folds_one_descriptor_per_entry() {
    for algo in ALGOS {
        // Level 3: three pages.
        let mut b = RimBuilder::new(&params(algo)).expect("algo");
        let mut rim = b.value().0;
        assert!(b.init_ripas(0x3000, 0x6000, 3));
        for base in [0x3000u64, 0x4000, 0x5000] {
            let mut d = header(2, &rim);
            d[0x50..0x58].copy_from_slice(&base.to_le_bytes());
            d[0x58..0x60].copy_from_slice(&(base + 0x1000).to_le_bytes());
            rim = reference(algo, &d);
        }
        assert_eq!(b.value().0, rim, "{algo:?} level 3");
        assert_eq!(b.descriptors(), 3);

        // Level 2: one whole block, then one cut short at `top`.
        let mut b = RimBuilder::new(&params(algo)).expect("algo");
        let mut rim = b.value().0;
        assert!(b.init_ripas(0x20_0000, 0x48_0000, 2));
        for (base, top) in [(0x20_0000u64, 0x40_0000u64), (0x40_0000, 0x48_0000)] {
            let mut d = header(2, &rim);
            d[0x50..0x58].copy_from_slice(&base.to_le_bytes());
            d[0x58..0x60].copy_from_slice(&top.to_le_bytes());
            rim = reference(algo, &d);
        }
        assert_eq!(b.value().0, rim, "{algo:?} level 2");

        // Nothing to do, and no such level.
        let before = b;
        assert!(b.init_ripas(0x9000, 0x9000, 3));
        assert!(!b.init_ripas(0, 0x1000, 4));
        assert!(!b.init_ripas(0, 0x1000, -2));
        assert_eq!(b, before);
    }
    assert_eq!(rtt_entry_bytes(3), Some(0x1000));
    assert_eq!(rtt_entry_bytes(2), Some(0x20_0000));
    assert_eq!(rtt_entry_bytes(1), Some(0x4000_0000));
    assert_eq!(rtt_entry_bytes(-1), Some(1 << 48));
}

#[test]
fn rem_extension_hashes_the_old_digest_then_the_value() {
    let old = Measurement(core::array::from_fn(|i| 0x80 | i as u8));
    let value: [u8; 64] = core::array::from_fn(|i| i as u8 ^ 0x5A);
    for n in [0usize, 1, 32, 48, 64] {
        let mut input = old.0[..32].to_vec();
        input.extend_from_slice(&value[..n]);
        assert_eq!(
            rem_extend(Algo::Sha256, &old, &value[..n]).map(|m| m.0),
            Some(reference(Algo::Sha256, &input)),
            "SHA-256 size {n}"
        );
        let mut input = old.0.to_vec();
        input.extend_from_slice(&value[..n]);
        assert_eq!(
            rem_extend(Algo::Sha512, &old, &value[..n]).map(|m| m.0),
            Some(reference(Algo::Sha512, &input)),
            "SHA-512 size {n}"
        );
    }
    assert_eq!(rem_extend(Algo::Sha256, &old, &[0; 65]), None);
}

/// A small realm built end to end, against digests computed outside Rust (`hashlib`): the
/// params of `realm_build::realm_params`; DATA at 0 (100 bytes of 0xAA, measured) and at 0x1000
/// (unmeasured); a runnable REC with flags 1, pc 0x80, x0 = 7; INIT_RIPAS [0, 0x3000) at level
/// 3. And REM extension of a zero REM with 48 bytes of "0123456789abcdef" x 3.
#[test]
fn whole_build_matches_an_outside_implementation() {
    let expected = [
        (
            Algo::Sha256,
            "045cb3602843a6845cb710fbbfbb92f0c7d611afe0106ac2953e46950a70c42b",
            "4edc2633f068fcf5e6cc5f799c3822198890182daecba992a6e31eea4b86e25e",
            "b0cc30bdd30531bf872a1529a22f50591ae9f4a71e825c3ab6fadd6ba21de153",
        ),
        (
            Algo::Sha512,
            "066e19aa2c3418dadc20ef31b5595907c612991952553e1e99731a677b5797c9\
             898dffb6e3963a20b8e1af6d136cd2fe6fe25f048577dc3d7e5bf3a79a4b1e81",
            "cb9480a451fe69df4752fd3a205f6e4a32866cff475048f6d6fa26f69b1a18aa\
             20764ae01af035fad308cc4157b25ace80033c3ebbc1eb0c87d67e566292cd66",
            "e0ed28eb6a77d5973d59d2c0f9376e8f429ff1a5e8c3c0b8769fdbdf73195695\
             0ccde518ea1cce50fd209854749b4f5379baf8e9deec35f471244af949791f3d",
        ),
    ];
    for (algo, init, chain, rem) in expected {
        let n = algo.digest_bytes();
        let mut b = RimBuilder::new(&params(algo)).expect("algo");
        assert_eq!(b.value().0[..n], unhex(init)[..], "{algo:?} init");
        let mut page = [0u8; 4096];
        page[..100].fill(0xAA);
        b.data(0, 1, &page);
        b.data(0x1000, 0, &[0xFF; 4096]);
        let mut p = RmiRecParams::ZERO;
        p.flags = RmiRecCreateFlags::RUNNABLE;
        p.pc = 0x80;
        p.gprs[0] = 7;
        p.mpidr = 0x100;
        b.rec(&p);
        assert!(b.init_ripas(0, 0x3000, 3));
        assert_eq!(b.value().0[..n], unhex(chain)[..], "{algo:?} chain");
        assert!(b.value().0[n..].iter().all(|&x| x == 0));
        assert_eq!(b.descriptors(), 6);
        let v = b"0123456789abcdef0123456789abcdef0123456789abcdef";
        let r = rem_extend(algo, &Measurement::ZERO, v).expect("48 bytes");
        assert_eq!(r.0[..n], unhex(rem)[..], "{algo:?} rem");
    }
}
