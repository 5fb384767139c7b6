//! Access control: the three basic CMIS permissions and how they combine.
//!
//! Each object has *direct* ACEs (principal → `cmis:read` | `cmis:write` |
//! `cmis:all`); its effective ACL adds every ACE of the folders above it
//! (for a document, above each folder it is filed in; versions and PWCs
//! use the filing of their series' latest version). A user's permission on
//! an object is the highest permission of the ACEs naming the user or
//! `cmis:anyone`. The root folder starts with `cmis:anyone: cmis:all`, so a
//! fresh repository is open to every authenticated user; an administrator
//! narrows it with applyACL (on the root too). The `admin` user always has
//! every permission.

use std::collections::{BTreeMap, HashSet};

use super::store::{Ace, ObjRec, Read};
use crate::cmis::error::CmisError;

pub const ANYONE: &str = "cmis:anyone";

/// A basic permission, ordered: all implies write implies read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Perm {
    None,
    Read,
    Write,
    All,
}

impl Perm {
    pub fn parse(s: &str) -> Option<Perm> {
        match s {
            "cmis:read" => Some(Perm::Read),
            "cmis:write" => Some(Perm::Write),
            "cmis:all" => Some(Perm::All),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Perm::Read => "cmis:read",
            Perm::Write => "cmis:write",
            Perm::All => "cmis:all",
            Perm::None => "cmis:none",
        }
    }
}

/// One entry of an effective ACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveAce {
    pub principal: String,
    pub permissions: Vec<String>,
    pub direct: bool,
}

/// The folders whose ACEs an object inherits (its own filing, or its
/// series' latest version's filing for versions and PWCs).
fn filing_parents<R: Read>(r: &R, rec: &ObjRec) -> Result<Vec<String>, CmisError> {
    if !rec.parents.is_empty() || rec.series_id.is_none() {
        return Ok(rec.parents.clone());
    }
    let Some(series) = rec.series_id.as_deref().map(|s| r.series(s)).transpose()? else {
        return Ok(Vec::new());
    };
    let Some(latest) = series.and_then(|s| s.versions.last().cloned()) else {
        return Ok(Vec::new());
    };
    Ok(r.obj(&latest)?.map(|o| o.parents).unwrap_or_default())
}

/// Every inherited ACE of `rec` (from all ancestors), without its own.
fn inherited<R: Read>(r: &R, rec: &ObjRec) -> Result<Vec<Ace>, CmisError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut todo = filing_parents(r, rec)?;
    while let Some(id) = todo.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        if let Some(f) = r.obj(&id)? {
            out.extend(f.acl.iter().cloned());
            todo.extend(f.parents.iter().cloned());
        }
    }
    Ok(out)
}

/// Every ACE that applies to objects filed only in `folder` (its own and
/// inherited ones): computed once per listing instead of once per child.
pub fn folder_aces<R: Read>(r: &R, folder: &ObjRec) -> Result<Vec<Ace>, CmisError> {
    let mut out = folder.acl.clone();
    out.extend(inherited(r, folder)?);
    Ok(out)
}

/// The user's permission on a child filed only in the folder whose
/// [`folder_aces`] are given.
pub fn child_permission(user: &str, admin: bool, child: &ObjRec, folder_aces: &[Ace]) -> Perm {
    if admin {
        return Perm::All;
    }
    child
        .acl
        .iter()
        .chain(folder_aces)
        .filter(|a| a.principal == user || a.principal == ANYONE)
        .filter_map(|a| Perm::parse(&a.permission))
        .max()
        .unwrap_or(Perm::None)
}

/// The user's permission on `rec`.
pub fn permission<R: Read>(
    r: &R,
    user: &str,
    admin: bool,
    rec: &ObjRec,
) -> Result<Perm, CmisError> {
    if admin {
        return Ok(Perm::All);
    }
    let best = rec
        .acl
        .iter()
        .cloned()
        .chain(inherited(r, rec)?)
        .filter(|a| a.principal == user || a.principal == ANYONE)
        .filter_map(|a| Perm::parse(&a.permission))
        .max()
        .unwrap_or(Perm::None);
    Ok(best)
}

/// The effective ACL of `rec`, one entry per principal and directness.
pub fn effective<R: Read>(r: &R, rec: &ObjRec) -> Result<Vec<EffectiveAce>, CmisError> {
    let mut map: BTreeMap<(bool, String), Vec<String>> = BTreeMap::new();
    for a in &rec.acl {
        push(&mut map, true, a);
    }
    for a in inherited(r, rec)? {
        push(&mut map, false, &a);
    }
    // Direct entries first, as OpenCMIS lists them.
    let mut out: Vec<EffectiveAce> = map
        .into_iter()
        .map(|((indirect, principal), permissions)| EffectiveAce {
            principal,
            permissions,
            direct: !indirect,
        })
        .collect();
    out.sort_by_key(|a| !a.direct);
    Ok(out)
}

fn push(map: &mut BTreeMap<(bool, String), Vec<String>>, direct: bool, a: &Ace) {
    let perms = map.entry((!direct, a.principal.clone())).or_default();
    if !perms.contains(&a.permission) {
        perms.push(a.permission.clone());
    }
}

/// Applies additions and removals to a direct ACL.
pub fn apply(acl: &mut Vec<Ace>, add: &[Ace], remove: &[Ace]) -> Result<(), CmisError> {
    for a in add.iter().chain(remove) {
        if Perm::parse(&a.permission).is_none() {
            return Err(CmisError::Constraint(format!(
                "unsupported permission '{}' (use cmis:read, cmis:write or cmis:all)",
                a.permission
            )));
        }
        if a.principal.is_empty() || a.principal.len() > 256 {
            return Err(CmisError::InvalidArgument("bad principal id".into()));
        }
    }
    acl.retain(|a| !remove.contains(a));
    for a in add {
        if !acl.contains(a) {
            acl.push(a.clone());
        }
    }
    Ok(())
}
