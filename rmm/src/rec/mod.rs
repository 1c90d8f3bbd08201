//! Realm execution contexts (RECs): the vCPU state the RMM keeps in a REC granule.
//!
//! Where the REC lives in this crate: its object, its auxiliary granules and its run on a
//! claimed REC are here; its parameters and REC_CREATE's checks on them in [`params`]; its
//! commands with the other RMI command groups, `rmi/rec.rs` (REC_CREATE, REC_DESTROY,
//! REC_AUX_COUNT) and `rmi/rec_enter.rs` (REC_ENTER: the entry record, the run loop and the exit
//! record); what each kind of realm exit means in `exit.rs`.

pub mod params;

pub use params::{check_rec_params, validate_rec_params, RecConfig, RecParamsFault};

use hostcall_abi::rec_params::MAX_REC_AUX_GRANULES;

use crate::arch::{El1Regs, FpRegs, GicState, PauthKeys, RealmRegs, PSTATE_EL1H_MASKED};
use crate::attestation::{Signing, UnsignedToken};
use crate::granule::{GranuleState, Locked};
use hostcall_abi::GRANULE_SIZE;

use crate::memory::GranuleMemory;

/// Auxiliary granules every REC needs (RMI_REC_AUX_COUNT). The first holds the REC's signed
/// realm attestation token while it is delivered; the second is reserved for an SVE save area.
/// The RMM wipes them at creation and destruction.
pub const AUX_GRANULES: u64 = 2;
const _: () = assert!(AUX_GRANULES as usize <= MAX_REC_AUX_GRANULES);

/// A pending RIPAS change the realm asked for (RSI_IPA_STATE_SET) that the host completes with
/// RMI_RTT_SET_RIPAS. All zero when nothing is pending (A4.3.8: `ripas_addr` and `ripas_top` are
/// 0 after any other exit); the request lives from the RIPAS_CHANGE exit until the next REC_ENTER
/// that runs the REC, which answers the realm and clears it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct RipasRequest {
    /// Next IPA to change (`ripas_addr`): the request's base, moved on by each RMI_RTT_SET_RIPAS.
    pub addr: u64,
    /// End of the requested range (`ripas_top`); never 0 for a request, whose range is not empty.
    pub top: u64,
    /// Requested RIPAS (RmiRipas encoding).
    pub value: u8,
    /// Whether DESTROYED entries may change (RsiRipasChangeFlags).
    pub change_destroyed: bool,
}

impl RipasRequest {
    /// Whether a request is recorded (the realm is owed an RSI_IPA_STATE_SET answer).
    pub const fn is_pending(&self) -> bool {
        self.top != 0
    }
}

/// A realm PSCI call that names another REC by MPIDR and waits for the host to supply that REC
/// with RMI_PSCI_COMPLETE (`psci_pending`, A4.3.7). The RMM checked the arguments when the realm
/// made the call; completion decides the result from the target REC's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsciRequest {
    /// PSCI_CPU_ON: start the REC with index `target` at `entry`, with `context_id` in x0.
    CpuOn {
        /// Index of the target REC (from the MPIDR the realm passed).
        target: u64,
        /// Entry point, a Protected IPA.
        entry: u64,
        /// Value for the target's x0.
        context_id: u64,
    },
    /// PSCI_AFFINITY_INFO: whether the REC with index `target` is on.
    AffinityInfo {
        /// Index of the target REC (from the MPIDR the realm passed).
        target: u64,
    },
}

impl PsciRequest {
    /// Index of the REC the request names.
    pub const fn target(&self) -> u64 {
        match *self {
            Self::CpuOn { target, .. } | Self::AffinityInfo { target } => target,
        }
    }
}

