//! The gateway's WebDAV lock system: RFC 4918 write locks (exclusive or
//! shared, depth 0 or infinity, with timeouts), held in memory and written
//! through to the state store so that a restart keeps them.
//!
//! A lock covers its own path, and every path below it when it is deep.
//! Taking a lock conflicts with any exclusive lock that covers the path (and,
//! for a deep lock, with any lock below it), and with shared locks unless
//! the new lock is shared too. A write is allowed when every lock covering
//! the path is one whose token the request submitted, by the same principal.
//! Expired locks are dropped whenever the table is used.
//!
//! The CMIS side of a lock on a versionable document (checkout) is not
//! here: the HTTP layer asks the VFS for it around LOCK and UNLOCK, and for
//! locks that time out, which this lock system sends on a channel
//! ([`PersistentLs::on_expiry`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dav_server::davpath::DavPath;
use dav_server::ls::{DavLock, DavLockSystem, LsFuture};
use futures_util::FutureExt;
use xmltree::Element;

use super::store::{StateStore, StoredLock};

#[derive(Debug, Clone)]
pub struct PersistentLs {
    inner: Arc<Mutex<Vec<DavLock>>>,
    store: Option<StateStoreHandle>,
    /// Where locks that timed out are sent (the HTTP layer ends their
    /// checkouts).
    expired: Option<tokio::sync::mpsc::UnboundedSender<DavLock>>,
}

/// The store, behind a Debug impl (dav-server's trait requires Debug).
#[derive(Clone)]
struct StateStoreHandle(StateStore);

impl std::fmt::Debug for StateStoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateStore")
    }
}

/// The path as lock keys compare it: decoded bytes, no trailing slash
/// (the root is empty).
fn key(p: &DavPath) -> Vec<u8> {
    let mut b = p.as_bytes().to_vec();
    while b.last() == Some(&b'/') {
        b.pop();
    }
    b
}

/// Whether `below` is `above` or a path inside it.
fn is_under(below: &[u8], above: &[u8]) -> bool {
    below == above
        || (below.len() > above.len() && below.starts_with(above) && below[above.len()] == b'/')
}

fn covers(lock: &DavLock, path: &[u8]) -> bool {
    let lk = key(&lock.path);
    lk == path || (lock.deep && is_under(path, &lk))
}

fn to_stored(l: &DavLock) -> StoredLock {
    let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).ok();
    StoredLock {
        token: l.token.clone(),
        path: l.path.as_url_string(),
        principal: l.principal.clone(),
        owner: l.owner.as_ref().and_then(|o| {
            let mut buf = Vec::new();
            o.write(&mut buf).ok()?;
            String::from_utf8(buf).ok()
        }),
        timeout_at: l.timeout_at.and_then(secs),
        timeout_secs: l.timeout.map(|d| d.as_secs()),
        shared: l.shared,
        deep: l.deep,
    }
}

fn from_stored(s: StoredLock) -> Option<DavLock> {
    Some(DavLock {
        token: s.token,
        path: Box::new(DavPath::new(&s.path).ok()?),
        principal: s.principal,
        owner: s
            .owner
            .and_then(|o| Element::parse(o.as_bytes()).ok())
            .map(Box::new),
        timeout_at: s.timeout_at.map(|t| UNIX_EPOCH + Duration::from_secs(t)),
        timeout: s.timeout_secs.map(Duration::from_secs),
        shared: s.shared,
        deep: s.deep,
    })
}

impl PersistentLs {
    /// A lock system that keeps its locks in `store` (and starts with the
    /// locks already there), or in memory only.
    pub fn new(store: Option<StateStore>) -> PersistentLs {
        let mut locks = Vec::new();
        if let Some(s) = &store {
            match s.locks() {
                Ok(stored) => locks.extend(stored.into_iter().filter_map(from_stored)),
                Err(e) => tracing::warn!("cannot load WebDAV locks: {e}"),
            }
        }
        PersistentLs {
            inner: Arc::new(Mutex::new(locks)),
            store: store.map(StateStoreHandle),
            expired: None,
        }
    }

    /// Sends every lock that times out from now on to `tx` (set before the
    /// lock system is cloned).
    pub fn on_expiry(&mut self, tx: tokio::sync::mpsc::UnboundedSender<DavLock>) {
        self.expired = Some(tx);
    }

