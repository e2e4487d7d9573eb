//! Notifications: the kinds of event people are told about, who is told, the channels, the
//! retry schedule, the cap thresholds, and the texts (plain Danish, one SMS long, never a CPR).
//! Sending is I/O and lives elsewhere; this module decides what and when.

use std::net::IpAddr;
use std::time::Duration;

use crate::Money;

crate::id_types! {
    /// One outbox message (one recipient on one channel): the stable id receivers deduplicate by.
    MessageId => "message",
    /// A webhook subscription.
    SubscriptionId => "subscription",
}

/// A kind of event that is told to the people it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A coordinator offered a task to a citizen.
    OfferMade,
    /// The citizen accepted an offer.
    OfferAccepted,
    /// The citizen declined an offer.
    OfferDeclined,
    /// A coordinator approved a placement (the employment is registered).
    PlacementApproved,
    /// A coordinator rejected a placement.
    PlacementRejected,
    /// Hours were reported on a shift and wait for confirmation.
    HoursReported,
    /// Reported hours were disputed.
    HoursDisputed,
    /// A payout was registered.
    PayoutRegistered,
    /// The citizen's exempt amount for the year passed 75, 90 or 100 % of the cap.
    CapThresholdReached,
}

crate::coded_enum!(EventType, "event type" {
    OfferMade => "offer.made",
    OfferAccepted => "offer.accepted",
    OfferDeclined => "offer.declined",
    PlacementApproved => "placement.approved",
    PlacementRejected => "placement.rejected",
    HoursReported => "hours.reported",
    HoursDisputed => "hours.disputed",
    PayoutRegistered => "payout.registered",
    CapThresholdReached => "cap.threshold_reached",
});

/// Who a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecipientKind {
    /// A citizen (by citizen id).
    Citizen,
    /// A company (by company id).
    Company,
    /// The coordinators of a municipality (by municipality code).
    Coordinator,
}

crate::coded_enum!(RecipientKind, "recipient kind" {
    Citizen => "citizen",
    Company => "company",
    Coordinator => "coordinator",
});

/// How a message reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// A signed HTTP POST to a subscription's URL.
    Webhook,
    /// An e-mail through the configured SMTP relay.
    Email,
    /// An SMS through the configured provider.
    Sms,
    /// Shown on the recipient's page only: nothing is sent, so it is delivered when written.
    Page,
}

crate::coded_enum!(Channel, "notification channel" {
    Webhook => "webhook",
    Email => "email",
    Sms => "sms",
    Page => "page",
});

/// Where a message is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageState {
    /// Waiting to be sent (again).
    Pending,
    /// Sent and acknowledged.
    Delivered,
    /// Failed as often as allowed; a coordinator may send it again.
    Dead,
}

crate::coded_enum!(MessageState, "message state" {
    Pending => "pending",
    Delivered => "delivered",
    Dead => "dead",
});

/// Who keeps a webhook subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionOwner {
    /// A company, for its own events.
    Company,
    /// The coordinators of a municipality, for their integrations.
    Coordinator,
}

crate::coded_enum!(SubscriptionOwner, "subscription owner" {
    Company => "company",
    Coordinator => "coordinator",
});

impl SubscriptionOwner {
    /// The recipients whose messages a subscription of this owner receives.
    pub fn recipient(self) -> RecipientKind {
        match self {
            SubscriptionOwner::Company => RecipientKind::Company,
            SubscriptionOwner::Coordinator => RecipientKind::Coordinator,
        }
    }
}

/// How often and how far apart a failing message is tried before it is a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; the last failure makes the message dead.
    pub max_attempts: u32,
    /// The wait after the first failure; each further failure doubles it.
    pub base_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

/// What follows a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again after this long.
    RetryIn(Duration),
    /// No attempts are left: the message is a dead letter.
    Dead,
}

impl RetryPolicy {
    /// What follows the failure of attempt number `attempts` (1 for the first).
    pub fn after_failure(&self, attempts: u32) -> AfterFailure {
        if attempts >= self.max_attempts {
            return AfterFailure::Dead;
        }
        let doublings = attempts.saturating_sub(1).min(31);
        let delay = self.base_delay.saturating_mul(1u32 << doublings);
        AfterFailure::RetryIn(delay.min(self.max_delay))
    }
}

/// The shares of the cap, in per cent, at which the citizen and the coordinator are told.
pub const CAP_THRESHOLDS: [u8; 3] = [75, 90, 100];

/// The thresholds of [`CAP_THRESHOLDS`] the exempt amount passed going from `before` to `after`
/// under `cap` (reaching a threshold exactly counts as passing it). Exact in øre: no rounding.
pub fn thresholds_crossed(cap: Money, before: Money, after: Money) -> Vec<u8> {
    if cap.ore() <= 0 {
        return Vec::new();
    }
    let reached = |amount: Money, pct: u8| i128::from(amount.ore()) * 100 >= i128::from(cap.ore()) * i128::from(pct);
    CAP_THRESHOLDS.into_iter().filter(|&pct| reached(after, pct) && !reached(before, pct)).collect()
}

