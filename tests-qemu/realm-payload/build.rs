//! Links the realm payload at IPA 0 (the realm's first DATA granule).
use std::{env, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=../../linker/realm.ld");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let linker =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("manifest dir")).join("../../linker");
    println!("cargo:rustc-link-search={}", linker.display());
    println!("cargo:rustc-link-arg-bins=-Trealm.ld");
}
