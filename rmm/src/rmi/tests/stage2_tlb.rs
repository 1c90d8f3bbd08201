//! Stage-2 TLB maintenance, against the simulated MMU (`sim::mmu`): a realm on simulated CPU 1
//! uses a translation, which that CPU caches; the host changes the RTTs through the RMI on CPU 0;
//! the realm's next access must see the change. After every command no cached translation may
//! outlive the RTT entry behind it, and the simulated memory refuses to wipe a granule some TLB
//! still leads into. One test per RMI path that removes or changes a valid entry.

use std::sync::mpsc;

use hostcall_abi::rtt::Ripas;
use hostcall_abi::GRANULE_SIZE;

use super::realm_fixture::*;
use crate::sim::{Fault, Invalidation, IRQ_EXIT, QEMU_RMM_REGION};
use crate::tlb::MAX_IPA_INVALIDATIONS;

/// The simulated CPU the realm runs on (the host calls on CPU 0).
const REALM_CPU: usize = 1;

/// An NS page descriptor as the host passes it: Normal Write-Back, read/write.
const WB_RW: u64 = (0b110 << 2) | (0b11 << 6);

/// The first 8 bytes of the fixture's DATA page at `ipa`.
fn first_word(ipa: u64) -> u64 {
    u64::from_le_bytes(Fixture::pattern(ipa)[..8].try_into().expect("8 bytes"))
}

/// No cached translation is left that the RTTs do not back.
#[track_caller]
fn assert_coherent(fx: &Fixture) {
    let stale = fx.sim.mem.stale_translations();
    assert!(
        stale.is_empty(),
        "translations cached after the RTTs changed (missing TLB invalidation): {stale:#x?}"
    );
}

/// A second realm (VMID 2) with a level-3 RTT at `ipa`; returns its RD.
fn other_realm(fx: &Fixture, ipa: u64) -> u64 {
    let rd = fx.create_realm(0x9000_0000, 0x9000_2000, 2);
    let l2 = fx.delegated();
    fx.ok(C::RTT_CREATE, &[rd, l2, ipa & !(L1 - 1), 2]);
    let l3 = fx.delegated();
    fx.ok(C::RTT_CREATE, &[rd, l3, ipa & !(L2 - 1), 3]);
    rd
}

#[test]
fn data_destroy_invalidates_the_page_before_the_granule_is_reused() {
    let fx = Fixture::new();
    fx.tables(0);
    let x = 5 * G;
    let data = fx.data_create(x);
    let realm = fx.sim.guest(REALM_CPU, fx.rd);
    assert_eq!(realm.read_u64(x), Ok(first_word(x)));

    fx.sim.mem.tlbs().take_log();
    assert_eq!(fx.ok(C::DATA_DESTROY, &[fx.rd, x])[0], data);
    assert_eq!(
        fx.sim.mem.tlbs().take_log(),
        [Invalidation::Ipas {
            vmid: 1,
            first: x,
            stride: 0,
            count: 1
        }]
    );
    assert_coherent(&fx);
    assert_eq!(realm.read_u64(x), Err(Fault::Translation(3)));

    // The granule becomes DATA of another realm: still out of the first realm's reach.
    let rd2 = other_realm(&fx, 0);
    let src = fx.ns_page(&[0x77; GRANULE_SIZE]);
    fx.ok(C::DATA_CREATE, &[rd2, data, x, src, 0]);
    assert_eq!(realm.read_u64(x), Err(Fault::Translation(3)));
    assert_eq!(realm.write_u64(x, 1), Err(Fault::Translation(3)));
    assert_eq!(fx.sim.mem.read(data), [0x77; GRANULE_SIZE]);
}

