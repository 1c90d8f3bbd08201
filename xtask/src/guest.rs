//! `cargo xtask setup-guest`: the Linux realm guest's kernel and initramfs.
//!
//! Fetches, through an apt state of its own under `target/guest-apt/` (its own lists, cache,
//! status file and a deb822 source for trixie and trixie-backports, `Architectures: arm64`, on the
//! mirror this machine's apt already uses), the newest `linux-binary-unsigned-7.*+deb13-arm64` of
//! trixie-backports, the matching `linux-modules-*` and trixie's `busybox-static`; unpacks them
//! with `dpkg-deb -x` into `target/linux/<release>/` and builds `initramfs.cpio.gz` there: busybox
//! and its applet links, the `configfs`, `tsm_report` and `arm-cca-guest` modules (decompressed,
//! loaded in the order their `depends=` give) and our `/init` (`xtask/guest/init.sh`). The
//! machine's own dpkg architecture and apt state are left alone. Cached: a second run checks and
//! does nothing; `--refresh` looks for a newer kernel.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cpio::{self, Entry};
use crate::setup::{debian_mirror, have, output, sh};

/// Our `/init`, run by busybox sh.
const INIT: &str = include_str!("../guest/init.sh");
/// Bumped when the initramfs layout changes, so cached initramfs files are rebuilt.
const INITRAMFS_FORMAT: u32 = 2;
/// The modules the attestation path needs (with their dependencies, found in the modules).
const MODULES: [&str; 3] = ["configfs", "tsm_report", "arm-cca-guest"];
/// The busybox applets `/init` uses, as links in `/bin` (`rmm.shell=1` installs the rest).
const APPLETS: &[&str] = &[
    "sh",
    "mount",
    "umount",
    "mkdir",
    "cat",
    "echo",
    "printf",
    "grep",
    "sed",
    "awk",
    "tr",
    "cut",
    "fold",
    "od",
    "wc",
    "dmesg",
    "uname",
    "insmod",
    "lsmod",
    "sha256sum",
    "timeout",
    "setsid",
    "cttyhack",
    "poweroff",
    "ls",
    "sleep",
];
const KERNEL_PREFIX: &str = "linux-binary-unsigned-";
const FLAVOUR_SUFFIX: &str = "+deb13-arm64";
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// A fetched kernel and its initramfs.
#[derive(Debug, Clone)]
pub struct Guest {
    /// The kernel release, e.g. `7.3.4+deb13-arm64`.
    pub release: String,
    /// The raw arm64 `Image`.
    pub image: PathBuf,
    /// The gzip-compressed newc initramfs.
    pub initramfs: PathBuf,
}

fn target() -> PathBuf {
    tests_qemu::workspace_root().join("target")
}

fn linux_dir() -> PathBuf {
    target().join("linux")
}

/// The separate apt state: nothing of it touches /etc/apt or /var/lib/{apt,dpkg}.
struct AptState {
    dir: PathBuf,
}

impl AptState {
    fn new() -> AptState {
        AptState {
            dir: target().join("guest-apt"),
        }
    }

    fn sources_dir(&self) -> PathBuf {
        self.dir.join("sources.list.d")
    }

    fn debs(&self) -> PathBuf {
        self.dir.join("debs")
    }

    /// Creates the directories, the empty status file and the deb822 source.
    fn prepare(&self) -> Result<(), String> {
        for d in [
            self.sources_dir(),
            self.dir.join("preferences.d"),
            self.dir.join("lists/partial"),
            self.dir.join("cache/archives/partial"),
            self.debs(),
        ] {
            std::fs::create_dir_all(&d)
                .map_err(|e| format!("cannot create {}: {e}", d.display()))?;
        }
        let status = self.dir.join("status");
        if !status.exists() {
            write(&status, b"")?;
        }
        let mirror = debian_mirror()?;
        let text = format!(
            "# Written by `cargo xtask setup-guest`: arm64 packages for the Linux realm guest.\n\
             Types: deb\nURIs: {mirror}\nSuites: trixie trixie-backports\nComponents: main\n\
             Architectures: arm64\nTargets: Packages\nSigned-By: {KEYRING}\n"
        );
        write(
            &self.sources_dir().join("trixie-arm64.sources"),
            text.as_bytes(),
        )
    }

