//! The yearly tax-free earnings cap (*beløbsgrænse*) for frikort holders.
//!
//! The cap is set by law for the years up to 2025 and afterwards regulated
//! yearly by a percentage. A year whose cap is not yet known uses the latest
//! earlier cap provisionally.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::money::{Money, MoneyError};

/// The first year with a frikort cap (the scheme started in 2019).
pub const FIRST_CAP_YEAR: i32 = 2019;
/// The last year a cap can be set for; later years are surely typos.
pub const LAST_CAP_YEAR: i32 = 2100;

/// Upper bound for a cap, in kroner; far above any plausible level.
const MAX_CAP_KRONER: i64 = 10_000_000;

static STATUTORY_CAPS: [(i32, i64); 7] =
    [(2019, 20_000), (2020, 20_000), (2021, 20_000), (2022, 20_000), (2023, 40_000), (2024, 41_280), (2025, 42_766)];

/// The caps fixed by law or already regulated, as `(year, kroner)` in year
/// order.
pub fn statutory_caps() -> &'static [(i32, i64)] {
    &STATUTORY_CAPS
}

/// [`statutory_caps`] as the map [`resolve_cap`] takes, e.g. for seeding.
pub fn statutory_cap_set() -> BTreeMap<i32, CapAmount> {
    STATUTORY_CAPS.iter().filter_map(|&(year, kroner)| Some((year, CapAmount::from_kroner(kroner)?))).collect()
}

/// Why a cap, cap year or regulation percentage is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum CapError {
    /// The year is outside [`FIRST_CAP_YEAR`]..=[`LAST_CAP_YEAR`].
    #[error("cap year must be between 2019 and 2100")]
    YearOutOfRange,
    /// The cap is not a valid amount.
    #[error(transparent)]
    Amount(#[from] MoneyError),
    /// The cap has an øre part.
    #[error("the yearly cap must be a whole number of kroner")]
    NotWholeKroner,
    /// The cap is above 10,000,000 kroner.
    #[error("the yearly cap can be at most 10000000 kroner")]
    TooLarge,
    /// The cap is zero or negative.
    #[error("the yearly cap must be greater than zero")]
    NotPositive,
    /// The regulation percentage is not a decimal with at most four decimals.
    #[error("regulation percent must be a decimal string like \"3.6\" or \"-1.25\" with at most 4 decimals")]
    PercentFormat,
    /// The regulation percentage is outside -50..=100.
    #[error("regulation percent must be between -50 and 100")]
    PercentOutOfRange,
}

impl CapError {
    /// Stable snake_case code for API error responses. A wrapped money error
    /// keeps the money error's code.
    pub fn code(self) -> &'static str {
        match self {
            CapError::YearOutOfRange => "cap_year_out_of_range",
            CapError::Amount(e) => e.code(),
            CapError::NotWholeKroner => "cap_not_whole_kroner",
            CapError::TooLarge => "cap_too_large",
            CapError::NotPositive => "cap_not_positive",
            CapError::PercentFormat => "cap_percent_format",
            CapError::PercentOutOfRange => "cap_percent_out_of_range",
        }
    }
}

/// A year for which a cap may be set or looked up.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct CapYear(i32);

impl CapYear {
    /// Accepts [`FIRST_CAP_YEAR`]..=[`LAST_CAP_YEAR`].
    pub fn parse(year: i32) -> Result<CapYear, CapError> {
        if (FIRST_CAP_YEAR..=LAST_CAP_YEAR).contains(&year) { Ok(CapYear(year)) } else { Err(CapError::YearOutOfRange) }
    }

    /// The calendar year.
    pub fn get(self) -> i32 {
        self.0
    }
}

impl fmt::Display for CapYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A yearly cap: a positive whole number of kroner, at most 10,000,000.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct CapAmount(Money);

impl CapAmount {
    /// Parses an amount string such as `"43500"` or `"43500.00"`.
    pub fn parse(s: &str) -> Result<CapAmount, CapError> {
        let money = Money::parse(s)?;
        if !money.is_positive() {
            return Err(CapError::NotPositive);
        }
        let kroner = money.whole_kroner().ok_or(CapError::NotWholeKroner)?;
        if kroner > MAX_CAP_KRONER {
            return Err(CapError::TooLarge);
        }
        Ok(CapAmount(money))
    }

    /// A cap of `kroner`; `None` unless 1..=10,000,000.
    pub fn from_kroner(kroner: i64) -> Option<CapAmount> {
        (1..=MAX_CAP_KRONER).contains(&kroner).then(|| CapAmount(Money::from_kroner(kroner)))
    }

    /// The cap as money.
    pub fn money(self) -> Money {
        self.0
    }

