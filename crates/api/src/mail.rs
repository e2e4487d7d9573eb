//! E-mail notices through an SMTP relay (lettre, on tokio). Plain SMTP without TLS: the relay is
//! local (on the machine or in the cluster) and forwards with TLS itself.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use smaajob_persistence::repo::outbox::OutboxRow;

/// The relay, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpRelay {
    /// Host name or address of the relay.
    pub host: String,
    /// Its port (25 or 587 for a relay; anything in tests).
    pub port: u16,
    /// The sender, e.g. `Småjob <noreply@example.dk>`.
    pub from: String,
}

/// Sends e-mail notices through the relay.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for the relay; fails when the sender is not an address.
    pub fn new(relay: &SmtpRelay, timeout: Duration) -> Result<Mailer, String> {
        let from: Mailbox = relay.from.parse().map_err(|e| format!("the e-mail sender `{}`: {e}", relay.from))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&relay.host)
            .port(relay.port)
            .timeout(Some(timeout))
            .build();
        Ok(Mailer { transport, from })
    }

    /// Sends one message's text to `to`, with its message id in a header receivers can
    /// deduplicate by.
    pub async fn send(&self, to: &str, m: &OutboxRow) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("the recipient address: {e}"))?;
        let subject = subject(m.event_type);
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{}@smaajob>", m.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(m.text.clone())
            .map_err(|e| format!("building the e-mail: {e}"))?;
        self.transport.send(email).await.map(|_| ()).map_err(|e| format!("SMTP: {e}"))
    }
}

fn subject(t: smaajob_domain::notification::EventType) -> &'static str {
    use smaajob_domain::notification::EventType as E;
    match t {
        E::OfferMade => "Nyt jobtilbud",
        E::OfferAccepted | E::OfferDeclined => "Svar på jobtilbud",
        E::PlacementApproved => "Ansættelse godkendt",
        E::PlacementRejected => "Placering ikke godkendt",
        E::HoursReported => "Timer til bekræftelse",
        E::HoursDisputed => "Timer afvist",
        E::PayoutRegistered => "Udbetaling registreret",
        E::CapThresholdReached => "Frikortets beløbsgrænse",
    }
}
