//! Arm semihosting (AArch64 `HLT #0xF000`): files on the machine running the model, and exit.
//!
//! QEMU services these when started with `-semihosting-config enable=on`; the runner uses them to
//! collect each image's defmt stream in its own file and to learn the verdict of a scenario.
//! On a board without a semihosting debugger attached the `HLT` is an undefined instruction, so
//! images only call into here when built for a model.

use core::arch::asm;

const SYS_OPEN: u64 = 0x01;
const SYS_CLOSE: u64 = 0x02;
const SYS_WRITE: u64 = 0x05;
const SYS_READ: u64 = 0x06;
const SYS_EXIT: u64 = 0x18;
/// `ADP_Stopped_ApplicationExit`: normal program exit, with a status.
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x2_0026;
/// SYS_OPEN mode "rb".
const MODE_READ_BINARY: u64 = 1;
/// SYS_OPEN mode "wb".
const MODE_WRITE_BINARY: u64 = 5;

fn call(op: u64, block: *const u64) -> u64 {
    let ret;
    // SAFETY: 1. The semihosting trap reads the parameter block `block` points to (which lives
    // on the caller's stack for the duration of the call) and reads or writes only the buffers it
    // names, which the caller owns for that long.
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

/// Reads the host file `path` into `buf`: the bytes read (fewer than `buf.len()` at the end of
/// the file), or `None` if it cannot be opened or read.
pub fn read_file(path: &core::ffi::CStr, buf: &mut [u8]) -> Option<usize> {
    let bytes = path.to_bytes();
    let block = [bytes.as_ptr() as u64, MODE_READ_BINARY, bytes.len() as u64];
    let h = call(SYS_OPEN, block.as_ptr());
    if h as i64 == -1 {
        return None;
    }
    let block = [h, buf.as_mut_ptr() as u64, buf.len() as u64];
    // SYS_READ returns how many bytes were NOT read.
    let unread = call(SYS_READ, block.as_ptr());
    let close = [h];
    call(SYS_CLOSE, close.as_ptr());
    (unread as usize <= buf.len()).then(|| buf.len() - unread as usize)
}

/// Closes a handle from [`open_write`].
pub fn close(handle: u64) {
    let block = [handle];
    call(SYS_CLOSE, block.as_ptr());
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
