//! RMI client: typed wrappers over the SMCs the host issues.

use hostcall_abi::rmi::{RmiCommand, RmiFeatureRegister0, RmiReturn};
use hostcall_abi::AbiVersion;

use crate::Conduit;

/// The answer to RMI_VERSION.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionAnswer {
    /// x0.
    pub ret: RmiReturn,
    /// x1: lower implemented revision.
    pub lower: AbiVersion,
    /// x2: higher implemented revision.
    pub higher: AbiVersion,
}

/// RMI calls over a conduit.
pub struct RmiClient<C: Conduit> {
    conduit: C,
}

impl<C: Conduit> RmiClient<C> {
    /// Wraps a conduit.
    pub fn new(conduit: C) -> Self {
        Self { conduit }
    }

    /// Issues a raw call: x0 = `fid`, x1.. = `args`.
    pub fn raw(&mut self, fid: u64, args: &[u64]) -> [u64; 8] {
        let mut regs = [0u64; 8];
        regs[0] = fid;
        for (r, a) in regs[1..].iter_mut().zip(args) {
            *r = *a;
        }
        self.conduit.smc(regs)
    }

    fn call(&mut self, cmd: RmiCommand, args: &[u64]) -> [u64; 8] {
        self.raw(cmd.fid() as u64, args)
    }

    /// RMI_VERSION(req).
    pub fn version(&mut self, req: AbiVersion) -> VersionAnswer {
        let r = self.call(RmiCommand::VERSION, &[req.raw()]);
        VersionAnswer {
            ret: RmiReturn::from_raw(r[0]),
            lower: AbiVersion::from_raw(r[1]),
            higher: AbiVersion::from_raw(r[2]),
        }
    }

    /// RMI_GRANULE_DELEGATE(addr).
    pub fn granule_delegate(&mut self, pa: u64) -> RmiReturn {
        RmiReturn::from_raw(self.call(RmiCommand::GRANULE_DELEGATE, &[pa])[0])
    }

    /// RMI_GRANULE_UNDELEGATE(addr).
    pub fn granule_undelegate(&mut self, pa: u64) -> RmiReturn {
        RmiReturn::from_raw(self.call(RmiCommand::GRANULE_UNDELEGATE, &[pa])[0])
    }

    /// Issues `cmd` and returns its status and outputs x1..x4.
    pub fn cmd(&mut self, cmd: RmiCommand, args: &[u64]) -> (RmiReturn, [u64; 4]) {
        let r = self.call(cmd, args);
        (RmiReturn::from_raw(r[0]), [r[1], r[2], r[3], r[4]])
    }

    /// RMI_FEATURES(index).
    pub fn features(&mut self, index: u64) -> (RmiReturn, RmiFeatureRegister0) {
        let r = self.call(RmiCommand::FEATURES, &[index]);
        (RmiReturn::from_raw(r[0]), RmiFeatureRegister0(r[1]))
    }
}
