//! The KVM model against the RMM's real handlers on the simulated platform (`rmm::sim`, realms
//! scripted step by step), and against a scripted RMM ([`fake`]) for what the real one cannot be
//! made to do: refuse PSCI_COMPLETE, report RIPAS changes, hand over MMIO write data.

mod fake;

use hostcall_abi::host_call::RsiHostCall;
use hostcall_abi::kvm::{
    core_reg_id, KvmDeviceAttr, KvmRegId, KvmRunHypercall, KvmRunMemoryFault, KvmRunMmio,
    KvmSmcccFilter, KvmSmcccFilterAction as Action, KvmSystemEventType, KVM_ARM_VM_SMCCC_CTRL,
    KVM_ARM_VM_SMCCC_FILTER, KVM_HYPERCALL_EXIT_SMC, KVM_MEMORY_EXIT_FLAG_PRIVATE,
    KVM_RUN_EXIT_REASON_OFFSET,
};
use hostcall_abi::rec_params::rec_index_to_mpidr_el1;
use hostcall_abi::rec_run::{RmiExitReason, RmiRecEnterFlags, RmiRecExit};
use hostcall_abi::rmi::{RmiCommand, RmiReturn, RmiStatus};
use hostcall_abi::rsi::{RsiCommand, RSI_VERSION_1_0};
use hostcall_abi::rtt::Ripas;
use hostcall_abi::wire::Wire;
use rmm::arch::{ExitClass, RealmExit, RealmRegs};
use rmm::sim::{Sim, SMC_EXIT};

use super::filter::MAX_FILTER_RANGES;
use super::hypercalls::{SMCCC_ARCH_FEATURES, SMCCC_ARCH_WORKAROUND_1, SMCCC_RET_NOT_SUPPORTED};
use super::run::{KVM_EXIT_INTR, KVM_RUN_SIZE};
use super::vmm::{self, Event, Stop, Vmm, VmmError, ADD, MUL, UARTDR, UARTFR};
use super::*;
use crate::realm_build::{Host, Pool};
use crate::realm_run::{load, Loaded};
use crate::testing::SimHost;
use fake::{Fake, FakeConduit, FakeMem};

const HOST_CALL: u64 = 0xC400_0199;
const SYSTEM_OFF: u64 = 0x8400_0008;
const SYSTEM_RESET: u64 = 0x8400_0009;
const CPU_ON: u64 = 0xC400_0003;
const AFFINITY_INFO: u64 = 0xC400_0004;
const CPU_OFF: u64 = 0x8400_0002;
/// IPA of the realm's page of RsiHostCall structures (one every 0x100 bytes).
const HC_IPA: u64 = 0x2000;
/// The first unprotected IPA of a 40-bit realm.
const UNPROTECTED: u64 = 1 << 39;

fn word(bytes: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(bytes[off..off + 8].try_into().expect("8 bytes"))
}

fn xid(n: u32) -> KvmRegId {
    core_reg_id(n).expect("x0..x30")
}

fn filter(base: u32, nr: u32, action: Action) -> KvmSmcccFilter {
    KvmSmcccFilter::new(base, nr, action)
}

fn irq() -> RealmExit {
    RealmExit {
        class: ExitClass::Irq,
        esr: 0,
        far: 0,
        hpfar: 0,
    }
}

fn smc(regs: &mut RealmRegs, x: &[u64]) -> RealmExit {
    regs.gprs[..x.len()].copy_from_slice(x);
    SMC_EXIT
}

/// ESR of a data abort with a valid syndrome: size 2^`sas` bytes, register `srt`, 64-bit.
fn dabt_esr(write: bool, sas: u64, srt: u64) -> u64 {
    0x24 << 26 | 1 << 25 | 1 << 24 | sas << 22 | srt << 16 | 1 << 15 | (write as u64) << 6 | 0x07
}

fn dabt(esr: u64, ipa: u64) -> RealmExit {
    RealmExit {
        class: ExitClass::Sync,
        esr,
        far: 0xFFFF_0000_0000_0000 | (ipa & 0xFFF),
        hpfar: (ipa >> 12) << 4,
    }
}

/// A realm built by `realm_run::load` on the simulated platform (one REC at IPA 0, 64 KiB of
/// DATA), with its VM and vCPU.
struct Fixture {
    sim: Sim,
    l: Loaded,
}

impl Fixture {
    fn new() -> Self {
        let sim = Sim::qemu();
        let l = {
            let mut rmi = RmiClient::new(SimHost(&sim));
            let mut mem = SimHost(&sim);
            let mut h = Host::new(&mut rmi, &mut mem);
            let mut pool = Pool::new(0x6400_0000, 0x10_0000);
            load(&mut h, &mut pool, &[0xAA; 100], 9).expect("load")
        };
        Self { sim, l }
    }

    fn vm(&self) -> (Vm, Vcpu) {
        vmm::vm_for_loaded(&self.l).expect("vm and vcpu")
    }

    fn with_link<R>(&self, f: impl FnOnce(&mut RmmLink<'_, SimHost<'_>, SimHost<'_>>) -> R) -> R {
        let mut rmi = RmiClient::new(SimHost(&self.sim));
        let mut mem = SimHost(&self.sim);
        f(&mut RmmLink::new(&mut rmi, &mut mem))
    }

    fn run(&self, vm: &mut Vm, vcpu: &mut Vcpu) -> Result<KvmExit, Errno> {
        self.with_link(|link| vcpu.run(vm, link))
    }

    /// Writes RsiHostCall number `slot` (at `HC_IPA + slot * 0x100`) in realm memory.
    fn write_call(&self, slot: usize, gprs: [u64; 31]) {
        let pa = self.l.data[(HC_IPA / 4096) as usize];
        let mut page = self.sim.mem.read(pa);
        RsiHostCall::new(0x77, gprs)
            .encode(&mut page[slot * 0x100..(slot + 1) * 0x100])
            .expect("fits");
        self.sim.mem.write(pa, &page);
    }

    fn read_call(&self, slot: usize) -> RsiHostCall {
        let pa = self.l.data[(HC_IPA / 4096) as usize];
        RsiHostCall::decode(&self.sim.mem.read(pa)[slot * 0x100..]).expect("decode")
    }

    /// The realm's next step: RSI_HOST_CALL with structure `slot`.
    fn host_call(&self, slot: usize) {
        let ipa = HC_IPA + slot as u64 * 0x100;
        self.sim.cpu.script(move |r| smc(r, &[HOST_CALL, ipa]));
    }

    fn script(&self, step: impl FnMut(&mut RealmRegs) -> RealmExit + Send + 'static) {
        self.sim.cpu.script(step);
    }
}

fn call_regs(fid: u64, seed: u64) -> [u64; 31] {
    let mut g = [0u64; 31];
    g[0] = fid;
    for (i, r) in g.iter_mut().enumerate().skip(1) {
        *r = seed.wrapping_mul(0x1_0000_0001).wrapping_add(i as u64);
    }
    g
}

// ---- SMCCC filter ----

#[test]
fn filter_refuses_nonzero_padding() {
    let mut vm = Vm::new(0, 40);
    for i in [0, 7, 14] {
        let mut f = filter(0xC600_0000, 1, Action::Deny);
        f.pad[i] = 1;
        assert_eq!(vm.set_smccc_filter(&f), Err(Errno::EINVAL), "pad[{i}]");
    }
    assert!(vm.filter().ranges().is_empty());
}

#[test]
fn filter_refuses_empty_and_wrapping_ranges() {
    let mut vm = Vm::new(0, 40);
    for base in [0, 0xC600_0000, 0xFFFF_FFFF] {
        assert_eq!(
            vm.set_smccc_filter(&filter(base, 0, Action::Deny)),
            Err(Errno::EINVAL),
            "empty at {base:#x}"
        );
    }
    assert_eq!(
        vm.set_smccc_filter(&filter(0xFFFF_FFFF, 2, Action::Deny)),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        vm.set_smccc_filter(&filter(0xF000_0000, 0x1000_0001, Action::Deny)),
        Err(Errno::EINVAL)
    );
    // Up to the last function ID is fine.
    assert_eq!(
        vm.set_smccc_filter(&filter(0xF000_0000, 0x1000_0000, Action::Deny)),
        Ok(())
    );
    assert_eq!(vm.filter_action(0xFFFF_FFFF), Action::Deny);
}

#[test]
fn filter_refuses_undefined_actions() {
    let mut vm = Vm::new(0, 40);
    for action in [3u8, 0x80, 0xFF] {
        let mut f = filter(0xC600_0000, 1, Action::Deny);
        f.action = action;
        assert_eq!(vm.set_smccc_filter(&f), Err(Errno::EINVAL), "{action}");
    }
}

#[test]
fn filter_refuses_the_arm_architecture_ranges() {
    let mut vm = Vm::new(0, 40);
    for (base, nr) in [
        (0x8000_0000, 0x1_0000),
        (0x8000_0000, 1),
        (0x8000_FFFF, 1),
        (0x7FFF_FFFF, 2),
        (0x8000_FFFF, 2),
        (0xC000_0000, 0x1_0000),
        (0xC000_0000, 1),
        (0xC000_FFFF, 1),
        (0xBFFF_FFF0, 0x20),
        (0xC000_FFF0, 0x20),
        (0x7000_0000, 0x6000_0000),
    ] {
        assert_eq!(
            vm.set_smccc_filter(&filter(base, nr, Action::FwdToUser)),
            Err(Errno::EEXIST),
            "[{base:#x}, +{nr:#x})"
        );
    }
    // Right next to them is fine.
    for (base, nr) in [
        (0x7FFF_FFFF, 1),
        (0x8001_0000, 1),
        (0xBFFF_0000, 0x1_0000),
        (0xC001_0000, 1),
    ] {
        assert_eq!(
            vm.set_smccc_filter(&filter(base, nr, Action::Deny)),
            Ok(()),
            "[{base:#x}, +{nr:#x})"
        );
    }
    // The reserved ranges stay with the kernel.
    assert_eq!(vm.filter_action(0x8000_0000), Action::Handle);
    assert_eq!(vm.filter_action(0xC000_FFFF), Action::Handle);
    assert_eq!(vm.filter_action(0xC001_0000), Action::Deny);
}

#[test]
fn filter_refuses_overlaps() {
    let mut vm = Vm::new(0, 40);
    vm.set_smccc_filter(&filter(0xC600_0000, 0x100, Action::FwdToUser))
        .expect("first range");
    for (base, nr) in [
        (0xC600_0000, 0x100),
        (0xC600_0080, 1),
        (0xC5FF_FFFF, 2),
        (0xC600_00FF, 0x10),
        (0xC500_0000, 0x200_0000),
    ] {
        assert_eq!(
            vm.set_smccc_filter(&filter(base, nr, Action::Deny)),
            Err(Errno::EEXIST),
            "[{base:#x}, +{nr:#x})"
        );
    }
    assert_eq!(
        vm.set_smccc_filter(&filter(0xC600_0100, 0x100, Action::Deny)),
        Ok(())
    );
    assert_eq!(
        vm.set_smccc_filter(&filter(0xC5FF_FF00, 0x100, Action::Handle)),
        Ok(())
    );
    assert_eq!(vm.filter().ranges().len(), 3);
}

#[test]
fn filter_lookup_defaults_to_handle() {
    let mut vm = Vm::new(0, 40);
    assert_eq!(vm.filter_action(0xC600_0001), Action::Handle);
    vm.set_smccc_filter(&vmm::FORWARDED).expect("forward");
    vm.set_smccc_filter(&vmm::DENIED).expect("deny");
    assert_eq!(vm.filter_action(0xC600_0000), Action::FwdToUser);
    assert_eq!(vm.filter_action(0xC600_00FF), Action::FwdToUser);
    assert_eq!(vm.filter_action(0xC600_0100), Action::Deny);
    assert_eq!(vm.filter_action(0xC600_01FF), Action::Deny);
    assert_eq!(vm.filter_action(0xC600_0200), Action::Handle);
    assert_eq!(vm.filter_action(0xC5FF_FFFF), Action::Handle);
}

#[test]
fn filter_table_is_bounded() {
    let mut vm = Vm::new(0, 40);
    for i in 0..MAX_FILTER_RANGES as u32 {
        vm.set_smccc_filter(&filter(0xC700_0000 + i, 1, Action::Deny))
            .expect("fits");
    }
    assert_eq!(
        vm.set_smccc_filter(&filter(0xC800_0000, 1, Action::Deny)),
        Err(Errno::ENOMEM)
    );
}

#[test]
fn filter_is_detected_with_has_device_attr() {
    let mut vm = Vm::new(0, 40);
    assert_eq!(
        vm.has_device_attr(KVM_ARM_VM_SMCCC_CTRL, KVM_ARM_VM_SMCCC_FILTER),
        Ok(())
    );
    assert_eq!(
        vm.has_device_attr(KVM_ARM_VM_SMCCC_CTRL, 1),
        Err(Errno::ENXIO)
    );
    assert_eq!(vm.has_device_attr(1, 0), Err(Errno::ENXIO));
    let f = filter(0xC600_0000, 1, Action::Deny);
    let attr = |group, attr| KvmDeviceAttr {
        flags: 0,
        group,
        attr,
        addr: 0,
    };
    assert_eq!(vm.set_device_attr(&attr(1, 0), &f), Err(Errno::ENXIO));
    assert_eq!(vm.set_device_attr(&attr(0, 1), &f), Err(Errno::ENXIO));
    assert_eq!(vm.set_device_attr(&attr(0, 0), &f), Ok(()));
    assert_eq!(vm.filter_action(0xC600_0000), Action::Deny);
}

#[test]
fn filter_is_busy_once_a_vcpu_has_run() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    vm.set_smccc_filter(&filter(0xC600_0000, 1, Action::Deny))
        .expect("before running");
    fx.script(|_| irq());
    vcpu.set_entry_budget(1);
    assert_eq!(fx.run(&mut vm, &mut vcpu), Err(Errno::EINTR));
    assert!(vm.has_run());
    assert_eq!(
        vm.set_smccc_filter(&filter(0xC600_0001, 1, Action::Deny)),
        Err(Errno::EBUSY)
    );
    // KVM checks the range itself before the VM's state, and the VM's state before overlaps.
    assert_eq!(
        vm.set_smccc_filter(&filter(0xC600_0001, 0, Action::Deny)),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        vm.set_smccc_filter(&filter(0xC600_0000, 1, Action::Deny)),
        Err(Errno::EBUSY)
    );
    assert_eq!(vm.filter().ranges().len(), 1);
    // Nor can vCPUs be added.
    assert_eq!(Vcpu::create(&mut vm, 1).err(), Some(Errno::EBUSY));
}

