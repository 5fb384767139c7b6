//! One upload: what goes to the repository for a journal record, and
//! how (createDocument, setContentStream, checkOut + checkIn, into our
//! own PWC), with the conflict decisions and the undo of a failed
//! checkIn. The worker that schedules and retries uploads is the parent
//! module.

use super::*;

fn unreadable(e: std::io::Error) -> CmisError {
    CmisError::Storage(format!("cannot read the cache file: {e}"))
}

/// Where the bytes of an upload come from.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// The record's cache file, complete: read as often as needed, in
    /// pieces where the repository wants chunks.
    CacheFile,
    /// The cache file while it is being written (a streamed upload, see
    /// [`crate::vfs::feed`]): one request, never in chunks. A streamed
    /// upload makes no conflict copy: it stops, and the ordinary upload
    /// after close decides with the whole file at hand.
    Feed(&'a Arc<Feed>),
}

impl Source<'_> {
    /// An upload body from the start of the content.
    pub(in crate::vfs) async fn body(
        self,
        rec: &JournalRecord,
    ) -> Result<ContentUpload, CmisError> {
        match self {
            Source::CacheFile => {
                ContentUpload::from_file(&rec.path, rec.name.clone(), mime_type(&rec.name))
                    .await
                    .map_err(unreadable)
            }
            Source::Feed(feed) => feed
                .content(&rec.path, rec.name.clone(), mime_type(&rec.name))
                .map_err(unreadable),
        }
    }

    fn streamed(self) -> bool {
        matches!(self, Source::Feed(_))
    }

    /// What a streamed upload answers where a conflict needs deciding.
    fn undecided(self, rec: &JournalRecord) -> Option<CmisError> {
        self.streamed().then(|| {
            CmisError::UpdateConflict(format!(
                "'{}' needs a conflict decision; it is uploaded after close",
                rec.name
            ))
        })
    }
}

/// Whether the server's copy changed since the edit of `rec` began (its
/// change token is another; unknown tokens count as unchanged).
fn changed_on_server(rec: &JournalRecord, current: &CmisObject) -> bool {
    match (&rec.base_token, current.change_token()) {
        (Some(base), Some(now)) => base != now,
        _ => false,
    }
}

