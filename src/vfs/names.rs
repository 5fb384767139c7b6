//! File names for CMIS objects, and back.
//!
//! A `cmis:name` may hold characters a file name cannot (`/`, NUL), be `.`
//! or `..`, or be longer than the 255 bytes a Linux file name may have. The
//! mapping here is reversible for every name up to that length:
//!
//! | cmis:name                         | file name                              |
//! |-----------------------------------|----------------------------------------|
//! | `/`                               | `／` U+FF0F FULLWIDTH SOLIDUS          |
//! | NUL                               | `␀` U+2400 SYMBOL FOR NULL             |
//! | `／`, `␀`, or `⧵` before one of these (or ending the name `⧵` alone) | `⧵` U+29F5 REVERSE SOLIDUS OPERATOR before it |
//! | the whole name `.` / `..`         | `．` / `．．` U+FF0E FULLWIDTH FULL STOP |
//! | the whole name `．` / `．．`      | `⧵．` / `⧵．⧵．`                       |
//! | the whole name `⧵．` / `⧵．⧵．`   | `⧵⧵．` / `⧵⧵．⧵．`                     |
//! | empty                             | `⧵`                                    |
//! | longer than 255 bytes once mapped | cut, then `~` and 16 hex digits of a hash of the whole name, extension kept |
//!
//! The escape character `⧵` only escapes when it must, so that ordinary
//! names, including ones that contain `⧵`, map to themselves: a file a user
//! creates is listed under the name they gave it. The few file names that
//! are not the canonical image of any cmis:name (`⧵⧵x`) are refused by
//! [`to_cmis`] rather than silently renamed. Names that had to be cut are
//! not reversible: the VFS finds their object through the directory listing.
//!
//! Two more names are made here: the stable suffix that tells apart
//! duplicate names in one folder (some servers allow them), and the name of
//! a conflict copy.

use chrono::{DateTime, Utc};

/// Longest file name Linux accepts, in bytes.
pub const NAME_MAX: usize = 255;

const SLASH: char = '\u{FF0F}';
const NUL: char = '\u{2400}';
const ESC: char = '\u{29F5}';
const DOT: char = '\u{FF0E}';

fn needs_escape(c: char) -> bool {
    c == SLASH || c == NUL || c == ESC
}

/// A file name made from a cmis:name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub name: String,
    /// False when the cmis:name was too long and had to be cut: then
    /// [`to_cmis`] of `name` does not give the cmis:name back.
    pub reversible: bool,
}

/// Why a file name cannot become a cmis:name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("'{0}' is not a valid file name")]
    Invalid(String),
    #[error("'{0}' uses the escape character ⧵ in a way no CMIS name maps to")]
    NotCanonical(String),
}

/// The escaped form of a cmis:name, without the length limit.
fn escape(cmis: &str) -> String {
    match cmis {
        "" => return ESC.to_string(),
        "." => return DOT.to_string(),
        ".." => return format!("{DOT}{DOT}"),
        _ if cmis == DOT.to_string() => return format!("{ESC}{DOT}"),
        _ if cmis == format!("{DOT}{DOT}") => return format!("{ESC}{DOT}{ESC}{DOT}"),
        // Names whose plain form would read as one of the four above.
        _ if cmis == format!("{ESC}{DOT}") => return format!("{ESC}{ESC}{DOT}"),
        _ if cmis == format!("{ESC}{DOT}{ESC}{DOT}") => {
            return format!("{ESC}{ESC}{DOT}{ESC}{DOT}")
        }
        _ => {}
    }
    let mut out = String::with_capacity(cmis.len() + 8);
    let mut chars = cmis.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' => out.push(SLASH),
            '\0' => out.push(NUL),
            SLASH | NUL => {
                out.push(ESC);
                out.push(c);
            }
            ESC => {
                // A literal ⧵ is escaped only where it would otherwise be read
                // as an escape (before a special character) or where the name
                // is ⧵ alone (which stands for the empty name).
                let next = chars.peek().copied();
                if next.is_some_and(|n| needs_escape(n) || n == '/' || n == '\0')
                    || cmis == ESC.to_string()
                {
                    out.push(ESC);
                }
                out.push(ESC);
            }
            c => out.push(c),
        }
    }
    out
}

/// The cmis:name a file name stands for, without the canonical check.
fn unescape(file: &str) -> String {
    if file == ESC.to_string() {
        return String::new();
    }
    if file == DOT.to_string() {
        return ".".into();
    }
    if file == format!("{DOT}{DOT}") {
        return "..".into();
    }
    if file == format!("{ESC}{DOT}") {
        return DOT.to_string();
    }
    if file == format!("{ESC}{DOT}{ESC}{DOT}") {
        return format!("{DOT}{DOT}");
    }
    let mut out = String::with_capacity(file.len());
    let mut chars = file.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC => match chars.peek().copied() {
                Some(n) if needs_escape(n) => {
                    out.push(n);
                    chars.next();
                }
                _ => out.push(ESC),
            },
            SLASH => out.push('/'),
            NUL => out.push('\0'),
            c => out.push(c),
        }
    }
    out
}

/// The file name under which a cmis:name is shown.
pub fn to_file(cmis: &str) -> FileName {
    let name = escape(cmis);
    if name.len() <= NAME_MAX {
        return FileName {
            name,
            reversible: true,
        };
    }
    FileName {
        name: shorten(&name, &format!("~{:016x}", fnv1a(cmis.as_bytes()))),
        reversible: false,
    }
}

