//! A GICv3 emulated for a realm, the part Linux KVM's vGIC owns: one distributor and one
//! redistributor (RD and SGI frames) per vCPU, driven by the MMIO accesses the realm makes, and
//! the list-register interface through which the host injects virtual interrupts on REC entry
//! (`rec_enter.gicv3_lrs`) and learns which the realm took and ended (`rec_exit.gicv3_lrs`).
//!
//! It owns the interrupt state of every INTID the realm can see (SGIs and PPIs per vCPU, SPIs
//! shared and routed by `GICD_IROUTER<n>`): enabled, pending (an edge latch and a level input
//! line), active, priority, group and trigger mode; and the register views of that state. It
//! must not touch the RMM, the RecRun page or anything else outside it: a caller hands it an
//! access (frame-relative offset, size, value) or a list-register array and gets values back.
//! Every offset, size, value and INTID comes from a hostile realm: unknown or misaligned
//! accesses read as zero and ignore writes, never panic.
//!
//! What it models (facts from the GICv3 architecture, checked against what a Linux realm
//! touches, see `linux-realm-guest.md`):
//! - [`NR_SPIS`] SPIs (INTIDs 32..96): `GICD_TYPER.ITLinesNumber` = 2, IDbits = 9 (10-bit
//!   INTIDs), LPIS = 0, no ITS. `GICD_CTLR`: ARE and DS read as one (single security state,
//!   affinity routing), EnableGrp0/EnableGrp1 stored, RWP reads zero.
//! - With ARE set, the distributor's INTID 0..31 slices are RAZ/WI: SGIs and PPIs live in each
//!   vCPU's SGI frame. `GICD_ITARGETSR`, `GICD_SGIR`, `GICD_IGRPMODR` and `GICD_NSACR` are RAZ/WI.
//! - [`PRIORITY_BITS`] priority bits are implemented (the low bits of `IPRIORITYR` read as zero).
//! - SGIs are edge-triggered (`ICFGR0` reads 0xAAAA_AAAA); PPIs and SPIs reset level-sensitive
//!   and may be made edge-triggered.
//! - `GICD_IROUTER<n>.IRM` = 1 (any PE) delivers to vCPU 0; an affinity no vCPU has delivers
//!   nowhere until the route changes.
//! - Priority drop and deactivation happen in the realm's virtual CPU interface; the host only
//!   sees the result in the list registers it reads back ([`Vgic::sync_lrs`]).
//!
//! How the list registers are used: [`Vgic::fill_lrs`] puts the vCPU's active interrupts and
//! its highest-priority pending, enabled ones into the list registers (State pending and/or
//! active, Group from `IGROUPR`, the priority, HW = 0). An edge interrupt's pending state moves
//! into the list register; a level interrupt stays pending while its line is high.
//! [`Vgic::sync_lrs`] reads them back after the exit: still pending -> pending again, active ->
//! active, invalid -> the realm EOIed it (active cleared). A level interrupt whose line is still
//! high is injected again by the next fill. An interrupt sits in at most one vCPU's list
//! registers at a time.
//!
//! While an interrupt sits in a vCPU's list registers, the register views show its state as of
//! that vCPU's last sync (an edge's pending state is in the list register). A caller syncs the
//! exiting vCPU before it emulates the access that caused the exit; KVM also stops and syncs
//! the other vCPUs first for some of these registers, which this model leaves to the caller.
//! The state is plain data: a caller that shares it between CPUs puts it behind its lock.

#[cfg(test)]
mod tests;

use hostcall_abi::rec_params::rec_index_to_mpidr_el1;
use hostcall_abi::rec_run::{ich_lr, GICV3_MAX_LRS};

/// Most vCPUs (redistributors) one [`Vgic`] holds.
pub const MAX_VCPUS: usize = 8;
/// SPIs implemented (INTIDs 32 up to [`NR_IRQS`]).
pub const NR_SPIS: usize = 64;
/// INTIDs implemented: 16 SGIs, 16 PPIs, [`NR_SPIS`] SPIs.
pub const NR_IRQS: usize = 32 + NR_SPIS;
/// Priority bits implemented (the top bits of the 8-bit field).
pub const PRIORITY_BITS: u32 = 5;
/// The bits of a priority byte that are implemented.
const PRIORITY_MASK: u8 = !(0xFF >> PRIORITY_BITS);

