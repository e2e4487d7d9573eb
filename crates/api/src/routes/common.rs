//! Small pieces every handler module uses: field validation, paging, ids, time.

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use smaajob_domain::FieldError;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, FieldProblem};

/// Collects per-field problems so one response lists every invalid field.
#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<FieldProblem>,
}

impl Fields {
    /// An empty collector.
    pub fn new() -> Fields {
        Fields::default()
    }

    /// Keeps the value, or records the error under `field`.
    pub fn check<T, E: Into<FieldError>>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                let e: FieldError = e.into();
                self.errors.push(FieldProblem::new(field, e.code, e.message));
                None
            }
        }
    }

    /// Like [`Fields::check`] for an optional input.
    pub fn check_opt<T, E: Into<FieldError>>(
        &mut self,
        field: &str,
        result: Option<Result<T, E>>,
    ) -> Option<Option<T>> {
        match result {
            None => Some(None),
            Some(r) => self.check(field, r).map(Some),
        }
    }

    /// Records a problem directly.
    pub fn push(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.errors.push(FieldProblem::new(field, code, message));
    }

    /// Ok when nothing was recorded, else one 422 listing every problem.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.errors)) }
    }
}

/// Unwraps a value checked by [`Fields`] after [`Fields::finish`] succeeded.
pub fn checked<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::Internal("a checked field was missing after validation".into()))
}

/// Paging of list endpoints.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items at most (1–200, default 50).
    pub limit: Option<i64>,
    /// How many items to skip (default 0).
    pub offset: Option<i64>,
}

impl PageQuery {
    /// The validated page.
    pub fn page(self) -> Result<smaajob_persistence::repo::Page, ApiError> {
        let limit = self.limit.unwrap_or(50);
        let offset = self.offset.unwrap_or(0);
        let mut f = Fields::new();
        if !(1..=200).contains(&limit) {
            f.push("limit", "out_of_range", "limit must be between 1 and 200");
        }
        if !(0..=1_000_000).contains(&offset) {
            f.push("offset", "out_of_range", "offset must be between 0 and 1000000");
        }
        f.finish()?;
        Ok(smaajob_persistence::repo::Page { limit, offset })
    }
}

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T: ToSchema> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items match in all.
    pub total: i64,
    /// The page size used.
    pub limit: i64,
    /// The offset used.
    pub offset: i64,
}

/// Checks that a path id is a UUID in the one form this API writes: lowercase and hyphenated.
/// The braced, `urn:uuid:`, simple and upper-case spellings name no resource, so they are a 404
/// like any other string.
pub fn parse_id(raw: &str, what: &str) -> Result<String, ApiError> {
    uuid::Uuid::try_parse(raw)
        .ok()
        .map(|u| u.hyphenated().to_string())
        .filter(|canonical| canonical == raw)
        .ok_or_else(|| ApiError::not_found(what))
}

/// Strict serde for dates in request bodies and queries: exactly `YYYY-MM-DD` (chrono alone
/// also takes `2025-3-5`). Use `#[serde(deserialize_with = "common::strict_date::required")]`
/// on a `NaiveDate` and `#[serde(default, deserialize_with = "common::strict_date::optional")]`
/// on an `Option<NaiveDate>`.
pub mod strict_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, de::Error};

    /// What a refused date is told; it names the form, never the value sent.
    pub const EXPECTED: &str = "a date must be written YYYY-MM-DD, e.g. 2025-03-05";

    /// `YYYY-MM-DD` with four, two and two ASCII digits naming a real day, or `None`.
    pub fn parse(s: &str) -> Option<NaiveDate> {
        let b = s.as_bytes();
        let shaped = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shaped {
            return None;
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    /// A required date.
    pub fn required<'de, D: Deserializer<'de>>(de: D) -> Result<NaiveDate, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(de)?;
        parse(&s).ok_or_else(|| D::Error::custom(EXPECTED))
    }

    /// An optional date (`null` or absent with `#[serde(default)]`).
    pub fn optional<'de, D: Deserializer<'de>>(de: D) -> Result<Option<NaiveDate>, D::Error> {
        match Option::<std::borrow::Cow<str>>::deserialize(de)? {
            None => Ok(None),
            Some(s) => parse(&s).map(Some).ok_or_else(|| D::Error::custom(EXPECTED)),
        }
    }
}

/// For PATCH bodies: distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// Serializes a value for a JSON text column.
pub fn json<T: Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(|e| ApiError::Internal(e.to_string()))
}

