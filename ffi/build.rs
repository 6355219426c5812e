//! Regenerates the C header from this crate's C ABI (cbindgen used as a
//! library, pinned in Cargo.toml; settings in `cbindgen.toml`, a link to the
//! workspace's).
//!
//! - Always into `$OUT_DIR/include/streamrelay.h`.
//! - In the repository (the workspace's `include/` and `cbindgen.toml` are
//!   beside this crate) also into `../include/streamrelay.h`, the committed
//!   header; the file is only rewritten when its content changes, and CI
//!   checks that the committed header is fresh.
//!
//! A build of the published package (cargo publish's verification, or a
//! user's build from the registry) writes only into `OUT_DIR`: a build script
//! must not modify its package's sources. The package ships the committed
//! header as `include/streamrelay.h`.
//!
//! cbindgen reads `src/lib.rs` and the modules it declares (`with_src`), not
//! the crate through `cargo metadata` (`with_crate`): the header is the same
//! (the settings say `parse_deps = false`), and a build from the package
//! needs neither the registry index nor the workspace's unpublished crates.

use std::path::{Path, PathBuf};

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    println!("cargo::rerun-if-changed=src");
    println!("cargo::rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable and valid");
    let bindings = cbindgen::Builder::new()
        .with_src(crate_dir.join("src/lib.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen parses the C ABI");
    bindings.write_to_file(out_dir.join("include/streamrelay.h"));
    let root = crate_dir.join("..");
    if in_repository(&root) {
        bindings.write_to_file(root.join("include/streamrelay.h"));
    }
}

/// The crate is built from the repository (not from a package): the
/// workspace's cbindgen settings and include directory are its neighbours.
fn in_repository(root: &Path) -> bool {
    root.join("cbindgen.toml").is_file()
        && root.join("include").is_dir()
        && root.join("ffi/build.rs").is_file()
}