/// The audit's exploit, end to end: a REC runs on CPU 1 and has touched its page X; the host on
/// CPU 0, while it still runs, destroys X and makes X's granule a level-3 RTT of the same realm;
/// the realm then writes a page descriptor for the RMM's own memory through its old translation
/// of X and reads the IPA that descriptor would map. Without TLB maintenance it reads the RMM.
#[test]
fn a_realm_racing_data_destroy_cannot_forge_its_own_tables() {
    const X: u64 = 5 * G;
    /// Mapped by the level-3 RTT the host builds from X's granule, index 0 of it.
    const Y: u64 = 3 * L2;
    let secret_pa = QEMU_RMM_REGION.0 + 0x10_0000;
    // Page descriptor: the secret page, Normal WB (FWB), read/write, Inner Shareable, AF.
    let forged = secret_pa | 0b11 | (0b0110 << 2) | (0b11 << 6) | (0b11 << 8) | (1 << 10);

    let r = Running::prepared(|fx| {
        fx.data_create(X);
    });
    let fx = &r.fx;
    fx.sim.mem.write(secret_pa, &[0x5E; GRANULE_SIZE]);
    // Let the realm use a stale translation if one survives, rather than stop at the wipe.
    fx.sim.mem.set_wipe_check(false);
    let cpu1 = fx.sim.new_cpu(REALM_CPU);
    let (touched_tx, touched) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let (seen_tx, seen) = mpsc::channel();
    cpu1.script_guest(move |_, realm| {
        touched_tx.send(realm.read_u64(X)).expect("host waits");
        go_rx.recv().expect("host says go");
        let wrote = realm.write_u64(X, forged);
        seen_tx
            .send((wrote, realm.read_u64(Y)))
            .expect("host waits");
        IRQ_EXIT
    });
    let sim = &fx.sim;
    let (rd, rec, run) = (fx.rd, r.rec, r.run);
    std::thread::scope(|s| {
        let realm_cpu = s.spawn(|| sim.call_on(&cpu1, C::REC_ENTER.fid() as u64, &[rec, run]));
        assert_eq!(touched.recv().expect("realm ran"), Ok(first_word(X)));
        let out = sim.call(C::DATA_DESTROY.fid() as u64, &[rd, X]);
        assert_eq!(out[0], SUCCESS);
        let granule = out[1];
        let out = sim.call(C::RTT_CREATE.fid() as u64, &[rd, granule, Y, 3]);
        assert_eq!(out[0], SUCCESS, "X's granule is now a level-3 RTT");
        go.send(()).expect("realm waits");
        let (wrote, read) = seen.recv().expect("realm reports");
        assert_eq!(wrote, Err(Fault::Translation(3)), "the write to X lands");
        assert_eq!(read, Err(Fault::Translation(3)), "Y maps the RMM's memory");
        assert_eq!(realm_cpu.join().expect("no panic")[0], SUCCESS);
    });
    assert!(fx.sim.mem.unsafe_wipes().is_empty());
    assert_coherent(fx);
}

#[test]
fn rtt_destroy_invalidates_the_walks_through_the_table() {
    let fx = Fixture::new();
    let (_, l3) = fx.tables(0);
    let x = 7 * G;
    let realm = fx.sim.guest(REALM_CPU, fx.rd);
    // Nothing at X, but the walk to find that out went through the level-2 entry to `l3`.
    assert_eq!(realm.read_u64(x), Err(Fault::Translation(3)));
    fx.sim.mem.set_wipe_check(false);
    assert_eq!(fx.ok(C::RTT_DESTROY, &[fx.rd, 0, 3])[0], l3);
    assert_coherent(&fx);
    // The table granule becomes the level-3 RTT of another 2 MiB, with a page at X's index.
    let z = L2 + x;
    fx.ok(C::RTT_CREATE, &[fx.rd, l3, L2, 3]);
    fx.data_create(z);
    assert_eq!(realm.read_u64(z), Ok(first_word(z)));
    // A walk cache that still sent X through `l3` would find Z's page.
    assert_eq!(realm.read_u64(x), Err(Fault::Translation(2)));
    assert!(fx.sim.mem.unsafe_wipes().is_empty());
}

/// An unprotected RTT that still maps NS pages is not live (A5.5.8), so RTT_DESTROY takes it
/// with its mappings: they must go from every TLB too. (The property test found this one.)
#[test]
fn rtt_destroy_of_an_unprotected_table_invalidates_the_ns_pages_it_mapped() {
    let fx = Fixture::new();
    let (_, l3) = fx.tables(UNPROTECTED);
    let u = UNPROTECTED + 4 * G;
    let ns = fx.ns_page(&[0x33; GRANULE_SIZE]);
    fx.ok(C::RTT_MAP_UNPROTECTED, &[fx.rd, u, 3, ns | WB_RW]);
    let realm = fx.sim.guest(REALM_CPU, fx.rd);
    assert_eq!(realm.read_u64(u), Ok(0x3333_3333_3333_3333));
    assert_eq!(fx.ok(C::RTT_DESTROY, &[fx.rd, UNPROTECTED, 3])[0], l3);
    assert_coherent(&fx);
    assert_eq!(realm.read_u64(u), Err(Fault::Translation(2)));
}

/// 512 contiguous DATA pages at `[L1, L1 + 2 MiB)` in a level-3 RTT; returns (the RTT, base).
fn data_block(fx: &Fixture) -> (u64, u64) {
    let (_, l3) = fx.tables(L1);
    let base = fx.delegated_run(512, L2);
    for i in 0..512 {
        fx.data_create_at(base + i * G, L1 + i * G);
    }
    (l3, base)
}

