//! cmisfs: a CMIS content repository as an ordinary drive.
//!
//! Layers, top to bottom (see docs/architecture.md):
//! - `cmis`: the protocol client (Browser and AtomPub bindings);
//! - `repo`: the embedded CMIS repository server (depends on `cmis::model`
//!   and `cmis::error` only).

pub mod cmis;
pub mod fuse;
pub mod repo;
pub mod vfs;
pub mod webdav;
