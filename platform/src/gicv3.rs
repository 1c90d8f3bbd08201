//! The GICv3 pieces a host needs to take one of its own private interrupts (a PPI) by polling:
//! its redistributor's SGI/PPI frame, and the CPU interface's group 1 registers.
//!
//! The host stub runs with interrupts masked in PSTATE; it enables a PPI here, and after a realm
//! exits because that interrupt fired, acknowledges and ends it through the CPU interface. The
//! distributor and the redistributors' power state are TF-A's (it wakes each CPU's
//! redistributor when it powers the CPU on).

use core::arch::asm;

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

register_structs! {
    /// The start of a redistributor's RD_base frame.
    RdFrame {
        (0x000 => ctlr: ReadWrite<u32>),
        (0x004 => iidr: ReadOnly<u32>),
        (0x008 => typer: ReadOnly<u64>),
        (0x010 => @END),
    }
}

register_structs! {
    /// The SGI_base frame (64 KiB after RD_base): SGI and PPI configuration.
    SgiFrame {
        (0x000 => _reserved0),
        (0x080 => igroupr0: ReadWrite<u32>),
        (0x084 => _reserved1),
        (0x100 => isenabler0: WriteOnly<u32>),
        (0x104 => _reserved2),
        (0x180 => icenabler0: WriteOnly<u32>),
        (0x184 => _reserved3),
        (0x280 => icpendr0: WriteOnly<u32>),
        (0x284 => _reserved4),
        (0x400 => ipriorityr: [ReadWrite<u8>; 32]),
        (0x420 => _reserved5),
        (0xD00 => igrpmodr0: ReadWrite<u32>),
        (0xD04 => @END),
    }
}

register_structs! {
    /// The start of the distributor, as Non-secure software sees it.
    DistFrame {
        (0x000 => ctlr: ReadWrite<u32>),
        (0x004 => @END),
    }
}

/// GICD_CTLR (Non-secure view): EnableGrp1 and EnableGrp1A (Non-secure group 1).
const GICD_CTLR_ENABLE_G1NS: u32 = 0b11;
/// GICD_CTLR.RWP: a register write is still taking effect.
const GICD_CTLR_RWP: u32 = 1 << 31;

/// Enables Non-secure group 1 interrupts at the distributor (TF-A enables only the secure
/// groups; the normal world enables its own, as Linux's GIC driver does).
///
/// # Safety
/// 1. `gicd_base` must be the PA of the GICv3 distributor, accessible (mapped or with the MMU
///    off).
/// 2. No other CPU may write GICD_CTLR concurrently.
pub unsafe fn distributor_enable_group1ns(gicd_base: u64) {
    let d = gicd_base as *const DistFrame;
    // SAFETY: by the caller's contract (1) the frame is a live register block.
    let ctlr = unsafe { &(*d).ctlr };
    ctlr.set(ctlr.get() | GICD_CTLR_ENABLE_G1NS);
    // The write takes effect when RWP clears; bounded so a broken GIC cannot hang us.
    for _ in 0..1_000_000 {
        if ctlr.get() & GICD_CTLR_RWP == 0 {
            break;
        }
    }
}

/// Bytes between consecutive redistributors (two 64 KiB frames each in GICv3).
const RD_STRIDE: u64 = 0x2_0000;
/// Offset of the SGI_base frame from RD_base.
const SGI_FRAME: u64 = 0x1_0000;
/// GICR_TYPER.Last: the last redistributor of the block.
const TYPER_LAST: u64 = 1 << 4;
/// Most redistributors searched (a bound on a corrupt block).
const MAX_REDISTRIBUTORS: u64 = 512;

/// One CPU's redistributor.
pub struct Redistributor {
    sgi: *const SgiFrame,
}

impl Redistributor {
    /// Finds the redistributor of the CPU whose MPIDR affinity is `mpidr` in the block at
    /// `gicr_base`, by GICR_TYPER.Affinity_Value.
    ///
    /// # Safety
    /// 1. `gicr_base` must be the PA of the GICv3 redistributor block, accessible (mapped or with
    ///    the MMU off) for the lifetime of the returned driver.
    /// 2. Nothing else may configure the same CPU's PPIs concurrently.
    pub unsafe fn find(gicr_base: u64, mpidr: u64) -> Option<Self> {
        let want = (mpidr & 0xFF_FFFF) | ((mpidr >> 32) & 0xFF) << 24;
        for i in 0..MAX_REDISTRIBUTORS {
            let rd = (gicr_base + i * RD_STRIDE) as *const RdFrame;
            // SAFETY: by the caller's contract (1) the frame is a live register block while
            // the walk stays inside the block, which it does: it stops at GICR_TYPER.Last.
            let typer = unsafe { (*rd).typer.get() };
            if typer >> 32 == want {
                return Some(Self {
                    sgi: (gicr_base + i * RD_STRIDE + SGI_FRAME) as *const SgiFrame,
                });
            }
            if typer & TYPER_LAST != 0 {
                return None;
            }
        }
        None
    }

