//! readdir: a directory's listing from getChildren sweeps (a whole
//! folder in pages of `page_size`), installed over the listing so that our
//! own edits made while a sweep ran survive it (see [`super::dir`]).

use super::*;

/// Counts a running sweep for as long as it lives.
struct SweepGuard<'a>(&'a AtomicU64);

impl Drop for SweepGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Vfs {
    /// The full listing of a directory, with attributes (not `.`/`..`).
    pub async fn readdir(&self, ino: Ino) -> VfsResult<Vec<DirEntry>> {
        if versions::is_virtual(ino) {
            return self.versions_readdir(ino).await;
        }
        let folder_id = {
            let mut t = self.lock();
            let d = t
                .get_mut(ino)
                .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
            if d.kind != FileKind::Directory {
                return Err(VfsError::NotDir(d.name.clone()));
            }
            d.last_used = Instant::now();
            if let Some(l) = &mut d.listing {
                l.last_used = Instant::now();
            }
            let d = t
                .get(ino)
                .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
            if let Some(l) = &d.listing {
                if l.is_fresh(Instant::now(), self.log_healthy()) {
                    return Ok(self.entries(&t, l));
                }
            }
            Self::folder_id(&t, ino)?
        };
        // A sweep that ran while we changed the folder a lot (more edits
        // than a listing keeps) is done again; the third is taken as is.
        let mut attempt = 0;
        let swept = loop {
            attempt += 1;
            let epoch = self.log_epoch.load(Ordering::SeqCst);
            let since = dir::edit_seq();
            match self.sweep(&folder_id).await {
                Ok(objects) => {
                    if let Some(entries) =
                        self.install_listing(ino, objects, epoch, since, attempt >= 3)
                    {
                        break Ok(entries);
                    }
                }
                Err(e) => break Err(e),
            }
        };
        match swept {
            Ok(entries) => Ok(entries),
            // Server lost: the listing we had is better than an error.
            Err(e @ (VfsError::Io(_) | VfsError::TimedOut(_))) => {
                let t = self.lock();
                match t.get(ino).and_then(|d| d.listing.as_ref()) {
                    Some(l) if l.fresh_until.is_some() => {
                        tracing::debug!("listing inode {ino} from the cache: {e}");
                        Ok(self.entries(&t, l))
                    }
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// One getChildren sweep: every page of a folder.
    async fn sweep(&self, folder_id: &str) -> VfsResult<Vec<CmisObject>> {
        self.sweeps.fetch_add(1, Ordering::SeqCst);
        let _running = SweepGuard(&self.sweeps);
        let mut objects = Vec::new();
        let mut skip = 0u64;
        loop {
            let options = ChildrenOptions {
                read: READ_OPTS.clone(),
                max_items: Some(1000),
                skip_count: skip,
                order_by: None,
            };
            let page = self
                .meta(|| self.binding.children(folder_id, &options))
                .await?;
            let n = page.objects.len() as u64;
            objects.extend(
                page.objects
                    .into_iter()
                    .filter(|o| o.is_folder() || o.is_document()),
            );
            if !page.has_more_items || n == 0 {
                break;
            }
            skip += n;
        }
        Ok(objects)
    }

    /// Replaces a directory's listing with the result of a sweep that
    /// started at log epoch `epoch` and edit number `since`. Our own edits
    /// made while it ran are replayed over its view. A view older than the
    /// edits kept is not installed (`None`) unless `anyway`; one older
    /// than the complete listing installed meanwhile gives way to it.
    fn install_listing(
        &self,
        ino: Ino,
        objects: Vec<CmisObject>,
        epoch: u64,
        since: u64,
        anyway: bool,
    ) -> Option<Vec<DirEntry>> {
        let trust = self.trust_until(epoch);
        let keyed: Vec<(String, String)> = objects
            .iter()
            .map(|o| (o.name().to_string(), object_key(o)))
            .collect();
        let file_names = dir::file_names(&keyed);
        let mut t = self.lock();
        let (mut listing, recent) = match t.get(ino).and_then(|d| d.listing.as_ref()) {
            // Another sweep that started later was installed meanwhile
            // (the kernel and WebDAV listing the same folder): its view
            // is the newer one, and sweeping again would waste the pages.
            Some(old) if old.is_newer_than(since) => return Some(self.entries(&t, old)),
            Some(old) => match old.edits_since(since) {
                Some(recent) => (old.successor(since), recent),
                None if anyway => (old.successor(since), old.edits.iter().cloned().collect()),
                None => {
                    tracing::debug!("a listing of inode {ino} older than our edits is not used");
                    return None;
                }
            },
            None => (Listing::partial(), Vec::new()),
        };
        listing.swept_at = since;
        listing.fresh_until = Some(Instant::now() + self.cfg.metadata_ttl);
        listing.trusted_until = trust;
        let edited_names: HashSet<&str> = recent.iter().map(|e| e.name.as_str()).collect();
        let edited_inos: HashSet<Ino> = recent.iter().filter_map(|e| e.ino).collect();
        for (obj, name) in objects.into_iter().zip(file_names) {
            if listing.detached.contains_key(&name) {
                continue;
            }
            // What we changed since the sweep began is newer than its view
            // (a removed document must not come back, a renamed one must
            // keep its new name).
            let edited = edited_names.contains(name.as_str())
                || t.by_key(&object_key(&obj))
                    .is_some_and(|c| edited_inos.contains(&c));
            if edited {
                continue;
            }
            let ino_c = self.upsert(&mut t, ino, name.clone(), obj);
            if let Some(c) = t.get_mut(ino_c) {
                c.attr_trusted_until = trust;
            }
            listing.entries.insert(name, ino_c);
        }
        for e in &recent {
            match e.ino {
                Some(c) if t.get(c).is_some_and(|i| !i.unlinked) => {
                    listing.entries.insert(e.name.clone(), c);
                }
                Some(_) => {}
                None => {
                    listing.entries.remove(&e.name);
                }
            }
        }
        // Keep what exists only here (new files not uploaded yet); forget
        // filings the server no longer has.
        let old = t.get_mut(ino).and_then(|d| d.listing.take());
        if let Some(old) = old {
            let listed: HashSet<Ino> = listing.entries.values().copied().collect();
            for (name, c) in old.entries {
                if listed.contains(&c) {
                    continue;
                }
                let keep = t.get(c).is_some_and(|i| i.object.is_none() && !i.unlinked);
                if keep && !listing.entries.contains_key(&name) {
                    listing.entries.insert(name, c);
                } else if let Some(i) = t.get_mut(c) {
                    i.parents.remove(&ino);
                }
            }
        }
        let out = self.entries(&t, &listing);
        if let Some(d) = t.get_mut(ino) {
            d.listing = Some(listing);
            // A sweep of a large folder can outlast the TTL: the folder's
            // own attributes count as fresh with its listing.
            d.attr_expires = d.attr_expires.max(Instant::now() + self.cfg.metadata_ttl);
            if d.object.is_some() && d.attr_trusted_until.is_some() {
                d.attr_trusted_until = d.attr_trusted_until.max(trust);
            }
        }
        Some(out)
    }

    fn entries(&self, t: &InodeTable, l: &Listing) -> Vec<DirEntry> {
        l.entries
            .iter()
            .filter_map(|(name, &c)| {
                t.get(c).map(|i| DirEntry {
                    name: name.clone(),
                    attr: self.full_attr(t, i),
                })
            })
            .collect()
    }
}
