//! The cold-boot registers EL3 hands the RMM (x0..x3) and the boot manifest in the shared buffer,
//! decoded from the input, through `rmm::boot::cold_boot` (then `tracking_words` and
//! `warm_boot` on what it accepted). Besides "no panic", the result is checked against an
//! independent reading of the RMM-EL3 interface: the registers are accepted exactly when they
//! are valid, the buffer is read only after they are and only at x3, and the manifest is accepted
//! exactly when its version is supported, both lists lie in the buffer with good checksums, and
//! the DRAM banks are granule aligned, non-empty, ascending and non-overlapping; what was
//! accepted is what the buffer says.
//!
//! Input: one byte of repairs (bit 0: make the registers valid; bit 1: point the bank list into
//! the buffer; bit 2: fix the DRAM checksum; bit 3: fix the console checksum), x0..x3, the four
//! ID registers, one word for `tracking_words`' room and one for a warm-boot CPU (8 bytes each,
//! little-endian), then the shared buffer (zero-padded to its size).

#![no_main]

use std::cell::Cell;

use hostcall_abi::el3::{BootStatus, ConsoleInfo, MemoryBank, SHARED_BUFFER_SIZE};
use libfuzzer_sys::fuzz_target;
use rmm::boot::{cold_boot, tracking_words, warm_boot, ColdBootArgs, MAX_DRAM_BANKS};
use rmm::features::IdRegisters;

const BUF: usize = SHARED_BUFFER_SIZE;
const GRANULE: u64 = 4096;

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        let n = self.0.len().min(8);
        b[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        u64::from_le_bytes(b)
    }
}

fn get(buf: &[u8; BUF], off: u64) -> u64 {
    let off = off as usize;
    u64::from_le_bytes(buf[off..off + 8].try_into().unwrap())
}

