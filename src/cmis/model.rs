//! Typed CMIS data: repositories and their capabilities, objects, properties,
//! allowable actions, type definitions, change events and content streams.
//!
//! This module is binding-neutral: the Browser binding (JSON) and the AtomPub
//! binding (XML) both parse into these types, and the embedded repository
//! (`src/repo/`) serves them. Property ids are kept as the server sends them
//! (`cmis:name`, vendor ids such as `cm:title` alike); typed accessors cover
//! the `cmis:` properties the file system needs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::Stream;

use super::error::CmisError;

/// The CMIS property ids the rest of the crate refers to.
pub mod prop {
    pub const NAME: &str = "cmis:name";
    pub const DESCRIPTION: &str = "cmis:description";
    pub const OBJECT_ID: &str = "cmis:objectId";
    pub const OBJECT_TYPE_ID: &str = "cmis:objectTypeId";
    pub const BASE_TYPE_ID: &str = "cmis:baseTypeId";
    pub const SECONDARY_OBJECT_TYPE_IDS: &str = "cmis:secondaryObjectTypeIds";
    pub const CREATED_BY: &str = "cmis:createdBy";
    pub const CREATION_DATE: &str = "cmis:creationDate";
    pub const LAST_MODIFIED_BY: &str = "cmis:lastModifiedBy";
    pub const LAST_MODIFICATION_DATE: &str = "cmis:lastModificationDate";
    pub const CHANGE_TOKEN: &str = "cmis:changeToken";
    pub const IS_IMMUTABLE: &str = "cmis:isImmutable";
    pub const IS_LATEST_VERSION: &str = "cmis:isLatestVersion";
    pub const IS_MAJOR_VERSION: &str = "cmis:isMajorVersion";
    pub const IS_LATEST_MAJOR_VERSION: &str = "cmis:isLatestMajorVersion";
    pub const IS_PRIVATE_WORKING_COPY: &str = "cmis:isPrivateWorkingCopy";
    pub const VERSION_LABEL: &str = "cmis:versionLabel";
    pub const VERSION_SERIES_ID: &str = "cmis:versionSeriesId";
    pub const IS_VERSION_SERIES_CHECKED_OUT: &str = "cmis:isVersionSeriesCheckedOut";
    pub const VERSION_SERIES_CHECKED_OUT_BY: &str = "cmis:versionSeriesCheckedOutBy";
    pub const VERSION_SERIES_CHECKED_OUT_ID: &str = "cmis:versionSeriesCheckedOutId";
    pub const CHECKIN_COMMENT: &str = "cmis:checkinComment";
    pub const CONTENT_STREAM_LENGTH: &str = "cmis:contentStreamLength";
    pub const CONTENT_STREAM_MIME_TYPE: &str = "cmis:contentStreamMimeType";
    pub const CONTENT_STREAM_FILE_NAME: &str = "cmis:contentStreamFileName";
    pub const CONTENT_STREAM_ID: &str = "cmis:contentStreamId";
    pub const PARENT_ID: &str = "cmis:parentId";
    pub const PATH: &str = "cmis:path";
    pub const ALLOWED_CHILD_OBJECT_TYPE_IDS: &str = "cmis:allowedChildObjectTypeIds";
}

/// The base type every CMIS object type derives from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BaseType {
    Document,
    Folder,
    Relationship,
    Policy,
    Item,
    Secondary,
}

impl BaseType {
    pub fn as_str(self) -> &'static str {
        match self {
            BaseType::Document => "cmis:document",
            BaseType::Folder => "cmis:folder",
            BaseType::Relationship => "cmis:relationship",
            BaseType::Policy => "cmis:policy",
            BaseType::Item => "cmis:item",
            BaseType::Secondary => "cmis:secondary",
        }
    }

    pub fn parse(s: &str) -> Option<BaseType> {
        Some(match s {
            "cmis:document" => BaseType::Document,
            "cmis:folder" => BaseType::Folder,
            "cmis:relationship" => BaseType::Relationship,
            "cmis:policy" => BaseType::Policy,
            "cmis:item" => BaseType::Item,
            "cmis:secondary" => BaseType::Secondary,
            _ => return None,
        })
    }
}

