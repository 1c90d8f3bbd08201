//! The test payload's protocol: what the realm payload (`tests-qemu/realm-payload`, an R-EL1
//! test kernel) and the host stub's VMM agree on. The host-call function IDs the payload uses
//! and what each carries, its modes (X0 at entry), the layouts of the pages it shares with the
//! host in its isolation and storm modes, the check numbers its verdict reports, and the
//! addresses and values both sides check.
//!
//! Scenario numbers, not the RMM's ABI (RSI, PSCI and the RsiHostCall layout are in their own
//! modules); they live here so both sides use one definition. Pure numbers and pure functions
//! of them: no state, no policy of the host's VMM.

/// Vendor-specific hypervisor service (SMCCC owner 6), SMC64 fast call `fnum`.
pub const fn vendor_hyp_fid(fnum: u32) -> u64 {
    (0xC600_0000u32 | fnum) as u64
}

/// A host call whose x0 is 0 (a structure nobody wrote, e.g. in a freshly mapped page): the VMM
/// answers it with zeros.
pub const NOP: u64 = 0;
/// Echo: the VMM answers every argument register `i` (1..=30) with `!x[i]`, and x0 with 0.
pub const ECHO: u64 = vendor_hyp_fid(1);
/// Verdict: x1 = 0 if every check in the payload passed, else the number of the failed check.
pub const REPORT: u64 = vendor_hyp_fid(2);
/// The `imm` the payload puts in its echo host call.
pub const ECHO_IMM: u16 = 0x5A17;
/// A measurement the realm read: x1..x8 as RSI_MEASUREMENT_READ returned them (byte `8i + j` of
/// the measurement in byte `j` of x(i+1), little-endian), x9 = its index (0 the RIM, 1..=4 a
/// REM). The VMM answers x0 = 0.
pub const MEASUREMENTS: u64 = vendor_hyp_fid(5);

/// Attestation challenge: the VMM answers x0 = 0 and x1..x8 = the 64-byte challenge its
/// relying party chose (byte `8i + j` in byte `j` of x(i+1)), which the realm passes to
/// RSI_ATTESTATION_TOKEN_INIT unchanged.
pub const ATTEST_CHALLENGE: u64 = vendor_hyp_fid(6);
/// A piece of the realm's attestation token: x1 = its offset in the token, x2 = its length (at
/// most [`TOKEN_PIECE`]), x3 = flags ([`TOKEN_LAST`] on the last piece, which also carries the
/// number of CONTINUE calls an IRQ exit interrupted, from bit [`TOKEN_INTERRUPTED_SHIFT`]),
/// x4.. = the bytes (little-endian words). The VMM answers x0 = 0 if the piece follows the
/// previous one, else NOT_SUPPORTED.
pub const ATTEST_TOKEN: u64 = vendor_hyp_fid(7);
/// [`ATTEST_TOKEN`] flag: the last piece.
pub const TOKEN_LAST: u64 = 1;
/// [`ATTEST_TOKEN`]: where the count of interrupted CONTINUE calls starts in x3.
pub const TOKEN_INTERRUPTED_SHIFT: u32 = 8;
/// Token requests the payload makes at most, until one is interrupted mid-token by an IRQ exit
/// (the host arms a timer for that when it hands out the challenge; its timing is not exact).
pub const TOKEN_ATTEMPTS: u64 = 4;
/// Bytes one [`ATTEST_TOKEN`] call carries (27 argument registers), and the size of the
/// payload's RSI_ATTESTATION_TOKEN_CONTINUE requests, so each chunk travels in one call.
pub const TOKEN_PIECE: usize = 27 * 8;
/// The largest token the VMM collects (TF-A's QEMU token is about 2 KiB; the VMM keeps it by
/// value, on the host stub's stack).
pub const TOKEN_CAPACITY: usize = 4 * 1024;

/// The VMM's math service, ADD: x0 = 0, x1 = x1 + x2 (wrapping).
pub const ADD: u64 = vendor_hyp_fid(0x10);
/// The VMM's math service, MUL: x0 = 0, x1 = x1 * x2 (wrapping).
pub const MUL: u64 = vendor_hyp_fid(0x11);
/// A function in the range the VMM has KVM deny (the next 256 vendor-hypervisor functions):
/// answered NOT_SUPPORTED without leaving the kernel.
pub const DENIED_PROBE: u64 = vendor_hyp_fid(0x100);

