//! Entry, exception vectors, the SMC conduit to EL3 and ID-register reads, at Realm EL2.

use core::arch::{asm, global_asm};

use aarch64_cpu::registers::{Readable, ID_AA64DFR0_EL1, ID_AA64MMFR0_EL1};
use hostcall_abi::el3::{BootStatus, RMM_BOOT_COMPLETE, SHARED_BUFFER_SIZE};

use crate::features::IdRegisters;
use crate::limits::{MAX_CPUS, STACK_SIZE};

// One entry for cold and warm boot (EL3 enters every CPU here with the MMU off):
// 1. x0 = CPU index. An index beyond our stacks is reported to EL3 at once, with no stack.
// 2. SP = top of this CPU's stack.
// 3. The first entry ever is the cold boot (EL3 boots the primary before any other CPU): it
//    clears `.bss`; the `cold_pending` word lives in `.data` so the clear cannot touch it.
// 4. rmm_main(x0..x3 as EL3 passed them, x4 = 1 on cold boot).
global_asm!(
    r#"
    .section .data.rmm_cold_pending, "aw"
    .balign 8
rmm_cold_pending:
    .quad 1

    .section .text.entry, "ax"
    .global rmm_entry
rmm_entry:
    cmp     x0, #{max_cpus}
    b.hs    3f
    adrp    x9, __stacks_start
    add     x9, x9, :lo12:__stacks_start
    add     x10, x0, #1
    mov     x11, #{stack_size}
    madd    x9, x10, x11, x9
    mov     sp, x9
    adrp    x9, vectors
    add     x9, x9, :lo12:vectors
    msr     vbar_el2, x9
    isb
    mov     x4, #0
    adrp    x9, rmm_cold_pending
    ldr     x10, [x9, :lo12:rmm_cold_pending]
    cbz     x10, 2f
    str     xzr, [x9, :lo12:rmm_cold_pending]
    adrp    x9, __bss_start
    add     x9, x9, :lo12:__bss_start
    adrp    x10, __bss_end
    add     x10, x10, :lo12:__bss_end
1:  cmp     x9, x10
    b.hs    4f
    stp     xzr, xzr, [x9], #16
    b       1b
4:  mov     x4, #1
2:  bl      rmm_main
3:  mov     x0, #{boot_complete_lo}
    movk    x0, #{boot_complete_hi}, lsl #16
    mov     x1, #{cpu_id_out_of_range}
    smc     #0
5:  wfe
    b       5b

    .section .text.vectors, "ax"
    .balign 2048
vectors:
    .rept 16
    .balign 128
    b       rmm_exception
    .endr
    "#,
    max_cpus = const MAX_CPUS,
    stack_size = const STACK_SIZE,
    boot_complete_lo = const RMM_BOOT_COMPLETE & 0xFFFF,
    boot_complete_hi = const RMM_BOOT_COMPLETE >> 16,
    cpu_id_out_of_range = const BootStatus::CpuIdOutOfRange as i64,
);

/// Issues an SMC to EL3 with x0..x7 and returns x0..x7 as EL3 left them.
pub fn smc(regs: [u64; 8]) -> [u64; 8] {
    let mut r = regs;
    // SAFETY: 1. An SMC to EL3 changes only registers, which are all declared here.
    // 2. EL3 (TF-A's RMMD) preserves the RMM's other registers and memory.
    unsafe {
        asm!(
            "smc #0",
            inout("x0") r[0], inout("x1") r[1], inout("x2") r[2], inout("x3") r[3],
            inout("x4") r[4], inout("x5") r[5], inout("x6") r[6], inout("x7") r[7],
            lateout("x8") _, lateout("x9") _, lateout("x10") _, lateout("x11") _,
            lateout("x12") _, lateout("x13") _, lateout("x14") _, lateout("x15") _,
            lateout("x16") _, lateout("x17") _,
            options(nostack),
        );
    }
    r
}

/// Reads the ID registers RMI_FEATURES is derived from.
pub fn id_registers() -> IdRegisters {
    let ich_vtr: u64;
    // SAFETY: reading ICH_VTR_EL2 at EL2 has no side effects (GICv3 system registers are
    // enabled by EL3 for the Realm world).
    unsafe { asm!("mrs {}, S3_4_C12_C11_1", out(reg) ich_vtr, options(nomem, nostack)) };
    IdRegisters {
        id_aa64mmfr0: ID_AA64MMFR0_EL1.get(),
        id_aa64dfr0: ID_AA64DFR0_EL1.get(),
        ich_vtr,
    }
}

