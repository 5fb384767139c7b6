//! Directory entries: create, mkdir, unlink, rmdir, rename (a plain move,
//! or a save by rename that keeps the target's identity) and link
//! (multi-filing).

use super::*;

impl Vfs {
    // ---- creating and removing -------------------------------------------

    /// Creates and opens a new file.
    pub async fn create(
        &self,
        parent: Ino,
        name: &str,
        mode: u32,
        flags: OpenFlags,
    ) -> VfsResult<(Attr, Fh)> {
        versions::refuse(&[parent])?;
        let r = self.create_inner(parent, name, mode, flags).await;
        if r.is_ok() {
            self.publish_entry(parent, name);
        }
        r
    }

    pub(super) async fn create_inner(
        &self,
        parent: Ino,
        name: &str,
        mode: u32,
        flags: OpenFlags,
    ) -> VfsResult<(Attr, Fh)> {
        if self.cfg.read_only {
            return Err(VfsError::ReadOnly);
        }
        let cmis = Self::check_name(name)?;
        let existing = {
            let t = self.lock();
            let p = t
                .get(parent)
                .ok_or_else(|| VfsError::NotFound(format!("inode {parent}")))?;
            if p.kind != FileKind::Directory {
                return Err(VfsError::NotDir(p.name.clone()));
            }
            p.listing
                .as_ref()
                .and_then(|l| l.entries.get(name).copied())
        };
        // A document hidden by a backup rename: writing its name again is
        // a save into it (keeps its object id and history).
        let existing = existing.or_else(|| {
            let mut t = self.lock();
            let l = t.get_mut(parent)?.listing.as_mut()?;
            let ino = l.detached.remove(name)?;
            l.insert(name.to_string(), ino);
            Some(ino)
        });
        if let Some(ino) = existing {
            if flags.exclusive {
                return Err(VfsError::Exists(name.to_string()));
            }
            let fh = self
                .open(
                    ino,
                    OpenFlags {
                        write: true,
                        truncate: true,
                        ..flags
                    },
                )
                .await?;
            let t = self.lock();
            return Ok((self.attr_of(&t, ino)?, fh));
        }
        let parent_id = {
            let t = self.lock();
            // The repository says we may not create documents here:
            // refuse now rather than journal an upload it will refuse.
            if t.get(parent)
                .and_then(|p| p.object.as_ref())
                .and_then(|o| o.allows(Action::CreateDocument))
                == Some(false)
            {
                return Err(VfsError::AccessDenied(name.to_string()));
            }
            Self::folder_id(&t, parent)?
        };
        let local_only = self.is_local_only(name);
        let id = self.next_journal.fetch_add(1, Ordering::Relaxed);
        let path = self.dirty_dir.join(format!("{id}"));
        std::fs::File::create(&path).map_err(|e| io_err("cannot create a cache file", e))?;
        let state = if local_only {
            FileState::LocalOnly(path)
        } else {
            let rec = JournalRecord {
                id,
                parent_id,
                name: cmis,
                object_id: None,
                base_token: None,
                path: path.clone(),
                mtime_ns: None,
            };
            if let Err(e) = self.store.put_record(&rec) {
                let _ = std::fs::remove_file(&path);
                return Err(VfsError::NoSpace(e.to_string()));
            }
            FileState::Dirty(Dirty {
                journal_id: id,
                path,
                generation: 1,
                upload_at: None,
                base_token: None,
            })
        };
        let local = self.next_local.fetch_add(1, Ordering::Relaxed);
        let mut i = inode::blank(
            FileKind::RegularFile,
            format!("local:{local}"),
            parent,
            name.to_string(),
        );
        i.state = state;
        i.writers = 1;
        i.perm = (mode & 0o7777) as u16;
        if mode & 0o7777 != 0o644 {
            i.user_mode = Some(mode & 0o7777);
        }
        let mut t = self.lock();
        let ino = t.insert(i);
        if let Some(p) = t.get_mut(parent) {
            p.listing
                .get_or_insert_with(Listing::partial)
                .insert(name.to_string(), ino);
        }
        Self::touch_dir(&mut t, parent);
        let attr = self.attr_of(&t, ino)?;
        let streamable = t
            .get(ino)
            .is_some_and(|i| matches!(i.state, FileState::Dirty(_)));
        drop(t);
        if streamable {
            self.track_appends(ino, name);
        }
        let fh = self.new_handle(ino, true);
        Ok((attr, fh))
    }

