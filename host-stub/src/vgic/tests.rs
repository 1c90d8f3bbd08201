use super::*;

const ENABLE_ALL: u64 = 0x13; // What Linux writes: ARE_NS | EnableGrp1A | EnableGrp1.
const SGI: u64 = GICR_SGI_OFFSET;

fn gic(n: usize) -> Vgic {
    Vgic::new(n).unwrap()
}

fn rd(vcpu: usize, off: u64) -> u64 {
    vcpu as u64 * GICR_STRIDE + off
}

fn sgi_frame(vcpu: usize, off: u64) -> u64 {
    rd(vcpu, SGI + off)
}

/// A GIC as Linux leaves it after probing: distributor enabled, every INTID group 1.
fn booted(n: usize) -> Vgic {
    let mut g = gic(n);
    g.gicd_write(0, 4, ENABLE_ALL);
    for w in 1..3 {
        g.gicd_write(0x80 + 4 * w, 4, 0xFFFF_FFFF);
    }
    for v in 0..n {
        g.gicr_write(rd(v, 0x14), 4, 0);
        g.gicr_write(sgi_frame(v, 0x80), 4, 0xFFFF_FFFF);
    }
    g
}

fn lrs_of(g: &mut Vgic, vcpu: usize, nr: usize) -> ([u64; 16], FillResult) {
    let mut lrs = [0u64; 16];
    let r = g.fill_lrs(vcpu, &mut lrs, nr);
    (lrs, r)
}

#[test]
fn capacity_is_checked() {
    assert!(Vgic::new(0).is_none());
    assert!(Vgic::new(MAX_VCPUS + 1).is_none());
    assert_eq!(gic(MAX_VCPUS).nr_vcpus(), MAX_VCPUS);
    assert_eq!(gicr_region_size(1), 0x20000);
    assert_eq!(gicr_region_size(4), 0x80000);
}

#[test]
fn distributor_identification() {
    let mut g = gic(2);
    // RWP reads 0; ARE and DS read as one.
    assert_eq!(g.gicd_read(0, 4), 0x50);
    g.gicd_write(0, 4, ENABLE_ALL | 1 << 31);
    assert_eq!(g.gicd_read(0, 4), 0x53);
    let typer = g.gicd_read(4, 4);
    assert_eq!(typer & 0x1F, 2, "ITLinesNumber for 64 SPIs");
    assert_eq!((typer >> 19) & 0x1F, 9, "IDbits");
    assert_eq!(typer & 1 << 17, 0, "LPIS");
    assert_eq!(typer & 1 << 10, 0, "SecurityExtn");
    assert_eq!(g.gicd_read(8, 4), 0x43B);
    assert_eq!((g.gicd_read(0xFFE8, 4) >> 4) & 0xF, 3, "ArchRev");
    // Wrong sizes of a word register read as zero and are ignored.
    assert_eq!(g.gicd_read(0, 1), 0);
    assert_eq!(g.gicd_read(0, 8), 0);
    g.gicd_write(0, 2, 0);
    assert_eq!(g.gicd_read(0, 4), 0x53);
}

#[test]
fn spi_bits_and_the_private_slice_of_the_distributor() {
    let mut g = gic(1);
    // INTIDs 0..31 are RAZ/WI in the distributor (ARE).
    g.gicd_write(0x100, 4, 0xFFFF_FFFF);
    assert_eq!(g.gicd_read(0x100, 4), 0);
    assert!(!g.is_enabled(0, 27));
    // SPI 33 is bit 1 of word 1.
    g.gicd_write(0x104, 4, 0b10);
    assert!(g.is_enabled(0, 33));
    assert_eq!(g.gicd_read(0x104, 4), 0b10);
    assert_eq!(
        g.gicd_read(0x184, 4),
        0b10,
        "ICENABLER reads the same state"
    );
    g.gicd_write(0x184, 4, 0b10);
    assert!(!g.is_enabled(0, 33));
    g.gicd_write(0x204, 4, 1 << 31);
    assert!(g.is_pending(0, 63));
    assert_eq!(g.gicd_read(0x284, 4), 1 << 31);
    g.gicd_write(0x284, 4, 1 << 31);
    assert!(!g.is_pending(0, 63));
    g.gicd_write(0x308, 4, 1);
    assert!(g.is_active(0, 64));
    g.gicd_write(0x388, 4, 1);
    assert!(!g.is_active(0, 64));
    // Groups reset to 1; a write of zero makes them group 0.
    assert_eq!(g.gicd_read(0x84, 4), 0xFFFF_FFFF);
    g.gicd_write(0x84, 4, 0);
    assert_eq!(g.gicd_read(0x84, 4), 0);
    // Beyond the implemented SPIs: RAZ/WI.
    g.gicd_write(0x10C, 4, 0xFFFF_FFFF);
    assert_eq!(g.gicd_read(0x10C, 4), 0);
}

