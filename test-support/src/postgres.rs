//! A fresh PostgreSQL database per test, when the run has a server
//! (`ECARD_TEST_POSTGRES`, set by scripts/test-registry-postgres.sh to the URL of
//! a throwaway cluster's `postgres` database). Without it the registry's tests run
//! on SQLite. Each database is made from `template0` with byte-wise text ordering
//! (what the registry requires) and dropped when the test is done.

use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable naming the server (a URL with rights to create
/// databases).
pub const ENV: &str = "ECARD_TEST_POSTGRES";

/// One test's database.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    /// Its URL, for `ecard-registry --database`.
    pub url: String,
}

/// True when this run's registry tests use PostgreSQL.
pub fn enabled() -> bool {
    std::env::var_os(ENV).is_some_and(|v| !v.is_empty())
}

/// A new empty database, or `None` when the run has no PostgreSQL.
pub fn fresh_database() -> Option<TestDatabase> {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let admin_url = std::env::var(ENV).ok().filter(|v| !v.is_empty())?;
    let name = format!(
        "ecard_t{}_{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    );
    off_runtime(|| {
        let mut client = postgres::Client::connect(&admin_url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("{ENV}={admin_url}: {e}"));
        client
            .batch_execute(&format!(
                "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
            ))
            .expect("create a test database");
    });
    let url = with_database(&admin_url, &name);
    Some(TestDatabase {
        admin_url,
        name,
        url,
    })
}

/// `admin_url` with its database name replaced by `name`.
fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDatabase {}

/// Runs `f` on a thread of its own: the synchronous client may not block inside
/// an async test's runtime.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("PostgreSQL helper thread"))
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // FORCE: a registry process killed a moment ago may still hold a session.
        let (admin_url, name) = (&self.admin_url, &self.name);
        off_runtime(|| {
            if let Ok(mut c) = postgres::Client::connect(admin_url, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_name_replaces_the_admin_one() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5544/postgres", "ecard_t1_0"),
            "postgres://postgres@127.0.0.1:5544/ecard_t1_0"
        );
        assert_eq!(
            super::with_database("postgres://u@h/postgres?host=/tmp", "x"),
            "postgres://u@h/x?host=/tmp"
        );
        assert_eq!(
            super::with_database("postgres://u@h:1", "x"),
            "postgres://u@h:1/x"
        );
    }
}