/// The REM the payload extends at run time.
pub const REM_EXTEND_INDEX: u64 = 1;
/// What it extends that REM with (RSI_MEASUREMENT_EXTEND size 48: the bytes travel in x3..x8,
/// x9 and x10 zero).
pub const REM_EXTEND_VALUE: [u8; 48] = *b"the realm payload extends REM 1 with these bytes";

/// The pattern the payload puts in argument register `i` of the echo call.
pub const fn echo_arg(i: usize) -> u64 {
    0xA5A5_0000_0000_0000 | ((i as u64) << 32) | (0x1000 + i as u64)
}

/// The payload's mode, from X0 at entry (the REC's first GPR, set by the host in
/// RMI_REC_CREATE's parameters).
pub const MODE_FULL: u64 = 0;
/// Mode: the single-REC PSCI matrix, ending in SYSTEM_RESET instead of SYSTEM_OFF.
pub const MODE_PSCI: u64 = 1;

/// Mode: two RECs on two physical CPUs. REC 0 starts REC 1 with PSCI CPU_ON, waits for it
/// through AFFINITY_INFO and memory they share, and sees it turn itself off with CPU_OFF.
pub const MODE_SMP: u64 = 2;
/// The context ID REC 0 passes to CPU_ON; REC 1 starts with it in x0.
pub const SMP_CONTEXT: u64 = 0x5EC0_DA7A_0000_0C01;
/// REC 1's host call, made from the other physical CPU: x1 = its MPIDR_EL1 as it reads it,
/// x2 = the context ID it started with. The VMM answers x0 = 0, x1 = [`smp_answer`] of them.
pub const SMP_HELLO: u64 = vendor_hyp_fid(8);

/// What the VMM answers to [`SMP_HELLO`].
pub const fn smp_answer(mpidr: u64, context: u64) -> u64 {
    !mpidr.wrapping_add(context)
}

/// Mode: one side of a race between a running REC and the host over one of the realm's stage-2
/// mappings (the QEMU isolation tests). x1 = the IPA of the flag page (an unprotected IPA the
/// host maps to one of its NS pages), x2 = the role ([`isolation::ROLE_RACER`] or
/// [`isolation::ROLE_RIPAS_REQUESTER`]). The REC makes no host call and arms no timer: nothing
/// exits it between its first access to the target and the second, so a translation it cached
/// stays cached unless the RMM invalidates it.
pub const MODE_ISOLATION: u64 = 3;

/// The flag page of [`MODE_ISOLATION`]: the doublewords the host and the realm exchange, and the
/// values they put there.
pub mod isolation {
    /// Role: touch the target granule, tell the host, wait (bounded) for its go, touch it again
    /// and report what that reached.
    pub const ROLE_RACER: u64 = 0;
    /// Role: ask for RIPAS EMPTY over the target granule (RSI_IPA_STATE_SET), which exits to the
    /// host with a RIPAS change request, then power off if ever resumed.
    pub const ROLE_RIPAS_REQUESTER: u64 = 1;

    /// Host: the IPA the realm touches (granule aligned).
    pub const TARGET: usize = 0;
    /// Realm: [`READY_VALUE`] once it has touched the target.
    pub const READY: usize = 1;
    /// Host: [`GO_VALUE`] once it has changed the mapping and reused the granule.
    pub const GO: usize = 2;
    /// Realm: doubleword 0 of the target at the first touch.
    pub const FIRST_READ: usize = 3;
    /// Realm: doubleword 0 of the target after the go.
    pub const SECOND_READ: usize = 4;
    /// Realm: doubleword [`OWN_WORD`] of the target after the go (it wrote [`TOUCH_VALUE`]
    /// there at the first touch).
    pub const OWN_READ: usize = 5;
    /// Host: a value the realm writes at doubleword [`FORGE_WORD`] of the target after the go,
    /// before its other accesses (0: none). A stage-2 page descriptor, should the granule have
    /// become one of the realm's RTTs.
    pub const FORGE_DESC: usize = 6;
    /// Host: an IPA the realm reads after writing [`FORGE_DESC`] (what the forged descriptor
    /// would map).
    pub const FORGE_IPA: usize = 7;
    /// Realm: what it read at [`FORGE_IPA`].
    pub const FORGE_READ: usize = 8;
    /// Realm: how far it got ([`STATUS_TOUCHED`], ...).
    pub const STATUS: usize = 9;
    /// Realm (requester): the RSI status of its RSI_IPA_STATE_SET, had it been resumed.
    pub const RIPAS_STATUS: usize = 10;
    /// Realm: FAR_EL1 of the synchronous external abort it took ([`STATUS_SEA`]).
    pub const SEA_FAR: usize = 11;
    /// Realm: ESR_EL1 of that abort.
    pub const SEA_ESR: usize = 12;
    /// Doublewords of the flag page in use.
    pub const WORDS: usize = 13;

