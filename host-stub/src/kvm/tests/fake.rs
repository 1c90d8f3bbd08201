//! A scripted RMM for the paths the real one cannot drive yet, or cannot be made to misbehave on:
//! each REC_ENTER answers with the next scripted exit (or error), PSCI_COMPLETE and
//! RTT_SET_RIPAS answer from their own scripts, and every call and every `rec_enter` is recorded.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use hostcall_abi::rec_run::{RmiRecEnter, RmiRecExit, RMI_REC_ENTER_SIZE, RMI_REC_EXIT_OFFSET};
use hostcall_abi::rmi::{RmiCommand, RmiReturn};
use hostcall_abi::wire::Wire;

use crate::{Conduit, HostMemory};

/// One answer to REC_ENTER.
pub enum Answer {
    /// Success with this exit record.
    Exit(Box<RmiRecExit>),
    /// This status.
    Fail(RmiReturn),
}

/// The RMM's state.
#[derive(Default)]
pub struct State {
    pages: HashMap<u64, Box<[u8; 4096]>>,
    /// REC_ENTER answers, in order (none left: an IRQ exit).
    pub rec_enter: VecDeque<Answer>,
    /// RMI_PSCI_COMPLETE answers (none left: success).
    pub psci_complete: VecDeque<RmiReturn>,
    /// RMI_RTT_SET_RIPAS answers: status and `top` (none left: success up to the asked top).
    pub set_ripas: VecDeque<(RmiReturn, u64)>,
    /// Every call: command and x1..x4.
    pub calls: Vec<(RmiCommand, [u64; 4])>,
    /// The `rec_enter` of every REC_ENTER.
    pub entries: Vec<RmiRecEnter>,
}

/// The shared state behind a fake conduit and memory.
pub struct Fake(pub RefCell<State>);

impl Fake {
    /// An RMM with nothing scripted.
    pub fn new() -> Self {
        Self(RefCell::new(State::default()))
    }

    /// Queues a REC exit.
    pub fn exit(&self, exit: RmiRecExit) {
        self.0
            .borrow_mut()
            .rec_enter
            .push_back(Answer::Exit(Box::new(exit)));
    }

    /// Queues a REC_ENTER failure.
    pub fn fail(&self, ret: RmiReturn) {
        self.0.borrow_mut().rec_enter.push_back(Answer::Fail(ret));
    }

    /// The calls of one command, in order.
    pub fn calls_of(&self, cmd: RmiCommand) -> Vec<[u64; 4]> {
        self.0
            .borrow()
            .calls
            .iter()
            .filter(|(c, _)| *c == cmd)
            .map(|(_, a)| *a)
            .collect()
    }

    /// The `rec_enter` of entry `n`.
    pub fn entry(&self, n: usize) -> RmiRecEnter {
        self.0.borrow().entries[n]
    }

    /// Entries so far.
    pub fn entries(&self) -> usize {
        self.0.borrow().entries.len()
    }
}

impl State {
    fn page(&mut self, pa: u64) -> &mut [u8; 4096] {
        self.pages
            .entry(pa & !0xFFF)
            .or_insert_with(|| Box::new([0; 4096]))
    }
}

/// The fake's conduit.
pub struct FakeConduit<'a>(pub &'a Fake);
/// The fake's memory.
pub struct FakeMem<'a>(pub &'a Fake);

impl Conduit for FakeConduit<'_> {
    fn smc(&mut self, regs: [u64; 8]) -> [u64; 8] {
        let mut s = self.0 .0.borrow_mut();
        let Some(cmd) = RmiCommand::from_fid(regs[0]) else {
            return [u64::MAX, 0, 0, 0, 0, 0, 0, 0];
        };
        s.calls.push((cmd, [regs[1], regs[2], regs[3], regs[4]]));
        let mut out = [0u64; 8];
        match cmd {
            RmiCommand::REC_ENTER => {
                let run = regs[2];
                let enter =
                    RmiRecEnter::decode(&s.page(run)[..RMI_REC_ENTER_SIZE]).expect("rec_enter");
                s.entries.push(enter);
                let answer = s.rec_enter.pop_front().unwrap_or_else(|| {
                    Answer::Exit(Box::new(RmiRecExit::with_reason(
                        hostcall_abi::rec_run::RmiExitReason::Irq,
                    )))
                });
                match answer {
                    Answer::Exit(exit) => {
                        exit.encode(&mut s.page(run)[RMI_REC_EXIT_OFFSET..])
                            .expect("rec_exit");
                    }
                    Answer::Fail(ret) => out[0] = ret.raw(),
                }
            }
            RmiCommand::PSCI_COMPLETE => {
                out[0] = s
                    .psci_complete
                    .pop_front()
                    .unwrap_or(RmiReturn::SUCCESS)
                    .raw();
            }
            RmiCommand::RTT_SET_RIPAS => {
                let (ret, top) = s
                    .set_ripas
                    .pop_front()
                    .unwrap_or((RmiReturn::SUCCESS, regs[4]));
                out[0] = ret.raw();
                out[1] = top;
            }
            _ => out[0] = u64::MAX,
        }
        out
    }
}

impl HostMemory for FakeMem<'_> {
    fn fill(&mut self, pa: u64, byte: u8) {
        *self.0 .0.borrow_mut().page(pa) = [byte; 4096];
    }

    fn all_equal(&self, pa: u64, byte: u8) -> bool {
        self.0 .0.borrow_mut().page(pa).iter().all(|&b| b == byte)
    }

    fn write(&mut self, pa: u64, data: &[u8]) {
        let off = (pa & 0xFFF) as usize;
        self.0 .0.borrow_mut().page(pa)[off..off + data.len()].copy_from_slice(data);
    }

    fn read(&self, pa: u64, buf: &mut [u8]) {
        let off = (pa & 0xFFF) as usize;
        buf.copy_from_slice(&self.0 .0.borrow_mut().page(pa)[off..off + buf.len()]);
    }
}