/// The data type of a property (CMIS 1.1, 2.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropertyType {
    String,
    Id,
    Integer,
    Decimal,
    Boolean,
    DateTime,
    Uri,
    Html,
}

impl PropertyType {
    /// The name used by both bindings (`"string"`, `"datetime"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            PropertyType::String => "string",
            PropertyType::Id => "id",
            PropertyType::Integer => "integer",
            PropertyType::Decimal => "decimal",
            PropertyType::Boolean => "boolean",
            PropertyType::DateTime => "datetime",
            PropertyType::Uri => "uri",
            PropertyType::Html => "html",
        }
    }

    pub fn parse(s: &str) -> Option<PropertyType> {
        Some(match s {
            "string" => PropertyType::String,
            "id" => PropertyType::Id,
            "integer" => PropertyType::Integer,
            "decimal" => PropertyType::Decimal,
            "boolean" => PropertyType::Boolean,
            "datetime" => PropertyType::DateTime,
            "uri" => PropertyType::Uri,
            "html" => PropertyType::Html,
            _ => return None,
        })
    }
}

/// A property value. Every CMIS property is a list; single-valued properties
/// hold zero (not set) or one element.
#[derive(Debug, Clone, PartialEq)]
pub enum PropertyValue {
    String(Vec<String>),
    Id(Vec<String>),
    Integer(Vec<i64>),
    Decimal(Vec<f64>),
    Boolean(Vec<bool>),
    DateTime(Vec<DateTime<Utc>>),
    Uri(Vec<String>),
    Html(Vec<String>),
}