    /// The doubleword of the target the realm writes [`TOUCH_VALUE`] to at the first touch.
    pub const OWN_WORD: usize = 1;
    /// The doubleword of the target the realm writes [`FORGE_DESC`] to.
    pub const FORGE_WORD: usize = 5;
    /// What the realm writes at the first touch.
    pub const TOUCH_VALUE: u64 = 0x70C4_ED0F_0000_0001;
    /// What the realm puts in [`READY`].
    pub const READY_VALUE: u64 = 0x5EAD_0000_0000_0001;
    /// What the host puts in [`GO`].
    pub const GO_VALUE: u64 = 0x0060_0000_0000_0001;

    /// [`STATUS`]: the first touch is done.
    pub const STATUS_TOUCHED: u64 = 1;
    /// [`STATUS`]: no go came within [`SPIN_LIMIT`] polls.
    pub const STATUS_TIMED_OUT: u64 = 2;
    /// [`STATUS`]: every access after the go completed (none faulted).
    pub const STATUS_REACHED: u64 = 3;
    /// [`STATUS`]: the RIPAS requester was resumed after its request.
    pub const STATUS_RIPAS_RESUMED: u64 = 4;
    /// [`STATUS`]: an access after the go took a synchronous external abort (the RMM injects
    /// one for a data access to a Protected IPA whose RIPAS is EMPTY, A5.2.3), recorded in
    /// [`SEA_FAR`] and [`SEA_ESR`].
    pub const STATUS_SEA: u64 = 5;

    /// Polls of [`GO`] the realm makes at most, each followed by a YIELD (under QEMU's
    /// round-robin TCG, which `-icount` implies, a YIELD hands the emulator to the next CPU).
    /// The host needs one slice for its side: a fixed count, not a time.
    pub const SPIN_LIMIT: u64 = 1_000_000;
}

/// Mode: one REC of the concurrency storm (the QEMU storm test). x1 = the IPA of its heartbeat
/// page (an unprotected IPA the host maps to one of its NS pages), x2 = a seed for its memory
/// pattern. The REC runs bursts forever: each marks itself running in the heartbeat page, touches
/// its scratch memory and checks it, marks the burst done, then makes one call that exits to the
/// host ([`storm::exit_of`]): a host call, a RIPAS change request, or PSCI AFFINITY_INFO of the
/// realm's REC 1 (which the host must answer with RMI_PSCI_COMPLETE).
pub const MODE_STORM: u64 = 4;

/// The heartbeat page of [`MODE_STORM`] and the exit each burst ends with.
pub mod storm {
    /// Doubleword: `2n + 1` while burst `n` runs (the REC is inside the realm, so the RMM has it
    /// marked running), `2n + 2` once it is done.
    pub const HEARTBEAT: usize = 0;
    /// Doubleword: how many scratch words read back other than what the REC wrote.
    pub const MEMORY_ERRORS: usize = 1;
    /// Scratch doublewords each burst writes and reads back.
    pub const BURST_WORDS: usize = 1024;
    /// A burst hands the emulator to the other CPUs (a YIELD) every this many words it writes.
    pub const YIELD_EVERY: usize = 128;
    /// The RIPAS requests' IPAs: [`RIPAS_PAGES`] pages from here, in the level-3 RTT that maps
    /// the payload's region (so the host's RTT_SET_RIPAS walk meets the tables other CPUs change
    /// at level 2), never assigned.
    pub const RIPAS_BASE: u64 = 0x10_0000;
    /// Pages the RIPAS requests cycle over.
    pub const RIPAS_PAGES: u64 = 8;
    /// The MPIDR of the realm's REC 1 (index 1), the target of the AFFINITY_INFO requests.
    pub const PSCI_TARGET_MPIDR: u64 = 1;

