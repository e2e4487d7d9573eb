//! Webhook subscriptions: a company keeps its own, coordinators keep their municipality's
//! integrations. A URL must be https (plain http only to the loopback address, and only where
//! the operator allows it for development); a URL into a private network is refused unless the
//! operator allows that. Each subscription has its own signing secret, shown when it is made and
//! when it is replaced, and stored encrypted.

use std::net::{IpAddr, ToSocketAddrs};

use base64::Engine;
use smaajob_domain::notification::{AddressClass, EventType, SubscriptionId, SubscriptionOwner, address_class};
use smaajob_persistence::DbConn;
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::webhooks::{self, SubscriptionRow};
use smaajob_persistence::repo::{Page, now};
use smaajob_persistence::types::{Json, new_record_id};

use crate::services::audit;
use crate::services::error::{Fields, OrNotFound, ServiceError};
use crate::services::principal::Principal;

/// Where webhooks may point, as the operator configured it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Plain `http://` to the loopback address (development and tests).
    pub allow_loopback: bool,
    /// Addresses in private, link-local and other non-public ranges.
    pub allow_private: bool,
}

/// A checked webhook URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// The URL's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Reads a URL and checks where it points under `policy`; a host name is resolved and every
    /// address it resolves to is checked. The field issues name `field`.
    pub fn parse(raw: &str, policy: UrlPolicy, f: &mut Fields, field: &str) -> Option<WebhookUrl> {
        let Ok(url) = url::Url::parse(raw.trim()) else {
            f.push(field, "invalid_url", "not an absolute URL");
            return None;
        };
        if raw.len() > 2000 {
            f.push(field, "too_long", "at most 2000 characters");
            return None;
        }
        if !url.username().is_empty() || url.password().is_some() {
            f.push(field, "credentials_in_url", "put no user name or password in the URL; deliveries are signed");
            return None;
        }
        let Some(host) = url.host_str() else {
            f.push(field, "invalid_url", "the URL names no host");
            return None;
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses: Vec<IpAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            _ => match (host, port).to_socket_addrs() {
                Ok(a) => a.map(|s| s.ip()).collect(),
                Err(_) => {
                    f.push(field, "unresolvable_host", "the host name does not resolve");
                    return None;
                }
            },
        };
        let classes: Vec<AddressClass> = addresses.iter().map(|&ip| address_class(ip)).collect();
        let loopback = !classes.is_empty() && classes.iter().all(|c| *c == AddressClass::Loopback);
        match url.scheme() {
            "https" => {}
            "http" if loopback && policy.allow_loopback => {}
            "http" if loopback => {
                f.push(
                    field,
                    "not_https",
                    "webhook URLs must use https (plain http to the loopback address is for development, and is off)",
                );
                return None;
            }
            _ => {
                f.push(field, "not_https", "webhook URLs must use https");
                return None;
            }
        }
        let refused = classes.iter().any(|c| match c {
            AddressClass::Public => false,
            AddressClass::Loopback => !policy.allow_loopback,
            AddressClass::Private => !policy.allow_private,
        });
        if refused {
            f.push(
                field,
                "private_address",
                "the URL points into a private or local network, which is not allowed here",
            );
            return None;
        }
        Some(WebhookUrl(url.to_string()))
    }
}

/// Reads event type codes: at least one, each known, none twice.
pub fn parse_event_types(raw: &[String], f: &mut Fields, field: &str) -> Vec<EventType> {
    if raw.is_empty() {
        f.push(field, "required", "name at least one event type");
    }
    let mut types = Vec::new();
    for (i, code) in raw.iter().enumerate() {
        match EventType::parse(code) {
            Some(t) if !types.contains(&t) => types.push(t),
            Some(_) => f.push(&format!("{field}[{i}]"), "duplicate", "named twice"),
            None => f.push(
                &format!("{field}[{i}]"),
                "unknown_event_type",
                format!(
                    "not an event type; known: {}",
                    EventType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ),
        }
    }
    types
}

/// A subscription to make.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    /// Where to post.
    pub url: WebhookUrl,
    /// What to post.
    pub event_types: Vec<EventType>,
}

/// A subscription with its secret in the clear, shown once.
#[derive(Debug, Clone)]
pub struct WithSecret {
    /// The subscription.
    pub row: SubscriptionRow,
    /// The signing secret.
    pub secret: String,
}

