//! A running realm for tests and fuzz harnesses outside this crate: an ACTIVE realm with one
//! runnable REC at PC 0, DATA at IPA 0 and [`HC_IPA`] and a RecRun page, set up through
//! [`Sim::call`] as a host would (the same shape as the host tests' `Running` fixture).
//!
//! The realm: 40-bit IPA from level 1 with two concatenated starting tables; Protected IPAs are
//! `[0, 2^39)`, Unprotected ones `[2^39, 2^40)`. Nothing is mapped at Unprotected IPAs.

use hostcall_abi::host_call::RsiHostCall;
use hostcall_abi::realm_params::RmiRealmParams;
use hostcall_abi::rec_params::{rec_index_to_mpidr, RmiRecCreateFlags, RmiRecParams};
use hostcall_abi::rec_run::{RmiRecEnter, RmiRecExit};
use hostcall_abi::rmi::RmiCommand;
use hostcall_abi::wire::Wire;
use hostcall_abi::GRANULE_SIZE;

use super::Sim;
use crate::rec::AUX_GRANULES;

const G: u64 = GRANULE_SIZE as u64;

/// The realm's RD.
pub const RD: u64 = 0x8000_0000;
/// Its two starting-level RTTs (8 KiB aligned).
pub const RTT_BASE: u64 = 0x8000_2000;
/// Granules delegated for the realm's other objects, in order.
const POOL: u64 = 0x8100_0000;
/// NS pages the host writes parameter blocks to.
const NS_POOL: u64 = 0x8C00_0000;
/// The RecRun page.
pub const RUN: u64 = 0x8D00_0000;
/// IPA of the DATA page the realm keeps its RsiHostCall in (its code starts at IPA 0).
pub const HC_IPA: u64 = 0x1000;
/// The first Unprotected IPA.
pub const UNPROTECTED: u64 = 1 << 39;
/// The first IPA outside the realm.
pub const IPA_LIMIT: u64 = 1 << 40;

/// A simulated monitor with one ACTIVE realm and one runnable REC.
pub struct RunningRealm {
    /// The monitor.
    pub sim: Sim,
    /// The realm's RD.
    pub rd: u64,
    /// The REC (index 0, MPIDR 0).
    pub rec: u64,
    /// The RecRun page (NS).
    pub run: u64,
    /// The DATA granules at IPA 0 and at [`HC_IPA`].
    pub data: [u64; 2],
    /// Every granule delegated for the realm (RD, RTTs, DATA, REC and its auxiliary granules).
    pub delegated: Vec<u64>,
}

