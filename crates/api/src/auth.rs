//! Bearer-token authentication: HS256 with a shared secret (embedded default) or RS256/ES256
//! against a PEM public key, a JWKS file or a JWKS URL (an external identity provider; see
//! [`crate::jwks`] for how its keys are cached and refreshed). Issuer, audience, expiry and
//! not-before are always checked; `alg: none` and unexpected algorithms are refused.
//!
//! A citizen's token names them by Småjob's id (`citizen_id`, development tokens) or by the
//! CPR number an identity provider asserts (`cpr`), which is looked up by its keyed hash and
//! never logged.

use std::sync::Arc;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use futures_util::future::LocalBoxFuture;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use smaajob_domain::{Cpr, Cvr, MunicipalityCode};
use smaajob_persistence::repo::{citizens, companies};

use crate::error::ApiError;
use crate::jwks::RemoteJwks;
use crate::services::error::Code;
use crate::services::principal::Principal;
pub use crate::services::principal::Role;
use crate::state::AppState;

/// Allowed clock skew between the token issuer and this server.
const LEEWAY_SECONDS: u64 = 30;

/// The claims of a Småjob token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: the person or system acting.
    pub sub: String,
    /// The role.
    pub role: Role,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issuer: must equal the configured `SMAAJOB_JWT_ISSUER`.
    pub iss: String,
    /// Audience: one value or a list (RFC 7519 § 4.1.3).
    pub aud: Audience,
    /// Coordinator scope: the municipality code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<String>,
    /// Company scope: the company id (Småjob's own development tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// Company scope: the CVR number, as an identity provider for businesses asserts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvr: Option<String>,
    /// Citizen scope: the citizen id (Småjob's own development tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizen_id: Option<String>,
    /// Citizen scope: the CPR number, as an identity provider for citizens asserts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpr: Option<String>,
}

/// The `aud` claim: identity providers often send a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl From<&str> for Audience {
    fn from(s: &str) -> Self {
        Audience::One(s.to_owned())
    }
}

impl From<String> for Audience {
    fn from(s: String) -> Self {
        Audience::One(s)
    }
}

impl Claims {
    fn into_principal(self) -> Result<Claimed, ApiError> {
        let c = self;
        let missing = |scope: &str| {
            ApiError::invalid_token(format!("a {} token must carry the `{scope}` claim", c.role.as_str()))
        };
        Ok(Claimed::Ready(match c.role {
            Role::Operator => {
                // The operator acts for the whole scheme: a scope claim would mean the token was
                // meant for someone else, so it is refused rather than ignored.
                let scoped = c.municipality.is_some()
                    || c.company_id.is_some()
                    || c.cvr.is_some()
                    || c.citizen_id.is_some()
                    || c.cpr.is_some();
                if scoped {
                    return Err(ApiError::invalid_token(
                        "an operator token carries no `municipality`, `company_id`, `cvr`, `citizen_id` or `cpr` claim",
                    ));
                }
                Principal::Operator { sub: c.sub }
            }
            Role::Coordinator => {
                let m = c.municipality.as_deref().ok_or_else(|| missing("municipality"))?;
                let municipality = MunicipalityCode::parse(m).map_err(|_| {
                    ApiError::invalid_token("the token's municipality is not a Danish municipality code")
                })?;
                Principal::Coordinator { sub: c.sub, municipality }
            }
            Role::Company => match (c.company_id, c.cvr) {
                (Some(company_id), _) => Principal::Company { sub: c.sub, company_id },
                (None, Some(cvr)) => {
                    let cvr = Cvr::parse(&cvr)
                        .map_err(|_| ApiError::invalid_token("the token's `cvr` is not a valid CVR number"))?;
                    return Ok(Claimed::Cvr { sub: c.sub, cvr });
                }
                (None, None) => {
                    return Err(ApiError::invalid_token("a company token must carry the `cvr` or `company_id` claim"));
                }
            },
            Role::Citizen => match (c.citizen_id, c.cpr) {
                (Some(citizen_id), _) => Principal::Citizen { sub: c.sub, citizen_id },
                (None, Some(cpr)) => {
                    // The parse error would quote the number: the refusal names the claim only.
                    let cpr = Cpr::parse(&cpr)
                        .map_err(|_| ApiError::invalid_token("the token's `cpr` is not a valid CPR number"))?;
                    return Ok(Claimed::Cpr { sub: c.sub, cpr });
                }
                (None, None) => {
                    return Err(ApiError::invalid_token("a citizen token must carry the `cpr` or `citizen_id` claim"));
                }
            },
        }))
    }
}