// ---- vCPUs and ONE_REG ----

#[test]
fn vcpu_ids_and_finalize() {
    let mut vm = Vm::new(0x1000, 40);
    let mut v0 = Vcpu::create(&mut vm, 0).expect("vcpu 0");
    assert_eq!(Vcpu::create(&mut vm, 0).err(), Some(Errno::EEXIST));
    assert_eq!(
        Vcpu::create(&mut vm, super::vm::MAX_VCPUS).err(),
        Some(Errno::EINVAL)
    );
    let v7 = Vcpu::create(&mut vm, 7).expect("vcpu 7");
    assert_eq!(v7.mpidr(), 7);
    assert_eq!(v0.finalize(&mut vm, 0x5000, 0x6000, true), Ok(()));
    assert_eq!(
        v0.finalize(&mut vm, 0x5000, 0x6000, true),
        Err(Errno::EINVAL)
    );
    assert!(vm.is_powered_on(0));
    assert!(!vm.is_powered_on(7));
    assert_eq!(v0.rec(), Some((0x5000, 0x6000)));
    // A vCPU is finalized only against the VM that created it: another VM has no slot for it,
    // and neither VM's table changes.
    let mut other = Vm::new(0x2000, 40);
    let mut v7 = v7;
    assert_eq!(
        v7.finalize(&mut other, 0x7000, 0x8000, true),
        Err(Errno::EINVAL)
    );
    assert_eq!(v7.rec(), None);
    assert!(other.slot(7).is_none() && vm.slot(7).is_some_and(|s| s.rec.is_none()));
}

#[test]
fn one_reg_before_the_rec_exists() {
    let mut vm = Vm::new(0, 40);
    let mut v = Vcpu::create(&mut vm, 1).expect("vcpu");
    for n in 0..31 {
        v.set_one_reg(xid(n), 100 + n as u64).expect("x<n>");
    }
    v.set_one_reg(KvmRegId::PC, 0x8000)
        .expect("PC before the REC");
    assert_eq!(v.get_one_reg(KvmRegId::PC), Ok(0x8000));
    assert_eq!(v.get_one_reg(xid(30)), Ok(130));
    assert_eq!(v.set_one_reg(KvmRegId::SP, 1), Err(Errno::EINVAL));
    assert_eq!(v.get_one_reg(KvmRegId::PSTATE), Err(Errno::EINVAL));
    let p = v.rec_params(true);
    assert_eq!(p.pc, 0x8000);
    assert_eq!(p.mpidr, 1);
    assert_eq!(p.gprs, [100, 101, 102, 103, 104, 105, 106, 107]);
    assert!(p
        .flags
        .contains(hostcall_abi::rec_params::RmiRecCreateFlags::RUNNABLE));
    assert!(!v
        .rec_params(false)
        .flags
        .contains(hostcall_abi::rec_params::RmiRecCreateFlags::RUNNABLE));
    // No REC: nothing to run.
    let fake = Fake::new();
    let mut rmi = RmiClient::new(FakeConduit(&fake));
    let mut mem = FakeMem(&fake);
    assert_eq!(
        v.run(&mut vm, &mut RmmLink::new(&mut rmi, &mut mem)),
        Err(Errno::ENOEXEC)
    );
    assert_eq!(fake.entries(), 0);
}

#[test]
fn one_reg_after_the_rec_exists_is_x0_to_x30() {
    let mut vm = Vm::new(0, 40);
    let mut v = Vcpu::create(&mut vm, 0).expect("vcpu");
    v.set_one_reg(KvmRegId::PC, 0x8000).expect("PC");
    v.finalize(&mut vm, 0x5000, 0x6000, true).expect("finalize");
    v.set_one_reg(xid(0), 7).expect("x0");
    v.set_one_reg(xid(30), 9).expect("x30");
    assert_eq!(v.get_one_reg(xid(0)), Ok(7));
    assert_eq!(v.get_one_reg(xid(30)), Ok(9));
    for id in [KvmRegId::PC, KvmRegId::SP, KvmRegId::PSTATE] {
        assert_eq!(v.get_one_reg(id), Err(Errno::EINVAL), "{id:?}");
        assert_eq!(v.set_one_reg(id, 0), Err(Errno::EINVAL), "{id:?}");
    }
    let core = 0x6030_0000_0010_0000u64;
    let cases = [
        // x0 with a 32-bit size field.
        (0x6020_0000_0010_0000, Errno::EINVAL),
        // An odd word offset in the middle of x0.
        (core | 1, Errno::EINVAL),
        // sp_el1, elr_el1, spsr[0]: exist, hidden.
        (core | 68, Errno::EINVAL),
        (core | 70, Errno::EINVAL),
        (core | 72, Errno::EINVAL),
        // v0 as a 128-bit register: hidden; as a 64-bit one: wrong size.
        (0x6040_0000_0010_0054, Errno::EINVAL),
        (core | 0x54, Errno::EINVAL),
        // fpsr (32-bit).
        (0x6020_0000_0010_00D4, Errno::EINVAL),
        // Past struct kvm_regs.
        (core | 216, Errno::ENOENT),
        (core | 0xFFFF, Errno::ENOENT),
        // A system register (coprocessor 0x13), a firmware register (0x14).
        (0x6030_0000_0013_C000, Errno::ENOENT),
        (0x6030_0000_0014_0000, Errno::ENOENT),
        // Another architecture (x86 0x2000...).
        (0x2030_0000_0010_0000, Errno::EINVAL),
        (0, Errno::EINVAL),
    ];
    for (raw, errno) in cases {
        let id = KvmRegId::from_raw(raw);
        assert_eq!(v.get_one_reg(id), Err(errno), "get {raw:#x}");
        assert_eq!(v.set_one_reg(id, 1), Err(errno), "set {raw:#x}");
    }
    assert_eq!(
        v.get_one_reg(xid(0)),
        Ok(7),
        "failed writes changed nothing"
    );
}

// ---- kvm_run ----

#[test]
fn kvm_run_encodes_linux_offsets() {
    let mut run = KvmRun::new();
    assert_eq!(run.exit_reason(), 0);
    run.set_exit(KvmExit::Hypercall(KvmRunHypercall {
        nr: 0xC600_0042,
        args: [1, 2, 3, 4, 5, 6],
        ret: 0x77,
        flags: KVM_HYPERCALL_EXIT_SMC,
    }));
    run.immediate_exit = true;
    let mut bytes = [0xEEu8; KVM_RUN_SIZE];
    run.encode(&mut bytes);
    assert_eq!(bytes[1], 1, "immediate_exit");
    assert_eq!(
        u32::from_le_bytes(bytes[KVM_RUN_EXIT_REASON_OFFSET..12].try_into().expect("4")),
        3
    );
    assert_eq!(word(&bytes, 32), 0xC600_0042, "hypercall.nr @32");
    assert_eq!(word(&bytes, 40), 1, "hypercall.args[0] @40");
    assert_eq!(word(&bytes, 80), 6, "hypercall.args[5] @80");
    assert_eq!(word(&bytes, 88), 0x77, "hypercall.ret @88");
    assert_eq!(
        word(&bytes, 96),
        1,
        "hypercall.flags @96: KVM_HYPERCALL_EXIT_SMC"
    );
    assert!(bytes[104..].iter().all(|&b| b == 0));

    run.set_exit(KvmExit::Mmio(KvmRunMmio {
        phys_addr: 0x80_0900_0018,
        data: [1, 2, 3, 4, 0, 0, 0, 0],
        len: 4,
        is_write: 1,
        pad: [0; 3],
    }));
    run.encode(&mut bytes);
    assert_eq!(bytes[8], 6);
    assert_eq!(word(&bytes, 32), 0x80_0900_0018);
    assert_eq!(&bytes[40..44], &[1, 2, 3, 4]);
    assert_eq!(&bytes[48..52], &4u32.to_le_bytes());
    assert_eq!(bytes[52], 1);
    assert!(run.mmio_data_mut().is_some());

    run.set_exit(KvmExit::Intr);
    run.encode(&mut bytes);
    assert_eq!(bytes[8] as u32, KVM_EXIT_INTR);
    assert!(bytes[32..].iter().all(|&b| b == 0));
    assert!(run.mmio_data_mut().is_none());
}

// ---- host calls through KVM_RUN, against the RMM ----

#[test]
fn forwarded_host_call_reaches_userspace_and_results_reach_the_realm() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    vm.set_smccc_filter(&vmm::FORWARDED).expect("filter");
    let args = call_regs(0xC600_0042, 0x5EED);
    fx.write_call(0, args);
    fx.host_call(0);
    fx.script(|r| {
        assert_eq!(r.gprs[0], 0, "RSI_SUCCESS");
        assert_eq!(r.pc, 4, "past the SMC");
        smc(r, &[SYSTEM_OFF])
    });

    let exit = fx.run(&mut vm, &mut vcpu).expect("run");
    assert_eq!(
        exit,
        KvmExit::Hypercall(KvmRunHypercall {
            nr: 0xC600_0042,
            args: [0; 6],
            ret: 0,
            flags: KVM_HYPERCALL_EXIT_SMC,
        }),
        "nr = x0, args and ret left zero"
    );
    assert_eq!(vcpu.kvm_run().exit_reason(), 3);
    for n in 0..31 {
        assert_eq!(vcpu.get_one_reg(xid(n)), Ok(args[n as usize]), "x{n}");
    }
    let mut results = [0u64; 31];
    for (n, r) in results.iter_mut().enumerate() {
        *r = 0xD00D_0000 + n as u64;
        vcpu.set_one_reg(xid(n as u32), *r).expect("set");
    }
    let exit = fx.run(&mut vm, &mut vcpu).expect("run to power-off");
    assert!(matches!(exit, KvmExit::SystemEvent(_)));
    assert_eq!(
        fx.read_call(0).gprs,
        results,
        "results in the realm's structure"
    );
    assert_eq!(fx.sim.cpu.pending(), 0);
    assert_eq!(vcpu.stats().forwarded_calls, 1);
    assert_eq!(vcpu.stats().entries, 2);
}