#[test]
fn priorities_by_byte_and_word() {
    let mut g = gic(1);
    g.gicd_write(0x400 + 33, 1, 0xA7);
    assert_eq!(g.priority(0, 33), Some(0xA0), "five priority bits");
    g.gicd_write(0x400 + 36, 4, 0x8010_20FF);
    assert_eq!(g.gicd_read(0x400 + 36, 4), 0x8010_20F8);
    assert_eq!(g.gicd_read(0x400 + 39, 1), 0x80);
    // Private INTIDs are not in the distributor.
    g.gicd_write(0x400 + 27, 1, 0x80);
    assert_eq!(g.priority(0, 27), Some(0));
    // Halfwords and doublewords are not allowed.
    g.gicd_write(0x400 + 40, 2, 0xFFFF);
    assert_eq!(g.priority(0, 40), Some(0));
}

#[test]
fn trigger_configuration() {
    let mut g = gic(1);
    assert_eq!(
        g.gicr_read(sgi_frame(0, 0xC00), 4),
        0xAAAA_AAAA,
        "SGIs are edge"
    );
    g.gicr_write(sgi_frame(0, 0xC00), 4, 0);
    assert_eq!(g.gicr_read(sgi_frame(0, 0xC00), 4), 0xAAAA_AAAA);
    assert_eq!(g.gicr_read(sgi_frame(0, 0xC04), 4), 0, "PPIs reset level");
    // SPI 33 edge: field 1 of ICFGR2, bit 3.
    g.gicd_write(0xC08, 4, 1 << 3);
    assert_eq!(g.gicd_read(0xC08, 4), 1 << 3);
    g.line(33, 0, true);
    g.line(33, 0, false);
    assert!(g.is_pending(0, 33), "an edge latches");
    assert_eq!(
        g.gicd_read(0xC00, 4),
        0,
        "SGI/PPI config is not in the distributor"
    );
}

#[test]
fn irouter_is_64_bit_and_routes_spis() {
    let mut g = gic(3);
    let at = |intid: u64| 0x6000 + 8 * intid;
    g.gicd_write(at(40), 8, u64::MAX);
    assert_eq!(g.gicd_read(at(40), 8), 0xFF_80FF_FFFF, "RES0 bits");
    g.gicd_write(at(40), 4, 2);
    assert_eq!(g.gicd_read(at(40), 8), 0xFF_0000_0002);
    g.gicd_write(at(40) + 4, 4, 0);
    assert_eq!(g.gicd_read(at(40), 4), 2);
    assert_eq!(g.gicd_read(at(40) + 4, 4), 0);
    assert_eq!(g.delivery_target(0, 40), Some(2));
    g.gicd_write(at(40), 8, 1 << 31);
    assert_eq!(g.delivery_target(0, 40), Some(0), "IRM: vCPU 0");
    g.gicd_write(at(40), 8, 7);
    assert_eq!(g.delivery_target(0, 40), None, "no such vCPU");
    // IROUTER of an SGI/PPI or beyond the SPIs is RAZ/WI.
    g.gicd_write(at(27), 8, 1);
    assert_eq!(g.gicd_read(at(27), 8), 0);
    g.gicd_write(at(200), 8, 1);
    assert_eq!(g.gicd_read(at(200), 8), 0);
    // Misaligned: ignored.
    g.gicd_write(at(41) + 2, 4, 1);
    assert_eq!(g.gicd_read(at(41), 8), 0);
}

