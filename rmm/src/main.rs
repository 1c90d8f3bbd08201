//! The RMM image: boots on each CPU, reports to EL3, then serves RMI calls forever.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod image {
    use core::fmt::Write;

    use core::sync::atomic::{AtomicBool, Ordering};
    use hostcall_abi::el3::{BootStatus, RMM_BOOT_COMPLETE, RMM_RMI_REQ_COMPLETE};
    use hostcall_abi::rmi::RmiCommand;
    use platform::pl011::Pl011;
    use rmm::aarch64 as arch;
    use rmm::attestation::Attestation;
    use rmm::boot::{self, ColdBootArgs, PlatformInfo, Rmm};
    use rmm::granule::{GranuleTable, TRACKING_BYTES_PER_GRANULE};
    use rmm::rmi::RmiContext;
    use rmm::vmid::VmidSet;
    use spin::Once;

    /// Monitor state, written once by cold boot.
    static RMM: Once<Rmm> = Once::new();
    /// Cold boot finished: warm boots may follow.
    static BOOTED: AtomicBool = AtomicBool::new(false);
    /// VMIDs of live realms.
    static VMIDS: VmidSet = VmidSet::new();
    /// The attestation key and platform token, fetched once by cold boot.
    static ATTEST: Once<Attestation> = Once::new();
    /// Granule tracking, laid out once by cold boot.
    static GRANULES: Once<GranuleTable<'static>> = Once::new();

    // Cold boot is a few steps, none inlined: the large values each handles (the copied shared
    // buffer, the platform description, the attestation key and platform token) then live on
    // the stack one step at a time, not all at once. The deepest step sets the stack every CPU
    // needs (`limits::STACK_SIZE`); none stays on the stack under the RMI loop.
    #[inline(never)]
    fn cold_boot(args: ColdBootArgs) -> BootStatus {
        platform::defmt_logger::init(c"rmm.defmt");
        let rmm = match check_and_map(args) {
            Ok(rmm) => rmm,
            Err(e) => return e,
        };
        let p = &rmm.platform;
        if let Err(e) = track_granules(args, p) {
            return e;
        }
        defmt::info!(
            "cpu {=u64}: cold boot: RMM-EL3 interface {}.{}, {} CPUs, manifest {}.{}, {} DRAM bank(s), {=u64} MiB",
            args.cpu,
            rmm.ifc_version.major(),
            rmm.ifc_version.minor(),
            rmm.num_cpus,
            p.manifest_version.major(),
            p.manifest_version.minor(),
            p.dram.len(),
            p.dram_bytes() >> 20
        );
        for (i, b) in p.dram.iter().enumerate() {
            defmt::info!("DRAM bank {}: {=u64:#x} + {=u64:#x}", i, b.base, b.size);
        }
        if let Some(c) = p.console {
            // SAFETY: 1. EL3 names this PL011 as the RMM's console; with the MMU off its PA is
            // reachable. 2. Only the cold-boot CPU writes it, while EL3 waits for boot to finish.
            let mut uart = unsafe { Pl011::new(c.base) };
            uart.init(c.clk_in_hz, c.baud_rate);
            let _ = writeln!(
                uart,
                "RMM: cold boot on CPU {}, RMI 1.0, {} CPUs, {} MiB NS DRAM",
                args.cpu,
                rmm.num_cpus,
                p.dram_bytes() >> 20
            );
        }
        init_attestation();
        BOOTED.store(true, Ordering::Release);
        arch::report_stack_depth();
        BootStatus::Success
    }

    /// Cold boot's first step: the registers and the manifest, checked, then the stage-1 tables
    /// and the MMU ([`map_memory`]); what was checked goes into [`RMM`] only with the MMU on (a
    /// `Once` uses exclusive accesses, which only Normal memory is sure to support).
    #[inline(never)]
    fn check_and_map(args: ColdBootArgs) -> Result<&'static Rmm, BootStatus> {
        let rmm = boot::cold_boot(args, arch::id_registers(), arch::copy_shared_buffer)
            .inspect_err(|&e| {
                defmt::error!("cpu {=u64}: cold boot failed: {}", args.cpu, e as i64);
            })?;
        map_memory(args, &rmm.platform)?;
        Ok(RMM.call_once(|| rmm))
    }

    /// The stage-1 tables, in the carve-out after the stacks the entry carved for the CPUs EL3
    /// named, and the MMU.
    #[inline(never)]
    fn map_memory(args: ColdBootArgs, p: &PlatformInfo) -> Result<(), BootStatus> {
        // The MMU goes on first: the locks below (the logger's, `Once`) use exclusive accesses,
        // which only Normal memory is sure to support.
        arch::set_shared_buffer(args.shared_buf);
        let console = p.console.map(|c| (c.base, c.map_pages));
        let (Some(carve), Some(stacks)) = (arch::carve_out(), arch::stacks()) else {
            defmt::error!("cpu {=u64}: no stacks recorded in the carve-out", args.cpu);
            return Err(BootStatus::Unknown);
        };
        let split = match arch::build_tables(&p.dram, console, &carve, &stacks) {
            Ok(split) if arch::enable_mmu() => split,
            _ => {
                defmt::error!("cpu {=u64}: cannot build the stage-1 tables", args.cpu);
                return Err(BootStatus::Unknown);
            }
        };
        arch::cpu_started(args.cpu);
        let (tables_start, tables_end) = split.tables();
        defmt::info!(
            "cpu {=u64}: MMU on: {=u64} translation tables, NS view at {=u64:#x}",
            args.cpu,
            (tables_end - tables_start) / 4096,
            rmm::mmu::NS_VIEW_BASE
        );
        defmt::info!(
            "memory: {=u64} CPUs x {=usize} KiB stacks, {=u64} KiB tables from the carve-out; .bss {=usize} bytes",
            stacks.count(),
            rmm::limits::STACK_SIZE >> 10,
            (tables_end - tables_start) >> 10,
            arch::bss_bytes()
        );
        Ok(())
    }

    /// Cold boot's second step: granule tracking, in the carve-out after the tables.
    #[inline(never)]
    fn track_granules(args: ColdBootArgs, p: &PlatformInfo) -> Result<(), BootStatus> {
        let table = GRANULES.try_call_once(|| {
            let words = boot::tracking_words(p, arch::free_bytes())?;
            arch::tracking_storage(words)
                .and_then(|storage| GranuleTable::new(&p.dram, storage))
                .ok_or(BootStatus::ManifestDataError)
        });
        let Ok(table) = table else {
            defmt::error!(
                "cpu {=u64}: {=u64} MiB of DRAM needs more tracking memory than the {} KiB left",
                args.cpu,
                p.dram_bytes() >> 20,
                arch::free_bytes() >> 10
            );
            return table.map(|_| ());
        };
        defmt::info!(
            "granule tracking: {} granules, {} bytes each, {} KiB of {} KiB free",
            table.len(),
            TRACKING_BYTES_PER_GRANULE,
            (table.len() * TRACKING_BYTES_PER_GRANULE) >> 10,
            arch::free_bytes() >> 10
        );
        Ok(())
    }

    /// Cold boot's last step: the realm attestation key and the platform token from EL3, built
    /// in [`ATTEST`]. Realms run without them; their token requests then fail with
    /// RSI_ERROR_UNKNOWN.
    #[inline(never)]
    fn init_attestation() {
        match ATTEST.try_call_once(|| Attestation::init(&arch::SmcEl3)) {
            Ok(a) => {
                let h = a.key().public_key_hash();
                let mut prefix = [0u8; 8];
                prefix.copy_from_slice(&h[..8]);
                defmt::info!(
                    "attestation: realm attestation key from EL3 (P-384, H(RAK_pub) {=u64:016x}..), platform token of {} bytes",
                    u64::from_be_bytes(prefix),
                    a.platform_token().len()
                );
            }
            Err(e) => defmt::error!("attestation unavailable: {=str}", e.describe()),
        }
    }

    fn warm_boot(cpu: u64) -> BootStatus {
        let booted = RMM.get().filter(|_| BOOTED.load(Ordering::Acquire));
        match boot::warm_boot(booted, cpu) {
            Ok(()) if !arch::enable_mmu() => {
                defmt::error!("cpu {=u64}: warm boot failed: no stage-1 tables", cpu);
                BootStatus::Unknown
            }
            Ok(()) => {
                arch::cpu_started(cpu);
                defmt::info!("cpu {=u64}: warm boot", cpu);
                BootStatus::Success
            }
            Err(e) => {
                defmt::error!("cpu {=u64}: warm boot failed: {}", cpu, e as i64);
                e
            }
        }
    }

    #[no_mangle]
    extern "C" fn rmm_main(cpu: u64, x1: u64, x2: u64, x3: u64, cold: u64) -> ! {
        arch::init_realm_controls();
        let status = if cold != 0 {
            cold_boot(ColdBootArgs {
                cpu,
                ifc_version: x1,
                num_cpus: x2,
                shared_buf: x3,
            })
        } else {
            warm_boot(cpu)
        };
        let mut call = arch::smc([RMM_BOOT_COMPLETE as u64, status.raw(), 0, 0, 0, 0, 0, 0]);
        let (Some(rmm), Some(granules)) = (RMM.get(), GRANULES.get()) else {
            // EL3 does not enter an RMM that failed to boot; nothing more to do here.
            arch::park()
        };
        if status != BootStatus::Success {
            arch::park()
        }
        let ctx = RmiContext {
            rmm,
            granules,
            el3: &arch::SmcEl3,
            mem: &arch::PhysMemory,
            ns: &arch::NsView,
            vmids: &VMIDS,
            cpu: &arch::Cpu,
            attest: ATTEST.get(),
        };
        loop {
            let out = rmm::rmi::handle(&ctx, &call);
            if let Some(cmd) = RmiCommand::from_fid(call[0]) {
                defmt::debug!("cpu {=u64}: {=str} -> {=u64:#x}", cpu, cmd.name(), out[0]);
            }
            call = arch::smc_x0_x5([
                RMM_RMI_REQ_COMPLETE as u64,
                out[0],
                out[1],
                out[2],
                out[3],
                out[4],
            ]);
        }
    }

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo) -> ! {
        defmt::error!("RMM panic: {}", defmt::Display2Format(info));
        arch::park()
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("the RMM image builds for aarch64-unknown-none-softfloat: use `cargo xtask build`");
}
