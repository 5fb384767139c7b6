//! Reading AtomPub documents into the typed model: the service document
//! (one workspace per repository: its repositoryInfo, collections, URI
//! templates and links), entries (cmisra:object with cmis:properties and
//! cmis:allowableActions, plus the entry's links), feeds (entries, paging),
//! type definitions, and OpenCMIS-style HTML error bodies.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::xml::{Element, APP, ATOM, CMIS, CMISRA};
use crate::cmis::error::{CmisError, Result};
use crate::cmis::model::*;

/// An atom:link.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub rel: String,
    pub href: String,
    pub media_type: Option<String>,
}

/// Link relations of the CMIS namespace (3.4.3.4).
pub mod rel {
    pub const CHANGES: &str = "http://docs.oasis-open.org/ns/cmis/link/200908/changes";
    pub const FOLDER_TREE: &str = "http://docs.oasis-open.org/ns/cmis/link/200908/foldertree";
}

/// One repository of a service document.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub info: RepositoryInfo,
    /// cmisra:collectionType → href (root, types, query, checkedout, unfiled...).
    pub collections: HashMap<String, String>,
    /// cmisra:type → template (objectbyid, objectbypath, query, typebyid).
    pub templates: HashMap<String, String>,
    pub links: Vec<Link>,
}

impl Workspace {
    pub fn link(&self, rel: &str) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.rel == rel)
            .map(|l| l.href.as_str())
    }
}

/// The links of an object entry the binding follows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectLinks {
    pub self_: Option<String>,
    pub edit: Option<String>,
    pub edit_media: Option<String>,
    /// atom:content/@src.
    pub content_src: Option<String>,
    /// down, atom feed: the children collection.
    pub children: Option<String>,
    /// down, cmistree: the descendants feed.
    pub descendants: Option<String>,
    pub folder_tree: Option<String>,
    pub up: Option<String>,
    pub version_history: Option<String>,
}

impl ObjectLinks {
    fn from_links(links: &[Link], content_src: Option<String>) -> ObjectLinks {
        let mut out = ObjectLinks {
            content_src,
            ..ObjectLinks::default()
        };
        for link in links {
            let href = Some(link.href.clone());
            let mt = link
                .media_type
                .as_deref()
                .unwrap_or("")
                .to_ascii_lowercase();
            match link.rel.as_str() {
                "self" => out.self_ = href,
                "edit" => out.edit = href,
                "edit-media" => out.edit_media = href,
                "up" => out.up = out.up.take().or(href),
                "version-history" => out.version_history = href,
                rel::FOLDER_TREE => out.folder_tree = href,
                "down" if mt.contains("cmistree") => out.descendants = href,
                "down" if out.children.is_none() => out.children = href,
                _ => {}
            }
        }
        out
    }
}

/// A change event's info (changes feed entries).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeInfo {
    pub change_type: ChangeType,
    pub change_time: Option<DateTime<Utc>>,
}

/// One atom:entry holding a CMIS object.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub object: CmisObject,
    pub links: ObjectLinks,
    pub relative_path_segment: Option<String>,
    pub change: Option<ChangeInfo>,
}

/// One atom:feed of objects.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    pub entries: Vec<Entry>,
    pub links: Vec<Link>,
    pub num_items: Option<u64>,
    pub has_more_items: bool,
    /// A change log token extension element (OpenCMIS
    /// `chemistry:changeLogToken`) in a changes feed.
    pub change_log_token: Option<String>,
}

impl Feed {
    pub fn link(&self, rel: &str) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.rel == rel)
            .map(|l| l.href.as_str())
    }
}

pub fn protocol(message: impl Into<String>) -> CmisError {
    CmisError::Protocol {
        message: message.into(),
    }
}

