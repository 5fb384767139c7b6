//! Changing services of the embedded repository: create, content
//! (set, append, delete), properties, move, multi-filing and delete.

use super::*;

impl Service {
    pub(super) fn need_write<R: Read>(
        &self,
        r: &R,
        user: &User,
        rec: &ObjRec,
        what: &str,
    ) -> Result<()> {
        if acl::permission(r, &user.name, user.admin, rec)? < Perm::Write {
            return Err(denied(what));
        }
        Ok(())
    }

    pub(super) fn check_token(rec: &ObjRec, token: Option<&str>) -> Result<()> {
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

    pub(super) fn folder_for_create(
        &self,
        tx: &Tx,
        user: &User,
        folder_id: &str,
    ) -> Result<ObjRec> {
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

    pub(super) fn new_record(
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

    pub(super) fn file_in(&self, tx: &mut Tx, folder: &str, rec: &mut ObjRec) -> Result<()> {
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

    pub(super) fn touch_folder(&self, tx: &mut Tx, user: &User, folder: &str) -> Result<()> {
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

    pub(super) fn adopt(&self, tx: &mut Tx, staged: &Staged) -> Result<ContentRec> {
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
    pub(super) fn content_editable<R: Read>(&self, r: &R, user: &User, rec: &ObjRec) -> Result<()> {
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

    pub(super) fn bump(rec: &mut ObjRec, user: &User) {
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
    pub(super) fn rename(&self, tx: &mut Tx, rec: &mut ObjRec, new_name: &str) -> Result<()> {
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

    pub(super) fn unfile_all(&self, tx: &mut Tx, rec: &ObjRec) -> Result<()> {
        for p in &rec.parents {
            tx.del_child(p, &rec.name)?;
        }
        Ok(())
    }

    /// Removes a document version (and everything of its series when
    /// `all_versions`).
    pub(super) fn delete_document(
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
    pub(super) fn delete_tree_rec(
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
}
