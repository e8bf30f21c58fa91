//! A real `ecard-registry` process on loopback, for the tests that cross the
//! station↔registry boundary (the registry's own tests and the station's sync
//! tests): started in a temporary directory on the tests' day, its certificate pin
//! and address read from its start-up lines, killed with SIGKILL (only what SQLite
//! committed survives), started again on the same address, its CLI run against its
//! database.

use ecard_clock::Clock;
use ecard_sync_protocol::client::RegistryTls;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How to start it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RegistryOptions {
    /// Plain HTTP on loopback (`--insecure-loopback-http`), for tests that put a
    /// plain proxy between it and a station; TLS otherwise.
    pub plain_http: bool,
    /// Write an admin token file (`admin.token` in its directory).
    pub admin_token: bool,
    /// The suite of the registry key made before its first start
    /// (`ecard-registry key --suite`): stations enrolling with it follow it.
    pub suite: card_profile::suite::Suite,
}

pub struct RegistryProcess {
    bin: PathBuf,
    clock: Clock,
    options: RegistryOptions,
    child: Option<Child>,
    /// `https://127.0.0.1:port` (or `http://` with `plain_http`).
    pub url: String,
    /// How stations reach it: the pin of the certificate it printed.
    pub tls: RegistryTls,
    /// Its database, key and token files.
    pub dir: tempfile::TempDir,
    /// The province configuration it runs with (`ECARD_PROVINCE_CONFIG`); the
    /// shipped Sichuan one when `None`.
    province: Option<PathBuf>,
    /// Its PostgreSQL database when the run has a server (`crate::postgres`);
    /// `registry.db` in `dir` otherwise. Dropped after the process.
    postgres: Option<crate::postgres::TestDatabase>,
    /// Another process's PostgreSQL database it shares ([`RegistryProcess::start_beside`]).
    shared_database: Option<String>,
}

impl RegistryProcess {
    /// Starts `bin` on an ephemeral loopback port, on `clock`'s day (ECARD_TODAY).
    pub fn start(bin: &Path, clock: Clock, options: RegistryOptions) -> Self {
        let mut r = Self {
            bin: bin.to_owned(),
            clock,
            options,
            child: None,
            url: String::new(),
            tls: RegistryTls::InsecureLoopbackHttp,
            dir: tempfile::tempdir().expect("temporary directory"),
            province: None,
            postgres: crate::postgres::fresh_database(),
            shared_database: None,
        };
        r.spawn_on("127.0.0.1:0");
        r
    }

    /// [`RegistryProcess::start`] with the province configuration `json` (written
    /// into its directory; its CLI runs with it too).
    pub fn start_with_province(
        bin: &Path,
        clock: Clock,
        options: RegistryOptions,
        json: &str,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let file = dir.path().join("province.json");
        std::fs::write(&file, json).expect("write the province configuration");
        let mut r = Self {
            bin: bin.to_owned(),
            clock,
            options,
            child: None,
            url: String::new(),
            tls: RegistryTls::InsecureLoopbackHttp,
            dir,
            province: Some(file),
            postgres: crate::postgres::fresh_database(),
            shared_database: None,
        };
        r.spawn_on("127.0.0.1:0");
        r
    }

