//! One host action: an RMI call with its arguments, plus what the host writes to NS memory
//! first (parameter blocks, DATA sources).

use std::fmt;

use super::abi::{Cmd, RealmParams, RecEnter, RecParams};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Delegate {
        addr: u64,
    },
    Undelegate {
        addr: u64,
    },
    /// The host writes `p` to `params` (if it is an NS granule) and calls REALM_CREATE.
    RealmCreate {
        rd: u64,
        params: u64,
        p: RealmParams,
    },
    RealmActivate {
        rd: u64,
    },
    RealmDestroy {
        rd: u64,
    },
    RecAuxCount {
        rd: u64,
    },
    /// The host writes `p` to `params` (if it is an NS granule) and calls REC_CREATE.
    RecCreate {
        rd: u64,
        rec: u64,
        params: u64,
        p: RecParams,
    },
    RecDestroy {
        rec: u64,
    },
    /// The host writes `enter` into the RecRun page `run` (if it is an NS granule), keeping the
    /// rest of the page as it was, and calls REC_ENTER.
    RecEnter {
        rec: u64,
        run: u64,
        enter: RecEnter,
    },
    /// The host fills `src` with the pattern of `fill` (if it is an NS granule) first.
    DataCreate {
        rd: u64,
        data: u64,
        ipa: u64,
        src: u64,
        flags: u64,
        fill: Option<u64>,
    },
    DataCreateUnknown {
        rd: u64,
        data: u64,
        ipa: u64,
    },
    DataDestroy {
        rd: u64,
        ipa: u64,
    },
    RttCreate {
        rd: u64,
        rtt: u64,
        ipa: u64,
        level: i64,
    },
    RttDestroy {
        rd: u64,
        ipa: u64,
        level: i64,
    },
    RttFold {
        rd: u64,
        ipa: u64,
        level: i64,
    },
    RttReadEntry {
        rd: u64,
        ipa: u64,
        level: i64,
    },
    RttMapUnprotected {
        rd: u64,
        ipa: u64,
        level: i64,
        desc: u64,
    },
    RttUnmapUnprotected {
        rd: u64,
        ipa: u64,
        level: i64,
    },
    RttInitRipas {
        rd: u64,
        base: u64,
        top: u64,
    },
    RttSetRipas {
        rd: u64,
        rec: u64,
        base: u64,
        top: u64,
    },
    PsciComplete {
        calling: u64,
        target: u64,
        status: u64,
    },
}

impl Op {
    pub fn cmd(&self) -> Cmd {
        match self {
            Op::Delegate { .. } => Cmd::GranuleDelegate,
            Op::Undelegate { .. } => Cmd::GranuleUndelegate,
            Op::RealmCreate { .. } => Cmd::RealmCreate,
            Op::RealmActivate { .. } => Cmd::RealmActivate,
            Op::RealmDestroy { .. } => Cmd::RealmDestroy,
            Op::RecAuxCount { .. } => Cmd::RecAuxCount,
            Op::RecCreate { .. } => Cmd::RecCreate,
            Op::RecDestroy { .. } => Cmd::RecDestroy,
            Op::RecEnter { .. } => Cmd::RecEnter,
            Op::DataCreate { .. } => Cmd::DataCreate,
            Op::DataCreateUnknown { .. } => Cmd::DataCreateUnknown,
            Op::DataDestroy { .. } => Cmd::DataDestroy,
            Op::RttCreate { .. } => Cmd::RttCreate,
            Op::RttDestroy { .. } => Cmd::RttDestroy,
            Op::RttFold { .. } => Cmd::RttFold,
            Op::RttReadEntry { .. } => Cmd::RttReadEntry,
            Op::RttMapUnprotected { .. } => Cmd::RttMapUnprotected,
            Op::RttUnmapUnprotected { .. } => Cmd::RttUnmapUnprotected,
            Op::RttInitRipas { .. } => Cmd::RttInitRipas,
            Op::RttSetRipas { .. } => Cmd::RttSetRipas,
            Op::PsciComplete { .. } => Cmd::PsciComplete,
        }
    }