    /// `tool` (apt-get, apt-cache) on this state only.
    fn cmd(&self, tool: &str) -> Command {
        let d = |sub: &str| self.dir.join(sub).display().to_string();
        let mut c = Command::new(tool);
        c.args([
            "-oAPT::Architecture=arm64".to_string(),
            "-oAPT::Architectures=arm64".to_string(),
            format!("-oDir::State::Lists={}", d("lists")),
            format!("-oDir::State::status={}", d("status")),
            format!("-oDir::Cache={}", d("cache")),
            "-oDir::Etc::SourceList=/dev/null".to_string(),
            format!("-oDir::Etc::SourceParts={}", d("sources.list.d")),
            "-oDir::Etc::Preferences=/dev/null".to_string(),
            format!("-oDir::Etc::PreferencesParts={}", d("preferences.d")),
            "-oAcquire::Languages=none".to_string(),
        ]);
        c
    }

    fn query(&self, args: &[&str]) -> Result<String, String> {
        let mut c = self.cmd("apt-cache");
        c.args(args);
        output(&mut c).ok_or(format!("{c:?} failed"))
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// One line of `apt-cache madison`: package, version, suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Available {
    /// Binary package name.
    pub package: String,
    /// Debian version.
    pub version: String,
    /// Suite (`trixie`, `trixie-backports`).
    pub suite: String,
}

/// Parses `apt-cache madison` output (`name | version | URI suite/component arch Packages`).
pub fn parse_madison(text: &str) -> Vec<Available> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split('|').map(str::trim);
            let (package, version, origin) = (f.next()?, f.next()?, f.next()?);
            let suite = origin.split_whitespace().nth(1)?.split('/').next()?;
            Some(Available {
                package: package.into(),
                version: version.into(),
                suite: suite.into(),
            })
        })
        .collect()
}

/// The kernel version of a generic arm64 `linux-binary-unsigned-7.X.Y+deb13-arm64` name.
fn kernel_version(package: &str) -> Option<(u32, u32, u32)> {
    let v = package
        .strip_prefix(KERNEL_PREFIX)?
        .strip_suffix(FLAVOUR_SUFFIX)?;
    let mut n = v.split('.').map(|s| s.parse::<u32>().ok());
    let parsed = (n.next()??, n.next()??, n.next()??);
    (n.next().is_none() && parsed.0 == 7).then_some(parsed)
}

/// The newest 7.x generic arm64 kernel of trixie-backports in `madison` (`apt-cache madison`
/// text); other flavours (rt, cloud, 16k) and suites are ignored.
pub fn newest_kernel(madison: &str) -> Option<Available> {
    parse_madison(madison)
        .into_iter()
        .filter(|a| a.suite == "trixie-backports")
        .filter_map(|a| Some((kernel_version(&a.package)?, a)))
        .max_by_key(|(v, _)| *v)
        .map(|(_, a)| a)
}

/// The names a module's `.modinfo` says it `depends=` on.
pub fn modinfo_depends(ko: &[u8]) -> Vec<String> {
    let key = b"\0depends=";
    let Some(at) = ko.windows(key.len()).position(|w| w == key) else {
        return Vec::new();
    };
    let rest = &ko[at + key.len()..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end])
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The trailer the kernel's `sign-file` appends to a signed module.
const MODULE_SIG_MAGIC: &[u8] = b"~Module signature appended~\n";

/// The module without its appended signature (`struct module_signature`, 12 bytes ending in the
/// big-endian signature length, before the magic), or unchanged if it has none.
///
/// The initramfs carries the modules unsigned: checking Debian's signatures costs the guest about
/// 0.1 G instructions per module under QEMU TCG (a 1-vCPU plain-VM run: 1.42 G signed, 1.13 G
/// unsigned, 0.80 G of either before `/init`). Without `module.sig_enforce` or Secure Boot
/// lockdown the kernel loads them and marks itself tainted (`E`, 8192 in
/// `/proc/sys/kernel/tainted`).
pub fn strip_module_signature(ko: &[u8]) -> &[u8] {
    let Some(body) = ko.strip_suffix(MODULE_SIG_MAGIC) else {
        return ko;
    };
    let Some(info_at) = body.len().checked_sub(12) else {
        return ko;
    };
    let sig_len = u32::from_be_bytes([
        body[info_at + 8],
        body[info_at + 9],
        body[info_at + 10],
        body[info_at + 11],
    ]) as usize;
    info_at.checked_sub(sig_len).map_or(ko, |end| &ko[..end])
}