    /// Its SQLite file (on a PostgreSQL run: where it would be; see
    /// [`RegistryProcess::database`]).
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("registry.db")
    }

    /// What it runs with as `--database`: `sqlite:<dir>/registry.db`, or the URL
    /// of its own PostgreSQL database on a PostgreSQL run.
    pub fn database(&self) -> String {
        match (&self.postgres, &self.shared_database) {
            (Some(pg), _) => pg.url.clone(),
            (None, Some(url)) => url.clone(),
            (None, None) => format!("sqlite:{}", self.db().display()),
        }
    }

    /// A second registry process on `first`'s PostgreSQL database, with its
    /// list-signing key (as two processes behind a load balancer run): its own
    /// address, TLS certificate and admin token file. PostgreSQL runs only.
    pub fn start_beside(first: &RegistryProcess) -> Self {
        let url = first
            .postgres
            .as_ref()
            .map(|pg| pg.url.clone())
            .expect("a second registry process needs the first one's PostgreSQL database");
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::copy(
            first.dir.path().join("registry-key.p8"),
            dir.path().join("registry-key.p8"),
        )
        .expect("copy the registry key");
        let mut r = Self {
            bin: first.bin.clone(),
            clock: first.clock,
            options: first.options,
            child: None,
            url: String::new(),
            tls: RegistryTls::InsecureLoopbackHttp,
            dir,
            province: first.province.clone(),
            postgres: None,
            shared_database: Some(url),
        };
        r.spawn_on("127.0.0.1:0");
        r
    }

    /// Its PostgreSQL database, on a PostgreSQL run.
    pub fn postgres(&self) -> Option<&crate::postgres::TestDatabase> {
        self.postgres.as_ref()
    }

    /// The admin token it wrote (with `admin_token`).
    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("admin.token"))
            .expect("admin token file")
            .trim()
            .to_owned()
    }

    /// Starts the process on `listen` and waits for its announcement lines.
    pub fn spawn_on(&mut self, listen: &str) {
        let key_file = self.dir.path().join("registry-key.p8");
        if self.options.suite != card_profile::suite::Suite::P256 && !key_file.exists() {
            let out = Command::new(&self.bin)
                .args(["key", "--suite", self.options.suite.code(), "--key-file"])
                .arg(&key_file)
                .output()
                .expect("run ecard-registry key");
            assert!(
                out.status.success(),
                "ecard-registry key: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut cmd = Command::new(&self.bin);
        cmd.env(ecard_clock::TODAY_ENV, self.clock.env_value())
            .env("RUST_LOG", "warn")
            .args(["serve", "--listen", listen, "--database"])
            .arg(self.database())
            // Beside the SQLite file (its defaults), whichever the database.
            .arg("--tls-cert")
            .arg(self.dir.path().join("registry.tls.crt"))
            .arg("--tls-key")
            .arg(self.dir.path().join("registry.tls.key"))
            .arg("--key-file")
            .arg(self.dir.path().join("registry-key.p8"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(p) = &self.province {
            cmd.env("ECARD_PROVINCE_CONFIG", p);
        }
        // The default is beside the SQLite file, which a PostgreSQL run does not have.
        let token = if self.options.admin_token {
            "admin.token"
        } else {
            "registry.admin-token"
        };
        cmd.arg("--admin-token-file")
            .arg(self.dir.path().join(token));
        if self.options.plain_http {
            cmd.arg("--insecure-loopback-http");
        }
        let mut child = cmd.spawn().expect("start ecard-registry");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line).expect("read registry output");
            assert!(n > 0, "registry exited before listening");
            // TLS: the certificate pin comes first (what an operator hands to
            // stations), then the address.
            if let Some(pin) = line
                .trim()
                .strip_prefix("ecard-registry tls certificate sha256: ")
            {
                self.tls = RegistryTls::from_setting(pin).expect("pin line");
            }
            if let Some(url) = line.trim().strip_prefix("ecard-registry listening: ") {
                self.url = url.trim_end_matches('/').to_owned();
                break;
            }
        }
        // Keep draining its stdout so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        self.child = Some(child);
    }

    /// The day it runs on from its next start (`restart`): for deadlines that
    /// take days to pass.
    pub fn move_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same address (stations keep their URL).
    pub fn restart(&mut self) {
        let addr = self
            .url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .to_owned();
        let deadline = Instant::now() + Duration::from_secs(10);
        // The port is free again once the old process is gone.
        while std::net::TcpListener::bind(&addr).is_err() {
            assert!(Instant::now() < deadline, "port {addr} not released");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.spawn_on(&addr);
    }

    /// Runs its CLI against its database (`--database` appended), on the same day.
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.bin);
        if let Some(p) = &self.province {
            cmd.env("ECARD_PROVINCE_CONFIG", p);
        }
        cmd.args(args)
            .env(ecard_clock::TODAY_ENV, self.clock.env_value())
            .arg("--database")
            .arg(self.database())
            .output()
            .expect("run ecard-registry")
    }
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
