//! A real `cupsd` of the test's own, with one `cups-pdf` queue whose output lands in
//! a temporary directory (docs/CARD-FACE.md "Printing"): the station prints to it
//! through `lp` exactly as to a card printer, and the test reads back the PDF that
//! came out.
//!
//! - Its own ServerRoot, spool, cache, state and logs in a temp dir; it listens only
//!   on a Unix socket in that dir (no TCP port, so it cannot clash with a system
//!   cupsd or another test's).
//! - cups-pdf reads its settings from `/etc/cups/cups-pdf-<queue>.conf` (the
//!   directory is compiled into the backend); that file sets `Out` to the temp dir.
//!   The queue name carries the process id, and the file is removed when the server
//!   is dropped.
//! - cupsd runs under a shell watchdog that stops it when the test process is gone
//!   (even killed with SIGKILL), and dropping the server stops both.
//! - cupsd must run as root here: the cups-pdf backend is mode 0700 (CUPS runs such
//!   backends as root).
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CUPSD: &str = "/usr/sbin/cupsd";
pub const CUPS_PDF_BACKEND: &str = "/usr/lib/cups/backend/cups-pdf";
pub const CUPS_PDF_PPD: &str = "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd";

/// A running cupsd with one cups-pdf queue.
pub struct CupsServer {
    dir: tempfile::TempDir,
    watchdog: Option<Child>,
    queue: String,
    queue_conf: PathBuf,
}

/// Why the test cannot have a cupsd here (it then prints this and skips).
pub fn unavailable() -> Option<String> {
    for (path, package) in [
        (CUPSD, "cups"),
        ("/usr/bin/lp", "cups-client"),
        ("/usr/sbin/lpadmin", "cups-client"),
        (CUPS_PDF_BACKEND, "printer-driver-cups-pdf"),
        (CUPS_PDF_PPD, "printer-driver-cups-pdf"),
    ] {
        if !Path::new(path).exists() {
            return Some(format!(
                "{path} is missing (install {package}; scripts/install-test-deps.sh does)"
            ));
        }
    }
    None
}