    /// What ends a burst.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Exit {
        /// RSI_HOST_CALL (x0 of the call: [`super::NOP`]).
        HostCall,
        /// RSI_IPA_STATE_SET over one page at `base`, to `ripas` (0 EMPTY, 1 RAM).
        Ripas {
            /// The page.
            base: u64,
            /// The RIPAS asked for.
            ripas: u64,
        },
        /// PSCI AFFINITY_INFO of [`PSCI_TARGET_MPIDR`], level 0.
        AffinityInfo,
    }

    /// The exit burst `n` ends with.
    pub const fn exit_of(n: u64) -> Exit {
        match n % 4 {
            1 => Exit::Ripas {
                base: RIPAS_BASE + (n / 4 % RIPAS_PAGES) * 0x1000,
                ripas: (n / 4 / RIPAS_PAGES % 2) ^ 1,
            },
            3 => Exit::AffinityInfo,
            _ => Exit::HostCall,
        }
    }

    /// The value burst `n` writes to scratch word `i`.
    pub const fn pattern(seed: u64, n: u64, i: usize) -> u64 {
        (seed ^ n.rotate_left(17) ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1
    }
}

/// Checks the payload reports (the value of x1 in [`REPORT`] when one fails).
pub mod check {
    /// RSI_VERSION did not answer 1.0.
    pub const RSI_VERSION: u64 = 1;
    /// The echo host call did not return RSI_SUCCESS.
    pub const HOST_CALL_STATUS: u64 = 2;
    /// The echo results were not the complements of the arguments.
    pub const ECHO_RESULTS: u64 = 3;
    /// The realm's FP/SIMD registers did not survive an exit to the host.
    pub const FP_PRESERVED: u64 = 4;
    /// The realm's first look at its FP/SIMD registers (D0 and D31) did not find them zero, as
    /// the REC was created: the host's values showed through.
    pub const FP_INITIAL: u64 = 18;
    /// A host call at a misaligned IPA was not refused with RSI_ERROR_INPUT.
    pub const HOST_CALL_MISALIGNED: u64 = 5;
    /// A host call at an unprotected IPA was not refused.
    pub const HOST_CALL_UNPROTECTED: u64 = 6;
    /// A host call at a RIPAS EMPTY page was not refused.
    pub const HOST_CALL_EMPTY: u64 = 7;
    /// RSI_REALM_CONFIG failed or reported other than a 40-bit, SHA-256 realm.
    pub const REALM_CONFIG: u64 = 8;
    /// RSI_IPA_STATE_GET reported other than RAM over the region and EMPTY past it.
    pub const IPA_STATE_GET: u64 = 9;
    /// RSI_IPA_STATE_SET to RAM was not accepted in full, or the page did not read back as RAM.
    pub const IPA_STATE_SET_ACCEPTED: u64 = 10;
    /// RSI_IPA_STATE_SET the VMM rejects did not come back rejected with nothing changed.
    pub const IPA_STATE_SET_REJECTED: u64 = 11;
    /// A host call on a RAM page with nothing assigned did not succeed once the host mapped it.
    pub const HOST_CALL_RETRY: u64 = 12;
    /// RSI_MEASUREMENT_READ or RSI_MEASUREMENT_EXTEND did not return RSI_SUCCESS, or the VMM
    /// did not take a MEASUREMENTS host call.
    pub const MEASUREMENT: u64 = 13;
    /// RSI_ATTESTATION_TOKEN_INIT or _CONTINUE failed, the token exceeded INIT's bound, or the
    /// VMM refused the challenge or a piece of the token.
    pub const ATTESTATION: u64 = 14;
    /// SMP: PSCI CPU_ON of REC 1 did not return SUCCESS.
    pub const SMP_CPU_ON: u64 = 30;
    /// SMP: AFFINITY_INFO did not report REC 1 ON after CPU_ON.
    pub const SMP_AFFINITY_ON: u64 = 31;
    /// SMP: REC 1 did not report back (in time, or with the VMM's answer to its host call).
    pub const SMP_SECONDARY: u64 = 32;
    /// SMP: AFFINITY_INFO did not report REC 1 OFF after its CPU_OFF (in time).
    pub const SMP_AFFINITY_OFF: u64 = 33;
    /// A host call in the denied range was not answered NOT_SUPPORTED.
    pub const HOST_CALL_DENIED: u64 = 15;
    /// SMCCC_VERSION / SMCCC_ARCH_FEATURES by host call were not answered as KVM does.
    pub const HOST_CALL_IN_KERNEL: u64 = 16;
    /// The VMM's ADD or MUL gave a wrong result.
    pub const HOST_CALL_MATH: u64 = 17;
    /// The realm's virtual timer, armed to fire at once, did not show ISTATUS.
    pub const TIMER: u64 = 19;
    /// The ID registers showed SVE or SME (realms are not offered them), or ID_AA64MMFR0_EL1 or
    /// MIDR_EL1 read as zero.
    pub const ID_REGISTERS: u64 = 28;
    /// A hardware breakpoint register (DBGBVR0_EL1) read back what the realm wrote: the RMM
    /// must keep realms off the debug registers it does not switch (they read as zero).
    pub const DEBUG_REGISTERS: u64 = 29;
    /// The ID registers offered FEAT_MOPS but a SETP/SETM/SETE sequence did not clear memory.
    pub const MOPS: u64 = 34;
    /// A new REC's pointer authentication key (APIAKey) was not zero, as another realm's left
    /// on the same CPU would show; or the realm's own key did not survive an exit.
    pub const PAUTH_KEYS: u64 = 35;
    /// The virtual interrupt the realm asked the VMM for ([`super::INJECT_VIRQ`]) was not taken
    /// with its INTID when the realm unmasked interrupts.
    pub const VIRQ: u64 = 36;
    /// PSCI_VERSION was not 1.1.
    pub const PSCI_VERSION: u64 = 20;
    /// PSCI_FEATURES did not report CPU_ON as supported and MIGRATE as not supported.
    pub const PSCI_FEATURES: u64 = 21;
    /// A PSCI function outside the realm's set (MIGRATE) was not NOT_SUPPORTED.
    pub const PSCI_UNSUPPORTED: u64 = 22;
    /// CPU_ON with an entry point outside the protected IPA space was not INVALID_ADDRESS.
    pub const PSCI_CPU_ON_BAD_ENTRY: u64 = 23;
    /// CPU_ON of an MPIDR no REC has was not INVALID_PARAMETERS.
    pub const PSCI_CPU_ON_NO_REC: u64 = 24;
    /// CPU_ON of the caller itself was not ALREADY_ON.
    pub const PSCI_CPU_ON_SELF: u64 = 25;
    /// AFFINITY_INFO of the caller was not ON, or a non-zero lowest level was not refused.
    pub const PSCI_AFFINITY_INFO: u64 = 26;
    /// CPU_SUSPEND did not return SUCCESS.
    pub const PSCI_CPU_SUSPEND: u64 = 27;
}

