//! The dispatcher: claims due outbox messages, sends each on its channel (signed webhook,
//! e-mail through an SMTP relay, SMS through a provider), records every attempt, retries with
//! exponential backoff and makes a message a dead letter after the configured failures. It runs
//! in the server process (started by [`crate::Application`]) or on its own (`smaajob dispatch`),
//! never inside a request: a slow receiver holds up only the dispatcher.
//!
//! Delivery is at least once. A message is claimed for a lease longer than a send may take; a
//! dispatcher killed mid-send loses its claim when the lease runs out and the message is sent
//! again with the same id, which receivers deduplicate by.

use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::web;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use smaajob_domain::CompanyId;
use smaajob_domain::notification::{AfterFailure, Channel, RecipientKind, RetryPolicy};
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::outbox::{self, AttemptRow, Finish, OutboxRow};
use smaajob_persistence::repo::{citizens, companies, now, webhooks};
use smaajob_persistence::{DbPool, RepoError, write_transaction};

/// The header carrying a delivery's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "Smaajob-Signature";
/// The header carrying the stable message id receivers deduplicate by.
pub const MESSAGE_ID_HEADER: &str = "Smaajob-Message-Id";
/// The header carrying the event type.
pub const EVENT_TYPE_HEADER: &str = "Smaajob-Event-Type";

/// How the dispatcher runs, as configured.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// Run the dispatcher inside the server process.
    pub in_process: bool,
    /// How long to wait before looking again when nothing was due.
    pub poll_interval: Duration,
    /// Messages claimed at once (and sent concurrently).
    pub batch: i64,
    /// Retries, backoff and the dead-letter limit.
    pub retry: RetryPolicy,
    /// How long one send may take before it counts as failed.
    pub send_timeout: Duration,
    /// Where e-mail goes; without one, e-mail messages fail (and end as dead letters).
    pub smtp: Option<crate::mail::SmtpRelay>,
    /// Where SMS go.
    pub sms: crate::sms::SmsSettings,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings {
            in_process: true,
            poll_interval: Duration::from_secs(1),
            batch: 50,
            retry: RetryPolicy {
                max_attempts: 8,
                base_delay: Duration::from_secs(10),
                max_delay: Duration::from_secs(60 * 60),
            },
            send_timeout: Duration::from_secs(10),
            smtp: None,
            sms: crate::sms::SmsSettings::Log,
        }
    }
}

impl DispatchSettings {
    /// How long a claim holds: well past a send's time-out, so a live dispatcher finishes first.
    pub fn lease(&self) -> Duration {
        self.send_timeout.saturating_mul(3).max(Duration::from_secs(5))
    }
}

/// The signature header's value for a body sent at `timestamp` (Unix seconds): HMAC-SHA256, keyed
/// with the whole secret (`whsec_…`), over `"{timestamp}.{body}"`, in lowercase hex.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex(&mac(secret, timestamp, body)))
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a delivery's signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=…,v1=…`.
    #[error("the signature header cannot be read")]
    Malformed,
    /// The timestamp is further from now than the tolerance (a replay, or a clock far off).
    #[error("the signature's timestamp is too old or too far ahead")]
    Stale,
    /// No `v1` signature matches the body.
    #[error("no signature matches the body")]
    Mismatch,
}

