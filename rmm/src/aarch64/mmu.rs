//! The RMM's own stage-1 translation at R-EL2: the tables cold boot builds, turning the MMU on,
//! physical memory through it (`PhysMemory`) and the NS view (`NsView`).

use super::*;
use crate::ns::NsRuns;
use aarch64_cpu::registers::{ReadWriteable, Writeable, MAIR_EL2, SCTLR_EL2, TCR_EL2, TTBR0_EL2};

/// Delegated memory, reached through the identity map of DRAM in the Realm PAS.
pub struct PhysMemory;

// SAFETY: `build_tables` maps DRAM outside the RMM's region read-write at its own address (Realm
// PAS, Normal memory) for the RMM's lifetime: a granule's PA is a granule-aligned pointer to it;
// `wipe` writes only the granule at `pa`.
unsafe impl crate::memory::GranuleMemory for PhysMemory {
    fn ptr(&self, pa: u64) -> *mut u8 {
        pa as *mut u8
    }

    fn wipe(&self, pa: u64) {
        // DC ZVA zeroes a naturally aligned block per instruction (64 bytes on most CPUs): a
        // granule in 64 instructions instead of 512 stores, where the CPU allows it.
        let dczid = super::sysregs::DCZID_EL0.extract();
        let block = 4usize << dczid.read(super::sysregs::DCZID_EL0::BS);
        let granule = hostcall_abi::GRANULE_SIZE;
        let zva = !dczid.is_set(super::sysregs::DCZID_EL0::DZP);
        if zva && block == 64 {
            // The common block size: the whole granule unrolled, no loop compare or branch.
            // SAFETY: 1. As below: the caller holds the lock of the DELEGATED granule at `pa`,
            // identity-mapped Normal memory in the Realm PAS. 2. `pa` is granule aligned and the
            // 64 blocks of 64 bytes zeroed are the granule's.
            unsafe {
                asm!(
                    "dc zva, {p}",
                    ".rept 63",
                    "add {p}, {p}, #64",
                    "dc zva, {p}",
                    ".endr",
                    p = inout(reg) pa => _,
                    options(nostack)
                );
            }
            const _: () = assert!(hostcall_abi::GRANULE_SIZE == 64 * 64);
            return;
        }
        if zva && (16..=granule / 8).contains(&block) {
            // Eight blocks per iteration: a DC ZVA and an add each, the loop's compare and
            // branch once per eight (a granule of 64-byte blocks in 8 iterations).
            // SAFETY: 1. As below: the caller holds the lock of the DELEGATED granule at `pa`,
            // identity-mapped Normal memory in the Realm PAS. 2. `pa` is granule aligned and
            // `block` (a power of two, at most an eighth of the granule) divides it into a
            // multiple of eight blocks, so every block zeroed lies inside it.
            unsafe {
                asm!(
                    "2:",
                    "dc zva, {p}", "add {p}, {p}, {b}",
                    "dc zva, {p}", "add {p}, {p}, {b}",
                    "dc zva, {p}", "add {p}, {p}, {b}",
                    "dc zva, {p}", "add {p}, {p}, {b}",
                    "dc zva, {p}", "add {p}, {p}, {b}",
                    "dc zva, {p}", "add {p}, {p}, {b}",
                    "dc zva, {p}", "add {p}, {p}, {b}",
                    "dc zva, {p}", "add {p}, {p}, {b}",
                    "cmp {p}, {end}",
                    "b.lo 2b",
                    p = inout(reg) pa => _,
                    b = in(reg) block as u64,
                    end = in(reg) pa + granule as u64,
                    options(nostack)
                );
            }
            return;
        }
        if zva && (16..=granule).contains(&block) {
            for offset in (0..granule).step_by(block) {
                // SAFETY: 1. As below: the caller holds the lock of the DELEGATED granule at
                // `pa`, identity-mapped Normal memory in the Realm PAS. 2. `pa` is granule
                // aligned and `block` (a power of two) divides the granule, so each block
                // zeroed lies inside it.
                unsafe { asm!("dc zva, {}", in(reg) pa + offset as u64, options(nostack)) };
            }
            return;
        }
        let p = pa as *mut u64;
        for i in 0..hostcall_abi::GRANULE_SIZE / 8 {
            // SAFETY: 1. The caller holds the lock of a DELEGATED granule at `pa` (granule
            // aligned, in DRAM, Realm PAS), which nothing else may access meanwhile. 2. DRAM is
            // identity-mapped in the Realm PAS, so the PA is the address.
            unsafe { core::ptr::write_volatile(p.add(i), 0) };
        }
    }
}