#[test]
fn redistributor_identification_and_waker() {
    let mut g = gic(3);
    for v in 0..3 {
        let typer = g.gicr_read(rd(v, 8), 8);
        assert_eq!(typer >> 32, v as u64, "affinity Aff0 = index");
        assert_eq!((typer >> 8) & 0xFFFF, v as u64, "processor number");
        assert_eq!(typer & 1 << 4 != 0, v == 2, "Last");
        assert_eq!(typer & 1, 0, "PLPIS");
        assert_eq!(g.gicr_read(rd(v, 8), 4), typer & 0xFFFF_FFFF);
        assert_eq!(g.gicr_read(rd(v, 0xC), 4), typer >> 32);
        assert_eq!((g.gicr_read(rd(v, 0xFFE8), 4) >> 4) & 0xF, 3);
        assert_eq!(g.gicr_read(rd(v, 0), 4), 0, "CTLR: no LPIs, RWP 0");
        assert_eq!(g.gicr_read(rd(v, 0x14), 4), 0b110, "asleep at reset");
    }
    g.gicr_write(rd(1, 0x14), 4, 0);
    assert_eq!(g.gicr_read(rd(1, 0x14), 4), 0, "ChildrenAsleep follows");
    assert_eq!(g.gicr_read(rd(0, 0x14), 4), 0b110);
    // Beyond the last redistributor: RAZ/WI.
    assert_eq!(g.gicr_read(rd(3, 8), 8), 0);
    g.gicr_write(rd(3, 0x14), 4, 0);
}

#[test]
fn sgi_frame_is_per_vcpu() {
    let mut g = gic(2);
    g.gicr_write(sgi_frame(1, 0x100), 4, 1 << 27);
    assert!(g.is_enabled(1, 27));
    assert!(!g.is_enabled(0, 27));
    assert_eq!(g.gicr_read(sgi_frame(1, 0x100), 4), 1 << 27);
    assert_eq!(g.gicr_read(sgi_frame(0, 0x100), 4), 0);
    g.gicr_write(sgi_frame(1, 0x180), 4, 1 << 27);
    assert!(!g.is_enabled(1, 27));
    g.gicr_write(sgi_frame(0, 0x200), 4, 1 << 3);
    assert!(g.is_pending(0, 3));
    g.gicr_write(sgi_frame(0, 0x280), 4, 1 << 3);
    assert!(!g.is_pending(0, 3));
    g.gicr_write(sgi_frame(0, 0x300), 4, 1 << 20);
    assert!(g.is_active(0, 20));
    g.gicr_write(sgi_frame(0, 0x380), 4, 1 << 20);
    assert!(!g.is_active(0, 20));
    g.gicr_write(sgi_frame(0, 0x400 + 24), 4, 0xA0A0_A0A0);
    assert_eq!(g.priority(0, 27), Some(0xA0));
    assert_eq!(g.priority(1, 27), Some(0));
    g.gicr_write(sgi_frame(1, 0x41F), 1, 0x40);
    assert_eq!(g.priority(1, 31), Some(0x40));
    // Only slice 0 exists in the SGI frame.
    g.gicr_write(sgi_frame(0, 0x104), 4, 0xFFFF_FFFF);
    assert_eq!(g.gicr_read(sgi_frame(0, 0x104), 4), 0);
    assert!(!g.is_enabled(0, 33));
    g.gicr_write(sgi_frame(0, 0x420), 1, 0x80);
    assert_eq!(g.priority(0, 32), Some(0));
    g.gicr_write(sgi_frame(0, 0x80), 4, 0);
    assert_eq!(g.gicr_read(sgi_frame(0, 0x80), 4), 0);
}

/// A list register as the realm's virtual CPU interface would leave it.
fn with_state(lr: u64, pending: bool, active: bool) -> u64 {
    let mut v = lr & !ich_lr::STATE_MASK;
    if pending {
        v |= ich_lr::STATE_PENDING;
    }
    if active {
        v |= ich_lr::STATE_ACTIVE;
    }
    v
}

