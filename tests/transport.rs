//! The HTTP transport against real peers: TLS with a server certificate
//! from a private CA (`openssl s_server`), trusted through `--ca-file`,
//! skipped with `--insecure`, refused by default; and the credentials each
//! auth mode puts on the wire.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cmisfs::cmis::{self, Auth, BindingChoice, CmisError, ConnectOptions, HttpOptions};

/// Kills the server process when the test ends, however it ends.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A private CA and a server certificate for 127.0.0.1 signed by it, made
/// with the openssl CLI (`ca.pem`, `cert.pem`, `key.pem`).
fn make_cert(dir: &Path) {
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl is needed for this test: apt-get install openssl");
        assert!(status.success(), "openssl {args:?} failed");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=cmisfs test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n",
    )
    .expect("write ext.cnf");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
}

/// `openssl s_server -www`: a real TLS server answering any GET with an
/// HTML status page (so: TLS works, but it is not CMIS).
fn tls_server(dir: &Path) -> (ChildGuard, String) {
    let port = free_port();
    let child = Command::new("openssl")
        .args(["s_server", "-www", "-quiet", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(dir.join("cert.pem"))
        .arg("-key")
        .arg(dir.join("key.pem"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_server");
    let guard = ChildGuard(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "openssl s_server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (guard, format!("https://127.0.0.1:{port}/browser"))
}

fn options(url: &str, http: HttpOptions) -> ConnectOptions {
    ConnectOptions {
        url: url.to_string(),
        binding: BindingChoice::Browser,
        repository: None,
        http,
    }
}

#[tokio::test]
async fn tls_is_verified_by_default_and_a_ca_file_or_insecure_gets_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    make_cert(dir.path());
    let (_server, url) = tls_server(dir.path());

    // Default: the self-signed certificate is refused, as a TLS error with
    // a hint that names --ca-file.
    let err = cmis::discover(&options(&url, HttpOptions::default()))
        .await
        .expect_err("an unknown CA must be refused");
    assert!(matches!(err, CmisError::Tls { .. }), "{err:?}");
    assert!(err.hint().is_some_and(|h| h.contains("--ca-file")));

    // Trusting the certificate: the handshake succeeds and the HTML page is
    // then reported as "not CMIS".
    let with_ca = HttpOptions {
        ca_file: Some(dir.path().join("ca.pem")),
        ..HttpOptions::default()
    };
    let err = cmis::discover(&options(&url, with_ca))
        .await
        .expect_err("not CMIS");
    assert!(matches!(err, CmisError::Protocol { .. }), "{err:?}");

    let insecure = HttpOptions {
        insecure: true,
        ..HttpOptions::default()
    };
    let err = cmis::discover(&options(&url, insecure))
        .await
        .expect_err("not CMIS");
    assert!(matches!(err, CmisError::Protocol { .. }), "{err:?}");
}

#[tokio::test]
async fn a_ca_file_that_is_not_pem_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bogus = dir.path().join("ca.pem");
    std::fs::write(&bogus, "not a certificate").expect("write");
    let http = HttpOptions {
        ca_file: Some(bogus),
        ..HttpOptions::default()
    };
    let err = cmis::discover(&options("https://127.0.0.1:1/browser", http))
        .await
        .expect_err("bad CA file");
    assert!(matches!(err, CmisError::Tls { .. }), "{err:?}");
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
    let missing = HttpOptions {
        ca_file: Some(dir.path().join("missing.pem")),
        ..HttpOptions::default()
    };
    let err = cmis::discover(&options("https://127.0.0.1:1/browser", missing))
        .await
        .expect_err("missing CA file");
    assert!(err.to_string().contains("cannot read CA file"), "{err}");
}

/// Accepts one connection, returns its request head, answers 401.
fn capture_one_request(listener: TcpListener) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let mut stream = reader.into_inner();
        let _ = stream.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        let _ = stream.read(&mut [0u8; 1]);
        head
    })
}

#[tokio::test]
async fn bearer_and_basic_credentials_go_on_the_wire_and_401_is_reported() {
    for (auth, expected) in [
        (
            Auth::Bearer {
                token: "t0ken".into(),
            },
            "authorization: bearer t0ken",
        ),
        (
            Auth::Basic {
                user: "alice".into(),
                password: "pw".into(),
            },
            // base64("alice:pw")
            "authorization: basic ywxpy2u6chc=",
        ),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/browser", listener.local_addr().expect("addr"));
        let server = capture_one_request(listener);
        let http = HttpOptions {
            auth,
            ..HttpOptions::default()
        };
        let err = cmis::discover(&options(&url, http)).await.expect_err("401");
        assert!(matches!(err, CmisError::Unauthorized { .. }), "{err:?}");
        let head = server.join().expect("server thread").to_ascii_lowercase();
        assert!(head.contains(expected), "{head}");
    }
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let basic = format!(
        "{:?}",
        Auth::Basic {
            user: "alice".into(),
            password: "hunter2".into()
        }
    );
    let bearer = format!(
        "{:?}",
        Auth::Bearer {
            token: "t0ken".into()
        }
    );
    assert!(
        basic.contains("alice") && !basic.contains("hunter2"),
        "{basic}"
    );
    assert!(!bearer.contains("t0ken"), "{bearer}");
}

/// A CMIS Browser binding endpoint that fails every request with the
/// binding's own error JSON (HTTP 503, exception "runtime"): auto-detection
/// reports that failure instead of "does not speak CMIS", and `connect`
/// tries again a few times before giving up.
#[tokio::test]
async fn a_failing_cmis_server_is_retried_and_not_taken_for_a_non_cmis_one() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/browser", listener.local_addr().expect("addr"));
    let server = std::thread::spawn(move || {
        let mut requests = 0;
        listener.set_nonblocking(true).expect("nonblocking");
        // connect's retries take about 4 s; count what arrives in 8.
        let deadline = Instant::now() + Duration::from_secs(8);
        while Instant::now() < deadline {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            stream.set_nonblocking(false).expect("blocking");
            let mut reader = BufReader::new(stream);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            requests += 1;
            let body = r#"{"exception":"runtime","message":"busy, try later"}"#;
            let _ = reader.into_inner().write_all(
                format!(
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
        requests
    });
    let auto = ConnectOptions {
        url: url.clone(),
        binding: BindingChoice::Auto,
        repository: None,
        http: HttpOptions::default(),
    };
    let err = cmis::discover(&auto).await.expect_err("always fails");
    assert!(matches!(err, CmisError::Runtime(_)), "{err:?}");
    let err = match cmis::connect(&auto).await {
        Ok(_) => panic!("connect cannot succeed"),
        Err(e) => e,
    };
    assert!(matches!(err, CmisError::Runtime(_)), "{err:?}");
    // 1 discover + 5 connect attempts.
    let seen = server.join().expect("server thread");
    assert!(seen >= 6, "connect retried: {seen} requests");
}
