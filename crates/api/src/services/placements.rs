//! Placements: a coordinator offers a task to a citizen (or turns a citizen's interest into an
//! offer), the citizen accepts or declines, and the coordinator approves — which registers the
//! employment on the company's behalf — or rejects. Cancel and no-show end a placement and free
//! its position.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDateTime};
use smaajob_domain::{
    Actor, CardCoverage, CompanyId, Money, PlacementAction, PlacementState, Schedule, TaskAction, TaskStatus,
    TransitionError, Verification, YearTotals, card_coverage, estimated_pay, has_free_position, holiday_pay,
    placement_transition,
};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::citizens::{self, CitizenRow};
use smaajob_persistence::repo::companies::{self, CompanyRow};
use smaajob_persistence::repo::employments::{self, EmploymentRow};
use smaajob_persistence::repo::placements::{self, PlacementRow, PlacementScope};
use smaajob_persistence::repo::tasks::{self, TaskRow};
use smaajob_persistence::repo::{Page, accounting, new_id, now};
use smaajob_persistence::types::new_record_id;

use crate::services::allocation::{cap_for, card_periods};
use crate::services::audit;
use crate::services::common::today_copenhagen;
use crate::services::error::{Code, ServiceError};
use crate::services::notifications::events;
use crate::services::planning::planned_shifts;
use crate::services::principal::Principal;
use crate::services::scope::{self, ScopedPlacement, ScopedTask};
use crate::services::tasks::{holds_active_card, next_status, stored_paid_minutes};

/// A stored placement, read, with what its views name: the task's title and company, the
/// citizen's name.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The placement as stored.
    pub row: PlacementRow,
    /// The task's title.
    pub task_title: String,
    /// The task's company.
    pub company_id: CompanyId,
    /// The citizen's name.
    pub citizen_name: String,
}

impl Placement {
    fn read(row: PlacementRow, task: &TaskRow, citizen_name: String) -> Result<Placement, ServiceError> {
        Ok(Placement { task_title: task.title.clone(), company_id: task.company_id.clone(), citizen_name, row })
    }
}

fn actor(principal: &Principal) -> Result<Actor, ServiceError> {
    principal.actor().ok_or_else(scope::no_personal_data)
}

/// The state after the principal's step, or why not: another role's step is forbidden, a step
/// the state does not allow is `illegal_transition`.
fn transition(
    current: Option<PlacementState>,
    action: PlacementAction,
    principal: &Principal,
) -> Result<PlacementState, ServiceError> {
    placement_transition(current, action, actor(principal)?).map_err(|e| match e {
        TransitionError::WrongActor { .. } => ServiceError::Forbidden(e.to_string()),
        _ => ServiceError::conflict(Code::IllegalTransition, e.to_string()),
    })
}

fn new_row(task_id: &str, citizen_id: &str, state: PlacementState, at: NaiveDateTime) -> PlacementRow {
    PlacementRow {
        id: new_id(),
        task_id: task_id.to_owned(),
        citizen_id: citizen_id.to_owned(),
        state,
        interested_at: None,
        offered_at: None,
        offered_by: None,
        answered_at: None,
        approved_at: None,
        decided_at: None,
        decided_by: None,
        reason: None,
        employment_id: None,
        estimated_pay: None,
        estimated_taxable: None,
        created_at: at,
        updated_at: at,
    }
}

fn placement_exists() -> ServiceError {
    ServiceError::conflict(Code::PlacementExists, "the citizen already has a live placement on this task")
}

fn task_not_open() -> ServiceError {
    ServiceError::conflict(Code::TaskNotOpen, "only open tasks can be offered")
}

/// An offer of a task to a citizen.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The task.
    pub task_id: String,
    /// The citizen.
    pub citizen_id: String,
}

/// Offers an open task to a citizen of the coordinator's municipality who has no live placement
/// on it.
pub fn offer(conn: &mut DbConn, principal: &Principal, cmd: &Offer) -> Result<Placement, ServiceError> {
    let own = principal.coordinator()?;
    let ScopedTask { task, .. } = scope::task(conn, principal, &cmd.task_id)?;
    let citizen = scope::citizen(conn, own, &cmd.citizen_id)?.citizen;
    if task.status != TaskStatus::Open {
        return Err(task_not_open());
    }
    if placements::live_for(conn, &cmd.task_id, &cmd.citizen_id)?.is_some() {
        return Err(placement_exists());
    }
    let at = now();
    let state = transition(None, PlacementAction::Offer, principal)?;
    let mut p = new_row(&cmd.task_id, &cmd.citizen_id, state, at);
    (p.offered_at, p.offered_by) = (Some(at), Some(principal.sub().to_owned()));
    placements::insert(conn, &p)?;
    let details = serde_json::json!({ "task_id": cmd.task_id, "citizen_id": cmd.citizen_id });
    audit::record(
        conn,
        audit::entry(principal, "placement.offered", "placement", &p.id, Some(&citizen.municipality), Some(details)),
    )?;
    events::placement_step(conn, PlacementAction::Offer, &p.id, &task, &citizen)?;
    Placement::read(p, &task, citizen.name)
}

