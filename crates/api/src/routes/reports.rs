//! Reports for a coordinator (`/reports/transport-gaps`): where transport keeps the
//! municipality's tasks from being filled, per task and summed by postcode, as JSON or CSV. Counts
//! only: no citizen is named.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::responses::{ApiErrors, Invalid};
use crate::services::principal::Principal;
use crate::services::transport_gaps::{self as gaps, AreaGap, GapCounts, GapPeriod, RuledOut, TaskGap, TransportGaps};
use crate::state::AppState;

/// The period of the report and its format.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GapQuery {
    /// First day: tasks with a shift on or after it; default 30 days ago.
    #[serde(default, deserialize_with = "crate::http::strict_date::optional")]
    pub from: Option<NaiveDate>,
    /// Last day: tasks with a shift on or before it; default 60 days ahead. At most 366 days
    /// after `from`.
    #[serde(default, deserialize_with = "crate::http::strict_date::optional")]
    pub to: Option<NaiveDate>,
    /// `json` (default) or `csv`; `Accept: text/csv` asks for CSV too.
    pub format: Option<String>,
}

/// How many citizens one mode and limit rule out.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuledOutView {
    /// Their fastest mode that is over their limit (`walk`, `bicycle`, `public_transport`,
    /// `car`, `moped`; `public_transport` also when the timetable has no trip in time and
    /// back), or `home_unknown`, or `no_mode`.
    pub by: String,
    /// Their limit on one-way travel, minutes.
    pub max_travel_minutes: u32,
    /// How many citizens.
    pub count: u32,
}

/// The counts of a task or an area.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GapCountsView {
    /// Citizens who pass every hard filter except travel (card, age, bookings, availability,
    /// skills).
    pub matching_but_travel: u32,
    /// Of those, how many reach the work within their limit by some mode of theirs.
    pub reachable: u32,
    /// Of those, how many reach it by bicycle within their limit.
    pub by_bicycle: u32,
    /// Of those, how many reach it by bus within their limit, arriving before the shift starts
    /// and with a bus back after it ends.
    pub by_bus: u32,
    /// Of those, how many cannot reach it by any mode of theirs.
    pub unreachable: u32,
    /// Of the unreachable, how many ride the bus and have a known home: reachable if a bus
    /// brought them to the site within their limit.
    pub would_reach_by_bus: u32,
}

/// One task's line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskGapView {
    /// The task's id.
    pub task_id: String,
    /// Its title.
    pub title: String,
    /// The company's name.
    pub company_name: String,
    /// `open`, or `cancelled` / `completed` with positions never filled.
    pub status: String,
    /// The address of the work, as the company wrote it.
    pub address: Option<String>,
    /// The postcode read from the address.
    pub postcode: Option<String>,
    /// The first day with a shift.
    pub first_date: NaiveDate,
    /// Positions wanted.
    pub positions: u32,
    /// Positions held by an approved or completed placement.
    pub filled: u32,
    /// The counts.
    #[serde(flatten)]
    pub counts: GapCountsView,
    /// What rules the unreachable out, most first.
    pub ruled_out: Vec<RuledOutView>,
}

/// One postcode's sums.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AreaGapView {
    /// The postcode; absent for addresses without one.
    pub postcode: Option<String>,
    /// How many tasks.
    pub tasks: u32,
    /// The counts summed over its tasks (a citizen counts once per task).
    #[serde(flatten)]
    pub counts: GapCountsView,
    /// What rules the unreachable out, summed, most first.
    pub ruled_out: Vec<RuledOutView>,
}

/// Where transport keeps the municipality's tasks unfilled.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransportGapReport {
    /// The municipality.
    pub municipality: String,
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub to: NaiveDate,
    /// The GTFS feed bus times come from; absent when no timetable is imported (then no one
    /// reaches anything by bus).
    pub feed_id: Option<String>,
    /// Citizens of the municipality weighed.
    pub citizens: u32,
    /// Open tasks, and cancelled or completed ones with positions never filled, with a shift
    /// in the period, by first date.
    pub tasks: Vec<TaskGapView>,
    /// Tasks in the period without a work location, left out.
    pub tasks_without_location: u32,
    /// The sums by postcode of the work location.
    pub areas: Vec<AreaGapView>,
}

fn counts_view(c: GapCounts) -> GapCountsView {
    GapCountsView {
        matching_but_travel: c.matching_but_travel,
        reachable: c.reachable,
        by_bicycle: c.by_bicycle,
        by_bus: c.by_bus,
        unreachable: c.unreachable,
        would_reach_by_bus: c.would_reach_by_bus,
    }
}

fn ruled_out_views(r: Vec<RuledOut>) -> Vec<RuledOutView> {
    r.into_iter()
        .map(|r| RuledOutView { by: r.by.code().to_owned(), max_travel_minutes: r.limit_minutes, count: r.count })
        .collect()
}