#[test]
fn denied_host_call_gets_not_supported_without_leaving_the_kernel() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    vm.set_smccc_filter(&vmm::FORWARDED).expect("forward");
    vm.set_smccc_filter(&vmm::DENIED).expect("deny");
    let args = call_regs(0xC600_0180, 3);
    fx.write_call(1, args);
    fx.host_call(1);
    fx.script(|r| {
        assert_eq!(r.gprs[0], 0, "the host call itself completed");
        smc(r, &[SYSTEM_OFF])
    });
    let exit = fx.run(&mut vm, &mut vcpu).expect("run");
    assert!(
        matches!(exit, KvmExit::SystemEvent(e) if e.event_type == KvmSystemEventType::Shutdown as u32),
        "no exit for the denied call: {exit:?}"
    );
    let answer = fx.read_call(1).gprs;
    assert_eq!(answer[..4], [SMCCC_RET_NOT_SUPPORTED, 0, 0, 0]);
    assert_eq!(answer[4..], args[4..], "x4..x30 as the realm left them");
    assert_eq!(vcpu.stats().denied_calls, 1);
    assert_eq!(vcpu.stats().forwarded_calls, 0);
    assert_eq!(vcpu.stats().entries, 2);
}

#[test]
fn handled_host_calls_are_answered_in_the_kernel() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    vm.set_smccc_filter(&vmm::FORWARDED).expect("forward");
    fx.write_call(0, call_regs(0x8000_0000, 1)); // SMCCC_VERSION
    let mut features = call_regs(SMCCC_ARCH_FEATURES as u64, 2);
    features[1] = SMCCC_ARCH_WORKAROUND_1 as u64;
    fx.write_call(1, features);
    let mut features_unknown = features;
    features_unknown[1] = 0xC600_0001;
    fx.write_call(2, features_unknown);
    fx.write_call(3, call_regs(0xC600_0200, 4)); // outside every range: HANDLE
    fx.write_call(4, call_regs(0x8400_0000, 5)); // a PSCI ID as a host call
    for slot in 0..5 {
        fx.host_call(slot);
    }
    fx.script(|r| smc(r, &[SYSTEM_OFF]));
    let exit = fx.run(&mut vm, &mut vcpu).expect("run");
    assert!(matches!(exit, KvmExit::SystemEvent(_)), "{exit:?}");
    assert_eq!(fx.read_call(0).gprs[..4], [0x1_0001, 0, 0, 0], "SMCCC 1.1");
    assert_eq!(fx.read_call(1).gprs[..4], [1, 0, 0, 0], "unaffected");
    for slot in 2..5 {
        assert_eq!(
            fx.read_call(slot).gprs[..4],
            [SMCCC_RET_NOT_SUPPORTED, 0, 0, 0],
            "slot {slot}"
        );
    }
    assert_eq!(vcpu.stats().handled_calls, 5);
    assert_eq!(vcpu.stats().entries, 6);
}

#[test]
fn unforwarded_results_are_the_realms_own_registers() {
    // Userspace that writes nothing back returns x0..x30 as they came: the FID in x0.
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    vm.set_smccc_filter(&vmm::FORWARDED).expect("forward");
    let args = call_regs(0xC600_0007, 9);
    fx.write_call(0, args);
    fx.host_call(0);
    fx.script(|r| smc(r, &[SYSTEM_OFF]));
    assert!(matches!(
        fx.run(&mut vm, &mut vcpu),
        Ok(KvmExit::Hypercall(_))
    ));
    assert!(matches!(
        fx.run(&mut vm, &mut vcpu),
        Ok(KvmExit::SystemEvent(_))
    ));
    assert_eq!(fx.read_call(0).gprs, args);
}

// ---- MMIO ----

#[test]
fn mmio_read_returns_the_vmm_value_into_the_realm_register() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    let ipa = UNPROTECTED | 0x0900_0018;
    // A 32-bit load into w5.
    fx.script(move |_| dabt(dabt_esr(false, 2, 5), ipa));
    fx.script(|r| {
        assert_eq!(r.gprs[5], 0x1234_5678, "value masked to the access size");
        assert_eq!(r.pc, 4, "past the load");
        smc(r, &[SYSTEM_OFF])
    });
    let exit = fx.run(&mut vm, &mut vcpu).expect("run");
    let KvmExit::Mmio(m) = exit else {
        panic!("expected MMIO, got {exit:?}");
    };
    assert_eq!(m.phys_addr, ipa);
    assert_eq!(m.len, 4);
    assert_eq!(m.is_write, 0);
    *vcpu.kvm_run_mut().mmio_data_mut().expect("mmio") = 0xFFFF_FFFF_1234_5678u64.to_le_bytes();
    assert!(matches!(
        fx.run(&mut vm, &mut vcpu),
        Ok(KvmExit::SystemEvent(_))
    ));
    assert_eq!(fx.sim.cpu.pending(), 0);
    assert_eq!(vcpu.stats().mmio_exits, 1);
}

#[test]
fn mmio_write_is_reported_and_completed() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    let ipa = UNPROTECTED | 0x0900_0000;
    fx.script(move |r| {
        r.gprs[3] = b'A' as u64;
        dabt(dabt_esr(true, 0, 3), ipa)
    });
    fx.script(|r| {
        assert_eq!(r.pc, 4, "past the store");
        smc(r, &[SYSTEM_OFF])
    });
    let exit = fx.run(&mut vm, &mut vcpu).expect("run");
    let KvmExit::Mmio(m) = exit else {
        panic!("expected MMIO, got {exit:?}");
    };
    assert_eq!((m.phys_addr, m.len, m.is_write), (ipa, 1, 1));
    assert_eq!(m.data[1..], [0; 7], "only the access size is reported");
    assert!(matches!(
        fx.run(&mut vm, &mut vcpu),
        Ok(KvmExit::SystemEvent(_))
    ));
}

#[test]
fn mmio_write_data_comes_from_the_realm() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    fx.script(|r| {
        r.gprs[3] = 0x4142;
        dabt(dabt_esr(true, 1, 3), UNPROTECTED | 0x0900_0000)
    });
    let Ok(KvmExit::Mmio(m)) = fx.run(&mut vm, &mut vcpu) else {
        panic!("expected MMIO");
    };
    assert_eq!(m.data[..2], [0x42, 0x41]);
}

#[test]
fn abort_on_protected_memory_is_a_memory_fault() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    // RIPAS DESTROYED (the host took the DATA page away): the RMM reports the abort without an
    // access syndrome.
    let destroyed = fx.sim.call(
        u64::from(RmiCommand::DATA_DESTROY.fid()),
        &[fx.l.realm.rd, 0x7000],
    );
    assert_eq!(destroyed[0], 0, "DATA_DESTROY");
    fx.script(|_| dabt(dabt_esr(false, 3, 1), 0x7123));
    assert_eq!(fx.run(&mut vm, &mut vcpu), Err(Errno::EFAULT));
    assert_eq!(
        *vcpu.kvm_run().exit(),
        KvmExit::MemoryFault(KvmRunMemoryFault {
            flags: KVM_MEMORY_EXIT_FLAG_PRIVATE,
            gpa: 0x7000,
            size: 4096,
        })
    );
    assert_eq!(vcpu.kvm_run().exit_reason(), 39);
}

#[test]
fn abort_on_empty_protected_memory_never_reaches_the_host() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    // RIPAS EMPTY: the realm takes a synchronous external abort and runs on (A5.2.3).
    fx.script(|_| dabt(dabt_esr(false, 3, 1), 0x7_0123));
    fx.script(|regs| {
        assert_eq!(regs.el1.esr & 0x3F, 0x10, "an SEA");
        smc(regs, &[0x8400_0008]) // PSCI SYSTEM_OFF
    });
    assert!(fx.run(&mut vm, &mut vcpu).is_ok());
    assert_eq!(fx.sim.cpu.pending(), 0);
}

// ---- power, interrupts, budget ----

#[test]
fn system_off_is_a_system_event_then_shutdown() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    fx.script(|r| smc(r, &[SYSTEM_OFF]));
    let exit = fx.run(&mut vm, &mut vcpu).expect("run");
    let KvmExit::SystemEvent(e) = exit else {
        panic!("expected a system event, got {exit:?}");
    };
    assert_eq!(e.event_type, KvmSystemEventType::Shutdown as u32);
    assert_eq!((e.ndata, e.data[0]), (1, 0));
    assert_eq!(vcpu.kvm_run().exit_reason(), 24);
    // The realm is off: REC_ENTER fails with ERROR_REALM index 1.
    assert_eq!(fx.run(&mut vm, &mut vcpu), Ok(KvmExit::Shutdown));
    assert_eq!(vcpu.kvm_run().exit_reason(), 8);
    assert_eq!(vcpu.last_rmi_failure(), None);
}

#[test]
fn system_reset_is_a_reset_event() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    fx.script(|r| smc(r, &[SYSTEM_RESET]));
    let Ok(KvmExit::SystemEvent(e)) = fx.run(&mut vm, &mut vcpu) else {
        panic!("expected a system event");
    };
    assert_eq!(e.event_type, KvmSystemEventType::Reset as u32);
}

#[test]
fn the_realms_timer_news_is_counted_from_rec_exit() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    // The virtual timer fires (an IRQ exit shows it); the realm runs on and stops it inside an
    // RSI call the RMM answers (the RMM reports that with an IRQ exit of its own); another
    // interrupt with nothing new about the timer; then off.
    fx.script(|r| {
        r.el1.cntv_ctl = 0b101;
        irq()
    });
    fx.script(|r| {
        r.el1.cntv_ctl = 0;
        smc(
            r,
            &[RsiCommand::VERSION.fid() as u64, RSI_VERSION_1_0.raw()],
        )
    });
    fx.script(|_| irq());
    fx.script(|r| smc(r, &[SYSTEM_OFF]));
    let exit = fx.run(&mut vm, &mut vcpu).expect("run");
    assert!(matches!(exit, KvmExit::SystemEvent(_)), "{exit:?}");
    let st = vcpu.stats();
    assert_eq!(st.interrupt_exits, 3);
    assert_eq!((st.realm_timer_fired, st.realm_timer_stopped), (1, 1));
    // The timer's virtual interrupt was made pending when it fired (the scripted realm never
    // took it, so it is still in list register 0).
    assert_eq!((st.virqs_injected, st.virqs_ended), (1, 0));
    assert_eq!(vcpu.inject_virq(42), Err(Errno::EBUSY));
}

#[test]
fn an_injected_virtual_interrupt_travels_in_list_register_0_until_the_realm_ends_it() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    assert_eq!(
        vcpu.inject_virq(1020),
        Err(Errno::EINVAL),
        "a special INTID"
    );
    vcpu.inject_virq(42).expect("inject");
    assert_eq!(vcpu.inject_virq(43), Err(Errno::EBUSY), "one at a time");
    let pending = 1 << 62 | 1 << 60 | 0x80 << 48 | 42;
    // The RMM loads it for the realm, which has not taken it yet when an interrupt stops it...
    fx.script(move |r| {
        assert_eq!(r.gic.lrs[0], pending);
        irq()
    });
    // ...so it is there again; this time the realm takes and ends it (the LR goes inactive).
    fx.script(move |r| {
        assert_eq!(r.gic.lrs[0], pending);
        r.gic.lrs[0] = 0;
        irq()
    });
    // Ended: the host clears the list register.
    fx.script(|r| {
        assert_eq!(r.gic.lrs[0], 0);
        smc(r, &[SYSTEM_OFF])
    });
    let exit = fx.run(&mut vm, &mut vcpu).expect("run");
    assert!(matches!(exit, KvmExit::SystemEvent(_)), "{exit:?}");
    assert_eq!(fx.sim.cpu.pending(), 0);
    assert_eq!(
        (vcpu.stats().virqs_injected, vcpu.stats().virqs_ended),
        (1, 1)
    );
    vcpu.inject_virq(43).expect("the next one");
}

