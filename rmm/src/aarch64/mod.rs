//! The aarch64 seam of the RMM at Realm EL2, one file per concept: [`entry`] (assembly: boot
//! entry, vectors, the world switch's register moves, the NS copy), [`el3`] (the SMC conduit,
//! the shared buffer, fatal exceptions), [`id_regs`], [`carve_out`] (the per-CPU stacks, tables
//! and granule tracking carved at cold boot, and how deep the stacks went), [`mmu`] (the RMM's
//! stage-1 tables, physical memory and the NS view), [`el1`] (a realm's EL1 registers), [`fp`] (the lazy FP/SIMD and SVE
//! switch), [`gic`] (the virtual CPU interface), [`timers`], [`pauth`], and [`world_switch`]
//! (`Cpu`, running a realm, and the Realm world's EL2 controls). System registers are read and
//! written through typed accessors, `aarch64-cpu`'s and, for those it lacks, [`sysregs`]'s;
//! their values are built from named fields. What is trapped, and why, is not decided here:
//! `crate::arch::trap_policy` holds it, portably. The types and traits the rest of the RMM sees
//! (`RealmCpu`, `RealmRegs`, ...) are in `crate::arch`; this module implements them, and nothing
//! in the library depends on it (only the image, `main.rs`).

use core::arch::{asm, global_asm};

use aarch64_cpu::registers::{Readable, ID_AA64DFR0_EL1, ID_AA64MMFR0_EL1, ID_AA64MMFR1_EL1};
use hostcall_abi::el3::{BootStatus, RMM_BOOT_COMPLETE, SHARED_BUFFER_SIZE};

use crate::arch::trap_policy::{self, CPTR_REALM_TRAPS, CPTR_TFP, CPTR_TZ};
use crate::features::IdRegisters;
use crate::limits::{MAX_CPUS, STACK_GUARD, STACK_SIZE};

pub mod carve_out;
pub mod el1;
pub mod el3;
pub mod entry;
pub mod fp;
pub mod gic;
pub mod id_regs;
pub mod mmu;
pub mod pauth;
pub mod sysregs;
pub mod timers;
mod tlbi;
pub mod world_switch;

pub use carve_out::*;
use el1::*;
pub use el3::*;
use fp::*;
use gic::*;
pub use id_regs::*;
pub use mmu::*;
use pauth::*;
use timers::*;
pub use world_switch::*;