impl PropertyValue {
    pub fn property_type(&self) -> PropertyType {
        match self {
            PropertyValue::String(_) => PropertyType::String,
            PropertyValue::Id(_) => PropertyType::Id,
            PropertyValue::Integer(_) => PropertyType::Integer,
            PropertyValue::Decimal(_) => PropertyType::Decimal,
            PropertyValue::Boolean(_) => PropertyType::Boolean,
            PropertyValue::DateTime(_) => PropertyType::DateTime,
            PropertyValue::Uri(_) => PropertyType::Uri,
            PropertyValue::Html(_) => PropertyType::Html,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            PropertyValue::String(v)
            | PropertyValue::Id(v)
            | PropertyValue::Uri(v)
            | PropertyValue::Html(v) => v.len(),
            PropertyValue::Integer(v) => v.len(),
            PropertyValue::Decimal(v) => v.len(),
            PropertyValue::Boolean(v) => v.len(),
            PropertyValue::DateTime(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first value of a string-like property (string, id, uri, html).
    pub fn first_str(&self) -> Option<&str> {
        match self {
            PropertyValue::String(v)
            | PropertyValue::Id(v)
            | PropertyValue::Uri(v)
            | PropertyValue::Html(v) => v.first().map(String::as_str),
            _ => None,
        }
    }

    /// All values of a string-like property.
    pub fn strs(&self) -> &[String] {
        match self {
            PropertyValue::String(v)
            | PropertyValue::Id(v)
            | PropertyValue::Uri(v)
            | PropertyValue::Html(v) => v,
            _ => &[],
        }
    }

    pub fn first_int(&self) -> Option<i64> {
        match self {
            PropertyValue::Integer(v) => v.first().copied(),
            _ => None,
        }
    }

    pub fn first_bool(&self) -> Option<bool> {
        match self {
            PropertyValue::Boolean(v) => v.first().copied(),
            _ => None,
        }
    }

    pub fn first_datetime(&self) -> Option<DateTime<Utc>> {
        match self {
            PropertyValue::DateTime(v) => v.first().copied(),
            _ => None,
        }
    }
}

/// A bag of properties keyed by property id (in a stable order, so that the
/// bindings serialise them deterministically).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Properties(pub BTreeMap<String, PropertyValue>);

impl Properties {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, id: &str) -> Option<&PropertyValue> {
        self.0.get(id)
    }

    pub fn set(&mut self, id: impl Into<String>, value: PropertyValue) -> &mut Self {
        self.0.insert(id.into(), value);
        self
    }

    pub fn remove(&mut self, id: &str) -> Option<PropertyValue> {
        self.0.remove(id)
    }

    /// Builder-style setter for a single string value.
    pub fn with_string(mut self, id: impl Into<String>, value: impl Into<String>) -> Self {
        self.0
            .insert(id.into(), PropertyValue::String(vec![value.into()]));
        self
    }

    /// Builder-style setter for a single id value.
    pub fn with_id(mut self, id: impl Into<String>, value: impl Into<String>) -> Self {
        self.0
            .insert(id.into(), PropertyValue::Id(vec![value.into()]));
        self
    }

    pub fn str(&self, id: &str) -> Option<&str> {
        self.get(id).and_then(PropertyValue::first_str)
    }

    pub fn int(&self, id: &str) -> Option<i64> {
        self.get(id).and_then(PropertyValue::first_int)
    }

    pub fn bool(&self, id: &str) -> Option<bool> {
        self.get(id).and_then(PropertyValue::first_bool)
    }

    pub fn datetime(&self, id: &str) -> Option<DateTime<Utc>> {
        self.get(id).and_then(PropertyValue::first_datetime)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &PropertyValue)> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The allowable actions of CMIS 1.1, 2.2.4.6 (the `can*` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    DeleteObject,
    UpdateProperties,
    GetFolderTree,
    GetProperties,
    GetObjectRelationships,
    GetObjectParents,
    GetFolderParent,
    GetDescendants,
    MoveObject,
    DeleteContentStream,
    CheckOut,
    CancelCheckOut,
    CheckIn,
    SetContentStream,
    GetAllVersions,
    AddObjectToFolder,
    RemoveObjectFromFolder,
    GetContentStream,
    ApplyPolicy,
    GetAppliedPolicies,
    RemovePolicy,
    GetChildren,
    CreateDocument,
    CreateFolder,
    CreateRelationship,
    CreateItem,
    DeleteTree,
    GetRenditions,
    GetAcl,
    ApplyAcl,
}

impl Action {
    pub const ALL: [Action; 30] = [
        Action::DeleteObject,
        Action::UpdateProperties,
        Action::GetFolderTree,
        Action::GetProperties,
        Action::GetObjectRelationships,
        Action::GetObjectParents,
        Action::GetFolderParent,
        Action::GetDescendants,
        Action::MoveObject,
        Action::DeleteContentStream,
        Action::CheckOut,
        Action::CancelCheckOut,
        Action::CheckIn,
        Action::SetContentStream,
        Action::GetAllVersions,
        Action::AddObjectToFolder,
        Action::RemoveObjectFromFolder,
        Action::GetContentStream,
        Action::ApplyPolicy,
        Action::GetAppliedPolicies,
        Action::RemovePolicy,
        Action::GetChildren,
        Action::CreateDocument,
        Action::CreateFolder,
        Action::CreateRelationship,
        Action::CreateItem,
        Action::DeleteTree,
        Action::GetRenditions,
        Action::GetAcl,
        Action::ApplyAcl,
    ];

    /// The wire name, e.g. `canSetContentStream`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::DeleteObject => "canDeleteObject",
            Action::UpdateProperties => "canUpdateProperties",
            Action::GetFolderTree => "canGetFolderTree",
            Action::GetProperties => "canGetProperties",
            Action::GetObjectRelationships => "canGetObjectRelationships",
            Action::GetObjectParents => "canGetObjectParents",
            Action::GetFolderParent => "canGetFolderParent",
            Action::GetDescendants => "canGetDescendants",
            Action::MoveObject => "canMoveObject",
            Action::DeleteContentStream => "canDeleteContentStream",
            Action::CheckOut => "canCheckOut",
            Action::CancelCheckOut => "canCancelCheckOut",
            Action::CheckIn => "canCheckIn",
            Action::SetContentStream => "canSetContentStream",
            Action::GetAllVersions => "canGetAllVersions",
            Action::AddObjectToFolder => "canAddObjectToFolder",
            Action::RemoveObjectFromFolder => "canRemoveObjectFromFolder",
            Action::GetContentStream => "canGetContentStream",
            Action::ApplyPolicy => "canApplyPolicy",
            Action::GetAppliedPolicies => "canGetAppliedPolicies",
            Action::RemovePolicy => "canRemovePolicy",
            Action::GetChildren => "canGetChildren",
            Action::CreateDocument => "canCreateDocument",
            Action::CreateFolder => "canCreateFolder",
            Action::CreateRelationship => "canCreateRelationship",
            Action::CreateItem => "canCreateItem",
            Action::DeleteTree => "canDeleteTree",
            Action::GetRenditions => "canGetRenditions",
            Action::GetAcl => "canGetACL",
            Action::ApplyAcl => "canApplyACL",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL
            .iter()
            .copied()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
    }
}

/// The set of actions the current user may perform on an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowableActions(pub BTreeSet<Action>);

impl AllowableActions {
    pub fn allows(&self, action: Action) -> bool {
        self.0.contains(&action)
    }
}

/// A CMIS object as returned by getObject, getChildren, query, ...
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CmisObject {
    pub properties: Properties,
    /// Present when requested (`includeAllowableActions`) and sent.
    pub allowable_actions: Option<AllowableActions>,
    /// The object's name in the folder it was listed from (getChildren's
    /// `pathSegment`), when the server sent one.
    pub path_segment: Option<String>,
}

impl CmisObject {
    pub fn id(&self) -> &str {
        self.properties.str(prop::OBJECT_ID).unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.properties.str(prop::NAME).unwrap_or("")
    }
    pub fn base_type(&self) -> Option<BaseType> {
        self.properties
            .str(prop::BASE_TYPE_ID)
            .and_then(BaseType::parse)
    }
    pub fn is_folder(&self) -> bool {
        self.base_type() == Some(BaseType::Folder)
    }
    pub fn is_document(&self) -> bool {
        self.base_type() == Some(BaseType::Document)
    }
    pub fn object_type_id(&self) -> Option<&str> {
        self.properties.str(prop::OBJECT_TYPE_ID)
    }
    pub fn change_token(&self) -> Option<&str> {
        self.properties.str(prop::CHANGE_TOKEN)
    }
    pub fn content_length(&self) -> Option<u64> {
        self.properties
            .int(prop::CONTENT_STREAM_LENGTH)
            .and_then(|n| u64::try_from(n).ok())
    }
    pub fn content_mime_type(&self) -> Option<&str> {
        self.properties.str(prop::CONTENT_STREAM_MIME_TYPE)
    }
    pub fn content_file_name(&self) -> Option<&str> {
        self.properties.str(prop::CONTENT_STREAM_FILE_NAME)
    }
    pub fn creation_date(&self) -> Option<DateTime<Utc>> {
        self.properties.datetime(prop::CREATION_DATE)
    }
    pub fn last_modification_date(&self) -> Option<DateTime<Utc>> {
        self.properties.datetime(prop::LAST_MODIFICATION_DATE)
    }
    pub fn created_by(&self) -> Option<&str> {
        self.properties.str(prop::CREATED_BY)
    }
    pub fn last_modified_by(&self) -> Option<&str> {
        self.properties.str(prop::LAST_MODIFIED_BY)
    }
    pub fn parent_id(&self) -> Option<&str> {
        self.properties.str(prop::PARENT_ID)
    }
    pub fn path(&self) -> Option<&str> {
        self.properties.str(prop::PATH)
    }
    pub fn version_series_id(&self) -> Option<&str> {
        self.properties.str(prop::VERSION_SERIES_ID)
    }
    pub fn version_label(&self) -> Option<&str> {
        self.properties.str(prop::VERSION_LABEL)
    }
    pub fn is_latest_version(&self) -> Option<bool> {
        self.properties.bool(prop::IS_LATEST_VERSION)
    }
    pub fn is_major_version(&self) -> Option<bool> {
        self.properties.bool(prop::IS_MAJOR_VERSION)
    }
    pub fn is_private_working_copy(&self) -> Option<bool> {
        self.properties.bool(prop::IS_PRIVATE_WORKING_COPY)
    }
    pub fn is_version_series_checked_out(&self) -> Option<bool> {
        self.properties.bool(prop::IS_VERSION_SERIES_CHECKED_OUT)
    }
    pub fn version_series_checked_out_by(&self) -> Option<&str> {
        self.properties.str(prop::VERSION_SERIES_CHECKED_OUT_BY)
    }
    pub fn version_series_checked_out_id(&self) -> Option<&str> {
        self.properties.str(prop::VERSION_SERIES_CHECKED_OUT_ID)
    }
    pub fn checkin_comment(&self) -> Option<&str> {
        self.properties.str(prop::CHECKIN_COMMENT)
    }
    pub fn allows(&self, action: Action) -> Option<bool> {
        self.allowable_actions.as_ref().map(|a| a.allows(action))
    }
}

/// One page of objects (getChildren, query, getCheckedOutDocs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectList {
    pub objects: Vec<CmisObject>,
    pub has_more_items: bool,
    pub num_items: Option<u64>,
}

/// A parent folder of an object and the object's name in it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectParent {
    pub folder: CmisObject,
    pub relative_path_segment: Option<String>,
}

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

