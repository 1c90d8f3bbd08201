//! Building and tearing down a realm the way a hypervisor would, and attacking the RMM on the way.
//!
//! [`build`] delegates granules from a pool of the host's own NS memory, creates a realm with
//! concatenated starting-level RTTs, RECs with auxiliary granules, activates it and reads it back.
//! [`adversarial`] then throws hostile arguments at the RMM (bad addresses, wrong granule states,
//! aliases, the wrong destruction order) and checks each refusal. [`teardown`] destroys the realm
//! and undelegates every granule. Each step names itself, so a failure says exactly what broke.

use heapless::Vec;
use hostcall_abi::realm_params::RmiRealmParams;
use hostcall_abi::rec_params::{rec_index_to_mpidr, RmiRecCreateFlags, RmiRecParams};
use hostcall_abi::rmi::{RmiCommand as C, RmiReturn, RmiStatus};
use hostcall_abi::wire::Wire;

use crate::rmi::RmiClient;
use crate::{Conduit, HostMemory};

const G: u64 = 4096;

/// A step that did not answer as expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What the step was.
    pub step: &'static str,
    /// What the RMM answered.
    pub got: RmiReturn,
    /// What it should have answered.
    pub want: RmiReturn,
}

/// Granules of the host's NS memory handed out in order.
pub struct Pool {
    next: u64,
    end: u64,
}

impl Pool {
    /// The granules `[base, base + size)`; `base` must be granule aligned.
    pub const fn new(base: u64, size: u64) -> Self {
        Self {
            next: base,
            end: base + size,
        }
    }

    /// `n` contiguous granules aligned to `n` granules.
    pub fn take(&mut self, n: u64) -> Result<u64, Failure> {
        let align = n * G;
        let pa = self.next.div_ceil(align) * align;
        if pa + align > self.end {
            return Err(Failure {
                step: "granule pool exhausted",
                got: RmiReturn::SUCCESS,
                want: RmiReturn::SUCCESS,
            });
        }
        self.next = pa + align;
        Ok(pa)
    }
}

/// The realm [`build`] made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Realm {
    /// RD.
    pub rd: u64,
    /// First starting-level RTT (two concatenated).
    pub rtt_base: u64,
    /// REC granules.
    pub recs: [u64; RECS],
    /// Granules delegated for this realm, all to be undelegated at the end.
    pub delegated: [u64; MAX_DELEGATED],
    /// How many of `delegated` are in use.
    pub num_delegated: usize,
    /// The NS page used for parameter blocks.
    pub params: u64,
    /// RTTs: level 2 and 3 under IPA 0, level 2 and 3 under [`UNPROTECTED`].
    pub tables: [u64; 4],
    /// DATA granules at IPA 0 and 0x1000 (copied from NS) and 0x2000 (unknown contents).
    pub data: [u64; 3],
    /// The NS page mapped at [`UNPROTECTED`].
    pub shared: u64,
}

/// The first unprotected IPA of the 40-bit realm (the top half of its IPA space).
pub const UNPROTECTED: u64 = 1 << 39;
/// Stage-2 attributes the host asks for its unprotected mapping: MemAttr 0b0110 (normal
/// write-back), S2AP read/write.
pub const NS_ATTRS: u64 = 0b0110 << 2 | 0b11 << 6;
/// RMI_RTT_READ_ENTRY states.
const UNASSIGNED: u64 = 0;
const ASSIGNED: u64 = 1;
/// RIPAS values.
const EMPTY: u64 = 0;
const RAM: u64 = 1;

/// RECs the scenario creates.
pub const RECS: usize = 3;
const MAX_DELEGATED: usize = 32;

/// What a run did, for the log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Commands issued that succeeded.
    pub successes: usize,
    /// Refusals that came as expected.
    pub refusals: usize,
}

/// The scenario's state: client, memory, counters.
pub struct Host<'a, Cd: Conduit, M: HostMemory> {
    rmi: &'a mut RmiClient<Cd>,
    mem: &'a mut M,
    /// Counters.
    pub report: Report,
}

const OK: RmiReturn = RmiReturn::SUCCESS;
const INPUT: RmiReturn = RmiReturn::new(RmiStatus::ErrorInput, 0);
const REALM: RmiReturn = RmiReturn::new(RmiStatus::ErrorRealm, 0);