/// The longest text sent by SMS: one GSM-7 message.
pub const SMS_LENGTH: usize = 160;

/// The texts of the notices, in plain Danish. Titles are cut so a text fits one SMS.
pub mod texts {
    use super::SMS_LENGTH;
    use crate::Money;

    /// A task title as a text shows it: at most 60 characters.
    fn title(t: &str) -> String {
        const MAX: usize = 60;
        let t = t.trim();
        match t.char_indices().nth(MAX) {
            Some((cut, _)) => format!("{}…", &t[..cut]),
            None => t.to_owned(),
        }
    }

    fn kroner(m: Money) -> String {
        format!("{} kr", m.to_string().replace('.', ","))
    }

    /// Cuts a text to one SMS.
    pub fn short(text: String) -> String {
        match text.char_indices().nth(SMS_LENGTH - 1) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text,
        }
    }

    /// To the citizen: an offer waits for an answer.
    pub fn offer_made(task: &str) -> String {
        short(format!("Du har fået tilbudt jobbet \"{}\". Svar ja eller nej i Småjob.", title(task)))
    }

    /// To the coordinator: the citizen answered an offer.
    pub fn offer_answered(task: &str, accepted: bool) -> String {
        let answer = if accepted { "sagt ja til" } else { "sagt nej til" };
        short(format!("En borger har {answer} tilbuddet om jobbet \"{}\".", title(task)))
    }

    /// To the citizen or the company: the placement was approved.
    pub fn placement_approved(task: &str, for_citizen: bool) -> String {
        if for_citizen {
            short(format!("Godkendt: du skal arbejde som \"{}\". Se vagterne i Småjob.", title(task)))
        } else {
            short(format!("Ansættelsen til \"{}\" er godkendt og registreret.", title(task)))
        }
    }

    /// To the citizen or the company: the placement was rejected.
    pub fn placement_rejected(task: &str, for_citizen: bool) -> String {
        if for_citizen {
            short(format!("Jobbet \"{}\" blev ikke godkendt. Din koordinator kan fortælle hvorfor.", title(task)))
        } else {
            short(format!("Placeringen til \"{}\" blev ikke godkendt.", title(task)))
        }
    }

    /// To the confirmer: hours wait for confirmation.
    pub fn hours_reported(task: &str, date: chrono::NaiveDate, minutes: i32) -> String {
        let (h, m) = (minutes / 60, minutes % 60);
        short(format!(
            "Timer for \"{}\" den {}: {h} t {m:02} min. Bekræft eller afvis i Småjob.",
            title(task),
            date.format("%d.%m.%Y")
        ))
    }

    /// To the company and the coordinator: hours were disputed.
    pub fn hours_disputed(task: &str, date: chrono::NaiveDate) -> String {
        short(format!("Timerne for \"{}\" den {} er afvist. Indberet dem igen.", title(task), date.format("%d.%m.%Y")))
    }

    /// To the citizen: a payout was registered, with what is left of the year's frikort amount.
    pub fn payout_registered(gross: Money, remaining: Money) -> String {
        short(format!(
            "Der er registreret en udbetaling på {}. Du har {} tilbage på dit frikort i år.",
            kroner(gross),
            kroner(remaining)
        ))
    }

    /// To the citizen or the coordinator: the exempt amount passed a share of the cap.
    pub fn cap_threshold(percent: u8, year: i32, for_citizen: bool) -> String {
        let whose = if for_citizen { "Du har" } else { "En borger har" };
        if percent >= 100 {
            short(format!("{whose} nu tjent hele frikortets beløb for {year}. Løn herefter er skattepligtig."))
        } else {
            short(format!("{whose} nu brugt {percent} % af frikortets beløb for {year}."))
        }
    }
}

/// What kind of network an address is on, for refusing webhooks into private networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// The machine itself (127.0.0.0/8, ::1).
    Loopback,
    /// Private, link-local, shared, unspecified, documentation or other non-public ranges.
    Private,
    /// A public address.
    Public,
}

