use super::*;

fn be32_at(b: &[u8], off: usize) -> u32 {
    u32::from_be_bytes(b[off..off + 4].try_into().unwrap())
}

fn be64_at(b: &[u8], off: usize) -> u64 {
    u64::from_be_bytes(b[off..off + 8].try_into().unwrap())
}

/// What the tiny reader below finds in a blob.
#[derive(Debug, Default)]
struct Walk {
    /// Full node paths, in order.
    nodes: Vec<String>,
    /// (node path, property name, value).
    props: Vec<(String, String, Vec<u8>)>,
    reservations: Vec<(u64, u64)>,
}

/// A minimal DTB reader, independent of the `fdt` crate: checks the header against DTSpec
/// v0.4 and walks the structure block token by token.
fn walk(b: &[u8]) -> Walk {
    assert_eq!(be32_at(b, 0), FDT_MAGIC);
    let total = be32_at(b, 4) as usize;
    let (off_struct, off_strings, off_rsv) = (
        be32_at(b, 8) as usize,
        be32_at(b, 12) as usize,
        be32_at(b, 16) as usize,
    );
    assert_eq!(total, b.len());
    assert_eq!((be32_at(b, 20), be32_at(b, 24)), (17, 16));
    let (size_strings, size_struct) = (be32_at(b, 32) as usize, be32_at(b, 36) as usize);
    assert_eq!(off_rsv, 40);
    assert_eq!(off_rsv % 8, 0);
    assert_eq!(off_struct % 4, 0);
    assert_eq!(off_struct + size_struct, off_strings);
    assert_eq!(off_strings + size_strings, total);
    let mut w = Walk::default();
    let mut at = off_rsv;
    loop {
        let (a, s) = (be64_at(b, at), be64_at(b, at + 8));
        at += 16;
        if (a, s) == (0, 0) {
            break;
        }
        w.reservations.push((a, s));
    }
    assert!(at <= off_struct);
    let strings = &b[off_strings..total];
    let cstr = |bytes: &[u8]| {
        let n = bytes.iter().position(|&c| c == 0).expect("NUL-terminated");
        String::from_utf8(bytes[..n].to_vec()).unwrap()
    };
    let mut path: Vec<String> = Vec::new();
    let mut at = off_struct;
    loop {
        let tok = be32_at(b, at);
        at += 4;
        match tok {
            token::BEGIN_NODE => {
                let name = cstr(&b[at..]);
                at = pad4(at + name.len() + 1);
                path.push(name);
                w.nodes.push(if path.len() == 1 {
                    "/".into()
                } else {
                    path[1..].iter().map(|p| format!("/{p}")).collect()
                });
            }
            token::END_NODE => {
                path.pop().expect("balanced");
            }
            token::PROP => {
                let len = be32_at(b, at) as usize;
                let nameoff = be32_at(b, at + 4) as usize;
                at += 8;
                assert!(!path.is_empty(), "property inside a node");
                let name = cstr(&strings[nameoff..]);
                w.props.push((
                    w.nodes.last().unwrap().clone(),
                    name,
                    b[at..at + len].to_vec(),
                ));
                at = pad4(at + len);
            }
            token::NOP => {}
            token::END => break,
            t => panic!("bad token {t}"),
        }
    }
    assert!(path.is_empty());
    assert_eq!(at, off_struct + size_struct);
    w
}

fn cells(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|c| c.to_be_bytes()).collect()
}

fn u64s(v: &[u64]) -> Vec<u8> {
    v.iter().flat_map(|c| c.to_be_bytes()).collect()
}

fn strs(v: &[&str]) -> Vec<u8> {
    v.iter().flat_map(|s| s.bytes().chain([0])).collect()
}

const BOOTARGS: &str = "console=ttyAMA0 swiotlb=4096 panic=-1";

fn two_cpu_config() -> RealmDtConfig<'static> {
    RealmDtConfig {
        initrd: Some((0x4800_0000, 0x4812_3456)),
        ..RealmDtConfig::virt(2, 0x4000_0000, 0x1000_0000, BOOTARGS)
    }
}

