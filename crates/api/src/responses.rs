//! The error responses operations share, described once for the OpenAPI document.
//!
//! Each shared response is a component (`#/components/responses/Unauthorized`, …) with an
//! `application/problem+json` body. A handler names the sets that fit its inputs and lists only
//! what is special to it after them (its successes, a 409, a more telling description), which
//! overrides a shared entry of the same status:
//!
//! ```text
//! responses(
//!     (status = 200, body = TaskView),
//!     ApiErrors, NotFound, JsonBody,
//!     (status = 409, description = "Only drafts can be changed", body = Problem, content_type = "application/problem+json"),
//! )
//! ```
//!
//! - [`ApiErrors`]: every operation under `/api/v1` (400, 401, 403, 503).
//! - [`NotFound`]: an id in the path or the body names a record (404).
//! - [`Conflict`]: the record's state can refuse the change (409).
//! - [`Invalid`]: query parameters, or a rule the request can break (422).
//! - [`JsonBody`]: a JSON request body (400, 413, 415, 422).

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, response::Response};

use crate::error::PROBLEM_JSON;

/// One shared response: its status, its component name and what it means.
struct Shared {
    status: &'static str,
    name: &'static str,
    description: &'static str,
}

const BAD_REQUEST: Shared = Shared {
    status: "400",
    name: "BadRequest",
    description: "The request cannot be read: a CPR number in the URL (send it in the body), a query \
                  parameter of the wrong type, a body that is not valid JSON, or an `Idempotency-Key` that \
                  is not 1–255 visible ASCII characters",
};
const UNAUTHORIZED: Shared = Shared {
    status: "401",
    name: "Unauthorized",
    description: "No token, or one that is expired, not yet valid, tampered with, or for another issuer or \
                  audience; the answer carries a `WWW-Authenticate` challenge",
};
const FORBIDDEN: Shared = Shared {
    status: "403",
    name: "Forbidden",
    description: "The token's role or scope may not do this (a company whose CVR number is not registered \
                  yet may only register itself)",
};
const NOT_FOUND: Shared = Shared {
    status: "404",
    name: "NotFound",
    description: "No such record, or none the caller may see; an id not written as a lowercase hyphenated \
                  UUID names none",
};
const CONFLICT: Shared = Shared {
    status: "409",
    name: "Conflict",
    description: "The request conflicts with the record's current state, named by `code`",
};
const PAYLOAD_TOO_LARGE: Shared =
    Shared { status: "413", name: "PayloadTooLarge", description: "The body is larger than the server accepts" };
const UNSUPPORTED_MEDIA_TYPE: Shared = Shared {
    status: "415",
    name: "UnsupportedMediaType",
    description: "The body is not sent as JSON (`Content-Type: application/json`)",
};
const INVALID: Shared = Shared {
    status: "422",
    name: "Invalid",
    description: "Invalid fields or parameters, each named in `errors`, or a rule the request breaks, named \
                  by `code`",
};
const UNAVAILABLE: Shared = Shared {
    status: "503",
    name: "Unavailable",
    description: "The database cannot be reached, or the write collided with concurrent writes on every \
                  attempt (`write_conflict`); nothing was saved and the request may be sent again",
};

const ALL: [&Shared; 9] = [
    &BAD_REQUEST,
    &UNAUTHORIZED,
    &FORBIDDEN,
    &NOT_FOUND,
    &CONFLICT,
    &PAYLOAD_TOO_LARGE,
    &UNSUPPORTED_MEDIA_TYPE,
    &INVALID,
    &UNAVAILABLE,
];

fn references(shared: &[&Shared]) -> BTreeMap<String, RefOr<Response>> {
    shared.iter().map(|s| (s.status.to_owned(), RefOr::Ref(Ref::from_response_name(s.name)))).collect()
}

/// The shared responses as components of the document, by name.
pub fn components() -> impl Iterator<Item = (String, RefOr<Response>)> {
    ALL.into_iter().map(|s| {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
        let response = ResponseBuilder::new().description(s.description).content(PROBLEM_JSON, content).build();
        (s.name.to_owned(), RefOr::T(response))
    })
}

/// What any operation under `/api/v1` can answer: 400, 401, 403 and 503.
pub struct ApiErrors;

impl IntoResponses for ApiErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        references(&[&BAD_REQUEST, &UNAUTHORIZED, &FORBIDDEN, &UNAVAILABLE])
    }
}

/// 404: an id in the path (or a reference in the body) names no record the caller may see.
pub struct NotFound;

impl IntoResponses for NotFound {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        references(&[&NOT_FOUND])
    }
}

/// 409: the record's state does not allow the change.
pub struct Conflict;

impl IntoResponses for Conflict {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        references(&[&CONFLICT])
    }
}

/// 422: a query parameter out of range, or a rule of the domain the request breaks.
pub struct Invalid;

impl IntoResponses for Invalid {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        references(&[&INVALID])
    }
}

/// What reading a JSON request body can fail with: 400, 413, 415 and 422.
pub struct JsonBody;

impl IntoResponses for JsonBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        references(&[&BAD_REQUEST, &PAYLOAD_TOO_LARGE, &UNSUPPORTED_MEDIA_TYPE, &INVALID])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shared_reference_names_a_component_of_the_document() {
        let names: Vec<String> = components().map(|(name, _)| name).collect();
        for set in [
            ApiErrors::responses(),
            NotFound::responses(),
            Conflict::responses(),
            Invalid::responses(),
            JsonBody::responses(),
        ] {
            for (status, response) in set {
                let RefOr::Ref(r) = response else { panic!("{status} is not a reference") };
                let name = r.ref_location.trim_start_matches("#/components/responses/");
                assert!(names.iter().any(|n| n == name), "{status} names {name}, which is not a component");
            }
        }
    }
}
