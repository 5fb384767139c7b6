//! Directory entries: create, mkdir, unlink, rmdir and link
//! (multi-filing); rename is in [`super::rename`].

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
        self.create_marked(parent, name, mode, flags, false).await
    }

    /// [`Vfs::create`]; `incomplete`: a new file's handle carries its
    /// incomplete-marker (see [`Vfs::create_replacing`]) from before the
    /// name is visible to other requests.
    pub(super) async fn create_marked(
        &self,
        parent: Ino,
        name: &str,
        mode: u32,
        flags: OpenFlags,
        incomplete: bool,
    ) -> VfsResult<(Attr, Fh)> {
        versions::refuse(&[parent])?;
        let r = self
            .create_inner(parent, name, mode, flags, incomplete)
            .await;
        if r.is_ok() {
            self.publish_entry(parent, name);
        }
        r
    }

    async fn create_inner(
        &self,
        parent: Ino,
        name: &str,
        mode: u32,
        flags: OpenFlags,
        incomplete: bool,
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
        let cache_file = path.clone();
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
        // Another request made the name since the check above (two WebDAV
        // PUTs at once: unlike the kernel, nothing serializes them): that
        // file is the one to open, this one goes.
        let journal_id = match &i.state {
            FileState::Dirty(d) => Some(d.journal_id),
            _ => None,
        };
        let marker = match &i.state {
            FileState::Dirty(_) if incomplete => {
                let m = replace::incomplete_marker(&cache_file);
                if let Err(e) = std::fs::File::create(&m) {
                    if let Some(id) = journal_id {
                        let _ = self.store.remove_record(id);
                    }
                    let _ = std::fs::remove_file(&cache_file);
                    return Err(io_err("cannot create a cache file", e));
                }
                Some(m)
            }
            _ => None,
        };
        let made = {
            let mut t = self.lock();
            let taken = t
                .get(parent)
                .and_then(|p| p.listing.as_ref())
                .is_some_and(|l| l.entries.contains_key(name));
            if taken {
                None
            } else {
                let ino = t.insert(i);
                // Its handle (and marker) first: a request that finds the
                // name finds it incomplete.
                let fh = self.new_handle(ino, true);
                if marker.is_some() {
                    self.with_handle(fh, |h| h.marker = marker.clone());
                }
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
                Some((ino, fh, attr, streamable))
            }
        };
        let Some((ino, fh, attr, streamable)) = made else {
            if let Some(id) = journal_id {
                let _ = self.store.remove_record(id);
            }
            let _ = std::fs::remove_file(&cache_file);
            if let Some(m) = &marker {
                let _ = std::fs::remove_file(m);
            }
            return Box::pin(self.create_inner(parent, name, mode, flags, incomplete)).await;
        };
        if streamable {
            self.track_appends(ino, name);
        }
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
        // Open for writing but not written yet: its bytes must stay
        // usable through the open handles once the object is gone.
        let clean_writer = self
            .lock()
            .get(ino)
            .is_some_and(|i| i.writers > 0 && matches!(i.state, FileState::Clean));
        if clean_writer {
            self.make_dirty(ino, true).await?;
        }
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
