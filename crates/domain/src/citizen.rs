//! Value types for citizen and company profiles, and [`FieldError`], the
//! per-field validation error every parser here can be turned into.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};

use crate::caps::CapError;
use crate::cpr::CprError;
use crate::cvr::CvrError;
use crate::frikort::FrikortNumberError;
use crate::money::MoneyError;
use crate::municipality::MunicipalityError;

/// A validation error for one input field. The api crate attaches the field
/// name; `code` is a stable snake_case identifier for clients, `message` is
/// for humans. Neither ever contains a CPR number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    /// Stable snake_case code, e.g. `"cpr_format"`.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    /// A field error with the given code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> FieldError {
        FieldError { code, message: message.into() }
    }
}

impl From<CprError> for FieldError {
    fn from(e: CprError) -> FieldError {
        FieldError::new(e.code(), e.to_string())
    }
}

impl From<CvrError> for FieldError {
    fn from(e: CvrError) -> FieldError {
        FieldError::new(e.code(), e.to_string())
    }
}

impl From<MoneyError> for FieldError {
    fn from(e: MoneyError) -> FieldError {
        FieldError::new(e.code(), e.to_string())
    }
}

impl From<MunicipalityError> for FieldError {
    fn from(e: MunicipalityError) -> FieldError {
        FieldError::new(e.code(), e.to_string())
    }
}

impl From<CapError> for FieldError {
    fn from(e: CapError) -> FieldError {
        FieldError::new(e.code(), e.to_string())
    }
}

impl From<FrikortNumberError> for FieldError {
    fn from(e: FrikortNumberError) -> FieldError {
        FieldError::new(e.code(), e.to_string())
    }
}

/// Implements string serde (via `parse`) and `as_str`/`Display` for a
/// `String` newtype.
macro_rules! string_newtype {
    ($ty:ident) => {
        impl $ty {
            /// The validated, normalized text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = FieldError;

            fn try_from(s: String) -> Result<Self, FieldError> {
                $ty::parse(&s)
            }
        }

        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.0
            }
        }
    };
}

/// Whether `c` is an invisible formatting character that can make text read differently from
/// what it holds: bidirectional embeddings, overrides, isolates and marks (U+061C, U+200E–U+200F,
/// U+202A–U+202E, U+2066–U+2069), zero-width spaces and joiners (U+200B–U+200D), the word joiner
/// and invisible operators (U+2060–U+2064) and the byte-order mark (U+FEFF). A name such as
/// "Anne\u{202E}nesnaH" shows as something else than what is stored and searched.
pub fn is_hidden_formatting(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The name of a person or a company: trimmed, 1 to 200 characters, no
/// control characters and no invisible formatting characters ([`is_hidden_formatting`]).
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    /// Trims and validates a name.
    pub fn parse(s: &str) -> Result<Name, FieldError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(FieldError::new("name_empty", "name must not be empty"));
        }
        if t.chars().count() > 200 {
            return Err(FieldError::new("name_too_long", "name can be at most 200 characters"));
        }
        if t.chars().any(char::is_control) {
            return Err(FieldError::new("name_control_characters", "name must not contain control characters"));
        }
        if t.chars().any(is_hidden_formatting) {
            return Err(FieldError::new(
                "name_invisible_characters",
                "name must not contain invisible formatting characters (bidirectional overrides, zero-width characters)",
            ));
        }
        Ok(Name(t.to_owned()))
    }
}

string_newtype!(Name);

/// A phone number: 8 to 15 digits with an optional leading `+`, stored
/// without spaces (`"+45 12 34 56 78"` → `"+4512345678"`).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Accepts digits and spaces, optionally after a leading `+`.
    pub fn parse(s: &str) -> Result<Phone, FieldError> {
        let err = || {
            FieldError::new(
                "phone_format",
                "phone number must be 8 to 15 digits, optionally starting with + (spaces allowed)",
            )
        };
        let t = s.trim();
        let (plus, rest) = match t.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", t),
        };
        if !rest.chars().all(|c| c.is_ascii_digit() || c == ' ') {
            return Err(err());
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        if !(8..=15).contains(&digits.len()) {
            return Err(err());
        }
        Ok(Phone(format!("{plus}{digits}")))
    }
}

string_newtype!(Phone);

