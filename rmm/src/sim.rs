//! A simulated platform for host tests (feature `sim`, never in the image): an EL3 double that
//! keeps a GPT, sparse DRAM contents, and a monitor context over them. Tests that use it say so;
//! it models the behaviour of TF-A's RMMD GTSI calls, not their implementation.

mod mmu;
pub mod realm;

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hostcall_abi::el3::{El3Status, MemoryBank};
use hostcall_abi::AbiVersion;

use crate::arch::{EntryTraps, ExitClass, RealmCpu, RealmExit, RealmRegs, Stage2};
use crate::attestation::Attestation;
use crate::boot::{PlatformInfo, Rmm};
use crate::el3::El3;
use crate::features::{rmi_features, IdRegisters};
use crate::granule::GranuleTable;
use crate::memory::GranuleMemory;
use crate::ns::NsMemory;
use crate::rmi::{CallRegs, ResultRegs, RmiContext};
use crate::tlb::Stage2Tlb;
use crate::vmid::VmidSet;

pub use mmu::{Cached, Fault, Invalidation, Tlbs, Translation};

const PAGE: usize = hostcall_abi::GRANULE_SIZE;

/// The hash of the granule addresses that key the simulated memory and GPT: one multiply
/// (Fibonacci hashing) with the high half folded into the low one, where the buckets are
/// chosen. SipHash, the default, took a tenth of a fuzzer's time; nothing here needs its
/// resistance to chosen keys.
#[derive(Clone, Copy, Default)]
struct AddrHash(u64);

impl Hasher for AddrHash {
    fn finish(&self) -> u64 {
        self.0 ^ self.0 >> 32
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type AddrBuild = BuildHasherDefault<AddrHash>;

/// The simulated EL3: which granules the GPT marks Realm.
pub struct SimEl3 {
    dram: Vec<MemoryBank>,
    /// Realm PAS from boot (the RMM's own carve-out): never NS.
    rmm_region: (u64, u64),
    realm: Mutex<HashSet<u64, AddrBuild>>,
    calls: AtomicUsize,
    /// What RMM_ATTEST_GET_REALM_KEY and RMM_ATTEST_GET_PLAT_TOKEN answer.
    pub attest: Mutex<SimAttestEl3>,
}

/// The simulated EL3's attestation service: TF-A's QEMU behaviour by default (a fixed key, and
/// a fixed platform token whatever the challenge), with knobs for the failure tests.
#[derive(Clone, Debug)]
pub struct SimAttestEl3 {
    /// The realm attestation key's private scalar, or the error to return.
    pub key: Result<Vec<u8>, El3Status>,
    /// The platform token, or the error to return.
    pub platform_token: Result<Vec<u8>, El3Status>,
    /// Most bytes of the platform token returned per call (TF-A's QEMU: all at once).
    pub part_size: usize,
    /// Challenges received, one per call.
    pub challenges: Vec<Vec<u8>>,
    /// Calls that report more remaining but write nothing (an EL3 that makes no progress).
    pub stall: bool,
}

/// TF-A's QEMU sample realm attestation key (private scalar), which QEMU's EL3 hands every RMM.
pub const SAMPLE_RAK: [u8; 48] = [
    0x20, 0x11, 0xc7, 0xf0, 0x3c, 0xee, 0x43, 0x25, 0x17, 0x6e, 0x52, 0x4f, 0x03, 0x3c, 0x0c, 0xe1,
    0xe2, 0x1a, 0x76, 0xe6, 0xc1, 0xa4, 0xf0, 0xb8, 0x39, 0xaa, 0x1d, 0xf6, 0x1e, 0x0e, 0x8a, 0x5c,
    0x8a, 0x05, 0x74, 0x0f, 0x9b, 0x69, 0xef, 0xa7, 0xeb, 0x1a, 0x41, 0x85, 0xbd, 0x11, 0x7f, 0x68,
];

/// A stand-in platform token: opaque bytes to the RMM, 1,518 long like QEMU's sample.
pub fn sample_platform_token() -> Vec<u8> {
    (0..1518u32).map(|i| (i * 7 + 3) as u8).collect()
}

impl Default for SimAttestEl3 {
    fn default() -> Self {
        Self {
            key: Ok(SAMPLE_RAK.to_vec()),
            platform_token: Ok(sample_platform_token()),
            part_size: PAGE,
            challenges: Vec::new(),
            stall: false,
        }
    }
}

impl SimEl3 {
    /// An EL3 with these DRAM banks and the RMM's region, nothing delegated, and the default
    /// attestation service.
    pub fn new(dram: &[MemoryBank], rmm_region: (u64, u64)) -> Self {
        Self {
            dram: dram.to_vec(),
            rmm_region,
            realm: Mutex::new(HashSet::default()),
            calls: AtomicUsize::new(0),
            attest: Mutex::new(SimAttestEl3::default()),
        }
    }

    /// True if the GPT marks `pa` Realm.
    pub fn is_realm(&self, pa: u64) -> bool {
        (self.rmm_region.0..self.rmm_region.1).contains(&pa)
            || self.realm.lock().expect("gpt lock").contains(&pa)
    }

    /// GTSI calls made so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    fn in_dram(&self, pa: u64) -> bool {
        self.dram
            .iter()
            .any(|b| pa >= b.base && pa - b.base < b.size)
    }
}

impl El3 for SimEl3 {
    fn gtsi_delegate(&self, pa: u64) -> Result<(), El3Status> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if !self.in_dram(pa) {
            return Err(El3Status::BadAddr);
        }
        if self.is_realm(pa) {
            return Err(El3Status::BadPas);
        }
        self.realm.lock().expect("gpt lock").insert(pa);
        Ok(())
    }

