//! Small-job tasks: a company's work with a schedule, a wage and a number of positions.

use smaajob_domain::Schedule;
use smaajob_persistence::repo::tasks::TaskRow;

use crate::services::error::ServiceError;

/// Reads a stored task's schedule.
pub fn stored_schedule(t: &TaskRow) -> Result<Schedule, ServiceError> {
    serde_json::from_str(&t.schedule).map_err(|e| ServiceError::Internal(format!("stored schedule is corrupt: {e}")))
}
