//! The one error type of the API, rendered as RFC 9457 `application/problem+json`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use http_api_problem::HttpApiProblem;
use serde::Serialize;
use smaajob_persistence::{RepoError, TransientError};

use crate::services::error::{Code, FieldIssue, ServiceError};
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field's JSON path, e.g. `cpr` or `home.lat`.
    pub field: String,
    /// A stable machine code, e.g. `cpr_no_such_date`.
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl FieldProblem {
    /// A field problem.
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        FieldProblem { field: field.into(), code: code.into(), message: message.into() }
    }
}

/// A record that stands in the way of a request (a `409` lists them in `obstacles`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ObstacleProblem {
    /// What kind of record, e.g. `shift_report` or `employment`.
    pub kind: String,
    /// Its id.
    pub id: String,
    /// The day it concerns, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<chrono::NaiveDate>,
    /// What it is and what to do, for a person.
    pub message: String,
}

/// An RFC 9457 problem document as this API sends it (for the OpenAPI description).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:smaajob:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence, for a person.
    pub detail: String,
    /// The stable machine code (the last part of `type`).
    pub code: String,
    /// Per-field errors, for validation problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
    /// The records in the way, for conflicts that name them (such as unconfirmed hours).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obstacles: Option<Vec<ObstacleProblem>>,
    /// The request's id (as in the `X-Request-Id` response header), to quote when asking for help.
    pub request_id: String,
}

