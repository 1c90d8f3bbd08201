//! Access to the contents of granules in the Realm PAS that the RMM owns (delegated memory).
//!
//! The image reaches them through its own mapping of physical memory; host tests use the
//! simulation in `crate::sim`. Nothing here ever touches NS memory (that is [`crate::ns`]), or
//! reads or writes the contents of a realm's DATA granules for it (that is
//! [`crate::realm_memory`]).
//!
//! Objects the RMM keeps inside granules (the realm descriptor, RECs, RTTs) are reached through
//! [`init`] and [`get`], which tie the reference to the granule's lock guard: the borrow checker
//! then guarantees nobody unlocks the granule while a reference to its contents lives. A REC's
//! auxiliary granules are reached through the REC ([`crate::rec::aux_granule`]).

use hostcall_abi::GRANULE_SIZE;

use crate::granule::{GranuleState, Locked};

/// The least alignment [`GranuleMemory::ptr`] gives: that of every object the RMM keeps in a
/// granule (the REC's FP/SIMD registers need 16) and of every access it makes there. The image
/// gives the granule's own address, so granule alignment.
pub const GRANULE_PTR_ALIGN: usize = 16;

/// Contents of delegated granules.
///
/// # Safety
/// Unsafe code throughout the RMM trusts [`Self::ptr`]; an implementation must guarantee, for
/// every `pa` of a granule that can be delegated (tracked DRAM outside the RMM's own region):
/// 1. `ptr(pa)` points to `GRANULE_SIZE` bytes, readable and writable, aligned to at least
///    [`GRANULE_PTR_ALIGN`], that hold the granule's contents;
/// 2. the pointer stays valid, and is the same for the same `pa`, for the RMM's lifetime (the
///    implementation's), and distinct granules' ranges never overlap;
/// 3. [`Self::wipe`] writes zeros over the granule at `pa` and touches nothing else.
///
/// The contract is about where the bytes are, not who may use them: a caller may only
/// dereference the pointer while it owns the granule (holds its lock, or the lock of the realm
/// that owns it), and realm memory, which the realm can write at any time, only through
/// [`crate::realm_memory::RealmPage`].
pub unsafe trait GranuleMemory {
    /// Wipes the granule at `pa` so none of its previous contents can be recovered (A2.2.4).
    /// The caller holds the granule's lock and has checked that it is delegated.
    fn wipe(&self, pa: u64);

    /// Address of the granule's first byte in the RMM's view (see the trait's contract).
    fn ptr(&self, pa: u64) -> *mut u8;
}

/// A type the RMM keeps at the start of granules in one particular state.
///
/// # Safety
/// 1. The type must fit in a granule and need no more than [`GRANULE_PTR_ALIGN`].
/// 2. Granules in state `STATE` must only ever hold a value of this type written by [`init`].
pub unsafe trait GranuleObject: Sized {
    /// The granule state whose granules hold this type.
    const STATE: GranuleState;
}

const fn fits<T>() -> bool {
    core::mem::size_of::<T>() <= GRANULE_SIZE && core::mem::align_of::<T>() <= GRANULE_PTR_ALIGN
}

/// Writes `value` into a granule that has just been moved to `T::STATE`, and returns it.
pub fn init<'g, T: GranuleObject>(
    mem: &dyn GranuleMemory,
    g: &'g mut Locked<'_>,
    value: T,
) -> &'g mut T {
    assert!(
        fits::<T>() && g.state() == T::STATE,
        "granule object/state mismatch"
    );
    let p = mem.ptr(g.pa()) as *mut T;
    // SAFETY: 1. The guard gives this CPU exclusive use of the granule for `'g`. 2. `ptr` gives
    // GRANULE_PTR_ALIGN-aligned granule bytes and `T` fits (asserted): in bounds, aligned.
    unsafe {
        p.write(value);
        &mut *p
    }
}

/// The object inside a locked granule in state `T::STATE`.
pub fn get<'g, T: GranuleObject>(mem: &dyn GranuleMemory, g: &'g mut Locked<'_>) -> &'g mut T {
    assert!(
        fits::<T>() && g.state() == T::STATE,
        "granule object/state mismatch"
    );
    // SAFETY: 1. Exclusive for `'g` through the guard. 2. A granule in `T::STATE` holds a `T`
    // written by `init` (the `GranuleObject` contract), aligned and in bounds (as for `init`).
    unsafe { &mut *(mem.ptr(g.pa()) as *mut T) }
}

/// Overwrites the whole granule behind `g` with `src` (the copy of the host's source page into a
/// new DATA granule at RMI_DATA_CREATE). The guard proves this CPU owns the granule.
pub fn fill(mem: &dyn GranuleMemory, g: &mut Locked<'_>, src: &[u8; GRANULE_SIZE]) {
    // SAFETY: 1. The guard gives this CPU exclusive use of the granule for the call. 2. `ptr`
    // addresses the whole granule (the trait's contract), so the `GRANULE_SIZE` bytes stay in it;
    // `src` is a separate local buffer, so the ranges do not overlap.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), mem.ptr(g.pa()), GRANULE_SIZE) }
}

/// The RTTs of one realm, read and written through [`GranuleMemory`].
///
/// Soundness rests on the RMI locking rule: every command that reads or writes a realm's RTTs
/// holds that realm's RD lock for the whole operation, and RTT granules belong to exactly one
/// realm, so no two CPUs touch the same RTT concurrently (the hardware walker only reads, and
/// every entry access here is a single 64-bit access).
pub struct RttView<'a> {
    mem: &'a dyn GranuleMemory,
}

impl<'a> RttView<'a> {
    /// A view for a caller that holds the RD lock of the realm whose RTTs it will touch.
    pub fn new(mem: &'a dyn GranuleMemory) -> Self {
        Self { mem }
    }

    fn entry(&self, table_pa: u64, index: usize) -> *mut u64 {
        assert!(index < GRANULE_SIZE / 8, "RTT index out of range");
        // In bounds: index < 512 entries of 8 bytes in a 4 KiB granule.
        self.mem.ptr(table_pa).cast::<u64>().wrapping_add(index)
    }
}

/// RTT entries written so far, by any command on any realm. A value read under a realm's RD lock
/// and read again later unchanged proves that no RTT entry changed in between, so a translation
/// looked up then still holds (the host-call completion relies on it to skip a second walk).
pub static RTT_WRITES: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

impl crate::s2tt::RttMemory for RttView<'_> {
    fn read(&self, table_pa: u64, index: usize) -> u64 {
        // SAFETY: see the type's documentation: the caller holds the owning realm's RD lock and
        // `table_pa` is one of its RTT granules; the pointer is aligned and in bounds.
        unsafe { core::ptr::read_volatile(self.entry(table_pa, index)) }
    }

    fn write(&mut self, table_pa: u64, index: usize, value: u64) {
        RTT_WRITES.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        // SAFETY: as for `read`.
        unsafe { core::ptr::write_volatile(self.entry(table_pa, index), value) }
    }
}
