//! The cpio "newc" format the kernel unpacks an initramfs from (`usr/gen_init_cpio.c`,
//! `init/initramfs.c`): per entry a 110-byte ASCII header of 8-digit hex fields, the
//! NUL-terminated name, the data; name and data each padded to 4 bytes; a `TRAILER!!!` entry last.
//! Owners are root and mtimes 0, so an archive depends only on its entries.

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A directory.
    Dir,
    /// A regular file with these contents.
    File(Vec<u8>),
    /// A symbolic link to this target.
    Symlink(String),
    /// A character device node.
    CharDev {
        /// Device major number.
        major: u32,
        /// Device minor number.
        minor: u32,
    },
}

/// One archive member: its path (relative, no leading `/`), permission bits and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the archive, e.g. `bin/busybox`.
    pub name: String,
    /// Permission bits (`0o755`); the file-type bits come from `kind`.
    pub perm: u32,
    /// What the entry is.
    pub kind: Kind,
}

impl Entry {
    /// A directory.
    pub fn dir(name: &str) -> Entry {
        Entry {
            name: name.into(),
            perm: 0o755,
            kind: Kind::Dir,
        }
    }
    /// A regular file.
    pub fn file(name: &str, perm: u32, data: Vec<u8>) -> Entry {
        Entry {
            name: name.into(),
            perm,
            kind: Kind::File(data),
        }
    }
    /// A symbolic link.
    pub fn symlink(name: &str, target: &str) -> Entry {
        Entry {
            name: name.into(),
            perm: 0o777,
            kind: Kind::Symlink(target.into()),
        }
    }
    /// A character device node.
    pub fn char_dev(name: &str, perm: u32, major: u32, minor: u32) -> Entry {
        Entry {
            name: name.into(),
            perm,
            kind: Kind::CharDev { major, minor },
        }
    }

    /// The full `st_mode`: type bits and permission bits.
    pub fn mode(&self) -> u32 {
        let kind = match self.kind {
            Kind::Dir => 0o040000,
            Kind::File(_) => 0o100000,
            Kind::Symlink(_) => 0o120000,
            Kind::CharDev { .. } => 0o020000,
        };
        kind | (self.perm & 0o7777)
    }
}

const MAGIC: &[u8; 6] = b"070701";
const TRAILER: &str = "TRAILER!!!";
const HEADER_LEN: usize = 110;

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn push_member(
    out: &mut Vec<u8>,
    ino: u32,
    mode: u32,
    nlink: u32,
    rdev: (u32, u32),
    name: &str,
    data: &[u8],
) {
    let fields = [
        ino,
        mode,
        0, // uid
        0, // gid
        nlink,
        0, // mtime
        data.len() as u32,
        0, // devmajor
        0, // devminor
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0, // check
    ];
    out.extend_from_slice(MAGIC);
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

/// The archive of `entries`, in order (parents before children), with the trailer.
pub fn write(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let (data, nlink, rdev): (&[u8], u32, (u32, u32)) = match &e.kind {
            Kind::Dir => (&[], 2, (0, 0)),
            Kind::File(d) => (d, 1, (0, 0)),
            Kind::Symlink(t) => (t.as_bytes(), 1, (0, 0)),
            Kind::CharDev { major, minor } => (&[], 1, (*major, *minor)),
        };
        push_member(
            &mut out,
            i as u32 + 1,
            e.mode(),
            nlink,
            rdev,
            e.name.trim_start_matches('/'),
            data,
        );
    }
    push_member(&mut out, 0, 0, 1, (0, 0), TRAILER, &[]);
    out
}

/// One member as read back: its name, `st_mode`, rdev and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Path inside the archive.
    pub name: String,
    /// The full `st_mode`.
    pub mode: u32,
    /// Device major and minor numbers (character and block devices).
    pub rdev: (u32, u32),
    /// File contents, or a symlink's target.
    pub data: Vec<u8>,
}

