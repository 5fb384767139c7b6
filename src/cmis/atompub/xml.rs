//! A small namespace-aware XML tree built with quick-xml.
//!
//! AtomPub replies are read whole (metadata only: content streams never
//! pass through here) and navigated by (namespace URI, local name), so the
//! prefixes a server picks do not matter. Parsing never panics: malformed
//! input, undeclared prefixes and absurd nesting come back as an error
//! message the binding turns into `CmisError::Protocol`.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::NsReader;

pub const ATOM: &str = "http://www.w3.org/2005/Atom";
pub const APP: &str = "http://www.w3.org/2007/app";
pub const CMIS: &str = "http://docs.oasis-open.org/ns/cmis/core/200908/";
pub const CMISRA: &str = "http://docs.oasis-open.org/ns/cmis/restatom/200908/";

/// Deeper documents are refused (and dropping a very deep tree would
/// recurse as deep).
const MAX_DEPTH: usize = 200;

/// One attribute; `ns` is empty for unqualified names.
#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub ns: String,
    pub name: String,
    pub value: String,
}

/// One element with its attributes, child elements and direct text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub ns: String,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// Text of a child element, trimmed.
    pub fn child_text(&self, ns: &str, name: &str) -> Option<&str> {
        self.child(ns, name).map(|c| c.text.trim())
    }

    /// An unqualified attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attr_ns("", name)
    }

    pub fn attr_ns(&self, ns: &str, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns == ns && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// `{ns}name`, for error messages.
    pub fn qualified(&self) -> String {
        format!("{{{}}}{}", self.ns, self.name)
    }
}

fn namespace(res: ResolveResult) -> Result<String, String> {
    match res {
        ResolveResult::Bound(Namespace(ns)) => Ok(String::from_utf8_lossy(ns).into_owned()),
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(prefix) => Err(format!(
            "undeclared namespace prefix '{}'",
            String::from_utf8_lossy(&prefix)
        )),
    }
}

fn element<R>(reader: &NsReader<R>, ns: String, start: &BytesStart) -> Result<Element, String> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute in <{name}>: {e}"))?;
        let key = attr.key.as_ref();
        if key == b"xmlns" || key.starts_with(b"xmlns:") {
            continue;
        }
        let (res, local) = reader.resolve_attribute(attr.key);
        let attr_ns = namespace(res)?;
        let value = attr
            .unescape_value()
            .map_err(|e| format!("bad attribute value in <{name}>: {e}"))?
            .into_owned();
        attrs.push(Attr {
            ns: attr_ns,
            name: String::from_utf8_lossy(local.as_ref()).into_owned(),
            value,
        });
    }
    Ok(Element {
        ns,
        name,
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

/// Parses a whole document into its root element.
pub fn parse(xml: &[u8]) -> Result<Element, String> {
    let mut reader = NsReader::from_reader(xml);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut buf = Vec::new();
    loop {
        let (res, event) = match reader.read_resolved_event_into(&mut buf) {
            Ok(x) => x,
            Err(e) => {
                return Err(format!(
                    "not well-formed XML near byte {}: {e}",
                    reader.buffer_position()
                ))
            }
        };
        let ns = namespace(res);
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err("content after the root element".into());
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("XML nested deeper than {MAX_DEPTH} elements"));
                }
                let el = element(&reader, ns?, &start)?;
                stack.push(el);
            }
            Event::Empty(start) => {
                let el = element(&reader, ns?, &start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(text) => {
                let text = text
                    .unescape()
                    .map_err(|e| format!("bad text near byte {}: {e}", reader.buffer_position()))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err("text outside the root element".into()),
                }
            }
            Event::CData(data) => {
                let data = data.into_inner();
                let text = std::str::from_utf8(&data).map_err(|e| format!("CDATA: {e}"))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    root.ok_or_else(|| "empty document".to_string())
}

/// Escapes text for element content and attribute values. Characters XML
/// 1.0 cannot carry at all (most C0 controls) are dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_resolve_whatever_the_prefix() {
        let doc = br#"<?xml version="1.0"?>
            <a:feed xmlns:a="http://www.w3.org/2005/Atom" xmlns:x="http://docs.oasis-open.org/ns/cmis/restatom/200908/">
              <a:link rel="next" href="h?a=1&amp;b=2" x:id="7"/>
              <x:numItems> 3 </x:numItems>
              <entry xmlns="http://www.w3.org/2005/Atom"><title><![CDATA[a<b]]></title></entry>
            </a:feed>"#;
        let root = parse(doc).unwrap();
        assert!(root.is(ATOM, "feed"));
        let link = root.child(ATOM, "link").unwrap();
        assert_eq!(link.attr("href"), Some("h?a=1&b=2"));
        assert_eq!(link.attr_ns(CMISRA, "id"), Some("7"));
        assert_eq!(root.child_text(CMISRA, "numItems"), Some("3"));
        let entry = root.child(ATOM, "entry").unwrap();
        assert_eq!(entry.child_text(ATOM, "title"), Some("a<b"));
    }

    #[test]
    fn malformed_documents_are_errors() {
        for bad in [
            &b""[..],
            b"not xml at all",
            b"<a><b></a>",
            b"<a>",
            b"<p:a/>",
            b"<a/><b/>",
            b"<a>&nbsp;</a>",
            b"<html><body>text",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = "<a>".repeat(10_000);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn escaping() {
        assert_eq!(escape("a<&>\"'\u{1}b"), "a&lt;&amp;&gt;&quot;&apos;b");
    }
}
