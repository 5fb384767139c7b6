//! Objects: base types, allowable actions, objects and their pages and parents.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::{prop, Properties};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("canGetAcl"), Some(Action::GetAcl));
    }
}
