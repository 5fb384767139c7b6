//! A file's way from clean to dirty: the permission check, the copy of
//! the repository's content when a write needs it, the journal record,
//! and open() (which makes a file dirty only when it truncates).

use super::*;

impl Vfs {
    /// Makes a file's content local and journaled (before the first write
    /// returns). `keep` copies the server's content first.
    pub(super) async fn make_dirty(&self, ino: Ino, keep: bool) -> VfsResult<()> {
        if !self.may_write(ino).await? {
            return Ok(());
        }
        let (object_id, source, tag, size, parent, name) = {
            let t = self.lock();
            let i = t.file(ino)?;
            if !matches!(i.state, FileState::Clean) {
                return Ok(());
            }
            (
                i.object_id().map(str::to_string),
                // Under our own checkout the PWC's content is the base.
                i.content_object().map(|o| o.id().to_string()),
                i.content_object().map(version_tag),
                i.size,
                i.parent,
                i.name.clone(),
            )
        };
        let id = self.next_journal.fetch_add(1, Ordering::Relaxed);
        let path = self.dirty_dir.join(format!("{id}"));
        match (&source, keep) {
            (Some(oid), true) if size > 0 => {
                let tag = tag.clone().unwrap_or_default();
                tokio::time::timeout(
                    self.cfg.request_timeout * 4,
                    self.cache.copy_full(&self.binding, oid, &tag, size, &path),
                )
                .await
                .map_err(|_| VfsError::Io("download timed out".into()))??;
            }
            _ => {
                std::fs::File::create(&path)
                    .map_err(|e| io_err("cannot create a cache file", e))?;
            }
        }
        let parent_id = {
            let t = self.lock();
            Self::folder_id(&t, parent)?
        };
        let token = {
            let t = self.lock();
            t.get(ino)
                .and_then(|i| i.change_token().map(str::to_string))
        };
        let rec = JournalRecord {
            id,
            parent_id,
            name: names::to_cmis(&name).unwrap_or(name),
            object_id,
            base_token: token.clone(),
            path: path.clone(),
            mtime_ns: None,
        };
        self.store
            .put_record(&rec)
            .map_err(|e| VfsError::NoSpace(e.to_string()))?;
        let mut t = self.lock();
        let i = t
            .get_mut(ino)
            .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
        if !matches!(i.state, FileState::Clean) {
            // Someone else got there first.
            drop(t);
            let _ = self.store.remove_record(id);
            let _ = std::fs::remove_file(&path);
            return Ok(());
        }
        if !keep {
            i.size = 0;
        }
        i.state = FileState::Dirty(Dirty {
            journal_id: id,
            path,
            generation: 1,
            upload_at: None,
            base_token: token,
        });
        self.dirty_bytes.fetch_add(i.size, Ordering::Relaxed);
        Ok(())
    }

    /// Whether a clean file may take local writes: EACCES where we may not
    /// set its content (checked out by someone else: logged with the
    /// owner) or the upload it would need is not allowed. `Ok(false)`:
    /// not clean, its local bytes were allowed already.
    pub(super) async fn may_write(&self, ino: Ino) -> VfsResult<bool> {
        let (name, writable, owner) = {
            let t = self.lock();
            let i = t.file(ino)?;
            if !matches!(i.state, FileState::Clean) {
                return Ok(false);
            }
            (
                i.name.clone(),
                i.writable,
                i.object
                    .as_ref()
                    .and_then(|o| o.version_series_checked_out_by())
                    .map(str::to_string),
            )
        };
        if !writable {
            if let Some(owner) = owner {
                tracing::warn!(
                    "{} is checked out by {owner}: read-only",
                    self.display_path(ino)
                );
            }
            return Err(VfsError::AccessDenied(name));
        }
        if !self.upload_allowed(ino).await {
            return Err(VfsError::AccessDenied(name));
        }
        Ok(true)
    }

    /// Whether the allowable actions of an existing document permit the
    /// upload that `writeback` would do: setContentStream for a
    /// non-versionable type, checkOut for a versionable one (unless we hold
    /// its checkout already). Unknown actions or type: allowed.
    async fn upload_allowed(&self, ino: Ino) -> bool {
        let obj = {
            let t = self.lock();
            match t.get(ino).and_then(|i| i.object.clone()) {
                Some(o) => o,
                None => return true,
            }
        };
        let versionable = self.versionable(&obj).await;
        match versionable {
            Some(true) => {
                let ours = obj.is_version_series_checked_out() == Some(true)
                    && obj.version_series_checked_out_by() == self.cfg.user.as_deref();
                ours || obj.allows(Action::CheckOut) != Some(false)
            }
            Some(false) => obj.allows(Action::SetContentStream) != Some(false),
            None => true,
        }
    }

    pub async fn open(&self, ino: Ino, flags: OpenFlags) -> VfsResult<Fh> {
        if versions::is_virtual(ino) {
            return self.versions_open(ino, flags);
        }
        self.ensure_pwc(ino).await;
        let r = self.open_inner(ino, flags).await;
        if r.is_ok() && flags.truncate {
            self.events.publish([Change::Inode { ino, data: true }]);
        }
        r
    }

    async fn open_inner(&self, ino: Ino, flags: OpenFlags) -> VfsResult<Fh> {
        {
            let t = self.lock();
            let i = t
                .get(ino)
                .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
            if i.kind == FileKind::Directory && flags.write {
                return Err(VfsError::IsDir(i.name.clone()));
            }
        }
        if flags.write {
            if self.cfg.read_only {
                return Err(VfsError::ReadOnly);
            }
            if flags.truncate {
                self.make_dirty(ino, false).await?;
            } else {
                // The first write makes the file dirty, not the open:
                // programs open read-write to read, lock or touch a
                // document, and that must neither download it whole nor
                // upload it again as a new version.
                self.may_write(ino).await?;
            }
            let path = {
                let mut t = self.lock();
                let i = t
                    .get_mut(ino)
                    .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
                i.writers += 1;
                match &mut i.state {
                    FileState::Dirty(d) => {
                        d.upload_at = None;
                        Some(d.path.clone())
                    }
                    FileState::LocalOnly(p) => Some(p.clone()),
                    FileState::Clean => None,
                }
            };
            if flags.truncate {
                let path = path.ok_or_else(|| VfsError::Io("not dirty".into()))?;
                self.abort_stream(ino);
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| io_err("cannot open the cache file", e))?;
                f.set_len(0)
                    .map_err(|e| io_err("cannot truncate the cache file", e))?;
                let mut t = self.lock();
                if let Some(i) = t.get_mut(ino) {
                    i.size = 0;
                    i.touch_mtime();
                    i.user_mtime = None;
                    if let FileState::Dirty(d) = &mut i.state {
                        d.generation += 1;
                    }
                }
                // Written from scratch, new or not: the upload may stream.
                let fresh = t
                    .get(ino)
                    .and_then(|i| matches!(i.state, FileState::Dirty(_)).then(|| i.name.clone()));
                drop(t);
                if let Some(name) = fresh {
                    self.track_appends(ino, &name);
                }
            }
        }
        let fh = self.new_handle(ino, flags.write);
        Ok(fh)
    }

    /// Whether the object's type is versionable (`None`: unknown type or
    /// the type definition could not be read).
    pub(super) async fn versionable(&self, obj: &CmisObject) -> Option<bool> {
        let t = obj.object_type_id()?;
        self.type_def(t).await.ok().and_then(|d| d.versionable)
    }
}
