//! GTFS import (`POST /gtfs`): a coordinator uploads their municipality's public-transport
//! timetable as a GTFS zip; it replaces the previous one at once, or, when refused, changes nothing.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::responses::{ApiErrors, NotFound};
use crate::services::error::Code;
use crate::services::gtfs::{self, Imported, MAX_FEED_BYTES};
use crate::services::principal::Principal;
use crate::state::AppState;
use smaajob_persistence::repo::gtfs::FeedRow;

/// The feed a municipality's public-transport times now come from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeedView {
    /// The feed's id; a new import gets a new one (cached bus times follow it).
    pub id: String,
    /// The municipality code whose tasks use the feed.
    pub municipality: String,
    /// SHA-256 of the uploaded zip, hex.
    pub sha256: String,
    /// When it was imported (UTC).
    pub imported_at: DateTime<Utc>,
    /// Stops with coordinates, as stored.
    pub stops: i32,
    /// Stops the feed lists without coordinates (entrances, nodes), left out; told on import only.
    pub stops_without_location: Option<usize>,
    /// Trips with at least one ride between two timed stops.
    pub trips: i32,
    /// Rides from one stop to the next, as stored.
    pub connections: i32,
    /// The first day any service of the feed runs.
    pub first_day: Option<NaiveDate>,
    /// The last day any service of the feed runs.
    pub last_day: Option<NaiveDate>,
}

/// The view of an import.
pub fn imported_view(imported: Imported) -> FeedView {
    FeedView { stops_without_location: Some(imported.stops_without_location), ..feed_view(imported.feed) }
}

/// The view of a stored feed.
pub fn feed_view(f: FeedRow) -> FeedView {
    FeedView {
        id: f.id,
        municipality: f.municipality,
        sha256: f.sha256,
        imported_at: crate::http::utc(f.imported_at),
        stops: f.stop_count,
        stops_without_location: None,
        trips: f.trip_count,
        connections: f.connection_count,
        first_day: f.first_day,
        last_day: f.last_day,
    }
}

/// The media types a zip is sent as: `application/zip`, and the `application/x-zip-compressed`
/// some browsers and `application/octet-stream` some tools send.
const ZIP_TYPES: [&str; 3] = ["application/zip", "application/x-zip-compressed", "application/octet-stream"];

/// A body not sent as a zip is refused before it is read (415), as a JSON body not sent as JSON is.
fn require_zip(req: &HttpRequest) -> Result<(), ApiError> {
    let sent = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = sent.split(';').next().unwrap_or("").trim();
    if ZIP_TYPES.iter().any(|t| media.eq_ignore_ascii_case(t)) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType("the request body must be a zip (Content-Type: application/zip)".into()))
    }
}

/// Reads the whole body, at most [`MAX_FEED_BYTES`] (a feed is larger than the JSON limit).
async fn read_zip(mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest {
            code: Code::UnreadableBody,
            detail: format!("the body cannot be read: {e}"),
        })?;
        if body.len() + chunk.len() > MAX_FEED_BYTES {
            return Err(ApiError::PayloadTooLarge { limit: MAX_FEED_BYTES });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Imports a GTFS zip (the raw body, `application/zip`) as the coordinator's municipality's
/// public-transport timetable. It replaces the previous feed atomically; a body that is not a zip,
/// a feed without a required file (agency, routes, stops, trips, stop_times, and calendar or
/// calendar_dates), or a line that cannot be read is a 422 `invalid_gtfs` naming the file (and
/// line), and the previous feed stays in use.
#[utoipa::path(
    tag = "matching",
    security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/zip", description = "A GTFS feed as a zip archive"),
    responses(
        (status = 201, body = FeedView, description = "The feed now in use"),
        ApiErrors,
        (status = 413, description = "The zip is larger than 128 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `application/zip`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a GTFS zip: the detail names the file and, where known, the line", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/gtfs")]
pub async fn import_gtfs(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    principal.coordinator()?;
    require_zip(&req)?;
    let body = read_zip(payload).await?;
    let imported = state.write(move |conn| Ok(gtfs::import(conn, &principal, &body)?)).await?;
    Ok(HttpResponse::Created().json(imported_view(imported)))
}

/// The feed the coordinator's municipality's bus times come from now.
#[utoipa::path(
    tag = "matching",
    security(("bearer" = [])),
    responses(
        (status = 200, body = FeedView),
        ApiErrors, NotFound,
    )
)]
#[get("/gtfs")]
pub async fn current_gtfs(state: web::Data<AppState>, principal: Principal) -> Result<web::Json<FeedView>, ApiError> {
    let feed = state.read(move |conn| Ok(gtfs::current(conn, &principal)?)).await?;
    Ok(web::Json(feed_view(feed)))
}
