//! Structured logging. Request ids come from `tracing-actix-web`; request bodies are never
//! logged. A CPR number must never reach a log line, wherever a request carried it: the
//! request's target, host, client address and user agent are redacted before they go into the
//! request's span, error details likewise, and every line is passed through [`redact_cpr`] once
//! more on its way to stderr, so a CPR-shaped number that slips into any other message is
//! masked too. URLs carrying a CPR are refused outright (see [`contains_cpr`]).

use std::borrow::Cow;
use std::io::Write;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage, ResponseError};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// What a CPR-shaped number is replaced with in logs and error details.
pub const CPR_MASK: &str = "[CPR]";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber (once per process; later calls are ignored).
/// `RUST_LOG` overrides the default filter `info`.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // One line per request when its span closes: method, route, status, request id, duration.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        // Colour codes only for a person watching a terminal, never into a file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(|| RedactingWriter(std::io::stderr()));
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Writes each formatted log line with CPR-shaped numbers masked. The formatter hands over one
/// whole event per `write`, so a number is never split between two calls.
struct RedactingWriter<W>(W);

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact_cpr(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Digit(u8),
    Dash,
    Alphanumeric,
    Other,
}

/// The text as units: a character, or a `%XX` escape read as the byte it stands for, so a
/// percent-encoded CPR in a URL is found as well.
fn units(s: &str) -> Vec<(usize, usize, Unit)> {
    let bytes = s.as_bytes();
    let classify = |b: u8| match b {
        b'0'..=b'9' => Unit::Digit(b),
        b'-' => Unit::Dash,
        b if b.is_ascii_alphanumeric() => Unit::Alphanumeric,
        _ => Unit::Other,
    };
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) =
                (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b)))
        {
            // Both are hex digits, so the value fits a byte.
            out.push((i, i + 3, classify(u8::try_from(hi * 16 + lo).unwrap_or(0))));
            i += 3;
            continue;
        }
        let len = s[i..].chars().next().map_or(1, char::len_utf8);
        let unit = if len == 1 { classify(bytes[i]) } else { Unit::Other };
        out.push((i, i + len, unit));
        i += len;
    }
    out
}

/// Byte ranges of CPR-shaped numbers: `DDMMYY-SSSS` or ten digits in a row that form a possible
/// CPR number (a real birth date for the century the serial gives), not joined to other letters
/// or digits. That boundary keeps UUIDs, whose hex groups are 4, 8 or 12 long, from matching.
fn cpr_ranges(s: &str) -> Vec<(usize, usize)> {
    let units = units(s);
    let joins = |k: usize| matches!(units.get(k).map(|u| u.2), Some(Unit::Digit(_) | Unit::Alphanumeric));
    let digits_at = |from: usize, n: usize| -> Option<String> {
        (from..from + n)
            .map(|k| match units.get(k).map(|u| u.2) {
                Some(Unit::Digit(d)) => Some(char::from(d)),
                _ => None,
            })
            .collect()
    };
    let mut ranges = Vec::new();
    let mut k = 0;
    while k < units.len() {
        let starts_here = matches!(units[k].2, Unit::Digit(_)) && (k == 0 || !joins(k - 1));
        if starts_here && let Some(date) = digits_at(k, 6) {
            let dashed = (units.get(k + 6).map(|u| u.2) == Some(Unit::Dash))
                .then(|| digits_at(k + 7, 4).map(|serial| (serial, k + 11)))
                .flatten();
            let plain = || digits_at(k + 6, 4).map(|serial| (serial, k + 10));
            if let Some((serial, end)) = dashed.or_else(plain)
                && !joins(end)
                && smaajob_domain::Cpr::parse(&format!("{date}{serial}")).is_ok()
            {
                ranges.push((units[k].0, units[end - 1].1));
                k = end;
                continue;
            }
        }
        k += 1;
    }
    ranges
}