/// Size of the distributor's MMIO frame.
pub const GICD_SIZE: u64 = 0x1_0000;
/// Size of one vCPU's redistributor: its RD frame and its SGI frame.
pub const GICR_STRIDE: u64 = 0x2_0000;
/// Offset of the SGI frame inside a redistributor.
pub const GICR_SGI_OFFSET: u64 = 0x1_0000;

/// Size of the redistributor region for `nr_vcpus` vCPUs (one [`GICR_STRIDE`] each).
pub const fn gicr_region_size(nr_vcpus: usize) -> u64 {
    nr_vcpus as u64 * GICR_STRIDE
}

/// The virtual timer's PPI (what the realm's `CNTV_*` drives).
pub const VIRTUAL_TIMER_INTID: u32 = 27;

/// Register offsets (GICv3 architecture).
mod reg {
    // Distributor.
    pub const GICD_CTLR: u64 = 0x0000;
    pub const GICD_TYPER: u64 = 0x0004;
    pub const GICD_IIDR: u64 = 0x0008;
    pub const GICD_IROUTER: u64 = 0x6000;
    pub const GICD_IROUTER_END: u64 = 0x8000;
    // Bit, byte and 2-bit arrays, in the distributor and (slice 0 only) in the SGI frame.
    pub const IGROUPR: u64 = 0x0080;
    pub const ISENABLER: u64 = 0x0100;
    pub const ICENABLER: u64 = 0x0180;
    pub const ISPENDR: u64 = 0x0200;
    pub const ICPENDR: u64 = 0x0280;
    pub const ISACTIVER: u64 = 0x0300;
    pub const ICACTIVER: u64 = 0x0380;
    pub const IPRIORITYR: u64 = 0x0400;
    pub const IPRIORITYR_END: u64 = 0x0800;
    pub const ICFGR: u64 = 0x0C00;
    pub const ICFGR_END: u64 = 0x0D00;
    // Redistributor RD frame.
    pub const GICR_CTLR: u64 = 0x0000;
    pub const GICR_IIDR: u64 = 0x0004;
    pub const GICR_TYPER: u64 = 0x0008;
    pub const GICR_WAKER: u64 = 0x0014;
    // Both frames' identification register.
    pub const PIDR2: u64 = 0xFFE8;
}

/// `GICD_CTLR` bits (single security state, DS = 1).
mod ctlr {
    pub const ENABLE_GRP0: u32 = 1 << 0;
    pub const ENABLE_GRP1: u32 = 1 << 1;
    pub const ARE: u32 = 1 << 4;
    pub const DS: u32 = 1 << 6;
}

/// `GICR_WAKER` bits.
mod waker {
    pub const PROCESSOR_SLEEP: u32 = 1 << 1;
    pub const CHILDREN_ASLEEP: u32 = 1 << 2;
}

/// `GICD_IIDR` / `GICR_IIDR`: implementer Arm (JEP106 0x43B), product 0, revision 0.
pub const IIDR: u32 = 0x0000_043B;
/// `GICD_PIDR2` / `GICR_PIDR2`: ArchRev 3 (`[7:4]`), JEP106 identity bits of Arm (`[3:0]`).
pub const PIDR2: u32 = 0x3B;
/// `GICD_TYPER`: ITLinesNumber (`[4:0]`) for [`NR_IRQS`], IDbits 9 (`[23:19]`); LPIS, MBIS,
/// SecurityExtn, A3V and RSS zero.
pub const GICD_TYPER: u32 = (NR_IRQS as u32 / 32 - 1) | (9 << 19);
/// `GICD_IROUTER<n>` bits that are not RES0: Aff3 `[39:32]`, IRM `[31]`, Aff2..Aff0 `[23:0]`.
const IROUTER_MASK: u64 = 0xFF_80FF_FFFF;
/// `GICD_IROUTER<n>.IRM`.
const IROUTER_IRM: u64 = 1 << 31;

/// No vCPU holds the interrupt in its list registers.
const NO_OWNER: u8 = u8::MAX;

/// The state of one INTID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Irq {
    enabled: bool,
    /// Pending latch: an edge, or a write to `ISPENDR`.
    latch: bool,
    /// The input line (level).
    line: bool,
    active: bool,
    /// Edge-triggered (`ICFGR`), else level-sensitive.
    edge: bool,
    group1: bool,
    priority: u8,
    /// The vCPU whose list registers hold it, or [`NO_OWNER`].
    lr_owner: u8,
}