#[test]
fn interrupt_exits_are_reentered_without_surfacing() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    for _ in 0..5 {
        fx.script(|_| irq());
    }
    fx.script(|_| RealmExit {
        class: ExitClass::Fiq,
        esr: 0,
        far: 0,
        hpfar: 0,
    });
    fx.script(|_| RealmExit {
        class: ExitClass::SError,
        esr: 0xBF00_0000,
        far: 0,
        hpfar: 0,
    });
    // A trapped WFI.
    fx.script(|_| RealmExit {
        class: ExitClass::Sync,
        esr: 0x01 << 26 | 1 << 25,
        far: 0,
        hpfar: 0,
    });
    fx.script(|r| smc(r, &[SYSTEM_OFF]));
    let exit = fx.run(&mut vm, &mut vcpu).expect("run");
    assert!(matches!(exit, KvmExit::SystemEvent(_)), "{exit:?}");
    assert_eq!(vcpu.stats().interrupt_exits, 7);
    assert_eq!(vcpu.stats().wfx_exits, 1);
    assert_eq!(vcpu.stats().entries, 9);
    assert!(
        fx.sim.cpu.entries().iter().all(|e| e.2.wfi && !e.2.wfe),
        "WFI trapped, WFE not"
    );
}

#[test]
fn a_run_that_only_takes_interrupts_ends_with_eintr() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    vcpu.set_entry_budget(4);
    // No script: every entry ends in an IRQ.
    assert_eq!(fx.run(&mut vm, &mut vcpu), Err(Errno::EINTR));
    assert_eq!(vcpu.kvm_run().exit_reason(), KVM_EXIT_INTR);
    assert_eq!(vcpu.stats().entries, 4);
    assert_eq!(fx.run(&mut vm, &mut vcpu), Err(Errno::EINTR));
    assert_eq!(vcpu.stats().entries, 8);
}

#[test]
fn immediate_exit_returns_before_entering() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    vcpu.kvm_run_mut().immediate_exit = true;
    assert_eq!(fx.run(&mut vm, &mut vcpu), Err(Errno::EINTR));
    assert_eq!(vcpu.stats().entries, 0);
    assert!(vm.has_run(), "KVM_RUN was called");
    vcpu.kvm_run_mut().immediate_exit = false;
    fx.script(|r| smc(r, &[SYSTEM_OFF]));
    assert!(matches!(
        fx.run(&mut vm, &mut vcpu),
        Ok(KvmExit::SystemEvent(_))
    ));
}

// ---- the VMM against the RMM ----

#[test]
fn vmm_serves_the_realm_until_it_powers_off() {
    use hostcall_abi::payload::{echo_arg, ECHO, REPORT};
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    let mut vmm = Vmm::new(40);
    vmm.install_filters(&mut vm).expect("filters");
    let mut echo = [0u64; 31];
    echo[0] = ECHO;
    for (i, g) in echo.iter_mut().enumerate().skip(1) {
        *g = echo_arg(i);
    }
    fx.write_call(0, echo);
    let mut add = [0u64; 31];
    add[..3].copy_from_slice(&[ADD, 40, 2]);
    fx.write_call(1, add);
    let mut mul = [0u64; 31];
    mul[..3].copy_from_slice(&[MUL, 0x1_0000_0001, 0x10]);
    fx.write_call(2, mul);
    fx.write_call(3, call_regs(0xC600_0101, 1)); // denied
    let mut report = [0u64; 31];
    report[0] = REPORT;
    fx.write_call(4, report);
    let uart = vmm.uart_base();
    fx.host_call(0);
    fx.host_call(1);
    fx.host_call(2);
    fx.script(move |_| dabt(dabt_esr(false, 2, 7), uart + UARTFR));
    fx.script(move |r| {
        assert_eq!(r.gprs[7], 0, "UARTFR: ready");
        dabt(dabt_esr(true, 0, 8), uart + UARTDR)
    });
    fx.script(|_| irq());
    fx.host_call(3);
    fx.host_call(4);
    fx.script(|r| smc(r, &[SYSTEM_OFF]));

    let mut link_result = None;
    fx.with_link(|link| {
        link_result = Some(vmm.run_until_shutdown(&mut vm, &mut vcpu, link, 32));
    });
    assert_eq!(link_result, Some(Ok(Stop::PowerOff)));
    assert_eq!(fx.sim.cpu.pending(), 0);

    // What went back into the realm.
    let echoed = fx.read_call(0).gprs;
    assert_eq!(echoed[0], 0);
    assert!((1..31).all(|i| echoed[i] == !echo_arg(i)));
    assert_eq!(fx.read_call(1).gprs[..2], [0, 42], "40 + 2");
    assert_eq!(
        fx.read_call(2).gprs[..2],
        [0, 0x10_0000_0010],
        "wrapping product"
    );
    assert_eq!(fx.read_call(3).gprs[0], SMCCC_RET_NOT_SUPPORTED, "denied");
    assert_eq!(vmm.payload().verdict, Some(0));
    assert!(vmm.payload().echo_seen_intact);

    // What the VMM saw.
    assert_eq!(
        vmm.log(),
        &[
            Event::Hypercall { nr: ECHO, count: 1 },
            Event::Hypercall { nr: ADD, count: 1 },
            Event::Hypercall { nr: MUL, count: 1 },
            Event::Mmio {
                addr: uart + UARTFR,
                len: 4,
                write: false,
                value: 0
            },
            // The RMM does not report store data yet (see mmio_write_data_comes_from_the_realm).
            Event::Mmio {
                addr: uart + UARTDR,
                len: 1,
                write: true,
                value: vmm.uart_output().first().copied().unwrap_or(0) as u64
            },
            Event::Hypercall {
                nr: REPORT,
                count: 1
            },
            Event::SystemEvent { kind: 1 },
        ]
    );
    assert_eq!(vmm.uart_output().len(), 1);
    assert_eq!(vcpu.stats().denied_calls, 1);
    assert_eq!(vmm.runs(), (7, 0));
}

#[test]
fn vmm_merges_repeated_calls_and_reports_runaway_realms() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    let mut vmm = Vmm::new(40);
    vmm.install_filters(&mut vm).expect("filters");
    // Each call has its own structure: the answer overwrites x0 of the last one.
    for slot in 0..3 {
        fx.write_call(slot, call_regs(hostcall_abi::payload::BENCH, 0));
        fx.host_call(slot);
    }
    vcpu.set_entry_budget(2);
    // After the calls: IRQs forever.
    let r = fx.with_link(|link| vmm.run_until_shutdown(&mut vm, &mut vcpu, link, 6));
    assert_eq!(r, Err(VmmError::TooManyRuns));
    assert_eq!(
        vmm.log(),
        &[Event::Hypercall {
            nr: hostcall_abi::payload::BENCH,
            count: 3
        }]
    );
    assert_eq!(vmm.runs(), (6, 3));
}

#[test]
fn vmm_filters_are_refused_once_the_vm_ran() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    fx.script(|r| smc(r, &[SYSTEM_OFF]));
    assert!(fx.run(&mut vm, &mut vcpu).is_ok());
    assert_eq!(Vmm::new(40).install_filters(&mut vm), Err(Errno::EBUSY));
}

// ---- against a scripted RMM ----

/// A VM with vCPU 0 (REC 0x10_0000, powered on) and vCPU 1 (REC 0x20_0000, off).
fn two_vcpus() -> (Vm, Vcpu, Vcpu) {
    let mut vm = Vm::new(0xA000, 40);
    let mut v0 = Vcpu::create(&mut vm, 0).expect("vcpu 0");
    let mut v1 = Vcpu::create(&mut vm, 1).expect("vcpu 1");
    v0.finalize(&mut vm, 0x10_0000, 0x30_0000, true)
        .expect("finalize 0");
    v1.finalize(&mut vm, 0x20_0000, 0x40_0000, false)
        .expect("finalize 1");
    (vm, v0, v1)
}

/// A SYNC exit for a trapped `MSR <op2 register>, x7` in the GIC's `S3_0_C12_C11_<op2>` group
/// (op2 5: ICC_SGI1R_EL1, 7: ICC_SGI0R_EL1), with `value` as the RMM reports it in gprs\[0\].
fn gic_msr_exit(op2: u64, value: u64) -> RmiRecExit {
    let mut e = RmiRecExit::with_reason(RmiExitReason::Sync);
    e.esr = 0x18 << 26 | 1 << 25 | 3 << 20 | op2 << 17 | 12 << 10 | 7 << 5 | 11 << 1;
    e.gprs[0] = value;
    e
}

fn exit_with(reason: RmiExitReason, gprs: &[u64]) -> RmiRecExit {
    let mut e = RmiRecExit::with_reason(reason);
    e.gprs[..gprs.len()].copy_from_slice(gprs);
    e
}

fn fake_run(fake: &Fake, vm: &mut Vm, vcpu: &mut Vcpu) -> Result<KvmExit, Errno> {
    let mut rmi = RmiClient::new(FakeConduit(fake));
    let mut mem = FakeMem(fake);
    vcpu.run(vm, &mut RmmLink::new(&mut rmi, &mut mem))
}

#[test]
fn psci_cpu_on_is_completed_by_kvm() {
    let (mut vm, mut v0, _v1) = two_vcpus();
    let fake = Fake::new();
    let target = rec_index_to_mpidr_el1(1).expect("mpidr") | 1 << 31;
    fake.exit(exit_with(
        RmiExitReason::Psci,
        &[CPU_ON, target, 0x8000, 0x55],
    ));
    fake.exit(exit_with(RmiExitReason::Psci, &[SYSTEM_OFF]));
    assert!(!vm.is_powered_on(1));
    assert!(matches!(
        fake_run(&fake, &mut vm, &mut v0),
        Ok(KvmExit::SystemEvent(_))
    ));
    assert_eq!(
        fake.calls_of(RmiCommand::PSCI_COMPLETE),
        [[0x10_0000, 0x20_0000, 0, 0]],
        "caller, target, PSCI_SUCCESS"
    );
    assert!(vm.is_powered_on(1), "the target vCPU may run now");
    // The entry after the PSCI exit carries the registers back, as for a host call.
    assert_eq!(fake.entry(1).gprs[..4], [CPU_ON, target, 0x8000, 0x55]);
    assert_eq!(v0.stats().psci_completions, 1);
}

#[test]
fn psci_cpu_on_can_be_denied_for_an_off_target() {
    let (mut vm, mut v0, _v1) = two_vcpus();
    vm.slot_mut(1).expect("slot").allow_cpu_on = false;
    let fake = Fake::new();
    fake.exit(exit_with(RmiExitReason::Psci, &[CPU_ON, 1, 0x8000, 0]));
    fake.exit(exit_with(RmiExitReason::Psci, &[SYSTEM_OFF]));
    assert!(fake_run(&fake, &mut vm, &mut v0).is_ok());
    assert_eq!(
        fake.calls_of(RmiCommand::PSCI_COMPLETE),
        [[0x10_0000, 0x20_0000, (-3i64) as u64, 0]],
        "PSCI_DENIED"
    );
    assert!(!vm.is_powered_on(1));
    // Once the target is on, KVM never says DENIED (the RMM would refuse it).
    vm.slot_mut(1).expect("slot").powered_on = true;
    fake.exit(exit_with(RmiExitReason::Psci, &[CPU_ON, 1, 0x8000, 0]));
    fake.exit(exit_with(RmiExitReason::Psci, &[SYSTEM_OFF]));
    assert!(fake_run(&fake, &mut vm, &mut v0).is_ok());
    assert_eq!(fake.calls_of(RmiCommand::PSCI_COMPLETE)[1][2], 0);
}

#[test]
fn psci_affinity_info_is_completed_with_success() {
    let (mut vm, mut v0, _v1) = two_vcpus();
    let fake = Fake::new();
    fake.exit(exit_with(RmiExitReason::Psci, &[AFFINITY_INFO, 1, 0]));
    fake.exit(exit_with(RmiExitReason::Psci, &[SYSTEM_OFF]));
    assert!(fake_run(&fake, &mut vm, &mut v0).is_ok());
    assert_eq!(
        fake.calls_of(RmiCommand::PSCI_COMPLETE),
        [[0x10_0000, 0x20_0000, 0, 0]]
    );
    assert!(!vm.is_powered_on(1), "AFFINITY_INFO changes nothing");
}

