//! Printing a card face (issue #16): hand a PDF to a CUPS queue and report the CUPS
//! job id, or a clear error, within a deadline; list the queues CUPS offers.
//!
//! Why the CUPS command-line client (`lp`, `lpstat` from `cups-client`) and not an
//! IPP crate: the card printers' drivers (Evolis, Zebra, Fargo) are CUPS drivers, so
//! CUPS is on every station that prints anyway, and `lp` speaks to it exactly as an
//! administrator's own test print does — same server lookup (`-h`, or
//! `/etc/cups/client.conf`), same authentication, same PPD options. The Rust IPP
//! crates are young and would add an HTTP stack to the daemon for one request. The
//! price is parsing `lp`'s one-line answer, which is why the programs run under
//! `LC_ALL=C` and every way they can fail is mapped below.
//!
//! Nothing here knows about certificates or cards: bytes in, a job id out.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use thiserror::Error;

/// How long one `lp`/`lpstat` may take. Submitting a job only spools it; CUPS
/// answers at once when it is up, so this bounds a hung server, not the printing.
pub const DEFAULT_PRINT_DEADLINE: Duration = Duration::from_secs(20);

/// The PDF is a card face: ask the driver for the CR80 size (85.6 × 54 mm). Card
/// printer drivers map this custom size onto their own card size; cups-pdf keeps it.
pub const CARD_PAGE_SIZE: &str = "PageSize=Custom.85.6x54mm";

/// A face is at most a few hundred kilobytes (photo included); refuse anything
/// larger rather than spool it.
const MAX_PDF: usize = 8 * 1024 * 1024;

/// Longest answer read from `lp`/`lpstat` (a long queue list is a few kilobytes).
const MAX_OUTPUT: u64 = 256 * 1024;

/// Where to print: the CUPS server (`None`: the client's default, i.e.
/// `CUPS_SERVER`, `/etc/cups/client.conf`, then the local socket) and the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintTarget {
    pub server: Option<String>,
    pub queue: String,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PrintError {
    #[error("no printer queue is chosen")]
    NoQueueChosen,
    #[error("queue name {0:?} is not a CUPS queue name")]
    BadQueueName(String),
    #[error("the CUPS client (lp/lpstat) is not installed: {0}")]
    ClientMissing(String),
    #[error("the CUPS server cannot be reached: {0}")]
    ServerUnreachable(String),
    #[error("queue {0} does not exist")]
    UnknownQueue(String),
    #[error("queue {0} does not accept jobs")]
    QueueNotAccepting(String),
    #[error("CUPS refused the job: {0}")]
    Refused(String),
    #[error("no answer from CUPS within {0:?}")]
    Timeout(Duration),
    #[error("the document is too large to print ({0} bytes)")]
    TooLarge(usize),
    #[error("reader {0} is not paired with a card printer")]
    ReaderNotPaired(String),
}

impl PrintError {
    /// A stable code (API `code`, job `error` column).
    pub fn code(&self) -> &'static str {
        match self {
            PrintError::NoQueueChosen => "print_no_queue",
            PrintError::BadQueueName(_) => "print_bad_queue_name",
            PrintError::ClientMissing(_) => "print_client_missing",
            PrintError::ServerUnreachable(_) => "print_server_unreachable",
            PrintError::UnknownQueue(_) => "print_unknown_queue",
            PrintError::QueueNotAccepting(_) => "print_queue_not_accepting",
            PrintError::Refused(_) => "print_refused",
            PrintError::Timeout(_) => "print_timeout",
            PrintError::TooLarge(_) => "print_too_large",
            PrintError::ReaderNotPaired(_) => "reader_not_paired",
        }
    }

    /// What the user reads.
    pub fn message_zh(&self) -> String {
        match self {
            PrintError::NoQueueChosen => {
                "尚未选择制证打印机（请管理员在「设置」中选择打印队列）".into()
            }
            PrintError::BadQueueName(q) => format!("「{q}」不是有效的打印队列名称"),
            PrintError::ClientMissing(_) => {
                "本机未安装 CUPS 打印客户端（请安装 cups-client）".into()
            }
            PrintError::ServerUnreachable(_) => {
                "无法连接打印服务（CUPS），请检查打印服务是否运行".into()
            }
            PrintError::UnknownQueue(q) => {
                format!("打印队列「{q}」不存在（请管理员在「设置」中重新选择）")
            }
            PrintError::QueueNotAccepting(q) => {
                format!("打印队列「{q}」已停用，不接受打印任务")
            }
            PrintError::Refused(_) => "打印服务拒绝了打印任务".into(),
            PrintError::Timeout(_) => "打印服务无响应，打印未确认".into(),
            PrintError::TooLarge(_) => "卡面文件过大，未打印".into(),
            PrintError::ReaderNotPaired(r) => {
                format!("读卡器「{r}」未与制证打印机配对（请管理员在「设置」中配对）")
            }
        }
    }
}

