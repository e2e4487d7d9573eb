//! Telling people what a change did to them: each use case that causes an event calls
//! [`notify`] inside its own write transaction, which writes one outbox message per recipient
//! and channel. Nothing is sent here; the dispatcher sends after the commit. Coordinators list
//! their municipality's dead letters and send them again.

use smaajob_domain::CompanyId;
use smaajob_domain::notification::{Channel, EventType, MessageId, MessageState, RecipientKind, SubscriptionOwner};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::outbox::{self, OutboxRow};
use smaajob_persistence::repo::{Page, companies, new_id, now, webhooks};
use smaajob_persistence::types::new_record_id;

use crate::services::audit;
use crate::services::error::{Code, OrNotFound, ServiceError};
use crate::services::principal::Principal;
use crate::telemetry::redact_cpr;

/// Something that happened, as it is told.
#[derive(Debug, Clone)]
pub struct Event {
    /// The kind of event.
    pub kind: EventType,
    /// The municipality whose coordinators answer for its messages.
    pub municipality: String,
    /// Set for an event told once only: no message is written when one with this key exists.
    pub once_key: Option<String>,
    /// The facts for machines (ids, dates, amounts; never a CPR or a name).
    pub data: serde_json::Value,
}

/// A recipient of an event, with the text they are told.
#[derive(Debug, Clone)]
pub struct Tell {
    /// Who.
    pub to: Recipient,
    /// What, in plain Danish.
    pub text: String,
}

/// Who is told.
#[derive(Debug, Clone)]
pub enum Recipient {
    /// A citizen: by SMS when a phone number is known, else on their page.
    Citizen {
        /// The citizen's id.
        id: String,
        /// Whether a phone number is on file.
        has_phone: bool,
    },
    /// A company: by each of its webhooks taking the event type and by e-mail to its contact,
    /// else on its page.
    Company(CompanyId),
    /// A municipality's coordinators: by their integrations' webhooks, else on their page.
    Coordinator(String),
}

/// Writes the event's messages to the outbox, in the caller's transaction. Returns how many.
pub fn notify(conn: &mut DbConn, event: &Event, tells: &[Tell]) -> Result<usize, ServiceError> {
    if let Some(key) = &event.once_key
        && outbox::key_exists(conn, key)?
    {
        return Ok(0);
    }
    let at = now();
    let event_id = new_id();
    let mut rows = Vec::new();
    for tell in tells {
        // Texts are built from ids, amounts and titles a company typed: a CPR number in a title
        // must not leave the system in a notice.
        let text = redact_cpr(&tell.text).into_owned();
        let (kind, recipient, channels) = match &tell.to {
            Recipient::Citizen { id, has_phone } => {
                let channel = if *has_phone { Channel::Sms } else { Channel::Page };
                (RecipientKind::Citizen, id.clone(), vec![(channel, None)])
            }
            Recipient::Company(id) => {
                let mut channels: Vec<_> =
                    webhooks::taking(conn, SubscriptionOwner::Company, id.as_str(), event.kind.as_str())?
                        .into_iter()
                        .map(|s| (Channel::Webhook, Some(s.id)))
                        .collect();
                if companies::find(conn, id)?.contact_email.is_some() {
                    channels.push((Channel::Email, None));
                }
                if channels.is_empty() {
                    channels.push((Channel::Page, None));
                }
                (RecipientKind::Company, id.to_string(), channels)
            }
            Recipient::Coordinator(m) => {
                let mut channels: Vec<_> =
                    webhooks::taking(conn, SubscriptionOwner::Coordinator, m, event.kind.as_str())?
                        .into_iter()
                        .map(|s| (Channel::Webhook, Some(s.id)))
                        .collect();
                if channels.is_empty() {
                    channels.push((Channel::Page, None));
                }
                (RecipientKind::Coordinator, m.clone(), channels)
            }
        };
        for (channel, subscription_id) in channels {
            let id: MessageId = new_record_id();
            let payload = serde_json::json!({
                "id": id, "type": event.kind.as_str(), "event_id": event_id,
                "created_at": chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(at, chrono::Utc).to_rfc3339(),
                "text": text, "data": event.data,
            });
            // A page notice is not sent: it is there once written.
            let page = channel == Channel::Page;
            rows.push(OutboxRow {
                id,
                event_id: event_id.clone(),
                event_type: event.kind,
                event_key: event.once_key.clone(),
                recipient_kind: kind,
                recipient: recipient.clone(),
                channel,
                subscription_id,
                municipality: Some(event.municipality.clone()),
                text: text.clone(),
                payload: payload.to_string(),
                state: if page { MessageState::Delivered } else { MessageState::Pending },
                attempts: 0,
                failures: 0,
                next_attempt_at: at,
                claimed_until: None,
                created_at: at,
                delivered_at: page.then_some(at),
                last_error: None,
            });
        }
    }
    outbox::insert(conn, &rows)?;
    Ok(rows.len())
}

