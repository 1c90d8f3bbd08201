//! Loading the realm payload into a new realm as DATA granules, with one runnable REC at IPA 0,
//! and taking it all apart again. The image pages are created with their contents measured, and
//! the host follows every command that extends the RIM with its own [`RimBuilder`], so it knows
//! the RIM the realm should read. Running it is the KVM model's (`kvm::vmm::run_payload`);
//! pages mapped on the realm's faults belong to the VM and are released before [`unload`].

use hostcall_abi::payload::REGION_SIZE;
use hostcall_abi::rec_params::{rec_index_to_mpidr, RmiRecCreateFlags, RmiRecParams};
use hostcall_abi::rmi::{RmiCommand as C, RmiReturn};

use crate::measure::{RimBuilder, DATA_MEASURE_CONTENT};
use crate::realm_build::{realm_params, Failure, Host, Pool, Realm};
use crate::{Conduit, HostMemory};

const G: u64 = 4096;
const OK: RmiReturn = RmiReturn::SUCCESS;
/// The level RMI_RTT_INIT_RIPAS's walk ends at over the region: `load` creates a level-3 RTT
/// for [0, 2 MiB), which holds the whole region, so every entry it initialises is a page.
const RIPAS_WALK_LEVEL: i64 = 3;

/// A realm with the payload loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// The realm (RD, starting tables, its one REC, every delegated granule).
    pub realm: Realm,
    /// Level-2 and level-3 RTTs mapping the payload region.
    pub rtts: [u64; 2],
    /// DATA granules, one per 4 KiB of the region, in IPA order.
    pub data: [u64; (REGION_SIZE / G) as usize],
    /// The RecRun page (NS) of REC 0.
    pub run: u64,
    /// RECs created: REC 0 runnable at IPA 0, the others not runnable (PSCI CPU_ON starts them).
    pub recs: usize,
    /// The RecRun pages (NS) of RECs 1.., in order (0 past `recs`).
    pub secondary_runs: [u64; MAX_PAYLOAD_RECS - 1],
    /// Pages the image filled (the rest are DATA_CREATE_UNKNOWN).
    pub image_pages: usize,
    /// The RIM the host computed itself from the commands it issued: REALM_CREATE's parameters,
    /// the image pages (measured), the REC and the RIPAS initialisation.
    pub rim: RimBuilder,
}

fn fail(step: &'static str, got: u64) -> Failure {
    Failure {
        step,
        got: RmiReturn::from_raw(got),
        want: OK,
    }
}

/// Creates a realm (VMID `vmid`) whose first 64 KiB of IPA space hold `image` followed by pages
/// of unknown content, and one runnable REC starting at IPA 0; activates it.
pub fn load<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    image: &[u8],
    vmid: u16,
) -> Result<Loaded, Failure> {
    load_with_x0(h, pool, image, vmid, 0)
}

/// Most RECs [`load_with_recs`] creates.
pub const MAX_PAYLOAD_RECS: usize = crate::realm_build::RECS;

/// [`load`], with the REC starting with `x0` in X0 (the payload reads it as its mode).
pub fn load_with_x0<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    image: &[u8],
    vmid: u16,
    x0: u64,
) -> Result<Loaded, Failure> {
    load_with_recs(h, pool, image, vmid, x0, 1)
}

/// [`load_with_x0`] with `recs` RECs (1..=[`MAX_PAYLOAD_RECS`]): REC 0 runnable at IPA 0 with
/// `x0`, RECs 1.. not runnable, for the realm to start with PSCI CPU_ON; each with a RecRun page.
pub fn load_with_recs<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    image: &[u8],
    vmid: u16,
    x0: u64,
    recs: usize,
) -> Result<Loaded, Failure> {
    let mut starts = [RecStart::OFF; MAX_PAYLOAD_RECS];
    starts[0] = RecStart {
        runnable: true,
        args: [x0, 0, 0],
    };
    let Some(starts) = starts.get(..recs) else {
        return Err(fail("payload REC count", recs as u64));
    };
    load_custom(h, pool, image, vmid, starts, |_, _, _| Ok(()))
}

/// How one REC of a payload realm starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecStart {
    /// Runnable from its creation (else the realm starts it with PSCI CPU_ON).
    pub runnable: bool,
    /// x0..x2 at its first entry, if runnable (x0: the payload's mode).
    pub args: [u64; 3],
}

impl RecStart {
    /// Not runnable, zero registers.
    pub const OFF: Self = Self {
        runnable: false,
        args: [0; 3],
    };
}