impl Irq {
    const fn reset(edge: bool) -> Self {
        Self {
            enabled: false,
            latch: false,
            line: false,
            active: false,
            edge,
            group1: true,
            priority: 0,
            lr_owner: NO_OWNER,
        }
    }

    /// Pending: latched, or (level-sensitive) the line is high.
    const fn pending(&self) -> bool {
        self.latch || (!self.edge && self.line)
    }
}

/// One vCPU's redistributor state and list-register bookkeeping.
#[derive(Clone, Copy, Debug)]
struct Cpu {
    /// SGIs 0..16 and PPIs 16..32.
    private: [Irq; 32],
    processor_sleep: bool,
    /// The list registers [`Vgic::fill_lrs`] handed out and not yet synced.
    lrs_out: [u64; GICV3_MAX_LRS],
    /// How many of `lrs_out` are in use.
    lrs_used: usize,
}

impl Cpu {
    const fn reset() -> Self {
        let mut private = [Irq::reset(false); 32];
        let mut i = 0;
        while i < 16 {
            private[i] = Irq::reset(true);
            i += 1;
        }
        Self {
            private,
            processor_sleep: true,
            lrs_out: [0; GICV3_MAX_LRS],
            lrs_used: 0,
        }
    }
}

/// The result of [`Vgic::fill_lrs`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FillResult {
    /// List registers filled (the first `used` of the array; the rest are zero).
    pub used: usize,
    /// More interrupts wait than list registers were available: the caller may ask for an
    /// underflow maintenance interrupt (`gicv3_hcr.UIE`) to refill sooner.
    pub overflow: bool,
}

/// The per-INTID registers that share a layout between the distributor and the SGI frame.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BitReg {
    Group,
    SetEnable,
    ClearEnable,
    SetPending,
    ClearPending,
    SetActive,
    ClearActive,
}

/// Which INTIDs a frame shows: the distributor (SPIs) or one vCPU's SGI frame (SGIs, PPIs).
#[derive(Clone, Copy)]
enum Bank {
    Shared,
    Private(usize),
}

/// A GICv3 distributor with one redistributor per vCPU (see the module documentation).
#[derive(Clone, Debug)]
pub struct Vgic {
    nr_vcpus: usize,
    /// `GICD_CTLR` EnableGrp0 / EnableGrp1.
    ctlr: u32,
    spis: [Irq; NR_SPIS],
    irouter: [u64; NR_SPIS],
    cpus: [Cpu; MAX_VCPUS],
}

/// True for an access of a size the bus can carry, naturally aligned.
const fn aligned(offset: u64, size: usize) -> bool {
    matches!(size, 1 | 2 | 4 | 8) && offset.is_multiple_of(size as u64)
}

/// The affinity of vCPU `index` in the `MPIDR_EL1` layout (Aff3 at `[39:32]`), as the RMM
/// gives REC `index`.
fn vcpu_affinity(index: usize) -> u64 {
    rec_index_to_mpidr_el1(index as u64).unwrap_or(u64::MAX)
}

/// The 32-bit half of a 64-bit register an access at `offset` of `size` reads, or the whole.
fn read64(value: u64, offset: u64, size: usize) -> u64 {
    match (size, offset % 8) {
        (8, 0) => value,
        (4, 0) => value & 0xFFFF_FFFF,
        (4, 4) => value >> 32,
        _ => 0,
    }
}

/// `old` with the part an access at `offset` of `size` writes replaced by `value`.
fn write64(old: u64, offset: u64, size: usize, value: u64) -> u64 {
    match (size, offset % 8) {
        (8, 0) => value,
        (4, 0) => (old & !0xFFFF_FFFF) | (value & 0xFFFF_FFFF),
        (4, 4) => (old & 0xFFFF_FFFF) | (value << 32),
        _ => old,
    }
}

impl Vgic {
    /// A GIC for `nr_vcpus` vCPUs (1..=[`MAX_VCPUS`]), in its reset state: everything disabled,
    /// inactive and not pending, Group 1, priority 0, SPIs routed to affinity 0 (vCPU 0), every
    /// redistributor asleep.
    pub fn new(nr_vcpus: usize) -> Option<Self> {
        if nr_vcpus == 0 || nr_vcpus > MAX_VCPUS {
            return None;
        }
        Some(Self {
            nr_vcpus,
            ctlr: 0,
            spis: [Irq::reset(false); NR_SPIS],
            irouter: [0; NR_SPIS],
            cpus: [Cpu::reset(); MAX_VCPUS],
        })
    }

