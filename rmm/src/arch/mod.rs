//! What the RMM needs of the CPU, as types and traits: a realm's registers, its stage 2, how a
//! run ends, and the [`RealmCpu`] that runs it; plus the trap policy ([`trap_policy`]). The
//! aarch64 implementation is `crate::aarch64`, which only the image links; the library above it takes plain values (ID registers, the
//! copied shared buffer, call registers) and runs realms through the [`RealmCpu`] trait, which
//! host tests implement with a scripted double, so `cargo test` runs all of the logic on the build
//! machine.

pub mod trap_policy;

/// A realm's EL1/EL0 system registers: what the RMM swaps with the host's on every entry and exit
/// (EL3 does not switch EL1 state between worlds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct El1Regs {
    /// SCTLR_EL1.
    pub sctlr: u64,
    /// CPACR_EL1.
    pub cpacr: u64,
    /// TTBR0_EL1.
    pub ttbr0: u64,
    /// TTBR1_EL1.
    pub ttbr1: u64,
    /// TCR_EL1.
    pub tcr: u64,
    /// ESR_EL1.
    pub esr: u64,
    /// AFSR0_EL1.
    pub afsr0: u64,
    /// AFSR1_EL1.
    pub afsr1: u64,
    /// FAR_EL1.
    pub far: u64,
    /// MAIR_EL1.
    pub mair: u64,
    /// AMAIR_EL1.
    pub amair: u64,
    /// VBAR_EL1.
    pub vbar: u64,
    /// CONTEXTIDR_EL1.
    pub contextidr: u64,
    /// TPIDR_EL0.
    pub tpidr_el0: u64,
    /// TPIDRRO_EL0.
    pub tpidrro_el0: u64,
    /// TPIDR_EL1.
    pub tpidr_el1: u64,
    /// SP_EL0.
    pub sp_el0: u64,
    /// SP_EL1.
    pub sp_el1: u64,
    /// ELR_EL1.
    pub elr: u64,
    /// SPSR_EL1.
    pub spsr: u64,
    /// PAR_EL1.
    pub par: u64,
    /// CNTKCTL_EL1.
    pub cntkctl: u64,
    /// CSSELR_EL1.
    pub csselr: u64,
    /// MDSCR_EL1.
    pub mdscr: u64,
    /// CNTV_CTL_EL0.
    pub cntv_ctl: u64,
    /// CNTV_CVAL_EL0.
    pub cntv_cval: u64,
    /// CNTP_CTL_EL0.
    pub cntp_ctl: u64,
    /// CNTP_CVAL_EL0.
    pub cntp_cval: u64,
}

impl El1Regs {
    /// A REC's registers before its first run: MMU and caches off, little-endian, everything else
    /// zero (SCTLR_EL1 RES1 bits set).
    pub const RESET: Self = Self {
        sctlr: 0x30D0_0800,
        cpacr: 0,
        ttbr0: 0,
        ttbr1: 0,
        tcr: 0,
        esr: 0,
        afsr0: 0,
        afsr1: 0,
        far: 0,
        mair: 0,
        amair: 0,
        vbar: 0,
        contextidr: 0,
        tpidr_el0: 0,
        tpidrro_el0: 0,
        tpidr_el1: 0,
        sp_el0: 0,
        sp_el1: 0,
        elr: 0,
        spsr: 0,
        par: 0,
        cntkctl: 0,
        csselr: 0,
        mdscr: 0,
        cntv_ctl: 0,
        cntv_cval: 0,
        cntp_ctl: 0,
        cntp_cval: 0,
    };
}

/// A REC's pointer authentication keys (FEAT_PAuth): the instruction A and B, data A and B, and
/// generic keys, low and high halves. EL3 keeps the host's apart from the Realm world's; within
/// the Realm world every REC has its own, loaded for its runs, so no realm sees another's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct PauthKeys {
    /// APIAKeyLo_EL1, APIAKeyHi_EL1.
    pub ia: [u64; 2],
    /// APIBKeyLo_EL1, APIBKeyHi_EL1.
    pub ib: [u64; 2],
    /// APDAKeyLo_EL1, APDAKeyHi_EL1.
    pub da: [u64; 2],
    /// APDBKeyLo_EL1, APDBKeyHi_EL1.
    pub db: [u64; 2],
    /// APGAKeyLo_EL1, APGAKeyHi_EL1.
    pub ga: [u64; 2],
}

impl PauthKeys {
    /// A new REC's keys: zero.
    pub const ZERO: Self = Self {
        ia: [0; 2],
        ib: [0; 2],
        da: [0; 2],
        db: [0; 2],
        ga: [0; 2],
    };
}

/// A REC's GICv3 virtual CPU interface state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct GicState {
    /// ICH_HCR_EL2 (the host's value on entry, as the realm left it on exit).
    pub hcr: u64,
    /// `ICH_LR<n>_EL2` (only the implemented ones are used).
    pub lrs: [u64; 16],
    /// ICH_VMCR_EL2 (kept with the REC across runs).
    pub vmcr: u64,
    /// ICH_MISR_EL2 at the last exit.
    pub misr: u64,
    /// `ICH_AP0R<n>_EL2`, n = 0..=3: the active group 0 priorities (kept with the REC; only the
    /// registers the CPU implements for its preemption bits, ICH_VTR_EL2.PREbits, are used).
    pub ap0r: [u64; 4],
    /// `ICH_AP1R<n>_EL2`, n = 0..=3: the active group 1 priorities (likewise).
    pub ap1r: [u64; 4],
}