/// The cmis:name for a file name given by a user (create, rename).
pub fn to_cmis(file: &str) -> Result<String, NameError> {
    if file.is_empty() || file == "." || file == ".." || file.contains('/') || file.contains('\0') {
        return Err(NameError::Invalid(file.to_string()));
    }
    let cmis = unescape(file);
    if escape(&cmis) != file {
        return Err(NameError::NotCanonical(file.to_string()));
    }
    Ok(cmis)
}

/// Splits `name` into stem and extension (`report.odt` → `report`, `.odt`).
/// A leading dot is not an extension (`.bashrc`), and neither is a long tail.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= 16 => name.split_at(i),
        _ => (name, ""),
    }
}

/// Inserts `tag` before the extension, cutting the stem (at a character
/// boundary) so that the result fits in [`NAME_MAX`] bytes.
fn shorten(name: &str, tag: &str) -> String {
    let (stem, ext) = split_extension(name);
    let budget = NAME_MAX.saturating_sub(tag.len() + ext.len());
    let mut cut = stem.len().min(budget);
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{tag}{ext}", &stem[..cut])
}

/// `name` with `tag` before its extension, cut to fit [`NAME_MAX`].
pub fn tagged(name: &str, tag: &str) -> String {
    shorten(name, tag)
}

/// The name shown for the second and later objects that share one name in
/// a folder: a suffix derived from `stable_key` (the version series id, or
/// the object id), so it stays the same from one listing to the next.
pub fn disambiguate(file_name: &str, stable_key: &str) -> String {
    shorten(
        file_name,
        &format!(" (~{:08x})", fnv1a(stable_key.as_bytes()) as u32),
    )
}

/// The name of a conflict copy: `NAME (conflict YYYY-MM-DD HHMMSS).EXT`;
/// the `n`th copy of one second (from 2 on) ends its suffix with ` n`.
pub fn conflict_name(file_name: &str, when: DateTime<Utc>, n: u32) -> String {
    let nth = if n > 1 {
        format!(" {n}")
    } else {
        String::new()
    };
    shorten(
        file_name,
        &format!(" (conflict {}{nth})", when.format("%Y-%m-%d %H%M%S")),
    )
}

/// FNV-1a, 64 bits: a hash that is the same on every machine and in every
/// version, for suffixes that must not change between runs.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table() {
        assert_eq!(to_file("a/b").name, "a／b");
        assert_eq!(to_file("a\0b").name, "a␀b");
        assert_eq!(to_file("a／b").name, "a⧵／b");
        assert_eq!(to_file(".").name, "．");
        assert_eq!(to_file("..").name, "．．");
        assert_eq!(to_file("．").name, "⧵．");
        assert_eq!(to_file("").name, "⧵");
        assert_eq!(to_file("⧵").name, "⧵⧵");
        assert_eq!(to_file("a⧵b").name, "a⧵b");
        assert_eq!(
            to_file("report 2026 (final).odt").name,
            "report 2026 (final).odt"
        );
        assert_eq!(to_cmis("a／b").unwrap(), "a/b");
        assert_eq!(to_cmis("⧵").unwrap(), "");
        assert!(matches!(to_cmis("⧵⧵x"), Err(NameError::NotCanonical(_))));
        assert!(matches!(to_cmis(".."), Err(NameError::Invalid(_))));
    }

    #[test]
    fn long_names_are_cut_with_a_stable_hash_and_keep_the_extension() {
        let long = format!("{}.pdf", "é".repeat(200));
        let f = to_file(&long);
        assert!(!f.reversible);
        assert!(f.name.len() <= NAME_MAX);
        assert!(f.name.ends_with(".pdf"));
        assert_eq!(f, to_file(&long));
        assert_ne!(f.name, to_file(&format!("{}x.pdf", "é".repeat(200))).name);
    }

    #[test]
    fn suffixes() {
        assert_eq!(disambiguate("a.txt", "id1"), disambiguate("a.txt", "id1"));
        assert_ne!(disambiguate("a.txt", "id1"), disambiguate("a.txt", "id2"));
        assert!(disambiguate("a.txt", "id1").ends_with(".txt"));
        let when = DateTime::parse_from_rfc3339("2026-11-24T07:08:09Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            conflict_name("report.odt", when, 1),
            "report (conflict 2026-11-24 070809).odt"
        );
        assert_eq!(
            conflict_name("report.odt", when, 2),
            "report (conflict 2026-11-24 070809 2).odt"
        );
    }

    /// Strings rich in the characters that matter here.
    fn tricky() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                Just('/'),
                Just('\0'),
                Just(SLASH),
                Just(NUL),
                Just(ESC),
                Just(DOT),
                Just('.'),
                Just('a'),
                Just('é'),
                any::<char>(),
            ],
            0..12,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn every_cmis_name_round_trips(cmis in tricky()) {
            let f = to_file(&cmis);
            prop_assert!(f.reversible);
            prop_assert!(!f.name.contains('/') && !f.name.contains('\0'));
            prop_assert!(f.name != "." && f.name != ".." && !f.name.is_empty());
            prop_assert_eq!(to_cmis(&f.name).unwrap(), cmis);
        }

        #[test]
        fn a_user_file_name_is_listed_as_given(file in tricky()) {
            if let Ok(cmis) = to_cmis(&file) {
                prop_assert_eq!(to_file(&cmis).name, file);
            }
        }

        #[test]
        fn names_without_special_characters_are_unchanged(file in "[^/\u{0}\u{FF0F}\u{2400}\u{29F5}\u{FF0E}]{1,40}") {
            prop_assume!(file != "." && file != "..");
            prop_assert_eq!(to_cmis(&file).unwrap(), file.clone());
            prop_assert_eq!(to_file(&file).name, file);
        }

        #[test]
        fn any_name_fits(cmis in ".{0,300}") {
            prop_assert!(to_file(&cmis).name.len() <= NAME_MAX);
        }
    }
}
