//! HTTP Basic authentication against a users file.
//!
//! Users file format (UTF-8, one user per line, `#` starts a comment line):
//!
//! ```text
//! alice:pbkdf2-sha256:100000:<salt, base64>:<hash, base64>
//! ```
//!
//! The hash is PBKDF2-HMAC-SHA256 of the password with the salt and the
//! iteration count given; make one with `cmisfs repo --hash-password`
//! (reads the password from stdin). User names must not contain `:`. The
//! user named `admin` is the repository administrator (every permission).
//! Without a users file there is one user, `admin` with password `admin`,
//! and the server only listens on loopback.
//!
//! Verifying PBKDF2 on every request would be slow, so a successful
//! verification is remembered (keyed by a SHA-256 of the credentials with a
//! per-process random key; the password itself is never kept).

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Mutex;

use base64::Engine;
use ring::rand::SecureRandom;

use super::service::User;

const SCHEME: &str = "pbkdf2-sha256";
const ITERATIONS: u32 = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum UsersFileError {
    #[error("cannot read users file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("users file {path}, line {line}: {message}")]
    Syntax {
        path: String,
        line: usize,
        message: String,
    },
}

struct Entry {
    iterations: NonZeroU32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

pub struct Users {
    entries: HashMap<String, Entry>,
    /// Credentials already verified (keyed digests).
    verified: Mutex<HashSet<Vec<u8>>>,
    key: [u8; 32],
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A users-file hash field (`pbkdf2-sha256:ITER:SALT:HASH`) for `password`.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    let _ = ring::rand::SystemRandom::new().fill(&mut salt);
    let mut out = [0u8; 32];
    let iterations = NonZeroU32::new(ITERATIONS).unwrap_or(NonZeroU32::MIN);
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        &salt,
        password.as_bytes(),
        &mut out,
    );
    format!(
        "{SCHEME}:{ITERATIONS}:{}:{}",
        b64().encode(salt),
        b64().encode(out)
    )
}

impl Users {
    /// The built-in single user admin/admin.
    pub fn default_admin() -> Users {
        let mut entries = HashMap::new();
        let salt = b"cmisfs-default".to_vec();
        let iterations = NonZeroU32::new(1000).unwrap_or(NonZeroU32::MIN);
        let mut hash = vec![0u8; 32];
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            &salt,
            b"admin",
            &mut hash,
        );
        entries.insert(
            "admin".to_string(),
            Entry {
                iterations,
                salt,
                hash,
            },
        );
        Users::with(entries)
    }

    fn with(entries: HashMap<String, Entry>) -> Users {
        let mut key = [0u8; 32];
        let _ = ring::rand::SystemRandom::new().fill(&mut key);
        Users {
            entries,
            verified: Mutex::new(HashSet::new()),
            key,
        }
    }

    pub fn load(path: &Path) -> Result<Users, UsersFileError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| UsersFileError::Read {
            path: p.clone(),
            source,
        })?;
        Users::parse(&text, &p)
    }

    pub fn parse(text: &str, path: &str) -> Result<Users, UsersFileError> {
        let mut entries = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: &str| UsersFileError::Syntax {
                path: path.to_string(),
                line: i + 1,
                message: message.to_string(),
            };
            let parts: Vec<&str> = line.split(':').collect();
            let [user, scheme, iter, salt, hash] = parts.as_slice() else {
                return Err(err("expected user:pbkdf2-sha256:ITERATIONS:SALT:HASH"));
            };
            if user.is_empty() {
                return Err(err("empty user name"));
            }
            if *scheme != SCHEME {
                return Err(err("unknown hash scheme (only pbkdf2-sha256)"));
            }
            let iterations = iter
                .parse::<u32>()
                .ok()
                .and_then(NonZeroU32::new)
                .ok_or_else(|| err("bad iteration count"))?;
            let salt = b64().decode(salt).map_err(|_| err("bad salt (base64)"))?;
            let hash = b64().decode(hash).map_err(|_| err("bad hash (base64)"))?;
            if hash.is_empty() {
                return Err(err("empty hash"));
            }
            entries.insert(
                user.to_string(),
                Entry {
                    iterations,
                    salt,
                    hash,
                },
            );
        }
        Ok(Users::with(entries))
    }

    fn digest(&self, user: &str, password: &str) -> Vec<u8> {
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.key);
        let mut msg = Vec::with_capacity(user.len() + password.len() + 1);
        msg.extend_from_slice(user.as_bytes());
        msg.push(0);
        msg.extend_from_slice(password.as_bytes());
        ring::hmac::sign(&k, &msg).as_ref().to_vec()
    }

    /// Checks an `Authorization` header value; the user on success.
    pub fn check_header(&self, header: Option<&str>) -> Option<User> {
        let value = header?.trim();
        let (scheme, rest) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = b64().decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        self.check(user, password).then(|| User {
            name: user.to_string(),
            admin: user == "admin",
        })
    }

    pub fn check(&self, user: &str, password: &str) -> bool {
        let Some(entry) = self.entries.get(user) else {
            return false;
        };
        let d = self.digest(user, password);
        if let Ok(v) = self.verified.lock() {
            if v.contains(&d) {
                return true;
            }
        }
        let ok = ring::pbkdf2::verify(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            entry.iterations,
            &entry.salt,
            password.as_bytes(),
            &entry.hash,
        )
        .is_ok();
        if ok {
            if let Ok(mut v) = self.verified.lock() {
                if v.len() > 10_000 {
                    v.clear();
                }
                v.insert(d);
            }
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_round_trip_and_header() {
        let line = format!("bob:{}\n# comment\n", hash_password("s3cret"));
        let users = Users::parse(&line, "x").unwrap();
        assert!(users.check("bob", "s3cret"));
        assert!(users.check("bob", "s3cret")); // cached
        assert!(!users.check("bob", "wrong"));
        assert!(!users.check("eve", "s3cret"));
        let h = format!("Basic {}", b64().encode("bob:s3cret"));
        assert_eq!(users.check_header(Some(&h)).unwrap().name, "bob");
        assert!(users.check_header(Some("Basic !!!")).is_none());
        assert!(Users::parse("bob:md5:1:a:b", "x").is_err());
        assert!(Users::default_admin().check("admin", "admin"));
    }
}
