//! rename(2): a move or rename of an entry (moveObject, updateProperties
//! of cmis:name), or a save by rename, where a freshly written file
//! replaces the content of the document it is renamed over.

use super::*;

impl Vfs {
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
        // A folder into itself or below (the kernel refuses this before it
        // asks; a WebDAV MOVE does not).
        if src.kind == FileKind::Directory {
            let t = self.lock();
            let mut at = Some(new_parent);
            while let Some(ino) = at {
                if ino == src.ino {
                    return Err(VfsError::InvalidArgument(format!(
                        "cannot move '{name}' into itself"
                    )));
                }
                at = t.get(ino).map(|i| i.parent).filter(|&p| p != ino);
            }
        }
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
        // A document hidden by a backup rename: a file renamed to its name
        // saves into it (JetBrains' safe write), as a create of it does.
        let (dst, revived) = match dst {
            None if src.kind == FileKind::RegularFile => {
                match self.revive_detached(new_parent, new_name) {
                    Some(a) => (Some(a), true),
                    None => (None, false),
                }
            }
            d => (d, false),
        };
        if let Some(d) = dst {
            if noreplace && !revived {
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

    /// Brings back the document detached under `name` in `parent` (see
    /// [`Vfs::detach`]) as that name's entry; `None` when there is none.
    fn revive_detached(&self, parent: Ino, name: &str) -> Option<Attr> {
        let mut t = self.lock();
        let l = t.get_mut(parent)?.listing.as_mut()?;
        let ino = l.detached.remove(name)?;
        l.insert(name.to_string(), ino);
        self.attr_of(&t, ino).ok()
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
}