#[test]
fn psci_requests_kvm_cannot_complete() {
    let (mut vm, mut v0, _v1) = two_vcpus();
    let fake = Fake::new();
    // A target the VM does not have, or an MPIDR with reserved bits.
    fake.exit(exit_with(RmiExitReason::Psci, &[CPU_ON, 5, 0x8000, 0]));
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::EINVAL));
    fake.exit(exit_with(RmiExitReason::Psci, &[AFFINITY_INFO, 0xF0, 0]));
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::EINVAL));
    // The RMM refuses the completion.
    let refusal = RmiReturn::new(RmiStatus::ErrorInput, 0);
    fake.0.borrow_mut().psci_complete.push_back(refusal);
    fake.exit(exit_with(RmiExitReason::Psci, &[CPU_ON, 1, 0x8000, 0]));
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::ENXIO));
    assert_eq!(
        v0.last_rmi_failure(),
        Some(super::vcpu::RmiFailure {
            command: RmiCommand::PSCI_COMPLETE,
            ret: refusal
        })
    );
    assert!(!vm.is_powered_on(1));
}

#[test]
fn psci_cpu_off_stops_the_vcpu() {
    let (mut vm, mut v0, _v1) = two_vcpus();
    let fake = Fake::new();
    fake.exit(exit_with(RmiExitReason::Psci, &[CPU_OFF]));
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::EINTR));
    assert!(!vm.is_powered_on(0));
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::EINTR));
    assert_eq!(fake.entries(), 1, "a powered-off vCPU is not entered");
    // Powered on again (by another vCPU's CPU_ON), it runs.
    vm.slot_mut(0).expect("slot").powered_on = true;
    fake.exit(exit_with(RmiExitReason::Psci, &[SYSTEM_OFF]));
    assert!(fake_run(&fake, &mut vm, &mut v0).is_ok());
}

#[test]
fn ripas_change_is_a_memory_fault_committed_on_the_next_entry() {
    let (mut vm, mut v0, _v1) = two_vcpus();
    let fake = Fake::new();
    let mut e = RmiRecExit::with_reason(RmiExitReason::RipasChange);
    e.ripas_base = 0x10_0000;
    e.ripas_top = 0x30_0000;
    e.ripas_value = Ripas::Ram as u8;
    fake.exit(e);
    fake.exit(exit_with(RmiExitReason::Psci, &[SYSTEM_OFF]));
    fake.0
        .borrow_mut()
        .set_ripas
        .push_back((RmiReturn::SUCCESS, 0x20_0000));
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::EFAULT));
    assert_eq!(
        *v0.kvm_run().exit(),
        KvmExit::MemoryFault(KvmRunMemoryFault {
            flags: KVM_MEMORY_EXIT_FLAG_PRIVATE,
            gpa: 0x10_0000,
            size: 0x20_0000
        })
    );
    assert!(
        fake.calls_of(RmiCommand::RTT_SET_RIPAS).is_empty(),
        "not before userspace"
    );
    assert!(fake_run(&fake, &mut vm, &mut v0).is_ok());
    assert_eq!(
        fake.calls_of(RmiCommand::RTT_SET_RIPAS),
        [
            [0xA000, 0x10_0000, 0x10_0000, 0x30_0000],
            [0xA000, 0x10_0000, 0x20_0000, 0x30_0000]
        ],
        "until the RMM reports the whole range done"
    );
    assert!(!fake
        .entry(1)
        .flags
        .contains(RmiRecEnterFlags::RIPAS_RESPONSE));
}

#[test]
fn ripas_change_refused_by_the_vmm_or_the_rmm() {
    let (mut vm, mut v0, _v1) = two_vcpus();
    let fake = Fake::new();
    let mut e = RmiRecExit::with_reason(RmiExitReason::RipasChange);
    e.ripas_base = 0x10_0000;
    e.ripas_top = 0x10_1000;
    e.ripas_value = Ripas::Empty as u8;
    fake.exit(e);
    fake.exit(e);
    fake.0
        .borrow_mut()
        .set_ripas
        .push_back((RmiReturn::new(RmiStatus::ErrorRtt, 2), 0));
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::EFAULT));
    assert!(
        matches!(v0.kvm_run().exit(), KvmExit::MemoryFault(f) if f.flags == 0),
        "to shared"
    );
    v0.reject_ripas_change();
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::EFAULT));
    assert!(fake
        .entry(1)
        .flags
        .contains(RmiRecEnterFlags::RIPAS_RESPONSE));
    assert!(fake.calls_of(RmiCommand::RTT_SET_RIPAS).is_empty());
    // The second change: the RMM refuses to commit it, so the realm is told REJECT.
    let _ = fake_run(&fake, &mut vm, &mut v0);
    assert_eq!(fake.calls_of(RmiCommand::RTT_SET_RIPAS).len(), 1);
    assert!(fake
        .entry(2)
        .flags
        .contains(RmiRecEnterFlags::RIPAS_RESPONSE));
}

#[test]
fn mmio_data_travels_both_ways_through_rec_run() {
    let (mut vm, mut v0, _v1) = two_vcpus();
    let fake = Fake::new();
    let ipa = UNPROTECTED | 0x1000;
    let mut w = RmiRecExit::with_reason(RmiExitReason::Sync);
    w.esr = dabt_esr(true, 1, 4);
    w.far = ipa & 0xFFF;
    w.hpfar = (ipa >> 12) << 4;
    w.gprs[0] = 0x1122_3344_5566_7788;
    fake.exit(w);
    let mut r = w;
    r.esr = dabt_esr(false, 1, 4);
    r.gprs[0] = 0;
    fake.exit(r);
    let Ok(KvmExit::Mmio(m)) = fake_run(&fake, &mut vm, &mut v0) else {
        panic!("expected MMIO");
    };
    assert_eq!(
        m.data,
        [0x88, 0x77, 0, 0, 0, 0, 0, 0],
        "two bytes of the store"
    );
    assert_eq!((m.len, m.is_write, m.phys_addr), (2, 1, ipa));
    let Ok(KvmExit::Mmio(_)) = fake_run(&fake, &mut vm, &mut v0) else {
        panic!("expected MMIO");
    };
    let write_done = fake.entry(1);
    assert!(write_done.flags.contains(RmiRecEnterFlags::EMULATED_MMIO));
    assert_eq!(write_done.gprs[0], 0);
    *v0.kvm_run_mut().mmio_data_mut().expect("mmio") =
        [0xCD, 0xAB, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    let _ = fake_run(&fake, &mut vm, &mut v0);
    let read_done = fake.entry(2);
    assert!(read_done.flags.contains(RmiRecEnterFlags::EMULATED_MMIO));
    assert_eq!(read_done.gprs[0], 0xABCD, "masked to the two bytes read");
    assert!(read_done.flags.contains(RmiRecEnterFlags::TRAP_WFI));
    // An access without a syndrome cannot be emulated.
    let mut nisv = w;
    nisv.esr &= !(1 << 24);
    fake.exit(nisv);
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::ENOSYS));
}

#[test]
fn hypercall_results_go_back_in_rec_enter() {
    let (mut vm, mut v0, _v1) = two_vcpus();
    vm.set_smccc_filter(&vmm::FORWARDED).expect("filter");
    let fake = Fake::new();
    let mut hc = exit_with(RmiExitReason::HostCall, &call_regs(0xC600_0010, 1));
    hc.imm = 0xFFFF;
    fake.exit(hc);
    let Ok(KvmExit::Hypercall(h)) = fake_run(&fake, &mut vm, &mut v0) else {
        panic!("expected a hypercall");
    };
    assert_eq!(h.nr, 0xC600_0010);
    let mut vmm = Vmm::new(40);
    vmm.handle_hypercall(&mut v0, h.nr).expect("ADD");
    let _ = fake_run(&fake, &mut vm, &mut v0);
    let enter = fake.entry(1);
    let args = call_regs(0xC600_0010, 1);
    assert_eq!(enter.gprs[0], 0);
    assert_eq!(enter.gprs[1], args[1].wrapping_add(args[2]));
    assert_eq!(
        enter.gprs[2..],
        args[2..],
        "the rest as the realm sent them"
    );
    // The SVE hint bit and bits 63:32 of x0 do not change the function.
    fake.exit(exit_with(RmiExitReason::HostCall, &[0xFFFF_FFFF_C601_0010]));
    let Ok(KvmExit::Hypercall(h)) = fake_run(&fake, &mut vm, &mut v0) else {
        panic!("expected a hypercall");
    };
    assert_eq!(h.nr, 0xC600_0010);
}

#[test]
fn a_gic_register_write_exit_is_recorded_and_reentered() {
    let (mut vm, mut v0, _v1) = two_vcpus();
    let fake = Fake::new();
    fake.exit(gic_msr_exit(5, 0x0100_0003));
    // The next exit (a class the model does not handle) ends the run: it got past the SGI.
    fake.exit(RmiRecExit::with_reason(RmiExitReason::Sync));
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::ENXIO));
    assert_eq!(v0.stats().gic_register_exits, 1);
    assert_eq!(v0.stats().last_gic_register_write, 0x0100_0003);
}

#[test]
fn rmm_errors_and_unknown_exits_are_enxio() {
    let (mut vm, mut v0, _v1) = two_vcpus();
    let fake = Fake::new();
    let busy = RmiReturn::new(RmiStatus::ErrorRec, 0);
    fake.fail(busy);
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::ENXIO));
    assert_eq!(
        v0.last_rmi_failure().map(|f| (f.command, f.ret)),
        Some((RmiCommand::REC_ENTER, busy))
    );
    let mut odd = RmiRecExit::ZERO;
    odd.exit_reason = 9;
    fake.exit(odd);
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::ENXIO));
    // A synchronous exit of a class KVM does not handle for realms (an SVC).
    let mut sync = RmiRecExit::with_reason(RmiExitReason::Sync);
    sync.esr = 0x15 << 26;
    fake.exit(sync);
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::ENXIO));
    // ERROR_REALM with another index is an error, not a shutdown.
    fake.fail(RmiReturn::new(RmiStatus::ErrorRealm, 0));
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::ENXIO));
}

#[test]
fn vmm_collects_uart_output() {
    // The scripted RMM reports store data as A4.3.4.3 says; the real one does not yet.
    let (mut vm, mut v0, _v1) = two_vcpus();
    let mut vmm = Vmm::new(40);
    let fake = Fake::new();
    let store = |byte: u8, offset: u64| {
        let ipa = vmm.uart_base() + offset;
        let mut e = RmiRecExit::with_reason(RmiExitReason::Sync);
        e.esr = dabt_esr(true, 0, 1);
        e.far = ipa & 0xFFF;
        e.hpfar = (ipa >> 12) << 4;
        e.gprs[0] = 0xFF00 | byte as u64;
        e
    };
    for b in *b"hi\n" {
        fake.exit(store(b, UARTDR));
    }
    // A store to another register is logged but not printed.
    fake.exit(store(b'x', UARTFR));
    fake.exit(exit_with(RmiExitReason::Psci, &[SYSTEM_OFF]));
    let mut rmi = RmiClient::new(FakeConduit(&fake));
    let mut mem = FakeMem(&fake);
    let stop = vmm.run_until_shutdown(&mut vm, &mut v0, &mut RmmLink::new(&mut rmi, &mut mem), 16);
    assert_eq!(stop, Ok(Stop::PowerOff));
    assert_eq!(vmm.uart_output(), b"hi\n");
    assert_eq!(vmm.log().len(), 5);
    assert_eq!(
        vmm.log()[0],
        Event::Mmio {
            addr: vmm.uart_base(),
            len: 1,
            write: true,
            value: b'h' as u64
        }
    );
    assert!((1..5).all(|n| fake
        .entry(n)
        .flags
        .contains(RmiRecEnterFlags::EMULATED_MMIO)));
}