    fn gtsi_undelegate(&self, pa: u64) -> Result<(), El3Status> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if (self.rmm_region.0..self.rmm_region.1).contains(&pa) {
            return Err(El3Status::BadPas);
        }
        if self.realm.lock().expect("gpt lock").remove(&pa) {
            Ok(())
        } else {
            Err(El3Status::BadPas)
        }
    }

    fn realm_attest_key(&self, buf: &mut [u8]) -> Result<usize, El3Status> {
        let a = self.attest.lock().expect("attest lock");
        let key = a.key.as_ref().map_err(|e| *e)?;
        buf.get_mut(..key.len())
            .ok_or(El3Status::Inval)?
            .copy_from_slice(key);
        Ok(key.len())
    }

    fn platform_token_part(
        &self,
        challenge: &[u8],
        out: &mut [u8],
    ) -> Result<(usize, usize), El3Status> {
        let mut a = self.attest.lock().expect("attest lock");
        let calls = a.challenges.len();
        a.challenges.push(challenge.to_vec());
        let token = a.platform_token.as_ref().map_err(|e| *e)?;
        if a.stall {
            return Ok((0, token.len()));
        }
        let done = (calls * a.part_size).min(token.len());
        let n = a.part_size.min(token.len() - done).min(out.len());
        out[..n].copy_from_slice(&token[done..done + n]);
        Ok((n, token.len() - done - n))
    }
}

/// The simulated memory system: sparse DRAM contents (unwritten granules read as zero) and every
/// simulated CPU's stage-2 TLB ([`Tlbs`]). A handle: clones share the same memory, so the
/// simulated CPUs reach what the RMM writes.
///
/// Wiping a granule that some CPU's TLB still leads into (a missing TLB invalidation: the realm
/// could still reach the granule once it is reused) is refused with a panic, unless the test
/// turned that check off with [`SimMemory::set_wipe_check`] to watch what a realm does with
/// the stale translation; such wipes are counted ([`SimMemory::unsafe_wipes`]) either way.
#[derive(Clone, Default)]
pub struct SimMemory {
    inner: Arc<MemorySystem>,
}

struct MemorySystem {
    /// Tells this memory system's entries of [`PTR_CACHE`] from any other's: never reused.
    id: u64,
    pages: Mutex<HashMap<u64, Box<[u8; PAGE]>, AddrBuild>>,
    tlbs: Tlbs,
    no_wipe_check: AtomicBool,
    unsafe_wipes: Mutex<Vec<(u64, Vec<Cached>)>>,
}

impl Default for MemorySystem {
    fn default() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            pages: Mutex::default(),
            tlbs: Tlbs::default(),
            no_wipe_check: AtomicBool::default(),
            unsafe_wipes: Mutex::default(),
        }
    }
}

/// Entries of [`PTR_CACHE`].
const PTR_CACHE_SLOTS: usize = 64;