/// The `ICH_AP0R<n>_EL2` / `ICH_AP1R<n>_EL2` registers a CPU implements for an ICH_VTR_EL2: one
/// for 5 preemption bits, two for 6, four for 7 (GICv3).
pub const fn active_priority_registers(ich_vtr: u64) -> usize {
    use aarch64_cpu::registers::ICH_VTR_EL2::PREbits;
    // PREbits holds the number of preemption bits minus one.
    match (ich_vtr >> PREbits.shift) & PREbits.mask {
        0..=4 => 1,
        5 => 2,
        _ => 4,
    }
}

/// FP/SIMD registers: V0..V31 and the FP control and status registers. The RMM itself never
/// uses them (it is built soft-float), so the world switch swaps the host's and the realm's
/// (lazily: only in runs where the realm touches them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct FpRegs {
    /// V0..V31.
    pub v: [u128; 32],
    /// FPSR.
    pub fpsr: u64,
    /// FPCR.
    pub fpcr: u64,
}

/// PSTATE a REC starts in: EL1h, all interrupts masked.
pub const PSTATE_EL1H_MASKED: u64 = 0x3C5;

/// A REC's register state as the world switch loads and saves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct RealmRegs {
    /// X0..X30 (the world switch relies on this being the first field).
    pub gprs: [u64; 31],
    /// Program counter (ELR_EL2 on entry, the preferred return address on exit).
    pub pc: u64,
    /// PSTATE (SPSR_EL2).
    pub pstate: u64,
    /// EL1/EL0 system registers.
    pub el1: El1Regs,
    /// Pointer authentication keys (used only on CPUs with FEAT_PAuth).
    pub pauth: PauthKeys,
    /// GICv3 virtual interface.
    pub gic: GicState,
    /// VDISR_EL2: the virtual SError syndrome an ESB recorded for the realm (FEAT_RAS).
    pub vdisr: u64,
    /// FP/SIMD state.
    pub fp: FpRegs,
}

/// What becomes of the instruction that trapped once the RMM (or the host, through it) has
/// done its work: the argument of [`RealmRegs::complete`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    /// The call returns these in x0..x3 (an RSI, PSCI or SMCCC call).
    Results([u64; 4]),
    /// The instruction has done what it does (any register it writes is written); or it is
    /// done now and the rest is the host's to tell (an exit that completes it later leaves
    /// the registers to that completion).
    Done,
}

impl RealmRegs {
    /// The one place a realm's PC moves past a trapped instruction (an A64 instruction: 4
    /// bytes; realms run AArch64 only), after applying `c`. Injected exceptions move the PC
    /// to a vector instead (`crate::exit`); an instruction that must run again leaves it.
    pub fn complete(&mut self, c: Completion) {
        if let Completion::Results(x) = c {
            self.gprs[..4].copy_from_slice(&x);
        }
        self.pc = self.pc.wrapping_add(4);
    }
}

/// Stage-2 translation for the realm being entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stage2 {
    /// VTTBR_EL2: the starting-level RTT and the VMID.
    pub vttbr: u64,
    /// VTCR_EL2.
    pub vtcr: u64,
}

/// What the host asked to trap on this entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EntryTraps {
    /// Trap WFI (rec_enter.flags.TRAP_WFI).
    pub wfi: bool,
    /// Trap WFE (rec_enter.flags.TRAP_WFE).
    pub wfe: bool,
}

/// How the realm stopped running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitClass {
    /// A synchronous exception (ESR says which).
    Sync,
    /// A physical IRQ arrived.
    Irq,
    /// A physical FIQ arrived.
    Fiq,
    /// An SError.
    SError,
}

/// The syndrome of a realm exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealmExit {
    /// Class of the exception.
    pub class: ExitClass,
    /// ESR_EL2.
    pub esr: u64,
    /// FAR_EL2.
    pub far: u64,
    /// HPFAR_EL2.
    pub hpfar: u64,
}

/// Runs a REC on this CPU until it takes an exception to R-EL2, and issues the stage-2 TLB
/// maintenance the RMI handlers need ([`crate::tlb`]).
pub trait RealmCpu: crate::tlb::Stage2Tlb {
    /// Loads `regs`, enters the realm with `s2`, and on the next exception saves the realm's
    /// registers back into `regs` and returns the syndrome. The host's EL1 state is preserved.
    /// The EL1 timers whose output asserts in `regs` are masked at EL2 while the realm runs
    /// ([`crate::timers`]).
    fn run(&self, regs: &mut RealmRegs, s2: &Stage2, traps: EntryTraps, vmpidr: u64) -> RealmExit;
    /// A physical IRQ or FIQ is pending at this CPU (ISR_EL1.I or F): a long-running realm call
    /// should stop and let the host take it.
    fn interrupt_pending(&self) -> bool;
    /// The hardware value of an ID register (what a realm's trapped read is answered from,
    /// through [`crate::id_regs::realm_view`]).
    fn read_id_register(&self, reg: crate::id_regs::IdRegister) -> u64;
    /// A realm was destroyed: a quiet moment, off the hot paths, for the platform's own
    /// bookkeeping (the image reports how deep its stacks have gone). Nothing by default.
    fn realm_destroyed(&self) {}
}
