//! Building the Linux realm from a [`Layout`] (and taking it apart): the RMI side of the loader.
//!
//! [`build`] creates the realm, its RTTs over RAM, executes the measured [`steps`] (the
//! contents' granules are the memslot's own, so a page the loader creates is released like one
//! mapped on a fault) and the RECs, and activates it. [`teardown`] undoes all of it and
//! undelegates every granule, checking each command. Both go through the KVM model's
//! [`RmmLink`]; the NS memory holding the files is only read by the RMM (DATA_CREATE's source).

use hostcall_abi::rmi::{RmiCommand as Cmd, RmiReturn};
use hostcall_abi::wire::Wire;

use super::{
    realm_params, rec_params, steps, Blob, Layout, Source, Step, L2_BLOCK, PAGE, RAM_BASE,
};
use crate::kvm::memslot::Memslot;
use crate::kvm::vm::Vm;
use crate::kvm::RmmLink;
use crate::measure::DATA_MEASURE_CONTENT;
use crate::realm_build::Pool;
use crate::{Conduit, HostMemory};

/// Most metadata granules (RD, RTTs, RECs and their auxiliary granules) a guest uses.
pub const MAX_METADATA: usize = 1024;
/// Most auxiliary granules one REC takes (RMI 1.0: 16).
const MAX_AUX: usize = 16;

/// A command the RMM refused while building or tearing down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadError {
    /// What the loader was doing.
    pub step: &'static str,
    /// The RMM's answer (SUCCESS for a host-side problem: no pool left, say).
    pub ret: RmiReturn,
    /// The address or IPA involved.
    pub at: u64,
}

fn err(step: &'static str, ret: RmiReturn, at: u64) -> LoadError {
    LoadError { step, ret, at }
}

/// Where the loader finds the files and the device tree in NS memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sources {
    /// The kernel.
    pub image: Blob,
    /// The device tree blob the VMM wrote.
    pub dtb: Blob,
    /// The initrd.
    pub initrd: Option<Blob>,
}

impl Sources {
    fn page(&self, source: Source, offset: u64) -> Option<u64> {
        let blob = match source {
            Source::Image => self.image,
            Source::DeviceTree => self.dtb,
            Source::Initrd => self.initrd?,
        };
        (offset < blob.len).then_some(blob.pa + offset)
    }
}

/// What [`build`] made.
#[derive(Clone, Debug)]
pub struct Built {
    /// The RD.
    pub rd: u64,
    /// RECs, by vCPU index.
    pub recs: heapless::Vec<u64, { super::MAX_VCPUS }>,
    /// The RecRun page (NS) of each REC.
    pub runs: heapless::Vec<u64, { super::MAX_VCPUS }>,
    /// Level-3 RTTs over RAM, by 2 MiB block.
    pub l3_tables: usize,
    /// Every metadata granule delegated (for the final undelegation).
    pub delegated: heapless::Vec<u64, MAX_METADATA>,
    /// Pages created with measured contents.
    pub measured_pages: u64,
    /// Commands issued.
    pub commands: u64,
}

impl Built {
    /// Nothing built yet.
    pub const fn new() -> Self {
        Self {
            rd: 0,
            recs: heapless::Vec::new(),
            runs: heapless::Vec::new(),
            l3_tables: 0,
            delegated: heapless::Vec::new(),
            measured_pages: 0,
            commands: 0,
        }
    }
}

impl Default for Built {
    fn default() -> Self {
        Self::new()
    }
}

struct Loader<'l, 'a, C: Conduit, M: HostMemory> {
    link: &'l mut RmmLink<'a, C, M>,
    built: &'l mut Built,
}

impl<C: Conduit, M: HostMemory> Loader<'_, '_, C, M> {
    fn cmd(&mut self, step: &'static str, cmd: Cmd, args: &[u64]) -> Result<[u64; 4], LoadError> {
        self.built.commands += 1;
        let (ret, out) = self.link.rmi.cmd(cmd, args);
        if ret != RmiReturn::SUCCESS {
            return Err(err(step, ret, args.get(1).copied().unwrap_or(args[0])));
        }
        Ok(out)
    }

    fn delegate_metadata(&mut self, pool: &mut Pool, n: u64) -> Result<u64, LoadError> {
        let pa = pool
            .take(n)
            .map_err(|_| err("metadata pool exhausted", RmiReturn::SUCCESS, n))?;
        for g in 0..n {
            let at = pa + g * PAGE;
            self.cmd("GRANULE_DELEGATE (metadata)", Cmd::GRANULE_DELEGATE, &[at])?;
            self.built
                .delegated
                .push(at)
                .map_err(|_| err("too many metadata granules", RmiReturn::SUCCESS, at))?;
        }
        Ok(pa)
    }

    fn put<T: Wire>(&mut self, pa: u64, value: &T) {
        let mut page = [0u8; PAGE as usize];
        if let Some(bytes) = page.get_mut(..T::SIZE) {
            if value.encode(bytes).is_ok() {
                self.link.mem.write(pa, bytes);
            }
        }
    }
}

