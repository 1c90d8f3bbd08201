//! The only door to NS memory: copies in and out of host granules.
//!
//! The RMM never holds a reference into NS memory. It copies a whole structure in (or out) through
//! [`NsMemory`], whose image implementation maps NS memory with the NS attribute and recovers
//! from the granule protection fault a host causes by passing a Realm, Secure or Root address;
//! any failure becomes RMI_ERROR_INPUT for the command, never an exception.

use hostcall_abi::rmi::RmiStatus;
use hostcall_abi::wire::Wire;
use hostcall_abi::GRANULE_SIZE;

use crate::error::RmiError;
use crate::granule::{GranuleState, GranuleTable};

/// Fault-tolerant copies to and from NS physical memory.
///
/// The image's implementation moves doublewords: it refuses (returns false) a copy whose NS
/// address, RMM-side buffer or length is not a multiple of [`DOUBLEWORD`]. The functions of this
/// module only ever ask for such copies: their buffers are `NsBuffer`s or [`Plain`] values of
/// 8-byte alignment, and their offsets and lengths are whole doublewords.
pub trait NsMemory {
    /// Copies `dst.len()` bytes from NS physical address `pa`. False if the access faulted.
    fn copy_in(&self, pa: u64, dst: &mut [u8]) -> bool;
    /// Copies `src` to NS physical address `pa`. False if the access faulted.
    fn copy_out(&self, pa: u64, src: &[u8]) -> bool;

    /// Copies each run's bytes at `pa + ns` into `dst` at the run's `rmm` offset (a record's
    /// fields in from an NS granule). False if the runs do not fit `dst` or an access faulted
    /// (earlier runs may have been copied). One call for a whole record: the image's copies
    /// every run in one routine.
    fn copy_in_runs(&self, pa: u64, dst: &mut [u8], runs: NsRuns<'_>) -> bool {
        runs.end() <= dst.len()
            && runs.runs().iter().all(|r| {
                let range = dst.get_mut(r.rmm..r.rmm + r.len);
                range.is_some_and(|range| self.copy_in(pa.wrapping_add(r.ns as u64), range))
            })
    }

    /// Copies each run's bytes of `src` at its `rmm` offset to `pa + ns` (a record's fields out
    /// to an NS granule). False as for [`Self::copy_in_runs`].
    fn copy_out_runs(&self, pa: u64, src: &[u8], runs: NsRuns<'_>) -> bool {
        runs.end() <= src.len()
            && runs.runs().iter().all(|r| {
                let range = src.get(r.rmm..r.rmm + r.len);
                range.is_some_and(|range| self.copy_out(pa.wrapping_add(r.ns as u64), range))
            })
    }
}

/// One run of a record's fields: `len` bytes at offset `rmm` in the RMM-side record and at
/// offset `ns` in the NS granule. Laid out as three doublewords in this order (the image's copy
/// routine reads them); made into [`NsRuns`], which checks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct NsRun {
    rmm: usize,
    ns: usize,
    len: usize,
}

const _: () = assert!(core::mem::size_of::<NsRun>() == 3 * DOUBLEWORD);

impl NsRun {
    /// `(in_record, in_granule, len)` triples as runs, for [`NsRuns::new`].
    pub const fn from_map<const N: usize>(map: [(usize, usize, usize); N]) -> [NsRun; N] {
        let mut out = [NsRun {
            rmm: 0,
            ns: 0,
            len: 0,
        }; N];
        let mut i = 0;
        while i < N {
            let (rmm, ns, len) = map[i];
            out[i] = NsRun { rmm, ns, len };
            i += 1;
        }
        out
    }
}

/// A record's runs of fields, checked when made (their constants are made at compile time, so
/// a wrong run does not build): every offset and length whole doublewords, every run inside
/// one granule; `end` is where the last run ends in the record, which the copies check against
/// the record's size.
#[derive(Clone, Copy, Debug)]
pub struct NsRuns<'a> {
    runs: &'a [NsRun],
    end: usize,
}