/// A realm's attestation token request on this REC (A7.2.2, `attest_state` and
/// `attest_challenge`): started by RSI_ATTESTATION_TOKEN_INIT, advanced by each
/// RSI_ATTESTATION_TOKEN_CONTINUE until the whole token has been delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct AttestProgress {
    /// ATTEST_IN_PROGRESS.
    pub in_progress: bool,
    /// The challenge the realm passed.
    pub challenge: [u8; hostcall_abi::rsi::CHALLENGE_SIZE],
    /// Length of the signed realm token, kept in the REC's first auxiliary granule; 0 until the
    /// token is signed (by the first CONTINUE).
    pub realm_token_len: u16,
    /// Bytes of the token collection delivered so far.
    pub delivered: u32,
    /// The realm token's signature while it is being made: the token written but for its
    /// signature (in the first auxiliary granule) and the signer's state. It outlives a CONTINUE
    /// that an interrupt cut short, and holds the secret nonce until the signature is done.
    pub signing: Option<(UnsignedToken, Signing)>,
}

impl AttestProgress {
    /// NO_ATTEST_IN_PROGRESS.
    pub const IDLE: Self = Self {
        in_progress: false,
        challenge: [0; hostcall_abi::rsi::CHALLENGE_SIZE],
        realm_token_len: 0,
        delivered: 0,
        signing: None,
    };
}

/// A stage-2 abort as the realm took it: ESR_EL2 and FAR_EL2 (the faulting virtual address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct AbortSyndrome {
    /// ESR_EL2.
    pub esr: u64,
    /// FAR_EL2.
    pub far: u64,
}

/// A host call the realm made that waits for the host's answer: where its RsiHostCall is, and
/// where that IPA translated to when the call was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct PendingHostCall {
    /// IPA of the realm's RsiHostCall.
    pub ipa: u64,
    /// The PA it translated to.
    pub pa: u64,
    /// [`crate::memory::RTT_WRITES`] then: while it is unchanged, `pa` still holds.
    pub rtt_writes: u64,
}

/// The REC. It lives at the start of the REC granule and is written only by [`create`] at
/// RMI_REC_CREATE; see [`status`] for who may read it how.
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Rec {
    /// PA of the owning realm's RD.
    pub rd: u64,
    /// Index within the realm (from its MPIDR).
    pub index: u64,
    /// MPIDR value the host gave (RmiRecMpidr layout).
    pub mpidr: u64,
    /// May be entered.
    pub runnable: bool,
    /// Being run by a CPU (REC_RUNNING); cleared when it exits. Written only by [`claim`] and
    /// [`release`]: while set, the running CPU owns `regs`.
    pub running: bool,
    /// Registers: GPRs, PC, PSTATE, EL1 system registers.
    pub regs: RealmRegs,
    /// A host call waiting for the host's answer.
    pub host_call: Option<PendingHostCall>,
    /// Where the last completed host call's RsiHostCall translated to: the next call at the same
    /// IPA reuses it, without a walk, while no RTT entry has been written since.
    pub host_call_memo: Option<PendingHostCall>,
    /// The last exit was an emulatable data abort (the host may set EMULATED_MMIO); the ESR that
    /// describes the access.
    pub emulatable_abort: Option<u64>,
    /// The last exit was a data abort at an unprotected IPA (the host may answer it with
    /// INJECT_SEA): its syndrome.
    pub unprotected_abort: Option<AbortSyndrome>,
    /// Auxiliary granules, `num_aux` of them.
    pub aux: [u64; MAX_REC_AUX_GRANULES],
    /// Number of auxiliary granules.
    pub num_aux: u64,
    /// Pending RIPAS change.
    pub ripas: RipasRequest,
    /// A PSCI request waiting for RMI_PSCI_COMPLETE; while set the REC cannot be entered.
    pub psci: Option<PsciRequest>,
    /// Attestation token request.
    pub attest: AttestProgress,
}

// A REC is one granule, granule aligned.
const _: () = assert!(core::mem::size_of::<Rec>() <= hostcall_abi::GRANULE_SIZE);
const _: () = assert!(core::mem::align_of::<Rec>() <= hostcall_abi::GRANULE_SIZE);

