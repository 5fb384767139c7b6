//! Repository info: capabilities, getRepositoryInfo and type definitions.

use std::collections::BTreeMap;

use super::{BaseType, PropertyType};

/// cmis:contentStreamUpdatability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentStreamUpdates {
    #[default]
    None,
    Anytime,
    PwcOnly,
}

/// capabilityChanges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChangesCapability {
    #[default]
    None,
    ObjectIdsOnly,
    Properties,
    All,
}

/// capabilityQuery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryCapability {
    #[default]
    None,
    MetadataOnly,
    FullTextOnly,
    BothSeparate,
    BothCombined,
}

/// capabilityACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AclCapability {
    #[default]
    None,
    Discover,
    Manage,
}

/// The repository capabilities the file system cares about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Capabilities {
    pub content_stream_updatability: ContentStreamUpdates,
    pub changes: ChangesCapability,
    pub get_descendants: bool,
    pub get_folder_tree: bool,
    pub multifiling: bool,
    pub unfiling: bool,
    pub version_specific_filing: bool,
    pub pwc_updatable: bool,
    pub pwc_searchable: bool,
    pub all_versions_searchable: bool,
    pub query: QueryCapability,
    pub acl: AclCapability,
    /// capabilityOrderBy: "none", "common" or "custom".
    pub order_by: Option<String>,
    /// capabilityRenditions: "none" or "read".
    pub renditions: Option<String>,
    /// capabilityJoin.
    pub join: Option<String>,
}

/// getRepositoryInfo.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepositoryInfo {
    pub id: String,
    pub name: String,
    pub description: String,
    pub vendor_name: String,
    pub product_name: String,
    pub product_version: String,
    pub cmis_version_supported: String,
    pub root_folder_id: String,
    pub latest_change_log_token: Option<String>,
    pub changes_incomplete: Option<bool>,
    pub principal_anonymous: Option<String>,
    pub principal_anyone: Option<String>,
    pub capabilities: Capabilities,
}

/// The parts of a type definition the file system needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypeDefinition {
    pub id: String,
    pub base_type: Option<BaseType>,
    pub parent_id: Option<String>,
    pub display_name: Option<String>,
    pub creatable: bool,
    pub fileable: bool,
    pub queryable: bool,
    /// Documents only.
    pub versionable: Option<bool>,
    /// Documents only: "notallowed", "allowed" or "required".
    pub content_stream_allowed: Option<String>,
    pub property_definitions: BTreeMap<String, PropertyDefinition>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PropertyDefinition {
    pub id: String,
    pub property_type: PropertyType,
    /// "single" or "multi".
    pub multi_valued: bool,
    /// "readonly", "readwrite", "whencheckedout" or "oncreate".
    pub updatability: String,
    pub required: bool,
}
