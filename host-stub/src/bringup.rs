//! What every CPU checks when it first talks to the RMM: version negotiation both ways, the
//! feature register, and that calls the RMM does not serve get SMC_UNKNOWN without stopping it.

use hostcall_abi::rmi::{RmiFeatureRegister0, RmiReturn, RmiStatus, RMI_VERSION_1_0};
use hostcall_abi::smccc::SMC_UNKNOWN;
use hostcall_abi::AbiVersion;

use crate::rmi::{RmiClient, VersionAnswer};
use crate::Conduit;

/// A revision the RMM must refuse (the next major).
pub const UNSUPPORTED_VERSION: AbiVersion = AbiVersion::new(2, 0);

/// Function IDs inside the RMI range that RMI 1.0 leaves unused: EL3 forwards them, the RMM must
/// answer SMC_UNKNOWN.
pub const UNUSED_RMI_FIDS: [u64; 4] = [0xC400_0156, 0xC400_0160, 0xC400_0163, 0xC400_0170];

/// What one CPU saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuReport {
    /// RMI_VERSION(1.0).
    pub version: VersionAnswer,
    /// RMI_VERSION(2.0).
    pub refused: VersionAnswer,
    /// RMI_FEATURES(0).
    pub features: (RmiReturn, RmiFeatureRegister0),
    /// RMI_FEATURES(1) (must read as zero in 1.0).
    pub features1: (RmiReturn, RmiFeatureRegister0),
    /// x0 for each of [`UNUSED_RMI_FIDS`].
    pub unknown: [u64; UNUSED_RMI_FIDS.len()],
    /// RMI_VERSION(1.0) again after the unknown calls.
    pub version_after: VersionAnswer,
}

/// A check that failed, for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// RMI_VERSION(1.0) did not succeed with lower = higher = 1.0.
    Version,
    /// RMI_VERSION(2.0) was not refused with lower = higher = 1.0.
    RefusedVersion,
    /// RMI_FEATURES(0) failed or advertised something impossible.
    Features,
    /// RMI_FEATURES(1) was not zero.
    FeaturesIndex1,
    /// An unused FID got something other than SMC_UNKNOWN.
    UnknownFid,
    /// The RMM stopped answering after an unknown FID.
    ServingAfterUnknown,
}

impl Failure {
    /// A one-line description for the log.
    pub const fn describe(self) -> &'static str {
        match self {
            Failure::Version => "RMI_VERSION(1.0) did not succeed with 1.0/1.0",
            Failure::RefusedVersion => "RMI_VERSION(2.0) was not refused with 1.0/1.0",
            Failure::Features => "RMI_FEATURES(0) failed or is implausible",
            Failure::FeaturesIndex1 => "RMI_FEATURES(1) is not zero",
            Failure::UnknownFid => "an unused RMI FID did not get SMC_UNKNOWN",
            Failure::ServingAfterUnknown => "RMI_VERSION changed after unknown FIDs",
        }
    }
}

/// Runs the bring-up calls.
pub fn run<C: Conduit>(rmi: &mut RmiClient<C>) -> CpuReport {
    let version = rmi.version(RMI_VERSION_1_0);
    let refused = rmi.version(UNSUPPORTED_VERSION);
    let features = rmi.features(0);
    let features1 = rmi.features(1);
    let mut unknown = [0; UNUSED_RMI_FIDS.len()];
    for (u, fid) in unknown.iter_mut().zip(UNUSED_RMI_FIDS) {
        *u = rmi.raw(fid, &[])[0];
    }
    let version_after = rmi.version(RMI_VERSION_1_0);
    CpuReport {
        version,
        refused,
        features,
        features1,
        unknown,
        version_after,
    }
}

fn is_1_0_both(v: &VersionAnswer) -> bool {
    v.lower == RMI_VERSION_1_0 && v.higher == RMI_VERSION_1_0
}

impl CpuReport {
    /// The first failed check, if any.
    pub fn verdict(&self) -> Result<(), Failure> {
        if self.version.ret != RmiReturn::SUCCESS || !is_1_0_both(&self.version) {
            return Err(Failure::Version);
        }
        if self.refused.ret != RmiReturn::new(RmiStatus::ErrorInput, 0)
            || !is_1_0_both(&self.refused)
        {
            return Err(Failure::RefusedVersion);
        }
        let (ret, f) = self.features;
        let plausible = (32..=52).contains(&f.s2sz()) && f.hash_sha_256() == 1;
        if ret != RmiReturn::SUCCESS || !plausible {
            return Err(Failure::Features);
        }
        if self.features1 != (RmiReturn::SUCCESS, RmiFeatureRegister0(0)) {
            return Err(Failure::FeaturesIndex1);
        }
        if self.unknown.iter().any(|&x0| x0 != SMC_UNKNOWN) {
            return Err(Failure::UnknownFid);
        }
        if self.version_after != self.version {
            return Err(Failure::ServingAfterUnknown);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
