//! Arm semihosting (AArch64 `HLT #0xF000`): files on the machine running the model, and exit.
//!
//! QEMU services these when started with `-semihosting-config enable=on`; the runner uses them to
//! collect each image's defmt stream in its own file and to learn the verdict of a scenario.
//! On a board without a semihosting debugger attached the `HLT` is an undefined instruction, so
//! images only call into here when built for a model.

use core::arch::asm;

const SYS_OPEN: u64 = 0x01;
const SYS_WRITE: u64 = 0x05;
const SYS_EXIT: u64 = 0x18;
/// `ADP_Stopped_ApplicationExit`: normal program exit, with a status.
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x2_0026;
/// SYS_OPEN mode "wb".
const MODE_WRITE_BINARY: u64 = 5;

fn call(op: u64, block: *const u64) -> u64 {
    let ret;
    // SAFETY: 1. The semihosting trap only reads the parameter block `block` points to (which
    // lives on the caller's stack for the duration of the call) and the buffers it names.
    // 2. It changes no register other than x0.
    unsafe {
        asm!("hlt #0xf000", inout("x0") op => ret, in("x1") block, options(nostack));
    }
    ret
}

/// Opens (creating or truncating) a host file for writing. Returns the handle.
pub fn open_write(path: &core::ffi::CStr) -> Option<u64> {
    let bytes = path.to_bytes();
    let block = [bytes.as_ptr() as u64, MODE_WRITE_BINARY, bytes.len() as u64];
    let h = call(SYS_OPEN, block.as_ptr());
    (h as i64 >= 0).then_some(h)
}

/// Writes all of `data` to an open handle. Returns false if the host wrote less.
pub fn write(handle: u64, data: &[u8]) -> bool {
    let block = [handle, data.as_ptr() as u64, data.len() as u64];
    call(SYS_WRITE, block.as_ptr()) == 0
}

/// Ends the simulation with `status` as the model's exit code.
pub fn exit(status: u32) -> ! {
    let block = [ADP_STOPPED_APPLICATION_EXIT, status as u64];
    call(SYS_EXIT, block.as_ptr());
    // Only reached if the model ignored the request.
    loop {
        aarch64_wfe();
    }
}

fn aarch64_wfe() {
    // SAFETY: `wfe` only waits for an event; it has no memory effects.
    unsafe { asm!("wfe", options(nomem, nostack)) };
}