thread_local! {
    /// The pages [`GranuleMemory::ptr`] handed out last on this thread, by granule: (memory
    /// system id, address, page). The RMM asks for a page at every access to a granule (each
    /// RTT entry of a walk), and the lock and map lookup behind it were a sixth of a fuzzer's
    /// time. A hit gives the pointer the map would: a page never moves nor goes away while its
    /// memory system lives, and ids are never reused (0, the empty slot, is none).
    static PTR_CACHE: [Cell<(u64, u64, usize)>; PTR_CACHE_SLOTS] =
        const { [const { Cell::new((0, 0, 0)) }; PTR_CACHE_SLOTS] };
}

impl SimMemory {
    /// The simulated CPUs' TLBs.
    pub fn tlbs(&self) -> &Tlbs {
        &self.inner.tlbs
    }

    /// Whether wiping a granule that a TLB still leads into panics (the default) or is only
    /// counted.
    pub fn set_wipe_check(&self, panic: bool) {
        self.inner.no_wipe_check.store(!panic, Ordering::Relaxed);
    }

    /// Granules wiped while a TLB still led into them, with what was cached.
    pub fn unsafe_wipes(&self) -> Vec<(u64, Vec<Cached>)> {
        self.inner
            .unsafe_wipes
            .lock()
            .expect("wipe log lock")
            .clone()
    }

    /// The 8 bytes at `pa` (a descriptor, for the simulated walker).
    pub fn read_u64(&self, pa: u64) -> u64 {
        let mut b = [0u8; 8];
        self.copy(pa, 8, |page, off, at, n| {
            b[at..at + n].copy_from_slice(&page[off..off + n])
        });
        u64::from_le_bytes(b)
    }

    /// Writes the 8 bytes at `pa`.
    pub fn write_u64(&self, pa: u64, v: u64) {
        let b = v.to_le_bytes();
        self.copy(pa, 8, |page, off, at, n| {
            page[off..off + n].copy_from_slice(&b[at..at + n])
        });
    }

    /// Cached translations the RTTs no longer back ([`Tlbs::stale`]).
    pub fn stale_translations(&self) -> Vec<Cached> {
        self.inner.tlbs.stale(&|pa| self.read_u64(pa))
    }

    /// Writes a whole granule (in place, so pointers handed out by `ptr` stay valid).
    pub fn write(&self, pa: u64, data: &[u8; PAGE]) {
        let mut pages = self.inner.pages.lock().expect("memory lock");
        **pages.entry(pa).or_insert_with(|| Box::new([0; PAGE])) = *data;
    }

    /// Visits `len` bytes from `pa`, granule by granule: `f(page, offset in page, offset in the
    /// caller's buffer, length)`.
    fn copy(&self, pa: u64, len: usize, mut f: impl FnMut(&mut [u8; PAGE], usize, usize, usize)) {
        let mut pages = self.inner.pages.lock().expect("memory lock");
        let mut done = 0;
        while done < len {
            let addr = pa + done as u64;
            let base = addr & !(PAGE as u64 - 1);
            let off = (addr - base) as usize;
            let n = (PAGE - off).min(len - done);
            let page = pages.entry(base).or_insert_with(|| Box::new([0; PAGE]));
            f(page, off, done, n);
            done += n;
        }
    }

    /// The granules that hold contents (written or read at least once), in ascending order.
    pub fn resident(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .inner
            .pages
            .lock()
            .expect("memory lock")
            .keys()
            .copied()
            .collect();
        v.sort_unstable();
        v
    }

    /// `f` of the granule at `pa` (zeros if unwritten), seen in place instead of copied out.
    pub fn inspect<R>(&self, pa: u64, f: impl FnOnce(&[u8; PAGE]) -> R) -> R {
        static ZERO: [u8; PAGE] = [0; PAGE];
        let pages = self.inner.pages.lock().expect("memory lock");
        f(pages.get(&pa).map_or(&ZERO, |p| p))
    }

    /// Reads a whole granule.
    pub fn read(&self, pa: u64) -> [u8; PAGE] {
        self.inner
            .pages
            .lock()
            .expect("memory lock")
            .get(&pa)
            .map_or([0; PAGE], |p| **p)
    }
}

