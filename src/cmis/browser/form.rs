//! The HTML-form side of the Browser binding: every change is a POST of
//! `multipart/form-data` (CMIS 1.1, 5.4.4) whose controls name the action
//! (`cmisaction`), the object, and the properties as
//! `propertyId[i]`/`propertyValue[i]` (`propertyValue[i][j]` for several
//! values). Content, when there is one, is the last part and is streamed
//! from the caller's body: the form never holds a document in memory.
//!
//! The body is written here rather than with reqwest's multipart because
//! the content part needs an RFC 2231 `filename*=UTF-8''…` parameter:
//! OpenCMIS-based servers read part headers as ISO-8859-1, so a plain
//! UTF-8 `filename="…"` arrives mangled, and reqwest cannot write
//! `filename*`. Text parts say `charset=utf-8` for the same reason.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use bytes::Bytes;
use futures_util::StreamExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::cmis::model::*;

/// RFC 5987 attr-char: everything else is percent-encoded in `filename*`.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

pub fn bool_str(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// A property value as control strings (datetimes as epoch millis).
fn form_values(value: &PropertyValue) -> Vec<String> {
    match value {
        PropertyValue::String(v)
        | PropertyValue::Id(v)
        | PropertyValue::Uri(v)
        | PropertyValue::Html(v) => v.clone(),
        PropertyValue::Integer(v) => v.iter().map(i64::to_string).collect(),
        PropertyValue::Decimal(v) => v.iter().map(f64::to_string).collect(),
        PropertyValue::Boolean(v) => v.iter().map(|b| bool_str(*b).to_string()).collect(),
        PropertyValue::DateTime(v) => v.iter().map(|d| d.timestamp_millis().to_string()).collect(),
    }
}

/// The controls of one form, in order.
pub struct Form {
    pub action: String,
    fields: Vec<(String, String)>,
    next_property: usize,
}

/// A form ready to send.
pub struct FormBody {
    /// `multipart/form-data; boundary=…`
    pub content_type: String,
    /// The exact body length, when the content's length is known.
    pub length: Option<u64>,
    pub body: ByteStream,
}

impl Form {
    /// A form for `cmisaction`, asking for non-succinct properties.
    pub fn new(action: &str) -> Form {
        Form {
            action: action.to_string(),
            fields: vec![
                ("cmisaction".into(), action.to_string()),
                ("succinct".into(), "false".into()),
            ],
            next_property: 0,
        }
    }

    pub fn text(mut self, name: &str, value: impl Into<String>) -> Form {
        self.fields.push((name.to_string(), value.into()));
        self
    }

    /// A control only when there is a value (an absent control means the
    /// server's default).
    pub fn opt(self, name: &str, value: Option<&str>) -> Form {
        match value {
            Some(v) => self.text(name, v),
            None => self,
        }
    }

    /// `propertyId[i]` + `propertyValue[i]` (one value) or
    /// `propertyValue[i][j]` (several); no value control unsets it.
    pub fn properties(mut self, properties: &Properties) -> Form {
        for (id, value) in properties.iter() {
            let i = self.next_property;
            self.next_property += 1;
            self.fields.push((format!("propertyId[{i}]"), id.clone()));
            let mut values = form_values(value);
            if values.len() == 1 {
                let v = values.remove(0);
                self.fields.push((format!("propertyValue[{i}]"), v));
            } else {
                for (j, v) in values.into_iter().enumerate() {
                    self.fields.push((format!("propertyValue[{i}][{j}]"), v));
                }
            }
        }
        self
    }

    #[cfg(test)]
    pub fn names(&self) -> Vec<&str> {
        self.fields.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The multipart body: the controls, then the content streamed.
    pub fn into_body(self, content: Option<ContentUpload>) -> FormBody {
        let boundary = boundary();
        let mut head = Vec::new();
        for (name, value) in &self.fields {
            head.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\
                     Content-Type: text/plain; charset=utf-8\r\n\r\n",
                    quoted(name)
                )
                .as_bytes(),
            );
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let Some(content) = content else {
            head.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            let length = Some(head.len() as u64);
            let body: ByteStream =
                Box::pin(futures_util::stream::once(
                    async move { Ok(Bytes::from(head)) },
                ));
            return FormBody {
                content_type,
                length,
                body,
            };
        };
        head.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"content\"{}\r\n\
                 Content-Type: {}\r\n\r\n",
                filename_params(&content.file_name),
                content_mime(&content.mime_type)
            )
            .as_bytes(),
        );
        let tail = format!("\r\n--{boundary}--\r\n").into_bytes();
        let length = content
            .length
            .map(|n| head.len() as u64 + n + tail.len() as u64);
        let stream = futures_util::stream::once(async move { Ok(Bytes::from(head)) })
            .chain(content.body)
            .chain(futures_util::stream::once(
                async move { Ok(Bytes::from(tail)) },
            ));
        FormBody {
            content_type,
            length,
            body: Box::pin(stream),
        }
    }
}