/// The payload in a new realm with one REC per entry of `starts` (1..=[`MAX_PAYLOAD_RECS`]),
/// each at IPA 0 with its RecRun page. `before_activate` runs while the realm is still NEW,
/// after the payload's pages and before the RECs, to add tables, mappings or data of its own
/// (commands it issues that extend the RIM are not followed in [`Loaded::rim`] unless it does).
pub fn load_custom<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    image: &[u8],
    vmid: u16,
    starts: &[RecStart],
    before_activate: impl FnOnce(&mut Host<'_, Cd, M>, &mut Pool, &mut Loaded) -> Result<(), Failure>,
) -> Result<Loaded, Failure> {
    let recs = starts.len();
    if !(1..=MAX_PAYLOAD_RECS).contains(&recs) {
        return Err(fail("payload REC count", recs as u64));
    }
    let pages = (REGION_SIZE / G) as usize;
    let image_pages = image.len().div_ceil(G as usize);
    if image.is_empty() || image_pages > pages {
        return Err(fail(
            "payload image empty or larger than its region",
            image.len() as u64,
        ));
    }
    let mut l = Loaded {
        image_pages,
        ..Loaded::default()
    };
    let realm = &mut l.realm;
    realm.params = pool.take(1)?;
    realm.rtt_base = pool.take(2)?;
    realm.rd = pool.take(1)?;
    for pa in [realm.rd, realm.rtt_base, realm.rtt_base + G] {
        h.delegate(realm, pa)?;
    }
    let params = realm_params(vmid, realm.rtt_base);
    h.put(realm.params, &params);
    h.expect(
        "REALM_CREATE (payload)",
        C::REALM_CREATE,
        &[realm.rd, realm.params],
        OK,
    )?;
    let mut rim = RimBuilder::new(&params).ok_or(fail(
        "REALM_CREATE accepted a reserved hash algorithm",
        params.hash_algo as u64,
    ))?;
    for (i, level) in [2u64, 3].into_iter().enumerate() {
        let t = pool.take(1)?;
        h.delegate(realm, t)?;
        h.expect(
            "RTT_CREATE (payload)",
            C::RTT_CREATE,
            &[realm.rd, t, 0, level],
            OK,
        )?;
        l.rtts[i] = t;
    }
    // RIPAS RAM over the whole region, then its contents.
    let mut base = 0;
    while base < REGION_SIZE {
        let top = h.expect(
            "RTT_INIT_RIPAS",
            C::RTT_INIT_RIPAS,
            &[realm.rd, base, REGION_SIZE],
            OK,
        )?[0];
        if top <= base {
            return Err(fail("RTT_INIT_RIPAS made no progress", top));
        }
        rim.init_ripas(base, top, RIPAS_WALK_LEVEL);
        base = top;
    }
    let src = pool.take(1)?;
    for i in 0..pages {
        let data = pool.take(1)?;
        h.delegate(realm, data)?;
        let ipa = i as u64 * G;
        if i < image_pages {
            let chunk = &image[i * G as usize..image.len().min((i + 1) * G as usize)];
            let mut page = [0u8; G as usize];
            page[..chunk.len()].copy_from_slice(chunk);
            h.write_page(src, &page);
            h.expect(
                "DATA_CREATE (payload image, measured)",
                C::DATA_CREATE,
                &[realm.rd, data, ipa, src, DATA_MEASURE_CONTENT],
                OK,
            )?;
            rim.data(ipa, DATA_MEASURE_CONTENT, &page);
        } else {
            h.expect(
                "DATA_CREATE_UNKNOWN",
                C::DATA_CREATE_UNKNOWN,
                &[realm.rd, data, ipa],
                OK,
            )?;
        }
        l.data[i] = data;
    }

    before_activate(h, pool, &mut l)?;
    let realm = &mut l.realm;
    let aux_count = h.expect("REC_AUX_COUNT", C::REC_AUX_COUNT, &[realm.rd], OK)?[0] as usize;
    for index in 0..recs {
        let rec = pool.take(1)?;
        h.delegate(realm, rec)?;
        let mut p = RmiRecParams::ZERO;
        let start = starts.get(index).copied().unwrap_or(RecStart::OFF);
        if start.runnable {
            p.flags = RmiRecCreateFlags::RUNNABLE;
            p.gprs[..3].copy_from_slice(&start.args);
        }
        p.mpidr = rec_index_to_mpidr(index as u64).unwrap_or(0);
        p.pc = 0;
        p.num_aux = aux_count as u64;
        for slot in p.aux.iter_mut().take(aux_count.min(16)) {
            let a = pool.take(1)?;
            h.delegate(realm, a)?;
            *slot = a;
        }
        h.put(realm.params, &p);
        h.expect(
            "REC_CREATE (payload)",
            C::REC_CREATE,
            &[realm.rd, rec, realm.params],
            OK,
        )?;
        // Only a runnable REC extends the RIM (C1.12).
        if start.runnable {
            rim.rec(&p);
        }
        realm.recs[index] = rec;
    }
    l.recs = recs;
    h.expect(
        "REALM_ACTIVATE (payload)",
        C::REALM_ACTIVATE,
        &[realm.rd],
        OK,
    )?;
    l.run = pool.take(1)?;
    h.write_page(l.run, &[0; G as usize]);
    for run in l.secondary_runs.iter_mut().take(recs - 1) {
        *run = pool.take(1)?;
        h.write_page(*run, &[0; G as usize]);
    }
    l.rim = rim;
    Ok(l)
}

/// Takes the realm apart (REC, data, tables, realm) and undelegates every granule it used.
pub fn unload<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    l: &Loaded,
) -> Result<(), Failure> {
    let rd = l.realm.rd;
    for &rec in &l.realm.recs[..l.recs.max(1)] {
        h.expect("REC_DESTROY (payload)", C::REC_DESTROY, &[rec], OK)?;
    }
    for i in 0..l.data.len() {
        h.expect("DATA_DESTROY", C::DATA_DESTROY, &[rd, i as u64 * G], OK)?;
    }
    h.expect("RTT_DESTROY level 3", C::RTT_DESTROY, &[rd, 0, 3], OK)?;
    h.expect("RTT_DESTROY level 2", C::RTT_DESTROY, &[rd, 0, 2], OK)?;
    h.expect("REALM_DESTROY (payload)", C::REALM_DESTROY, &[rd], OK)?;
    for &pa in &l.realm.delegated[..l.realm.num_delegated] {
        h.expect("UNDELEGATE (payload)", C::GRANULE_UNDELEGATE, &[pa], OK)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
