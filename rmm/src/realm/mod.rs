//! Realms: creation parameters and the realm descriptor.
