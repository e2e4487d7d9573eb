//! The JSON body extractor of every route. It answers as actix-web's `web::Json` would (415 for
//! a body not sent as JSON, 413 over the size limit, 400 for malformed JSON), but a body of the
//! wrong shape names the field with its path (`home.street`, `schedule.weekdays[2]`), because it
//! reads the body through `serde_path_to_error`.

use std::future::Future;
use std::pin::Pin;

use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldProblem};
use crate::services::error::Code;
use crate::telemetry::redact_cpr;

/// The largest body the server reads, as configured; registered as app data beside
/// `web::PayloadConfig` with the same limit, so a 413 can say what the limit is.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body, read strictly: `Content-Type: application/json` (or `…+json`) is required.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body.
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

/// A JSON body that may be left out: an empty body, or `null`, is `None`; anything else is read as
/// [`Json`] is, so a reason sent as plain text or in the wrong shape is refused rather than ignored.
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

type Reading<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Reading<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read(req, payload);
        Box::pin(async move {
            let (bytes, is_json) = body.await?;
            if !is_json {
                return Err(not_json());
            }
            parse(&bytes).map(Json)
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Reading<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read(req, payload);
        Box::pin(async move {
            let (bytes, is_json) = body.await?;
            match (bytes.is_empty(), is_json) {
                (true, _) => Ok(OptionalJson(None)),
                (false, false) => Err(not_json()),
                (false, true) => parse(&bytes).map(OptionalJson),
            }
        })
    }
}

/// The body, limited as configured, and whether it is declared as JSON.
fn read(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<(web::Bytes, bool), ApiError>> + use<> {
    let is_json = matches!(req.mime_type(), Ok(Some(mime))
        if mime.subtype() == actix_web::mime::JSON || mime.suffix() == Some(actix_web::mime::JSON));
    let limit = req.app_data::<BodyLimit>().map_or(DEFAULT_LIMIT, |l| l.0);
    let bytes = web::Bytes::from_request(req, payload);
    async move {
        let bytes = bytes.await.map_err(|e| match e.as_error::<PayloadError>() {
            Some(PayloadError::Overflow) => ApiError::PayloadTooLarge { limit },
            _ => ApiError::BadRequest {
                code: Code::UnreadableBody,
                detail: redact_cpr(&format!("the body cannot be read: {e}")).into_owned(),
            },
        })?;
        Ok((bytes, is_json))
    }
}

/// actix-web's default body limit, used when no [`BodyLimit`] is configured.
const DEFAULT_LIMIT: usize = 262_144;

fn not_json() -> ApiError {
    ApiError::UnsupportedMediaType("the request body must be JSON (Content-Type: application/json)".into())
}

/// Reads a body: malformed JSON is a 400; JSON of the wrong shape is a 422 naming the field.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let malformed = |e: serde_json::Error| ApiError::BadRequest {
        code: Code::MalformedJson,
        detail: redact_cpr(&format!("the body is not valid JSON: {e}")).into_owned(),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            ApiError::Validation(vec![field_problem(&path, &inner.to_string())])
        } else {
            malformed(inner)
        }
    })?;
    de.end().map_err(malformed)?;
    Ok(value)
}

/// Names the field of a body that does not fit its type, with its path: serde's message names a
/// missing or an unknown field; a value of the wrong type or form is `invalid_value` on its path
/// (`invalid_body` on `body` when the body as a whole is not an object), with the refused value
/// left out. A key that holds a number as long as a
/// CPR number is never echoed.
fn field_problem(path: &str, message: &str) -> FieldProblem {
    let parent = (path != ".").then_some(path);
    let shown = |name: &str| name.chars().filter(char::is_ascii_digit).count() < 6;
    let joined = |name: &str| parent.map_or_else(|| name.to_owned(), |p| format!("{p}.{name}"));
    let named = |prefix: &str| {
        let rest = message.strip_prefix(prefix)?;
        let name = &rest[..rest.find('`')?];
        Some((name.to_owned(), rest[name.len() + 1..].to_owned()))
    };
    if let Some((name, _)) = named("missing field `") {
        let field = joined(&name);
        return FieldProblem::new(field.clone(), "required", format!("`{field}` is required"));
    }
    if let Some((name, rest)) = named("unknown field `") {
        // The path ends with the unknown key itself.
        let field = parent.map_or_else(|| name.clone(), str::to_owned);
        if !shown(&field) {
            let outer = field.rsplit_once('.').map(|(outer, _)| outer).filter(|o| shown(o)).unwrap_or("body");
            return FieldProblem::new(outer, "unknown_field", "a key that is not a field here");
        }
        let expected = rest.trim_start_matches(", ").split(" at line").next().unwrap_or_default();
        return FieldProblem::new(field.clone(), "unknown_field", format!("`{field}` is not a field here; {expected}"));
    }
    let message = redact_cpr(&redact_values(message)).into_owned();
    match parent.filter(|p| shown(p)) {
        Some(field) => FieldProblem::new(field, "invalid_value", message),
        None => FieldProblem::new("body", "invalid_body", message),
    }
}

