//! Compiles the tributary.v1 protos and writes a descriptor set for reflection.

use std::{env, error::Error, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    // $PROTOC wins (e.g. Debian's protoc); else the vendored one, so nothing
    // needs installing.
    let protoc = match env::var_os("PROTOC") {
        Some(p) => PathBuf::from(p),
        None => protoc_bin_vendored::protoc_bin_path()?,
    };
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc);
    println!("cargo:rerun-if-env-changed=PROTOC");
    // tonic-prost-build 0.14 prints no rerun-if-changed itself; without these
    // lines cargo would silently ignore proto edits.
    let dir = PathBuf::from("proto/tributary/v1");
    let mut protos = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "proto") {
            println!("cargo:rerun-if-changed={}", path.display());
            protos.push(path);
        }
    }
    protos.sort();
    println!("cargo:rerun-if-changed=proto");
    // The provider catalog is embedded by include_dir!, which tells cargo
    // nothing: an edited catalog file must rebuild the crate too.
    println!("cargo:rerun-if-changed=src/connectors/catalog");
    let out = PathBuf::from(env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        // Small per-call buffers (see src/api/codec.rs).
        .codec_path("crate::api::codec::LeanCodec")
        .file_descriptor_set_path(out.join("tributary_descriptor.bin"))
        .compile_with_config(config, &protos, &[PathBuf::from("proto")])?;
    Ok(())
}
