//! Domain types in rows: [`Money`] in `BigInt` øre columns, every [`Coded`] enum in `Text`
//! columns, typed ids ([`RecordId`]) in their `Text` columns, and JSON `Text` columns as typed
//! values ([`Json`]), read and written through [`DbConn`](crate::DbConn) on both backends.
//!
//! A stored value that does not read as its type is a deserialization error, never a default
//! (and a [`RepoError::Corrupt`](crate::RepoError::Corrupt) once converted): an unknown code
//! names the kind and the code (`` `archived` is not a known task status ``), and JSON that does
//! not parse, or breaks the type's own rules as a schedule ending before it starts does, names
//! the type. Diesel adds the column's name.
//!
//! # The pattern for a typed row
//!
//! ```no_run
//! use diesel::prelude::*;
//! use smaajob_domain::{Money, PlacementState, Schedule, TaskStatus};
//! use smaajob_persistence::schema::{placements, tasks};
//! use smaajob_persistence::types::{Code, Json, JsonText, NullableOre, Ore};
//! use smaajob_persistence::{DbConn, MultiBackend, RepoError};
//!
//! #[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
//! #[diesel(table_name = tasks, check_for_backend(MultiBackend))]
//! struct TaskFacts {
//!     id: String,
//!     #[diesel(serialize_as = Ore)]
//!     hourly_wage_ore: Money,
//!     #[diesel(serialize_as = Code)]
//!     status: TaskStatus,
//!     #[diesel(serialize_as = JsonText)]
//!     schedule: Json<Schedule>,
//!     #[diesel(serialize_as = JsonText)]
//!     required_skills: Json<Vec<String>>,
//! }
//!
//! #[derive(Debug, Clone, PartialEq, Queryable, Selectable, AsChangeset)]
//! #[diesel(table_name = placements, check_for_backend(MultiBackend))]
//! #[diesel(treat_none_as_null = true)]
//! struct PlacementFacts {
//!     #[diesel(serialize_as = Code)]
//!     state: PlacementState,
//!     #[diesel(serialize_as = NullableOre)]
//!     estimated_pay_ore: Option<Money>,
//! }
//!
//! fn example(conn: &mut DbConn, task: &TaskFacts) -> Result<Vec<TaskFacts>, RepoError> {
//!     // serialize_as derives Insertable/AsChangeset for the owned row only.
//!     diesel::update(tasks::table.find(&task.id)).set(task.clone()).execute(conn)?;
//!     let cheap_open = tasks::table
//!         .filter(tasks::status.eq(Code::from(TaskStatus::Open)))
//!         .filter(tasks::hourly_wage_ore.lt(Ore::from(Money::from_kroner(150))))
//!         .select(TaskFacts::as_select())
//!         .load(conn)?;
//!     Ok(cheap_open)
//! }
//! ```
//!
//! - **Reading** needs nothing on the row: the field types read themselves (`Option<…>` of
//!   them from nullable columns). A new enum or id type is added once to a `text_columns!`
//!   list at the bottom of this file: the orphan rules allow a per-type impl (the backend type
//!   is this crate's) but not one for every `T: Coded` or `T: RecordId`.
//! - **Writing** goes through the local adapters named in `serialize_as` — [`Ore`],
//!   [`NullableOre`], [`Code`], [`IdText`], [`NullableIdText`], [`JsonText`], [`NullableJsonText`] — which diesel fills with
//!   `.into()`. Diesel's `AsExpression` and `ToSql` cannot be implemented here for `Money` or a
//!   domain enum (foreign trait for a foreign type), hence the adapters. They bind on every
//!   backend, since an `INSERT` through `DbConn` is handed to the inner connection's backend.
//! - With `serialize_as`, diesel derives `Insertable`/`AsChangeset` for the owned row only:
//!   write `.values(row.clone())` / `.set(row.clone())`, or take the row by value.
//! - In a filter, convert the value the same way: `tasks::status.eq(Code::from(status))`,
//!   `payouts::wage_ore.ge(Ore::from(amount))`.
//! - A typed row loads only through `DbConn`. Where a statement must run on the inner
//!   connection (a row lock: `repo::lock_row!`), select plain columns such as the key there and
//!   read the typed row through `DbConn` afterwards.
//! - Keep `check_for_backend(MultiBackend)`: a field that cannot be read from its column is then
//!   a compile error at the row rather than at the first query.
//!
//! Where it applies: the øre columns of payouts, adjustments, citizen-years, employments,
//! placements and tasks; coverage, statuses, kinds and states; the JSON of schedules,
//! availability, skills, transport modes and attestations.

use std::fmt;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow, Queryable};
use diesel::expression::AsExpression;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Nullable, Text};
use serde::Serialize;
use serde::de::DeserializeOwned;
use smaajob_domain::coded::{Coded, parse_code};
use smaajob_domain::ids::RecordId;
use smaajob_domain::{
    Actor, AdjustmentCause, CardEventKind, CardId, CardStatus, CitizenId, CompanyId, Coverage, EmploymentId, Money,
    OutsideIncomeId, PaymentMethod, PayoutId, PlacementId, PlacementState, RegisterEntryId, RegisterEntryKind,
    RegisterEntryStatus, RegisterStatementId, ReportStatus, ShiftReportId, StatementStatus, TaskId, TaskStatus,
    Verification,
};