// # Who may form a reference to a REC
//
// REC_ENTER runs a REC without holding its lock: from setting `running` (under the REC's lock)
// until clearing it (under the lock again), the running CPU owns the REC's registers and holds
// a `&mut RealmRegs` to them while the realm runs. Forming a `&mut Rec` anywhere else in that
// time would alias it (undefined behaviour whether or not the registers are then touched), so
// `Rec` is deliberately not a `GranuleObject` (no `memory::get::<Rec>`) and the only ways to it
// are these, each for a caller holding the REC granule's lock:
//
// - [`status`]: the fields any command may read of any REC, running or not (`rd`, `index`,
//   `runnable`, `running`), read field by field through a raw pointer, without forming a
//   reference to the REC; none of them lies in `regs`, which the running CPU may be using.
// - [`idle`]: the whole REC, only if `running` is clear (checked the same way first), so that
//   no CPU owns its registers. Every command but REC_ENTER's own exit handling goes this way.
// - [`owned`]: the whole REC for the CPU running it, between two runs (the realm is not running
//   and its `&mut RealmRegs` is dead), proved by the [`RunClaim`] it got from [`claim`].
// - [`run_claimed`]: the run itself, on the registers in place, for the CPU with the claim.
//
// `running` is written only by [`claim`] and [`release`], under the lock, so whatever a
// lock holder reads of it stays true until it unlocks.

/// The fields of a REC any holder of its lock may read, whether or not a CPU is running it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecStatus {
    /// PA of the owning realm's RD.
    pub rd: u64,
    /// Index within the realm.
    pub index: u64,
    /// May be entered.
    pub runnable: bool,
    /// A CPU is running it.
    pub running: bool,
}

/// The REC in the locked REC granule `g`, as a raw pointer.
fn rec_ptr(mem: &dyn GranuleMemory, g: &Locked<'_>) -> *mut Rec {
    assert!(g.state() == GranuleState::Rec, "not a REC granule");
    mem.ptr(g.pa()).cast::<Rec>()
}

/// Writes `value` into the granule behind `g`, which has just become a REC, and returns it.
pub fn create<'g>(mem: &dyn GranuleMemory, g: &'g mut Locked<'_>, value: Rec) -> &'g mut Rec {
    let p = rec_ptr(mem, g);
    // SAFETY: the guard gives this CPU the granule, which has just become REC (no CPU runs
    // it); a `Rec` fits in it, aligned (asserted above).
    unsafe {
        p.write(value);
        &mut *p
    }
}

/// What any holder of the REC's lock may read of it (see the rules above).
pub fn status(mem: &dyn GranuleMemory, g: &Locked<'_>) -> RecStatus {
    let p = rec_ptr(mem, g);
    // SAFETY: the lock is held and the granule holds a `Rec` written by `create`; each field is
    // read on its own through the raw pointer (no reference to the REC is formed), and none of
    // them overlaps `regs`, the only part a running CPU holds a reference to.
    unsafe {
        RecStatus {
            rd: core::ptr::addr_of!((*p).rd).read(),
            index: core::ptr::addr_of!((*p).index).read(),
            runnable: core::ptr::addr_of!((*p).runnable).read(),
            running: core::ptr::addr_of!((*p).running).read(),
        }
    }
}

/// The REC behind `g` if no CPU is running it; `None` if one is.
pub fn idle<'g>(mem: &dyn GranuleMemory, g: &'g mut Locked<'_>) -> Option<&'g mut Rec> {
    if status(mem, g).running {
        return None;
    }
    // SAFETY: the guard gives this CPU the granule for `'g`, and with `running` clear no CPU
    // owns the registers; `running` cannot be set meanwhile (only under the lock).
    Some(unsafe { &mut *rec_ptr(mem, g) })
}

/// A CPU's claim on a REC it is running (REC_ENTER): made by [`claim`], ended by [`release`].
/// Not `Clone`: one claim per run, and only the CPU that made it has it.
#[derive(Debug)]
pub struct RunClaim {
    pa: u64,
}

impl RunClaim {
    /// PA of the REC granule.
    pub const fn pa(&self) -> u64 {
        self.pa
    }
}

/// Marks the idle REC `rec` at `pa` running and gives this CPU the claim on it.
pub fn claim(rec: &mut Rec, pa: u64) -> RunClaim {
    rec.running = true;
    RunClaim { pa }
}

/// Ends the claim: the REC is no longer running.
pub fn release(rec: &mut Rec, claim: RunClaim) {
    debug_assert!(rec.running);
    let _ = claim;
    rec.running = false;
}

