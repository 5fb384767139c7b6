//! The virtual file system: CMIS objects as files and directories, shared
//! by the FUSE mount and the WebDAV endpoint. Being built (issue 4); so far
//! the name mapping and the API's vocabulary (`types`).

pub mod names;
pub mod types;

pub use types::*;
