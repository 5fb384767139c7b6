//! The embedded repository never holds a whole document in memory either:
//! the same 200 MiB round trip as `memory.rs`, against `cmisfs repo`
//! running in this very process, so the peak resident set size (VmHWM)
//! counts the client and the server together. Its own test binary, so that
//! nothing else runs in the process while it is measured.
mod common;
mod memory_common;

#[tokio::test]
async fn embedded_repository_two_hundred_mib_in_bounded_memory() {
    memory_common::round_trip_in_bounded_memory(common::embedded().await).await;
}