// SAFETY: each granule is a boxed page allocated on first use and never freed or moved while the
// SimMemory lives (same address every time); the system allocator returns 4 KiB blocks 16-byte
// aligned on the 64-bit hosts the tests run on; `wipe` rewrites that page only.
unsafe impl GranuleMemory for SimMemory {
    fn wipe(&self, pa: u64) {
        let cached = self.inner.tlbs.references(pa);
        if !cached.is_empty() {
            self.inner
                .unsafe_wipes
                .lock()
                .expect("wipe log lock")
                .push((pa, cached.clone()));
            assert!(
                self.inner.no_wipe_check.load(Ordering::Relaxed),
                "granule {pa:#x} wiped while a CPU's TLB still leads into it (a missing stage-2 \
                 TLB invalidation): {cached:#x?}"
            );
        }
        self.write(pa, &[0; PAGE]);
    }

    fn ptr(&self, pa: u64) -> *mut u8 {
        let slot = (pa / PAGE as u64) as usize % PTR_CACHE_SLOTS;
        let id = self.inner.id;
        let cached = PTR_CACHE.with(|c| {
            let (i, a, p) = c[slot].get();
            (i == id && a == pa).then_some(p as *mut u8)
        });
        if let Some(p) = cached {
            return p;
        }
        let mut pages = self.inner.pages.lock().expect("memory lock");
        // Boxed pages never move, so the pointer stays valid after the map lock is released.
        let p = pages
            .entry(pa)
            .or_insert_with(|| Box::new([0; PAGE]))
            .as_mut_ptr();
        PTR_CACHE.with(|c| c[slot].set((id, pa, p as usize)));
        p
    }
}

/// A whole simulated monitor: boot state, granule table, EL3 and memory.
pub struct Sim {
    /// Boot-time state.
    pub rmm: Rmm,
    /// Granule tracking (storage leaked, reused by later simulations once this one is dropped).
    pub granules: GranuleTable<'static>,
    /// EL3 double.
    pub el3: SimEl3,
    /// DRAM contents.
    pub mem: SimMemory,
    /// VMIDs in use.
    pub vmids: VmidSet,
    /// The simulated CPU that "runs" RECs.
    pub cpu: SimCpu,
    /// Attestation as set up from a default [`SimAttestEl3`] (shared by every simulation in the
    /// process: deriving the key is slow in debug builds); `None` models a failed setup.
    pub attest: Option<&'static Attestation>,
    /// The tracking storage under `granules`, handed back to [`STORAGE_POOL`] on drop.
    storage: &'static [AtomicU16],
}

/// Tracking storage of dropped simulations, for the next one of the same size: a process that
/// makes millions of simulations (a fuzzer) must not leak a table each time.
static STORAGE_POOL: Mutex<Vec<&'static [AtomicU16]>> = Mutex::new(Vec::new());

/// Zeroed tracking storage for `words` granules: a dropped simulation's, or a new leaked one.
fn storage_for(words: usize) -> &'static [AtomicU16] {
    let reused = {
        let mut pool = STORAGE_POOL.lock().expect("storage pool lock");
        let at = pool.iter().position(|s| s.len() == words);
        at.map(|i| pool.swap_remove(i))
    };
    match reused {
        Some(s) => {
            // SAFETY: `AtomicU16` is an `UnsafeCell<u16>`, so writing through a pointer from a
            // shared reference is allowed; the storage came out of the pool, so no other thread
            // uses it now, and all-zero bytes are a valid `AtomicU16`.
            unsafe { core::ptr::write_bytes(s.as_ptr().cast_mut(), 0, s.len()) };
            s
        }
        None => leak_storage(words),
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Ok(mut pool) = STORAGE_POOL.lock() {
            pool.push(self.storage);
        }
    }
}

/// The attestation state a default simulated EL3 yields, made once per process.
pub fn sample_attestation() -> &'static Attestation {
    static ONCE: std::sync::OnceLock<Attestation> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        Attestation::init(&SimEl3::new(&[], (0, 0))).expect("the sample key and token are valid")
    })
}

/// The QEMU layout: one bank of 3 GiB at 0x40000000, the RMM carve-out at 0x40100000.
pub const QEMU_DRAM: MemoryBank = MemoryBank {
    base: 0x4000_0000,
    size: 0xC000_0000,
};
/// The RMM's own Realm region on QEMU (24 MiB with the shared page).
pub const QEMU_RMM_REGION: (u64, u64) = (0x4010_0000, 0x4190_0000);