fn links_of(el: &Element) -> Vec<Link> {
    el.children_named(ATOM, "link")
        .filter_map(|l| {
            Some(Link {
                rel: l.attr("rel").unwrap_or("alternate").to_string(),
                href: l.attr("href")?.to_string(),
                media_type: l.attr("type").map(str::to_string),
            })
        })
        .collect()
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn bool_of(el: &Element, name: &str) -> Option<bool> {
    el.child_text(CMIS, name).and_then(parse_bool)
}

fn text_of(el: &Element, name: &str) -> String {
    el.child_text(CMIS, name).unwrap_or_default().to_string()
}

pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

// ----- service document -------------------------------------------------

/// The workspaces of a service document.
pub fn service_document(root: &Element) -> Result<Vec<Workspace>> {
    if !root.is(APP, "service") {
        return Err(protocol(format!(
            "expected an AtomPub service document (app:service), got <{}>",
            root.qualified()
        )));
    }
    let mut out = Vec::new();
    for ws in root.children_named(APP, "workspace") {
        let info_el = ws.child(CMISRA, "repositoryInfo").ok_or_else(|| {
            protocol("a workspace of the service document has no cmisra:repositoryInfo (not a CMIS server?)")
        })?;
        let info = repository_info(info_el)?;
        let mut collections = HashMap::new();
        for c in ws.children_named(APP, "collection") {
            if let (Some(kind), Some(href)) =
                (c.child_text(CMISRA, "collectionType"), c.attr("href"))
            {
                collections
                    .entry(kind.to_string())
                    .or_insert_with(|| href.to_string());
            }
        }
        let mut templates = HashMap::new();
        // The spec text says cmis:uritemplate, the schema and servers cmisra:.
        for t in ws.children.iter().filter(|c| c.name == "uritemplate") {
            let find = |name: &str| {
                t.children
                    .iter()
                    .find(|c| c.name == name)
                    .map(|c| c.text.trim().to_string())
            };
            if let (Some(kind), Some(template)) = (find("type"), find("template")) {
                let media = find("mediatype").unwrap_or_default();
                // Several entries per type may differ by media type: keep the Atom one.
                if !templates.contains_key(&kind) || media.contains("atom") {
                    templates.insert(kind, template);
                }
            }
        }
        out.push(Workspace {
            info,
            collections,
            templates,
            links: links_of(ws),
        });
    }
    if out.is_empty() {
        return Err(protocol("the service document lists no CMIS repository"));
    }
    Ok(out)
}

pub fn repository_info(el: &Element) -> Result<RepositoryInfo> {
    let id = text_of(el, "repositoryId");
    if id.is_empty() {
        return Err(protocol("repositoryInfo without repositoryId"));
    }
    let caps = el.child(CMIS, "capabilities");
    let cap = |name: &str| caps.and_then(|c| c.child_text(CMIS, name)).unwrap_or("");
    let cap_bool = |name: &str| parse_bool(cap(name)).unwrap_or(false);
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let capabilities = Capabilities {
        content_stream_updatability: match cap("capabilityContentStreamUpdatability") {
            "anytime" => ContentStreamUpdates::Anytime,
            "pwconly" => ContentStreamUpdates::PwcOnly,
            _ => ContentStreamUpdates::None,
        },
        changes: match cap("capabilityChanges") {
            "objectidsonly" => ChangesCapability::ObjectIdsOnly,
            "properties" => ChangesCapability::Properties,
            "all" => ChangesCapability::All,
            _ => ChangesCapability::None,
        },
        get_descendants: cap_bool("capabilityGetDescendants"),
        get_folder_tree: cap_bool("capabilityGetFolderTree"),
        multifiling: cap_bool("capabilityMultifiling"),
        unfiling: cap_bool("capabilityUnfiling"),
        version_specific_filing: cap_bool("capabilityVersionSpecificFiling"),
        pwc_updatable: cap_bool("capabilityPWCUpdatable"),
        pwc_searchable: cap_bool("capabilityPWCSearchable"),
        all_versions_searchable: cap_bool("capabilityAllVersionsSearchable"),
        query: match cap("capabilityQuery") {
            "metadataonly" => QueryCapability::MetadataOnly,
            "fulltextonly" => QueryCapability::FullTextOnly,
            "bothseparate" => QueryCapability::BothSeparate,
            "bothcombined" => QueryCapability::BothCombined,
            _ => QueryCapability::None,
        },
        acl: match cap("capabilityACL") {
            "discover" => AclCapability::Discover,
            "manage" => AclCapability::Manage,
            _ => AclCapability::None,
        },
        order_by: opt(cap("capabilityOrderBy")),
        renditions: opt(cap("capabilityRenditions")),
        join: opt(cap("capabilityJoin")),
    };
    Ok(RepositoryInfo {
        id,
        name: text_of(el, "repositoryName"),
        description: text_of(el, "repositoryDescription"),
        vendor_name: text_of(el, "vendorName"),
        product_name: text_of(el, "productName"),
        product_version: text_of(el, "productVersion"),
        cmis_version_supported: text_of(el, "cmisVersionSupported"),
        root_folder_id: text_of(el, "rootFolderId"),
        latest_change_log_token: el
            .child_text(CMIS, "latestChangeLogToken")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        changes_incomplete: bool_of(el, "changesIncomplete"),
        principal_anonymous: el
            .child_text(CMIS, "principalAnonymous")
            .map(str::to_string),
        principal_anyone: el.child_text(CMIS, "principalAnyone").map(str::to_string),
        capabilities,
    })
}

// ----- objects ------------------------------------------------------------

/// cmis:properties → Properties. A value the type cannot hold is a
/// protocol error naming the property.
pub fn properties(el: &Element) -> Result<Properties> {
    let mut props = Properties::new();
    for p in &el.children {
        if p.ns != CMIS {
            continue;
        }
        let Some(id) = p
            .attr("propertyDefinitionId")
            .or_else(|| p.attr("queryName"))
            .or_else(|| p.attr("localName"))
        else {
            continue;
        };
        let values: Vec<&str> = p
            .children_named(CMIS, "value")
            .map(|v| v.text.as_str())
            .collect();
        let bad = |v: &str| protocol(format!("property {id}: '{v}' is not a valid {}", p.name));
        let value = match p.name.as_str() {
            "propertyString" => {
                PropertyValue::String(values.iter().map(|v| v.to_string()).collect())
            }
            "propertyId" => {
                PropertyValue::Id(values.iter().map(|v| v.trim().to_string()).collect())
            }
            "propertyUri" => {
                PropertyValue::Uri(values.iter().map(|v| v.trim().to_string()).collect())
            }
            "propertyHtml" => PropertyValue::Html(values.iter().map(|v| v.to_string()).collect()),
            "propertyInteger" => PropertyValue::Integer(
                values
                    .iter()
                    .map(|v| v.trim().parse::<i64>().map_err(|_| bad(v)))
                    .collect::<Result<_>>()?,
            ),
            "propertyDecimal" => PropertyValue::Decimal(
                values
                    .iter()
                    .map(|v| v.trim().parse::<f64>().map_err(|_| bad(v)))
                    .collect::<Result<_>>()?,
            ),
            "propertyBoolean" => PropertyValue::Boolean(
                values
                    .iter()
                    .map(|v| parse_bool(v).ok_or_else(|| bad(v)))
                    .collect::<Result<_>>()?,
            ),
            "propertyDateTime" => PropertyValue::DateTime(
                values
                    .iter()
                    .map(|v| parse_datetime(v).ok_or_else(|| bad(v)))
                    .collect::<Result<_>>()?,
            ),
            _ => continue,
        };
        props.set(id, value);
    }
    Ok(props)
}

pub fn allowable_actions(el: &Element) -> AllowableActions {
    AllowableActions(
        el.children
            .iter()
            .filter(|c| parse_bool(&c.text) == Some(true))
            .filter_map(|c| Action::parse(&c.name))
            .collect::<BTreeSet<_>>(),
    )
}

/// An atom:entry with a cmisra:object.
pub fn entry(el: &Element) -> Result<Entry> {
    if !el.is(ATOM, "entry") {
        return Err(protocol(format!(
            "expected an Atom entry, got <{}>",
            el.qualified()
        )));
    }
    let obj = el
        .child(CMISRA, "object")
        .ok_or_else(|| protocol("Atom entry without cmisra:object"))?;
    let props = match obj.child(CMIS, "properties") {
        Some(p) => properties(p)?,
        None => Properties::new(),
    };
    let change = match obj.child(CMIS, "changeEventInfo") {
        Some(info) => Some(ChangeInfo {
            change_type: info
                .child_text(CMIS, "changeType")
                .and_then(ChangeType::parse)
                .ok_or_else(|| protocol("change event without a valid changeType"))?,
            change_time: info.child_text(CMIS, "changeTime").and_then(parse_datetime),
        }),
        None => None,
    };
    let content_src = el
        .child(ATOM, "content")
        .and_then(|c| c.attr("src"))
        .map(str::to_string);
    Ok(Entry {
        object: CmisObject {
            properties: props,
            allowable_actions: obj.child(CMIS, "allowableActions").map(allowable_actions),
            path_segment: el.child_text(CMISRA, "pathSegment").map(str::to_string),
        },
        links: ObjectLinks::from_links(&links_of(el), content_src),
        relative_path_segment: el
            .child_text(CMISRA, "relativePathSegment")
            .map(str::to_string),
        change,
    })
}

/// An atom:feed of object entries.
pub fn feed(el: &Element) -> Result<Feed> {
    if !el.is(ATOM, "feed") {
        return Err(protocol(format!(
            "expected an Atom feed, got <{}>",
            el.qualified()
        )));
    }
    let entries = el
        .children_named(ATOM, "entry")
        .map(entry)
        .collect::<Result<Vec<_>>>()?;
    let links = links_of(el);
    let has_next = links.iter().any(|l| l.rel == "next");
    let has_more = el
        .child_text(CMISRA, "hasMoreItems")
        .and_then(parse_bool)
        .unwrap_or(false);
    Ok(Feed {
        entries,
        num_items: el
            .child_text(CMISRA, "numItems")
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(|n| u64::try_from(n).ok()),
        has_more_items: has_next || has_more,
        change_log_token: el
            .children
            .iter()
            .find(|c| c.name == "changeLogToken" && c.ns != ATOM)
            .map(|c| c.text.trim().to_string())
            .filter(|t| !t.is_empty()),
        links,
    })
}

// ----- types --------------------------------------------------------------

/// An atom:entry with a cmisra:type.
pub fn type_definition(el: &Element) -> Result<TypeDefinition> {
    let t = el
        .child(CMISRA, "type")
        .ok_or_else(|| protocol("type entry without cmisra:type"))?;
    let id = text_of(t, "id");
    if id.is_empty() {
        return Err(protocol("type definition without id"));
    }
    let base_type = t.child_text(CMIS, "baseId").and_then(BaseType::parse);
    let mut defs = std::collections::BTreeMap::new();
    for p in &t.children {
        if p.ns != CMIS || !p.name.starts_with("property") || !p.name.ends_with("Definition") {
            continue;
        }
        let pid = text_of(p, "id");
        let Some(property_type) = p
            .child_text(CMIS, "propertyType")
            .and_then(PropertyType::parse)
        else {
            continue;
        };
        if pid.is_empty() {
            continue;
        }
        defs.insert(
            pid.clone(),
            PropertyDefinition {
                id: pid,
                property_type,
                multi_valued: p.child_text(CMIS, "cardinality") == Some("multi"),
                updatability: text_of(p, "updatability"),
                required: bool_of(p, "required").unwrap_or(false),
            },
        );
    }
    Ok(TypeDefinition {
        id,
        base_type,
        parent_id: t
            .child_text(CMIS, "parentId")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        display_name: t.child_text(CMIS, "displayName").map(str::to_string),
        creatable: bool_of(t, "creatable").unwrap_or(false),
        fileable: bool_of(t, "fileable").unwrap_or(false),
        queryable: bool_of(t, "queryable").unwrap_or(false),
        versionable: bool_of(t, "versionable"),
        content_stream_allowed: t
            .child_text(CMIS, "contentStreamAllowed")
            .map(str::to_string),
        property_definitions: defs,
    })
}

// ----- errors -------------------------------------------------------------

const EXCEPTIONS: [&str; 14] = [
    "invalidArgument",
    "notSupported",
    "objectNotFound",
    "permissionDenied",
    "runtime",
    "constraint",
    "contentAlreadyExists",
    "filterNotValid",
    "nameConstraintViolation",
    "storage",
    "streamNotSupported",
    "updateConflict",
    "versioning",
    "unauthorized",
];

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let lower = s.to_ascii_lowercase();
    let i = lower.find(&start.to_ascii_lowercase())? + start.len();
    let j = lower[i..].find(&end.to_ascii_lowercase())? + i;
    s.get(i..j)
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The exception name and message of an error body, when it names one
/// (OpenCMIS writes `<h1>exceptionName</h1><p class="cmis-message">...`).
pub fn error_body(body: &str) -> Option<(&'static str, String)> {
    // OpenCMIS marks both parts: <!--exception-->name<!--/exception-->.
    if let Some(marked) = between(body, "<!--exception-->", "<!--/exception-->") {
        if let Some(name) = EXCEPTIONS
            .iter()
            .find(|e| marked.trim().eq_ignore_ascii_case(e))
        {
            let message = between(body, "<!--message-->", "<!--/message-->")
                .map(strip_tags)
                .unwrap_or_default();
            return Some((name, message));
        }
    }
    let heading = between(body, "<h1>", "</h1>").map(strip_tags);
    let title = between(body, "<title>", "</title>").map(strip_tags);
    let name = [heading.as_deref(), title.as_deref()]
        .into_iter()
        .flatten()
        .find_map(|h| {
            EXCEPTIONS.iter().find(|e| {
                h.eq_ignore_ascii_case(e)
                    || h.split(|c: char| !c.is_ascii_alphanumeric())
                        .any(|w| w.eq_ignore_ascii_case(e))
            })
        })?;
    let message = between(body, "class=\"cmis-message\">", "</p>")
        .or_else(|| between(body, "<p>", "</p>"))
        .map(strip_tags)
        .unwrap_or_default();
    Some((name, message))
}

/// A short plain-text excerpt of an error body for messages.
pub fn error_excerpt(body: &str) -> String {
    let text = strip_tags(body);
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}
