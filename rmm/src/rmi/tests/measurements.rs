//! Realm measurements end to end: the RIM that RMI_REALM_CREATE seeds and RMI_DATA_CREATE,
//! RMI_REC_CREATE and RMI_RTT_INIT_RIPAS extend, and RSI_MEASUREMENT_READ / _EXTEND driven by a
//! scripted realm.
//!
//! Every expected measurement is computed here from the spec's byte offsets (C1.11–C1.13,
//! B4.4.12, B4.4.19), written out literally and hashed with `sha2` directly; nothing calls
//! `crate::measurement` to get an answer.

use hostcall_abi::realm_params::RmiRealmParams;
use hostcall_abi::rec_params::{rec_index_to_mpidr, RmiRecCreateFlags, RmiRecParams};
use hostcall_abi::wire::Wire;
use hostcall_abi::GRANULE_SIZE;
use sha2::{Digest, Sha256, Sha512};

use super::realm_fixture::*;
use crate::arch::{RealmExit, RealmRegs};
use crate::granule::GranuleState;
use crate::memory;
use crate::realm::Rd;
use crate::rec::AUX_GRANULES;
use crate::sim::SMC_EXIT;

const READ: u64 = 0xC400_0192;
const EXTEND: u64 = 0xC400_0193;
const RSI_SUCCESS: u64 = 0;
const RSI_ERROR_INPUT: u64 = 1;

/// The second realm's RD and starting tables (clear of the fixture's pools).
const RD2: u64 = 0x8020_0000;
const RTT2: u64 = 0x8020_2000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Algo {
    Sha256 = 0,
    Sha512 = 1,
}

/// The reference digest, zero-extended to 64 bytes.
fn h(algo: Algo, bytes: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    match algo {
        Algo::Sha256 => out[..32].copy_from_slice(&Sha256::digest(bytes)),
        Algo::Sha512 => out.copy_from_slice(&Sha512::digest(bytes)),
    }
    out
}