    /// The cap in whole kroner.
    pub fn kroner(self) -> i64 {
        self.0.ore() / 100
    }
}

impl fmt::Display for CapAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for CapAmount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CapAmount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CapAmount, D::Error> {
        let money = Money::deserialize(deserializer)?;
        CapAmount::parse(&money.to_string()).map_err(serde::de::Error::custom)
    }
}

/// A yearly regulation of the cap in percent, e.g. 3.6 or -1.25: at most
/// four decimals, within -50..=100.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct RegulationPercent(Decimal);

impl RegulationPercent {
    /// Parses `-?digits(.d{1,4})?`. Strict like [`Money::parse`]: no `+`, no
    /// whitespace, no exponent.
    pub fn parse(s: &str) -> Result<RegulationPercent, CapError> {
        let (negative, unsigned) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(int_part) || !digits(frac_part) || frac_part.len() > 4 {
            return Err(CapError::PercentFormat);
        }
        let frac = frac_part
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(4)
            .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
        let magnitude = int_part
            .bytes()
            .try_fold(0i64, |acc, b| acc.checked_mul(10)?.checked_add(i64::from(b - b'0')))
            .and_then(|i| i.checked_mul(10_000)?.checked_add(frac))
            .ok_or(CapError::PercentOutOfRange)?;
        let value = Decimal::new(if negative { -magnitude } else { magnitude }, 4).normalize();
        if value < Decimal::from(-50) || value > Decimal::ONE_HUNDRED {
            return Err(CapError::PercentOutOfRange);
        }
        Ok(RegulationPercent(value))
    }

    /// The percentage (3.6 means 3.6 %).
    pub fn get(self) -> Decimal {
        self.0
    }
}

/// `previous × (1 + pct/100)`, rounded to the nearest whole krone, half away
/// from zero.
///
/// Fails with [`CapError::TooLarge`] if the result exceeds the cap limit of
/// 10,000,000 kroner (the range of [`RegulationPercent`] keeps it positive).
pub fn regulate(previous: CapAmount, pct: RegulationPercent) -> Result<CapAmount, CapError> {
    let exact = Decimal::from(previous.kroner()) * (Decimal::ONE_HUNDRED + pct.get()) / Decimal::ONE_HUNDRED;
    let kroner =
        exact.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero).to_i64().ok_or(CapError::TooLarge)?;
    CapAmount::from_kroner(kroner).ok_or(if kroner <= 0 { CapError::NotPositive } else { CapError::TooLarge })
}

/// The cap that applies in a year, and where it came from.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize)]
pub struct ResolvedCap {
    /// The year asked about.
    pub year: i32,
    /// The cap that applies.
    pub amount: CapAmount,
    /// True if the year has no cap of its own yet and an earlier year's cap
    /// is used until the regulated cap is known.
    pub provisional: bool,
    /// The year whose cap is used (equals `year` unless provisional).
    pub source_year: i32,
}

