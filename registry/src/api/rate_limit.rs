//! A token bucket per client address, in a table of fixed size (least recently
//! seen addresses forgotten first), for the public seal check: anyone may ask, so
//! nobody may ask fast, and no number of addresses can grow the table.
//!
//! An IPv6 client is counted by its /64 (one subscriber's usual allocation), so
//! that walking through its own addresses does not give it more buckets. Time is
//! the monotonic clock passed in, not the registry's date clock: a moved test
//! date must not refill or drain buckets.

use hashlink::LruCache;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How a bucket fills and how many addresses are remembered.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests a quiet client may make at once.
    pub burst: u32,
    /// One more request allowed each `refill`.
    pub refill: Duration,
    /// Addresses remembered; the least recently seen is forgotten beyond it.
    pub clients: usize,
}

/// The public check's limits: 20 at once, then one every 3 s (20 a minute) —
/// ample for a person checking cards, slow for a program walking numbers.
pub const PUBLIC_CHECK: Limits = Limits {
    burst: 20,
    refill: Duration::from_secs(3),
    clients: 4096,
};

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The key a client is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Client {
    V4([u8; 4]),
    /// The first 64 bits.
    V6([u8; 8]),
    /// The server did not learn the address (an in-process call): one shared bucket.
    Unknown,
}

fn client(ip: Option<IpAddr>) -> Client {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => Client::V4(v4.octets()),
        Some(IpAddr::V6(v6)) => {
            let mut prefix = [0u8; 8];
            prefix.copy_from_slice(&v6.octets()[..8]);
            Client::V6(prefix)
        }
        None => Client::Unknown,
    }
}

pub struct RateLimiter {
    limits: Limits,
    table: Mutex<LruCache<Client, Bucket>>,
}

impl RateLimiter {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            table: Mutex::new(LruCache::new(limits.clients.max(1))),
        }
    }

    /// Takes one request from `ip`'s bucket at `now`: `Ok` when allowed, or how
    /// long until the next one would be (for `Retry-After`).
    pub fn take(&self, ip: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let burst = f64::from(self.limits.burst.max(1));
        let per_token = self.limits.refill.as_secs_f64().max(f64::EPSILON);
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let key = client(ip);
        let bucket = match table.get_mut(&key) {
            Some(b) => b,
            None => {
                table.insert(
                    key,
                    Bucket {
                        tokens: burst,
                        at: now,
                    },
                );
                table.get_mut(&key).ok_or(self.limits.refill)?
            }
        };
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed / per_token).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) * per_token))
        }
    }

    /// Addresses remembered now.
    pub fn clients_remembered(&self) -> usize {
        self.table.lock().map(|t| t.len()).unwrap_or(0)
    }
}

/// Whole seconds to wait, at least one (the `Retry-After` value).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const SMALL: Limits = Limits {
        burst: 3,
        refill: Duration::from_secs(10),
        clients: 2,
    };

    fn v4(last: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
    }

    #[test]
    fn a_burst_is_allowed_then_the_client_waits_for_the_refill() {
        let l = RateLimiter::new(SMALL);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.take(v4(1), t0), Ok(()));
        }
        let wait = l.take(v4(1), t0).unwrap_err();
        assert_eq!(retry_after_secs(wait), 10);
        // Another client is not held up by the first.
        assert_eq!(l.take(v4(2), t0), Ok(()));
        // After one refill period, exactly one more.
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(l.take(v4(1), t1), Ok(()));
        assert!(l.take(v4(1), t1).is_err());
        // A long quiet time fills the bucket to the burst, not beyond.
        let t2 = t1 + Duration::from_secs(1000);
        for _ in 0..3 {
            assert_eq!(l.take(v4(1), t2), Ok(()));
        }
        assert!(l.take(v4(1), t2).is_err());
    }

    #[test]
    fn the_table_never_grows_beyond_its_size() {
        let l = RateLimiter::new(SMALL);
        let t0 = Instant::now();
        for i in 0..200u8 {
            let _ = l.take(v4(i), t0);
        }
        assert_eq!(l.clients_remembered(), 2);
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_prefix() {
        let l = RateLimiter::new(SMALL);
        let t0 = Instant::now();
        let addr = |host: u16| {
            Some(IpAddr::V6(Ipv6Addr::new(
                0x2001, 0xdb8, 1, 2, 0, 0, 0, host,
            )))
        };
        for host in 0..3 {
            assert_eq!(l.take(addr(host), t0), Ok(()));
        }
        assert!(l.take(addr(99), t0).is_err());
        // An IPv4 client seen over IPv6 (mapped) is the IPv4 client.
        let mapped = Some(IpAddr::V6(Ipv4Addr::new(192, 0, 2, 7).to_ipv6_mapped()));
        for _ in 0..3 {
            assert_eq!(l.take(mapped, t0), Ok(()));
        }
        assert!(l.take(v4(7), t0).is_err());
    }
}