/// A boundary that does not occur in the body (128 random bits).
fn boundary() -> String {
    let r = || RandomState::new().build_hasher().finish();
    format!("cmisfs-{:016x}{:016x}", r(), r())
}

/// A control name as a quoted-string (ours are plain ASCII anyway).
fn quoted(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' | '\\' | '\r' | '\n' => '_',
            c => c,
        })
        .collect()
}

/// `; filename="…"` as browsers write it (UTF-8, with `"`, CR and LF
/// percent-encoded) and, where the name is not plain printable ASCII, also
/// `; filename*=UTF-8''…` after it, which RFC 2231-aware parsers (OpenCMIS)
/// prefer and the others ignore.
fn filename_params(name: &str) -> String {
    let plain = name
        .chars()
        .all(|c| (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\');
    let mut quoted = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '"' => quoted.push_str("%22"),
            '\r' => quoted.push_str("%0D"),
            '\n' => quoted.push_str("%0A"),
            c => quoted.push(c),
        }
    }
    if plain {
        format!("; filename=\"{quoted}\"")
    } else {
        format!(
            "; filename=\"{quoted}\"; filename*=UTF-8''{}",
            utf8_percent_encode(name, ATTR_CHAR)
        )
    }
}

/// The caller's MIME type, or `application/octet-stream` when it is not
/// one (or would break the header).
fn content_mime(mime: &str) -> String {
    let mime = mime.trim();
    let ok = mime.contains('/') && mime.chars().all(|c| c.is_ascii_graphic() || c == ' ');
    if ok {
        mime.to_string()
    } else {
        "application/octet-stream".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_text(body: FormBody) -> (String, Option<u64>) {
        use futures_util::TryStreamExt;
        let length = body.length;
        let chunks: Vec<Bytes> = body.body.try_collect().await.unwrap();
        (String::from_utf8(chunks.concat()).unwrap(), length)
    }

    #[test]
    fn controls_in_order() {
        let mut p = Properties::new()
            .with_string("cmis:name", "x")
            .with_id("cmis:objectTypeId", "cmis:document");
        p.set("m", PropertyValue::Integer(vec![1, 2]));
        p.set("unset", PropertyValue::String(vec![]));
        let f = Form::new("update").text("objectId", "1").properties(&p);
        assert_eq!(
            f.names(),
            [
                "cmisaction",
                "succinct",
                "objectId",
                "propertyId[0]",
                "propertyValue[0]",
                "propertyId[1]",
                "propertyValue[1]",
                "propertyId[2]",
                "propertyValue[2][0]",
                "propertyValue[2][1]",
                "propertyId[3]",
            ]
        );
    }

    #[tokio::test]
    async fn body_with_content_last_and_exact_length() {
        let f = Form::new("createDocument").text("objectId", "ü");
        let body = f.into_body(Some(ContentUpload::from_bytes(
            "na\"me ü.txt",
            "text/plain",
            &b"DATA"[..],
        )));
        let boundary = body.content_type.rsplit('=').next().unwrap().to_string();
        let (text, length) = body_text(body).await;
        assert_eq!(length, Some(text.len() as u64));
        assert!(text.starts_with(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"cmisaction\"\r\n"
        )));
        assert!(text
            .contains("name=\"objectId\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nü\r\n"));
        assert!(text.contains(
            "name=\"content\"; filename=\"na%22me ü.txt\"; filename*=UTF-8''na%22me%20%C3%BC.txt\r\nContent-Type: text/plain\r\n\r\nDATA\r\n"
        ));
        assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")));
    }

    #[tokio::test]
    async fn body_without_content() {
        let (text, length) = body_text(Form::new("delete").into_body(None)).await;
        assert_eq!(length, Some(text.len() as u64));
        assert!(text.ends_with("--\r\n"));
        assert_eq!(text.matches("Content-Disposition").count(), 2);
    }

    #[test]
    fn file_names_and_types() {
        assert_eq!(filename_params("a b.txt"), "; filename=\"a b.txt\"");
        assert_eq!(
            filename_params("日"),
            "; filename=\"日\"; filename*=UTF-8''%E6%97%A5"
        );
        assert_eq!(content_mime("text/plain"), "text/plain");
        assert_eq!(content_mime("nonsense"), "application/octet-stream");
        assert_eq!(content_mime("a/\nb"), "application/octet-stream");
        assert_ne!(boundary(), boundary());
    }
}
