//! Regenerates `include/streamrelay.h` from this crate's C ABI (cbindgen
//! used as a library, pinned in Cargo.toml). The file is only rewritten when
//! its content changes; CI checks that the committed header is fresh.

use std::path::Path;

fn main() {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let root = Path::new(&crate_dir).join("..");
    println!("cargo::rerun-if-changed=src");
    println!("cargo::rerun-if-changed=../cbindgen.toml");
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable and valid");
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen parses the C ABI")
        .write_to_file(root.join("include/streamrelay.h"));
}
