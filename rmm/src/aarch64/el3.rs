//! What the RMM asks of EL3 and of its own image at Realm EL2: the SMC conduit (`SmcEl3`), the
//! shared buffer, the fatal-exception path and `park`.

use super::*;

pub use platform::smc::{smc, smc_x0_x1, smc_x0_x5};

/// Copies the shared buffer into RMM memory, so that parsing never reads memory EL3 may change.
pub fn copy_shared_buffer(pa: u64) -> [u8; SHARED_BUFFER_SIZE] {
    let mut buf = [0u8; SHARED_BUFFER_SIZE];
    let src = pa as *const u64;
    for (i, chunk) in buf.chunks_exact_mut(8).enumerate() {
        // SAFETY: 1. `boot::cold_boot` only calls this for a granule-aligned, non-zero PA that EL3
        // names as the shared buffer. 2. The MMU is off, so the PA is the address, and EL3 maps
        // the page Realm in the GPT.
        let w = unsafe { core::ptr::read_volatile(src.add(i)) };
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    buf
}

/// Waits forever (the CPU is of no further use).
pub fn park() -> ! {
    loop {
        // SAFETY: `wfe` only waits for an event.
        unsafe { asm!("wfe", options(nomem, nostack)) };
    }
}

/// Any exception taken at R-EL2 is a fault in the RMM itself: log it and stop this CPU.
#[no_mangle]
extern "C" fn rmm_exception() -> ! {
    use aarch64_cpu::registers::{ELR_EL2, ESR_EL2, FAR_EL2};
    let (esr, elr, far) = (ESR_EL2.get(), ELR_EL2.get(), FAR_EL2.get());
    defmt::error!(
        "fatal exception at R-EL2: ESR {=u64:#x} ELR {=u64:#x} FAR {=u64:#x}",
        esr,
        elr,
        far
    );
    park()
}

/// EL3 services through SMC.
pub struct SmcEl3;

impl crate::el3::El3 for SmcEl3 {
    fn gtsi_delegate(&self, pa: u64) -> Result<(), hostcall_abi::el3::El3Status> {
        el3_status(smc_x0_x1(hostcall_abi::el3::RMM_GTSI_DELEGATE as u64, pa))
    }

    fn realm_attest_key(&self, buf: &mut [u8]) -> Result<usize, hostcall_abi::el3::El3Status> {
        use hostcall_abi::el3::{El3Status, RMM_ATTEST_GET_REALM_KEY, SHARED_BUFFER_SIZE};
        let shared = shared_buffer().ok_or(El3Status::BadAddr)?;
        let r = smc([
            RMM_ATTEST_GET_REALM_KEY as u64,
            shared,
            SHARED_BUFFER_SIZE as u64,
            0, // ECC curve: P-384
            0,
            0,
            0,
            0,
        ]);
        el3_status(r[0])?;
        read_shared(r[1], buf)
    }

    fn platform_token_part(
        &self,
        challenge: &[u8],
        out: &mut [u8],
    ) -> Result<(usize, usize), hostcall_abi::el3::El3Status> {
        use hostcall_abi::el3::{El3Status, RMM_ATTEST_GET_PLAT_TOKEN, SHARED_BUFFER_SIZE};
        let shared = shared_buffer().ok_or(El3Status::BadAddr)?;
        if challenge.len() > SHARED_BUFFER_SIZE {
            return Err(El3Status::Inval);
        }
        for (i, b) in challenge.iter().enumerate() {
            // SAFETY: 1. `shared` is EL3's shared page (cold boot checked it and mapped it
            // Realm RW); i < its size. 2. Only this CPU uses it: EL3 waits in the SMC below.
            unsafe { core::ptr::write_volatile((shared as *mut u8).add(i), *b) };
        }
        let r = smc([
            RMM_ATTEST_GET_PLAT_TOKEN as u64,
            shared,
            SHARED_BUFFER_SIZE as u64,
            challenge.len() as u64,
            0,
            0,
            0,
            0,
        ]);
        el3_status(r[0])?;
        Ok((read_shared(r[1], out)?, r[2] as usize))
    }

    fn gtsi_undelegate(&self, pa: u64) -> Result<(), hostcall_abi::el3::El3Status> {
        el3_status(smc_x0_x1(hostcall_abi::el3::RMM_GTSI_UNDELEGATE as u64, pa))
    }
}

/// PA of EL3's shared buffer, recorded by cold boot (0 until then).
pub(super) static SHARED_BUFFER: core::sync::atomic::AtomicU64 =
    core::sync::atomic::AtomicU64::new(0);

/// Records EL3's shared buffer (cold boot, after its checks; [`build_tables`] maps it).
pub fn set_shared_buffer(pa: u64) {
    SHARED_BUFFER.store(pa, core::sync::atomic::Ordering::Release);
}

pub(super) fn shared_buffer() -> Option<u64> {
    Some(SHARED_BUFFER.load(core::sync::atomic::Ordering::Acquire)).filter(|&pa| pa != 0)
}

/// Copies the first `len` bytes EL3 left in the shared buffer into `out`; a length larger than
/// the buffer or `out` is refused.
pub(super) fn read_shared(len: u64, out: &mut [u8]) -> Result<usize, hostcall_abi::el3::El3Status> {
    use hostcall_abi::el3::{El3Status, SHARED_BUFFER_SIZE};
    let shared = shared_buffer().ok_or(El3Status::BadAddr)?;
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= SHARED_BUFFER_SIZE && l <= out.len())
        .ok_or(El3Status::NoMem)?;
    for (i, b) in out[..len].iter_mut().enumerate() {
        // SAFETY: as in `platform_token_part`: the mapped shared page, i below its size.
        *b = unsafe { core::ptr::read_volatile((shared as *const u8).add(i)) };
    }
    Ok(len)
}

pub(super) fn el3_status(x0: u64) -> Result<(), hostcall_abi::el3::El3Status> {
    // Success first: the decode is a table lookup the common answer need not pay for.
    if x0 == 0 {
        Ok(())
    } else {
        el3_error(x0)
    }
}

/// The failure of an EL3 service whose x0 was not 0.
#[cold]
#[inline(never)]
fn el3_error(x0: u64) -> Result<(), hostcall_abi::el3::El3Status> {
    use hostcall_abi::el3::El3Status;
    match El3Status::from_raw(x0) {
        Some(El3Status::Ok) => Ok(()),
        Some(e) => Err(e),
        None => Err(El3Status::Unknown),
    }
}
