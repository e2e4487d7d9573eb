//! The OpenAPI description, collected from the handlers by utoipa-actix-web.

use actix_web::App;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldProblem, ObstacleProblem, Problem};
use crate::routes;

/// The document's static parts; paths and schemas come from the registered handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Småjob API",
        description = "Small jobs and the socialt frikort for a coordinating actor. Amounts are decimal strings in DKK; \
                       errors are RFC 9457 `application/problem+json`; authenticate with `Authorization: Bearer <JWT>`.",
        license(name = "EUPL-1.2")
    ),
    components(schemas(Problem, FieldProblem, ObstacleProblem)),
    modifiers(&BearerAuth, &SharedResponses),
    tags(
        (name = "citizens", description = "Citizens and their own view"),
        (name = "frikort", description = "Frikort cards: issue, deactivate, reactivate, control"),
        (name = "caps", description = "The yearly tax-free amounts, and the yearly ATP rates for casual workers"),
        (name = "companies", description = "Employers"),
        (name = "employments", description = "Registrations of frikort employments (§ 6)"),
        (name = "payouts", description = "Payouts, their exempt/taxable split, reversals and adjustments"),
        (name = "balance", description = "How much of the year's frikort amount is used and left"),
        (name = "outside income", description = "Frikort income registered outside Småjob, and statements from the national register that reconcile it"),
        (name = "register entries", description = "The registrations and corrections a coordinator types into the national frikort solution for the companies"),
        (name = "tasks", description = "Small-job tasks from companies"),
        (name = "placements", description = "Offers, acceptance and approval of citizens on tasks"),
        (name = "matching", description = "Ranked, explained candidates for a task and suggestions for a citizen"),
        (name = "reports", description = "Evidence for the municipality: where transport keeps jobs unfilled"),
        (name = "hours", description = "Hours worked per shift, confirmed for pay"),
        (name = "pay runs", description = "Pay runs: confirmed hours paid on a payment date, previewed first"),
        (name = "queue", description = "The coordinator's queue and time-to-placement statistics"),
        (name = "notifications", description = "Signed webhooks for companies and coordinators' integrations, and the dead letters of the notifications' outbox"),
        (name = "audit", description = "Who read or changed what"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

/// The error responses the handlers share by reference (see [`crate::responses`]).
struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.responses.extend(crate::responses::components());
    }
}

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// The full OpenAPI document of this server.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(utoipa_actix_web::scope("/api/v1").configure(routes::api_v1))
        .service(routes::ops::healthz)
        .service(routes::ops::readyz)
        .split_for_parts();
    api
}

/// The document as committed in `openapi/openapi.json`: pretty JSON with a final newline.
pub fn spec_json() -> String {
    let mut s = spec().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
