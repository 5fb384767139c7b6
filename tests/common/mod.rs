//! Shared set-up of the integration tests: the servers under test
//! ("targets"), a fresh folder per test case, and small helpers.
//!
//! A [`Target`] is one way to reach one repository (a server and a
//! binding) plus what the contract suite must know about that server's
//! documented deviations ([`Quirks`]). A test never passes vacuously: a
//! target whose server is not configured panics with what to do.
#![allow(dead_code)] // each test binary uses a different part of this

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cmisfs::cmis::{
    self, prop, Auth, Binding, BindingChoice, BindingKind, CmisError, CmisObject, ConnectOptions,
    ContentUpload, HttpOptions, Properties, RepositoryInfo, UnfileObjects,
};

/// Server behaviour the contract suite accounts for, each documented where
/// it is set. Default: the spec's behaviour.
#[derive(Debug, Clone, Default)]
pub struct Quirks {
    /// Misuse of versioning (checkIn or setContentStream on a checked-in
    /// document of a versionable type) is reported as `updateConflict`,
    /// never as `versioning`.
    pub versioning_as_update_conflict: bool,
    /// getContentChanges answers a fixed, made-up list and never our
    /// changes.
    pub dummy_change_log: bool,
    /// Characters the repository refuses in cmis:name (besides `/`).
    pub refused_name_chars: &'static str,
}

/// One repository reached over one binding.
pub struct Target {
    pub label: String,
    pub binding: Arc<dyn Binding>,
    pub info: RepositoryInfo,
    /// How the target was reached (the `connect` case reuses it with
    /// `BindingChoice::Auto`).
    pub options: ConnectOptions,
    /// The binding `Auto` must find on `options.url`.
    pub expected_kind: BindingKind,
    /// A document type whose objects can be checked out.
    pub versionable_type: String,
    /// A document type with writable custom properties of many types
    /// (`None`: only cmis:description is exercised).
    pub typed_document_type: Option<String>,
    pub quirks: Quirks,
}

const NO_OPENCMIS: &str = "CMISFS_OPENCMIS_URL is not set: start the server with \
     tests/opencmis-server.sh start (./test.sh does this)";

/// The OpenCMIS InMemory server (tests/opencmis-server.sh) over one of its
/// endpoints: `browser`, `atom11` (AtomPub, CMIS 1.1) or `atom` (1.0).
pub async fn opencmis(endpoint: &str) -> Target {
    let base = match std::env::var("CMISFS_OPENCMIS_URL") {
        Ok(u) if !u.trim().is_empty() => u.trim().trim_end_matches('/').to_string(),
        _ => panic!("{NO_OPENCMIS}"),
    };
    let (choice, kind) = match endpoint {
        "browser" => (BindingChoice::Browser, BindingKind::Browser),
        "atom11" | "atom" => (BindingChoice::AtomPub, BindingKind::AtomPub),
        other => panic!("unknown OpenCMIS endpoint {other}"),
    };
    let options = ConnectOptions {
        url: format!("{base}/{endpoint}"),
        binding: choice,
        repository: Some("A1".into()),
        http: HttpOptions {
            // OpenCMIS InMemory accepts any password; checkouts belong to
            // the user, so it is always the same one.
            auth: Auth::Basic {
                user: "test".into(),
                password: "test".into(),
            },
            timeout: Duration::from_secs(120),
            ..HttpOptions::default()
        },
    };
    let binding = cmis::connect(&options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to OpenCMIS at {}: {e}", options.url));
    let info = binding
        .repository_info()
        .await
        .unwrap_or_else(|e| panic!("repository info of {}: {e}", options.url));
    Target {
        label: format!("opencmis-{endpoint}"),
        binding,
        info,
        options,
        expected_kind: kind,
        // `cmis:document` is not versionable there.
        versionable_type: "VersionableType".into(),
        // Sample type of InMemory: one single and one multi-valued property
        // of every type.
        typed_document_type: Some("ComplexType".into()),
        quirks: Quirks {
            // Its sources (server-inmemory 1.1.0) never throw
            // CmisVersioningException; "not checked out" is an
            // updateConflict.
            versioning_as_update_conflict: true,
            // InMemoryDiscoveryServiceImpl.getContentChanges: "dummy
            // implementation using hard coded values", 25 deleted events
            // cl-0..cl-24, although capabilityChanges says objectidsonly.
            dummy_change_log: true,
            // NameValidator.isValidName refuses \ / " : * ? < > |
            refused_name_chars: "\\\":*?<>|",
        },
    }
}

/// A name no other test run or case uses.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{nanos:x}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A test case's own folder under the root; [`Fixture::finish`] deletes it.
pub struct Fixture {
    pub binding: Arc<dyn Binding>,
    pub folder: CmisObject,
    pub path: String,
}

impl Fixture {
    pub async fn new(target: &Target, case: &str) -> Fixture {
        let name = unique(&format!("ct-{case}"));
        let folder = target
            .binding
            .create_folder(&target.info.root_folder_id, &folder_props(&name))
            .await
            .unwrap_or_else(|e| panic!("creating the case folder {name}: {e}"));
        Fixture {
            binding: target.binding.clone(),
            path: format!("/{name}"),
            folder,
        }
    }

    pub fn id(&self) -> &str {
        self.folder.id()
    }

    /// Deletes the case folder and everything in it.
    pub async fn finish(self) {
        let failed = self
            .binding
            .delete_tree(self.folder.id(), true, UnfileObjects::Delete, true)
            .await
            .unwrap_or_else(|e| panic!("deleteTree of {}: {e}", self.path));
        assert!(failed.is_empty(), "deleteTree left {failed:?}");
    }
}

pub fn folder_props(name: &str) -> Properties {
    Properties::new()
        .with_string(prop::NAME, name)
        .with_id(prop::OBJECT_TYPE_ID, "cmis:folder")
}

pub fn doc_props(name: &str, type_id: &str) -> Properties {
    Properties::new()
        .with_string(prop::NAME, name)
        .with_id(prop::OBJECT_TYPE_ID, type_id)
}

/// Content from memory.
pub fn upload(name: &str, data: impl Into<Bytes>) -> ContentUpload {
    ContentUpload::from_bytes(name, "application/octet-stream", data)
}

/// Deterministic bytes that differ with position and seed (so that an
/// offset error shows).
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u64).wrapping_mul(31).wrapping_add(i as u64 >> 8) as u8) ^ seed)
        .collect()
}