/// Reads a newc archive up to its trailer.
pub fn read(mut bytes: &[u8]) -> Result<Vec<Member>, String> {
    let mut members = Vec::new();
    let mut offset = 0usize;
    loop {
        if bytes.len() < HEADER_LEN || &bytes[..6] != MAGIC {
            return Err(format!("no newc header at offset {offset}"));
        }
        let field = |i: usize| -> Result<u32, String> {
            let s =
                std::str::from_utf8(&bytes[6 + 8 * i..14 + 8 * i]).map_err(|e| e.to_string())?;
            u32::from_str_radix(s, 16).map_err(|e| format!("field {i} at offset {offset}: {e}"))
        };
        let (mode, size, rdev, namesize) = (
            field(1)?,
            field(6)? as usize,
            (field(9)?, field(10)?),
            field(11)? as usize,
        );
        let name_end = HEADER_LEN + namesize;
        let data_start = name_end.next_multiple_of(4);
        let data_end = data_start + size;
        if namesize == 0 || bytes.len() < data_end || bytes[name_end - 1] != 0 {
            return Err(format!("truncated or malformed member at offset {offset}"));
        }
        let name = String::from_utf8(bytes[HEADER_LEN..name_end - 1].to_vec())
            .map_err(|e| e.to_string())?;
        if name == TRAILER {
            return Ok(members);
        }
        members.push(Member {
            name,
            mode,
            rdev,
            data: bytes[data_start..data_end].to_vec(),
        });
        let next = data_end.next_multiple_of(4).min(bytes.len());
        bytes = &bytes[next..];
        offset += next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_archive_round_trips() {
        let entries = vec![
            Entry::dir("bin"),
            Entry::file("bin/busybox", 0o755, b"\x7fELF not really".to_vec()),
            Entry::symlink("bin/sh", "busybox"),
            Entry::dir("dev"),
            Entry::char_dev("dev/console", 0o600, 5, 1),
            Entry::file("init", 0o755, b"#!/bin/sh\necho hi\n".to_vec()),
            Entry::file("empty", 0o644, Vec::new()),
            Entry::file("odd", 0o600, vec![1, 2, 3]),
        ];
        let archive = write(&entries);
        assert_eq!(archive.len() % 4, 0);
        let members = read(&archive).unwrap();
        assert_eq!(members.len(), entries.len());
        for (e, m) in entries.iter().zip(&members) {
            assert_eq!(m.name, e.name);
            assert_eq!(m.mode, e.mode());
            let (data, rdev): (&[u8], _) = match &e.kind {
                Kind::Dir => (&[], (0, 0)),
                Kind::File(d) => (d, (0, 0)),
                Kind::Symlink(t) => (t.as_bytes(), (0, 0)),
                Kind::CharDev { major, minor } => (&[], (*major, *minor)),
            };
            assert_eq!(m.data, data, "{}", e.name);
            assert_eq!(m.rdev, rdev, "{}", e.name);
        }
        assert_eq!(members[1].mode, 0o100755);
        assert_eq!(members[2].mode, 0o120777);
        assert_eq!(members[4].mode, 0o020600);
        assert_eq!(members[0].mode, 0o040755);
    }

    #[test]
    fn the_header_is_the_kernels_newc_layout() {
        let archive = write(&[Entry::file("init", 0o755, b"ab".to_vec())]);
        // magic, ino 1, mode 0100755, uid, gid, nlink 1, mtime, size 2, dev, rdev, namesize 5, check
        let header = std::str::from_utf8(&archive[..HEADER_LEN]).unwrap();
        assert_eq!(
            header,
            "070701\
             00000001000081ed00000000000000000000000100000000\
             00000002000000000000000000000000000000000000000500000000"
        );
        // "init\0" after the 110-byte header ends at 115: padded to 116, then "ab", padded to 120.
        assert_eq!(&archive[HEADER_LEN..116], b"init\0\0");
        assert_eq!(&archive[116..120], b"ab\0\0");
        assert!(std::str::from_utf8(&archive[120 + HEADER_LEN..])
            .unwrap()
            .starts_with("TRAILER!!!"));
    }

    #[test]
    fn a_truncated_archive_is_an_error() {
        let archive = write(&[Entry::file("init", 0o755, vec![0; 100])]);
        assert!(read(&archive[..150]).is_err());
        assert!(read(b"070707").is_err());
    }
}
