//! One error type for everything the CMIS client can report: the
//! exceptions of CMIS 1.1 (2.2.1.4), whichever binding carried them, plus
//! the transport failures that happen before a server can answer.
//!
//! Each message says what failed; `hint()` adds what the user can do.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CmisError {
    // --- The spec's exceptions (CMIS 1.1, 2.2.1.4) ---
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("not supported by the repository: {0}")]
    NotSupported(String),
    #[error("object not found: {0}")]
    ObjectNotFound(String),
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    #[error("repository runtime error: {0}")]
    Runtime(String),
    #[error("constraint violated: {0}")]
    Constraint(String),
    #[error("content already exists: {0}")]
    ContentAlreadyExists(String),
    #[error("invalid property filter: {0}")]
    FilterNotValid(String),
    #[error("name refused by the repository: {0}")]
    NameConstraintViolation(String),
    #[error("repository storage error: {0}")]
    Storage(String),
    #[error("content stream not supported: {0}")]
    StreamNotSupported(String),
    #[error("update conflict (the object changed on the server): {0}")]
    UpdateConflict(String),
    #[error("versioning error: {0}")]
    Versioning(String),

    // --- Transport and protocol failures ---
    /// The server could not be reached at all (DNS, refused, reset).
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    /// TLS handshake or certificate failure.
    #[error("TLS error talking to {url}: {message}")]
    Tls { url: String, message: String },
    /// No answer within the configured time.
    #[error("request to {url} timed out")]
    Timeout { url: String },
    /// HTTP 401: no or wrong credentials.
    #[error("authentication failed at {url} (HTTP 401)")]
    Unauthorized { url: String },
    /// An HTTP error status the binding could not map to a CMIS exception.
    #[error("HTTP {status} from {url}: {message}")]
    Http {
        status: u16,
        url: String,
        message: String,
    },
    /// The server answered, but not with something this binding understands.
    #[error("malformed reply from the server: {message}")]
    Protocol { message: String },
    /// The body broke off or another transport error mid-request.
    #[error("transport error: {message}")]
    Transport { message: String },
    /// No repository with the requested id, or none at all.
    #[error("{0}")]
    NoRepository(String),
}

impl CmisError {
    /// Maps a spec exception name (Browser binding `"exception"`, AtomPub
    /// error bodies) to the enum. Unknown names become `Runtime`.
    pub fn from_exception(name: &str, message: impl Into<String>) -> CmisError {
        let message = message.into();
        match name.to_ascii_lowercase().as_str() {
            "invalidargument" => CmisError::InvalidArgument(message),
            "notsupported" => CmisError::NotSupported(message),
            "objectnotfound" => CmisError::ObjectNotFound(message),
            "permissiondenied" | "unauthorized" => CmisError::PermissionDenied(message),
            "constraint" => CmisError::Constraint(message),
            "contentalreadyexists" => CmisError::ContentAlreadyExists(message),
            "filternotvalid" => CmisError::FilterNotValid(message),
            "nameconstraintviolation" => CmisError::NameConstraintViolation(message),
            "storage" => CmisError::Storage(message),
            "streamnotsupported" => CmisError::StreamNotSupported(message),
            "updateconflict" => CmisError::UpdateConflict(message),
            "versioning" => CmisError::Versioning(message),
            _ => CmisError::Runtime(message),
        }
    }