/// Module names compare with `-` and `_` alike, as the kernel's do.
fn module_key(name: &str) -> String {
    name.replace('-', "_")
}

/// `wanted` and everything they depend on, dependencies first. `depends(name)` gives a module's
/// dependencies.
pub fn load_order(
    wanted: &[&str],
    depends: &mut dyn FnMut(&str) -> Result<Vec<String>, String>,
) -> Result<Vec<String>, String> {
    fn visit(
        name: &str,
        depends: &mut dyn FnMut(&str) -> Result<Vec<String>, String>,
        order: &mut Vec<String>,
        path: &mut Vec<String>,
    ) -> Result<(), String> {
        let key = module_key(name);
        if order.iter().any(|m| module_key(m) == key) {
            return Ok(());
        }
        if path.contains(&key) {
            return Err(format!("module dependency cycle through {name}"));
        }
        path.push(key);
        for d in depends(name)? {
            visit(&d, depends, order, path)?;
        }
        path.pop();
        order.push(name.to_string());
        Ok(())
    }
    let mut order = Vec::new();
    for w in wanted {
        visit(w, depends, &mut order, &mut Vec::new())?;
    }
    Ok(order)
}

/// Every `.ko.xz` under `dir`, by module key.
fn find_modules(dir: &Path, found: &mut Vec<(String, PathBuf)>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            find_modules(&p, found)?;
        } else if let Some(stem) = p
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".ko.xz"))
        {
            found.push((module_key(stem), p.clone()));
        }
    }
    Ok(())
}

fn xz_decompress(path: &Path) -> Result<Vec<u8>, String> {
    let out = Command::new("xz")
        .args(["-dc", "--"])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run xz: {e}"))?;
    if !out.status.success() {
        return Err(format!("xz -dc {} failed", path.display()));
    }
    Ok(out.stdout)
}

fn gzip(data: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut child = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("gzip has no stdin")?;
    let input = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().map_err(|e| format!("gzip: {e}"))?;
    writer
        .join()
        .map_err(|_| "gzip writer panicked".to_string())?
        .map_err(|e| format!("gzip stdin: {e}"))?;
    if !out.status.success() {
        return Err("gzip failed".into());
    }
    Ok(out.stdout)
}

/// What a cached initramfs was built from; a difference rebuilds it.
fn initramfs_inputs(busybox_deb: &str, order: &[String]) -> String {
    format!(
        "format {INITRAMFS_FORMAT}\nbusybox {busybox_deb}\nmodules {}\napplets {}\n--- init\n{INIT}",
        order.join(" "),
        APPLETS.join(" ")
    )
}

/// The places of one release's files under `target/linux/<release>/`.
struct Layout {
    release: String,
    dir: PathBuf,
}

impl Layout {
    fn new(release: &str) -> Layout {
        Layout {
            release: release.into(),
            dir: linux_dir().join(release),
        }
    }
    /// Where the kernel and module packages are unpacked.
    fn root(&self) -> PathBuf {
        self.dir.join("root")
    }
    /// Where busybox-static is unpacked.
    fn busybox_root(&self) -> PathBuf {
        self.dir.join("busybox")
    }
    fn modules(&self) -> PathBuf {
        self.root().join("usr/lib/modules").join(&self.release)
    }
    fn image(&self) -> PathBuf {
        self.dir.join("Image")
    }
    fn initramfs(&self) -> PathBuf {
        self.dir.join("initramfs.cpio.gz")
    }
    fn inputs(&self) -> PathBuf {
        self.dir.join("initramfs.inputs")
    }
    /// Which busybox deb was unpacked (its file name).
    fn busybox_deb(&self) -> PathBuf {
        self.dir.join("busybox.deb-name")
    }
    fn guest(&self) -> Guest {
        Guest {
            release: self.release.clone(),
            image: self.image(),
            initramfs: self.initramfs(),
        }
    }
}

/// The release `target/linux/current` names, if its kernel and busybox are unpacked.
fn cached() -> Option<Layout> {
    let release = std::fs::read_to_string(linux_dir().join("current")).ok()?;
    let l = Layout::new(release.trim());
    (l.image().exists() && l.modules().join("kernel").is_dir() && l.busybox_deb().exists())
        .then_some(l)
}

