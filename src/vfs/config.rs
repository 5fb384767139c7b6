//! How the VFS behaves ([`VfsConfig`]) and which names stay local.

use std::path::PathBuf;
use std::time::Duration;

/// Default desktop temp/lock file patterns: never uploaded.
pub const DEFAULT_LOCAL_ONLY: &[&str] = &[
    ".~lock.*#",
    "~$*",
    "*.swp",
    ".*.swx",
    "4913",
    ".DS_Store",
    "._*",
    ".goutputstream-*",
    "*~",
    // LibreOffice's save: writes and fsyncs luNNNNxXXXX.tmp beside the
    // document, then renames it over the document.
    "lu*.tmp",
    // JetBrains IDEs' safe write: the document goes to NAME___jb_old___,
    // NAME___jb_tmp___ comes to NAME (a save into the same document).
    "*___jb_tmp___",
    "*___jb_old___",
    // Microsoft Office's temp files (~WRL0001.tmp...), Emacs' auto-saves.
    "~*.tmp",
    "#*#",
];

/// How the VFS behaves.
#[derive(Debug, Clone)]
pub struct VfsConfig {
    /// Local cache: content, dirty files and the journal (mode 0700).
    pub cache_dir: PathBuf,
    /// Bound of the clean content cache, in bytes.
    pub cache_size: u64,
    /// Upload this long after the last close of a written file.
    pub write_back_delay: Duration,
    /// How long attributes and listings are trusted.
    pub metadata_ttl: Duration,
    /// How long a missing name is remembered.
    pub negative_ttl: Duration,
    /// Longest wait for a metadata request before EIO.
    pub request_timeout: Duration,
    pub read_only: bool,
    /// checkIn as major versions.
    pub major_versions: bool,
    /// File name patterns (`*`, `?`) kept local only.
    pub local_only: Vec<String>,
    /// Upload files bigger than this in pieces of this size: the first
    /// with the usual request, the rest with appendContentStream (for
    /// servers or proxies that limit the size of a request). `None`: one
    /// request per upload, streamed.
    pub upload_chunk_size: Option<u64>,
    /// Writers wait while more than this many bytes await upload.
    pub max_dirty_bytes: u64,
    /// The user we connect as (to tell our checkouts from others').
    pub user: Option<String>,
    pub uid: u32,
    pub gid: u32,
    /// Poll the change log this often (where the repository has one); if
    /// this is not longer than `metadata_ttl`, cached metadata is trusted
    /// beyond its TTL while the poll is healthy.
    pub change_poll: Duration,
    /// An inode nobody holds (no kernel lookup, no local state) is dropped
    /// once unused this long; a later lookup makes a new one.
    pub forget_grace: Duration,
    /// Bound of the directory listings kept (entries in all listings);
    /// the least recently used go first.
    pub max_listed_entries: usize,
}

impl VfsConfig {
    pub fn new(cache_dir: PathBuf) -> VfsConfig {
        let (uid, gid) = current_ids();
        VfsConfig {
            cache_dir,
            cache_size: 1 << 30,
            write_back_delay: Duration::from_secs(2),
            metadata_ttl: Duration::from_secs(2),
            negative_ttl: Duration::from_secs(2),
            request_timeout: Duration::from_secs(30),
            read_only: false,
            major_versions: false,
            local_only: DEFAULT_LOCAL_ONLY.iter().map(|s| s.to_string()).collect(),
            upload_chunk_size: None,
            max_dirty_bytes: 2 << 30,
            user: None,
            uid,
            gid,
            change_poll: Duration::from_secs(2),
            forget_grace: Duration::from_secs(30),
            max_listed_entries: 20_000,
        }
    }
}

/// The uid and gid of this process (owner of every file).
pub fn current_ids() -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| (m.uid(), m.gid()))
        .unwrap_or((0, 0))
}

/// `*` and `?` glob match on whole names.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    fn m(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|i| m(&p[1..], &n[i..])),
            Some('?') => !n.is_empty() && m(&p[1..], &n[1..]),
            Some(c) => n.first() == Some(c) && m(&p[1..], &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    m(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(".~lock.*#", ".~lock.report.odt#"));
        assert!(glob_match("*.swp", ".x.swp"));
        assert!(glob_match("*~", "file~"));
        assert!(!glob_match("*~", "file"));
        assert!(glob_match("4913", "4913"));
        assert!(glob_match("._*", "._x"));
        assert!(!glob_match("._*", "x._"));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("*___jb_tmp___", "Main.kt___jb_tmp___"));
        assert!(glob_match("#*#", "#notes.org#"));
        assert!(!glob_match("#*#", "#1 report.txt"));
    }
}