fn put(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// A descriptor: desc_type @0, len @8 (0x100), the current RIM @0x10.
fn descriptor(desc_type: u8, rim: &[u8; 64]) -> [u8; 0x100] {
    let mut d = [0u8; 0x100];
    d[0] = desc_type;
    put(&mut d, 0x08, 0x100);
    d[0x10..0x50].copy_from_slice(rim);
    d
}

/// RIM after DATA_CREATE (C1.11): ipa @0x50, flags @0x58, content @0x60.
fn data_step(algo: Algo, rim: [u8; 64], ipa: u64, flags: u64, page: &[u8]) -> [u8; 64] {
    let mut d = descriptor(0, &rim);
    put(&mut d, 0x50, ipa);
    put(&mut d, 0x58, flags);
    if flags & 1 != 0 {
        d[0x60..0xA0].copy_from_slice(&h(algo, page));
    }
    h(algo, &d)
}

/// RIM after REC_CREATE of a runnable REC (C1.12): content @0x50 = the hash of a 4 KiB page
/// with flags @0, pc @0x200, gprs @0x300 and nothing else.
fn rec_step(algo: Algo, rim: [u8; 64], flags: u64, pc: u64, gprs: &[u64; 8]) -> [u8; 64] {
    let mut page = [0u8; 4096];
    put(&mut page, 0x000, flags);
    put(&mut page, 0x200, pc);
    for (i, &g) in gprs.iter().enumerate() {
        put(&mut page, 0x300 + 8 * i, g);
    }
    let mut d = descriptor(1, &rim);
    d[0x50..0x90].copy_from_slice(&h(algo, &page));
    h(algo, &d)
}

/// RIM after one RIPAS descriptor (C1.13): base @0x50, top @0x58.
fn ripas_step(algo: Algo, rim: [u8; 64], base: u64, top: u64) -> [u8; 64] {
    let mut d = descriptor(2, &rim);
    put(&mut d, 0x50, base);
    put(&mut d, 0x58, top);
    h(algo, &d)
}

/// The initial RIM of a realm created by [`realm_params`]: a 4 KiB page holding s2sz @8,
/// num_bps @0x18, num_wps @0x20 and hash_algo @0x30 (flags, sve_vl, pmu_num_ctrs zero).
fn initial_rim(algo: Algo) -> [u8; 64] {
    let mut page = [0u8; 4096];
    page[0x08] = 40;
    page[0x18] = 1;
    page[0x20] = 1;
    page[0x30] = algo as u8;
    h(algo, &page)
}

/// A 40-bit realm from level 1 (two starting tables), with unmeasured fields set.
fn realm_params(algo: Algo, vmid: u16, rtt_base: u64) -> RmiRealmParams {
    let mut p = RmiRealmParams::ZERO;
    p.s2sz = 40;
    p.num_bps = 1;
    p.num_wps = 1;
    p.hash_algo = algo as u8;
    p.rpv = [0xA5; 64];
    p.vmid = vmid;
    p.rtt_base = rtt_base;
    p.rtt_level_start = 1;
    p.rtt_num_start = 2;
    p
}

fn ns_encoded<T: Wire>(fx: &Fixture, value: &T) -> u64 {
    let mut page = [0u8; GRANULE_SIZE];
    value.encode(&mut page).expect("one granule");
    fx.ns_page(&page)
}

/// The RD at `rd`, copied out under its lock.
fn rd_of(fx: &Fixture, rd: u64) -> Rd {
    let mut g = fx.sim.granules.lock(rd, GranuleState::Rd).expect("an RD");
    memory::get::<Rd>(&fx.sim.mem, &mut g).clone()
}

/// A page whose contents depend on `seed`.
fn page(seed: u8) -> [u8; GRANULE_SIZE] {
    core::array::from_fn(|i| (i as u8).wrapping_mul(13) ^ seed)
}

/// A second realm on the fixture's monitor, built step by step with its RIM checked after each
/// step against the chain computed here.
struct Built {
    fx: Fixture,
    algo: Algo,
    rd: u64,
    /// Its runnable REC (index 0).
    rec: u64,
    /// The RIM expected now.
    rim: [u8; 64],
}

impl Built {
    #[track_caller]
    fn check(&self, what: &str) {
        assert_eq!(
            rd_of(&self.fx, self.rd).rim,
            self.rim,
            "{:?}: {what}",
            self.algo
        );
    }

    fn rtt(&self, ipa: u64, level: i64) {
        let t = self.fx.delegated();
        self.fx.ok(C::RTT_CREATE, &[self.rd, t, ipa, lvl(level)]);
    }

    fn data(&mut self, ipa: u64, flags: u64, seed: u8) {
        let contents = page(seed);
        let src = self.fx.ns_page(&contents);
        let data = self.fx.delegated();
        self.fx
            .ok(C::DATA_CREATE, &[self.rd, data, ipa, src, flags]);
        self.rim = data_step(self.algo, self.rim, ipa, flags, &contents);
        self.check(&format!("DATA_CREATE {ipa:#x} flags {flags}"));
    }

    fn rec(&mut self, index: u64, runnable: bool, pc: u64, gprs: [u64; 8]) -> u64 {
        let rec = self.fx.delegated();
        let mut p = RmiRecParams::ZERO;
        if runnable {
            p.flags = RmiRecCreateFlags::RUNNABLE;
        }
        p.mpidr = rec_index_to_mpidr(index).expect("small index");
        p.pc = pc;
        p.gprs = gprs;
        p.num_aux = AUX_GRANULES;
        for slot in p.aux.iter_mut().take(AUX_GRANULES as usize) {
            *slot = self.fx.delegated();
        }
        let params = ns_encoded(&self.fx, &p);
        self.fx.ok(C::REC_CREATE, &[self.rd, rec, params]);
        if runnable {
            self.rim = rec_step(self.algo, self.rim, 1, pc, &gprs);
        }
        self.check(&format!("REC_CREATE {index} runnable {runnable}"));
        rec
    }

    /// INIT_RIPAS over `[base, top)`; the walk ends at a level whose entries map `entry` bytes.
    fn init_ripas(&mut self, base: u64, top: u64, entry: u64) {
        let [out_top, ..] = self.fx.ok(C::RTT_INIT_RIPAS, &[self.rd, base, top]);
        assert_eq!(out_top, top, "the whole range in one call");
        let mut addr = base;
        while addr < top {
            self.rim = ripas_step(self.algo, self.rim, addr, (addr + entry).min(top));
            addr += entry;
        }
        self.check(&format!("INIT_RIPAS [{base:#x}, {top:#x})"));
    }

    /// A realm built with every kind of RIM extension, still NEW.
    fn new(algo: Algo) -> Self {
        let fx = Fixture::new();
        for pa in [RD2, RTT2, RTT2 + G] {
            fx.delegate(pa);
        }
        let params = ns_encoded(&fx, &realm_params(algo, 2, RTT2));
        fx.ok(C::REALM_CREATE, &[RD2, params]);
        let mut b = Self {
            fx,
            algo,
            rd: RD2,
            rec: 0,
            rim: initial_rim(algo),
        };
        b.check("REALM_CREATE");
        assert_eq!(rd_of(&b.fx, RD2).rems, [[0; 64]; 4], "REMs start at zero");

        b.rtt(0, 2);
        b.rtt(0, 3);
        b.check("RTT_CREATE measures nothing");
        b.data(0x3000, 1, 7);
        b.data(0x4000, 0, 8);
        b.data(0x5000, 1, 9);
        b.rec = b.rec(0, true, 0x3000, [1, 2, 3, 4, 5, 6, 7, 8]);
        b.rec(1, false, 0x4000, [9; 8]);
        b.rec(2, true, 0x5000, [0, 0, 0, 0, 0, 0, 0, u64::MAX]);
        // Level 3: three pages; level 2: two 2 MiB blocks; level 1: two 1 GiB blocks.
        b.init_ripas(0x10_000, 0x13_000, G);
        b.init_ripas(2 * L2, 4 * L2, L2);
        b.init_ripas(L1, 3 * L1, L1);
        b
    }

    /// Activates the realm and returns an NS RecRun page for its runnable REC.
    fn activate(&self) -> u64 {
        self.fx.ok(C::REALM_ACTIVATE, &[self.rd]);
        self.fx.ns_page(&[0; GRANULE_SIZE])
    }
}

#[test]
fn rim_chain_sha256() {
    Built::new(Algo::Sha256);
}

#[test]
fn rim_chain_sha512() {
    Built::new(Algo::Sha512);
}

#[test]
fn rim_of_the_two_algorithms_differs_and_the_fixture_realm_is_unaffected() {
    let a = Built::new(Algo::Sha256);
    let b = Built::new(Algo::Sha512);
    assert_ne!(a.rim, b.rim);
    assert_eq!(a.rim[32..], [0; 32], "a SHA-256 RIM is zero-extended");
    assert_ne!(b.rim[32..], [0; 32]);
    // The fixture's own realm saw none of the second realm's commands.
    assert_eq!(rd_of(&a.fx, RD).rim, initial_rim(Algo::Sha256));
}

#[test]
fn failed_commands_leave_the_rim_alone() {
    let b = Built::new(Algo::Sha256);
    let fx = &b.fx;
    let src = fx.ns_page(&page(1));
    // DATA_CREATE over an assigned page (rtte_state), and with a reserved flag.
    let data = fx.delegated();
    fx.fails(C::DATA_CREATE, &[b.rd, data, 0x3000, src, 1], rtt(3));
    fx.fails(C::DATA_CREATE, &[b.rd, data, 0x6000, src, 2], INPUT);
    // INIT_RIPAS starting at an assigned page.
    fx.fails(C::RTT_INIT_RIPAS, &[b.rd, 0x3000, 0x4000], rtt(3));
    // REC_CREATE with the wrong index.
    let rec = fx.delegated();
    let mut p = RmiRecParams::ZERO;
    p.flags = RmiRecCreateFlags::RUNNABLE;
    p.mpidr = rec_index_to_mpidr(7).expect("small");
    p.num_aux = AUX_GRANULES;
    for slot in p.aux.iter_mut().take(AUX_GRANULES as usize) {
        *slot = fx.delegated();
    }
    let params = ns_encoded(fx, &p);
    fx.fails(C::REC_CREATE, &[b.rd, rec, params], INPUT);
    b.check("after failures");
}

#[test]
fn rim_is_fixed_once_the_realm_is_active() {
    let b = Built::new(Algo::Sha512);
    b.activate();
    let fx = &b.fx;
    let src = fx.ns_page(&page(1));
    let data = fx.delegated();
    fx.fails(C::DATA_CREATE, &[b.rd, data, 0x6000, src, 1], REALM);
    fx.fails(C::RTT_INIT_RIPAS, &[b.rd, 0x20_000, 0x21_000], REALM);
    // DATA_CREATE_UNKNOWN is allowed while ACTIVE and measures nothing.
    fx.ok(C::DATA_CREATE_UNKNOWN, &[b.rd, data, 0x6000]);
    b.check("after activation");
}

// ---- RSI ------------------------------------------------------------------------------------

fn smc(regs: &mut RealmRegs, x: &[u64]) -> RealmExit {
    regs.gprs[..x.len()].copy_from_slice(x);
    SMC_EXIT
}

/// Runs `calls` as consecutive SMCs of the REC `rec` in one REC_ENTER (then an IRQ exit) and
/// returns the registers the realm saw after each call was answered.
fn rsi(fx: &Fixture, rec: u64, run: u64, calls: &[Vec<u64>]) -> Vec<RealmRegs> {
    let before = fx.sim.cpu.entries().len();
    for call in calls {
        let call = call.clone();
        fx.sim.cpu.script(move |regs| smc(regs, &call));
    }
    assert_eq!(fx.call(C::REC_ENTER, &[rec, run])[0], SUCCESS);
    let entries = fx.sim.cpu.entries();
    assert_eq!(
        entries.len(),
        before + calls.len() + 1,
        "every call answered"
    );
    entries[before + 1..].iter().map(|e| e.0).collect()
}

/// A measurement as RSI_MEASUREMENT_READ returns it: eight little-endian doublewords.
fn words(m: &[u8; 64]) -> [u64; 8] {
    core::array::from_fn(|i| u64::from_le_bytes(m[8 * i..8 * i + 8].try_into().unwrap()))
}

/// The bytes of a value passed in eight registers.
fn bytes(w: &[u64; 8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (i, v) in w.iter().enumerate() {
        put(&mut out, 8 * i, *v);
    }
    out
}

fn read(index: u64) -> Vec<u64> {
    vec![READ, index]
}

fn extend(index: u64, size: u64, value: &[u64; 8]) -> Vec<u64> {
    let mut v = vec![EXTEND, index, size];
    v.extend_from_slice(value);
    v
}

/// `RemExtend`: the hash of the old REM's digest bytes and the value's first `size` bytes.
fn rem_step(algo: Algo, old: [u8; 64], value: &[u64; 8], size: usize) -> [u8; 64] {
    let digest = match algo {
        Algo::Sha256 => 32,
        Algo::Sha512 => 64,
    };
    let mut input = old[..digest].to_vec();
    input.extend_from_slice(&bytes(value)[..size]);
    h(algo, &input)
}

#[test]
fn measurement_read_of_the_fixture_realm_gives_its_independent_rim() {
    // Running: REALM_CREATE (SHA-256), DATA at IPA 0 and HC_IPA unmeasured, one runnable REC
    // at PC 0 with zero registers.
    let r = Running::new();
    let mut rim = initial_rim(Algo::Sha256);
    rim = data_step(Algo::Sha256, rim, 0, 0, &[]);
    rim = data_step(Algo::Sha256, rim, HC_IPA, 0, &[]);
    rim = rec_step(Algo::Sha256, rim, 1, 0, &[0; 8]);
    let regs = rsi(&r.fx, r.rec, r.run, &[read(0), read(1), read(4)]);
    assert_eq!(regs[0].gprs[0], RSI_SUCCESS);
    assert_eq!(regs[0].gprs[1..9], words(&rim), "RIM in x1..x8");
    assert_eq!(regs[0].gprs[5..9], [0; 4], "SHA-256 upper half zero");
    for r in &regs[1..] {
        assert_eq!(r.gprs[..9], [0; 9], "a REM starts at zero");
    }
    assert_eq!(regs[2].pc, 12, "three SMCs stepped over");
}

#[test]
fn measurement_read_rejects_index_above_4() {
    let b = Built::new(Algo::Sha512);
    let run = b.activate();
    let regs = rsi(
        &b.fx,
        b.rec,
        run,
        &[read(5), read(6), read(u64::MAX), read(0)],
    );
    for r in &regs[..3] {
        assert_eq!(r.gprs[0], RSI_ERROR_INPUT);
        assert_eq!(r.gprs[1..9], [0; 8], "no measurement leaked on failure");
    }
    assert_eq!(regs[3].gprs[0], RSI_SUCCESS);
    assert_eq!(regs[3].gprs[1..9], words(&b.rim), "SHA-512 RIM read back");
}

/// Extends every REM with several sizes and reads each back after every extension.
fn extend_then_read(algo: Algo) {
    let b = Built::new(algo);
    let run = b.activate();
    let mut rems = [[0u8; 64]; 4];
    let value = [
        0x0102_0304_0506_0708,
        0x1112_1314_1516_1718,
        0x2122_2324_2526_2728,
        0x3132_3334_3536_3738,
        0x4142_4344_4546_4748,
        0x5152_5354_5556_5758,
        0x6162_6364_6566_6768,
        0x7172_7374_7576_7778,
    ];
    let plan: [(u64, u64); 7] = [(1, 64), (2, 32), (3, 1), (4, 0), (1, 33), (4, 63), (1, 64)];
    for (index, size) in plan {
        let regs = rsi(
            &b.fx,
            b.rec,
            run,
            &[
                extend(index, size, &value),
                read(1),
                read(2),
                read(3),
                read(4),
            ],
        );
        assert_eq!(regs[0].gprs[0], RSI_SUCCESS, "extend {index} {size}");
        let slot = index as usize - 1;
        rems[slot] = rem_step(algo, rems[slot], &value, size as usize);
        for (i, r) in regs[1..].iter().enumerate() {
            assert_eq!(r.gprs[0], RSI_SUCCESS);
            assert_eq!(
                r.gprs[1..9],
                words(&rems[i]),
                "{algo:?} REM {} after extend({index}, {size})",
                i + 1
            );
        }
    }
    assert_eq!(rd_of(&b.fx, b.rd).rems, rems);
    b.check("REMs never touch the RIM");
}

#[test]
fn measurement_extend_then_read_sha256() {
    extend_then_read(Algo::Sha256);
}

#[test]
fn measurement_extend_then_read_sha512() {
    extend_then_read(Algo::Sha512);
}

#[test]
fn measurement_extend_rejects_bad_index_and_size() {
    let b = Built::new(Algo::Sha256);
    let run = b.activate();
    let value = [0xAB; 8];
    let bad = [
        extend(0, 32, &value),
        extend(5, 32, &value),
        extend(u64::MAX, 32, &value),
        extend(1, 65, &value),
        extend(4, u64::MAX, &value),
        extend(0, 65, &value),
    ];
    let regs = rsi(&b.fx, b.rec, run, &bad);
    for (r, call) in regs.iter().zip(&bad) {
        assert_eq!(r.gprs[..4], [RSI_ERROR_INPUT, 0, 0, 0], "{call:x?}");
    }
    assert_eq!(regs.last().map(|r| r.pc), Some(0x3000 + 4 * 6));
    let rd = rd_of(&b.fx, b.rd);
    assert_eq!(rd.rems, [[0; 64]; 4], "nothing extended");
    b.check("the RIM is not a REM");
}