/// Copies the shared buffer into RMM memory, so that parsing never reads memory EL3 may change.
pub fn copy_shared_buffer(pa: u64) -> [u8; SHARED_BUFFER_SIZE] {
    let mut buf = [0u8; SHARED_BUFFER_SIZE];
    let src = pa as *const u64;
    for (i, chunk) in buf.chunks_exact_mut(8).enumerate() {
        // SAFETY: 1. `boot::cold_boot` only calls this for a granule-aligned, non-zero PA that EL3
        // names as the shared buffer. 2. The MMU is off, so the PA is the address, and EL3 maps
        // the page Realm in the GPT.
        let w = unsafe { core::ptr::read_volatile(src.add(i)) };
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    buf
}

/// Waits forever (the CPU is of no further use).
pub fn park() -> ! {
    loop {
        // SAFETY: `wfe` only waits for an event.
        unsafe { asm!("wfe", options(nomem, nostack)) };
    }
}

/// Any exception taken at R-EL2 is a fault in the RMM itself: log it and stop this CPU.
#[no_mangle]
extern "C" fn rmm_exception() -> ! {
    let (esr, elr, far): (u64, u64, u64);
    // SAFETY: reading the syndrome registers at EL2 has no side effects.
    unsafe {
        asm!("mrs {}, esr_el2", "mrs {}, elr_el2", "mrs {}, far_el2",
             out(reg) esr, out(reg) elr, out(reg) far, options(nomem, nostack));
    }
    defmt::error!(
        "fatal exception at R-EL2: ESR {=u64:#x} ELR {=u64:#x} FAR {=u64:#x}",
        esr,
        elr,
        far
    );
    park()
}

extern "C" {
    static __rmm_free_start: u8;
    static __rmm_free_end: u8;
}

/// Bytes of the RMM region left after the image and its stacks.
pub fn free_bytes() -> usize {
    // Taking the address of an extern static reads no memory, so needs no `unsafe`.
    let (start, end) = (
        &raw const __rmm_free_start as usize,
        &raw const __rmm_free_end as usize,
    );
    end.saturating_sub(start)
}

/// Zeroes `words` u16 of the free region and returns them as granule-tracking storage.
/// Called once, by cold boot, with `words * 2 <= free_bytes()`.
pub fn tracking_storage(words: usize) -> &'static [core::sync::atomic::AtomicU16] {
    assert!(
        words * 2 <= free_bytes(),
        "tracking storage exceeds the RMM region"
    );
    // SAFETY: 1. The range lies in the RMM's own Realm region past every section the linker
    // placed (checked above), so nothing else uses it. 2. Cold boot runs once, before any other
    // CPU enters, so no one else holds a reference. 3. Zeroed u16s are valid AtomicU16s.
    unsafe {
        let start = &raw const __rmm_free_start as *mut u16;
        core::ptr::write_bytes(start, 0, words);
        core::slice::from_raw_parts(start as *const core::sync::atomic::AtomicU16, words)
    }
}

/// EL3 services through SMC.
pub struct SmcEl3;

impl crate::el3::El3 for SmcEl3 {
    fn gtsi_delegate(&self, pa: u64) -> Result<(), hostcall_abi::el3::El3Status> {
        el3_status(
            smc([
                hostcall_abi::el3::RMM_GTSI_DELEGATE as u64,
                pa,
                0,
                0,
                0,
                0,
                0,
                0,
            ])[0],
        )
    }

    fn gtsi_undelegate(&self, pa: u64) -> Result<(), hostcall_abi::el3::El3Status> {
        el3_status(
            smc([
                hostcall_abi::el3::RMM_GTSI_UNDELEGATE as u64,
                pa,
                0,
                0,
                0,
                0,
                0,
                0,
            ])[0],
        )
    }
}

fn el3_status(x0: u64) -> Result<(), hostcall_abi::el3::El3Status> {
    use hostcall_abi::el3::El3Status;
    match El3Status::from_raw(x0) {
        Some(El3Status::Ok) => Ok(()),
        Some(e) => Err(e),
        None => Err(El3Status::Unknown),
    }
}

/// Delegated memory, reached by physical address (the MMU is off at R-EL2, so accesses use the
/// Realm PAS directly).
pub struct PhysMemory;

impl crate::memory::GranuleMemory for PhysMemory {
    fn wipe(&self, pa: u64) {
        let p = pa as *mut u64;
        for i in 0..hostcall_abi::GRANULE_SIZE / 8 {
            // SAFETY: 1. The caller holds the lock of a DELEGATED granule at `pa` (granule
            // aligned, in DRAM, Realm PAS), which nothing else may access meanwhile. 2. With the
            // MMU off the PA is the address.
            unsafe { core::ptr::write_volatile(p.add(i), 0) };
        }
    }
}