/// A CUPS queue name as CUPS accepts it (`lpadmin -p`): 1–127 printable characters,
/// no space, `/`, `#`, `\`, quotes; and not starting with `-`, so that it can never
/// be read as an option by the client.
pub fn valid_queue_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 127
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '/' | '#' | '\\' | '\'' | '"'))
}

/// A server address for `-h`: `host[:port]` or an absolute socket path.
fn valid_server(server: &str) -> bool {
    !server.is_empty()
        && server.len() <= 255
        && !server.starts_with('-')
        && server.chars().all(|c| c.is_ascii_graphic())
}

/// Hands `pdf` to the queue; returns the CUPS job id (`queue-N`) once CUPS has
/// accepted it. `title` names the job in the printer's queue.
pub fn print_pdf(
    target: &PrintTarget,
    title: &str,
    pdf: &[u8],
    deadline: Duration,
) -> Result<String, PrintError> {
    if !valid_queue_name(&target.queue) {
        return Err(PrintError::BadQueueName(target.queue.clone()));
    }
    if pdf.len() > MAX_PDF {
        return Err(PrintError::TooLarge(pdf.len()));
    }
    let title: String = title
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let mut cmd = client("lp", target.server.as_deref())?;
    cmd.args([
        "-d",
        &target.queue,
        "-t",
        &title,
        "-o",
        CARD_PAGE_SIZE,
        "--",
        "-",
    ]);
    let started = Instant::now();
    let out = run(cmd, Some(pdf), deadline)?;
    if !out.success {
        let err = classify(&out.stderr, &target.queue);
        // lp says "printer or class does not exist" for an unreachable server too.
        if matches!(err, PrintError::UnknownQueue(_)) {
            let left = deadline.saturating_sub(started.elapsed());
            scheduler_running(target.server.as_deref(), left)?;
        }
        return Err(err);
    }
    job_id_of(&out.stdout).ok_or_else(|| PrintError::Refused(out.stdout.trim().to_owned()))
}

/// The queues the CUPS server offers (`lpstat -e`), sorted.
pub fn list_queues(server: Option<&str>, deadline: Duration) -> Result<Vec<String>, PrintError> {
    let started = Instant::now();
    // lpstat lists nothing, successfully, when the server is unreachable: ask first.
    scheduler_running(server, deadline)?;
    let mut cmd = client("lpstat", server)?;
    cmd.arg("-e");
    let out = run(cmd, None, deadline.saturating_sub(started.elapsed()))?;
    if !out.success {
        // No queue at all is "lpstat: No destinations added." with status 1.
        if out.stderr.contains("No destinations") {
            return Ok(Vec::new());
        }
        return Err(classify(&out.stderr, ""));
    }
    let mut queues: Vec<String> = out
        .stdout
        .lines()
        .map(str::trim)
        .filter(|q| valid_queue_name(q))
        .map(str::to_owned)
        .collect();
    queues.sort();
    queues.dedup();
    Ok(queues)
}

/// `lpstat -r`: "scheduler is running" or "scheduler is not running" (which is
/// also what an unreachable address gets).
fn scheduler_running(server: Option<&str>, deadline: Duration) -> Result<(), PrintError> {
    let mut cmd = client("lpstat", server)?;
    cmd.arg("-r");
    let out = run(cmd, None, deadline)?;
    if out.stdout.trim() == "scheduler is running" {
        Ok(())
    } else {
        Err(PrintError::ServerUnreachable(format!(
            "{} {}",
            out.stdout.trim(),
            out.stderr.trim()
        )))
    }
}

