//! The pages' session: who is signed in and the form token, in one cookie sealed with
//! actix-web's private cookie jar (AES-256-GCM, so it is both secret and tamper-evident), with
//! an idle and an absolute time-out. Nothing is kept on the server: every instance that shares
//! the data key reads every other's sessions.
//!
//! Sign-out removes the cookie from the browser. A copy of the cookie taken before sign-out
//! stays usable until its idle or absolute time-out, whichever comes first (there is no
//! server-side list of sessions to strike it from).

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite, time};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use smaajob_domain::MunicipalityCode;
use subtle::ConstantTimeEq;

use crate::oidc::{IssuerKind, PendingSignIn};
use crate::services::principal::{Principal, Role};

/// The cookie's name.
pub const COOKIE: &str = "smaajob_session";
/// A session not used for this long is over.
pub const IDLE_TIMEOUT_SECONDS: i64 = 30 * 60;
/// A session is over this long after sign-in, however busy.
pub const ABSOLUTE_TIMEOUT_SECONDS: i64 = 12 * 60 * 60;
/// A session is re-sealed (its idle clock reset) at most this often.
const REFRESH_AFTER_SECONDS: i64 = 60;

/// Who is signed in, as the session keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    /// The role.
    pub role: Role,
    /// Who acts, as the audit log names them.
    pub sub: String,
    /// The name shown in the page's header.
    pub name: String,
    /// A coordinator's municipality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<String>,
    /// A company's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// A citizen's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizen_id: Option<String>,
    /// The identity provider they signed in at (none: the development sign-in), whose session
    /// sign-out ends too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<IssuerKind>,
}

impl SessionUser {
    /// The principal the use cases act for; `None` when the stored scope does not fit the role
    /// (a session sealed by this server never does that, so it is treated as tampered).
    pub fn principal(&self) -> Option<Principal> {
        let sub = self.sub.clone();
        Some(match self.role {
            Role::Coordinator => Principal::Coordinator {
                sub,
                municipality: MunicipalityCode::parse(self.municipality.as_deref()?).ok()?,
            },
            Role::Company => Principal::Company { sub, company_id: self.company_id.clone()? },
            Role::Citizen => Principal::Citizen { sub, citizen_id: self.citizen_id.clone()? },
            Role::Operator => Principal::Operator { sub },
        })
    }
}

/// One browser's session: signed in or not, always with a form token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Who is signed in; `None` before sign-in (the sign-in form still needs a form token).
    pub user: Option<SessionUser>,
    /// The token every form of this session carries (synchronizer token against CSRF).
    pub csrf: String,
    /// When the session began (seconds since the epoch).
    pub issued_at: i64,
    /// When the session was last used (seconds since the epoch).
    pub seen_at: i64,
    /// A sign-in started at an identity provider: its state, nonce and PKCE verifier, until
    /// the provider sends the browser back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingSignIn>,
}

impl Session {
    /// A new session for `user` (or nobody), with a fresh form token.
    pub fn new(user: Option<SessionUser>, now: i64) -> Session {
        Session {
            user,
            csrf: URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()),
            issued_at: now,
            seen_at: now,
            pending: None,
        }
    }

    /// Whether `sent` is this session's form token (compared in constant time).
    pub fn csrf_matches(&self, sent: &str) -> bool {
        !sent.is_empty() && bool::from(self.csrf.as_bytes().ct_eq(sent.as_bytes()))
    }

    /// Whether either time-out has passed at `now`.
    pub fn expired(&self, now: i64) -> bool {
        now - self.seen_at > IDLE_TIMEOUT_SECONDS || now - self.issued_at > ABSOLUTE_TIMEOUT_SECONDS
    }

    /// Whether the cookie should be sealed again to reset the idle clock.
    pub fn needs_refresh(&self, now: i64) -> bool {
        now - self.seen_at >= REFRESH_AFTER_SECONDS
    }
}