/// The kind of a content change event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Created,
    Updated,
    Deleted,
    Security,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Created => "created",
            ChangeType::Updated => "updated",
            ChangeType::Deleted => "deleted",
            ChangeType::Security => "security",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeType> {
        Some(match s {
            "created" => ChangeType::Created,
            "updated" => ChangeType::Updated,
            "deleted" => ChangeType::Deleted,
            "security" => ChangeType::Security,
            _ => return None,
        })
    }
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    pub object_id: String,
    pub change_type: ChangeType,
    pub change_time: Option<DateTime<Utc>>,
    /// Properties of the changed object, when the repository includes them.
    pub properties: Properties,
}

/// getContentChanges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContentChanges {
    pub events: Vec<ChangeEvent>,
    pub has_more_items: bool,
    /// The token to pass next time to continue after these events.
    pub latest_change_log_token: Option<String>,
}

/// A byte range of a content stream: `length: None` means "to the end".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub offset: u64,
    pub length: Option<u64>,
}

impl ByteRange {
    /// The value of an HTTP `Range` header for this range.
    pub fn to_http_header(self) -> String {
        match self.length {
            Some(0) | None => format!("bytes={}-", self.offset),
            Some(len) => format!("bytes={}-{}", self.offset, self.offset + len - 1),
        }
    }
}