    /// Whether `name` exists in folder `parent` on the server (to tell a
    /// duplicate from a name the server refuses).
    pub(super) async fn exists_on_server(&self, parent: Ino, cmis: &str) -> bool {
        let path = {
            let t = self.lock();
            match Self::path_of(&t, parent) {
                Ok(p) if p == "/" => format!("/{cmis}"),
                Ok(p) => format!("{p}/{cmis}"),
                Err(_) => return false,
            }
        };
        self.meta(|| self.binding.object_by_path(&path, &PLAIN_READ))
            .await
            .is_ok()
    }

    pub async fn mkdir(&self, parent: Ino, name: &str, mode: u32) -> VfsResult<Attr> {
        versions::refuse(&[parent])?;
        let r = self.mkdir_inner(parent, name, mode).await;
        if r.is_ok() {
            self.publish_entry(parent, name);
        }
        r
    }

    pub(super) async fn mkdir_inner(&self, parent: Ino, name: &str, mode: u32) -> VfsResult<Attr> {
        if self.cfg.read_only {
            return Err(VfsError::ReadOnly);
        }
        let cmis = Self::check_name(name)?;
        let parent_id = {
            let t = self.lock();
            let p = t
                .get(parent)
                .ok_or_else(|| VfsError::NotFound(format!("inode {parent}")))?;
            if p.listing
                .as_ref()
                .is_some_and(|l| l.entries.contains_key(name))
            {
                return Err(VfsError::Exists(name.to_string()));
            }
            if p.object
                .as_ref()
                .and_then(|o| o.allows(Action::CreateFolder))
                == Some(false)
            {
                return Err(VfsError::AccessDenied(name.to_string()));
            }
            Self::folder_id(&t, parent)?
        };
        let props = Properties::new()
            .with_string(prop::NAME, cmis.clone())
            .with_id(prop::OBJECT_TYPE_ID, "cmis:folder");
        let obj = match self
            .meta(|| self.binding.create_folder(&parent_id, &props))
            .await
        {
            Ok(o) => o,
            Err(VfsError::InvalidName(m)) | Err(VfsError::Exists(m)) => {
                if self.exists_on_server(parent, &cmis).await {
                    return Err(VfsError::Exists(name.to_string()));
                }
                tracing::warn!("the server refuses the folder name '{cmis}': {m}");
                return Err(VfsError::InvalidName(m));
            }
            Err(e) => return Err(e),
        };
        let mut t = self.lock();
        let ino = self.upsert(&mut t, parent, name.to_string(), obj);
        if let Some(i) = t.get_mut(ino) {
            if mode & 0o7777 != 0o755 && mode != 0 {
                i.user_mode = Some(mode & 0o7777);
                i.perm = (mode & 0o7777) as u16;
                if let Some(o) = &i.object {
                    let _ = self.store.put_state(
                        &i.key,
                        &ObjectState {
                            token: version_tag(o),
                            atime_ns: None,
                            mtime_ns: None,
                            mode: i.user_mode,
                        },
                    );
                }
            }
        }
        if let Some(p) = t.get_mut(parent) {
            p.listing
                .get_or_insert_with(Listing::partial)
                .insert(name.to_string(), ino);
        }
        Self::touch_dir(&mut t, parent);
        self.attr_of(&t, ino)
    }

    /// Drops the local content of a file (it was unlinked or replaced).
    pub(super) fn discard_local(&self, i: &mut Inode) {
        match std::mem::replace(&mut i.state, FileState::Clean) {
            FileState::Dirty(d) => {
                let _ = self.store.remove_record(d.journal_id);
                let _ = std::fs::remove_file(&d.path);
                self.sub_dirty(i.size);
            }
            FileState::LocalOnly(p) => {
                let _ = std::fs::remove_file(&p);
            }
            FileState::Clean => {}
        }
    }