/// What the request's cookie holds.
// Made once per request and taken apart at once: boxing the session would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No session cookie.
    Missing,
    /// A cookie this server did not seal, or sealed with another key.
    Invalid,
    /// A session whose idle or absolute time-out has passed.
    Expired,
    /// A live session.
    Live(Session),
}

/// Seals and opens session cookies.
#[derive(Clone)]
pub struct Sealer {
    key: Key,
    secure: bool,
}

impl Sealer {
    /// A sealer with 64 bytes of key material; `secure` sets the cookie's Secure attribute
    /// (everywhere but on a loopback address, where the browser talks plain HTTP).
    pub fn new(key_material: &[u8; 64], secure: bool) -> Sealer {
        Sealer { key: Key::from(key_material), secure }
    }

    /// Whether cookies carry the Secure attribute.
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// The cookie holding `session`.
    pub fn seal(&self, session: &Session) -> Cookie<'static> {
        let value = serde_json::to_string(session).unwrap_or_default();
        let mut cookie = Cookie::build(COOKIE, value)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::seconds(ABSOLUTE_TIMEOUT_SECONDS))
            .finish();
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(cookie.clone());
        if let Some(sealed) = jar.get(COOKIE) {
            cookie.set_value(sealed.value().to_owned());
        }
        cookie
    }

    /// A cookie that removes the session from the browser.
    pub fn removal(&self) -> Cookie<'static> {
        let mut cookie =
            Cookie::build(COOKIE, "").path("/").http_only(true).secure(self.secure).same_site(SameSite::Lax).finish();
        cookie.make_removal();
        cookie
    }

    /// The session the request carries, at `now`.
    pub fn open(&self, req: &HttpRequest, now: i64) -> Found {
        let Some(cookie) = req.cookie(COOKIE) else { return Found::Missing };
        let mut jar = CookieJar::new();
        jar.add_original(cookie);
        let Some(plain) = jar.private(&self.key).get(COOKIE) else { return Found::Invalid };
        let Ok(session) = serde_json::from_str::<Session>(plain.value()) else { return Found::Invalid };
        if session.user.as_ref().is_some_and(|u| u.principal().is_none()) {
            return Found::Invalid;
        }
        if session.expired(now) { Found::Expired } else { Found::Live(session) }
    }
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_session_times_out_when_idle_and_absolutely() {
        let s = Session::new(None, 1_000);
        assert!(!s.expired(1_000 + IDLE_TIMEOUT_SECONDS));
        assert!(s.expired(1_000 + IDLE_TIMEOUT_SECONDS + 1));
        let busy = Session { seen_at: 1_000 + ABSOLUTE_TIMEOUT_SECONDS, ..s.clone() };
        assert!(!busy.expired(1_000 + ABSOLUTE_TIMEOUT_SECONDS));
        assert!(busy.expired(1_000 + ABSOLUTE_TIMEOUT_SECONDS + 1));
    }

    #[test]
    fn a_form_token_matches_only_itself_and_never_when_empty() {
        let s = Session::new(None, 0);
        assert!(s.csrf_matches(&s.csrf.clone()));
        assert!(!s.csrf_matches(""));
        assert!(!s.csrf_matches("x"));
        assert_ne!(Session::new(None, 0).csrf, s.csrf, "tokens are drawn at random");
    }

    #[test]
    fn a_sealed_cookie_is_http_only_lax_and_secure_unless_told_otherwise() {
        let sealer = Sealer::new(&[7; 64], true);
        let c = sealer.seal(&Session::new(None, 0));
        assert_eq!((c.http_only(), c.secure(), c.same_site()), (Some(true), Some(true), Some(SameSite::Lax)));
        assert!(!c.value().contains("csrf"), "the value is encrypted");
        let loopback = Sealer::new(&[7; 64], false).seal(&Session::new(None, 0));
        assert_eq!(loopback.secure(), Some(false));
    }
}