#[test]
fn psci_cpu_on_and_affinity_info_against_the_rmm() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let (realm, runs) = {
        let mut h = Host::new(&mut rmi, &mut mem);
        let mut pool = Pool::new(0x6400_0000, 0x10_0000);
        let realm = crate::realm_build::build(&mut h, &mut pool, 5).expect("realm");
        let runs = [pool.take(1).expect("run 0"), pool.take(1).expect("run 1")];
        (realm, runs)
    };
    let mut vm = Vm::new(realm.rd, 40);
    let mut v0 = Vcpu::create(&mut vm, 0).expect("vcpu 0");
    let mut v1 = Vcpu::create(&mut vm, 1).expect("vcpu 1");
    v0.finalize(&mut vm, realm.recs[0], runs[0], true)
        .expect("finalize 0");
    v1.finalize(&mut vm, realm.recs[1], runs[1], true)
        .expect("finalize 1");
    let target = rec_index_to_mpidr_el1(1).expect("mpidr");
    // vCPU 1 turns itself off.
    sim.cpu.script(|r| smc(r, &[CPU_OFF]));
    // vCPU 0 starts it again at 0x1000 with context 0x77, then asks whether it is on.
    sim.cpu
        .script(move |r| smc(r, &[CPU_ON, target, 0x1000, 0x77]));
    sim.cpu.script(move |r| {
        assert_eq!(r.gprs[..4], [0, 0, 0, 0], "CPU_ON: SUCCESS");
        smc(r, &[AFFINITY_INFO, target, 0])
    });
    sim.cpu.script(|r| {
        assert_eq!(r.gprs[0], 0, "AFFINITY_INFO: ON");
        irq()
    });
    // vCPU 1 starts where CPU_ON said.
    sim.cpu.script(|r| {
        assert_eq!((r.pc, r.gprs[0]), (0x1000, 0x77));
        smc(r, &[SYSTEM_OFF])
    });
    let mut link = RmmLink::new(&mut rmi, &mut mem);
    assert_eq!(v1.run(&mut vm, &mut link), Err(Errno::EINTR));
    assert!(!vm.is_powered_on(1));
    assert_eq!(
        v1.run(&mut vm, &mut link),
        Err(Errno::EINTR),
        "off: not entered"
    );
    v0.set_entry_budget(3);
    assert_eq!(v0.run(&mut vm, &mut link), Err(Errno::EINTR));
    assert_eq!(v0.last_rmi_failure(), None);
    assert_eq!(v0.stats().psci_completions, 2);
    assert!(vm.is_powered_on(1));
    assert!(matches!(
        v1.run(&mut vm, &mut link),
        Ok(KvmExit::SystemEvent(_))
    ));
    assert_eq!(sim.cpu.pending(), 0);
    assert_eq!(v1.stats().entries, 2);
}

const IPA_STATE_SET: u64 = 0xC400_0197;

