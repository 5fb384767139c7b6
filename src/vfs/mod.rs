//! The virtual file system: CMIS objects as files and directories, shared
//! by the FUSE mount and the WebDAV endpoint. Being built (issue 4); so far
//! only the name mapping.

pub mod names;