impl<'a> NsRuns<'a> {
    /// Checks `runs` (panics, at compile time in a constant, on a run that is not whole
    /// doublewords or leaves the granule).
    pub const fn new(runs: &'a [NsRun]) -> Self {
        let mut end = 0;
        let mut i = 0;
        while i < runs.len() {
            let r = runs[i];
            assert!(
                whole_doublewords(r.rmm | r.ns, r.len),
                "an NS run moves whole doublewords"
            );
            // Checked sums: the image's copy trusts `end` for the RMM side, so no run may wrap.
            let (Some(rmm_end), Some(ns_end)) = (r.rmm.checked_add(r.len), r.ns.checked_add(r.len))
            else {
                panic!("an NS run lies inside one granule and its record");
            };
            assert!(ns_end <= GRANULE_SIZE, "an NS run lies inside one granule");
            if rmm_end > end {
                end = rmm_end;
            }
            i += 1;
        }
        Self { runs, end }
    }

    /// The runs.
    pub const fn runs(&self) -> &'a [NsRun] {
        self.runs
    }

    /// Where the last run ends in the record: the least record size they fit.
    pub const fn end(&self) -> usize {
        self.end
    }
}

/// The unit of the image's NS copies (see [`NsMemory`]).
pub const DOUBLEWORD: usize = 8;

/// A granule-sized RMM-side buffer for NS copies, aligned for the image's doubleword copy by its
/// type (a `[u8; N]` only promises alignment 1: where a stack array lands is the compiler's call).
#[repr(C, align(8))]
struct NsBuffer([u8; GRANULE_SIZE]);

const _: () = assert!(core::mem::align_of::<NsBuffer>() == DOUBLEWORD);

impl NsBuffer {
    const ZERO: Self = Self([0; GRANULE_SIZE]);
}

/// Whether `offset` and `len` (RMM constants: structure offsets, sizes and field runs) are whole
/// doublewords, as the image's copy needs; a wrong constant is caught by the host tests.
const fn whole_doublewords(offset: usize, len: usize) -> bool {
    (offset | len).is_multiple_of(DOUBLEWORD)
}

const INPUT: RmiError = RmiError::new(RmiStatus::ErrorInput);

/// Checks that `pa` starts an NS granule of DRAM that `len` bytes at `offset` fit in: granule
/// aligned, in a DRAM bank, not delegated. (The GPT has the last word: the copy itself may still
/// fault.)
fn check(granules: &GranuleTable, pa: u64, offset: usize, len: usize) -> Result<(), RmiError> {
    if offset.checked_add(len).is_none_or(|end| end > GRANULE_SIZE) {
        return Err(INPUT);
    }
    match granules.peek(pa) {
        Ok((GranuleState::Undelegated, _)) => Ok(()),
        _ => Err(INPUT),
    }
}

/// Reads a structure at `offset` in the NS granule at `pa` (e.g. `rec_enter` in an RmiRecRun).
pub fn read_at<T: Wire>(
    ns: &dyn NsMemory,
    granules: &GranuleTable,
    pa: u64,
    offset: usize,
) -> Result<T, RmiError> {
    check(granules, pa, offset, T::SIZE)?;
    debug_assert!(whole_doublewords(offset, T::SIZE));
    let mut buf = NsBuffer::ZERO;
    let bytes = buf.0.get_mut(..T::SIZE).ok_or(INPUT)?;
    if !ns.copy_in(pa + offset as u64, bytes) {
        return Err(INPUT);
    }
    T::decode(bytes).map_err(|_| INPUT)
}

/// Writes a structure at `offset` in the NS granule at `pa` (e.g. `rec_exit`).
pub fn write_at<T: Wire>(
    ns: &dyn NsMemory,
    granules: &GranuleTable,
    pa: u64,
    offset: usize,
    value: &T,
) -> Result<(), RmiError> {
    check(granules, pa, offset, T::SIZE)?;
    debug_assert!(whole_doublewords(offset, T::SIZE));
    let mut buf = NsBuffer::ZERO;
    let bytes = buf.0.get_mut(..T::SIZE).ok_or(INPUT)?;
    value.encode(bytes).map_err(|_| INPUT)?;
    if ns.copy_out(pa + offset as u64, bytes) {
        Ok(())
    } else {
        Err(INPUT)
    }
}

