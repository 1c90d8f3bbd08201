//! `memcpy` and `memset` for the bare-metal images, in place of the portable (weak) ones the
//! compiler's builtins provide: the images move and clear small structures on their hottest
//! paths (REC entry and exit, the host's KVM model), and these do it 16 bytes per store pair.
//!
//! Every access is aligned to its size, so they are safe on Device memory too (both images run
//! parts of their life with the MMU off): memcpy copies bytes until the pointers are aligned,
//! then 16 bytes at a time when they agree modulo 8 (4 when only modulo 4), bytes otherwise and
//! for the tails; memset the same with one pointer. `memmove` stays the builtins' (it is rare).

core::arch::global_asm!(
    r#"
    .section .text.memcpy, "ax"
    .global memcpy
    .type memcpy, %function
// memcpy(x0 = dst, x1 = src, x2 = n) -> dst
memcpy:
    mov     x3, x0
    eor     x4, x0, x1
    tst     x4, #7
    b.ne    5f
    // Same alignment modulo 8: bytes up to an 8-aligned address, then 16 bytes at a time.
0:  tst     x3, #7
    b.eq    1f
    cbz     x2, 4f
    ldrb    w4, [x1], #1
    strb    w4, [x3], #1
    sub     x2, x2, #1
    b       0b
1:  subs    x2, x2, #16
    b.lo    2f
    ldp     x4, x5, [x1], #16
    stp     x4, x5, [x3], #16
    b       1b
2:  adds    x2, x2, #16
    tbz     x2, #3, 3f
    ldr     x4, [x1], #8
    str     x4, [x3], #8
    sub     x2, x2, #8
3:  cbz     x2, 4f
    ldrb    w4, [x1], #1
    strb    w4, [x3], #1
    sub     x2, x2, #1
    b       3b
4:  ret
    // Same alignment modulo 4 only: bytes up to a 4-aligned address, then 4 bytes at a time.
5:  tst     x4, #3
    b.ne    3b
6:  tst     x3, #3
    b.eq    7f
    cbz     x2, 4b
    ldrb    w4, [x1], #1
    strb    w4, [x3], #1
    sub     x2, x2, #1
    b       6b
7:  subs    x2, x2, #4
    b.lo    8f
    ldr     w4, [x1], #4
    str     w4, [x3], #4
    b       7b
8:  add     x2, x2, #4
    b       3b
    .size memcpy, . - memcpy

    .section .text.memset, "ax"
    .global memset
    .type memset, %function
// memset(x0 = dst, w1 = byte, x2 = n) -> dst
memset:
    mov     x3, x0
    and     x1, x1, #0xff
    orr     x1, x1, x1, lsl #8
    orr     x1, x1, x1, lsl #16
    orr     x1, x1, x1, lsl #32
0:  tst     x3, #7
    b.eq    1f
    cbz     x2, 4f
    strb    w1, [x3], #1
    sub     x2, x2, #1
    b       0b
1:  subs    x2, x2, #16
    b.lo    2f
    stp     x1, x1, [x3], #16
    b       1b
2:  adds    x2, x2, #16
    tbz     x2, #3, 3f
    str     x1, [x3], #8
    sub     x2, x2, #8
3:  cbz     x2, 4f
    strb    w1, [x3], #1
    sub     x2, x2, #1
    b       3b
4:  ret
    .size memset, . - memset
"#
);