/// Zeroed tracking storage for `words` granules, leaked.
pub fn leak_storage(words: usize) -> &'static [AtomicU16] {
    let zeroed: Box<[u16]> = vec![0u16; words].into_boxed_slice();
    let raw = Box::into_raw(zeroed) as *mut [AtomicU16];
    // SAFETY: `AtomicU16` has the same size and alignment as `u16` (documented), the memory is
    // zeroed (a valid `AtomicU16` 0), and leaking gives it the `'static` lifetime.
    unsafe { &*raw }
}

/// ICH_VTR_EL2 of the simulated CPU, QEMU's: 5 priority and 5 preemption bits, 16-bit INTIDs,
/// 4 list registers.
pub const SIM_ICH_VTR: u64 = 0b100 << 29 | 0b100 << 26 | 3;

impl Sim {
    /// A monitor booted on the QEMU layout.
    pub fn qemu() -> Self {
        Self::with_dram(&[QEMU_DRAM], QEMU_RMM_REGION)
    }

    /// A monitor booted with these DRAM banks and RMM region.
    pub fn with_dram(banks: &[MemoryBank], rmm_region: (u64, u64)) -> Self {
        let words = GranuleTable::words_needed(banks).expect("table size");
        let storage = storage_for(words);
        let granules = GranuleTable::new(banks, storage).expect("storage fits");
        let mut dram = heapless::Vec::new();
        for b in banks {
            dram.push(*b).expect("bank count");
        }
        let rmm = Rmm {
            num_cpus: 4,
            ifc_version: AbiVersion::new(0, 4),
            platform: PlatformInfo {
                manifest_version: AbiVersion::new(0, 3),
                dram,
                console: None,
            },
            features: rmi_features(IdRegisters {
                id_aa64mmfr0: 5,
                id_aa64mmfr1: 0x2 << 4,
                id_aa64dfr0: 5 << 12 | 3 << 20,
                ich_vtr: SIM_ICH_VTR,
            }),
            vmid16: true,
            ich_vtr: SIM_ICH_VTR,
        };
        let el3 = SimEl3::new(banks, rmm_region);
        let mem = SimMemory::default();
        Self {
            rmm,
            granules,
            el3,
            cpu: SimCpu::new(0, &mem),
            mem,
            vmids: VmidSet::new(),
            attest: Some(sample_attestation()),
            storage,
        }
    }

    /// The handler context over this simulation, on [`Sim::cpu`].
    pub fn ctx(&self) -> RmiContext<'_> {
        self.ctx_on(&self.cpu)
    }

    /// The handler context over this simulation, serving on `cpu`.
    pub fn ctx_on<'a>(&'a self, cpu: &'a SimCpu) -> RmiContext<'a> {
        RmiContext {
            rmm: &self.rmm,
            granules: &self.granules,
            el3: &self.el3,
            mem: &self.mem,
            ns: self,
            vmids: &self.vmids,
            cpu,
            attest: self.attest,
        }
    }

    /// Serves one RMI call on [`Sim::cpu`]: x0 = `fid`, x1.. = `args`.
    pub fn call(&self, fid: u64, args: &[u64]) -> ResultRegs {
        self.call_on(&self.cpu, fid, args)
    }

    /// Serves one RMI call on `cpu` (another simulated CPU: [`Sim::new_cpu`]).
    pub fn call_on(&self, cpu: &SimCpu, fid: u64, args: &[u64]) -> ResultRegs {
        let mut regs: CallRegs = [0; 8];
        regs[0] = fid;
        regs[1..=args.len()].copy_from_slice(args);
        crate::rmi::handle(&self.ctx_on(cpu), &regs)
    }

    /// Another simulated CPU, with its own TLB and script, sharing this memory system.
    pub fn new_cpu(&self, index: usize) -> SimCpu {
        SimCpu::new(index, &self.mem)
    }

    /// The stage 2 the realm whose RD is at `rd` runs with (as REC_ENTER loads it); `None` if
    /// `rd` is not an RD.
    pub fn stage2_of(&self, rd: u64) -> Option<Stage2> {
        let mut g = self
            .granules
            .lock(rd, crate::granule::GranuleState::Rd)
            .ok()?;
        let r: &mut crate::realm::Rd = crate::memory::get(&self.mem, &mut g);
        Some(r.s2)
    }

    /// The realm at `rd` as simulated CPU `cpu` sees its memory: accesses through that CPU's
    /// TLB, as a REC of it running there would make them. Panics if `rd` is not an RD.
    pub fn guest(&self, cpu: usize, rd: u64) -> SimGuest {
        self.try_guest(cpu, rd).expect("an RD")
    }

    /// [`Sim::guest`], or `None` if `rd` is not an RD.
    pub fn try_guest(&self, cpu: usize, rd: u64) -> Option<SimGuest> {
        Some(SimGuest {
            mem: self.mem.clone(),
            cpu,
            s2: self.stage2_of(rd)?,
        })
    }
}

