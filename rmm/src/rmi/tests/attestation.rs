//! RSI_ATTESTATION_TOKEN_INIT / _CONTINUE driven by a scripted realm: every failure condition of
//! B5.3.1, chunked delivery into realm memory, the IRQ exit mid-token, and the delivered token
//! decoded and its signature checked independently of the RMM's encoder.

use ciborium::value::Value;
use hostcall_abi::rec_run::RmiExitReason;
use sha2::{Digest, Sha256};

use super::realm_fixture::*;
use crate::arch::RealmRegs;
use crate::attestation::test_support::{claim, decode, int, open_realm_token};
use crate::attestation::SIGNING_STEPS;
use crate::sim::{sample_platform_token, SMC_EXIT};

const INIT: u64 = 0xC400_0194;
const CONTINUE: u64 = 0xC400_0195;
const EXTEND: u64 = 0xC400_0193;
const RSI_SUCCESS: u64 = 0;
const RSI_ERROR_INPUT: u64 = 1;
const RSI_ERROR_STATE: u64 = 2;
const RSI_INCOMPLETE: u64 = 3;
const RSI_ERROR_UNKNOWN: u64 = 4;

/// The granule the realm collects its token into (DATA, RIPAS RAM).
const BUF: u64 = HC_IPA;
/// An IPA with RIPAS RAM but no DATA yet (the realm may use it; the host has not mapped it).
const UNMAPPED: u64 = 0x4000;
/// An IPA with tables but unassigned, RIPAS EMPTY.
const EMPTY_IPA: u64 = 0x3000;

/// The realm makes one SMC with `x`; returns x0..x3 as it sees them afterwards and its PC
/// advance (4 when the call completed).
fn call(r: &Running, x: &[u64]) -> ([u64; 4], u64) {
    let x = x.to_vec();
    let pc = r.fx.with_rec(r.rec, |rec| rec.regs.pc);
    r.script(move |regs: &mut RealmRegs| {
        regs.gprs[..x.len()].copy_from_slice(&x);
        SMC_EXIT
    });
    assert_eq!(r.enter()[0], SUCCESS);
    r.fx.with_rec(r.rec, |rec| {
        let g = rec.regs.gprs;
        ([g[0], g[1], g[2], g[3]], rec.regs.pc.wrapping_sub(pc))
    })
}

fn challenge(seed: u64) -> Vec<u64> {
    (0..8)
        .map(|i| seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i)
        .collect()
}

fn init(r: &Running, seed: u64) -> u64 {
    let mut x = vec![INIT];
    x.extend(challenge(seed));
    let ([x0, bound, ..], adv) = call(r, &x);
    assert_eq!((x0, adv), (RSI_SUCCESS, 4));
    bound
}

fn cont(r: &Running, addr: u64, offset: u64, size: u64) -> ([u64; 4], u64) {
    call(r, &[CONTINUE, addr, offset, size])
}

/// Collects the whole token in `chunk`-byte calls at `offset` within [`BUF`].
fn collect(r: &Running, offset: u64, chunk: u64) -> Vec<u8> {
    let mut token = Vec::new();
    for _ in 0..10_000 {
        let ([x0, len, ..], adv) = cont(r, BUF, offset, chunk);
        assert_eq!(adv, 4);
        assert!(len <= chunk);
        let page = r.fx.sim.mem.read(r.hc_data);
        token.extend_from_slice(&page[offset as usize..(offset + len) as usize]);
        match x0 {
            RSI_INCOMPLETE => continue,
            RSI_SUCCESS => return token,
            other => panic!("CONTINUE answered {other}"),
        }
    }
    panic!("the token never completed")
}

/// Splits a collection into (platform token, realm claims), the realm token verified.
fn open(token: &[u8]) -> (Vec<u8>, Vec<(Value, Value)>) {
    let Value::Tag(399, map) = decode(token) else {
        panic!("not a CCA token collection")
    };
    let Value::Map(entries) = *map else {
        panic!("not a map")
    };
    let [(k1, Value::Bytes(platform)), (k2, Value::Bytes(realm))] = entries.as_slice() else {
        panic!("not two byte strings: {entries:?}")
    };
    assert_eq!((k1, k2), (&int(44234), &int(44241)));
    (platform.clone(), open_realm_token(realm))
}