/// An e-mail address, checked for plausible shape only (deliverability is
/// not knowable here). The domain is stored lowercase; the local part is kept
/// as given because it may legally be case-sensitive.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Trims and validates: at most 254 characters, exactly one `@`, a
    /// non-empty local part, a domain of dot-separated non-empty labels with
    /// at least one dot, no whitespace or control characters.
    pub fn parse(s: &str) -> Result<Email, FieldError> {
        let t = s.trim();
        if t.chars().count() > 254 {
            return Err(FieldError::new("email_too_long", "e-mail address can be at most 254 characters"));
        }
        let err = || FieldError::new("email_format", "e-mail address must look like name@example.dk");
        if t.chars().any(|c| c.is_whitespace() || c.is_control() || is_hidden_formatting(c)) {
            return Err(err());
        }
        let (local, domain) = t.split_once('@').ok_or_else(err)?;
        if local.is_empty() || domain.contains('@') || !domain.contains('.') {
            return Err(err());
        }
        if domain.split('.').any(str::is_empty) {
            return Err(err());
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }
}

string_newtype!(Email);

/// A Danish postcode, 0800 to 9990.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Postcode(u16);

impl Postcode {
    /// Parses exactly four digits (surrounding whitespace ignored) in
    /// 0800..=9990.
    pub fn parse(s: &str) -> Result<Postcode, FieldError> {
        let t = s.trim();
        if t.len() != 4 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new("postcode_format", "postcode must be 4 digits, e.g. \"8900\""));
        }
        let n = t.bytes().fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'));
        if !(800..=9990).contains(&n) {
            return Err(FieldError::new("postcode_out_of_range", "postcode must be between 0800 and 9990"));
        }
        Ok(Postcode(n))
    }

    /// The postcode as a number.
    pub fn as_u16(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

impl TryFrom<String> for Postcode {
    type Error = FieldError;

    fn try_from(s: String) -> Result<Postcode, FieldError> {
        Postcode::parse(&s)
    }
}

impl From<Postcode> for String {
    fn from(p: Postcode) -> String {
        p.to_string()
    }
}

/// A WGS84 coordinate with finite, in-range latitude and longitude.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
#[serde(try_from = "RawGeoPoint")]
pub struct GeoPoint {
    lat: f64,
    lon: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGeoPoint {
    lat: f64,
    lon: f64,
}

impl TryFrom<RawGeoPoint> for GeoPoint {
    type Error = FieldError;

    fn try_from(raw: RawGeoPoint) -> Result<GeoPoint, FieldError> {
        GeoPoint::new(raw.lat, raw.lon)
    }
}

impl GeoPoint {
    /// Latitude in -90..=90, longitude in -180..=180, both finite.
    pub fn new(lat: f64, lon: f64) -> Result<GeoPoint, FieldError> {
        if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) {
            Ok(GeoPoint { lat, lon })
        } else {
            // NaN fails `contains` too, so it lands here.
            Err(FieldError::new(
                "geo_out_of_range",
                "latitude must be between -90 and 90 and longitude between -180 and 180",
            ))
        }
    }

    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        self.lat
    }

    /// Longitude in degrees.
    pub fn lon(&self) -> f64 {
        self.lon
    }
}

/// A skill tag: trimmed, lowercased, 1 to 50 characters, no control
/// characters.
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Skill(String);

/// The most skills a profile may list.
pub const MAX_SKILLS: usize = 30;

impl Skill {
    /// Trims, lowercases and validates a skill.
    pub fn parse(s: &str) -> Result<Skill, FieldError> {
        let t = s.trim().to_lowercase();
        if t.is_empty() {
            return Err(FieldError::new("skill_empty", "skill must not be empty"));
        }
        if t.chars().count() > 50 {
            return Err(FieldError::new("skill_too_long", "a skill can be at most 50 characters"));
        }
        if t.chars().any(char::is_control) {
            return Err(FieldError::new("skill_control_characters", "skill must not contain control characters"));
        }
        if t.chars().any(is_hidden_formatting) {
            return Err(FieldError::new(
                "skill_invisible_characters",
                "skill must not contain invisible formatting characters (bidirectional overrides, zero-width characters)",
            ));
        }
        Ok(Skill(t))
    }
}

string_newtype!(Skill);

/// Parses a list of skills, deduplicated (after normalization) and sorted.
/// At most [`MAX_SKILLS`] distinct skills.
pub fn parse_skills(raw: &[String]) -> Result<Vec<Skill>, FieldError> {
    let skills = raw.iter().map(|s| Skill::parse(s)).collect::<Result<BTreeSet<_>, _>>()?;
    if skills.len() > MAX_SKILLS {
        return Err(FieldError::new("too_many_skills", format!("at most {MAX_SKILLS} skills")));
    }
    Ok(skills.into_iter().collect())
}

