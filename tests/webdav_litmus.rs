//! litmus (the WebDAV compliance suite, Debian package `litmus`) against
//! the endpoint. Every group (basic, copymove, props, locks, http) must run
//! all of its tests and pass them all: 104 of 104. Fails when litmus is not
//! installed (tests/setup-webdav-tools.sh installs it).

mod common_webdav;

use common_webdav::*;

/// `cmisfs webdav` on the embedded repository: the real VFS.
#[test]
fn litmus_on_the_embedded_repository() {
    require("litmus");
    let server = DavServer::embedded(&[]);
    let out = run_litmus(&server.url);
    assert_litmus_all_passed(&out);
}

/// The adapter alone, over the in-memory backend (tells an adapter bug
/// from a VFS bug).
#[test]
fn litmus_on_the_adapter_over_memory() {
    require("litmus");
    let rt = runtime();
    let server = rt.block_on(serve_memory());
    let out = run_litmus(&server.url());
    rt.block_on(server.shutdown());
    assert_litmus_all_passed(&out);
}
