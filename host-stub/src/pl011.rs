//! An Arm PL011 UART emulated as the realm's console, from the MMIO accesses the realm makes to
//! its 4 KiB window.
//!
//! It owns the UART's register state, a small receive ring ([`RX_CAPACITY`] bytes) and the
//! level of its interrupt output ([`Pl011::irq_line`], for the vGIC's SPI). Transmitted bytes
//! go to a [`ConsoleSink`]; input comes from [`Pl011::push_input`]. It must not touch the vGIC,
//! the RMM or the RecRun page: the caller routes accesses here and drives the interrupt line.
//! Offsets, sizes and values come from the realm and are untrusted: anything unknown reads as
//! zero and ignores writes.
//!
//! The model (facts from the PL011 TRM, and what Linux's `amba-pl011` driver touches):
//! - Transmission never waits: `UARTFR` shows TXFE and never BUSY or TXFF, so `UARTFR` is
//!   0x90 (TXFE | RXFE) with no input, RXFE clear while input is queued, RXFF when the ring is
//!   full. A write to `UARTDR` sends its low byte at once; a read pops the oldest input byte.
//! - `UARTCR`, `UARTLCR_H`, `UARTIBRD`, `UARTFBRD`, `UARTIFLS`, `UARTIMSC`, `UARTDMACR` and
//!   `UARTILPR` are stored (masked to their widths) and have no other effect: the line is never
//!   disabled, no baud rate applies.
//! - Interrupts: RXRIS and RTRIS (receive timeout) are raised while input is queued; TXRIS is
//!   raised when a byte is sent (the FIFO drains at once, passing through its trigger level)
//!   and cleared by `UARTICR`. `UARTMIS` = `UARTRIS` & `UARTIMSC`; the
//!   interrupt output is high while `UARTMIS` is not zero.
//! - `UARTPeriphID0..3` read 0x00341011 and `UARTPCellID0..3` 0xB105F00D, one byte per
//!   register, so an AMBA bus probe finds a PL011.
//! - Accesses of 1, 2 or 4 bytes at a register's offset are served; others read as zero.

use heapless::Deque;

/// Size of the UART's MMIO window.
pub const PL011_SIZE: u64 = 0x1000;
/// Bytes of input the receive ring holds.
pub const RX_CAPACITY: usize = 64;
/// The peripheral ID an AMBA probe reads (part 0x011, designer Arm 0x41, revision 3).
pub const PERIPH_ID: u32 = 0x0034_1011;
/// The PrimeCell ID.
pub const PCELL_ID: u32 = 0xB105_F00D;

/// Register offsets.
pub mod reg {
    /// Data register.
    pub const DR: u64 = 0x000;
    /// Receive status / error clear.
    pub const RSR_ECR: u64 = 0x004;
    /// Flag register.
    pub const FR: u64 = 0x018;
    /// IrDA low-power counter.
    pub const ILPR: u64 = 0x020;
    /// Integer baud rate divisor.
    pub const IBRD: u64 = 0x024;
    /// Fractional baud rate divisor.
    pub const FBRD: u64 = 0x028;
    /// Line control.
    pub const LCR_H: u64 = 0x02C;
    /// Control.
    pub const CR: u64 = 0x030;
    /// Interrupt FIFO level select.
    pub const IFLS: u64 = 0x034;
    /// Interrupt mask set/clear.
    pub const IMSC: u64 = 0x038;
    /// Raw interrupt status.
    pub const RIS: u64 = 0x03C;
    /// Masked interrupt status.
    pub const MIS: u64 = 0x040;
    /// Interrupt clear.
    pub const ICR: u64 = 0x044;
    /// DMA control.
    pub const DMACR: u64 = 0x048;
    /// `UARTPeriphID0`; ID1..ID3 follow at 4-byte steps.
    pub const PERIPH_ID0: u64 = 0xFE0;
    /// `UARTPCellID0`; ID1..ID3 follow at 4-byte steps.
    pub const PCELL_ID0: u64 = 0xFF0;
}