#[test]
fn timer_ppi_is_level_and_repends_while_high() {
    let mut g = booted(1);
    g.gicr_write(sgi_frame(0, 0x400 + 24), 4, 0xA000_0000);
    g.gicr_write(sgi_frame(0, 0x100), 4, 1 << 27);
    assert_eq!(g.line(VIRTUAL_TIMER_INTID, 0, true), Some(0));
    assert_eq!(g.line(VIRTUAL_TIMER_INTID, 0, true), None, "no change");
    let (lrs, r) = lrs_of(&mut g, 0, 4);
    assert_eq!(
        r,
        FillResult {
            used: 1,
            overflow: false
        }
    );
    // vINTID 27, priority 0xA0, Group 1, pending, HW = 0.
    assert_eq!(lrs[0], 0x50A0_0000_0000_001B);
    assert_eq!(lrs[0] & ich_lr::HW, 0);
    assert!(lrs[1..].iter().all(|&l| l == 0));
    // The realm acknowledged it and is handling it; the line is still high.
    g.sync_lrs(0, &{
        let mut b = lrs;
        b[0] = with_state(lrs[0], false, true);
        b
    });
    assert!(g.is_active(0, 27));
    let (lrs, _) = lrs_of(&mut g, 0, 4);
    assert_eq!(
        lrs[0],
        with_state(0x50A0_0000_0000_001B, true, true),
        "active, pending again"
    );
    // The realm EOIed it and the line is still high: pending again, injected again.
    g.sync_lrs(0, &[0; 16]);
    assert!(!g.is_active(0, 27));
    assert!(g.is_pending(0, 27));
    let (lrs, _) = lrs_of(&mut g, 0, 4);
    assert_eq!(lrs[0], 0x50A0_0000_0000_001B);
    // The line drops before the realm takes it: nothing left after the exit.
    g.line(VIRTUAL_TIMER_INTID, 0, false);
    g.sync_lrs(0, &lrs);
    assert!(!g.is_pending(0, 27));
    let (lrs, r) = lrs_of(&mut g, 0, 4);
    assert_eq!((lrs[0], r.used), (0, 0));
}

#[test]
fn nothing_is_injected_while_disabled() {
    let mut g = gic(1);
    g.line(27, 0, true);
    assert!(g.is_pending(0, 27));
    assert_eq!(lrs_of(&mut g, 0, 4).1.used, 0, "not enabled");
    g.gicr_write(sgi_frame(0, 0x100), 4, 1 << 27);
    assert_eq!(lrs_of(&mut g, 0, 4).1.used, 0, "distributor disabled");
    assert!(!g.has_deliverable(0));
    g.gicd_write(0, 4, ENABLE_ALL);
    assert!(g.has_deliverable(0));
    assert_eq!(lrs_of(&mut g, 0, 4).1.used, 1);
    g.sync_lrs(0, &[0; 16]);
    // Group 0 needs EnableGrp0, and goes out with Group = 0.
    g.gicr_write(sgi_frame(0, 0x80), 4, 0);
    g.gicd_write(0, 4, 0x2);
    assert_eq!(lrs_of(&mut g, 0, 4).1.used, 0);
    g.gicd_write(0, 4, 0x1);
    let (lrs, _) = lrs_of(&mut g, 0, 4);
    assert_eq!(lrs[0] & ich_lr::GROUP1, 0);
    assert_eq!(ich_lr::vintid(lrs[0]), 27);
}

#[test]
fn uart_spi_goes_to_its_routed_vcpu_only() {
    let mut g = booted(2);
    g.gicd_write(0x104, 4, 1 << 1);
    g.gicd_write(0x6000 + 8 * 33, 8, 1);
    assert_eq!(g.line(33, 0, true), Some(1));
    assert_eq!(lrs_of(&mut g, 0, 4).1.used, 0);
    let (lrs, r) = lrs_of(&mut g, 1, 4);
    assert_eq!(r.used, 1);
    assert_eq!(ich_lr::vintid(lrs[0]), 33);
    // Rerouted while in vCPU 1's list registers: not injected twice.
    g.gicd_write(0x6000 + 8 * 33, 8, 0);
    assert_eq!(lrs_of(&mut g, 0, 4).1.used, 0);
    g.sync_lrs(1, &[0; 16]);
    assert_eq!(lrs_of(&mut g, 0, 4).1.used, 1, "line still high");
}