thread_local! {
    static CLOCK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A clock that advances 50 ticks per read (per thread), so each timed REC_ENTER measures 50.
fn tick() -> u64 {
    CLOCK.with(|c| {
        c.set(c.get() + 50);
        c.get()
    })
}

/// The realm's RSI_IPA_STATE_SET of one page to RAM.
fn set_ram(r: &mut RealmRegs, base: u64) -> RealmExit {
    smc(r, &[IPA_STATE_SET, base, base + 4096, Ripas::Ram as u64, 0])
}

#[test]
fn demand_paging_maps_a_ram_page_in_the_kernel_and_the_realm_retries() {
    use hostcall_abi::payload::GROW_IPA;
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    let backing = [0x6480_0000, 0x6480_1000];
    vm.add_backing(&backing).expect("backing");
    assert_eq!(vm.add_backing(&[0x6480_0000]), Err(Errno::EINVAL), "twice");
    assert_eq!(
        vm.add_backing(&[0x6480_2001]),
        Err(Errno::EINVAL),
        "unaligned"
    );
    assert_eq!(vm.add_backing(&[0x6490_0000; 7]), Err(Errno::ENOMEM));
    // RIPAS EMPTY: not the kernel's to map, a memory fault for userspace.
    fx.script(|r| smc(r, &[HOST_CALL, GROW_IPA]));
    // The realm asks for RAM there (accepted), then calls the host with a structure there: the
    // RMM reports a data abort, the kernel maps a page, and the realm's SMC repeats.
    fx.script(|r| {
        assert_eq!(r.gprs[0], 1, "RSI_ERROR_INPUT: RIPAS EMPTY");
        set_ram(r, GROW_IPA)
    });
    fx.script(|r| {
        assert_eq!(r.gprs[..3], [0, GROW_IPA + 4096, 0], "accepted in full");
        smc(r, &[HOST_CALL, GROW_IPA])
    });
    fx.script(|r| smc(r, &[HOST_CALL, GROW_IPA]));
    fx.script(|r| {
        assert_eq!(r.gprs[0], 0, "RSI_SUCCESS once the page is there");
        smc(r, &[SYSTEM_OFF])
    });
    assert_eq!(
        fx.run(&mut vm, &mut vcpu),
        Err(Errno::EFAULT),
        "the RIPAS change"
    );
    assert!(matches!(
        fx.run(&mut vm, &mut vcpu),
        Ok(KvmExit::SystemEvent(_))
    ));
    assert_eq!(vcpu.stats().pages_mapped, 1);
    assert_eq!(vm.mapped_pages(), &[(GROW_IPA, 0x6480_1000)]);
    assert_eq!(vm.free_pages(), &[0x6480_0000]);
    assert!(fx.sim.el3.is_realm(0x6480_1000));
    // The zeroed structure is a host call with x0 = 0: answered in the kernel (NOT_SUPPORTED).
    assert_eq!(vcpu.stats().handled_calls, 1);
    assert_eq!(vcpu.stats().forwarded_calls, 0);
    assert_eq!(fx.sim.cpu.pending(), 0);
    // Released before the realm's tables go: DATA_DESTROY, UNDELEGATE, free again.
    assert_eq!(fx.with_link(|link| vm.release_pages(link)), Ok(1));
    assert!(vm.mapped_pages().is_empty());
    assert_eq!(vm.free_pages().len(), 2);
    assert!(!fx.sim.el3.is_realm(0x6480_1000));
    fx.with_link(|link| {
        let mut h = Host::new(link.rmi, link.mem);
        crate::realm_run::unload(&mut h, &fx.l).expect("unload");
    });
}

#[test]
fn a_ram_fault_without_backing_is_a_memory_fault() {
    use hostcall_abi::payload::GROW_IPA;
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    fx.script(|r| set_ram(r, GROW_IPA));
    fx.script(|r| smc(r, &[HOST_CALL, GROW_IPA]));
    assert_eq!(
        fx.run(&mut vm, &mut vcpu),
        Err(Errno::EFAULT),
        "the RIPAS change"
    );
    assert_eq!(fx.run(&mut vm, &mut vcpu), Err(Errno::EFAULT), "the abort");
    assert_eq!(
        *vcpu.kvm_run().exit(),
        KvmExit::MemoryFault(KvmRunMemoryFault {
            flags: KVM_MEMORY_EXIT_FLAG_PRIVATE,
            gpa: GROW_IPA,
            size: 4096,
        })
    );
    assert_eq!(vcpu.stats().pages_mapped, 0);
}

/// The realm payload's protocol, scripted against the RMM's real handlers: every step the QEMU
/// image relies on, through `run_payload`.
#[test]
fn run_payload_serves_the_payload_protocol_and_unloads() {
    use hostcall_abi::payload::{
        echo_arg, BENCH, BENCH_MINIMAL, BENCH_MINIMAL_RESULT, BENCH_RESULT, ECHO, ECHO_IMM,
        GROW_IPA, REFUSED_IPA, REPORT,
    };
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut pool = Pool::new(0x6400_0000, 0x10_0000);
    // The "image": two pages of code, then the realm's RsiHostCall structures at HC_IPA.
    let mut image = vec![0u8; 3 * 4096];
    let mut echo = [0u64; 31];
    echo[0] = ECHO;
    for (i, g) in echo.iter_mut().enumerate().skip(1) {
        *g = echo_arg(i);
    }
    // One structure per call: an answer overwrites x0 (the payload rewrites it before each
    // BENCH call).
    let fids = [
        ECHO,
        REPORT,
        BENCH,
        BENCH,
        BENCH,
        BENCH_RESULT,
        BENCH_MINIMAL,
        BENCH_MINIMAL,
        BENCH_MINIMAL,
        BENCH_MINIMAL_RESULT,
    ];
    for (slot, fid) in fids.into_iter().enumerate() {
        let (imm, mut g) = if fid == ECHO {
            (ECHO_IMM, echo)
        } else {
            (0, [0u64; 31])
        };
        g[0] = fid;
        if fid == BENCH_RESULT {
            g[1..4].copy_from_slice(&[4000, 3900, 4500]);
        }
        if fid == BENCH_MINIMAL_RESULT {
            g[1..4].copy_from_slice(&[2000, 1900, 2500]);
        }
        RsiHostCall::new(imm, g)
            .encode(&mut image[0x2000 + slot * 0x100..0x2000 + (slot + 1) * 0x100])
            .expect("fits");
    }
    let call = |slot: u64| move |r: &mut RealmRegs| smc(r, &[HOST_CALL, HC_IPA + slot * 0x100]);
    sim.cpu.script(call(0));
    sim.cpu.script(|r| {
        assert_eq!(r.gprs[0], 0, "RSI_SUCCESS for the echo");
        set_ram(r, GROW_IPA)
    });
    sim.cpu.script(|r| {
        assert_eq!(r.gprs[..3], [0, GROW_IPA + 4096, 0], "GROW_IPA accepted");
        set_ram(r, REFUSED_IPA)
    });
    sim.cpu.script(|r| {
        assert_eq!(r.gprs[..3], [0, REFUSED_IPA, 1], "REFUSED_IPA rejected");
        smc(r, &[HOST_CALL, GROW_IPA])
    });
    // The abort: the kernel maps GROW_IPA, the SMC repeats.
    sim.cpu.script(|r| smc(r, &[HOST_CALL, GROW_IPA]));
    sim.cpu.script(|r| {
        assert_eq!(r.gprs[0], 0, "the retried host call succeeds");
        smc(r, &[HOST_CALL, HC_IPA + 0x100])
    });
    sim.cpu.script(|_| irq());
    for slot in 2..5 {
        sim.cpu.script(call(slot));
    }
    sim.cpu.script(call(5));
    // The minimal host answers BENCH_MINIMAL in its entry loop: x0 = 0 in the realm's
    // structure, and nothing reaches the KVM model (no hypercall event, no ONE_REG).
    sim.cpu.script(call(6));
    for slot in 7..10 {
        sim.cpu.script(move |r| {
            assert_eq!(r.gprs[0], 0, "RSI_SUCCESS for BENCH_MINIMAL");
            smc(r, &[HOST_CALL, HC_IPA + slot * 0x100])
        });
    }
    for _ in 0..70 {
        sim.cpu.script(|_| RealmExit {
            class: ExitClass::Sync,
            esr: 0x01 << 26 | 1 << 25,
            far: 0,
            hpfar: 0,
        });
    }
    sim.cpu.script(|r| smc(r, &[SYSTEM_OFF]));
    let run = vmm::run_payload(
        &mut rmi,
        &mut mem,
        &mut pool,
        &image,
        9,
        32,
        vmm::PayloadStart {
            clock: Some(tick),
            ..vmm::PayloadStart::FULL
        },
    )
    .expect("payload");
    assert_eq!(run.stop, Stop::PowerOff);
    assert_eq!(sim.cpu.pending(), 0);
    let p = run.vmm.payload();
    assert!(p.echo_seen_intact);
    assert_eq!(p.echo_imm, Some(ECHO_IMM));
    assert_eq!(p.verdict, Some(0));
    assert_eq!(p.bench, Some((4000, 3900, 4500)));
    assert_eq!(p.bench_minimal, Some((2000, 1900, 2500)));
    assert_eq!(
        run.vmm.log(),
        &[
            Event::Hypercall { nr: ECHO, count: 1 },
            Event::MemoryFault {
                gpa: GROW_IPA,
                size: 4096,
                private: true,
                refused: false
            },
            Event::MemoryFault {
                gpa: REFUSED_IPA,
                size: 4096,
                private: true,
                refused: true
            },
            Event::Hypercall {
                nr: REPORT,
                count: 1
            },
            Event::Hypercall {
                nr: BENCH,
                count: 3
            },
            Event::Hypercall {
                nr: BENCH_RESULT,
                count: 1
            },
            Event::Hypercall {
                nr: BENCH_MINIMAL_RESULT,
                count: 1
            },
            Event::SystemEvent { kind: 1 },
        ]
    );
    assert_eq!(
        run.pages_mapped.as_slice(),
        &[(GROW_IPA, run.pages_mapped[0].1)]
    );
    assert_eq!(run.stats.pages_mapped, 1);
    assert_eq!(run.stats.handled_calls, 1, "the NOP");
    assert_eq!(
        run.stats.forwarded_calls, 7,
        "BENCH_MINIMAL is not among them"
    );
    assert_eq!(run.stats.wfx_exits, 70);
    // 70 WFIs, the entry budget (64) spent once on the way: EINTR, and the VMM runs again.
    assert_eq!(run.vmm.runs().1, 1);
    assert_eq!(run.wfi_enter_exit, Some((50, 50, 50, 70)));
    assert_eq!(run.loaded.image_pages, 3);
    for pa in (0x6400_0000..0x6410_0000).step_by(4096) {
        assert!(!sim.el3.is_realm(pa), "{pa:#x} back with the host");
    }
    // A realm that never stops is still taken apart.
    let err = vmm::run_payload(
        &mut rmi,
        &mut mem,
        &mut pool,
        &[1; 100],
        10,
        3,
        vmm::PayloadStart::FULL,
    )
    .expect_err("runaway");
    assert_eq!(err, vmm::PayloadError::Vmm(VmmError::TooManyRuns));
    for pa in (0x6400_0000..0x6410_0000).step_by(4096) {
        assert!(!sim.el3.is_realm(pa), "{pa:#x} back with the host");
    }
}

const MEASUREMENT_READ: u64 = 0xC400_0192;
const MEASUREMENT_EXTEND: u64 = 0xC400_0193;

/// The realm's x0 and x1..x8 (as a measurement) after its last RSI call.
fn measurement_result(r: &RealmRegs) -> (u64, crate::measure::Measurement) {
    let mut words = [0u64; 8];
    words.copy_from_slice(&r.gprs[1..9]);
    (r.gprs[0], crate::measure::Measurement::from_words(&words))
}

#[test]
fn the_realm_reads_the_rim_and_rem_the_host_computed_on_its_own() {
    use crate::measure::{rem_extend, Measurement};
    use hostcall_abi::payload::{REM_EXTEND_INDEX, REM_EXTEND_VALUE};
    use std::sync::{Arc, Mutex};

    let fx = Fixture::new();
    // One measured image page, one runnable REC, 16 pages of RIPAS RAM.
    assert_eq!(fx.l.image_pages, 1);
    assert_eq!(fx.l.rim.descriptors(), 1 + 1 + 16);
    let (mut vm, mut vcpu) = fx.vm();
    let seen = Arc::new(Mutex::new(Vec::new()));
    fx.script(|r| smc(r, &[MEASUREMENT_READ, 0]));
    let s = Arc::clone(&seen);
    fx.script(move |r| {
        s.lock().expect("lock").push(measurement_result(r));
        let mut x = [0u64; 11];
        x[..3].copy_from_slice(&[MEASUREMENT_EXTEND, REM_EXTEND_INDEX, 48]);
        for (reg, b) in x[3..].iter_mut().zip(REM_EXTEND_VALUE.chunks_exact(8)) {
            *reg = u64::from_le_bytes(b.try_into().expect("8 bytes"));
        }
        smc(r, &x)
    });
    let s = Arc::clone(&seen);
    fx.script(move |r| {
        s.lock().expect("lock").push((r.gprs[0], Measurement::ZERO));
        smc(r, &[MEASUREMENT_READ, REM_EXTEND_INDEX])
    });
    let s = Arc::clone(&seen);
    fx.script(move |r| {
        s.lock().expect("lock").push(measurement_result(r));
        smc(r, &[SYSTEM_OFF])
    });
    assert!(matches!(
        fx.run(&mut vm, &mut vcpu),
        Ok(KvmExit::SystemEvent(_))
    ));
    assert_eq!(fx.sim.cpu.pending(), 0);
    let seen = seen.lock().expect("lock");
    let rem = rem_extend(fx.l.rim.algo(), &Measurement::ZERO, &REM_EXTEND_VALUE).expect("48");
    assert_eq!(
        *seen,
        [(0, fx.l.rim.value()), (0, Measurement::ZERO), (0, rem)],
        "RIM, EXTEND status, REM 1"
    );
}

#[test]
fn vmm_records_the_measurements_the_realm_reports() {
    use hostcall_abi::payload::MEASUREMENTS;
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    let mut vmm = Vmm::new(40);
    vmm.install_filters(&mut vm).expect("filters");
    let call = |index: u64, seed: u64| {
        let mut g = [0u64; 31];
        g[0] = MEASUREMENTS;
        for (i, w) in g[1..9].iter_mut().enumerate() {
            *w = seed + i as u64;
        }
        g[9] = index;
        g
    };
    fx.write_call(0, call(0, 0x100));
    fx.write_call(1, call(1, 0x200));
    fx.write_call(2, call(5, 0x300)); // no such measurement
    for slot in 0..3 {
        fx.host_call(slot);
    }
    fx.script(|r| smc(r, &[SYSTEM_OFF]));
    let r = fx.with_link(|link| vmm.run_until_shutdown(&mut vm, &mut vcpu, link, 8));
    assert_eq!(r, Ok(Stop::PowerOff));
    let m = vmm.payload().measurements;
    assert_eq!(m[0], Some(core::array::from_fn(|i| 0x100 + i as u64)));
    assert_eq!(m[1], Some(core::array::from_fn(|i| 0x200 + i as u64)));
    assert_eq!(m[2..], [None; 3]);
    assert_eq!(fx.read_call(0).gprs[0], 0);
    assert_eq!(fx.read_call(1).gprs[0], 0);
    assert_eq!(fx.read_call(2).gprs[0], SMCCC_RET_NOT_SUPPORTED);
    assert_eq!(
        vmm.log()[0],
        Event::Hypercall {
            nr: MEASUREMENTS,
            count: 3
        }
    );
}

/// An ATTEST_TOKEN call: `len` bytes of a pattern starting at `offset`, with `flags` in x3.
fn token_piece(offset: u64, len: u64, flags: u64) -> [u64; 31] {
    let mut g = [0u64; 31];
    g[..4].copy_from_slice(&[hostcall_abi::payload::ATTEST_TOKEN, offset, len, flags]);
    for (i, w) in g[4..].iter_mut().enumerate() {
        let b: [u8; 8] = core::array::from_fn(|j| (offset as usize + 8 * i + j) as u8);
        *w = u64::from_le_bytes(b);
    }
    g
}

#[test]
fn vmm_hands_out_the_challenge_and_takes_the_token_only_in_order() {
    use hostcall_abi::payload::{
        ATTEST_CHALLENGE, TOKEN_INTERRUPTED_SHIFT, TOKEN_LAST, TOKEN_PIECE,
    };
    fn count_challenges() {
        CHALLENGES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    static CHALLENGES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    let mut vmm = Vmm::new(40);
    vmm.install_filters(&mut vm).expect("filters");
    let challenge: [u8; 64] = core::array::from_fn(|i| 0xC0 ^ i as u8);
    vmm.set_attestation_challenge(challenge);
    vmm.set_challenge_hook(Some(count_challenges));
    let piece = TOKEN_PIECE as u64;
    let mut challenge_call = [0u64; 31];
    challenge_call[0] = ATTEST_CHALLENGE;
    let calls = [
        challenge_call,
        token_piece(0, piece, 0),
        token_piece(piece + 1, 4, 0),     // a gap
        token_piece(piece, piece + 1, 0), // longer than a piece
        token_piece(piece, 10, TOKEN_LAST | 2 << TOKEN_INTERRUPTED_SHIFT),
        token_piece(piece + 10, 1, 0), // after the last piece
    ];
    for (slot, g) in calls.iter().enumerate() {
        fx.write_call(slot, *g);
        fx.host_call(slot);
    }
    fx.script(|r| smc(r, &[SYSTEM_OFF]));
    let r = fx.with_link(|link| vmm.run_until_shutdown(&mut vm, &mut vcpu, link, 16));
    assert_eq!(r, Ok(Stop::PowerOff));
    let answer = fx.read_call(0).gprs;
    assert_eq!(answer[0], 0);
    let words: Vec<u8> = answer[1..9].iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(words, challenge);
    let status: Vec<u64> = (1..6).map(|s| fx.read_call(s).gprs[0]).collect();
    let ns = SMCCC_RET_NOT_SUPPORTED;
    assert_eq!(status, [0, ns, ns, 0, ns]);
    let t = vmm.attestation();
    assert!(t.complete);
    assert_eq!((t.interrupted, t.requests), (2, 1));
    assert_eq!(
        CHALLENGES.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "the hook ran"
    );
    let want: Vec<u8> = (0..TOKEN_PIECE + 10).map(|i| i as u8).collect();
    assert_eq!(t.token.as_slice(), want.as_slice());
}

#[test]
fn a_new_challenge_starts_the_token_over() {
    use hostcall_abi::payload::{ATTEST_CHALLENGE, TOKEN_LAST};
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    let mut vmm = Vmm::new(40);
    vmm.install_filters(&mut vm).expect("filters");
    vmm.set_attestation_challenge([3; 64]);
    let mut challenge_call = [0u64; 31];
    challenge_call[0] = ATTEST_CHALLENGE;
    let calls = [
        challenge_call,
        token_piece(0, 100, TOKEN_LAST),
        challenge_call,
        token_piece(0, 7, TOKEN_LAST),
    ];
    for (slot, g) in calls.iter().enumerate() {
        fx.write_call(slot, *g);
        fx.host_call(slot);
    }
    fx.script(|r| smc(r, &[SYSTEM_OFF]));
    let r = fx.with_link(|link| vmm.run_until_shutdown(&mut vm, &mut vcpu, link, 16));
    assert_eq!(r, Ok(Stop::PowerOff));
    assert_eq!(
        (0..4).map(|s| fx.read_call(s).gprs[0]).collect::<Vec<_>>(),
        [0; 4]
    );
    let t = vmm.attestation();
    assert_eq!((t.token.len(), t.complete, t.requests), (7, true, 2));
}

#[test]
fn after_an_irq_exit_the_host_takes_its_interrupt_and_re_enters() {
    fn take() -> Option<u32> {
        Some(26)
    }
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    vcpu.set_host_interrupts(Some(take));
    for _ in 0..2 {
        fx.script(|_| RealmExit {
            class: ExitClass::Irq,
            esr: 0,
            far: 0,
            hpfar: 0,
        });
    }
    fx.script(|r| smc(r, &[SYSTEM_OFF]));
    assert!(matches!(
        fx.run(&mut vm, &mut vcpu),
        Ok(KvmExit::SystemEvent(_))
    ));
    let st = vcpu.stats();
    assert_eq!((st.interrupt_exits, st.host_interrupts), (2, 2));
    assert_eq!(st.last_host_intid, Some(26));
}

#[test]
fn vmm_without_a_challenge_refuses_attest_challenge() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    let mut vmm = Vmm::new(40);
    vmm.install_filters(&mut vm).expect("filters");
    let mut g = [0u64; 31];
    g[0] = hostcall_abi::payload::ATTEST_CHALLENGE;
    g[1] = 0x1234;
    fx.write_call(0, g);
    fx.host_call(0);
    fx.script(|r| smc(r, &[SYSTEM_OFF]));
    let r = fx.with_link(|link| vmm.run_until_shutdown(&mut vm, &mut vcpu, link, 8));
    assert_eq!(r, Ok(Stop::PowerOff));
    let answer = fx.read_call(0).gprs;
    assert_eq!(answer[0], SMCCC_RET_NOT_SUPPORTED);
    assert_eq!(answer[1], 0x1234, "nothing else written");
}

/// Two vCPUs of one VM behind the lock other CPUs share (`run_shared`), taking turns here: vCPU 0
/// starts vCPU 1 with PSCI CPU_ON, vCPU 1 starts where CPU_ON said and turns itself off, and
/// vCPU 0 then sees it OFF through AFFINITY_INFO. Completions come from the model, results from
/// the RMM.
#[test]
fn two_vcpus_share_a_vm_through_cpu_on_and_cpu_off() {
    use crate::realm_run::load_with_recs;
    use hostcall_abi::psci::{PsciFunction, AFFINITY_INFO_OFF};
    use std::sync::{Arc, Mutex};

    let sim = Sim::qemu();
    let l = {
        let mut rmi = RmiClient::new(SimHost(&sim));
        let mut mem = SimHost(&sim);
        let mut h = Host::new(&mut rmi, &mut mem);
        let mut pool = Pool::new(0x6400_0000, 0x10_0000);
        load_with_recs(&mut h, &mut pool, &[0xAA; 100], 9, 0, 2).expect("load")
    };
    let mut vm = Vm::new(l.realm.rd, 40);
    let mut v0 = Vcpu::create(&mut vm, 0).expect("vcpu 0");
    v0.finalize(&mut vm, l.realm.recs[0], l.run, true)
        .expect("finalize 0");
    let mut v1 = Vcpu::create(&mut vm, 1).expect("vcpu 1");
    v1.finalize(&mut vm, l.realm.recs[1], l.secondary_runs[0], false)
        .expect("finalize 1");
    let vm = spin::Mutex::new(vm);
    let link = |f: &mut dyn FnMut(&mut RmmLink<'_, SimHost<'_>, SimHost<'_>>)| {
        let mut rmi = RmiClient::new(SimHost(&sim));
        let mut mem = SimHost(&sim);
        f(&mut RmmLink::new(&mut rmi, &mut mem))
    };
    let cpu_on = PsciFunction::CPU_ON.spec_fid() as u64;
    let affinity = PsciFunction::AFFINITY_INFO.spec_fid() as u64;
    let seen = Arc::new(Mutex::new(Vec::new()));

    // vCPU 0: CPU_ON(1, entry 0x2000, context 7), then an MMIO write to stop this run.
    sim.cpu.script(move |r| smc(r, &[cpu_on, 1, 0x2000, 7]));
    let s = Arc::clone(&seen);
    sim.cpu.script(move |r| {
        s.lock().unwrap().push(r.gprs[0]); // CPU_ON's result
        dabt(dabt_esr(true, 2, 1), UNPROTECTED + 0x1000)
    });
    let mut exit = None;
    link(&mut |lk| exit = Some(v0.run_shared(&vm, lk)));
    assert!(matches!(exit, Some(Ok(KvmExit::Mmio(_)))), "{exit:?}");
    assert!(vm.lock().is_powered_on(1), "the model powered vCPU 1 on");

    // vCPU 1: starts at the entry point with the context ID, then CPU_OFF.
    let s = Arc::clone(&seen);
    sim.cpu.script(move |r| {
        s.lock().unwrap().extend([r.pc, r.gprs[0]]);
        smc(r, &[PsciFunction::CPU_OFF.fid32() as u64])
    });
    link(&mut |lk| exit = Some(v1.run_shared(&vm, lk)));
    assert_eq!(exit, Some(Err(Errno::EINTR)));
    assert!(!vm.lock().is_powered_on(1), "CPU_OFF powered vCPU 1 off");

    // vCPU 0 again: AFFINITY_INFO(1) is OFF, then SYSTEM_OFF.
    sim.cpu.script(move |r| smc(r, &[affinity, 1, 0]));
    let s = Arc::clone(&seen);
    sim.cpu.script(move |r| {
        s.lock().unwrap().push(r.gprs[0]);
        smc(r, &[SYSTEM_OFF])
    });
    link(&mut |lk| exit = Some(v0.run_shared(&vm, lk)));
    assert!(
        matches!(exit, Some(Ok(KvmExit::SystemEvent(_)))),
        "{exit:?}"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [0, 0x2000, 7, AFFINITY_INFO_OFF.raw()],
        "CPU_ON SUCCESS; REC 1 at its entry with the context; AFFINITY_INFO OFF"
    );
    assert_eq!(v0.stats().psci_completions, 2);
}

// ---- The realm's RAM in a memslot, and the in-kernel vGIC ----------------------------------------

#[test]
fn a_memslot_backs_ipas_one_to_one_and_refuses_bad_ranges() {
    use super::memslot::Memslot;
    assert_eq!(Memslot::new(0x1001, 0x2000, 0x1000), Err(Errno::EINVAL));
    assert_eq!(Memslot::new(0x1000, 0x2001, 0x1000), Err(Errno::EINVAL));
    assert_eq!(Memslot::new(0x1000, 0x2000, 0), Err(Errno::EINVAL));
    assert_eq!(
        Memslot::new(!0xFFF, 0x2000, 0x2000),
        Err(Errno::EINVAL),
        "wraps"
    );
    let m = Memslot::new(0x4000_0000, 0xA000_0000, 0x10_0000).expect("slot");
    assert_eq!(m.backing(0x4000_0000), Some(0xA000_0000));
    assert_eq!(m.backing(0x4000_5123), Some(0xA000_5000));
    assert_eq!(m.backing(0x3FFF_F000), None);
    assert_eq!(m.backing(0x4010_0000), None);
    let mut vm = Vm::new(0xA000, 40);
    vm.set_memslot(m).expect("first");
    assert_eq!(vm.set_memslot(m), Err(Errno::EEXIST));
}

#[test]
fn a_fault_in_the_memslot_maps_its_own_granule_and_release_takes_it_back() {
    use super::memslot::Memslot;
    use hostcall_abi::payload::GROW_IPA;
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    let pa = 0x6480_3000;
    vm.set_memslot(Memslot::new(GROW_IPA, pa, 0x1000).expect("slot"))
        .expect("set");
    fx.script(|r| set_ram(r, GROW_IPA));
    fx.script(|r| smc(r, &[HOST_CALL, GROW_IPA]));
    fx.script(|r| smc(r, &[HOST_CALL, GROW_IPA]));
    fx.script(|r| {
        assert_eq!(r.gprs[0], 0, "RSI_SUCCESS once the page is there");
        smc(r, &[SYSTEM_OFF])
    });
    assert_eq!(
        fx.run(&mut vm, &mut vcpu),
        Err(Errno::EFAULT),
        "RIPAS change"
    );
    assert!(matches!(
        fx.run(&mut vm, &mut vcpu),
        Ok(KvmExit::SystemEvent(_))
    ));
    assert_eq!(vcpu.stats().pages_mapped, 1);
    assert!(fx.sim.el3.is_realm(pa), "the slot's granule for that IPA");
    assert_eq!(vm.memslot().map(|m| m.mapped()), Some(1));
    let rd = fx.l.realm.rd;
    let released = fx.with_link(|link| vm.memslot_mut().expect("slot").release(rd, link));
    assert_eq!(released, Ok(1));
    assert!(!fx.sim.el3.is_realm(pa));
    assert_eq!(vm.memslot().map(|m| m.mapped()), Some(0));
}

/// QEMU virt's GIC frames, as the Linux guest's device tree gives them.
const GICD: u64 = 0x0800_0000;
const GICR: u64 = 0x080A_0000;

#[test]
fn the_vgic_serves_its_registers_in_the_kernel() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    vm.create_vgic(1, GICD, GICR, 4).expect("vgic");
    assert_eq!(vm.create_vgic(1, GICD, GICR, 4), Err(Errno::EEXIST));
    // GICD_TYPER into w5, then GICR_TYPER's low word into w6.
    fx.script(|_| dabt(dabt_esr(false, 2, 5), UNPROTECTED | (GICD + 4)));
    fx.script(|r| {
        assert_eq!(r.gprs[5], u64::from(crate::vgic::GICD_TYPER));
        dabt(dabt_esr(false, 2, 6), UNPROTECTED | (GICR + 8))
    });
    fx.script(|r| {
        // Last (bit 4) for the only redistributor.
        assert_eq!(r.gprs[6] & (1 << 4), 1 << 4);
        smc(r, &[SYSTEM_OFF])
    });
    assert!(matches!(
        fx.run(&mut vm, &mut vcpu),
        Ok(KvmExit::SystemEvent(_))
    ));
    assert_eq!(vcpu.stats().gic_mmio_exits, 2);
    assert_eq!(vcpu.stats().mmio_exits, 0, "nothing went to userspace");
}

