//! Repositories: the service URL's repository list, repository info and its
//! capabilities.

use serde_json::{Map, Value};

use super::{as_object, bool_field, kind, protocol, str_field};
use crate::cmis::error::Result;
use crate::cmis::model::*;

/// A repository as listed by the service URL: its info plus the two URLs
/// the Browser binding addresses it by.
#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryEntry {
    pub info: RepositoryInfo,
    pub repository_url: Option<String>,
    pub root_folder_url: Option<String>,
}

/// The service URL's reply: a map from repository id to repository info.
pub fn parse_repositories(v: &Value) -> Result<Vec<RepositoryEntry>> {
    let m = v
        .as_object()
        .ok_or_else(|| protocol(format!("expected a map of repositories, got {}", kind(v))))?;
    m.values().map(parse_repository_info).collect()
}

/// One repository info (`cmisselector=repositoryInfo` answers the same map
/// as the service URL; [`find_repository_info`] picks from it).
pub fn parse_repository_info(v: &Value) -> Result<RepositoryEntry> {
    let m = as_object(v, "a repository info")?;
    let id = str_field(m, "repositoryId")
        .ok_or_else(|| protocol("a repository info without repositoryId"))?;
    let caps = match m.get("capabilities") {
        Some(c @ Value::Object(_)) => parse_capabilities(as_object(c, "capabilities")?),
        _ => Capabilities::default(),
    };
    let info = RepositoryInfo {
        id,
        name: str_field(m, "repositoryName").unwrap_or_default(),
        description: str_field(m, "repositoryDescription").unwrap_or_default(),
        vendor_name: str_field(m, "vendorName").unwrap_or_default(),
        product_name: str_field(m, "productName").unwrap_or_default(),
        product_version: str_field(m, "productVersion").unwrap_or_default(),
        cmis_version_supported: str_field(m, "cmisVersionSupported").unwrap_or_default(),
        root_folder_id: str_field(m, "rootFolderId").unwrap_or_default(),
        latest_change_log_token: str_field(m, "latestChangeLogToken"),
        changes_incomplete: bool_field(m, "changesIncomplete"),
        principal_anonymous: str_field(m, "principalIdAnonymous"),
        principal_anyone: str_field(m, "principalIdAnyone"),
        capabilities: caps,
    };
    Ok(RepositoryEntry {
        info,
        repository_url: str_field(m, "repositoryUrl"),
        root_folder_url: str_field(m, "rootFolderUrl"),
    })
}

/// The info of repository `id` from a repositoryInfo reply (a map keyed by
/// id, or a bare repository info).
pub fn find_repository_info(v: &Value, id: &str) -> Result<RepositoryEntry> {
    if v.get("repositoryId").is_some() {
        return parse_repository_info(v);
    }
    let m = as_object(v, "the repository info")?;
    match m.get(id) {
        Some(info) => parse_repository_info(info),
        None => Err(protocol(format!(
            "the repository info reply does not mention repository '{id}'"
        ))),
    }
}

fn parse_capabilities(m: &Map<String, Value>) -> Capabilities {
    let s = |k: &str| str_field(m, k).map(|s| s.to_ascii_lowercase());
    let b = |k: &str| bool_field(m, k).unwrap_or(false);
    Capabilities {
        content_stream_updatability: match s("capabilityContentStreamUpdatability").as_deref() {
            Some("anytime") => ContentStreamUpdates::Anytime,
            Some("pwconly") => ContentStreamUpdates::PwcOnly,
            _ => ContentStreamUpdates::None,
        },
        changes: match s("capabilityChanges").as_deref() {
            Some("objectidsonly") => ChangesCapability::ObjectIdsOnly,
            Some("properties") => ChangesCapability::Properties,
            Some("all") => ChangesCapability::All,
            _ => ChangesCapability::None,
        },
        get_descendants: b("capabilityGetDescendants"),
        get_folder_tree: b("capabilityGetFolderTree"),
        multifiling: b("capabilityMultifiling"),
        unfiling: b("capabilityUnfiling"),
        version_specific_filing: b("capabilityVersionSpecificFiling"),
        pwc_updatable: b("capabilityPWCUpdatable"),
        pwc_searchable: b("capabilityPWCSearchable"),
        all_versions_searchable: b("capabilityAllVersionsSearchable"),
        query: match s("capabilityQuery").as_deref() {
            Some("metadataonly") => QueryCapability::MetadataOnly,
            Some("fulltextonly") => QueryCapability::FullTextOnly,
            Some("bothseparate") => QueryCapability::BothSeparate,
            Some("bothcombined") => QueryCapability::BothCombined,
            _ => QueryCapability::None,
        },
        acl: match s("capabilityACL").as_deref() {
            Some("discover") => AclCapability::Discover,
            Some("manage") => AclCapability::Manage,
            _ => AclCapability::None,
        },
        order_by: s("capabilityOrderBy"),
        renditions: s("capabilityRenditions"),
        join: s("capabilityJoin"),
    }
}
