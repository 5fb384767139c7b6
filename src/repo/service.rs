//! The CMIS services of the embedded repository, on the store, in plain
//! synchronous Rust (the HTTP layer calls them from blocking tasks).
//!
//! Concepts:
//! - Objects are folders and documents; a document is one *version* of a
//!   *version series*. Only the latest version of a series is filed in
//!   folders (no version-specific filing); older versions and the private
//!   working copy (PWC) are reachable by id and through getAllVersions.
//! - Versionable documents (`cmis:document`) are created as version 1.0
//!   (or 0.1 with versioningState minor); checkOut makes a PWC with its own
//!   copy of the content; checkIn turns the PWC into the new latest version
//!   (1.1 minor, 2.0 major). The latest version may be updated in place
//!   while the series is not checked out (like Alfresco without
//!   auto-versioning); while checked out, only the PWC takes content, and
//!   only from the user who checked it out.
//! - `cmisfs:plainDocument` is not versionable: one version, label none.
//! - Every change bumps the object's change token (a counter) and appends
//!   to the change log; a request carrying a stale token gets
//!   updateConflict.
//! - Names are unique within a folder (the `children` index enforces it);
//!   `/`, NUL, `.` and `..` are refused with nameConstraintViolation.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;

use chrono::{TimeZone, Utc};

use super::acl::{self, Perm};
use super::query;
use super::store::{
    Ace, ChangeRec, ContentRec, Kind, ObjRec, Read, Rx, SeriesRec, StorageResult, Store, Tx,
};
use super::types::{self, Updatability};
use crate::cmis::error::CmisError;
use crate::cmis::model::{
    prop, Action, AllowableActions, CmisObject, Properties, PropertyValue, UnfileObjects,
    VersioningState,
};

type Result<T> = std::result::Result<T, CmisError>;

/// Deepest folder nesting getDescendants/getFolderTree walk with depth -1.
const MAX_TREE_DEPTH: usize = 500;

/// How many folders lie above `rec` (stops counting past the limit).
fn nesting<R: Read>(r: &R, rec: &ObjRec) -> Result<usize> {
    let mut n = 0;
    let mut cur = rec.parents.first().cloned();
    while let Some(p) = cur {
        n += 1;
        if n > MAX_TREE_DEPTH {
            break;
        }
        cur = r.obj(&p)?.and_then(|f| f.parents.first().cloned());
    }
    Ok(n)
}

/// Longest accepted cmis:name, in bytes.
pub const MAX_NAME: usize = 1024;
/// Longest accepted value of any other string property, in bytes.
pub const MAX_VALUE: usize = 64 * 1024;

/// One page of the change log: (token, event) pairs, whether more
/// follow, and the token to continue from.
pub type ChangesPage = (Vec<(u64, ChangeRec)>, bool, Option<String>);

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub admin: bool,
}

impl User {
    pub fn admin() -> User {
        User {
            name: "admin".into(),
            admin: true,
        }
    }
}

/// Raw property input as the Browser binding sends it: id → values.
pub type PropInput = BTreeMap<String, Vec<String>>;

/// An upload already written and synced to a file in the store's tmp dir.
#[derive(Debug)]
pub struct Staged {
    pub path: PathBuf,
    pub length: u64,
    pub mime_type: String,
    pub file_name: String,
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Adopted files were renamed away; anything left is an orphan.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One node of getDescendants / getFolderTree.
#[derive(Debug)]
pub struct TreeNode {
    pub object: ObjRec,
    pub children: Vec<TreeNode>,
}

/// Paging of a list.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub skip: u64,
    pub max: u64,
}

#[derive(Debug)]
pub struct Listing {
    pub objects: Vec<ObjRec>,
    pub has_more: bool,
    pub num_items: u64,
}

pub struct Service {
    pub store: Store,
    pub repo_id: String,
    pub root_id: String,
}

fn now() -> i64 {
    Utc::now().timestamp_millis()
}

fn denied(what: &str) -> CmisError {
    CmisError::PermissionDenied(format!("no permission to {what}"))
}

pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(CmisError::NameConstraintViolation(
            "cmis:name must not be empty".into(),
        ));
    }
    if name.contains('/') || name.contains('\0') || name == "." || name == ".." {
        return Err(CmisError::NameConstraintViolation(format!(
            "'{name}' is not a valid name (no '/', NUL, '.' or '..')"
        )));
    }
    if name.len() > MAX_NAME {
        return Err(CmisError::NameConstraintViolation(format!(
            "name longer than {MAX_NAME} bytes"
        )));
    }
    Ok(())
}

fn single<'a>(input: &'a PropInput, id: &str) -> Option<&'a str> {
    input
        .get(id)
        .and_then(|v| v.first())
        .map(String::as_str)
        .filter(|s| !s.is_empty())
}

/// Checks the settable properties of an input against the type; returns
/// an error for unknown ids, read-only ids set to a new value, or oversized
/// values.
fn validate_input(input: &PropInput, creating: bool) -> Result<()> {
    for (id, values) in input {
        let def = types::prop_def(id).ok_or_else(|| {
            CmisError::Constraint(format!("property '{id}' is not defined for this type"))
        })?;
        for v in values {
            if v.len() > MAX_VALUE {
                return Err(CmisError::Constraint(format!(
                    "value of '{id}' longer than {MAX_VALUE} bytes"
                )));
            }
        }
        if !def.multi && values.len() > 1 {
            return Err(CmisError::Constraint(format!("'{id}' is single-valued")));
        }
        let ok = match def.updatability {
            Updatability::ReadWrite => true,
            Updatability::OnCreate => creating,
            Updatability::ReadOnly => false,
        };
        // Read-only properties are tolerated (clients echo them back) and
        // ignored, as OpenCMIS does.
        let _ = ok;
    }
    Ok(())
}

fn next_label(prev: Option<&str>, major: bool) -> String {
    let (m, n) = prev
        .and_then(|l| l.split_once('.'))
        .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
        .unwrap_or((0, 0));
    if major {
        format!("{}.0", m + 1)
    } else {
        format!("{}.{}", m, n + 1)
    }
}