    /// vCPUs (redistributors).
    pub const fn nr_vcpus(&self) -> usize {
        self.nr_vcpus
    }

    fn irq(&self, vcpu: usize, intid: u32) -> Option<&Irq> {
        let i = intid as usize;
        if i < 32 {
            self.cpus[..self.nr_vcpus].get(vcpu)?.private.get(i)
        } else {
            self.spis.get(i - 32)
        }
    }

    fn irq_mut(&mut self, vcpu: usize, intid: u32) -> Option<&mut Irq> {
        let i = intid as usize;
        if i < 32 {
            self.cpus[..self.nr_vcpus].get_mut(vcpu)?.private.get_mut(i)
        } else {
            self.spis.get_mut(i - 32)
        }
    }

    /// The vCPU an SPI is routed to by its `GICD_IROUTER<n>`, if any.
    fn spi_target(&self, spi: usize) -> Option<usize> {
        let route = *self.irouter.get(spi)?;
        if route & IROUTER_IRM != 0 {
            return Some(0);
        }
        (0..self.nr_vcpus).find(|&i| vcpu_affinity(i) == route & !IROUTER_IRM)
    }

    /// The vCPU `intid` is delivered to, as seen from `vcpu` (SGIs and PPIs are its own).
    fn target(&self, vcpu: usize, intid: u32) -> Option<usize> {
        match intid as usize {
            i if i < 32 => (vcpu < self.nr_vcpus).then_some(vcpu),
            i if i < NR_IRQS => self.spi_target(i - 32),
            _ => None,
        }
    }

    fn group_enabled(&self, irq: &Irq) -> bool {
        let bit = if irq.group1 {
            ctlr::ENABLE_GRP1
        } else {
            ctlr::ENABLE_GRP0
        };
        self.ctlr & bit != 0
    }

    // ---- Queries (for the integration and tests) ----

    /// True if `intid` (SGI/PPI: of `vcpu`) is pending.
    pub fn is_pending(&self, vcpu: usize, intid: u32) -> bool {
        self.irq(vcpu, intid).is_some_and(Irq::pending)
    }

    /// True if `intid` (SGI/PPI: of `vcpu`) is active.
    pub fn is_active(&self, vcpu: usize, intid: u32) -> bool {
        self.irq(vcpu, intid).is_some_and(|i| i.active)
    }

    /// True if `intid` (SGI/PPI: of `vcpu`) is enabled.
    pub fn is_enabled(&self, vcpu: usize, intid: u32) -> bool {
        self.irq(vcpu, intid).is_some_and(|i| i.enabled)
    }

    /// The priority of `intid` (SGI/PPI: of `vcpu`).
    pub fn priority(&self, vcpu: usize, intid: u32) -> Option<u8> {
        self.irq(vcpu, intid).map(|i| i.priority)
    }

    /// The vCPU an interrupt would be delivered to now (SGI/PPI: `vcpu` itself).
    pub fn delivery_target(&self, vcpu: usize, intid: u32) -> Option<usize> {
        self.target(vcpu, intid)
    }

    /// True if `vcpu` has an interrupt to deliver: pending, enabled, its group enabled.
    pub fn has_deliverable(&self, vcpu: usize) -> bool {
        (0..NR_IRQS as u32).any(|intid| self.deliverable(vcpu, intid))
    }

    fn deliverable(&self, vcpu: usize, intid: u32) -> bool {
        self.target(vcpu, intid) == Some(vcpu)
            && self
                .irq(vcpu, intid)
                .is_some_and(|i| i.pending() && i.enabled && self.group_enabled(i))
    }

    // ---- Inputs ----

