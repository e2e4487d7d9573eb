//! `X-Request-Id`: the id a person can quote when something went wrong.
//!
//! A caller may send its own id (1–128 characters of letters, digits and `-_.:`; not made of
//! digits and dashes alone, so a CPR number sent there is never echoed); otherwise one is made.
//! The id is returned on every response, put in every problem body as `request_id`, and logged
//! with the request.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse};

use crate::error::PROBLEM_JSON;

/// The header's name.
pub const HEADER: &str = "x-request-id";

/// The request's id, in the request's extensions for everything that logs or renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRef(pub String);

/// Whether a caller's id is taken as it is.
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        && !id.bytes().all(|b| b.is_ascii_digit() || b == b'-')
}

/// The caller's id if acceptable, else a new one.
pub fn choose(sent: Option<&str>) -> String {
    sent.filter(|s| acceptable(s)).map(str::to_owned).unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The middleware: runs outside everything else, so refusals made by other middleware (which
/// answer rather than fail) and errors the handlers return leave with the header and, in a
/// problem body, the id.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = choose(req.headers().get(HEADER).and_then(|v| v.to_str().ok()));
    req.extensions_mut().insert(RequestRef(id.clone()));
    // The request must not be cloned before routing (actix then panics), so an error another
    // middleware raises instead of answering passes through as it is; ours all answer.
    let res = next.call(req).await?.map_into_boxed_body();
    let is_problem = res.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    let mut res = if is_problem { with_id_in_problem(res, &id).await? } else { res };
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static(HEADER), value);
    }
    Ok(res)
}

/// Adds `request_id` to a problem document (small, so reading it whole is fine).
async fn with_id_in_problem(res: ServiceResponse<BoxBody>, id: &str) -> Result<ServiceResponse<BoxBody>, Error> {
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes = actix_web::body::to_bytes(body).await.map_err(|_| actix_web::error::ErrorInternalServerError(""))?;
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut doc)) => {
            doc.insert("request_id".into(), serde_json::Value::String(id.to_owned()));
            serde_json::to_vec(&doc).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    let mut out = HttpResponse::build(head.status());
    for (name, value) in head.headers() {
        out.append_header((name.clone(), value.clone()));
    }
    Ok(ServiceResponse::new(req, out.body(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callers_id_is_kept_when_it_is_plain_text_of_sensible_length() {
        assert_eq!(choose(Some("checkout-42.retry:1")), "checkout-42.retry:1");
    }

    #[test]
    fn an_id_that_could_be_a_cpr_number_or_is_odd_is_replaced() {
        for sent in ["010190-1234", "0101901234", "", "with space", "æøå", &"x".repeat(129)] {
            let chosen = choose(Some(sent));
            assert_ne!(chosen, sent);
            assert!(uuid::Uuid::parse_str(&chosen).is_ok());
        }
    }
}
