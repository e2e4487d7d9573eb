//! `GET /audit`: the municipality's audit log for coordinators, the scheme-wide settings' log for
//! the operator.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::http::{Paged, utc};
use crate::responses::{ApiErrors, Invalid};
use crate::services::audit::{self as service, AuditInput, AuditRecord, ListAudit};
use crate::services::principal::Principal;
use crate::state::AppState;

/// One audit entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryView {
    /// Sequence number, increasing.
    pub id: i64,
    /// When it happened (UTC).
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
    /// Only entries older than this sequence number: fixes the log as it was, so pages read
    /// with `offset` stay put while new entries arrive.
    pub before: Option<i64>,
    /// How many entries at most (1–500, default 100).
    #[serde(default, deserialize_with = "crate::http::saturating::optional_i64")]
    pub limit: Option<i64>,
    /// How many entries to skip (default 0).
    #[serde(default, deserialize_with = "crate::http::saturating::optional_i64")]
    pub offset: Option<i64>,
}

impl From<AuditFilter> for AuditInput {
    fn from(q: AuditFilter) -> Self {
        AuditInput {
            target_id: q.target_id,
            actor: q.actor,
            action: q.action,
            from: q.from,
            to: q.to,
            before: q.before,
            limit: q.limit,
            offset: q.offset,
        }
    }
}

fn entry_view(e: AuditRecord) -> AuditEntryView {
    AuditEntryView {
        id: e.row.id,
        at: utc(e.row.at),
        actor: e.row.actor,
        actor_role: e.row.actor_role,
        action: e.row.action,
        target_type: e.row.target_type,
        target_id: e.row.target_id,
        details: e.details,
    }
}

/// The audit log, newest first: a coordinator reads their municipality's (including each cap
/// change that re-split its citizens' years), the operator the changes of the scheme-wide settings
/// (`target_type` `cap`).
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    params(AuditFilter),
    responses(
        (status = 200, body = Paged<AuditEntryView>),
        ApiErrors, Invalid,
    )
)]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    principal: Principal,
    q: web::Query<AuditFilter>,
) -> Result<web::Json<Paged<AuditEntryView>>, ApiError> {
    service::may_read(&principal)?;
    let cmd = ListAudit::parse(q.into_inner().into())?;
    let list = state.read(move |conn| Ok(service::list(conn, &principal, cmd)?)).await?;
    let items = list.items.into_iter().map(entry_view).collect();
    Ok(web::Json(Paged { items, total: list.total, limit: list.page.limit, offset: list.page.offset }))
}