    /// Drives the input line of PPI or SPI `intid` (`vcpu` selects the PPI's redistributor and
    /// is ignored for SPIs): a level-sensitive interrupt is pending while the line is high, an
    /// edge-triggered one latches pending on a rising edge. SGIs and unknown INTIDs are
    /// ignored. Returns the vCPU the interrupt is delivered to if its pending state changed (the
    /// one to give fresh list registers).
    pub fn line(&mut self, intid: u32, vcpu: usize, level: bool) -> Option<usize> {
        if intid < 16 {
            return None;
        }
        let target = self.target(vcpu, intid);
        let irq = self.irq_mut(vcpu, intid)?;
        let was = irq.pending();
        if irq.edge && level && !irq.line {
            irq.latch = true;
        }
        irq.line = level;
        let now = irq.pending();
        if was != now {
            target
        } else {
            None
        }
    }

    /// A trapped write of `value` to `ICC_SGI1R_EL1` by `from_vcpu`: makes SGI INTID
    /// (`[27:24]`) pending on every target. IRM (`[40]`) set: every vCPU but the sender;
    /// otherwise the vCPUs whose affinity is Aff3 `[55:48]`. Aff2 `[39:32]`. Aff1 `[23:16]`
    /// with Aff0 = RS (`[47:44]`) * 16 + n for each bit n of TargetList (`[15:0]`). Returns the
    /// vCPUs made pending, bit i for vCPU i.
    pub fn sgi(&mut self, from_vcpu: usize, value: u64) -> u64 {
        let intid = ((value >> 24) & 0xF) as usize;
        let irm = value & (1 << 40) != 0;
        let field = |shift: u32| (value >> shift) & 0xFF;
        let (aff3, aff2, aff1) = (field(48), field(32), field(16));
        let rs = (value >> 44) & 0xF;
        let list = value & 0xFFFF;
        let mut targets = 0u64;
        for i in 0..self.nr_vcpus {
            let hit = if irm {
                i != from_vcpu
            } else {
                let a = vcpu_affinity(i);
                let aff0 = a & 0xFF;
                (a >> 32) & 0xFF == aff3
                    && (a >> 16) & 0xFF == aff2
                    && (a >> 8) & 0xFF == aff1
                    && aff0 >> 4 == rs
                    && list & (1 << (aff0 & 0xF)) != 0
            };
            if hit {
                self.cpus[i].private[intid].latch = true;
                targets |= 1 << i;
            }
        }
        targets
    }

    // ---- List registers ----

    /// Fills `lrs` for `vcpu`'s next REC entry: its active interrupts first, then its pending,
    /// enabled interrupts (group enabled in `GICD_CTLR`) by priority (lowest value first, then
    /// lowest INTID), at most `nr_lrs` (capped at 16) of them; the other entries are zero. Each
    /// is `ICH_LR<n>_EL2` with vINTID, priority, Group, State, HW = 0. List registers handed
    /// out before and not yet given back through [`Self::sync_lrs`] are first taken back as
    /// the realm left them untouched. An unknown `vcpu` gets all zeros.
    pub fn fill_lrs(
        &mut self,
        vcpu: usize,
        lrs: &mut [u64; GICV3_MAX_LRS],
        nr_lrs: usize,
    ) -> FillResult {
        lrs.fill(0);
        if vcpu >= self.nr_vcpus {
            return FillResult::default();
        }
        if self.cpus[vcpu].lrs_used != 0 {
            let out = self.cpus[vcpu].lrs_out;
            self.sync_lrs(vcpu, &out);
        }
        let nr = nr_lrs.min(GICV3_MAX_LRS);
        let mut result = FillResult::default();
        while let Some(intid) = self.best_candidate(vcpu) {
            if result.used == nr {
                result.overflow = true;
                break;
            }
            let owner = vcpu as u8;
            let Some(irq) = self.irq_mut(vcpu, intid) else {
                break;
            };
            let pending = irq.pending();
            let lr = ich_lr::encode(intid, irq.priority, irq.group1, pending, irq.active);
            irq.lr_owner = owner;
            if irq.edge {
                // The pending state of an edge moves into the list register.
                irq.latch = false;
            }
            lrs[result.used] = lr;
            result.used += 1;
        }
        let cpu = &mut self.cpus[vcpu];
        cpu.lrs_out = *lrs;
        cpu.lrs_used = result.used;
        result
    }

