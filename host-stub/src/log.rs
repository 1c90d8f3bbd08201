//! The library's log: `defmt` in the image, nothing on the build machine.
//!
//! It owns the three macros the scenarios log with ([`info`], [`warn`], [`error`]). In the
//! aarch64 image they are `defmt`'s (the frames go through the image's logger, decoded by the
//! runner against the ELF); in host builds they evaluate nothing but a reference to each
//! argument, so the logic around them compiles, is linted and is tested without a logger. They
//! must not do anything else: no buffering, no state, nothing a scenario's verdict depends on.

/// An info line (`defmt::info!` in the image).
#[cfg(target_os = "none")]
macro_rules! info {
    ($($t:tt)*) => { defmt::info!($($t)*) };
}
/// A warning (`defmt::warn!` in the image).
#[cfg(target_os = "none")]
macro_rules! warn_ {
    ($($t:tt)*) => { defmt::warn!($($t)*) };
}
/// An error line (`defmt::error!` in the image).
#[cfg(target_os = "none")]
macro_rules! error {
    ($($t:tt)*) => { defmt::error!($($t)*) };
}

/// An info line (`defmt::info!` in the image; here only the arguments are referenced).
#[cfg(not(target_os = "none"))]
macro_rules! info {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{ $( let _ = &$arg; )* }};
}
/// A warning (`defmt::warn!` in the image; here only the arguments are referenced).
#[cfg(not(target_os = "none"))]
macro_rules! warn_ {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{ $( let _ = &$arg; )* }};
}
/// An error line (`defmt::error!` in the image; here only the arguments are referenced).
#[cfg(not(target_os = "none"))]
macro_rules! error {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{ $( let _ = &$arg; )* }};
}

pub(crate) use {error, info, warn_ as warn};