/// `cargo xtask setup-guest [--refresh]`.
pub fn setup(refresh: bool) -> Result<Guest, String> {
    if !refresh {
        if let Some(l) = cached() {
            let rebuilt = ensure_initramfs(&l)?;
            if !rebuilt {
                println!(
                    "setup-guest: Linux {} guest already in {} (Image, initramfs.cpio.gz): \
                     nothing to do (--refresh looks for a newer kernel)",
                    l.release,
                    l.dir.display()
                );
            }
            return Ok(l.guest());
        }
    }
    host_tools()?;
    let apt = AptState::new();
    apt.prepare()?;
    println!(
        "setup-guest: apt update of the arm64 trixie + trixie-backports state in {}",
        apt.dir.display()
    );
    let mut update = apt.cmd("apt-get");
    update.args(["update", "-q"]);
    sh(&mut update)?;

    let kernel = pick_kernel(&apt)?;
    let release = kernel
        .package
        .strip_prefix(KERNEL_PREFIX)
        .ok_or("kernel package name")?
        .to_string();
    let modules = format!("linux-modules-{release}");
    let modules_version = parse_madison(&apt.query(&["madison", &modules])?)
        .into_iter()
        .find(|a| a.version == kernel.version)
        .ok_or(format!("{modules} {} is not in the index", kernel.version))?;
    let busybox = parse_madison(&apt.query(&["madison", "busybox-static"])?)
        .into_iter()
        .find(|a| a.suite == "trixie")
        .ok_or("busybox-static is not in trixie's index")?;
    println!(
        "setup-guest: {} {}",
        modules_version.package, modules_version.version
    );
    println!("setup-guest: busybox-static {} (trixie)", busybox.version);

    let debs: Vec<PathBuf> = [&kernel, &modules_version, &busybox]
        .iter()
        .map(|a| download(&apt, a))
        .collect::<Result<_, _>>()?;
    let l = Layout::new(&release);
    unpack(&debs[0], &l.root())?;
    unpack(&debs[1], &l.root())?;
    unpack(&debs[2], &l.busybox_root())?;
    let busybox_name = debs[2]
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    write(&l.busybox_deb(), busybox_name.as_bytes())?;
    link_image(&l)?;
    ensure_initramfs(&l)?;
    write(&linux_dir().join("current"), release.as_bytes())?;
    println!(
        "setup-guest: Linux {release} guest ready: {} and {}",
        l.image().display(),
        l.initramfs().display()
    );
    Ok(l.guest())
}

