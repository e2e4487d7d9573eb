//! SMS notices through a provider: an adapter that posts to an HTTP endpoint you configure, and
//! one that only logs (development). A phone number is never logged whole.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

/// A boxed future of a send's outcome.
pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

/// Which provider sends SMS, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsSettings {
    /// Log the message (development): the number masked, the text as sent.
    Log,
    /// POST `{"to": …, "text": …, "reference": …}` as JSON to `url`, with `Authorization:
    /// Bearer <token>` when a token is set; any 2xx is sent.
    Http {
        /// The provider's endpoint.
        url: String,
        /// Its API token.
        token: Option<String>,
    },
}

/// Sends one SMS.
pub trait SmsProvider {
    /// Sends `text` to `to`; an error says why not, and the dispatcher retries.
    fn send<'a>(&'a self, to: &'a str, text: &'a str) -> Sending<'a>;
}

/// The provider the settings name.
pub fn provider(settings: &SmsSettings, timeout: Duration) -> Rc<dyn SmsProvider> {
    match settings {
        SmsSettings::Log => Rc::new(LogSms),
        SmsSettings::Http { url, token } => Rc::new(HttpSms {
            url: url.clone(),
            token: token.clone(),
            client: awc::Client::builder().timeout(timeout).disable_redirects().finish(),
        }),
    }
}

/// Logs instead of sending.
pub struct LogSms;

impl SmsProvider for LogSms {
    fn send<'a>(&'a self, to: &'a str, text: &'a str) -> Sending<'a> {
        let last: String = to.chars().rev().take(2).collect::<Vec<_>>().into_iter().rev().collect();
        tracing::info!(to = %format!("••••••{last}"), text, "SMS (log adapter, not sent)");
        Box::pin(async { Ok(()) })
    }
}

/// Posts to a configured HTTP endpoint.
pub struct HttpSms {
    url: String,
    token: Option<String>,
    client: awc::Client,
}

impl SmsProvider for HttpSms {
    fn send<'a>(&'a self, to: &'a str, text: &'a str) -> Sending<'a> {
        Box::pin(async move {
            let mut request = self.client.post(&self.url);
            if let Some(token) = &self.token {
                request = request.insert_header(("Authorization", format!("Bearer {token}")));
            }
            let response = request
                .send_json(&serde_json::json!({ "to": to, "text": text }))
                .await
                .map_err(|e| format!("SMS provider: {e}"))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(format!("the SMS provider answered {}", response.status().as_u16()))
            }
        })
    }
}
