// Capacities of the RMM image, shared by the crate and its build script (which passes them to
// the linker script). Plain constants only: this file is `include!`d.

/// Most CPUs the RMM accepts: cold boot refuses a larger CPU count from EL3 (x2) before using
/// it. Nothing is sized for this many: the entry carves one stack per CPU EL3 names from the
/// carve-out (`carve_out.rs`), and the linker script checks the carve-out could hold this many.
/// TF-A `PLAT=qemu` names 32 (whatever `-smp` says).
pub const MAX_CPUS: usize = 64;
/// Stack bytes per CPU, including the unmapped guard page at the bottom that turns an overflow
/// into a fault instead of silent corruption: 28 KiB usable.
///
/// Measured (the entry paints the stacks at cold boot; the RMM logs "stack: deepest use so far"
/// at the end of cold boot and after each REALM_DESTROY): the deepest use is cold boot's, 22,096
/// bytes, in reading the attestation key and the platform token from EL3 (an 8 KiB token buffer
/// and the 8 KiB value it goes into; `main.rs` runs cold boot's steps one at a time so that their
/// large values are not on the stack together: it was 57,776 bytes before). After cold boot, with
/// CPU 0's stack painted again for the measurement, the RMI and RSI paths of every QEMU test
/// (boot, isolation, storm, the Linux realm on 4 CPUs; the boot test's and the Linux realm's
/// token signing included) went no deeper than 16,680 bytes; by the image's frame sizes that is
/// REC_CREATE, and REALM_CREATE is next (15 KiB). 28 KiB leaves 6.4 KiB over cold boot (30 % of
/// its peak) and 11.7 KiB over the RMI paths; the QEMU boot test fails if the deepest use comes
/// within an eighth of the usable size.
pub const STACK_SIZE: usize = 0x8000;
/// The guard page at the bottom of each CPU's stack.
pub const STACK_GUARD: usize = 0x1000;
