//! Shared pieces of the fuzz targets: the RMI reference model and its harness, the same source
//! files the property test `rmm/tests/rmi_model.rs` runs (included here, not copied).

#![allow(dead_code, missing_docs, clippy::all)]

#[path = "../../rmm/tests/rmi_model/abi.rs"]
pub mod abi;
#[path = "../../rmm/tests/rmi_model/gen.rs"]
pub mod gen;
#[path = "../../rmm/tests/rmi_model/harness.rs"]
pub mod harness;
#[path = "../../rmm/tests/rmi_model/model.rs"]
pub mod model;
#[path = "../../rmm/tests/rmi_model/ops.rs"]
pub mod ops;