/// Builds and activates the realm for `layout` from `sources`; the VM's memslot backs RAM and
/// receives the pages with contents. `pool` provides metadata granules and the NS pages for
/// parameters and RecRun pages. What was made goes into `built` (which must start empty), also
/// on failure, when the realm is left as it is (a test run stops).
pub fn build<C: Conduit, M: HostMemory>(
    link: &mut RmmLink<'_, C, M>,
    vm_slot: &mut Memslot,
    pool: &mut Pool,
    layout: &Layout,
    sources: &Sources,
    built: &mut Built,
) -> Result<(), LoadError> {
    let mut l = Loader { link, built };
    let params_page = pool
        .take(1)
        .map_err(|_| err("NS pool exhausted", RmiReturn::SUCCESS, 0))?;
    let rd = l.delegate_metadata(pool, 1)?;
    let rtt_base = l.delegate_metadata(pool, 2)?;
    l.built.rd = rd;
    l.put(params_page, &realm_params(rtt_base));
    l.cmd("REALM_CREATE", Cmd::REALM_CREATE, &[rd, params_page])?;
    let l2 = l.delegate_metadata(pool, 1)?;
    l.cmd(
        "RTT_CREATE (level 2)",
        Cmd::RTT_CREATE,
        &[rd, l2, RAM_BASE, 2],
    )?;
    let ram_top = RAM_BASE + layout.ram_size;
    let aux_count = l.cmd("REC_AUX_COUNT", Cmd::REC_AUX_COUNT, &[rd])?[0] as usize;
    if aux_count > MAX_AUX {
        return Err(err(
            "REC_AUX_COUNT too large",
            RmiReturn::SUCCESS,
            aux_count as u64,
        ));
    }
    steps(layout, sources.dtb.len as usize, |step| match step {
        Step::InitRipas { base, top } => {
            let mut at = base;
            while at < top {
                let next = l.cmd("RTT_INIT_RIPAS", Cmd::RTT_INIT_RIPAS, &[rd, at, top])?[0];
                if next <= at {
                    return Err(err(
                        "RTT_INIT_RIPAS made no progress",
                        RmiReturn::SUCCESS,
                        at,
                    ));
                }
                at = next;
            }
            // The level-3 tables (not measured) inherit RIPAS RAM from the level-2 entries.
            let mut block = RAM_BASE;
            while block < ram_top {
                let t = l.delegate_metadata(pool, 1)?;
                l.cmd("RTT_CREATE (level 3)", Cmd::RTT_CREATE, &[rd, t, block, 3])?;
                l.built.l3_tables += 1;
                block += L2_BLOCK;
            }
            Ok(())
        }
        Step::Data {
            ipa,
            source,
            offset,
        } => {
            let src = sources.page(source, offset).ok_or(err(
                "no source page",
                RmiReturn::SUCCESS,
                offset,
            ))?;
            let dst =
                vm_slot
                    .backing(ipa)
                    .ok_or(err("data outside RAM", RmiReturn::SUCCESS, ipa))?;
            l.cmd("GRANULE_DELEGATE (data)", Cmd::GRANULE_DELEGATE, &[dst])?;
            l.cmd(
                "DATA_CREATE (measured)",
                Cmd::DATA_CREATE,
                &[rd, dst, ipa, src, DATA_MEASURE_CONTENT],
            )?;
            vm_slot.record_mapped();
            l.built.measured_pages += 1;
            Ok(())
        }
        Step::Rec { index } => {
            let rec = l.delegate_metadata(pool, 1)?;
            let mut p = rec_params(layout, index);
            p.num_aux = aux_count as u64;
            for slot in p.aux.iter_mut().take(aux_count) {
                *slot = l.delegate_metadata(pool, 1)?;
            }
            l.put(params_page, &p);
            l.cmd("REC_CREATE", Cmd::REC_CREATE, &[rd, rec, params_page])?;
            let run = pool
                .take(1)
                .map_err(|_| err("NS pool exhausted", RmiReturn::SUCCESS, 0))?;
            l.link.mem.write(run, &[0u8; PAGE as usize]);
            // Cannot fail: at most MAX_VCPUS steps are RECs (the layout checked the count).
            let _ = l.built.recs.push(rec);
            let _ = l.built.runs.push(run);
            Ok(())
        }
    })?;
    l.cmd("REALM_ACTIVATE", Cmd::REALM_ACTIVATE, &[rd])?;
    Ok(())
}

/// Destroys the realm `built` describes: its RECs, every page the memslot gave it (loaded or
/// mapped on faults), its RTTs, the realm, then undelegates every metadata granule. Returns the
/// granules undelegated.
pub fn teardown<C: Conduit, M: HostMemory>(
    link: &mut RmmLink<'_, C, M>,
    vm: &mut Vm,
    built: &Built,
) -> Result<u64, LoadError> {
    let rd = built.rd;
    let mut commands = Built::new();
    let mut l = Loader {
        link,
        built: &mut commands,
    };
    for &rec in &built.recs {
        l.cmd("REC_DESTROY", Cmd::REC_DESTROY, &[rec])?;
    }
    let Some(slot) = vm.memslot_mut() else {
        return Err(err("no memslot", RmiReturn::SUCCESS, 0));
    };
    let pages = slot
        .release(rd, l.link)
        .map_err(|_| err("releasing RAM pages", RmiReturn::SUCCESS, slot.ipa_base()))?;
    for i in 0..built.l3_tables as u64 {
        l.cmd(
            "RTT_DESTROY (level 3)",
            Cmd::RTT_DESTROY,
            &[rd, RAM_BASE + i * L2_BLOCK, 3],
        )?;
    }
    l.cmd(
        "RTT_DESTROY (level 2)",
        Cmd::RTT_DESTROY,
        &[rd, RAM_BASE, 2],
    )?;
    l.cmd("REALM_DESTROY", Cmd::REALM_DESTROY, &[rd])?;
    for &pa in &built.delegated {
        l.cmd(
            "GRANULE_UNDELEGATE (metadata)",
            Cmd::GRANULE_UNDELEGATE,
            &[pa],
        )?;
    }
    Ok(pages + built.delegated.len() as u64)
}
