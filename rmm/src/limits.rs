// Capacities of the RMM image, shared by the crate and its build script (which sizes the stack
// region in the linker script from them). Plain constants only: this file is `include!`d.

/// Most CPUs the RMM runs on (one stack each). TF-A `PLAT=qemu` reports 32.
pub const MAX_CPUS: usize = 64;
/// Stack bytes per CPU, including the unmapped guard page at the bottom that turns an overflow
/// into a fault instead of silent corruption.
pub const STACK_SIZE: usize = 0x10000;
/// The guard page at the bottom of each CPU's stack.
pub const STACK_GUARD: usize = 0x1000;