/// Whether the text holds something shaped like a CPR number (see [`redact_cpr`]).
pub fn contains_cpr(s: &str) -> bool {
    !cpr_ranges(s).is_empty()
}

/// The text with every CPR-shaped number replaced by [`CPR_MASK`]: `DDMMYY-SSSS` or ten digits
/// in a row forming a possible CPR number, also when percent-encoded.
pub fn redact_cpr(s: &str) -> Cow<'_, str> {
    let ranges = cpr_ranges(s);
    if ranges.is_empty() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (start, end) in ranges {
        out.push_str(&s[last..start]);
        out.push_str(CPR_MASK);
        last = end;
    }
    out.push_str(&s[last..]);
    Cow::Owned(out)
}

/// The request span of `tracing-actix-web`, with every value taken from the request redacted.
pub struct RedactingRootSpan;

impl RootSpanBuilder for RedactingRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let header = |name: &str| request.headers().get(name).and_then(|h| h.to_str().ok()).unwrap_or("").to_owned();
        let target = request.uri().path_and_query().map_or("", |p| p.as_str()).to_owned();
        let info = request.connection_info().clone();
        let request_id = request.extensions().get::<RequestId>().map(ToString::to_string).unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            // Filled in at the end: before routing, `match_pattern` walks every route's pattern
            // (a regex per path with parameters); after it, the matched route is looked up.
            http.route = Empty,
            http.host = %redact_cpr(info.host()),
            http.client_ip = %redact_cpr(info.realip_remote_addr().unwrap_or("")),
            http.user_agent = %redact_cpr(&header("User-Agent")),
            http.target = %redact_cpr(&target),
            http.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, error) = match outcome {
            Ok(response) => (response.status(), response.response().error().map(Error::as_response_error)),
            Err(error) => (error.as_response_error().status_code(), Some(error.as_response_error())),
        };
        span.record("http.status_code", status.as_u16());
        let route = outcome.as_ref().ok().and_then(|response| response.request().match_pattern());
        span.record("http.route", tracing::field::display(route.as_deref().unwrap_or("default")));
        if let Some(error) = error.map(|e: &dyn ResponseError| (e.to_string(), format!("{e:?}"))) {
            span.record("exception.message", tracing::field::display(redact_cpr(&error.0)));
            span.record("exception.details", tracing::field::display(redact_cpr(&error.1)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpr_shaped_numbers_are_masked_with_or_without_the_dash_and_when_percent_encoded() {
        assert_eq!(redact_cpr("/api/v1/citizens/230190-1234"), "/api/v1/citizens/[CPR]");
        assert_eq!(redact_cpr("/x?frikort=2201901234&y=1"), "/x?frikort=[CPR]&y=1");
        assert_eq!(redact_cpr("unknown field `0101901234`, expected"), "unknown field `[CPR]`, expected");
        assert_eq!(redact_cpr("/c/%32%33%30%31%39%30%2D1234"), "/c/[CPR]");
        assert_eq!(redact_cpr("a 010190-1234 and 0202902345."), "a [CPR] and [CPR].");
        assert_eq!(redact_cpr("\"cpr\":\"150791-2637\""), "\"cpr\":\"[CPR]\"");
    }

    #[test]
    fn numbers_that_cannot_be_a_cpr_and_uuids_are_left_alone() {
        for s in [
            "no digits",
            "3201901234",  // day 32
            "0113901234",  // month 13
            "290223-1234", // 29 February 1923 did not exist
            "12345678901", // eleven digits
            "x0101901234", // joined to a letter
            "0101901234x",
            "67e55044-10b1-426f-9247-010190123456", // a UUID's last group
            "01019012-34",
            "elapsed_milliseconds=1234",
        ] {
            assert_eq!(redact_cpr(s), s, "{s}");
            assert!(!contains_cpr(s), "{s}");
        }
        assert!(contains_cpr("/citizens/010190-1234"));
    }
}