/// Uploads one journal record (the bytes in `rec.path`, from `source`).
/// `replay`: a record of an earlier run.
pub async fn upload_record(
    vfs: &Vfs,
    rec: &JournalRecord,
    replay: bool,
    source: Source<'_>,
) -> Result<Uploaded, CmisError> {
    let b = vfs.binding();
    let Some(oid) = rec.object_id.clone() else {
        let props = Properties::new()
            .with_string(prop::NAME, rec.name.clone())
            .with_id(prop::OBJECT_TYPE_ID, "cmis:document");
        return match send(vfs, rec, source, true, |c| {
            b.create_document(Some(&rec.parent_id), &props, Some(c), None)
        })
        .await
        {
            Ok(o) => Ok(Uploaded {
                object: o,
                conflict_copy: None,
            }),
            Err(
                e @ (CmisError::NameConstraintViolation(_) | CmisError::ContentAlreadyExists(_)),
            ) if source.streamed() => Err(e),
            Err(CmisError::NameConstraintViolation(m))
            | Err(CmisError::ContentAlreadyExists(m)) => {
                // Someone created the same name meanwhile (or a replay after
                // a crash that hit after the create): keep theirs.
                tracing::warn!("'{}' exists on the server already ({m})", rec.name);
                let copy = conflict_copy(vfs, rec).await?;
                Ok(Uploaded {
                    object: copy.clone(),
                    conflict_copy: Some(copy),
                })
            }
            Err(e) => Err(e),
        };
    };
    let current = match b.object(&oid, &Default::default()).await {
        Ok(o) => o,
        Err(CmisError::ObjectNotFound(_)) => {
            // Deleted on the server while we edited: ours becomes a new
            // document (nothing is lost).
            tracing::warn!(
                "'{}' was deleted on the server; uploading our copy as a new document",
                rec.name
            );
            let mut r = rec.clone();
            r.object_id = None;
            return Box::pin(upload_record(vfs, &r, replay, source)).await;
        }
        Err(e) => return Err(e),
    };
    let changed = changed_on_server(rec, &current);
    let checked_out_by_other = current.is_version_series_checked_out() == Some(true)
        && match (
            current.version_series_checked_out_by(),
            vfs.config().user.as_deref(),
        ) {
            (Some(by), Some(me)) => by != me,
            _ => false,
        };
    // Our own checkout, left by a failed upload, explains a new token:
    // nobody else could change the content meanwhile.
    let own_leftover = vfs.own_checkout_of(&current).is_some_and(|pwc| {
        vfs.leftover_checkouts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&pwc)
    });
    if (changed && !own_leftover) || checked_out_by_other {
        if let Some(e) = source.undecided(rec) {
            return Err(e);
        }
        return conflict(vfs, rec, current).await;
    }
    // Checked out by our own user (a WebDAV lock, another client of the
    // same user): the content goes into the PWC and the checkout stays
    // open for its owner to end. On replay, a checkout that is not one of
    // our locks is the leftover of a crash inside checkOut+checkIn below:
    // that path checks it in.
    if let Some(pwc) = vfs.own_checkout_of(&current) {
        let key = object_key(&current);
        let lock = vfs.store.checkout(&key).filter(|c| c.pwc_id == pwc);
        // Left by one of our own failed uploads: checked in below.
        if lock.is_some() || !(replay || own_leftover) {
            let o = send(vfs, rec, source, false, |c| {
                b.set_content(&pwc, c, true, None)
            })
            .await?;
            if let Some(mut c) = lock.filter(|c| !c.modified) {
                c.modified = true;
                if let Err(e) = vfs.store.put_checkout(&key, &c) {
                    tracing::warn!(
                        "cannot record the write into the checkout of '{}': {e}",
                        rec.name
                    );
                }
            }
            return Ok(Uploaded {
                object: o,
                conflict_copy: None,
            });
        }
    }
    let versionable = vfs.versionable(&current).await == Some(true);
    if !versionable {
        match send(vfs, rec, source, false, |c| {
            b.set_content(&oid, c, true, rec.base_token.as_deref())
        })
        .await
        {
            Ok(o) => {
                return Ok(Uploaded {
                    object: o,
                    conflict_copy: None,
                })
            }
            Err(e @ CmisError::UpdateConflict(_)) if source.streamed() => return Err(e),
            Err(CmisError::UpdateConflict(_)) => {
                let now = b.object(&oid, &Default::default()).await?;
                return conflict(vfs, rec, now).await;
            }
            Err(CmisError::Versioning(_)) | Err(CmisError::Constraint(_)) => {}
            Err(e) => return Err(e),
        }
    }
    // checkOut + checkIn with the content.
    let pwc_id = match b.check_out(&oid).await {
        Ok(pwc) => pwc.id().to_string(),
        Err(e) => match current.version_series_checked_out_id() {
            // Our own earlier checkout (a crash between checkOut and
            // checkIn): use it.
            Some(id) if !checked_out_by_other => id.to_string(),
            _ => return Err(e),
        },
    };
    // In chunks: the pieces go into the PWC, the checkIn carries none.
    let size = tokio::fs::metadata(&rec.path)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    let content_in_checkin = if !source.streamed() && chunk_size(vfs, size).await.is_some() {
        if let Err(e) = send(vfs, rec, source, false, |c| {
            b.set_content(&pwc_id, c, true, None)
        })
        .await
        {
            undo_checkout(vfs, rec, &oid, &pwc_id).await;
            return Err(e);
        }
        None
    } else {
        match source.body(rec).await {
            Ok(c) => Some(c),
            Err(e) => {
                undo_checkout(vfs, rec, &oid, &pwc_id).await;
                return Err(e);
            }
        }
    };
    match b
        .check_in(
            &pwc_id,
            vfs.config().major_versions,
            None,
            content_in_checkin,
            Some("saved by cmisfs"),
        )
        .await
    {
        Ok(o) => {
            vfs.leftover_checkouts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&pwc_id);
            Ok(Uploaded {
                object: o,
                conflict_copy: None,
            })
        }
        Err(e) => {
            undo_checkout(vfs, rec, &oid, &pwc_id).await;
            Err(e)
        }
    }
}

