//! Test support: the host stub's conduit and memory over the RMM's simulated platform
//! (`rmm::sim`, an EL3 double with a GPT and simulated DRAM), so its scenarios run against the
//! RMM's real handlers.

use rmm::sim::Sim;

use crate::{Conduit, HostMemory};

/// SMCs go to the RMM dispatcher as TF-A's RMMD would forward them (x1..x5 of the RMM's
/// REQ_COMPLETE become the host's x0..x4); memory is the simulation's DRAM.
pub struct SimHost<'a>(pub &'a Sim);

impl Conduit for SimHost<'_> {
    fn smc(&mut self, regs: [u64; 8]) -> [u64; 8] {
        let out = rmm::rmi::handle(&self.0.ctx(), &regs);
        let mut r = [0; 8];
        r[..5].copy_from_slice(&out);
        r
    }
}

impl HostMemory for SimHost<'_> {
    fn fill(&mut self, pa: u64, byte: u8) {
        self.0.mem.write(pa, &[byte; 4096]);
    }

    fn all_equal(&self, pa: u64, byte: u8) -> bool {
        self.0.mem.read(pa).iter().all(|&b| b == byte)
    }

    /// Across granules too (the image's accessor is not limited to one either).
    fn read(&self, pa: u64, buf: &mut [u8]) {
        let mut done = 0;
        while done < buf.len() {
            let at = pa + done as u64;
            let page = self.0.mem.read(at & !0xFFF);
            let off = (at & 0xFFF) as usize;
            let n = (4096 - off).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&page[off..off + n]);
            done += n;
        }
    }

    /// Across granules too.
    fn write(&mut self, pa: u64, data: &[u8]) {
        let mut done = 0;
        while done < data.len() {
            let at = pa + done as u64;
            let mut page = self.0.mem.read(at & !0xFFF);
            let off = (at & 0xFFF) as usize;
            let n = (4096 - off).min(data.len() - done);
            page[off..off + n].copy_from_slice(&data[done..done + n]);
            self.0.mem.write(at & !0xFFF, &page);
            done += n;
        }
    }
}