    pub(super) fn sub_dirty(&self, n: u64) {
        let _ = self
            .dirty_bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(n))
            });
    }

    pub async fn unlink(&self, parent: Ino, name: &str) -> VfsResult<()> {
        versions::refuse(&[parent])?;
        let r = self.unlink_inner(parent, name).await;
        if r.is_ok() {
            self.publish_entry(parent, name);
        }
        r
    }

    pub(super) async fn unlink_inner(&self, parent: Ino, name: &str) -> VfsResult<()> {
        if self.cfg.read_only {
            return Err(VfsError::ReadOnly);
        }
        let ino = self.lookup(parent, name).await?.ino;
        let io = {
            let t = self.lock();
            let i = t
                .get(ino)
                .ok_or_else(|| VfsError::NotFound(name.to_string()))?;
            if i.kind == FileKind::Directory {
                return Err(VfsError::IsDir(name.to_string()));
            }
            i.io_lock.clone()
        };
        self.abort_stream(ino);
        let _io = io.lock().await;
        let (object_id, parent_id) = {
            let t = self.lock();
            let i = t
                .get(ino)
                .ok_or_else(|| VfsError::NotFound(name.to_string()))?;
            (
                i.object_id().map(str::to_string),
                Self::folder_id(&t, parent)?,
            )
        };
        let mut last_link = true;
        if let Some(oid) = &object_id {
            let multi = if self.info.capabilities.multifiling {
                self.meta(|| self.binding.parents(oid, &PLAIN_READ))
                    .await
                    .map(|p| p.len())
                    .unwrap_or(1)
            } else {
                1
            };
            if multi > 1 {
                last_link = false;
                self.meta(|| {
                    self.binding
                        .remove_object_from_folder(oid, Some(&parent_id))
                })
                .await?;
                self.refresh_after_own_change(ino, oid).await;
            } else {
                match self.meta(|| self.binding.delete(oid, true)).await {
                    Ok(()) | Err(VfsError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let mut t = self.lock();
        if let Some(p) = t.get_mut(parent) {
            if let Some(l) = p.listing.as_mut() {
                l.remove(name);
            }
        }
        Self::touch_dir(&mut t, parent);
        if let Some(i) = t.get_mut(ino) {
            i.touch_ctime();
        }
        if let Some(i) = t.get_mut(ino) {
            i.parents.remove(&parent);
            i.server_links = i.server_links.saturating_sub(1);
            if last_link {
                if i.writers > 0 {
                    // Still open: the data stays readable and writable
                    // through the open handles, but is never uploaded.
                    if let FileState::Dirty(d) = std::mem::replace(&mut i.state, FileState::Clean) {
                        let _ = self.store.remove_record(d.journal_id);
                        self.sub_dirty(i.size);
                        i.state = FileState::LocalOnly(d.path);
                    }
                } else {
                    self.discard_local(i);
                }
                i.unlinked = true;
                i.object = None;
                i.parents.clear();
            } else if let Some(&other) = i.parents.iter().next() {
                i.parent = other;
            }
        }
        if last_link {
            t.unkey(ino);
        }
        Ok(())
    }

    pub async fn rmdir(&self, parent: Ino, name: &str) -> VfsResult<()> {
        versions::refuse(&[parent])?;
        let r = self.rmdir_inner(parent, name).await;
        if r.is_ok() {
            self.publish_entry(parent, name);
        }
        r
    }

    pub(super) async fn rmdir_inner(&self, parent: Ino, name: &str) -> VfsResult<()> {
        if self.cfg.read_only {
            return Err(VfsError::ReadOnly);
        }
        let a = self.lookup(parent, name).await?;
        if a.kind != FileKind::Directory {
            return Err(VfsError::NotDir(name.to_string()));
        }
        let ino = a.ino;
        {
            let mut t = self.lock();
            if let Some(l) = t.get_mut(ino).and_then(|d| d.listing.as_mut()) {
                l.expire();
            }
        }
        if !self.readdir(ino).await?.is_empty() {
            return Err(VfsError::NotEmpty(name.to_string()));
        }
        let id = {
            let t = self.lock();
            Self::folder_id(&t, ino)?
        };
        match self.meta(|| self.binding.delete(&id, true)).await {
            Ok(()) | Err(VfsError::NotFound(_)) => {}
            Err(VfsError::Io(m)) if m.to_lowercase().contains("constraint") => {
                return Err(VfsError::NotEmpty(name.to_string()))
            }
            Err(e) => return Err(e),
        }
        let mut t = self.lock();
        if let Some(l) = t.get_mut(parent).and_then(|p| p.listing.as_mut()) {
            l.remove(name);
        }
        Self::touch_dir(&mut t, parent);
        if let Some(i) = t.get_mut(ino) {
            i.unlinked = true;
            i.object = None;
            i.parents.clear();
        }
        t.unkey(ino);
        Ok(())
    }

    /// rename(2). A file renamed over an existing file is a *save*: the
    /// target document takes the new content (new version / setContent),
    /// keeping its object id, history and other filings.
    pub async fn rename(
        &self,
        parent: Ino,
        name: &str,
        new_parent: Ino,
        new_name: &str,
        noreplace: bool,
    ) -> VfsResult<()> {
        versions::refuse(&[parent, new_parent])?;
        let r = self
            .rename_inner(parent, name, new_parent, new_name, noreplace)
            .await;
        if r.is_ok() {
            self.publish_entry(parent, name);
            self.publish_entry(new_parent, new_name);
        }
        r
    }

    pub(super) async fn rename_inner(
        &self,
        parent: Ino,
        name: &str,
        new_parent: Ino,
        new_name: &str,
        noreplace: bool,
    ) -> VfsResult<()> {
        if self.cfg.read_only {
            return Err(VfsError::ReadOnly);
        }
        let new_cmis = Self::check_name(new_name)?;
        let src = self.lookup(parent, name).await?;
        let dst = match self.lookup(new_parent, new_name).await {
            Ok(a) => Some(a),
            Err(VfsError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        if dst.is_none()
            && src.kind == FileKind::RegularFile
            && parent == new_parent
            && self.is_local_only(new_name)
            && !self.is_local_only(name)
        {
            let remote = {
                let t = self.lock();
                t.get(src.ino).is_some_and(|i| i.object.is_some())
            };
            if remote {
                return self.detach(src.ino, parent, name, new_name).await;
            }
        }
        if let Some(d) = dst {
            if noreplace {
                return Err(VfsError::Exists(new_name.to_string()));
            }
            if d.ino == src.ino {
                return Ok(());
            }
            match (src.kind, d.kind) {
                (FileKind::Directory, FileKind::RegularFile) => {
                    return Err(VfsError::NotDir(new_name.to_string()))
                }
                (FileKind::RegularFile, FileKind::Directory) => {
                    return Err(VfsError::IsDir(new_name.to_string()))
                }
                (FileKind::Directory, FileKind::Directory) => {
                    self.rmdir(new_parent, new_name).await?;
                }
                (FileKind::RegularFile, FileKind::RegularFile) => {
                    let dst_remote = {
                        let t = self.lock();
                        t.get(d.ino).is_some_and(|i| i.object.is_some())
                    };
                    if dst_remote {
                        return self
                            .save(src.ino, parent, name, d.ino, new_parent, new_name)
                            .await;
                    }
                    // The target exists only here: drop it.
                    let mut t = self.lock();
                    if let Some(i) = t.get_mut(d.ino) {
                        self.discard_local(i);
                        i.unlinked = true;
                        i.parents.clear();
                    }
                    t.unkey(d.ino);
                    if let Some(l) = t.get_mut(new_parent).and_then(|p| p.listing.as_mut()) {
                        l.remove(new_name);
                    }
                }
            }
        }
        self.move_entry(src.ino, parent, name, new_parent, new_name, &new_cmis)
            .await
    }

    /// A remote document renamed to a local-only (backup) name: the local
    /// inode keeps a copy under the new name and never uploads it; the
    /// server's document stays as it is, hidden under its name until a new
    /// file of that name saves into it.
    pub(super) async fn detach(
        &self,
        ino: Ino,
        parent: Ino,
        name: &str,
        new_name: &str,
    ) -> VfsResult<()> {
        self.make_dirty(ino, true).await?;
        let mut t = self.lock();
        let local = self.next_local.fetch_add(1, Ordering::Relaxed);
        let Some(s) = t.get_mut(ino) else {
            return Err(VfsError::NotFound(name.to_string()));
        };
        let path = match std::mem::replace(&mut s.state, FileState::Clean) {
            FileState::Dirty(d) => {
                let _ = self.store.remove_record(d.journal_id);
                self.sub_dirty(s.size);
                d.path
            }
            FileState::LocalOnly(p) => p,
            FileState::Clean => return Err(VfsError::Io("detach without content".into())),
        };
        s.state = FileState::LocalOnly(path);
        let object = s.object.take();
        let (key, perm, writable, parents) = (s.key.clone(), s.perm, s.writable, s.parents.clone());
        s.name = new_name.to_string();
        t.unkey(ino);
        t.rekey(ino, format!("local:{local}"));
        let mut ghost = inode::blank(FileKind::RegularFile, key, parent, name.to_string());
        ghost.parents = parents;
        ghost.perm = perm;
        ghost.writable = writable;
        if let Some(o) = object {
            self.apply_object(&mut ghost, o);
        }
        let g = t.insert(ghost);
        if let Some(l) = t.get_mut(parent).and_then(|p| p.listing.as_mut()) {
            l.remove(name);
            l.insert(new_name.to_string(), ino);
            l.detached.insert(name.to_string(), g);
        } else if let Some(p) = t.get_mut(parent) {
            let mut l = Listing::partial();
            l.insert(new_name.to_string(), ino);
            l.detached.insert(name.to_string(), g);
            p.listing = Some(l);
        }
        Ok(())
    }

    /// An ordinary move/rename (no target).
    pub(super) async fn move_entry(
        &self,
        ino: Ino,
        parent: Ino,
        name: &str,
        new_parent: Ino,
        new_name: &str,
        new_cmis: &str,
    ) -> VfsResult<()> {
        let io = {
            let t = self.lock();
            t.get(ino)
                .map(|i| i.io_lock.clone())
                .ok_or_else(|| VfsError::NotFound(name.to_string()))?
        };
        self.abort_stream(ino);
        let _io = io.lock().await;
        let (object, parent_id, new_parent_id) = {
            let t = self.lock();
            let i = t
                .get(ino)
                .ok_or_else(|| VfsError::NotFound(name.to_string()))?;
            (
                i.object.clone(),
                Self::folder_id(&t, parent)?,
                Self::folder_id(&t, new_parent)?,
            )
        };
        let mut obj = object;
        if let Some(o) = obj.clone() {
            let mut id = o.id().to_string();
            if parent_id != new_parent_id {
                let moved = self
                    .meta(|| self.binding.move_object(&id, &new_parent_id, &parent_id))
                    .await
                    .map_err(|e| self.name_error(e, new_cmis))?;
                id = moved.id().to_string();
                obj = Some(moved);
            }
            if o.name() != new_cmis {
                let props = Properties::new().with_string(prop::NAME, new_cmis.to_string());
                let token = obj
                    .as_ref()
                    .and_then(|o| o.change_token().map(str::to_string));
                let r = match self
                    .meta(|| {
                        self.binding
                            .update_properties(&id, &props, token.as_deref())
                    })
                    .await
                {
                    Err(VfsError::Io(m)) if m.contains("conflict") => {
                        self.meta(|| self.binding.update_properties(&id, &props, None))
                            .await
                    }
                    r => r,
                };
                match r {
                    Ok(u) => obj = Some(u),
                    Err(e) => {
                        let e = self.name_error(e, new_cmis);
                        if parent_id != new_parent_id {
                            // Keep our view consistent with the server:
                            // moved, not renamed.
                            let mut t = self.lock();
                            if let Some(i) = t.get_mut(ino) {
                                i.parents.remove(&parent);
                                i.parents.insert(new_parent);
                                i.parent = new_parent;
                            }
                            for p in [parent, new_parent] {
                                if let Some(l) = t.get_mut(p).and_then(|d| d.listing.as_mut()) {
                                    l.expire();
                                }
                            }
                        }
                        return Err(e);
                    }
                }
            }
        }
        let mut t = self.lock();
        if let Some(l) = t.get_mut(parent).and_then(|p| p.listing.as_mut()) {
            l.remove(name);
        }
        if let Some(p) = t.get_mut(new_parent) {
            p.listing
                .get_or_insert_with(Listing::partial)
                .insert(new_name.to_string(), ino);
        }
        Self::touch_dir(&mut t, parent);
        Self::touch_dir(&mut t, new_parent);
        if let Some(i) = t.get_mut(ino) {
            i.touch_ctime();
        }
        let mut record = None;
        let now_uploadable = !self.is_local_only(new_name);
        if let Some(i) = t.get_mut(ino) {
            i.parents.remove(&parent);
            i.parents.insert(new_parent);
            i.parent = new_parent;
            i.name = new_name.to_string();
            if let Some(o) = obj {
                if i.object.is_some() {
                    Self::rebase(i, &o);
                    self.apply_object(i, o);
                }
            }
            match &mut i.state {
                FileState::Dirty(d) => {
                    record = Some(JournalRecord {
                        id: d.journal_id,
                        parent_id: new_parent_id.clone(),
                        name: new_cmis.to_string(),
                        object_id: i.object.as_ref().map(|o| o.id().to_string()),
                        base_token: d.base_token.clone(),
                        path: d.path.clone(),
                        mtime_ns: i.user_mtime.map(now_ns),
                    });
                }
                FileState::LocalOnly(p) if now_uploadable => {
                    // A temp file becomes a real one (gedit's
                    // .goutputstream-XXXX renamed to its target).
                    let id = self.next_journal.fetch_add(1, Ordering::Relaxed);
                    let d = Dirty {
                        journal_id: id,
                        path: p.clone(),
                        generation: 1,
                        upload_at: (i.writers == 0)
                            .then(|| Instant::now() + self.cfg.write_back_delay),
                        base_token: None,
                    };
                    record = Some(JournalRecord {
                        id,
                        parent_id: new_parent_id.clone(),
                        name: new_cmis.to_string(),
                        object_id: None,
                        base_token: None,
                        path: p.clone(),
                        mtime_ns: i.user_mtime.map(now_ns),
                    });
                    self.dirty_bytes.fetch_add(i.size, Ordering::Relaxed);
                    i.state = FileState::Dirty(d);
                }
                _ => {}
            }
        }
        drop(t);
        if let Some(r) = record {
            self.store
                .put_record(&r)
                .map_err(|e| VfsError::Io(e.to_string()))?;
            self.wake.notify_one();
        }
        Ok(())
    }

    /// After a metadata change of ours, a pending upload's base token is
    /// the new one (it is not someone else's change).
    pub(super) fn rebase(i: &mut Inode, new: &CmisObject) {
        let old = i.change_token().map(str::to_string);
        if let FileState::Dirty(d) = &mut i.state {
            if d.base_token == old {
                d.base_token = new.change_token().map(str::to_string);
            }
        }
    }

    /// After a change of ours to an object's filing (add/remove object to
    /// folder), re-reads it: the server may have moved its change token,
    /// and a pending upload must not take our own change for someone
    /// else's (a false conflict copy).
    pub(super) async fn refresh_after_own_change(&self, ino: Ino, oid: &str) {
        let Ok(obj) = self.meta(|| self.binding.object(oid, &READ_OPTS)).await else {
            return;
        };
        {
            let mut t = self.lock();
            let Some(i) = t.get_mut(ino) else { return };
            if i.object_id() != Some(oid) {
                return;
            }
            Self::rebase(i, &obj);
            self.apply_object(i, obj);
        }
        self.rejournal(ino);
    }

    /// Rewrites the journal record of a dirty inode from its state.
    pub(super) fn rejournal(&self, ino: Ino) {
        let rec = {
            let t = self.lock();
            let Some(i) = t.get(ino) else { return };
            let FileState::Dirty(d) = &i.state else {
                return;
            };
            let Ok(parent_id) = Self::folder_id(&t, i.parent) else {
                return;
            };
            JournalRecord {
                id: d.journal_id,
                parent_id,
                name: names::to_cmis(&i.name).unwrap_or_else(|_| i.name.clone()),
                object_id: i.object_id().map(str::to_string),
                base_token: d.base_token.clone(),
                path: d.path.clone(),
                mtime_ns: i.user_mtime.map(now_ns),
            }
        };
        if let Err(e) = self.store.put_record(&rec) {
            tracing::warn!("cannot update the journal: {e}");
        }
    }

    /// A name the server refused: EINVAL with a log line; a duplicate:
    /// EEXIST.
    pub(super) fn name_error(&self, e: VfsError, cmis: &str) -> VfsError {
        match e {
            VfsError::InvalidName(m) => {
                tracing::warn!("the server refuses the name '{cmis}': {m}");
                VfsError::InvalidName(m)
            }
            e => e,
        }
    }

    /// Save by rename: `src` (a freshly written file) replaces the content
    /// of document `dst`, which keeps its identity; the inode numbers
    /// follow the kernel (the target name now refers to `src`'s inode).
    pub(super) async fn save(
        &self,
        src: Ino,
        parent: Ino,
        name: &str,
        dst: Ino,
        new_parent: Ino,
        new_name: &str,
    ) -> VfsResult<()> {
        let (l1, l2) = {
            let t = self.lock();
            let a = t.get(src).map(|i| i.io_lock.clone());
            let b = t.get(dst).map(|i| i.io_lock.clone());
            match (a, b) {
                (Some(a), Some(b)) => (a, b),
                _ => return Err(VfsError::NotFound(name.to_string())),
            }
        };
        self.abort_stream(src);
        self.abort_stream(dst);
        let (_g1, _g2) = if src < dst {
            let g1 = l1.lock().await;
            (g1, l2.lock().await)
        } else {
            let g2 = l2.lock().await;
            (l1.lock().await, g2)
        };
        // The new content must be local.
        let src_clean = {
            let t = self.lock();
            t.get(src)
                .is_some_and(|i| matches!(i.state, FileState::Clean))
        };
        if src_clean {
            self.make_dirty(src, true).await?;
        }
        let new_parent_id = {
            let t = self.lock();
            Self::folder_id(&t, new_parent)?
        };
        let (record, temp_object) = {
            let mut t = self.lock();
            let (dst_obj, dst_key, dst_parents, dst_writable) = {
                let d = t
                    .get_mut(dst)
                    .ok_or_else(|| VfsError::NotFound(new_name.to_string()))?;
                if !d.writable {
                    return Err(VfsError::AccessDenied(new_name.to_string()));
                }
                let r = (
                    d.object.clone(),
                    d.key.clone(),
                    d.parents.clone(),
                    d.writable,
                );
                self.discard_local(d);
                d.unlinked = true;
                d.object = None;
                d.parents.clear();
                r
            };
            t.unkey(dst);
            let src_key = t.get(src).map(|i| i.key.clone()).unwrap_or_default();
            let _ = src_key;
            t.rekey(src, dst_key);
            if let Some(l) = t.get_mut(parent).and_then(|p| p.listing.as_mut()) {
                l.remove(name);
            }
            if let Some(p) = t.get_mut(new_parent) {
                p.listing
                    .get_or_insert_with(Listing::partial)
                    .insert(new_name.to_string(), src);
            }
            let s = t
                .get_mut(src)
                .ok_or_else(|| VfsError::NotFound(name.to_string()))?;
            let temp_object = s.object_id().map(str::to_string);
            let base_token = dst_obj
                .as_ref()
                .and_then(|o| o.change_token().map(str::to_string));
            s.parents = dst_parents;
            s.parents.insert(new_parent);
            s.parent = new_parent;
            s.name = new_name.to_string();
            s.writable = dst_writable;
            s.object = dst_obj.clone();
            s.unlinked = false;
            let path = match std::mem::replace(&mut s.state, FileState::Clean) {
                FileState::Dirty(d) => d.path,
                FileState::LocalOnly(p) => {
                    self.dirty_bytes.fetch_add(s.size, Ordering::Relaxed);
                    p
                }
                FileState::Clean => return Err(VfsError::Io("save without content".into())),
            };
            let id = self.next_journal.fetch_add(1, Ordering::Relaxed);
            s.state = FileState::Dirty(Dirty {
                journal_id: id,
                path: path.clone(),
                generation: 1,
                upload_at: (s.writers == 0).then(|| Instant::now() + self.cfg.write_back_delay),
                base_token: base_token.clone(),
            });
            (
                JournalRecord {
                    id,
                    parent_id: new_parent_id,
                    name: names::to_cmis(new_name).unwrap_or_else(|_| new_name.to_string()),
                    object_id: dst_obj.as_ref().map(|o| o.id().to_string()),
                    base_token,
                    path,
                    mtime_ns: s.user_mtime.map(now_ns),
                },
                temp_object,
            )
        };
        self.store
            .put_record(&record)
            .map_err(|e| VfsError::Io(e.to_string()))?;
        // Old records of src (the temp file) are superseded.
        let stale: Vec<u64> = self
            .store
            .records()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.path == record.path && r.id != record.id)
            .map(|r| r.id)
            .collect();
        for id in stale {
            let _ = self.store.remove_record(id);
        }
        if let Some(tmp) = temp_object {
            if Some(tmp.as_str()) != record.object_id.as_deref() {
                match self.meta(|| self.binding.delete(&tmp, true)).await {
                    Ok(()) | Err(VfsError::NotFound(_)) => {}
                    Err(e) => tracing::warn!(
                        "could not delete the uploaded temp file '{name}' on the server: {e}"
                    ),
                }
            }
        }
        self.wake.notify_one();
        Ok(())
    }

    /// A hard link: addObjectToFolder. CMIS files a document under one
    /// name in every folder, so the new name must be the same.
    pub async fn link(&self, ino: Ino, new_parent: Ino, new_name: &str) -> VfsResult<Attr> {
        versions::refuse(&[ino, new_parent])?;
        let r = self.link_inner(ino, new_parent, new_name).await;
        if r.is_ok() {
            self.publish_entry(new_parent, new_name);
            self.events.publish([Change::Inode { ino, data: false }]);
        }
        r
    }

    pub(super) async fn link_inner(
        &self,
        ino: Ino,
        new_parent: Ino,
        new_name: &str,
    ) -> VfsResult<Attr> {
        if self.cfg.read_only {
            return Err(VfsError::ReadOnly);
        }
        if !self.info.capabilities.multifiling {
            return Err(VfsError::NotPermitted(
                "the repository does not support multi-filing".into(),
            ));
        }
        let (kind, name, has_object) = {
            let t = self.lock();
            let i = t
                .get(ino)
                .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
            (i.kind, i.name.clone(), i.object.is_some())
        };
        if kind == FileKind::Directory {
            return Err(VfsError::NotPermitted("hard links to directories".into()));
        }
        if name != new_name {
            return Err(VfsError::NotPermitted(format!(
                "a multi-filed document has one name in every folder ('{name}')"
            )));
        }
        if !has_object {
            writeback::upload_inode(self, ino).await?;
        }
        let (oid, folder) = {
            let t = self.lock();
            let i = t
                .get(ino)
                .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
            (
                i.object_id()
                    .map(str::to_string)
                    .ok_or_else(|| VfsError::Io("not uploaded".into()))?,
                Self::folder_id(&t, new_parent)?,
            )
        };
        match self
            .meta(|| {
                self.binding.add_object_to_folder(
                    &oid,
                    &folder,
                    // Servers without version-specific filing file the whole
                    // series (OpenCMIS refuses allVersions=false).
                    !self.info.capabilities.version_specific_filing,
                )
            })
            .await
        {
            Ok(()) => {}
            Err(VfsError::NotSupported(m)) => return Err(VfsError::NotPermitted(m)),
            Err(VfsError::Io(m)) if m.to_lowercase().contains("constraint") => {
                return Err(VfsError::Exists(m))
            }
            Err(e) => return Err(e),
        }
        self.refresh_after_own_change(ino, &oid).await;
        let mut t = self.lock();
        if let Some(i) = t.get_mut(ino) {
            i.parents.insert(new_parent);
            if i.server_links > 0 {
                i.server_links += 1;
            }
        }
        if let Some(p) = t.get_mut(new_parent) {
            p.listing
                .get_or_insert_with(Listing::partial)
                .insert(new_name.to_string(), ino);
        }
        Self::touch_dir(&mut t, new_parent);
        if let Some(i) = t.get_mut(ino) {
            i.touch_ctime();
        }
        self.attr_of(&t, ino)
    }

    pub async fn statfs(&self) -> VfsResult<StatFs> {
        Ok(StatFs {
            blocks: 1 << 32,
            blocks_free: 1 << 31,
            files: 1 << 32,
            files_free: 1 << 31,
            block_size: 4096,
            name_max: names::NAME_MAX as u32,
        })
    }
}
