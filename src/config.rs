//! The config file: named remotes, so that `cmisfs mount /mnt/docs
//! --remote company` replaces a line of connection and cache options.
//!
//! ```toml
//! # ~/.config/cmisfs/config.toml (or --config FILE, or CMISFS_CONFIG)
//! [remotes.company]
//! url = "https://dms.example.com/cmis/browser"
//! user = "backup"
//! password_file = "/etc/cmisfs/company.password"
//! cache_size = "20G"
//! read_only = true
//! ```
//!
//! A remote's keys are the long options of `probe`, `mount` and `webdav`
//! (`cache_size` or `cache-size`). Precedence: flag > environment
//! variable > config file > default. The values go through the same
//! parsers as the flags: each key whose option was not given on the
//! command line or in the environment becomes `--key=value` and the
//! command line is parsed again. A key that is an option of another of
//! those subcommands (`listen` for `mount`) is skipped; any other key is
//! an error. Passwords and tokens are not accepted inline: they belong in
//! `password_file` / `token_file`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::parser::ValueSource;
use clap::{ArgAction, CommandFactory, FromArgMatches};

use crate::cli::Cli;

/// Subcommands a remote applies to.
const REMOTE_COMMANDS: &[&str] = &["probe", "mount", "webdav"];

/// The default config file: `$XDG_CONFIG_HOME/cmisfs/config.toml`, else
/// `~/.config/cmisfs/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("cmisfs").join("config.toml"))
}

/// Parses the command line, filling in the options of `--remote NAME`
/// from the config file. Usage errors (and --help, --version) exit here,
/// as clap does; config file errors are returned.
pub fn parse(argv: Vec<OsString>) -> anyhow::Result<Cli> {
    let matches = Cli::command()
        .try_get_matches_from(&argv)
        .unwrap_or_else(|e| e.exit());
    let Some((sub, sub_matches)) = matches.subcommand() else {
        return Ok(Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()));
    };
    let remote = sub_matches
        .try_get_one::<String>("remote")
        .ok()
        .flatten()
        .cloned();
    let Some(remote) = remote else {
        return Ok(Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()));
    };
    let path = match matches.get_one::<PathBuf>("config") {
        Some(p) => p.clone(),
        None => default_path().ok_or_else(|| {
            anyhow!("--remote {remote}: no config file (give --config FILE; HOME is not set)")
        })?,
    };
    let extra = remote_args(&path, &remote, sub, |id| {
        sub_matches.value_source(id).filter(|s| {
            // Given by the user: the config file does not override it.
            matches!(s, ValueSource::CommandLine | ValueSource::EnvVariable)
        })
    })?;
    let mut full = argv;
    let at = full.iter().position(|a| a == "--").unwrap_or(full.len());
    full.splice(at..at, extra);
    let matches = Cli::command().try_get_matches_from(&full).map_err(|e| {
        // clap's message without its "error: " and usage lines.
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default();
        let first = first.strip_prefix("error: ").unwrap_or(first);
        anyhow!(
            "a setting of remote '{remote}' in {}: {first}",
            path.display()
        )
    })?;
    Cli::from_arg_matches(&matches).map_err(|e| anyhow!("{e}"))
}

/// The `--key=value` arguments remote `name` of the file at `path` adds to
/// subcommand `sub`; `given(id)` says an option was given by the user.
fn remote_args(
    path: &Path,
    name: &str,
    sub: &str,
    given: impl Fn(&str) -> Option<ValueSource>,
) -> anyhow::Result<Vec<OsString>> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "--remote {name}: cannot read the config file {}",
            path.display()
        )
    })?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("the config file {} is not valid TOML", path.display()))?;
    let remotes = match table.get("remotes") {
        Some(toml::Value::Table(t)) => t,
        Some(_) => bail!(
            "{}: 'remotes' must be a table ([remotes.NAME])",
            path.display()
        ),
        None => bail!("{}: no [remotes.{name}] section", path.display()),
    };
    let Some(remote) = remotes.get(name) else {
        let known: Vec<&str> = remotes.keys().map(String::as_str).collect();
        bail!(
            "{}: no remote '{name}' (it has: {})",
            path.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
    };
    let toml::Value::Table(remote) = remote else {
        bail!("{}: remotes.{name} must be a table", path.display());
    };
    let cmd = Cli::command();
    let this = cmd
        .find_subcommand(sub)
        .ok_or_else(|| anyhow!("--remote does not apply to '{sub}'"))?;
    let mut out = Vec::new();
    for (key, value) in remote {
        let long = key.replace('_', "-");
        let here = |c: &clap::Command| {
            c.get_arguments()
                .find(|a| a.get_long() == Some(long.as_str()) && !a.is_hide_set())
                .cloned()
        };
        let Some(arg) = here(this) else {
            let elsewhere = REMOTE_COMMANDS
                .iter()
                .filter_map(|s| cmd.find_subcommand(s))
                .any(|c| here(c).is_some());
            if elsewhere {
                continue;
            }
            if matches!(long.as_str(), "password" | "token") {
                bail!(
                    "{}: remotes.{name}.{key}: secrets are not kept in the config file; put it in a file readable only by you and set {key}_file",
                    path.display()
                );
            }
            bail!(
                "{}: remotes.{name}: unknown setting '{key}' (the settings are the long options of `cmisfs {sub} --help`)",
                path.display()
            );
        };
        if long == "remote" || given(arg.get_id().as_str()).is_some() {
            continue;
        }
        let flag = matches!(arg.get_action(), ArgAction::SetTrue);
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) if flag => {
                if *b {
                    out.push(OsString::from(format!("--{long}")));
                }
                continue;
            }
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s.clone()),
                    other => Err(anyhow!(
                        "{}: remotes.{name}.{key}: a list of strings expected, found a {}",
                        path.display(),
                        other.type_str()
                    )),
                })
                .collect::<anyhow::Result<Vec<_>>>()?
                .join(","),
            other => bail!(
                "{}: remotes.{name}.{key}: a string, number or boolean expected, found a {}",
                path.display(),
                other.type_str()
            ),
        };
        if flag {
            bail!(
                "{}: remotes.{name}.{key}: true or false expected, found '{text}'",
                path.display()
            );
        }
        out.push(OsString::from(format!("--{long}={text}")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;

    fn parse_with(config: &str, args: &[&str]) -> anyhow::Result<Cli> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config).unwrap();
        let mut argv: Vec<OsString> = vec!["cmisfs".into(), "--config".into(), path.into()];
        argv.extend(args.iter().map(OsString::from));
        parse(argv)
    }

    const CONFIG: &str = r#"