impl CupsServer {
    /// Starts cupsd and adds the queue; `None` (with the reason printed) when cupsd
    /// or cups-pdf is not installed.
    pub fn start() -> Option<Self> {
        if let Some(why) = unavailable() {
            eprintln!("skipped: no cupsd for the printing test: {why}");
            return None;
        }
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let queue = format!("ecard-test-{}-{n}", std::process::id());
        // Short path: the socket's must fit in sun_path (108 bytes).
        let dir = tempfile::Builder::new()
            .prefix("ecups")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let p = |s: &str| dir.path().join(s);
        for d in ["conf", "spool", "cache", "state", "log", "tmp", "out"] {
            std::fs::create_dir_all(p(d)).expect("mkdir");
        }
        // Filters run as the unprivileged `lp` user and write temporary files here.
        set_mode(&p("tmp"), 0o1777);
        set_mode(&p("spool"), 0o755);
        let socket = p("cups.sock");
        std::fs::write(
            p("conf/cupsd.conf"),
            format!(
                "Listen {}\nLogLevel debug\nBrowsing No\nDefaultAuthType None\n\
                 <Location />\n  Order allow,deny\n  Allow all\n</Location>\n\
                 <Location /admin>\n  Order allow,deny\n  Allow all\n</Location>\n\
                 <Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n",
                socket.display()
            ),
        )
        .expect("cupsd.conf");
        std::fs::write(
            p("conf/cups-files.conf"),
            format!(
                "ServerRoot {root}/conf\nRequestRoot {root}/spool\nCacheDir {root}/cache\n\
                 StateDir {root}/state\nTempDir {root}/tmp\nServerBin /usr/lib/cups\n\
                 DataDir /usr/share/cups\nAccessLog {root}/log/access_log\n\
                 ErrorLog {root}/log/error_log\nPageLog {root}/log/page_log\n\
                 Sandboxing relaxed\nSystemGroup root\nFileDevice No\n",
                root = dir.path().display()
            ),
        )
        .expect("cups-files.conf");
        // The watchdog: cupsd in the foreground, stopped when this process is gone
        // or when the shell is told to stop (Drop).
        let script = format!(
            "{CUPSD} -f -c {root}/conf/cupsd.conf -s {root}/conf/cups-files.conf \
               >{root}/log/cupsd.out 2>&1 & c=$!\n\
             trap 'kill $c 2>/dev/null; wait $c; exit 0' TERM INT\n\
             while kill -0 {parent} 2>/dev/null && kill -0 $c 2>/dev/null; do sleep 0.5; done\n\
             kill $c 2>/dev/null; wait $c\n",
            root = dir.path().display(),
            parent = std::process::id()
        );
        let watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .spawn()
            .expect("start cupsd");
        let queue_conf = PathBuf::from(format!("/etc/cups/cups-pdf-{queue}.conf"));
        let server = CupsServer {
            dir,
            watchdog: Some(watchdog),
            queue,
            queue_conf,
        };
        server.wait_running();
        std::fs::write(
            &server.queue_conf,
            format!("Out {}\nLabel 0\n", server.out_dir().display()),
        )
        .expect("write /etc/cups/cups-pdf-<queue>.conf (needs root)");
        let out = Command::new("lpadmin")
            .args(["-h", &server.address(), "-p", &server.queue, "-E"])
            .arg("-v")
            .arg(format!("cups-pdf:/{}", server.queue))
            .args(["-P", CUPS_PDF_PPD])
            // pdftocairo keeps the text as text (the default renderer turns the
            // embedded CJK subset into Type 3 glyphs without Unicode).
            .args(["-o", "pdftops-renderer-default=pdftocairo"])
            .output()
            .expect("lpadmin");
        assert!(
            out.status.success(),
            "lpadmin: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(server)
    }

    /// What `lp -h` takes: the socket path.
    pub fn address(&self) -> String {
        self.dir.path().join("cups.sock").display().to_string()
    }

    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// Where cups-pdf writes what was printed.
    pub fn out_dir(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/error_log")).unwrap_or_default()
    }

    fn wait_running(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = Command::new("lpstat")
                .args(["-h", &self.address(), "-r"])
                .env("LC_ALL", "C")
                .output()
                .expect("lpstat");
            if String::from_utf8_lossy(&out.stdout).trim() == "scheduler is running" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "cupsd did not start: {}",
                std::fs::read_to_string(self.dir.path().join("log/cupsd.out")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the queue has no job pending and `count` PDFs came out; returns
    /// them, oldest first (by CUPS job number).
    pub fn wait_printed(&self, count: usize, within: Duration) -> Vec<PathBuf> {
        let deadline = Instant::now() + within;
        loop {
            let pending = Command::new("lpstat")
                .args(["-h", &self.address(), "-o", &self.queue])
                .env("LC_ALL", "C")
                .output()
                .expect("lpstat");
            let files = self.printed();
            if pending.stdout.is_empty() && files.len() >= count {
                return files;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} faces came out; pending: {}\nerror_log tail: {}",
                files.len(),
                String::from_utf8_lossy(&pending.stdout),
                tail(&self.error_log(), 40)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The PDFs cups-pdf wrote so far, by CUPS job number.
    pub fn printed(&self) -> Vec<PathBuf> {
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(self.out_dir())
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
                    .map(|p| (job_number(&p), p))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files.into_iter().map(|(_, p)| p).collect()
    }
}

/// cups-pdf names its output `<title>-job_<N>.pdf`.
fn job_number(path: &Path) -> u64 {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.rsplit("job_").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

impl Drop for CupsServer {
    fn drop(&mut self) {
        if let Some(mut w) = self.watchdog.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &w.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = w.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = w.kill();
            let _ = w.wait();
        }
        let _ = std::fs::remove_file(&self.queue_conf);
    }
}

/// Reads a printed PDF back with programs that are not ours.
pub mod read_back {
    use std::path::Path;
    use std::process::Command;

    /// `pdfinfo`: pages and the first page's size in points as displayed (the page
    /// rotation applied).
    pub fn pages_and_size(pdf: &Path) -> (usize, f64, f64) {
        let out = Command::new("pdfinfo")
            .arg(pdf)
            .output()
            .expect("pdfinfo (poppler-utils)");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .unwrap_or_default()
                .to_owned()
        };
        let pages = field("Pages:").parse().expect("pages");
        let size = field("Page size:");
        let mut nums = size
            .split_whitespace()
            .filter_map(|w| w.parse::<f64>().ok());
        let (w, h) = (nums.next().expect("width"), nums.next().expect("height"));
        let rot: u32 = field("Page rot:").parse().unwrap_or(0);
        if rot % 180 == 90 {
            (pages, h, w)
        } else {
            (pages, w, h)
        }
    }

    /// `pdftotext`, whitespace removed (re-rendered text comes out in pieces).
    pub fn text(pdf: &Path) -> String {
        let out = Command::new("pdftotext")
            .arg(pdf)
            .arg("-")
            .output()
            .expect("pdftotext (poppler-utils)");
        String::from_utf8_lossy(&out.stdout)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    }

    /// The QR code of page `page`, rendered at 600 dpi by `pdftoppm` and decoded by
    /// `zbarimg`: how every test reads a printed face back (the card face's, the
    /// demo's, the printer's output).
    pub fn qr(pdf: &Path, page: u32) -> Option<String> {
        let dir = tempfile::tempdir().expect("tempdir");
        qr_in_png(&render_page(pdf, page, &dir.path().join("page")))
    }

    /// Page `page` of `pdf` as a 600 dpi grey PNG at `<stem>.png` (what a phone's
    /// photo of the card would show); its path.
    pub fn render_page(pdf: &Path, page: u32, stem: &Path) -> std::path::PathBuf {
        let p = page.to_string();
        let ok = Command::new("pdftoppm")
            .args([
                "-f",
                &p,
                "-l",
                &p,
                "-r",
                "600",
                "-gray",
                "-png",
                "-singlefile",
            ])
            .arg(pdf)
            .arg(stem)
            .status()
            .expect("pdftoppm (poppler-utils)");
        assert!(ok.success(), "pdftoppm failed");
        std::path::PathBuf::from(format!("{}.png", stem.display()))
    }

    /// The QR code zbarimg reads in `png`, or `None` when it finds none.
    pub fn qr_in_png(png: &Path) -> Option<String> {
        let out = Command::new("zbarimg")
            .args(["--quiet", "--raw"])
            .arg(png)
            .output()
            .expect("zbarimg (zbar-tools)");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    }
}