    /// Drops the locks whose timeout passed (they are sent to the expiry
    /// channel); expiry happens on every use anyway, this is for quiet
    /// times.
    pub fn expire_now(&self) {
        drop(self.table());
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Vec<DavLock>> {
        let mut t = match self.inner.lock() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        let now = SystemTime::now();
        let (gone, kept): (Vec<DavLock>, Vec<DavLock>) = std::mem::take(&mut *t)
            .into_iter()
            .partition(|l| l.timeout_at.is_some_and(|at| at < now));
        *t = kept;
        if !gone.is_empty() {
            let tokens: Vec<String> = gone.iter().map(|l| l.token.clone()).collect();
            self.forget(&tokens);
            if let Some(tx) = &self.expired {
                for l in gone {
                    let _ = tx.send(l);
                }
            }
        }
        t
    }

    fn persist(&self, l: &DavLock) {
        if let Some(s) = &self.store {
            if let Err(e) = s.0.put_lock(&to_stored(l)) {
                tracing::warn!("cannot store WebDAV lock: {e}");
            }
        }
    }

    fn forget(&self, tokens: &[String]) {
        if let Some(s) = &self.store {
            if let Err(e) = s.0.remove_locks(tokens) {
                tracing::warn!("cannot remove WebDAV locks from the store: {e}");
            }
        }
    }

    /// The locks that cover `path` (for LOCK/UNLOCK bookkeeping).
    pub fn locks_on(&self, path: &DavPath) -> Vec<DavLock> {
        let k = key(path);
        self.table()
            .iter()
            .filter(|l| covers(l, &k))
            .cloned()
            .collect()
    }

    /// Checks `path` against the table: the first lock that is not held.
    fn conflict(
        t: &[DavLock],
        path: &DavPath,
        principal: Option<&str>,
        ignore_principal: bool,
        deep: bool,
        tokens: &[String],
        shared_ok: bool,
    ) -> Result<(), DavLock> {
        let k = key(path);
        let held = |l: &DavLock| {
            tokens.iter().any(|t| t == &l.token)
                && (ignore_principal || principal == l.principal.as_deref())
        };
        let mut holds = false;
        let mut first_shared: Option<&DavLock> = None;
        for l in t.iter().filter(|l| covers(l, &k)) {
            if held(l) {
                holds = true;
            } else if !l.shared {
                return Err(l.clone());
            } else if !shared_ok {
                first_shared.get_or_insert(l);
            }
        }
        if !holds {
            if let Some(l) = first_shared {
                return Err(l.clone());
            }
        }
        if deep {
            for l in t.iter() {
                let lk = key(&l.path);
                if lk != k && is_under(&lk, &k) && (!l.shared || !shared_ok) && !held(l) {
                    return Err(l.clone());
                }
            }
        }
        Ok(())
    }
}

impl DavLockSystem for PersistentLs {
    fn lock(
        &'_ self,
        path: &DavPath,
        principal: Option<&str>,
        owner: Option<&Element>,
        timeout: Option<Duration>,
        shared: bool,
        deep: bool,
    ) -> LsFuture<'_, Result<DavLock, DavLock>> {
        let mut t = self.table();
        if let Err(l) = Self::conflict(&t, path, None, true, deep, &[], shared) {
            return futures_util::future::ready(Err(l)).boxed();
        }
        let lock = DavLock {
            token: format!("urn:uuid:{}", uuid_v4()),
            path: Box::new(path.clone()),
            principal: principal.map(str::to_string),
            owner: owner.map(|o| Box::new(o.clone())),
            timeout_at: timeout.map(|d| SystemTime::now() + d),
            timeout,
            shared,
            deep,
        };
        t.push(lock.clone());
        self.persist(&lock);
        futures_util::future::ready(Ok(lock)).boxed()
    }

    fn unlock(&'_ self, path: &DavPath, token: &str) -> LsFuture<'_, Result<(), ()>> {
        let mut t = self.table();
        let k = key(path);
        let before = t.len();
        t.retain(|l| !(l.token == token && is_under(&k, &key(&l.path))));
        let r = if t.len() < before {
            self.forget(&[token.to_string()]);
            Ok(())
        } else {
            Err(())
        };
        futures_util::future::ready(r).boxed()
    }

    fn refresh(
        &'_ self,
        path: &DavPath,
        token: &str,
        timeout: Option<Duration>,
    ) -> LsFuture<'_, Result<DavLock, ()>> {
        let mut t = self.table();
        let k = key(path);
        let r = match t
            .iter_mut()
            .find(|l| l.token == token && is_under(&k, &key(&l.path)))
        {
            Some(l) => {
                l.timeout = timeout;
                l.timeout_at = timeout.map(|d| SystemTime::now() + d);
                let l = l.clone();
                self.persist(&l);
                Ok(l)
            }
            None => Err(()),
        };
        futures_util::future::ready(r).boxed()
    }