/// Creates a document with content in `folder_id`.
pub async fn create_doc(b: &dyn Binding, folder_id: &str, name: &str, data: &[u8]) -> CmisObject {
    b.create_document(
        Some(folder_id),
        &doc_props(name, "cmis:document"),
        Some(upload(name, data.to_vec())),
        None,
    )
    .await
    .unwrap_or_else(|e| panic!("createDocument {name}: {e}"))
}

/// The whole content of a document.
pub async fn read_all(b: &dyn Binding, id: &str) -> Vec<u8> {
    b.content(id, None)
        .await
        .unwrap_or_else(|e| panic!("getContentStream {id}: {e}"))
        .into_bytes()
        .await
        .unwrap_or_else(|e| panic!("reading the content of {id}: {e}"))
}

/// Asserts that `result` failed with an error `accept` approves of.
#[track_caller]
pub fn expect_err<T: std::fmt::Debug>(
    result: Result<T, CmisError>,
    what: &str,
    accept: impl Fn(&CmisError) -> bool,
) -> CmisError {
    match result {
        Ok(v) => panic!("{what}: expected an error, got {v:?}"),
        Err(e) if accept(&e) => e,
        Err(e) => panic!("{what}: wrong error kind: {e:?}"),
    }
}

/// An embedded repository of the test's own on `dir` (127.0.0.1:0, no users
/// file: the one user admin/admin).
pub async fn start_repo(dir: &std::path::Path) -> cmisfs::repo::RunningRepo {
    cmisfs::repo::start(cmisfs::repo::RepoConfig {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        users_file: None,
    })
    .await
    .expect("starting the embedded repository")
}

/// How to reach the repository at `url` as admin/admin over the Browser
/// binding.
pub fn admin_options(url: &str, connect_timeout: Duration, timeout: Duration) -> ConnectOptions {
    ConnectOptions {
        url: url.to_string(),
        binding: BindingChoice::Browser,
        repository: None,
        http: HttpOptions {
            auth: Auth::Basic {
                user: "admin".into(),
                password: "admin".into(),
            },
            connect_timeout,
            timeout,
            ..HttpOptions::default()
        },
    }
}

/// A Browser binding to the repository at `url` as admin/admin.
pub async fn admin_binding(
    url: &str,
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<Arc<dyn Binding>, CmisError> {
    cmis::connect(&admin_options(url, connect_timeout, timeout)).await
}

/// The embedded repository (`cmisfs repo`), one per test binary: started
/// once on its own thread and runtime (each `#[tokio::test]` has a runtime
/// of its own that ends with the test), on 127.0.0.1:0 with a fresh data
/// directory, user admin/admin.
pub async fn embedded() -> Target {
    use std::sync::OnceLock;
    static SERVER: OnceLock<String> = OnceLock::new();
    let url = SERVER
        .get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("runtime for the embedded repository");
                rt.block_on(async move {
                    let dir = tempfile::tempdir().expect("temporary data directory");
                    let running = start_repo(dir.path()).await;
                    let _ = tx.send(running.service_url());
                    // Serve until the test binary exits.
                    std::future::pending::<()>().await;
                    drop((running, dir));
                });
            });
            rx.recv().expect("the embedded repository did not start")
        })
        .clone();
    let options = admin_options(&url, Duration::from_secs(10), Duration::from_secs(120));
    let binding = cmis::connect(&options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the embedded repository: {e}"));
    let info = binding
        .repository_info()
        .await
        .unwrap_or_else(|e| panic!("repository info of the embedded repository: {e}"));
    Target {
        label: "embedded-browser".into(),
        binding,
        info,
        options,
        expected_kind: BindingKind::Browser,
        // Like Alfresco's content type, cmis:document is versionable.
        versionable_type: "cmis:document".into(),
        // No custom property types: only cmis:description is exercised.
        typed_document_type: None,
        // The spec's behaviour throughout; only '/' is refused in names.
        quirks: Quirks::default(),
    }
}
