//! Writing AtomPub request bodies: Atom entries carrying CMIS properties
//! (each value under the element of its type) and, for documents, the
//! content base64-encoded in cmisra:content — streamed: the entry is sent
//! as an XML prefix, the base64 of the upload chunk by chunk, and a suffix,
//! so a large file never sits in memory. Also the cmis:query document.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use chrono::SecondsFormat;
use futures_util::stream::{self, Stream, StreamExt};

use super::xml::{escape, ATOM, CMIS, CMISRA};
use crate::cmis::model::*;

const HEAD: &str = concat!(r#"<?xml version="1.0" encoding="UTF-8"?>"#, "\n<atom:entry");

fn open_entry(out: &mut String, title: Option<&str>) {
    out.push_str(HEAD);
    out.push_str(&format!(
        r#" xmlns:atom="{ATOM}" xmlns:cmis="{CMIS}" xmlns:cmisra="{CMISRA}">"#
    ));
    out.push_str("<atom:id>urn:uuid:00000000-0000-0000-0000-000000000000</atom:id>");
    // atom:title overrides cmis:name on the server (3.5.2): only send it
    // when the name is meant to be set.
    if let Some(title) = title {
        out.push_str(&format!("<atom:title>{}</atom:title>", escape(title)));
    }
    out.push_str(&format!(
        "<atom:updated>{}</atom:updated>",
        chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
    ));
}

fn element_name(value: &PropertyValue) -> &'static str {
    match value {
        PropertyValue::String(_) => "propertyString",
        PropertyValue::Id(_) => "propertyId",
        PropertyValue::Integer(_) => "propertyInteger",
        PropertyValue::Decimal(_) => "propertyDecimal",
        PropertyValue::Boolean(_) => "propertyBoolean",
        PropertyValue::DateTime(_) => "propertyDateTime",
        PropertyValue::Uri(_) => "propertyUri",
        PropertyValue::Html(_) => "propertyHtml",
    }
}

fn values(value: &PropertyValue) -> Vec<String> {
    match value {
        PropertyValue::String(v)
        | PropertyValue::Id(v)
        | PropertyValue::Uri(v)
        | PropertyValue::Html(v) => v.clone(),
        PropertyValue::Integer(v) => v.iter().map(i64::to_string).collect(),
        PropertyValue::Decimal(v) => v.iter().map(f64::to_string).collect(),
        PropertyValue::Boolean(v) => v.iter().map(bool::to_string).collect(),
        PropertyValue::DateTime(v) => v
            .iter()
            .map(|d| d.to_rfc3339_opts(SecondsFormat::Millis, true))
            .collect(),
    }
}

/// `<cmisra:object><cmis:properties>…</cmis:properties></cmisra:object>`.
pub fn object_xml(properties: &Properties) -> String {
    let mut out = String::from("<cmisra:object><cmis:properties>");
    for (id, value) in properties.iter() {
        let name = element_name(value);
        out.push_str(&format!(
            r#"<cmis:{name} propertyDefinitionId="{}">"#,
            escape(id)
        ));
        for v in values(value) {
            out.push_str(&format!("<cmis:value>{}</cmis:value>", escape(&v)));
        }
        out.push_str(&format!("</cmis:{name}>"));
    }
    out.push_str("</cmis:properties></cmisra:object>");
    out
}

/// A whole entry without content.
pub fn entry(properties: &Properties) -> String {
    let mut out = String::new();
    open_entry(&mut out, properties.str(prop::NAME));
    out.push_str(&object_xml(properties));
    out.push_str("</atom:entry>");
    out
}

/// An entry with content: the XML before the base64 text and after it.
pub fn entry_with_content(
    properties: &Properties,
    mime_type: &str,
    file_name: Option<&str>,
) -> (String, String) {
    let mut head = String::new();
    open_entry(&mut head, properties.str(prop::NAME));
    head.push_str("<cmisra:content>");
    head.push_str(&format!(
        "<cmisra:mediatype>{}</cmisra:mediatype>",
        escape(mime_type)
    ));
    if let Some(name) = file_name {
        // CMIS 1.1 only; 1.0 servers take the name from the properties.
        head.push_str(&format!(
            "<cmisra:filename>{}</cmisra:filename>",
            escape(name)
        ));
    }
    head.push_str("<cmisra:base64>");
    let mut tail = String::from("</cmisra:base64></cmisra:content>");
    tail.push_str(&object_xml(properties));
    tail.push_str("</atom:entry>");
    (head, tail)
}

/// Length of the base64 text of `n` bytes (padded).
pub fn base64_len(n: u64) -> u64 {
    n.div_ceil(3) * 4
}

/// Base64 of a byte stream, chunk by chunk: the 1–2 bytes that do not
/// fill a 3-byte group are carried over to the next chunk.
pub fn base64_stream(body: ByteStream) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    stream::unfold(
        Some((body, Vec::<u8>::with_capacity(3))),
        |state| async move {
            let (mut body, mut carry) = state?;
            loop {
                match body.next().await {
                    Some(Ok(chunk)) => {
                        let mut input: &[u8] = &chunk;
                        let mut out = String::with_capacity((input.len() + 3) / 3 * 4);
                        if !carry.is_empty() {
                            let need = 3 - carry.len();
                            if input.len() < need {
                                carry.extend_from_slice(input);
                                continue;
                            }
                            carry.extend_from_slice(&input[..need]);
                            input = &input[need..];
                            STANDARD.encode_string(&carry, &mut out);
                            carry.clear();
                        }
                        let whole = input.len() / 3 * 3;
                        STANDARD.encode_string(&input[..whole], &mut out);
                        carry.extend_from_slice(&input[whole..]);
                        if out.is_empty() {
                            continue;
                        }
                        return Some((Ok(Bytes::from(out)), Some((body, carry))));
                    }
                    Some(Err(e)) => return Some((Err(e), None)),
                    None if carry.is_empty() => return None,
                    None => {
                        let out = STANDARD.encode(&carry);
                        return Some((Ok(Bytes::from(out)), None));
                    }
                }
            }
        },
    )
}

/// The whole streamed entry body: head, base64 of the content, tail.
pub fn entry_stream(
    head: String,
    content: ByteStream,
    tail: String,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    stream::once(async move { Ok(Bytes::from(head)) })
        .chain(base64_stream(content))
        .chain(stream::once(async move { Ok(Bytes::from(tail)) }))
}

/// The cmis:query document (3.8.2).
pub fn query(
    statement: &str,
    search_all_versions: bool,
    max_items: Option<u64>,
    skip_count: u64,
) -> String {
    let mut out = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<cmis:query xmlns:cmis="{CMIS}"><cmis:statement>{}</cmis:statement><cmis:searchAllVersions>{search_all_versions}</cmis:searchAllVersions><cmis:includeAllowableActions>false</cmis:includeAllowableActions><cmis:includeRelationships>none</cmis:includeRelationships><cmis:renditionFilter>cmis:none</cmis:renditionFilter>"#,
        escape(statement)
    );
    if let Some(max) = max_items {
        out.push_str(&format!("<cmis:maxItems>{max}</cmis:maxItems>"));
    }
    out.push_str(&format!(
        "<cmis:skipCount>{skip_count}</cmis:skipCount></cmis:query>"
    ));
    out
}