/// A verified token's caller, before a CVR is looked up.
enum Claimed {
    Ready(Principal),
    Cvr { sub: String, cvr: Cvr },
    Cpr { sub: String, cpr: Cpr },
}

/// Where verification keys come from.
pub enum KeySource {
    /// A shared HS256 secret (also used to mint development tokens).
    Hs256(Vec<u8>),
    /// A PEM public key (RSA → RS256, EC P-256 → ES256).
    Pem(Vec<u8>),
    /// A JWKS document (keys chosen by `kid`, RS256/ES256 only).
    Jwks(String),
    /// A JWKS URL, fetched when a token names a key not held yet (RS256/ES256 only).
    JwksUrl(Arc<RemoteJwks<JwkSet>>),
}

enum Keys {
    Shared { decoding: DecodingKey, encoding: EncodingKey },
    Single { decoding: DecodingKey, alg: Algorithm },
    Set(JwkSet),
    Remote(Arc<RemoteJwks<JwkSet>>),
}

/// Verifies (and, with a shared secret, mints) tokens.
pub struct Authenticator {
    keys: Keys,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// Why an authenticator could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// The PEM key is neither an RSA nor an EC public key.
    #[error("the JWT public key is not an RSA or EC (P-256) public key in PEM form")]
    BadPem,
    /// The JWKS document does not parse.
    #[error("the JWKS file is not a valid JWK set: {0}")]
    BadJwks(String),
    /// The secret is too short to be safe.
    #[error("the JWT secret must be at least 32 bytes")]
    ShortSecret,
}

impl Authenticator {
    /// Builds an authenticator for the given issuer and audience.
    pub fn new(source: KeySource, issuer: &str, audience: &str) -> Result<Authenticator, AuthConfigError> {
        let keys = match source {
            KeySource::Hs256(secret) => {
                if secret.len() < 32 {
                    return Err(AuthConfigError::ShortSecret);
                }
                Keys::Shared {
                    decoding: DecodingKey::from_secret(&secret),
                    encoding: EncodingKey::from_secret(&secret),
                }
            }
            KeySource::Pem(pem) => {
                if let Ok(decoding) = DecodingKey::from_rsa_pem(&pem) {
                    Keys::Single { decoding, alg: Algorithm::RS256 }
                } else if let Ok(decoding) = DecodingKey::from_ec_pem(&pem) {
                    Keys::Single { decoding, alg: Algorithm::ES256 }
                } else {
                    return Err(AuthConfigError::BadPem);
                }
            }
            KeySource::Jwks(json) => {
                Keys::Set(serde_json::from_str(&json).map_err(|e| AuthConfigError::BadJwks(e.to_string()))?)
            }
            KeySource::JwksUrl(remote) => Keys::Remote(remote),
        };
        Ok(Authenticator { keys, issuer: issuer.to_owned(), audience: audience.to_owned() })
    }

