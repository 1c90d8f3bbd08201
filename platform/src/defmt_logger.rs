//! The defmt global logger of both images: frames go, one semihosting write each, to a host file
//! named by the image ([`init`]); timestamps are the system counter, common to all CPUs, so the
//! runner can merge the RMM's and the host's streams in time order.
//!
//! Any CPU may log: a spinlock serialises frames. Interrupts are never enabled in the images, so
//! no handler can re-enter the logger on the same CPU.

use core::cell::UnsafeCell;
use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use aarch64_cpu::registers::{Readable, CNTPCT_EL0};

use crate::semihosting;

/// Largest frame buffered before it is flushed early (a frame split in two writes is still
/// intact in the file, since the lock is held throughout).
const FRAME_BUFFER: usize = 256;
const NO_HANDLE: u64 = u64::MAX;

static LOCK: AtomicBool = AtomicBool::new(false);
static HANDLE: AtomicU64 = AtomicU64::new(NO_HANDLE);

struct FrameState {
    encoder: defmt::Encoder,
    buf: [u8; FRAME_BUFFER],
    len: usize,
}

struct Shared(UnsafeCell<FrameState>);
// SAFETY: the state is only touched between `acquire` and `release`, which hold `LOCK`.
unsafe impl Sync for Shared {}

static STATE: Shared = Shared(UnsafeCell::new(FrameState {
    encoder: defmt::Encoder::new(),
    buf: [0; FRAME_BUFFER],
    len: 0,
}));

/// Opens the host file that receives this image's frames. Frames logged before this are dropped.
pub fn init(path: &CStr) {
    if let Some(h) = semihosting::open_write(path) {
        HANDLE.store(h, Ordering::Release);
    }
}

defmt::timestamp!("{=u64}", CNTPCT_EL0.get());

#[defmt::global_logger]
struct SemihostingLogger;

impl FrameState {
    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.len == FRAME_BUFFER {
                self.flush();
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
    }

    fn flush(&mut self) {
        let h = HANDLE.load(Ordering::Acquire);
        if h != NO_HANDLE && self.len != 0 {
            semihosting::write(h, &self.buf[..self.len]);
        }
        self.len = 0;
    }
}

fn with_state(f: impl FnOnce(&mut FrameState)) {
    // SAFETY: callers are `acquire`/`write`/`flush`/`release`, which defmt only calls while this
    // CPU holds `LOCK`, so no other reference to the state exists.
    f(unsafe { &mut *STATE.0.get() })
}

// SAFETY: `acquire` takes a spinlock that `release` gives back; frames never interleave.
unsafe impl defmt::Logger for SemihostingLogger {
    fn acquire() {
        while LOCK
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        with_state(|s| {
            let FrameState { encoder, .. } = s;
            let mut out = [0u8; 8];
            let mut n = 0;
            encoder.start_frame(|b| {
                out[n..n + b.len()].copy_from_slice(b);
                n += b.len();
            });
            s.push(&out[..n]);
        });
    }

    unsafe fn flush() {
        with_state(|s| s.flush());
    }

    unsafe fn release() {
        with_state(|s| {
            let mut out = [0u8; 8];
            let mut n = 0;
            s.encoder.end_frame(|b| {
                out[n..n + b.len()].copy_from_slice(b);
                n += b.len();
            });
            s.push(&out[..n]);
            s.flush();
        });
        LOCK.store(false, Ordering::Release);
    }

    unsafe fn write(bytes: &[u8]) {
        with_state(|s| {
            // The encoder emits a few output bytes per input byte; stage them in small chunks.
            for chunk in bytes.chunks(64) {
                let mut out = [0u8; 160];
                let mut n = 0;
                s.encoder.write(chunk, |b| {
                    out[n..n + b.len()].copy_from_slice(b);
                    n += b.len();
                });
                s.push(&out[..n]);
            }
        });
    }
}
