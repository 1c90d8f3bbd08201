// Capacities of the host stub image, shared with its build script. Plain constants only: this
// file is `include!`d.

/// Most CPUs the host stub brings up (one stack each).
pub const MAX_CPUS: usize = 16;
/// Stack bytes per CPU. The primary's deepest point is about 66 KiB (the payload scenario's
/// VMM, token collector and KVM model on the stack; measured by the image's stack paint).
pub const STACK_SIZE: usize = 0x2_0000;
/// Memory reserved for the image, its data and stacks.
pub const IMAGE_SIZE: usize = 0x0100_0000;
