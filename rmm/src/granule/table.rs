//! The table: DRAM banks mapped onto one array of tracking words, and the lock guards.

use heapless::Vec;
use hostcall_abi::el3::MemoryBank;
use hostcall_abi::{GRANULE_SHIFT, GRANULE_SIZE};

use super::atomic::AtomicU16;
use super::entry::{is_state, refcount_of, state_of, word, Entry, MAX_REFCOUNT};
use super::GranuleState;
use hostcall_abi::el3::MAX_DRAM_BANKS;

/// Why a granule could not be locked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LockError {
    /// The address is not granule aligned.
    Unaligned,
    /// The address is not in delegable memory (outside every DRAM bank).
    NotDelegable,
    /// The granule is not in the expected state.
    WrongState(GranuleState),
    /// Two addresses name the same granule.
    Alias,
}

#[derive(Clone, Copy, Debug)]
struct Bank {
    base: u64,
    end: u64,
    first: usize,
}

/// State, lock and reference count of every granule in the DRAM banks.
pub struct GranuleTable<'m> {
    banks: Vec<Bank, MAX_DRAM_BANKS>,
    entries: &'m [Entry],
}

impl<'m> GranuleTable<'m> {
    /// Words needed to track `banks`.
    pub fn words_needed(banks: &[MemoryBank]) -> Option<usize> {
        banks.iter().try_fold(0usize, |n, b| {
            n.checked_add(usize::try_from(b.size >> GRANULE_SHIFT).ok()?)
        })
    }

    /// Lays the table over `storage` (which must read as zero: all granules UNDELEGATED).
    /// `banks` must be sorted, aligned and non-overlapping, as boot validated them. Returns
    /// `None` if `storage` is too small.
    pub fn new(banks: &[MemoryBank], storage: &'m [AtomicU16]) -> Option<Self> {
        let needed = Self::words_needed(banks)?;
        let storage = storage.get(..needed)?;
        let mut out = Vec::new();
        let mut first = 0usize;
        for b in banks {
            out.push(Bank {
                base: b.base,
                end: b.base.checked_add(b.size)?,
                first,
            })
            .ok()?;
            first += (b.size >> GRANULE_SHIFT) as usize;
        }
        // SAFETY: `Entry` is a `repr(transparent)` wrapper of `AtomicU16`, so the slices have the
        // same layout and the borrow keeps the storage alive and shared for `'m`.
        let entries = unsafe { &*(storage as *const [AtomicU16] as *const [Entry]) };
        Some(Self {
            banks: out,
            entries,
        })
    }

    /// Number of granules tracked.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if no granule is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&self, pa: u64) -> Result<&Entry, LockError> {
        if !pa.is_multiple_of(GRANULE_SIZE as u64) {
            return Err(LockError::Unaligned);
        }
        // Banks are sorted: the candidate is the last bank starting at or below `pa`. Most
        // granules of most boards lie in the first bank, tried before the search.
        let bank = match self.banks.first() {
            Some(b) if (b.base..b.end).contains(&pa) => b,
            _ => {
                let i = self.banks.partition_point(|b| b.base <= pa);
                let bank = i
                    .checked_sub(1)
                    .and_then(|i| self.banks.get(i))
                    .ok_or(LockError::NotDelegable)?;
                if pa >= bank.end {
                    return Err(LockError::NotDelegable);
                }
                bank
            }
        };
        let index = bank.first + ((pa - bank.base) >> GRANULE_SHIFT) as usize;
        self.entries.get(index).ok_or(LockError::NotDelegable)
    }

    /// True if `pa` is a granule of delegable memory.
    pub fn is_delegable(&self, pa: u64) -> bool {
        self.entry(pa).is_ok()
    }

    /// Current state and reference count of `pa`, read without locking (diagnostics, tests).
    pub fn peek(&self, pa: u64) -> Result<(GranuleState, u16), LockError> {
        Ok(self.entry(pa)?.peek())
    }

    /// Locks the granule at `pa` if it is in `expected` state.
    #[inline(always)]
    pub fn lock(&self, pa: u64, expected: GranuleState) -> Result<Locked<'_>, LockError> {
        lock_entry(self.entry(pa)?, pa, expected)
    }

    /// Like [`Self::lock`], without waiting: `Ok(None)` if another CPU holds the lock. For
    /// taking a lock out of address order (see [`Self::lock_two`]) while holding another.
    pub fn try_lock(
        &self,
        pa: u64,
        expected: GranuleState,
    ) -> Result<Option<Locked<'_>>, LockError> {
        let entry = self.entry(pa)?;
        let Some(word) = entry.try_lock() else {
            return Ok(None);
        };
        let g = Locked::new(entry, pa, word);
        if is_state(g.word, expected) {
            Ok(Some(g))
        } else {
            Err(LockError::WrongState(g.state()))
        }
    }

    /// Locks the granule at `pa` whatever its state.
    pub fn lock_any(&self, pa: u64) -> Result<Locked<'_>, LockError> {
        let entry = self.entry(pa)?;
        let word = entry.lock();
        Ok(Locked::new(entry, pa, word))
    }

    /// Locks two granules in ascending address order (so two CPUs locking the same pair cannot
    /// deadlock), each in its expected state. The guards come back in argument order.
    pub fn lock_two(
        &self,
        a: (u64, GranuleState),
        b: (u64, GranuleState),
    ) -> Result<(Locked<'_>, Locked<'_>), LockError> {
        // Check both addresses before taking any lock, so errors come in a fixed order.
        let ea = self.entry(a.0)?;
        let eb = self.entry(b.0)?;
        if a.0 == b.0 {
            return Err(LockError::Alias);
        }
        if a.0 < b.0 {
            let ga = lock_entry(ea, a.0, a.1)?;
            let gb = lock_entry(eb, b.0, b.1)?;
            Ok((ga, gb))
        } else {
            let gb = lock_entry(eb, b.0, b.1)?;
            let ga = lock_entry(ea, a.0, a.1)?;
            Ok((ga, gb))
        }
    }
}