/// Ends our own checkout after a failed checkIn, and takes the token the
/// document has afterwards as the base of the next attempt: checkOut and
/// cancelCheckOut may each change the token (the embedded repository
/// bumps it), and nobody else can change the content while we hold the
/// checkout, so the next attempt would otherwise take our own checkout
/// for someone else's change and save the user's file as a conflict copy.
/// A checkout that cannot be cancelled (server gone) is remembered, and
/// the next attempt checks the content into it.
async fn undo_checkout(vfs: &Vfs, rec: &JournalRecord, oid: &str, pwc_id: &str) {
    let b = vfs.binding();
    if let Err(e) = b.cancel_check_out(pwc_id).await {
        tracing::warn!(
            "cannot cancel the checkout of '{}' ({e}); the next upload checks it in",
            rec.name
        );
        vfs.leftover_checkouts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(pwc_id.to_string());
    }
    let Ok(now) = b.object(oid, &crate::vfs::READ_OPTS).await else {
        return;
    };
    let token = now.change_token().map(str::to_string);
    if token == rec.base_token {
        return;
    }
    let mut r = rec.clone();
    r.base_token = token.clone();
    if let Err(e) = vfs.store.put_record(&r) {
        tracing::warn!("cannot update the journal record of '{}': {e}", rec.name);
    }
    let mut t = vfs.lock();
    // No inode's dirty file is this record's (a streamed replacement not
    // committed yet): the file of that document is rebased instead.
    let staged = !t
        .iter()
        .any(|i| matches!(&i.state, FileState::Dirty(d) if d.journal_id == rec.id));
    for i in t.iter_mut() {
        let ours = staged && i.object_id() == Some(oid);
        match &mut i.state {
            FileState::Dirty(d) if d.journal_id == rec.id => d.base_token = token.clone(),
            // A streamed replacement, not committed yet: what the file
            // is based on when it is (its dirty base, or its object).
            FileState::Dirty(d) if ours && d.base_token == rec.base_token => {
                d.base_token = token.clone()
            }
            FileState::Clean if ours => vfs.apply_object(i, now.clone()),
            _ => {}
        }
    }
}

/// Numbered conflict copies of one file tried in one second before the
/// server's refusal counts (it may refuse the name for another reason).
const MAX_CONFLICT_COPIES: u32 = 20;

async fn conflict_copy(vfs: &Vfs, rec: &JournalRecord) -> Result<CmisObject, CmisError> {
    let when = chrono::Utc::now();
    let b = vfs.binding();
    // Two conflicts of one file in one second: the second copy's name is
    // numbered, not refused (which would fail the upload for good).
    let mut n = 1;
    let (o, name) = loop {
        let name = names::conflict_name(&rec.name, when, n);
        let props = Properties::new()
            .with_string(prop::NAME, name.clone())
            .with_id(prop::OBJECT_TYPE_ID, "cmis:document");
        match send(vfs, rec, Source::CacheFile, true, |c| {
            b.create_document(Some(&rec.parent_id), &props, Some(c), None)
        })
        .await
        {
            Ok(o) => break (o, name),
            Err(CmisError::NameConstraintViolation(_) | CmisError::ContentAlreadyExists(_))
                if n < MAX_CONFLICT_COPIES =>
            {
                n += 1
            }
            Err(e) => return Err(e),
        }
    };
    tracing::warn!(
        "conflict: '{}' changed on the server while we had changes; the server's copy is kept, ours is saved as '{name}'",
        rec.name
    );
    Ok(o)
}

async fn conflict(
    vfs: &Vfs,
    rec: &JournalRecord,
    server: CmisObject,
) -> Result<Uploaded, CmisError> {
    let copy = conflict_copy(vfs, rec).await?;
    Ok(Uploaded {
        object: server,
        conflict_copy: Some(copy),
    })
}