impl<'a, Cd: Conduit, M: HostMemory> Host<'a, Cd, M> {
    /// A scenario over this client and memory.
    pub fn new(rmi: &'a mut RmiClient<Cd>, mem: &'a mut M) -> Self {
        Self {
            rmi,
            mem,
            report: Report::default(),
        }
    }

    /// Issues `cmd` and checks its status.
    pub fn expect(
        &mut self,
        step: &'static str,
        cmd: C,
        args: &[u64],
        want: RmiReturn,
    ) -> Result<[u64; 4], Failure> {
        let (got, out) = self.rmi.cmd(cmd, args);
        if got != want {
            return Err(Failure { step, got, want });
        }
        if want == OK {
            self.report.successes += 1;
        } else {
            self.report.refusals += 1;
        }
        Ok(out)
    }

    /// Issues `cmd` whatever it answers: its status and outputs.
    pub fn cmd(&mut self, cmd: C, args: &[u64]) -> (RmiReturn, [u64; 4]) {
        self.rmi.cmd(cmd, args)
    }

    /// Writes `src` as little-endian doublewords at `pa` (within one of the host's granules).
    pub fn write_words(&mut self, pa: u64, src: &[u64]) {
        self.mem.write_words(pa, src);
    }

    /// Fills the host's granule at `pa` with copies of the doubleword `v`.
    pub fn fill_words(&mut self, pa: u64, v: u64) {
        self.mem.write_words(pa, &[v; (G / 8) as usize]);
    }

    /// Delegates `pa` and records it in `realm` for the final undelegation.
    pub fn delegate(&mut self, realm: &mut Realm, pa: u64) -> Result<(), Failure> {
        self.expect("delegate", C::GRANULE_DELEGATE, &[pa], OK)?;
        if realm.num_delegated < MAX_DELEGATED {
            realm.delegated[realm.num_delegated] = pa;
            realm.num_delegated += 1;
        }
        Ok(())
    }

    /// Writes a whole page of the host's memory.
    pub fn write_page(&mut self, pa: u64, page: &[u8; G as usize]) {
        self.mem.write(pa, page);
    }

    /// Writes a structure at the start of the host's page `pa`.
    pub fn put<T: Wire>(&mut self, pa: u64, value: &T) {
        let mut page = [0u8; G as usize];
        if let Some(bytes) = page.get_mut(..T::SIZE) {
            if value.encode(bytes).is_ok() {
                self.mem.write(pa, bytes);
            }
        }
    }
}

impl<Cd: Conduit, M: HostMemory> Host<'_, Cd, M> {
    /// Reads `dst.len()` little-endian doublewords at `pa` (within one of the host's granules).
    pub fn read_words(&self, pa: u64, dst: &mut [u64]) {
        self.mem.read_words(pa, dst);
    }

    /// Doubleword `index` of the host's memory at `pa`.
    pub fn read_word(&self, pa: u64, index: usize) -> u64 {
        let mut w = [0u64];
        self.mem.read_words(pa + index as u64 * 8, &mut w);
        w[0]
    }

    /// Reads a structure at `offset` of the host's page `pa`.
    pub fn get<T: Wire>(&self, pa: u64, offset: usize) -> Option<T> {
        let mut page = [0u8; G as usize];
        let bytes = page.get_mut(offset..offset.checked_add(T::SIZE)?)?;
        self.mem.read(pa + offset as u64, bytes);
        T::decode(bytes).ok()
    }
}

/// Realm parameters: 40-bit IPA from level 1, two concatenated starting tables, SHA-256.
pub fn realm_params(vmid: u16, rtt_base: u64) -> RmiRealmParams {
    let mut p = RmiRealmParams::ZERO;
    p.s2sz = 40;
    p.num_bps = 1;
    p.num_wps = 1;
    p.vmid = vmid;
    p.rtt_base = rtt_base;
    p.rtt_level_start = 1;
    p.rtt_num_start = 2;
    p
}

/// Parameters for REC `index` with the given aux granules (PC at IPA 0x8000_0000).
pub fn rec_params(index: usize, aux: &[u64]) -> RmiRecParams {
    let mut p = RmiRecParams::ZERO;
    p.flags = RmiRecCreateFlags::RUNNABLE;
    p.mpidr = rec_index_to_mpidr(index as u64).unwrap_or(0);
    p.pc = 0x8000_0000;
    p.num_aux = aux.len() as u64;
    p.aux[..aux.len()].copy_from_slice(aux);
    p
}