/// Whose subscriptions the caller keeps: a company its own, a coordinator the municipality's.
fn owner(principal: &Principal) -> Result<(SubscriptionOwner, String), ServiceError> {
    match principal {
        Principal::Company { company_id, .. } => Ok((SubscriptionOwner::Company, company_id.to_string())),
        Principal::Coordinator { municipality, .. } => Ok((SubscriptionOwner::Coordinator, municipality.to_string())),
        Principal::NewCompany { .. } => Err(ServiceError::Unregistered),
        _ => Err(ServiceError::Forbidden(format!(
            "webhook subscriptions are kept by companies and coordinators, not the {} role",
            principal.role().as_str()
        ))),
    }
}

/// Checks the caller may keep subscriptions, before the body is read.
pub fn may_keep(principal: &Principal) -> Result<(), ServiceError> {
    owner(principal).map(|_| ())
}

/// A new signing secret: 32 random bytes, base64, with a prefix that says what it is.
fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn municipality_of(principal: &Principal) -> Option<String> {
    match principal {
        Principal::Coordinator { municipality, .. } => Some(municipality.to_string()),
        _ => None,
    }
}

/// Makes a subscription of the caller's.
pub fn create(
    conn: &mut DbConn,
    principal: &Principal,
    key: &DataKey,
    cmd: &NewSubscription,
) -> Result<WithSecret, ServiceError> {
    let (kind, who) = owner(principal)?;
    let id: SubscriptionId = new_record_id();
    let secret = new_secret();
    let row = SubscriptionRow {
        secret_ciphertext: key.encrypt(id.as_str(), &secret),
        id,
        owner_kind: kind,
        owner: who,
        url: cmd.url.as_str().to_owned(),
        event_types: Json(cmd.event_types.iter().map(|t| t.as_str().to_owned()).collect()),
        created_by: principal.sub().to_owned(),
        created_at: now(),
        secret_rotated_at: None,
    };
    webhooks::insert(conn, &row)?;
    let details = serde_json::json!({ "url": row.url, "event_types": row.event_types.0 });
    audit::record(
        conn,
        audit::entry(
            principal,
            "webhook.created",
            "webhook_subscription",
            row.id.as_str(),
            municipality_of(principal).as_deref(),
            Some(details),
        ),
    )?;
    Ok(WithSecret { row, secret })
}

/// One page of the caller's subscriptions.
pub fn list(conn: &mut DbConn, principal: &Principal, page: Page) -> Result<(Vec<SubscriptionRow>, i64), ServiceError> {
    let (kind, who) = owner(principal)?;
    Ok(webhooks::of_owner(conn, kind, &who, page)?)
}

/// The caller's subscription; another owner's is not found.
fn own(conn: &mut DbConn, principal: &Principal, id: &SubscriptionId) -> Result<SubscriptionRow, ServiceError> {
    let (kind, who) = owner(principal)?;
    let row = webhooks::find(conn, id).or_not_found("webhook subscription")?;
    if row.owner_kind != kind || row.owner != who {
        return Err(ServiceError::NotFound("webhook subscription"));
    }
    Ok(row)
}

/// Replaces the secret of a subscription of the caller's; deliveries from now on are signed
/// with the new one.
pub fn rotate_secret(
    conn: &mut DbConn,
    principal: &Principal,
    key: &DataKey,
    id: &SubscriptionId,
) -> Result<WithSecret, ServiceError> {
    let mut row = own(conn, principal, id)?;
    let secret = new_secret();
    let at = now();
    row.secret_ciphertext = key.encrypt(id.as_str(), &secret);
    row.secret_rotated_at = Some(at);
    webhooks::set_secret(conn, id, &row.secret_ciphertext, at)?;
    audit::record(
        conn,
        audit::entry(
            principal,
            "webhook.secret_rotated",
            "webhook_subscription",
            id.as_str(),
            municipality_of(principal).as_deref(),
            None,
        ),
    )?;
    Ok(WithSecret { row, secret })
}

/// Deletes a subscription of the caller's; messages still queued for it become dead letters.
pub fn delete(conn: &mut DbConn, principal: &Principal, id: &SubscriptionId) -> Result<(), ServiceError> {
    own(conn, principal, id)?;
    webhooks::delete(conn, id)?;
    audit::record(
        conn,
        audit::entry(
            principal,
            "webhook.deleted",
            "webhook_subscription",
            id.as_str(),
            municipality_of(principal).as_deref(),
            None,
        ),
    )?;
    Ok(())
}