    /// The next interrupt [`Self::fill_lrs`] would put in a list register of `vcpu`.
    fn best_candidate(&self, vcpu: usize) -> Option<u32> {
        let mut best: Option<(bool, u8, u32)> = None;
        for intid in 0..NR_IRQS as u32 {
            let Some(irq) = self.irq(vcpu, intid) else {
                continue;
            };
            if irq.lr_owner != NO_OWNER || self.target(vcpu, intid) != Some(vcpu) {
                continue;
            }
            let wanted = irq.active || (irq.pending() && irq.enabled && self.group_enabled(irq));
            if !wanted {
                continue;
            }
            // Active first, then priority, then INTID (the scan is in INTID order).
            let key = (!irq.active, irq.priority, intid);
            if best.is_none_or(|b| (key.0, key.1) < (b.0, b.1)) {
                best = Some(key);
            }
        }
        best.map(|b| b.2)
    }

    /// Reads back `vcpu`'s list registers from `rec_exit.gicv3_lrs`, for those
    /// [`Self::fill_lrs`] handed out: a list register that came back invalid was EOIed
    /// (active cleared); pending or active ones keep that state. An edge interrupt still
    /// pending in its list register is pending again; a level interrupt the realm acknowledged
    /// loses its latch and stays pending only while its line is high. An invalid entry counts
    /// as EOIed whatever its vINTID; a valid entry whose vINTID is not the one handed out is
    /// taken as untouched.
    pub fn sync_lrs(&mut self, vcpu: usize, lrs: &[u64; GICV3_MAX_LRS]) {
        if vcpu >= self.nr_vcpus {
            return;
        }
        let (out, used) = (self.cpus[vcpu].lrs_out, self.cpus[vcpu].lrs_used);
        self.cpus[vcpu].lrs_used = 0;
        for (&written, &back) in out.iter().zip(lrs.iter()).take(used) {
            let intid = ich_lr::vintid(written);
            let back = if ich_lr::is_invalid(back) || ich_lr::vintid(back) == intid {
                back
            } else {
                written
            };
            let Some(irq) = self.irq_mut(vcpu, intid) else {
                continue;
            };
            irq.lr_owner = NO_OWNER;
            irq.active = ich_lr::is_active(back);
            let pending = ich_lr::is_pending(back);
            if irq.edge {
                if pending {
                    irq.latch = true;
                }
            } else if !pending {
                irq.latch = false;
            }
        }
    }

    // ---- Distributor ----

    /// A read of `size` bytes at `offset` in the distributor frame.
    pub fn gicd_read(&self, offset: u64, size: usize) -> u64 {
        if !aligned(offset, size) {
            return 0;
        }
        match offset {
            reg::GICD_IROUTER..reg::GICD_IROUTER_END => {
                let n = ((offset - reg::GICD_IROUTER) / 8) as usize;
                match n.checked_sub(32).and_then(|spi| self.irouter.get(spi)) {
                    Some(&route) => read64(route, offset, size),
                    None => 0,
                }
            }
            _ if size == 8 => 0,
            reg::IPRIORITYR..reg::IPRIORITYR_END => {
                self.priority_read(Bank::Shared, offset - reg::IPRIORITYR, size)
            }
            _ if size != 4 => 0,
            reg::GICD_CTLR => u64::from(self.ctlr | ctlr::ARE | ctlr::DS),
            reg::GICD_TYPER => u64::from(GICD_TYPER),
            reg::GICD_IIDR => u64::from(IIDR),
            reg::PIDR2 => u64::from(PIDR2),
            _ => self.array_read(Bank::Shared, offset),
        }
    }

    /// A write of `value` (`size` bytes) at `offset` in the distributor frame.
    pub fn gicd_write(&mut self, offset: u64, size: usize, value: u64) {
        if !aligned(offset, size) {
            return;
        }
        match offset {
            reg::GICD_IROUTER..reg::GICD_IROUTER_END => {
                let n = ((offset - reg::GICD_IROUTER) / 8) as usize;
                if let Some(route) = n.checked_sub(32).and_then(|spi| self.irouter.get_mut(spi)) {
                    *route = write64(*route, offset, size, value) & IROUTER_MASK;
                }
            }
            _ if size == 8 => {}
            reg::IPRIORITYR..reg::IPRIORITYR_END => {
                self.priority_write(Bank::Shared, offset - reg::IPRIORITYR, size, value)
            }
            _ if size != 4 => {}
            reg::GICD_CTLR => self.ctlr = value as u32 & (ctlr::ENABLE_GRP0 | ctlr::ENABLE_GRP1),
            _ => self.array_write(Bank::Shared, offset, value as u32),
        }
    }

