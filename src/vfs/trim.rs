//! The inode table's bounds: the kernel's lookup counts (hold, forget),
//! pins of adapters' directory snapshots, and the trim that drops what
//! nobody holds (also the `.versions` nodes), run by a background task.

use super::*;

impl Vfs {
    /// The kernel holds one more lookup of `ino` (an entry it was given:
    /// lookup, create, mkdir, link, a readdirplus entry other than `.` and
    /// `..`). Called right after the call that produced the entry; the
    /// forget grace keeps the inode meanwhile.
    pub fn hold(&self, ino: Ino) {
        if versions::is_virtual(ino) {
            return self.versions_table().hold(ino);
        }
        match self.lock().get_mut(ino) {
            Some(i) => i.lookups += 1,
            None => tracing::warn!("the kernel was given inode {ino}, which is gone"),
        }
    }

    /// The kernel forgot `n` lookups of `ino`; once it holds none and the
    /// inode keeps no state, [`Vfs::trim`] drops it.
    pub fn forget(&self, ino: Ino, n: u64) {
        if versions::is_virtual(ino) {
            self.versions_table().forget(ino, n);
            self.trim_needed.store(true, Ordering::Relaxed);
            return;
        }
        if let Some(i) = self.lock().get_mut(ino) {
            i.lookups = i.lookups.saturating_sub(n);
            if i.lookups == 0 {
                self.trim_needed.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Keeps inodes beyond a call (a directory snapshot of an adapter);
    /// [`Vfs::unpin`] releases them.
    pub fn pin(&self, inos: &[Ino]) {
        let mut t = self.lock();
        for ino in inos {
            if let Some(i) = t.get_mut(*ino) {
                i.pins += 1;
            }
        }
    }

    pub fn unpin(&self, inos: &[Ino]) {
        let mut t = self.lock();
        for ino in inos {
            if let Some(i) = t.get_mut(*ino) {
                i.pins = i.pins.saturating_sub(1);
            }
        }
        self.trim_needed.store(true, Ordering::Relaxed);
    }

    /// Inodes in the table (tests, diagnostics).
    pub fn inode_count(&self) -> usize {
        self.lock().len()
    }

    /// Nodes of the `.versions` trees (tests, diagnostics).
    pub fn version_node_count(&self) -> usize {
        self.versions_table().len()
    }

    /// An inode's attributes as cached, without asking the server.
    pub fn cached_attr(&self, ino: Ino) -> VfsResult<Attr> {
        if versions::is_virtual(ino) {
            return self.versions_attr(ino);
        }
        let t = self.lock();
        self.attr_of(&t, ino)
    }

    /// Bounds the listings kept (least recently used first) and drops the
    /// inodes nobody holds: no kernel lookup, no pin, no local state, no
    /// open handle or upload, unused for the forget grace, not in a kept
    /// listing and no ancestor of a kept inode. Returns how many went.
    pub fn trim(&self) -> usize {
        self.trim_needed.store(false, Ordering::Relaxed);
        let open: HashSet<Ino> = self
            .handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|h| h.ino)
            .collect();
        let uploading = self
            .uploading
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        self.versions_table().trim(&open, self.cfg.forget_grace);
        let now = Instant::now();
        let mut t = self.lock();
        // 1. Listings over the bound lose their entries, oldest use first
        //    (the newest is always kept).
        let mut listed: Vec<(Instant, Ino, usize)> = t
            .iter()
            .filter_map(|i| {
                i.listing
                    .as_ref()
                    .filter(|l| l.fresh_until.is_some())
                    .map(|l| (l.last_used, i.ino, l.entries.len()))
            })
            .collect();
        let mut total: usize = listed.iter().map(|x| x.2).sum();
        listed.sort();
        for (_, dir, n) in listed.iter().take(listed.len().saturating_sub(1)) {
            if total <= self.cfg.max_listed_entries {
                break;
            }
            if let Some(l) = t.get_mut(*dir).and_then(|d| d.listing.as_mut()) {
                l.expire();
                total -= n;
            }
        }
        // 2. What stays: held inodes, entries of complete listings, and
        //    every ancestor of those (paths are built from parents).
        let grace = self.cfg.forget_grace;
        let mut keep: HashSet<Ino> = HashSet::new();
        for i in t.iter() {
            let held = i.ino == ROOT_INO
                || i.lookups > 0
                || i.pins > 0
                || i.holds_state()
                || i.object.is_none()
                || open.contains(&i.ino)
                || uploading.contains(&i.ino)
                || now.saturating_duration_since(i.last_used) < grace;
            if held {
                keep.insert(i.ino);
            }
            if let Some(l) = &i.listing {
                keep.extend(l.detached.values().copied());
                if l.fresh_until.is_some() {
                    keep.extend(l.entries.values().copied());
                }
            }
        }
        let mut stack: Vec<Ino> = keep.iter().copied().collect();
        while let Some(ino) = stack.pop() {
            if let Some(p) = t.get(ino).map(|i| i.parent) {
                if keep.insert(p) {
                    stack.push(p);
                }
            }
        }
        let gone: Vec<Ino> = t
            .iter()
            .map(|i| i.ino)
            .filter(|ino| !keep.contains(ino))
            .collect();
        // 3. Drop them, and their names from the (partial) listings.
        let mut folders: HashSet<Ino> = HashSet::new();
        let mut gone_dirs: HashSet<Ino> = HashSet::new();
        for ino in &gone {
            if let Some(i) = t.remove(*ino) {
                if i.kind == FileKind::Directory {
                    gone_dirs.insert(i.ino);
                }
                folders.extend(i.parents);
            }
        }
        let gone_set: HashSet<Ino> = gone.iter().copied().collect();
        for f in folders {
            if let Some(l) = t.get_mut(f).and_then(|d| d.listing.as_mut()) {
                l.entries.retain(|_, c| !gone_set.contains(c));
                l.subdirs.set(None);
            }
        }
        // A dropped folder is no filing any more (nlink counts filings; a
        // new lookup of that folder makes a new inode).
        if !gone_dirs.is_empty() {
            for i in t.iter_mut() {
                i.parents.retain(|p| !gone_dirs.contains(p));
            }
        }
        if !gone.is_empty() {
            tracing::debug!(dropped = gone.len(), left = t.len(), "inode table trimmed");
        }
        gone.len()
    }
}

/// Trims the inode table when something may have become droppable.
pub(super) fn spawn_trimmer(vfs: Arc<Vfs>) {
    let weak = Arc::downgrade(&vfs);
    let every = vfs
        .cfg
        .forget_grace
        .clamp(Duration::from_millis(100), Duration::from_secs(5));
    drop(vfs);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let Some(vfs) = weak.upgrade() else { return };
            if vfs.stopping.load(Ordering::Relaxed) {
                return;
            }
            let over = vfs.trim_needed.load(Ordering::Relaxed) || {
                let t = vfs.lock();
                t.iter()
                    .filter_map(|i| i.listing.as_ref())
                    .filter(|l| l.fresh_until.is_some())
                    .map(|l| l.entries.len())
                    .sum::<usize>()
                    > vfs.cfg.max_listed_entries
            };
            if over {
                vfs.trim();
            }
        }
    });
}
