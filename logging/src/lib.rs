//! One logging setup for both programs (`--log-format`, docs/OPERATIONS.md "Logs").
//!
//! Under systemd the journal already stamps every line with the time, the unit and
//! the process, so the `journald` format writes none of that: each line starts with
//! its syslog priority (`<3>` error … `<7>` debug), which journald reads from a
//! service's standard error (`SyslogLevelPrefix=`, on by default), followed by the
//! module and the event's fields as `key=value`. `journalctl -u ecardd -p warning`
//! then filters by level. `json` is one object per line for a log collector.

use std::io::IsTerminal;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// How log lines are written to standard error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `journald` when standard error goes to the journal (systemd sets
    /// `JOURNAL_STREAM`), else `text`.
    Auto,
    /// Time, level, module and message, for a terminal.
    Text,
    /// Syslog priority prefix, module and fields; no time (the journal adds it).
    Journald,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// What `Auto` means in this process's environment.
    pub fn resolve(self, journal_stream: bool) -> LogFormat {
        match self {
            LogFormat::Auto if journal_stream => LogFormat::Journald,
            LogFormat::Auto => LogFormat::Text,
            other => other,
        }
    }
}

/// Installs the process's subscriber. `filter_var` names the variable holding the
/// filter (`ECARDD_LOG=info,ecardd::sync=debug`); `default_filter` applies without it.
pub fn init(format: LogFormat, filter_var: &str, default_filter: &str) {
    let filter =
        EnvFilter::try_from_env(filter_var).unwrap_or_else(|_| EnvFilter::new(default_filter));
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `try_init`: a second call (tests) keeps the first subscriber instead of panicking.
    let _ = match format.resolve(journal) {
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
        LogFormat::Journald => builder.with_ansi(false).event_format(Journald).try_init(),
        LogFormat::Text | LogFormat::Auto => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}

/// The syslog priority journald reads from the `<N>` line prefix.
pub fn syslog_priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// `<N>module: message key=value`, one line per event: a message spanning lines
/// would reach the journal as several entries, the later ones without a priority.
struct Journald;

impl<S, N> FormatEvent<S, N> for Journald
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let mut fields = String::new();
        ctx.field_format()
            .format_fields(Writer::new(&mut fields), event)?;
        writeln!(
            writer,
            "<{}>{}: {}",
            syslog_priority(meta.level()),
            meta.target(),
            one_line(&fields)
        )
    }
}

/// Line breaks inside an event become the two characters `\n`.
fn one_line(text: &str) -> String {
    text.replace('\r', "").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_means_journald_only_under_the_journal() {
        assert_eq!(LogFormat::Auto.resolve(true), LogFormat::Journald);
        assert_eq!(LogFormat::Auto.resolve(false), LogFormat::Text);
        assert_eq!(LogFormat::Json.resolve(true), LogFormat::Json);
        assert_eq!(LogFormat::Text.resolve(true), LogFormat::Text);
    }

    #[test]
    fn priorities_are_syslogs() {
        assert_eq!(syslog_priority(&Level::ERROR), 3);
        assert_eq!(syslog_priority(&Level::WARN), 4);
        assert_eq!(syslog_priority(&Level::INFO), 6);
        assert_eq!(syslog_priority(&Level::DEBUG), 7);
    }

    #[test]
    fn an_event_stays_on_one_line() {
        assert_eq!(one_line("a\nb\r\nc"), "a\\nb\\nc");
    }
}