/// The calling citizen says they are interested in an open task of their municipality.
pub fn show_interest(conn: &mut DbConn, principal: &Principal, task_id: &str) -> Result<Placement, ServiceError> {
    let citizen_id = principal.citizen()?;
    let ScopedTask { task, .. } = scope::task(conn, principal, task_id)?;
    if task.frikort_only && !holds_active_card(conn, citizen_id)? {
        return Err(ServiceError::NotFound("task"));
    }
    if placements::live_for(conn, task_id, citizen_id)?.is_some() {
        return Err(placement_exists());
    }
    let (citizen, _) = citizens::find(conn, citizen_id)?;
    let at = now();
    let state = transition(None, PlacementAction::ShowInterest, principal)?;
    let mut p = new_row(task_id, citizen_id, state, at);
    p.interested_at = Some(at);
    placements::insert(conn, &p)?;
    let details = serde_json::json!({ "task_id": task_id });
    audit::record(
        conn,
        audit::entry(principal, "placement.interested", "placement", &p.id, Some(&citizen.municipality), Some(details)),
    )?;
    Placement::read(p, &task, citizen.name)
}

/// The state filter of a placement list: absent, or a placement state (a field error otherwise).
pub fn state_filter(raw: Option<&str>) -> Result<Option<PlacementState>, ServiceError> {
    raw.map(|s| {
        PlacementState::parse(s).ok_or_else(|| ServiceError::field("state", "state_filter", "not a placement state"))
    })
    .transpose()
}

type Listed = Result<(Vec<Placement>, i64), ServiceError>;

fn page_of(conn: &mut DbConn, scope: &PlacementScope, state: Option<PlacementState>, page: Page) -> Listed {
    let (rows, total) = placements::list(conn, scope, state, page)?;
    let items = rows.into_iter().map(|(p, t, name)| Placement::read(p, &t, name)).collect::<Result<_, _>>()?;
    Ok((items, total))
}

/// One page of placements, newest first, and the total: a coordinator the municipality's
/// citizens', a company those approved on its tasks, a citizen their own.
pub fn list(conn: &mut DbConn, principal: &Principal, state: Option<PlacementState>, page: Page) -> Listed {
    let scope = match principal {
        Principal::Coordinator { municipality, .. } => PlacementScope::Municipality(municipality.to_string()),
        Principal::Company { company_id, .. } => PlacementScope::Company(company_id.clone()),
        Principal::Citizen { citizen_id, .. } => PlacementScope::Citizen(citizen_id.clone()),
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered),
        Principal::Operator { .. } => return Err(scope::no_personal_data()),
    };
    page_of(conn, &scope, state, page)
}

/// One page of the calling citizen's open offers, and the total.
pub fn my_offers(conn: &mut DbConn, principal: &Principal, page: Page) -> Listed {
    let scope = PlacementScope::Citizen(principal.citizen()?.to_owned());
    page_of(conn, &scope, Some(PlacementState::Offered), page)
}