use crate::db::MultiBackend;

type RawValue<'a> = <MultiBackend as Backend>::RawValue<'a>;

// ---------------------------------------------------------------------------------------------
// Money: integer øre in BigInt columns
// ---------------------------------------------------------------------------------------------

impl FromSql<BigInt, MultiBackend> for Money {
    fn from_sql(bytes: RawValue<'_>) -> deserialize::Result<Self> {
        <i64 as FromSql<BigInt, MultiBackend>>::from_sql(bytes).map(Money::from_ore)
    }
}

// What `#[derive(FromSqlRow)]` would write, for this backend only (the type is foreign).
impl Queryable<BigInt, MultiBackend> for Money {
    type Row = Self;

    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

/// Writes a [`Money`] field to a `BigInt` column: `#[diesel(serialize_as = Ore)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = BigInt)]
pub struct Ore(i64);

impl From<Money> for Ore {
    fn from(money: Money) -> Ore {
        Ore(money.ore())
    }
}

impl<DB: Backend> ToSql<BigInt, DB> for Ore
where
    i64: ToSql<BigInt, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.0.to_sql(out)
    }
}

/// Writes an `Option<Money>` field to a `Nullable<BigInt>` column:
/// `#[diesel(serialize_as = NullableOre)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = Nullable<BigInt>)]
pub struct NullableOre(Option<i64>);

impl From<Option<Money>> for NullableOre {
    fn from(money: Option<Money>) -> NullableOre {
        NullableOre(money.map(Money::ore))
    }
}

impl<DB: Backend> ToSql<Nullable<BigInt>, DB> for NullableOre
where
    i64: ToSql<BigInt, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        match &self.0 {
            Some(ore) => ore.to_sql(out),
            None => Ok(IsNull::Yes),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Coded enums: their stable code in Text columns
// ---------------------------------------------------------------------------------------------

/// Reads a code into `T`; an unknown code is an error naming the kind and the code.
fn read_code<T: Coded>(bytes: RawValue<'_>) -> deserialize::Result<T> {
    let code = <String as FromSql<Text, MultiBackend>>::from_sql(bytes)?;
    Ok(parse_code::<T>(&code)?)
}

/// Makes each listed type readable from a `Text` column through `$read` (one line per type: the
/// orphan rules allow these impls per type, since the backend is this crate's, but not for every
/// `T: Coded` or `T: RecordId` at once).
macro_rules! text_columns {
    ($read:ident: $($ty:ty),+ $(,)?) => {$(
        impl FromSql<Text, MultiBackend> for $ty {
            fn from_sql(bytes: RawValue<'_>) -> deserialize::Result<Self> {
                $read(bytes)
            }
        }

        impl Queryable<Text, MultiBackend> for $ty {
            type Row = Self;

            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }
    )+};
}

/// Writes a [`Coded`] enum field to a `Text` column as its code: `#[diesel(serialize_as = Code)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = Text)]
pub struct Code(&'static str);

impl<T: Coded> From<T> for Code {
    fn from(value: T) -> Code {
        Code(value.code())
    }
}

impl<DB: Backend> ToSql<Text, DB> for Code
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.0.to_sql(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Typed ids: their canonical UUID text in Text columns
// ---------------------------------------------------------------------------------------------

/// Reads an id into `T`; text not in the stored form is an error naming the kind and the text.
fn read_id<T: RecordId>(bytes: RawValue<'_>) -> deserialize::Result<T> {
    let text = <String as FromSql<Text, MultiBackend>>::from_sql(bytes)?;
    Ok(T::parse(&text)?)
}

/// Writes a typed id field to a `Text` column as its text: `#[diesel(serialize_as = IdText)]`.
/// In a filter, compare with the id's text: `shift_reports::id.eq(id.as_str())`.
#[derive(Debug, Clone, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = Text)]
pub struct IdText(String);

impl<T: RecordId> From<T> for IdText {
    fn from(id: T) -> IdText {
        IdText(id.as_str().to_owned())
    }
}

impl<DB: Backend> ToSql<Text, DB> for IdText
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.0.as_str().to_sql(out)
    }
}

/// Writes an `Option` of a typed id to a `Nullable<Text>` column:
/// `#[diesel(serialize_as = NullableIdText)]`.
#[derive(Debug, Clone, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = Nullable<Text>)]
pub struct NullableIdText(Option<String>);

impl<T: RecordId> From<Option<T>> for NullableIdText {
    fn from(id: Option<T>) -> NullableIdText {
        NullableIdText(id.map(|id| id.as_str().to_owned()))
    }
}

impl<DB: Backend> ToSql<Nullable<Text>, DB> for NullableIdText
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        match &self.0 {
            Some(text) => text.as_str().to_sql(out),
            None => Ok(IsNull::Yes),
        }
    }
}

/// A new random id of type `T` (a version 4 UUID).
pub fn new_record_id<T: RecordId>() -> T {
    T::from_uuid_bytes(*uuid::Uuid::new_v4().as_bytes())
}