/// Reads a structure from the start of the NS granule at `pa`.
pub fn read<T: Wire>(ns: &dyn NsMemory, granules: &GranuleTable, pa: u64) -> Result<T, RmiError> {
    read_at(ns, granules, pa, 0)
}

/// Writes a structure to the start of the NS granule at `pa`.
pub fn write<T: Wire>(
    ns: &dyn NsMemory,
    granules: &GranuleTable,
    pa: u64,
    value: &T,
) -> Result<(), RmiError> {
    write_at(ns, granules, pa, 0, value)
}

/// A shared structure whose bytes are all declared integer fields: `#[repr(C)]`, no implicit
/// padding (hostcall-abi pins every field offset and the size), every bit pattern valid. Its
/// alignment must be at least [`DOUBLEWORD`] (checked at compile time where it is copied).
///
/// # Safety
/// 1. Implementors must have exactly that shape, so viewing a value as bytes reads only
///    initialised memory and writing any bytes leaves a valid value.
pub unsafe trait Plain: Sized {}

// SAFETY: repr(C) integers and integer arrays with every padding byte declared; hostcall-abi
// asserts every offset and the size.
unsafe impl Plain for hostcall_abi::rec_run::RmiRecExitFields {}

fn bytes<T: Plain>(v: &T) -> &[u8] {
    // SAFETY: `Plain` guarantees every byte of `T` is an initialised integer byte.
    unsafe { core::slice::from_raw_parts(v as *const T as *const u8, core::mem::size_of::<T>()) }
}

fn bytes_mut<T: Plain>(v: &mut T) -> &mut [u8] {
    // SAFETY: `Plain` guarantees any bytes written leave a valid `T`; the borrow is exclusive.
    unsafe { core::slice::from_raw_parts_mut(v as *mut T as *mut u8, core::mem::size_of::<T>()) }
}

/// Copies runs of fields of the NS granule `pa` into `value` (ERROR_INPUT if they do not fit
/// it). The granule is checked once.
pub fn read_map<T: Plain>(
    ns: &dyn NsMemory,
    granules: &GranuleTable,
    pa: u64,
    value: &mut T,
    runs: NsRuns<'_>,
) -> Result<(), RmiError> {
    const { assert!(core::mem::align_of::<T>() >= DOUBLEWORD) };
    check(granules, pa, 0, GRANULE_SIZE)?;
    if ns.copy_in_runs(pa, bytes_mut(value), runs) {
        Ok(())
    } else {
        Err(INPUT)
    }
}

/// Copies runs of fields of `value` into the NS granule `pa` (ERROR_INPUT if they do not fit
/// it). The granule is checked once.
pub fn write_map<T: Plain>(
    ns: &dyn NsMemory,
    granules: &GranuleTable,
    pa: u64,
    value: &T,
    runs: NsRuns<'_>,
) -> Result<(), RmiError> {
    const { assert!(core::mem::align_of::<T>() >= DOUBLEWORD) };
    check(granules, pa, 0, GRANULE_SIZE)?;
    if ns.copy_out_runs(pa, bytes(value), runs) {
        Ok(())
    } else {
        Err(INPUT)
    }
}

/// Reads a whole NS granule (e.g. the source of RMI_DATA_CREATE) into `dst`, wherever it is: a
/// destination that is not doubleword-aligned is filled through an aligned buffer.
pub fn read_granule(
    ns: &dyn NsMemory,
    granules: &GranuleTable,
    pa: u64,
    dst: &mut [u8; GRANULE_SIZE],
) -> Result<(), RmiError> {
    check(granules, pa, 0, GRANULE_SIZE)?;
    if (dst.as_ptr() as usize).is_multiple_of(DOUBLEWORD) {
        return if ns.copy_in(pa, dst) {
            Ok(())
        } else {
            Err(INPUT)
        };
    }
    let mut buf = NsBuffer::ZERO;
    if !ns.copy_in(pa, &mut buf.0) {
        return Err(INPUT);
    }
    dst.copy_from_slice(&buf.0);
    Ok(())
}

#[cfg(test)]
mod tests;