fn put(buf: &mut [u8; BUF], off: u64, v: u64) {
    let off = off as usize;
    buf[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// Offset in the buffer of `count` entries of `size` bytes at `ptr`, if they lie in it and are
/// 8-byte aligned.
fn within(ptr: u64, pa: u64, count: u64, size: u64) -> Option<u64> {
    let off = ptr.checked_sub(pa)?;
    let end = off.checked_add(count.checked_mul(size)?)?;
    (ptr.is_multiple_of(8) && end <= BUF as u64).then_some(off)
}

/// What the RMM must answer for this manifest: the banks and first console, or the status.
fn expected_manifest(
    buf: &[u8; BUF],
    pa: u64,
) -> Result<(Vec<MemoryBank>, Option<ConsoleInfo>), BootStatus> {
    let bad = BootStatus::ManifestDataError;
    let version = get(buf, 0) as u32;
    if (version >> 16) & 0x7FFF != 0 || version & 0xFFFF < 3 {
        return Err(BootStatus::ManifestVersionNotSupported);
    }
    let (n, ptr, sum) = (get(buf, 16), get(buf, 24), get(buf, 32));
    if n == 0 || n > MAX_DRAM_BANKS as u64 {
        return Err(bad);
    }
    let off = within(ptr, pa, n, 16).ok_or(bad)?;
    let banks: Vec<MemoryBank> = (0..n)
        .map(|i| MemoryBank {
            base: get(buf, off + 16 * i),
            size: get(buf, off + 16 * i + 8),
        })
        .collect();
    let total = banks
        .iter()
        .fold(n.wrapping_add(ptr).wrapping_add(sum), |s, b| {
            s.wrapping_add(b.base).wrapping_add(b.size)
        });
    if total != 0 {
        return Err(bad);
    }
    let mut prev_end = 0;
    for (i, b) in banks.iter().enumerate() {
        let end = b.base.checked_add(b.size).ok_or(bad)?;
        if b.base % GRANULE != 0 || b.size % GRANULE != 0 || b.size == 0 {
            return Err(bad);
        }
        if i > 0 && b.base < prev_end {
            return Err(bad);
        }
        prev_end = end;
    }
    let (n, ptr, sum) = (get(buf, 40), get(buf, 48), get(buf, 56));
    if n == 0 {
        return Ok((banks, None));
    }
    let off = within(ptr, pa, n, 48).ok_or(bad)?;
    let consoles: Vec<ConsoleInfo> = (0..n)
        .map(|i| {
            let e = off + 48 * i;
            ConsoleInfo {
                base: get(buf, e),
                map_pages: get(buf, e + 8),
                name: buf[e as usize + 16..e as usize + 24].try_into().unwrap(),
                clk_in_hz: get(buf, e + 24),
                baud_rate: get(buf, e + 32),
                flags: get(buf, e + 40),
            }
        })
        .collect();
    if consoles
        .iter()
        .any(|c| c.base == 0 || c.base % GRANULE != 0 || c.map_pages == 0)
    {
        return Err(bad);
    }
    let total = consoles
        .iter()
        .fold(n.wrapping_add(ptr).wrapping_add(sum), |s, c| {
            s.wrapping_add(c.base)
                .wrapping_add(c.map_pages)
                .wrapping_add(c.clk_in_hz)
                .wrapping_add(c.baud_rate)
        });
    if total != 0 {
        return Err(bad);
    }
    Ok((banks, consoles.first().copied()))
}

/// The status the registers alone must produce, if any.
fn register_error(a: &ColdBootArgs) -> Option<BootStatus> {
    let (major, minor) = ((a.ifc_version >> 16) & 0x7FFF, a.ifc_version & 0xFFFF);
    if a.ifc_version >> 31 != 0 || major != 0 || minor < 4 {
        return Some(BootStatus::VersionMismatch);
    }
    if a.num_cpus == 0 || a.num_cpus > 64 {
        return Some(BootStatus::CpusOutOfRange);
    }
    if a.cpu >= a.num_cpus {
        return Some(BootStatus::CpuIdOutOfRange);
    }
    let fits = a.shared_buf.checked_add(BUF as u64).is_some();
    if a.shared_buf == 0 || !a.shared_buf.is_multiple_of(GRANULE) || !fits {
        return Some(BootStatus::InvalidSharedBuffer);
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let repairs = data.first().copied().unwrap_or(0);
    input.0 = input.0.get(1..).unwrap_or(&[]);
    let mut args = ColdBootArgs {
        cpu: input.u64(),
        ifc_version: input.u64(),
        num_cpus: input.u64(),
        shared_buf: input.u64(),
    };
    let ids = IdRegisters {
        id_aa64mmfr0: input.u64(),
        id_aa64mmfr1: input.u64(),
        id_aa64dfr0: input.u64(),
        ich_vtr: input.u64(),
    };
    let room = input.u64() as usize % (1 << 24);
    let warm_cpu = input.u64() % 128;
    let mut buf = [0u8; BUF];
    let n = input.0.len().min(BUF);
    buf[..n].copy_from_slice(&input.0[..n]);

    if repairs & 1 != 0 {
        args.ifc_version = 4 + (args.ifc_version & 3);
        args.num_cpus = 1 + args.num_cpus % 64;
        args.cpu %= args.num_cpus;
        args.shared_buf = (args.shared_buf & 0xFFFF_FFFF_F000).max(GRANULE);
    }
    let pa = args.shared_buf;
    if repairs & 2 != 0 {
        let n = get(&buf, 16) % 8;
        put(&mut buf, 16, n);
        put(&mut buf, 24, pa.wrapping_add(64));
    }
    if repairs & 4 != 0 {
        if let Some(off) = within(get(&buf, 24), pa, get(&buf, 16), 16) {
            let words = (0..get(&buf, 16) * 2).map(|i| get(&buf, off + 8 * i));
            let s = words.fold(get(&buf, 16).wrapping_add(get(&buf, 24)), u64::wrapping_add);
            put(&mut buf, 32, s.wrapping_neg());
        }
    }
    if repairs & 8 != 0 {
        if let Some(off) = within(get(&buf, 48), pa, get(&buf, 40), 48) {
            let mut s = get(&buf, 40).wrapping_add(get(&buf, 48));
            for i in 0..get(&buf, 40) {
                for w in [0, 8, 24, 32] {
                    s = s.wrapping_add(get(&buf, off + 48 * i + w));
                }
            }
            put(&mut buf, 56, s.wrapping_neg());
        }
    }

    let reads = Cell::new(0u32);
    let result = cold_boot(args, ids, |at| {
        assert_eq!(
            at, args.shared_buf,
            "the shared buffer is read where x3 says"
        );
        reads.set(reads.get() + 1);
        buf
    });

    if let Some(status) = register_error(&args) {
        assert_eq!(result, Err(status), "registers {args:#x?}");
        assert_eq!(
            reads.get(),
            0,
            "the buffer was read before the registers passed"
        );
        return;
    }
    assert_eq!(reads.get(), 1, "valid registers: the buffer is read once");
    let expected = expected_manifest(&buf, pa);
    match (&result, &expected) {
        (Ok(rmm), Ok((banks, console))) => {
            assert_eq!(rmm.num_cpus as u64, args.num_cpus);
            assert_eq!(rmm.platform.dram.as_slice(), banks.as_slice());
            assert_eq!(&rmm.platform.console, console);
            let _ = tracking_words(&rmm.platform, room);
            let warm = warm_boot(Some(rmm), warm_cpu);
            assert_eq!(
                warm.is_ok(),
                warm_cpu < args.num_cpus,
                "warm boot of CPU {warm_cpu}"
            );
        }
        (Err(got), Err(want)) => assert_eq!(got, want, "manifest status"),
        (got, want) => panic!(
            "manifest accepted/rejected wrongly: the RMM says {:?}, it should be {:?}",
            got.as_ref().map(|r| &r.platform),
            want
        ),
    }
});