/// One placement the caller may see.
pub fn get(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<Placement, ServiceError> {
    let ScopedPlacement { placement, task, citizen } = scope::placement(conn, principal, id)?;
    Placement::read(placement, &task, citizen.name)
}

/// The coordinator turns a citizen's interest into an offer of the (open) task.
pub fn offer_interest(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    reason: Option<String>,
) -> Result<Placement, ServiceError> {
    step(conn, principal, id, PlacementAction::Offer, reason)
}

/// The citizen accepts an offer.
pub fn accept(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    reason: Option<String>,
) -> Result<Placement, ServiceError> {
    step(conn, principal, id, PlacementAction::Accept, reason)
}

/// The citizen declines an offer.
pub fn decline(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    reason: Option<String>,
) -> Result<Placement, ServiceError> {
    step(conn, principal, id, PlacementAction::Decline, reason)
}

/// The coordinator rejects an accepted placement, saying why.
pub fn reject(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    reason: Option<String>,
) -> Result<Placement, ServiceError> {
    if reason.is_none() {
        return Err(ServiceError::field("reason", "required", "give the reason"));
    }
    step(conn, principal, id, PlacementAction::Reject, reason)
}

/// Cancels a placement; an approved one frees its position.
pub fn cancel(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    reason: Option<String>,
) -> Result<Placement, ServiceError> {
    step(conn, principal, id, PlacementAction::Cancel, reason)
}

/// Records that an approved citizen did not show up; the position frees up.
pub fn no_show(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    reason: Option<String>,
) -> Result<Placement, ServiceError> {
    step(conn, principal, id, PlacementAction::NoShow, reason)
}

/// A plain lifecycle step: the transition, its timestamps and reason, and a filled task reopened
/// when the step frees a position.
fn step(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    action: PlacementAction,
    reason: Option<String>,
) -> Result<Placement, ServiceError> {
    let ScopedPlacement { placement, task, citizen } = scope::placement(conn, principal, id)?;
    // The task row is locked first, like an approval, so a freed position is seen whole.
    let mut task = tasks::lock(conn, &task.id)?;
    let (mut p, _, _) = placements::find(conn, &placement.id)?;
    let before = p.state;
    let after = transition(Some(before), action, principal)?;
    let task_status = task.status;
    if action == PlacementAction::Offer && task_status != TaskStatus::Open {
        return Err(task_not_open());
    }
    let at = now();
    match action {
        PlacementAction::Offer => (p.offered_at, p.offered_by) = (Some(at), Some(principal.sub().to_owned())),
        PlacementAction::Accept | PlacementAction::Decline => p.answered_at = Some(at),
        _ => (p.decided_at, p.decided_by) = (Some(at), Some(principal.sub().to_owned())),
    }
    if reason.is_some() {
        p.reason = reason.clone();
    }
    p.state = after;
    p.updated_at = at;
    placements::update(conn, &p)?;
    // A position held by an approved placement is free again.
    if before.holds_position() && !after.holds_position() && task_status == TaskStatus::Filled {
        task.status = next_status(&task, TaskAction::Reopen)?;
        task.updated_at = at;
        tasks::update(conn, &task)?;
    }
    let details = serde_json::json!({ "from": before.as_str(), "to": after.as_str(), "reason": reason });
    audit::record(
        conn,
        audit::entry(
            principal,
            &format!("placement.{}", action.as_str()),
            "placement",
            id,
            Some(&citizen.municipality),
            Some(details),
        ),
    )?;
    events::placement_step(conn, action, id, &task, &citizen)?;
    Placement::read(p, &task, citizen.name)
}

/// An approval: the placement, the employment registered for it on the company's behalf, and
/// the pay expected from it.
#[derive(Debug, Clone)]
pub struct Approval {
    /// The approved placement.
    pub placement: Placement,
    /// The employment registered (§ 6).
    pub employment: EmploymentRow,
    /// The employer's name.
    pub company_name: String,
    /// Expected pay for the remaining shifts (wage and holiday pay).
    pub estimated_pay: Money,
    /// The part of it expected above the citizen's remaining frikort amount: taxable.
    pub estimated_taxable: Money,
}

/// The task is open: a filled one has `no_free_position`, any other status `task_not_open`.
fn check_task_open(task: &TaskRow) -> Result<(), ServiceError> {
    match task.status {
        TaskStatus::Open => Ok(()),
        TaskStatus::Filled => Err(ServiceError::conflict(Code::NoFreePosition, "the task is filled")),
        other => Err(ServiceError::conflict(Code::TaskNotOpen, format!("the task is {other}"))),
    }
}

/// A position of the task is free.
fn check_free_position(approved: u32, positions: u32) -> Result<(), ServiceError> {
    if has_free_position(approved, positions) {
        Ok(())
    } else {
        Err(ServiceError::conflict(Code::NoFreePosition, "every position of the task is taken"))
    }
}

/// A coordinator has verified the company.
fn check_company_verified(company: &CompanyRow) -> Result<(), ServiceError> {
    if company.verification == Verification::Verified {
        Ok(())
    } else {
        Err(ServiceError::conflict(Code::CompanyNotVerified, "the company is not verified"))
    }
}

/// A frikort-only task needs a card active through its whole schedule.
fn check_card_through_schedule(
    conn: &mut DbConn,
    task: &TaskRow,
    citizen_id: &str,
    has_card: bool,
    schedule: &Schedule,
) -> Result<(), ServiceError> {
    if !task.frikort_only {
        return Ok(());
    }
    if has_card
        && card_coverage(&card_periods(conn, citizen_id)?, schedule.first_date(), schedule.last_date())
            == CardCoverage::Whole
    {
        return Ok(());
    }
    Err(ServiceError::rule(
        Code::NoActiveCardForSchedule,
        "the task is for frikort holders and the citizen's card is not active through the whole schedule",
    ))
}

/// The schedule overlaps none of the citizen's approved placements.
fn check_no_overlap(others: &[(TaskRow, Schedule)], schedule: &Schedule) -> Result<(), ServiceError> {
    match others.iter().find(|(_, s)| s.overlaps(schedule)) {
        None => Ok(()),
        Some((clash, _)) => Err(ServiceError::conflict(
            Code::OverlappingPlacement,
            format!("the schedule overlaps the citizen's approved placement on \"{}\"", clash.title),
        )),
    }
}

/// With this placement, no week holds more hours than the citizen said they can work.
fn check_weekly_hours(
    citizen: &CitizenRow,
    task: &TaskRow,
    schedule: &Schedule,
    others: &[(TaskRow, Schedule)],
) -> Result<(), ServiceError> {
    let Some(limit) = citizen.availability.max_hours_per_week() else { return Ok(()) };
    let mut minutes = schedule.max_minutes_in_a_week(stored_paid_minutes(task)?);
    for (t, s) in others {
        minutes += s.max_minutes_in_a_week(stored_paid_minutes(t)?);
    }
    if minutes > u32::from(limit) * 60 {
        return Err(ServiceError::rule(
            Code::WeeklyHoursExceeded,
            format!(
                "up to {:.1} hours a week with this placement; the citizen's limit is {limit}",
                f64::from(minutes) / 60.0
            ),
        ));
    }
    Ok(())
}

/// Expected pay above the remaining frikort amount needs the coordinator's explicit consent.
fn check_frikort_headroom(
    has_card: bool,
    estimated: Money,
    taxable: Money,
    accept_taxable_excess: bool,
) -> Result<(), ServiceError> {
    if has_card && taxable.is_positive() && !accept_taxable_excess {
        return Err(ServiceError::rule(
            Code::WouldExceedFrikort,
            format!(
                "the expected pay of {estimated} kr would exceed the citizen's remaining frikort amount by about {taxable} kr, which would be taxable; approve with accept_taxable_excess: true to go ahead"
            ),
        ));
    }
    Ok(())
}

/// Expected pay per year from today (wage plus holiday pay), and the part above what is left of
/// the frikort after what is earned and what the citizen's other approved placements will pay.
fn estimate(
    conn: &mut DbConn,
    citizen_id: &str,
    task: &TaskRow,
    schedule: &Schedule,
) -> Result<(Money, Money), ServiceError> {
    let today = today_copenhagen();
    let mine: BTreeMap<i32, i64> = estimated_pay(schedule, stored_paid_minutes(task)?, task.hourly_wage, today)
        .into_iter()
        .map(|(y, w)| (y, w.ore() + holiday_pay(w).ore()))
        .collect();
    let mut planned_per_year: BTreeMap<i32, i64> = BTreeMap::new();
    for (date, gross) in planned_shifts(conn, citizen_id, today)? {
        *planned_per_year.entry(date.year()).or_default() += gross.ore();
    }
    let (mut total, mut taxable) = (0i64, 0i64);
    for (year, pay) in mine {
        let cap = cap_for(conn, year)?.amount.money();
        let exempt = accounting::find_year(conn, citizen_id, year)?.map_or(Money::ZERO, |y| y.exempt);
        // What is left after the shifts already planned in the year.
        let remaining = YearTotals { exempt, ..YearTotals::empty(cap) }.remaining().ore();
        let left = (remaining - planned_per_year.get(&year).copied().unwrap_or(0)).max(0);
        total += pay;
        taxable += (pay - left).max(0);
    }
    Ok((Money::from_ore(total), Money::from_ore(taxable)))
}

/// Approves an accepted placement (coordinators) after the named checks, each with its own
/// problem code: [`check_task_open`], [`check_free_position`], [`check_company_verified`],
/// [`check_card_through_schedule`], [`check_no_overlap`], [`check_weekly_hours`] and
/// [`check_frikort_headroom`] (passed with `accept_taxable_excess`). Approval registers the
/// employment with the task's contact person on the company's behalf, and fills the task when
/// it takes the last position.
pub fn approve(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    accept_taxable_excess: bool,
) -> Result<Approval, ServiceError> {
    principal.coordinator()?;
    let ScopedPlacement { placement, task, citizen } = scope::placement(conn, principal, id)?;
    // Lock the task before counting positions: two approvals for the last position serialize
    // here and the second sees it taken.
    let mut task = tasks::lock(conn, &task.id)?;
    // Then the citizen: two approvals of one citizen for different tasks must not both pass the
    // overlap, weekly-hours and headroom checks. (Always task, then citizen.)
    citizens::lock(conn, &citizen.id)?;
    let (mut p, _, _) = placements::find(conn, &placement.id)?;
    let after = transition(Some(p.state), PlacementAction::Approve, principal)?;
    check_task_open(&task)?;
    let approved = placements::approved_count(conn, &task.id)?;
    let approved = u32::try_from(approved)
        .map_err(|_| ServiceError::internal(format!("{approved} approved placements is not a count")))?;
    let positions = u32::try_from(task.positions)
        .map_err(|_| ServiceError::internal(format!("stored positions {} are negative", task.positions)))?;
    check_free_position(approved, positions)?;
    let company = companies::find(conn, &task.company_id)?;
    check_company_verified(&company)?;
    let schedule = task.schedule.0.clone();
    let has_card = holds_active_card(conn, &citizen.id)?;
    check_card_through_schedule(conn, &task, &citizen.id, has_card, &schedule)?;
    let others: Vec<(TaskRow, Schedule)> = placements::approved_of_citizen(conn, &citizen.id)?
        .into_iter()
        .map(|(_, t)| {
            let schedule = t.schedule.0.clone();
            (t, schedule)
        })
        .collect();
    check_no_overlap(&others, &schedule)?;
    check_weekly_hours(&citizen, &task, &schedule, &others)?;
    let (estimated, taxable) = estimate(conn, &citizen.id, &task, &schedule)?;
    // Without a card every krone is taxable.
    let taxable = if has_card { taxable } else { estimated };
    check_frikort_headroom(has_card, estimated, taxable, accept_taxable_excess)?;

    let at = now();
    let weekly_minutes = schedule.max_minutes_in_a_week(stored_paid_minutes(&task)?);
    let employment = EmploymentRow {
        id: new_record_id(),
        citizen_id: citizen.id.clone(),
        company_id: task.company_id.clone(),
        start_date: schedule.first_date(),
        end_date: Some(schedule.last_date()),
        expected_hours_per_week: Some(f64::from(weekly_minutes) / 60.0),
        expected_pay: Some(estimated),
        contact_name: task.contact_name.clone(),
        contact_phone: task.contact_phone.clone(),
        contact_email: task.contact_email.clone(),
        registered_at: at,
        registered_by: principal.sub().to_owned(),
        registered_by_role: actor(principal)?,
        ended_at: None,
        end_reason: None,
    };
    employments::insert(conn, &employment)?;
    p.state = after;
    (p.approved_at, p.decided_at, p.decided_by) = (Some(at), Some(at), Some(principal.sub().to_owned()));
    p.employment_id = Some(employment.id.clone());
    (p.estimated_pay, p.estimated_taxable) = (Some(estimated), Some(taxable));
    p.updated_at = at;
    placements::update(conn, &p)?;
    if !has_free_position(approved + 1, positions) {
        task.status = next_status(&task, TaskAction::Fill)?;
        task.filled_at = Some(at);
        task.updated_at = at;
        tasks::update(conn, &task)?;
    }
    let details = serde_json::json!({
        "task_id": task.id, "employment_id": employment.id,
        "estimated_pay": estimated.to_string(), "estimated_taxable": taxable.to_string(),
    });
    let m = Some(citizen.municipality.as_str());
    audit::record(conn, audit::entry(principal, "placement.approved", "placement", id, m, Some(details)))?;
    let details = serde_json::json!({ "company_id": task.company_id, "placement_id": id });
    audit::record(
        conn,
        audit::entry(principal, "employment.registered", "employment", employment.id.as_str(), m, Some(details)),
    )?;
    events::placement_approved(conn, id, employment.id.as_str(), &task, &citizen)?;
    Ok(Approval {
        placement: Placement::read(p, &task, citizen.name)?,
        employment,
        company_name: company.name,
        estimated_pay: estimated,
        estimated_taxable: taxable,
    })
}

/// Whether the placement was ever approved, so hours can be reported for its shifts.
pub fn was_approved(p: &PlacementRow) -> bool {
    p.approved_at.is_some() && p.employment_id.is_some()
}
