//! Temporary: the allocation use cases still answer with the HTTP error type. This turns such an
//! error back into the service error it was made from, so a use case can call them with `?`
//! until they answer with [`ServiceError`] themselves; then this module goes.

use smaajob_persistence::RepoError;

use crate::error::ApiError;
use crate::services::error::{FieldIssue, ServiceError};

impl From<ApiError> for ServiceError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Forbidden(detail) => ServiceError::Forbidden(detail),
            // The allocation code only answers "not found" for a repository's missing row.
            ApiError::NotFound(_) => ServiceError::Repo(RepoError::NotFound),
            ApiError::Conflict { code, detail } => ServiceError::Conflict { code, detail },
            ApiError::Unprocessable { code, detail } => ServiceError::Rule { code, detail },
            ApiError::Validation(problems) => ServiceError::Invalid(
                problems.into_iter().map(|p| FieldIssue::new(p.field, p.code, p.message)).collect(),
            ),
            ApiError::Unavailable(detail) => ServiceError::Repo(RepoError::Connection(detail)),
            ApiError::Internal(detail) => ServiceError::Internal(detail),
            other => ServiceError::Internal(format!("a use case answered with an HTTP-only error: {other}")),
        }
    }
}
