//! Lookups and attributes: `lookup` (through the directory listing, a
//! negative-lookup cache and the repository), `getattr`, and `setattr`
//! (truncate, times, mode).

use super::*;

impl Vfs {
    /// Looks `name` up in directory `parent`.
    pub async fn lookup(&self, parent: Ino, name: &str) -> VfsResult<Attr> {
        if versions::is_virtual(parent) {
            return self.versions_lookup(parent, name).await;
        }
        match self.lookup_object(parent, name).await {
            // No real object of that name: the hidden versions directory.
            Err(VfsError::NotFound(m)) if name == versions::VERSIONS_DIR => {
                let t = self.lock();
                match t.get(parent) {
                    Some(p) if p.kind == FileKind::Directory => {
                        let a = self.full_attr(&t, p);
                        drop(t);
                        Ok(self.versions_root(parent, &a))
                    }
                    _ => Err(VfsError::NotFound(m)),
                }
            }
            r => r,
        }
    }

    /// lookup of a real object.
    async fn lookup_object(&self, parent: Ino, name: &str) -> VfsResult<Attr> {
        if name.len() > names::NAME_MAX {
            return Err(VfsError::NameTooLong(name.to_string()));
        }
        let path = {
            let mut t = self.lock();
            let p = t
                .get_mut(parent)
                .ok_or_else(|| VfsError::NotFound(format!("inode {parent}")))?;
            if p.kind != FileKind::Directory {
                return Err(VfsError::NotDir(p.name.clone()));
            }
            p.last_used = Instant::now();
            if let Some(l) = &mut p.listing {
                l.last_used = Instant::now();
                if let Some(&ino) = l.entries.get(name) {
                    if let Some(c) = t.get_mut(ino) {
                        c.last_used = Instant::now();
                    }
                    return self.attr_of(&t, ino);
                }
                if l.is_negative(name, Instant::now(), self.log_healthy()) {
                    return Err(VfsError::NotFound(name.to_string()));
                }
            }
            let cmis = match names::to_cmis(name) {
                Ok(c) => c,
                Err(_) => return Err(VfsError::NotFound(name.to_string())),
            };
            let pp = Self::path_of(&t, parent)?;
            if pp == "/" {
                format!("/{cmis}")
            } else {
                format!("{pp}/{cmis}")
            }
        };
        let epoch = self.log_epoch.load(Ordering::SeqCst);
        match self
            .meta(|| self.binding.object_by_path(&path, &READ_OPTS))
            .await
        {
            Ok(obj) if obj.is_folder() || obj.is_document() => {
                // Where documents can be multi-filed, a lookup outside a
                // listing also asks how many folders hold it (nlink).
                let links = if obj.is_document() && self.info.capabilities.multifiling {
                    let id = obj.id().to_string();
                    self.meta(|| self.binding.parents(&id, &PLAIN_READ))
                        .await
                        .map(|p| p.len() as u32)
                        .unwrap_or(0)
                } else {
                    0
                };
                let mut t = self.lock();
                let ino = self.upsert(&mut t, parent, name.to_string(), obj);
                let trust = self.trust_until(epoch);
                if let Some(i) = t.get_mut(ino) {
                    i.server_links = links;
                    i.attr_trusted_until = trust;
                }
                if let Some(p) = t.get_mut(parent) {
                    p.listing
                        .get_or_insert_with(Listing::partial)
                        .learn(name.to_string(), ino);
                }
                self.attr_of(&t, ino)
            }
            Ok(_) | Err(VfsError::NotFound(_)) => {
                let mut t = self.lock();
                if let Some(p) = t.get_mut(parent) {
                    p.listing
                        .get_or_insert_with(Listing::partial)
                        .remember_missing(name, self.cfg.negative_ttl);
                }
                Err(VfsError::NotFound(name.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    pub async fn getattr(&self, ino: Ino) -> VfsResult<Attr> {
        if versions::is_virtual(ino) {
            return self.versions_attr(ino);
        }
        let id = {
            let mut t = self.lock();
            t.get_mut(ino)
                .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?
                .last_used = Instant::now();
            let t = t;
            let i = t
                .get(ino)
                .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
            if i.is_dirty()
                || matches!(i.state, FileState::LocalOnly(_))
                || i.attr_fresh(Instant::now(), self.log_healthy())
                || i.unlinked
            {
                return Ok(self.full_attr(&t, i));
            }
            match i.object_id() {
                Some(id) => id.to_string(),
                None => return Ok(self.full_attr(&t, i)),
            }
        };
        let epoch = self.log_epoch.load(Ordering::SeqCst);
        match self.meta(|| self.binding.object(&id, &READ_OPTS)).await {
            Ok(obj) => {
                let trust = self.trust_until(epoch);
                let mut t = self.lock();
                if let Some(i) = t.get_mut(ino) {
                    if i.object_id() == Some(id.as_str()) && !i.is_dirty() {
                        self.apply_object(i, obj);
                        i.attr_trusted_until = trust;
                    }
                }
                self.attr_of(&t, ino)
            }
            Err(VfsError::NotFound(m)) => {
                // Deleted (or a new version under another id): the parent
                // listing will tell on its next sweep.
                let mut t = self.lock();
                let parent = t.get(ino).map(|i| i.parent);
                if let Some(p) = parent.and_then(|p| t.get_mut(p)) {
                    if let Some(l) = p.listing.as_mut() {
                        l.expire();
                    }
                }
                Err(VfsError::NotFound(m))
            }
            // Server lost: what we know is better than an error.
            Err(e) => {
                tracing::debug!("getattr of inode {ino} uses cached attributes: {e}");
                let t = self.lock();
                self.attr_of(&t, ino)
            }
        }
    }

    // ---- attributes ------------------------------------------------------

    pub async fn setattr(&self, ino: Ino, set: SetAttr) -> VfsResult<Attr> {
        versions::refuse(&[ino])?;
        let data = set.size.is_some();
        let r = self.setattr_inner(ino, set).await;
        if r.is_ok() {
            self.events.publish([Change::Inode { ino, data }]);
        }
        r
    }

    async fn setattr_inner(&self, ino: Ino, set: SetAttr) -> VfsResult<Attr> {
        if set.uid.is_some_and(|u| u != self.cfg.uid) || set.gid.is_some_and(|g| g != self.cfg.gid)
        {
            return Err(VfsError::NotPermitted(
                "files belong to the mounting user; chown is not possible".into(),
            ));
        }
        if let Some(size) = set.size {
            self.abort_stream(ino);
            if self.cfg.read_only {
                return Err(VfsError::ReadOnly);
            }
            self.make_dirty(ino, size > 0).await?;
            let path = {
                let t = self.lock();
                match t.get(ino).map(|i| &i.state) {
                    Some(FileState::Dirty(d)) => d.path.clone(),
                    Some(FileState::LocalOnly(p)) => p.clone(),
                    _ => return Err(VfsError::Io("file is not writable locally".into())),
                }
            };
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| io_err("cannot open the cache file", e))?;
            f.set_len(size)
                .map_err(|e| io_err("cannot truncate the cache file", e))?;
            let mut t = self.lock();
            let mut rewrite = None;
            if let Some(i) = t.get_mut(ino) {
                i.size = size;
                i.touch_mtime();
                i.user_mtime = None;
                if let FileState::Dirty(d) = &mut i.state {
                    d.generation += 1;
                    if i.writers == 0 {
                        d.upload_at = Some(Instant::now() + self.cfg.write_back_delay);
                    }
                    // Truncated to nothing while open (the kernel's O_TRUNC):
                    // written from scratch, the upload may stream.
                    if size == 0 && i.writers > 0 {
                        rewrite = Some(i.name.clone());
                    }
                }
            }
            drop(t);
            if let Some(name) = rewrite {
                self.track_appends(ino, &name);
            }
            self.wake.notify_one();
        }
        if set.mtime.is_some() || set.mode.is_some() || set.atime.is_some() {
            let mut t = self.lock();
            let i = t
                .get_mut(ino)
                .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
            i.touch_ctime();
            if let Some(m) = set.mtime {
                i.mtime = m;
                i.user_mtime = Some(m);
            }
            if let Some(a) = set.atime {
                i.atime = Some(a);
            }
            if let Some(mode) = set.mode {
                i.perm = (mode & 0o7777) as u16;
                i.user_mode = Some(mode & 0o7777);
            }
            if !i.is_dirty() {
                if let Some(obj) = &i.object {
                    let st = ObjectState {
                        token: version_tag(obj),
                        atime_ns: i.atime.map(now_ns),
                        mtime_ns: i.user_mtime.map(now_ns).or_else(|| {
                            self.store
                                .state(&i.key, &version_tag(obj))
                                .and_then(|s| s.mtime_ns)
                        }),
                        mode: i.user_mode,
                    };
                    if let Err(e) = self.store.put_state(&i.key, &st) {
                        tracing::warn!("cannot keep the mtime/mode: {e}");
                    }
                }
            }
        }
        let t = self.lock();
        self.attr_of(&t, ino)
    }
}