/// The running REC behind `g` for the CPU that holds the claim on it, between runs.
pub fn owned<'g>(mem: &dyn GranuleMemory, g: &'g mut Locked<'_>, claim: &RunClaim) -> &'g mut Rec {
    assert!(g.pa() == claim.pa, "claim for another REC");
    // SAFETY: the guard gives this CPU the granule for `'g`; the claim shows this CPU set
    // `running`, so no other CPU forms a reference to the REC, and the caller is between runs,
    // holding no reference to its registers.
    unsafe { &mut *rec_ptr(mem, g) }
}

/// Runs the REC the claim is on, on `cpu`, until it exits: the realm runs on its registers where
/// they live, in the REC granule. The claim is borrowed mutably for the run, so this CPU can
/// form no other reference to the REC meanwhile (`owned` needs the claim too).
pub fn run_claimed(
    cpu: &dyn crate::arch::RealmCpu,
    mem: &dyn GranuleMemory,
    claim: &mut RunClaim,
    s2: &crate::arch::Stage2,
    traps: crate::arch::EntryTraps,
    vmpidr: u64,
) -> crate::arch::RealmExit {
    let p = mem.ptr(claim.pa).cast::<Rec>();
    // SAFETY: 1. The claim's granule holds a `Rec` and stays a REC while `running` is set
    // (REC_DESTROY refuses a running REC), so the field's address is in bounds and valid.
    // 2. With `running` set by this CPU's claim, no other CPU forms a reference to the REC's
    // registers (they get its status only, or are refused it), and this CPU holds no guard's
    // reference to the REC: `owned` needs the claim, borrowed here. This is the only reference
    // to the registers until `run` returns.
    let regs = unsafe { &mut *core::ptr::addr_of_mut!((*p).regs) };
    cpu.run(regs, s2, traps, vmpidr)
}

impl Rec {
    /// Registers of a new REC: `pc`, `gprs` (x0..x7 from the host, the rest zero), EL1h with
    /// interrupts masked, EL1 system registers at reset values.
    pub const fn initial_regs(pc: u64, gprs8: [u64; 8]) -> RealmRegs {
        let mut gprs = [0u64; 31];
        let mut i = 0;
        while i < 8 {
            gprs[i] = gprs8[i];
            i += 1;
        }
        RealmRegs {
            gprs,
            pc,
            pstate: PSTATE_EL1H_MASKED,
            el1: El1Regs::RESET,
            pauth: PauthKeys::ZERO,
            gic: GicState {
                hcr: 0,
                lrs: [0; 16],
                vmcr: 0,
                misr: 0,
                ap0r: [0; 4],
                ap1r: [0; 4],
            },
            vdisr: 0,
            fp: FpRegs {
                v: [0; 32],
                fpsr: 0,
                fpcr: 0,
            },
        }
    }
}

/// The contents of auxiliary granule `index` of `rec` (the first holds its realm attestation
/// token while it is delivered); `None` if the REC has no such granule.
///
/// `&mut Rec` is the proof of ownership: a REC's aux granules are only ever reached through the
/// REC (REC_CREATE records them, REC_DESTROY wipes them with the REC locked), and whoever holds
/// the REC exclusively (its lock, or REC_ENTER running it on this CPU) holds them too, for as
/// long as the borrow of `rec` lasts.
pub fn aux_granule<'r>(
    mem: &dyn GranuleMemory,
    rec: &'r mut Rec,
    index: usize,
) -> Option<&'r mut [u8; GRANULE_SIZE]> {
    let pa = *rec
        .aux
        .get(index)
        .filter(|_| (index as u64) < rec.num_aux)?;
    // SAFETY: 1. `pa` is a REC_AUX granule of `rec` (the first `num_aux` entries), owned by this
    // CPU for `'r` through `&'r mut Rec`. 2. `ptr` addresses all of it (the trait's contract), and
    // a byte array needs no alignment.
    Some(unsafe { &mut *(mem.ptr(pa) as *mut [u8; GRANULE_SIZE]) })
}

