//! Webhook subscriptions: a URL, the event types sent to it and its signing secret (encrypted).

use diesel::prelude::*;
use smaajob_domain::notification::{SubscriptionId, SubscriptionOwner};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::repo::Page;
use crate::schema::webhook_subscriptions;
use crate::types::{Code, IdText, Json, JsonText};

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_subscriptions, check_for_backend(MultiBackend))]
pub struct SubscriptionRow {
    /// Row id.
    #[diesel(serialize_as = IdText)]
    pub id: SubscriptionId,
    /// A company's or a municipality's coordinators'.
    #[diesel(serialize_as = Code)]
    pub owner_kind: SubscriptionOwner,
    /// The company id or the municipality code.
    pub owner: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The event type codes sent to it.
    #[diesel(serialize_as = JsonText)]
    pub event_types: Json<Vec<String>>,
    /// The signing secret, encrypted with the data key (bound to the row id).
    pub secret_ciphertext: String,
    /// Who created it.
    pub created_by: String,
    /// When (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// When the secret was last replaced (UTC).
    pub secret_rotated_at: Option<chrono::NaiveDateTime>,
}

/// Stores a subscription.
pub fn insert(conn: &mut DbConn, row: &SubscriptionRow) -> Result<(), RepoError> {
    diesel::insert_into(webhook_subscriptions::table).values(row.clone()).execute(conn)?;
    Ok(())
}

/// A subscription by id.
pub fn find(conn: &mut DbConn, id: &SubscriptionId) -> Result<SubscriptionRow, RepoError> {
    Ok(webhook_subscriptions::table.find(id.as_str()).select(SubscriptionRow::as_select()).first(conn)?)
}

/// One page of an owner's subscriptions, oldest first, and how many there are.
pub fn of_owner(
    conn: &mut DbConn,
    kind: SubscriptionOwner,
    owner: &str,
    page: Page,
) -> Result<(Vec<SubscriptionRow>, i64), RepoError> {
    let mine = || {
        webhook_subscriptions::table
            .filter(webhook_subscriptions::owner_kind.eq(Code::from(kind)))
            .filter(webhook_subscriptions::owner.eq(owner))
    };
    let total = mine().count().get_result(conn)?;
    let rows = mine()
        .order((webhook_subscriptions::created_at.asc(), webhook_subscriptions::id.asc()))
        .limit(page.limit)
        .offset(page.offset)
        .select(SubscriptionRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Every subscription of an owner that takes the event type `code`.
pub fn taking(
    conn: &mut DbConn,
    kind: SubscriptionOwner,
    owner: &str,
    code: &str,
) -> Result<Vec<SubscriptionRow>, RepoError> {
    let all: Vec<SubscriptionRow> = webhook_subscriptions::table
        .filter(webhook_subscriptions::owner_kind.eq(Code::from(kind)))
        .filter(webhook_subscriptions::owner.eq(owner))
        .order(webhook_subscriptions::id.asc())
        .select(SubscriptionRow::as_select())
        .load(conn)?;
    Ok(all.into_iter().filter(|s| s.event_types.0.iter().any(|t| t == code)).collect())
}

/// Replaces a subscription's secret.
pub fn set_secret(
    conn: &mut DbConn,
    id: &SubscriptionId,
    secret_ciphertext: &str,
    at: chrono::NaiveDateTime,
) -> Result<(), RepoError> {
    diesel::update(webhook_subscriptions::table.find(id.as_str()))
        .set((
            webhook_subscriptions::secret_ciphertext.eq(secret_ciphertext),
            webhook_subscriptions::secret_rotated_at.eq(Some(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes a subscription.
pub fn delete(conn: &mut DbConn, id: &SubscriptionId) -> Result<(), RepoError> {
    diesel::delete(webhook_subscriptions::table.find(id.as_str())).execute(conn)?;
    Ok(())
}