[remotes.company]
url = "http://dms.example.com/cmis/browser"
user = "backup"
password_file = "/etc/cmisfs/pw"
cache_size = "20G"
metadata-ttl = "5s"
read_only = true
local_only = ["*.tmp", "~*"]
listen = "127.0.0.1:9999"

[remotes.other]
url = "http://other.example.com/"
"#;

    #[test]
    fn a_remote_fills_the_options_not_given() {
        let cli = parse_with(CONFIG, &["mount", "/mnt/x", "--remote", "company"]).unwrap();
        let Command::Mount(m) = cli.command else {
            panic!("mount expected");
        };
        assert_eq!(
            m.connect.url.as_deref(),
            Some("http://dms.example.com/cmis/browser")
        );
        assert_eq!(m.connect.user.as_deref(), Some("backup"));
        assert_eq!(
            m.connect.password_file.as_deref(),
            Some(Path::new("/etc/cmisfs/pw"))
        );
        assert_eq!(m.vfs.cache_size, 20 << 30);
        assert_eq!(m.vfs.metadata_ttl, std::time::Duration::from_secs(5));
        assert!(m.vfs.read_only);
        assert_eq!(
            m.vfs.local_only,
            Some(vec!["*.tmp".to_string(), "~*".to_string()])
        );
        // `listen` is webdav's: skipped for mount, used by webdav.
        let cli = parse_with(CONFIG, &["webdav", "--remote", "company"]).unwrap();
        let Command::Webdav(w) = cli.command else {
            panic!("webdav expected");
        };
        assert_eq!(w.listen.to_string(), "127.0.0.1:9999");
    }

    #[test]
    fn flags_beat_the_config_file() {
        let cli = parse_with(
            CONFIG,
            &[
                "mount",
                "/mnt/x",
                "--remote",
                "company",
                "--cache-size",
                "1G",
                "--user=alice",
            ],
        )
        .unwrap();
        let Command::Mount(m) = cli.command else {
            panic!("mount expected");
        };
        assert_eq!(m.vfs.cache_size, 1 << 30);
        assert_eq!(m.connect.user.as_deref(), Some("alice"));
        assert_eq!(m.vfs.metadata_ttl, std::time::Duration::from_secs(5));
        // Without --remote the file is not used.
        let cli = parse_with(CONFIG, &["mount", "/mnt/x"]).unwrap();
        let Command::Mount(m) = cli.command else {
            panic!("mount expected");
        };
        assert_eq!(m.connect.url, None);
        assert!(!m.vfs.read_only);
    }

    #[test]
    fn mistakes_in_the_file_are_named() {
        let err = |config: &str, remote: &str| {
            parse_with(config, &["probe", "--remote", remote])
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        let e = err(CONFIG, "nope");
        assert!(
            e.contains("no remote 'nope'") && e.contains("company, other"),
            "{e}"
        );
        let e = err("[remotes.a]\ncache_sise = \"1G\"\n", "a");
        assert!(e.contains("unknown setting 'cache_sise'"), "{e}");
        let e = err("[remotes.a]\npassword = \"hunter2\"\n", "a");
        assert!(e.contains("password_file") && !e.contains("hunter2"), "{e}");
        let e = err("[remotes.a\n", "a");
        assert!(e.contains("not valid TOML"), "{e}");
        let e = err("[remotes.a]\ntimeout = \"soon\"\n", "a");
        assert!(e.contains("remote 'a'") && e.contains("soon"), "{e}");
        assert!(!e.contains('\n') && !e.contains("--help"), "one line: {e}");
        let e = parse_with(
            "[remotes.a]\nread_only = \"yes\"\n",
            &["mount", "/m", "--remote", "a"],
        )
        .map(|_| ())
        .unwrap_err()
        .to_string();
        assert!(e.contains("true or false"), "{e}");
    }
}