/// Locks the tracking `entry` of the granule at `pa` if the granule is in `expected` state (the
/// lock is released again when it is not).
fn lock_entry(entry: &Entry, pa: u64, expected: GranuleState) -> Result<Locked<'_>, LockError> {
    let g = Locked::new(entry, pa, entry.lock());
    if is_state(g.word, expected) {
        Ok(g)
    } else {
        Err(LockError::WrongState(g.state()))
    }
}

/// Most granules one command locks at once (an RD and its 16 starting-level RTTs, or an RD, a
/// REC and its 16 auxiliary granules).
pub const MAX_LOCKED: usize = 18;

/// Guards of [`GranuleTable::lock_many`], in argument order.
pub type LockedSet<'t> = Vec<Locked<'t>, MAX_LOCKED>;

impl GranuleTable<'_> {
    /// Locks several granules, each in its expected state, in ascending address order, and
    /// returns the guards in argument order. All addresses are checked (alignment, bounds, then
    /// aliases) before any lock is taken; a granule in the wrong state fails at once, releasing
    /// everything taken so far, so no CPU ever waits while holding a granule it has no use for.
    /// The error names the argument (by position) that failed.
    ///
    /// Lock order across the RMM: granules locked together are taken in ascending address order
    /// (this function, [`Self::lock_two`]); otherwise a realm's RD is locked before anything the
    /// realm owns (its RTTs, RECs, data).
    pub fn lock_many(
        &self,
        wanted: &[(u64, GranuleState)],
    ) -> Result<LockedSet<'_>, (usize, LockError)> {
        if wanted.len() > MAX_LOCKED {
            return Err((MAX_LOCKED, LockError::Alias));
        }
        for (i, (pa, _)) in wanted.iter().enumerate() {
            self.entry(*pa).map_err(|e| (i, e))?;
        }
        for (i, (pa, _)) in wanted.iter().enumerate() {
            if wanted[..i].iter().any(|(q, _)| q == pa) {
                return Err((i, LockError::Alias));
            }
        }
        let mut order: Vec<usize, MAX_LOCKED> = (0..wanted.len()).collect();
        order.sort_unstable_by_key(|&i| wanted[i].0);
        let mut held: Vec<(usize, Locked<'_>), MAX_LOCKED> = Vec::new();
        for &i in &order {
            let (pa, state) = wanted[i];
            let g = self.lock(pa, state).map_err(|e| (i, e))?;
            // Capacity is MAX_LOCKED and `wanted` has at most that many entries.
            let _ = held.push((i, g));
        }
        held.sort_unstable_by_key(|(i, _)| *i);
        let mut out = Vec::new();
        for (_, g) in held {
            let _ = out.push(g);
        }
        Ok(out)
    }
}

/// A locked granule. Changes are written back, and the lock released, when the guard drops.
///
/// The field order is fixed so that the error of a `Result` of guards (placed after the
/// reference, whose null value tells the variants apart) overlaps the tracking word, not the
/// address: overlapped, the address would be stored and loaded a byte at a time.
#[repr(C)]
pub struct Locked<'t> {
    entry: &'t Entry,
    word: u16,
    pa: u64,
}

impl<'t> Locked<'t> {
    fn new(entry: &'t Entry, pa: u64, word: u16) -> Self {
        Self { entry, word, pa }
    }

    /// The granule's address.
    pub fn pa(&self) -> u64 {
        self.pa
    }

    /// Its state.
    pub fn state(&self) -> GranuleState {
        state_of(self.word)
    }

    /// Its reference count.
    pub fn refcount(&self) -> u16 {
        refcount_of(self.word)
    }

    /// Moves it to `state` (the caller has checked the transition is allowed).
    pub fn set_state(&mut self, state: GranuleState) {
        self.word = word(state, self.refcount());
    }

    /// Adds a reference. Returns false (and changes nothing) at [`MAX_REFCOUNT`].
    #[must_use]
    pub fn get_ref(&mut self) -> bool {
        let r = self.refcount();
        if r == MAX_REFCOUNT {
            return false;
        }
        self.word = word(self.state(), r + 1);
        true
    }

    /// Drops a reference. Returns false (and changes nothing) at zero.
    #[must_use]
    pub fn put_ref(&mut self) -> bool {
        let r = self.refcount();
        if r == 0 {
            return false;
        }
        self.word = word(self.state(), r - 1);
        true
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.entry.unlock_with(self.word);
    }
}