/// What the realm keeps in V0 and V31 across its host calls (the FP/SIMD check).
pub const REALM_FP_PATTERN: u64 = 0x0F0F_1234_5678_F0F0;
/// What the host stub keeps in its V0 while realms run (it must come back unchanged).
pub const HOST_FP_PATTERN: u64 = 0x6055_7A1E_0000_C0DE;

/// Asks the VMM to inject virtual interrupt x1 into the calling vCPU (x0 = 0 on success): KVM's
/// KVM_IRQ_LINE, which the model turns into a list register in rec_enter.gicv3_lrs.
pub const INJECT_VIRQ: u64 = vendor_hyp_fid(0x12);
/// The virtual INTID the realm asks for.
pub const VIRQ_INTID: u64 = 42;

/// Benchmark: a host call the VMM answers with nothing (x0 = 0), timed by the realm.
pub const BENCH: u64 = vendor_hyp_fid(3);
/// Benchmark result: x1 = median, x2 = minimum, x3 = maximum counter ticks of one [`BENCH`] round
/// trip (realm SMC to realm resume), over [`BENCH_ITERATIONS`] calls.
pub const BENCH_RESULT: u64 = vendor_hyp_fid(4);
/// Benchmark result as [`BENCH_RESULT`], for round trips in which the realm uses FP/SIMD: it
/// writes an FP/SIMD register before each call and again, inside the timed window, right after
/// it (the lazy FP/SIMD switch's save at the exit and its trap and load after the resume).
pub const BENCH_FP_RESULT: u64 = vendor_hyp_fid(9);
/// Benchmark against the minimal host: a host call the host stub's vCPU loop answers (x0 = 0)
/// and re-enters at once, before the KVM model sees the exit: the floor of a host-call round
/// trip, with nothing of the host but reading the exit and writing one register.
pub const BENCH_MINIMAL: u64 = vendor_hyp_fid(0x13);
/// Benchmark result as [`BENCH_RESULT`], for [`BENCH_MINIMAL`] round trips.
pub const BENCH_MINIMAL_RESULT: u64 = vendor_hyp_fid(0x14);
/// Round trips the realm times.
pub const BENCH_ITERATIONS: usize = 128;
/// WFIs the realm executes after the benchmark, each trapped to the host (TRAP_WFI), so the host
/// can time empty REC entries and exits.
pub const WFI_ITERATIONS: usize = 128;