#[test]
fn the_vgic_refuses_impossible_shapes() {
    let mut vm = Vm::new(0xA000, 40);
    assert_eq!(vm.create_vgic(0, GICD, GICR, 4), Err(Errno::EINVAL));
    assert_eq!(vm.create_vgic(9, GICD, GICR, 4), Err(Errno::EINVAL));
    assert_eq!(vm.create_vgic(1, GICD, GICR, 0), Err(Errno::EINVAL));
    assert_eq!(vm.create_vgic(1, GICD, GICR, 17), Err(Errno::EINVAL));
    assert_eq!(vm.create_vgic(1, GICD, GICD + 0x100, 4), Err(Errno::EINVAL));
    assert_eq!(
        vm.create_vgic(1, u64::MAX - 0x100, GICR, 4),
        Err(Errno::EINVAL)
    );
}

#[test]
fn the_virtual_timer_line_reaches_the_realm_through_a_list_register() {
    let fx = Fixture::new();
    let (mut vm, mut vcpu) = fx.vm();
    vm.create_vgic(1, GICD, GICR, 4).expect("vgic");
    // The realm enables Group 1 and PPI 27 (GICR_ISENABLER0 in the SGI frame).
    fx.script(|r| {
        r.gprs[1] = 0x2;
        dabt(dabt_esr(true, 2, 1), UNPROTECTED | GICD)
    });
    fx.script(|r| {
        r.gprs[1] = 1 << 27;
        dabt(dabt_esr(true, 2, 1), UNPROTECTED | (GICR + 0x1_0100))
    });
    // Its timer fires: enabled, condition met, not masked.
    fx.script(|r| {
        r.el1.cntv_ctl = 0b101;
        irq()
    });
    fx.script(|r| {
        let lr = r.gic.lrs[0];
        assert_eq!(lr & 0xFFFF_FFFF, 27, "vINTID");
        assert_eq!(lr >> 62, 0b01, "pending");
        assert_eq!(r.gic.lrs[1], 0);
        // Taken and ended; the handler stops the timer.
        r.gic.lrs[0] = 0;
        r.el1.cntv_ctl = 0;
        irq()
    });
    fx.script(|r| {
        assert_eq!(r.gic.lrs[0], 0, "the line is low: nothing pending");
        smc(r, &[SYSTEM_OFF])
    });
    assert!(matches!(
        fx.run(&mut vm, &mut vcpu),
        Ok(KvmExit::SystemEvent(_))
    ));
    assert_eq!(fx.sim.cpu.pending(), 0);
}

/// The vCPUs the last kick named (the test's stand-in for the host's IPIs).
static KICKED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn record_kick(targets: u64) {
    KICKED.fetch_or(targets, std::sync::atomic::Ordering::Relaxed);
}

#[test]
fn an_sgi_write_makes_the_sgi_pending_at_its_target_vcpu() {
    let (mut vm, mut v0, _v1) = two_vcpus();
    vm.create_vgic(2, GICD, GICR, 4).expect("vgic");
    v0.set_kick(Some(record_kick));
    let fake = Fake::new();
    // ICC_SGI1R_EL1 from x7: SGI 3 to Aff0 1 (vCPU 1).
    fake.exit(gic_msr_exit(5, 3 << 24 | 0b10));
    // Another trapped register (ICC_SGI0R_EL1, Op2 7) is not an SGI1R write.
    fake.exit(gic_msr_exit(7, 4 << 24 | 0b10));
    fake.exit(RmiRecExit::with_reason(RmiExitReason::Sync));
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::ENXIO));
    let gic = &vm.vgic().expect("vgic").gic;
    assert!(gic.is_pending(1, 3));
    assert!(!gic.is_pending(0, 3), "not the sender");
    assert!(!gic.is_pending(1, 4));
    assert_eq!(v0.stats().sgis_sent, 1);
    assert_eq!(
        KICKED.load(std::sync::atomic::Ordering::Relaxed),
        0b10,
        "vCPU 1 kicked, and nobody for the SGI0R write"
    );
}

#[test]
fn a_self_sgi_kicks_nobody() {
    let (mut vm, mut v0, _v1) = two_vcpus();
    vm.create_vgic(2, GICD, GICR, 4).expect("vgic");
    fn must_not_kick(targets: u64) {
        panic!("kicked {targets:#b} for a self-SGI");
    }
    v0.set_kick(Some(must_not_kick));
    let fake = Fake::new();
    fake.exit(gic_msr_exit(5, 2 << 24 | 0b01));
    fake.exit(RmiRecExit::with_reason(RmiExitReason::Sync));
    assert_eq!(fake_run(&fake, &mut vm, &mut v0), Err(Errno::ENXIO));
    assert!(vm.vgic().expect("vgic").gic.is_pending(0, 2));
}
