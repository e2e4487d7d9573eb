//! Small pieces every JSON route uses: paging, path ids, PATCH bodies, timestamps on the wire.

use chrono::{NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::services::error::Fields;

/// Paging of list endpoints.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items at most (1–200, default 50).
    #[serde(default, deserialize_with = "saturating::optional_i64")]
    pub limit: Option<i64>,
    /// How many items to skip (default 0).
    #[serde(default, deserialize_with = "saturating::optional_i64")]
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
    canonical_id(raw).ok_or_else(|| ApiError::not_found(what))
}

/// A path id read as its typed id: the same form only, and the same 404 naming the kind of
/// record, as [`parse_id`].
pub fn path_id<T: smaajob_domain::RecordId>(raw: &str) -> Result<T, ApiError> {
    T::parse(raw).map_err(|_| ApiError::not_found(T::KIND))
}

/// An id in the one form this API writes, or `None`. A body field that refers to a record
/// answers a malformed id exactly as a well-formed id of no record: the caller maps `None` to the
/// use case's own answer for an unknown record.
pub fn canonical_id(raw: &str) -> Option<String> {
    uuid::Uuid::try_parse(raw).ok().map(|u| u.hyphenated().to_string()).filter(|canonical| canonical == raw)
}

/// A year in a path (`/caps/{year}`): an integer, read as [`saturating`] reads one, so that
/// `2147483648` is out of range like `99999` rather than a path that names nothing; `None` for
/// anything that is not an integer.
pub fn path_year(raw: &str) -> Option<i32> {
    saturating::integer(raw).map(saturating::to_i32)
}

/// A year of the frikort in a path (`/caps/{year}`, `/atp-rates/{year}`): a year outside the ones
/// the frikort covers names no record, like a path that is not a whole number.
pub fn path_cap_year(raw: &str) -> Result<smaajob_domain::CapYear, ApiError> {
    path_year(raw)
        .and_then(|y| smaajob_domain::CapYear::parse(y).ok())
        .ok_or_else(|| ApiError::NotFound("the frikort exists from 2019 to 2100".into()))
}

/// Integers in query strings and paths that are too large for their type are read as the type's
/// largest (or smallest) value, so they meet the same range check, and the same 422, as any other
/// out-of-range number; only a value that is not an integer at all is a 400 (or, in a path, names
/// nothing). Use `#[serde(default, deserialize_with = "crate::http::saturating::optional_i32")]`.
pub mod saturating {
    use serde::{Deserialize, Deserializer, de::Error};

    /// What a value that is not an integer is told.
    const EXPECTED: &str = "expected an integer";

    /// An optional decimal integer (`-`? digits), saturated to `i128`; `None` if not an integer.
    pub fn integer(raw: &str) -> Option<i128> {
        let (negative, digits) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw.strip_prefix('+').unwrap_or(raw)),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let magnitude = digits.parse::<i128>().unwrap_or(i128::MAX);
        Some(if negative { -magnitude } else { magnitude })
    }

    /// Clamps to `i32`.
    pub fn to_i32(v: i128) -> i32 {
        i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX })
    }

    /// Clamps to `i64`.
    pub fn to_i64(v: i128) -> i64 {
        i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
    }

    fn optional<'de, D: Deserializer<'de>>(de: D) -> Result<Option<i128>, D::Error> {
        match Option::<std::borrow::Cow<str>>::deserialize(de)? {
            None => Ok(None),
            Some(s) => integer(&s).map(Some).ok_or_else(|| D::Error::custom(EXPECTED)),
        }
    }

    /// An optional `i32`, saturated.
    pub fn optional_i32<'de, D: Deserializer<'de>>(de: D) -> Result<Option<i32>, D::Error> {
        Ok(optional(de)?.map(to_i32))
    }

    /// An optional `i64`, saturated.
    pub fn optional_i64<'de, D: Deserializer<'de>>(de: D) -> Result<Option<i64>, D::Error> {
        Ok(optional(de)?.map(to_i64))
    }
}

/// Strict serde for dates in request bodies and queries: exactly `YYYY-MM-DD` (chrono alone
/// also takes `2025-3-5`). Use `#[serde(deserialize_with = "crate::http::strict_date::required")]`
/// on a `NaiveDate` and `#[serde(default, deserialize_with = "crate::http::strict_date::optional")]`
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

/// A stored UTC timestamp as an RFC 3339 value.
pub fn utc(t: NaiveDateTime) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&t)
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

    #[test]
    fn integers_too_large_for_their_type_saturate_and_only_non_integers_are_refused() {
        assert_eq!(path_year("2025"), Some(2025));
        assert_eq!(path_year("2147483648"), Some(i32::MAX));
        assert_eq!(path_year("-99999999999999999999999999999999999999999"), Some(i32::MIN));
        assert_eq!(path_year("+7"), Some(7));
        for not_integer in ["", "-", "20x5", "2025.0", " 2025", "1e3", "٢٠٢٥"] {
            assert_eq!(path_year(not_integer), None, "{not_integer}");
        }
        let query = |q: &str| actix_web::web::Query::<PageQuery>::from_query(q).map(|q| q.into_inner());
        let page = query("limit=99999999999999999999&offset=-3").unwrap();
        assert_eq!((page.limit, page.offset), (Some(i64::MAX), Some(-3)));
        assert!(query("limit=ten").is_err());
        let page = query("").unwrap();
        assert_eq!((page.limit, page.offset), (None, None));
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
}
