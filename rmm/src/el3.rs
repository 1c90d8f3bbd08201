//! Services the RMM asks of EL3 firmware besides the boot and RMI hand-offs.
//!
//! The trait is the seam: the image issues real SMCs ([`crate::arch`]), host tests use the
//! simulated EL3 in `crate::sim`. Every value EL3 returns is checked before use.

use hostcall_abi::el3::El3Status;

/// EL3 services.
pub trait El3 {
    /// Moves the granule at `pa` from the NS PAS to the Realm PAS (RMM_GTSI_DELEGATE).
    fn gtsi_delegate(&self, pa: u64) -> Result<(), El3Status>;
    /// Moves the granule at `pa` from the Realm PAS back to the NS PAS (RMM_GTSI_UNDELEGATE).
    fn gtsi_undelegate(&self, pa: u64) -> Result<(), El3Status>;
    /// Copies the realm attestation private key (a P-384 scalar) into `buf`
    /// (RMM_ATTEST_GET_REALM_KEY); returns its length, which fits `buf`.
    fn realm_attest_key(&self, buf: &mut [u8]) -> Result<usize, El3Status>;
    /// One RMM_ATTEST_GET_PLAT_TOKEN call with `challenge` at the start of the shared buffer:
    /// copies the part of the platform token EL3 wrote into `out` and returns (bytes written,
    /// bytes EL3 says remain). The bytes written fit `out`.
    fn platform_token_part(
        &self,
        challenge: &[u8],
        out: &mut [u8],
    ) -> Result<(usize, usize), El3Status>;

    /// The whole platform token bound to `challenge`, gathered part by part into `out`; returns
    /// its length. A token that does not fit `out` is [`El3Status::NoMem`]; an EL3 that stops
    /// making progress is [`El3Status::Unknown`].
    fn platform_token(&self, challenge: &[u8], out: &mut [u8]) -> Result<usize, El3Status> {
        let mut len = 0;
        loop {
            let rest = out.get_mut(len..).ok_or(El3Status::NoMem)?;
            let (written, remaining) = self.platform_token_part(challenge, rest)?;
            if written > rest.len() {
                return Err(El3Status::Unknown);
            }
            len += written;
            if remaining == 0 {
                return Ok(len);
            }
            if written == 0 {
                return Err(El3Status::Unknown);
            }
            if remaining > out.len() - len {
                return Err(El3Status::NoMem);
            }
        }
    }
}