/// The verification a receiver does (the README's example): read `t` and every `v1` from the
/// header, refuse a timestamp more than `tolerance` from `now` (Unix seconds), compute the
/// HMAC over `"{t}.{body}"` and compare it in constant time.
pub fn verify_signature(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
            Some(("v1", v)) => candidates.push(v.to_owned()),
            _ => {}
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if now.abs_diff(t) > tolerance.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let expected = hex(&mac(secret, t, body));
    let matches = candidates.iter().any(|c| {
        use subtle::ConstantTimeEq;
        c.len() == expected.len() && bool::from(c.as_bytes().ct_eq(expected.as_bytes()))
    });
    if matches { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// Where one message goes, read just before it is sent.
enum Target {
    Webhook {
        url: String,
        secret: String,
    },
    Email {
        to: String,
    },
    Sms {
        to: String,
    },
    /// The message cannot be sent (its subscription was deleted, the address is gone).
    Unsendable(String),
}

/// Sends and records; one per process (or per `smaajob dispatch`).
#[derive(Clone)]
pub struct Dispatcher {
    pool: DbPool,
    key: DataKey,
    settings: Rc<DispatchSettings>,
    client: awc::Client,
    sms: Rc<dyn crate::sms::SmsProvider>,
    mail: Option<Rc<crate::mail::Mailer>>,
}

impl Dispatcher {
    /// A dispatcher on the pool with these settings.
    pub fn new(pool: DbPool, key: DataKey, settings: DispatchSettings) -> Result<Dispatcher, String> {
        let client = awc::Client::builder().timeout(settings.send_timeout).disable_redirects().finish();
        let sms = crate::sms::provider(&settings.sms, settings.send_timeout);
        let mail = match &settings.smtp {
            Some(relay) => Some(Rc::new(crate::mail::Mailer::new(relay, settings.send_timeout)?)),
            None => None,
        };
        Ok(Dispatcher { pool, key, settings: Rc::new(settings), client, sms, mail })
    }

    /// Runs for as long as the runtime lives: sends what is due, waits when nothing is.
    pub async fn run(self) {
        loop {
            match self.tick().await {
                Ok(0) => actix_web::rt::time::sleep(self.settings.poll_interval).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the dispatcher could not claim messages");
                    actix_web::rt::time::sleep(self.settings.poll_interval).await;
                }
            }
        }
    }

    /// Claims one batch of due messages, sends them concurrently and records each attempt.
    /// Returns how many were claimed.
    pub async fn tick(&self) -> Result<usize, String> {
        let pool = self.pool.clone();
        let lease = chrono::Duration::from_std(self.settings.lease()).map_err(|e| e.to_string())?;
        let batch = self.settings.batch;
        let claimed = web::block(move || {
            let mut conn = pool.get().map_err(RepoError::from)?;
            let at = now();
            write_transaction(&mut conn, |conn| outbox::claim_due(conn, at, at + lease, batch))
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        let n = claimed.len();
        let sends: Vec<_> = claimed
            .into_iter()
            .map(|m| {
                let me = self.clone();
                actix_web::rt::spawn(async move { me.deliver(m).await })
            })
            .collect();
        for s in sends {
            if let Err(e) = s.await {
                tracing::warn!(error = %e, "a delivery task failed");
            }
        }
        Ok(n)
    }

    async fn deliver(&self, m: OutboxRow) {
        let started = Instant::now();
        let outcome = match self.target(&m).await {
            Ok(Target::Unsendable(why)) => Err(why),
            Ok(target) => self.send(&m, target).await,
            Err(e) => Err(format!("reading the recipient failed: {e}")),
        };
        let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        if let Err(e) = self.finish(m, outcome, elapsed).await {
            // The claim runs out and the message is sent again.
            tracing::warn!(error = %e, "recording a delivery attempt failed");
        }
    }

    async fn target(&self, m: &OutboxRow) -> Result<Target, String> {
        let pool = self.pool.clone();
        let key = self.key.clone();
        let (channel, kind, recipient, sub) =
            (m.channel, m.recipient_kind, m.recipient.clone(), m.subscription_id.clone());
        web::block(move || -> Result<Target, RepoError> {
            let mut conn = pool.get()?;
            let conn = &mut conn;
            Ok(match (channel, kind) {
                (Channel::Webhook, _) => {
                    let Some(id) = sub else {
                        return Ok(Target::Unsendable("a webhook message without a subscription".into()));
                    };
                    match webhooks::find(conn, &id) {
                        Ok(s) => {
                            Target::Webhook { secret: key.decrypt(id.as_str(), &s.secret_ciphertext)?, url: s.url }
                        }
                        Err(RepoError::NotFound) => Target::Unsendable("the subscription was deleted".into()),
                        Err(e) => return Err(e),
                    }
                }
                (Channel::Sms, RecipientKind::Citizen) => match citizens::find(conn, &recipient)?.0.phone {
                    Some(to) => Target::Sms { to },
                    None => Target::Unsendable("the citizen has no phone number any more".into()),
                },
                (Channel::Email, RecipientKind::Company) => match CompanyId::parse(&recipient) {
                    Ok(id) => match companies::find(conn, &id)?.contact_email {
                        Some(to) => Target::Email { to },
                        None => Target::Unsendable("the company has no contact e-mail any more".into()),
                    },
                    Err(_) => Target::Unsendable(format!("the recipient {recipient:?} is not a company id")),
                },
                (channel, kind) => {
                    Target::Unsendable(format!("no {} channel for a {}", channel.as_str(), kind.as_str()))
                }
            })
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
    }

    async fn send(&self, m: &OutboxRow, target: Target) -> Result<(), String> {
        match target {
            Target::Webhook { url, secret } => {
                let body = m.payload.clone().into_bytes();
                let t = chrono::Utc::now().timestamp();
                let response = self
                    .client
                    .post(&url)
                    .insert_header(("Content-Type", "application/json"))
                    .insert_header((MESSAGE_ID_HEADER, m.id.as_str()))
                    .insert_header((EVENT_TYPE_HEADER, m.event_type.as_str()))
                    .insert_header((SIGNATURE_HEADER, signature(&secret, t, &body)))
                    .send_body(body)
                    .await
                    .map_err(|e| format!("POST failed: {e}"))?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("the receiver answered {}", response.status().as_u16()))
                }
            }
            Target::Sms { to } => self.sms.send(&to, &m.text).await,
            Target::Email { to } => match &self.mail {
                Some(mail) => mail.send(&to, m).await,
                None => Err("no SMTP relay is configured".into()),
            },
            Target::Unsendable(why) => Err(why),
        }
    }

    async fn finish(&self, m: OutboxRow, outcome: Result<(), String>, duration_ms: i64) -> Result<(), String> {
        let at = now();
        let attempt = AttemptRow {
            message_id: m.id.clone(),
            attempt: m.attempts + 1,
            at,
            succeeded: outcome.is_ok(),
            error: outcome.as_ref().err().map(|e| e.chars().take(500).collect()),
            duration_ms,
        };
        let next = match &outcome {
            Ok(()) => Finish::Delivered,
            Err(_) => match self.settings.retry.after_failure(u32::try_from(m.failures + 1).unwrap_or(u32::MAX)) {
                AfterFailure::RetryIn(d) => {
                    Finish::RetryAt(at + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX))
                }
                AfterFailure::Dead => Finish::Dead,
            },
        };
        if let Err(e) = &outcome {
            tracing::info!(message = %m.id, channel = m.channel.as_str(), attempt = attempt.attempt, error = %e, dead = matches!(next, Finish::Dead), "delivery failed");
        }
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get().map_err(RepoError::from)?;
            write_transaction(&mut conn, |conn| outbox::finish(conn, &m, &attempt, &next))
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const SECRET: &str = "whsec_dGVzdC1zZWNyZXQ";

    #[test]
    fn a_signed_body_verifies_with_its_secret_within_the_tolerance() {
        let body = br#"{"id":"x"}"#;
        let header = signature(SECRET, 1_700_000_000, body);
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(verify_signature(SECRET, &header, body, 1_700_000_100, Duration::from_secs(300)), Ok(()));
    }

    #[test]
    fn an_old_timestamp_is_refused_by_the_example_verifier() {
        let body = br#"{"id":"x"}"#;
        let header = signature(SECRET, 1_700_000_000, body);
        assert_eq!(
            verify_signature(SECRET, &header, body, 1_700_000_000 + 301, Duration::from_secs(300)),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn another_body_another_secret_or_a_moved_timestamp_does_not_verify() {
        let body = br#"{"id":"x"}"#;
        let header = signature(SECRET, 1_700_000_000, body);
        let five_min = Duration::from_secs(300);
        assert_eq!(verify_signature(SECRET, &header, b"{}", 1_700_000_000, five_min), Err(SignatureError::Mismatch));
        assert_eq!(
            verify_signature("whsec_other", &header, body, 1_700_000_000, five_min),
            Err(SignatureError::Mismatch)
        );
        let moved = header.replace("t=1700000000", "t=1700000001");
        assert_eq!(verify_signature(SECRET, &moved, body, 1_700_000_000, five_min), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(SECRET, "v1=abc", body, 1_700_000_000, five_min), Err(SignatureError::Malformed));
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body_in_hex() {
        // Computed independently: printf '1.{}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            signature("key", 1, b"{}"),
            "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }
}