/// The cap for `year` from the set caps: the year's own cap if set, otherwise
/// the nearest earlier year's cap marked provisional; `None` if no cap is set
/// for that year or any earlier year.
pub fn resolve_cap(year: CapYear, set: &BTreeMap<i32, CapAmount>) -> Option<ResolvedCap> {
    let (&source_year, &amount) = set.range(..=year.get()).next_back()?;
    Some(ResolvedCap { year: year.get(), amount, provisional: source_year != year.get(), source_year })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;
    use serde_json::{from_value, json, to_value};

    fn cap(kroner: i64) -> CapAmount {
        CapAmount::from_kroner(kroner).unwrap()
    }

    fn pct(s: &str) -> RegulationPercent {
        RegulationPercent::parse(s).unwrap()
    }

    fn year(y: i32) -> CapYear {
        CapYear::parse(y).unwrap()
    }

    #[test]
    fn statutory_caps_match_the_law() {
        assert_eq!(
            statutory_caps(),
            &[
                (2019, 20_000),
                (2020, 20_000),
                (2021, 20_000),
                (2022, 20_000),
                (2023, 40_000),
                (2024, 41_280),
                (2025, 42_766),
            ]
        );
        let set = statutory_cap_set();
        assert_eq!(set.len(), 7);
        assert_eq!(set[&2024], cap(41_280));
    }

    #[test]
    fn the_2025_cap_is_the_2024_cap_regulated_by_3_6_percent() {
        // 41280 × 1.036 = 42766.08
        assert_eq!(regulate(cap(41_280), pct("3.6")), Ok(cap(42_766)));
    }

    #[test]
    fn regulation_rounds_to_whole_kroner_half_away_from_zero() {
        // 1000 × 1.0005 = 1000.5 → 1001 (banker's rounding would give 1000)
        assert_eq!(regulate(cap(1000), pct("0.05")), Ok(cap(1001)));
        // 3000 × 1.0005 = 3001.5 → 3002
        assert_eq!(regulate(cap(3000), pct("0.05")), Ok(cap(3002)));
        // 20001 × 1.005 = 20101.005 → 20101
        assert_eq!(regulate(cap(20_001), pct("0.5")), Ok(cap(20_101)));
        // 1000 × 0.9995 = 999.5 → 1000 (away from zero is up for positives)
        assert_eq!(regulate(cap(1000), pct("-0.05")), Ok(cap(1000)));
        // 1000 × 0.99949 = 999.49 → 999
        assert_eq!(regulate(cap(1000), pct("-0.051")), Ok(cap(999)));
    }

    #[test]
    fn regulation_can_go_down_but_never_below_one_krone() {
        assert_eq!(regulate(cap(41_280), pct("-1.25")), Ok(cap(40_764)));
        assert_eq!(regulate(cap(1), pct("-50")), Ok(cap(1)));
    }

    #[test]
    fn regulation_beyond_the_cap_limit_is_refused() {
        // 9999990 × 1.000001 = 9999999.99 → 10000000, just inside the limit
        assert_eq!(regulate(cap(9_999_990), pct("0.0001")), Ok(cap(10_000_000)));
        assert_eq!(regulate(cap(10_000_000), pct("0")), Ok(cap(10_000_000)));
        assert_eq!(regulate(cap(10_000_000), pct("0.01")), Err(CapError::TooLarge));
        assert_eq!(regulate(cap(6_000_000), pct("100")), Err(CapError::TooLarge));
    }

    #[test]
    fn a_set_year_resolves_to_its_own_cap() {
        let set = statutory_cap_set();
        let r = resolve_cap(year(2024), &set).unwrap();
        assert_eq!(r, ResolvedCap { year: 2024, amount: cap(41_280), provisional: false, source_year: 2024 });
    }

    #[test]
    fn an_unset_year_uses_the_nearest_earlier_cap_provisionally() {
        let mut set = statutory_cap_set();
        let r = resolve_cap(year(2027), &set).unwrap();
        assert_eq!(r.amount, cap(42_766));
        assert!(r.provisional);
        assert_eq!((r.year, r.source_year), (2027, 2025));

        set.insert(2026, cap(44_000));
        let r = resolve_cap(year(2027), &set).unwrap();
        assert_eq!((r.amount, r.provisional, r.source_year), (cap(44_000), true, 2026));
        let r = resolve_cap(year(2026), &set).unwrap();
        assert_eq!((r.amount, r.provisional, r.source_year), (cap(44_000), false, 2026));
        // A later year being set does not affect earlier years.
        set.insert(2030, cap(50_000));
        let r = resolve_cap(year(2029), &set).unwrap();
        assert_eq!((r.amount, r.source_year), (cap(44_000), 2026));
    }

    #[test]
    fn a_year_before_any_set_cap_resolves_to_nothing() {
        let mut set = BTreeMap::new();
        assert_eq!(resolve_cap(year(2024), &set), None);
        set.insert(2025, cap(42_766));
        assert_eq!(resolve_cap(year(2024), &set), None);
        assert!(resolve_cap(year(2025), &set).is_some());
    }

    #[test]
    fn cap_years_are_limited_to_2019_through_2100() {
        assert_eq!(CapYear::parse(2019).unwrap().get(), 2019);
        assert_eq!(CapYear::parse(2100).unwrap().get(), 2100);
        assert_eq!(CapYear::parse(2018), Err(CapError::YearOutOfRange));
        assert_eq!(CapYear::parse(2101), Err(CapError::YearOutOfRange));
        assert_eq!(CapYear::parse(-2024), Err(CapError::YearOutOfRange));
    }

    #[test]
    fn cap_amounts_are_positive_whole_kroner_up_to_ten_million() {
        assert_eq!(CapAmount::parse("43500").unwrap(), cap(43_500));
        assert_eq!(CapAmount::parse("43500.00").unwrap(), cap(43_500));
        assert_eq!(CapAmount::parse("10000000").unwrap().kroner(), 10_000_000);
        assert_eq!(CapAmount::parse("43500.50"), Err(CapError::NotWholeKroner));
        assert_eq!(CapAmount::parse("0.50"), Err(CapError::NotWholeKroner));
        assert_eq!(CapAmount::parse("10000001"), Err(CapError::TooLarge));
        assert_eq!(CapAmount::parse("0"), Err(CapError::NotPositive));
        assert_eq!(CapAmount::parse("-100"), Err(CapError::NotPositive));
        assert_eq!(CapAmount::parse("43,500"), Err(CapError::Amount(MoneyError::Format)));
        assert_eq!(CapAmount::parse("43500.001"), Err(CapError::Amount(MoneyError::TooPrecise)));
        assert_eq!(cap(43_500).money(), Money::from_kroner(43_500));
        assert_eq!(cap(43_500).to_string(), "43500.00");
    }

    #[test]
    fn cap_amounts_from_kroner_are_range_checked() {
        assert!(CapAmount::from_kroner(1).is_some());
        assert!(CapAmount::from_kroner(10_000_000).is_some());
        assert!(CapAmount::from_kroner(0).is_none());
        assert!(CapAmount::from_kroner(-1).is_none());
        assert!(CapAmount::from_kroner(10_000_001).is_none());
    }

    #[test]
    fn cap_amounts_serialize_as_money_strings_and_validate_on_the_way_in() {
        assert_eq!(to_value(cap(42_766)).unwrap(), json!("42766.00"));
        assert_eq!(from_value::<CapAmount>(json!("42766")).unwrap(), cap(42_766));
        assert!(from_value::<CapAmount>(json!("42766.50")).is_err());
        assert!(from_value::<CapAmount>(json!(42_766)).is_err());
    }

    #[test]
    fn resolved_caps_serialize_with_their_provenance() {
        let r = resolve_cap(year(2026), &statutory_cap_set()).unwrap();
        let v = to_value(r).unwrap();
        assert_eq!(v, json!({"year": 2026, "amount": "42766.00", "provisional": true, "source_year": 2025}));
    }

    #[test]
    fn regulation_percentages_parse_with_up_to_four_decimals() {
        assert_eq!(pct("3.6").get(), Decimal::new(36, 1));
        assert_eq!(pct("-1.25").get(), Decimal::new(-125, 2));
        assert_eq!(pct("0").get(), Decimal::ZERO);
        assert_eq!(pct("-0.0").get(), Decimal::ZERO);
        assert_eq!(pct("0.0001").get(), Decimal::new(1, 4));
        assert_eq!(pct("100").get(), Decimal::ONE_HUNDRED);
        assert_eq!(pct("-50").get(), Decimal::from(-50));
        assert_eq!(pct("003.60").get(), Decimal::new(36, 1));
    }

    #[test]
    fn malformed_regulation_percentages_are_refused() {
        for s in ["", "+3.6", "3,6", "3.", ".6", "3.6%", " 3.6", "3.6 ", "1e2", "3.60001", "--1", "-", "abc"] {
            assert_eq!(RegulationPercent::parse(s), Err(CapError::PercentFormat), "{s:?}");
        }
    }

    #[test]
    fn regulation_percentages_outside_minus_50_to_100_are_refused() {
        for s in ["100.0001", "-50.0001", "101", "-51", "99999999999999999999999"] {
            assert_eq!(RegulationPercent::parse(s), Err(CapError::PercentOutOfRange), "{s:?}");
        }
    }

    #[test]
    fn cap_errors_have_stable_codes() {
        assert_eq!(CapError::NotWholeKroner.code(), "cap_not_whole_kroner");
        assert_eq!(CapError::Amount(MoneyError::TooPrecise).code(), "money_too_precise");
        assert_eq!(CapError::Amount(MoneyError::Format).to_string(), MoneyError::Format.to_string());
    }

    proptest! {
        #[test]
        fn regulating_by_zero_percent_changes_nothing(kroner in 1i64..=10_000_000) {
            prop_assert_eq!(regulate(cap(kroner), pct("0")), Ok(cap(kroner)));
        }

        #[test]
        fn regulation_is_within_half_a_krone_of_the_exact_product(
            kroner in 1i64..=10_000_000,
            pct_units in -500_000i64..=1_000_000,
        ) {
            let p = Decimal::new(pct_units, 4);
            let rp = RegulationPercent::parse(&p.to_string()).unwrap();
            prop_assert_eq!(rp.get(), p);
            let exact = Decimal::from(kroner) * (Decimal::ONE_HUNDRED + p) / Decimal::ONE_HUNDRED;
            match regulate(cap(kroner), rp) {
                Ok(got) => {
                    let diff = (Decimal::from(got.kroner()) - exact).abs();
                    prop_assert!(diff <= Decimal::new(5, 1), "{} vs {}", got, exact);
                }
                Err(e) => {
                    prop_assert_eq!(e, CapError::TooLarge);
                    prop_assert!(exact >= Decimal::new(100_000_005, 1));
                }
            }
        }

        #[test]
        fn arbitrary_percent_strings_never_panic(s in any::<String>()) {
            let _ = RegulationPercent::parse(&s);
        }
    }
}