fn le_bytes(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[test]
fn a_token_collected_in_small_chunks_verifies_and_carries_the_realms_state() {
    let r = Running::new();
    // Extend REM[2] first: the token must show the value after the extension.
    let value = [0x1111_2222_3333_4444u64; 8];
    let mut x = vec![EXTEND, 2, 48];
    x.extend(value);
    assert_eq!(call(&r, &x).0[0], RSI_SUCCESS);
    let bound = init(&r, 7);
    let token = collect(&r, 100, 97);
    assert!(
        token.len() as u64 <= bound,
        "{} > bound {bound}",
        token.len()
    );
    let (platform, claims) = open(&token);
    assert_eq!(platform, sample_platform_token());
    assert_eq!(claim(&claims, 10), Value::Bytes(le_bytes(&challenge(7))));
    // RIM and REMs as the RMM's own RSI_MEASUREMENT_READ reports them (SHA-256: 32 bytes).
    let (rd_rim, rd_rems) = measurements(&r);
    assert_eq!(claim(&claims, 44238), Value::Bytes(rd_rim[..32].to_vec()));
    let mut rem2 = vec![0u8; 32];
    rem2.extend_from_slice(&le_bytes(&value)[..48]);
    let want_rem2 = Sha256::digest(&rem2).to_vec();
    assert_eq!(
        claim(&claims, 44239),
        Value::Array(vec![
            Value::Bytes(vec![0; 32]),
            Value::Bytes(want_rem2),
            Value::Bytes(vec![0; 32]),
            Value::Bytes(vec![0; 32]),
        ])
    );
    assert_eq!(rd_rems[1][..32], Sha256::digest(&rem2)[..]);
    // Done: the operation is over.
    assert_eq!(cont(&r, BUF, 0, 64).0[0], RSI_ERROR_STATE);
}

/// The realm's RIM and REMs, read through RSI_MEASUREMENT_READ.
fn measurements(r: &Running) -> ([u8; 64], [[u8; 64]; 4]) {
    let read = |i: u64| {
        let (x, _) = call(r, &[0xC400_0192, i]);
        assert_eq!(x[0], RSI_SUCCESS);
        r.fx.with_rec(r.rec, |rec| {
            let mut m = [0u8; 64];
            m.copy_from_slice(&le_bytes(&rec.regs.gprs[1..9]));
            m
        })
    };
    (read(0), [read(1), read(2), read(3), read(4)])
}

#[test]
fn whole_granule_chunks_give_the_same_token() {
    let r = Running::new();
    init(&r, 3);
    let a = collect(&r, 0, 4096);
    init(&r, 3);
    let b = collect(&r, 4000, 96);
    assert_eq!(a, b, "deterministic signature, same claims");
}

#[test]
fn continue_without_init_is_error_state() {
    let r = Running::new();
    assert_eq!(cont(&r, BUF, 0, 64), ([RSI_ERROR_STATE, 0, 0, 0], 4));
}

#[test]
fn continue_input_checks_fail_and_leave_the_operation_going() {
    let r = Running::new();
    init(&r, 1);
    let cases = [
        ("addr_align", BUF + 8, 0, 64),
        ("addr_bound", UNPROTECTED, 0, 64),
        ("addr_bound (beyond the IPA space)", IPA_LIMIT, 0, 64),
        ("offset_bound", BUF, 4096, 0),
        ("size_overflow", BUF, 8, u64::MAX),
        ("size_bound", BUF, 4000, 97),
    ];
    for (name, addr, offset, size) in cases {
        assert_eq!(
            cont(&r, addr, offset, size),
            ([RSI_ERROR_INPUT, 0, 0, 0], 4),
            "{name}"
        );
    }
    // Nothing was delivered by the failed calls: the token still starts at its first byte.
    let token = collect(&r, 0, 4096);
    assert_eq!(&token[..3], &[0xd9, 0x01, 0x8f], "tag 399 first");
    open(&token);
}

#[test]
fn an_interrupt_pending_before_signing_exits_irq_and_the_realm_sees_incomplete() {
    let r = Running::new();
    init(&r, 5);
    let before = r.fx.sim.mem.read(r.hc_data);
    r.fx.sim.cpu.interrupt_checks(&[true]);
    let (x, adv) = cont(&r, BUF, 0, 4096);
    assert_eq!((x, adv), ([RSI_INCOMPLETE, 0, 0, 0], 4));
    let e = r.exit();
    assert_eq!(e.exit_reason, RmiExitReason::Irq as u8);
    assert_eq!((e.esr, e.far, e.hpfar, e.imm), (0, 0, 0, 0));
    assert_eq!(e.gprs, [0; 31], "nothing of the realm's registers");
    assert_eq!(r.fx.sim.mem.read(r.hc_data), before, "nothing written");
    let token = collect(&r, 0, 4096);
    open(&token);
}

/// Interrupt checks of one CONTINUE that signs: before signing, before each step and after the
/// last, and after the signature.
const SIGNING_CHECKS: usize = 1 + (SIGNING_STEPS + 1) + 1;

#[test]
fn an_interrupt_that_arrives_after_signing_exits_before_any_byte_is_delivered() {
    let r = Running::new();
    init(&r, 6);
    let mut answers = vec![false; SIGNING_CHECKS - 1];
    answers.push(true);
    r.fx.sim.cpu.interrupt_checks(&answers);
    assert_eq!(cont(&r, BUF, 0, 4096), ([RSI_INCOMPLETE, 0, 0, 0], 4));
    assert_eq!(r.exit().exit_reason, RmiExitReason::Irq as u8);
    r.fx.with_rec(r.rec, |rec| {
        assert_ne!(rec.attest.realm_token_len, 0, "signed");
        assert!(
            rec.attest.signing.is_none(),
            "the signer (and its nonce) gone"
        );
    });
    let token = collect(&r, 0, 4096);
    let (_, claims) = open(&token);
    assert_eq!(claim(&claims, 10), Value::Bytes(le_bytes(&challenge(6))));
}

#[test]
fn interrupts_while_signing_stop_it_between_windows_and_it_resumes_where_it_stopped() {
    let r = Running::new();
    init(&r, 11);
    let whole = collect(&r, 0, 4096);
    init(&r, 11);
    // Interrupted after the 3rd step (the checks before signing and before steps 1..3 say no),
    // then after 40 more, then left to finish.
    let mut answers = vec![false; 4];
    answers.push(true);
    answers.extend(vec![false; 40]);
    answers.push(true);
    r.fx.sim.cpu.interrupt_checks(&answers);
    let before = r.fx.sim.mem.read(r.hc_data);
    for steps in [3, 43] {
        assert_eq!(cont(&r, BUF, 0, 4096), ([RSI_INCOMPLETE, 0, 0, 0], 4));
        assert_eq!(r.exit().exit_reason, RmiExitReason::Irq as u8);
        assert_eq!(r.fx.sim.mem.read(r.hc_data), before, "nothing written");
        r.fx.with_rec(r.rec, |rec| {
            assert_eq!(rec.attest.realm_token_len, 0, "not signed yet");
            let (_, signer) = rec.attest.signing.expect("signing in progress");
            assert_eq!(signer.steps_done(), steps);
        });
    }
    let resumed = collect(&r, 0, 4096);
    assert_eq!(
        resumed, whole,
        "the same token as one made without interruption"
    );
    open(&resumed);
}

#[test]
fn init_while_signing_drops_the_signature_in_progress() {
    let r = Running::new();
    init(&r, 12);
    r.fx.sim.cpu.interrupt_checks(&[false, false, true]);
    assert_eq!(cont(&r, BUF, 0, 4096).0[0], RSI_INCOMPLETE);
    assert!(r.fx.with_rec(r.rec, |rec| rec.attest.signing.is_some()));
    init(&r, 13);
    assert!(r.fx.with_rec(r.rec, |rec| rec.attest.signing.is_none()));
    let token = collect(&r, 0, 4096);
    let (_, claims) = open(&token);
    assert_eq!(claim(&claims, 10), Value::Bytes(le_bytes(&challenge(13))));
}

#[test]
fn init_during_an_operation_starts_over_with_the_new_challenge() {
    let r = Running::new();
    init(&r, 8);
    assert_eq!(cont(&r, BUF, 0, 500).0, [RSI_INCOMPLETE, 500, 0, 0]);
    init(&r, 9);
    let token = collect(&r, 0, 4096);
    let (_, claims) = open(&token);
    assert_eq!(claim(&claims, 10), Value::Bytes(le_bytes(&challenge(9))));
}

#[test]
fn an_unmapped_buffer_is_a_stage2_abort_exit_and_the_call_is_repeated() {
    let r = Running::prepared(|fx| {
        fx.ok(C::RTT_INIT_RIPAS, &[fx.rd, UNMAPPED, UNMAPPED + G]);
    });
    init(&r, 2);
    let (x, adv) = cont(&r, UNMAPPED, 0, 64);
    assert_eq!(adv, 0, "PC not advanced: the realm repeats the call");
    assert_eq!(x[0], CONTINUE);
    let e = r.exit();
    assert_eq!(e.exit_reason, RmiExitReason::Sync as u8);
    assert_eq!(e.esr >> 26, 0x24);
    assert_eq!(e.hpfar, (UNMAPPED >> 12) << 4);
    // Still in progress, nothing delivered.
    let token = collect(&r, 0, 4096);
    open(&token);
}

#[test]
fn an_empty_buffer_is_error_input() {
    let r = Running::new();
    init(&r, 2);
    assert_eq!(cont(&r, EMPTY_IPA, 0, 64), ([RSI_ERROR_INPUT, 0, 0, 0], 4));
}

#[test]
fn without_an_attestation_key_the_token_fails_with_error_unknown() {
    let mut r = Running::new();
    r.fx.sim.attest = None;
    init(&r, 4);
    assert_eq!(cont(&r, BUF, 0, 64), ([RSI_ERROR_UNKNOWN, 0, 0, 0], 4));
    assert_eq!(
        cont(&r, BUF, 0, 64),
        ([RSI_ERROR_STATE, 0, 0, 0], 4),
        "operation ended"
    );
}

#[test]
fn a_zero_size_continue_delivers_nothing_and_stays_incomplete() {
    let r = Running::new();
    init(&r, 10);
    assert_eq!(cont(&r, BUF, 0, 0).0, [RSI_INCOMPLETE, 0, 0, 0]);
    let token = collect(&r, 0, 4096);
    open(&token);
}

/// The nonce of the signature the REC is making (an interrupted CONTINUE left it in progress).
fn nonce_in_progress(r: &Running) -> [u8; 48] {
    let nonce = r.fx.with_rec(r.rec, |rec| {
        let (_, signer) = rec.attest.signing.as_ref().expect("signing in progress");
        signer.nonce()
    });
    assert_ne!(nonce, [0; 48]);
    nonce
}

/// Starts a token with `seed` and interrupts its signature after two steps.
fn interrupted_mid_signature(r: &Running, seed: u64) -> [u8; 48] {
    init(r, seed);
    r.fx.sim.cpu.interrupt_checks(&[false, false, false, true]);
    assert_eq!(cont(r, BUF, 0, 4096), ([RSI_INCOMPLETE, 0, 0, 0], 4));
    nonce_in_progress(r)
}

/// Asserts that no granule of `pas` holds `secret`: the nonce with the signature gives the
/// realm attestation key's private scalar, so it must not outlive the signature.
fn assert_no_trace(r: &Running, pas: &[u64], secret: &[u8; 48]) {
    for &pa in pas {
        let page = r.fx.sim.mem.read(pa);
        assert!(
            !page.windows(secret.len()).any(|w| w == secret),
            "the nonce is still in the granule at {pa:#x}"
        );
    }
}

/// The REC granule and its auxiliary granules.
fn rec_granules(r: &Running) -> Vec<u64> {
    let mut pas = vec![r.rec];
    r.fx.with_rec(r.rec, |rec| {
        pas.extend_from_slice(&rec.aux[..rec.num_aux as usize])
    });
    pas
}

/// Whether resetting the signer to `None` overwrites its bytes is the compiler's choice: a debug
/// build happens to, an optimised one (the image's, `cargo test --release`) does not, and the
/// nonce stayed in the REC granule until the token was delivered.
#[test]
fn a_signed_token_leaves_no_trace_of_its_nonce_while_it_is_delivered_and_after() {
    let r = Running::new();
    let nonce = interrupted_mid_signature(&r, 21);
    let pas = rec_granules(&r);
    // The CONTINUE that finishes the signature delivers the first 64 bytes.
    assert_eq!(cont(&r, BUF, 0, 64).0, [RSI_INCOMPLETE, 64, 0, 0]);
    assert_no_trace(&r, &pas, &nonce);
    collect(&r, 64, 4000);
    assert_no_trace(&r, &pas, &nonce);
}

#[test]
fn init_while_signing_leaves_no_trace_of_the_abandoned_nonce() {
    let r = Running::new();
    let nonce = interrupted_mid_signature(&r, 22);
    let pas = rec_granules(&r);
    init(&r, 23);
    assert_no_trace(&r, &pas, &nonce);
}

#[test]
fn destroying_a_rec_mid_signature_leaves_no_trace_of_its_nonce() {
    let r = Running::new();
    let nonce = interrupted_mid_signature(&r, 24);
    let pas = rec_granules(&r);
    r.fx.ok(C::REC_DESTROY, &[r.rec]);
    assert_no_trace(&r, &pas, &nonce);
}
