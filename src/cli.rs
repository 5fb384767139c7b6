//! The command line: subcommands and the connection options they share.
//! Precedence: flag > environment variable > config file (`--remote`,
//! see `config.rs`) > default.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};

use cmisfs::cmis::{Auth, BindingChoice, ConnectOptions, HttpOptions};

#[derive(Debug, Parser)]
#[command(
    name = "cmisfs",
    version,
    about = "A CMIS content repository as an ordinary drive"
)]
pub struct Cli {
    /// Log filter (e.g. `info`, `cmisfs=debug`); also RUST_LOG.
    #[arg(long, global = true, env = "CMISFS_LOG")]
    pub log: Option<String>,

    /// Config file with named remotes (default:
    /// ~/.config/cmisfs/config.toml); used with --remote.
    #[arg(long, global = true, env = "CMISFS_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Connect to a CMIS server and print its binding, repositories and
    /// capabilities.
    Probe(ProbeArgs),
    /// Run the embedded CMIS repository server (Browser binding).
    Repo(RepoArgs),
    /// Mount a repository as a directory (FUSE). Without --url: the
    /// embedded repository, data under --data.
    Mount(MountArgs),
    /// Serve a repository over WebDAV (the same VFS as the mount). Without
    /// --url: the embedded repository, data under --data.
    Webdav(WebdavArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DavAuthArg {
    /// No authentication (loopback addresses only).
    None,
    /// HTTP Basic against --webdav-users; one CMIS session for everyone.
    Fixed,
    /// HTTP Basic; each user's credentials open their own CMIS session.
    Passthrough,
}

/// Authentication of the WebDAV endpoint (webdav, mount --webdav).
#[derive(Debug, Args)]
pub struct DavAuthArgs {
    /// How WebDAV users authenticate (default: passthrough with --url,
    /// else fixed with --webdav-users, else none).
    #[arg(long, value_enum, env = "CMISFS_WEBDAV_AUTH")]
    pub webdav_auth: Option<DavAuthArg>,
    /// Users file for --webdav-auth fixed (the `cmisfs repo --users` format;
    /// make lines with `cmisfs repo --hash-password`).
    #[arg(long, env = "CMISFS_WEBDAV_USERS")]
    pub webdav_users: Option<PathBuf>,
    /// A WebDAV LOCK on a document of a versionable type checks it out in
    /// the repository (seen by every CMIS user); writes under the lock go
    /// into the working copy; UNLOCK (or the lock's expiry) checks it in
    /// when something was written, else cancels the checkout. On by
    /// default; `--webdav-lock-checkout=false` or
    /// `--no-webdav-lock-checkout`: locks are the gateway's own only.
    #[arg(
        long,
        num_args = 0..=1,
        default_value_t = true,
        default_missing_value = "true",
        require_equals = true,
        action = clap::ArgAction::Set,
        value_name = "BOOL"
    )]
    webdav_lock_checkout: bool,
    #[arg(long, conflicts_with = "webdav_lock_checkout", hide = true)]
    no_webdav_lock_checkout: bool,
}

impl DavAuthArgs {
    /// Whether LOCK on a document is a CMIS checkout.
    pub fn lock_checkout(&self) -> bool {
        self.webdav_lock_checkout && !self.no_webdav_lock_checkout
    }
}

#[derive(Debug, Args)]
pub struct WebdavArgs {
    /// Address to listen on (a non-loopback address needs authentication).
    #[arg(long, default_value = "127.0.0.1:8081", env = "CMISFS_WEBDAV_LISTEN")]
    pub listen: std::net::SocketAddr,
    #[command(flatten)]
    pub auth: DavAuthArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub vfs: VfsArgs,
}