impl RunningRealm {
    /// The realm on a fresh QEMU-layout monitor; DATA at IPA 0 and [`HC_IPA`] holds `contents`
    /// of each page. Panics if the monitor refuses a step (a bug the caller should see).
    pub fn new(contents: [&[u8; GRANULE_SIZE]; 2]) -> Self {
        let sim = Sim::qemu();
        let mut delegated = Vec::new();
        let mut next = POOL;
        let mut ns = NS_POOL;
        let call = |cmd: RmiCommand, args: &[u64]| {
            let out = sim.call(cmd.fid() as u64, args);
            assert_eq!(out[0], 0, "{} {args:#x?} -> {out:#x?}", cmd.name());
            out
        };
        let delegate = |pa: u64, delegated: &mut Vec<u64>| {
            call(RmiCommand::GRANULE_DELEGATE, &[pa]);
            delegated.push(pa);
            pa
        };
        let mut fresh = |delegated: &mut Vec<u64>| {
            let pa = next;
            next += G;
            delegate(pa, delegated)
        };
        let mut ns_page = |bytes: &[u8; GRANULE_SIZE]| {
            let pa = ns;
            ns += G;
            sim.mem.write(pa, bytes);
            pa
        };

        for pa in [RD, RTT_BASE, RTT_BASE + G] {
            call(RmiCommand::GRANULE_DELEGATE, &[pa]);
            delegated.push(pa);
        }
        let mut p = RmiRealmParams::ZERO;
        p.s2sz = 40;
        p.num_bps = 1;
        p.num_wps = 1;
        p.vmid = 1;
        p.rtt_base = RTT_BASE;
        p.rtt_level_start = 1;
        p.rtt_num_start = 2;
        let mut page = [0u8; GRANULE_SIZE];
        p.encode(&mut page).expect("realm params fit a granule");
        call(RmiCommand::REALM_CREATE, &[RD, ns_page(&page)]);

        for (ipa, level) in [(0, 2u64), (0, 3)] {
            let rtt = fresh(&mut delegated);
            call(RmiCommand::RTT_CREATE, &[RD, rtt, ipa, level]);
        }
        let mut data = [0; 2];
        for (i, ipa) in [0, HC_IPA].into_iter().enumerate() {
            let granule = fresh(&mut delegated);
            let src = ns_page(contents[i]);
            call(RmiCommand::DATA_CREATE, &[RD, granule, ipa, src, 0]);
            data[i] = granule;
        }

        let rec = fresh(&mut delegated);
        let mut p = RmiRecParams::ZERO;
        p.flags = RmiRecCreateFlags::RUNNABLE;
        p.mpidr = rec_index_to_mpidr(0).expect("index 0");
        p.num_aux = AUX_GRANULES;
        for slot in p.aux.iter_mut().take(AUX_GRANULES as usize) {
            *slot = fresh(&mut delegated);
        }
        let mut page = [0u8; GRANULE_SIZE];
        p.encode(&mut page).expect("REC params fit a granule");
        call(RmiCommand::REC_CREATE, &[RD, rec, ns_page(&page)]);
        call(RmiCommand::REALM_ACTIVATE, &[RD]);
        sim.mem.write(RUN, &[0; GRANULE_SIZE]);
        Self {
            sim,
            rd: RD,
            rec,
            run: RUN,
            data,
            delegated,
        }
    }

    /// Writes rec_enter into the RecRun page (leaving rec_exit as it is).
    pub fn set_enter(&self, enter: &RmiRecEnter) {
        let mut page = self.sim.mem.read(self.run);
        enter.encode(&mut page[..0x800]).expect("rec_enter fits");
        self.sim.mem.write(self.run, &page);
    }

    /// RMI_REC_ENTER of the REC with the RecRun page; returns x0..x4.
    pub fn enter(&self) -> [u64; 5] {
        self.sim
            .call(RmiCommand::REC_ENTER.fid() as u64, &[self.rec, self.run])
    }

    /// rec_exit as the last REC_ENTER left it.
    pub fn exit(&self) -> RmiRecExit {
        RmiRecExit::decode(&self.sim.mem.read(self.run)[0x800..]).expect("rec_exit fits")
    }

    /// Writes the realm's RsiHostCall at the start of the DATA page at [`HC_IPA`] (as the realm
    /// would).
    pub fn write_host_call(&self, hc: &RsiHostCall) {
        let mut page = self.sim.mem.read(self.data[1]);
        hc.encode(&mut page[..0x100]).expect("RsiHostCall fits");
        self.sim.mem.write(self.data[1], &page);
    }

    /// The RsiHostCall in the DATA page at [`HC_IPA`].
    pub fn read_host_call(&self) -> RsiHostCall {
        RsiHostCall::decode(&self.sim.mem.read(self.data[1])[..0x100]).expect("RsiHostCall fits")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::granule::GranuleState;

    #[test]
    fn the_realm_runs_and_exits_on_an_irq() {
        let r = RunningRealm::new([&[0x11; GRANULE_SIZE], &[0x22; GRANULE_SIZE]]);
        assert_eq!(
            r.sim.granules.peek(r.rec).expect("tracked").0,
            GranuleState::Rec
        );
        assert_eq!(r.sim.mem.read(r.data[0]), [0x11; GRANULE_SIZE]);
        assert_eq!(r.enter()[0], 0);
        assert_eq!(r.exit().exit_reason, 1, "IRQ: nothing scripted");
    }
}