    fn sgi(&self) -> &SgiFrame {
        // SAFETY: `find`'s contract keeps the frame live for the driver's lifetime.
        unsafe { &*self.sgi }
    }

    /// Makes PPI `intid` (16..32) a Non-secure group 1 interrupt of priority `priority`, clears
    /// any stale pending state and enables it.
    pub fn enable_ppi(&self, intid: u32, priority: u8) {
        if let Some(bit) = ppi_bit(intid) {
            self.enable_private(intid, bit, priority);
        }
    }

    /// [`Self::enable_ppi`] for SGI `intid` (0..16), the interrupt another CPU sends this one.
    pub fn enable_sgi(&self, intid: u32, priority: u8) {
        if intid < 16 {
            self.enable_private(intid, 1 << intid, priority);
        }
    }

    fn enable_private(&self, intid: u32, bit: u32, priority: u8) {
        let s = self.sgi();
        s.icenabler0.set(bit);
        s.igroupr0.set(s.igroupr0.get() | bit);
        s.igrpmodr0.set(s.igrpmodr0.get() & !bit);
        s.ipriorityr[intid as usize].set(priority);
        s.icpendr0.set(bit);
        s.isenabler0.set(bit);
    }

    /// Disables PPI `intid`.
    pub fn disable_ppi(&self, intid: u32) {
        if let Some(bit) = ppi_bit(intid) {
            self.sgi().icenabler0.set(bit);
        }
    }
}

fn ppi_bit(intid: u32) -> Option<u32> {
    (16..32).contains(&intid).then(|| 1 << intid)
}

/// INTIDs 1020..=1023 are special (1023: nothing pending).
const SPECIAL_INTIDS: u32 = 1020;

/// Enables the system-register CPU interface for group 1 at this EL (NS-EL2): SRE, priority mask
/// open, group 1 on. Interrupts stay masked in PSTATE: they are only ever polled.
pub fn cpu_interface_enable() {
    // SAFETY: writes the GICv3 CPU interface registers of this CPU at EL2 (ICC_SRE_EL2 with SRE
    // and Enable; PMR; IGRPEN1); no memory is touched.
    unsafe {
        asm!(
            "mrs {t}, S3_4_C12_C9_5",
            "orr {t}, {t}, #0x1",
            "orr {t}, {t}, #0x8",
            "msr S3_4_C12_C9_5, {t}",
            "isb",
            "msr S3_0_C4_C6_0, {pmr}",
            "msr S3_0_C12_C12_7, {one}",
            "isb",
            t = out(reg) _,
            pmr = in(reg) 0xF0u64,
            one = in(reg) 1u64,
            options(nomem, nostack),
        );
    }
}

/// Acknowledges the highest-priority pending group 1 interrupt (ICC_IAR1_EL1): its INTID, or
/// `None` if nothing is pending.
pub fn acknowledge() -> Option<u32> {
    let iar: u64;
    // SAFETY: reading ICC_IAR1_EL1 acknowledges an interrupt at the CPU interface; no memory.
    unsafe { asm!("mrs {}, S3_0_C12_C12_0", out(reg) iar, options(nomem, nostack)) };
    let intid = (iar & 0xFF_FFFF) as u32;
    (intid < SPECIAL_INTIDS).then_some(intid)
}

/// Ends interrupt `intid` (ICC_EOIR1_EL1: priority drop and deactivation, EOImode 0).
pub fn end_of_interrupt(intid: u32) {
    end_of_interrupt_inner(intid)
}

/// Sends Non-secure group 1 SGI `intid` (0..16) to the CPU whose `MPIDR_EL1` affinity is
/// `mpidr` (ICC_SGI1R_EL1: Aff3 \[55:48\], Aff2 \[39:32\], Aff1 \[23:16\], INTID \[27:24\], RS
/// \[47:44\] and a TargetList bit for Aff0). Does nothing for an INTID of 16 or more.
pub fn send_sgi(intid: u32, mpidr: u64) {
    if intid >= 16 {
        return;
    }
    let aff0 = mpidr & 0xFF;
    let value = ((mpidr >> 32) & 0xFF) << 48
        | ((mpidr >> 16) & 0xFF) << 32
        | ((mpidr >> 8) & 0xFF) << 16
        | (aff0 >> 4) << 44
        | u64::from(intid) << 24
        | 1 << (aff0 & 0xF);
    // SAFETY: writing ICC_SGI1R_EL1 generates an SGI; no memory.
    unsafe { asm!("msr S3_0_C12_C11_5, {}", "isb", in(reg) value, options(nomem, nostack)) };
}

fn end_of_interrupt_inner(intid: u32) {
    // SAFETY: writing ICC_EOIR1_EL1 ends an acknowledged interrupt; no memory.
    unsafe { asm!("msr S3_0_C12_C12_1, {}", "isb", in(reg) intid as u64, options(nomem, nostack)) };
}
