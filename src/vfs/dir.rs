//! Directory listings.
//!
//! A listing is what one getChildren sweep (pages of up to 1000, until
//! `hasMoreItems` is false) found in a folder, as file name → inode. While
//! it is fresh (the metadata TTL) it answers lookups, including negative
//! ones, without a request; our own creates, renames and unlinks edit it in
//! place. Names outside a fresh listing are looked up with
//! getObjectByPath, and a miss is remembered for a short while
//! (`negative`).
//!
//! File names come from [`super::names`]; when two objects in one folder
//! map to the same file name (servers that allow duplicate names, or names
//! cut at 255 bytes), the later ones in a stable order get
//! [`names::disambiguate`]'s suffix.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::names;
use super::types::Ino;

#[derive(Debug, Clone)]
pub struct Listing {
    pub entries: BTreeMap<String, Ino>,
    /// Fresh until then; `None`: only partial (built from our own creates
    /// or lookups), never authoritative for negative lookups.
    pub fresh_until: Option<Instant>,
    pub negative: HashMap<String, Instant>,
    /// Documents hidden under their name because they were renamed to a
    /// local-only backup name (vim's `file` → `file~`): the server copy is
    /// untouched, and a new file of that name becomes a save into it.
    pub detached: HashMap<String, Ino>,
    /// How many entries are directories (a directory's nlink), counted
    /// once per change of `entries`: counting on every getattr made
    /// listing a big folder over WebDAV quadratic.
    pub subdirs: Cell<Option<u32>>,
}

impl Listing {
    pub fn partial() -> Listing {
        Listing {
            entries: BTreeMap::new(),
            fresh_until: None,
            negative: HashMap::new(),
            detached: HashMap::new(),
            subdirs: Cell::new(None),
        }
    }

    /// The number of subdirectories, `is_dir` telling an entry's kind.
    pub fn subdirs(&self, is_dir: impl Fn(Ino) -> bool) -> u32 {
        if let Some(n) = self.subdirs.get() {
            return n;
        }
        let n = self.entries.values().filter(|c| is_dir(**c)).count() as u32;
        self.subdirs.set(Some(n));
        n
    }

    pub fn is_fresh(&self, now: Instant) -> bool {
        self.fresh_until.is_some_and(|t| t > now)
    }

    /// Whether `name` is known not to exist.
    pub fn is_negative(&self, name: &str, now: Instant) -> bool {
        self.detached.contains_key(name)
            || (self.is_fresh(now) && !self.entries.contains_key(name))
            || self.negative.get(name).is_some_and(|t| *t > now)
    }

    pub fn remember_missing(&mut self, name: &str, ttl: Duration) {
        if self.negative.len() > 10_000 {
            self.negative.clear();
        }
        self.negative.insert(name.to_string(), Instant::now() + ttl);
    }

    pub fn insert(&mut self, name: String, ino: Ino) {
        self.negative.remove(&name);
        self.subdirs.set(None);
        self.entries.insert(name, ino);
    }

    pub fn remove(&mut self, name: &str) -> Option<Ino> {
        self.subdirs.set(None);
        self.entries.remove(name)
    }

    pub fn expire(&mut self) {
        self.fresh_until = None;
        self.negative.clear();
    }
}

/// File names for the objects of one folder: `(cmis name, stable key)` in
/// listing order → unique file names, in the same order.
pub fn file_names(objects: &[(String, String)]) -> Vec<String> {
    let mapped: Vec<String> = objects
        .iter()
        .map(|(cmis, _)| names::to_file(cmis).name)
        .collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for m in &mapped {
        *count.entry(m.as_str()).or_default() += 1;
    }
    // Of duplicates, the one with the smallest key keeps the plain name.
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for (m, (_, key)) in mapped.iter().zip(objects) {
        if count[m.as_str()] > 1 {
            let e = owner.entry(m.as_str()).or_insert(key.as_str());
            if key.as_str() < *e {
                *e = key.as_str();
            }
        }
    }
    mapped
        .iter()
        .zip(objects)
        .map(|(m, (_, key))| match owner.get(m.as_str()) {
            Some(first) if *first != key.as_str() => names::disambiguate(m, key),
            _ => m.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_get_stable_suffixes() {
        let objs = vec![
            ("a.txt".to_string(), "k2".to_string()),
            ("b".to_string(), "k3".to_string()),
            ("a.txt".to_string(), "k1".to_string()),
            ("x/y".to_string(), "k4".to_string()),
        ];
        let n = file_names(&objs);
        assert_eq!(n[2], "a.txt");
        assert_ne!(n[0], "a.txt");
        assert_eq!(n[1], "b");
        assert_eq!(n[3], "x\u{FF0F}y");
        // Stable: the same input in another order gives the same names.
        let mut rev = objs.clone();
        rev.reverse();
        let mut n2 = file_names(&rev);
        n2.reverse();
        assert_eq!(n, n2);
    }

    #[test]
    fn negative_lookups() {
        let mut l = Listing::partial();
        let now = Instant::now();
        assert!(!l.is_negative("x", now));
        l.remember_missing("x", Duration::from_secs(5));
        assert!(l.is_negative("x", Instant::now()));
        l.insert("x".into(), 3);
        assert!(!l.is_negative("x", Instant::now()));
        l.fresh_until = Some(Instant::now() + Duration::from_secs(5));
        assert!(l.is_negative("y", Instant::now()));
        l.expire();
        assert!(!l.is_negative("y", Instant::now()));
    }
}
