//! No upload or download holds a whole document in memory: 200 MiB up and
//! down over the Browser binding of OpenCMIS InMemory, in bounded memory
//! (see memory_common). Its own test binary, so that nothing else runs in
//! the process while it is measured.
mod common;
mod memory_common;

#[tokio::test]
async fn two_hundred_mib_up_and_down_in_bounded_memory() {
    memory_common::round_trip_in_bounded_memory(common::opencmis("browser").await).await;
}
