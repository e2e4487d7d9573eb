//! The company's pages: the start page (its tasks, its placements, hours waiting for it), the
//! form to post a task with one shift, publishing a draft, and confirming hours a coordinator
//! reported.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;
use smaajob_domain::{ReportStatus, ShiftReportId};
use smaajob_persistence::repo::Page;

use crate::error::ApiError;
use crate::http::{parse_id, path_id};
use crate::pages::layout::{self, Field, csrf_field};
use crate::pages::text::Lang;
use crate::pages::{CsrfOnly, NoticeQuery, SignedIn, see_other, signed_in, signed_in_form};
use crate::services::companies::ContactInput;
use crate::services::error::ServiceError;
use crate::services::hours::{self, Report};
use crate::services::placements::{self, Placement};
use crate::services::tasks::{self, NewTask, NewTaskInput, PlaceInput, ScheduleInput, Task};
use crate::state::AppState;

/// Rows shown at most per list on the start page.
const SHOWN: i64 = 50;

/// `GET /virksomhed`.
pub async fn start(req: HttpRequest, state: web::Data<AppState>, q: web::Query<NoticeQuery>) -> HttpResponse {
    let s = match signed_in(&req).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let principal = s.principal.clone();
    let read = state
        .read(move |conn| {
            let page = Page { limit: SHOWN, offset: 0 };
            let (tasks, _) = tasks::list(conn, &principal, None, page)?;
            let (placements, _) = placements::list(conn, &principal, None, page)?;
            // Hours a coordinator reported on the company's placements wait for the company.
            let mut waiting = Vec::new();
            for p in &placements {
                let (reports, _) = hours::list(conn, &principal, &p.row.id, page)?;
                for r in reports {
                    if r.row.status == ReportStatus::Reported
                        && r.row.reported_by_role == smaajob_domain::Actor::Coordinator
                    {
                        waiting.push((p.clone(), r));
                    }
                }
            }
            Ok((tasks, placements, waiting))
        })
        .await;
    let (tasks, placements, waiting) = match read {
        Ok(v) => v,
        Err(e) => return s.failure(e),
    };
    let t = s.lang.t();
    let notice = match q.ok.as_deref() {
        Some("gemt") => Some(t.task_saved_notice),
        Some("slaaet-op") => Some(t.published_notice),
        Some("bekraeftet") => Some(t.confirmed_notice),
        _ => None,
    };
    let body = html! {
        (layout::notice(notice))
        p { a href="/virksomhed/opgaver/ny" { (t.post_task) } }
        (tasks_card(s.lang, &tasks, &s.session.csrf))
        (hours_card(s.lang, &waiting, &s.session.csrf))
        (placements_card(s.lang, &placements))
    };
    s.page(StatusCode::OK, t.company_start, body)
}

fn tasks_card(lang: Lang, tasks: &[Task], csrf: &str) -> Markup {
    let t = lang.t();
    html! {
        section.card aria-labelledby="opgaver" {
            h2 id="opgaver" { (t.your_tasks) }
            @if tasks.is_empty() { p { (t.no_tasks) } } @else {
                ul.items { @for task in tasks {
                    li {
                        strong { (task.row.title) }
                        p { (lang.shift(task.row.first_date, task.row.last_date)) " · " (lang.per_hour(task.row.hourly_wage))
                            " · " (t.status) ": " (lang.task_status(task.row.status)) }
                        @if task.row.status == smaajob_domain::TaskStatus::Draft {
                            form method="post" action=(format!("/virksomhed/opgaver/{}/slaa-op", task.row.id)) {
                                (csrf_field(csrf))
                                button type="submit" aria-label=(format!("{}: {}", t.publish, task.row.title)) { (t.publish) }
                            }
                        }
                    }
                } }
            }
        }
    }
}

fn hours_card(lang: Lang, waiting: &[(Placement, Report)], csrf: &str) -> Markup {
    let t = lang.t();
    html! {
        section.card aria-labelledby="timer" {
            h2 id="timer" { (t.hours_to_confirm) }
            @if waiting.is_empty() { p { (t.no_hours) } } @else {
                ul.items { @for (p, r) in waiting {
                    li {
                        strong { (p.citizen_name) " · " (p.task_title) }
                        p { (t.shift_date) ": " (lang.date(r.row.shift_date)) " · " (t.worked) ": " (lang.hours(r.row.minutes)) }
                        form method="post" action=(format!("/virksomhed/timer/{}/bekraeft", r.row.id)) {
                            (csrf_field(csrf))
                            button type="submit" aria-label=(format!("{}: {}, {}", t.confirm, p.citizen_name, lang.date(r.row.shift_date))) { (t.confirm) }
                        }
                    }
                } }
            }
        }
    }
}

