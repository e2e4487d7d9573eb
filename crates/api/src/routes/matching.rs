//! Matching (`/tasks/{id}/candidates`, `/me/suggestions`): the ranked, explained candidates for a
//! task, for a coordinator of its municipality, and the open tasks ranked for a citizen. Neither
//! view carries a home location; a company gets neither.

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use smaajob_domain::TransportMode;
use smaajob_domain::matching::{Evaluation, HeadroomFit, Reason, WEIGHTS};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, parse_id};
use crate::responses::{ApiErrors, Invalid, NotFound};
use crate::services::matching::{self, CandidateQuery, Candidates, Matched, Suggestion};
use crate::services::principal::Principal;
use crate::state::AppState;

/// What a candidate list asks for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidateParams {
    /// How many candidates at most, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `true` lists the citizens left out too, each with the reasons why.
    pub include_excluded: Option<bool>,
}

/// One part of the score: its value and its weight in the total.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScorePartView {
    /// The part's value, 0 to 1000.
    pub value: u32,
    /// The part's weight; the weights add up to 100, so the total is at most 100,000.
    pub weight: u32,
}

/// The soft score's parts, shown separately.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScorePartsView {
    /// Required skills held and the citizen's skills the task's text mentions (full at three).
    pub skills: ScorePartView,
    /// The share of shifts inside the citizen's stated availability, and the room left in their
    /// stated weekly hours.
    pub availability: ScorePartView,
    /// How much of the citizen's travel limit the fastest mode leaves unused.
    pub travel: ScorePartView,
    /// Whether the pay fits in what is left of this year's exempt amount.
    pub headroom: ScorePartView,
    /// Fewer offers and less paid work in the last 90 days score higher.
    pub fairness: ScorePartView,
    /// Days waited since enrolment, full after a year.
    pub waiting: ScorePartView,
}

/// The door-to-door time by one of the citizen's modes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TravelView {
    /// `walk`, `bicycle`, `public_transport`, `car` or `moped`.
    pub mode: String,
    /// Minutes one way; absent when it cannot be told (no home location, no timetable trip).
    pub minutes: Option<u32>,
    /// The minutes are known and within the citizen's limit.
    pub within_limit: bool,
}

/// How the task's pay fits in what is left of the citizen's exempt amount.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeadroomView {
    /// `full` (all exempt), `partial` (part taxable), `none` (nothing left) or `no_card`.
    pub fit: String,
    /// What is left of the exempt amount in the year of the task's next shift, DKK.
    pub left: Option<String>,
    /// The estimated taxable part of the task's pay that year, DKK.
    pub taxable: Option<String>,
}

/// A short reason a person can read, with its code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReasonView {
    /// Stable code for programs, e.g. `travel`, `skills`, `headroom_full` or an exclusion code.
    pub code: String,
    /// The reason in Danish, e.g. "Cykel 18 min".
    pub da: String,
    /// The reason in English, e.g. "Bicycle 18 min".
    pub en: String,
}

/// A citizen as matched against a task.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CandidateView {
    /// The citizen's id (offer with `POST /api/v1/tasks/{id}/candidates/{citizen_id}/offer`).
    pub citizen_id: String,
    /// The citizen's name.
    pub name: String,
    /// The weighted score, 0 to 100,000 (the sum of each part times its weight).
    pub score: u32,
    /// The score's parts.
    pub parts: ScorePartsView,
    /// The fastest mode within the limit, if any.
    pub best_mode: Option<String>,
    /// Its minutes one way.
    pub best_minutes: Option<u32>,
    /// The citizen's limit on one-way travel, in minutes.
    pub max_travel_minutes: u32,
    /// The time by each of the citizen's modes.
    pub travel: Vec<TravelView>,
    /// How the pay fits the exempt amount.
    pub headroom: HeadroomView,
    /// The hard filters the citizen fails; empty for a candidate. Codes: `no_active_card`,
    /// `under_18`, `overlapping_booking`, `weekly_hours_exceeded`, `unavailable`, `unreachable`,
    /// `missing_skill`, `already_placed`.
    pub excluded_because: Vec<String>,
    /// Short reasons in Danish and English: why they fit, or why they are left out.
    pub reasons: Vec<ReasonView>,
}

/// A task's ranked candidates.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CandidateList {
    /// The task.
    pub task_id: String,
    /// How many citizens of the municipality were weighed.
    pub considered: usize,
    /// How many passed every hard filter (more than listed when the limit cuts).
    pub candidate_count: usize,
    /// How many were left out.
    pub excluded_count: usize,
    /// The best candidates, best first; ties are broken by citizen id.
    pub candidates: Vec<CandidateView>,
    /// With `include_excluded=true`: the citizens left out, by id, with why.
    pub excluded: Vec<CandidateView>,
}

/// An open task ranked for the citizen.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SuggestionView {
    /// The task's id.
    pub task_id: String,
    /// The task's title.
    pub title: String,
    /// The company's name.
    pub company_name: String,
    /// Where the work is, as the company wrote it.
    pub address: Option<String>,
    /// The first day with a shift.
    pub first_date: chrono::NaiveDate,
    /// The weighted score, 0 to 100,000.
    pub score: u32,
    /// The score's parts.
    pub parts: ScorePartsView,
    /// The fastest way there within the citizen's limit.
    pub best_mode: Option<String>,
    /// Its minutes one way.
    pub best_minutes: Option<u32>,
    /// How the pay fits the exempt amount.
    pub headroom: HeadroomView,
    /// Short reasons in Danish and English.
    pub reasons: Vec<ReasonView>,
}