/// How a citizen can get to a job.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportMode {
    /// On foot.
    Walk,
    /// By bicycle.
    Bicycle,
    /// By bus or train.
    PublicTransport,
    /// By car.
    Car,
    /// By moped or scooter.
    Moped,
}

crate::coded_enum!(TransportMode, "transport mode" {
    Walk => "walk",
    Bicycle => "bicycle",
    PublicTransport => "public_transport",
    Car => "car",
    Moped => "moped",
});

/// The three-letter lowercase code of a weekday used in JSON (`"mon"`).
pub fn weekday_code(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// The inverse of [`weekday_code`].
pub fn parse_weekday_code(s: &str) -> Option<Weekday> {
    [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun]
        .into_iter()
        .find(|d| weekday_code(*d) == s)
}

/// Parses a time of day written `HH:MM` (24-hour, both parts two digits).
pub fn parse_hh_mm(s: &str) -> Option<NaiveTime> {
    let b = s.as_bytes();
    let two = |hi: u8, lo: u8| {
        (hi.is_ascii_digit() && lo.is_ascii_digit()).then(|| u32::from(hi - b'0') * 10 + u32::from(lo - b'0'))
    };
    if b.len() != 5 || b[2] != b':' {
        return None;
    }
    NaiveTime::from_hms_opt(two(b[0], b[1])?, two(b[3], b[4])?, 0)
}

/// A weekly recurring time window in which a citizen can work. Times are
/// whole minutes; a slot cannot run past midnight (the latest end is 23:59).
///
/// In JSON: `{"weekday":"mon","from":"08:00","to":"12:00"}`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "RawSlot", into = "RawSlot")]
pub struct AvailabilitySlot {
    /// The day of the week.
    pub weekday: Weekday,
    /// Start time (inclusive).
    pub from: NaiveTime,
    /// End time (exclusive), later than `from` on the same day.
    pub to: NaiveTime,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlot {
    weekday: String,
    from: String,
    to: String,
}

impl TryFrom<RawSlot> for AvailabilitySlot {
    type Error = FieldError;

    fn try_from(raw: RawSlot) -> Result<AvailabilitySlot, FieldError> {
        let weekday = parse_weekday_code(&raw.weekday).ok_or_else(|| {
            FieldError::new("availability_weekday", "weekday must be one of mon, tue, wed, thu, fri, sat, sun")
        })?;
        let time = |s: &str| parse_hh_mm(s).ok_or_else(time_format_error);
        Ok(AvailabilitySlot { weekday, from: time(&raw.from)?, to: time(&raw.to)? })
    }
}

impl From<AvailabilitySlot> for RawSlot {
    fn from(s: AvailabilitySlot) -> RawSlot {
        RawSlot {
            weekday: weekday_code(s.weekday).to_owned(),
            from: s.from.format("%H:%M").to_string(),
            to: s.to.format("%H:%M").to_string(),
        }
    }
}

fn time_format_error() -> FieldError {
    FieldError::new("availability_time_format", "times must be whole minutes written HH:MM, e.g. \"08:30\"")
}

/// The most slots a weekly availability may have.
pub const MAX_AVAILABILITY_SLOTS: usize = 50;

/// When a citizen can work in a typical week, and optionally how many hours
/// at most. Slots are kept sorted by weekday (Monday first) and start time;
/// slots on the same day never overlap (touching is fine).
///
/// In JSON: `{"slots":[{"weekday":"mon","from":"08:00","to":"12:00"}],"max_hours_per_week":10}`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[serde(try_from = "RawWeeklyAvailability", into = "RawWeeklyAvailability")]
pub struct WeeklyAvailability {
    slots: Vec<AvailabilitySlot>,
    max_hours_per_week: Option<u8>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeeklyAvailability {
    slots: Vec<AvailabilitySlot>,
    #[serde(default)]
    max_hours_per_week: Option<u8>,
}

impl TryFrom<RawWeeklyAvailability> for WeeklyAvailability {
    type Error = FieldError;

    fn try_from(raw: RawWeeklyAvailability) -> Result<WeeklyAvailability, FieldError> {
        WeeklyAvailability::new(raw.slots, raw.max_hours_per_week)
    }
}

impl From<WeeklyAvailability> for RawWeeklyAvailability {
    fn from(w: WeeklyAvailability) -> RawWeeklyAvailability {
        RawWeeklyAvailability { slots: w.slots, max_hours_per_week: w.max_hours_per_week }
    }
}

impl WeeklyAvailability {
    /// Validates and sorts the slots: at most [`MAX_AVAILABILITY_SLOTS`],
    /// each with `from < to` in whole minutes, no overlaps within a day, and
    /// `max_hours_per_week` in 1..=60 if given.
    pub fn new(
        mut slots: Vec<AvailabilitySlot>,
        max_hours_per_week: Option<u8>,
    ) -> Result<WeeklyAvailability, FieldError> {
        if slots.len() > MAX_AVAILABILITY_SLOTS {
            return Err(FieldError::new(
                "availability_too_many_slots",
                format!("at most {MAX_AVAILABILITY_SLOTS} availability slots"),
            ));
        }
        let whole_minute = |t: NaiveTime| t.second() == 0 && t.nanosecond() == 0;
        for slot in &slots {
            // Sub-minute times would not survive the HH:MM JSON form.
            if !whole_minute(slot.from) || !whole_minute(slot.to) {
                return Err(time_format_error());
            }
            if slot.from >= slot.to {
                return Err(FieldError::new(
                    "availability_slot_order",
                    "each availability slot must end after it starts, on the same day",
                ));
            }
        }
        slots.sort_by_key(|s| (s.weekday.num_days_from_monday(), s.from, s.to));
        if slots.windows(2).any(|w| w[0].weekday == w[1].weekday && w[0].to > w[1].from) {
            return Err(FieldError::new("availability_overlap", "availability slots on the same day must not overlap"));
        }
        if let Some(h) = max_hours_per_week
            && !(1..=60).contains(&h)
        {
            return Err(FieldError::new("availability_max_hours", "max hours per week must be between 1 and 60"));
        }
        Ok(WeeklyAvailability { slots, max_hours_per_week })
    }

    /// The slots, sorted by weekday and start time.
    pub fn slots(&self) -> &[AvailabilitySlot] {
        &self.slots
    }

    /// The citizen's own limit on weekly hours, if any.
    pub fn max_hours_per_week(&self) -> Option<u8> {
        self.max_hours_per_week
    }

    /// Total hours covered by the slots (not capped by
    /// `max_hours_per_week`).
    pub fn total_hours(&self) -> f64 {
        let minutes: i64 = self.slots.iter().map(|s| (s.to - s.from).num_minutes()).sum();
        minutes as f64 / 60.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{CapAmount, Cpr, Cvr, FrikortNumber, Money, MunicipalityCode};
    use proptest::prelude::*;
    use serde_json::{Value, from_value, json, to_value};

    fn t(s: &str) -> NaiveTime {
        parse_hh_mm(s).unwrap()
    }

    fn slot(weekday: Weekday, from: &str, to: &str) -> AvailabilitySlot {
        AvailabilitySlot { weekday, from: t(from), to: t(to) }
    }

    fn code<T: fmt::Debug>(r: Result<T, FieldError>) -> &'static str {
        r.unwrap_err().code
    }

    #[test]
    fn names_are_trimmed_and_may_contain_any_printable_text() {
        assert_eq!(Name::parse("  Søren Ærø-Ås  ").unwrap().as_str(), "Søren Ærø-Ås");
        assert_eq!(Name::parse("Randers Rengøring ApS").unwrap().to_string(), "Randers Rengøring ApS");
        assert_eq!(Name::parse(&"å".repeat(200)).unwrap().as_str().chars().count(), 200);
    }

    #[test]
    fn names_must_be_non_empty_short_and_free_of_control_characters() {
        assert_eq!(code(Name::parse("")), "name_empty");
        assert_eq!(code(Name::parse(" \t\n ")), "name_empty");
        assert_eq!(code(Name::parse(&"å".repeat(201))), "name_too_long");
        assert_eq!(code(Name::parse("Anne\u{0}Hansen")), "name_control_characters");
        assert_eq!(code(Name::parse("Anne\nHansen")), "name_control_characters");
        assert_eq!(code(Name::parse("Anne\u{7f}")), "name_control_characters");
    }

    #[test]
    fn names_with_bidi_overrides_or_zero_width_characters_are_refused() {
        for c in [
            '\u{202E}', '\u{202A}', '\u{2066}', '\u{200E}', '\u{061C}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}',
            '\u{FEFF}',
        ] {
            let name = format!("Anne{c}Hansen");
            assert_eq!(code(Name::parse(&name)), "name_invisible_characters", "U+{:04X}", u32::from(c));
            assert_eq!(code(Skill::parse(&format!("have{c}arbejde"))), "skill_invisible_characters");
            assert!(Email::parse(&format!("anne{c}@example.dk")).is_err());
        }
        // A trailing byte-order mark is not whitespace, so trimming does not hide it.
        assert_eq!(code(Name::parse("Anne Hansen\u{FEFF}")), "name_invisible_characters");
        assert!(Name::parse("Ægir Ørsted-Åberg").is_ok());
    }

    #[test]
    fn phone_numbers_lose_their_spaces_and_keep_a_leading_plus() {
        assert_eq!(Phone::parse("+45 12 34 56 78").unwrap().as_str(), "+4512345678");
        assert_eq!(Phone::parse(" 12 34 56 78 ").unwrap().as_str(), "12345678");
        assert_eq!(Phone::parse("123456789012345").unwrap().as_str(), "123456789012345");
    }

    #[test]
    fn phone_numbers_need_8_to_15_digits_and_nothing_else() {
        for bad in [
            "",
            "1234567",
            "1234 567",
            "1234567890123456",
            "+",
            "12-34-56-78",
            "(45) 12345678",
            "++4512345678",
            "45+12345678",
            "1234567a",
            "１２３４５６７８",
        ] {
            assert_eq!(code(Phone::parse(bad)), "phone_format", "{bad:?}");
        }
    }

    #[test]
    fn email_addresses_are_trimmed_and_get_a_lowercase_domain() {
        assert_eq!(Email::parse("  Anne.Hansen@Randers.DK ").unwrap().as_str(), "Anne.Hansen@randers.dk");
        assert!(Email::parse("a@b.co").is_ok());
    }

    #[test]
    fn email_addresses_must_have_a_plausible_shape() {
        for bad in [
            "",
            "anne",
            "@randers.dk",
            "anne@",
            "anne@randers",
            "anne@.randers.dk",
            "anne@randers.dk.",
            "anne@randers..dk",
            "anne@@randers.dk",
            "an@ne@randers.dk",
            "anne hansen@randers.dk",
            "anne@rand ers.dk",
            "anne\u{0}@randers.dk",
        ] {
            assert_eq!(code(Email::parse(bad)), "email_format", "{bad:?}");
        }
        let long = format!("{}@randers.dk", "a".repeat(244));
        assert_eq!(long.len(), 255);
        assert_eq!(code(Email::parse(&long)), "email_too_long");
        assert!(Email::parse(&long[1..]).is_ok());
    }

    #[test]
    fn postcodes_are_four_digits_from_0800_to_9990() {
        assert_eq!(Postcode::parse("8900").unwrap().as_u16(), 8900);
        assert_eq!(Postcode::parse("0800").unwrap().to_string(), "0800");
        assert_eq!(Postcode::parse(" 9990 ").unwrap().to_string(), "9990");
        assert_eq!(code(Postcode::parse("0799")), "postcode_out_of_range");
        assert_eq!(code(Postcode::parse("9991")), "postcode_out_of_range");
        assert_eq!(code(Postcode::parse("0000")), "postcode_out_of_range");
        for bad in ["", "800", "89000", "89a0", "-800", "8 900"] {
            assert_eq!(code(Postcode::parse(bad)), "postcode_format", "{bad:?}");
        }
    }

    #[test]
    fn geo_points_must_be_finite_and_on_the_globe() {
        let p = GeoPoint::new(56.4607, 10.0364).unwrap();
        assert_eq!((p.lat(), p.lon()), (56.4607, 10.0364));
        assert!(GeoPoint::new(90.0, 180.0).is_ok());
        assert!(GeoPoint::new(-90.0, -180.0).is_ok());
        for (lat, lon) in [
            (90.1, 0.0),
            (-90.1, 0.0),
            (0.0, 180.1),
            (0.0, -180.1),
            (f64::NAN, 0.0),
            (0.0, f64::NAN),
            (f64::INFINITY, 0.0),
            (0.0, f64::NEG_INFINITY),
        ] {
            assert_eq!(code(GeoPoint::new(lat, lon)), "geo_out_of_range", "{lat} {lon}");
        }
    }

    #[test]
    fn geo_points_validate_when_deserialized() {
        let v = json!({"lat": 56.46, "lon": 10.04});
        let p: GeoPoint = from_value(v.clone()).unwrap();
        assert_eq!(to_value(p).unwrap(), v);
        assert!(from_value::<GeoPoint>(json!({"lat": 91.0, "lon": 0.0})).is_err());
    }

    #[test]
    fn skills_are_trimmed_and_lowercased() {
        assert_eq!(Skill::parse("  Havearbejde ").unwrap().as_str(), "havearbejde");
        assert_eq!(Skill::parse("ÆBLEPLUK").unwrap().as_str(), "æblepluk");
        assert_eq!(code(Skill::parse(" ")), "skill_empty");
        assert_eq!(code(Skill::parse(&"x".repeat(51))), "skill_too_long");
        assert!(Skill::parse(&"x".repeat(50)).is_ok());
        assert_eq!(code(Skill::parse("a\tb")), "skill_control_characters");
    }

    #[test]
    fn skill_lists_are_deduplicated_and_sorted() {
        let raw: Vec<String> = ["Rengøring", "havearbejde", " rengøring ", "Flytning"].map(String::from).to_vec();
        let skills = parse_skills(&raw).unwrap();
        let names: Vec<&str> = skills.iter().map(Skill::as_str).collect();
        assert_eq!(names, ["flytning", "havearbejde", "rengøring"]);
        assert_eq!(parse_skills(&[]).unwrap(), vec![]);
    }

    #[test]
    fn at_most_30_distinct_skills_are_allowed() {
        let thirty: Vec<String> = (0..30).map(|i| format!("skill {i}")).collect();
        assert_eq!(parse_skills(&thirty).unwrap().len(), 30);
        let mut with_dupes = thirty.clone();
        with_dupes.push("SKILL 0".into());
        assert_eq!(parse_skills(&with_dupes).unwrap().len(), 30);
        let mut thirty_one = thirty;
        thirty_one.push("one more".into());
        assert_eq!(code(parse_skills(&thirty_one)), "too_many_skills");
        assert_eq!(code(parse_skills(&["ok".into(), "".into()])), "skill_empty");
    }

    #[test]
    fn transport_modes_round_trip_as_snake_case() {
        for m in TransportMode::ALL {
            assert_eq!(TransportMode::parse(m.as_str()), Some(m));
            assert_eq!(to_value(m).unwrap(), json!(m.as_str()));
            assert_eq!(from_value::<TransportMode>(json!(m.as_str())).unwrap(), m);
        }
        assert_eq!(TransportMode::PublicTransport.as_str(), "public_transport");
        assert_eq!(TransportMode::parse("bus"), None);
        assert!(from_value::<TransportMode>(json!("PublicTransport")).is_err());
    }

    #[test]
    fn times_are_written_hh_mm() {
        assert_eq!(parse_hh_mm("08:30"), NaiveTime::from_hms_opt(8, 30, 0));
        assert_eq!(parse_hh_mm("23:59"), NaiveTime::from_hms_opt(23, 59, 0));
        for bad in ["8:30", "08:3", "24:00", "08:60", "08.30", "08:30:00", "", "ab:cd", "+8:30"] {
            assert_eq!(parse_hh_mm(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn weekdays_are_three_letter_codes() {
        assert_eq!(weekday_code(Weekday::Mon), "mon");
        assert_eq!(parse_weekday_code("sun"), Some(Weekday::Sun));
        assert_eq!(parse_weekday_code("Mon"), None);
        assert_eq!(parse_weekday_code("monday"), None);
    }

    #[test]
    fn availability_is_sorted_and_totals_its_hours() {
        let w = WeeklyAvailability::new(
            vec![
                slot(Weekday::Wed, "13:00", "15:30"),
                slot(Weekday::Mon, "12:00", "14:00"),
                slot(Weekday::Mon, "08:00", "12:00"),
            ],
            Some(10),
        )
        .unwrap();
        assert_eq!(
            w.slots(),
            &[
                slot(Weekday::Mon, "08:00", "12:00"),
                slot(Weekday::Mon, "12:00", "14:00"),
                slot(Weekday::Wed, "13:00", "15:30"),
            ]
        );
        assert_eq!(w.max_hours_per_week(), Some(10));
        assert_eq!(w.total_hours(), 8.5);
        assert_eq!(WeeklyAvailability::default().total_hours(), 0.0);
    }

    #[test]
    fn a_slot_must_end_after_it_starts() {
        let same = WeeklyAvailability::new(vec![slot(Weekday::Mon, "08:00", "08:00")], None);
        assert_eq!(code(same), "availability_slot_order");
        let backwards = WeeklyAvailability::new(vec![slot(Weekday::Mon, "22:00", "02:00")], None);
        assert_eq!(code(backwards), "availability_slot_order");
    }

    #[test]
    fn slot_times_must_be_whole_minutes() {
        let s = AvailabilitySlot {
            weekday: Weekday::Mon,
            from: NaiveTime::from_hms_opt(8, 0, 30).unwrap(),
            to: t("09:00"),
        };
        assert_eq!(code(WeeklyAvailability::new(vec![s], None)), "availability_time_format");
    }

    #[test]
    fn slots_on_the_same_day_must_not_overlap_but_may_touch() {
        let overlap = WeeklyAvailability::new(
            vec![slot(Weekday::Tue, "08:00", "12:00"), slot(Weekday::Tue, "11:59", "13:00")],
            None,
        );
        assert_eq!(code(overlap), "availability_overlap");
        let contained = WeeklyAvailability::new(
            vec![slot(Weekday::Tue, "08:00", "12:00"), slot(Weekday::Tue, "09:00", "10:00")],
            None,
        );
        assert_eq!(code(contained), "availability_overlap");
        let other_day = WeeklyAvailability::new(
            vec![slot(Weekday::Tue, "08:00", "12:00"), slot(Weekday::Wed, "08:00", "12:00")],
            None,
        );
        assert!(other_day.is_ok());
    }

    #[test]
    fn at_most_50_slots_are_allowed() {
        let make = |n: u32| -> Vec<AvailabilitySlot> {
            (0..n)
                .map(|i| AvailabilitySlot {
                    weekday: Weekday::try_from((i % 7) as u8).unwrap(),
                    from: NaiveTime::from_hms_opt(i / 7, 0, 0).unwrap(),
                    to: NaiveTime::from_hms_opt(i / 7, 30, 0).unwrap(),
                })
                .collect()
        };
        assert_eq!(WeeklyAvailability::new(make(50), None).unwrap().slots().len(), 50);
        assert_eq!(code(WeeklyAvailability::new(make(51), None)), "availability_too_many_slots");
    }

    #[test]
    fn max_hours_per_week_is_between_1_and_60() {
        assert!(WeeklyAvailability::new(vec![], Some(1)).is_ok());
        assert!(WeeklyAvailability::new(vec![], Some(60)).is_ok());
        assert!(WeeklyAvailability::new(vec![], None).is_ok());
        assert_eq!(code(WeeklyAvailability::new(vec![], Some(0))), "availability_max_hours");
        assert_eq!(code(WeeklyAvailability::new(vec![], Some(61))), "availability_max_hours");
    }

    fn json_slot(weekday: &str, from: &str, to: &str) -> Value {
        json!({"weekday": weekday, "from": from, "to": to})
    }

    #[test]
    fn availability_has_the_documented_json_shape() {
        let json = json!({"slots": [json_slot("mon", "08:00", "12:00")], "max_hours_per_week": 10});
        let w: WeeklyAvailability = from_value(json.clone()).unwrap();
        assert_eq!(w.slots(), &[slot(Weekday::Mon, "08:00", "12:00")]);
        assert_eq!(w.max_hours_per_week(), Some(10));
        assert_eq!(to_value(&w).unwrap(), json);

        let no_max = json!({"slots": []});
        let w: WeeklyAvailability = from_value(no_max).unwrap();
        assert_eq!(w, WeeklyAvailability::default());
        assert_eq!(to_value(&w).unwrap(), json!({"slots": [], "max_hours_per_week": null}));
    }

    #[test]
    fn deserializing_availability_runs_the_validation() {
        let overlapping = json!({"slots": [json_slot("fri", "08:00", "12:00"), json_slot("fri", "10:00", "14:00")]});
        let err = from_value::<WeeklyAvailability>(overlapping).unwrap_err();
        assert!(err.to_string().contains("must not overlap"), "{err}");

        for bad in [
            json_slot("friday", "08:00", "12:00"),
            json_slot("fri", "8:00", "12:00"),
            json_slot("fri", "08:00", "24:00"),
            json_slot("fri", "12:00", "08:00"),
        ] {
            let v = json!({"slots": [bad.clone()]});
            assert!(from_value::<WeeklyAvailability>(v).is_err(), "{bad:?}");
        }
        let too_many_hours = json!({"slots": [], "max_hours_per_week": 61});
        assert!(from_value::<WeeklyAvailability>(too_many_hours).is_err());
        let unknown_field = json!({"slots": [], "max_hours": 6});
        assert!(from_value::<WeeklyAvailability>(unknown_field).is_err());
    }

    #[test]
    fn string_value_types_serialize_as_their_normalized_text() {
        assert_eq!(to_value(Phone::parse("+45 1234 5678").unwrap()).unwrap(), json!("+4512345678"));
        assert_eq!(to_value(Postcode::parse("0800").unwrap()).unwrap(), json!("0800"));
        assert_eq!(from_value::<Email>(json!("a@B.dk")).unwrap().as_str(), "a@b.dk");
        assert_eq!(from_value::<Name>(json!(" Anne ")).unwrap().as_str(), "Anne");
        assert_eq!(from_value::<Skill>(json!("Maling")).unwrap().as_str(), "maling");
        let err = from_value::<Name>(json!("")).unwrap_err();
        assert!(err.to_string().contains("must not be empty"), "{err}");
        assert!(from_value::<Postcode>(json!(8900)).is_err());
    }

    #[test]
    fn domain_errors_become_field_errors_with_stable_codes() {
        let cases: Vec<(FieldError, &str)> = vec![
            (Cpr::parse("x").unwrap_err().into(), "cpr_format"),
            (Cpr::parse("310480-1234").unwrap_err().into(), "cpr_no_such_date"),
            (Cvr::parse("1").unwrap_err().into(), "cvr_format"),
            (Cvr::parse("10150818").unwrap_err().into(), "cvr_checksum"),
            (Money::parse("1.234").unwrap_err().into(), "money_too_precise"),
            (Money::parse("x").unwrap_err().into(), "money_format"),
            (Money::parse("1e9").unwrap_err().into(), "money_format"),
            (Money::parse("2000000000").unwrap_err().into(), "money_too_large"),
            (Money::parse_non_negative("-1").unwrap_err().into(), "money_negative"),
            (Money::parse_positive("0").unwrap_err().into(), "money_not_positive"),
            (MunicipalityCode::parse("12").unwrap_err().into(), "municipality_format"),
            (MunicipalityCode::parse("999").unwrap_err().into(), "unknown_municipality"),
            (CapAmount::parse("1.50").unwrap_err().into(), "cap_not_whole_kroner"),
            (CapAmount::parse("1.505").unwrap_err().into(), "money_too_precise"),
            (crate::CapYear::parse(1).unwrap_err().into(), "cap_year_out_of_range"),
            (FrikortNumber::parse("1").unwrap_err().into(), "frikort_number_format"),
        ];
        for (err, expected) in cases {
            assert_eq!(err.code, expected);
            assert!(!err.message.is_empty());
            assert_eq!(err.to_string(), err.message);
        }
    }

    #[test]
    fn cpr_field_errors_never_echo_the_number() {
        for input in ["310480-1234", "3104801234", "31048-01234", "310480-123"] {
            let e: FieldError = Cpr::parse(input).unwrap_err().into();
            assert!(!e.message.contains("1234") && !e.message.contains("310480"), "{e:?}");
        }
    }

    proptest! {
        #[test]
        fn text_parsers_never_panic(input in any::<String>()) {
            let _ = Name::parse(&input);
            let _ = Phone::parse(&input);
            let _ = Email::parse(&input);
            let _ = Postcode::parse(&input);
            let _ = Skill::parse(&input);
            let _ = parse_hh_mm(&input);
        }

        #[test]
        fn parsed_names_and_skills_are_stable_under_reparsing(input in any::<String>()) {
            if let Ok(n) = Name::parse(&input) {
                prop_assert_eq!(Name::parse(n.as_str()), Ok(n.clone()));
            }
            if let Ok(sk) = Skill::parse(&input) {
                prop_assert_eq!(Skill::parse(sk.as_str()), Ok(sk.clone()));
            }
        }

        #[test]
        fn valid_availability_survives_a_serde_round_trip(
            raw in prop::collection::vec((0u8..7, 0u32..24 * 60, 1u32..240), 0..12),
            max in prop::option::of(1u8..=60),
        ) {
            let slots: Vec<AvailabilitySlot> = raw
                .into_iter()
                .filter_map(|(d, start, len)| {
                    let end = (start + len).min(23 * 60 + 59);
                    (start < end).then(|| AvailabilitySlot {
                        weekday: Weekday::try_from(d).unwrap(),
                        from: NaiveTime::from_hms_opt(start / 60, start % 60, 0).unwrap(),
                        to: NaiveTime::from_hms_opt(end / 60, end % 60, 0).unwrap(),
                    })
                })
                .collect();
            if let Ok(w) = WeeklyAvailability::new(slots, max) {
                let back: WeeklyAvailability = from_value(to_value(&w).unwrap()).unwrap();
                prop_assert_eq!(back, w);
            }
        }
    }
}
