//! The CMIS protocol client. It knows CMIS and nothing about files.
//!
//! [`Binding`] is the set of CMIS services the file system needs, for one
//! repository. Two implementations speak the wire formats: [`browser`]
//! (Browser binding, JSON) and [`atompub`] (AtomPub binding, XML, CMIS 1.0
//! and 1.1). [`connect`] picks one: `BindingChoice::Auto` tries the Browser
//! binding first, then AtomPub, on the URL the user gave.
//!
//! Object ids are opaque strings, passed back exactly as the server sent
//! them: some servers encode the version in them (Alfresco `uuid;1.0`) and
//! hand out a new id after setContentStream or checkIn, which the returned
//! [`CmisObject`] carries.

pub mod atompub;
pub mod browser;
pub mod error;
pub mod http;
pub mod model;

use std::sync::Arc;

use async_trait::async_trait;

pub use error::{CmisError, Result};
pub use http::{Auth, HttpOptions};
pub use model::*;

/// The CMIS services of one repository, whatever the binding.
///
/// Every method that changes an object returns the object as it is after
/// the change (re-read from the server where the binding's reply lacks
/// it): callers must use its id and change token from then on.
#[async_trait]
pub trait Binding: Send + Sync {
    /// Which wire format this is.
    fn kind(&self) -> BindingKind;

    /// The repository this binding talks to.
    fn repository_id(&self) -> &str;

    /// getRepositoryInfo, fetched fresh (for the latest change token).
    async fn repository_info(&self) -> Result<RepositoryInfo>;

    /// getTypeDefinition.
    async fn type_definition(&self, type_id: &str) -> Result<TypeDefinition>;

    /// getChildren: one page; objects carry `path_segment`.
    async fn children(&self, folder_id: &str, options: &ChildrenOptions) -> Result<ObjectList>;

    /// getObject.
    async fn object(&self, object_id: &str, options: &ReadOptions) -> Result<CmisObject>;

    /// getObjectByPath; `path` is absolute (`/a/b`), names not escaped.
    async fn object_by_path(&self, path: &str, options: &ReadOptions) -> Result<CmisObject>;

    /// getObjectParents (folders have at most one parent).
    async fn parents(&self, object_id: &str, options: &ReadOptions) -> Result<Vec<ObjectParent>>;

    /// getContentStream, optionally a byte range; the body is streamed.
    async fn content(&self, object_id: &str, range: Option<ByteRange>) -> Result<ContentStream>;

    /// createDocument. `folder_id: None` creates an unfiled document
    /// (where the repository supports unfiling). `properties` must hold
    /// at least cmis:name and cmis:objectTypeId.
    async fn create_document(
        &self,
        folder_id: Option<&str>,
        properties: &Properties,
        content: Option<ContentUpload>,
        versioning_state: Option<VersioningState>,
    ) -> Result<CmisObject>;

    /// createFolder. `properties` must hold cmis:name and cmis:objectTypeId.
    async fn create_folder(&self, parent_id: &str, properties: &Properties) -> Result<CmisObject>;

    /// setContentStream (replaces the content when `overwrite`).
    async fn set_content(
        &self,
        object_id: &str,
        content: ContentUpload,
        overwrite: bool,
        change_token: Option<&str>,
    ) -> Result<CmisObject>;

    /// appendContentStream (CMIS 1.1): for uploads in chunks.
    async fn append_content(
        &self,
        object_id: &str,
        content: ContentUpload,
        is_last_chunk: bool,
        change_token: Option<&str>,
    ) -> Result<CmisObject>;

    /// deleteContentStream.
    async fn delete_content(
        &self,
        object_id: &str,
        change_token: Option<&str>,
    ) -> Result<CmisObject>;

    /// updateProperties (e.g. a rename: cmis:name).
    async fn update_properties(
        &self,
        object_id: &str,
        properties: &Properties,
        change_token: Option<&str>,
    ) -> Result<CmisObject>;

    /// moveObject from `source_folder_id` to `target_folder_id`.
    async fn move_object(
        &self,
        object_id: &str,
        target_folder_id: &str,
        source_folder_id: &str,
    ) -> Result<CmisObject>;

    /// deleteObject.
    async fn delete(&self, object_id: &str, all_versions: bool) -> Result<()>;

    /// deleteTree; returns the ids that could not be deleted.
    async fn delete_tree(
        &self,
        folder_id: &str,
        all_versions: bool,
        unfile: UnfileObjects,
        continue_on_failure: bool,
    ) -> Result<Vec<String>>;

    /// addObjectToFolder (multi-filing).
    async fn add_object_to_folder(
        &self,
        object_id: &str,
        folder_id: &str,
        all_versions: bool,
    ) -> Result<()>;

    /// removeObjectFromFolder; `None` removes it from every folder.
    async fn remove_object_from_folder(
        &self,
        object_id: &str,
        folder_id: Option<&str>,
    ) -> Result<()>;

    /// checkOut: returns the private working copy.
    async fn check_out(&self, object_id: &str) -> Result<CmisObject>;

    /// cancelCheckOut of a PWC.
    async fn cancel_check_out(&self, pwc_id: &str) -> Result<()>;

    /// checkIn of a PWC: returns the new version.
    async fn check_in(
        &self,
        pwc_id: &str,
        major: bool,
        properties: Option<&Properties>,
        content: Option<ContentUpload>,
        comment: Option<&str>,
    ) -> Result<CmisObject>;

