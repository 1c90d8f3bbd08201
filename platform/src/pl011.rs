//! Arm PrimeCell PL011 UART: transmit side only, which is all the firmware needs for a console.

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
use tock_registers::{register_bitfields, register_structs};

register_bitfields! [u32,
    /// Flag register.
    FR [
        /// Transmit FIFO full.
        TXFF OFFSET(5) NUMBITS(1) [],
        /// Receive FIFO empty.
        RXFE OFFSET(4) NUMBITS(1) [],
        /// UART busy transmitting.
        BUSY OFFSET(3) NUMBITS(1) []
    ],
    /// Line control register.
    LCR_H [
        /// Word length: 8 bits.
        WLEN OFFSET(5) NUMBITS(2) [Eight = 0b11],
        /// FIFOs enabled.
        FEN OFFSET(4) NUMBITS(1) []
    ],
    /// Control register.
    CR [
        /// Receive enable.
        RXE OFFSET(9) NUMBITS(1) [],
        /// Transmit enable.
        TXE OFFSET(8) NUMBITS(1) [],
        /// UART enable.
        UARTEN OFFSET(0) NUMBITS(1) []
    ]
];

register_structs! {
    /// The PL011 register block.
    pub Pl011Registers {
        (0x000 => dr: ReadWrite<u32>),
        (0x004 => _reserved0),
        (0x018 => fr: ReadOnly<u32, FR::Register>),
        (0x01C => _reserved1),
        (0x024 => ibrd: WriteOnly<u32>),
        (0x028 => fbrd: WriteOnly<u32>),
        (0x02C => lcr_h: WriteOnly<u32, LCR_H::Register>),
        (0x030 => cr: WriteOnly<u32, CR::Register>),
        (0x034 => _reserved2),
        (0x1000 => @END),
    }
}

/// Divisors for a baud rate: 16 * baud * divisor = clock, with a 6-bit fraction.
/// `None` when the clock cannot produce the rate (e.g. a model's nominal 1 Hz clock): the caller
/// then leaves the firmware's earlier setup alone.
pub const fn baud_divisors(clk_in_hz: u64, baud: u64) -> Option<(u32, u32)> {
    if baud == 0 {
        return None;
    }
    // Divisor in 1/64 units, rounded to nearest: 64 * clk / (16 * baud) = 4 * clk / baud.
    let div64 = match clk_in_hz.checked_mul(8) {
        Some(num) => (num / baud).div_ceil(2),
        None => return None,
    };
    let ibrd = div64 >> 6;
    if ibrd == 0 || ibrd > 0xFFFF {
        return None;
    }
    Some((ibrd as u32, (div64 & 0x3F) as u32))
}

/// A PL011 at a fixed MMIO address.
pub struct Pl011 {
    regs: *const Pl011Registers,
}

// SAFETY: 1. The register block is MMIO owned by whoever constructed the driver; sharing it
// across CPUs is safe because callers serialise output with their own lock.
unsafe impl Send for Pl011 {}
// SAFETY: see `Send`: every access is a single volatile register access.
unsafe impl Sync for Pl011 {}

impl Pl011 {
    /// Creates a driver for the UART at `base`.
    ///
    /// # Safety
    /// 1. `base` must be the PA of a PL011 register block that is accessible (mapped, or the MMU
    ///    is off) for the lifetime of the driver.
    /// 2. Nothing else may program the UART concurrently in a conflicting way.
    pub const unsafe fn new(base: u64) -> Self {
        Self {
            regs: base as *const Pl011Registers,
        }
    }

    fn regs(&self) -> &Pl011Registers {
        // SAFETY: `new`'s contract makes `regs` a valid, live register block.
        unsafe { &*self.regs }
    }

    /// Programs 8N1 at `baud` if the clock allows it, and enables the transmitter.
    pub fn init(&self, clk_in_hz: u64, baud: u64) {
        if let Some((ibrd, fbrd)) = baud_divisors(clk_in_hz, baud) {
            let r = self.regs();
            r.cr.set(0);
            r.ibrd.set(ibrd);
            r.fbrd.set(fbrd);
            r.lcr_h.write(LCR_H::WLEN::Eight + LCR_H::FEN::SET);
            r.cr.write(CR::UARTEN::SET + CR::TXE::SET + CR::RXE::SET);
        }
    }

    /// Writes one byte, waiting while the transmit FIFO is full.
    pub fn write_byte(&self, b: u8) {
        let r = self.regs();
        while r.fr.is_set(FR::TXFF) {
            core::hint::spin_loop();
        }
        r.dr.set(b as u32);
    }

    /// Reads one received byte, if the receive FIFO holds one (never waits).
    pub fn read_byte(&self) -> Option<u8> {
        let r = self.regs();
        if r.fr.is_set(FR::RXFE) {
            return None;
        }
        Some(r.dr.get() as u8)
    }

    /// Writes text, turning `\n` into `\r\n`.
    pub fn write_str(&self, s: &str) {
        for b in s.bytes() {
            if b == b'\n' {
                self.write_byte(b'\r');
            }
            self.write_byte(b);
        }
    }
}

impl core::fmt::Write for Pl011 {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        Pl011::write_str(self, s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisors_for_fvp_uart_clock() {
        // 14.7456 MHz / (16 * 115200) = 8 exactly.
        assert_eq!(baud_divisors(14_745_600, 115_200), Some((8, 0)));
        // 24 MHz / (16 * 115200) = 13.0208: fraction 0.0208 * 64 = 1.33 -> 1.
        assert_eq!(baud_divisors(24_000_000, 115_200), Some((13, 1)));
    }

    #[test]
    fn nominal_clock_leaves_uart_alone() {
        assert_eq!(baud_divisors(1, 115_200), None);
        assert_eq!(baud_divisors(24_000_000, 0), None);
        assert_eq!(baud_divisors(u64::MAX, 1), None);
    }
}
