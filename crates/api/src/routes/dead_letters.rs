//! Dead letters (`/dead-letters`): messages the dispatcher gave up on after the configured
//! failures. A coordinator lists the municipality's and sends one again.

use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, path_id, utc};
use crate::responses::{ApiErrors, Conflict, Invalid, NotFound};
use crate::services::notifications;
use crate::services::principal::Principal;
use crate::state::AppState;
use smaajob_domain::notification::MessageId;
use smaajob_persistence::repo::outbox::OutboxRow;

/// An outbox message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    /// The stable message id (receivers deduplicate by it).
    pub id: String,
    /// The event type, e.g. `payout.registered`.
    pub event_type: String,
    /// `citizen`, `company` or `coordinator`.
    pub recipient_kind: String,
    /// The citizen id, company id or municipality code.
    pub recipient: String,
    /// `webhook`, `email`, `sms` or `page`.
    pub channel: String,
    /// The webhook subscription, for webhook messages.
    pub subscription_id: Option<String>,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// The text people are told.
    pub text: String,
    /// Attempts made in all.
    pub attempts: i32,
    /// Failures since it was written or last sent again.
    pub failures: i32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it is due next (pending) or when it was given up (dead).
    pub next_attempt_at: DateTime<Utc>,
}

fn view(m: OutboxRow) -> MessageView {
    MessageView {
        id: m.id.into(),
        event_type: m.event_type.as_str().to_owned(),
        recipient_kind: m.recipient_kind.as_str().to_owned(),
        recipient: m.recipient,
        channel: m.channel.as_str().to_owned(),
        subscription_id: m.subscription_id.map(Into::into),
        state: m.state.as_str().to_owned(),
        text: m.text,
        attempts: m.attempts,
        failures: m.failures,
        last_error: m.last_error,
        created_at: utc(m.created_at),
        next_attempt_at: utc(m.next_attempt_at),
    }
}

/// The municipality's dead letters, newest first (coordinators).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Paged<MessageView>), ApiErrors, Invalid)
)]
#[get("/dead-letters")]
pub async fn list_dead_letters(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<MessageView>>, ApiError> {
    principal.coordinator()?;
    let page = page.into_inner().page()?;
    let (rows, total) = state.read(move |conn| Ok(notifications::dead_letters(conn, &principal, page)?)).await?;
    Ok(web::Json(Paged { items: rows.into_iter().map(view).collect(), total, limit: page.limit, offset: page.offset }))
}

/// Sends a dead letter of the municipality again (coordinators): it is queued, due now, with its
/// failures counted afresh and the same message id.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "Queued again", body = MessageView),
        ApiErrors, NotFound, Conflict,
        (status = 409, description = "The message is not a dead letter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/dead-letters/{id}/resend")]
pub async fn resend_dead_letter(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<MessageView>, ApiError> {
    principal.coordinator()?;
    let id = path_id::<MessageId>(&id)?;
    let row = state.write(move |conn| Ok(notifications::send_again(conn, &principal, &id)?)).await?;
    Ok(web::Json(view(row)))
}