/// A realm's memory as one simulated CPU sees it: every access is translated through that CPU's
/// stage-2 TLB and walk cache ([`Tlbs::translate`]), exactly as it would be with the realm's
/// stage 2 loaded.
pub struct SimGuest {
    mem: SimMemory,
    cpu: usize,
    s2: Stage2,
}

impl SimGuest {
    /// Where `ipa` lands for an access (`write` or read), or the stage-2 fault.
    pub fn translate(&self, ipa: u64, write: bool) -> Result<Translation, Fault> {
        let t = self
            .mem
            .tlbs()
            .translate(&|pa| self.mem.read_u64(pa), self.cpu, &self.s2, ipa)?;
        if mmu::permits(t.desc, write) {
            Ok(t)
        } else {
            Err(Fault::Permission(t.level))
        }
    }

    /// A realm load of the 8 bytes at `ipa` (8-byte aligned).
    pub fn read_u64(&self, ipa: u64) -> Result<u64, Fault> {
        let t = self.translate(ipa, false)?;
        Ok(self.mem.read_u64(t.pa))
    }

    /// A realm store of `v` to the 8 bytes at `ipa` (8-byte aligned).
    pub fn write_u64(&self, ipa: u64, v: u64) -> Result<(), Fault> {
        let t = self.translate(ipa, true)?;
        self.mem.write_u64(t.pa, v);
        Ok(())
    }

    /// The stage 2 this view walks.
    pub fn stage2(&self) -> Stage2 {
        self.s2
    }
}

impl Sim {
    /// True if an NS access to `[pa, pa + len)` would succeed: every granule in DRAM and NS in
    /// the GPT (otherwise the hardware raises a translation or granule protection fault).
    fn ns_accessible(&self, pa: u64, len: usize) -> bool {
        let Some(end) = pa.checked_add(len as u64) else {
            return false;
        };
        let first = pa & !(PAGE as u64 - 1);
        (first..end)
            .step_by(PAGE)
            .all(|g| self.el3.in_dram(g) && !self.el3.is_realm(g))
    }
}

/// The simulated NS door: faults where real hardware would.
impl NsMemory for Sim {
    fn copy_in(&self, pa: u64, dst: &mut [u8]) -> bool {
        if !self.ns_accessible(pa, dst.len()) {
            return false;
        }
        self.mem.copy(pa, dst.len(), |page, off, at, n| {
            dst[at..at + n].copy_from_slice(&page[off..off + n])
        });
        true
    }

    fn copy_out(&self, pa: u64, src: &[u8]) -> bool {
        if !self.ns_accessible(pa, src.len()) {
            return false;
        }
        self.mem.copy(pa, src.len(), |page, off, at, n| {
            page[off..off + n].copy_from_slice(&src[at..at + n])
        });
        true
    }
}

/// One step of a simulated realm: given its registers and its memory as this CPU sees it, act
/// (change them) and say how it exits.
pub type RealmStep = Box<dyn FnMut(&mut RealmRegs, &SimGuest) -> RealmExit + Send>;

/// A simulated CPU for REC_ENTER: instead of entering a realm it runs the next scripted step,
/// and records what it was asked to run. With no step left, the "realm" is interrupted (an IRQ
/// exit), as a real one would be by the host's timer. Its TLB is its part of the memory
/// system's [`Tlbs`]; the stage-2 invalidations it issues reach every simulated CPU's.
pub struct SimCpu {
    index: usize,
    mem: SimMemory,
    steps: Mutex<std::collections::VecDeque<RealmStep>>,
    entries: Mutex<Vec<(RealmRegs, Stage2, EntryTraps, u64)>>,
    /// Answers to successive [`RealmCpu::interrupt_pending`] checks; none left reads "no".
    interrupts: Mutex<std::collections::VecDeque<bool>>,
    /// [`RealmCpu::realm_destroyed`] calls so far.
    destroyed: std::sync::atomic::AtomicUsize,
}

