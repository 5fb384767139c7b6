//! Extended attributes: CMIS properties as `user.cmis.*` (setting a
//! writable one is updateProperties), and `user.cmisfs.pending` on the
//! root.

use super::*;

impl Vfs {
    // ---- extended attributes ---------------------------------------------

    const XATTRS: &'static [&'static str] = &[
        "objectId",
        "objectTypeId",
        "versionLabel",
        "isLatestVersion",
        "checkinComment",
        "createdBy",
        "lastModifiedBy",
        "changeToken",
        "versionSeriesId",
        "description",
    ];

    pub(super) fn xattr_prop(name: &str) -> VfsResult<String> {
        name.strip_prefix("user.cmis.")
            .filter(|p| !p.is_empty())
            .map(|p| format!("cmis:{p}"))
            .ok_or_else(|| VfsError::NotSupported(format!("attribute {name}")))
    }

    pub(super) fn format_value(v: &PropertyValue) -> String {
        fn join<T: ToString>(values: &[T]) -> String {
            values
                .iter()
                .map(T::to_string)
                .collect::<Vec<_>>()
                .join(",")
        }
        match v {
            PropertyValue::String(x)
            | PropertyValue::Id(x)
            | PropertyValue::Uri(x)
            | PropertyValue::Html(x) => x.join(","),
            PropertyValue::Integer(x) => join(x),
            PropertyValue::Decimal(x) => join(x),
            PropertyValue::Boolean(x) => join(x),
            PropertyValue::DateTime(x) => {
                join(&x.iter().map(|d| d.to_rfc3339()).collect::<Vec<_>>())
            }
        }
    }

    pub async fn getxattr(&self, ino: Ino, name: &str) -> VfsResult<Vec<u8>> {
        if ino == ROOT_INO && name == PENDING_XATTR {
            let mut out = String::new();
            for p in self.pending() {
                out.push_str(&format!("{}\t{}", p.bytes, p.name));
                if let Some(e) = p.last_error {
                    out.push_str(&format!("\t{e}"));
                }
                out.push('\n');
            }
            return Ok(out.into_bytes());
        }
        let prop_id = match Self::xattr_prop(name) {
            Ok(p) => p,
            Err(_) => return Err(VfsError::NoAttr(name.to_string())),
        };
        let obj = self
            .xattr_object(ino)?
            .ok_or_else(|| VfsError::NoAttr(name.to_string()))?;
        match obj.properties.get(&prop_id) {
            Some(v) if !v.is_empty() => Ok(Self::format_value(v).into_bytes()),
            _ => Err(VfsError::NoAttr(name.to_string())),
        }
    }

    /// The object whose properties an inode's xattrs show.
    fn xattr_object(&self, ino: Ino) -> VfsResult<Option<CmisObject>> {
        if versions::is_virtual(ino) {
            return self.version_object(ino);
        }
        let t = self.lock();
        let i = t
            .get(ino)
            .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
        Ok(i.object.clone())
    }

    pub async fn listxattr(&self, ino: Ino) -> VfsResult<Vec<String>> {
        let Some(obj) = self.xattr_object(ino)? else {
            return Ok(Vec::new());
        };
        let root = (ino == ROOT_INO).then(|| PENDING_XATTR.to_string());
        Ok(root
            .into_iter()
            .chain(
                Self::XATTRS
                    .iter()
                    .filter(|p| {
                        obj.properties
                            .get(&format!("cmis:{p}"))
                            .is_some_and(|v| !v.is_empty())
                    })
                    .map(|p| format!("user.cmis.{p}")),
            )
            .collect())
    }

    pub(super) async fn type_def(&self, type_id: &str) -> VfsResult<TypeDefinition> {
        if let Some(t) = self
            .types
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(type_id)
        {
            return Ok(t.clone());
        }
        let def = self.meta(|| self.binding.type_definition(type_id)).await?;
        self.types
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(type_id.to_string(), def.clone());
        Ok(def)
    }

    /// Sets a writable property (updateProperties).
    pub async fn setxattr(&self, ino: Ino, name: &str, value: &[u8]) -> VfsResult<()> {
        if self.cfg.read_only || versions::is_virtual(ino) {
            return Err(VfsError::ReadOnly);
        }
        let prop_id = Self::xattr_prop(name)?;
        let value = String::from_utf8(value.to_vec())
            .map_err(|_| VfsError::InvalidArgument("the value must be UTF-8".into()))?;
        let (oid, type_id, token) = {
            let t = self.lock();
            let i = t
                .get(ino)
                .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
            let o = i
                .object
                .as_ref()
                .ok_or_else(|| VfsError::NotSupported("not on the server yet".into()))?;
            (
                o.id().to_string(),
                o.object_type_id().unwrap_or("cmis:document").to_string(),
                o.change_token().map(str::to_string),
            )
        };
        let def = self.type_def(&type_id).await?;
        let pdef = def
            .property_definitions
            .get(&prop_id)
            .ok_or_else(|| VfsError::NotSupported(format!("no property {prop_id}")))?;
        if pdef.updatability != "readwrite" || prop_id == prop::NAME {
            return Err(VfsError::NotPermitted(format!("{prop_id} is read-only")));
        }
        let v = match pdef.property_type {
            crate::cmis::PropertyType::String => PropertyValue::String(vec![value]),
            crate::cmis::PropertyType::Id => PropertyValue::Id(vec![value]),
            crate::cmis::PropertyType::Uri => PropertyValue::Uri(vec![value]),
            crate::cmis::PropertyType::Html => PropertyValue::Html(vec![value]),
            crate::cmis::PropertyType::Integer => PropertyValue::Integer(vec![value
                .trim()
                .parse()
                .map_err(|_| VfsError::InvalidArgument("not an integer".into()))?]),
            crate::cmis::PropertyType::Boolean => PropertyValue::Boolean(vec![value
                .trim()
                .parse()
                .map_err(|_| VfsError::InvalidArgument("not a boolean".into()))?]),
            _ => return Err(VfsError::NotSupported(format!("setting {prop_id}"))),
        };
        let mut props = Properties::new();
        props.set(prop_id, v);
        let obj = self
            .meta(|| {
                self.binding
                    .update_properties(&oid, &props, token.as_deref())
            })
            .await?;
        let mut t = self.lock();
        if let Some(i) = t.get_mut(ino) {
            if !i.is_dirty() {
                self.apply_object(i, obj);
            } else {
                // Our own change: the pending upload builds on it.
                Self::rebase(i, &obj);
                i.object = Some(obj);
                drop(t);
                self.rejournal(ino);
            }
        }
        Ok(())
    }

    pub async fn removexattr(&self, _ino: Ino, name: &str) -> VfsResult<()> {
        Err(VfsError::NotSupported(format!("removing {name}")))
    }
}
