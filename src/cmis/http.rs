//! The HTTP transport both bindings share: one reqwest client (rustls,
//! system roots plus an optional CA file), authentication, and the mapping
//! of transport failures to [`CmisError`].

use std::path::PathBuf;
use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};

use super::error::{CmisError, Result};

/// How to authenticate. Secrets never appear in `Debug` output.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    Basic {
        user: String,
        password: String,
    },
    Bearer {
        token: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("Auth::None"),
            Auth::Basic { user, .. } => {
                write!(f, "Auth::Basic {{ user: {user:?}, password: *** }}")
            }
            Auth::Bearer { .. } => f.write_str("Auth::Bearer { token: *** }"),
        }
    }
}

/// Transport settings.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub auth: Auth,
    /// Extra PEM CA certificate(s) to trust besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// Skip certificate verification (explicit opt-in only).
    pub insecure: bool,
    /// Time to connect.
    pub connect_timeout: Duration,
    /// Time without progress on a request before it fails. Applies to
    /// metadata calls as a whole; content streams use it per read.
    pub timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            auth: Auth::None,
            ca_file: None,
            insecure: false,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
        }
    }
}

/// A configured HTTP client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    auth: Auth,
    pub timeout: Duration,
}

impl HttpClient {
    pub fn new(options: &HttpOptions) -> Result<HttpClient> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.timeout)
            .user_agent(concat!("cmisfs/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(30));
        if let Some(path) = &options.ca_file {
            let pem = std::fs::read(path).map_err(|e| CmisError::Tls {
                url: path.display().to_string(),
                message: format!("cannot read CA file: {e}"),
            })?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| CmisError::Tls {
                    url: path.display().to_string(),
                    message: format!("CA file is not PEM: {e}"),
                })?;
            // Text without any certificate parses as an empty bundle: say so
            // rather than run without the CA the user asked for.
            if certs.is_empty() {
                return Err(CmisError::Tls {
                    url: path.display().to_string(),
                    message: "the CA file holds no PEM certificate".into(),
                });
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if options.insecure {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let inner = builder.build().map_err(|e| CmisError::Tls {
            url: String::new(),
            message: format!("cannot set up the HTTP client: {e}"),
        })?;
        Ok(HttpClient {
            inner,
            auth: options.auth.clone(),
            timeout: options.timeout,
        })
    }

    /// The underlying client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.inner
    }

    pub fn get(&self, url: &str) -> RequestBuilder {
        self.authorize(self.inner.get(url))
    }

    pub fn post(&self, url: &str) -> RequestBuilder {
        self.authorize(self.inner.post(url))
    }

    pub fn put(&self, url: &str) -> RequestBuilder {
        self.authorize(self.inner.put(url))
    }

    pub fn delete(&self, url: &str) -> RequestBuilder {
        self.authorize(self.inner.delete(url))
    }

    /// Adds the credentials to a request built on [`Self::client`].
    pub fn authorize(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.auth {
            Auth::None => request,
            Auth::Basic { user, password } => request.basic_auth(user, Some(password)),
            Auth::Bearer { token } => request.bearer_auth(token),
        }
    }

    /// Sends a request and maps transport failures and HTTP 401. Other
    /// statuses are returned as they are: each binding reads its own error
    /// bodies (see [`Self::error_body`]).
    pub async fn send(&self, request: RequestBuilder) -> Result<Response> {
        let response = request.send().await.map_err(transport_error)?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(CmisError::Unauthorized {
                url: strip_query(response.url().as_str()),
            });
        }
        Ok(response)
    }

    /// Reads an error response body (bounded, lossy UTF-8) for a message.
    pub async fn error_body(response: Response) -> String {
        const LIMIT: usize = 64 * 1024;
        let mut response = response;
        let mut body = Vec::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() >= LIMIT {
                body.truncate(LIMIT);
                break;
            }
        }
        String::from_utf8_lossy(&body).into_owned()
    }
}

/// Maps a reqwest error to the transport variants of [`CmisError`].
pub fn transport_error(e: reqwest::Error) -> CmisError {
    let url = e.url().map(|u| strip_query(u.as_str())).unwrap_or_default();
    let message = error_chain(&e);
    if e.is_timeout() {
        CmisError::Timeout { url }
    } else if e.is_connect() {
        if message.contains("certificate") || message.contains("tls") || message.contains("TLS") {
            CmisError::Tls { url, message }
        } else {
            // reqwest's chain repeats the URL; the root cause says it all
            // ("Connection refused (os error 111)").
            CmisError::Connect {
                url,
                message: root_cause(&e),
            }
        }
    } else if e.is_builder() {
        CmisError::InvalidArgument(format!("invalid request URL {url}: {message}"))
    } else {
        CmisError::Transport { message }
    }
}

/// The error and its causes in one line ("connection refused" sits deep
/// in reqwest's chain).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The innermost error of a chain.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(s) = last.source() {
        last = s;
    }
    last.to_string()
}

/// URLs in error messages without their query (it may hold ids, never
/// secrets, but it is noise).
fn strip_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}
