//! The RMM 1.0 (REL0) wire contract, and nothing else.
//!
//! This crate owns every number and every shared memory layout that crosses a boundary between
//! the normal-world host (NS-EL2), the RMM (R-EL2), realms (R-EL1) and EL3 firmware: SMCCC function
//! IDs, RMI/RSI/PSCI status codes, the RMM<->EL3 boot interface and boot manifest, the RMI/RSI
//! parameter blocks and the KVM uAPI shapes the host stub models. It has no dependencies, holds no
//! state, performs no I/O and must never contain policy: the RMM, host stub, realm payload and tests
//! all use these definitions, so there is exactly one of each.
//!
//! Every `#[repr(C)]` struct pins each field to its specification offset with a compile-time
//! assertion ([`assert_layout!`]); a layout drift fails the build, not a test.
#![no_std]
#![forbid(unsafe_code)]

/// Asserts at compile time the size of a `#[repr(C)]` type and the offset of each listed field.
///
/// ```
/// #[repr(C)]
/// struct Pair { a: u32, b: u64 }
/// hostcall_abi::assert_layout!(Pair, size = 16, a = 0, b = 8);
/// ```
#[macro_export]
macro_rules! assert_layout {
    ($ty:ty, size = $size:expr $(, $field:ident = $off:expr)* $(,)?) => {
        const _: () = assert!(::core::mem::size_of::<$ty>() == $size);
        $(const _: () = assert!(::core::mem::offset_of!($ty, $field) == $off);)*
    };
}

pub mod attest;
pub mod el3;
pub mod fieldset;
pub mod host_call;
pub mod kvm;
pub mod payload;
pub mod psci;
pub mod realm_config;
pub mod realm_params;
pub mod rec_params;
pub mod rec_run;
pub mod rmi;
pub mod rsi;
pub mod rtt;
pub mod smccc;
pub mod version;
pub mod wire;

pub use version::AbiVersion;

/// Size of a granule, the unit of memory the RMM tracks and delegates (RMM 1.0 uses 4 KiB).
pub const GRANULE_SIZE: usize = 4096;
/// log2 of [`GRANULE_SIZE`].
pub const GRANULE_SHIFT: u32 = 12;