/// xz for the modules; dpkg-deb, apt-get and gzip are part of every Debian system.
fn host_tools() -> Result<(), String> {
    if have("xz") {
        return Ok(());
    }
    println!("setup-guest: installing xz-utils");
    sh(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends", "xz-utils"])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn pick_kernel(apt: &AptState) -> Result<Available, String> {
    let names = apt.query(&["pkgnames", &format!("{KERNEL_PREFIX}7.")])?;
    let mut names: Vec<&str> = names
        .lines()
        .filter(|n| kernel_version(n).is_some())
        .collect();
    if names.is_empty() {
        return Err("no linux-binary-unsigned-7.*+deb13-arm64 in the arm64 index".into());
    }
    names.sort_by_key(|n| kernel_version(n));
    let mut args = vec!["madison"];
    args.extend(&names);
    let kernel = newest_kernel(&apt.query(&args)?)
        .ok_or("no linux-binary-unsigned-7.*+deb13-arm64 in trixie-backports")?;
    let others: Vec<&str> = names
        .iter()
        .filter_map(|n| n.strip_prefix(KERNEL_PREFIX)?.strip_suffix(FLAVOUR_SUFFIX))
        .collect();
    println!(
        "setup-guest: newest arm64 kernel in trixie-backports: {} {} (available: {})",
        kernel.package,
        kernel.version,
        others.join(", ")
    );
    Ok(kernel)
}

/// `apt-get download` into `target/guest-apt/debs/`, unless the file is there.
fn download(apt: &AptState, a: &Available) -> Result<PathBuf, String> {
    let file = apt.debs().join(format!(
        "{}_{}_arm64.deb",
        a.package,
        a.version.replace(':', "%3a")
    ));
    if file.exists() {
        println!("setup-guest: have {}", file.display());
        return Ok(file);
    }
    println!("setup-guest: downloading {} {}", a.package, a.version);
    let mut c = apt.cmd("apt-get");
    c.args(["download", "-q", "-oAPT::Sandbox::User=root"])
        .arg(format!("{}={}", a.package, a.version))
        .current_dir(apt.debs());
    sh(&mut c)?;
    if !file.exists() {
        return Err(format!("apt-get download left no {}", file.display()));
    }
    Ok(file)
}

/// `dpkg-deb -x deb into`, once (a marker file records it).
fn unpack(deb: &Path, into: &Path) -> Result<(), String> {
    let name = deb.file_name().and_then(|n| n.to_str()).unwrap_or("deb");
    let marker = into.join(format!(".unpacked-{name}"));
    if marker.exists() {
        return Ok(());
    }
    println!("setup-guest: dpkg-deb -x {name} {}", into.display());
    std::fs::create_dir_all(into).map_err(|e| format!("cannot create {}: {e}", into.display()))?;
    sh(Command::new("dpkg-deb").arg("-x").arg(deb).arg(into))?;
    write(&marker, b"")
}

/// `Image`: the package's raw kernel (an arm64 Image header, magic "ARM\x64" at 0x38).
fn link_image(l: &Layout) -> Result<(), String> {
    let src = l.modules().join("vmlinuz.unsigned");
    let head = read(&src)?;
    if head.get(0x38..0x3c) != Some(b"ARM\x64".as_slice()) {
        return Err(format!("{} is not a raw arm64 Image", src.display()));
    }
    let _ = std::fs::remove_file(l.image());
    std::fs::hard_link(&src, l.image())
        .or_else(|_| std::fs::copy(&src, l.image()).map(|_| ()))
        .map_err(|e| format!("cannot place {}: {e}", l.image().display()))
}

/// Builds `initramfs.cpio.gz` unless the cached one was built from the same inputs; true if it
/// built.
fn ensure_initramfs(l: &Layout) -> Result<bool, String> {
    let busybox_deb = std::fs::read_to_string(l.busybox_deb())
        .map_err(|e| format!("cannot read {}: {e}", l.busybox_deb().display()))?;
    let mut found = Vec::new();
    find_modules(&l.modules().join("kernel"), &mut found)?;
    let path_of = |name: &str| -> Result<PathBuf, String> {
        found
            .iter()
            .find(|(k, _)| *k == module_key(name))
            .map(|(_, p)| p.clone())
            .ok_or(format!("module {name} is not in {}", l.modules().display()))
    };
    // The order depends only on the modules, so it is worked out before deciding to rebuild.
    let mut decompressed: Vec<(String, Vec<u8>)> = Vec::new();
    let order = load_order(&MODULES, &mut |name: &str| {
        let ko = xz_decompress(&path_of(name)?)?;
        let deps = modinfo_depends(&ko);
        decompressed.push((name.to_string(), ko));
        Ok(deps)
    })?;
    let inputs = initramfs_inputs(&busybox_deb, &order);
    if l.initramfs().exists()
        && std::fs::read_to_string(l.inputs()).ok().as_deref() == Some(&inputs)
    {
        return Ok(false);
    }
    let mut entries = vec![
        Entry::dir("bin"),
        Entry::file(
            "bin/busybox",
            0o755,
            read(&l.busybox_root().join("usr/bin/busybox"))?,
        ),
    ];
    entries.extend(
        APPLETS
            .iter()
            .map(|a| Entry::symlink(&format!("bin/{a}"), "busybox")),
    );
    entries.extend([
        Entry::dir("dev"),
        Entry::char_dev("dev/console", 0o600, 5, 1),
        Entry::dir("proc"),
        Entry::dir("sys"),
        Entry::dir("tmp"),
        Entry::dir("lib"),
        Entry::dir("lib/modules"),
    ]);
    let mut order_file = String::new();
    for name in &order {
        let ko = decompressed
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, ko)| ko.clone())
            .ok_or(format!("module {name} was not read"))?;
        let ko = strip_module_signature(&ko).to_vec();
        let file = format!("{name}.ko");
        order_file.push_str(&file);
        order_file.push('\n');
        entries.push(Entry::file(&format!("lib/modules/{file}"), 0o644, ko));
    }
    entries.push(Entry::file(
        "lib/modules/order",
        0o644,
        order_file.into_bytes(),
    ));
    entries.push(Entry::file("init", 0o755, INIT.as_bytes().to_vec()));
    let archive = cpio::write(&entries);
    // Read it back as the kernel will: every entry, in order, with its mode.
    let members = cpio::read(&archive)?;
    if members.len() != entries.len()
        || members
            .iter()
            .zip(&entries)
            .any(|(m, e)| m.name != e.name || m.mode != e.mode())
    {
        return Err("the initramfs does not read back as written".into());
    }
    let packed = gzip(&archive)?;
    write(&l.initramfs(), &packed)?;
    write(&l.inputs(), inputs.as_bytes())?;
    println!(
        "setup-guest: built {} ({} KiB, {} KiB unpacked): busybox, modules {} (signatures \
         stripped), /init",
        l.initramfs().display(),
        packed.len() / 1024,
        archive.len() / 1024,
        order.join(" -> ")
    );
    Ok(true)
}

