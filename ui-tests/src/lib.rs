//! Harness for the web UI's browser tests: the real `ecardd demo` on a free port,
//! chromedriver on a free port, headless chromium at 1366×768, screenshots under
//! `target/ui-screenshots/`. Every child process is owned by a guard that kills it
//! on drop, so a failing test leaves nothing running.
//!
//! Missing chromium or chromedriver is a failure with a clear message, never a
//! skip: CI installs both (scripts/install-test-deps.sh).

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

fn err(msg: impl Into<String>) -> Error {
    msg.into().into()
}

/// `target/<profile>` of the running test executable (`target/<profile>/deps/x-hash`).
pub fn profile_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| err("cannot locate target/<profile> from the test executable"))
}

/// The workspace's target directory (parent of `target/<profile>`).
pub fn target_dir() -> Result<PathBuf> {
    profile_dir()?
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| err("target/<profile> has no parent"))
}

/// A child process killed (and reaped) on drop. Started in its own process group
/// so that what it spawned (chromedriver's chromium) goes with it.
pub struct ChildGuard {
    name: &'static str,
    child: Child,
}

impl ChildGuard {
    fn spawn(name: &'static str, cmd: &mut Command) -> Result<Self> {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        let child = cmd
            .spawn()
            .map_err(|e| err(format!("cannot start {name} ({cmd:?}): {e}")))?;
        Ok(Self { name, child })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait()? {
            Some(status) => Err(err(format!("{} exited early: {status}", self.name))),
            None => Ok(()),
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // The group id is the child's pid (process_group(0)): TERM the group, so
            // chromium children of chromedriver end too, then make sure of the leader.
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", self.child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Directory for logs of the children: `target/ui-tests/`.
fn log_dir() -> Result<PathBuf> {
    let dir = target_dir()?.join("ui-tests");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `ecardd demo --listen 127.0.0.1:0`, with the URL it printed.
pub struct Ecardd {
    pub url: String,
    pub log: PathBuf,
    _guard: ChildGuard,
}

/// The `ecardd` binary: `$ECARDD_BIN`, else `target/<profile>/ecardd` beside the test.
pub fn ecardd_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("ECARDD_BIN") {
        return Ok(PathBuf::from(path));
    }
    let bin = profile_dir()?.join("ecardd");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(err(format!(
            "{} is missing: build it first (`cargo build -p ecardd --bin ecardd`; scripts/test.sh builds all binaries)",
            bin.display()
        )))
    }
}

impl Ecardd {
    pub fn start_demo() -> Result<Self> {
        Self::start_with(&["demo", "--listen", "127.0.0.1:0"], &[])
    }

    /// `ecardd demo` with `env` (e.g. `ECARDD_CUPS_SERVER`, the test's own cupsd).
    pub fn start_demo_with_env(env: &[(&str, &str)]) -> Result<Self> {
        Self::start_with(&["demo", "--listen", "127.0.0.1:0"], env)
    }

    /// `ecardd serve` of the station database `db` (unlocked with the passphrase
    /// file), on a free loopback port, with `extra` arguments (e.g. the sync
    /// interval) and `env` (e.g. `ECARD_TODAY`).
    pub fn start_serve(
        db: &Path,
        passphrase_file: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Self> {
        let (db, pass) = (
            db.display().to_string(),
            passphrase_file.display().to_string(),
        );
        let mut args = vec![
            "serve",
            "--db",
            &db,
            "--passphrase-file",
            &pass,
            "--listen",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        Self::start_with(&args, env)
    }

    /// `ecardd serve` of a station made by its CLI, on its real readers (PC/SC),
    /// with `env` (e.g. the tests' day in `ECARD_TODAY`).
    pub fn serve(db: &Path, passphrase_file: &Path, env: &[(&str, &str)]) -> Result<Self> {
        Self::start_serve(db, passphrase_file, &[], env)
    }

    fn start_with(args: &[&str], env: &[(&str, &str)]) -> Result<Self> {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let bin = ecardd_binary()?;
        let log = log_dir()?.join(format!("ecardd-{}-{n}.log", std::process::id()));
        let stderr = std::fs::File::create(&log)?;
        let mut guard = ChildGuard::spawn(
            "ecardd",
            Command::new(&bin)
                .args(args)
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(stderr),
        )?;
        let stdout = guard
            .child
            .stdout
            .take()
            .ok_or_else(|| err("ecardd stdout not captured"))?;
        let (tx, rx) = mpsc::channel();
        let copy = log.with_extension("stdout.log");
        // Read until the "listening" line, then keep draining so the pipe never fills.
        std::thread::spawn(move || {
            let mut out = std::fs::File::create(copy).ok();
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(f) = out.as_mut() {
                    let _ = writeln!(f, "{line}");
                }
                if !sent {
                    if let Some(rest) = line.trim().strip_prefix("ecardd listening:") {
                        let _ = tx.send(rest.trim().to_string());
                        sent = true;
                    }
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                guard.check_alive()?;
                return Err(err(format!(
                    "ecardd printed no `ecardd listening: http://…` line within 60 s (log: {})",
                    log.display()
                )));
            }
        };
        let url = if url.ends_with('/') {
            url
        } else {
            format!("{url}/")
        };
        Ok(Self {
            url,
            log,
            _guard: guard,
        })
    }
}

fn find_in_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in names {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// chromedriver on a free port.
pub struct Chromedriver {
    pub url: String,
    _guard: ChildGuard,
}

const INSTALL_HINT: &str =
    "install the Debian packages `chromium` and `chromium-driver` (scripts/install-test-deps.sh does)";

impl Chromedriver {
    pub fn start() -> Result<Self> {
        let bin = match std::env::var_os("CHROMEDRIVER") {
            Some(p) => PathBuf::from(p),
            None => find_in_path(&["chromedriver"])
                .ok_or_else(|| err(format!("chromedriver not found in PATH: {INSTALL_HINT}")))?,
        };
        if !bin.is_file() {
            return Err(err(format!(
                "chromedriver {} does not exist: {INSTALL_HINT}",
                bin.display()
            )));
        }
        let port = free_port()?;
        let log = log_dir()?.join(format!("chromedriver-{}.log", std::process::id()));
        // The browser keeps the real clock: chromium hangs on its first navigation
        // under libfaketime (seen in the moved-clock CI run), so the preload is
        // removed for chromedriver and chromium. The page's date comes from the
        // station anyway (GET /api/v1/session → today), not from the browser's clock;
        // ecardd itself still runs on the moved clock.
        let mut guard = ChildGuard::spawn(
            "chromedriver",
            Command::new(&bin)
                .env_remove("LD_PRELOAD")
                .env_remove("FAKETIME")
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            guard.check_alive()?;
            if Instant::now() > deadline {
                return Err(err(format!(
                    "chromedriver did not listen on port {port} within 20 s (log: {})",
                    log.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self {
            url: format!("http://127.0.0.1:{port}"),
            _guard: guard,
        })
    }
}

/// The chromium binary: `$CHROMIUM`, else `chromium` / `chromium-browser` in PATH.
pub fn chromium_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Ok(PathBuf::from(p));
    }
    find_in_path(&["chromium", "chromium-browser", "google-chrome"])
        .ok_or_else(|| err(format!("chromium not found in PATH: {INSTALL_HINT}")))
}

/// One browser session against one ecardd, with the helpers the tests share.
pub struct Ui {
    pub client: Client,
    pub base: String,
    pub shots: PathBuf,
    pub ecardd: Ecardd,
    /// Our own accessibility checks and axe-core, run by `a11y_problems`.
    a11y: A11yCheck,
    // Dropped after the client is closed (field order): kills chromedriver.
    _driver: Chromedriver,
}

pub const WAIT: Duration = Duration::from_secs(20);

impl Ui {
    pub async fn start() -> Result<Self> {
        Self::start_with(Ecardd::start_demo()?).await
    }

    /// The browser on the UI of an `ecardd` already started (e.g.
    /// [`Ecardd::start_serve`] of a station enrolled with a registry).
    pub async fn start_with(ecardd: Ecardd) -> Result<Self> {
        let chromium = chromium_binary()?;
        let a11y = A11yCheck::load()?;
        let driver = Chromedriver::start()?;
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--window-size=1366,768",
                    "--lang=zh-CN",
                    "--no-first-run",
                    "--disable-extensions",
                ],
            },
        });
        let caps = match caps {
            serde_json::Value::Object(map) => map,
            _ => return Err(err("capabilities are not an object")),
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .map_err(|e| {
                err(format!(
                    "cannot open a chromium session through chromedriver: {e}"
                ))
            })?;
        let shots = target_dir()?.join("ui-screenshots");
        std::fs::create_dir_all(&shots)?;
        let base = ecardd.url.clone();
        Ok(Self {
            client,
            base,
            shots,
            ecardd,
            a11y,
            _driver: driver,
        })
    }

    /// Ends the browser session (chromedriver then closes chromium).
    pub async fn close(self) -> Result<()> {
        self.client.clone().close().await?;
        Ok(())
    }

    /// Opens `#/route` of the UI.
    pub async fn goto(&self, route: &str) -> Result<()> {
        let url = format!("{}#/{route}", self.base);
        let current = self.client.current_url().await?;
        if current.as_str().starts_with(&self.base) {
            // Same document: change the hash only, like a user following a link.
            self.client
                .execute(
                    "location.hash = arguments[0];",
                    vec![serde_json::Value::String(format!("#/{route}"))],
                )
                .await?;
        } else {
            self.client.goto(&url).await?;
        }
        Ok(())
    }

    pub async fn find(&self, css: &str) -> Result<Element> {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| err(format!("element `{css}` did not appear: {e}")))
    }

    pub async fn exists(&self, css: &str) -> Result<bool> {
        Ok(!self.client.find_all(Locator::Css(css)).await?.is_empty())
    }

    pub async fn click(&self, css: &str) -> Result<()> {
        let el = self.find(css).await?;
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![serde_json::to_value(&el)?],
            )
            .await?;
        el.click()
            .await
            .map_err(|e| err(format!("cannot click `{css}`: {e}")))?;
        Ok(())
    }

    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let el = self.find(css).await?;
        el.clear().await?;
        el.send_keys(text).await?;
        Ok(())
    }

    /// Text of the alert region (the server's error message, if any).
    pub async fn alert_text(&self) -> Result<String> {
        Ok(self.find("#alert").await?.text().await?)
    }

    /// Waits until `css` exists and its text contains `needle`; on timeout the
    /// error names what was there and what the alert region said.
    pub async fn wait_text(&self, css: &str, needle: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(t) = el.text().await {
                    if t.contains(needle) {
                        return Ok(t);
                    }
                    last = t;
                }
            }
            if Instant::now() > deadline {
                let alert = self.alert_text().await.unwrap_or_default();
                return Err(err(format!(
                    "`{css}` did not come to contain {needle:?} within {timeout:?}; it read {last:?}; alert region: {alert:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until at least `n` elements match `css` (lists are filled after the
    /// page's request returns); returns them. On timeout the error says how many
    /// there were and what the alert region said.
    pub async fn wait_count(
        &self,
        css: &str,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<fantoccini::elements::Element>> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.client.find_all(Locator::Css(css)).await?;
            if found.len() >= n {
                return Ok(found);
            }
            if Instant::now() > deadline {
                let alert = self.alert_text().await.unwrap_or_default();
                return Err(err(format!(
                    "`{css}`: {} found, {n} wanted within {timeout:?}; alert region: {alert:?}",
                    found.len()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for `css` to carry attribute `attr`; returns its value. Fails early
    /// with the alert region's text when the UI reports an error instead.
    pub async fn wait_attr(&self, css: &str, attr: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(Some(v)) = el.attr(attr).await {
                    return Ok(v);
                }
            }
            let alert = self.alert_text().await.unwrap_or_default();
            if !alert.is_empty() {
                return Err(err(format!(
                    "waiting for `{css}`[{attr}], the UI showed an error: {alert}"
                )));
            }
            if Instant::now() > deadline {
                return Err(err(format!(
                    "`{css}`[{attr}] did not appear within {timeout:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Scrolls `css` into the middle of the viewport (before a screenshot).
    pub async fn scroll_to(&self, css: &str) -> Result<()> {
        self.find(css).await?;
        self.client
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
                vec![serde_json::Value::String(css.to_string())],
            )
            .await?;
        Ok(())
    }

    /// Saves `target/ui-screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self.client.screenshot().await?;
        if !png.starts_with(b"\x89PNG") {
            return Err(err(format!("screenshot {name} is not a PNG")));
        }
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Logs in through the login form (the demo's password) and waits for the
    /// navigation.
    pub async fn login(&self, username: &str) -> Result<()> {
        self.login_with(username, &format!("demo-{username}")).await
    }

    /// [`Ui::login`] with the account's own password.
    pub async fn login_with(&self, username: &str, password: &str) -> Result<()> {
        self.goto("login").await?;
        self.fill("#login-username", username).await?;
        self.fill("#login-password", password).await?;
        self.click("#login-submit").await?;
        let deadline = Instant::now() + WAIT;
        while !self.exists("#nav-list a").await? {
            let alert = self.alert_text().await.unwrap_or_default();
            // The alert is read after the navigation check: a message that appeared
            // because the login succeeded meanwhile (on the first page) is not a
            // failed login, so the navigation is checked once more.
            if !alert.is_empty() && !self.exists("#nav-list a").await? {
                return Err(err(format!("login as {username} failed: {alert}")));
            }
            if Instant::now() > deadline {
                return Err(err(format!("login as {username}: no navigation appeared")));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Logs in with the keyboard only: the login page focuses the user name, Tab
    /// moves to the password, Enter submits.
    pub async fn login_by_keyboard(&self, username: &str) -> Result<()> {
        use fantoccini::key::Key;
        self.goto("login").await?;
        self.find("#login-username").await?;
        let focused = self.client.active_element().await?;
        if focused.attr("id").await?.as_deref() != Some("login-username") {
            return Err(err("the login page does not focus the user name field"));
        }
        focused.clear().await?;
        focused
            .send_keys(&format!("{username}{}", char::from(Key::Tab)))
            .await?;
        let focused = self.client.active_element().await?;
        if focused.attr("id").await?.as_deref() != Some("login-password") {
            return Err(err("Tab from the user name does not reach the password"));
        }
        focused
            .send_keys(&format!("demo-{username}{}", char::from(Key::Enter)))
            .await?;
        self.find("#nav-list a").await?;
        Ok(())
    }

    pub async fn logout(&self) -> Result<()> {
        self.click("#logout").await?;
        self.find("#login-username").await?;
        Ok(())
    }

    /// The routes the navigation offers (`data-route` of each link).
    pub async fn nav_routes(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for a in self.client.find_all(Locator::Css("#nav-list a")).await? {
            if let Some(r) = a.attr("data-route").await? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Accessibility problems of the page as it is now (see [`A11yCheck::problems`]).
    pub async fn a11y_problems(&self) -> Result<Vec<String>> {
        self.a11y.problems(&self.client).await
    }

    /// Sets the browser window's size (e.g. 320 px wide: 1280 px at 400 % zoom).
    pub async fn set_width(&self, width: u32, height: u32) -> Result<()> {
        self.client.set_window_size(width, height).await?;
        Ok(())
    }

    /// How far the page scrolls sideways (document width beyond the viewport), in
    /// CSS px, and the widest elements that stick out, for the failure message.
    pub async fn sideways_overflow(&self) -> Result<(i64, String)> {
        sideways_overflow(&self.client).await
    }
}

/// How far the page in `client` scrolls sideways (document width beyond the
/// viewport), in CSS px, and the widest elements that stick out, for the failure
/// message (the station's and the registry's reflow checks).
pub async fn sideways_overflow(client: &Client) -> Result<(i64, String)> {
    let v = client
        .execute(
            r#"const w = document.documentElement.clientWidth;
               const over = document.documentElement.scrollWidth - w;
               const out = [...document.querySelectorAll('body *')]
                 .filter((e) => e.getBoundingClientRect().right > w + 1 && e.getClientRects().length)
                 .slice(0, 5).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                   (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') +
                   ' right=' + Math.round(e.getBoundingClientRect().right));
               return [over, out.join(', ')];"#,
            vec![],
        )
        .await?;
    // A result of another shape is a failed check, never "no overflow".
    let over = v
        .get(0)
        .and_then(|x| x.as_i64())
        .ok_or_else(|| format!("the overflow script returned {v:?}"))?;
    let what = v
        .get(1)
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_string();
    Ok((over, what))
}

/// axe-core's browser bundle: `$AXE_CORE_JS`, else
/// `target/axe-core/node_modules/axe-core/axe.min.js` (scripts/install-axe-core.sh puts
/// it there; scripts/install-test-deps.sh, .ci/run and scripts/test.sh call it).
pub fn axe_core_js() -> Result<PathBuf> {
    let path = match std::env::var_os("AXE_CORE_JS") {
        Some(p) => PathBuf::from(p),
        None => target_dir()?.join("axe-core/node_modules/axe-core/axe.min.js"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(err(format!(
            "{} is missing: run scripts/install-axe-core.sh (it installs axe-core from npm once; later runs need no network)",
            path.display()
        )))
    }
}

/// The accessibility check every browser test runs on every page it visits (the
/// station's UI in browser.rs, the registry's pages in registry_pages.rs): our own
/// basic checks and axe-core's rules, with axe-core's source read once at start.
pub struct A11yCheck {
    /// axe-core's browser bundle, injected into each page.
    axe: String,
}

impl A11yCheck {
    /// Reads axe-core's bundle ([`axe_core_js`]); missing is an error, never a skip.
    pub fn load() -> Result<Self> {
        Ok(Self {
            axe: std::fs::read_to_string(axe_core_js()?)?,
        })
    }

    /// The page in `client` as it is now: `lang` on the document, a label for every
    /// form control, `alt` on every image, an accessible name for every button and
    /// link, unique ids, no `null`/`undefined` printed where text belongs, then
    /// every axe-core violation. Returns one line per problem (empty: none).
    pub async fn problems(&self, client: &Client) -> Result<Vec<String>> {
        let v = client.execute(A11Y_SCRIPT, vec![]).await?;
        let list = v
            .as_array()
            .ok_or_else(|| err(format!("accessibility script returned {v}")))?;
        let mut problems: Vec<String> = list
            .iter()
            .map(|p| p.as_str().unwrap_or_default().to_string())
            .collect();
        problems.extend(self.axe_violations(client).await?);
        Ok(problems)
    }

    /// Runs axe-core's rules on the page as it is now; returns one line per
    /// violation (rule, impact, help, and the first offending elements).
    pub async fn axe_violations(&self, client: &Client) -> Result<Vec<String>> {
        // Through WebDriver, not a <script> element: the pages' CSP forbids inline
        // scripts, and a page must not need to be weakened for its test.
        let loaded = client
            .execute(
                &format!(
                    "if (!window.axe) {{ {}\n }} return typeof window.axe;",
                    self.axe
                ),
                vec![],
            )
            .await?;
        if loaded != serde_json::json!("object") {
            return Err(err(format!(
                "axe-core did not load into the page: {loaded}"
            )));
        }
        let v = client.execute_async(AXE_SCRIPT, vec![]).await?;
        let list = v
            .as_array()
            .ok_or_else(|| err(format!("axe-core returned {v}")))?;
        Ok(list
            .iter()
            .map(|p| p.as_str().unwrap_or_default().to_string())
            .collect())
    }
}

const AXE_SCRIPT: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ['violations'] }).then((r) => {
  done(r.violations.map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' — ' +
    v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' ' + n.failureSummary.replace(/\s+/g, ' ')).join(' | ')));
}, (e) => done(['axe-core failed: ' + e]));
"#;

const A11Y_SCRIPT: &str = r#"
const problems = [];
const lang = document.documentElement.getAttribute('lang');
if (!lang) problems.push('document has no lang');
const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
const short = (el) => el.outerHTML.slice(0, 140);
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.type === 'hidden') continue;
  const labelled = (el.labels && el.labels.length > 0 && [...el.labels].some(l => l.textContent.trim()))
    || (el.getAttribute('aria-label') || '').trim()
    || (el.getAttribute('aria-labelledby') && document.getElementById(el.getAttribute('aria-labelledby')));
  if (!labelled) problems.push('form control without a label: ' + short(el));
}
for (const img of document.querySelectorAll('img')) {
  if (!img.hasAttribute('alt')) problems.push('image without alt: ' + short(img));
}
for (const b of document.querySelectorAll('button, a[href], [role=button]')) {
  if (!visible(b)) continue;
  const name = (b.getAttribute('aria-label') || b.textContent || b.getAttribute('title') || '').trim();
  if (!name) problems.push('button or link without an accessible name: ' + short(b));
}
// Symbols are for the eye: a screen reader must not read "white square" for a state.
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  if (/[▣□⟳]/.test(n.textContent) && !n.parentElement.closest('[aria-hidden=true]')) {
    problems.push('symbol read aloud: ' + short(n.parentElement));
  }
}
// Rendering slips: a JS value printed instead of text.
const text = document.body.innerText;
for (const bad of ['null', 'undefined', '[object Object]', 'NaN']) {
  if (text.includes(bad)) problems.push('page shows the text ' + bad);
}
const seen = new Set();
for (const el of document.querySelectorAll('[id]')) {
  if (seen.has(el.id)) problems.push('duplicate id: ' + el.id);
  seen.add(el.id);
}
return problems;
"#;