extern "C" {
    pub(super) static __text_start: u8;
    pub(super) static __text_end: u8;
    pub(super) static __rodata_end: u8;
    /// Copies `count` runs between the record at `rmm` and the NS view at `ns`: in (`out` 0)
    /// or out. Returns 0, or 1 if an access faulted.
    pub(super) fn rmm_ns_copy_runs(
        rmm: *mut u8,
        ns: u64,
        runs: *const crate::ns::NsRun,
        count: usize,
        out: u64,
    ) -> u64;
}

pub(super) static ROOT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Builds the RMM's stage-1 tables in the carve-out, after the stacks: DRAM identity in the
/// Realm PAS (its own image with section permissions, each CPU's stack above its unmapped guard
/// page), DRAM again as the NS view, and the console. Called once, by cold boot, with the MMU
/// off; returns the carve-out's split (the tables as many as these mappings took, the rest for
/// granule tracking), also kept for [`tracking_storage`].
pub fn build_tables(
    dram: &[hostcall_abi::el3::MemoryBank],
    console: Option<(u64, u64)>,
    carve: &crate::carve_out::CarveOut,
    stacks: &crate::carve_out::Stacks,
) -> Result<crate::carve_out::Split, crate::mmu::MapError> {
    use crate::mmu::{Attrs, MapError, Table, Tables, NS_VIEW_BASE};
    let text = (&raw const __text_start as u64, &raw const __text_end as u64);
    let rodata_end = &raw const __rodata_end as u64;
    let region_end = carve.end();
    let (pool_pa, room) = carve.table_room(stacks);
    // SAFETY: 1. `room` pages from `pool_pa` are the carve-out after the stacks (page aligned,
    // inside the RMM's own region), which nothing uses yet: granule tracking is placed after the
    // tables this returns. 2. Cold boot runs once, on one CPU, before the MMU is on anywhere:
    // nothing else reads or writes them meanwhile. 3. Any bits are valid u64s; `Tables` clears
    // each table before it uses it.
    let pool = unsafe { core::slice::from_raw_parts_mut(pool_pa as *mut Table, room) };
    let mut t = Tables::new(pool, pool_pa).ok_or(MapError::OutOfTables)?;
    for b in dram {
        let end = b.base + b.size;
        // The part of the bank outside the RMM's own region: plain Realm data.
        let (lo, hi) = (text.0.clamp(b.base, end), region_end.clamp(b.base, end));
        if lo > b.base {
            t.map(b.base, b.base, lo - b.base, Attrs::REALM_RW)?;
        }
        if end > hi {
            t.map(hi, hi, end - hi, Attrs::REALM_RW)?;
        }
        t.map(NS_VIEW_BASE + b.base, b.base, b.size, Attrs::NS_RW)?;
    }
    t.map(text.0, text.0, text.1 - text.0, Attrs::REALM_RX)?;
    t.map(text.1, text.1, rodata_end - text.1, Attrs::REALM_RO)?;
    // Data and bss, then the stack of each CPU EL3 named above its unmapped guard page (an
    // overflow faults instead of corrupting what lies below), then the rest of the carve-out.
    t.map(
        rodata_end,
        rodata_end,
        carve.start() - rodata_end,
        Attrs::REALM_RW,
    )?;
    for cpu in 0..stacks.count() {
        let (lo, hi) = stacks.usable(cpu).ok_or(MapError::Range)?;
        t.map(lo, lo, hi - lo, Attrs::REALM_RW)?;
    }
    t.map(
        stacks.end(),
        stacks.end(),
        region_end - stacks.end(),
        Attrs::REALM_RW,
    )?;
    if let Some((base, pages)) = console {
        t.map(base, base, pages * 4096, Attrs::NS_DEVICE)?;
    }
    // EL3's shared buffer, for the attestation calls, unless the RMM's region or a DRAM bank
    // (both mapped Realm RW above) already covers it.
    let covered = |pa: u64| {
        (text.0..region_end).contains(&pa)
            || dram.iter().any(|b| pa >= b.base && pa - b.base < b.size)
    };
    if let Some(shared) = shared_buffer().filter(|&pa| !covered(pa)) {
        t.map(shared, shared, 4096, Attrs::REALM_RW)?;
    }
    let split = carve
        .split(*stacks, t.used())
        .ok_or(MapError::OutOfTables)?;
    ROOT.store(t.root_pa(), core::sync::atomic::Ordering::Release);
    TABLES_USED.store(t.used(), core::sync::atomic::Ordering::Release);
    Ok(split)
}