/// Median (the upper one for an even count), minimum and maximum of `samples` (sorted in
/// place): how the figures [`BENCH_RESULT`] and [`BENCH_FP_RESULT`] carry are made, by the realm
/// and by the host alike. Zeros for an empty slice.
pub fn summarize(samples: &mut [u64]) -> (u64, u64, u64) {
    // Insertion sort: small, no allocation, and fine for a few hundred samples.
    for i in 1..samples.len() {
        let mut j = i;
        while j > 0 && samples[j - 1] > samples[j] {
            samples.swap(j - 1, j);
            j -= 1;
        }
    }
    match samples {
        [] => (0, 0, 0),
        s => (s[s.len() / 2], s[0], s[s.len() - 1]),
    }
}

/// IPA of a page just past the region: RIPAS EMPTY until the realm asks for RAM (accepted).
pub const GROW_IPA: u64 = REGION_SIZE;
/// IPA of a page the VMM refuses to turn into RAM.
pub const REFUSED_IPA: u64 = REGION_SIZE + 0x1000;
/// An unprotected IPA of the payload's 40-bit realm.
pub const UNPROTECTED_IPA: u64 = 1 << 39;

/// Where the VMM emulates a PL011's data register for the realm: an unprotected IPA, so every
/// access exits to the host as emulatable MMIO.
pub const UART_IPA: u64 = UNPROTECTED_IPA + 0x0900_0000;
/// What the payload prints there once its checks have run.
pub const GREETING: &str = "hello from the realm, through the VMM's emulated UART";

/// The payload's image size limit (its link region, 64 KiB from IPA 0).
pub const REGION_SIZE: u64 = 0x1_0000;

// The protocol's own invariants, checked when the crate builds.
const _: () = assert!(
    TOKEN_PIECE + 4 * 8 <= 31 * 8,
    "a token piece and its header fit x1..x30"
);
const _: () = assert!(TOKEN_CAPACITY.is_multiple_of(8) && TOKEN_PIECE <= TOKEN_CAPACITY);
const _: () = assert!(REGION_SIZE.is_multiple_of(crate::GRANULE_SIZE as u64));
const _: () = assert!(GROW_IPA.is_multiple_of(crate::GRANULE_SIZE as u64));
const _: () =
    assert!(REFUSED_IPA.is_multiple_of(crate::GRANULE_SIZE as u64) && REFUSED_IPA != GROW_IPA);
const _: () = assert!(
    UNPROTECTED_IPA == 1 << (40 - 1),
    "the top bit of the payload's 40-bit IPA space"
);
const _: () = assert!(
    UART_IPA & UNPROTECTED_IPA != 0,
    "the emulated UART is unprotected"
);
const _: () =
    assert!(REM_EXTEND_VALUE.len() <= 64 && REM_EXTEND_INDEX >= 1 && REM_EXTEND_INDEX <= 4);
const _: () = assert!(
    isolation::WORDS * 8 <= crate::GRANULE_SIZE,
    "the flag page is one granule"
);
const _: () = assert!(isolation::FORGE_WORD * 8 < crate::GRANULE_SIZE && isolation::OWN_WORD != 0);
const _: () = assert!(storm::MEMORY_ERRORS * 8 < crate::GRANULE_SIZE);
const _: () = assert!(
    storm::RIPAS_BASE + storm::RIPAS_PAGES * 0x1000 <= 0x20_0000,
    "one level-3 RTT"
);
const _: () = assert!(
    storm::RIPAS_BASE >= REGION_SIZE,
    "never the payload's own pages"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_samples() {
        let mut s = [5, 1, 9, 3, 7];
        assert_eq!(summarize(&mut s), (5, 1, 9));
        assert_eq!(s, [1, 3, 5, 7, 9]);
        assert_eq!(summarize(&mut []), (0, 0, 0));
        let mut even = [4, 2];
        assert_eq!(summarize(&mut even), (4, 2, 4), "upper median");
    }
}