    // ---- Redistributors ----

    /// A read of `size` bytes at `offset` in the redistributor region (vCPU i's RD frame at
    /// i * [`GICR_STRIDE`], its SGI frame [`GICR_SGI_OFFSET`] above).
    pub fn gicr_read(&self, offset: u64, size: usize) -> u64 {
        let Some((vcpu, frame_offset)) = self.gicr_frame(offset, size) else {
            return 0;
        };
        if frame_offset >= GICR_SGI_OFFSET {
            let o = frame_offset - GICR_SGI_OFFSET;
            return match o {
                _ if size == 8 => 0,
                reg::IPRIORITYR..reg::IPRIORITYR_END => {
                    self.priority_read(Bank::Private(vcpu), o - reg::IPRIORITYR, size)
                }
                _ if size != 4 => 0,
                reg::PIDR2 => u64::from(PIDR2),
                _ => self.array_read(Bank::Private(vcpu), o),
            };
        }
        match frame_offset {
            reg::GICR_TYPER..0x10 => read64(self.gicr_typer(vcpu), frame_offset, size),
            _ if size != 4 => 0,
            reg::GICR_CTLR => 0,
            reg::GICR_IIDR => u64::from(IIDR),
            reg::GICR_WAKER if self.cpus[vcpu].processor_sleep => {
                u64::from(waker::PROCESSOR_SLEEP | waker::CHILDREN_ASLEEP)
            }
            reg::PIDR2 => u64::from(PIDR2),
            _ => 0,
        }
    }

    /// A write of `value` (`size` bytes) at `offset` in the redistributor region.
    pub fn gicr_write(&mut self, offset: u64, size: usize, value: u64) {
        let Some((vcpu, frame_offset)) = self.gicr_frame(offset, size) else {
            return;
        };
        if frame_offset >= GICR_SGI_OFFSET {
            let o = frame_offset - GICR_SGI_OFFSET;
            match o {
                _ if size == 8 => {}
                reg::IPRIORITYR..reg::IPRIORITYR_END => {
                    self.priority_write(Bank::Private(vcpu), o - reg::IPRIORITYR, size, value)
                }
                _ if size != 4 => {}
                _ => self.array_write(Bank::Private(vcpu), o, value as u32),
            }
            return;
        }
        if frame_offset == reg::GICR_WAKER && size == 4 {
            self.cpus[vcpu].processor_sleep = value as u32 & waker::PROCESSOR_SLEEP != 0;
        }
    }

    /// The vCPU and frame-relative offset of an aligned access in the redistributor region.
    fn gicr_frame(&self, offset: u64, size: usize) -> Option<(usize, u64)> {
        if !aligned(offset, size) {
            return None;
        }
        let vcpu = usize::try_from(offset / GICR_STRIDE).ok()?;
        (vcpu < self.nr_vcpus).then_some((vcpu, offset % GICR_STRIDE))
    }

    /// `GICR_TYPER`: Affinity_Value `[63:32]` (Aff3.Aff2.Aff1.Aff0), Processor_Number
    /// `[23:8]`, Last `[4]`; PLPIS, VLPIS, DirectLPI zero.
    fn gicr_typer(&self, vcpu: usize) -> u64 {
        let a = vcpu_affinity(vcpu);
        let affinity = (a & 0xFF_FFFF) | ((a >> 32) & 0xFF) << 24;
        let last = if vcpu + 1 == self.nr_vcpus { 1 << 4 } else { 0 };
        affinity << 32 | (vcpu as u64 & 0xFFFF) << 8 | last
    }

    // ---- Shared register arrays ----

    /// The INTID range a bank shows.
    fn bank_range(bank: Bank) -> (usize, core::ops::Range<u32>) {
        match bank {
            Bank::Shared => (0, 32..NR_IRQS as u32),
            Bank::Private(vcpu) => (vcpu, 0..32),
        }
    }

    fn bit_reg(offset: u64) -> Option<(BitReg, u32)> {
        let kind = match offset & !0x7F {
            reg::IGROUPR => BitReg::Group,
            reg::ISENABLER => BitReg::SetEnable,
            reg::ICENABLER => BitReg::ClearEnable,
            reg::ISPENDR => BitReg::SetPending,
            reg::ICPENDR => BitReg::ClearPending,
            reg::ISACTIVER => BitReg::SetActive,
            reg::ICACTIVER => BitReg::ClearActive,
            _ => return None,
        };
        Some((kind, ((offset & 0x7F) / 4) as u32 * 32))
    }

