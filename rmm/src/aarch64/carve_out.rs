//! The carve-out at R-EL2 (`crate::carve_out` has the arithmetic): where the linker put it, the
//! stacks the entry assembly carved from it at cold boot, the translation tables (`mmu`) and
//! granule tracking placed after them, and how deep the stacks have gone.

use core::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};

use crate::carve_out::{stack_used, CarveOut, Split, Stacks};

use super::*;

// SAFETY: `rmm_stacks` is two 8-byte aligned quadwords in `.data` (the entry assembly defines
// it), which that assembly writes only on the cold-boot CPU before any Rust code runs;
// `AtomicU64` has the layout of a `u64`. The others are linker symbols, only ever used for
// their addresses.
unsafe extern "C" {
    /// The stacks' base and CPU count, as the cold-boot entry recorded them (zero before).
    safe static rmm_stacks: [AtomicU64; 2];
    static __rmm_free_start: u8;
    static __rmm_free_end: u8;
    static __bss_start: u8;
    static __bss_end: u8;
}

/// Bytes of `.bss`: the RMM's fixed RAM outside the carve-out, besides its loaded image.
pub fn bss_bytes() -> usize {
    // Taking the address of an extern static reads no memory, so needs no `unsafe`.
    (&raw const __bss_end as usize).saturating_sub(&raw const __bss_start as usize)
}

/// The carve-out the linker script leaves after the image (page aligned there).
pub fn carve_out() -> Option<CarveOut> {
    // Taking the address of an extern static reads no memory, so needs no `unsafe`.
    CarveOut::new(
        &raw const __rmm_free_start as u64,
        &raw const __rmm_free_end as u64,
    )
}

/// The stacks the entry assembly carved at cold boot (`None` before, or if what it recorded is
/// not what the carve-out's arithmetic gives).
pub fn stacks() -> Option<Stacks> {
    let base = rmm_stacks[0].load(Ordering::Relaxed);
    let count = rmm_stacks[1].load(Ordering::Relaxed);
    carve_out()?.recorded_stacks(base, count)
}

/// Translation tables [`build_tables`] used (0 before). A plain store records it: the MMU is
/// still off then, and only Normal memory is sure to support the exclusive accesses of a `Once`.
pub(super) static TABLES_USED: AtomicUsize = AtomicUsize::new(0);
/// Granule tracking has been handed out (once).
static TRACKING_TAKEN: AtomicBool = AtomicBool::new(false);

/// The carve-out's split: the stacks, the tables [`build_tables`] used, and the rest.
pub fn split() -> Option<Split> {
    let tables = TABLES_USED.load(Ordering::Acquire);
    if tables == 0 {
        return None;
    }
    carve_out()?.split(stacks()?, tables)
}

/// Bytes of the carve-out left after the stacks and the tables (0 before the tables are built).
pub fn free_bytes() -> usize {
    split().map_or(0, |s| s.rest_bytes())
}

/// Zeroes `words` u16 of the carve-out after the stacks and the tables and returns them as
/// granule-tracking storage; `None` if they do not fit, the tables are not built yet, or the
/// storage was already handed out (cold boot takes it once). Called with the MMU on (the
/// region is then Normal memory, which DC ZVA needs: on Device memory it faults).
pub fn tracking_storage(words: usize) -> Option<&'static [AtomicU16]> {
    let split = split()?;
    if words.checked_mul(2)? > split.rest_bytes() || TRACKING_TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    let start = split.rest().0 as *mut u16;
    // SAFETY: 1. The range lies in the RMM's own carve-out past its stacks and the tables in
    // use (checked above), which nothing else uses; cold boot calls this with the MMU on, the
    // carve-out mapped Realm RW Normal (`zero_normal`'s contract). 2. It is handed out once (the
    // flag above), so no one else holds a reference. 3. Zeroed u16s are valid AtomicU16s.
    unsafe {
        zero_normal(start as *mut u8, words * 2);
        Some(core::slice::from_raw_parts(
            start as *const AtomicU16,
            words,
        ))
    }
}

