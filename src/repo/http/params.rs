//! Request parameters: query strings and forms decoded by hand, names case-insensitive.

use super::Result;
use crate::cmis::error::CmisError;
use crate::repo::service::{Page, PropInput};
use crate::repo::store::Ace;

/// Most objects one page may hold.
const MAX_PAGE: u64 = 10_000;

/// Request parameters (query string or form), names case-insensitive.
#[derive(Debug, Default)]
pub struct Params(pub(super) Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn flag(&self, name: &str, default: bool) -> Result<bool> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(CmisError::InvalidArgument(format!(
                "{name} must be true or false, not '{v}'"
            ))),
        }
    }

    pub(super) fn int(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                CmisError::InvalidArgument(format!("{name} must be an integer, not '{v}'"))
            }),
        }
    }

    pub(super) fn page(&self, default_max: u64) -> Result<Page> {
        let max = self.int("maxItems")?;
        let skip = self.int("skipCount")?;
        if max.is_some_and(|m| m < 0) || skip.is_some_and(|s| s < 0) {
            return Err(CmisError::InvalidArgument(
                "maxItems and skipCount must not be negative".into(),
            ));
        }
        Ok(Page {
            skip: skip.unwrap_or(0) as u64,
            max: max.map_or(default_max, |m| (m as u64).min(MAX_PAGE)),
        })
    }

    pub(super) fn push(&mut self, k: String, v: String) {
        self.0.push((k, v));
    }

    /// `propertyId[i]` / `propertyValue[i]` or `propertyValue[i][j]`.
    pub(super) fn properties(&self) -> Result<PropInput> {
        let mut ids: Vec<(usize, String)> = Vec::new();
        for (k, v) in &self.0 {
            if let Some(i) = index1(k, "propertyId") {
                ids.push((i, v.clone()));
            }
        }
        let mut out = PropInput::new();
        for (i, id) in ids {
            let single = format!("propertyValue[{i}]");
            let mut values: Vec<(usize, String)> = Vec::new();
            let mut present = false;
            for (k, v) in &self.0 {
                if k.eq_ignore_ascii_case(&single) {
                    values.push((0, v.clone()));
                    present = true;
                } else if let Some((a, b)) = index2(k, "propertyValue") {
                    if a == i {
                        values.push((b, v.clone()));
                        present = true;
                    }
                }
            }
            values.sort_by_key(|(j, _)| *j);
            let _ = present;
            out.insert(id, values.into_iter().map(|(_, v)| v).collect());
        }
        Ok(out)
    }

    /// `addACEPrincipal[i]` + `addACEPermission[i][j]` (prefix `addACE` or
    /// `removeACE`).
    pub(super) fn aces(&self, prefix: &str) -> Vec<Ace> {
        let mut out = Vec::new();
        for (k, principal) in &self.0 {
            if let Some(i) = index1(k, &format!("{prefix}Principal")) {
                for (k2, perm) in &self.0 {
                    if let Some((a, _)) = index2(k2, &format!("{prefix}Permission")) {
                        if a == i {
                            out.push(Ace {
                                principal: principal.clone(),
                                permission: perm.clone(),
                            });
                        }
                    }
                }
            }
        }
        out
    }
}

/// `name[3]` → 3.
pub(super) fn index1(k: &str, name: &str) -> Option<usize> {
    let rest = strip_prefix_ci(k, name)?.strip_prefix('[')?;
    let (n, tail) = rest.split_once(']')?;
    if !tail.is_empty() {
        return None;
    }
    n.parse().ok().filter(|n| *n < 100_000)
}

/// `name[3][1]` → (3, 1).
fn index2(k: &str, name: &str) -> Option<(usize, usize)> {
    let rest = strip_prefix_ci(k, name)?.strip_prefix('[')?;
    let (a, tail) = rest.split_once(']')?;
    let tail = tail.strip_prefix('[')?;
    let (b, end) = tail.split_once(']')?;
    if !end.is_empty() {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

fn decode(s: &str, plus_is_space: bool) -> Result<String> {
    let replaced;
    let s = if plus_is_space && s.contains('+') {
        replaced = s.replace('+', " ");
        replaced.as_str()
    } else {
        s
    };
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| CmisError::InvalidArgument("request is not valid UTF-8".into()))
}

pub fn parse_urlencoded(s: &str) -> Result<Params> {
    let mut p = Params::default();
    for pair in s.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        p.push(decode(k, true)?, decode(v, true)?);
    }
    Ok(p)
}

pub(super) fn decode_path(path: &str) -> Result<Vec<String>> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| decode(s, false))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_properties() {
        let p = parse_urlencoded(
            "propertyId[0]=cmis%3Aname&propertyValue[0]=a+b&propertyId[1]=cmis:secondaryObjectTypeIds&propertyValue[1][1]=y&propertyValue[1][0]=x",
        )
        .unwrap();
        let props = p.properties().unwrap();
        assert_eq!(props["cmis:name"], vec!["a b"]);
        assert_eq!(props["cmis:secondaryObjectTypeIds"], vec!["x", "y"]);
        assert!(parse_urlencoded("a=%FF").is_err());
        let p =
            parse_urlencoded("addACEPrincipal[0]=bob&addACEPermission[0][0]=cmis:read").unwrap();
        assert_eq!(p.aces("addACE").len(), 1);
    }
}