fn parts_view(e: &Evaluation) -> ScorePartsView {
    let (p, w) = (e.parts, WEIGHTS);
    let part = |value, weight| ScorePartView { value, weight };
    ScorePartsView {
        skills: part(p.skills, w.skills),
        availability: part(p.availability, w.availability),
        travel: part(p.travel, w.travel),
        headroom: part(p.headroom, w.headroom),
        fairness: part(p.fairness, w.fairness),
        waiting: part(p.waiting, w.waiting),
    }
}

fn headroom_view(h: HeadroomFit) -> HeadroomView {
    let (fit, left, taxable) = match h {
        HeadroomFit::Full { left } => ("full", Some(left), None),
        HeadroomFit::Partial { left, taxable } => ("partial", Some(left), Some(taxable)),
        HeadroomFit::None => ("none", None, None),
        HeadroomFit::NoCard => ("no_card", None, None),
    };
    HeadroomView { fit: fit.to_owned(), left: left.map(|m| m.to_string()), taxable: taxable.map(|m| m.to_string()) }
}

fn reason_views(reasons: Vec<Reason>) -> Vec<ReasonView> {
    reasons.into_iter().map(|r| ReasonView { code: r.code.to_owned(), da: r.da, en: r.en }).collect()
}

fn mode(m: TransportMode) -> String {
    m.as_str().to_owned()
}

fn candidate_view(m: Matched) -> CandidateView {
    let e = &m.evaluation;
    CandidateView {
        score: e.score(),
        parts: parts_view(e),
        best_mode: e.best.map(|(b, _)| mode(b)),
        best_minutes: e.best.map(|(_, minutes)| minutes),
        max_travel_minutes: m.limit.minutes(),
        travel: e
            .travel
            .iter()
            .map(|t| TravelView { mode: mode(t.mode), minutes: t.minutes, within_limit: t.within_limit })
            .collect(),
        headroom: headroom_view(e.headroom),
        excluded_because: e.exclusions.iter().map(|x| x.as_str().to_owned()).collect(),
        reasons: reason_views(m.reasons),
        citizen_id: m.citizen_id,
        name: m.citizen_name,
    }
}

fn list_view(c: Candidates) -> CandidateList {
    CandidateList {
        task_id: c.task_id,
        considered: c.considered,
        candidate_count: c.candidate_count,
        excluded_count: c.excluded_count,
        candidates: c.candidates.into_iter().map(candidate_view).collect(),
        excluded: c.excluded.into_iter().map(candidate_view).collect(),
    }
}

fn suggestion_view(s: Suggestion) -> SuggestionView {
    let e = &s.evaluation;
    SuggestionView {
        score: e.score(),
        parts: parts_view(e),
        best_mode: e.best.map(|(b, _)| mode(b)),
        best_minutes: e.best.map(|(_, minutes)| minutes),
        headroom: headroom_view(e.headroom),
        reasons: reason_views(s.reasons),
        task_id: s.task.id,
        title: s.task.title,
        company_name: s.company_name,
        address: s.task.address,
        first_date: s.task.first_date,
    }
}

/// The ranked candidates for a task of the coordinator's municipality, with their score parts,
/// travel times and reasons; every citizen listed is written to the audit log.
#[utoipa::path(
    tag = "matching",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The task's id"), CandidateParams),
    responses(
        (status = 200, body = CandidateList),
        ApiErrors, NotFound, Invalid,
        (status = 422, description = "The task has no work location (`task_without_location`), or the limit is out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tasks/{id}/candidates")]
pub async fn task_candidates(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    params: web::Query<CandidateParams>,
) -> Result<web::Json<CandidateList>, ApiError> {
    principal.coordinator()?;
    let id = parse_id(&id, "task")?;
    let query = CandidateQuery::parse(params.limit, params.include_excluded)?;
    let list = {
        let cache = state.transit.clone();
        state
            .read_audited(move |conn| Ok(matching::candidates(conn, &principal, &id, query, &cache)?.into_parts()))
            .await?
    };
    Ok(web::Json(list_view(list)))
}

/// One page of the open tasks of the citizen's municipality they can take, best first (of at
/// most 500 open tasks), with reasons. It names no other citizen.
#[utoipa::path(
    tag = "matching",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, body = Paged<SuggestionView>),
        ApiErrors, NotFound, Invalid,
    )
)]
#[get("/me/suggestions")]
pub async fn my_suggestions(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<SuggestionView>>, ApiError> {
    parse_id(principal.citizen()?, "citizen")?;
    let page = page.into_inner().page()?;
    let cache = state.transit.clone();
    let list =
        state.read_audited(move |conn| Ok(matching::suggestions(conn, &principal, page, &cache)?.into_parts())).await?;
    let items = list.items.into_iter().map(suggestion_view).collect();
    Ok(web::Json(Paged { items, total: list.total, limit: list.page.limit, offset: list.page.offset }))
}
