//! VMIDs in use: a realm's VMID must be unique while the realm exists (B4.3.9 `vmid_valid`).

use spin::Mutex;

const WORDS: usize = (u16::MAX as usize + 1) / 64;

/// The set of claimed VMIDs (8 KiB, one bit per VMID).
pub struct VmidSet {
    bits: Mutex<[u64; WORDS]>,
}

impl Default for VmidSet {
    fn default() -> Self {
        Self::new()
    }
}

impl VmidSet {
    /// All VMIDs free.
    pub const fn new() -> Self {
        Self {
            bits: Mutex::new([0; WORDS]),
        }
    }

    /// Claims `vmid`; false if it is already in use.
    pub fn claim(&self, vmid: u16) -> bool {
        let (w, b) = (vmid as usize / 64, 1u64 << (vmid % 64));
        let mut bits = self.bits.lock();
        if bits[w] & b != 0 {
            return false;
        }
        bits[w] |= b;
        true
    }

    /// Releases `vmid` (when its realm is destroyed).
    pub fn release(&self, vmid: u16) {
        let (w, b) = (vmid as usize / 64, 1u64 << (vmid % 64));
        self.bits.lock()[w] &= !b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_is_exclusive_until_released() {
        let s = VmidSet::new();
        assert!(s.claim(0xFFFF));
        assert!(!s.claim(0xFFFF));
        assert!(
            s.claim(0xFFBF),
            "neighbouring VMID in the same word is separate"
        );
        s.release(0xFFFF);
        assert!(s.claim(0xFFFF));
        assert!(s.claim(0));
    }
}