/// Builds the realm: RD, starting RTTs, RECs with aux granules; activates it.
pub fn build<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    vmid: u16,
) -> Result<Realm, Failure> {
    let mut realm = Realm {
        params: pool.take(1)?,
        ..Realm::default()
    };
    realm.rtt_base = pool.take(2)?;
    realm.rd = pool.take(1)?;
    for pa in [realm.rd, realm.rtt_base, realm.rtt_base + G] {
        h.delegate(&mut realm, pa)?;
    }
    let params = realm_params(vmid, realm.rtt_base);
    h.put(realm.params, &params);
    h.expect(
        "REALM_CREATE",
        C::REALM_CREATE,
        &[realm.rd, realm.params],
        OK,
    )?;

    let aux_count = h.expect("REC_AUX_COUNT", C::REC_AUX_COUNT, &[realm.rd], OK)?[0];
    if aux_count > 16 {
        return Err(Failure {
            step: "REC_AUX_COUNT above 16",
            got: OK,
            want: OK,
        });
    }
    for i in 0..RECS {
        let rec = pool.take(1)?;
        h.delegate(&mut realm, rec)?;
        let mut aux: Vec<u64, 16> = Vec::new();
        for _ in 0..aux_count {
            let a = pool.take(1)?;
            h.delegate(&mut realm, a)?;
            let _ = aux.push(a);
        }
        h.put(realm.params, &rec_params(i, &aux));
        h.expect(
            "REC_CREATE",
            C::REC_CREATE,
            &[realm.rd, rec, realm.params],
            OK,
        )?;
        realm.recs[i] = rec;
    }
    memory(h, pool, &mut realm)?;
    h.expect("REALM_ACTIVATE", C::REALM_ACTIVATE, &[realm.rd], OK)?;
    read_back(h, &realm)?;
    Ok(realm)
}

/// A multi-level RTT tree under IPA 0 and under the unprotected half, RIPAS RAM over the first
/// three pages, two DATA granules copied from NS memory and one of unknown contents, and an NS
/// page mapped unprotected.
fn memory<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    realm: &mut Realm,
) -> Result<(), Failure> {
    let rd = realm.rd;
    let tables = [(0, 2), (0, 3), (UNPROTECTED, 2), (UNPROTECTED, 3)];
    for (i, (ipa, level)) in tables.into_iter().enumerate() {
        let t = pool.take(1)?;
        h.delegate(realm, t)?;
        h.expect("RTT_CREATE", C::RTT_CREATE, &[rd, t, ipa, level], OK)?;
        realm.tables[i] = t;
    }
    let mut base = 0;
    while base < 3 * G {
        let top = h.expect("RTT_INIT_RIPAS", C::RTT_INIT_RIPAS, &[rd, base, 3 * G], OK)?[0];
        if top <= base {
            return Err(Failure {
                step: "RTT_INIT_RIPAS made no progress",
                got: OK,
                want: OK,
            });
        }
        base = top;
    }
    let src = pool.take(1)?;
    for i in 0..realm.data.len() {
        let d = pool.take(1)?;
        h.delegate(realm, d)?;
        realm.data[i] = d;
        let ipa = i as u64 * G;
        if i < 2 {
            h.mem.fill(src, 0x30 + i as u8);
            h.expect("DATA_CREATE", C::DATA_CREATE, &[rd, d, ipa, src, 0], OK)?;
        } else {
            h.expect(
                "DATA_CREATE_UNKNOWN",
                C::DATA_CREATE_UNKNOWN,
                &[rd, d, ipa],
                OK,
            )?;
        }
    }
    realm.shared = pool.take(1)?;
    let desc = realm.shared | NS_ATTRS;
    h.expect(
        "RTT_MAP_UNPROTECTED",
        C::RTT_MAP_UNPROTECTED,
        &[rd, UNPROTECTED, 3, desc],
        OK,
    )?;
    Ok(())
}