    /// x1.. as the host passes them (levels as two's-complement Int64).
    pub fn args(&self) -> Vec<u64> {
        let l = |level: i64| level as u64;
        match *self {
            Op::Delegate { addr } | Op::Undelegate { addr } => vec![addr],
            Op::RealmCreate { rd, params, .. } => vec![rd, params],
            Op::RealmActivate { rd } | Op::RealmDestroy { rd } | Op::RecAuxCount { rd } => {
                vec![rd]
            }
            Op::RecCreate {
                rd, rec, params, ..
            } => vec![rd, rec, params],
            Op::RecDestroy { rec } => vec![rec],
            Op::RecEnter { rec, run, .. } => vec![rec, run],
            Op::DataCreate {
                rd,
                data,
                ipa,
                src,
                flags,
                ..
            } => vec![rd, data, ipa, src, flags],
            Op::DataCreateUnknown { rd, data, ipa } => vec![rd, data, ipa],
            Op::DataDestroy { rd, ipa } => vec![rd, ipa],
            Op::RttCreate {
                rd,
                rtt,
                ipa,
                level,
            } => vec![rd, rtt, ipa, l(level)],
            Op::RttDestroy { rd, ipa, level }
            | Op::RttFold { rd, ipa, level }
            | Op::RttReadEntry { rd, ipa, level }
            | Op::RttUnmapUnprotected { rd, ipa, level } => vec![rd, ipa, l(level)],
            Op::RttMapUnprotected {
                rd,
                ipa,
                level,
                desc,
            } => vec![rd, ipa, l(level), desc],
            Op::RttInitRipas { rd, base, top } => vec![rd, base, top],
            Op::RttSetRipas { rd, rec, base, top } => vec![rd, rec, base, top],
            Op::PsciComplete {
                calling,
                target,
                status,
            } => vec![calling, target, status],
        }
    }

    /// What a realm racing this command on another CPU has touched just before it: the RD and
    /// the IPAs whose translations the command may remove or change (for a whole table, a
    /// spread of its entries), so that a missing TLB invalidation leaves a stale translation
    /// behind. Nothing for commands that change no valid entry.
    pub fn racing_touches(&self) -> Option<(u64, Vec<u64>)> {
        // Entries of a table at `level` covering `ipa`: the first, a few inside, the last.
        let spread = |ipa: u64, level: i64| -> Vec<u64> {
            let step = 1u64 << (12 + 9 * (3 - level.clamp(0, 3)));
            [0u64, 1, 2, 9, 255, 256, 510, 511]
                .iter()
                .map(|i| ipa.wrapping_add(i * step))
                .collect()
        };
        match *self {
            Op::DataDestroy { rd, ipa } | Op::RttCreate { rd, ipa, .. } => Some((rd, vec![ipa])),
            Op::RttUnmapUnprotected { rd, ipa, .. } => Some((rd, vec![ipa])),
            Op::RttDestroy { rd, ipa, level } | Op::RttFold { rd, ipa, level } => {
                Some((rd, spread(ipa, level)))
            }
            Op::RttSetRipas { rd, base, top, .. } => Some((
                rd,
                (0..8)
                    .map(|i| base.wrapping_add(i << 12))
                    .filter(|&ipa| ipa < top)
                    .collect(),
            )),
            _ => None,
        }
    }

    /// Granule addresses the command names, whose states are compared right after it.
    pub fn footprint(&self) -> Vec<u64> {
        let mut v = match *self {
            Op::RealmCreate { p, .. } => {
                (0..16).map(|i| p.rtt_base.wrapping_add(i << 12)).collect()
            }
            Op::RecCreate { p, .. } => p.aux.to_vec(),
            _ => Vec::new(),
        };
        match *self {
            Op::Delegate { addr } | Op::Undelegate { addr } => v.push(addr),
            Op::RealmCreate { rd, .. }
            | Op::RealmActivate { rd }
            | Op::RealmDestroy { rd }
            | Op::RecAuxCount { rd }
            | Op::DataDestroy { rd, .. }
            | Op::RttDestroy { rd, .. }
            | Op::RttFold { rd, .. }
            | Op::RttReadEntry { rd, .. }
            | Op::RttMapUnprotected { rd, .. }
            | Op::RttUnmapUnprotected { rd, .. }
            | Op::RttInitRipas { rd, .. } => v.push(rd),
            Op::RecCreate { rd, rec, .. } | Op::RttSetRipas { rd, rec, .. } => v.extend([rd, rec]),
            Op::RecDestroy { rec } => v.push(rec),
            Op::RecEnter { rec, run, .. } => v.extend([rec, run]),
            Op::DataCreate { rd, data, src, .. } => v.extend([rd, data, src]),
            Op::DataCreateUnknown { rd, data, .. } => v.extend([rd, data]),
            Op::RttCreate { rd, rtt, .. } => v.extend([rd, rtt]),
            Op::PsciComplete {
                calling, target, ..
            } => v.extend([calling, target]),
        }
        v
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.cmd().name())?;
        for (i, a) in self.args().iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{a:#x}")?;
        }
        write!(f, ")")?;
        match self {
            Op::RealmCreate { p, .. } => write!(f, " {p:x?}"),
            Op::RecCreate { p, .. } => write!(
                f,
                " flags={:#x} mpidr={:#x} num_aux={} aux={:x?}",
                p.flags,
                p.mpidr,
                p.num_aux,
                &p.aux[..(p.num_aux.min(16) as usize)]
            ),
            Op::DataCreate { fill: Some(s), .. } => write!(f, " src filled with pattern {s:#x}"),
            Op::RecEnter { enter, .. } => write!(f, " {enter:x?}"),
            _ => Ok(()),
        }
    }
}
