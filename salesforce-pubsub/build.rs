//! Compiles the vendored Pub/Sub API `.proto` (proto/pubsub_api.proto) into Rust with
//! protox, so building needs no system `protoc`: server and client stubs (the client is
//! what the fleet and the tests use; the server is what sfsim serves).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/pubsub_api.proto");
    let descriptors = protox::compile(["proto/pubsub_api.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
