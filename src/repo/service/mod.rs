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

mod read;
mod versioning;
mod write;

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
}

impl Service {
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
