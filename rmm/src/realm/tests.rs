//! Host tests of the realm parameter checks: one test per failure condition (each from a
//! valid baseline with exactly one thing changed), the fixed order between conditions, valid
//! baselines, and sweeps that must never panic.

mod realm_create;