fn task_view(t: TaskGap) -> TaskGapView {
    TaskGapView {
        task_id: t.task_id,
        title: t.title,
        company_name: t.company_name,
        status: t.status.as_str().to_owned(),
        address: t.address,
        postcode: t.postcode,
        first_date: t.first_date,
        positions: t.positions,
        filled: t.filled,
        counts: counts_view(t.counts),
        ruled_out: ruled_out_views(t.ruled_out),
    }
}

fn area_view(a: AreaGap) -> AreaGapView {
    AreaGapView {
        postcode: a.postcode,
        tasks: a.tasks,
        counts: counts_view(a.counts),
        ruled_out: ruled_out_views(a.ruled_out),
    }
}

fn report_view(r: TransportGaps) -> TransportGapReport {
    TransportGapReport {
        municipality: r.municipality,
        from: r.from,
        to: r.to,
        feed_id: r.feed_id,
        citizens: r.citizens,
        tasks: r.tasks.into_iter().map(task_view).collect(),
        tasks_without_location: r.tasks_without_location,
        areas: r.areas.into_iter().map(area_view).collect(),
    }
}

/// The columns of the CSV, one row per task then one per postcode (`level` tells which).
const CSV_HEADER: [&str; 14] = [
    "level",
    "postcode",
    "task_id",
    "title",
    "status",
    "first_date",
    "tasks",
    "matching_but_travel",
    "reachable",
    "by_bicycle",
    "by_bus",
    "unreachable",
    "would_reach_by_bus",
    "ruled_out",
];

/// `public_transport/45:3; bicycle/30:1`: what rules out how many, at which limit.
fn ruled_out_cell(r: &[RuledOutView]) -> String {
    r.iter().map(|r| format!("{}/{}:{}", r.by, r.max_travel_minutes, r.count)).collect::<Vec<_>>().join("; ")
}

fn count_cells(c: &GapCountsView) -> [String; 6] {
    [c.matching_but_travel, c.reachable, c.by_bicycle, c.by_bus, c.unreachable, c.would_reach_by_bus]
        .map(|n| n.to_string())
}

fn csv_of(r: &TransportGapReport) -> Result<Vec<u8>, ApiError> {
    let fail = |e: csv::Error| ApiError::Internal(format!("writing the CSV failed: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER).map_err(fail)?;
    for t in &r.tasks {
        let mut row = vec![
            "task".to_owned(),
            t.postcode.clone().unwrap_or_default(),
            t.task_id.clone(),
            t.title.clone(),
            t.status.clone(),
            t.first_date.to_string(),
            "1".to_owned(),
        ];
        row.extend(count_cells(&t.counts));
        row.push(ruled_out_cell(&t.ruled_out));
        w.write_record(&row).map_err(fail)?;
    }
    for a in &r.areas {
        let mut row = vec![
            "area".to_owned(),
            a.postcode.clone().unwrap_or_default(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            a.tasks.to_string(),
        ];
        row.extend(count_cells(&a.counts));
        row.push(ruled_out_cell(&a.ruled_out));
        w.write_record(&row).map_err(fail)?;
    }
    w.into_inner().map_err(|e| ApiError::Internal(format!("writing the CSV failed: {e}")))
}

/// Whether the request asks for CSV: `format=csv`, or `Accept: text/csv` without `format`.
fn wants_csv(req: &HttpRequest, format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => {
            Err(crate::services::error::ServiceError::field("format", "unknown_format", "`json` or `csv`").into())
        }
        None => Ok(req
            .headers()
            .get_all(header::ACCEPT)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv")))),
    }
}

/// The transport-gap report of the coordinator's municipality: for each open task, and each
/// cancelled or completed one whose positions were never filled, with a shift in the period,
/// and summed by the postcode of the work location: how many citizens match on everything but
/// travel, which mode and limit rule them out, how many a bus within their limit would bring
/// there, and how many get there by bicycle, by bus and in total. Counts only; as JSON, or as
/// CSV (`format=csv` or `Accept: text/csv`). A coordinator only.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(GapQuery),
    responses(
        (status = 200, description = "The report", content(
            (TransportGapReport = "application/json"),
            (String = "text/csv", example = "level,postcode,task_id,title,status,first_date,tasks,matching_but_travel,reachable,by_bicycle,by_bus,unreachable,would_reach_by_bus,ruled_out\n")
        )),
        ApiErrors, Invalid,
    )
)]
#[get("/reports/transport-gaps")]
pub async fn transport_gaps(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    q: web::Query<GapQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.coordinator()?;
    let period = GapPeriod::parse(q.from, q.to)?;
    let csv = wants_csv(&req, q.format.as_deref())?;
    let cache = state.transit.clone();
    let report = state.read(move |conn| Ok(gaps::transport_gaps(conn, &principal, period, &cache)?)).await?;
    let view = report_view(report);
    if csv {
        Ok(HttpResponse::Ok().content_type("text/csv; charset=utf-8").body(csv_of(&view)?))
    } else {
        Ok(HttpResponse::Ok().json(view))
    }
}
