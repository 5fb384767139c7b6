//! Typed CMIS data: repositories and their capabilities, objects, properties,
//! allowable actions, type definitions, change events and content streams.
//!
//! This module is binding-neutral: the Browser binding (JSON) and the AtomPub
//! binding (XML) both parse into these types, and the embedded repository
//! (`src/repo/`) serves them. Property ids are kept as the server sends them
//! (`cmis:name`, vendor ids such as `cm:title` alike); typed accessors cover
//! the `cmis:` properties the file system needs.
//!
//! Submodules, all re-exported here: `properties`, `object`, `repository`
//! (repository info, type definitions), `changes` (the change log),
//! `content` (content streams and uploads), `options`.

mod changes;
mod content;
mod object;
mod options;
mod properties;
mod repository;

pub use changes::*;
pub use content::*;
pub use object::*;
pub use options::*;
pub use properties::*;
pub use repository::*;

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