/// Zeroes `len` bytes at `start` with DC ZVA (a block of usually 64 bytes an instruction) where
/// the CPU allows it, plain stores for the unaligned ends or if it does not: the tracking table
/// (1.5 MiB on QEMU) is cleared on the cold-boot path.
///
/// # Safety
///
/// `start..start + len` is writable Normal memory (the MMU is on) that nothing else uses.
unsafe fn zero_normal(start: *mut u8, len: usize) {
    let dczid = super::sysregs::DCZID_EL0.extract();
    let block = 4usize << dczid.read(super::sysregs::DCZID_EL0::BS);
    let (addr, end) = (start as usize, start as usize + len);
    let first = addr.next_multiple_of(block);
    let last = end & !(block - 1);
    if dczid.is_set(super::sysregs::DCZID_EL0::DZP) || block > 2048 || first >= last {
        // SAFETY: the caller's range.
        unsafe { core::ptr::write_bytes(start, 0, len) };
        return;
    }
    // SAFETY: the head, the blocks and the tail below partition the caller's range: `first` and
    // `last` are the range's first and last `block`-aligned addresses, first < last.
    unsafe {
        core::ptr::write_bytes(start, 0, first - addr);
        let mut b = first;
        while last - b >= 4 * block {
            asm!(
                "dc zva, {0}",
                "dc zva, {1}",
                "dc zva, {2}",
                "dc zva, {3}",
                in(reg) b,
                in(reg) b + block,
                in(reg) b + 2 * block,
                in(reg) b + 3 * block,
                options(nostack),
            );
            b += 4 * block;
        }
        while b < last {
            asm!("dc zva, {}", in(reg) b, options(nostack));
            b += block;
        }
        core::ptr::write_bytes(last as *mut u8, 0, end - last);
    }
}

/// CPUs that have entered the RMM, one bit each (`MAX_CPUS` <= 64): the stacks worth reading.
static STARTED: AtomicU64 = AtomicU64::new(0);
const _: () = assert!(MAX_CPUS <= 64);
/// The deepest stack use reported so far, in bytes.
static DEEPEST: AtomicUsize = AtomicUsize::new(0);

/// Notes that CPU `cpu` runs on its stack (cold and warm boot, with the MMU on: an atomic OR is
/// an exclusive access).
pub fn cpu_started(cpu: u64) {
    if let Some(bit) = 1u64.checked_shl(cpu as u32).filter(|_| cpu < 64) {
        STARTED.fetch_or(bit, Ordering::Relaxed);
    }
}

/// Logs how deep the stacks have gone, if deeper than last logged: at the end of cold boot and
/// after each REALM_DESTROY (a realm's life, its attestation signing included, is over), off
/// the hot paths.
pub fn report_stack_depth() {
    if let Some((cpu, used, usable)) = deeper_stack() {
        defmt::info!(
            "stack: deepest use so far {=usize} of {=usize} bytes (CPU {=u64}; each stack {=usize} KiB with its guard page, painted at cold boot)",
            used,
            usable,
            cpu,
            STACK_SIZE >> 10
        );
    }
}

/// The deepest any started CPU's stack has gone since cold boot painted them, if deeper than
/// any earlier answer: (CPU, bytes used, usable bytes of each stack). Reads each stack from its
/// lowest word up to the deepest write: cheap for a used stack.
fn deeper_stack() -> Option<(u64, usize, usize)> {
    let stacks = stacks()?;
    let started = STARTED.load(Ordering::Relaxed);
    let usable = STACK_SIZE - STACK_GUARD;
    let (cpu, used) = (0..stacks.count())
        .filter(|&cpu| started >> cpu & 1 != 0)
        .filter_map(|cpu| {
            let (lowest, _) = stacks.usable(cpu)?;
            let lowest = lowest as *const u64;
            let words = (0..usable / 8).map(|i| {
                // SAFETY: 1. Word `i` lies in CPU `cpu`'s usable stack, which the stage-1
                // tables map RW (`usable(cpu)`, i < its size in words). 2. A volatile read of
                // memory that CPU may be using as a stack (above where paint is still read) is
                // harmless: only the count of untouched words is kept.
                unsafe { core::ptr::read_volatile(lowest.add(i)) }
            });
            Some((cpu, stack_used(usable, words)))
        })
        .max_by_key(|&(_, used)| used)?;
    (DEEPEST.fetch_max(used, Ordering::Relaxed) < used).then_some((cpu, used, usable))
}