/// A year the frikort covers (2019–2100, the cap table's range), or a 422 on `field`.
pub fn frikort_year(field: &str, year: i32) -> Result<i32, ApiError> {
    smaajob_domain::CapYear::parse(year)
        .map(smaajob_domain::CapYear::get)
        .map_err(|_| ApiError::field(field, "out_of_range", "the frikort covers the years 2019 to 2100"))
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
    Utc::now().with_timezone(&chrono_tz::Europe::Copenhagen).date_naive()
}

/// Midnight (Europe/Copenhagen) at the start of a date, as a stored UTC timestamp.
pub fn start_of_day_utc(d: NaiveDate) -> NaiveDateTime {
    smaajob_domain::copenhagen_midnight_utc(d).unwrap_or_else(|| d.and_time(chrono::NaiveTime::MIN))
}

/// The Copenhagen calendar date of a stored UTC timestamp.
pub fn copenhagen_date(utc: NaiveDateTime) -> NaiveDate {
    Utc.from_utc_datetime(&utc).with_timezone(&chrono_tz::Europe::Copenhagen).date_naive()
}

/// A stored UTC timestamp as an RFC 3339 value.
pub fn utc(t: NaiveDateTime) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&t)
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
    if v.chars().any(smaajob_domain::is_hidden_formatting) {
        f.push(field, "invisible_characters", "bidirectional overrides and zero-width characters are not allowed");
        return None;
    }
    Some(v.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::NaiveDate;
    use serde::Deserialize;

    use super::*;

    #[test]
    fn a_path_id_is_accepted_only_in_its_canonical_lowercase_hyphenated_form() {
        let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        assert_eq!(parse_id(id, "citizen").unwrap(), id);
        for other in [
            "67E55044-10B1-426F-9247-BB680E5FE0C8",
            "{67e55044-10b1-426f-9247-bb680e5fe0c8}",
            "urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8",
            "67e5504410b1426f9247bb680e5fe0c8",
            "67e55044-10b1-426f-9247-bb680e5fe0C8",
            " 67e55044-10b1-426f-9247-bb680e5fe0c8",
        ] {
            assert!(matches!(parse_id(other, "citizen"), Err(ApiError::NotFound(_))), "{other}");
        }
    }

    #[derive(Debug, Deserialize)]
    struct Dated {
        #[serde(deserialize_with = "strict_date::required")]
        on: NaiveDate,
        #[serde(default, deserialize_with = "strict_date::optional")]
        until: Option<NaiveDate>,
    }

    fn dated(json: &str) -> Result<Dated, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn strict_dates_accept_exactly_yyyy_mm_dd() {
        let d = dated(r#"{"on":"2025-03-05","until":"2025-12-31"}"#).unwrap();
        assert_eq!(d.on, NaiveDate::from_ymd_opt(2025, 3, 5).unwrap());
        assert_eq!(d.until, NaiveDate::from_ymd_opt(2025, 12, 31));
        assert_eq!(dated(r#"{"on":"2025-03-05"}"#).unwrap().until, None);
        assert_eq!(dated(r#"{"on":"2025-03-05","until":null}"#).unwrap().until, None);
    }

    #[test]
    fn loose_or_impossible_dates_are_refused_without_echoing_them() {
        for bad in [
            "2025-3-5",
            "2025-03-5",
            "25-03-05",
            "+2025-03-05",
            "2025-02-30",
            "2025-03-05T00:00:00",
            " 2025-03-05",
            "２０２５-03-05",
            "20250305",
        ] {
            let err = dated(&format!(r#"{{"on":"{bad}"}}"#)).unwrap_err();
            assert!(err.is_data(), "{bad}: {err}");
            let message = err.to_string();
            assert!(message.contains(strict_date::EXPECTED), "{bad}: {err}");
            assert!(!message.replace(strict_date::EXPECTED, "").contains(bad.trim()), "{bad}: {err}");
            assert!(dated(&format!(r#"{{"on":"2025-03-05","until":"{bad}"}}"#)).is_err(), "{bad}");
        }
    }

    #[test]
    fn free_text_with_bidi_overrides_or_zero_width_characters_is_a_field_error() {
        let mut f = Fields::new();
        assert_eq!(optional_text(&mut f, "note", Some("fin \u{202E}gnin"), 100), None);
        assert_eq!(optional_text(&mut f, "reason", Some("a\u{200B}b"), 100), None);
        assert_eq!(optional_text(&mut f, "ok", Some("Ærligt talt"), 100).as_deref(), Some("Ærligt talt"));
        let Err(ApiError::Validation(errors)) = f.finish() else { panic!("two field errors") };
        let got: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(got, [("note", "invisible_characters"), ("reason", "invisible_characters")]);
    }
}
