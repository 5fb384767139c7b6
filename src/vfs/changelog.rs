//! The change-log poll: getContentChanges every `change_poll`, and the
//! invalidation of exactly what the events name (see [`Vfs::invalidate`]).

use super::*;

impl Vfs {
    /// Invalidates what the change log says changed, here and (through
    /// the change notifications) in the kernel: the named objects'
    /// attributes, their names (renamed or deleted on the server: a listing
    /// keeps its names after expiry) and the listings of the folders we saw
    /// them in. What the log cannot pin down falls back to the TTLs: an
    /// update may be a move into a folder we listed (listings lose their
    /// trust); an object we do not know may be new in one (listings
    /// expire) or the working copy of one we know (attributes lose their
    /// trust).
    ///
    /// An event that carries the very change token we hold for the object
    /// is old news (typically our own upload or rename coming back through
    /// the log): it changes nothing, so a tree we just wrote stays cached.
    fn invalidate(&self, events: &[(String, ChangeType, Option<String>)]) {
        self.log_epoch.fetch_add(1, Ordering::SeqCst);
        // The last event of an object decides.
        let by_id: HashMap<&str, (ChangeType, Option<&str>)> = events
            .iter()
            .map(|(id, c, token)| (id.as_str(), (*c, token.as_deref())))
            .collect();
        let mut t = self.lock();
        let mut hit: HashSet<&str> = HashSet::new();
        let mut parents: HashSet<Ino> = HashSet::new();
        let mut updated = false;
        let mut changes = Vec::new();
        // (folder, name, inode): names to look up afresh.
        let mut names: Vec<(Ino, String, Ino)> = Vec::new();
        for i in t.iter_mut() {
            let Some(o) = &i.object else { continue };
            let found = [Some(o.id()), o.version_series_id()]
                .into_iter()
                .flatten()
                .find_map(|k| by_id.get_key_value(k));
            if let Some((id, (change, token))) = found {
                hit.insert(id);
                let known =
                    *change != ChangeType::Deleted && token.is_some() && *token == o.change_token();
                if known {
                    continue;
                }
                updated |= *change == ChangeType::Updated;
                i.expire_attr();
                parents.extend(i.parents.iter().copied());
                changes.push(Change::Inode {
                    ino: i.ino,
                    data: false,
                });
                changes.extend(i.parents.iter().map(|&p| Change::Entry {
                    parent: p,
                    name: i.name.clone(),
                }));
                if !i.is_dirty() {
                    names.extend(i.parents.iter().map(|&p| (p, i.name.clone(), i.ino)));
                }
            }
        }
        for (dir, name, ino) in names {
            if let Some(l) = t.get_mut(dir).and_then(|d| d.listing.as_mut()) {
                if l.entries.get(&name) == Some(&ino) {
                    l.forget(&name);
                }
            }
        }
        let unknown = events
            .iter()
            .any(|(id, c, _)| *c != ChangeType::Deleted && !hit.contains(id.as_str()));
        for i in t.iter_mut() {
            if unknown {
                i.attr_trusted_until = None;
            }
            let ino = i.ino;
            if let Some(l) = i.listing.as_mut() {
                if unknown || parents.contains(&ino) {
                    l.expire();
                    changes.push(Change::Inode { ino, data: false });
                } else if updated {
                    l.trusted_until = None;
                }
            }
        }
        drop(t);
        self.events.publish(changes);
    }

    /// Records the outcome of a change-log poll that started at `started`.
    fn log_polled(&self, started: Instant, ok: bool) {
        if let Some(h) = self.log.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            h.ok = ok;
            if ok {
                h.last_ok = started;
            }
        }
    }
}

/// Polls getContentChanges and invalidates what changed. A poll due while
/// getChildren sweeps run waits for them and one more interval (in all at
/// most [`MAX_POLL_DEFER`]): the log is read from a token, so nothing is
/// lost, and a big folder's pages are not interleaved with polls. One attempt per poll: a failure makes the
/// caches fall back to their TTLs at once.
///
/// The spec has getContentChanges return the event of the token it is
/// given first, so each poll starts with the last event of the previous
/// one: that repeat is skipped (where the events carry a time), else a
/// quiet repository would invalidate its last changed object every poll.
pub(super) fn spawn_change_poll(vfs: Arc<Vfs>, mut last_seen: Option<crate::cmis::ChangeEvent>) {
    let weak = Arc::downgrade(&vfs);
    let mut token = vfs.info.latest_change_log_token.clone();
    let every = vfs.cfg.change_poll;
    drop(vfs);
    tokio::spawn(async move {
        let mut deferred: Option<Instant> = None;
        loop {
            tokio::time::sleep(every).await;
            let sweeping = |w: &std::sync::Weak<Vfs>| {
                w.upgrade()
                    .is_some_and(|v| v.sweeps.load(Ordering::SeqCst) > 0)
            };
            if sweeping(&weak) {
                let since = *deferred.get_or_insert_with(Instant::now);
                if since.elapsed() < MAX_POLL_DEFER {
                    // Wait for the sweeps, then one quiet interval.
                    while sweeping(&weak) && since.elapsed() < MAX_POLL_DEFER {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            }
            deferred = None;
            let Some(vfs) = weak.upgrade() else { return };
            if vfs.stopping.load(Ordering::Relaxed) {
                return;
            }
            if token.is_none() {
                match vfs.meta(|| vfs.binding.repository_info()).await {
                    Ok(i) => token = i.latest_change_log_token,
                    Err(_) => continue,
                }
                continue;
            }
            let started = Instant::now();
            let mut events = Vec::new();
            let mut ok = true;
            // Page through everything since the token (bounded per poll).
            for _ in 0..100 {
                let page = tokio::time::timeout(
                    vfs.cfg.request_timeout,
                    vfs.binding
                        .content_changes(token.as_deref(), true, Some(1000)),
                )
                .await
                .unwrap_or_else(|_| {
                    Err(CmisError::Timeout {
                        url: "getContentChanges".into(),
                    })
                });
                match page {
                    Ok(ch) => {
                        let more = ch.has_more_items && !ch.events.is_empty();
                        let mut fresh = ch.events.as_slice();
                        if let (Some(first), Some(seen)) = (fresh.first(), &last_seen) {
                            if first.change_time.is_some()
                                && first.object_id == seen.object_id
                                && first.change_type == seen.change_type
                                && first.change_time == seen.change_time
                            {
                                fresh = &fresh[1..];
                            }
                        }
                        events.extend(fresh.iter().map(|e| {
                            let token = e.properties.str(prop::CHANGE_TOKEN).map(str::to_string);
                            (e.object_id.clone(), e.change_type, token)
                        }));
                        if let Some(e) = ch.events.last() {
                            last_seen = Some(e.clone());
                        }
                        if ch.latest_change_log_token.is_some() {
                            token = ch.latest_change_log_token;
                        }
                        if !more {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::debug!("change log poll failed: {e}");
                        ok = false;
                        break;
                    }
                }
            }
            if !events.is_empty() {
                vfs.invalidate(&events);
            }
            vfs.log_polled(started, ok);
        }
    });
}