/// One page of the coordinator's municipality's dead letters.
pub fn dead_letters(
    conn: &mut DbConn,
    principal: &Principal,
    page: Page,
) -> Result<(Vec<OutboxRow>, i64), ServiceError> {
    let own = principal.coordinator()?.to_string();
    Ok(outbox::dead_of_municipality(conn, own.as_str(), page)?)
}

/// Puts a dead letter of the coordinator's municipality back in the queue, due now, with its
/// failures counted afresh. The message keeps its id, so a receiver that took it meanwhile
/// still sees it once.
pub fn send_again(conn: &mut DbConn, principal: &Principal, id: &MessageId) -> Result<OutboxRow, ServiceError> {
    let own = principal.coordinator()?.to_string();
    let row = outbox::find(conn, id).or_not_found("message")?;
    if row.municipality.as_deref() != Some(own.as_str()) {
        return Err(ServiceError::NotFound("message"));
    }
    if !outbox::send_again(conn, id, now())? {
        return Err(ServiceError::conflict(
            Code::NotADeadLetter,
            format!("the message is {}, not dead: only dead letters are sent again", row.state.as_str()),
        ));
    }
    let details = serde_json::json!({ "event_type": row.event_type.as_str(), "channel": row.channel.as_str() });
    audit::record(
        conn,
        audit::entry(principal, "message.sent_again", "message", id.as_str(), Some(own.as_str()), Some(details)),
    )?;
    Ok(outbox::find(conn, id)?)
}

/// The events of the use cases, each a call of [`notify`] with its recipients and texts.
pub mod events {
    use smaajob_domain::notification::{EventType, texts, thresholds_crossed};
    use smaajob_domain::{Actor, CompanyId, PlacementAction, YearTotals};
    use smaajob_persistence::DbConn;
    use smaajob_persistence::repo::accounting::PayoutRow;
    use smaajob_persistence::repo::citizens::CitizenRow;
    use smaajob_persistence::repo::shift_reports::ShiftReportRow;
    use smaajob_persistence::repo::tasks::TaskRow;

    use super::{Event, Recipient, Tell, notify};
    use crate::services::error::ServiceError;

    fn citizen(c: &CitizenRow, text: String) -> Tell {
        Tell { to: Recipient::Citizen { id: c.id.clone(), has_phone: c.phone.is_some() }, text }
    }

    fn company(id: &CompanyId, text: String) -> Tell {
        Tell { to: Recipient::Company(id.clone()), text }
    }

    fn coordinator(c: &CitizenRow, text: String) -> Tell {
        Tell { to: Recipient::Coordinator(c.municipality.clone()), text }
    }

    fn event(kind: EventType, c: &CitizenRow, data: serde_json::Value) -> Event {
        Event { kind, municipality: c.municipality.clone(), once_key: None, data }
    }

    /// A step on a placement: an offer is told to the citizen, an answer to the coordinator, a
    /// rejection to the company and the citizen. Other steps are told to nobody.
    pub fn placement_step(
        conn: &mut DbConn,
        action: PlacementAction,
        placement_id: &str,
        task: &TaskRow,
        c: &CitizenRow,
    ) -> Result<(), ServiceError> {
        let data = serde_json::json!({ "placement_id": placement_id, "task_id": task.id, "citizen_id": c.id });
        let (kind, tells) = match action {
            PlacementAction::Offer => (EventType::OfferMade, vec![citizen(c, texts::offer_made(&task.title))]),
            PlacementAction::Accept => {
                (EventType::OfferAccepted, vec![coordinator(c, texts::offer_answered(&task.title, true))])
            }
            PlacementAction::Decline => {
                (EventType::OfferDeclined, vec![coordinator(c, texts::offer_answered(&task.title, false))])
            }
            PlacementAction::Reject => (
                EventType::PlacementRejected,
                vec![
                    company(&task.company_id, texts::placement_rejected(&task.title, false)),
                    citizen(c, texts::placement_rejected(&task.title, true)),
                ],
            ),
            _ => return Ok(()),
        };
        notify(conn, &event(kind, c, data), &tells)?;
        Ok(())
    }

