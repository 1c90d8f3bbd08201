//! Entry, exception vectors, the SMC conduit to EL3 and ID-register reads, at Realm EL2.

use core::arch::{asm, global_asm};

use aarch64_cpu::registers::{Readable, ID_AA64DFR0_EL1, ID_AA64MMFR0_EL1, ID_AA64MMFR1_EL1};
use hostcall_abi::el3::{BootStatus, RMM_BOOT_COMPLETE, SHARED_BUFFER_SIZE};

use super::trap_policy::{self, CPTR_REALM_TRAPS, CPTR_TFP, CPTR_TZ};
use crate::features::IdRegisters;
use crate::limits::{MAX_CPUS, STACK_GUARD, STACK_SIZE};

// One entry for cold and warm boot (EL3 enters every CPU here with the MMU off):
// 1. x0 = CPU index. An index beyond our stacks is reported to EL3 at once, with no stack.
// 2. SP = top of this CPU's stack, also kept in TPIDR_EL2 for the fatal-exception path.
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
    msr     tpidr_el2, x9           // the stack's top, for rmm_fatal
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
    .rept 4                         // 0x000-0x180: current EL with SP_EL0 (never used)
    .balign 128
    b       rmm_fatal
    .endr
    .balign 128                     // 0x200: synchronous, current EL with SP_EL2
    b       rmm_sync_spx
    .rept 3                         // 0x280-0x380: IRQ/FIQ/SError at R-EL2 (masked)
    .balign 128
    b       rmm_fatal
    .endr
    .balign 128                     // 0x400: synchronous from the realm (AArch64)
    stp     x0, x1, [sp, #-16]!
    mov     x1, #0
    b       rmm_realm_exit
    .balign 128                     // 0x480: IRQ while the realm ran
    stp     x0, x1, [sp, #-16]!
    mov     x1, #1
    b       rmm_realm_exit
    .balign 128                     // 0x500: FIQ
    stp     x0, x1, [sp, #-16]!
    mov     x1, #2
    b       rmm_realm_exit
    .balign 128                     // 0x580: SError
    stp     x0, x1, [sp, #-16]!
    mov     x1, #3
    b       rmm_realm_exit
    .rept 4                         // 0x600-0x780: AArch32 lower EL (realms are AArch64)
    .balign 128
    b       rmm_fatal
    .endr

// rmm_run_realm(gprs = x0): saves the RMM's callee-saved registers and the gprs pointer on its
// stack, loads the realm's x0..x30 and erets (ELR_EL2/SPSR_EL2 set by the caller). The realm's
// next exception lands in one of the lower-EL vectors above, which push the realm's x0/x1 and
// the exit class and come to rmm_realm_exit: it stores x0..x30 back through the saved pointer,
// restores the RMM's registers and returns the class (0 sync, 1 IRQ, 2 FIQ, 3 SError).
    .text
    // rmm_fp_save(x0 = &mut FpRegs) / rmm_fp_load(x0 = &FpRegs): V0..V31, FPSR, FPCR.
    .arch_extension fp
    .arch_extension simd
    .global rmm_fp_save
rmm_fp_save:
    stp     q0, q1, [x0, #0]
    stp     q2, q3, [x0, #32]
    stp     q4, q5, [x0, #64]
    stp     q6, q7, [x0, #96]
    stp     q8, q9, [x0, #128]
    stp     q10, q11, [x0, #160]
    stp     q12, q13, [x0, #192]
    stp     q14, q15, [x0, #224]
    stp     q16, q17, [x0, #256]
    stp     q18, q19, [x0, #288]
    stp     q20, q21, [x0, #320]
    stp     q22, q23, [x0, #352]
    stp     q24, q25, [x0, #384]
    stp     q26, q27, [x0, #416]
    stp     q28, q29, [x0, #448]
    stp     q30, q31, [x0, #480]
    mrs     x1, fpsr
    mrs     x2, fpcr
    add     x0, x0, #512
    stp     x1, x2, [x0]
    ret
    .global rmm_fp_load
rmm_fp_load:
    ldp     q0, q1, [x0, #0]
    ldp     q2, q3, [x0, #32]
    ldp     q4, q5, [x0, #64]
    ldp     q6, q7, [x0, #96]
    ldp     q8, q9, [x0, #128]
    ldp     q10, q11, [x0, #160]
    ldp     q12, q13, [x0, #192]
    ldp     q14, q15, [x0, #224]
    ldp     q16, q17, [x0, #256]
    ldp     q18, q19, [x0, #288]
    ldp     q20, q21, [x0, #320]
    ldp     q22, q23, [x0, #352]
    ldp     q24, q25, [x0, #384]
    ldp     q26, q27, [x0, #416]
    ldp     q28, q29, [x0, #448]
    ldp     q30, q31, [x0, #480]
    add     x0, x0, #512
    ldp     x1, x2, [x0]
    msr     fpsr, x1
    msr     fpcr, x2
    ret

    // rmm_sve_save(x0 = &mut SveRegs) / rmm_sve_load(x0 = &SveRegs): Z0..Z31, P0..P15 and FFR at
    // the current vector length VL (CPTR_EL2.TZ clear): Z at 0, P from 32 * VL, FFR after P15.
    // FFR goes through P0, so P0 is saved before it and loaded after it.
    .arch_extension sve
    .global rmm_sve_save
rmm_sve_save:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    str     z\n, [x0, #\n, mul vl]
    .endr
    addvl   x0, x0, #16
    addvl   x0, x0, #16
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    str     p\n, [x0, #\n, mul vl]
    .endr
    rdffr   p0.b
    str     p0, [x0, #16, mul vl]
    ret
    .global rmm_sve_load
rmm_sve_load:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ldr     z\n, [x0, #\n, mul vl]
    .endr
    addvl   x0, x0, #16
    addvl   x0, x0, #16
    ldr     p0, [x0, #16, mul vl]
    wrffr   p0.b
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    ldr     p\n, [x0, #\n, mul vl]
    .endr
    ret

    .global rmm_run_realm
rmm_run_realm:
    stp     x29, x30, [sp, #-16]!
    stp     x27, x28, [sp, #-16]!
    stp     x25, x26, [sp, #-16]!
    stp     x23, x24, [sp, #-16]!
    stp     x21, x22, [sp, #-16]!
    stp     x19, x20, [sp, #-16]!
    stp     x0, xzr, [sp, #-16]!
    ldp     x2, x3, [x0, #16]
    ldp     x4, x5, [x0, #32]
    ldp     x6, x7, [x0, #48]
    ldp     x8, x9, [x0, #64]
    ldp     x10, x11, [x0, #80]
    ldp     x12, x13, [x0, #96]
    ldp     x14, x15, [x0, #112]
    ldp     x16, x17, [x0, #128]
    ldp     x18, x19, [x0, #144]
    ldp     x20, x21, [x0, #160]
    ldp     x22, x23, [x0, #176]
    ldp     x24, x25, [x0, #192]
    ldp     x26, x27, [x0, #208]
    ldp     x28, x29, [x0, #224]
    ldr     x30, [x0, #240]
    ldp     x0, x1, [x0]
    eret
    dsb     nsh
    isb

rmm_realm_exit:
    ldr     x0, [sp, #16]           // the gprs pointer, under the realm's x0/x1
    stp     x2, x3, [x0, #16]
    stp     x4, x5, [x0, #32]
    stp     x6, x7, [x0, #48]
    stp     x8, x9, [x0, #64]
    stp     x10, x11, [x0, #80]
    stp     x12, x13, [x0, #96]
    stp     x14, x15, [x0, #112]
    stp     x16, x17, [x0, #128]
    stp     x18, x19, [x0, #144]
    stp     x20, x21, [x0, #160]
    stp     x22, x23, [x0, #176]
    stp     x24, x25, [x0, #192]
    stp     x26, x27, [x0, #208]
    stp     x28, x29, [x0, #224]
    str     x30, [x0, #240]
    ldp     x2, x3, [sp], #16       // the realm's x0, x1
    stp     x2, x3, [x0]
    add     sp, sp, #16             // drop the gprs pointer
    ldp     x19, x20, [sp], #16
    ldp     x21, x22, [sp], #16
    ldp     x23, x24, [sp], #16
    ldp     x25, x26, [sp], #16
    ldp     x27, x28, [sp], #16
    ldp     x29, x30, [sp], #16
    mov     x0, x1
    ret

    .section .text.vectors, "ax"
// A data abort inside the NS copy loop (a granule protection fault because the host named a
// Realm/Secure/Root granule, or any other abort on the NS view) resumes at the loop's fault
// exit, which returns 1. Every other synchronous exception is fatal. Clobbers x9, x10, which
// the copy routine does not use.
rmm_sync_spx:
    mrs     x9, esr_el2
    lsr     x10, x9, #26
    cmp     x10, #0x25              // EC: data abort without a change in exception level
    b.ne    rmm_fatal
    mrs     x9, elr_el2
    adr     x10, rmm_ns_copy
    cmp     x9, x10
    b.lo    rmm_fatal
    adr     x10, rmm_ns_copy_end
    cmp     x9, x10
    b.hs    rmm_fatal
    adr     x9, rmm_ns_copy_fault
    msr     elr_el2, x9
    eret

// Any other exception at R-EL2 is fatal: rmm_exception logs it and parks the CPU. It runs from
// the top of this CPU's stack (TPIDR_EL2, set at entry), not where SP was: after a stack
// overflow into the guard page, the faulting SP would only fault again.
rmm_fatal:
    mrs     x9, tpidr_el2
    mov     sp, x9
    b       rmm_exception

// rmm_ns_copy(dst = x0, src = x1, len = x2): copies len bytes (a multiple of 8, both 8-aligned)
// a doubleword at a time; returns 0, or 1 if an access faulted.
    .text
    .global rmm_ns_copy
rmm_ns_copy:
    // len is a multiple of 8: 64 bytes at a time, then 32, 16, and the odd doubleword.
    subs    x2, x2, #64
    b.lo    4f
    ldp     x3, x4, [x1]
    ldp     x5, x6, [x1, #16]
    ldp     x7, x8, [x1, #32]
    ldp     x11, x12, [x1, #48]
    add     x1, x1, #64
    stp     x3, x4, [x0]
    stp     x5, x6, [x0, #16]
    stp     x7, x8, [x0, #32]
    stp     x11, x12, [x0, #48]
    add     x0, x0, #64
    b       rmm_ns_copy
4:  tbz     x2, #5, 1f
    ldp     x3, x4, [x1], #16
    ldp     x5, x6, [x1], #16
    stp     x3, x4, [x0], #16
    stp     x5, x6, [x0], #16
1:  tbz     x2, #4, 2f
    ldp     x3, x4, [x1], #16
    stp     x3, x4, [x0], #16
2:  tbz     x2, #3, 3f
    ldr     x3, [x1]
    str     x3, [x0]
3:  mov     x0, #0
    ret
rmm_ns_copy_end:
rmm_ns_copy_fault:
    mov     x0, #1
    ret
    "#,
    max_cpus = const MAX_CPUS,
    stack_size = const STACK_SIZE,
    boot_complete_lo = const RMM_BOOT_COMPLETE & 0xFFFF,
    boot_complete_hi = const RMM_BOOT_COMPLETE >> 16,
    cpu_id_out_of_range = const BootStatus::CpuIdOutOfRange as i64,
);

pub use platform::smc::smc;

/// Reads the ID registers RMI_FEATURES is derived from.
pub fn id_registers() -> IdRegisters {
    let ich_vtr: u64;
    // SAFETY: reading ICH_VTR_EL2 at EL2 has no side effects (GICv3 system registers are
    // enabled by EL3 for the Realm world).
    unsafe { asm!("mrs {}, S3_4_C12_C11_1", out(reg) ich_vtr, options(nomem, nostack)) };
    IdRegisters {
        id_aa64mmfr0: ID_AA64MMFR0_EL1.get(),
        id_aa64mmfr1: ID_AA64MMFR1_EL1.get(),
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

    fn realm_attest_key(&self, buf: &mut [u8]) -> Result<usize, hostcall_abi::el3::El3Status> {
        use hostcall_abi::el3::{El3Status, RMM_ATTEST_GET_REALM_KEY, SHARED_BUFFER_SIZE};
        let shared = shared_buffer().ok_or(El3Status::BadAddr)?;
        let r = smc([
            RMM_ATTEST_GET_REALM_KEY as u64,
            shared,
            SHARED_BUFFER_SIZE as u64,
            0, // ECC curve: P-384
            0,
            0,
            0,
            0,
        ]);
        el3_status(r[0])?;
        read_shared(r[1], buf)
    }

    fn platform_token_part(
        &self,
        challenge: &[u8],
        out: &mut [u8],
    ) -> Result<(usize, usize), hostcall_abi::el3::El3Status> {
        use hostcall_abi::el3::{El3Status, RMM_ATTEST_GET_PLAT_TOKEN, SHARED_BUFFER_SIZE};
        let shared = shared_buffer().ok_or(El3Status::BadAddr)?;
        if challenge.len() > SHARED_BUFFER_SIZE {
            return Err(El3Status::Inval);
        }
        for (i, b) in challenge.iter().enumerate() {
            // SAFETY: 1. `shared` is EL3's shared page (cold boot checked it and mapped it
            // Realm RW); i < its size. 2. Only this CPU uses it: EL3 waits in the SMC below.
            unsafe { core::ptr::write_volatile((shared as *mut u8).add(i), *b) };
        }
        let r = smc([
            RMM_ATTEST_GET_PLAT_TOKEN as u64,
            shared,
            SHARED_BUFFER_SIZE as u64,
            challenge.len() as u64,
            0,
            0,
            0,
            0,
        ]);
        el3_status(r[0])?;
        Ok((read_shared(r[1], out)?, r[2] as usize))
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

/// PA of EL3's shared buffer, recorded by cold boot (0 until then).
static SHARED_BUFFER: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Records EL3's shared buffer (cold boot, after its checks; [`build_tables`] maps it).
pub fn set_shared_buffer(pa: u64) {
    SHARED_BUFFER.store(pa, core::sync::atomic::Ordering::Release);
}

fn shared_buffer() -> Option<u64> {
    Some(SHARED_BUFFER.load(core::sync::atomic::Ordering::Acquire)).filter(|&pa| pa != 0)
}

/// Copies the first `len` bytes EL3 left in the shared buffer into `out`; a length larger than
/// the buffer or `out` is refused.
fn read_shared(len: u64, out: &mut [u8]) -> Result<usize, hostcall_abi::el3::El3Status> {
    use hostcall_abi::el3::{El3Status, SHARED_BUFFER_SIZE};
    let shared = shared_buffer().ok_or(El3Status::BadAddr)?;
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= SHARED_BUFFER_SIZE && l <= out.len())
        .ok_or(El3Status::NoMem)?;
    for (i, b) in out[..len].iter_mut().enumerate() {
        // SAFETY: as in `platform_token_part`: the mapped shared page, i below its size.
        *b = unsafe { core::ptr::read_volatile((shared as *const u8).add(i)) };
    }
    Ok(len)
}

fn el3_status(x0: u64) -> Result<(), hostcall_abi::el3::El3Status> {
    use hostcall_abi::el3::El3Status;
    match El3Status::from_raw(x0) {
        Some(El3Status::Ok) => Ok(()),
        Some(e) => Err(e),
        None => Err(El3Status::Unknown),
    }
}

/// Delegated memory, reached through the identity map of DRAM in the Realm PAS.
pub struct PhysMemory;

// SAFETY: `build_tables` maps DRAM outside the RMM's region read-write at its own address (Realm
// PAS, Normal memory) for the RMM's lifetime: a granule's PA is a granule-aligned pointer to it;
// `wipe` writes only the granule at `pa`.
unsafe impl crate::memory::GranuleMemory for PhysMemory {
    fn ptr(&self, pa: u64) -> *mut u8 {
        pa as *mut u8
    }

    fn wipe(&self, pa: u64) {
        let p = pa as *mut u64;
        for i in 0..hostcall_abi::GRANULE_SIZE / 8 {
            // SAFETY: 1. The caller holds the lock of a DELEGATED granule at `pa` (granule
            // aligned, in DRAM, Realm PAS), which nothing else may access meanwhile. 2. DRAM is
            // identity-mapped in the Realm PAS, so the PA is the address.
            unsafe { core::ptr::write_volatile(p.add(i), 0) };
        }
    }
}

extern "C" {
    static __stacks_start: u8;
    static __stacks_end: u8;
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_end: u8;
    fn rmm_ns_copy(dst: *mut u8, src: *const u8, len: usize) -> u64;
}

/// Stage-1 tables for R-EL2, built by cold boot.
const TABLES: usize = 64;
#[repr(C, align(4096))]
struct TablePool([crate::mmu::Table; TABLES]);
static mut TABLE_POOL: TablePool = TablePool([[0; crate::mmu::ENTRIES]; TABLES]);
static ROOT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Builds the RMM's stage-1 tables: DRAM identity in the Realm PAS (its own image with section
/// permissions), DRAM again as the NS view, and the console. Called once, by cold boot.
pub fn build_tables(
    dram: &[hostcall_abi::el3::MemoryBank],
    console: Option<(u64, u64)>,
) -> Result<usize, crate::mmu::MapError> {
    use crate::mmu::{Attrs, Tables, NS_VIEW_BASE};
    let text = (&raw const __text_start as u64, &raw const __text_end as u64);
    let rodata_end = &raw const __rodata_end as u64;
    let region_end = &raw const __rmm_free_end as u64;
    let pool_ptr = &raw mut TABLE_POOL;
    // SAFETY: cold boot runs once, on one CPU, before the MMU is on anywhere: nothing else
    // reads or writes the pool meanwhile.
    let pool = unsafe { &mut (*pool_ptr).0 };
    let pool_pa = pool.as_ptr() as u64;
    let mut t = Tables::new(pool, pool_pa).ok_or(crate::mmu::MapError::OutOfTables)?;
    for b in dram {
        let end = b.base + b.size;
        // The part of the bank outside the RMM's own region: plain Realm data.
        let (lo, hi) = (text.0.clamp(b.base, end), region_end.clamp(b.base, end));
        if lo > b.base {
            t.map(b.base, b.base, lo - b.base, Attrs::REALM_RW)?;
        }
        if end > hi {
            t.map(hi, hi, end - hi, Attrs::REALM_RW)?;
        }
        t.map(NS_VIEW_BASE + b.base, b.base, b.size, Attrs::NS_RW)?;
    }
    t.map(text.0, text.0, text.1 - text.0, Attrs::REALM_RX)?;
    t.map(text.1, text.1, rodata_end - text.1, Attrs::REALM_RO)?;
    // Data and bss, then each CPU's stack above its unmapped guard page (an overflow faults
    // instead of corrupting what lies below), then the free region.
    let (stacks, stacks_end) = (
        &raw const __stacks_start as u64,
        &raw const __stacks_end as u64,
    );
    t.map(rodata_end, rodata_end, stacks - rodata_end, Attrs::REALM_RW)?;
    for cpu in 0..MAX_CPUS as u64 {
        let usable = stacks + cpu * STACK_SIZE as u64 + STACK_GUARD as u64;
        t.map(
            usable,
            usable,
            (STACK_SIZE - STACK_GUARD) as u64,
            Attrs::REALM_RW,
        )?;
    }
    t.map(
        stacks_end,
        stacks_end,
        region_end - stacks_end,
        Attrs::REALM_RW,
    )?;
    if let Some((base, pages)) = console {
        t.map(base, base, pages * 4096, Attrs::NS_DEVICE)?;
    }
    // EL3's shared buffer, for the attestation calls, unless the RMM's region or a DRAM bank
    // (both mapped Realm RW above) already covers it.
    let covered = |pa: u64| {
        (text.0..region_end).contains(&pa)
            || dram.iter().any(|b| pa >= b.base && pa - b.base < b.size)
    };
    if let Some(shared) = shared_buffer().filter(|&pa| !covered(pa)) {
        t.map(shared, shared, 4096, Attrs::REALM_RW)?;
    }
    ROOT.store(t.root_pa(), core::sync::atomic::Ordering::Release);
    Ok(t.used())
}

/// Turns the MMU and caches on for this CPU with the tables cold boot built.
pub fn enable_mmu() -> bool {
    let root = ROOT.load(core::sync::atomic::Ordering::Acquire);
    if root == 0 {
        return false;
    }
    // SAFETY: 1. The tables map this code, the stacks and all RMM data at their current
    // addresses (identity), so execution continues seamlessly once M is set. 2. TLBs are
    // invalidated before use. 3. Only EL2 translation state is changed.
    unsafe {
        asm!(
            "msr mair_el2, {mair}",
            "msr tcr_el2, {tcr}",
            "msr ttbr0_el2, {root}",
            "isb",
            "tlbi alle2",
            "dsb ish",
            "isb",
            "mrs {tmp}, sctlr_el2",
            "orr {tmp}, {tmp}, {bits}",
            "msr sctlr_el2, {tmp}",
            "isb",
            mair = in(reg) crate::mmu::MAIR,
            tcr = in(reg) crate::mmu::TCR,
            root = in(reg) root,
            bits = in(reg) (1u64 << 0) | (1 << 2) | (1 << 12), // M, C, I
            tmp = out(reg) _,
            options(nostack),
        );
    }
    true
}

/// NS memory through the NS view, with faults caught by the vector (see `rmm_sync_spx`).
pub struct NsView;

impl NsView {
    fn copy(dst: *mut u8, src: *const u8, len: usize) -> bool {
        if !len.is_multiple_of(8) || !(dst as usize | src as usize).is_multiple_of(8) {
            return false;
        }
        // SAFETY: 1. The RMM-side buffer is a live Rust buffer of `len` bytes. 2. The NS side is
        // in the NS view, where any fault (GPF, translation) lands in `rmm_sync_spx`, which
        // resumes at the routine's fault exit: no exception escapes and nothing else is touched.
        unsafe { rmm_ns_copy(dst, src, len) == 0 }
    }
}

impl crate::ns::NsMemory for NsView {
    fn copy_in(&self, pa: u64, dst: &mut [u8]) -> bool {
        let va = crate::mmu::NS_VIEW_BASE.wrapping_add(pa);
        Self::copy(dst.as_mut_ptr(), va as *const u8, dst.len())
    }

    fn copy_out(&self, pa: u64, src: &[u8]) -> bool {
        let va = crate::mmu::NS_VIEW_BASE.wrapping_add(pa);
        Self::copy(va as *mut u8, src.as_ptr(), src.len())
    }
}

extern "C" {
    fn rmm_run_realm(gprs: *mut u64) -> u64;
    fn rmm_fp_save(fp: *mut crate::arch::FpRegs);
    fn rmm_fp_load(fp: *const crate::arch::FpRegs);
    fn rmm_sve_save(sve: *mut SveRegs);
    fn rmm_sve_load(sve: *const SveRegs);
}

// The assembly above addresses FpRegs by these offsets.
const _: () = assert!(core::mem::offset_of!(crate::arch::FpRegs, fpsr) == 512);
const _: () = assert!(core::mem::offset_of!(crate::arch::FpRegs, fpcr) == 520);

/// Reads one system register by name.
macro_rules! mrs {
    ($reg:literal) => {{
        let v: u64;
        // SAFETY: reading an EL1/EL0 or EL2 system register at EL2 has no side effects.
        unsafe { asm!(concat!("mrs {}, ", $reg), out(reg) v, options(nomem, nostack)) };
        v
    }};
}

/// Writes one system register by name.
macro_rules! msr {
    ($reg:literal, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: the registers written here are EL1/EL0 context (swapped between the host's and
        // a realm's values) or the EL2 controls of realm execution; the RMM itself runs at EL2
        // and does not depend on any of them.
        unsafe { asm!(concat!("msr ", $reg, ", {}"), in(reg) v, options(nomem, nostack)) };
    }};
}

/// Saves and restores every field of `El1Regs` with its system register.
macro_rules! el1_regs {
    ($($field:ident => $reg:literal),* $(,)?) => {
        fn save_el1() -> crate::arch::El1Regs {
            crate::arch::El1Regs { $($field: mrs!($reg),)* }
        }
        fn load_el1(r: &crate::arch::El1Regs) {
            $(msr!($reg, r.$field);)*
        }
    };
}

el1_regs! {
    sctlr => "sctlr_el1", cpacr => "cpacr_el1", ttbr0 => "ttbr0_el1", ttbr1 => "ttbr1_el1",
    tcr => "tcr_el1", esr => "esr_el1", afsr0 => "afsr0_el1", afsr1 => "afsr1_el1",
    far => "far_el1", mair => "mair_el1", amair => "amair_el1", vbar => "vbar_el1",
    contextidr => "contextidr_el1", tpidr_el0 => "tpidr_el0", tpidrro_el0 => "tpidrro_el0",
    tpidr_el1 => "tpidr_el1", sp_el0 => "sp_el0", sp_el1 => "sp_el1", elr => "elr_el1",
    spsr => "spsr_el1", par => "par_el1", cntkctl => "cntkctl_el1", csselr => "csselr_el1",
    mdscr => "mdscr_el1", cntv_ctl => "cntv_ctl_el0", cntv_cval => "cntv_cval_el0",
    cntp_ctl => "cntp_ctl_el0", cntp_cval => "cntp_cval_el0",
}

/// The host's SVE state as `rmm_sve_save` lays it out, sized for the largest vector length
/// (2048 bits): Z0..Z31 (256 bytes each), P0..P15 (32 bytes each), FFR (32 bytes).
#[repr(C, align(16))]
struct SveRegs([u8; 32 * 256 + 16 * 32 + 32]);

/// ZCR_EL2.LEN all ones: the CPU clamps it to the largest vector length it implements. TF-A
/// does not switch ZCR_EL2 between worlds, so the RMM sees, and must put back, the host's.
const ZCR_LEN_MAX: u64 = 0xF;

/// ID_AA64PFR0_EL1.SVE (bits \[35:32\]) is nonzero when the CPU implements SVE.
fn has_sve() -> bool {
    (mrs!("id_aa64pfr0_el1") >> 32) & 0xF != 0
}

/// Sets ZCR_EL2.LEN to the maximum (SVE untrapped at EL2) and returns the ZCR_EL2 it found.
fn sve_max_vl() -> u64 {
    let zcr = mrs!("S3_4_C1_C2_0"); // ZCR_EL2
    msr!("S3_4_C1_C2_0", ZCR_LEN_MAX);
    // SAFETY: an isb makes the new vector length visible before SVE registers are touched.
    unsafe { asm!("isb", options(nostack)) };
    zcr
}

/// Writes `ICH_LR<n>_EL2`.
fn write_lr(n: usize, v: u64) {
    match n {
        0 => msr!("S3_4_C12_C12_0", v),
        1 => msr!("S3_4_C12_C12_1", v),
        2 => msr!("S3_4_C12_C12_2", v),
        3 => msr!("S3_4_C12_C12_3", v),
        4 => msr!("S3_4_C12_C12_4", v),
        5 => msr!("S3_4_C12_C12_5", v),
        6 => msr!("S3_4_C12_C12_6", v),
        7 => msr!("S3_4_C12_C12_7", v),
        8 => msr!("S3_4_C12_C13_0", v),
        9 => msr!("S3_4_C12_C13_1", v),
        10 => msr!("S3_4_C12_C13_2", v),
        11 => msr!("S3_4_C12_C13_3", v),
        12 => msr!("S3_4_C12_C13_4", v),
        13 => msr!("S3_4_C12_C13_5", v),
        14 => msr!("S3_4_C12_C13_6", v),
        _ => msr!("S3_4_C12_C13_7", v),
    }
}

/// Reads `ICH_LR<n>_EL2`.
fn read_lr(n: usize) -> u64 {
    match n {
        0 => mrs!("S3_4_C12_C12_0"),
        1 => mrs!("S3_4_C12_C12_1"),
        2 => mrs!("S3_4_C12_C12_2"),
        3 => mrs!("S3_4_C12_C12_3"),
        4 => mrs!("S3_4_C12_C12_4"),
        5 => mrs!("S3_4_C12_C12_5"),
        6 => mrs!("S3_4_C12_C12_6"),
        7 => mrs!("S3_4_C12_C12_7"),
        8 => mrs!("S3_4_C12_C13_0"),
        9 => mrs!("S3_4_C12_C13_1"),
        10 => mrs!("S3_4_C12_C13_2"),
        11 => mrs!("S3_4_C12_C13_3"),
        12 => mrs!("S3_4_C12_C13_4"),
        13 => mrs!("S3_4_C12_C13_5"),
        14 => mrs!("S3_4_C12_C13_6"),
        _ => mrs!("S3_4_C12_C13_7"),
    }
}

/// ICH_HCR_EL2.En: the virtual CPU interface is on.
const ICH_HCR_EN: u64 = 1;

/// Loads the REC's virtual CPU interface (only the implemented list registers exist).
fn load_gic(g: &crate::arch::GicState) {
    let lrs = ((mrs!("S3_4_C12_C11_1") & 0x1F) + 1) as usize; // ICH_VTR_EL2.ListRegs
    for (n, lr) in g.lrs.iter().enumerate().take(lrs) {
        write_lr(n, *lr);
    }
    let aprs = crate::arch::active_priority_registers(mrs!("S3_4_C12_C11_1"));
    msr!("S3_4_C12_C8_0", g.ap0r[0]); // ICH_AP0R0_EL2
    msr!("S3_4_C12_C9_0", g.ap1r[0]); // ICH_AP1R0_EL2
    if aprs > 1 {
        msr!("S3_4_C12_C8_1", g.ap0r[1]);
        msr!("S3_4_C12_C9_1", g.ap1r[1]);
    }
    if aprs > 2 {
        msr!("S3_4_C12_C8_2", g.ap0r[2]);
        msr!("S3_4_C12_C9_2", g.ap1r[2]);
        msr!("S3_4_C12_C8_3", g.ap0r[3]);
        msr!("S3_4_C12_C9_3", g.ap1r[3]);
    }
    msr!("S3_4_C12_C11_7", g.vmcr); // ICH_VMCR_EL2
    msr!("S3_4_C12_C11_0", g.hcr | ICH_HCR_EN); // ICH_HCR_EL2
}

/// Saves the REC's virtual CPU interface and turns it off (A6.1: En = 0 after a REC exit).
fn save_gic(g: &mut crate::arch::GicState) {
    let lrs = ((mrs!("S3_4_C12_C11_1") & 0x1F) + 1) as usize;
    for (n, lr) in g.lrs.iter_mut().enumerate().take(lrs) {
        *lr = read_lr(n);
    }
    let aprs = crate::arch::active_priority_registers(mrs!("S3_4_C12_C11_1"));
    g.ap0r[0] = mrs!("S3_4_C12_C8_0");
    g.ap1r[0] = mrs!("S3_4_C12_C9_0");
    if aprs > 1 {
        g.ap0r[1] = mrs!("S3_4_C12_C8_1");
        g.ap1r[1] = mrs!("S3_4_C12_C9_1");
    }
    if aprs > 2 {
        g.ap0r[2] = mrs!("S3_4_C12_C8_2");
        g.ap1r[2] = mrs!("S3_4_C12_C9_2");
        g.ap0r[3] = mrs!("S3_4_C12_C8_3");
        g.ap1r[3] = mrs!("S3_4_C12_C9_3");
    }
    g.vmcr = mrs!("S3_4_C12_C11_7");
    g.misr = mrs!("S3_4_C12_C11_2"); // ICH_MISR_EL2
    g.hcr = mrs!("S3_4_C12_C11_0") & !ICH_HCR_EN;
    msr!("S3_4_C12_C11_0", 0);
}

/// The PPIs of the EL1 virtual and physical timers (SBSA).
const VIRTUAL_TIMER_PPI: u64 = 27;
const PHYSICAL_TIMER_PPI: u64 = 30;
/// ICC_HPPIR1_EL1 reads that may wait for a masked timer's interrupt to leave the CPU interface.
const TIMER_RETIRE_READS: usize = 64;

/// Reads the ID register `S3_0_C0_C<crm>_<op2>` (CRm 1..=7); 0 for anything else.
fn read_id_register(crm: u8, op2: u8) -> u64 {
    macro_rules! id_registers {
        ($($c:literal => [$($o:literal),*]),*) => {
            match (crm, op2) {
                $($(($c, $o) => {
                    let v: u64;
                    // SAFETY: reads an ID register (op0 3, op1 0, CRn 0, CRm 1..=7, all
                    // defined, unallocated ones read as zero) at EL2: no side effects.
                    unsafe {
                        asm!(concat!("mrs {}, S3_0_C0_C", $c, "_", $o), out(reg) v,
                             options(nomem, nostack))
                    };
                    v
                })*)*
                _ => 0,
            }
        };
    }
    id_registers!(
        1 => [0, 1, 2, 3, 4, 5, 6, 7],
        2 => [0, 1, 2, 3, 4, 5, 6, 7],
        3 => [0, 1, 2, 3, 4, 5, 6, 7],
        4 => [0, 1, 2, 3, 4, 5, 6, 7],
        5 => [0, 1, 2, 3, 4, 5, 6, 7],
        6 => [0, 1, 2, 3, 4, 5, 6, 7],
        7 => [0, 1, 2, 3, 4, 5, 6, 7]
    )
}

/// The EL2 controls of this CPU's Realm world that stay put between runs (EL3 keeps them apart
/// from the host's, and starts them zero): the MIDR_EL1 realms read (VPIDR_EL2, the CPU's own),
/// `trap_policy`'s `HCRX_EL2` on a CPU that has it, a zero virtual counter offset (A6.2), its
/// `CNTHCTL_EL2` and `MDCR_EL2` traps; and which pointer authentication keys the world
/// switch must move. Every CPU, at cold and warm boot.
pub fn init_realm_controls() {
    find_pauth_keys();
    msr!("vpidr_el2", mrs!("midr_el1"));
    // ID_AA64MMFR1_EL1.HCX [43:40]: HCRX_EL2 exists.
    if (mrs!("id_aa64mmfr1_el1") >> 40) & 0xF != 0 {
        msr!("S3_4_C1_C2_2", trap_policy::HCRX_REALM); // HCRX_EL2
    }
    msr!("cntvoff_el2", 0);
    msr!("cnthctl_el2", trap_policy::CNTHCTL_REALM);
    msr!("mdcr_el2", mrs!("mdcr_el2") | trap_policy::MDCR_REALM_TRAPS);
    // SAFETY: an isb so the controls are in effect before any realm runs.
    unsafe { asm!("isb", options(nostack)) };
}

/// Masks at EL2 the outputs of the timers that `asserted` names (A6.2), and waits a little for
/// their interrupts to leave the CPU interface, so that the realm is not stopped at once by an
/// interrupt the host has already been told of. It enters anyway if one lingers: that costs an
/// IRQ exit, not correctness.
fn mask_asserted_timers(asserted: crate::timers::Asserted) {
    msr!("cnthctl_el2", trap_policy::cnthctl(asserted));
    if !(asserted.virt || asserted.phys) {
        return;
    }
    // SAFETY: an isb so the mask is in effect before the CPU interface is read.
    unsafe { asm!("isb", options(nostack)) };
    for _ in 0..TIMER_RETIRE_READS {
        let intid = mrs!("S3_0_C12_C12_2") & 0xFF_FFFF; // ICC_HPPIR1_EL1.INTID
        let lingering = (asserted.virt && intid == VIRTUAL_TIMER_PPI)
            || (asserted.phys && intid == PHYSICAL_TIMER_PPI);
        if !lingering {
            break;
        }
    }
}

/// ESR_EL2.EC of an FP/SIMD access trapped by CPTR_EL2.TFP.
const EC_FP_TRAPPED: u64 = 0x07;

/// Where the host's FP/SIMD (and SVE) registers wait while a realm's are loaded: on `run`'s
/// stack, so it lives exactly as long as the switch and needs no per-CPU index (8.5 KiB of a
/// 64 KiB stack); uninitialised, so a run that does not switch pays nothing for it.
struct HostFpRegs {
    /// Z, P and FFR (on a CPU with SVE).
    sve: core::mem::MaybeUninit<SveRegs>,
    /// V, FPSR and FPCR.
    fp: core::mem::MaybeUninit<crate::arch::FpRegs>,
}

/// A switch to the realm's FP/SIMD registers, to be undone at the exit.
struct HostFp {
    /// Whether the CPU has SVE: then the host's Z, P and FFR registers were saved too.
    sve: bool,
    /// The host's ZCR_EL2, put back with its SVE registers.
    zcr: u64,
    /// CPTR_EL2 with FP/SIMD (and SVE) untrapped, for moving the registers.
    switch_cptr: u64,
}

impl HostFp {
    /// Saves the host's FP/SIMD and SVE registers and loads the realm's `fp`; leaves CPTR_EL2 as
    /// a realm with its FP/SIMD loaded runs (FP/SIMD untrapped, SVE and SME trapped).
    ///
    /// On a CPU with SVE the registers move with SVE untrapped at the maximum vector length,
    /// where writing a V register zeroes the rest of its Z register on every CPU (with SVE
    /// trapped that is CONSTRAINED UNPREDICTABLE, and QEMU keeps the bits): the host's SVE
    /// registers are saved first and loaded last, and a QEMU run shows it if they are not.
    fn swap_in(host_cptr: u64, fp: &crate::arch::FpRegs, saved: &mut HostFpRegs) -> Self {
        let sve = has_sve();
        let mut host = HostFp {
            sve,
            zcr: 0,
            switch_cptr: host_cptr & !(CPTR_TFP | if sve { CPTR_TZ } else { 0 }),
        };
        msr!("cptr_el2", host.switch_cptr);
        // SAFETY: an isb makes the CPTR_EL2 change visible before FP/SIMD registers are touched.
        unsafe { asm!("isb", options(nostack)) };
        if sve {
            host.zcr = sve_max_vl();
        }
        // SAFETY: the pointers are to a live SveRegs (large enough at any vector length) and
        // live, 16-byte aligned FpRegs; the routines touch only FP/SIMD and SVE registers (the
        // RMM's own code never uses them) and the pointed-to memory.
        unsafe {
            if sve {
                rmm_sve_save(saved.sve.as_mut_ptr());
            }
            rmm_fp_save(saved.fp.as_mut_ptr());
            rmm_fp_load(fp);
        }
        msr!("cptr_el2", (host_cptr & !CPTR_TFP) | CPTR_REALM_TRAPS);
        host
    }

    /// Saves the realm's FP/SIMD registers into `fp` and loads the host's back (CPTR_EL2 is the
    /// caller's to restore).
    fn swap_out(&self, fp: &mut crate::arch::FpRegs, saved: &HostFpRegs) {
        msr!("cptr_el2", self.switch_cptr);
        // SAFETY: as in `swap_in`, which filled `saved.fp`, and `saved.sve` at this vector
        // length if `sve`.
        unsafe {
            asm!("isb", options(nostack));
            rmm_fp_save(fp);
            rmm_fp_load(saved.fp.as_ptr());
            if self.sve {
                rmm_sve_load(saved.sve.as_ptr());
            }
        }
        if self.sve {
            msr!("S3_4_C1_C2_0", self.zcr); // ZCR_EL2
        }
    }
}

/// Which pointer authentication keys the CPUs have, as [`find_pauth_keys`] recorded it at boot:
/// bit 0 the four address keys, bit 1 the generic key.
static PAUTH_KEYS: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);

/// Records which pointer authentication keys this CPU has, from ID_AA64ISAR1_EL1 (APA \[7:4\],
/// API \[11:8\], GPA \[27:24\], GPI \[31:28\]) and ID_AA64ISAR2_EL1 (GPA3 \[11:8\], APA3 \[15:12\]), so
/// that the world switch does not read them on every run.
fn find_pauth_keys() {
    let (isar1, isar2) = (mrs!("id_aa64isar1_el1"), mrs!("S3_0_C0_C6_2"));
    let field = |v: u64, shift: u32| (v >> shift) & 0xF != 0;
    let address = field(isar1, 4) || field(isar1, 8) || field(isar2, 12);
    let generic = field(isar1, 24) || field(isar1, 28) || field(isar2, 8);
    let keys = u8::from(address) | u8::from(generic) << 1;
    PAUTH_KEYS.store(keys, core::sync::atomic::Ordering::Relaxed);
}

/// (the four address keys, the generic key) this CPU has.
fn pauth_keys_present() -> (bool, bool) {
    let keys = PAUTH_KEYS.load(core::sync::atomic::Ordering::Relaxed);
    (keys & 1 != 0, keys & 2 != 0)
}

/// Loads a REC's pointer authentication keys (those the CPU has).
fn load_pauth(k: &crate::arch::PauthKeys, (address, generic): (bool, bool)) {
    if address {
        msr!("S3_0_C2_C1_0", k.ia[0]); // APIAKeyLo_EL1
        msr!("S3_0_C2_C1_1", k.ia[1]);
        msr!("S3_0_C2_C1_2", k.ib[0]); // APIBKeyLo_EL1
        msr!("S3_0_C2_C1_3", k.ib[1]);
        msr!("S3_0_C2_C2_0", k.da[0]); // APDAKeyLo_EL1
        msr!("S3_0_C2_C2_1", k.da[1]);
        msr!("S3_0_C2_C2_2", k.db[0]); // APDBKeyLo_EL1
        msr!("S3_0_C2_C2_3", k.db[1]);
    }
    if generic {
        msr!("S3_0_C2_C3_0", k.ga[0]); // APGAKeyLo_EL1
        msr!("S3_0_C2_C3_1", k.ga[1]);
    }
}

/// Saves a REC's pointer authentication keys (those the CPU has).
fn save_pauth(k: &mut crate::arch::PauthKeys, (address, generic): (bool, bool)) {
    if address {
        k.ia = [mrs!("S3_0_C2_C1_0"), mrs!("S3_0_C2_C1_1")];
        k.ib = [mrs!("S3_0_C2_C1_2"), mrs!("S3_0_C2_C1_3")];
        k.da = [mrs!("S3_0_C2_C2_0"), mrs!("S3_0_C2_C2_1")];
        k.db = [mrs!("S3_0_C2_C2_2"), mrs!("S3_0_C2_C2_3")];
    }
    if generic {
        k.ga = [mrs!("S3_0_C2_C3_0"), mrs!("S3_0_C2_C3_1")];
    }
}

/// Runs realms on this CPU (the world switch).
///
/// FP/SIMD is switched lazily: a realm starts each run with FP/SIMD trapped to EL2 and the
/// host's registers still in place, out of its reach. Its first FP/SIMD access in the run traps
/// here; the host's registers (SVE too) are saved, the realm's loaded, and the access retried,
/// without an exit. At the exit the realm's go back to the REC and the host's are loaded. A run
/// in which the realm does not touch FP/SIMD (most host calls, MMIO and timer exits) moves none.
pub struct Cpu;

impl crate::arch::RealmCpu for Cpu {
    fn run(
        &self,
        regs: &mut crate::arch::RealmRegs,
        s2: &crate::arch::Stage2,
        traps: crate::arch::EntryTraps,
        vmpidr: u64,
    ) -> crate::arch::RealmExit {
        use crate::arch::{ExitClass, RealmExit};
        let host_el1 = save_el1();
        let host_hcr = mrs!("hcr_el2");
        let host_cptr = mrs!("cptr_el2");
        msr!("cptr_el2", host_cptr | CPTR_TFP | CPTR_REALM_TRAPS);
        load_el1(&regs.el1);
        let pauth = pauth_keys_present();
        load_pauth(&regs.pauth, pauth);
        load_gic(&regs.gic);
        msr!("S3_4_C12_C1_1", regs.vdisr); // VDISR_EL2
        let hcr = trap_policy::hcr(traps);
        // VTTBR_EL2.VMID and VMPIDR_EL2 still name the REC that last ran on this CPU (the TLB
        // maintenance of `arch::tlbi` puts VTTBR_EL2 back): see the flush below.
        let other_rec = (mrs!("vttbr_el2") ^ s2.vttbr) >> 48 != 0 || mrs!("vmpidr_el2") != vmpidr;
        msr!("vtcr_el2", s2.vtcr);
        msr!("vttbr_el2", s2.vttbr);
        msr!("vmpidr_el2", vmpidr);
        mask_asserted_timers(crate::timers::Asserted::of(&regs.el1));
        msr!("hcr_el2", hcr);
        msr!("elr_el2", regs.pc);
        msr!("spsr_el2", regs.pstate);
        // The RTT changes the RMI handlers made are already invalidated on every CPU
        // (`crate::tlb`); what is left is this CPU's own copy of the realm's translations when
        // another REC of it ran here last: a realm may use one ASID for different stage-1 tables
        // on different vCPUs and invalidate only locally (as KVM flushes when another vCPU of
        // the VM last ran on the CPU). Only then is the VMID's local TLB dropped.
        if other_rec {
            // SAFETY: barriers and a local invalidation of the realm's own VMID (VTTBR_EL2 was
            // written above; the first ISB puts it in effect for the TLBI).
            unsafe {
                asm!(
                    "isb",
                    "dsb ishst",
                    "tlbi vmalls12e1",
                    "dsb nsh",
                    "isb",
                    options(nostack)
                );
            }
        } else {
            // SAFETY: barriers only: this CPU's RTT writes are visible to its walker, and the
            // EL2 controls above are in effect, before the realm runs.
            unsafe { asm!("dsb ishst", "isb", options(nostack)) };
        }
        let mut saved = HostFpRegs {
            sve: core::mem::MaybeUninit::uninit(),
            fp: core::mem::MaybeUninit::uninit(),
        };
        let mut host_fp: Option<HostFp> = None;
        let class = loop {
            // SAFETY: `rmm_run_realm` saves and restores every register the RMM relies on and
            // writes only `regs.gprs` (31 u64s, which it points to). On a retry ELR_EL2 and
            // SPSR_EL2 still hold the trapped access and the realm's PSTATE: nothing between
            // takes an exception at EL2.
            let class = unsafe { rmm_run_realm(regs.gprs.as_mut_ptr()) };
            // At most one retry: once loaded, FP/SIMD is no longer trapped.
            let ec = (mrs!("esr_el2") >> 26) & 0x3F;
            if class == 0 && host_fp.is_none() && ec == EC_FP_TRAPPED {
                host_fp = Some(HostFp::swap_in(host_cptr, &regs.fp, &mut saved));
                continue;
            }
            break class;
        };
        let exit = RealmExit {
            class: match class {
                0 => ExitClass::Sync,
                1 => ExitClass::Irq,
                2 => ExitClass::Fiq,
                _ => ExitClass::SError,
            },
            esr: mrs!("esr_el2"),
            far: mrs!("far_el2"),
            hpfar: mrs!("hpfar_el2"),
        };
        regs.pc = mrs!("elr_el2");
        regs.pstate = mrs!("spsr_el2");
        regs.el1 = save_el1();
        save_pauth(&mut regs.pauth, pauth);
        save_gic(&mut regs.gic);
        regs.vdisr = mrs!("S3_4_C12_C1_1");
        if let Some(host) = &host_fp {
            host.swap_out(&mut regs.fp, &saved);
        }
        msr!("cptr_el2", host_cptr);
        load_el1(&host_el1);
        msr!("hcr_el2", host_hcr);
        // SAFETY: a barrier so the host's EL1 state is in effect before the RMM returns.
        unsafe { asm!("isb", options(nostack)) };
        exit
    }

    fn read_id_register(&self, reg: crate::id_regs::IdRegister) -> u64 {
        read_id_register(reg.crm, reg.op2)
    }

    fn interrupt_pending(&self) -> bool {
        // ISR_EL1 at EL2 shows the physical interrupt state: I (bit 7) and F (bit 6).
        mrs!("isr_el1") & (1 << 7 | 1 << 6) != 0
    }
}