// ---------------------------------------------------------------------------------------------
// JSON in Text columns
// ---------------------------------------------------------------------------------------------

/// A value stored as JSON text. Reading parses it with serde (so a type's own deserialization
/// rules apply); writing goes through [`JsonText`] or [`NullableJsonText`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, FromSqlRow)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromSql<Text, MultiBackend> for Json<T> {
    fn from_sql(bytes: RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, MultiBackend>>::from_sql(bytes)?;
        serde_json::from_str(&text)
            .map(Json)
            .map_err(|e| format!("stored JSON does not read as {}: {e}", std::any::type_name::<T>()).into())
    }
}

/// Serialized JSON, or why the value would not serialize (reported when the row is written,
/// since diesel's `.into()` cannot fail).
#[derive(Clone, PartialEq, Eq)]
struct Serialized(Result<String, String>);

impl Serialized {
    fn of<T: Serialize>(value: &T) -> Serialized {
        Serialized(
            serde_json::to_string(value)
                .map_err(|e| format!("{} does not serialize to JSON: {e}", std::any::type_name::<T>())),
        )
    }

    fn to_sql<'b, DB: Backend>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result
    where
        str: ToSql<Text, DB>,
    {
        match &self.0 {
            Ok(text) => text.as_str().to_sql(out),
            Err(why) => Err(why.clone().into()),
        }
    }
}

impl fmt::Debug for Serialized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Ok(text) => f.write_str(text),
            Err(why) => write!(f, "<{why}>"),
        }
    }
}

/// Writes a [`Json`] field to a `Text` column: `#[diesel(serialize_as = JsonText)]`.
#[derive(Debug, Clone, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = Text)]
pub struct JsonText(Serialized);

impl<T: Serialize> From<Json<T>> for JsonText {
    fn from(value: Json<T>) -> JsonText {
        JsonText(Serialized::of(&value.0))
    }
}

impl<DB: Backend> ToSql<Text, DB> for JsonText
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.0.to_sql(out)
    }
}

/// Writes an `Option<Json<T>>` field to a `Nullable<Text>` column:
/// `#[diesel(serialize_as = NullableJsonText)]`.
#[derive(Debug, Clone, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = Nullable<Text>)]
pub struct NullableJsonText(Option<Serialized>);

impl<T: Serialize> From<Option<Json<T>>> for NullableJsonText {
    fn from(value: Option<Json<T>>) -> NullableJsonText {
        NullableJsonText(value.map(|v| Serialized::of(&v.0)))
    }
}

impl<DB: Backend> ToSql<Nullable<Text>, DB> for NullableJsonText
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        match &self.0 {
            Some(serialized) => serialized.to_sql(out),
            None => Ok(IsNull::Yes),
        }
    }
}

/// Serde for a [`Json`] field of a row that is itself kept as JSON (a citizen's record at the end
/// of a period): the value as a JSON string, exactly as its column holds it, so such copies read
/// the same whether they were written before or after the field was typed.
/// `#[serde(with = "crate::types::json_string")]`.
pub mod json_string {
    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Json;

    /// Writes the value as a string of JSON.
    pub fn serialize<T: Serialize, S: Serializer>(value: &Json<T>, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(&value.0).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    /// Reads a string of JSON as the value.
    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(d: D) -> Result<Json<T>, D::Error> {
        let text = String::deserialize(d)?;
        serde_json::from_str(&text).map(Json).map_err(serde::de::Error::custom)
    }
}

/// [`json_string`] for an `Option<Json<T>>` field: `null`, or the value as a string of JSON.
/// `#[serde(with = "crate::types::nullable_json_string")]`.
pub mod nullable_json_string {
    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Json;

    /// Writes `null`, or the value as a string of JSON.
    pub fn serialize<T: Serialize, S: Serializer>(value: &Option<Json<T>>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => super::json_string::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    /// Reads `null`, or a string of JSON as the value.
    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(d: D) -> Result<Option<Json<T>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| serde_json::from_str(&text).map(Json).map_err(serde::de::Error::custom))
            .transpose()
    }
}

// Every domain enum stored in a Text column. Add each one as its column becomes typed.
text_columns!(read_code:
    Actor, TaskStatus, PlacementState, Coverage, AdjustmentCause, CardStatus, CardEventKind, Verification, ReportStatus,
    StatementStatus, PaymentMethod, RegisterEntryKind, RegisterEntryStatus,
);

// Every typed id stored in a Text column.
text_columns!(read_id:
    CitizenId, CompanyId, TaskId, PlacementId, EmploymentId, PayoutId, CardId, ShiftReportId, OutsideIncomeId,
    RegisterStatementId, RegisterEntryId,
);

// The notifications' codes and ids.
use smaajob_domain::notification::{
    Channel, EventType, MessageId, MessageState, RecipientKind, SubscriptionId, SubscriptionOwner,
};
text_columns!(read_code: EventType, RecipientKind, Channel, MessageState, SubscriptionOwner);
text_columns!(read_id: MessageId, SubscriptionId);