/// Reads the tree back with RMI_RTT_READ_ENTRY: [walk level, state, desc, RIPAS] per entry.
fn read_back<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    realm: &Realm,
) -> Result<(), Failure> {
    let expected: [(u64, u64, [u64; 4]); 6] = [
        (0, 3, [3, ASSIGNED, realm.data[0], RAM]),
        (G, 3, [3, ASSIGNED, realm.data[1], RAM]),
        (2 * G, 3, [3, ASSIGNED, realm.data[2], RAM]),
        (5 * G, 3, [3, UNASSIGNED, 0, EMPTY]),
        (1 << 21, 3, [2, UNASSIGNED, 0, EMPTY]),
        (
            UNPROTECTED,
            3,
            [3, ASSIGNED, realm.shared | NS_ATTRS, EMPTY],
        ),
    ];
    for (ipa, level, want) in expected {
        let got = h.expect(
            "RTT_READ_ENTRY",
            C::RTT_READ_ENTRY,
            &[realm.rd, ipa, level],
            OK,
        )?;
        if got != want {
            let step = "RTT_READ_ENTRY differs from what was built";
            return Err(Failure {
                step,
                got: RmiReturn::from_raw(got[1]),
                want: RmiReturn::from_raw(want[1]),
            });
        }
    }
    Ok(())
}

/// Hostile calls against the RMM while `realm` exists; each must be refused without changing it.
/// `rmm_memory` is an address inside the RMM's own (Realm PAS) memory and `secure` one in secure
/// memory: reading parameters from either must give RMI_ERROR_INPUT, not a crash.
pub fn adversarial<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    realm: &Realm,
    rmm_memory: u64,
    secure: u64,
) -> Result<(), Failure> {
    let mut scratch = Realm::default();
    let rd2 = pool.take(1)?;
    let rtt2 = pool.take(2)?;
    for pa in [rd2, rtt2, rtt2 + G] {
        h.delegate(&mut scratch, pa)?;
    }
    h.put(realm.params, &realm_params(0x77, rtt2));
    let create = C::REALM_CREATE;
    // Parameter pointers that are not NS memory of the host.
    h.expect(
        "REALM_CREATE params in RMM memory (GPF)",
        create,
        &[rd2, rmm_memory],
        INPUT,
    )?;
    h.expect(
        "REALM_CREATE params in secure memory",
        create,
        &[rd2, secure],
        INPUT,
    )?;
    h.expect(
        "REALM_CREATE params in a delegated granule",
        create,
        &[rd2, rtt2],
        INPUT,
    )?;
    h.expect(
        "REALM_CREATE params unaligned",
        create,
        &[rd2, realm.params + 8],
        INPUT,
    )?;
    h.expect(
        "REALM_CREATE params beyond DRAM",
        create,
        &[rd2, 1 << 40],
        INPUT,
    )?;
    // RD arguments that are not a delegated granule.
    h.expect(
        "REALM_CREATE RD unaligned",
        create,
        &[rd2 + 0x10, realm.params],
        INPUT,
    )?;
    h.expect(
        "REALM_CREATE RD beyond DRAM",
        create,
        &[1 << 40, realm.params],
        INPUT,
    )?;
    h.expect(
        "REALM_CREATE RD in secure memory",
        create,
        &[secure, realm.params],
        INPUT,
    )?;
    h.expect(
        "REALM_CREATE RD is the live realm's RD",
        create,
        &[realm.rd, realm.params],
        INPUT,
    )?;
    h.expect(
        "REALM_CREATE RD aliases its own RTT",
        create,
        &[rtt2, realm.params],
        INPUT,
    )?;
    // The live realm's VMID is taken.
    h.put(realm.params, &realm_params(1, rtt2));
    h.expect(
        "REALM_CREATE with a VMID in use",
        create,
        &[rd2, realm.params],
        INPUT,
    )?;
    // Objects in the wrong state or of the wrong kind.
    h.expect(
        "REALM_ACTIVATE twice",
        C::REALM_ACTIVATE,
        &[realm.rd],
        REALM,
    )?;
    h.expect(
        "REALM_ACTIVATE of a REC",
        C::REALM_ACTIVATE,
        &[realm.recs[0]],
        INPUT,
    )?;
    h.expect(
        "REALM_DESTROY with live RECs",
        C::REALM_DESTROY,
        &[realm.rd],
        REALM,
    )?;
    h.expect("REC_DESTROY of an RD", C::REC_DESTROY, &[realm.rd], INPUT)?;
    h.expect(
        "UNDELEGATE of a live RD",
        C::GRANULE_UNDELEGATE,
        &[realm.rd],
        INPUT,
    )?;
    h.expect(
        "UNDELEGATE of a live REC",
        C::GRANULE_UNDELEGATE,
        &[realm.recs[1]],
        INPUT,
    )?;
    h.expect(
        "UNDELEGATE of a live RTT",
        C::GRANULE_UNDELEGATE,
        &[realm.rtt_base],
        INPUT,
    )?;
    // A well-formed REC (delegated REC and aux granules, next index): only the realm state is wrong.
    h.put(realm.params, &rec_params(RECS, &[rtt2, rtt2 + G]));
    h.expect(
        "REC_CREATE in an active realm",
        C::REC_CREATE,
        &[realm.rd, rd2, realm.params],
        REALM,
    )?;
    h.expect(
        "REC_CREATE with REC = RD",
        C::REC_CREATE,
        &[realm.rd, realm.rd, realm.params],
        INPUT,
    )?;
    h.expect(
        "REC_CREATE params in RMM memory (GPF)",
        C::REC_CREATE,
        &[realm.rd, rd2, rmm_memory],
        INPUT,
    )?;
    // Memory commands against the live tree.
    let rd = realm.rd;
    let create = C::DATA_CREATE;
    h.expect(
        "DATA_CREATE in an active realm",
        create,
        &[rd, rd2, 3 * G, realm.params, 0],
        REALM,
    )?;
    h.expect(
        "DATA_CREATE from RMM memory (GPF)",
        create,
        &[rd, rd2, 3 * G, rmm_memory, 0],
        INPUT,
    )?;
    h.expect(
        "RTT_CREATE at the starting level",
        C::RTT_CREATE,
        &[rd, rd2, 0, 1],
        INPUT,
    )?;
    h.expect(
        "RTT_READ_ENTRY at level 4",
        C::RTT_READ_ENTRY,
        &[rd, 0, 4],
        INPUT,
    )?;
    let map = C::RTT_MAP_UNPROTECTED;
    h.expect(
        "RTT_MAP_UNPROTECTED at a protected IPA",
        map,
        &[rd, 4 * G, 3, realm.params | NS_ATTRS],
        INPUT,
    )?;
    h.expect(
        "DATA_DESTROY at an unprotected IPA",
        C::DATA_DESTROY,
        &[rd, UNPROTECTED],
        INPUT,
    )?;
    h.expect(
        "UNDELEGATE of live DATA",
        C::GRANULE_UNDELEGATE,
        &[realm.data[0]],
        INPUT,
    )?;
    let live = h.rmi.cmd(C::RTT_DESTROY, &[rd, 0, 3]).0;
    if live == OK {
        return Err(Failure {
            step: "RTT_DESTROY of a live table succeeded",
            got: live,
            want: INPUT,
        });
    }
    h.report.refusals += 1;
    // Put the scratch granules back.
    for pa in [rd2, rtt2, rtt2 + G] {
        h.expect("undelegate scratch", C::GRANULE_UNDELEGATE, &[pa], OK)?;
    }
    // The realm is intact: still active with its RECs.
    h.expect(
        "REC_AUX_COUNT after the attacks",
        C::REC_AUX_COUNT,
        &[realm.rd],
        OK,
    )?;
    h.expect(
        "REALM_DESTROY still refused",
        C::REALM_DESTROY,
        &[realm.rd],
        REALM,
    )?;
    Ok(())
}

