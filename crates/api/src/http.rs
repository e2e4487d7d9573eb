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

/// Checks that a path id is a UUID; anything else cannot name a record, so it is a 404.
pub fn parse_id(raw: &str, what: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(raw).map(|u| u.to_string()).map_err(|_| ApiError::not_found(what))
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