#[test]
fn sgi1r_decoding() {
    let mut g = booted(4);
    let sgi1r = |intid: u64, list: u64| intid << 24 | list;
    assert_eq!(g.sgi(0, sgi1r(5, 0b1010)), 0b1010);
    assert!(g.is_pending(1, 5) && g.is_pending(3, 5));
    assert!(!g.is_pending(0, 5) && !g.is_pending(2, 5));
    // IRM: all but the sender.
    assert_eq!(g.sgi(2, sgi1r(6, 0) | 1 << 40), 0b1011);
    assert!(!g.is_pending(2, 6));
    // Another Aff1, Aff2, Aff3 or range selector: nobody here.
    assert_eq!(g.sgi(0, sgi1r(7, 0xFFFF) | 1 << 16), 0);
    assert_eq!(g.sgi(0, sgi1r(7, 0xFFFF) | 1 << 32), 0);
    assert_eq!(g.sgi(0, sgi1r(7, 0xFFFF) | 1 << 48), 0);
    assert_eq!(g.sgi(0, sgi1r(7, 0xFFFF) | 1 << 44), 0);
    // Self-IPI.
    assert_eq!(g.sgi(0, sgi1r(1, 1)), 1);
    g.gicr_write(sgi_frame(0, 0x280), 4, 1 << 6); // Drop the SGI 6 from vCPU 2.
    g.gicr_write(sgi_frame(0, 0x100), 4, 0xFFFF);
    let (lrs, r) = lrs_of(&mut g, 0, 4);
    assert_eq!(r.used, 1);
    assert_eq!(ich_lr::vintid(lrs[0]), 1);
    assert!(!g.is_pending(0, 1), "the edge moved into the list register");
    // Still pending in the list register at the exit: pending again.
    g.sync_lrs(0, &lrs);
    assert!(g.is_pending(0, 1));
    // Acknowledged: active, not pending; EOIed: gone.
    let (lrs, _) = lrs_of(&mut g, 0, 4);
    g.sync_lrs(
        0,
        &[
            with_state(lrs[0], false, true),
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ],
    );
    assert!(g.is_active(0, 1) && !g.is_pending(0, 1));
    let (lrs, _) = lrs_of(&mut g, 0, 4);
    assert!(ich_lr::is_active(lrs[0]) && !ich_lr::is_pending(lrs[0]));
    g.sync_lrs(0, &[0; 16]);
    assert!(!g.is_active(0, 1) && !g.is_pending(0, 1));
    // A vCPU out of range sends nothing odd.
    assert_eq!(g.sgi(99, sgi1r(2, 1) | 1 << 40), 0b1111);
}