/// Destroys the realm in the right order and undelegates every granule it used.
pub fn teardown<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    realm: &Realm,
) -> Result<(), Failure> {
    let rd = realm.rd;
    if realm.tables[0] != 0 {
        for i in 0..realm.data.len() as u64 {
            h.expect("DATA_DESTROY", C::DATA_DESTROY, &[rd, i * G], OK)?;
        }
        h.expect(
            "RTT_UNMAP_UNPROTECTED",
            C::RTT_UNMAP_UNPROTECTED,
            &[rd, UNPROTECTED, 3],
            OK,
        )?;
        for (ipa, level) in [(0, 3), (0, 2), (UNPROTECTED, 3), (UNPROTECTED, 2)] {
            h.expect("RTT_DESTROY", C::RTT_DESTROY, &[rd, ipa, level], OK)?;
        }
    }
    for &rec in &realm.recs {
        h.expect("REC_DESTROY", C::REC_DESTROY, &[rec], OK)?;
    }
    h.expect("REALM_DESTROY", C::REALM_DESTROY, &[realm.rd], OK)?;
    for &pa in &realm.delegated[..realm.num_delegated] {
        h.expect(
            "UNDELEGATE after teardown",
            C::GRANULE_UNDELEGATE,
            &[pa],
            OK,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