fn placements_card(lang: Lang, placements: &[Placement]) -> Markup {
    let t = lang.t();
    html! {
        section.card aria-labelledby="placeringer" {
            h2 id="placeringer" { (t.placements) }
            @if placements.is_empty() { p { (t.no_placements) } } @else {
                ul.items { @for p in placements {
                    li { (p.citizen_name) " · " (p.task_title) " · " (lang.placement_state(p.row.state)) }
                } }
            }
        }
    }
}

/// The task form as typed: every field a string, so nothing typed is lost when it comes back.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct TaskForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    wage: String,
    #[serde(default)]
    positions: String,
    #[serde(default)]
    frikort_only: Option<String>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    contact_email: String,
}

/// The form field a use case's field path is shown at.
fn form_field(path: &str) -> &'static str {
    match path {
        "title" => "title",
        "description" => "description",
        "schedule.date" => "date",
        "schedule.start" => "start",
        "schedule.end" | "schedule" => "end",
        "hours_per_shift" => "hours",
        "hourly_wage" => "wage",
        "positions" => "positions",
        "place.address" | "place" => "address",
        "contact.name" => "contact_name",
        "contact.phone" => "contact_phone",
        "contact.email" => "contact_email",
        _ => "title",
    }
}

/// A decimal as a Dane types it (`140,50`, `1.234,50`) in the form the use cases read (`140.50`).
fn decimal(typed: &str) -> String {
    let s = typed.trim();
    if s.contains(',') { s.replace('.', "").replace(',', ".") } else { s.to_owned() }
}

fn optional(typed: &str) -> Option<String> {
    Some(typed.trim().to_owned()).filter(|v| !v.is_empty())
}

fn task_form(lang: Lang, csrf: &str, f: &TaskForm, errors: &HashMap<&'static str, &'static str>) -> Markup {
    let t = lang.t();
    let field = |name: &'static str,
                 label: &'static str,
                 kind: &'static str,
                 value: &str,
                 hint: Option<&'static str>,
                 required: bool| {
        Field { name, label, kind, value, hint, error: errors.get(name).copied(), required, autocomplete: None }
            .render()
    };
    html! {
        @if !errors.is_empty() { p.problem role="alert" { (t.form_has_errors) } }
        form method="post" action="/virksomhed/opgaver" novalidate {
            (csrf_field(csrf))
            (field("title", t.title, "text", &f.title, None, true))
            (field("description", t.description, "textarea", &f.description, None, true))
            (field("date", t.date, "date", &f.date, None, true))
            (field("start", t.start, "time", &f.start, None, true))
            (field("end", t.end, "time", &f.end, None, true))
            (field("hours", t.paid_hours, "text", &f.hours, Some(t.paid_hours_hint), true))
            (field("wage", t.hourly_wage, "text", &f.wage, Some(t.hourly_wage_hint), true))
            (field("positions", t.positions, "number", &f.positions, None, true))
            label.check for="f-frikort_only" {
                input type="checkbox" id="f-frikort_only" name="frikort_only" value="ja" checked[f.frikort_only.is_some()];
                span { (t.frikort_only) }
            }
            (field("address", t.address, "text", &f.address, Some(t.optional), false))
            (field("contact_name", t.contact_name, "text", &f.contact_name, None, true))
            (field("contact_phone", t.contact_phone, "tel", &f.contact_phone, Some(t.optional), false))
            (field("contact_email", t.contact_email, "email", &f.contact_email, Some(t.optional), false))
            p { button type="submit" { (t.save_task) } }
        }
    }
}

/// `GET /virksomhed/opgaver/ny`.
pub async fn new_task_form(req: HttpRequest) -> HttpResponse {
    let s = match signed_in(&req).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    if let Err(e) = s.principal.company() {
        return s.failure(e.into());
    }
    let blank = TaskForm { positions: "1".into(), ..TaskForm::default() };
    s.page(StatusCode::OK, s.lang.t().new_task, task_form(s.lang, &s.session.csrf, &blank, &HashMap::new()))
}