/// `lp` says `request id is QUEUE-N (1 file(s))`.
fn job_id_of(stdout: &str) -> Option<String> {
    let rest = stdout.trim().strip_prefix("request id is ")?;
    let id = rest.split_whitespace().next()?;
    (!id.is_empty()).then(|| id.to_owned())
}

/// The client's error line to a typed error (under `LC_ALL=C`, see `client`).
fn classify(stderr: &str, queue: &str) -> PrintError {
    let text = stderr.trim().to_owned();
    let lower = text.to_ascii_lowercase();
    if lower.contains("does not exist") || lower.contains("not found") {
        PrintError::UnknownQueue(queue.to_owned())
    } else if lower.contains("not accepting") {
        PrintError::QueueNotAccepting(queue.to_owned())
    } else if lower.contains("unable to connect")
        || lower.contains("connection refused")
        || lower.contains("no such file or directory")
        || lower.contains("scheduler is not running")
        || lower.contains("bad file descriptor")
    {
        PrintError::ServerUnreachable(text)
    } else {
        PrintError::Refused(text)
    }
}

fn client(program: &str, server: Option<&str>) -> Result<Command, PrintError> {
    let mut cmd = Command::new(program);
    // Messages in English whatever the station's locale: they are parsed above.
    cmd.env("LC_ALL", "C").env("LANG", "C");
    if let Some(server) = server {
        if !valid_server(server) {
            return Err(PrintError::ServerUnreachable(format!(
                "bad server address {server:?}"
            )));
        }
        cmd.args(["-h", server]);
    }
    Ok(cmd)
}

struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Runs the client with `input` on its stdin; kills it at the deadline.
fn run(mut cmd: Command, input: Option<&[u8]>, deadline: Duration) -> Result<Output, PrintError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            PrintError::ClientMissing(program.clone())
        } else {
            PrintError::Refused(format!("{program}: {e}"))
        }
    })?;
    // Readers of stdout/stderr on their own threads, so that a chatty client never
    // blocks on a full pipe while we write its input or wait.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        let bytes = bytes.to_vec();
        // Written from a thread: a server that does not read must not hang us past
        // the deadline (the kill below closes the pipe).
        std::thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
        });
    }
    let status = wait_until(&mut child, Instant::now() + deadline);
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(PrintError::Timeout(deadline));
    };
    Ok(Output {
        success: status.success(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(pipe) = pipe {
            let mut buf = Vec::new();
            let _ = pipe.take(MAX_OUTPUT).read_to_end(&mut buf);
            text = String::from_utf8_lossy(&buf).into_owned();
        }
        text
    })
}

fn wait_until(child: &mut Child, until: Instant) -> Option<std::process::ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() >= until => return None,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names() {
        assert!(valid_queue_name("Evolis_Primacy_2"));
        assert!(valid_queue_name("ecard-test"));
        assert!(!valid_queue_name(""));
        assert!(!valid_queue_name("-d"));
        assert!(!valid_queue_name("a b"));
        assert!(!valid_queue_name("a/b"));
        assert!(!valid_queue_name(&"x".repeat(128)));
    }

    #[test]
    fn lp_answers() {
        assert_eq!(
            job_id_of("request id is ecard-test-12 (1 file(s))\n").as_deref(),
            Some("ecard-test-12")
        );
        assert_eq!(job_id_of("something else"), None);
        assert_eq!(
            classify("lp: The printer or class does not exist.", "q"),
            PrintError::UnknownQueue("q".into())
        );
        assert!(matches!(
            classify("lp: Unable to connect to server: Connection refused", "q"),
            PrintError::ServerUnreachable(_)
        ));
        assert!(matches!(
            classify("lp: Destination \"q\" is not accepting jobs.", "q"),
            PrintError::QueueNotAccepting(_)
        ));
    }

    #[test]
    fn a_missing_server_is_a_clear_error_not_a_hang() {
        // A socket path nothing listens on: lp fails at once (when lp is installed).
        let target = PrintTarget {
            server: Some("/nonexistent/ecard-cups.sock".into()),
            queue: "q".into(),
        };
        match print_pdf(&target, "t", b"%PDF-1.4", Duration::from_secs(10)) {
            Err(PrintError::ServerUnreachable(_)) | Err(PrintError::ClientMissing(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}
