//! tests/memory.rs over the AtomPub binding (CMIS 1.1): the 200 MiB
//! document goes up base64-encoded inside a streamed Atom entry and comes
//! back down from the edit-media link, in bounded memory. Its own test
//! binary, so that nothing else runs in the process while it is measured.
mod common;
mod memory_common;

#[tokio::test]
async fn two_hundred_mib_up_and_down_over_atompub_in_bounded_memory() {
    memory_common::round_trip_in_bounded_memory(common::opencmis("atom11").await).await;
}
