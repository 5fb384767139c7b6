//! Service options: versioning state, unfiling, read and children options, and
//! the binding kind.

use std::fmt;

/// versioningState for createDocument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersioningState {
    None,
    Major,
    Minor,
    CheckedOut,
}

impl VersioningState {
    pub fn as_str(self) -> &'static str {
        match self {
            VersioningState::None => "none",
            VersioningState::Major => "major",
            VersioningState::Minor => "minor",
            VersioningState::CheckedOut => "checkedout",
        }
    }
}

/// unfileObjects for deleteTree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnfileObjects {
    Unfile,
    DeleteSingleFiled,
    #[default]
    Delete,
}

impl UnfileObjects {
    pub fn as_str(self) -> &'static str {
        match self {
            UnfileObjects::Unfile => "unfile",
            UnfileObjects::DeleteSingleFiled => "deletesinglefiled",
            UnfileObjects::Delete => "delete",
        }
    }
}

/// Options for reads of objects (getObject, getObjectByPath, getChildren).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Comma-separated property filter; `None` = all properties (`*`).
    pub filter: Option<String>,
    pub include_allowable_actions: bool,
}

/// Paging and ordering for getChildren.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildrenOptions {
    pub read: ReadOptions,
    pub max_items: Option<u64>,
    pub skip_count: u64,
    /// e.g. `cmis:name ASC`.
    pub order_by: Option<String>,
}

/// Which binding an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingKind {
    Browser,
    AtomPub,
}

impl fmt::Display for BindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BindingKind::Browser => "browser",
            BindingKind::AtomPub => "atompub",
        })
    }
}