/// serde quotes the refused value in type errors (`invalid type: integer `0101901234`, expected
/// a string`); a CPR sent in the wrong shape must not come back in a response or reach a log.
fn redact_values(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some(at) = rest.find(", expected")
        {
            let kind = rest[..at].split([' ', '`', '"']).next().unwrap_or("value");
            return format!("{prefix}{kind}{}", &rest[at..]);
        }
    }
    message.to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Home {
        postcode: String,
        street: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        home: Option<Home>,
        #[serde(default)]
        skills: Vec<String>,
    }

    fn problem(json: &str) -> FieldProblem {
        match parse::<Body>(json.as_bytes()) {
            Err(ApiError::Validation(mut problems)) if problems.len() == 1 => problems.remove(0),
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn a_missing_or_unknown_field_is_named_with_its_path() {
        let p = problem(r#"{}"#);
        assert_eq!((p.field.as_str(), p.code.as_str()), ("name", "required"));
        let p = problem(r#"{"name":"Bo","nmae":1}"#);
        assert_eq!((p.field.as_str(), p.code.as_str()), ("nmae", "unknown_field"));
        assert_eq!(p.message, "`nmae` is not a field here; expected one of `name`, `home`, `skills`");
        let p = problem(r#"{"name":"Bo","home":{"postcode":"8900","stret":"x"}}"#);
        assert_eq!((p.field.as_str(), p.code.as_str()), ("home.stret", "unknown_field"));
        let p = problem(r#"{"name":"Bo","home":{"street":"x"}}"#);
        assert_eq!((p.field.as_str(), p.code.as_str()), ("home.postcode", "required"));
    }

    #[test]
    fn a_value_of_the_wrong_type_is_named_by_its_path_without_the_value() {
        let p = problem(r#"{"name":"Bo","skills":["bageri",1019012345]}"#);
        assert_eq!((p.field.as_str(), p.code.as_str()), ("skills[1]", "invalid_value"));
        assert!(!p.message.contains("1019012345"), "{}", p.message);
        let p = problem(r#"{"name":"Bo","home":{"postcode":8900}}"#);
        assert_eq!((p.field.as_str(), p.code.as_str()), ("home.postcode", "invalid_value"));
        assert_eq!(p.message, "invalid type: integer, expected a string at line 1 column 36");
        let p = problem(r#"["Bo"]"#);
        assert_eq!((p.field.as_str(), p.code.as_str()), ("body", "invalid_body"));
    }

    #[test]
    fn a_cpr_shaped_key_is_never_echoed() {
        for json in [r#"{"name":"Bo","0101901234":1}"#, r#"{"name":"Bo","home":{"postcode":"8900","010190-1234":1}}"#] {
            let p = problem(json);
            assert_eq!(p.code, "unknown_field", "{json}");
            assert!(!format!("{p:?}").contains("1234"), "{json}: {p:?}");
        }
    }

    #[test]
    fn malformed_json_and_trailing_characters_are_a_400() {
        for json in [r#"{"name":"Bo""#, r#"{"name":"Bo"} x"#, "", "nul"] {
            assert!(
                matches!(parse::<Body>(json.as_bytes()), Err(ApiError::BadRequest { code: Code::MalformedJson, .. })),
                "{json}"
            );
        }
    }

    #[test]
    fn refused_values_are_not_echoed_in_type_errors() {
        let m = redact_values("invalid type: integer `101901234`, expected a string at line 1 column 20");
        assert_eq!(m, "invalid type: integer, expected a string at line 1 column 20");
        let m = redact_values("invalid type: string \"010190-1234\", expected u8 at line 1 column 9");
        assert_eq!(m, "invalid type: string, expected u8 at line 1 column 9");
        assert_eq!(redact_values("missing field `name` at line 1 column 2"), "missing field `name` at line 1 column 2");
    }
}
