//! Small rules the use cases share: the frikort's years, the law's calendar, free text, JSON columns.

use chrono::{NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

use crate::services::error::{Fields, ServiceError};

/// Serializes a value for a JSON text column.
pub fn json<T: Serialize>(v: &T) -> Result<String, ServiceError> {
    serde_json::to_string(v).map_err(|e| ServiceError::internal(e.to_string()))
}

/// A year the frikort covers (2019–2100, the cap table's range), or a 422 on `field`.
pub fn frikort_year(field: &str, year: i32) -> Result<i32, ServiceError> {
    smaajob_domain::CapYear::parse(year)
        .map(smaajob_domain::CapYear::get)
        .map_err(|_| ServiceError::field(field, "out_of_range", "the frikort covers the years 2019 to 2100"))
}

/// Records a `before_scheme` problem on `field` when `date` precedes the scheme (1 January 2019).
pub fn check_not_before_scheme(f: &mut Fields, field: &str, date: NaiveDate) {
    let start = NaiveDate::from_ymd_opt(smaajob_domain::FIRST_CAP_YEAR, 1, 1).unwrap_or(NaiveDate::MIN);
    if date < start {
        f.push(field, "before_scheme", "the frikort scheme started on 2019-01-01");
    }
}

/// Today's date in Europe/Copenhagen, the calendar the law counts in.
pub fn today_copenhagen() -> NaiveDate {
    smaajob_domain::today_in_copenhagen(Utc::now())
}

/// Midnight (Europe/Copenhagen) at the start of a date, as a stored UTC timestamp.
pub fn start_of_day_utc(d: NaiveDate) -> NaiveDateTime {
    smaajob_domain::copenhagen_midnight_utc(d).unwrap_or_else(|| d.and_time(chrono::NaiveTime::MIN))
}

/// Trims an optional free-text field; empty means absent. Longer than `max` chars is a field error.
pub fn optional_text(f: &mut Fields, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    if v.chars().count() > max {
        f.push(field, "too_long", format!("at most {max} characters"));
        return None;
    }
    if v.chars().any(|c| c.is_control() && c != '\n') {
        f.push(field, "control_characters", "control characters are not allowed");
        return None;
    }
    Some(v.to_owned())
}