/// Turns the MMU and caches on for this CPU with the tables cold boot built.
pub fn enable_mmu() -> bool {
    let root = ROOT.load(core::sync::atomic::Ordering::Acquire);
    if root == 0 {
        return false;
    }
    MAIR_EL2.set(crate::mmu::MAIR);
    TCR_EL2.set(crate::mmu::TCR);
    TTBR0_EL2.set(root);
    // SAFETY: the new translation registers are in effect and the EL2 TLB holds nothing older
    // before the MMU is turned on; only EL2 translation state is affected.
    unsafe { asm!("isb", "tlbi alle2", "dsb ish", "isb", options(nostack)) };
    // The tables map this code, the stacks and all RMM data at their current addresses
    // (identity), so execution continues seamlessly once M is set.
    SCTLR_EL2.modify(SCTLR_EL2::M::Enable + SCTLR_EL2::C::Cacheable + SCTLR_EL2::I::Cacheable);
    // SAFETY: a barrier so the MMU and caches are on before the RMM goes on.
    unsafe { asm!("isb", options(nostack)) };
    true
}

/// NS memory through the NS view, with faults caught by the vector (see `rmm_sync_spx`).
pub struct NsView;

impl crate::ns::NsMemory for NsView {
    fn copy_in(&self, pa: u64, dst: &mut [u8]) -> bool {
        Self::copy(dst.as_mut_ptr(), dst.len(), pa, false)
    }

    fn copy_out(&self, pa: u64, src: &[u8]) -> bool {
        // Copying out, the routine only reads the RMM-side buffer.
        Self::copy(src.as_ptr().cast_mut(), src.len(), pa, true)
    }

    fn copy_in_runs(&self, pa: u64, dst: &mut [u8], runs: NsRuns<'_>) -> bool {
        Self::copy_runs(dst.as_mut_ptr(), dst.len(), pa, runs, false)
    }

    fn copy_out_runs(&self, pa: u64, src: &[u8], runs: NsRuns<'_>) -> bool {
        // Copying out, the routine only reads the RMM-side record.
        Self::copy_runs(src.as_ptr().cast_mut(), src.len(), pa, runs, true)
    }
}

impl NsView {
    /// The `len` bytes at `rmm` to or from NS address `pa`: one run of the routine below.
    fn copy(rmm: *mut u8, len: usize, pa: u64, out: bool) -> bool {
        if !len.is_multiple_of(8) || !(rmm as u64 | pa).is_multiple_of(8) {
            return false;
        }
        let va = crate::mmu::NS_VIEW_BASE.wrapping_add(pa);
        let run = crate::ns::NsRun::from_map([(0, 0, len)]);
        // SAFETY: 1. The run is the whole of the `len` bytes at `rmm`, a live Rust buffer,
        // written only when copying in (from `&mut`); `len` is whole doublewords and `rmm`
        // doubleword aligned (both checked). 2. The NS side is in the NS view, where any fault
        // lands in `rmm_sync_spx`, which resumes at the routine's fault exit.
        unsafe { rmm_ns_copy_runs(rmm, va, run.as_ptr(), 1, u64::from(out)) == 0 }
    }

    /// All of `runs` between the `len` bytes at `rmm` and the NS granule at `pa`, in one call.
    fn copy_runs(rmm: *mut u8, len: usize, pa: u64, runs: NsRuns<'_>, out: bool) -> bool {
        if runs.end() > len || !(rmm as u64 | pa).is_multiple_of(8) {
            return false;
        }
        let va = crate::mmu::NS_VIEW_BASE.wrapping_add(pa);
        let list = runs.runs();
        // SAFETY: 1. Every run lies within the `len` bytes at `rmm` (checked above against
        // `end`), a live Rust buffer, written only when copying in (from `&mut`); `NsRuns`
        // guarantees whole doublewords, and `rmm` is doubleword aligned (checked). 2. The NS side
        // is in the NS view, where any fault lands in `rmm_sync_spx`, which resumes at the
        // routine's fault exit (the routine lies between its start and end labels).
        unsafe { rmm_ns_copy_runs(rmm, va, list.as_ptr(), list.len(), u64::from(out)) == 0 }
    }
}