fn ms_to_dt(ms: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl Service {
    /// Opens the store and creates the root folder on first use.
    pub fn open(data_dir: &std::path::Path) -> Result<Service> {
        let store = Store::open(data_dir)?;
        let mut tx = store.write()?;
        let repo_id = match tx.meta("repository_id")? {
            Some(id) => id,
            None => {
                let id = format!("cmisfs-{:08x}", rand_u32());
                tx.set_meta("repository_id", &id)?;
                id
            }
        };
        let root_id = match tx.meta("root_id")? {
            Some(id) => id,
            None => {
                let id = format!("f{}", tx.next_number()?);
                let t = now();
                let root = ObjRec {
                    id: id.clone(),
                    kind: Kind::Folder,
                    type_id: "cmis:folder".into(),
                    // Never part of a path; OpenCMIS names its root too.
                    name: "root".into(),
                    description: None,
                    secondary_types: Vec::new(),
                    parents: Vec::new(),
                    created_by: "system".into(),
                    created: t,
                    modified_by: "system".into(),
                    modified: t,
                    change_token: 1,
                    acl: vec![Ace {
                        principal: acl::ANYONE.into(),
                        permission: "cmis:all".into(),
                    }],
                    content: None,
                    series_id: None,
                    version_label: None,
                    is_major: false,
                    is_latest: false,
                    is_latest_major: false,
                    is_pwc: false,
                    checkin_comment: None,
                };
                tx.put_obj(&root)?;
                tx.set_meta("root_id", &id)?;
                log_change(&mut tx, &root, "created")?;
                id
            }
        };
        store.commit(tx)?;
        let svc = Service {
            store,
            repo_id,
            root_id,
        };
        svc.remove_orphan_content()?;
        Ok(svc)
    }

    /// Content files no record refers to: renamed in by a transaction that
    /// never committed (a crash between rename and commit). Run at start,
    /// before any request.
    fn remove_orphan_content(&self) -> Result<()> {
        let r = self.read()?;
        let used: HashSet<String> = r
            .all_objects()?
            .into_iter()
            .filter_map(|o| o.content.map(|c| c.id))
            .collect();
        let dir = self.store.content_path("");
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if !used.contains(&name) {
                    tracing::warn!(file = %name, "removing orphan content file");
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(())
    }

    pub fn read(&self) -> Result<Rx> {
        self.store.read()
    }

    pub fn latest_change_token<R: Read>(&self, r: &R) -> Result<Option<String>> {
        Ok(r.last_change()?.map(|t| t.to_string()))
    }

    // ----- reading -----

    /// The object, if the user may read it.
    pub fn get<R: Read>(&self, r: &R, user: &User, id: &str) -> Result<ObjRec> {
        let rec = r.need(id)?;
        if acl::permission(r, &user.name, user.admin, &rec)? < Perm::Read {
            return Err(denied(&format!("read '{id}'")));
        }
        Ok(rec)
    }

    /// getObject with returnVersion=latest / latestmajor.
    pub fn latest_version<R: Read>(
        &self,
        r: &R,
        user: &User,
        id: &str,
        major: bool,
    ) -> Result<ObjRec> {
        let rec = self.get(r, user, id)?;
        let Some(sid) = rec.series_id.clone() else {
            return Ok(rec);
        };
        let series = r
            .series(&sid)?
            .ok_or_else(|| CmisError::ObjectNotFound(format!("no version series '{sid}'")))?;
        for v in series.versions.iter().rev() {
            let o = r.need(v)?;
            if !major || o.is_major {
                return self.get(r, user, v);
            }
        }
        Err(CmisError::ObjectNotFound("no major version".into()))
    }

    pub fn by_path<R: Read>(&self, r: &R, user: &User, path: &str) -> Result<ObjRec> {
        if !path.starts_with('/') {
            return Err(CmisError::InvalidArgument(format!(
                "path '{path}' is not absolute"
            )));
        }
        let mut cur = self.root_id.clone();
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            if seg == "." || seg == ".." {
                return Err(CmisError::InvalidArgument(
                    "paths must not contain '.' or '..'".into(),
                ));
            }
            cur = r
                .child(&cur, seg)?
                .ok_or_else(|| CmisError::ObjectNotFound(format!("no object at path '{path}'")))?;
        }
        self.get(r, user, &cur)
    }

    /// The path of a folder.
    pub fn folder_path<R: Read>(&self, r: &R, rec: &ObjRec) -> Result<String> {
        let mut names = Vec::new();
        let mut cur = rec.clone();
        let mut guard = 0;
        while let Some(p) = cur.parents.first().cloned() {
            names.push(cur.name.clone());
            cur = r.need(&p)?;
            guard += 1;
            if guard > 10_000 {
                return Err(CmisError::Runtime("folder cycle".into()));
            }
        }
        names.reverse();
        Ok(format!("/{}", names.join("/")))
    }

    /// The folders an object is filed in (series-level for versions).
    pub fn parent_ids<R: Read>(&self, r: &R, rec: &ObjRec) -> Result<Vec<String>> {
        if !rec.parents.is_empty() || rec.kind == Kind::Folder {
            return Ok(rec.parents.clone());
        }
        let Some(sid) = &rec.series_id else {
            return Ok(Vec::new());
        };
        let Some(series) = r.series(sid)? else {
            return Ok(Vec::new());
        };
        match series.versions.last() {
            Some(latest) if *latest != rec.id => Ok(r.need(latest)?.parents),
            _ => Ok(Vec::new()),
        }
    }

    pub fn children<R: Read>(
        &self,
        r: &R,
        user: &User,
        folder_id: &str,
        order_by: Option<&str>,
        page: Page,
        folders_only: bool,
    ) -> Result<Listing> {
        let folder = self.get(r, user, folder_id)?;
        if folder.kind != Kind::Folder {
            return Err(CmisError::InvalidArgument(format!(
                "'{folder_id}' is not a folder"
            )));
        }
        let entries = r.children(folder_id)?;
        let order = parse_order(order_by)?;
        let simple_name_order = !folders_only
            && matches!(order.as_slice(), [] | [(_, true)])
            && order.iter().all(|(p, _)| p == prop::NAME);
        let mut out = Vec::new();
        if simple_name_order && user.admin {
            // Fast path: the index is already in name order; load only the page.
            let num = entries.len() as u64;
            let end = page.skip.saturating_add(page.max).min(num);
            for (_, id) in entries
                .iter()
                .skip(page.skip.min(num) as usize)
                .take((end.saturating_sub(page.skip)) as usize)
            {
                out.push(r.need(id)?);
            }
            return Ok(Listing {
                objects: out,
                has_more: end < num,
                num_items: num,
            });
        }
        let mut all = Vec::with_capacity(entries.len());
        let inherited = acl::folder_aces(r, &folder)?;
        for (_, id) in &entries {
            let rec = r.need(id)?;
            if folders_only && rec.kind != Kind::Folder {
                continue;
            }
            let perm = if rec.parents.len() == 1 {
                acl::child_permission(&user.name, user.admin, &rec, &inherited)
            } else {
                acl::permission(r, &user.name, user.admin, &rec)?
            };
            if perm < Perm::Read {
                continue;
            }
            all.push(rec);
        }
        sort_records(&mut all, &order);
        let num = all.len() as u64;
        let end = page.skip.saturating_add(page.max).min(num);
        let objects: Vec<ObjRec> = all
            .into_iter()
            .skip(page.skip.min(num) as usize)
            .take(end.saturating_sub(page.skip) as usize)
            .collect();
        Ok(Listing {
            objects,
            has_more: end < num,
            num_items: num,
        })
    }

    /// getDescendants (`folders_only` false) or getFolderTree; depth -1 =
    /// everything.
    pub fn tree<R: Read>(
        &self,
        r: &R,
        user: &User,
        folder_id: &str,
        depth: i64,
        folders_only: bool,
    ) -> Result<Vec<TreeNode>> {
        if depth == 0 || depth < -1 {
            return Err(CmisError::InvalidArgument(
                "depth must be -1 or greater than 0".into(),
            ));
        }
        let folder = self.get(r, user, folder_id)?;
        if folder.kind != Kind::Folder {
            return Err(CmisError::InvalidArgument(format!(
                "'{folder_id}' is not a folder"
            )));
        }
        // Deeper than the nesting limit is the same as "everything".
        let depth = if depth > MAX_TREE_DEPTH as i64 {
            -1
        } else {
            depth
        };
        self.tree_rec(r, user, folder_id, depth, folders_only, &mut 0)
    }

    fn tree_rec<R: Read>(
        &self,
        r: &R,
        user: &User,
        folder_id: &str,
        depth: i64,
        folders_only: bool,
        count: &mut u64,
    ) -> Result<Vec<TreeNode>> {
        let mut out = Vec::new();
        for (_, id) in r.children(folder_id)? {
            let rec = r.need(&id)?;
            if folders_only && rec.kind != Kind::Folder {
                continue;
            }
            if acl::permission(r, &user.name, user.admin, &rec)? < Perm::Read {
                continue;
            }
            *count += 1;
            if *count > 100_000 {
                return Err(CmisError::Constraint(
                    "tree too large; use a smaller depth".into(),
                ));
            }
            // Bounded recursion: a pathological nesting must not overflow
            // the stack (the walk below and the JSON rendering recurse).
            let children = if rec.kind == Kind::Folder && (depth == -1 || depth > 1) {
                if *count > 100_000 || depth == -1 && nesting(r, &rec)? > MAX_TREE_DEPTH {
                    return Err(CmisError::Constraint(
                        "folder tree too deep; use a smaller depth".into(),
                    ));
                }
                let d = if depth == -1 { -1 } else { depth - 1 };
                self.tree_rec(r, user, &id, d, folders_only, count)?
            } else {
                Vec::new()
            };
            out.push(TreeNode {
                object: rec,
                children,
            });
        }
        Ok(out)
    }

    /// getObjectParents: (folder, the object's name in it).
    pub fn parents<R: Read>(&self, r: &R, user: &User, id: &str) -> Result<Vec<(ObjRec, String)>> {
        let rec = self.get(r, user, id)?;
        if rec.id == self.root_id {
            return Err(CmisError::InvalidArgument(
                "the root folder has no parent".into(),
            ));
        }
        let mut out = Vec::new();
        for p in self.parent_ids(r, &rec)? {
            let f = r.need(&p)?;
            if acl::permission(r, &user.name, user.admin, &f)? >= Perm::Read {
                out.push((f, rec.name.clone()));
            }
        }
        Ok(out)
    }

    pub fn all_versions<R: Read>(&self, r: &R, user: &User, id: &str) -> Result<Vec<ObjRec>> {
        // Accept a version series id as well as an object id.
        let sid = match r.obj(id)? {
            Some(rec) => {
                self.get(r, user, id)?;
                rec.series_id.ok_or_else(|| {
                    CmisError::InvalidArgument(format!("'{id}' is not a document"))
                })?
            }
            None => id.to_string(),
        };
        let series = r
            .series(&sid)?
            .ok_or_else(|| CmisError::ObjectNotFound(format!("no object '{id}'")))?;
        let mut out = Vec::new();
        if let Some(pwc) = &series.pwc {
            out.push(r.need(pwc)?);
        }
        for v in series.versions.iter().rev() {
            out.push(r.need(v)?);
        }
        Ok(out)
    }

    pub fn checked_out<R: Read>(
        &self,
        r: &R,
        user: &User,
        folder: Option<&str>,
    ) -> Result<Vec<ObjRec>> {
        let mut out = Vec::new();
        for rec in r.all_objects()? {
            if !rec.is_pwc {
                continue;
            }
            if let Some(f) = folder {
                if !self.parent_ids(r, &rec)?.iter().any(|p| p == f) {
                    continue;
                }
            }
            if acl::permission(r, &user.name, user.admin, &rec)? >= Perm::Read {
                out.push(rec);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The user's permission on an object.
    pub fn permission<R: Read>(&self, r: &R, user: &User, rec: &ObjRec) -> Result<Perm> {
        acl::permission(r, &user.name, user.admin, rec)
    }

    /// The allowable actions of `rec` for `user`.
    pub fn actions<R: Read>(&self, r: &R, user: &User, rec: &ObjRec) -> Result<AllowableActions> {
        let perm = acl::permission(r, &user.name, user.admin, rec)?;
        let mut a = BTreeSet::new();
        if perm >= Perm::Read {
            a.insert(Action::GetProperties);
            a.insert(Action::GetAcl);
        }
        let is_root = rec.id == self.root_id;
        let write = perm >= Perm::Write;
        match rec.kind {
            Kind::Folder => {
                if perm >= Perm::Read {
                    a.extend([
                        Action::GetChildren,
                        Action::GetDescendants,
                        Action::GetFolderTree,
                    ]);
                    if !is_root {
                        a.insert(Action::GetFolderParent);
                        a.insert(Action::GetObjectParents);
                    }
                }
                if write {
                    a.extend([
                        Action::UpdateProperties,
                        Action::CreateDocument,
                        Action::CreateFolder,
                    ]);
                    if !is_root {
                        a.extend([Action::MoveObject, Action::DeleteTree]);
                        if r.child_count(&rec.id)? == 0 {
                            a.insert(Action::DeleteObject);
                        }
                    }
                }
            }
            Kind::Document => {
                let series = match &rec.series_id {
                    Some(s) => r.series(s)?,
                    None => None,
                };
                let checked_out_by = series.as_ref().and_then(|s| s.checked_out_by.clone());
                let versionable = types::type_def(&rec.type_id).is_some_and(|t| t.versionable);
                let owner = checked_out_by.as_deref() == Some(user.name.as_str()) || user.admin;
                if perm >= Perm::Read {
                    a.insert(Action::GetObjectParents);
                    a.insert(Action::GetAllVersions);
                    if rec.content.is_some() {
                        a.insert(Action::GetContentStream);
                    }
                }
                if write {
                    let filed = !rec.parents.is_empty();
                    let editable = if rec.is_pwc {
                        owner
                    } else {
                        rec.is_latest && checked_out_by.is_none()
                    };
                    if editable || (rec.is_latest && !rec.is_pwc) {
                        a.insert(Action::UpdateProperties);
                    }
                    if editable {
                        a.insert(Action::SetContentStream);
                        if rec.content.is_some() {
                            a.insert(Action::DeleteContentStream);
                        }
                    }
                    if !rec.is_pwc || owner {
                        a.insert(Action::DeleteObject);
                    }
                    if filed {
                        a.insert(Action::MoveObject);
                        a.insert(Action::RemoveObjectFromFolder);
                    }
                    if rec.is_latest && !rec.is_pwc {
                        a.insert(Action::AddObjectToFolder);
                    }
                    if versionable && rec.is_latest && checked_out_by.is_none() {
                        a.insert(Action::CheckOut);
                    }
                    if rec.is_pwc && owner {
                        a.insert(Action::CancelCheckOut);
                        a.insert(Action::CheckIn);
                    }
                }
            }
        }
        if perm >= Perm::All {
            a.insert(Action::ApplyAcl);
        }
        Ok(AllowableActions(a))
    }

    /// The CMIS properties of a stored object.
    pub fn properties<R: Read>(&self, r: &R, rec: &ObjRec) -> Result<Properties> {
        let mut p = Properties::new();
        let s = |v: &str| PropertyValue::String(vec![v.to_string()]);
        let id = |v: &str| PropertyValue::Id(vec![v.to_string()]);
        p.set(prop::NAME, s(&rec.name));
        p.set(
            prop::DESCRIPTION,
            PropertyValue::String(rec.description.iter().cloned().collect()),
        );
        p.set(prop::OBJECT_ID, id(&rec.id));
        let base = match rec.kind {
            Kind::Folder => "cmis:folder",
            Kind::Document => "cmis:document",
        };
        p.set(prop::BASE_TYPE_ID, id(base));
        p.set(prop::OBJECT_TYPE_ID, id(&rec.type_id));
        p.set(
            prop::SECONDARY_OBJECT_TYPE_IDS,
            PropertyValue::Id(rec.secondary_types.clone()),
        );
        p.set(prop::CREATED_BY, s(&rec.created_by));
        p.set(
            prop::CREATION_DATE,
            PropertyValue::DateTime(vec![ms_to_dt(rec.created)]),
        );
        p.set(prop::LAST_MODIFIED_BY, s(&rec.modified_by));
        p.set(
            prop::LAST_MODIFICATION_DATE,
            PropertyValue::DateTime(vec![ms_to_dt(rec.modified)]),
        );
        p.set(prop::CHANGE_TOKEN, s(&rec.change_token.to_string()));
        match rec.kind {
            Kind::Folder => {
                p.set(
                    prop::PARENT_ID,
                    PropertyValue::Id(rec.parents.first().cloned().into_iter().collect()),
                );
                p.set(prop::PATH, s(&self.folder_path(r, rec)?));
                p.set(
                    prop::ALLOWED_CHILD_OBJECT_TYPE_IDS,
                    PropertyValue::Id(vec![]),
                );
            }
            Kind::Document => {
                let series = match &rec.series_id {
                    Some(sid) => r.series(sid)?,
                    None => None,
                };
                let b = |v: bool| PropertyValue::Boolean(vec![v]);
                p.set(prop::IS_IMMUTABLE, b(false));
                p.set(prop::IS_LATEST_VERSION, b(rec.is_latest));
                p.set(prop::IS_MAJOR_VERSION, b(rec.is_major));
                p.set(prop::IS_LATEST_MAJOR_VERSION, b(rec.is_latest_major));
                p.set(prop::IS_PRIVATE_WORKING_COPY, b(rec.is_pwc));
                p.set(
                    prop::VERSION_LABEL,
                    PropertyValue::String(rec.version_label.iter().cloned().collect()),
                );
                p.set(
                    prop::VERSION_SERIES_ID,
                    PropertyValue::Id(rec.series_id.iter().cloned().collect()),
                );
                let by = series.as_ref().and_then(|s| s.checked_out_by.clone());
                p.set(prop::IS_VERSION_SERIES_CHECKED_OUT, b(by.is_some()));
                p.set(
                    prop::VERSION_SERIES_CHECKED_OUT_BY,
                    PropertyValue::String(by.into_iter().collect()),
                );
                p.set(
                    prop::VERSION_SERIES_CHECKED_OUT_ID,
                    PropertyValue::Id(series.and_then(|s| s.pwc).into_iter().collect()),
                );
                p.set(
                    prop::CHECKIN_COMMENT,
                    PropertyValue::String(rec.checkin_comment.iter().cloned().collect()),
                );
                let c = rec.content.as_ref();
                p.set(
                    prop::CONTENT_STREAM_LENGTH,
                    PropertyValue::Integer(c.map(|c| c.length as i64).into_iter().collect()),
                );
                p.set(
                    prop::CONTENT_STREAM_MIME_TYPE,
                    PropertyValue::String(c.map(|c| c.mime_type.clone()).into_iter().collect()),
                );
                p.set(
                    prop::CONTENT_STREAM_FILE_NAME,
                    PropertyValue::String(c.map(|c| c.file_name.clone()).into_iter().collect()),
                );
                p.set(
                    prop::CONTENT_STREAM_ID,
                    PropertyValue::Id(c.map(|c| c.id.clone()).into_iter().collect()),
                );
            }
        }
        Ok(p)
    }

    /// The model object of `rec` for `user`.
    pub fn view<R: Read>(
        &self,
        r: &R,
        user: &User,
        rec: &ObjRec,
        with_actions: bool,
    ) -> Result<CmisObject> {
        Ok(CmisObject {
            properties: self.properties(r, rec)?,
            allowable_actions: if with_actions {
                Some(self.actions(r, user, rec)?)
            } else {
                None
            },
            path_segment: None,
        })
    }

    pub fn acl<R: Read>(&self, r: &R, user: &User, id: &str) -> Result<Vec<acl::EffectiveAce>> {
        let rec = self.get(r, user, id)?;
        acl::effective(r, &rec)
    }

    pub fn query(
        &self,
        user: &User,
        statement: &str,
        all_versions: bool,
        page: Page,
    ) -> Result<(Vec<Properties>, bool, u64)> {
        let q = query::parse(statement)?;
        let r = self.read()?;
        let mut hits = Vec::new();
        for rec in self.query_candidates(&r, &q)? {
            if rec.is_pwc || (!all_versions && rec.kind == Kind::Document && !rec.is_latest) {
                continue;
            }
            if !types::is_subtype(&rec.type_id, &q.from) {
                continue;
            }
            if acl::permission(&r, &user.name, user.admin, &rec)? < Perm::Read {
                continue;
            }
            let props = self.properties(&r, &rec)?;
            let parents = self.parent_ids(&r, &rec)?;
            if q.matches(&props, &parents, &|folder| self.ancestors(&r, &rec, folder))? {
                hits.push(props);
            }
        }
        q.sort(&mut hits);
        let num = hits.len() as u64;
        let end = page.skip.saturating_add(page.max).min(num);
        let page_hits: Vec<Properties> = hits
            .into_iter()
            .skip(page.skip.min(num) as usize)
            .take(end.saturating_sub(page.skip) as usize)
            .map(|p| q.project(p))
            .collect();
        Ok((page_hits, end < num, num))
    }

    fn query_candidates(&self, r: &Rx, q: &query::Query) -> Result<Vec<ObjRec>> {
        // A query restricted to one folder only needs that folder's children.
        if let Some(folder) = q.only_in_folder() {
            let mut out = Vec::new();
            for (_, id) in r.children(folder)? {
                out.push(r.need(&id)?);
            }
            return Ok(out);
        }
        r.all_objects()
    }

    /// True if `folder` is an ancestor of `rec`.
    fn ancestors(&self, r: &Rx, rec: &ObjRec, folder: &str) -> Result<bool> {
        let mut todo = self.parent_ids(r, rec)?;
        let mut seen = HashSet::new();
        while let Some(id) = todo.pop() {
            if id == folder {
                return Ok(true);
            }
            if seen.insert(id.clone()) {
                if let Some(f) = r.obj(&id)? {
                    todo.extend(f.parents);
                }
            }
        }
        Ok(false)
    }

    pub fn changes(&self, from: Option<&str>, max: u64) -> Result<ChangesPage> {
        let r = self.read()?;
        let from = match from {
            None | Some("") => 0,
            Some(t) => t.parse::<u64>().map_err(|_| {
                CmisError::InvalidArgument(format!("'{t}' is not a change log token"))
            })?,
        };
        let max = max.clamp(1, 10_000) as usize;
        let mut events = r.changes_from(from, max + 1)?;
        let more = events.len() > max;
        events.truncate(max);
        let token = if more {
            events.last().map(|(t, _)| (t + 1).to_string())
        } else {
            r.last_change()?.map(|t| t.to_string())
        };
        Ok((events, more, token))
    }

    // ----- changing -----

    fn need_write<R: Read>(&self, r: &R, user: &User, rec: &ObjRec, what: &str) -> Result<()> {
        if acl::permission(r, &user.name, user.admin, rec)? < Perm::Write {
            return Err(denied(what));
        }
        Ok(())
    }

    fn check_token(rec: &ObjRec, token: Option<&str>) -> Result<()> {
        if let Some(t) = token.filter(|t| !t.is_empty()) {
            if t != rec.change_token.to_string() {
                return Err(CmisError::UpdateConflict(format!(
                    "'{}' has changed (change token {} is stale, current is {})",
                    rec.id, t, rec.change_token
                )));
            }
        }
        Ok(())
    }

    fn folder_for_create(&self, tx: &Tx, user: &User, folder_id: &str) -> Result<ObjRec> {
        let folder = tx.need(folder_id)?;
        if folder.kind != Kind::Folder {
            return Err(CmisError::InvalidArgument(format!(
                "'{folder_id}' is not a folder"
            )));
        }
        self.need_write(
            tx,
            user,
            &folder,
            &format!("create in folder '{folder_id}'"),
        )?;
        Ok(folder)
    }

    fn new_record(
        &self,
        tx: &mut Tx,
        user: &User,
        kind: Kind,
        type_id: &str,
        input: &PropInput,
    ) -> Result<ObjRec> {
        validate_input(input, true)?;
        let name = single(input, prop::NAME)
            .ok_or_else(|| CmisError::Constraint("cmis:name is required".into()))?
            .to_string();
        check_name(&name)?;
        let n = tx.next_number()?;
        let t = now();
        let secondary = input
            .get(prop::SECONDARY_OBJECT_TYPE_IDS)
            .cloned()
            .unwrap_or_default();
        for s in &secondary {
            if !s.is_empty() && s != "cmis:secondary" {
                return Err(CmisError::Constraint(format!(
                    "unknown secondary type '{s}'"
                )));
            }
        }
        Ok(ObjRec {
            id: format!("{}{n}", if kind == Kind::Folder { "f" } else { "d" }),
            kind,
            type_id: type_id.to_string(),
            name,
            description: single(input, prop::DESCRIPTION).map(str::to_string),
            secondary_types: secondary.into_iter().filter(|s| !s.is_empty()).collect(),
            parents: Vec::new(),
            created_by: user.name.clone(),
            created: t,
            modified_by: user.name.clone(),
            modified: t,
            change_token: 1,
            acl: Vec::new(),
            content: None,
            series_id: None,
            version_label: None,
            is_major: false,
            is_latest: false,
            is_latest_major: false,
            is_pwc: false,
            checkin_comment: None,
        })
    }

    fn file_in(&self, tx: &mut Tx, folder: &str, rec: &mut ObjRec) -> Result<()> {
        if tx.child(folder, &rec.name)?.is_some() {
            return Err(CmisError::NameConstraintViolation(format!(
                "an object named '{}' already exists in the folder",
                rec.name
            )));
        }
        tx.put_child(folder, &rec.name, &rec.id)?;
        if !rec.parents.iter().any(|p| p == folder) {
            rec.parents.push(folder.to_string());
        }
        Ok(())
    }

    fn touch_folder(&self, tx: &mut Tx, user: &User, folder: &str) -> Result<()> {
        if let Some(mut f) = tx.obj(folder)? {
            // The date moves (like a directory's mtime) but not the change
            // token: the folder's own properties did not change, and
            // clients holding its token must not get updateConflict.
            f.modified = now();
            f.modified_by = user.name.clone();
            tx.put_obj(&f)?;
        }
        Ok(())
    }

    fn adopt(&self, tx: &mut Tx, staged: &Staged) -> Result<ContentRec> {
        let id = format!("c{}", tx.next_number()?);
        self.store.adopt_file(tx, &staged.path, &id)?;
        Ok(ContentRec {
            id,
            length: staged.length,
            mime_type: if staged.mime_type.is_empty() {
                "application/octet-stream".into()
            } else {
                staged.mime_type.clone()
            },
            file_name: staged.file_name.clone(),
        })
    }

    pub fn create_folder(&self, user: &User, parent_id: &str, input: &PropInput) -> Result<String> {
        let type_id = single(input, prop::OBJECT_TYPE_ID)
            .unwrap_or("cmis:folder")
            .to_string();
        if !types::is_subtype(&type_id, "cmis:folder") {
            return Err(CmisError::Constraint(format!(
                "'{type_id}' is not a folder type"
            )));
        }
        let mut tx = self.store.write()?;
        self.folder_for_create(&tx, user, parent_id)?;
        let mut rec = self.new_record(&mut tx, user, Kind::Folder, &type_id, input)?;
        self.file_in(&mut tx, parent_id, &mut rec)?;
        tx.put_obj(&rec)?;
        self.touch_folder(&mut tx, user, parent_id)?;
        log_change(&mut tx, &rec, "created")?;
        self.store.commit(tx)?;
        Ok(rec.id)
    }

    pub fn create_document(
        &self,
        user: &User,
        folder_id: Option<&str>,
        input: &PropInput,
        content: Option<Staged>,
        state: Option<VersioningState>,
    ) -> Result<String> {
        let type_id = single(input, prop::OBJECT_TYPE_ID)
            .unwrap_or("cmis:document")
            .to_string();
        let tdef = types::type_def(&type_id)
            .filter(|t| types::is_subtype(t.id, "cmis:document"))
            .ok_or_else(|| CmisError::Constraint(format!("'{type_id}' is not a document type")))?;
        let state = match (tdef.versionable, state) {
            (true, None | Some(VersioningState::None)) => VersioningState::Major,
            (true, Some(s)) => s,
            (false, None | Some(VersioningState::None)) => VersioningState::None,
            (false, Some(_)) => {
                return Err(CmisError::Constraint(format!(
                    "'{type_id}' is not versionable: versioningState must be none"
                )))
            }
        };
        let mut tx = self.store.write()?;
        if let Some(f) = folder_id {
            self.folder_for_create(&tx, user, f)?;
        } else if !user.admin {
            // Unfiled objects have no ACL to inherit: only admin creates them.
            return Err(denied("create an unfiled document"));
        }
        let mut rec = self.new_record(&mut tx, user, Kind::Document, &type_id, input)?;
        if let Some(f) = folder_id {
            self.file_in(&mut tx, f, &mut rec)?;
            self.touch_folder(&mut tx, user, f)?;
        }
        if let Some(c) = &content {
            let mut c = self.adopt(&mut tx, c)?;
            if c.file_name.is_empty() {
                c.file_name = rec.name.clone();
            }
            rec.content = Some(c);
        }
        let sid = format!("s{}", tx.next_number()?);
        rec.series_id = Some(sid.clone());
        if state == VersioningState::CheckedOut {
            // The series has no version yet, only its PWC (filed where the
            // document was created); checkIn makes it 1.0 or 0.1.
            rec.is_pwc = true;
            rec.version_label = Some("pwc".into());
            tx.put_obj(&rec)?;
            tx.put_series(&SeriesRec {
                id: sid,
                versions: Vec::new(),
                pwc: Some(rec.id.clone()),
                checked_out_by: Some(user.name.clone()),
            })?;
            log_change(&mut tx, &rec, "created")?;
            self.store.commit(tx)?;
            return Ok(rec.id);
        }
        rec.is_latest = true;
        let (label, major) = match state {
            VersioningState::None => (None, true),
            VersioningState::Minor => (Some("0.1".to_string()), false),
            VersioningState::Major | VersioningState::CheckedOut => (Some("1.0".to_string()), true),
        };
        rec.version_label = label;
        rec.is_major = major;
        rec.is_latest_major = major;
        tx.put_obj(&rec)?;
        tx.put_series(&SeriesRec {
            id: sid,
            versions: vec![rec.id.clone()],
            pwc: None,
            checked_out_by: None,
        })?;
        log_change(&mut tx, &rec, "created")?;
        self.store.commit(tx)?;
        Ok(rec.id)
    }

    /// Checks that content may be changed on `rec` by `user`.
    fn content_editable<R: Read>(&self, r: &R, user: &User, rec: &ObjRec) -> Result<()> {
        if rec.kind != Kind::Document {
            return Err(CmisError::Constraint(format!(
                "'{}' is a folder and has no content stream",
                rec.id
            )));
        }
        self.need_write(r, user, rec, &format!("change the content of '{}'", rec.id))?;
        let series = match &rec.series_id {
            Some(s) => r.series(s)?,
            None => None,
        };
        let by = series.and_then(|s| s.checked_out_by);
        if rec.is_pwc {
            if by.as_deref() != Some(user.name.as_str()) && !user.admin {
                return Err(CmisError::Versioning(format!(
                    "the private working copy '{}' belongs to {}",
                    rec.id,
                    by.unwrap_or_default()
                )));
            }
        } else if !rec.is_latest {
            return Err(CmisError::Versioning(format!(
                "'{}' is not the latest version",
                rec.id
            )));
        } else if let Some(by) = by {
            return Err(CmisError::Versioning(format!(
                "'{}' is checked out by {by}; update its private working copy",
                rec.id
            )));
        }
        Ok(())
    }

    fn bump(rec: &mut ObjRec, user: &User) {
        rec.change_token += 1;
        rec.modified = now();
        rec.modified_by = user.name.clone();
    }

    pub fn set_content(
        &self,
        user: &User,
        id: &str,
        token: Option<&str>,
        overwrite: bool,
        staged: Staged,
    ) -> Result<String> {
        let mut tx = self.store.write()?;
        let mut rec = tx.need(id)?;
        self.content_editable(&tx, user, &rec)?;
        Self::check_token(&rec, token)?;
        if rec.content.is_some() && !overwrite {
            return Err(CmisError::ContentAlreadyExists(format!(
                "'{id}' already has content and overwriteFlag is false"
            )));
        }
        let mut c = self.adopt(&mut tx, &staged)?;
        if c.file_name.is_empty() {
            c.file_name = rec.name.clone();
        }
        if let Some(old) = rec.content.replace(c) {
            tx.retire_file(&old.id);
        }
        Self::bump(&mut rec, user);
        tx.put_obj(&rec)?;
        log_change(&mut tx, &rec, "updated")?;
        self.store.commit(tx)?;
        Ok(rec.id)
    }

    pub fn append_content(
        &self,
        user: &User,
        id: &str,
        token: Option<&str>,
        staged: Staged,
    ) -> Result<String> {
        let mut tx = self.store.write()?;
        let mut rec = tx.need(id)?;
        self.content_editable(&tx, user, &rec)?;
        Self::check_token(&rec, token)?;
        match rec.content.as_mut() {
            None => {
                let mut c = self.adopt(&mut tx, &staged)?;
                if c.file_name.is_empty() {
                    c.file_name = rec.name.clone();
                }
                rec.content = Some(c);
            }
            Some(c) => {
                // A PWC shares its file with the version it was checked
                // out from until changed: appends go to its own copy.
                let own = format!("c{}", tx.next_number()?);
                if self.store.unshare_file(&mut tx, &c.id, &own)? {
                    tx.retire_file(&c.id);
                    c.id = own;
                }
                // Bytes past the recorded length are leftovers of a
                // failed append.
                let path = self.store.content_path(&c.id);
                let mut f = std::fs::OpenOptions::new().write(true).open(&path).st()?;
                f.set_len(c.length).st()?;
                f.seek(SeekFrom::End(0)).st()?;
                let mut src = std::fs::File::open(&staged.path).st()?;
                let n = std::io::copy(&mut src, &mut f).st()?;
                f.flush().st()?;
                f.sync_all().st()?;
                c.length += n;
            }
        }
        Self::bump(&mut rec, user);
        tx.put_obj(&rec)?;
        log_change(&mut tx, &rec, "updated")?;
        self.store.commit(tx)?;
        Ok(rec.id)
    }

    pub fn delete_content(&self, user: &User, id: &str, token: Option<&str>) -> Result<String> {
        let mut tx = self.store.write()?;
        let mut rec = tx.need(id)?;
        self.content_editable(&tx, user, &rec)?;
        Self::check_token(&rec, token)?;
        if let Some(old) = rec.content.take() {
            tx.retire_file(&old.id);
        }
        Self::bump(&mut rec, user);
        tx.put_obj(&rec)?;
        log_change(&mut tx, &rec, "updated")?;
        self.store.commit(tx)?;
        Ok(rec.id)
    }

    /// Renames an object in every folder it is filed in.
    fn rename(&self, tx: &mut Tx, rec: &mut ObjRec, new_name: &str) -> Result<()> {
        if new_name == rec.name {
            return Ok(());
        }
        check_name(new_name)?;
        for p in &rec.parents {
            if tx.child(p, new_name)?.is_some() {
                return Err(CmisError::NameConstraintViolation(format!(
                    "an object named '{new_name}' already exists in the folder"
                )));
            }
        }
        for p in rec.parents.clone() {
            tx.del_child(&p, &rec.name)?;
            tx.put_child(&p, new_name, &rec.id)?;
        }
        rec.name = new_name.to_string();
        Ok(())
    }

    pub fn update_properties(
        &self,
        user: &User,
        id: &str,
        token: Option<&str>,
        input: &PropInput,
    ) -> Result<String> {
        validate_input(input, false)?;
        let mut tx = self.store.write()?;
        let mut rec = tx.need(id)?;
        self.need_write(&tx, user, &rec, &format!("update '{id}'"))?;
        Self::check_token(&rec, token)?;
        if rec.kind == Kind::Document && !rec.is_latest && !rec.is_pwc {
            return Err(CmisError::Versioning(format!(
                "'{id}' is not the latest version"
            )));
        }
        if rec.is_pwc {
            self.content_editable(&tx, user, &rec)?;
        }
        if let Some(v) = input.get(prop::NAME) {
            let name = v.first().map(String::as_str).unwrap_or("");
            if rec.id == self.root_id {
                if !name.is_empty() {
                    return Err(CmisError::Constraint(
                        "the root folder cannot be renamed".into(),
                    ));
                }
            } else {
                self.rename(&mut tx, &mut rec, name)?;
            }
        }
        if let Some(v) = input.get(prop::DESCRIPTION) {
            rec.description = v.first().cloned().filter(|s| !s.is_empty());
        }
        if let Some(v) = input.get(prop::SECONDARY_OBJECT_TYPE_IDS) {
            for s in v {
                if !s.is_empty() && s != "cmis:secondary" {
                    return Err(CmisError::Constraint(format!(
                        "unknown secondary type '{s}'"
                    )));
                }
            }
            rec.secondary_types = v.iter().filter(|s| !s.is_empty()).cloned().collect();
        }
        Self::bump(&mut rec, user);
        tx.put_obj(&rec)?;
        log_change(&mut tx, &rec, "updated")?;
        self.store.commit(tx)?;
        Ok(rec.id)
    }

    pub fn move_object(
        &self,
        user: &User,
        id: &str,
        source: Option<&str>,
        target: &str,
    ) -> Result<String> {
        let mut tx = self.store.write()?;
        let mut rec = tx.need(id)?;
        if rec.id == self.root_id {
            return Err(CmisError::Constraint(
                "the root folder cannot be moved".into(),
            ));
        }
        self.need_write(&tx, user, &rec, &format!("move '{id}'"))?;
        let source = match source.filter(|s| !s.is_empty()) {
            Some(s) => s.to_string(),
            None if rec.parents.len() == 1 => rec.parents[0].clone(),
            None => {
                return Err(CmisError::InvalidArgument(
                    "sourceFolderId is required for this object".into(),
                ))
            }
        };
        if !rec.parents.contains(&source) {
            return Err(CmisError::InvalidArgument(format!(
                "'{id}' is not filed in '{source}'"
            )));
        }
        let target_rec = self.folder_for_create(&tx, user, target)?;
        if source == target {
            return Ok(rec.id);
        }
        if rec.kind == Kind::Folder {
            // A folder must not move below itself.
            let mut cur = Some(target_rec);
            while let Some(f) = cur {
                if f.id == rec.id {
                    return Err(CmisError::Constraint(
                        "cannot move a folder into its own subtree".into(),
                    ));
                }
                cur = match f.parents.first() {
                    Some(p) => tx.obj(p)?,
                    None => None,
                };
            }
        }
        if tx.child(target, &rec.name)?.is_some() {
            return Err(CmisError::NameConstraintViolation(format!(
                "an object named '{}' already exists in the target folder",
                rec.name
            )));
        }
        tx.del_child(&source, &rec.name)?;
        tx.put_child(target, &rec.name, &rec.id)?;
        rec.parents.retain(|p| *p != source);
        rec.parents.push(target.to_string());
        Self::bump(&mut rec, user);
        tx.put_obj(&rec)?;
        self.touch_folder(&mut tx, user, &source)?;
        self.touch_folder(&mut tx, user, target)?;
        log_change(&mut tx, &rec, "updated")?;
        self.store.commit(tx)?;
        Ok(rec.id)
    }

    pub fn add_to_folder(&self, user: &User, id: &str, folder: &str) -> Result<String> {
        let mut tx = self.store.write()?;
        let mut rec = tx.need(id)?;
        if rec.kind != Kind::Document {
            return Err(CmisError::InvalidArgument(
                "only documents can be multi-filed".into(),
            ));
        }
        if !rec.is_latest || rec.is_pwc {
            return Err(CmisError::InvalidArgument(
                "only the latest version can be filed".into(),
            ));
        }
        self.need_write(&tx, user, &rec, &format!("file '{id}'"))?;
        self.folder_for_create(&tx, user, folder)?;
        if rec.parents.iter().any(|p| p == folder) {
            return Err(CmisError::Constraint(format!(
                "'{id}' is already filed in '{folder}'"
            )));
        }
        self.file_in(&mut tx, folder, &mut rec)?;
        Self::bump(&mut rec, user);
        tx.put_obj(&rec)?;
        self.touch_folder(&mut tx, user, folder)?;
        log_change(&mut tx, &rec, "updated")?;
        self.store.commit(tx)?;
        Ok(rec.id)
    }

    /// removeObjectFromFolder; `folder: None` unfiles from every folder.
    pub fn remove_from_folder(
        &self,
        user: &User,
        id: &str,
        folder: Option<&str>,
    ) -> Result<String> {
        let mut tx = self.store.write()?;
        let mut rec = tx.need(id)?;
        if rec.kind != Kind::Document {
            return Err(CmisError::InvalidArgument(
                "only documents can be unfiled".into(),
            ));
        }
        self.need_write(&tx, user, &rec, &format!("unfile '{id}'"))?;
        let folders: Vec<String> = match folder.filter(|f| !f.is_empty()) {
            Some(f) => {
                if !rec.parents.iter().any(|p| p == f) {
                    return Err(CmisError::InvalidArgument(format!(
                        "'{id}' is not filed in '{f}'"
                    )));
                }
                vec![f.to_string()]
            }
            None => rec.parents.clone(),
        };
        for f in &folders {
            tx.del_child(f, &rec.name)?;
            self.touch_folder(&mut tx, user, f)?;
        }
        rec.parents.retain(|p| !folders.contains(p));
        Self::bump(&mut rec, user);
        tx.put_obj(&rec)?;
        log_change(&mut tx, &rec, "updated")?;
        self.store.commit(tx)?;
        Ok(rec.id)
    }

    fn unfile_all(&self, tx: &mut Tx, rec: &ObjRec) -> Result<()> {
        for p in &rec.parents {
            tx.del_child(p, &rec.name)?;
        }
        Ok(())
    }

    /// Removes a document version (and everything of its series when
    /// `all_versions`).
    fn delete_document(
        &self,
        tx: &mut Tx,
        user: &User,
        rec: &ObjRec,
        all_versions: bool,
    ) -> Result<()> {
        let Some(sid) = rec.series_id.clone() else {
            self.unfile_all(tx, rec)?;
            tx.del_obj(rec)?;
            log_change(tx, rec, "deleted")?;
            return Ok(());
        };
        let mut series = tx.series(&sid)?.unwrap_or_default();
        if rec.is_pwc {
            // Deleting the PWC cancels the check-out.
            return self.cancel_in(tx, user, &rec.id);
        }
        if all_versions || series.versions.len() <= 1 {
            if let Some(pwc) = series.pwc.clone() {
                let p = tx.need(&pwc)?;
                tx.del_obj(&p)?;
                log_change(tx, &p, "deleted")?;
            }
            for v in series.versions.clone() {
                let o = tx.need(&v)?;
                self.unfile_all(tx, &o)?;
                tx.del_obj(&o)?;
                log_change(tx, &o, "deleted")?;
            }
            tx.del_series(&sid)?;
            return Ok(());
        }
        if series.pwc.is_some() {
            return Err(CmisError::Versioning(
                "the version series is checked out; cancel the check-out first".into(),
            ));
        }
        // One version of several: the previous one takes over the filing.
        series.versions.retain(|v| *v != rec.id);
        if rec.is_latest {
            if let Some(prev_id) = series.versions.last().cloned() {
                let mut prev = tx.need(&prev_id)?;
                self.unfile_all(tx, rec)?;
                prev.parents = Vec::new();
                for p in &rec.parents {
                    if tx.child(p, &prev.name)?.is_some() {
                        prev.name = rec.name.clone();
                    }
                    tx.put_child(p, &prev.name, &prev.id)?;
                    prev.parents.push(p.clone());
                }
                prev.is_latest = true;
                prev.change_token += 1;
                tx.put_obj(&prev)?;
            }
        }
        refresh_latest_major(tx, &series)?;
        tx.put_series(&series)?;
        tx.del_obj(rec)?;
        log_change(tx, rec, "deleted")?;
        Ok(())
    }

    pub fn delete_object(&self, user: &User, id: &str, all_versions: bool) -> Result<()> {
        let mut tx = self.store.write()?;
        let rec = tx.need(id)?;
        if rec.id == self.root_id {
            return Err(CmisError::Constraint(
                "the root folder cannot be deleted".into(),
            ));
        }
        self.need_write(&tx, user, &rec, &format!("delete '{id}'"))?;
        match rec.kind {
            Kind::Folder => {
                if tx.child_count(id)? > 0 {
                    return Err(CmisError::Constraint(format!("folder '{id}' is not empty")));
                }
                self.unfile_all(&mut tx, &rec)?;
                tx.del_obj(&rec)?;
                log_change(&mut tx, &rec, "deleted")?;
            }
            Kind::Document => self.delete_document(&mut tx, user, &rec, all_versions)?,
        }
        for p in &rec.parents {
            self.touch_folder(&mut tx, user, p)?;
        }
        self.store.commit(tx)?;
        Ok(())
    }

    /// deleteTree; returns the ids that could not be deleted. Documents
    /// go with all their versions whatever `_all_versions` says: without
    /// version-specific filing, an older version left behind would be filed
    /// nowhere.
    pub fn delete_tree(
        &self,
        user: &User,
        folder_id: &str,
        _all_versions: bool,
        unfile: UnfileObjects,
        continue_on_failure: bool,
    ) -> Result<Vec<String>> {
        let mut tx = self.store.write()?;
        let folder = tx.need(folder_id)?;
        if folder.kind != Kind::Folder {
            return Err(CmisError::InvalidArgument(format!(
                "'{folder_id}' is not a folder"
            )));
        }
        if folder.id == self.root_id {
            return Err(CmisError::Constraint(
                "the root folder cannot be deleted".into(),
            ));
        }
        self.need_write(&tx, user, &folder, &format!("delete '{folder_id}'"))?;
        let mut failed = Vec::new();
        self.delete_tree_rec(
            &mut tx,
            user,
            &folder,
            unfile,
            continue_on_failure,
            &mut failed,
        )?;
        if !failed.is_empty() && !continue_on_failure {
            // Nothing is committed: the tree stays as it was.
            return Ok(failed);
        }
        if let Some(p) = folder.parents.first() {
            self.touch_folder(&mut tx, user, p)?;
        }
        self.store.commit(tx)?;
        Ok(failed)
    }

    #[allow(clippy::too_many_arguments)]
    fn delete_tree_rec(
        &self,
        tx: &mut Tx,
        user: &User,
        folder: &ObjRec,
        unfile: UnfileObjects,
        cont: bool,
        failed: &mut Vec<String>,
    ) -> Result<bool> {
        let mut ok = true;
        for (_, id) in tx.children(&folder.id)? {
            if !failed.is_empty() && !cont {
                return Ok(false);
            }
            let rec = tx.need(&id)?;
            if acl::permission(tx, &user.name, user.admin, &rec)? < Perm::Write {
                failed.push(id);
                ok = false;
                continue;
            }
            match rec.kind {
                Kind::Folder => {
                    if !self.delete_tree_rec(tx, user, &rec, unfile, cont, failed)? {
                        ok = false;
                    }
                }
                Kind::Document => {
                    let elsewhere = rec.parents.len() > 1;
                    let just_unfile = match unfile {
                        UnfileObjects::Unfile => true,
                        UnfileObjects::DeleteSingleFiled => elsewhere,
                        UnfileObjects::Delete => false,
                    };
                    if just_unfile {
                        let mut r = rec.clone();
                        tx.del_child(&folder.id, &r.name)?;
                        r.parents.retain(|p| *p != folder.id);
                        r.change_token += 1;
                        tx.put_obj(&r)?;
                        log_change(tx, &r, "updated")?;
                    } else {
                        match self.delete_document(tx, user, &rec, true) {
                            Ok(()) => {}
                            Err(_) => {
                                failed.push(id);
                                ok = false;
                            }
                        }
                    }
                }
            }
        }
        if ok {
            self.unfile_all(tx, folder)?;
            tx.del_obj(folder)?;
            log_change(tx, folder, "deleted")?;
        } else {
            failed.push(folder.id.clone());
        }
        Ok(ok)
    }

    // ----- versioning -----

    fn check_out_in(&self, tx: &mut Tx, user: &User, id: &str) -> Result<String> {
        let rec = tx.need(id)?;
        if rec.kind != Kind::Document {
            return Err(CmisError::Constraint(format!("'{id}' is not a document")));
        }
        if !types::type_def(&rec.type_id).is_some_and(|t| t.versionable) {
            return Err(CmisError::Constraint(format!(
                "'{id}' is of a non-versionable type"
            )));
        }
        self.need_write(tx, user, &rec, &format!("check out '{id}'"))?;
        let sid = rec.series_id.clone().unwrap_or_default();
        let mut series = tx
            .series(&sid)?
            .ok_or_else(|| CmisError::Storage(format!("missing series '{sid}'")))?;
        if let Some(by) = &series.checked_out_by {
            return Err(CmisError::Versioning(format!(
                "the document is already checked out by {by}"
            )));
        }
        if !rec.is_latest {
            return Err(CmisError::Versioning(format!(
                "'{id}' is not the latest version"
            )));
        }
        let n = tx.next_number()?;
        let t = now();
        let mut pwc = rec.clone();
        pwc.id = format!("d{n}");
        pwc.parents = Vec::new();
        pwc.is_pwc = true;
        pwc.is_latest = false;
        pwc.is_major = false;
        pwc.is_latest_major = false;
        pwc.version_label = Some("pwc".into());
        pwc.checkin_comment = None;
        pwc.created = t;
        pwc.created_by = user.name.clone();
        pwc.modified = t;
        pwc.modified_by = user.name.clone();
        pwc.change_token = 1;
        pwc.acl = Vec::new();
        if let Some(c) = &rec.content {
            let cid = format!("c{}", tx.next_number()?);
            self.store.share_file(tx, &c.id, &cid)?;
            pwc.content = Some(ContentRec {
                id: cid,
                ..c.clone()
            });
        }
        series.pwc = Some(pwc.id.clone());
        series.checked_out_by = Some(user.name.clone());
        tx.put_series(&series)?;
        tx.put_obj(&pwc)?;
        let mut latest = rec;
        latest.change_token += 1;
        tx.put_obj(&latest)?;
        log_change(tx, &pwc, "created")?;
        log_change(tx, &latest, "updated")?;
        Ok(pwc.id)
    }

    pub fn check_out(&self, user: &User, id: &str) -> Result<String> {
        let mut tx = self.store.write()?;
        let pwc = self.check_out_in(&mut tx, user, id)?;
        self.store.commit(tx)?;
        Ok(pwc)
    }

    fn pwc_of(&self, tx: &Tx, user: &User, id: &str) -> Result<(ObjRec, SeriesRec)> {
        let rec = tx.need(id)?;
        let sid = rec.series_id.clone().unwrap_or_default();
        let series = tx.series(&sid)?.unwrap_or_default();
        let pwc_id = if rec.is_pwc {
            rec.id.clone()
        } else {
            series
                .pwc
                .clone()
                .ok_or_else(|| CmisError::Versioning(format!("'{id}' is not checked out")))?
        };
        let pwc = tx.need(&pwc_id)?;
        self.need_write(tx, user, &pwc, &format!("change '{pwc_id}'"))?;
        if series.checked_out_by.as_deref() != Some(user.name.as_str()) && !user.admin {
            return Err(CmisError::Versioning(format!(
                "'{id}' is checked out by {}",
                series.checked_out_by.unwrap_or_default()
            )));
        }
        Ok((pwc, series))
    }

    fn cancel_in(&self, tx: &mut Tx, user: &User, id: &str) -> Result<()> {
        let (pwc, mut series) = self.pwc_of(tx, user, id)?;
        if series.versions.is_empty() {
            // Created checked out: cancelling deletes the document.
            self.unfile_all(tx, &pwc)?;
            tx.del_obj(&pwc)?;
            tx.del_series(&series.id)?;
            log_change(tx, &pwc, "deleted")?;
            return Ok(());
        }
        series.pwc = None;
        series.checked_out_by = None;
        tx.put_series(&series)?;
        tx.del_obj(&pwc)?;
        log_change(tx, &pwc, "deleted")?;
        if let Some(latest) = series.versions.last() {
            let mut l = tx.need(latest)?;
            l.change_token += 1;
            tx.put_obj(&l)?;
            log_change(tx, &l, "updated")?;
        }
        Ok(())
    }

    pub fn cancel_check_out(&self, user: &User, id: &str) -> Result<()> {
        let mut tx = self.store.write()?;
        self.cancel_in(&mut tx, user, id)?;
        self.store.commit(tx)?;
        Ok(())
    }

    pub fn check_in(
        &self,
        user: &User,
        id: &str,
        major: bool,
        input: &PropInput,
        content: Option<Staged>,
        comment: Option<&str>,
    ) -> Result<String> {
        validate_input(input, false)?;
        let mut tx = self.store.write()?;
        let (mut pwc, mut series) = self.pwc_of(&tx, user, id)?;
        let mut prev = match series.versions.last() {
            Some(p) => Some(tx.need(p)?),
            None => None,
        };
        if let Some(c) = &content {
            let mut c2 = self.adopt(&mut tx, c)?;
            if c2.file_name.is_empty() {
                c2.file_name = pwc.name.clone();
            }
            if let Some(old) = pwc.content.replace(c2) {
                tx.retire_file(&old.id);
            }
        }
        if let Some(d) = input.get(prop::DESCRIPTION) {
            pwc.description = d.first().cloned().filter(|s| !s.is_empty());
        }
        let new_name = input
            .get(prop::NAME)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_else(|| pwc.name.clone());
        check_name(&new_name)?;
        match prev.as_mut() {
            Some(prev) => {
                // The new version takes over the previous one's place in folders.
                for p in &prev.parents {
                    tx.del_child(p, &prev.name)?;
                }
                for p in &prev.parents {
                    if tx.child(p, &new_name)?.is_some() {
                        return Err(CmisError::NameConstraintViolation(format!(
                            "an object named '{new_name}' already exists in the folder"
                        )));
                    }
                    tx.put_child(p, &new_name, &pwc.id)?;
                }
                pwc.name = new_name;
                pwc.parents = std::mem::take(&mut prev.parents);
                pwc.acl = std::mem::take(&mut prev.acl);
                prev.is_latest = false;
                prev.change_token += 1;
                tx.put_obj(prev)?;
            }
            // Created checked out: the PWC is filed already.
            None => self.rename(&mut tx, &mut pwc, &new_name)?,
        }
        pwc.is_pwc = false;
        pwc.is_latest = true;
        pwc.is_major = major;
        pwc.version_label = Some(next_label(
            prev.as_ref().and_then(|p| p.version_label.as_deref()),
            major,
        ));
        pwc.checkin_comment = comment.map(str::to_string).filter(|c| !c.is_empty());
        Self::bump(&mut pwc, user);
        series.versions.push(pwc.id.clone());
        series.pwc = None;
        series.checked_out_by = None;
        tx.put_obj(&pwc)?;
        refresh_latest_major(&mut tx, &series)?;
        tx.put_series(&series)?;
        log_change(&mut tx, &pwc, "updated")?;
        self.store.commit(tx)?;
        Ok(pwc.id)
    }

    // ----- ACLs -----

    pub fn apply_acl(&self, user: &User, id: &str, add: &[Ace], remove: &[Ace]) -> Result<()> {
        let mut tx = self.store.write()?;
        let mut rec = tx.need(id)?;
        if acl::permission(&tx, &user.name, user.admin, &rec)? < Perm::All {
            return Err(denied(&format!("change the ACL of '{id}'")));
        }
        for a in remove {
            if !rec.acl.contains(a) {
                return Err(CmisError::Constraint(format!(
                    "'{}' has no direct ACE {} {} to remove",
                    id, a.principal, a.permission
                )));
            }
        }
        acl::apply(&mut rec.acl, add, remove)?;
        rec.change_token += 1;
        tx.put_obj(&rec)?;
        log_change(&mut tx, &rec, "security")?;
        self.store.commit(tx)?;
        Ok(())
    }

    // ----- test support -----

    /// Replaces a document's content as another user would ("edit behind
    /// the client's back"): new content, new change token, a change event.
    pub fn tamper(&self, id: &str, staged: Staged) -> Result<String> {
        let mut tx = self.store.write()?;
        let mut rec = tx.need(id)?;
        if rec.kind != Kind::Document {
            return Err(CmisError::Constraint(format!("'{id}' is not a document")));
        }
        let mut c = self.adopt(&mut tx, &staged)?;
        if let Some(old) = rec.content.take() {
            c.file_name = old.file_name.clone();
            c.mime_type = old.mime_type.clone();
            tx.retire_file(&old.id);
        }
        rec.content = Some(c);
        Self::bump(
            &mut rec,
            &User {
                name: "someone-else".into(),
                admin: true,
            },
        );
        tx.put_obj(&rec)?;
        log_change(&mut tx, &rec, "updated")?;
        self.store.commit(tx)?;
        Ok(rec.id)
    }
}

fn refresh_latest_major(tx: &mut Tx, series: &SeriesRec) -> Result<()> {
    let mut found = false;
    for v in series.versions.iter().rev() {
        let mut o = tx.need(v)?;
        let want = !found && o.is_major;
        if want {
            found = true;
        }
        if o.is_latest_major != want {
            o.is_latest_major = want;
            tx.put_obj(&o)?;
        }
    }
    Ok(())
}

fn log_change(tx: &mut Tx, rec: &ObjRec, kind: &str) -> Result<u64> {
    let mut properties = BTreeMap::new();
    properties.insert(prop::OBJECT_ID.to_string(), rec.id.clone());
    properties.insert(prop::OBJECT_TYPE_ID.to_string(), rec.type_id.clone());
    properties.insert(
        prop::BASE_TYPE_ID.to_string(),
        match rec.kind {
            Kind::Folder => "cmis:folder".into(),
            Kind::Document => "cmis:document".into(),
        },
    );
    properties.insert(prop::NAME.to_string(), rec.name.clone());
    properties.insert(prop::CHANGE_TOKEN.to_string(), rec.change_token.to_string());
    if let Some(s) = &rec.series_id {
        properties.insert(prop::VERSION_SERIES_ID.to_string(), s.clone());
    }
    tx.append_change(&ChangeRec {
        object_id: rec.id.clone(),
        change_type: kind.to_string(),
        time: now(),
        properties,
    })
}

/// `cmis:name ASC, cmis:creationDate DESC` → [(id, ascending)].
pub fn parse_order(order_by: Option<&str>) -> Result<Vec<(String, bool)>> {
    let mut out = Vec::new();
    for part in order_by.unwrap_or("").split(',') {
        let mut words = part.split_whitespace();
        let Some(id) = words.next() else { continue };
        let asc = match words.next().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ASC") => true,
            Some("DESC") => false,
            Some(w) => {
                return Err(CmisError::InvalidArgument(format!(
                    "bad orderBy direction '{w}'"
                )))
            }
        };
        match types::prop_def(id) {
            Some(d) if d.orderable => out.push((id.to_string(), asc)),
            _ => {
                return Err(CmisError::InvalidArgument(format!(
                    "cannot order by '{id}'"
                )))
            }
        }
    }
    Ok(out)
}

/// Sort key of a record for one property (the common orderable ones).
fn sort_key(rec: &ObjRec, id: &str) -> (i64, String) {
    match id {
        prop::CREATION_DATE => (rec.created, String::new()),
        prop::LAST_MODIFICATION_DATE => (rec.modified, String::new()),
        prop::CONTENT_STREAM_LENGTH => (
            rec.content.as_ref().map_or(-1, |c| c.length as i64),
            String::new(),
        ),
        prop::CREATED_BY => (0, rec.created_by.clone()),
        prop::LAST_MODIFIED_BY => (0, rec.modified_by.clone()),
        prop::OBJECT_ID => (0, rec.id.clone()),
        prop::OBJECT_TYPE_ID => (0, rec.type_id.clone()),
        prop::BASE_TYPE_ID => (rec.kind as i64, String::new()),
        _ => (0, rec.name.clone()),
    }
}

fn sort_records(recs: &mut [ObjRec], order: &[(String, bool)]) {
    if order.is_empty() {
        return; // already in name order
    }
    recs.sort_by(|a, b| {
        for (id, asc) in order {
            let o = sort_key(a, id).cmp(&sort_key(b, id));
            let o = if *asc { o } else { o.reverse() };
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    });
}

/// A random u32 (repository id, salts) from the OS.
pub fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    u32::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc() -> (tempfile::TempDir, Service) {
        let dir = tempfile::tempdir().unwrap();
        let s = Service::open(dir.path()).unwrap();
        (dir, s)
    }

    fn props(name: &str) -> PropInput {
        let mut p = PropInput::new();
        p.insert(prop::NAME.into(), vec![name.into()]);
        p
    }

    fn staged(s: &Service, data: &[u8]) -> Staged {
        let path = s.store.tmp_dir().join(format!("t{}", rand_u32()));
        std::fs::write(&path, data).unwrap();
        Staged {
            path,
            length: data.len() as u64,
            mime_type: "text/plain".into(),
            file_name: "f.txt".into(),
        }
    }

    fn content(s: &Service, id: &str) -> Vec<u8> {
        let r = s.read().unwrap();
        let rec = r.need(id).unwrap();
        let c = rec.content.unwrap();
        let mut d = std::fs::read(s.store.content_path(&c.id)).unwrap();
        d.truncate(c.length as usize);
        d
    }

    #[test]
    fn create_list_and_names() {
        let (_d, s) = svc();
        let u = User::admin();
        let root = s.root_id.clone();
        let f = s.create_folder(&u, &root, &props("a")).unwrap();
        let e = s.create_folder(&u, &root, &props("a")).unwrap_err();
        assert!(matches!(e, CmisError::NameConstraintViolation(_)));
        let e = s.create_folder(&u, &root, &props("x/y")).unwrap_err();
        assert!(matches!(e, CmisError::NameConstraintViolation(_)));
        for i in 0..5 {
            s.create_document(&u, Some(&f), &props(&format!("d{i}")), None, None)
                .unwrap();
        }
        let r = s.read().unwrap();
        let l = s
            .children(&r, &u, &f, None, Page { skip: 1, max: 2 }, false)
            .unwrap();
        assert_eq!(l.num_items, 5);
        assert!(l.has_more);
        assert_eq!(l.objects[0].name, "d1");
        let l = s
            .children(
                &r,
                &u,
                &f,
                Some("cmis:name DESC"),
                Page { skip: 0, max: 100 },
                false,
            )
            .unwrap();
        assert_eq!(l.objects[0].name, "d4");
        assert_eq!(s.by_path(&r, &u, "/a/d3").unwrap().name, "d3");
        assert!(s.by_path(&r, &u, "/a/../a").is_err());
        let fr = r.need(&f).unwrap();
        assert_eq!(s.folder_path(&r, &fr).unwrap(), "/a");
    }

    #[test]
    fn change_tokens_and_content() {
        let (_d, s) = svc();
        let u = User::admin();
        let root = s.root_id.clone();
        let id = s
            .create_document(
                &u,
                Some(&root),
                &props("x"),
                Some(staged(&s, b"hello")),
                None,
            )
            .unwrap();
        assert_eq!(content(&s, &id), b"hello");
        let e = s
            .set_content(&u, &id, Some("99"), true, staged(&s, b"x"))
            .unwrap_err();
        assert!(matches!(e, CmisError::UpdateConflict(_)));
        let e = s
            .set_content(&u, &id, None, false, staged(&s, b"x"))
            .unwrap_err();
        assert!(matches!(e, CmisError::ContentAlreadyExists(_)));
        s.append_content(&u, &id, Some("1"), staged(&s, b" world"))
            .unwrap();
        assert_eq!(content(&s, &id), b"hello world");
        s.delete_content(&u, &id, None).unwrap();
        assert!(s.read().unwrap().need(&id).unwrap().content.is_none());
    }

    #[test]
    fn versioning_rules() {
        let (_d, s) = svc();
        let u = User::admin();
        let bob = User {
            name: "bob".into(),
            admin: false,
        };
        let root = s.root_id.clone();
        let id = s
            .create_document(&u, Some(&root), &props("v"), Some(staged(&s, b"one")), None)
            .unwrap();
        let pwc = s.check_out(&bob, &id).unwrap();
        // The checked-out version refuses content; the PWC takes it from bob only.
        let e = s
            .set_content(&bob, &id, None, true, staged(&s, b"x"))
            .unwrap_err();
        assert!(matches!(e, CmisError::Versioning(_)));
        let carol = User {
            name: "carol".into(),
            admin: false,
        };
        let e = s
            .set_content(&carol, &pwc, None, true, staged(&s, b"x"))
            .unwrap_err();
        assert!(matches!(e, CmisError::Versioning(_)));
        s.set_content(&bob, &pwc, None, true, staged(&s, b"two"))
            .unwrap();
        let v2 = s
            .check_in(&bob, &pwc, false, &PropInput::new(), None, Some("c"))
            .unwrap();
        let r = s.read().unwrap();
        let v = r.need(&v2).unwrap();
        assert_eq!(v.version_label.as_deref(), Some("1.1"));
        assert!(v.is_latest);
        assert_eq!(content(&s, &v2), b"two");
        assert_eq!(content(&s, &id), b"one");
        assert_eq!(s.by_path(&r, &u, "/v").unwrap().id, v2);
        let all = s.all_versions(&r, &u, &id).unwrap();
        assert_eq!(all.len(), 2);
        drop(r);
        let pwc = s.check_out(&u, &v2).unwrap();
        let v3 = s
            .check_in(&u, &pwc, true, &PropInput::new(), None, None)
            .unwrap();
        let r = s.read().unwrap();
        assert_eq!(r.need(&v3).unwrap().version_label.as_deref(), Some("2.0"));
        assert!(!r.need(&id).unwrap().is_latest_major);
    }

    #[test]
    fn acl_inheritance() {
        let (_d, s) = svc();
        let u = User::admin();
        let bob = User {
            name: "bob".into(),
            admin: false,
        };
        let root = s.root_id.clone();
        let any = Ace {
            principal: acl::ANYONE.into(),
            permission: "cmis:all".into(),
        };
        let bob_read = Ace {
            principal: "bob".into(),
            permission: "cmis:read".into(),
        };
        s.apply_acl(&u, &root, &[bob_read], &[any]).unwrap();
        let f = s.create_folder(&u, &root, &props("f")).unwrap();
        let e = s.create_folder(&bob, &f, &props("g")).unwrap_err();
        assert!(matches!(e, CmisError::PermissionDenied(_)));
        let bob_write = Ace {
            principal: "bob".into(),
            permission: "cmis:write".into(),
        };
        s.apply_acl(&u, &f, &[bob_write], &[]).unwrap();
        s.create_folder(&bob, &f, &props("g")).unwrap();
        let r = s.read().unwrap();
        let acts = s.actions(&r, &bob, &r.need(&root).unwrap()).unwrap();
        assert!(!acts.allows(Action::CreateFolder));
        assert!(acts.allows(Action::GetChildren));
    }

    #[test]
    fn multifiling_and_delete_tree() {
        let (_d, s) = svc();
        let u = User::admin();
        let root = s.root_id.clone();
        let a = s.create_folder(&u, &root, &props("a")).unwrap();
        let b = s.create_folder(&u, &root, &props("b")).unwrap();
        let d = s
            .create_document(&u, Some(&a), &props("d"), None, None)
            .unwrap();
        s.add_to_folder(&u, &d, &b).unwrap();
        let r = s.read().unwrap();
        assert_eq!(s.parents(&r, &u, &d).unwrap().len(), 2);
        drop(r);
        let failed = s
            .delete_tree(&u, &a, true, UnfileObjects::DeleteSingleFiled, true)
            .unwrap();
        assert!(failed.is_empty());
        let r = s.read().unwrap();
        assert!(r.obj(&a).unwrap().is_none());
        assert_eq!(s.parents(&r, &u, &d).unwrap().len(), 1);
        drop(r);
        s.remove_from_folder(&u, &d, Some(&b)).unwrap();
        let r = s.read().unwrap();
        assert!(s.parents(&r, &u, &d).unwrap().is_empty());
    }

    #[test]
    fn change_log_pages() {
        let (_d, s) = svc();
        let u = User::admin();
        let root = s.root_id.clone();
        for i in 0..5 {
            s.create_folder(&u, &root, &props(&format!("f{i}")))
                .unwrap();
        }
        let (ev, more, tok) = s.changes(None, 3).unwrap();
        assert_eq!(ev.len(), 3);
        assert!(more);
        let (ev2, _, _) = s.changes(tok.as_deref(), 100).unwrap();
        assert_eq!(ev2[0].0, ev[2].0 + 1);
    }

    #[test]
    fn created_checked_out() {
        let (_d, s) = svc();
        let u = User::admin();
        let root = s.root_id.clone();
        let pwc = s
            .create_document(
                &u,
                Some(&root),
                &props("c"),
                None,
                Some(VersioningState::CheckedOut),
            )
            .unwrap();
        let r = s.read().unwrap();
        assert_eq!(s.all_versions(&r, &u, &pwc).unwrap().len(), 1);
        assert_eq!(s.by_path(&r, &u, "/c").unwrap().id, pwc);
        drop(r);
        let v = s
            .check_in(&u, &pwc, false, &props("c2"), None, None)
            .unwrap();
        let r = s.read().unwrap();
        let rec = r.need(&v).unwrap();
        assert_eq!(rec.version_label.as_deref(), Some("0.1"));
        assert_eq!(s.by_path(&r, &u, "/c2").unwrap().id, v);
        drop(r);
        let pwc2 = s
            .create_document(
                &u,
                Some(&root),
                &props("gone"),
                None,
                Some(VersioningState::CheckedOut),
            )
            .unwrap();
        s.cancel_check_out(&u, &pwc2).unwrap();
        let r = s.read().unwrap();
        assert!(r.obj(&pwc2).unwrap().is_none());
        assert!(s.by_path(&r, &u, "/gone").is_err());
    }

    #[test]
    fn orphan_content_is_removed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let s = Service::open(dir.path()).unwrap();
        let root = s.root_id.clone();
        let id = s
            .create_document(
                &User::admin(),
                Some(&root),
                &props("k"),
                Some(staged(&s, b"k")),
                None,
            )
            .unwrap();
        let orphan = s.store.content_path("c999999");
        std::fs::write(&orphan, b"x").unwrap();
        drop(s);
        let s = Service::open(dir.path()).unwrap();
        assert!(!orphan.exists());
        assert_eq!(content(&s, &id), b"k");
    }

    #[test]
    fn labels() {
        assert_eq!(next_label(Some("1.0"), false), "1.1");
        assert_eq!(next_label(Some("1.3"), true), "2.0");
        assert_eq!(next_label(None, true), "1.0");
    }
}