/// `UARTFR` bits.
pub mod fr {
    /// Transmit FIFO empty.
    pub const TXFE: u32 = 1 << 7;
    /// Receive FIFO full.
    pub const RXFF: u32 = 1 << 6;
    /// Transmit FIFO full.
    pub const TXFF: u32 = 1 << 5;
    /// Receive FIFO empty.
    pub const RXFE: u32 = 1 << 4;
    /// Busy transmitting.
    pub const BUSY: u32 = 1 << 3;
}

/// Interrupt bits of `UARTRIS`, `UARTMIS`, `UARTIMSC` and `UARTICR`.
pub mod int {
    /// Receive.
    pub const RX: u32 = 1 << 4;
    /// Transmit.
    pub const TX: u32 = 1 << 5;
    /// Receive timeout.
    pub const RT: u32 = 1 << 6;
    /// Every interrupt bit (modem, receive, transmit, timeout, errors).
    pub const ALL: u32 = 0x7FF;
}

/// Where transmitted bytes go.
pub trait ConsoleSink {
    /// One byte the realm wrote to `UARTDR`.
    fn put(&mut self, byte: u8);
}

/// A PL011 (see the module documentation).
#[derive(Clone, Debug)]
pub struct Pl011<S: ConsoleSink> {
    sink: S,
    rx: Deque<u8, RX_CAPACITY>,
    ilpr: u32,
    ibrd: u32,
    fbrd: u32,
    lcr_h: u32,
    cr: u32,
    ifls: u32,
    imsc: u32,
    dmacr: u32,
    /// Latched interrupt bits (TX); RX and RT follow the ring.
    tx_raised: bool,
}

impl<S: ConsoleSink> Pl011<S> {
    /// A UART in its reset state (`UARTCR` 0x300: TXE | RXE, `UARTIFLS` 0x12) sending to `sink`.
    pub const fn new(sink: S) -> Self {
        Self {
            sink,
            rx: Deque::new(),
            ilpr: 0,
            ibrd: 0,
            fbrd: 0,
            lcr_h: 0,
            cr: 0x300,
            ifls: 0x12,
            imsc: 0,
            dmacr: 0,
            tx_raised: false,
        }
    }

    /// The sink.
    pub const fn sink(&self) -> &S {
        &self.sink
    }

    /// The sink, writable.
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    /// Queues one input byte for the realm; `Err(byte)` if the ring is full.
    pub fn push_input(&mut self, byte: u8) -> Result<(), u8> {
        self.rx.push_back(byte)
    }

    /// Input bytes queued.
    pub fn input_len(&self) -> usize {
        self.rx.len()
    }

    /// `UARTRIS`.
    pub fn raw_interrupts(&self) -> u32 {
        let mut ris = 0;
        if !self.rx.is_empty() {
            ris |= int::RX | int::RT;
        }
        if self.tx_raised {
            ris |= int::TX;
        }
        ris
    }

    /// `UARTMIS`.
    pub fn masked_interrupts(&self) -> u32 {
        self.raw_interrupts() & self.imsc
    }

    /// The level of the UART's interrupt output (the SPI line).
    pub fn irq_line(&self) -> bool {
        self.masked_interrupts() != 0
    }

    /// `UARTFR`.
    pub fn flags(&self) -> u32 {
        let mut v = fr::TXFE;
        if self.rx.is_empty() {
            v |= fr::RXFE;
        }
        if self.rx.is_full() {
            v |= fr::RXFF;
        }
        v
    }

    /// The register at `offset`, if the access (`size` bytes) is one the UART serves.
    fn register(offset: u64, size: usize) -> Option<u64> {
        (matches!(size, 1 | 2 | 4) && offset.is_multiple_of(4) && offset < PL011_SIZE)
            .then_some(offset)
    }