fn build(cfg: &RealmDtConfig<'_>) -> Vec<u8> {
    let mut buf = [0u8; 4096];
    let n = build_realm_dt(cfg, &mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn the_realm_tree_has_every_node_and_property() {
    let blob = build(&two_cpu_config());
    let w = walk(&blob);
    assert_eq!(
        w.nodes,
        [
            "/",
            "/psci",
            "/cpus",
            "/cpus/cpu@0",
            "/cpus/cpu@1",
            "/memory@40000000",
            "/interrupt-controller@8000000",
            "/timer",
            "/apb-pclk",
            "/pl011@9000000",
            "/chosen",
        ]
    );
    assert!(w.reservations.is_empty());
    let s = |v: &str| strs(&[v]);
    let mut expected: Vec<(&str, &str, Vec<u8>)> = vec![
        ("/", "compatible", s("linux,dummy-virt")),
        ("/", "#address-cells", cells(&[2])),
        ("/", "#size-cells", cells(&[2])),
        ("/", "interrupt-parent", cells(&[GIC_PHANDLE])),
        (
            "/psci",
            "compatible",
            strs(&["arm,psci-1.0", "arm,psci-0.2"]),
        ),
        ("/psci", "method", s("smc")),
        ("/cpus", "#address-cells", cells(&[1])),
        ("/cpus", "#size-cells", cells(&[0])),
    ];
    for (i, node) in ["/cpus/cpu@0", "/cpus/cpu@1"].into_iter().enumerate() {
        expected.extend([
            (node, "device_type", s("cpu")),
            (node, "compatible", s("arm,arm-v8")),
            (node, "reg", cells(&[i as u32])),
            (node, "enable-method", s("psci")),
        ]);
    }
    let gic = "/interrupt-controller@8000000";
    let uart = "/pl011@9000000";
    expected.extend([
        ("/memory@40000000", "device_type", s("memory")),
        ("/memory@40000000", "reg", u64s(&[0x4000_0000, 0x1000_0000])),
        (gic, "compatible", s("arm,gic-v3")),
        (gic, "#interrupt-cells", cells(&[3])),
        (gic, "interrupt-controller", vec![]),
        (gic, "#redistributor-regions", cells(&[1])),
        (gic, "#address-cells", cells(&[2])),
        (gic, "#size-cells", cells(&[2])),
        (gic, "ranges", vec![]),
        (
            gic,
            "reg",
            u64s(&[0x0800_0000, 0x1_0000, 0x080A_0000, 0x4_0000]),
        ),
        (gic, "phandle", cells(&[GIC_PHANDLE])),
        ("/timer", "compatible", s("arm,armv8-timer")),
        (
            "/timer",
            "interrupts",
            cells(&[1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4]),
        ),
        ("/timer", "always-on", vec![]),
        ("/apb-pclk", "compatible", s("fixed-clock")),
        ("/apb-pclk", "#clock-cells", cells(&[0])),
        ("/apb-pclk", "clock-frequency", cells(&[24_000_000])),
        ("/apb-pclk", "phandle", cells(&[CLOCK_PHANDLE])),
        (uart, "compatible", strs(&["arm,pl011", "arm,primecell"])),
        (uart, "arm,primecell-periphid", cells(&[0x0034_1011])),
        (uart, "reg", u64s(&[0x0900_0000, 0x1000])),
        (uart, "interrupts", cells(&[0, 1, 4])),
        (uart, "clocks", cells(&[CLOCK_PHANDLE, CLOCK_PHANDLE])),
        (uart, "clock-names", strs(&["uartclk", "apb_pclk"])),
        ("/chosen", "bootargs", s(BOOTARGS)),
        ("/chosen", "stdout-path", s("/pl011@9000000")),
        ("/chosen", "linux,initrd-start", u64s(&[0x4800_0000])),
        ("/chosen", "linux,initrd-end", u64s(&[0x4812_3456])),
    ]);
    let got: Vec<(&str, &str, Vec<u8>)> = w
        .props
        .iter()
        .map(|(n, p, v)| (n.as_str(), p.as_str(), v.clone()))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn the_fdt_crate_reads_it_back() {
    let blob = build(&two_cpu_config());
    let dt = ::fdt::Fdt::new(&blob).unwrap();
    assert_eq!(dt.total_size(), blob.len());
    assert_eq!(dt.cpus().count(), 2);
    assert_eq!(dt.chosen().bootargs(), Some(BOOTARGS));
    assert_eq!(dt.chosen().stdout().unwrap().name, "pl011@9000000");
    let mem: Vec<_> = dt.memory().regions().collect();
    assert_eq!(mem.len(), 1);
    assert_eq!(mem[0].starting_address as usize, 0x4000_0000);
    assert_eq!(mem[0].size, Some(0x1000_0000));
    let gic = dt.find_compatible(&["arm,gic-v3"]).unwrap();
    let regs: Vec<_> = gic.reg().unwrap().collect();
    assert_eq!(regs[1].starting_address as usize, 0x080A_0000);
    assert_eq!(regs[1].size, Some(2 * 0x2_0000));
    assert_eq!(dt.find_phandle(GIC_PHANDLE).unwrap().name, gic.name);
    let uart = dt.find_node("/pl011@9000000").unwrap();
    // The crate resolves only a node's own interrupt-parent and one- or two-cell specifiers:
    // read the root's and the raw cells.
    let parent = dt.root().property("interrupt-parent").unwrap().as_usize();
    assert_eq!(
        dt.find_phandle(parent.unwrap() as u32).unwrap().name,
        gic.name
    );
    assert_eq!(gic.interrupt_cells(), Some(3));
    assert_eq!(
        uart.property("interrupts").unwrap().value,
        cells(&[0, 1, 4])
    );
    let psci = dt.find_node("/psci").unwrap();
    assert_eq!(psci.property("method").unwrap().as_str(), Some("smc"));
    for cpu in dt.cpus() {
        assert_eq!(
            cpu.property("enable-method").unwrap().as_str(),
            Some("psci")
        );
    }
    // Names are shared in the strings block.
    assert_eq!(dt.strings().filter(|s| *s == "compatible").count(), 1);
}

#[test]
fn the_redistributor_region_and_cpus_follow_the_vcpu_count() {
    for n in 1..=vgic::MAX_VCPUS {
        let blob = build(&RealmDtConfig::virt(n, 0x4000_0000, 0x800_0000, ""));
        let w = walk(&blob);
        let cpus = w
            .nodes
            .iter()
            .filter(|p| p.starts_with("/cpus/cpu@"))
            .count();
        assert_eq!(cpus, n);
        let reg = w
            .props
            .iter()
            .find(|(node, p, _)| node.starts_with("/interrupt-controller") && p == "reg")
            .unwrap();
        assert_eq!(be64_at(&reg.2, 24), n as u64 * 0x2_0000);
        assert!(!w
            .props
            .iter()
            .any(|(_, p, _)| p.starts_with("linux,initrd")));
    }
}

#[test]
fn bad_configurations_are_refused() {
    let mut buf = [0u8; 4096];
    let base = two_cpu_config();
    for cfg in [
        RealmDtConfig { nr_cpus: 0, ..base },
        RealmDtConfig {
            nr_cpus: vgic::MAX_VCPUS + 1,
            ..base
        },
        RealmDtConfig {
            mem_size: 0,
            ..base
        },
        RealmDtConfig {
            uart_intid: 27,
            ..base
        },
        RealmDtConfig {
            uart_intid: u32::MAX,
            ..base
        },
        RealmDtConfig {
            initrd: Some((2, 1)),
            ..base
        },
    ] {
        assert_eq!(build_realm_dt(&cfg, &mut buf), Err(FdtError::BadConfig));
    }
    let bad_args = RealmDtConfig {
        bootargs: "a\0b",
        ..base
    };
    assert_eq!(build_realm_dt(&bad_args, &mut buf), Err(FdtError::BadName));
}

#[test]
fn every_short_buffer_is_an_error_not_a_panic() {
    let cfg = two_cpu_config();
    let full = build(&cfg);
    let mut buf = vec![0u8; full.len()];
    for len in 0..full.len() {
        assert_eq!(
            build_realm_dt(&cfg, &mut buf[..len]),
            Err(FdtError::BufferTooSmall),
            "len {len}"
        );
    }
    assert_eq!(build_realm_dt(&cfg, &mut buf), Ok(full.len()));
    assert_eq!(buf, full);
}

#[test]
fn the_writer_checks_nesting_and_names() {
    let mut buf = [0u8; 512];
    let mut w = FdtWriter::new(&mut buf, &[]).unwrap();
    assert_eq!(w.property_u32("x", 1), Err(FdtError::Unbalanced));
    assert_eq!(w.end_node(), Err(FdtError::Unbalanced));
    assert_eq!(w.begin_node("named-root"), Err(FdtError::BadName));
    w.begin_node("").unwrap();
    assert_eq!(w.begin_node(""), Err(FdtError::BadName));
    assert_eq!(w.begin_node("a\0"), Err(FdtError::BadName));
    assert_eq!(w.property_u32("", 1), Err(FdtError::BadName));
    assert_eq!(w.property_string("s", "x\0y"), Err(FdtError::BadName));
    w.begin_node("child").unwrap();
    w.end_node().unwrap();
    w.end_node().unwrap();
    assert_eq!(w.begin_node("again"), Err(FdtError::Unbalanced));
    assert!(w.finish().is_ok());
    let mut w = FdtWriter::new(&mut buf, &[]).unwrap();
    w.begin_node("").unwrap();
    assert_eq!(w.finish(), Err(FdtError::Unbalanced));
    let w = FdtWriter::new(&mut buf, &[]).unwrap();
    assert_eq!(w.finish(), Err(FdtError::Unbalanced), "no root");
}

#[test]
fn reservations_nops_and_the_strings_limit() {
    let mut buf = [0u8; 8192];
    let mut w = FdtWriter::new(&mut buf, &[(0x4000_0000, 0x1000), (0x5000_0000, 0x20)]).unwrap();
    w.set_boot_cpuid(3);
    w.begin_node("").unwrap();
    w.property("raw", &[1, 2, 3]).unwrap();
    w.property_u64s("big", &[u64::MAX]).unwrap();
    // Distinct names until the strings table is full.
    let mut name = heapless::String::<16>::new();
    let mut i = 0;
    let err = loop {
        name.clear();
        write!(name, "p{i}").unwrap();
        if let Err(e) = w.property_empty(&name) {
            break e;
        }
        i += 1;
    };
    assert_eq!(err, FdtError::StringsFull);
    w.end_node().unwrap();
    let n = w.finish().unwrap();
    let blob = &buf[..n];
    assert_eq!(be32_at(blob, 28), 3, "boot_cpuid_phys");
    let walked = walk(blob);
    assert_eq!(
        walked.reservations,
        [(0x4000_0000, 0x1000), (0x5000_0000, 0x20)]
    );
    assert_eq!(walked.props[0].2, [1, 2, 3]);
    assert_eq!(walked.props[1].2, u64::MAX.to_be_bytes());
    let dt = ::fdt::Fdt::new(blob).unwrap();
    assert_eq!(dt.memory_reservations().count(), 2);
}

/// Writes the two-CPU tree to `target/realm-dt.dtb` for a look with `dtc -I dtb -O dts`.
#[test]
#[ignore = "manual: writes a file for dtc"]
fn dump_for_dtc() {
    let blob = build(&two_cpu_config());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/realm-dt.dtb");
    std::fs::write(path, blob).unwrap();
}
