//! The RMM's carve-out: the part of its Realm region after the image (`__rmm_free_start` ..
//! `__rmm_free_end` in the linker script), split once, by cold boot, from the bottom up:
//!
//! 1. one stack per CPU EL3 may enter the RMM on (x2 at cold boot, checked by the entry assembly
//!    before it is used): [`STACK_SIZE`] bytes each, of which the lowest page ([`STACK_GUARD`])
//!    stays unmapped, so that an overflow faults instead of corrupting what lies below;
//! 2. the RMM's stage-1 translation tables, as many as the boot's mappings take;
//! 3. granule tracking, sized from the manifest's DRAM;
//!
//! and the rest stays unused. Nothing here is sized for more CPUs than EL3 names, and `.bss`
//! keeps only what is fixed. Plain arithmetic, tested on the build machine: the entry assembly
//! and `aarch64` apply it.

use crate::limits::{MAX_CPUS, STACK_GUARD, STACK_SIZE};

const PAGE: u64 = 4096;

/// What every word of the stacks holds from cold boot until a stack first reaches it: a 32-bit
/// pattern twice (the entry assembly builds it from the low half). The deepest word that no longer
/// holds it shows how deep that stack has ever gone ([`stack_used`]).
pub const STACK_PAINT: u64 = 0x57AC_DEE9_57AC_DEE9;

const _: () = assert!(STACK_PAINT >> 32 == STACK_PAINT & 0xFFFF_FFFF);
const _: () =
    assert!((STACK_SIZE as u64).is_multiple_of(PAGE) && (STACK_GUARD as u64).is_multiple_of(PAGE));
const _: () = assert!(STACK_GUARD < STACK_SIZE);

/// The carve-out, `[start, end)`, page aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CarveOut {
    start: u64,
    end: u64,
}

impl CarveOut {
    /// `[start, end)`, if both are page aligned and `start <= end`.
    pub fn new(start: u64, end: u64) -> Option<Self> {
        let aligned = start.is_multiple_of(PAGE) && end.is_multiple_of(PAGE);
        (aligned && start <= end).then_some(Self { start, end })
    }

    /// First byte.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// First byte past it.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Its size.
    pub fn bytes(&self) -> u64 {
        self.end - self.start
    }

    /// The most CPUs that can have a stack: [`MAX_CPUS`] (the bound the entry assembly checks x2
    /// against; the linker script asserts the carve-out holds that many stacks), or fewer if this
    /// carve-out is smaller.
    pub fn max_cpus(&self) -> u64 {
        (MAX_CPUS as u64).min(self.bytes() / STACK_SIZE as u64)
    }

    /// The stacks of `num_cpus` CPUs at the carve-out's start, if `1 ..= max_cpus()`.
    pub fn stacks(&self, num_cpus: u64) -> Option<Stacks> {
        (1..=self.max_cpus()).contains(&num_cpus).then_some(Stacks {
            base: self.start,
            count: num_cpus,
        })
    }

    /// The stacks the entry assembly recorded at cold boot (their base and count), if they are
    /// what [`CarveOut::stacks`] gives for that count.
    pub fn recorded_stacks(&self, base: u64, count: u64) -> Option<Stacks> {
        self.stacks(count).filter(|s| s.base == base)
    }

    /// Where the translation tables may go once `stacks` are carved: the first table's address
    /// and how many tables fit before the end.
    pub fn table_room(&self, stacks: &Stacks) -> (u64, usize) {
        let start = stacks.end().min(self.end);
        (start, ((self.end - start) / PAGE) as usize)
    }

    /// The carve-out after cold boot: `stacks`, then `tables` translation tables, then the rest
    /// (for granule tracking); `None` if they do not fit or the stacks are not this carve-out's.
    pub fn split(&self, stacks: Stacks, tables: usize) -> Option<Split> {
        if stacks.base != self.start || stacks.count > self.max_cpus() {
            return None;
        }
        let tables_end = (tables as u64)
            .checked_mul(PAGE)?
            .checked_add(stacks.end())?;
        (tables_end <= self.end).then_some(Split {
            stacks,
            tables_end,
            end: self.end,
        })
    }
}

/// The per-CPU stacks: `count` blocks of [`STACK_SIZE`] bytes from `base`, CPU `i`'s the `i`-th,
/// its lowest [`STACK_GUARD`] bytes the unmapped guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stacks {
    base: u64,
    count: u64,
}

impl Stacks {
    /// CPUs with a stack (indexes `0..count`).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The lowest byte (CPU 0's guard page).
    pub fn base(&self) -> u64 {
        self.base
    }

    /// First byte past the last stack.
    pub fn end(&self) -> u64 {
        self.base + self.bytes()
    }

    /// Their size, guard pages included.
    pub fn bytes(&self) -> u64 {
        self.count * STACK_SIZE as u64
    }

    /// The initial SP of CPU `cpu` (the top of its stack), if it has one: what the entry
    /// assembly computes, `base + (cpu + 1) * STACK_SIZE`.
    pub fn top(&self, cpu: u64) -> Option<u64> {
        (cpu < self.count).then(|| self.base + (cpu + 1) * STACK_SIZE as u64)
    }

    /// The mapped part of CPU `cpu`'s stack, `[lowest, top)`, above its guard page.
    pub fn usable(&self, cpu: u64) -> Option<(u64, u64)> {
        let top = self.top(cpu)?;
        Some((top - (STACK_SIZE - STACK_GUARD) as u64, top))
    }
}

/// The carve-out after cold boot: the stacks, the tables, and the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    stacks: Stacks,
    tables_end: u64,
    end: u64,
}

impl Split {
    /// The stacks.
    pub fn stacks(&self) -> Stacks {
        self.stacks
    }

    /// The translation tables, `[start, end)`.
    pub fn tables(&self) -> (u64, u64) {
        (self.stacks.end(), self.tables_end)
    }

    /// What is left after the stacks and the tables, `[start, end)`: granule tracking goes here.
    pub fn rest(&self) -> (u64, u64) {
        (self.tables_end, self.end)
    }

    /// Bytes of [`Split::rest`].
    pub fn rest_bytes(&self) -> usize {
        (self.end - self.tables_end) as usize
    }

    /// Bytes the stacks and tables take: the carve-out's share of the RMM's fixed RAM.
    pub fn fixed_bytes(&self) -> u64 {
        self.tables_end - self.stacks.base
    }
}

/// Bytes of a painted stack of `usable` bytes ever used, given its words from the lowest up
/// (read only as far as the paint goes): from the top down to the deepest word that no longer
/// holds [`STACK_PAINT`]; all of it if even the lowest word was overwritten.
pub fn stack_used(usable: usize, words_from_lowest: impl IntoIterator<Item = u64>) -> usize {
    let untouched = words_from_lowest
        .into_iter()
        .take_while(|&w| w == STACK_PAINT)
        .count();
    usable.saturating_sub(untouched.saturating_mul(8))
}

#[cfg(test)]
mod tests;