    /// A read of `size` bytes at `offset` (a `UARTDR` read pops one input byte).
    pub fn read(&mut self, offset: u64, size: usize) -> u64 {
        let Some(offset) = Self::register(offset, size) else {
            return 0;
        };
        let id_byte = |id: u32, base: u64| (id >> (8 * ((offset - base) / 4))) & 0xFF;
        let v = match offset {
            reg::DR => self.rx.pop_front().map_or(0, u32::from),
            reg::FR => self.flags(),
            reg::ILPR => self.ilpr,
            reg::IBRD => self.ibrd,
            reg::FBRD => self.fbrd,
            reg::LCR_H => self.lcr_h,
            reg::CR => self.cr,
            reg::IFLS => self.ifls,
            reg::IMSC => self.imsc,
            reg::RIS => self.raw_interrupts(),
            reg::MIS => self.masked_interrupts(),
            reg::DMACR => self.dmacr,
            0xFE0..0xFF0 => id_byte(PERIPH_ID, reg::PERIPH_ID0),
            0xFF0..0x1000 => id_byte(PCELL_ID, reg::PCELL_ID0),
            // RSR/ECR (no errors), ICR (write-only) and everything else.
            _ => 0,
        };
        u64::from(v) & crate::mmio::size_mask(size)
    }

