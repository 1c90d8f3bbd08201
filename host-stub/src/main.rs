//! The host stub image (BL33, NS-EL2): brings up every CPU through PSCI, runs the library's
//! scenarios (`host_stub::scenario`) on them, and reports the verdict through semihosting.
//!
//! Bring-up and wiring only: the entry and the stacks, the SMC conduit, NS memory by physical
//! address, the GIC, the timers and the FP/SIMD registers, semihosting, the statics the CPUs
//! share, and the traits through which the scenarios reach all of those. Logic belongs in the
//! library, where host tests and host clippy see it.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod image {
    use core::arch::{asm, global_asm};
    use core::sync::atomic::{AtomicU8, Ordering};

    use aarch64_cpu::registers::{Readable, CNTFRQ_EL0, CNTPCT_EL0, MPIDR_EL1};
    use host_stub::delegation;
    use platform::Board;

    /// The board this image is linked for.
    #[cfg(not(feature = "board-fvp"))]
    const BOARD: Board = platform::QEMU_VIRT;
    #[cfg(feature = "board-fvp")]
    const BOARD: Board = platform::FVP_BASE_REVC;

    /// An address in secure memory on this board (QEMU: secure SRAM; FVP: trusted SRAM).
    #[cfg(not(feature = "board-fvp"))]
    const SECURE_MEMORY: u64 = 0x0E00_0000;
    #[cfg(feature = "board-fvp")]
    const SECURE_MEMORY: u64 = 0x0400_0000;

    /// Addresses the RMM must refuse to delegate on this board.
    #[cfg(not(feature = "board-fvp"))]
    const NOT_DELEGABLE: &[u64] = &delegation::QEMU_NOT_DELEGABLE;
    /// On FVP (untested: no model here): the UART, the RMM's image and shared buffer, beyond
    /// DRAM, and an unaligned address.
    #[cfg(feature = "board-fvp")]
    const NOT_DELEGABLE: &[u64] = &[
        BOARD.ns_uart,
        BOARD.rmm.base,
        BOARD.rmm_shared.base,
        0xFFFF_FFFF_FFFF_F000,
        BOARD.ns_image_base + 0x0100_0001,
    ];
    use host_stub::limits::{MAX_CPUS, STACK_SIZE};
    use host_stub::realm_build::Pool;
    use host_stub::scenario::{self, payload::HostSve, smp::SecondReport};

    /// The realm payload's flat binary (empty if the build had none: the scenario then fails).
    static REALM_PAYLOAD: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/realm-payload.bin"));
    use host_stub::rmi::RmiClient;
    use host_stub::{Conduit, HostMemory};
    use hostcall_abi::psci::{PsciFunction, PsciReturn};
    use platform::semihosting;

    // 1. TF-A enters `host_entry` on the primary CPU; PSCI CPU_ON enters `host_secondary_entry`
    //    with x0 = the context id we passed, which is the CPU's slot (stack index).
    // 2. SP = top of the slot's stack, which is first painted with STACK_PAINT (the host stub
    //    has no MMU, so no guard page: the paint shows at the end how deep each stack went, and
    //    whether it overflowed); the primary clears .bss before anything else runs.
    // 3. host_main(slot).
    global_asm!(
        r#"
        .section .text.entry, "ax"
        .global host_entry
    host_entry:
        mov     x19, #0
        b       1f
        .global host_secondary_entry
    host_secondary_entry:
        cmp     x0, #{max_cpus}
        b.hs    4f
        mov     x19, x0
    1:  adrp    x9, __stacks_start
        add     x9, x9, :lo12:__stacks_start
        add     x10, x19, #1
        mov     x11, #{stack_size}
        madd    x9, x10, x11, x9
        sub     x12, x9, x11
        mov     x13, #{paint_lo}
        movk    x13, #{paint_hi}, lsl #16
        orr     x13, x13, x13, lsl #32
    5:  cmp     x12, x9
        b.hs    6f
        stp     x13, x13, [x12], #16
        b       5b
    6:  mov     sp, x9
        cbnz    x19, 3f
        adrp    x9, __bss_start
        add     x9, x9, :lo12:__bss_start
        adrp    x10, __bss_end
        add     x10, x10, :lo12:__bss_end
        // 256 bytes an iteration up to the last whole 256 (the 6 MiB of .bss is on the
        // measured path to the first line), then 16 (both ends are 16-aligned).
        sub     x11, x10, x9
        and     x11, x11, #~255
        add     x11, x9, x11
    2:  cmp     x9, x11
        b.hs    7f
        stp     xzr, xzr, [x9]
        stp     xzr, xzr, [x9, #16]
        stp     xzr, xzr, [x9, #32]
        stp     xzr, xzr, [x9, #48]
        stp     xzr, xzr, [x9, #64]
        stp     xzr, xzr, [x9, #80]
        stp     xzr, xzr, [x9, #96]
        stp     xzr, xzr, [x9, #112]
        stp     xzr, xzr, [x9, #128]
        stp     xzr, xzr, [x9, #144]
        stp     xzr, xzr, [x9, #160]
        stp     xzr, xzr, [x9, #176]
        stp     xzr, xzr, [x9, #192]
        stp     xzr, xzr, [x9, #208]
        stp     xzr, xzr, [x9, #224]
        stp     xzr, xzr, [x9, #240]
        add     x9, x9, #256
        b       2b
    7:  cmp     x9, x10
        b.hs    3f
        stp     xzr, xzr, [x9], #16
        b       7b
    3:  mov     x0, x19
        bl      host_main
    4:  wfe
        b       4b
        "#,
        max_cpus = const MAX_CPUS,
        stack_size = const STACK_SIZE,
        paint_lo = const STACK_PAINT & 0xFFFF,
        paint_hi = const (STACK_PAINT >> 16) & 0xFFFF,
    );

    /// What every stack word holds until the stack reaches it (the low 32 bits, twice).
    const STACK_PAINT: u64 = 0x57AC_C0DE_57AC_C0DE;

    extern "C" {
        static __stacks_start: u8;
    }

    /// Bytes of slot `slot`'s stack ever used: from the top down to the deepest word that no
    /// longer holds the paint. `None` if even the bottom word was overwritten (an overflow, or
    /// a stack used to its last byte).
    fn stack_used(slot: usize) -> Option<usize> {
        let bottom = (&raw const __stacks_start as usize + slot * STACK_SIZE) as *const u64;
        let words = STACK_SIZE / 8;
        // SAFETY: 1. The range is slot `slot`'s stack inside the linker's .stacks region
        // (`slot` < MAX_CPUS). 2. Volatile reads of plain memory another CPU may still be using
        // (as a stack, above where it reads paint) are harmless: only the count is kept.
        let untouched = (0..words)
            .take_while(|&i| unsafe { core::ptr::read_volatile(bottom.add(i)) } == STACK_PAINT)
            .count();
        (untouched > 0).then(|| STACK_SIZE - untouched * 8)
    }

    /// The least stack a CPU must have left unused (an eighth): less fails the run, before an
    /// overflow silently overwrites what lies below.
    const STACK_HEADROOM: usize = STACK_SIZE / 8;

    /// Logs how deep each started CPU's stack went; false if one overflowed or came within
    /// [`STACK_HEADROOM`] of it.
    fn stacks_within_bounds(slots: usize) -> bool {
        let mut ok = true;
        for slot in 0..slots.min(MAX_CPUS) {
            match stack_used(slot) {
                Some(used) if used <= STACK_SIZE - STACK_HEADROOM => defmt::info!(
                    "cpu {}: stack use {} of {} KiB (painted at entry)",
                    slot,
                    used.div_ceil(1024),
                    STACK_SIZE / 1024
                ),
                Some(used) => {
                    defmt::error!(
                        "cpu {}: stack use {} of {} KiB leaves less than {} KiB of headroom",
                        slot,
                        used.div_ceil(1024),
                        STACK_SIZE / 1024,
                        STACK_HEADROOM / 1024
                    );
                    ok = false;
                }
                None => {
                    defmt::error!(
                        "cpu {}: the stack overflowed (its bottom word was overwritten)",
                        slot
                    );
                    ok = false;
                }
            }
        }
        ok
    }

    extern "C" {
        fn host_secondary_entry();
    }

    const PENDING: u8 = 0;
    const PASSED: u8 = 1;
    const FAILED: u8 = 2;
    static RESULTS: [AtomicU8; MAX_CPUS] = [const { AtomicU8::new(PENDING) }; MAX_CPUS];

    /// SMC to EL3 (RMI calls are forwarded to the RMM, PSCI is served by TF-A).
    struct Smc;

    impl Conduit for Smc {
        fn smc(&mut self, regs: [u64; 8]) -> [u64; 8] {
            platform::smc::smc(regs)
        }
    }

    /// Granules each CPU delegates and undelegates.
    const PAGES_PER_CPU: usize = 4;
    const PAGE: usize = hostcall_abi::GRANULE_SIZE;

    #[repr(C, align(4096))]
    struct Pages([[u8; PAGE]; PAGES_PER_CPU * MAX_CPUS]);
    static mut PAGES: Pages = Pages([[0; PAGE]; PAGES_PER_CPU * MAX_CPUS]);

    /// The granules of CPU `slot`.
    fn pages_of(slot: usize) -> [u64; PAGES_PER_CPU] {
        let base = (&raw const PAGES) as u64 + (slot * PAGES_PER_CPU * PAGE) as u64;
        core::array::from_fn(|i| base + (i * PAGE) as u64)
    }

    /// NS memory by physical address (the MMU is off at NS-EL2).
    struct Phys;

    impl HostMemory for Phys {
        fn fill(&mut self, pa: u64, byte: u8) {
            for i in 0..PAGE {
                // SAFETY: 1. `pa` is one of this CPU's own granules in `PAGES` (NS, never shared
                // between CPUs). 2. The granule is not delegated while the host writes it.
                unsafe { core::ptr::write_volatile((pa as *mut u8).add(i), byte) };
            }
        }

        fn write(&mut self, pa: u64, data: &[u8]) {
            // Doubleword stores where the layout allows (the MMU is off: Device memory needs
            // aligned accesses), bytes for the rest.
            let words = if pa.is_multiple_of(8) {
                data.len() / 8
            } else {
                0
            };
            for (i, w) in data.chunks_exact(8).take(words).enumerate() {
                let v = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
                // SAFETY: `pa` lies in the host's own NS pages (a scenario pool page), which no
                // other CPU uses and which is not delegated while the host writes it; aligned.
                unsafe { core::ptr::write_volatile((pa as *mut u64).add(i), v) };
            }
            for (i, b) in data.iter().enumerate().skip(words * 8) {
                // SAFETY: as above.
                unsafe { core::ptr::write_volatile((pa as *mut u8).add(i), *b) };
            }
        }

        fn read(&self, pa: u64, buf: &mut [u8]) {
            let words = if pa.is_multiple_of(8) {
                buf.len() / 8
            } else {
                0
            };
            for (i, w) in buf.chunks_exact_mut(8).take(words).enumerate() {
                // SAFETY: as for `write`: the host's own, undelegated page; aligned.
                let v = unsafe { core::ptr::read_volatile((pa as *const u64).add(i)) };
                w.copy_from_slice(&v.to_le_bytes());
            }
            for (i, b) in buf.iter_mut().enumerate().skip(words * 8) {
                // SAFETY: as above.
                *b = unsafe { core::ptr::read_volatile((pa as *const u8).add(i)) };
            }
        }

        fn read_words(&self, pa: u64, dst: &mut [u64]) {
            if !pa.is_multiple_of(8) {
                return self.read_words_bytewise(pa, dst);
            }
            for (i, w) in dst.iter_mut().enumerate() {
                // SAFETY: as for `write`: the host's own, undelegated page; aligned.
                *w = u64::from_le(unsafe { core::ptr::read_volatile((pa as *const u64).add(i)) });
            }
        }

        fn write_words(&mut self, pa: u64, src: &[u64]) {
            if !pa.is_multiple_of(8) {
                return self.write_words_bytewise(pa, src);
            }
            for (i, w) in src.iter().enumerate() {
                // SAFETY: as for `write`: the host's own, undelegated page; aligned.
                unsafe { core::ptr::write_volatile((pa as *mut u64).add(i), w.to_le()) };
            }
        }

        fn all_equal(&self, pa: u64, byte: u8) -> bool {
            // SAFETY: as for `fill`; the checks read a granule only after undelegating it.
            (0..PAGE).all(|i| unsafe { core::ptr::read_volatile((pa as *const u8).add(i)) } == byte)
        }
    }

    /// NS granules the realm scenario delegates (RDs, RTTs, RECs, aux, parameter pages).
    const POOL_GRANULES: usize = 64;
    #[repr(C, align(4096))]
    struct ScenarioPool([[u8; PAGE]; POOL_GRANULES]);
    static mut SCENARIO_POOL: ScenarioPool = ScenarioPool([[0; PAGE]; POOL_GRANULES]);

    /// A fresh pool over [`SCENARIO_POOL`] (each scenario's realms are gone before the next).
    fn scenario_pool() -> Pool {
        let base = (&raw const SCENARIO_POOL) as u64;
        Pool::new(base, (POOL_GRANULES * PAGE) as u64)
    }

    /// Puts `v` in D0 (the host's FP/SIMD state the RMM must preserve across realm runs).
    fn set_d0(v: u64) {
        // SAFETY: 1. Clearing CPTR_EL2.TFP (bit 10) lets NS-EL2 use FP/SIMD registers instead of
        // trapping (the host stub has no handler for that trap). 2. It then writes one FP/SIMD
        // register; the (soft-float) host stub never uses them otherwise.
        unsafe {
            asm!(
                "mrs {t}, cptr_el2",
                "bic {t}, {t}, #(1 << 10)",
                "msr cptr_el2, {t}",
                "isb",
                ".arch_extension fp",
                "fmov d0, {v}",
                t = out(reg) _,
                v = in(reg) v,
                out("v0") _,
                options(nomem, nostack),
            );
        }
    }

    /// D0.
    fn get_d0() -> u64 {
        let v: u64;
        // SAFETY: reads one FP/SIMD register.
        unsafe {
            asm!(".arch_extension fp", "fmov {v}, d0", v = out(reg) v, options(nomem, nostack))
        };
        v
    }

    /// Fills Z31 with copies of `v` and P15 with `ptrue p15.h` at the maximum vector length (the
    /// host's SVE state the RMM must preserve across realm runs). The vector length in bytes, or
    /// None if the CPU has no SVE.
    fn set_sve(v: u64) -> Option<usize> {
        let pfr0: u64;
        // SAFETY: reading an ID register has no side effects.
        unsafe { asm!("mrs {}, id_aa64pfr0_el1", out(reg) pfr0, options(nomem, nostack)) };
        if (pfr0 >> 32) & 0xF == 0 {
            return None;
        }
        let vl: usize;
        // SAFETY: 1. Clearing CPTR_EL2.TZ (bit 8) lets NS-EL2 use SVE instead of trapping (the
        // host stub has no handler for that trap). 2. ZCR_EL2.LEN all ones asks for the largest
        // vector length. 3. It then writes Z31 and P15, which the host stub never uses otherwise.
        unsafe {
            asm!(
                "mrs {t}, cptr_el2",
                "bic {t}, {t}, #(1 << 8)",
                "msr cptr_el2, {t}",
                "isb",
                "mov {t}, #0xf",
                "msr S3_4_C1_C2_0, {t}", // ZCR_EL2
                "isb",
                ".arch_extension sve",
                "dup z31.d, {v}",
                "ptrue p15.h",
                "rdvl {vl}, #1",
                t = out(reg) _,
                v = in(reg) v,
                vl = out(reg) vl,
                out("v31") _,
                out("p15") _,
                options(nomem, nostack),
            );
        }
        Some(vl)
    }

    /// Z31 and P15 at vector length `vl` bytes (as `set_sve` returned it).
    fn get_sve(vl: usize) -> HostSve {
        let mut s = HostSve {
            vl,
            z31: [0; 32],
            p15: [0; 32],
        };
        // SAFETY: stores Z31 (`vl` <= 256 bytes) and P15 (`vl / 8` bytes) into arrays that hold
        // them at the largest vector length.
        unsafe {
            asm!(
                ".arch_extension sve",
                "str z31, [{z}]",
                "str p15, [{p}]",
                z = in(reg) s.z31.as_mut_ptr(),
                p = in(reg) s.p15.as_mut_ptr(),
                options(nostack),
            );
        }
        s
    }

    /// INTID of the EL2 physical timer (CNTHP): PPI 10.
    const HOST_TIMER_INTID: u32 = 26;
    /// The EL1 virtual timer's PPI, enabled as KVM enables it: a realm's virtual timer that fires
    /// then stops the realm (an IRQ exit). By the time the host looks, the RMM has put the host's
    /// own timer registers back and the line is quiet: the host learns of it from rec_exit.
    const REALM_VTIMER_INTID: u32 = 27;
    /// When the timer was last armed for a token request (counter ticks; 0: never).
    static LAST_TOKEN_ARMING: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
    /// Counter ticks from the host timer's deadline to the host taking its interrupt, for the
    /// last one taken: how long the interrupt waited for the RMM (and the exit path).
    static HOST_TIMER_LATENCY: core::sync::atomic::AtomicU64 =
        core::sync::atomic::AtomicU64::new(0);

    /// Makes the EL2 physical timer's PPI a group 1 interrupt at this CPU's redistributor and
    /// opens the CPU interface (interrupts stay masked in PSTATE: the host polls). False if this
    /// CPU's redistributor is not found.
    fn host_timer_enable() -> bool {
        // SAFETY: 1. BOARD.gicr is the GICv3 redistributor block, reachable with the MMU off.
        // 2. Only this CPU configures its own PPIs.
        let Some(rd) = (unsafe { platform::gicv3::Redistributor::find(BOARD.gicr, mpidr()) })
        else {
            defmt::error!("no GICv3 redistributor for this CPU: the host timer stays off");
            return false;
        };
        rd.enable_ppi(HOST_TIMER_INTID, 0x80);
        rd.enable_ppi(REALM_VTIMER_INTID, 0x80);
        rd.enable_sgi(KICK_SGI, 0x80);
        // SAFETY: 1. BOARD.gicd is the distributor, reachable with the MMU off. 2. Only the
        // primary CPU runs this, and no other CPU of the host stub writes GICD_CTLR.
        unsafe { platform::gicv3::distributor_enable_group1ns(BOARD.gicd) };
        platform::gicv3::cpu_interface_enable();
        true
    }

    /// Turns the timer and its PPI off again.
    fn host_timer_disable() {
        stop_host_timer();
        // SAFETY: as in `host_timer_enable`.
        if let Some(rd) = unsafe { platform::gicv3::Redistributor::find(BOARD.gicr, mpidr()) } {
            rd.disable_ppi(HOST_TIMER_INTID);
            rd.disable_ppi(REALM_VTIMER_INTID);
        }
    }

    /// Arms the host's "tick" for a token request, the EL2 physical timer, which preempts a
    /// running realm (the RMM guarantees EL2 timers assert, A6.2), as
    /// [`scenario::payload::token_timer_delay_us`] says.
    fn arm_host_timer() {
        let now = CNTPCT_EL0.get();
        let last = LAST_TOKEN_ARMING.swap(now, Ordering::Relaxed);
        let per_us = CNTFRQ_EL0.get() / 1_000_000;
        arm_host_timer_in(scenario::payload::token_timer_delay_us(now, last, per_us));
    }

    /// Arms the EL2 physical timer to fire `us` microseconds from now.
    fn arm_host_timer_in(us: u64) {
        let ticks = CNTFRQ_EL0.get() / 1_000_000 * us;
        // SAFETY: programs the EL2 physical timer of this CPU (TVAL, then ENABLE with IMASK
        // clear); no memory.
        unsafe {
            asm!(
                "msr cnthp_tval_el2, {t}",
                "msr cnthp_ctl_el2, {one}",
                "isb",
                t = in(reg) ticks,
                one = in(reg) 1u64,
                options(nomem, nostack),
            )
        };
    }

    /// Stops the EL2 physical timer of this CPU.
    fn stop_host_timer() {
        // SAFETY: clears CNTHP_CTL_EL2 (timer off); no memory.
        unsafe { asm!("msr cnthp_ctl_el2, xzr", "isb", options(nomem, nostack)) };
    }

    /// After an IRQ exit: acknowledges the pending interrupt; the host timer's is handled by
    /// stopping the timer (a one-shot tick). Returns the INTID taken.
    fn take_host_interrupt() -> Option<u32> {
        let intid = platform::gicv3::acknowledge()?;
        if intid == HOST_TIMER_INTID {
            let deadline: u64;
            // SAFETY: reads CNTHP_CVAL_EL2, the deadline the timer fired for; no memory.
            unsafe { asm!("mrs {}, cnthp_cval_el2", out(reg) deadline, options(nomem, nostack)) };
            let late = CNTPCT_EL0.get().saturating_sub(deadline);
            HOST_TIMER_LATENCY.store(late, Ordering::Relaxed);
            stop_host_timer();
        }
        platform::gicv3::end_of_interrupt(intid);
        Some(intid)
    }

    /// The image's clock for the KVM model: the physical counter.
    fn ticks() -> u64 {
        CNTPCT_EL0.get()
    }

    /// The attestation challenge for the realm: what the relying party (the test or demo runner)
    /// left in `challenge.bin` in the run directory, or, without one, 64 bytes mixed from the
    /// counter (fresh per run, but not chosen by a verifier).
    fn attestation_challenge() -> ([u8; 64], bool) {
        let mut c = [0u8; 64];
        if semihosting::read_file(c"challenge.bin", &mut c) == Some(64) {
            return (c, true);
        }
        (
            scenario::payload::challenge_from_seed(CNTPCT_EL0.get()),
            false,
        )
    }

    /// Writes `data` to the host file `path` (semihosting); false if that failed.
    fn write_host_file(path: &core::ffi::CStr, data: &[&[u8]]) -> bool {
        let Some(h) = semihosting::open_write(path) else {
            return false;
        };
        let ok = data.iter().all(|d| semihosting::write(h, d));
        semihosting::close(h);
        ok
    }

    /// The payload scenario's hardware: FP/SIMD and SVE registers, the host timer, the runner's
    /// files.
    struct PayloadHw;

    impl scenario::payload::Hardware for PayloadHw {
        fn set_fp(&mut self, v: u64) {
            set_d0(v)
        }
        fn fp(&mut self) -> u64 {
            get_d0()
        }
        fn set_sve(&mut self, v: u64) -> Option<usize> {
            set_sve(v)
        }
        fn sve(&mut self, vl: usize) -> HostSve {
            get_sve(vl)
        }
        fn attestation_challenge(&mut self) -> ([u8; 64], bool) {
            attestation_challenge()
        }
        fn timer_enable(&mut self) -> bool {
            host_timer_enable()
        }
        fn timer_disable(&mut self) {
            host_timer_disable()
        }
        fn clock(&self) -> fn() -> u64 {
            ticks
        }
        fn take_interrupt(&self) -> fn() -> Option<u32> {
            take_host_interrupt
        }
        fn arm_for_token(&self) -> fn() {
            arm_host_timer
        }
        fn timer_latency(&self) -> u64 {
            HOST_TIMER_LATENCY.load(Ordering::Relaxed)
        }
        fn write_file(&mut self, path: &core::ffi::CStr, data: &[&[u8]]) -> bool {
            write_host_file(path, data)
        }
    }

    fn mpidr() -> u64 {
        MPIDR_EL1.get() & 0xFF_00FF_FFFF
    }

    /// Runs the per-CPU checks on this CPU ([`scenario::cpu`]) and records the result.
    fn check_this_cpu(slot: usize) -> bool {
        let mut rmi = RmiClient::new(Smc);
        let ok = scenario::cpu::run(&mut rmi, &mut Phys, slot, &pages_of(slot), NOT_DELEGABLE);
        RESULTS[slot].store(if ok { PASSED } else { FAILED }, Ordering::Release);
        ok
    }

    /// MPIDRs of the CPUs the device tree lists, in order.
    fn dt_cpus(out: &mut [u64; MAX_CPUS]) -> Option<usize> {
        let dtb = BOARD.dtb?;
        // SAFETY: 1. QEMU places the device tree at the start of NS DRAM before TF-A runs, and
        // nothing overwrites it. 2. `from_ptr` checks the header magic and size before parsing.
        let fdt = unsafe { fdt::Fdt::from_ptr(dtb as *const u8) }.ok()?;
        let mut n = 0;
        for cpu in fdt.cpus() {
            if n == MAX_CPUS {
                break;
            }
            out[n] = cpu.ids().first() as u64;
            n += 1;
        }
        Some(n)
    }

    fn primary() -> ! {
        platform::defmt_logger::init(c"host.defmt");
        let me = mpidr();
        defmt::info!(
            "host stub up at NS-EL2 on the primary CPU (MPIDR {=u64:#x})",
            me
        );
        let mut ok = match platform::mem::self_check() {
            Ok(cases) => {
                defmt::info!(
                    "memcpy/memset: {} aligned and unaligned cases match byte-by-byte copies",
                    cases
                );
                true
            }
            Err((d, s, n)) => {
                defmt::error!(
                    "memcpy/memset: wrong at destination offset {}, source offset {}, length {}",
                    d,
                    s,
                    n
                );
                false
            }
        };
        ok &= check_this_cpu(0);
        let isolation = isolation_requested();
        ISOLATION_MODE.store(isolation, Ordering::Release);
        let storm = storm_requested();
        STORM_MODE.store(storm, Ordering::Release);
        let linux = linux_requested();
        LINUX_MODE.store(linux, Ordering::Release);
        if !isolation && !storm && !linux {
            scenario::bench_rmi_version(&mut RmiClient::new(Smc), ticks);
            match scenario_pool().take(1) {
                Ok(pa) => {
                    ok &= scenario::bench_delegation(&mut RmiClient::new(Smc), pa, ticks).is_some()
                }
                Err(_) => ok = false,
            }
            let mut rmi = RmiClient::new(Smc);
            ok &= scenario::hostile::run(
                &mut rmi,
                &mut Phys,
                &mut scenario_pool(),
                BOARD.rmm.base,
                SECURE_MEMORY,
            );
            ok &= scenario::payload::run(
                &mut rmi,
                &mut Phys,
                &mut scenario_pool(),
                REALM_PAYLOAD,
                &mut PayloadHw,
            );
            ok &= scenario::psci::run(&mut rmi, &mut Phys, &mut scenario_pool(), REALM_PAYLOAD);
        }

        let mut cpus = [0u64; MAX_CPUS];
        let Some(n) = dt_cpus(&mut cpus) else {
            defmt::error!("no usable device tree: cannot find the other CPUs");
            semihosting::exit(1)
        };
        defmt::info!("device tree lists {} CPU(s)", n);
        let entry = host_secondary_entry as *const () as u64;
        let mut slots = 1;
        for &target in cpus[..n].iter().filter(|&&m| m != me) {
            let cpu_on = PsciFunction::CPU_ON.spec_fid() as u64;
            let r = Smc.smc([cpu_on, target, entry, slots as u64, 0, 0, 0, 0]);
            if r[0] != PsciReturn::Success.raw() {
                defmt::error!("PSCI CPU_ON({=u64:#x}) -> {=i64}", target, r[0] as i64);
                ok = false;
                continue;
            }
            defmt::info!(
                "PSCI CPU_ON(MPIDR {=u64:#x}) -> SUCCESS (cpu {})",
                target,
                slots
            );
            slots += 1;
        }

        // Wait for the secondaries, bounded by the system counter (10 s of model time).
        let deadline = CNTPCT_EL0.get() + 10 * CNTFRQ_EL0.get();
        let done = |s: &AtomicU8| s.load(Ordering::Acquire) != PENDING;
        while !RESULTS[1..slots].iter().all(done) {
            if CNTPCT_EL0.get() > deadline {
                defmt::error!("timed out waiting for the secondary CPUs");
                ok = false;
                break;
            }
            core::hint::spin_loop();
        }
        let passed = RESULTS[..slots]
            .iter()
            .filter(|s| s.load(Ordering::Acquire) == PASSED)
            .count();
        defmt::info!(
            "{} of {} CPU(s) booted the RMM and got RMI 1.0",
            passed,
            slots
        );
        ok &= passed == slots;
        if isolation {
            let w = scenario::isolation::Wiring {
                image: REALM_PAYLOAD,
                slots,
                race_slot: RACE_REC_SLOT,
                pools: (&raw const RACE_POOLS) as u64,
                pool_size: (RACE_POOL_GRANULES * PAGE) as u64,
                ns_block: (&raw const NS_BLOCK) as u64,
            };
            ok &= scenario::isolation::run(&mut RmiClient::new(Smc), &mut Phys, &mut RaceCpu, &w);
        } else if linux {
            let (text, len) = *LINUX_REQUEST.lock();
            let request = &text[..len.min(text.len())];
            let mut rmi = RmiClient::new(Smc);
            LINUX_SLOTS.store(slots, Ordering::Relaxed);
            ok &= scenario::linux::run(&mut rmi, &mut Phys, &LINUX, request, slots, &mut LinuxHw);
        } else if storm {
            let base = (&raw const STORM_POOL) as u64;
            let mut pool = Pool::new(base, (STORM_POOL_GRANULES * PAGE) as u64);
            let mut rmi = RmiClient::new(Smc);
            ok &=
                scenario::storm::run(&mut rmi, &mut Phys, &mut pool, REALM_PAYLOAD, &STORM, slots);
        } else {
            let mut rmi = RmiClient::new(Smc);
            ok &= scenario::smp::run(
                &mut rmi,
                &mut Phys,
                &mut scenario_pool(),
                REALM_PAYLOAD,
                &SMP_VM,
                slots as u64 > SMP_VCPU_SLOT,
                &mut SmpHw,
            );
        }
        ok &= stacks_within_bounds(slots);
        defmt::info!("verdict: {=str}", if ok { "PASS" } else { "FAIL" });
        semihosting::exit(if ok { 0 } else { 1 })
    }

    #[no_mangle]
    extern "C" fn host_main(slot: u64) -> ! {
        if let Some(s) = SLOT_MPIDR.get(slot as usize) {
            s.store(mpidr(), Ordering::Relaxed);
        }
        if slot == 0 {
            primary()
        }
        check_this_cpu(slot as usize);
        if slot == RACE_REC_SLOT && ISOLATION_MODE.load(Ordering::Acquire) {
            serve_race_recs()
        }
        if STORM_MODE.load(Ordering::Acquire) {
            scenario::storm::secondary(&mut RmiClient::new(Smc), &mut Phys, &STORM, slot as usize);
            loop {
                aarch64_cpu::asm::wfe();
            }
        }
        if LINUX_MODE.load(Ordering::Acquire) {
            linux_secondary(slot as usize)
        }
        if slot == SMP_VCPU_SLOT {
            serve_vcpu()
        }
        loop {
            aarch64_cpu::asm::wfe();
        }
    }

    // ---- Two vCPUs on two physical CPUs ------------------------------------------------------

    /// The host CPU (slot) that runs the SMP realm's second vCPU, as a VMM's vCPU thread would.
    const SMP_VCPU_SLOT: u64 = 1;
    /// The VM both CPUs run vCPUs of; locked only between REC_ENTERs.
    static SMP_VM: spin::Mutex<host_stub::kvm::vm::Vm> =
        spin::Mutex::new(host_stub::kvm::vm::Vm::new(0, 0));
    /// The vCPU the primary hands to [`SMP_VCPU_SLOT`].
    static SMP_VCPU: spin::Mutex<Option<host_stub::kvm::vcpu::Vcpu>> = spin::Mutex::new(None);
    /// What the second CPU saw (its report, once it has run its vCPU).
    static SMP_RESULT: spin::Mutex<Option<SecondReport>> = spin::Mutex::new(None);
    /// Handshake: the primary offers the vCPU, the second CPU reports it done.
    static SMP_STATE: AtomicU8 = AtomicU8::new(SMP_IDLE);
    const SMP_IDLE: u8 = 0;
    const SMP_OFFERED: u8 = 1;
    const SMP_DONE: u8 = 2;

    /// Waits (WFE) for the primary to offer a vCPU, runs it ([`scenario::smp::serve_vcpu`]) and
    /// reports.
    fn serve_vcpu() -> ! {
        while SMP_STATE.load(Ordering::Acquire) != SMP_OFFERED {
            aarch64_cpu::asm::wfe();
        }
        if let Some(vcpu) = SMP_VCPU.lock().take() {
            let deadline = CNTPCT_EL0.get() + 10 * CNTFRQ_EL0.get();
            let mut rmi = RmiClient::new(Smc);
            let mut mem = Phys;
            let mut link = host_stub::kvm::RmmLink::new(&mut rmi, &mut mem);
            let report = scenario::smp::serve_vcpu(&SMP_VM, vcpu, &mut link, mpidr(), || {
                CNTPCT_EL0.get() >= deadline
            });
            *SMP_RESULT.lock() = Some(report);
        }
        SMP_STATE.store(SMP_DONE, Ordering::Release);
        loop {
            aarch64_cpu::asm::wfe();
        }
    }

    /// The SMP scenario's hardware: the CPU in [`SMP_VCPU_SLOT`], the host timer.
    struct SmpHw;

    impl scenario::smp::Hardware for SmpHw {
        fn mpidr(&self) -> u64 {
            mpidr()
        }
        fn offer_vcpu(&mut self, vcpu: host_stub::kvm::Vcpu) {
            *SMP_VCPU.lock() = Some(vcpu);
            SMP_STATE.store(SMP_OFFERED, Ordering::Release);
            aarch64_cpu::asm::sev();
        }
        fn wait_for_other(&mut self) -> Option<SecondReport> {
            let deadline = CNTPCT_EL0.get() + 10 * CNTFRQ_EL0.get();
            while SMP_STATE.load(Ordering::Acquire) != SMP_DONE && CNTPCT_EL0.get() < deadline {
                core::hint::spin_loop();
            }
            *SMP_RESULT.lock()
        }
        fn timer_enable(&mut self) -> bool {
            host_timer_enable()
        }
        fn arm_timer_in(&mut self, us: u64) {
            arm_host_timer_in(us)
        }
        fn timer_disable(&mut self) {
            host_timer_disable()
        }
        fn take_interrupt(&self) -> fn() -> Option<u32> {
            take_host_interrupt
        }
    }

    // ---- A Linux kernel as a realm guest ------------------------------------------------------

    /// Set by the primary before it starts the other CPUs: the runner asked for a Linux guest
    /// (it left a file called `linux` in the run directory, the guest's [`Request`]).
    static LINUX_MODE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

    /// The runner's request, as it wrote it.
    static LINUX_REQUEST: spin::Mutex<([u8; 1024], usize)> = spin::Mutex::new(([0; 1024], 0));

    /// Whether the runner asked for a Linux guest (reads the request).
    fn linux_requested() -> bool {
        let mut req = LINUX_REQUEST.lock();
        match semihosting::read_file(c"linux", &mut req.0) {
            Some(n) => {
                req.1 = n;
                true
            }
            None => false,
        }
    }

    // SAFETY: 1. BOARD.ns_uart is the NS PL011, reachable with the MMU off. 2. TF-A programmed
    // it; the host stub only sends and receives bytes through it.
    static CONSOLE_UART: platform::pl011::Pl011 =
        unsafe { platform::pl011::Pl011::new(BOARD.ns_uart) };

    /// The guest's console output goes to the board's UART as it comes. It also notes when
    /// the guest's `/init` says it started ([`scenario::linux::InitWatch`]), for the boot-time
    /// figure.
    struct Console {
        init: scenario::linux::InitWatch,
    }

    /// CNTPCT when the console showed `/init` starting (0: not yet).
    static INIT_SEEN_AT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

    impl host_stub::pl011::ConsoleSink for Console {
        fn put(&mut self, byte: u8) {
            CONSOLE_UART.write_byte(byte);
            if self.init.feed(byte) {
                let _ = INIT_SEEN_AT.compare_exchange(
                    0,
                    CNTPCT_EL0.get(),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
        }
    }

    /// What the CPUs share for the guest.
    static LINUX: scenario::linux::Stage<Console> = scenario::linux::Stage::new();

    /// A vCPU thread's host side: the tick, and console input from the board's UART.
    struct VcpuThread;

    impl host_stub::linux::run::Host for VcpuThread {
        fn before_run(&mut self) {
            arm_host_timer_in(scenario::linux::TICK_US);
        }
        fn console_input(&mut self) -> Option<u8> {
            CONSOLE_UART.read_byte()
        }
        fn idle(&mut self) {
            // The tick armed before the run wakes this CPU (interrupts stay masked: WFI still
            // ends on a pending one), and is taken here.
            aarch64_cpu::asm::wfi();
            let _ = take_host_interrupt();
        }
    }

    impl scenario::linux::Thread for VcpuThread {
        fn kick(&self) -> Option<fn(u64)> {
            Some(kick_vcpus)
        }
        fn take_interrupt(&self) -> fn() -> Option<u32> {
            take_host_interrupt
        }
        fn stop_tick(&mut self) {
            stop_host_timer()
        }
    }

    /// The primary's hardware for the guest.
    struct LinuxHw;

    impl scenario::linux::Hardware for LinuxHw {
        type Console = Console;
        type Thread = VcpuThread;
        fn clock(&self) -> u64 {
            CNTPCT_EL0.get()
        }
        fn frequency(&self) -> u64 {
            CNTFRQ_EL0.get()
        }
        fn console(&mut self) -> Console {
            Console {
                init: scenario::linux::InitWatch::new(),
            }
        }
        fn timer_enable(&mut self) -> bool {
            host_timer_enable()
        }
        fn timer_disable(&mut self) {
            host_timer_disable()
        }
        fn wake_others(&mut self) {
            aarch64_cpu::asm::sev()
        }
        fn thread(&mut self) -> VcpuThread {
            VcpuThread
        }
        fn init_seen_at(&self) -> u64 {
            INIT_SEEN_AT.load(Ordering::Relaxed)
        }
    }

    /// Enables this CPU's side of the host tick (its redistributor's PPIs and CPU interface);
    /// the primary has enabled the distributor.
    fn host_tick_enable_this_cpu() -> bool {
        // SAFETY: 1. BOARD.gicr is the GICv3 redistributor block, reachable with the MMU off.
        // 2. Only this CPU configures its own PPIs.
        let Some(rd) = (unsafe { platform::gicv3::Redistributor::find(BOARD.gicr, mpidr()) })
        else {
            return false;
        };
        rd.enable_ppi(HOST_TIMER_INTID, 0x80);
        rd.enable_ppi(REALM_VTIMER_INTID, 0x80);
        rd.enable_sgi(KICK_SGI, 0x80);
        platform::gicv3::cpu_interface_enable();
        true
    }

    /// The SGI one host CPU sends another to kick a vCPU out of the realm (KVM's IPI).
    const KICK_SGI: u32 = 8;
    /// Each slot's `MPIDR_EL1` (set by the CPU itself at entry).
    static SLOT_MPIDR: [core::sync::atomic::AtomicU64; MAX_CPUS] =
        [const { core::sync::atomic::AtomicU64::new(u64::MAX) }; MAX_CPUS];
    /// Host CPUs the Linux guest's vCPUs are spread over (vCPU i on slot i modulo this).
    static LINUX_SLOTS: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(1);

    /// Kicks the host CPUs running the vCPUs in `targets` (bit i: vCPU i), except this one.
    fn kick_vcpus(targets: u64) {
        let slots = LINUX_SLOTS.load(Ordering::Relaxed).clamp(1, MAX_CPUS);
        let me = mpidr();
        let mut sent = 0u64;
        for vcpu in (0..64).filter(|i| targets & (1 << i) != 0) {
            let slot = vcpu % slots;
            let target = SLOT_MPIDR[slot].load(Ordering::Relaxed);
            if target != u64::MAX && target != me && sent & (1 << slot) == 0 {
                sent |= 1 << slot;
                platform::gicv3::send_sgi(KICK_SGI, target);
            }
        }
    }

    /// A CPU other than the primary: runs the vCPUs the primary gives it, if any.
    fn linux_secondary(slot: usize) -> ! {
        while !LINUX.started() {
            aarch64_cpu::asm::wfe();
        }
        if LINUX.has_vcpus(slot) {
            if host_tick_enable_this_cpu() {
                let mut rmi = RmiClient::new(Smc);
                scenario::linux::run_vcpus(&mut rmi, &mut Phys, &LINUX, slot, &mut VcpuThread);
            } else {
                defmt::error!("cpu {}: no host tick: its vCPUs do not run", slot);
            }
        }
        loop {
            aarch64_cpu::asm::wfe();
        }
    }

    // ---- Races over stage-2 mappings (the isolation tests) -----------------------------------

    /// Set by the primary before it starts the other CPUs: the run is the isolation scenario
    /// (the runner left a file called `isolation` in the run directory) instead of the others.
    static ISOLATION_MODE: core::sync::atomic::AtomicBool =
        core::sync::atomic::AtomicBool::new(false);

    /// Whether the runner asked for the isolation scenario.
    fn isolation_requested() -> bool {
        let mut buf = [0u8; 16];
        semihosting::read_file(c"isolation", &mut buf).is_some()
    }

    /// The host CPU (slot) that runs the racing RECs, as a VMM's vCPU thread would.
    const RACE_REC_SLOT: u64 = 1;
    /// Handshake with [`RACE_REC_SLOT`]: the primary offers a REC, that CPU enters it and
    /// reports REC_ENTER's status when it returns.
    static RACE_STATE: AtomicU8 = AtomicU8::new(RACE_IDLE);
    const RACE_IDLE: u8 = 0;
    const RACE_OFFERED: u8 = 1;
    const RACE_RUNNING: u8 = 2;
    const RACE_RETURNED: u8 = 3;
    static RACE_REC: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
    static RACE_RUN: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
    static RACE_STATUS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

    /// Enters each REC the primary offers, once, and reports how REC_ENTER returned.
    fn serve_race_recs() -> ! {
        let mut rmi = RmiClient::new(Smc);
        loop {
            while RACE_STATE.load(Ordering::Acquire) != RACE_OFFERED {
                aarch64_cpu::asm::wfe();
            }
            RACE_STATE.store(RACE_RUNNING, Ordering::Relaxed);
            let rec = RACE_REC.load(Ordering::Relaxed);
            let run = RACE_RUN.load(Ordering::Relaxed);
            let (ret, _) = rmi.cmd(hostcall_abi::rmi::RmiCommand::REC_ENTER, &[rec, run]);
            RACE_STATUS.store(ret.raw(), Ordering::Relaxed);
            RACE_STATE.store(RACE_RETURNED, Ordering::Release);
            aarch64_cpu::asm::sev();
        }
    }

    /// [`host_stub::isolation::OtherCpu`] over [`serve_race_recs`].
    struct RaceCpu;

    impl host_stub::isolation::OtherCpu for RaceCpu {
        fn start_rec(&mut self, rec: u64, run: u64) {
            RACE_REC.store(rec, Ordering::Relaxed);
            RACE_RUN.store(run, Ordering::Relaxed);
            RACE_STATE.store(RACE_OFFERED, Ordering::Release);
            aarch64_cpu::asm::sev();
        }

        fn rec_returned(&mut self) -> Option<u64> {
            if RACE_STATE.load(Ordering::Acquire) != RACE_RETURNED {
                return None;
            }
            RACE_STATE.store(RACE_IDLE, Ordering::Relaxed);
            Some(RACE_STATUS.load(Ordering::Relaxed))
        }

        fn pause(&mut self) {
            // SAFETY: YIELD is a hint with no architectural effect; QEMU's round-robin TCG
            // moves on to the next CPU there.
            unsafe { asm!("yield", options(nomem, nostack)) };
        }
    }

    /// NS granules for each race (its realms, tables, RECs, flag and NS pages).
    const RACE_POOL_GRANULES: usize = 72;
    #[repr(C, align(4096))]
    struct RacePools([[[u8; PAGE]; RACE_POOL_GRANULES]; host_stub::isolation::RACES.len()]);
    static mut RACE_POOLS: RacePools =
        RacePools([[[0; PAGE]; RACE_POOL_GRANULES]; host_stub::isolation::RACES.len()]);

    /// The 2 MiB of NS memory the fold and unfold races map as one level-2 block.
    #[repr(C, align(0x20_0000))]
    struct NsBlock([u8; host_stub::isolation::NS_BLOCK_SIZE as usize]);
    static mut NS_BLOCK: NsBlock = NsBlock([0; host_stub::isolation::NS_BLOCK_SIZE as usize]);

    // ---- The concurrency storm ------------------------------------------------------------

    /// Set by the primary before it starts the other CPUs: the run is the storm (the runner left
    /// a file called `storm` in the run directory) instead of the other scenarios.
    static STORM_MODE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

    /// Whether the runner asked for the storm.
    fn storm_requested() -> bool {
        let mut buf = [0u8; 16];
        semihosting::read_file(c"storm", &mut buf).is_some()
    }

    /// What the CPUs share in the storm.
    static STORM: scenario::storm::Stage =
        scenario::storm::Stage::new(aarch64_cpu::asm::sev, yield_cpu);

    /// NS granules of the storm: the realms, their heartbeat and RecRun pages, the pool.
    const STORM_POOL_GRANULES: usize = 160;
    #[repr(C, align(4096))]
    struct StormPool([[u8; PAGE]; STORM_POOL_GRANULES]);
    static mut STORM_POOL: StormPool = StormPool([[0; PAGE]; STORM_POOL_GRANULES]);

    fn yield_cpu() {
        // SAFETY: YIELD is a hint with no architectural effect; QEMU's round-robin TCG moves on
        // to the next CPU there.
        unsafe { asm!("yield", options(nomem, nostack)) };
    }

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo) -> ! {
        defmt::error!("host stub panic: {}", defmt::Display2Format(info));
        semihosting::exit(2)
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "the host stub image builds for aarch64-unknown-none-softfloat: use `cargo xtask build`"
    );
}