#[test]
fn rtt_fold_breaks_before_it_makes_the_block() {
    let fx = Fixture::new();
    let (l3, _) = data_block(&fx);
    let realm = fx.sim.guest(REALM_CPU, fx.rd);
    for i in [0, 9, 511] {
        assert_eq!(realm.read_u64(L1 + i * G), Ok(first_word(L1 + i * G)));
    }
    fx.sim.mem.tlbs().take_log();
    assert_eq!(fx.ok(C::RTT_FOLD, &[fx.rd, L1, 3])[0], l3);
    // 512 pages are more than one invalidation per IPA is worth: the whole VMID.
    const { assert!(512 > MAX_IPA_INVALIDATIONS) };
    assert_eq!(fx.sim.mem.tlbs().take_log(), [Invalidation::Vmid(1)]);
    assert_coherent(&fx);
    // The same data, now through the block; the old table granule is out of reach.
    for i in [0, 9, 511] {
        let t = realm.translate(L1 + i * G, false).expect("mapped");
        assert_eq!(t.level, 2);
        assert_eq!(realm.read_u64(L1 + i * G), Ok(first_word(L1 + i * G)));
    }
    assert!(fx.sim.mem.tlbs().references(l3).is_empty());
}

#[test]
fn rtt_fold_of_an_unmapped_table_invalidates_its_walks() {
    let fx = Fixture::new();
    let (_, l3) = fx.tables(0);
    let realm = fx.sim.guest(REALM_CPU, fx.rd);
    assert_eq!(realm.read_u64(3 * G), Err(Fault::Translation(3)));
    fx.sim.mem.tlbs().take_log();
    assert_eq!(fx.ok(C::RTT_FOLD, &[fx.rd, 0, 3])[0], l3);
    assert_eq!(
        fx.sim.mem.tlbs().take_log(),
        [Invalidation::Ipas {
            vmid: 1,
            first: 0,
            stride: 0,
            count: 1
        }]
    );
    assert_coherent(&fx);
    assert_eq!(realm.read_u64(3 * G), Err(Fault::Translation(2)));
}

#[test]
fn rtt_create_under_a_mapped_block_breaks_before_it_makes_the_table() {
    let fx = Fixture::new();
    let (_, base) = data_block(&fx);
    fx.ok(C::RTT_FOLD, &[fx.rd, L1, 3]);
    let realm = fx.sim.guest(REALM_CPU, fx.rd);
    assert_eq!(realm.translate(L1 + 9 * G, false).map(|t| t.level), Ok(2));
    fx.sim.mem.tlbs().take_log();
    let l3 = fx.rtt_create(L1, 3);
    // The block's cached translation is gone before the table is written (a 2 MiB entry and
    // 4 KiB entries for the same IPAs must never be cached together).
    assert_eq!(
        fx.sim.mem.tlbs().take_log(),
        [Invalidation::Ipas {
            vmid: 1,
            first: L1,
            stride: 0,
            count: 1
        }]
    );
    assert_coherent(&fx);
    let t = realm.translate(L1 + 9 * G, false).expect("mapped");
    assert_eq!((t.level, t.pa), (3, base + 9 * G));
    // And a page of it can now go, out of the realm's reach at once.
    assert_eq!(
        fx.ok(C::DATA_DESTROY, &[fx.rd, L1 + 9 * G])[0],
        base + 9 * G
    );
    assert_eq!(realm.read_u64(L1 + 9 * G), Err(Fault::Translation(3)));
    assert!(fx.sim.mem.tlbs().references(l3).iter().all(|e| !e.leaf));
}

#[test]
fn rtt_unmap_unprotected_invalidates_the_ns_page() {
    let fx = Fixture::new();
    fx.tables(UNPROTECTED);
    let u = UNPROTECTED + 4 * G;
    let ns = fx.ns_page(&[0x11; GRANULE_SIZE]);
    fx.ok(C::RTT_MAP_UNPROTECTED, &[fx.rd, u, 3, ns | WB_RW]);
    let realm = fx.sim.guest(REALM_CPU, fx.rd);
    assert_eq!(realm.read_u64(u), Ok(0x1111_1111_1111_1111));
    fx.ok(C::RTT_UNMAP_UNPROTECTED, &[fx.rd, u, 3]);
    assert_coherent(&fx);
    // The host takes its page back for something else.
    fx.sim.mem.write(ns, &[0x22; GRANULE_SIZE]);
    assert_eq!(realm.read_u64(u), Err(Fault::Translation(3)));
    assert_eq!(realm.write_u64(u, 0), Err(Fault::Translation(3)));
    assert_eq!(fx.sim.mem.read(ns), [0x22; GRANULE_SIZE]);
}