    /// The spec's exception name, for the server side (Browser binding JSON
    /// `"exception"` field). Transport errors report `runtime`.
    pub fn exception_name(&self) -> &'static str {
        match self {
            CmisError::InvalidArgument(_) => "invalidArgument",
            CmisError::NotSupported(_) => "notSupported",
            CmisError::ObjectNotFound(_) | CmisError::NoRepository(_) => "objectNotFound",
            CmisError::PermissionDenied(_) => "permissionDenied",
            CmisError::Constraint(_) => "constraint",
            CmisError::ContentAlreadyExists(_) => "contentAlreadyExists",
            CmisError::FilterNotValid(_) => "filterNotValid",
            CmisError::NameConstraintViolation(_) => "nameConstraintViolation",
            CmisError::Storage(_) => "storage",
            CmisError::StreamNotSupported(_) => "streamNotSupported",
            CmisError::UpdateConflict(_) => "updateConflict",
            CmisError::Versioning(_) => "versioning",
            _ => "runtime",
        }
    }

    /// The HTTP status both bindings use for this exception (CMIS 1.1,
    /// 3.2.3.1 and 5.2.?): the server side answers with it.
    pub fn http_status(&self) -> u16 {
        match self {
            CmisError::InvalidArgument(_) | CmisError::FilterNotValid(_) => 400,
            CmisError::NotSupported(_) => 405,
            CmisError::ObjectNotFound(_) | CmisError::NoRepository(_) => 404,
            CmisError::PermissionDenied(_) | CmisError::StreamNotSupported(_) => 403,
            CmisError::Unauthorized { .. } => 401,
            CmisError::Constraint(_)
            | CmisError::ContentAlreadyExists(_)
            | CmisError::NameConstraintViolation(_)
            | CmisError::UpdateConflict(_)
            | CmisError::Versioning(_) => 409,
            CmisError::Http { status, .. } => *status,
            _ => 500,
        }
    }

    /// Maps an HTTP error status without a recognisable exception name
    /// (AtomPub, 3.2.3.1). 409 is ambiguous there; `Constraint` is the
    /// general one.
    pub fn from_http_status(status: u16, url: &str, message: impl Into<String>) -> CmisError {
        let message = message.into();
        match status {
            400 => CmisError::InvalidArgument(message),
            401 => CmisError::Unauthorized {
                url: url.to_string(),
            },
            403 => CmisError::PermissionDenied(message),
            404 => CmisError::ObjectNotFound(message),
            405 => CmisError::NotSupported(message),
            409 => CmisError::Constraint(message),
            500 => CmisError::Runtime(message),
            _ => CmisError::Http {
                status,
                url: url.to_string(),
                message,
            },
        }
    }

    /// True for failures worth retrying later (server gone, overloaded,
    /// timed out) as opposed to a definite answer from the repository.
    pub fn is_transient(&self) -> bool {
        match self {
            CmisError::Connect { .. } | CmisError::Timeout { .. } | CmisError::Transport { .. } => {
                true
            }
            CmisError::Http { status, .. } => matches!(status, 408 | 429 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// What the user can do about it, where there is something to say.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CmisError::Connect { .. } => {
                Some("check the URL and that the server is running and reachable")
            }
            CmisError::Tls { .. } => Some(
                "check the server certificate; use --ca-file for a private CA, or --insecure to skip verification",
            ),
            CmisError::Timeout { .. } => {
                Some("the server is slow or unreachable; try again or raise --timeout")
            }
            CmisError::Unauthorized { .. } => Some(
                "check --user and the password (--password-file or CMISFS_PASSWORD) or token",
            ),
            CmisError::Protocol { .. } => {
                Some("is this a CMIS endpoint? give the Browser binding or AtomPub service URL")
            }
            _ => None,
        }
    }
}

pub type Result<T, E = CmisError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_names_round_trip() {
        let all = [
            CmisError::InvalidArgument(String::new()),
            CmisError::NotSupported(String::new()),
            CmisError::ObjectNotFound(String::new()),
            CmisError::PermissionDenied(String::new()),
            CmisError::Runtime(String::new()),
            CmisError::Constraint(String::new()),
            CmisError::ContentAlreadyExists(String::new()),
            CmisError::FilterNotValid(String::new()),
            CmisError::NameConstraintViolation(String::new()),
            CmisError::Storage(String::new()),
            CmisError::StreamNotSupported(String::new()),
            CmisError::UpdateConflict(String::new()),
            CmisError::Versioning(String::new()),
        ];
        for e in all {
            assert_eq!(CmisError::from_exception(e.exception_name(), ""), e);
        }
    }

    #[test]
    fn statuses_match_the_spec_table() {
        assert_eq!(CmisError::UpdateConflict("x".into()).http_status(), 409);
        assert_eq!(CmisError::ObjectNotFound("x".into()).http_status(), 404);
        assert_eq!(CmisError::StreamNotSupported("x".into()).http_status(), 403);
        assert_eq!(CmisError::NotSupported("x".into()).http_status(), 405);
    }
}