    /// An approved placement: the company and the citizen are told.
    pub fn placement_approved(
        conn: &mut DbConn,
        placement_id: &str,
        employment_id: &str,
        task: &TaskRow,
        c: &CitizenRow,
    ) -> Result<(), ServiceError> {
        let data = serde_json::json!({
            "placement_id": placement_id, "task_id": task.id, "employment_id": employment_id, "citizen_id": c.id,
        });
        let tells = [
            company(&task.company_id, texts::placement_approved(&task.title, false)),
            citizen(c, texts::placement_approved(&task.title, true)),
        ];
        notify(conn, &event(EventType::PlacementApproved, c, data), &tells)?;
        Ok(())
    }

    /// Reported hours, told to the confirmers: the citizen, and the coordinator for a company's
    /// report or the company for a coordinator's.
    pub fn hours_reported(
        conn: &mut DbConn,
        report: &ShiftReportRow,
        task: &TaskRow,
        c: &CitizenRow,
    ) -> Result<(), ServiceError> {
        let data = serde_json::json!({
            "report_id": report.id, "placement_id": report.placement_id, "shift_date": report.shift_date,
            "minutes": report.minutes,
        });
        let text = texts::hours_reported(&task.title, report.shift_date, report.minutes);
        let other = match report.reported_by_role {
            Actor::Coordinator => company(&task.company_id, text.clone()),
            _ => coordinator(c, text.clone()),
        };
        notify(conn, &event(EventType::HoursReported, c, data), &[citizen(c, text), other])?;
        Ok(())
    }

    /// Disputed hours, told to the company and the coordinator.
    pub fn hours_disputed(
        conn: &mut DbConn,
        report: &ShiftReportRow,
        task: &TaskRow,
        c: &CitizenRow,
    ) -> Result<(), ServiceError> {
        let data = serde_json::json!({
            "report_id": report.id, "placement_id": report.placement_id, "shift_date": report.shift_date,
        });
        let text = texts::hours_disputed(&task.title, report.shift_date);
        let tells = [company(&task.company_id, text.clone()), coordinator(c, text)];
        notify(conn, &event(EventType::HoursDisputed, c, data), &tells)?;
        Ok(())
    }

    /// A registered payout, told to the citizen with what is left; and every share of the cap
    /// the year's exempt amount passed with it, told to the citizen and the coordinator once per
    /// threshold and year.
    pub fn payout_registered(
        conn: &mut DbConn,
        payout: &PayoutRow,
        c: &CitizenRow,
        exempt_before: smaajob_domain::Money,
        after: &YearTotals,
    ) -> Result<(), ServiceError> {
        let data = serde_json::json!({
            "payout_id": payout.id, "employment_id": payout.employment_id, "company_id": payout.company_id,
            "payment_date": payout.payment_date, "gross": payout.gross.to_string(), "year": payout.year,
        });
        let text = texts::payout_registered(payout.gross, after.remaining());
        notify(conn, &event(EventType::PayoutRegistered, c, data), &[citizen(c, text)])?;
        for percent in thresholds_crossed(after.cap, exempt_before, after.exempt) {
            let year = payout.year;
            let data = serde_json::json!({
                "citizen_id": c.id, "year": year, "percent": percent, "cap": after.cap.to_string(),
                "exempt": after.exempt.to_string(),
            });
            let once = Event {
                kind: EventType::CapThresholdReached,
                municipality: c.municipality.clone(),
                once_key: Some(format!("cap:{}:{year}:{percent}", c.id)),
                data,
            };
            let tells = [
                citizen(c, texts::cap_threshold(percent, year, true)),
                coordinator(c, texts::cap_threshold(percent, year, false)),
            ];
            notify(conn, &once, &tells)?;
        }
        Ok(())
    }
}
