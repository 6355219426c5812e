//! `uniffi-bindgen generate --library target/debug/libstreamrelay.so ...`:
//! UniFFI's generator at exactly the version the ffi crate links.

fn main() {
    uniffi::uniffi_bindgen_main()
}