    /// A write of `value` (`size` bytes) at `offset`.
    pub fn write(&mut self, offset: u64, size: usize, value: u64) {
        let Some(offset) = Self::register(offset, size) else {
            return;
        };
        let v = (value & crate::mmio::size_mask(size)) as u32;
        match offset {
            reg::DR => {
                self.sink.put(v as u8);
                // The byte leaves at once: the FIFO passes its trigger level on the way down.
                self.tx_raised = true;
            }
            reg::ILPR => self.ilpr = v & 0xFF,
            reg::IBRD => self.ibrd = v & 0xFFFF,
            reg::FBRD => self.fbrd = v & 0x3F,
            reg::LCR_H => self.lcr_h = v & 0xFF,
            reg::CR => self.cr = v & 0xFF87,
            reg::IFLS => self.ifls = v & 0x3F,
            reg::IMSC => self.imsc = v & int::ALL,
            reg::ICR if v & int::TX != 0 => self.tx_raised = false,
            reg::DMACR => self.dmacr = v & 0x7,
            // RSR/ECR (there are no errors to clear), the RX bits of ICR (they follow the ring),
            // read-only and unknown registers.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Out(heapless::Vec<u8, 64>);

    impl ConsoleSink for Out {
        fn put(&mut self, byte: u8) {
            let _ = self.0.push(byte);
        }
    }

    fn uart() -> Pl011<Out> {
        Pl011::new(Out::default())
    }

    #[test]
    fn writes_to_dr_are_output() {
        let mut u = uart();
        for b in b"ok\n" {
            u.write(reg::DR, 2, u64::from(*b) | 0xFF00);
        }
        u.write(reg::DR, 1, b'!' as u64);
        assert_eq!(&u.sink().0[..], b"ok\n!");
    }

    #[test]
    fn flags_idle_with_input_and_full() {
        let mut u = uart();
        assert_eq!(u.read(reg::FR, 2), 0x90);
        assert_eq!(u.read(reg::FR, 4), 0x90);
        u.push_input(b'a').unwrap();
        assert_eq!(u.read(reg::FR, 2), 0x80, "RXFE clear");
        assert_eq!(u.read(reg::DR, 2), u64::from(b'a'));
        assert_eq!(u.read(reg::FR, 2), 0x90);
        assert_eq!(u.read(reg::DR, 2), 0, "empty: zero");
        for i in 0..RX_CAPACITY {
            u.push_input(i as u8).unwrap();
        }
        assert_eq!(u.push_input(0xEE), Err(0xEE));
        assert_eq!(u.read(reg::FR, 4), 0x80 | 0x40, "RXFF");
        for i in 0..RX_CAPACITY {
            assert_eq!(u.read(reg::DR, 4), i as u64, "in order");
        }
        assert_eq!(u.input_len(), 0);
    }

    #[test]
    fn configuration_registers_are_stored() {
        let mut u = uart();
        assert_eq!(u.read(reg::CR, 2), 0x300);
        for (off, val, back) in [
            (reg::IBRD, 0x1_0013u64, 0x13u64),
            (reg::FBRD, 0xFF, 0x3F),
            (reg::LCR_H, 0x170, 0x70),
            (reg::CR, 0x301, 0x301),
            (reg::IFLS, 0x3FF, 0x3F),
            (reg::IMSC, 0xFFFF, 0x7FF),
            (reg::DMACR, 0xF, 0x7),
            (reg::ILPR, 0x1FF, 0xFF),
        ] {
            u.write(off, 4, val);
            assert_eq!(u.read(off, 4), back, "offset {off:#x}");
        }
        u.write(reg::RSR_ECR, 4, 0xFF);
        assert_eq!(u.read(reg::RSR_ECR, 4), 0);
        assert_eq!(u.read(reg::ICR, 4), 0);
    }

    #[test]
    fn rx_interrupt_follows_the_mask() {
        let mut u = uart();
        u.push_input(b'x').unwrap();
        assert_eq!(u.read(reg::RIS, 2), u64::from(int::RX | int::RT));
        assert_eq!(u.read(reg::MIS, 2), 0);
        assert!(!u.irq_line());
        u.write(reg::IMSC, 2, u64::from(int::RX | int::RT));
        assert_eq!(u.read(reg::MIS, 2), u64::from(int::RX | int::RT));
        assert!(u.irq_line());
        // Clearing does not drop it while input is queued; reading the data does.
        u.write(reg::ICR, 2, u64::from(int::ALL));
        assert!(u.irq_line());
        u.read(reg::DR, 2);
        assert!(!u.irq_line());
        assert_eq!(u.read(reg::RIS, 2), 0);
    }

    #[test]
    fn tx_interrupt_is_raised_by_a_send_and_cleared_by_icr() {
        let mut u = uart();
        u.write(reg::IMSC, 2, u64::from(int::TX));
        assert!(!u.irq_line());
        u.write(reg::DR, 2, 0x41);
        assert!(u.irq_line());
        assert_eq!(u.read(reg::MIS, 2), u64::from(int::TX));
        u.write(reg::ICR, 2, u64::from(int::TX));
        assert!(!u.irq_line());
    }

    #[test]
    fn amba_identification() {
        let mut u = uart();
        let mut periph = 0u32;
        let mut cell = 0u32;
        for i in 0..4u64 {
            periph |= (u.read(reg::PERIPH_ID0 + 4 * i, 4) as u32) << (8 * i);
            cell |= (u.read(reg::PCELL_ID0 + 4 * i, 4) as u32) << (8 * i);
        }
        assert_eq!(periph, PERIPH_ID);
        assert_eq!(cell, PCELL_ID);
        assert_eq!(u.read(reg::PCELL_ID0 + 12, 1), 0xB1);
    }

    #[test]
    fn hostile_accesses_never_panic_and_odd_ones_are_ignored() {
        let mut u = uart();
        u.push_input(1).unwrap();
        for off in (0..0x1100u64).chain([u64::MAX, u64::MAX - 3, 1 << 63]) {
            for size in [0usize, 1, 2, 3, 4, 8, usize::MAX] {
                if off == reg::DR {
                    continue;
                }
                let _ = u.read(off, size);
                u.write(off, size, u64::MAX);
            }
        }
        // Misaligned or 8-byte accesses do nothing.
        assert_eq!(u.read(reg::FR + 1, 1), 0);
        assert_eq!(u.read(reg::FR, 8), 0);
        u.write(reg::DR + 2, 2, 0x41);
        u.write(reg::DR, 8, 0x41);
        assert_eq!(u.input_len(), 1);
        assert!(
            u.sink().0.iter().all(|&b| b == 0xFF),
            "only aligned DR writes sent"
        );
    }
}
