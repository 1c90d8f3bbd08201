//! The RMM's assembly: the entry point for cold and warm boot, the exception vectors, the
//! world switch's register save and restore (`rmm_run_realm`), the FP/SIMD and SVE register
//! moves, and the fault-tolerant NS copy loop.

use super::*;
use aarch64_cpu::registers::ESR_EL2;

// One entry for cold and warm boot (EL3 enters every CPU here with the MMU off):
// 1. The first entry ever is the cold boot (EL3 boots the primary before any other CPU). Its x2,
//    the number of CPUs EL3 may enter the RMM on, is checked before use: 0 or more than
//    MAX_CPUS (whose stacks the linker script checks the carve-out can hold) is reported to EL3
//    at once, with no stack. Else x2 stacks of STACK_SIZE are carved from the carve-out's start
//    (`__rmm_free_start`), and `rmm_stacks` records their base and count: it lives in `.data`,
//    like the `cold_pending` word, so the `.bss` clear cannot touch it.
// 2. x0 = CPU index. An index without a stack (>= the recorded count) is reported to EL3 at once,
//    with no stack.
// 3. SP = top of this CPU's stack, also kept in TPIDR_EL2 for the fatal-exception path.
// 4. Cold boot paints every stack with STACK_PAINT (how deep each goes shows later, see
//    `carve_out::report_stack_depth`) and clears `.bss`.
// 5. rmm_main(x0..x3 as EL3 passed them, x4 = 1 on cold boot).
global_asm!(
    r#"
    .section .data.rmm_cold_pending, "aw"
    .balign 8
rmm_cold_pending:
    .quad 1
    .global rmm_stacks
rmm_stacks:
    .quad 0, 0                      // the stacks' base and CPU count, once cold boot carved them

    .section .text.entry, "ax"
    .global rmm_entry
rmm_entry:
    adrp    x9, rmm_stacks
    add     x9, x9, :lo12:rmm_stacks
    adrp    x10, rmm_cold_pending
    ldr     x4, [x10, :lo12:rmm_cold_pending]
    cbz     x4, 1f
    sub     x11, x2, #1             // x2 - 1 >= MAX_CPUS (unsigned): x2 is 0 or too large
    cmp     x11, #{max_cpus}
    b.hs    7f
    adrp    x11, __rmm_free_start
    add     x11, x11, :lo12:__rmm_free_start
    stp     x11, x2, [x9]
1:  ldp     x11, x12, [x9]          // the stacks' base and count
    cmp     x0, x12
    b.hs    3f
    mov     x13, #{stack_size}
    add     x9, x0, #1
    madd    x9, x9, x13, x11
    mov     sp, x9
    msr     tpidr_el2, x9           // the stack's top, for rmm_fatal
    adrp    x9, vectors
    add     x9, x9, :lo12:vectors
    msr     vbar_el2, x9
    isb
    cbz     x4, 2f
    str     xzr, [x10, :lo12:rmm_cold_pending]
    madd    x12, x12, x13, x11      // the stacks' end
    mov     x13, #{paint_lo}
    movk    x13, #{paint_hi}, lsl #16
    orr     x13, x13, x13, lsl #32
6:  cmp     x11, x12
    b.hs    8f
    stp     x13, x13, [x11], #16
    b       6b
8:  adrp    x9, __bss_start
    add     x9, x9, :lo12:__bss_start
    adrp    x10, __bss_end
    add     x10, x10, :lo12:__bss_end
4:  cmp     x9, x10
    b.hs    2f
    stp     xzr, xzr, [x9], #16
    b       4b
2:  bl      rmm_main
3:  mov     x1, #{cpu_id_out_of_range}
    b       9f
7:  mov     x1, #{cpus_out_of_range}
9:  mov     x0, #{boot_complete_lo}
    movk    x0, #{boot_complete_hi}, lsl #16
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
// A data abort inside the NS copy routine (a granule protection fault because the host named a
// Realm/Secure/Root granule, or any other abort on the NS view) resumes at the routine's fault
// exit, which returns 1. Every other synchronous exception is fatal. Clobbers x9, x10: the copy
// routine gives up at the fault exit, which needs neither (nor anything but x30).
rmm_sync_spx:
    mrs     x9, esr_el2
    ubfx    x10, x9, #{esr_ec_shift}, #6    // EC alone (ISS2 above it may be nonzero)
    cmp     x10, #{ec_dabt_cur}     // EC: data abort without a change in exception level
    b.ne    rmm_fatal
    mrs     x9, elr_el2
    adr     x10, rmm_ns_copy_runs
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

    .text
// rmm_ns_copy_runs(rmm = x0, ns = x1, runs = x2, count = x3, out = x4): for each run (three
// doublewords: offset in the RMM-side record, offset in the NS granule, length; all whole
// doublewords) copies the length from ns + offset to rmm + offset, or back when out is
// nonzero, 64 bytes a loop iteration and then 32, 16 and 8; returns 0, or 1 if an access
// faulted. Every NS copy of the RMM is this routine (a plain buffer is one run). A leaf that
// leaves x30 alone, so the fault exit returns from it. The direction is chosen once: the macro
// below is the whole loop, expanded for each (source base, source offset, destination base,
// destination offset).
    .macro ns_copy_runs_from src, src_off, dst, dst_off
1:  ldp     x5, x6, [x2]            // x5: offset in the record, x6: offset in the granule
    ldr     x7, [x2, #16]
    add     x2, x2, #24
    add     x8, \src, \src_off
    add     x9, \dst, \dst_off
    subs    x7, x7, #64
    b.lo    3f
2:  ldp     x10, x11, [x8], #64
    ldp     x12, x13, [x8, #-48]
    ldp     x14, x15, [x8, #-32]
    ldp     x16, x17, [x8, #-16]
    stp     x10, x11, [x9], #64
    stp     x12, x13, [x9, #-48]
    stp     x14, x15, [x9, #-32]
    stp     x16, x17, [x9, #-16]
    subs    x7, x7, #64
    b.hs    2b
    // x7 is now the remainder (0 to 56) less 64: bits 5, 4 and 3 still tell it.
3:  tbz     x7, #5, 4f
    ldp     x10, x11, [x8], #16
    ldp     x12, x13, [x8], #16
    stp     x10, x11, [x9], #16
    stp     x12, x13, [x9], #16
4:  tbz     x7, #4, 5f
    ldp     x10, x11, [x8], #16
    stp     x10, x11, [x9], #16
5:  tbz     x7, #3, 6f
    ldr     x10, [x8]
    str     x10, [x9]
6:  subs    x3, x3, #1
    b.ne    1b
    mov     x0, #0
    ret
    .endm
    .global rmm_ns_copy_runs
rmm_ns_copy_runs:
    cbz     x3, 9f
    cbnz    x4, 8f
    ns_copy_runs_from x1, x6, x0, x5    // in: the granule to the record
8:  ns_copy_runs_from x0, x5, x1, x6    // out: the record to the granule
9:  mov     x0, #0
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
    cpus_out_of_range = const BootStatus::CpusOutOfRange as i64,
    paint_lo = const crate::carve_out::STACK_PAINT & 0xFFFF,
    paint_hi = const (crate::carve_out::STACK_PAINT >> 16) & 0xFFFF,
    esr_ec_shift = const ESR_EL2::EC.shift,
    ec_dabt_cur = const ESR_EL2::EC::Value::DataAbortCurrentEL as u64,
);