    fn check(
        &'_ self,
        path: &DavPath,
        principal: Option<&str>,
        ignore_principal: bool,
        deep: bool,
        submitted_tokens: &[String],
    ) -> LsFuture<'_, Result<(), DavLock>> {
        let t = self.table();
        let r = Self::conflict(
            &t,
            path,
            principal,
            ignore_principal,
            deep,
            submitted_tokens,
            false,
        );
        futures_util::future::ready(r).boxed()
    }

    fn discover(&'_ self, path: &DavPath) -> LsFuture<'_, Vec<DavLock>> {
        futures_util::future::ready(self.locks_on(path)).boxed()
    }

    fn delete(&'_ self, path: &DavPath) -> LsFuture<'_, Result<(), ()>> {
        let mut t = self.table();
        let k = key(path);
        let gone: Vec<String> = t
            .iter()
            .filter(|l| is_under(&key(&l.path), &k))
            .map(|l| l.token.clone())
            .collect();
        t.retain(|l| !gone.contains(&l.token));
        self.forget(&gone);
        futures_util::future::ready(Ok(())).boxed()
    }
}

/// A random (version 4) UUID from the system's secure random source.
fn uuid_v4() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 16];
    if ring::rand::SystemRandom::new().fill(&mut b).is_err() {
        // No randomness: fall back to time and a counter, still unique here.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b[..8].copy_from_slice(&(t as u64).to_le_bytes());
        b[8..].copy_from_slice(&n.to_le_bytes());
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> DavPath {
        DavPath::new(s).unwrap()
    }

    #[tokio::test]
    async fn exclusive_shared_deep_and_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(&dir.path().join("s.redb")).unwrap();
        let ls = PersistentLs::new(Some(store.clone()));
        let a = ls
            .lock(&p("/d/"), Some("u"), None, None, false, true)
            .await
            .unwrap();
        // Deep exclusive lock on /d blocks /d/f for others.
        assert!(ls
            .lock(&p("/d/f"), Some("v"), None, None, true, false)
            .await
            .is_err());
        assert!(ls
            .check(&p("/d/f"), Some("u"), false, false, &[])
            .await
            .is_err());
        ls.check(
            &p("/d/f"),
            Some("u"),
            false,
            false,
            std::slice::from_ref(&a.token),
        )
        .await
        .unwrap();
        // A lock on /x does not cover /xy.
        ls.lock(&p("/x"), None, None, None, false, false)
            .await
            .unwrap();
        ls.check(&p("/xy"), None, false, false, &[]).await.unwrap();
        // Shared locks coexist.
        ls.lock(&p("/s"), None, None, None, true, false)
            .await
            .unwrap();
        ls.lock(&p("/s"), None, None, None, true, false)
            .await
            .unwrap();
        assert!(ls
            .lock(&p("/s"), None, None, None, false, false)
            .await
            .is_err());
        // A restart keeps the locks.
        let ls2 = PersistentLs::new(Some(store));
        assert_eq!(ls2.discover(&p("/d/f")).await.len(), 1);
        ls2.unlock(&p("/d"), &a.token).await.unwrap();
        assert!(ls2.discover(&p("/d/f")).await.is_empty());
        // Expired locks vanish.
        ls2.lock(
            &p("/t"),
            None,
            None,
            Some(Duration::from_secs(0)),
            false,
            false,
        )
        .await
        .unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert!(ls2.discover(&p("/t")).await.is_empty());
        // Expired locks are reported (their checkouts end).
        let mut ls3 = PersistentLs::new(None);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        ls3.on_expiry(tx);
        ls3.lock(
            &p("/e"),
            None,
            None,
            Some(Duration::from_secs(0)),
            false,
            false,
        )
        .await
        .unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        ls3.expire_now();
        assert_eq!(rx.try_recv().unwrap().path.as_url_string(), "/e");
    }
}
