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
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::names;
use super::types::Ino;

/// Numbers our own edits of listings, across all directories.
static EDIT_SEQ: AtomicU64 = AtomicU64::new(1);

/// The number the next edit gets: a sweep notes it before its first page,
/// and the edits from it on are the ones its view of the folder may lack.
pub fn edit_seq() -> u64 {
    EDIT_SEQ.load(Ordering::SeqCst)
}

/// Edits kept per listing. A sweep that started before the oldest kept
/// one cannot be reconciled and is not installed.
const MAX_EDITS: usize = 1024;

/// One of our own changes of a listing: `name` now names `ino`, or
/// (`None`) nothing.
#[derive(Debug, Clone)]
pub struct Edit {
    pub seq: u64,
    pub name: String,
    pub ino: Option<Ino>,
}

#[derive(Debug, Clone)]
pub struct Listing {
    pub entries: BTreeMap<String, Ino>,
    /// Fresh until then; `None`: only partial (built from our own creates
    /// or lookups), never authoritative for negative lookups.
    pub fresh_until: Option<Instant>,
    /// Trusted up to then while the change-log poll is healthy.
    pub trusted_until: Option<Instant>,
    /// Last read (listings are evicted least recently used first).
    pub last_used: Instant,
    pub negative: HashMap<String, Instant>,
    /// Documents hidden under their name because they were renamed to a
    /// local-only backup name (vim's `file` → `file~`): the server copy is
    /// untouched, and a new file of that name becomes a save into it.
    pub detached: HashMap<String, Ino>,
    /// How many entries are directories (a directory's nlink), counted
    /// once per change of `entries`: counting on every getattr made
    /// listing a big folder over WebDAV quadratic.
    pub subdirs: Cell<Option<u32>>,
    /// Our own edits, oldest first. A sweep runs for a while: a file
    /// created, uploaded, renamed or removed meanwhile is replayed over
    /// its older view, or the listing would lose (or resurrect) it.
    pub edits: VecDeque<Edit>,
    /// Edits numbered up to this one were dropped (the bound).
    pub edits_dropped: u64,
    /// The edit number at the start of the sweep this listing came from.
    pub swept_at: u64,
}

impl Listing {
    pub fn partial() -> Listing {
        Listing {
            entries: BTreeMap::new(),
            fresh_until: None,
            trusted_until: None,
            last_used: Instant::now(),
            negative: HashMap::new(),
            detached: HashMap::new(),
            subdirs: Cell::new(None),
            edits: VecDeque::new(),
            edits_dropped: 0,
            swept_at: 0,
        }
    }

    /// A sweep's result replacing this listing: same edits and detached
    /// names, entries to be filled in.
    pub fn successor(&self, swept_at: u64) -> Listing {
        Listing {
            detached: self.detached.clone(),
            edits: self.edits.clone(),
            edits_dropped: self.edits_dropped,
            swept_at,
            ..Listing::partial()
        }
    }

    /// Whether a sweep that started at `since` is older than the one
    /// this complete listing came from (its result adds nothing).
    pub fn is_newer_than(&self, since: u64) -> bool {
        self.fresh_until.is_some() && since < self.swept_at
    }

    /// The edits a sweep that started at `since` may not have seen;
    /// `None` when it cannot be reconciled (edits it needs were dropped).
    pub fn edits_since(&self, since: u64) -> Option<Vec<Edit>> {
        if since <= self.edits_dropped {
            return None;
        }
        Some(
            self.edits
                .iter()
                .filter(|e| e.seq >= since)
                .cloned()
                .collect(),
        )
    }