#[test]
fn rtt_set_ripas_to_empty_invalidates_the_pages_it_unmaps() {
    let fx = Fixture::new();
    fx.tables(0);
    let (a, b) = (2 * G, 3 * G);
    let data_a = fx.data_create(a);
    fx.data_create(b);
    let rec = fx.rec_create(fx.rd);
    fx.activate();
    let realm = fx.sim.guest(REALM_CPU, fx.rd);
    assert_eq!(realm.read_u64(a), Ok(first_word(a)));
    assert_eq!(realm.read_u64(b), Ok(first_word(b)));
    fx.request_ripas(rec, a, b + G, Ripas::Empty, false);
    fx.sim.mem.tlbs().take_log();
    assert_eq!(fx.ok(C::RTT_SET_RIPAS, &[fx.rd, rec, a, b + G])[0], b + G);
    assert_eq!(
        fx.sim.mem.tlbs().take_log(),
        [Invalidation::Ipas {
            vmid: 1,
            first: a,
            stride: G,
            count: 2
        }]
    );
    assert_coherent(&fx);
    assert_eq!(realm.read_u64(a), Err(Fault::Translation(3)));
    assert_eq!(realm.read_u64(b), Err(Fault::Translation(3)));
    // The entry is ASSIGNED but already invalid: DATA_DESTROY still invalidates before it hands
    // the granule back (the last point at which a stale translation must be gone).
    assert_eq!(fx.ok(C::DATA_DESTROY, &[fx.rd, a])[0], data_a);
    assert_eq!(fx.sim.mem.tlbs().take_log().len(), 1);
    assert_eq!(realm.read_u64(a), Err(Fault::Translation(3)));
}

#[test]
fn rtt_set_ripas_to_ram_needs_no_invalidation() {
    let fx = Fixture::new();
    fx.tables(0);
    let rec = fx.rec_create(fx.rd);
    fx.activate();
    fx.request_ripas(rec, 0, 4 * G, Ripas::Ram, true);
    fx.sim.mem.tlbs().take_log();
    fx.ok(C::RTT_SET_RIPAS, &[fx.rd, rec, 0, 4 * G]);
    assert_eq!(fx.sim.mem.tlbs().take_log(), []);
}

#[test]
fn realm_destroy_invalidates_its_vmid_before_the_vmid_is_free() {
    let fx = Fixture::new();
    let rd2 = fx.create_realm(0x9000_0000, 0x9000_2000, 5);
    let realm = fx.sim.guest(REALM_CPU, rd2);
    assert_eq!(realm.read_u64(0), Err(Fault::Translation(1)));
    fx.sim.mem.tlbs().take_log();
    fx.ok(C::REALM_DESTROY, &[rd2]);
    assert_eq!(fx.sim.mem.tlbs().take_log(), [Invalidation::Vmid(5)]);
    assert!(fx.sim.mem.tlbs().cached().iter().all(|e| e.vmid != 5));
    // The VMID can be claimed again at once.
    fx.create_realm(0x9100_0000, 0x9100_2000, 5);
}

#[test]
fn commands_that_only_map_invalidate_nothing() {
    let fx = Fixture::new();
    fx.sim.mem.tlbs().take_log();
    fx.tables(0);
    fx.data_create(0);
    fx.tables(UNPROTECTED);
    let ns = fx.ns_page(&[0; GRANULE_SIZE]);
    fx.ok(C::RTT_MAP_UNPROTECTED, &[fx.rd, UNPROTECTED, 3, ns | WB_RW]);
    fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, G, 2 * G]);
    assert_eq!(fx.sim.mem.tlbs().take_log(), []);
}

/// The simulated memory itself: it refuses to wipe a granule a TLB still leads into, which is
/// what makes every test above fail if an invalidation is missing.
#[test]
#[should_panic(expected = "wiped while a CPU's TLB still leads into it")]
fn the_simulation_refuses_a_wipe_a_tlb_can_still_reach() {
    use crate::memory::GranuleMemory;
    let fx = Fixture::new();
    fx.tables(0);
    let data = fx.data_create(0);
    let realm = fx.sim.guest(REALM_CPU, fx.rd);
    realm.read_u64(0).expect("mapped");
    fx.sim.mem.wipe(data);
}