/// The VFS options `mount` and `webdav` share: where data and cache live
/// and how writes reach the repository.
#[derive(Debug, Args)]
pub struct VfsArgs {
    /// Without --url: the embedded repository's data directory (default:
    /// the user's data dir, e.g. ~/.local/share/cmisfs/repo).
    #[arg(long, env = "CMISFS_REPO_DATA")]
    pub data: Option<PathBuf>,
    /// Local cache: content, files waiting for upload, the journal, WebDAV
    /// locks and properties (default: under ~/.cache/cmisfs/, one per
    /// repository and mountpoint or listen address).
    #[arg(long, env = "CMISFS_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Bound of the content cache (e.g. 512M, 10G).
    #[arg(long, default_value = "1G", value_parser = parse_size)]
    pub cache_size: u64,
    /// Upload a written file this long after its last close (e.g. 2s, 500ms).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub write_back_delay: Duration,
    /// How stale listings and attributes may get: they are re-read after
    /// this, or (where the repository has a change log, polled every 2s)
    /// when the log says they changed.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub metadata_ttl: Duration,
    /// Read-only: nothing is written to the repository.
    #[arg(long)]
    pub read_only: bool,
    /// Upload files bigger than this in pieces of this size (e.g. 64M):
    /// the first with the usual request, the rest with
    /// appendContentStream, for servers or proxies that limit the size of
    /// a request. Default: one streamed request per upload.
    #[arg(long, value_parser = parse_size)]
    pub upload_chunk_size: Option<u64>,
    /// Saves to versionable documents make major versions (default minor).
    #[arg(long)]
    pub major_versions: bool,
    /// File name patterns (`*`, `?`) kept local only, never uploaded,
    /// comma-separated; replaces the default list of desktop temp and lock
    /// files
    /// (`.~lock.*#,~$*,*.swp,.*.swx,4913,.DS_Store,._*,.goutputstream-*,*~,lu*.tmp,*___jb_tmp___,*___jb_old___,~*.tmp,#*#`).
    /// An empty value uploads everything.
    #[arg(long, value_delimiter = ',')]
    pub local_only: Option<Vec<String>>,
}

#[derive(Debug, Args)]
pub struct MountArgs {
    /// Where to mount (an existing, empty directory).
    pub mountpoint: PathBuf,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub vfs: VfsArgs,
    /// Mount options: allow_other, allow_root, ro, nonempty (mount over a
    /// directory that has files), ... (comma-separated).
    #[arg(short = 'o', value_delimiter = ',')]
    pub options: Vec<String>,
    /// Return once the mount is ready and keep serving in the background.
    #[arg(long)]
    pub daemon: bool,
    /// Also serve the same VFS over WebDAV on this address.
    #[arg(long, env = "CMISFS_WEBDAV_LISTEN")]
    pub webdav: Option<std::net::SocketAddr>,
    #[command(flatten)]
    pub webdav_auth: DavAuthArgs,
}

/// `512K`, `100M`, `10G`, `1T` or plain bytes (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mul) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let unit = s[i..].to_ascii_uppercase();
            let mul = match unit.trim_end_matches("IB").trim_end_matches('B') {
                "" => 1u64,
                "K" => 1 << 10,
                "M" => 1 << 20,
                "G" => 1 << 30,
                "T" => 1 << 40,
                _ => return Err(format!("unknown size unit in '{s}'")),
            };
            (&s[..i], mul)
        }
        None => (s, 1),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a size"))?;
    Ok((n * mul as f64) as u64)
}

/// `2s`, `500ms`, `1m`, `1h` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .char_indices()
        .find(|(_, c)| c.is_ascii_alphabetic())
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let n: f64 = s[..split]
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration"))?;
    let secs = match &s[split..] {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        u => return Err(format!("unknown duration unit '{u}'")),
    };
    if !(0.0..1e9).contains(&secs) {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct RepoArgs {
    /// Directory for the repository's data (created if missing).
    #[arg(
        long,
        env = "CMISFS_REPO_DATA",
        required_unless_present = "hash_password"
    )]
    pub data: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "CMISFS_REPO_LISTEN")]
    pub listen: std::net::SocketAddr,
    /// Users file: one `user:pbkdf2-sha256:ITERATIONS:SALT:HASH` per line
    /// (`#` comments; make the part after `user:` with --hash-password).
    /// The user `admin` is the administrator. Without a file: one user
    /// admin/admin, and loopback only.
    #[arg(long, env = "CMISFS_REPO_USERS")]
    pub users: Option<PathBuf>,
    /// Read a password from stdin, print its users-file hash and exit.
    #[arg(long)]
    pub hash_password: bool,
    /// Allow fault injection (loopback only): enables the /admin/faults and
    /// /admin/tamper endpoints, for tests.
    #[arg(long)]
    pub faults: bool,
    /// With --faults: milliseconds added to every request.
    #[arg(long, default_value_t = 0, requires = "faults")]
    pub fault_latency_ms: u64,
    /// With --faults: fraction (0..1) of requests answered 503.
    #[arg(long, default_value_t = 0.0, requires = "faults")]
    pub fault_error_rate: f64,
    /// With --faults: fraction (0..1) of downloads cut off mid-body.
    #[arg(long, default_value_t = 0.0, requires = "faults")]
    pub fault_drop_rate: f64,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum BindingArg {
    /// Browser binding first, then AtomPub.
    #[default]
    Auto,
    Browser,
    Atompub,
}