/// A stream of content bytes; errors are I/O errors so that the same type
/// can carry a local file, an HTTP body or a server-side blob.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'static>>;

/// A content stream read from the server. The body is streamed: nothing
/// holds the whole document in memory.
pub struct ContentStream {
    /// Length of this response's body (of the range, for a ranged read),
    /// when the server said it.
    pub length: Option<u64>,
    pub mime_type: Option<String>,
    pub file_name: Option<String>,
    /// For a ranged read: the first byte's offset as the server answered
    /// (`Content-Range`). `None` when the server ignored the range and sent
    /// the whole stream from byte 0.
    pub range_start: Option<u64>,
    pub body: ByteStream,
}

impl fmt::Debug for ContentStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentStream")
            .field("length", &self.length)
            .field("mime_type", &self.mime_type)
            .field("file_name", &self.file_name)
            .field("range_start", &self.range_start)
            .finish_non_exhaustive()
    }
}

impl ContentStream {
    /// Collects the whole body. For tests and small documents only.
    pub async fn into_bytes(self) -> Result<Vec<u8>, CmisError> {
        use futures_util::StreamExt;
        let mut body = self.body;
        let mut out = Vec::with_capacity(self.length.unwrap_or(0).min(1 << 20) as usize);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| CmisError::Transport {
                message: format!("reading the content stream failed: {e}"),
            })?;
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}

