//! The fixed type system of the embedded repository.
//!
//! Four types: `cmis:document` (versionable, like Alfresco's content
//! type), its non-versionable subtype `cmisfs:plainDocument`,
//! `cmis:folder` and `cmis:secondary` (no subtypes; the repository does
//! not support type mutation). Each property definition carries what the
//! Browser binding's non-succinct JSON repeats next to every value.

use crate::cmis::model::{prop, BaseType, PropertyType};

/// The non-versionable document type.
pub const PLAIN_DOCUMENT: &str = "cmisfs:plainDocument";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Updatability {
    ReadOnly,
    ReadWrite,
    OnCreate,
}

impl Updatability {
    pub fn as_str(self) -> &'static str {
        match self {
            Updatability::ReadOnly => "readonly",
            Updatability::ReadWrite => "readwrite",
            Updatability::OnCreate => "oncreate",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PropDef {
    pub id: &'static str,
    pub display_name: &'static str,
    pub property_type: PropertyType,
    pub multi: bool,
    pub updatability: Updatability,
    pub required: bool,
    pub orderable: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct TypeDef {
    pub id: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
    pub base: BaseType,
    pub parent: Option<&'static str>,
    pub creatable: bool,
    pub fileable: bool,
    pub queryable: bool,
    pub versionable: bool,
}

const fn p(
    id: &'static str,
    display_name: &'static str,
    property_type: PropertyType,
    updatability: Updatability,
) -> PropDef {
    PropDef {
        id,
        display_name,
        property_type,
        multi: false,
        updatability,
        required: false,
        orderable: true,
    }
}

use PropertyType as T;
use Updatability::*;

const COMMON: &[PropDef] = &[
    PropDef {
        required: true,
        ..p(prop::NAME, "Name", T::String, ReadWrite)
    },
    p(prop::DESCRIPTION, "Description", T::String, ReadWrite),
    PropDef {
        required: true,
        ..p(prop::OBJECT_ID, "Object Id", T::Id, ReadOnly)
    },
    PropDef {
        required: true,
        ..p(prop::BASE_TYPE_ID, "Base Type Id", T::Id, ReadOnly)
    },
    PropDef {
        required: true,
        ..p(prop::OBJECT_TYPE_ID, "Type Id", T::Id, OnCreate)
    },
    PropDef {
        multi: true,
        orderable: false,
        ..p(
            prop::SECONDARY_OBJECT_TYPE_IDS,
            "Secondary Type Ids",
            T::Id,
            ReadWrite,
        )
    },
    p(prop::CREATED_BY, "Created By", T::String, ReadOnly),
    p(prop::CREATION_DATE, "Creation Date", T::DateTime, ReadOnly),
    p(prop::LAST_MODIFIED_BY, "Modified By", T::String, ReadOnly),
    p(
        prop::LAST_MODIFICATION_DATE,
        "Modification Date",
        T::DateTime,
        ReadOnly,
    ),
    p(prop::CHANGE_TOKEN, "Change Token", T::String, ReadOnly),
];

const DOCUMENT: &[PropDef] = &[
    p(prop::IS_IMMUTABLE, "Is Immutable", T::Boolean, ReadOnly),
    p(
        prop::IS_LATEST_VERSION,
        "Is Latest Version",
        T::Boolean,
        ReadOnly,
    ),
    p(
        prop::IS_MAJOR_VERSION,
        "Is Major Version",
        T::Boolean,
        ReadOnly,
    ),
    p(
        prop::IS_LATEST_MAJOR_VERSION,
        "Is Latest Major Version",
        T::Boolean,
        ReadOnly,
    ),
    p(
        prop::IS_PRIVATE_WORKING_COPY,
        "Is Private Working Copy",
        T::Boolean,
        ReadOnly,
    ),
    p(prop::VERSION_LABEL, "Version Label", T::String, ReadOnly),
    p(
        prop::VERSION_SERIES_ID,
        "Version Series Id",
        T::Id,
        ReadOnly,
    ),
    p(
        prop::IS_VERSION_SERIES_CHECKED_OUT,
        "Is Version Series Checked Out",
        T::Boolean,
        ReadOnly,
    ),
    p(
        prop::VERSION_SERIES_CHECKED_OUT_BY,
        "Version Series Checked Out By",
        T::String,
        ReadOnly,
    ),
    p(
        prop::VERSION_SERIES_CHECKED_OUT_ID,
        "Version Series Checked Out Id",
        T::Id,
        ReadOnly,
    ),
    p(
        prop::CHECKIN_COMMENT,
        "Checkin Comment",
        T::String,
        ReadOnly,
    ),
    p(
        prop::CONTENT_STREAM_LENGTH,
        "Content Stream Length",
        T::Integer,
        ReadOnly,
    ),
    p(
        prop::CONTENT_STREAM_MIME_TYPE,
        "Mime Type",
        T::String,
        ReadOnly,
    ),
    p(
        prop::CONTENT_STREAM_FILE_NAME,
        "Filename",
        T::String,
        ReadOnly,
    ),
    p(
        prop::CONTENT_STREAM_ID,
        "Content Stream Id",
        T::Id,
        ReadOnly,
    ),
];

const FOLDER: &[PropDef] = &[
    p(prop::PARENT_ID, "Parent Id", T::Id, ReadOnly),
    p(prop::PATH, "Path", T::String, ReadOnly),
    PropDef {
        multi: true,
        orderable: false,
        ..p(
            prop::ALLOWED_CHILD_OBJECT_TYPE_IDS,
            "Allowed Child Types",
            T::Id,
            ReadOnly,
        )
    },
];

pub const TYPES: &[TypeDef] = &[
    TypeDef {
        id: "cmis:document",
        display_name: "Document",
        description: "Document (versionable)",
        base: BaseType::Document,
        parent: None,
        creatable: true,
        fileable: true,
        queryable: true,
        versionable: true,
    },
    TypeDef {
        id: PLAIN_DOCUMENT,
        display_name: "Plain document",
        description: "Document without versions",
        base: BaseType::Document,
        parent: Some("cmis:document"),
        creatable: true,
        fileable: true,
        queryable: true,
        versionable: false,
    },
    TypeDef {
        id: "cmis:folder",
        display_name: "Folder",
        description: "Folder",
        base: BaseType::Folder,
        parent: None,
        creatable: true,
        fileable: true,
        queryable: true,
        versionable: false,
    },
    TypeDef {
        id: "cmis:secondary",
        display_name: "Secondary Type",
        description: "Secondary type",
        base: BaseType::Secondary,
        parent: None,
        creatable: false,
        fileable: false,
        queryable: false,
        versionable: false,
    },
];

pub fn type_def(id: &str) -> Option<&'static TypeDef> {
    TYPES.iter().find(|t| t.id == id)
}

pub fn children_of(parent: Option<&str>) -> Vec<&'static TypeDef> {
    TYPES.iter().filter(|t| t.parent == parent).collect()
}

/// The property definitions of a type, in a stable order.
pub fn props_of(t: &TypeDef) -> Vec<&'static PropDef> {
    let own: &[PropDef] = match t.base {
        BaseType::Document => DOCUMENT,
        BaseType::Folder => FOLDER,
        _ => &[],
    };
    if t.base == BaseType::Secondary {
        return Vec::new();
    }
    COMMON.iter().chain(own.iter()).collect()
}

/// The definition of one property on documents or folders (any type).
pub fn prop_def(id: &str) -> Option<&'static PropDef> {
    COMMON
        .iter()
        .chain(DOCUMENT.iter())
        .chain(FOLDER.iter())
        .find(|p| p.id == id)
}

/// True if `sub` is `sup` or derives from it.
pub fn is_subtype(sub: &str, sup: &str) -> bool {
    let mut cur = type_def(sub);
    while let Some(t) = cur {
        if t.id == sup {
            return true;
        }
        cur = t.parent.and_then(type_def);
    }
    false
}
