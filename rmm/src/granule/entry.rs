//! One granule's tracking word: `lock:1 | state:3 | refcount:12`, in an atomic u16.

use super::atomic::{spin_loop, AtomicU16, Ordering};

/// Granule states of RMM 1.0 (A2.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u8)]
pub enum GranuleState {
    /// Owned by the host (NS PAS).
    Undelegated = 0,
    /// Delegated to the realm world, unused.
    Delegated = 1,
    /// Realm descriptor.
    Rd = 2,
    /// Realm execution context.
    Rec = 3,
    /// Auxiliary REC storage.
    RecAux = 4,
    /// Realm data.
    Data = 5,
    /// Realm translation table.
    Rtt = 6,
}

impl GranuleState {
    const fn from_bits(bits: u16) -> Self {
        match bits {
            1 => Self::Delegated,
            2 => Self::Rd,
            3 => Self::Rec,
            4 => Self::RecAux,
            5 => Self::Data,
            6 => Self::Rtt,
            // 0, and 7 which is never stored.
            _ => Self::Undelegated,
        }
    }
}

const LOCK: u16 = 1 << 15;
const STATE_SHIFT: u16 = 12;
const STATE_MASK: u16 = 0x7 << STATE_SHIFT;
const REF_MASK: u16 = 0x0FFF;
/// Largest reference count a granule can hold (an RTT counts at most 512 entries, an RD its
/// RECs; both fit with room to spare).
pub const MAX_REFCOUNT: u16 = REF_MASK;

/// The tracking word. Zero is "unlocked, UNDELEGATED, no references", so zeroed memory is a
/// valid table.
#[repr(transparent)]
pub struct Entry(AtomicU16);

impl Entry {
    /// Spins until this CPU owns the lock; returns the word as it was.
    pub fn lock(&self) -> u16 {
        loop {
            let cur = self.0.load(Ordering::Relaxed);
            if cur & LOCK == 0
                && self
                    .0
                    .compare_exchange_weak(cur, cur | LOCK, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return cur;
            }
            spin_loop();
        }
    }

    /// Takes the lock if it is free, at once; `None` if another CPU holds it.
    pub fn try_lock(&self) -> Option<u16> {
        let cur = self.0.load(Ordering::Relaxed);
        if cur & LOCK != 0 {
            return None;
        }
        self.0
            .compare_exchange(cur, cur | LOCK, Ordering::Acquire, Ordering::Relaxed)
            .ok()
    }

    /// Stores `word` (without the lock bit) and releases the lock.
    pub fn unlock_with(&self, word: u16) {
        self.0.store(word & !LOCK, Ordering::Release);
    }

    /// The state, read without locking (for diagnostics and tests).
    pub fn peek(&self) -> (GranuleState, u16) {
        let w = self.0.load(Ordering::Acquire);
        (state_of(w), refcount_of(w))
    }
}

/// True if the state field of `word` is `state`: a mask and a compare, without decoding it.
pub const fn is_state(word: u16, state: GranuleState) -> bool {
    word & STATE_MASK == (state as u16) << STATE_SHIFT
}

/// State field of a word.
pub const fn state_of(word: u16) -> GranuleState {
    GranuleState::from_bits((word & STATE_MASK) >> STATE_SHIFT)
}

/// Reference count field of a word.
pub const fn refcount_of(word: u16) -> u16 {
    word & REF_MASK
}

/// A word with `state` and `refcount` (unlocked).
pub const fn word(state: GranuleState, refcount: u16) -> u16 {
    ((state as u16) << STATE_SHIFT) | (refcount & REF_MASK)
}