#[test]
fn list_registers_by_priority_with_active_first() {
    let mut g = booted(1);
    g.gicr_write(sgi_frame(0, 0x100), 4, 0xFFFF_FFFF);
    g.gicd_write(0x104, 4, 0xFFFF_FFFF);
    for (intid, prio) in [
        (2u64, 0x80u64),
        (3, 0x40),
        (33, 0x40),
        (40, 0x10),
        (41, 0xF0),
    ] {
        let off = 0x400 + intid;
        if intid < 32 {
            g.gicr_write(sgi_frame(0, off), 1, prio);
        } else {
            g.gicd_write(off, 1, prio);
        }
    }
    g.gicr_write(sgi_frame(0, 0x200), 4, 0b1100);
    g.gicd_write(0x204, 4, 1 << 1 | 1 << 8 | 1 << 9);
    g.gicd_write(0x304, 4, 1 << 9); // 41 active (and pending).
    let (lrs, r) = lrs_of(&mut g, 0, 4);
    assert_eq!(
        r,
        FillResult {
            used: 4,
            overflow: true
        }
    );
    let ids: [u32; 4] = core::array::from_fn(|i| ich_lr::vintid(lrs[i]));
    assert_eq!(ids, [41, 40, 3, 33]);
    assert!(ich_lr::is_active(lrs[0]) && ich_lr::is_pending(lrs[0]));
    assert_eq!((lrs[1] & ich_lr::PRIORITY_MASK) >> 48, 0x10);
    // Filling again without a sync takes the list registers back untouched: nothing lost,
    // nothing twice.
    let (again, _) = lrs_of(&mut g, 0, 4);
    assert_eq!(again, lrs);
    // More list registers than the cap of 16, or none at all.
    let (_, r) = lrs_of(&mut g, 0, 99);
    assert_eq!(
        r,
        FillResult {
            used: 5,
            overflow: false
        }
    );
    let (lrs, r) = lrs_of(&mut g, 0, 0);
    assert_eq!(
        (lrs, r),
        (
            [0; 16],
            FillResult {
                used: 0,
                overflow: true
            }
        )
    );
}

#[test]
fn a_returned_list_register_with_another_vintid_counts_as_untouched() {
    let mut g = booted(1);
    g.gicr_write(sgi_frame(0, 0x100), 4, 1 << 4);
    g.sgi(0, 4 << 24 | 1);
    let (lrs, _) = lrs_of(&mut g, 0, 1);
    g.sync_lrs(0, &[with_state(lrs[0], false, true) ^ 1; 16]);
    assert!(g.is_pending(0, 4) && !g.is_active(0, 4));
    // Unknown vCPUs are ignored.
    g.sync_lrs(7, &[u64::MAX; 16]);
    let mut l = [u64::MAX; 16];
    assert_eq!(g.fill_lrs(7, &mut l, 4), FillResult::default());
    assert_eq!(l, [0; 16]);
}

#[test]
fn line_ignores_sgis_and_unknown_intids() {
    let mut g = gic(1);
    assert_eq!(g.line(3, 0, true), None);
    assert!(!g.is_pending(0, 3));
    assert_eq!(g.line(NR_IRQS as u32, 0, true), None);
    assert_eq!(g.line(u32::MAX, 0, true), None);
    assert_eq!(g.line(27, 5, true), None, "no such vCPU");
}

/// A small deterministic generator for the hostile-access test.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 ^ (self.0 >> 29)
    }
}

#[test]
fn hostile_accesses_never_panic() {
    let mut g = gic(MAX_VCPUS);
    // Every offset of the distributor and of the first redistributor with every size.
    for off in (0..GICD_SIZE).chain(0..GICR_STRIDE + 64) {
        for size in [0usize, 1, 2, 3, 4, 8, 16] {
            let _ = g.gicd_read(off, size);
            let _ = g.gicr_read(off, size);
        }
    }
    let mut rng = Lcg(0x5EED);
    for _ in 0..200_000 {
        let off = match rng.next() % 3 {
            0 => rng.next(),
            1 => rng.next() % 0x10000,
            _ => rng.next() % (GICR_STRIDE * 9),
        };
        let size = [0usize, 1, 2, 4, 8, usize::MAX][(rng.next() % 6) as usize];
        let value = rng.next();
        g.gicd_write(off, size, value);
        g.gicr_write(off, size, value);
        let _ = g.gicd_read(off, size);
        let _ = g.gicr_read(off, size);
        let _ = g.sgi(rng.next() as usize, value);
        let _ = g.line(
            rng.next() as u32 % 128,
            rng.next() as usize % 10,
            value & 1 != 0,
        );
        let v = rng.next() as usize % 10;
        let mut lrs = [0u64; 16];
        let _ = g.fill_lrs(v, &mut lrs, rng.next() as usize % 20);
        for lr in &lrs {
            assert_eq!(lr & ich_lr::HW, 0);
        }
        let mut back = lrs;
        back[(value % 16) as usize] = rng.next();
        g.sync_lrs(v, &back);
    }
}