/// Everything a request can fail with. Each variant has one status and a stable code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request could not be read (malformed JSON, bad query string, bad path).
    #[error("{detail}")]
    BadRequest {
        /// Machine code.
        code: Code,
        /// Human detail.
        detail: String,
    },
    /// 401: no usable credentials. Carries a `WWW-Authenticate` challenge.
    #[error("{detail}")]
    Unauthorized {
        /// Machine code.
        code: Code,
        /// Human detail.
        detail: String,
    },
    /// 403: authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource (or not visible to the caller).
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The methods the path supports.
        allow: Vec<String>,
    },
    /// 409: the request conflicts with the current state.
    #[error("{detail}")]
    Conflict {
        /// Machine code.
        code: Code,
        /// Human detail.
        detail: String,
    },
    /// 409: the request conflicts with the records listed.
    #[error("{detail}")]
    Blocked {
        /// Machine code.
        code: Code,
        /// Human detail.
        detail: String,
        /// The records in the way.
        obstacles: Vec<ObstacleProblem>,
    },
    /// 413: the body is larger than allowed.
    #[error("request body too large (limit {limit} bytes)")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415: the body is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: per-field validation failed.
    #[error("the request has invalid fields")]
    Validation(Vec<FieldProblem>),
    /// 422: well-formed but breaks a domain rule.
    #[error("{detail}")]
    Unprocessable {
        /// Machine code.
        code: Code,
        /// Human detail.
        detail: String,
    },
    /// 429: too many attempts; carries `Retry-After` in seconds.
    #[error("{detail}")]
    TooManyRequests {
        /// Machine code.
        code: Code,
        /// Human detail.
        detail: String,
        /// Whole seconds until the caller may try again.
        retry_after_seconds: u64,
    },
    /// 503: the database cannot be reached.
    #[error("the service is temporarily unavailable")]
    Unavailable(String),
    /// 503: the write kept colliding with concurrent writes (a serialization failure or a
    /// deadlock) after every attempt; nothing was written and the request may be sent again.
    #[error("the change collided with concurrent changes on every attempt; nothing was saved, send it again")]
    WriteConflict(String),
    /// 500: a bug or an unexpected failure; details go to the log only.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A validation problem on one field.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldProblem::new(field, code, message)])
    }

    /// The default 404 for an id the caller cannot see.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::NotFound(format!("no {what} with that id"))
    }

    /// An invalid or missing token.
    pub fn invalid_token(detail: impl Into<String>) -> ApiError {
        ApiError::Unauthorized { code: Code::InvalidToken, detail: detail.into() }
    }

    /// The stable machine code of this error.
    pub fn code(&self) -> Code {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Blocked { code, .. }
            | ApiError::TooManyRequests { code, .. }
            | ApiError::Unprocessable { code, .. } => *code,
            ApiError::Forbidden(_) => Code::Forbidden,
            ApiError::NotFound(_) => Code::NotFound,
            ApiError::MethodNotAllowed { .. } => Code::MethodNotAllowed,
            ApiError::PayloadTooLarge { .. } => Code::PayloadTooLarge,
            ApiError::UnsupportedMediaType(_) => Code::UnsupportedMediaType,
            ApiError::Validation(_) => Code::Validation,
            ApiError::Unavailable(_) => Code::Unavailable,
            ApiError::WriteConflict(_) => Code::WriteConflict,
            ApiError::Internal(_) => Code::Internal,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "Bad request",
            ApiError::Unauthorized { .. } => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound(_) => "Not found",
            ApiError::MethodNotAllowed { .. } => "Method not allowed",
            ApiError::Conflict { .. } | ApiError::Blocked { .. } => "Conflict",
            ApiError::PayloadTooLarge { .. } => "Payload too large",
            ApiError::UnsupportedMediaType(_) => "Unsupported media type",
            ApiError::Validation(_) => "Invalid request",
            ApiError::Unprocessable { .. } => "Rule violated",
            ApiError::TooManyRequests { .. } => "Too many requests",
            ApiError::Unavailable(_) | ApiError::WriteConflict(_) => "Service unavailable",
            ApiError::Internal(_) => "Internal server error",
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> HttpApiProblem {
        let status = self.status_code().as_u16();
        let code = self.code().as_str();
        let detail = match self {
            // Internals stay in the log.
            ApiError::Internal(_) => "an unexpected error occurred; it has been logged".to_owned(),
            ApiError::Unavailable(_) => "the database is unavailable; try again shortly".to_owned(),
            other => other.to_string(),
        };
        let mut p = HttpApiProblem::new(http_api_problem::StatusCode::from_u16(status).unwrap_or_default())
            .type_url(format!("urn:smaajob:problem:{code}"))
            .title(self.title())
            .detail(detail)
            .value("code", &code);
        if let ApiError::Validation(errors) = self {
            p = p.value("errors", errors);
        }
        if let ApiError::Blocked { obstacles, .. } = self {
            p = p.value("obstacles", obstacles);
        }
        p
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } | ApiError::Blocked { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::WriteConflict(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(msg) => tracing::error!(error = %msg, "internal error"),
            ApiError::Unavailable(msg) => tracing::warn!(error = %msg, "database unavailable"),
            ApiError::WriteConflict(msg) => tracing::warn!(error = %msg, "write conflict after every attempt"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            // RFC 6750 § 3.1: a request without credentials gets a challenge without an error code.
            ApiError::Unauthorized { code: Code::MissingToken, .. } => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"smaajob\""));
            }
            ApiError::Unauthorized { detail, .. } => {
                let challenge = format!(
                    "Bearer realm=\"smaajob\", error=\"invalid_token\", error_description=\"{}\"",
                    detail.replace(['"', '\\'], "'")
                );
                res.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            ApiError::MethodNotAllowed { allow } => {
                res.insert_header((header::ALLOW, allow.join(", ")));
            }
            ApiError::TooManyRequests { retry_after_seconds, .. } => {
                res.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            _ => {}
        }
        res.body(self.problem().json_bytes())
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => ApiError::NotFound("not found".into()),
            RepoError::Conflict { constraint } => ApiError::Conflict {
                code: Code::Conflict,
                detail: format!("a record with the same unique value already exists ({constraint})"),
            },
            RepoError::ForeignKey { .. } => ApiError::Unprocessable {
                code: Code::ReferenceMissing,
                detail: "the request refers to a record that does not exist".into(),
            },
            RepoError::Check { constraint } => ApiError::Unprocessable {
                code: Code::ConstraintViolated,
                detail: format!("a stored rule refused the change ({constraint})"),
            },
            RepoError::Connection(msg) => ApiError::Unavailable(msg),
            other if other.is_transient() => ApiError::WriteConflict(other.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<FieldIssue> for FieldProblem {
    fn from(i: FieldIssue) -> Self {
        FieldProblem { field: i.field, code: i.code, message: i.message }
    }
}

impl TransientError for ApiError {
    fn is_transient(&self) -> bool {
        matches!(self, ApiError::WriteConflict(_))
    }
}

/// The one mapping from a use case's failure to an HTTP problem.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(what) => ApiError::not_found(what),
            ServiceError::Forbidden(detail) => ApiError::Forbidden(detail),
            ServiceError::Unregistered => ApiError::Forbidden(ServiceError::Unregistered.to_string()),
            ServiceError::Conflict { code, detail } => ApiError::Conflict { code, detail },
            ServiceError::Blocked { code, detail, obstacles } => ApiError::Blocked {
                code,
                detail,
                obstacles: obstacles
                    .into_iter()
                    .map(|o| ObstacleProblem { kind: o.kind.to_owned(), id: o.id, date: o.date, message: o.message })
                    .collect(),
            },
            ServiceError::Rule { code, detail } => ApiError::Unprocessable { code, detail },
            ServiceError::Throttled { code, detail, retry_after_seconds } => {
                ApiError::TooManyRequests { code, detail, retry_after_seconds }
            }
            ServiceError::Invalid(issues) => ApiError::Validation(issues.into_iter().map(FieldProblem::from).collect()),
            ServiceError::Repo(e) => e.into(),
            ServiceError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<smaajob_persistence::DieselError> for ApiError {
    fn from(e: smaajob_persistence::DieselError) -> Self {
        RepoError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};

    use super::*;

    #[test]
    fn a_serialization_failure_or_deadlock_is_a_transient_503_write_conflict() {
        let failures = [
            DieselError::DatabaseError(
                DatabaseErrorKind::SerializationFailure,
                Box::new("could not serialize".to_owned()),
            ),
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new("deadlock detected".to_owned())),
        ];
        for failure in failures {
            let e = ApiError::from(failure);
            assert!(e.is_transient(), "{e:?}");
            assert_eq!(e.status_code(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(e.code(), Code::WriteConflict);
        }
        let other =
            ApiError::from(DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new("syntax".to_owned())));
        assert!(!other.is_transient());
        assert_eq!(other.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