/// CPU 0 of a memory system of its own.
impl Default for SimCpu {
    fn default() -> Self {
        Self::new(0, &SimMemory::default())
    }
}

impl SimCpu {
    /// Simulated CPU number `index` of the memory system `mem`.
    pub fn new(index: usize, mem: &SimMemory) -> Self {
        Self {
            index,
            mem: mem.clone(),
            steps: Mutex::default(),
            entries: Mutex::default(),
            interrupts: Mutex::default(),
            destroyed: Default::default(),
        }
    }

    /// This CPU's number.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Queues a step that only needs the realm's registers.
    pub fn script(&self, mut step: impl FnMut(&mut RealmRegs) -> RealmExit + Send + 'static) {
        self.script_guest(move |regs, _| step(regs));
    }

    /// Queues a step that also touches the realm's memory.
    pub fn script_guest(
        &self,
        step: impl FnMut(&mut RealmRegs, &SimGuest) -> RealmExit + Send + 'static,
    ) {
        self.steps
            .lock()
            .expect("script lock")
            .push_back(Box::new(step));
    }

    /// Steps not run yet.
    pub fn pending(&self) -> usize {
        self.steps.lock().expect("script lock").len()
    }

    /// Queues the answers the next interrupt-pending checks get (then "no" again).
    pub fn interrupt_checks(&self, answers: &[bool]) {
        self.interrupts
            .lock()
            .expect("interrupt lock")
            .extend(answers);
    }

    /// How many times the RMM told this CPU a realm was destroyed.
    pub fn realms_destroyed(&self) -> usize {
        self.destroyed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Every entry so far: registers, stage 2, traps and VMPIDR as the RMM set them up.
    pub fn entries(&self) -> Vec<(RealmRegs, Stage2, EntryTraps, u64)> {
        self.entries.lock().expect("entries lock").clone()
    }
}

impl RealmCpu for SimCpu {
    fn run(&self, regs: &mut RealmRegs, s2: &Stage2, traps: EntryTraps, vmpidr: u64) -> RealmExit {
        self.entries
            .lock()
            .expect("entries lock")
            .push((*regs, *s2, traps, vmpidr));
        let step = self.steps.lock().expect("script lock").pop_front();
        let guest = SimGuest {
            mem: self.mem.clone(),
            cpu: self.index,
            s2: *s2,
        };
        match step {
            Some(mut f) => f(regs, &guest),
            None => RealmExit {
                class: ExitClass::Irq,
                esr: 0,
                far: 0,
                hpfar: 0,
            },
        }
    }

    fn interrupt_pending(&self) -> bool {
        let mut answers = self.interrupts.lock().expect("interrupt lock");
        answers.pop_front().unwrap_or(false)
    }

    /// Every feature present: all ones, less the register's own CRm and op2 in the low byte
    /// (so that a test can tell registers apart).
    fn read_id_register(&self, reg: crate::id_regs::IdRegister) -> u64 {
        !(u64::from(reg.crm) << 4 | u64::from(reg.op2))
    }

    fn realm_destroyed(&self) {
        self.destroyed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The simulated CPU's stage-2 TLB maintenance: broadcast to every simulated CPU.
impl Stage2Tlb for SimCpu {
    fn invalidate_ipas(&self, vmid: u16, first: u64, stride: u64, count: u64) {
        self.mem.tlbs().invalidate_ipas(vmid, first, stride, count);
    }

    fn invalidate_vmid(&self, vmid: u16) {
        self.mem.tlbs().invalidate_vmid(vmid);
    }
}

/// The exit a physical interrupt causes (class IRQ, no syndrome).
pub const IRQ_EXIT: RealmExit = RealmExit {
    class: ExitClass::Irq,
    esr: 0,
    far: 0,
    hpfar: 0,
};

/// The exit a realm's `SMC #0` causes (EC 0x17, IL).
pub const SMC_EXIT: RealmExit = RealmExit {
    class: ExitClass::Sync,
    esr: 0x17 << 26 | 1 << 25,
    far: 0,
    hpfar: 0,
};
