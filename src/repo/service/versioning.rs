//! Versioning services of the embedded repository: checkOut,
//! cancelCheckOut and checkIn.

use super::*;

impl Service {
    pub(super) fn check_out_in(&self, tx: &mut Tx, user: &User, id: &str) -> Result<String> {
        let rec = tx.need(id)?;
        if rec.kind != Kind::Document {
            return Err(CmisError::Constraint(format!("'{id}' is not a document")));
        }
        if !types::type_def(&rec.type_id).is_some_and(|t| t.versionable) {
            return Err(CmisError::Constraint(format!(
                "'{id}' is of a non-versionable type"
            )));
        }
        self.need_write(tx, user, &rec, &format!("check out '{id}'"))?;
        let sid = rec.series_id.clone().unwrap_or_default();
        let mut series = tx
            .series(&sid)?
            .ok_or_else(|| CmisError::Storage(format!("missing series '{sid}'")))?;
        if let Some(by) = &series.checked_out_by {
            return Err(CmisError::Versioning(format!(
                "the document is already checked out by {by}"
            )));
        }
        if !rec.is_latest {
            return Err(CmisError::Versioning(format!(
                "'{id}' is not the latest version"
            )));
        }
        let n = tx.next_number()?;
        let t = now();
        let mut pwc = rec.clone();
        pwc.id = format!("d{n}");
        pwc.parents = Vec::new();
        pwc.is_pwc = true;
        pwc.is_latest = false;
        pwc.is_major = false;
        pwc.is_latest_major = false;
        pwc.version_label = Some("pwc".into());
        pwc.checkin_comment = None;
        pwc.created = t;
        pwc.created_by = user.name.clone();
        pwc.modified = t;
        pwc.modified_by = user.name.clone();
        pwc.change_token = 1;
        pwc.acl = Vec::new();
        if let Some(c) = &rec.content {
            let cid = format!("c{}", tx.next_number()?);
            self.store.share_file(tx, &c.id, &cid)?;
            pwc.content = Some(ContentRec {
                id: cid,
                ..c.clone()
            });
        }
        series.pwc = Some(pwc.id.clone());
        series.checked_out_by = Some(user.name.clone());
        tx.put_series(&series)?;
        tx.put_obj(&pwc)?;
        let mut latest = rec;
        latest.change_token += 1;
        tx.put_obj(&latest)?;
        log_change(tx, &pwc, "created")?;
        log_change(tx, &latest, "updated")?;
        Ok(pwc.id)
    }

    pub fn check_out(&self, user: &User, id: &str) -> Result<String> {
        let mut tx = self.store.write()?;
        let pwc = self.check_out_in(&mut tx, user, id)?;
        self.store.commit(tx)?;
        Ok(pwc)
    }

    pub(super) fn pwc_of(&self, tx: &Tx, user: &User, id: &str) -> Result<(ObjRec, SeriesRec)> {
        let rec = tx.need(id)?;
        let sid = rec.series_id.clone().unwrap_or_default();
        let series = tx.series(&sid)?.unwrap_or_default();
        let pwc_id = if rec.is_pwc {
            rec.id.clone()
        } else {
            series
                .pwc
                .clone()
                .ok_or_else(|| CmisError::Versioning(format!("'{id}' is not checked out")))?
        };
        let pwc = tx.need(&pwc_id)?;
        self.need_write(tx, user, &pwc, &format!("change '{pwc_id}'"))?;
        if series.checked_out_by.as_deref() != Some(user.name.as_str()) && !user.admin {
            return Err(CmisError::Versioning(format!(
                "'{id}' is checked out by {}",
                series.checked_out_by.unwrap_or_default()
            )));
        }
        Ok((pwc, series))
    }

    pub(super) fn cancel_in(&self, tx: &mut Tx, user: &User, id: &str) -> Result<()> {
        let (pwc, mut series) = self.pwc_of(tx, user, id)?;
        if series.versions.is_empty() {
            // Created checked out: cancelling deletes the document.
            self.unfile_all(tx, &pwc)?;
            tx.del_obj(&pwc)?;
            tx.del_series(&series.id)?;
            log_change(tx, &pwc, "deleted")?;
            return Ok(());
        }
        series.pwc = None;
        series.checked_out_by = None;
        tx.put_series(&series)?;
        tx.del_obj(&pwc)?;
        log_change(tx, &pwc, "deleted")?;
        if let Some(latest) = series.versions.last() {
            let mut l = tx.need(latest)?;
            l.change_token += 1;
            tx.put_obj(&l)?;
            log_change(tx, &l, "updated")?;
        }
        Ok(())
    }

    pub fn cancel_check_out(&self, user: &User, id: &str) -> Result<()> {
        let mut tx = self.store.write()?;
        self.cancel_in(&mut tx, user, id)?;
        self.store.commit(tx)?;
        Ok(())
    }

    pub fn check_in(
        &self,
        user: &User,
        id: &str,
        major: bool,
        input: &PropInput,
        content: Option<Staged>,
        comment: Option<&str>,
    ) -> Result<String> {
        validate_input(input, false)?;
        let mut tx = self.store.write()?;
        let (mut pwc, mut series) = self.pwc_of(&tx, user, id)?;
        let mut prev = match series.versions.last() {
            Some(p) => Some(tx.need(p)?),
            None => None,
        };
        if let Some(c) = &content {
            let mut c2 = self.adopt(&mut tx, c)?;
            if c2.file_name.is_empty() {
                c2.file_name = pwc.name.clone();
            }
            if let Some(old) = pwc.content.replace(c2) {
                tx.retire_file(&old.id);
            }
        }
        if let Some(d) = input.get(prop::DESCRIPTION) {
            pwc.description = d.first().cloned().filter(|s| !s.is_empty());
        }
        let new_name = input
            .get(prop::NAME)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_else(|| pwc.name.clone());
        check_name(&new_name)?;
        match prev.as_mut() {
            Some(prev) => {
                // The new version takes over the previous one's place in folders.
                for p in &prev.parents {
                    tx.del_child(p, &prev.name)?;
                }
                for p in &prev.parents {
                    if tx.child(p, &new_name)?.is_some() {
                        return Err(CmisError::NameConstraintViolation(format!(
                            "an object named '{new_name}' already exists in the folder"
                        )));
                    }
                    tx.put_child(p, &new_name, &pwc.id)?;
                }
                pwc.name = new_name;
                pwc.parents = std::mem::take(&mut prev.parents);
                pwc.acl = std::mem::take(&mut prev.acl);
                prev.is_latest = false;
                prev.change_token += 1;
                tx.put_obj(prev)?;
            }
            // Created checked out: the PWC is filed already.
            None => self.rename(&mut tx, &mut pwc, &new_name)?,
        }
        pwc.is_pwc = false;
        pwc.is_latest = true;
        pwc.is_major = major;
        pwc.version_label = Some(next_label(
            prev.as_ref().and_then(|p| p.version_label.as_deref()),
            major,
        ));
        pwc.checkin_comment = comment.map(str::to_string).filter(|c| !c.is_empty());
        Self::bump(&mut pwc, user);
        series.versions.push(pwc.id.clone());
        series.pwc = None;
        series.checked_out_by = None;
        tx.put_obj(&pwc)?;
        refresh_latest_major(&mut tx, &series)?;
        tx.put_series(&series)?;
        log_change(&mut tx, &pwc, "updated")?;
        self.store.commit(tx)?;
        Ok(pwc.id)
    }
}
