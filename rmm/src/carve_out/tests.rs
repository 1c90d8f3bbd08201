//! The carve-out's split: stacks for the CPUs EL3 names, then tables, then the rest.

use super::*;

const S: u64 = STACK_SIZE as u64;
/// QEMU's carve-out shape: a page-aligned start after the image, 24 MiB region end.
const START: u64 = 0x4015_0000;
const END: u64 = 0x4190_0000;

fn qemu() -> CarveOut {
    CarveOut::new(START, END).expect("aligned")
}

#[test]
fn carve_out_must_be_page_aligned_and_ordered() {
    assert!(CarveOut::new(START + 8, END).is_none());
    assert!(CarveOut::new(START, END - 8).is_none());
    assert!(CarveOut::new(END, START).is_none());
    let empty = CarveOut::new(START, START).expect("empty is a carve-out");
    assert_eq!((empty.bytes(), empty.max_cpus()), (0, 0));
    assert_eq!(empty.stacks(1), None);
}

#[test]
fn stacks_are_carved_only_for_the_cpus_el3_names() {
    let c = qemu();
    assert_eq!(c.max_cpus(), MAX_CPUS as u64);
    assert_eq!(c.stacks(0), None, "no CPUs: refused");
    assert_eq!(c.stacks(MAX_CPUS as u64 + 1), None, "beyond the bound");
    assert_eq!(c.stacks(u64::MAX), None);
    let s = c.stacks(4).expect("4 CPUs");
    assert_eq!((s.base(), s.count(), s.bytes()), (START, 4, 4 * S));
    assert_eq!(s.end(), START + 4 * S);
    let all = c.stacks(MAX_CPUS as u64).expect("the bound itself");
    assert_eq!(all.end(), START + MAX_CPUS as u64 * S);
}

#[test]
fn a_small_carve_out_bounds_the_cpu_count() {
    let c = CarveOut::new(START, START + 3 * S + 4096).expect("aligned");
    assert_eq!(c.max_cpus(), 3);
    assert!(c.stacks(3).is_some());
    assert!(c.stacks(4).is_none());
}

#[test]
fn each_cpu_gets_its_own_stack_above_its_guard_page() {
    let s = qemu().stacks(3).expect("3 CPUs");
    // The entry assembly: SP = base + (cpu + 1) * STACK_SIZE.
    assert_eq!(s.top(0), Some(START + S));
    assert_eq!(s.top(2), Some(START + 3 * S));
    assert_eq!(s.top(3), None, "a CPU index at the count has no stack");
    assert_eq!(s.top(u64::MAX), None);
    let (lo, hi) = s.usable(1).expect("CPU 1");
    assert_eq!(hi, START + 2 * S);
    assert_eq!(
        lo,
        START + S + STACK_GUARD as u64,
        "the guard page is left out"
    );
    // No two CPUs' usable ranges touch: a guard page lies under each.
    let (_, top0) = s.usable(0).expect("CPU 0");
    assert_eq!(lo - top0, STACK_GUARD as u64);
    assert_eq!(s.usable(0).expect("CPU 0").0, START + STACK_GUARD as u64);
    assert_eq!(s.usable(3), None);
}

#[test]
fn recorded_stacks_must_be_the_carve_outs() {
    let c = qemu();
    assert_eq!(c.recorded_stacks(START, 2), c.stacks(2));
    assert_eq!(c.recorded_stacks(START + 4096, 2), None, "another base");
    assert_eq!(c.recorded_stacks(START, 0), None, "never recorded");
    assert_eq!(c.recorded_stacks(START, MAX_CPUS as u64 + 1), None);
}

#[test]
fn tables_and_tracking_follow_the_stacks() {
    let c = qemu();
    let s = c.stacks(4).expect("4 CPUs");
    let (at, room) = c.table_room(&s);
    assert_eq!(at, s.end());
    assert_eq!(room as u64, (END - s.end()) / 4096);
    let split = c.split(s, 10).expect("fits");
    assert_eq!(split.stacks(), s);
    assert_eq!(split.tables(), (s.end(), s.end() + 10 * 4096));
    assert_eq!(split.rest(), (s.end() + 10 * 4096, END));
    assert_eq!(split.rest_bytes() as u64, END - s.end() - 10 * 4096);
    assert_eq!(split.fixed_bytes(), 4 * S + 10 * 4096);
    // Every table the room has: nothing left; one more: refused.
    let full = c.split(s, room).expect("exactly full");
    assert_eq!(full.rest_bytes(), 0);
    assert_eq!(c.split(s, room + 1), None);
    assert_eq!(c.split(s, usize::MAX), None, "no overflow");
}

#[test]
fn a_split_needs_this_carve_outs_stacks() {
    let c = qemu();
    let small = CarveOut::new(START, START + 2 * S).expect("aligned");
    let s = c.stacks(3).expect("3 CPUs");
    assert_eq!(small.split(s, 0), None, "more stacks than it holds");
    let other = CarveOut::new(START + 4096, END).expect("aligned");
    assert_eq!(other.split(s, 0), None, "stacks at another base");
}

#[test]
fn stack_use_is_read_from_the_paint() {
    let usable = 1024;
    let words = usable / 8;
    let untouched = vec![STACK_PAINT; words];
    assert_eq!(stack_used(usable, untouched.clone()), 0);
    let mut used = untouched.clone();
    // The deepest write, 100 words above the lowest; a word above it that happens to equal the
    // paint does not count as unused.
    used[100] = 0;
    used[101] = STACK_PAINT;
    assert_eq!(stack_used(usable, used), usable - 100 * 8);
    let mut full = untouched;
    full[0] = 1;
    assert_eq!(stack_used(usable, full), usable, "used to its last word");
    // The walk stops at the first used word.
    let mut reads = 0;
    let lazy = (0..words).map(|i| {
        reads += 1;
        if i < 3 {
            STACK_PAINT
        } else {
            0
        }
    });
    assert_eq!(stack_used(usable, lazy), usable - 24);
    assert_eq!(reads, 4);
}
