//! Reading services of the embedded repository: objects, paths, children,
//! trees, parents, versions, checkouts, allowable actions, properties,
//! query and the change log.

use super::*;

impl Service {
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

    pub(super) fn tree_rec<R: Read>(
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

    pub(super) fn query_candidates(&self, r: &Rx, q: &query::Query) -> Result<Vec<ObjRec>> {
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
    pub(super) fn ancestors(&self, r: &Rx, rec: &ObjRec, folder: &str) -> Result<bool> {
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
}
