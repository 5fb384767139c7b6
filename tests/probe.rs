//! `cmisfs probe` as a user runs it: the binary against OpenCMIS InMemory's
//! three endpoints and the embedded repository, and the one-line errors
//! for a wrong port, a URL that is not CMIS, and a wrong password.

use std::process::{Command, Output};

const NO_OPENCMIS: &str = "CMISFS_OPENCMIS_URL is not set: start the server with \
     tests/opencmis-server.sh start (./test.sh does this)";

fn probe(args: &[&str], password: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cmisfs"))
        .arg("probe")
        .args(args)
        .env("CMISFS_PASSWORD", password)
        .env_remove("CMISFS_URL")
        .env_remove("CMISFS_USER")
        .env_remove("CMISFS_TOKEN")
        .output()
        .expect("run cmisfs probe")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Asserts a failed run: exit code 1 and one `cmisfs: error:` line naming
/// `needle` (plus at most a hint line).
fn assert_fails_with(o: &Output, needle: &str) {
    let (out, err) = text(o);
    assert_eq!(o.status.code(), Some(1), "stdout: {out}\nstderr: {err}");
    assert!(out.is_empty(), "nothing on stdout on failure: {out}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        (1..=2).contains(&lines.len()),
        "one error line and an optional hint: {err}"
    );
    assert!(lines[0].starts_with("cmisfs: error: "), "{err}");
    assert!(lines[0].contains(needle), "'{needle}' in: {err}");
}

fn start_embedded(
    rt: &tokio::runtime::Runtime,
    data: &std::path::Path,
) -> cmisfs::repo::RunningRepo {
    rt.block_on(cmisfs::repo::start(cmisfs::repo::RepoConfig {
        data_dir: data.to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        users_file: None,
    }))
    .expect("start the embedded repository")
}

fn opencmis_base() -> String {
    match std::env::var("CMISFS_OPENCMIS_URL") {
        Ok(u) if !u.trim().is_empty() => u.trim().trim_end_matches('/').to_string(),
        _ => panic!("{NO_OPENCMIS}"),
    }
}

#[test]
fn probes_every_opencmis_endpoint() {
    let base = opencmis_base();
    for (endpoint, binding, version) in [
        ("browser", "browser", "1.1"),
        ("atom11", "atompub", "1.1"),
        ("atom", "atompub", "1.0"),
    ] {
        let o = probe(
            &["--url", &format!("{base}/{endpoint}"), "--user", "test"],
            "secret",
        );
        let (out, err) = text(&o);
        assert!(o.status.success(), "{endpoint}: {err}");
        assert!(out.contains(&format!("binding: {binding}\n")), "{out}");
        assert!(out.contains("  repository: A1\n"), "{out}");
        assert!(
            out.contains(&format!("  CMIS version: {version}\n")),
            "{out}"
        );
        assert!(out.contains("  multi-filing: yes\n"), "{out}");
        assert!(out.contains("  content updates: anytime\n"), "{out}");
    }
}

#[test]
fn explicit_binding_on_the_wrong_endpoint_is_a_clear_error() {
    let base = opencmis_base();
    let o = probe(
        &[
            "--url",
            &format!("{base}/atom11"),
            "--binding",
            "browser",
            "--user",
            "test",
        ],
        "secret",
    );
    assert_fails_with(&o, "not a CMIS Browser binding reply");
}

#[test]
fn wrong_port_fails_with_one_line() {
    // A port nothing listens on: bind one, learn its number, free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let o = probe(&["--url", &format!("http://127.0.0.1:{port}/browser")], "");
    assert_fails_with(&o, "cannot connect");
}

#[test]
fn not_a_url_fails_with_one_line() {
    let o = probe(&["--url", "repository.example"], "");
    assert_fails_with(&o, "not an http:// or https:// URL");
}

#[test]
fn embedded_repository_checks_passwords_and_non_cmis_urls() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = start_embedded(&rt, dir.path());
    let url = repo.service_url();

    let o = probe(&["--url", &url, "--user", "admin"], "admin");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("binding: browser\n"), "{out}");
    assert!(
        out.contains(&format!("  repository: {}\n", repo.repository_id)),
        "{out}"
    );

    let o = probe(&["--url", &url, "--user", "admin"], "wrong");
    assert_fails_with(&o, "authentication failed");
    let (_, err) = text(&o);
    assert!(err.contains("cmisfs: hint: check --user"), "{err}");
    assert!(!err.contains("wrong"), "the password never appears: {err}");

    // The server's own root is HTTP but not a CMIS service document.
    let o = probe(
        &[
            "--url",
            &format!("http://{}/", repo.addr),
            "--user",
            "admin",
        ],
        "admin",
    );
    assert_fails_with(&o, "does not speak CMIS");

    rt.block_on(repo.shutdown());
}

/// `--remote NAME` takes the connection from the config file; the
/// environment and flags beat it; a mistake in the file is one line.
#[test]
fn a_named_remote_from_the_config_file_connects() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = start_embedded(&rt, &dir.path().join("data"));
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "admin\n").unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[remotes.here]\nurl = \"{}\"\nuser = \"admin\"\npassword_file = \"{}\"\ntimeout = 5\n",
            repo.service_url(),
            pw.display()
        ),
    )
    .unwrap();
    let run = |args: &[&str], user: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cmisfs"));
        c.arg("probe")
            .arg("--config")
            .arg(&config)
            .args(args)
            .env_remove("CMISFS_URL")
            .env_remove("CMISFS_PASSWORD")
            .env_remove("CMISFS_TOKEN")
            .env_remove("CMISFS_REMOTE");
        match user {
            Some(u) => c.env("CMISFS_USER", u),
            None => c.env_remove("CMISFS_USER"),
        };
        c.output().expect("run cmisfs probe")
    };

    let o = run(&["--remote", "here"], None);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains(&format!("  repository: {}\n", repo.repository_id)),
        "{out}"
    );
    // The environment beats the file: another user, and admin's password
    // from the file no longer matches.
    let o = run(&["--remote", "here"], Some("mallory"));
    assert_fails_with(&o, "authentication failed");
    // So does a flag.
    let o = run(&["--remote", "here", "--url", "http://127.0.0.1:1/"], None);
    assert_fails_with(&o, "127.0.0.1:1");

    let o = run(&["--remote", "there"], None);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        err.starts_with("cmisfs: error: ") && err.contains("no remote 'there' (it has: here)"),
        "{err}"
    );
    rt.block_on(repo.shutdown());
}
