//! The embedded CMIS repository server (Browser binding, data on disk).
//! STUB: to be implemented.

use std::net::SocketAddr;
use std::path::PathBuf;

/// How to run the embedded repository.
#[derive(Debug, Clone)]
pub struct RepoConfig {
    /// Where the repository keeps its metadata and content.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Users file (`user:password-hash` lines); `None`: one user admin/admin,
    /// loopback only.
    pub users_file: Option<PathBuf>,
}