    /// The expected issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The expected audience.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Signs claims with the shared secret; `None` when keys come from an identity provider.
    pub fn mint(&self, claims: &Claims) -> Option<String> {
        match &self.keys {
            Keys::Shared { encoding, .. } => {
                jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, encoding).ok()
            }
            _ => None,
        }
    }

    /// Verifies a token and returns the caller it speaks for (a CVR or CPR is not looked up
    /// here). With a JWKS URL, a `kid` not held yet fetches the set again (at most once per
    /// refresh floor).
    async fn verify(&self, token: &str) -> Result<Claimed, ApiError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| ApiError::invalid_token("the token is malformed or uses an unsupported algorithm"))?;
        let (key, alg) = match &self.keys {
            Keys::Shared { decoding, .. } => (decoding.clone(), Algorithm::HS256),
            Keys::Single { decoding, alg } => (decoding.clone(), *alg),
            Keys::Set(set) => key_from_set(set, &header)?,
            Keys::Remote(remote) => {
                let kid = header
                    .kid
                    .as_deref()
                    .ok_or_else(|| ApiError::invalid_token("the token has no `kid` to pick a key"))?;
                let set = remote.for_kid(kid).await.map_err(|e| {
                    tracing::error!(error = %e, "the identity provider's keys could not be fetched");
                    ApiError::Unavailable("the identity provider's signing keys cannot be fetched right now".into())
                })?;
                key_from_set(&set, &header)?
            }
        };
        if header.alg != alg {
            return Err(ApiError::invalid_token("the token's algorithm is not accepted"));
        }
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| {
            ApiError::invalid_token(match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::ImmatureSignature => "the token is not valid yet",
                ErrorKind::InvalidAudience => "the token is meant for another audience",
                ErrorKind::InvalidIssuer => "the token comes from an unknown issuer",
                ErrorKind::InvalidSignature => "the token's signature does not match",
                ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
                ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => {
                    "the token's claims are missing or malformed"
                }
                _ => "the token is invalid",
            })
        })?;
        data.claims.into_principal()
    }
}

/// The key a token's `kid` names in a key set, and its algorithm (asymmetric only).
fn key_from_set(set: &JwkSet, header: &Header) -> Result<(DecodingKey, Algorithm), ApiError> {
    let kid = header.kid.as_deref().ok_or_else(|| ApiError::invalid_token("the token has no `kid` to pick a key"))?;
    let jwk = set.find(kid).ok_or_else(|| ApiError::invalid_token("the token's `kid` is not a known key"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| ApiError::invalid_token("the token's key cannot be used"))?;
    // Only asymmetric algorithms are trusted from a key set.
    match header.alg {
        Algorithm::RS256 | Algorithm::ES256 => Ok((key, header.alg)),
        _ => Err(ApiError::invalid_token("the token's algorithm is not accepted")),
    }
}

/// Reads the bearer token from a request.
fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| ApiError::Unauthorized {
        code: Code::MissingToken,
        detail: "an `Authorization: Bearer <token>` header is required".into(),
    })?;
    let value = value.to_str().map_err(|_| ApiError::invalid_token("the Authorization header is not readable"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::invalid_token("the Authorization header must be `Bearer <token>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::invalid_token("the Authorization header must be `Bearer <token>`"));
    }
    Ok(token.trim())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Principal, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let auth = req.app_data::<web::Data<Arc<Authenticator>>>().map(|a| a.get_ref().clone());
        let token = bearer(req).map(str::to_owned);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let auth = auth.ok_or_else(|| ApiError::Internal("authenticator not configured".into()))?;
            let claimed = auth.verify(&token?).await?;
            match claimed {
                Claimed::Ready(p) => Ok(p),
                // A citizens' identity provider asserts the CPR number; it is looked up by its
                // keyed hash. A citizen not enrolled here is refused (there is nothing of theirs).
                Claimed::Cpr { sub, cpr } => {
                    let state = state.ok_or_else(|| ApiError::Internal("state not configured".into()))?;
                    let hash = state.data_key.lookup_hash(cpr.digits());
                    let found = state.read(move |conn| Ok(citizens::find_id_by_cpr_hash(conn, &hash)?)).await?;
                    match found {
                        Some(citizen_id) => Ok(Principal::Citizen { sub, citizen_id }),
                        None => {
                            Err(ApiError::Forbidden("the citizen this token names is not enrolled in Småjob".into()))
                        }
                    }
                }
                // A business identity provider asserts the CVR; the company it registered here is looked up.
                Claimed::Cvr { sub, cvr } => {
                    let state = state.ok_or_else(|| ApiError::Internal("state not configured".into()))?;
                    let key = cvr.to_string();
                    let found = state.read(move |conn| Ok(companies::find_by_cvr(conn, &key)?)).await?;
                    Ok(match found {
                        Some(c) => Principal::Company { sub, company_id: c.id },
                        None => Principal::NewCompany { sub, cvr },
                    })
                }
            }
        })
    }
}
