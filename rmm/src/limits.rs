// Capacities of the RMM image, shared by the crate and its build script (which sizes the stack
// region in the linker script from them). Plain constants only: this file is `include!`d.

/// Most CPUs the RMM runs on (one stack each). TF-A `PLAT=qemu` reports 32.
pub const MAX_CPUS: usize = 64;
/// Stack bytes per CPU.
pub const STACK_SIZE: usize = 0x8000;