/// What the REC_ENTER loop does after a realm exit has been handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Run the realm again.
    Resume,
    /// Return to the host with the exit record the handler filled in.
    Exit,
}

/// What a handler decided about the realm's instruction that trapped (an SMC, a system register
/// access, a WFx). Handlers return it; [`Action::apply`] is the one epilogue that carries it
/// out on the REC's registers. An exit record, when there is one, is the handler's to fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Completed: x0..x3 get these, the PC moves past the instruction, the realm runs on.
    Answer([u64; 4]),
    /// Completed with these results, and the host is told (a PSCI notification).
    AnswerAndExit([u64; 4]),
    /// Completed (any register it writes is written); the PC moves past it; the realm runs on.
    Done,
    /// Completed as far as the realm's PC goes; the host is told, and what it answers (if
    /// anything) is written on the next REC_ENTER.
    DoneAndExit,
    /// Not completed: the host is told and the instruction runs again, or never (the REC or
    /// the realm is off).
    Exit,
    /// The realm runs on with its registers as they are (an exception was injected).
    Resume,
}

impl Action {
    /// Carries the action out on `regs` (the one place a realm's PC moves past a trapped
    /// instruction is [`RealmRegs::complete`], called from here and from REC_ENTER's
    /// completions) and says whether the realm runs on or the host is told.
    pub fn apply(self, regs: &mut RealmRegs) -> Outcome {
        match self {
            Self::Answer(x) => {
                regs.complete(crate::arch::Completion::Results(x));
                Outcome::Resume
            }
            Self::AnswerAndExit(x) => {
                regs.complete(crate::arch::Completion::Results(x));
                Outcome::Exit
            }
            Self::Done => {
                regs.complete(crate::arch::Completion::Done);
                Outcome::Resume
            }
            Self::DoneAndExit => {
                regs.complete(crate::arch::Completion::Done);
                Outcome::Exit
            }
            Self::Exit => Outcome::Exit,
            Self::Resume => Outcome::Resume,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::marker::PhantomData;

    /// Whether `T` is a [`crate::memory::GranuleObject`] (an inherent method, found only when the
    /// bound holds, wins over the trait's).
    struct Probe<T>(PhantomData<T>);
    trait NotGranuleObject {
        fn is_granule_object(&self) -> bool {
            false
        }
    }
    impl<T> NotGranuleObject for Probe<T> {}
    impl<T: crate::memory::GranuleObject> Probe<T> {
        fn is_granule_object(&self) -> bool {
            true
        }
    }

    /// The one epilogue: what each action does to x0..x3 and the PC, and whether the host is told.
    #[test]
    fn each_action_moves_the_pc_and_sets_results_as_it_says() {
        let start = || Rec::initial_regs(0x1000, [9; 8]);
        let cases = [
            (
                Action::Answer([1, 2, 3, 4]),
                Some([1, 2, 3, 4]),
                0x1004,
                Outcome::Resume,
            ),
            (
                Action::AnswerAndExit([5, 6, 7, 8]),
                Some([5, 6, 7, 8]),
                0x1004,
                Outcome::Exit,
            ),
            (Action::Done, None, 0x1004, Outcome::Resume),
            (Action::DoneAndExit, None, 0x1004, Outcome::Exit),
            (Action::Exit, None, 0x1000, Outcome::Exit),
            (Action::Resume, None, 0x1000, Outcome::Resume),
        ];
        for (action, results, pc, outcome) in cases {
            let mut regs = start();
            assert_eq!(action.apply(&mut regs), outcome, "{action:?}");
            assert_eq!(regs.pc, pc, "{action:?}");
            assert_eq!(regs.gprs[..4], results.unwrap_or([9; 4]), "{action:?}");
            assert_eq!(regs.gprs[4..8], [9; 4], "{action:?}: x4.. untouched");
        }
    }

    #[test]
    fn a_rec_is_reached_only_through_this_module() {
        // `memory::get::<Rec>` would form a `&mut Rec` without looking at `running`.
        assert!(!Probe::<Rec>(PhantomData).is_granule_object());
        assert!(Probe::<crate::realm::Rd>(PhantomData).is_granule_object());
    }
}