/// The class of an IP address (IPv4-mapped IPv6 addresses are judged as the IPv4 address).
pub fn address_class(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                AddressClass::Loopback
            } else if v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                // 100.64.0.0/10, carrier-grade NAT; 198.18.0.0/15, benchmarking; 240/4, reserved.
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240
            {
                AddressClass::Private
            } else {
                AddressClass::Public
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return address_class(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                AddressClass::Loopback
            } else if v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local, 2001:db8::/32 documentation.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)
            {
                AddressClass::Private
            } else {
                AddressClass::Public
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn kr(n: i64) -> Money {
        Money::from_kroner(n)
    }

    #[test]
    fn a_failed_attempt_waits_twice_as_long_as_the_one_before_up_to_the_longest_wait() {
        let p = RetryPolicy { max_attempts: 6, base_delay: Duration::from_secs(2), max_delay: Duration::from_secs(10) };
        assert_eq!(p.after_failure(1), AfterFailure::RetryIn(Duration::from_secs(2)));
        assert_eq!(p.after_failure(2), AfterFailure::RetryIn(Duration::from_secs(4)));
        assert_eq!(p.after_failure(3), AfterFailure::RetryIn(Duration::from_secs(8)));
        assert_eq!(p.after_failure(4), AfterFailure::RetryIn(Duration::from_secs(10)));
        assert_eq!(p.after_failure(5), AfterFailure::RetryIn(Duration::from_secs(10)));
    }

    #[test]
    fn the_last_allowed_failure_makes_a_message_a_dead_letter() {
        let p = RetryPolicy { max_attempts: 3, base_delay: Duration::from_secs(1), max_delay: Duration::MAX };
        assert!(matches!(p.after_failure(2), AfterFailure::RetryIn(_)));
        assert_eq!(p.after_failure(3), AfterFailure::Dead);
        assert_eq!(p.after_failure(40), AfterFailure::Dead);
        let huge = RetryPolicy { max_attempts: 100, ..p };
        assert_eq!(huge.after_failure(90), AfterFailure::RetryIn(Duration::from_secs(1 << 31)));
    }

    #[test]
    fn each_cap_threshold_is_crossed_once_when_the_exempt_amount_reaches_it() {
        let cap = kr(40_000);
        assert_eq!(thresholds_crossed(cap, kr(0), kr(29_999)), Vec::<u8>::new());
        assert_eq!(thresholds_crossed(cap, kr(29_999), kr(30_000)), vec![75]);
        assert_eq!(thresholds_crossed(cap, kr(30_000), kr(35_000)), Vec::<u8>::new());
        assert_eq!(thresholds_crossed(cap, kr(10_000), kr(40_000)), vec![75, 90, 100]);
        assert_eq!(thresholds_crossed(cap, kr(40_000), kr(40_000)), Vec::<u8>::new());
        // Going down (a reversal) crosses nothing.
        assert_eq!(thresholds_crossed(cap, kr(40_000), kr(1_000)), Vec::<u8>::new());
        // Exact in øre: one øre short of 90 % is not 90 %.
        assert_eq!(thresholds_crossed(cap, kr(0), Money::from_ore(3_599_999)), vec![75]);
        assert_eq!(thresholds_crossed(Money::ZERO, kr(0), kr(1)), Vec::<u8>::new());
    }

    #[test]
    fn every_text_fits_one_sms_even_with_a_long_title() {
        let long = "Oprydning ".repeat(40);
        let date = chrono::NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        for text in [
            texts::offer_made(&long),
            texts::offer_answered(&long, true),
            texts::placement_approved(&long, true),
            texts::placement_rejected(&long, false),
            texts::hours_reported(&long, date, 150),
            texts::hours_disputed(&long, date),
            texts::payout_registered(Money::from_ore(123_456_789), kr(0)),
            texts::cap_threshold(100, 2026, false),
        ] {
            assert!(text.chars().count() <= SMS_LENGTH, "{} characters: {text}", text.chars().count());
        }
    }

    #[test]
    fn texts_are_plain_danish_with_kroner_and_danish_dates() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        assert_eq!(
            texts::payout_registered(Money::from_ore(123_450), kr(30_000)),
            "Der er registreret en udbetaling på 1234,50 kr. Du har 30000,00 kr tilbage på dit frikort i år."
        );
        assert_eq!(
            texts::hours_reported("Lager", date, 150),
            "Timer for \"Lager\" den 09.03.2026: 2 t 30 min. Bekræft eller afvis i Småjob."
        );
        assert_eq!(texts::cap_threshold(90, 2026, true), "Du har nu brugt 90 % af frikortets beløb for 2026.");
    }

    #[test]
    fn loopback_private_and_public_addresses_are_told_apart() {
        let class = |s: &str| address_class(s.parse().unwrap());
        assert_eq!(class("127.0.0.1"), AddressClass::Loopback);
        assert_eq!(class("::1"), AddressClass::Loopback);
        for private in
            ["10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "fd00::1", "fe80::1"]
        {
            assert_eq!(class(private), AddressClass::Private, "{private}");
        }
        assert_eq!(class("::ffff:10.0.0.1"), AddressClass::Private);
        assert_eq!(class("93.184.216.34"), AddressClass::Public);
        assert_eq!(class("2a00:1450:4001::1"), AddressClass::Public);
    }

    #[test]
    fn event_types_read_and_write_as_their_dotted_codes() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::parse("payout.registered"), Some(EventType::PayoutRegistered));
        assert_eq!(EventType::parse("payout"), None);
    }
}
