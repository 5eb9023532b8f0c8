//! Generated protobuf and gRPC code of the tributary.v1 API.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

tonic::include_proto!("tributary.v1");

/// Descriptor set of every tributary.v1 file, served by reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("tributary_descriptor");