/// How to reach a CMIS server.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Take the options not given here from `[remotes.NAME]` of the config
    /// file (keys: these long options, e.g. url, user, password_file,
    /// cache_size).
    #[arg(long, env = "CMISFS_REMOTE")]
    pub remote: Option<String>,
    /// Service URL: the Browser binding URL or the AtomPub service document.
    #[arg(long, env = "CMISFS_URL")]
    pub url: Option<String>,
    /// Which binding to speak.
    #[arg(long, value_enum, default_value_t = BindingArg::Auto, env = "CMISFS_BINDING")]
    pub binding: BindingArg,
    /// Repository id (needed when the server has several).
    #[arg(long, env = "CMISFS_REPOSITORY")]
    pub repository: Option<String>,
    /// User name for HTTP Basic authentication.
    #[arg(long, env = "CMISFS_USER")]
    pub user: Option<String>,
    /// File whose first line is the password (or set CMISFS_PASSWORD).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// File whose first line is a bearer token (or set CMISFS_TOKEN).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Extra CA certificate(s), PEM, to trust besides the system roots.
    #[arg(long, env = "CMISFS_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Do not verify the server's TLS certificate (unsafe).
    #[arg(long)]
    pub insecure: bool,
    /// Seconds to wait for the server before a request fails.
    #[arg(long, default_value_t = 60, env = "CMISFS_TIMEOUT")]
    pub timeout: u64,
}

impl ConnectArgs {
    pub fn to_options(&self) -> anyhow::Result<ConnectOptions> {
        let auth = self.auth()?;
        let Some(url) = self.url.clone() else {
            bail!("give the server's URL with --url (or CMISFS_URL, or url in a --remote)");
        };
        Ok(ConnectOptions {
            url,
            binding: match self.binding {
                BindingArg::Auto => BindingChoice::Auto,
                BindingArg::Browser => BindingChoice::Browser,
                BindingArg::Atompub => BindingChoice::AtomPub,
            },
            repository: self.repository.clone(),
            http: HttpOptions {
                auth,
                ca_file: self.ca_file.clone(),
                insecure: self.insecure,
                connect_timeout: Duration::from_secs(self.timeout.clamp(1, 30)),
                timeout: Duration::from_secs(self.timeout.max(1)),
            },
        })
    }

    fn auth(&self) -> anyhow::Result<Auth> {
        let token = match &self.token_file {
            Some(path) => Some(read_secret(path)?),
            None => std::env::var("CMISFS_TOKEN").ok().filter(|t| !t.is_empty()),
        };
        if let Some(token) = token {
            if self.user.is_some() {
                bail!("give either --user (HTTP Basic) or a token, not both");
            }
            return Ok(Auth::Bearer { token });
        }
        let Some(user) = self.user.clone() else {
            return Ok(Auth::None);
        };
        let password = match &self.password_file {
            Some(path) => read_secret(path)?,
            None => match std::env::var("CMISFS_PASSWORD") {
                Ok(p) => p,
                Err(_) => bail!(
                    "no password for user '{user}': give --password-file FILE or set CMISFS_PASSWORD"
                ),
            },
        };
        Ok(Auth::Basic { user, password })
    }
}

/// The first line of a secret file, without its line ending.
fn read_secret(path: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read secret file {}", path.display()))?;
    Ok(text.lines().next().unwrap_or("").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_checkout(args: &[&str]) -> Option<bool> {
        let cli = Cli::try_parse_from(["cmisfs", "webdav"].iter().chain(args)).ok()?;
        match cli.command {
            Command::Webdav(w) => Some(w.auth.lock_checkout()),
            _ => None,
        }
    }

    /// The help text names the VFS's default list exactly.
    #[test]
    fn local_only_help_lists_the_defaults() {
        use clap::CommandFactory;
        let mut cmd = Cli::command();
        let mount = cmd.find_subcommand_mut("mount").expect("mount");
        let help = mount.render_long_help().to_string();
        let list = cmisfs::vfs::DEFAULT_LOCAL_ONLY.join(",");
        assert!(help.contains(&format!("(`{list}`)")), "{help}");
    }

    #[test]
    fn lock_checkout_is_on_by_default_and_can_be_turned_off() {
        assert_eq!(lock_checkout(&[]), Some(true));
        assert_eq!(lock_checkout(&["--webdav-lock-checkout"]), Some(true));
        assert_eq!(lock_checkout(&["--webdav-lock-checkout=true"]), Some(true));
        assert_eq!(
            lock_checkout(&["--webdav-lock-checkout=false"]),
            Some(false)
        );
        assert_eq!(lock_checkout(&["--no-webdav-lock-checkout"]), Some(false));
        // A bare flag does not swallow the next argument.
        assert_eq!(
            lock_checkout(&["--webdav-lock-checkout", "--listen", "127.0.0.1:9"]),
            Some(true)
        );
    }
}
