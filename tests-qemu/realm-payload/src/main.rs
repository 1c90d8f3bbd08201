//! The realm payload: a tiny R-EL1 kernel that talks to the RMM through RSI and to the VMM
//! through host calls, and reports what it saw. Its protocol with the host stub (host-call
//! numbers, modes, shared pages) is `hostcall_abi::payload`.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod realm {
    use core::arch::{asm, global_asm};

    use hostcall_abi::host_call::RsiHostCall;
    use hostcall_abi::payload::{
        self as payload, check, echo_arg, summarize, ATTEST_CHALLENGE, ATTEST_TOKEN, BENCH,
        BENCH_FP_RESULT, BENCH_ITERATIONS, BENCH_MINIMAL, BENCH_MINIMAL_RESULT, BENCH_RESULT, ECHO,
        ECHO_IMM, GROW_IPA, MEASUREMENTS, REALM_FP_PATTERN, REFUSED_IPA, REGION_SIZE,
        REM_EXTEND_INDEX, REM_EXTEND_VALUE, REPORT, TOKEN_ATTEMPTS, TOKEN_INTERRUPTED_SHIFT,
        TOKEN_LAST, TOKEN_PIECE, UNPROTECTED_IPA, WFI_ITERATIONS,
    };
    use hostcall_abi::psci::PsciFunction;
    use hostcall_abi::rsi::{RsiCommand, RSI_VERSION_1_0};

    // Entry at IPA 0 with the MMU off: clear .bss, take the stack at the top of the region, and
    // call realm_main with x0..x2 as the REC started with them.
    global_asm!(
        r#"
        .section .text.entry, "ax"
        .global realm_entry
    realm_entry:
        adrp    x9, __bss_start
        add     x9, x9, :lo12:__bss_start
        adrp    x10, __bss_end
        add     x10, x10, :lo12:__bss_end
    1:  cmp     x9, x10
        b.hs    2f
        stp     xzr, xzr, [x9], #16
        b       1b
    2:  adrp    x9, __stack_top
        add     x9, x9, :lo12:__stack_top
        mov     sp, x9
        bl      realm_main
    3:  wfi
        b       3b

        // Where PSCI CPU_ON starts REC 1 (x0 = context ID): its own stack, .bss already set up.
        .global realm_secondary_entry
    realm_secondary_entry:
        adrp    x9, SECONDARY_STACK
        add     x9, x9, :lo12:SECONDARY_STACK
        add     x9, x9, #{secondary_stack}
        mov     sp, x9
        bl      realm_secondary_main
    4:  wfi
        b       4b
        "#,
        secondary_stack = const SECONDARY_STACK_SIZE,
    );

    // The realm's exception vectors. Only an IRQ taken at EL1 with SP_EL1 (offset 0x280) is
    // expected: it acknowledges the virtual interrupt at the (virtual) CPU interface, records
    // its INTID in LAST_VIRQ and ends it. Anything else stops the REC.
    global_asm!(
        r#"
        .section .text.vectors, "ax"
        .balign 2048
        .global realm_vectors
    realm_vectors:
        .rept 5
        .balign 128
        b       realm_unexpected
        .endr
        .balign 128
        stp     x0, x1, [sp, #-16]!
        mrs     x0, S3_0_C12_C12_0      // ICC_IAR1_EL1
        adrp    x1, LAST_VIRQ
        str     x0, [x1, :lo12:LAST_VIRQ]
        msr     S3_0_C12_C12_1, x0      // ICC_EOIR1_EL1
        ldp     x0, x1, [sp], #16
        eret
        .rept 10
        .balign 128
        b       realm_unexpected
        .endr
    realm_unexpected:
        b       realm_unexpected_exception
        "#
    );

    /// The flag page of an isolation race once the racer has installed the vectors (0 before,
    /// and in every other mode).
    static mut ISO_FLAGS: u64 = 0;

    /// Any exception the vectors do not expect. In an isolation race it is the synchronous
    /// external abort the RMM injects for an access to an EMPTY IPA: recorded in the flag page,
    /// then the realm powers off. Anywhere else the realm stops here.
    #[no_mangle]
    extern "C" fn realm_unexpected_exception() -> ! {
        use payload::isolation as iso;
        // SAFETY: written once by the racer, before the accesses that may take this exception.
        let flags = unsafe { core::ptr::read_volatile(&raw const ISO_FLAGS) };
        if flags != 0 {
            let (far, esr): (u64, u64);
            // SAFETY: reading the syndrome registers of the exception being taken.
            unsafe {
                asm!("mrs {}, far_el1", "mrs {}, esr_el1", out(reg) far, out(reg) esr,
                     options(nomem, nostack))
            };
            let f = flags as *mut u64;
            // SAFETY: the flag page the host mapped for the race; the indexes are under
            // `iso::WORDS`.
            unsafe {
                core::ptr::write_volatile(f.add(iso::SEA_FAR), far);
                core::ptr::write_volatile(f.add(iso::SEA_ESR), esr);
                core::ptr::write_volatile(f.add(iso::STATUS), iso::STATUS_SEA);
            }
            power_off();
        }
        loop {
            // SAFETY: waiting for an interrupt has no memory effects.
            unsafe { asm!("wfi", options(nomem, nostack)) };
        }
    }

    /// The INTID of the last virtual interrupt the realm took (written by the IRQ vector).
    #[no_mangle]
    static mut LAST_VIRQ: u64 = 0;

    /// Installs the vectors and opens the virtual CPU interface (group 1 enabled, every
    /// priority let through); interrupts stay masked until a check unmasks them.
    fn open_virtual_cpu_interface() {
        // SAFETY: 1. VBAR_EL1 points at the vectors above (2 KiB aligned). 2. ICC_PMR_EL1 and
        // ICC_IGRPEN1_EL1 reach the virtual CPU interface (ICH_VMCR_EL2), which the RMM keeps
        // with the REC.
        unsafe {
            asm!(
                "adr {t}, realm_vectors",
                "msr vbar_el1, {t}",
                "msr S3_0_C4_C6_0, {pmr}",      // ICC_PMR_EL1
                "msr S3_0_C12_C12_7, {one}",    // ICC_IGRPEN1_EL1
                "isb",
                t = out(reg) _,
                pmr = in(reg) 0xFFu64,
                one = in(reg) 1u64,
                options(nomem, nostack),
            );
        }
    }

    /// Takes whatever virtual interrupt is pending: unmasks IRQs for a moment; the INTID the
    /// vector saw last.
    fn take_pending_virq() -> u64 {
        // SAFETY: unmasks IRQs and masks them again; the vector handles what comes in between;
        // `LAST_VIRQ` is only written by that vector.
        unsafe {
            asm!(
                "msr daifclr, #2",
                "isb",
                "msr daifset, #2",
                "isb",
                options(nomem, nostack)
            );
            core::ptr::read_volatile(&raw const LAST_VIRQ) & 0xFF_FFFF
        }
    }

    /// Asks the VMM for a virtual interrupt and takes it with interrupts unmasked around the
    /// host call: it is pending when the realm resumes.
    fn virtual_interrupt_check() -> u64 {
        let mut g = [0u64; 31];
        g[..2].copy_from_slice(&[payload::INJECT_VIRQ, payload::VIRQ_INTID]);
        // SAFETY: unmasks IRQs; the vector above handles the one expected.
        unsafe { asm!("msr daifclr, #2", "isb", options(nomem, nostack)) };
        let (status, _) = host_call(0, &g);
        // SAFETY: masks IRQs again; `LAST_VIRQ` is only written by the IRQ vector, now masked.
        let taken = unsafe {
            asm!("msr daifset, #2", "isb", options(nomem, nostack));
            core::ptr::read_volatile(&raw const LAST_VIRQ)
        };
        if status != 0 || taken & 0xFF_FFFF != payload::VIRQ_INTID {
            return check::VIRQ;
        }
        0
    }

    /// REC 1's stack.
    const SECONDARY_STACK_SIZE: usize = 4096;
    #[no_mangle]
    static mut SECONDARY_STACK: Stack = Stack([0; SECONDARY_STACK_SIZE]);
    #[repr(C, align(16))]
    struct Stack([u8; SECONDARY_STACK_SIZE]);

    extern "C" {
        fn realm_secondary_entry();
    }

    /// SMC to the RMM: x0..x7 in, x0..x7 out.
    fn smc(regs: [u64; 8]) -> [u64; 8] {
        let mut r = regs;
        // SAFETY: an SMC from a realm traps to the RMM, which changes only registers.
        unsafe {
            asm!(
                "smc #0",
                inout("x0") r[0], inout("x1") r[1], inout("x2") r[2], inout("x3") r[3],
                inout("x4") r[4], inout("x5") r[5], inout("x6") r[6], inout("x7") r[7],
                options(nostack),
            );
        }
        r
    }

    /// SMC to the RMM with x0..x10 in and out: the measurement commands pass a value in x3..x10
    /// and return one in x1..x8.
    fn smc_wide(regs: [u64; 11]) -> [u64; 11] {
        let mut r = regs;
        // SAFETY: as for `smc`; every register the RMM may write back is an operand.
        unsafe {
            asm!(
                "smc #0",
                inout("x0") r[0], inout("x1") r[1], inout("x2") r[2], inout("x3") r[3],
                inout("x4") r[4], inout("x5") r[5], inout("x6") r[6], inout("x7") r[7],
                inout("x8") r[8], inout("x9") r[9], inout("x10") r[10],
                options(nostack),
            );
        }
        r
    }

    #[repr(C, align(256))]
    struct HostCallPage(RsiHostCall);
    static mut HOST_CALL: HostCallPage = HostCallPage(RsiHostCall::ZERO);

    /// RSI_HOST_CALL with `gprs` and `imm`; returns the RSI status and the results.
    fn host_call(imm: u16, gprs: &[u64; 31]) -> (u64, [u64; 31]) {
        let p = &raw mut HOST_CALL;
        // SAFETY: the payload is single-threaded and the RMM only touches the structure while
        // the realm waits in the SMC below.
        unsafe {
            (*p).0.imm = imm;
            (*p).0.gprs = *gprs;
        }
        let r = smc([
            RsiCommand::HOST_CALL.fid() as u64,
            p as u64,
            0,
            0,
            0,
            0,
            0,
            0,
        ]);
        // SAFETY: as above; the SMC has returned.
        (r[0], unsafe { (*p).0.gprs })
    }

    /// Sets CPACR_EL1.FPEN = 0b11 (bits 21:20): EL1 stops trapping its own FP/SIMD accesses.
    fn enable_fp() {
        // SAFETY: changes only whether FP/SIMD instructions trap at EL1/EL0.
        unsafe {
            asm!(
                "mrs {t}, cpacr_el1",
                "orr {t}, {t}, #(3 << 20)",
                "msr cpacr_el1, {t}",
                "isb",
                t = out(reg) _,
                options(nomem, nostack),
            );
        }
    }

    /// Puts `v` in D0 and D31 (the low halves of V0 and V31); FP/SIMD must be enabled.
    fn set_fp(v: u64) {
        // SAFETY: writes two FP/SIMD registers the payload does not otherwise use.
        unsafe {
            asm!(
                ".arch_extension fp",
                "fmov d0, {v}",
                "fmov d31, {v}",
                v = in(reg) v,
                out("v0") _,
                out("v31") _,
                options(nomem, nostack),
            );
        }
    }

    /// D0 and D31.
    fn fp() -> (u64, u64) {
        let (a, b): (u64, u64);
        // SAFETY: reads two FP/SIMD registers.
        unsafe {
            asm!(".arch_extension fp", "fmov {a}, d0", "fmov {b}, d31", a = out(reg) a,
                 b = out(reg) b, options(nomem, nostack));
        }
        (a, b)
    }

    fn report(failed: u64) {
        let mut g = [0u64; 31];
        g[0] = REPORT;
        g[1] = failed;
        host_call(0, &g);
    }

    fn run_checks() -> u64 {
        let v = smc([
            RsiCommand::VERSION.fid() as u64,
            RSI_VERSION_1_0.raw(),
            0,
            0,
            0,
            0,
            0,
            0,
        ]);
        if v[0] != 0 || v[1] != RSI_VERSION_1_0.raw() || v[2] != RSI_VERSION_1_0.raw() {
            return check::RSI_VERSION;
        }
        let mut g = [0u64; 31];
        g[0] = ECHO;
        for (i, r) in g.iter_mut().enumerate().skip(1) {
            *r = echo_arg(i);
        }
        // The host keeps its own pattern in D0 while the realm runs; the realm must see its
        // REC's registers (zero at creation), not the host's.
        enable_fp();
        if fp() != (0, 0) {
            return check::FP_INITIAL;
        }
        // Pointer authentication keys: a new REC's are zero; the realm's own survive an exit.
        if apia_key().is_some_and(|k| k != [0, 0]) {
            return check::PAUTH_KEYS;
        }
        set_apia_key(REALM_KEY_PATTERN);
        set_fp(REALM_FP_PATTERN);
        let (status, out) = host_call(ECHO_IMM, &g);
        if apia_key().is_some_and(|k| k != REALM_KEY_PATTERN) {
            return check::PAUTH_KEYS;
        }
        if status != 0 {
            return check::HOST_CALL_STATUS;
        }
        if fp() != (REALM_FP_PATTERN, REALM_FP_PATTERN) {
            return check::FP_PRESERVED;
        }
        if out[0] != 0 || (1..31).any(|i| out[i] != !echo_arg(i)) {
            return check::ECHO_RESULTS;
        }
        let call = |x: [u64; 3]| {
            let mut g = [0u64; 31];
            g[..3].copy_from_slice(&x);
            host_call(0, &g)
        };
        // Denied in the kernel by the VMM's filter: NOT_SUPPORTED, x1..x3 zero.
        let (status, out) = call([payload::DENIED_PROBE, 5, 6]);
        if status != 0 || out[..4] != [u64::MAX, 0, 0, 0] {
            return check::HOST_CALL_DENIED;
        }
        // Answered in the kernel: SMCCC_VERSION 1.1; ARCH_FEATURES(WORKAROUND_1) "unaffected".
        let (s1, version) = call([0x8000_0000, 0, 0]);
        let (s2, features) = call([0x8000_0001, 0x8000_8000, 0]);
        if s1 != 0 || s2 != 0 || version[0] != 0x1_0001 || features[0] != 1 {
            return check::HOST_CALL_IN_KERNEL;
        }
        // Computed by the VMM in userspace.
        let (s1, sum) = call([payload::ADD, 40, 2]);
        let (s2, product) = call([payload::MUL, 6, 7]);
        if s1 != 0 || s2 != 0 || sum[..2] != [0, 42] || product[..2] != [0, 42] {
            return check::HOST_CALL_MATH;
        }
        open_virtual_cpu_interface();
        let timer = timer_check();
        if timer != 0 {
            return timer;
        }
        if !id_registers_show_the_realms_features() {
            return check::ID_REGISTERS;
        }
        if breakpoint_register_round_trip() != 0 {
            return check::DEBUG_REGISTERS;
        }
        if !mops_work_if_offered() {
            return check::MOPS;
        }
        let virq = virtual_interrupt_check();
        if virq != 0 {
            return virq;
        }
        send_sgi();
        memory_checks()
    }

    /// The ID registers as the realm reads them (each read trapped to the RMM): no SVE
    /// (ID_AA64PFR0_EL1 \[35:32\], ID_AA64ZFR0_EL1), no SME (ID_AA64PFR1_EL1 \[27:24\]), though the
    /// QEMU `max` CPU has both; the memory model register as the hardware has it; and a MIDR_EL1
    /// (from VPIDR_EL2, which the RMM must set: EL3 starts it zero).
    fn id_registers_show_the_realms_features() -> bool {
        let (pfr0, pfr1, zfr0, mmfr0): (u64, u64, u64, u64);
        // SAFETY: reads ID registers only.
        unsafe {
            asm!(
                "mrs {a}, id_aa64pfr0_el1",
                "mrs {b}, id_aa64pfr1_el1",
                "mrs {c}, S3_0_C0_C4_4",
                "mrs {d}, id_aa64mmfr0_el1",
                a = out(reg) pfr0,
                b = out(reg) pfr1,
                c = out(reg) zfr0,
                d = out(reg) mmfr0,
                options(nomem, nostack),
            );
        }
        let midr: u64;
        // SAFETY: reads MIDR_EL1 (VPIDR_EL2 as the RMM set it).
        unsafe { asm!("mrs {}, midr_el1", out(reg) midr, options(nomem, nostack)) };
        (pfr0 >> 32) & 0xF == 0 && (pfr1 >> 24) & 0xF == 0 && zfr0 == 0 && mmfr0 != 0 && midr != 0
    }

    /// If the ID registers report FEAT_MOPS (ID_AA64ISAR2_EL1.MOPS), clears 32 bytes with the
    /// SETP/SETM/SETE sequence and checks they are clear; true if they are, or if there is no
    /// MOPS. (With HCRX_EL2.MSCEn clear the instructions are undefined at EL1.)
    fn mops_work_if_offered() -> bool {
        let isar2: u64;
        // SAFETY: reads an ID register.
        unsafe { asm!("mrs {}, S3_0_C0_C6_2", out(reg) isar2, options(nomem, nostack)) };
        if (isar2 >> 16) & 0xF == 0 {
            return true;
        }
        let mut buf = [0xA5u8; 32];
        // SAFETY: sets the 32 bytes of `buf` (x0 its address, x1 the size, x2 the value); the
        // registers are clobbered as the sequence leaves them.
        unsafe {
            asm!(
                ".arch_extension mops",
                "setp [{d}]!, {n}!, {v}",
                "setm [{d}]!, {n}!, {v}",
                "sete [{d}]!, {n}!, {v}",
                d = inout(reg) buf.as_mut_ptr() => _,
                n = inout(reg) buf.len() => _,
                v = in(reg) 0u64,
                options(nostack),
            );
        }
        buf.iter().all(|&b| b == 0)
    }

    /// The SGI the realm sends to itself: INTID 1 \[27:24\], target list bit 0 \[15:0\].
    pub const SGI_WRITE: u64 = 1 << 24 | 1;

    /// Sends [`SGI_WRITE`] through ICC_SGI1R_EL1: the write traps to the RMM, which hands it to
    /// the host to emulate (the model does not deliver it; interrupts stay masked anyway).
    fn send_sgi() {
        // SAFETY: writes the SGI generation register; no memory.
        unsafe {
            asm!("msr S3_0_C12_C11_5, {}", "isb", in(reg) SGI_WRITE, options(nomem, nostack))
        };
    }

    /// What the first realm puts in its APIAKey (low, high).
    const REALM_KEY_PATTERN: [u64; 2] = [0x4B45_5900_0000_0A1A, 0x4B45_5900_0000_0A1B];

    /// APIAKeyLo/Hi_EL1, if the CPU has address authentication (ID_AA64ISAR1_EL1 APA \[7:4\] or
    /// API \[11:8\], ID_AA64ISAR2_EL1 APA3 \[15:12\]).
    fn apia_key() -> Option<[u64; 2]> {
        let (isar1, isar2): (u64, u64);
        // SAFETY: reads ID registers.
        unsafe {
            asm!("mrs {}, id_aa64isar1_el1", "mrs {}, S3_0_C0_C6_2", out(reg) isar1,
                 out(reg) isar2, options(nomem, nostack));
        }
        if (isar1 >> 4) & 0xFF == 0 && (isar2 >> 12) & 0xF == 0 {
            return None;
        }
        let (lo, hi): (u64, u64);
        // SAFETY: reads the key registers, which exist (checked above).
        unsafe {
            asm!("mrs {}, S3_0_C2_C1_0", "mrs {}, S3_0_C2_C1_1", out(reg) lo, out(reg) hi,
                 options(nomem, nostack));
        }
        Some([lo, hi])
    }

    /// Sets APIAKeyLo/Hi_EL1 (if the CPU has them; the payload signs no pointers).
    fn set_apia_key(k: [u64; 2]) {
        if apia_key().is_some() {
            // SAFETY: writes the key registers, which exist; no code of the payload uses them.
            unsafe {
                asm!("msr S3_0_C2_C1_0, {}", "msr S3_0_C2_C1_1, {}", "isb", in(reg) k[0],
                     in(reg) k[1], options(nomem, nostack));
            }
        }
    }

    /// Writes DBGBVR0_EL1 and reads it back.
    fn breakpoint_register_round_trip() -> u64 {
        let v: u64;
        // SAFETY: writes and reads one breakpoint value register; its control register is left
        // disabled, so no breakpoint can fire.
        unsafe {
            asm!(
                "msr dbgbvr0_el1, {w}",
                "isb",
                "mrs {v}, dbgbvr0_el1",
                w = in(reg) 0x4_0000u64,
                v = out(reg) v,
                options(nomem, nostack),
            );
        }
        v
    }

    /// Sets the EL1 virtual timer: compare value 0 (long past) and enabled with its interrupt
    /// unmasked if `on`, so that its output asserts at once; disabled otherwise.
    fn set_virtual_timer(on: bool) {
        // SAFETY: writes the EL1 virtual timer's registers only; the realm runs with interrupts
        // masked, so nothing is taken here.
        unsafe {
            asm!(
                "msr cntv_cval_el0, xzr",
                "msr cntv_ctl_el0, {ctl}",
                "isb",
                ctl = in(reg) on as u64,
                options(nomem, nostack),
            );
        }
    }

    /// CNTV_CTL_EL0.
    fn virtual_timer_ctl() -> u64 {
        let ctl: u64;
        // SAFETY: reads a timer register.
        unsafe { asm!("mrs {}, cntv_ctl_el0", out(reg) ctl, options(nomem, nostack)) };
        ctl
    }

    /// Fires the virtual timer and runs on with it firing: its physical interrupt ends the run
    /// (an IRQ exit whose rec_exit.cntv_ctl shows it), and the RMM masks it on the next entries.
    /// Were it not masked, every entry would end in an IRQ exit at once and the realm would
    /// never get past this. The host makes the timer's virtual interrupt (INTID 27) pending, as
    /// KVM does; after a host call the realm takes it, then stops the timer.
    fn timer_check() -> u64 {
        set_virtual_timer(true);
        let mut fired = false;
        for _ in 0..10_000 {
            fired |= virtual_timer_ctl() & 0b100 != 0; // ISTATUS
        }
        let mut g = [0u64; 31];
        g[..3].copy_from_slice(&[payload::ADD, 1, 1]);
        let (status, sum) = host_call(0, &g);
        let taken = take_pending_virq();
        set_virtual_timer(false);
        if !fired || status != 0 || sum[..2] != [0, 2] || taken != VIRTUAL_TIMER_INTID {
            return check::TIMER;
        }
        0
    }

    /// The EL1 virtual timer's interrupt (PPI 27), as the host injects it.
    const VIRTUAL_TIMER_INTID: u64 = 27;

    #[repr(C, align(4096))]
    struct Page([u8; 4096]);
    static mut CONFIG: Page = Page([0; 4096]);

    fn rsi(cmd: RsiCommand, args: [u64; 4]) -> [u64; 8] {
        smc([
            cmd.fid() as u64,
            args[0],
            args[1],
            args[2],
            args[3],
            0,
            0,
            0,
        ])
    }

    /// Host calls at addresses the RMM must refuse, REALM_CONFIG, the RIPAS of the realm's own
    /// memory, RIPAS changes the VMM accepts and rejects, and a host call that the RMM can only
    /// complete after the host has mapped its page.
    fn memory_checks() -> u64 {
        let hc = &raw const HOST_CALL as u64;
        let call = |ipa: u64| rsi(RsiCommand::HOST_CALL, [ipa, 0, 0, 0])[0];
        if call(hc + 8) != 1 {
            return check::HOST_CALL_MISALIGNED;
        }
        if call(UNPROTECTED_IPA) != 1 {
            return check::HOST_CALL_UNPROTECTED;
        }
        if call(GROW_IPA) != 1 {
            return check::HOST_CALL_EMPTY;
        }
        let cfg = &raw mut CONFIG;
        let r = rsi(RsiCommand::REALM_CONFIG, [cfg as u64, 0, 0, 0]);
        // SAFETY: the RMM wrote the page during the call; single-threaded.
        let (width, hash) = unsafe { ((*cfg).0[0], (*cfg).0[8]) };
        if r[0] != 0 || width != 40 || hash != 0 {
            return check::REALM_CONFIG;
        }
        let g = rsi(RsiCommand::IPA_STATE_GET, [0, REGION_SIZE, 0, 0]);
        let e = rsi(
            RsiCommand::IPA_STATE_GET,
            [GROW_IPA, GROW_IPA + 0x1000, 0, 0],
        );
        if g[..3] != [0, REGION_SIZE, 1] || e[..3] != [0, GROW_IPA + 0x1000, 0] {
            return check::IPA_STATE_GET;
        }
        let set = |base: u64| rsi(RsiCommand::IPA_STATE_SET, [base, base + 0x1000, 1, 0]);
        let a = set(GROW_IPA);
        let after = rsi(
            RsiCommand::IPA_STATE_GET,
            [GROW_IPA, GROW_IPA + 0x1000, 0, 0],
        );
        if a[..3] != [0, GROW_IPA + 0x1000, 0] || after[2] != 1 {
            return check::IPA_STATE_SET_ACCEPTED;
        }
        let rj = set(REFUSED_IPA);
        let still = rsi(
            RsiCommand::IPA_STATE_GET,
            [REFUSED_IPA, REFUSED_IPA + 0x1000, 0, 0],
        );
        if rj[..3] != [0, REFUSED_IPA, 1] || still[2] != 0 {
            return check::IPA_STATE_SET_REJECTED;
        }
        // GROW_IPA is RAM now but nothing is assigned there: the first attempt exits to the host
        // as a data abort, the host maps a page (of unknown, wiped contents: a zero host call),
        // and the realm's SMC, not stepped over, repeats and succeeds.
        if call(GROW_IPA) != 0 {
            return check::HOST_CALL_RETRY;
        }
        0
    }

    /// RSI_MEASUREMENT_READ of `index`: the status and the measurement's eight doublewords.
    fn measurement_read(index: u64) -> (u64, [u64; 8]) {
        let mut r = [0u64; 11];
        r[0] = RsiCommand::MEASUREMENT_READ.fid() as u64;
        r[1] = index;
        let r = smc_wide(r);
        let mut words = [0u64; 8];
        words.copy_from_slice(&r[1..9]);
        (r[0], words)
    }

    /// Hands measurement `index` (its doublewords `words`) to the VMM; true if it took it.
    fn send_measurement(index: u64, words: &[u64; 8]) -> bool {
        let mut g = [0u64; 31];
        g[0] = MEASUREMENTS;
        g[1..9].copy_from_slice(words);
        g[9] = index;
        let (status, out) = host_call(0, &g);
        status == 0 && out[0] == 0
    }

    /// Reads the RIM and gives it to the VMM, extends REM [`REM_EXTEND_INDEX`] with
    /// [`REM_EXTEND_VALUE`], reads that REM back and gives it to the VMM too. The host checks
    /// the values; the realm only checks that every call succeeded.
    fn measurements() -> u64 {
        let (status, rim) = measurement_read(0);
        if status != 0 || !send_measurement(0, &rim) {
            return check::MEASUREMENT;
        }
        let mut e = [0u64; 11];
        e[0] = RsiCommand::MEASUREMENT_EXTEND.fid() as u64;
        e[1] = REM_EXTEND_INDEX;
        e[2] = REM_EXTEND_VALUE.len() as u64;
        for (reg, b) in e[3..].iter_mut().zip(REM_EXTEND_VALUE.chunks_exact(8)) {
            *reg = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        }
        if smc_wide(e)[0] != 0 {
            return check::MEASUREMENT;
        }
        let (status, rem) = measurement_read(REM_EXTEND_INDEX);
        if status != 0 || !send_measurement(REM_EXTEND_INDEX, &rem) {
            return check::MEASUREMENT;
        }
        0
    }

    /// The granule RSI_ATTESTATION_TOKEN_CONTINUE writes the token into.
    #[repr(C, align(4096))]
    struct TokenPage([u8; 4096]);
    static mut TOKEN_PAGE: TokenPage = TokenPage([0; 4096]);

    /// Asks the VMM for a challenge, requests a token for it from the RMM in [`TOKEN_PIECE`]-byte
    /// chunks, and hands each chunk to the VMM as it arrives. Repeats (up to [`TOKEN_ATTEMPTS`]
    /// requests) until one was interrupted mid-token: the host arms a timer when it hands out
    /// the challenge, and an IRQ exit during the RMM's signing makes a CONTINUE come back
    /// RSI_INCOMPLETE with nothing written. The host verifies the token; the realm checks that
    /// every call succeeded and the token stayed within INIT's bound.
    fn attestation() -> u64 {
        for _ in 0..TOKEN_ATTEMPTS {
            match token_request() {
                Ok(0) => continue,
                Ok(_) => return 0,
                Err(check) => return check,
            }
        }
        // The VMM reports the missing interruption; the token itself was fine.
        0
    }

    /// One token request: the number of CONTINUE calls an IRQ exit interrupted.
    fn token_request() -> Result<u64, u64> {
        let mut g = [0u64; 31];
        g[0] = ATTEST_CHALLENGE;
        let (status, answer) = host_call(0, &g);
        if status != 0 || answer[0] != 0 {
            return Err(check::ATTESTATION);
        }
        let mut init = [0u64; 11];
        init[0] = RsiCommand::ATTESTATION_TOKEN_INIT.fid() as u64;
        init[1..9].copy_from_slice(&answer[1..9]);
        let r = smc_wide(init);
        let (status, bound) = (r[0], r[1]);
        if status != 0 {
            return Err(check::ATTESTATION);
        }
        let page = &raw mut TOKEN_PAGE;
        let (mut offset, mut interrupted) = (0u64, 0u64);
        // Each call delivers at least one byte unless interrupted; the bound caps the loop.
        for _ in 0..4 * bound + 16 {
            let r = smc([
                RsiCommand::ATTESTATION_TOKEN_CONTINUE.fid() as u64,
                page as u64,
                0,
                TOKEN_PIECE as u64,
                0,
                0,
                0,
                0,
            ]);
            let (status, len) = (r[0], r[1] as usize);
            let last = status == 0;
            if !(last || status == 3) || len > TOKEN_PIECE {
                return Err(check::ATTESTATION);
            }
            if len == 0 && !last {
                interrupted += 1;
                continue;
            }
            let mut flags = 0;
            if last {
                flags = TOKEN_LAST | interrupted << TOKEN_INTERRUPTED_SHIFT;
            }
            let mut piece = [0u64; 31];
            piece[..4].copy_from_slice(&[ATTEST_TOKEN, offset, len as u64, flags]);
            for (i, w) in piece[4..].iter_mut().enumerate() {
                let mut b = [0u8; 8];
                for (j, byte) in b.iter_mut().enumerate() {
                    // SAFETY: in bounds of the page; the RMM wrote it during the SMC above.
                    *byte = unsafe { (*page).0[8 * i + j] };
                }
                *w = u64::from_le_bytes(b);
            }
            let (status, answer) = host_call(0, &piece);
            if status != 0 || answer[0] != 0 {
                return Err(check::ATTESTATION);
            }
            offset += len as u64;
            if last {
                return if offset <= bound {
                    Ok(interrupted)
                } else {
                    Err(check::ATTESTATION)
                };
            }
        }
        Err(check::ATTESTATION)
    }

    /// The virtual counter (one tick per instruction under `-icount shift=0`).
    fn now() -> u64 {
        let t: u64;
        // SAFETY: reading CNTVCT_EL0 (after a barrier, so earlier instructions are done) has no
        // side effects; EL1 may always read it.
        unsafe { asm!("isb", "mrs {}, cntvct_el0", out(reg) t, options(nomem, nostack)) };
        t
    }

    static mut SAMPLES: [u64; BENCH_ITERATIONS] = [0; BENCH_ITERATIONS];

    /// Times `call` host calls (the structure written once, only the SMC inside the window) and
    /// reports the summary with `result`; with `fp`, the realm also writes D1 before each call
    /// and right after it, inside the window. Inlined into the one-kind functions below, so a
    /// per-PC trace (`cargo xtask bench`) finds each kind's round trips by the function's symbol.
    #[inline(always)]
    fn bench_host_calls(call: u64, result: u64, fp: bool) {
        let p = &raw mut HOST_CALL;
        let samples = &raw mut SAMPLES;
        for i in 0..BENCH_ITERATIONS {
            // SAFETY: single-threaded; the RMM touches the structure only during the SMC.
            unsafe { (*p).0.gprs[0] = call };
            let fid = RsiCommand::HOST_CALL.fid() as u64;
            if fp {
                set_d1(i as u64);
            }
            let t0 = now();
            smc([fid, p as u64, 0, 0, 0, 0, 0, 0]);
            if fp {
                set_d1(i as u64);
            }
            let t1 = now();
            // SAFETY: `i` is in bounds of the static array only this function uses.
            unsafe { (*samples)[i] = t1.wrapping_sub(t0) };
        }
        // SAFETY: as above.
        let (median, min, max) = summarize(unsafe { &mut *samples });
        let mut g = [0u64; 31];
        g[..4].copy_from_slice(&[result, median, min, max]);
        host_call(0, &g);
    }

    /// Host calls the minimal host answers (re-entering at once).
    #[inline(never)]
    fn bench_minimal_host() {
        bench_host_calls(BENCH_MINIMAL, BENCH_MINIMAL_RESULT, false);
    }

    /// Host calls the VMM answers through the KVM model.
    #[inline(never)]
    fn bench_kvm_host() {
        bench_host_calls(BENCH, BENCH_RESULT, false);
    }

    /// Host calls the VMM answers, the realm using FP/SIMD around each.
    #[inline(never)]
    fn bench_kvm_host_fp() {
        bench_host_calls(BENCH, BENCH_FP_RESULT, true);
    }

    /// WFIs, each trapped to the host (TRAP_WFI), which re-enters at once.
    #[inline(never)]
    fn bench_wfi() {
        for _ in 0..WFI_ITERATIONS {
            // SAFETY: trapped to the host (TRAP_WFI), which re-enters at once.
            unsafe { asm!("wfi", options(nomem, nostack)) };
        }
    }

    /// Puts `v` in D1 (FP/SIMD enabled by the checks before).
    fn set_d1(v: u64) {
        // SAFETY: writes one FP/SIMD register the payload does not otherwise use.
        unsafe {
            asm!(".arch_extension fp", "fmov d1, {v}", v = in(reg) v, out("v1") _,
                 options(nomem, nostack));
        }
    }

    /// The host-call benchmarks (minimal host, KVM model, KVM model with FP/SIMD use); then WFIs
    /// for the host to time.
    fn benchmark() {
        bench_minimal_host();
        bench_kvm_host();
        bench_kvm_host_fp();
        bench_wfi();
    }

    /// Prints `text` on the VMM's UART: one byte store per character, each an MMIO exit.
    fn print(text: &str) {
        for b in text.bytes().chain(*b"\n") {
            // SAFETY: an unprotected IPA no memory backs: the store traps to the RMM and reaches
            // the host as emulatable MMIO; it touches no realm memory.
            unsafe { core::ptr::write_volatile(payload::UART_IPA as *mut u8, b) };
        }
    }

    /// The PSCI calls a single REC can make, answered by the RMM without the host (apart from
    /// CPU_SUSPEND's notification).
    fn psci_checks() -> u64 {
        use hostcall_abi::psci::{PsciFunction as P, PsciReturn as R};
        // This realm runs on the CPU where the first one left its key: it must not see it.
        if apia_key().is_some_and(|k| k != [0, 0]) {
            return check::PAUTH_KEYS;
        }
        let call = |f: u64, a: [u64; 3]| smc([f, a[0], a[1], a[2], 0, 0, 0, 0])[0];
        let fid64 = |f: P| f.spec_fid() as u64;
        if call(P::VERSION.fid32() as u64, [0; 3]) != 0x1_0001 {
            return check::PSCI_VERSION;
        }
        let features = P::FEATURES.fid32() as u64;
        if call(features, [fid64(P::CPU_ON), 0, 0]) != R::Success.raw()
            || call(features, [0x8400_0005, 0, 0]) != R::NotSupported.raw()
        {
            return check::PSCI_FEATURES;
        }
        if call(0x8400_0005, [0; 3]) != R::NotSupported.raw() {
            return check::PSCI_UNSUPPORTED;
        }
        let cpu_on = fid64(P::CPU_ON);
        if call(cpu_on, [7, 1 << 39, 0]) != R::InvalidAddress.raw() {
            return check::PSCI_CPU_ON_BAD_ENTRY;
        }
        if call(cpu_on, [7, 0x1000, 0]) != R::InvalidParameters.raw() {
            return check::PSCI_CPU_ON_NO_REC;
        }
        if call(cpu_on, [0, 0x1000, 0]) != R::AlreadyOn.raw() {
            return check::PSCI_CPU_ON_SELF;
        }
        let affinity = fid64(P::AFFINITY_INFO);
        if call(affinity, [0, 0, 0]) != 0 || call(affinity, [0, 1, 0]) != R::InvalidParameters.raw()
        {
            return check::PSCI_AFFINITY_INFO;
        }
        if call(fid64(P::CPU_SUSPEND), [0, 0, 0]) != R::Success.raw() {
            return check::PSCI_CPU_SUSPEND;
        }
        0
    }

    /// What REC 1 reports to REC 0 through memory they share: the VMM's answer to SMP_HELLO
    /// (0 until then), and the MPIDR REC 1 read.
    static mut SMP_REPORT: [u64; 2] = [0; 2];
    /// REC 0's go-ahead for REC 1 to turn itself off (once REC 0 has seen it ON).
    static mut SMP_GO: u64 = 0;

    /// The counter deadline `seconds` from now.
    fn deadline_in(seconds: u64) -> u64 {
        let freq: u64;
        // SAFETY: reading CNTFRQ_EL0 has no side effects.
        unsafe { asm!("mrs {}, cntfrq_el0", out(reg) freq, options(nomem, nostack)) };
        now() + seconds * freq
    }
    /// REC 1's RsiHostCall (REC 0's is in use on the other CPU at the same time).
    static mut SECONDARY_HOST_CALL: HostCallPage = HostCallPage(RsiHostCall::ZERO);

    /// REC 1, started by REC 0's CPU_ON on another physical CPU: tells the VMM who it is, leaves
    /// the VMM's answer for REC 0, and turns itself off.
    #[no_mangle]
    extern "C" fn realm_secondary_main(context: u64) -> ! {
        let mpidr: u64;
        // SAFETY: reading MPIDR_EL1 (the RMM's virtual MPIDR for this REC) has no side effects.
        unsafe { asm!("mrs {}, mpidr_el1", out(reg) mpidr, options(nomem, nostack)) };
        let p = &raw mut SECONDARY_HOST_CALL;
        let mut gprs = [0u64; 31];
        gprs[..3].copy_from_slice(&[payload::SMP_HELLO, mpidr, context]);
        // SAFETY: only REC 1 uses this structure, and the RMM only while REC 1 waits in the SMC.
        unsafe { (*p).0.gprs = gprs };
        let r = smc([
            RsiCommand::HOST_CALL.fid() as u64,
            p as u64,
            0,
            0,
            0,
            0,
            0,
            0,
        ]);
        // SAFETY: as above; the SMC has returned.
        let (x0, x1) = unsafe { ((*p).0.gprs[0], (*p).0.gprs[1]) };
        let answer = if r[0] == 0 && x0 == 0 { x1 } else { u64::MAX };
        let report = &raw mut SMP_REPORT;
        // SAFETY: REC 0 only reads SMP_REPORT; volatile, so the stores happen in this order
        // (the MPIDR first, then the answer REC 0 waits for).
        unsafe {
            core::ptr::write_volatile(&raw mut (*report)[1], mpidr);
            core::ptr::write_volatile(&raw mut (*report)[0], answer);
        }
        // Stay on until REC 0 has seen this REC ON (bounded: CPU_OFF regardless after that).
        let deadline = deadline_in(SMP_WAIT_SECONDS);
        // SAFETY: REC 0 writes SMP_GO from the other CPU; volatile reads see its store.
        while unsafe { core::ptr::read_volatile(&raw const SMP_GO) } == 0 && now() < deadline {}
        smc([PsciFunction::CPU_OFF.fid32() as u64, 0, 0, 0, 0, 0, 0, 0]);
        loop {
            // SAFETY: CPU_OFF does not return; waiting has no memory effects.
            unsafe { asm!("wfi", options(nomem, nostack)) };
        }
    }

    /// Seconds REC 0 waits for REC 1 at most, by the virtual counter.
    const SMP_WAIT_SECONDS: u64 = 10;

    /// REC 0: CPU_ON of REC 1, AFFINITY_INFO ON, the go-ahead and REC 1's report through
    /// memory, then AFFINITY_INFO until it is OFF.
    fn smp_checks() -> u64 {
        use hostcall_abi::psci::{PsciFunction as P, PsciReturn as R};
        let target = 1; // REC 1's MPIDR (Aff0 = 1)
        let cpu_on = P::CPU_ON.spec_fid() as u64;
        let entry = realm_secondary_entry as *const () as u64;
        let r = smc([cpu_on, target, entry, payload::SMP_CONTEXT, 0, 0, 0, 0]);
        if r[0] != R::Success.raw() {
            return check::SMP_CPU_ON;
        }
        let affinity = || smc([P::AFFINITY_INFO.spec_fid() as u64, target, 0, 0, 0, 0, 0, 0])[0];
        // REC 1 cannot be off yet: it waits for SMP_GO before its CPU_OFF.
        let on = affinity() == 0;
        // SAFETY: only REC 0 writes SMP_GO; REC 1 polls it.
        unsafe { core::ptr::write_volatile(&raw mut SMP_GO, 1) };
        if !on {
            return check::SMP_AFFINITY_ON;
        }
        let deadline = deadline_in(SMP_WAIT_SECONDS);
        let report = &raw const SMP_REPORT;
        // SAFETY: REC 1 writes SMP_REPORT from the other CPU; volatile reads see its stores.
        let answer = || unsafe { core::ptr::read_volatile(&raw const (*report)[0]) };
        while answer() == 0 && now() < deadline {}
        // SAFETY: as above.
        let mpidr = unsafe { core::ptr::read_volatile(&raw const (*report)[1]) };
        if mpidr & 0xFF != target || answer() != payload::smp_answer(mpidr, payload::SMP_CONTEXT) {
            return check::SMP_SECONDARY;
        }
        while affinity() != 1 {
            if now() > deadline {
                return check::SMP_AFFINITY_OFF;
            }
        }
        0
    }

    /// Powers the realm off (SYSTEM_OFF: a PSCI exit to the host), never to return.
    fn power_off() -> ! {
        smc([PsciFunction::SYSTEM_OFF.fid32() as u64, 0, 0, 0, 0, 0, 0, 0]);
        loop {
            // SAFETY: waiting for an interrupt has no memory effects.
            unsafe { asm!("wfi", options(nomem, nostack)) };
        }
    }

    /// Hands the emulator to another CPU for a moment (QEMU's round-robin TCG ends the slice at
    /// a YIELD); a hint elsewhere.
    fn pause() {
        // SAFETY: YIELD is a hint with no architectural effect.
        unsafe { asm!("yield", options(nomem, nostack)) };
    }

    /// [`payload::MODE_ISOLATION`]: one side of a race over the target granule named in
    /// the flag page at `flags` (see [`payload::isolation`]). Makes no host call and arms
    /// no timer: the only exits are a stage-2 fault on an access, or SYSTEM_OFF at the end.
    fn isolation(flags: u64, role: u64) -> ! {
        use payload::isolation as iso;
        let f = flags as *mut u64;
        // SAFETY: `f` is the flag page the host mapped at an unprotected IPA for this mode, and
        // every index below is under `iso::WORDS` (a granule holds 512 doublewords).
        let get = |i: usize| unsafe { core::ptr::read_volatile(f.add(i)) };
        // SAFETY: as above.
        let set = |i: usize, v: u64| unsafe { core::ptr::write_volatile(f.add(i), v) };
        let target = get(iso::TARGET);
        if role == iso::ROLE_RIPAS_REQUESTER {
            // RIPAS EMPTY over the target, no DESTROYED change: exits to the host.
            let r = rsi(RsiCommand::IPA_STATE_SET, [target, target + 0x1000, 0, 0]);
            set(iso::RIPAS_STATUS, r[0]);
            set(iso::STATUS, iso::STATUS_RIPAS_RESUMED);
            power_off();
        }
        // SAFETY: the payload is single-threaded per REC and only the racer writes this; then
        // VBAR_EL1 points at the vectors (2 KiB aligned), whose unexpected-exception entry reads it.
        unsafe {
            core::ptr::write_volatile(&raw mut ISO_FLAGS, flags);
            asm!("adr {t}, realm_vectors", "msr vbar_el1, {t}", "isb", t = out(reg) _,
                 options(nostack));
        }
        let t = target as *mut u64;
        // SAFETY: the target is a granule of this realm the host mapped for the race; the two
        // accesses fill this CPU's TLB with its translation.
        let first = unsafe {
            let v = core::ptr::read_volatile(t);
            core::ptr::write_volatile(t.add(iso::OWN_WORD), iso::TOUCH_VALUE);
            v
        };
        set(iso::FIRST_READ, first);
        set(iso::STATUS, iso::STATUS_TOUCHED);
        // SAFETY: a barrier: the touch completes before the host sees READY.
        unsafe { asm!("dsb sy", options(nostack)) };
        set(iso::READY, iso::READY_VALUE);
        let mut go = false;
        for _ in 0..iso::SPIN_LIMIT {
            if get(iso::GO) == iso::GO_VALUE {
                go = true;
                break;
            }
            pause();
        }
        if !go {
            set(iso::STATUS, iso::STATUS_TIMED_OUT);
            power_off();
        }
        let desc = get(iso::FORGE_DESC);
        if desc != 0 {
            // SAFETY: the same target as above (whatever the host did with it since: that is
            // what the race tests); the forged address is the host's choice.
            let forged = unsafe {
                core::ptr::write_volatile(t.add(iso::FORGE_WORD), desc);
                asm!("dsb sy", "isb", options(nostack));
                core::ptr::read_volatile(get(iso::FORGE_IPA) as *const u64)
            };
            set(iso::FORGE_READ, forged);
        }
        // SAFETY: as above.
        let (second, own) = unsafe {
            (
                core::ptr::read_volatile(t),
                core::ptr::read_volatile(t.add(iso::OWN_WORD)),
            )
        };
        set(iso::SECOND_READ, second);
        set(iso::OWN_READ, own);
        set(iso::STATUS, iso::STATUS_REACHED);
        power_off()
    }

    /// The storm REC's scratch memory (in the region's DATA granules).
    static mut SCRATCH: [u64; payload::storm::BURST_WORDS] = [0; payload::storm::BURST_WORDS];

    /// [`payload::MODE_STORM`]: bursts forever, each marked in the heartbeat page at
    /// `heartbeat`, touching and checking the scratch memory, and ending with the exit
    /// [`payload::storm::exit_of`] names.
    fn storm(heartbeat: u64, seed: u64) -> ! {
        use payload::storm::{self as st, Exit};
        let f = heartbeat as *mut u64;
        // SAFETY: `f` is the heartbeat page the host mapped at an unprotected IPA for this mode;
        // the indices are constants below 512.
        let set = |i: usize, v: u64| unsafe { core::ptr::write_volatile(f.add(i), v) };
        let scratch = &raw mut SCRATCH as *mut u64;
        let mut errors = 0u64;
        let mut n = 0u64;
        loop {
            set(st::HEARTBEAT, 2 * n + 1);
            for i in 0..st::BURST_WORDS {
                // SAFETY: `i` is within SCRATCH, which only this REC touches.
                unsafe { core::ptr::write_volatile(scratch.add(i), st::pattern(seed, n, i)) };
                if i % st::YIELD_EVERY == 0 {
                    // Other CPUs run while this burst is half done: the host's intrusions meet
                    // a running REC.
                    pause();
                }
            }
            for i in 0..st::BURST_WORDS {
                // SAFETY: as above.
                if unsafe { core::ptr::read_volatile(scratch.add(i)) } != st::pattern(seed, n, i) {
                    errors += 1;
                }
            }
            if errors != 0 {
                set(st::MEMORY_ERRORS, errors);
            }
            set(st::HEARTBEAT, 2 * n + 2);
            match st::exit_of(n) {
                Exit::HostCall => {
                    host_call(0, &[payload::NOP; 31]);
                }
                Exit::Ripas { base, ripas } => {
                    rsi(RsiCommand::IPA_STATE_SET, [base, base + 0x1000, ripas, 0]);
                }
                Exit::AffinityInfo => {
                    smc([
                        PsciFunction::AFFINITY_INFO.spec_fid() as u64,
                        st::PSCI_TARGET_MPIDR,
                        0,
                        0,
                        0,
                        0,
                        0,
                        0,
                    ]);
                }
            }
            n += 1;
        }
    }

    #[no_mangle]
    extern "C" fn realm_main(mode: u64, x1: u64, x2: u64) -> ! {
        if mode == payload::MODE_STORM {
            storm(x1, x2);
        }
        if mode == payload::MODE_ISOLATION {
            isolation(x1, x2);
        }
        if mode == payload::MODE_SMP {
            report(smp_checks());
            smc([PsciFunction::SYSTEM_OFF.fid32() as u64, 0, 0, 0, 0, 0, 0, 0]);
            loop {
                // SAFETY: waiting for an interrupt has no memory effects.
                unsafe { asm!("wfi", options(nomem, nostack)) };
            }
        }
        if mode == payload::MODE_PSCI {
            report(psci_checks());
            smc([
                hostcall_abi::psci::PsciFunction::SYSTEM_RESET.fid32() as u64,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
            ]);
            loop {
                // SAFETY: waiting for an interrupt has no memory effects.
                unsafe { asm!("wfi", options(nomem, nostack)) };
            }
        }
        let mut failed = run_checks();
        if failed == 0 {
            failed = measurements();
        }
        if failed == 0 {
            failed = attestation();
        }
        report(failed);
        print(payload::GREETING);
        benchmark();
        smc([PsciFunction::SYSTEM_OFF.fid32() as u64, 0, 0, 0, 0, 0, 0, 0]);
        loop {
            // SAFETY: waiting for an interrupt has no memory effects.
            unsafe { asm!("wfi", options(nomem, nostack)) };
        }
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        report(u64::MAX);
        loop {
            // SAFETY: as above.
            unsafe { asm!("wfi", options(nomem, nostack)) };
        }
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "the realm payload builds for aarch64-unknown-none-softfloat: use `cargo xtask build`"
    );
}