fn form_again(s: &SignedIn, f: &TaskForm, errors: &HashMap<&'static str, &'static str>) -> HttpResponse {
    s.page(StatusCode::UNPROCESSABLE_ENTITY, s.lang.t().new_task, task_form(s.lang, &s.session.csrf, f, errors))
}

/// `POST /virksomhed/opgaver`: the same checks and use case as `POST /api/v1/tasks`; refused
/// fields come back in the form, next to the field, with what was typed.
pub async fn create_task(req: HttpRequest, state: web::Data<AppState>, form: web::Form<TaskForm>) -> HttpResponse {
    let f = form.into_inner();
    let s = match signed_in_form(&req, &f.csrf).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let lang = s.lang;
    let company_id = match tasks::company_of_new_task(&s.principal, None) {
        Ok(id) => id,
        Err(e) => return s.failure(e.into()),
    };
    // The form's own reading: a date the browser did not send as YYYY-MM-DD, a count that is
    // not a whole number. Everything else is the use case's to judge.
    let mut own: HashMap<&'static str, &'static str> = HashMap::new();
    let date = match f.date.trim() {
        "" => None,
        typed => match NaiveDate::parse_from_str(typed, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                own.insert("date", lang.t().err_date);
                None
            }
        },
    };
    let positions = match f.positions.trim().parse::<u32>() {
        Ok(n) => n,
        Err(_) => {
            own.insert(
                "positions",
                if f.positions.trim().is_empty() { lang.t().err_required } else { lang.t().err_whole_number },
            );
            0
        }
    };
    let input = NewTaskInput {
        municipality: None,
        title: f.title.clone(),
        description: f.description.clone(),
        required_skills: Vec::new(),
        place: PlaceInput { address: optional(&f.address), lat: None, lon: None },
        schedule: ScheduleInput {
            kind: "single".into(),
            date,
            weekdays: None,
            start: f.start.trim().to_owned(),
            end: f.end.trim().to_owned(),
            from: None,
            to: None,
        },
        hours_per_shift: decimal(&f.hours),
        hourly_wage: decimal(&f.wage),
        positions,
        frikort_only: f.frikort_only.is_some(),
        contact: ContactInput {
            name: f.contact_name.clone(),
            phone: optional(&f.contact_phone),
            email: optional(&f.contact_email),
        },
    };
    let cmd = match NewTask::parse(company_id, &input, state.wage_floor) {
        Ok(cmd) if own.is_empty() => cmd,
        Ok(_) => return form_again(&s, &f, &own),
        Err(ServiceError::Invalid(issues)) => {
            let mut errors = own;
            for i in issues {
                errors.entry(form_field(&i.field)).or_insert_with(|| lang.field_error(&i.code));
            }
            return form_again(&s, &f, &errors);
        }
        Err(e) => return s.failure(e.into()),
    };
    let principal = s.principal.clone();
    match state.write(move |conn| Ok(tasks::create(conn, &principal, cmd)?)).await {
        Ok(_) => s.finish(see_other("/virksomhed?ok=gemt")),
        Err(ApiError::Validation(fields)) => {
            let errors = fields.iter().map(|p| (form_field(&p.field), lang.field_error(&p.code))).collect();
            form_again(&s, &f, &errors)
        }
        Err(e) => s.failure(e),
    }
}

/// `POST /virksomhed/opgaver/{id}/slaa-op`: the same use case as `POST /api/v1/tasks/{id}/open`.
pub async fn publish_task(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> HttpResponse {
    let s = match signed_in_form(&req, &form.csrf).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let id = match parse_id(&path, "task") {
        Ok(id) => id,
        Err(e) => return s.failure(e),
    };
    let principal = s.principal.clone();
    match state.write(move |conn| Ok(tasks::open(conn, &principal, &id)?)).await {
        Ok(_) => s.finish(see_other("/virksomhed?ok=slaaet-op")),
        Err(e) => s.failure(e),
    }
}

/// `POST /virksomhed/timer/{id}/bekraeft`: the same use case as
/// `POST /api/v1/hours/{id}/confirm`.
pub async fn confirm_hours(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> HttpResponse {
    let s = match signed_in_form(&req, &form.csrf).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let id = match path_id::<ShiftReportId>(&path) {
        Ok(id) => id,
        Err(e) => return s.failure(e),
    };
    let principal = s.principal.clone();
    match state.write(move |conn| Ok(hours::confirm(conn, &principal, &id)?)).await {
        Ok(_) => s.finish(see_other("/virksomhed?ok=bekraeftet")),
        Err(e) => s.failure(e),
    }
}
