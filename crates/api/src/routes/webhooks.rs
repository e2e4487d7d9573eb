//! Webhook subscriptions (`/webhook-subscriptions`): a company keeps its own, coordinators their
//! municipality's integrations. Each delivery is a `POST` of the message's JSON, signed in the
//! `Smaajob-Signature` header (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed
//! with the subscription's secret) and named by `Smaajob-Message-Id`, which stays the same on a
//! retry: deduplicate by it.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, path_id, utc};
use crate::json::Json;
use crate::responses::{ApiErrors, Invalid, JsonBody, NotFound};
use crate::services::error::{Fields, checked};
use crate::services::principal::Principal;
use crate::services::webhooks::{self, NewSubscription, WebhookUrl, WithSecret};
use crate::state::AppState;
use smaajob_domain::notification::SubscriptionId;
use smaajob_persistence::repo::webhooks::SubscriptionRow;

/// A subscription to make.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscription {
    /// Where deliveries are posted: `https://…`; plain `http://` only to the loopback address
    /// where the operator allows it for development. Addresses in private networks are refused
    /// unless the operator allows them.
    #[schema(example = "https://erp.example.dk/smaajob/events")]
    pub url: String,
    /// The event types to deliver, e.g. `placement.approved`, `payout.registered`,
    /// `hours.reported`, `hours.disputed`, `offer.made`, `offer.accepted`, `offer.declined`,
    /// `placement.rejected`, `cap.threshold_reached`.
    pub event_types: Vec<String>,
}

/// A subscription as its owner sees it (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionView {
    /// The subscription's id.
    pub id: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The event types delivered.
    pub event_types: Vec<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When its secret was last replaced; absent if never.
    pub secret_rotated_at: Option<DateTime<Utc>>,
}

/// A subscription with its signing secret, shown only when it is made or replaced.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionWithSecret {
    /// The subscription.
    #[serde(flatten)]
    pub subscription: SubscriptionView,
    /// The signing secret (`whsec_…`): the HMAC key, used whole. Keep it; it is not shown again.
    pub secret: String,
}

fn view(row: SubscriptionRow) -> SubscriptionView {
    SubscriptionView {
        id: row.id.into(),
        url: row.url,
        event_types: row.event_types.0,
        created_at: utc(row.created_at),
        secret_rotated_at: row.secret_rotated_at.map(utc),
    }
}

fn with_secret(w: WithSecret) -> SubscriptionWithSecret {
    SubscriptionWithSecret { subscription: view(w.row), secret: w.secret }
}

/// Makes a webhook subscription of the caller's (a company, or a coordinator for the
/// municipality's integrations); the answer carries the signing secret, once.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = CreateSubscription,
    responses(
        (status = 201, body = SubscriptionWithSecret),
        ApiErrors, JsonBody,
        (status = 422, description = "Not an https URL, a URL into a private network, or an unknown event type", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhook-subscriptions")]
pub async fn create_subscription(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateSubscription>,
) -> Result<HttpResponse, ApiError> {
    webhooks::may_keep(&principal)?;
    let b = body.into_inner();
    let policy = state.webhook_urls;
    // Resolving the host is I/O: off the request thread.
    let cmd = web::block(move || {
        let mut f = Fields::new();
        let url = WebhookUrl::parse(&b.url, policy, &mut f, "url");
        let event_types = webhooks::parse_event_types(&b.event_types, &mut f, "event_types");
        f.finish()?;
        Ok::<_, ApiError>(NewSubscription { url: checked(url)?, event_types })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))??;
    let key = state.data_key.clone();
    let made = state.write(move |conn| Ok(webhooks::create(conn, &principal, &key, &cmd)?)).await?;
    Ok(HttpResponse::Created().json(with_secret(made)))
}

/// The caller's webhook subscriptions.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Paged<SubscriptionView>), ApiErrors, Invalid)
)]
#[get("/webhook-subscriptions")]
pub async fn list_subscriptions(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<SubscriptionView>>, ApiError> {
    webhooks::may_keep(&principal)?;
    let page = page.into_inner().page()?;
    let (rows, total) = state.read(move |conn| Ok(webhooks::list(conn, &principal, page)?)).await?;
    Ok(web::Json(Paged { items: rows.into_iter().map(view).collect(), total, limit: page.limit, offset: page.offset }))
}

/// Replaces the signing secret of a subscription of the caller's; deliveries from now on are
/// signed with the new secret, which the answer carries, once.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Subscription id")),
    responses((status = 200, body = SubscriptionWithSecret), ApiErrors, NotFound)
)]
#[post("/webhook-subscriptions/{id}/secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<SubscriptionWithSecret>, ApiError> {
    webhooks::may_keep(&principal)?;
    let id = path_id::<SubscriptionId>(&id)?;
    let key = state.data_key.clone();
    let rotated = state.write(move |conn| Ok(webhooks::rotate_secret(conn, &principal, &key, &id)?)).await?;
    Ok(web::Json(with_secret(rotated)))
}

/// Deletes a subscription of the caller's; messages still queued for it become dead letters.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Subscription id")),
    responses((status = 204, description = "Deleted"), ApiErrors, NotFound)
)]
#[delete("/webhook-subscriptions/{id}")]
pub async fn delete_subscription(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    webhooks::may_keep(&principal)?;
    let id = path_id::<SubscriptionId>(&id)?;
    state.write(move |conn| Ok(webhooks::delete(conn, &principal, &id)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}