/// Content to upload. The body is a stream, so a large local file is sent
/// without being read into memory.
pub struct ContentUpload {
    pub file_name: String,
    pub mime_type: String,
    /// Exact length of the body when known (lets bindings send
    /// Content-Length instead of chunked encoding).
    pub length: Option<u64>,
    pub body: ByteStream,
}

impl fmt::Debug for ContentUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentUpload")
            .field("file_name", &self.file_name)
            .field("mime_type", &self.mime_type)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

impl ContentUpload {
    /// Content from memory (small documents, tests).
    pub fn from_bytes(
        file_name: impl Into<String>,
        mime_type: impl Into<String>,
        data: impl Into<Bytes>,
    ) -> Self {
        let data: Bytes = data.into();
        let length = data.len() as u64;
        let body: ByteStream = Box::pin(futures_util::stream::once(async move { Ok(data) }));
        ContentUpload {
            file_name: file_name.into(),
            mime_type: mime_type.into(),
            length: Some(length),
            body,
        }
    }

    /// Content streamed from a local file.
    pub async fn from_file(
        path: &std::path::Path,
        file_name: impl Into<String>,
        mime_type: impl Into<String>,
    ) -> std::io::Result<Self> {
        use tokio::io::AsyncReadExt;
        let file = tokio::fs::File::open(path).await?;
        let length = file.metadata().await?.len();
        // No more than announced: a file that grows meanwhile (written
        // during its upload) must not overrun the request's length.
        let body: ByteStream = Box::pin(tokio_util::io::ReaderStream::with_capacity(
            file.take(length),
            256 * 1024,
        ));
        Ok(ContentUpload {
            file_name: file_name.into(),
            mime_type: mime_type.into(),
            length: Some(length),
            body,
        })
    }

    /// `len` bytes of the file at `path` from `offset` (one piece of an
    /// upload in chunks).
    pub async fn from_file_range(
        path: &std::path::Path,
        offset: u64,
        len: u64,
        file_name: impl Into<String>,
        mime_type: impl Into<String>,
    ) -> std::io::Result<Self> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let mut file = tokio::fs::File::open(path).await?;
        file.seek(std::io::SeekFrom::Start(offset)).await?;
        let body: ByteStream = Box::pin(tokio_util::io::ReaderStream::with_capacity(
            file.take(len),
            256 * 1024,
        ));
        Ok(ContentUpload {
            file_name: file_name.into(),
            mime_type: mime_type.into(),
            length: Some(len),
            body,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_header() {
        assert_eq!(
            ByteRange {
                offset: 0,
                length: Some(1)
            }
            .to_http_header(),
            "bytes=0-0"
        );
        assert_eq!(
            ByteRange {
                offset: 10,
                length: None
            }
            .to_http_header(),
            "bytes=10-"
        );
        assert_eq!(
            ByteRange {
                offset: 5,
                length: Some(10)
            }
            .to_http_header(),
            "bytes=5-14"
        );
    }

    #[test]
    fn action_names_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("canGetAcl"), Some(Action::GetAcl));
    }
}
