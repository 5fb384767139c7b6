//! Fault injection for tests: added latency, a fraction of requests
//! answered 500 or 503, content bodies cut off mid-stream (the connection
//! drops), and "edit behind the client's back" (the admin endpoint
//! `POST /admin/tamper?objectId=ID` replaces a document's content as
//! another user would).
//!
//! Off by default. Enabled only when the server is started with faults
//! allowed (`cmisfs repo --faults`, or [`super::start_with_faults`]) and
//! listens on loopback. Then `GET /admin/faults` shows and `POST
//! /admin/faults` (JSON, any subset of the [`FaultConfig`] fields) changes
//! the settings at run time; both need the `admin` user.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultConfig {
    /// Delay added before every request is handled.
    pub latency_ms: u64,
    /// Fraction (0..=1) of requests answered with `error_status`.
    pub error_rate: f64,
    /// 500 or 503 (default 503).
    pub error_status: u16,
    /// Fraction (0..=1) of content downloads cut off mid-body.
    pub drop_rate: f64,
    /// How many bytes of a dropped body are sent first.
    pub drop_after_bytes: u64,
}

/// The live fault settings and a cheap pseudo-random source.
pub struct Faults {
    config: Mutex<FaultConfig>,
    seed: AtomicU64,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Faults {
        Faults {
            config: Mutex::new(config),
            seed: AtomicU64::new(u64::from(super::service::rand_u32()) | 1),
        }
    }

    pub fn get(&self) -> FaultConfig {
        self.config.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn set(&self, c: FaultConfig) {
        if let Ok(mut g) = self.config.lock() {
            *g = c;
        }
    }

    /// A number in [0, 1) (xorshift; quality is not the point).
    fn roll(&self) -> f64 {
        let mut x = self.seed.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn latency(&self) -> Option<Duration> {
        let ms = self.get().latency_ms;
        (ms > 0).then(|| Duration::from_millis(ms.min(60_000)))
    }

    /// The status to fail this request with, if any.
    pub fn error(&self) -> Option<u16> {
        let c = self.get();
        if c.error_rate > 0.0 && self.roll() < c.error_rate {
            Some(if c.error_status == 500 { 500 } else { 503 })
        } else {
            None
        }
    }

    /// After how many bytes to cut this download, if at all.
    pub fn drop_after(&self) -> Option<u64> {
        let c = self.get();
        (c.drop_rate > 0.0 && self.roll() < c.drop_rate).then_some(c.drop_after_bytes)
    }
}
