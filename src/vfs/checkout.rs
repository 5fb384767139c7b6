//! Checkouts made for WebDAV locks: checkOut of a versionable document,
//! writes into our own private working copy, and checkIn or
//! cancelCheckOut when the lock ends (persisted in the state store, so a
//! restart keeps them).

use super::*;

impl Vfs {
    // ---- checkouts (WebDAV locks) ----------------------------------------

    /// Reads the PWC of our own checkout of `ino` if we have not yet: its
    /// content is what the file shows and what a write starts from.
    pub(super) async fn ensure_pwc(&self, ino: Ino) {
        let pwc_id = {
            let t = self.lock();
            t.get(ino)
                .and_then(|i| i.checkout.as_ref())
                .filter(|c| c.pwc.is_none())
                .map(|c| c.pwc_id.clone())
        };
        let Some(id) = pwc_id else { return };
        match self.meta(|| self.binding.object(&id, &READ_OPTS)).await {
            Ok(o) if is_pwc(&o) => {
                let mut t = self.lock();
                if let Some(i) = t.get_mut(ino) {
                    if i.checkout.as_ref().is_some_and(|c| c.pwc_id == id) {
                        self.apply_object(i, o);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::debug!("cannot read the working copy {id}: {e}"),
        }
    }

    /// Re-reads document `id` into inode `ino` after its checkout state
    /// changed. A dirty file's edit base follows the token the change gave
    /// the document (checkOut changes it on some servers).
    pub(super) async fn reread(&self, ino: Ino, id: &str) -> VfsResult<CmisObject> {
        let obj = self.meta(|| self.binding.object(id, &READ_OPTS)).await?;
        let mut t = self.lock();
        if let Some(i) = t.get_mut(ino) {
            let old = i.change_token().map(str::to_string);
            let new = obj.change_token().map(str::to_string);
            if let FileState::Dirty(d) = &mut i.state {
                if d.base_token == old {
                    d.base_token = new;
                }
            }
            self.apply_object(i, obj.clone());
        }
        Ok(obj)
    }

    /// Checks the document `ino` out for our user (a WebDAV LOCK): until
    /// [`Vfs::end_checkout`], writes go into its PWC. `Ok(true)`: checked
    /// out by this call; `Ok(false)`: nothing to do (a folder, not in the
    /// repository yet, not versionable, or checked out by us already);
    /// `Locked` when someone else holds the checkout.
    pub async fn check_out(&self, ino: Ino) -> VfsResult<bool> {
        if self.cfg.read_only || super::versions::is_virtual(ino) {
            return Ok(false);
        }
        let type_id = {
            let t = self.lock();
            let i = t
                .get(ino)
                .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
            if i.kind != FileKind::RegularFile || i.object.is_none() {
                return Ok(false);
            }
            i.object
                .as_ref()
                .and_then(|o| o.object_type_id())
                .map(str::to_string)
        };
        if let Some(t) = type_id {
            if self.type_def(&t).await.ok().and_then(|d| d.versionable) == Some(false) {
                return Ok(false);
            }
        }
        // Local changes not uploaded yet become their own version first.
        self.fsync(ino).await?;
        let (id, key) = {
            let t = self.lock();
            match t.get(ino) {
                Some(i) => match i.object_id() {
                    Some(id) => (id.to_string(), i.key.clone()),
                    None => return Ok(false),
                },
                None => return Err(VfsError::NotFound(format!("inode {ino}"))),
            }
        };
        let shown = self.etag_token(ino)?;
        let tag = self
            .lock()
            .get(ino)
            .and_then(|i| i.object.as_ref().map(version_tag));
        // Not retried: a second checkOut would find our own first one.
        let r = tokio::time::timeout(self.cfg.request_timeout, self.binding.check_out(&id))
            .await
            .map_err(|_| VfsError::Io("the server did not answer checkOut".into()))?;
        match r {
            Ok(pwc) => {
                let rec = journal::CheckoutRecord {
                    pwc_id: pwc.id().to_string(),
                    modified: false,
                };
                if let Err(e) = self.store.put_checkout(&key, &rec) {
                    tracing::warn!(
                        "cannot record the checkout of {}: {e}",
                        self.display_path(ino)
                    );
                }
                self.reread(ino, &id).await?;
                self.pin_etag(ino, shown);
                self.carry_state(ino, tag, None);
                {
                    let mut t = self.lock();
                    if let Some(i) = t.get_mut(ino) {
                        if is_pwc(&pwc) && i.checkout.as_ref().is_some_and(|c| c.pwc_id == pwc.id())
                        {
                            self.apply_object(i, pwc);
                        }
                    }
                }
                self.events.publish([Change::Inode { ino, data: false }]);
                tracing::info!("checked out {}", self.display_path(ino));
                Ok(true)
            }
            // Not versionable after all: the lock alone it is.
            Err(CmisError::Constraint(_) | CmisError::NotSupported(_)) => Ok(false),
            Err(e @ (CmisError::Versioning(_) | CmisError::UpdateConflict(_))) => {
                let o = self.reread(ino, &id).await?;
                if self.own_checkout_of(&o).is_some() {
                    Ok(false)
                } else if o.is_version_series_checked_out() == Some(true) {
                    Err(VfsError::Locked(format!(
                        "checked out by {}",
                        o.version_series_checked_out_by().unwrap_or("someone else")
                    )))
                } else {
                    Err(e.into())
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The change token a WebDAV ETag is made from: that of the object
    /// whose content the file shows, except across our own checkout and
    /// its cancel (a LOCK and an UNLOCK with no write between), which change
    /// the token but not the content: there the token from before stays,
    /// so a client's `If-Match` and cached copy stay good.
    pub fn etag_token(&self, ino: Ino) -> VfsResult<Option<String>> {
        let t = self.lock();
        let i = t
            .get(ino)
            .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
        if let Some((shown, while_token)) = &i.etag_pin {
            if !i.is_dirty() && while_token.as_deref() == i.change_token() {
                return Ok(shown.clone());
            }
        }
        Ok(i.content_object()
            .and_then(|o| o.change_token())
            .map(str::to_string))
    }

    /// After our own checkout or its cancel: the ETag keeps `shown` while
    /// the document's token is the one it has now.
    fn pin_etag(&self, ino: Ino, shown: Option<String>) {
        let mut t = self.lock();
        if let Some(i) = t.get_mut(ino) {
            i.etag_pin = Some((shown, i.change_token().map(str::to_string)));
        }
    }

    /// Our own checkout, cancel or checkIn left the document at a new
    /// change token: what the user set on it for token `from` (a date, a
    /// mode) still holds, with the date `mtime` if given (a checkIn keeps
    /// the date of the content the PWC showed).
    fn carry_state(&self, ino: Ino, from: Option<String>, mtime: Option<std::time::SystemTime>) {
        let mut t = self.lock();
        let Some(i) = t.get_mut(ino) else {
            return;
        };
        let Some(to) = i.object.as_ref().map(version_tag) else {
            return;
        };
        if from.as_deref() == Some(to.as_str()) {
            return;
        }
        let kept = from.and_then(|f| self.store.state(&i.key, &f));
        let mut st = match (kept, mtime) {
            (Some(st), _) => st,
            (None, Some(_)) => journal::ObjectState::default(),
            (None, None) => return,
        };
        st.token = to;
        if let Some(m) = mtime {
            st.mtime_ns = Some(now_ns(m));
        }
        if let Err(e) = self.store.put_state(&i.key, &st) {
            tracing::debug!("cannot keep the date of {}: {e}", i.name);
            return;
        }
        if let Some(ns) = st.mtime_ns {
            i.mtime = from_ns(ns);
        }
        if let Some(m) = st.mode {
            i.perm = (m & 0o7777) as u16;
        }
    }

    /// Ends a checkout made by [`Vfs::check_out`] (UNLOCK, or the lock
    /// expired): what was written is uploaded into the PWC first, then the
    /// PWC is checked in (one new version) if anything was written into it,
    /// else the checkout is cancelled. A checkout we did not make is left
    /// alone.
    pub async fn end_checkout(&self, ino: Ino) -> VfsResult<()> {
        if super::versions::is_virtual(ino) {
            return Ok(());
        }
        let key = {
            let t = self.lock();
            match t.get(ino) {
                Some(i) => i.key.clone(),
                None => return Err(VfsError::NotFound(format!("inode {ino}"))),
            }
        };
        if self.store.checkout(&key).is_none() {
            return Ok(());
        }
        self.fsync(ino).await?;
        let Some(rec) = self.store.checkout(&key) else {
            return Ok(());
        };
        let (doc_id, rename) = {
            let t = self.lock();
            let i = t
                .get(ino)
                .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
            // A rename while checked out: the checkIn must keep it (some
            // servers name the new version after the PWC).
            let name = names::to_cmis(&i.name).ok();
            let pwc_name = i
                .checkout
                .as_ref()
                .and_then(|c| c.pwc.as_ref())
                .map(|p| p.name().to_string());
            let rename = match (name, pwc_name) {
                (Some(n), Some(p)) if n != p => Some(n),
                _ => None,
            };
            (i.object_id().map(str::to_string), rename)
        };
        let shown = self.etag_token(ino)?;
        let (shown_mtime, tag) = {
            let t = self.lock();
            let i = t.get(ino);
            (
                i.map(|i| i.mtime),
                i.and_then(|i| i.object.as_ref().map(version_tag)),
            )
        };
        let b = &self.binding;
        let timeout = self.cfg.request_timeout * 4;
        let done = if rec.modified {
            let props = rename.map(|n| Properties::new().with_string(prop::NAME, n));
            tokio::time::timeout(
                timeout,
                b.check_in(
                    &rec.pwc_id,
                    self.cfg.major_versions,
                    props.as_ref(),
                    None,
                    Some("saved by cmisfs"),
                ),
            )
            .await
            .map(|r| r.map(|o| Some(o.id().to_string())))
        } else {
            tokio::time::timeout(timeout, b.cancel_check_out(&rec.pwc_id))
                .await
                .map(|r| r.map(|()| None))
        }
        .map_err(|_| VfsError::Io("the server did not answer".into()))?;
        let new_id = match done {
            Ok(id) => id,
            // Ended by someone else meanwhile.
            Err(CmisError::ObjectNotFound(_)) => None,
            Err(e) => {
                // Still ours: keep the record, the caller may retry. Ended
                // elsewhere (or another checkout now): forget ours.
                let still = match &doc_id {
                    Some(id) => match self.meta(|| self.binding.object(id, &READ_OPTS)).await {
                        Ok(o) => self.own_checkout_of(&o).as_deref() == Some(rec.pwc_id.as_str()),
                        Err(_) => true,
                    },
                    None => true,
                };
                if still {
                    return Err(e.into());
                }
                None
            }
        };
        if let Err(e) = self.store.remove_checkout(&key) {
            tracing::warn!(
                "cannot forget the checkout of {}: {e}",
                self.display_path(ino)
            );
        }
        {
            let mut t = self.lock();
            if let Some(i) = t.get_mut(ino) {
                i.checkout = None;
            }
        }
        if let Some(id) = new_id.or(doc_id) {
            if let Err(e) = self.reread(ino, &id).await {
                tracing::debug!("re-reading {id} after its checkout ended: {e}");
                let mut t = self.lock();
                if let Some(i) = t.get_mut(ino) {
                    i.expire_attr();
                }
            } else {
                // The content is what the file showed before: its ETag and
                // date stay (a checkIn makes a new version of the content
                // the PWC showed, a cancel changes nothing).
                self.pin_etag(ino, shown);
                let date = if rec.modified { shown_mtime } else { None };
                self.carry_state(ino, tag, date);
            }
        }
        self.events.publish([Change::Inode { ino, data: true }]);
        tracing::info!(
            "{} {}",
            if rec.modified {
                "checked in"
            } else {
                "cancelled the checkout of"
            },
            self.display_path(ino)
        );
        Ok(())
    }
}
