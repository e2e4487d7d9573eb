//! `GET /audit`: the municipality's audit log, for coordinators.

use actix_web::{get, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use smaajob_persistence::repo::audit::{self, AuditQuery};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::utc;
use crate::services::principal::Principal;
use crate::state::AppState;

/// One audit entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryView {
    /// Sequence number, increasing.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (the token's subject).
    pub actor: String,
    /// The actor's role.
    pub actor_role: String,
    /// What happened, e.g. `citizen.read`, `frikort.deactivated`.
    pub action: String,
    /// The kind of thing acted on: `citizen`, `company` or `cap`.
    pub target_type: String,
    /// The id of the thing acted on.
    pub target_id: String,
    /// Extra facts (never a CPR number).
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// A page of the audit log, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    /// The entries, newest first.
    pub items: Vec<AuditEntryView>,
    /// Pass as `before` to get the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// Filters of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only entries about this target id.
    pub target_id: Option<String>,
    /// Only entries of this actor.
    pub actor: Option<String>,
    /// Only entries of this action.
    pub action: Option<String>,
    /// Only entries at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only entries before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Only entries older than this sequence number (paging).
    pub before: Option<i64>,
    /// How many entries at most (1–500, default 100).
    pub limit: Option<i64>,
}

/// Stored times are whole microseconds and PostgreSQL compares at that precision; rounding a
/// finer bound up keeps `from` inclusive and `to` exclusive on both backends.
fn ceil_to_micros(t: NaiveDateTime) -> NaiveDateTime {
    let truncated = smaajob_persistence::repo::truncate_to_micros(t);
    if truncated == t { t } else { truncated + chrono::Duration::microseconds(1) }
}

/// The coordinator's municipality's audit log, newest first.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    params(AuditFilter),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    principal: Principal,
    q: web::Query<AuditFilter>,
) -> Result<web::Json<AuditPage>, ApiError> {
    let own = principal.coordinator()?;
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "limit must be between 1 and 500"));
    }
    let query = AuditQuery {
        target_id: q.target_id,
        actor: q.actor,
        action: q.action,
        from: q.from.map(|t| ceil_to_micros(t.naive_utc())),
        to: q.to.map(|t| ceil_to_micros(t.naive_utc())),
        before_id: q.before,
    };
    let page = state
        .read(move |conn| {
            let rows = audit::list(conn, &own.to_string(), &query, limit + 1)?;
            let more = rows.len() as i64 > limit;
            let items: Vec<AuditEntryView> = rows
                .into_iter()
                .take(limit as usize)
                .map(|r| AuditEntryView {
                    id: r.id,
                    at: utc(r.at),
                    actor: r.actor,
                    actor_role: r.actor_role,
                    action: r.action,
                    target_type: r.target_type,
                    target_id: r.target_id,
                    details: r.details.and_then(|d| serde_json::from_str(&d).ok()),
                })
                .collect();
            let next_before = if more { items.last().map(|i| i.id) } else { None };
            Ok(AuditPage { items, next_before })
        })
        .await?;
    Ok(web::Json(page))
}