    fn record(&mut self, name: &str, ino: Option<Ino>) {
        if self.edits.len() >= MAX_EDITS {
            if let Some(e) = self.edits.pop_front() {
                self.edits_dropped = e.seq;
            }
        }
        let seq = EDIT_SEQ.fetch_add(1, Ordering::SeqCst);
        self.edits.push_back(Edit {
            seq,
            name: name.to_string(),
            ino,
        });
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

    /// Complete and current: within the TTL, or trusted while the
    /// change-log poll is healthy.
    pub fn is_fresh(&self, now: Instant, log_healthy: bool) -> bool {
        self.fresh_until.is_some_and(|t| t > now)
            || (log_healthy
                && self.fresh_until.is_some()
                && self.trusted_until.is_some_and(|t| t > now))
    }

    /// Whether `name` is known not to exist.
    pub fn is_negative(&self, name: &str, now: Instant, log_healthy: bool) -> bool {
        self.detached.contains_key(name)
            || (self.is_fresh(now, log_healthy) && !self.entries.contains_key(name))
            || self.negative.get(name).is_some_and(|t| *t > now)
    }

    pub fn remember_missing(&mut self, name: &str, ttl: Duration) {
        if self.negative.len() > 10_000 {
            self.negative.clear();
        }
        self.negative.insert(name.to_string(), Instant::now() + ttl);
    }

    /// Our own change: `name` names `ino` now.
    pub fn insert(&mut self, name: String, ino: Ino) {
        self.negative.remove(&name);
        self.subdirs.set(None);
        self.record(&name, Some(ino));
        self.entries.insert(name, ino);
    }

    /// What a lookup found on the server: as new as any sweep's view,
    /// not an edit of ours (lookups must not fill the edit log).
    pub fn learn(&mut self, name: String, ino: Ino) {
        self.negative.remove(&name);
        self.subdirs.set(None);
        self.entries.insert(name, ino);
    }

    /// Our own change: `name` is gone.
    pub fn remove(&mut self, name: &str) -> Option<Ino> {
        self.subdirs.set(None);
        self.record(name, None);
        self.entries.remove(name)
    }

    /// The repository no longer has `name` (its change log said so): not
    /// an edit of ours, a sweep's view of it is as good.
    pub fn forget(&mut self, name: &str) -> Option<Ino> {
        self.subdirs.set(None);
        self.entries.remove(name)
    }

    /// A new document's upload made it the repository's: an edit, so a
    /// sweep that started before the upload keeps it.
    pub fn confirm(&mut self, name: &str, ino: Ino) {
        if self.entries.get(name) == Some(&ino) {
            self.record(name, Some(ino));
        }
    }

    pub fn expire(&mut self) {
        self.fresh_until = None;
        self.trusted_until = None;
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
    fn edits_since_a_sweep_began() {
        let mut l = Listing::partial();
        l.learn("found".into(), 2);
        assert!(l.edits.is_empty(), "a lookup is no edit");
        let since = edit_seq();
        l.insert("new".into(), 3);
        l.remove("found");
        let e = l.edits_since(since).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].name.as_str(), e[0].ino), ("new", Some(3)));
        assert_eq!((e[1].name.as_str(), e[1].ino), ("found", None));
        assert!(l.edits_since(edit_seq()).unwrap().is_empty());
        // Past the bound, an old sweep cannot be reconciled.
        for i in 0..MAX_EDITS {
            l.insert(format!("f{i}"), 10);
        }
        assert!(l.edits_since(since).is_none());
        // A complete listing from a later sweep makes an older one moot.
        let mut n = l.successor(edit_seq());
        n.fresh_until = Some(Instant::now());
        assert!(n.is_newer_than(since));
        assert!(!n.is_newer_than(edit_seq()));
    }

    #[test]
    fn negative_lookups() {
        let mut l = Listing::partial();
        let now = Instant::now();
        assert!(!l.is_negative("x", now, true));
        l.remember_missing("x", Duration::from_secs(5));
        assert!(l.is_negative("x", Instant::now(), true));
        l.insert("x".into(), 3);
        assert!(!l.is_negative("x", Instant::now(), true));
        l.fresh_until = Some(Instant::now() + Duration::from_secs(5));
        assert!(l.is_negative("y", Instant::now(), true));
        l.expire();
        assert!(!l.is_negative("y", Instant::now(), true));
        // Past the TTL, trusted only while the change log is healthy.
        l.fresh_until = Some(Instant::now());
        l.trusted_until = Some(Instant::now() + Duration::from_secs(60));
        assert!(l.is_fresh(Instant::now(), true));
        assert!(!l.is_fresh(Instant::now(), false));
        l.expire();
        assert!(!l.is_fresh(Instant::now(), true));
    }
}