    /// getAllVersions of the version series `object_id` belongs to, newest
    /// first (as the spec orders them).
    async fn all_versions(&self, object_id: &str) -> Result<Vec<CmisObject>>;

    /// getContentChanges since `change_log_token` (`None`: from the start).
    async fn content_changes(
        &self,
        change_log_token: Option<&str>,
        include_properties: bool,
        max_items: Option<u64>,
    ) -> Result<ContentChanges>;

    /// query: one page of results.
    async fn query(
        &self,
        statement: &str,
        search_all_versions: bool,
        max_items: Option<u64>,
        skip_count: u64,
    ) -> Result<ObjectList>;
}

/// Which binding to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BindingChoice {
    /// Browser binding first, then AtomPub.
    #[default]
    Auto,
    Browser,
    AtomPub,
}

/// Everything needed to reach a repository.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// The service URL (Browser binding URL or AtomPub service document).
    pub url: String,
    pub binding: BindingChoice,
    /// Repository id; `None` picks the only one, or fails listing them.
    pub repository: Option<String>,
    pub http: HttpOptions,
}

/// What an endpoint offers: its binding and its repositories.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub kind: BindingKind,
    pub repositories: Vec<RepositoryInfo>,
}

/// Finds out which binding the URL speaks and lists its repositories.
pub async fn discover(options: &ConnectOptions) -> Result<Discovery> {
    match url::Url::parse(&options.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        _ => {
            return Err(CmisError::InvalidArgument(format!(
                "'{}' is not an http:// or https:// URL",
                options.url
            )))
        }
    }
    let client = http::HttpClient::new(&options.http)?;
    match options.binding {
        BindingChoice::Browser => Ok(Discovery {
            kind: BindingKind::Browser,
            repositories: browser::BrowserBinding::discover(&client, &options.url).await?,
        }),
        BindingChoice::AtomPub => Ok(Discovery {
            kind: BindingKind::AtomPub,
            repositories: atompub::AtomPubBinding::discover(&client, &options.url).await?,
        }),
        BindingChoice::Auto => {
            match browser::BrowserBinding::discover(&client, &options.url).await {
                Ok(repositories) => Ok(Discovery {
                    kind: BindingKind::Browser,
                    repositories,
                }),
                // A transport failure, or a CMIS exception (the endpoint
                // speaks the Browser binding but failed this time): trying
                // AtomPub on the same URL would only hide it.
                Err(
                    e @ (CmisError::Connect { .. }
                    | CmisError::Tls { .. }
                    | CmisError::Timeout { .. }
                    | CmisError::Unauthorized { .. }
                    | CmisError::Transport { .. }
                    | CmisError::Runtime(_)
                    | CmisError::Storage(_)),
                ) => Err(e),
                Err(browser_err) => {
                    match atompub::AtomPubBinding::discover(&client, &options.url).await {
                        Ok(repositories) => Ok(Discovery {
                            kind: BindingKind::AtomPub,
                            repositories,
                        }),
                        Err(CmisError::Protocol { message }) => Err(CmisError::Protocol {
                            message: format!(
                                "{} does not speak CMIS (Browser binding: {browser_err}; AtomPub: {message})",
                                options.url
                            ),
                        }),
                        Err(e) => Err(e),
                    }
                }
            }
        }
    }
}

/// Connects to one repository and returns its binding.
pub async fn connect(options: &ConnectOptions) -> Result<Arc<dyn Binding>> {
    // A server that fails now and then (overloaded, restarting) should not
    // fail a mount at start: server-side failures are tried again a few
    // times; definite answers (wrong URL, password, repository) are not.
    let mut delay = std::time::Duration::from_millis(250);
    for _ in 0..4 {
        match connect_once(options).await {
            Err(e)
                if e.is_transient()
                    || matches!(e, CmisError::Runtime(_) | CmisError::Storage(_)) =>
            {
                tracing::warn!("connecting to {} failed ({e}); trying again", options.url);
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    connect_once(options).await
}

async fn connect_once(options: &ConnectOptions) -> Result<Arc<dyn Binding>> {
    let discovery = discover(options).await?;
    let repo = select_repository(&discovery.repositories, options.repository.as_deref())?;
    let client = http::HttpClient::new(&options.http)?;
    Ok(match discovery.kind {
        BindingKind::Browser => {
            Arc::new(browser::BrowserBinding::open(client, &options.url, &repo.id).await?)
        }
        BindingKind::AtomPub => {
            Arc::new(atompub::AtomPubBinding::open(client, &options.url, &repo.id).await?)
        }
    })
}

/// Picks the requested repository, or the only one.
pub fn select_repository<'a>(
    repositories: &'a [RepositoryInfo],
    wanted: Option<&str>,
) -> Result<&'a RepositoryInfo> {
    let ids = || {
        repositories
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match wanted {
        Some(id) => repositories.iter().find(|r| r.id == id).ok_or_else(|| {
            CmisError::NoRepository(format!(
                "no repository with id '{id}' (the server has: {})",
                ids()
            ))
        }),
        None => match repositories {
            [only] => Ok(only),
            [] => Err(CmisError::NoRepository(
                "the server lists no repository".into(),
            )),
            _ => Err(CmisError::NoRepository(format!(
                "the server has several repositories ({}); choose one with --repository",
                ids()
            ))),
        },
    }
}