    /// A 32-bit read of the bit arrays and `ICFGR` (everything else in them reads zero).
    fn array_read(&self, bank: Bank, offset: u64) -> u64 {
        let (vcpu, range) = Self::bank_range(bank);
        if let Some((kind, first)) = Self::bit_reg(offset) {
            let mut v = 0u32;
            for bit in 0..32 {
                let intid = first + bit;
                if !range.contains(&intid) {
                    continue;
                }
                let Some(irq) = self.irq(vcpu, intid) else {
                    continue;
                };
                let set = match kind {
                    BitReg::Group => irq.group1,
                    BitReg::SetEnable | BitReg::ClearEnable => irq.enabled,
                    BitReg::SetPending | BitReg::ClearPending => irq.pending(),
                    BitReg::SetActive | BitReg::ClearActive => irq.active,
                };
                v |= u32::from(set) << bit;
            }
            return u64::from(v);
        }
        if (reg::ICFGR..reg::ICFGR_END).contains(&offset) {
            let first = ((offset - reg::ICFGR) / 4) as u32 * 16;
            let mut v = 0u32;
            for field in 0..16 {
                let intid = first + field;
                if !range.contains(&intid) {
                    continue;
                }
                let edge = self.irq(vcpu, intid).is_some_and(|i| i.edge);
                v |= u32::from(edge) << (2 * field + 1);
            }
            return u64::from(v);
        }
        0
    }

    /// A 32-bit write to the bit arrays and `ICFGR` (everything else in them is ignored).
    fn array_write(&mut self, bank: Bank, offset: u64, value: u32) {
        let (vcpu, range) = Self::bank_range(bank);
        if let Some((kind, first)) = Self::bit_reg(offset) {
            for bit in 0..32 {
                let intid = first + bit;
                let one = value & (1 << bit) != 0;
                if !range.contains(&intid) || (!one && kind != BitReg::Group) {
                    continue;
                }
                let Some(irq) = self.irq_mut(vcpu, intid) else {
                    continue;
                };
                match kind {
                    BitReg::Group => irq.group1 = one,
                    BitReg::SetEnable => irq.enabled = true,
                    BitReg::ClearEnable => irq.enabled = false,
                    BitReg::SetPending => irq.latch = true,
                    BitReg::ClearPending => irq.latch = false,
                    BitReg::SetActive => irq.active = true,
                    BitReg::ClearActive => irq.active = false,
                }
            }
            return;
        }
        if (reg::ICFGR..reg::ICFGR_END).contains(&offset) {
            let first = ((offset - reg::ICFGR) / 4) as u32 * 16;
            for field in 0..16 {
                let intid = first + field;
                // SGIs are always edge-triggered.
                if intid < 16 || !range.contains(&intid) {
                    continue;
                }
                if let Some(irq) = self.irq_mut(vcpu, intid) {
                    irq.edge = value & (1 << (2 * field + 1)) != 0;
                }
            }
        }
    }

    /// A byte or word read of `IPRIORITYR` at byte `index` (the first INTID).
    fn priority_read(&self, bank: Bank, index: u64, size: usize) -> u64 {
        if size != 1 && size != 4 {
            return 0;
        }
        let (vcpu, range) = Self::bank_range(bank);
        let mut v = 0u64;
        for b in 0..size as u64 {
            let intid = (index + b) as u32;
            if range.contains(&intid) {
                let p = self.irq(vcpu, intid).map_or(0, |i| i.priority);
                v |= u64::from(p) << (8 * b);
            }
        }
        v
    }

    /// A byte or word write of `IPRIORITYR` at byte `index` (the first INTID).
    fn priority_write(&mut self, bank: Bank, index: u64, size: usize, value: u64) {
        if size != 1 && size != 4 {
            return;
        }
        let (vcpu, range) = Self::bank_range(bank);
        for b in 0..size as u64 {
            let intid = (index + b) as u32;
            if !range.contains(&intid) {
                continue;
            }
            if let Some(irq) = self.irq_mut(vcpu, intid) {
                irq.priority = (value >> (8 * b)) as u8 & PRIORITY_MASK;
            }
        }
    }
}