/// True if `path` is an initramfs `setup-guest` built (so `/init`'s checks and token apply).
pub fn is_our_initramfs(path: &Path) -> bool {
    let (Ok(p), Ok(root)) = (path.canonicalize(), target().join("linux").canonicalize()) else {
        return false;
    };
    p.starts_with(root) && p.file_name().is_some_and(|n| n == "initramfs.cpio.gz")
}

/// The bytes of a `NAME-BEGIN` .. `NAME-END` hex block `/init` printed into `log` (a console log
/// with any other lines around it), checked against the END line's byte and line counts.
pub fn parse_blob(log: &str, name: &str) -> Result<Vec<u8>, String> {
    let begin = format!("rmm-guest: {name}-BEGIN bytes=");
    let end = format!("rmm-guest: {name}-END bytes=");
    let mut lines = log.lines().map(|l| l.trim_end_matches('\r'));
    lines
        .by_ref()
        .find(|l| l.contains(&begin))
        .ok_or(format!("no {name}-BEGIN line"))?;
    let mut bytes = Vec::new();
    let mut count = 0usize;
    for l in lines {
        if let Some(at) = l.find(&end) {
            let fields: Vec<&str> = l[at + end.len()..].split_whitespace().collect();
            let want: usize = fields
                .first()
                .and_then(|n| n.parse().ok())
                .ok_or(format!("{name}-END without a byte count"))?;
            let want_lines: Option<usize> = fields
                .iter()
                .find_map(|f| f.strip_prefix("lines=")?.parse().ok());
            if bytes.len() != want || want_lines.is_some_and(|n| n != count) {
                return Err(format!(
                    "{name}: {} bytes in {count} lines, the END line says {want} bytes in {want_lines:?}",
                    bytes.len()
                ));
            }
            return Ok(bytes);
        }
        let hex = l.trim();
        if hex.is_empty() {
            continue;
        }
        if hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("{name}: not a hex line: {l:?}"));
        }
        count += 1;
        for i in (0..hex.len()).step_by(2) {
            bytes.push(u8::from_str_radix(&hex[i..i + 2], 16).map_err(|e| e.to_string())?);
        }
    }
    Err(format!("no {name}-END line"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MADISON: &str = "\
linux-binary-unsigned-7.2.11+deb13-arm64 | 7.2.11-1~bpo13+1 | http://mirror.example/debian trixie-backports/main arm64 Packages
linux-binary-unsigned-7.3.4+deb13-rt-arm64 | 7.3.4-1~bpo13+1 | http://mirror.example/debian trixie-backports/main arm64 Packages
linux-binary-unsigned-7.10.1+deb13-arm64-16k | 7.10.1-1~bpo13+1 | http://mirror.example/debian trixie-backports/main arm64 Packages
linux-binary-unsigned-7.10.1+deb13-cloud-arm64 | 7.10.1-1~bpo13+1 | http://mirror.example/debian trixie-backports/main arm64 Packages
linux-binary-unsigned-7.9.12+deb13-arm64 | 7.9.12-1~bpo13+1 | http://mirror.example/debian trixie-backports/main arm64 Packages
linux-binary-unsigned-7.3.4+deb13-arm64 | 7.3.4-1~bpo13+1 | http://mirror.example/debian trixie-backports/main arm64 Packages
linux-binary-unsigned-7.11.0+deb13-arm64 | 7.11.0-1 | http://mirror.example/debian forky/main arm64 Packages
linux-binary-unsigned-8.0.1+deb13-arm64 | 8.0.1-1~bpo13+1 | http://mirror.example/debian trixie-backports/main arm64 Packages
linux-binary-unsigned-6.12.48+deb13-arm64 | 6.12.48-1 | http://mirror.example/debian trixie/main arm64 Packages
";

    #[test]
    fn the_newest_generic_7x_of_trixie_backports_is_picked() {
        let k = newest_kernel(MADISON).unwrap();
        // 7.9.12 > 7.3.4 > 7.2.11 numerically; 7.10.1 is only rt/16k/cloud; 7.11 is another
        // suite; 8.x is not 7.x.
        assert_eq!(k.package, "linux-binary-unsigned-7.9.12+deb13-arm64");
        assert_eq!(k.version, "7.9.12-1~bpo13+1");
        assert_eq!(k.suite, "trixie-backports");
    }

    #[test]
    fn no_kernel_when_none_fits() {
        assert_eq!(newest_kernel(""), None);
        let only_flavours = MADISON
            .lines()
            .filter(|l| l.contains("-rt-") || l.contains("16k") || l.contains("6.12"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(newest_kernel(&only_flavours), None);
    }

    #[test]
    fn madison_lines_parse() {
        let a = parse_madison(
            "busybox-static | 1:1.37.0-6+b9 | http://mirror.example/debian trixie/main arm64 Packages\n",
        );
        assert_eq!(
            a,
            vec![Available {
                package: "busybox-static".into(),
                version: "1:1.37.0-6+b9".into(),
                suite: "trixie".into(),
            }]
        );
    }

    #[test]
    fn modinfo_depends_and_load_order() {
        let ko =
            |deps: &str| format!("\x7fELF..\0license=GPL\0depends={deps}\0name=x\0").into_bytes();
        assert_eq!(
            modinfo_depends(&ko("tsm_report,configfs")),
            ["tsm_report", "configfs"]
        );
        assert!(modinfo_depends(&ko("")).is_empty());
        assert!(modinfo_depends(b"no modinfo").is_empty());
        let mut deps = |name: &str| -> Result<Vec<String>, String> {
            Ok(modinfo_depends(&ko(match name {
                "arm-cca-guest" => "tsm_report",
                "tsm_report" => "configfs",
                _ => "",
            })))
        };
        let order = load_order(&["arm-cca-guest", "configfs", "tsm_report"], &mut deps).unwrap();
        assert_eq!(order, ["configfs", "tsm_report", "arm-cca-guest"]);
        let mut cycle = |name: &str| -> Result<Vec<String>, String> {
            Ok(vec![if name == "a" { "b" } else { "a" }.to_string()])
        };
        assert!(load_order(&["a"], &mut cycle).is_err());
    }

    #[test]
    fn a_module_signature_is_stripped() {
        let code = b"\x7fELF module body".to_vec();
        let mut signed = code.clone();
        signed.extend_from_slice(&[0xaa; 5]); // the PKCS#7 signature
        signed.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 5]); // module_signature
        signed.extend_from_slice(MODULE_SIG_MAGIC);
        assert_eq!(strip_module_signature(&signed), code.as_slice());
        assert_eq!(strip_module_signature(&code), code.as_slice());
        // A length beyond the file leaves it alone.
        let mut bogus = vec![0u8; 12];
        bogus[11] = 200;
        bogus.extend_from_slice(MODULE_SIG_MAGIC);
        assert_eq!(strip_module_signature(&bogus), bogus.as_slice());
    }

    #[test]
    fn a_blob_is_reassembled_from_a_console_log() {
        let log = "[    1.0] some kernel line\r\n\
                   rmm-guest: CHECK challenge PASS 64 bytes\n\
                   rmm-guest: TOKEN-BEGIN bytes=40\n\
                   000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\
                   2021222324252627\n\
                   rmm-guest: TOKEN-END bytes=40 lines=2 sha256=none\n";
        assert_eq!(
            parse_blob(log, "TOKEN").unwrap(),
            (0u8..40).collect::<Vec<_>>()
        );
        assert!(parse_blob(log, "CHALLENGE").is_err());
        let short = log.replace("bytes=40 lines=2", "bytes=41 lines=2");
        assert!(parse_blob(&short, "TOKEN").is_err());
    }
}
