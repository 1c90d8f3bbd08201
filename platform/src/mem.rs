//! `memcpy` and `memset` for the bare-metal images, in place of the portable (weak) ones the
//! compiler's builtins provide: the images move and clear small structures on their hottest
//! paths (REC entry and exit, the host's KVM model), and these do it 128 bytes (eight store pairs)
//! per loop iteration, the rest by the remaining length's bits.
//!
//! Every access is aligned to its size, so they are safe on Device memory too (both images run
//! parts of their life with the MMU off): memcpy copies bytes until the pointers are aligned,
//! then 128 bytes at a time and the rest by the length's bits when they agree modulo 8 (4 bytes at a
//! time when only modulo 4), bytes otherwise and
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
    // Same alignment modulo 8: bytes up to an 8-aligned address, then 128 bytes a loop
    // iteration, then 64, 32, 16 and 8 as the remaining length's bits say, then bytes.
0:  tst     x3, #7
    b.eq    1f
    cbz     x2, 4f
    ldrb    w4, [x1], #1
    strb    w4, [x3], #1
    sub     x2, x2, #1
    b       0b
1:  subs    x2, x2, #128
    b.lo    9f
11: ldp     x4, x5, [x1]
    ldp     x6, x7, [x1, #16]
    ldp     x8, x9, [x1, #32]
    ldp     x10, x11, [x1, #48]
    stp     x4, x5, [x3]
    stp     x6, x7, [x3, #16]
    stp     x8, x9, [x3, #32]
    stp     x10, x11, [x3, #48]
    ldp     x4, x5, [x1, #64]
    ldp     x6, x7, [x1, #80]
    ldp     x8, x9, [x1, #96]
    ldp     x10, x11, [x1, #112]
    add     x1, x1, #128
    stp     x4, x5, [x3, #64]
    stp     x6, x7, [x3, #80]
    stp     x8, x9, [x3, #96]
    stp     x10, x11, [x3, #112]
    add     x3, x3, #128
    subs    x2, x2, #128
    b.hs    11b
9:  add     x2, x2, #128
    tbz     x2, #6, 10f
    ldp     x4, x5, [x1]
    ldp     x6, x7, [x1, #16]
    ldp     x8, x9, [x1, #32]
    ldp     x10, x11, [x1, #48]
    add     x1, x1, #64
    stp     x4, x5, [x3]
    stp     x6, x7, [x3, #16]
    stp     x8, x9, [x3, #32]
    stp     x10, x11, [x3, #48]
    add     x3, x3, #64
10: tbz     x2, #5, 12f
    ldp     x4, x5, [x1]
    ldp     x6, x7, [x1, #16]
    add     x1, x1, #32
    stp     x4, x5, [x3]
    stp     x6, x7, [x3, #16]
    add     x3, x3, #32
12: tbz     x2, #4, 2f
    ldp     x4, x5, [x1], #16
    stp     x4, x5, [x3], #16
2:  tbz     x2, #3, 13f
    ldr     x4, [x1], #8
    str     x4, [x3], #8
13: and     x2, x2, #7
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
    // 8-aligned: 128 bytes a loop iteration, then 64, 32, 16 and 8 as the remaining length's
    // bits say, then bytes.
1:  subs    x2, x2, #128
    b.lo    5f
7:  stp     x1, x1, [x3], #128
    stp     x1, x1, [x3, #-112]
    stp     x1, x1, [x3, #-96]
    stp     x1, x1, [x3, #-80]
    stp     x1, x1, [x3, #-64]
    stp     x1, x1, [x3, #-48]
    stp     x1, x1, [x3, #-32]
    stp     x1, x1, [x3, #-16]
    subs    x2, x2, #128
    b.hs    7b
5:  add     x2, x2, #128
    tbz     x2, #6, 6f
    stp     x1, x1, [x3], #64
    stp     x1, x1, [x3, #-48]
    stp     x1, x1, [x3, #-32]
    stp     x1, x1, [x3, #-16]
6:  tbz     x2, #5, 8f
    stp     x1, x1, [x3], #32
    stp     x1, x1, [x3, #-16]
8:  tbz     x2, #4, 2f
    stp     x1, x1, [x3], #16
2:  tbz     x2, #3, 9f
    str     x1, [x3], #8
9:  and     x2, x2, #7
3:  cbz     x2, 4f
    strb    w1, [x3], #1
    sub     x2, x2, #1
    b       3b
4:  ret
    .size memset, . - memset
"#
);

/// Checks [`memcpy`](self) and [`memset`](self) against byte-by-byte references for every
/// destination and source offset 0..16 and lengths around each loop boundary; returns the number
/// of cases, or the first failing (destination offset, source offset, length). Images run it
/// once at boot, on their own stack.
pub fn self_check() -> Result<usize, (usize, usize, usize)> {
    const LENS: [usize; 30] = [
        0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 47, 63, 64, 65, 79, 100, 127, 128, 129, 200, 255,
        256, 257, 383, 392, 504, 505, 511,
    ];
    const BUF: usize = 544;
    let mut src = [0u8; BUF];
    for (i, b) in src.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(7);
    }
    let mut cases = 0;
    for d in 0..16 {
        for s in 0..16 {
            for &len in &LENS {
                let mut dst = [0xA5u8; BUF];
                let n = core::hint::black_box(len);
                // SAFETY: both ranges lie inside their own BUF-byte arrays (16 + 511 < BUF) and
                // the arrays are distinct.
                unsafe {
                    core::ptr::copy_nonoverlapping(src.as_ptr().add(s), dst.as_mut_ptr().add(d), n)
                };
                let copied = (0..BUF).all(|i| {
                    let want = if (d..d + len).contains(&i) {
                        src[s + i - d]
                    } else {
                        0xA5
                    };
                    dst[i] == want
                });
                if !copied {
                    return Err((d, s, len));
                }
                let before = dst;
                let value = 0x3C + s as u8;
                // SAFETY: the range lies inside `dst`.
                unsafe { core::ptr::write_bytes(dst.as_mut_ptr().add(d), value, n) };
                let filled = (0..BUF).all(|i| {
                    let want = if (d..d + len).contains(&i) {
                        value
                    } else {
                        before[i]
                    };
                    dst[i] == want
                });
                if !filled {
                    return Err((d, s, len));
                }
                cases += 2;
            }
        }
    }
    Ok(cases)
}
