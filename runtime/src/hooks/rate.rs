//! Per-route rate limits: a token bucket per route, in memory (a limit protects this
//! process; after a restart every bucket starts full).

use std::collections::HashMap;
use std::sync::Mutex;

/// A limit: `per_second` requests on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Requests per second, on average.
    pub per_second: f64,
    /// Requests at once after a quiet spell (at least 1).
    pub burst: u32,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// The buckets of every route, by a key the caller chooses (tenant and route).
#[derive(Debug, Default)]
pub struct Buckets(Mutex<HashMap<String, Bucket>>);

impl Buckets {
    /// Takes a token for `key` at `now_ms`; `false` when the bucket is empty.
    pub fn take(&self, key: &str, limit: RateLimit, now_ms: i64) -> bool {
        let mut buckets = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let burst = f64::from(limit.burst.max(1));
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: burst,
            at_ms: now_ms,
        });
        let elapsed = (now_ms - bucket.at_ms).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * limit.per_second).min(burst);
        bucket.at_ms = now_ms.max(bucket.at_ms);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forgets `key`'s bucket (its route changed or went away).
    pub fn forget(&self, key: &str) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let b = Buckets::default();
        let limit = RateLimit {
            per_second: 2.0,
            burst: 3,
        };
        assert!((0..3).all(|_| b.take("r", limit, 0)));
        assert!(!b.take("r", limit, 0));
        assert!(!b.take("r", limit, 400), "0.8 of a token after 400 ms");
        assert!(b.take("r", limit, 500));
        assert!(b.take("other", limit, 500), "buckets are per key");
        b.forget("r");
        assert!((0..3).all(|_| b.take("r", limit, 500)));
    }
}
