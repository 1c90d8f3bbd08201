// Capacities of the RMM image, shared by the crate and its build script (which passes them to
// the linker script). Plain constants only: this file is `include!`d.

/// Most CPUs the RMM accepts: cold boot refuses a larger CPU count from EL3 (x2) before using
/// it. Nothing is sized for this many: the entry carves one stack per CPU EL3 names from the
/// carve-out (`carve_out.rs`), and the linker script checks the carve-out could hold this many.
/// TF-A `PLAT=qemu` names 32 (whatever `-smp` says).
pub const MAX_CPUS: usize = 64;
/// Stack bytes per CPU, including the unmapped guard page at the bottom that turns an overflow
/// into a fault instead of silent corruption.
pub const STACK_SIZE: usize = 0x10000;
/// The guard page at the bottom of each CPU's stack.
pub const STACK_GUARD: usize = 0x1000;
