//! Amounts in Danish kroner, held as integer øre.

use std::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// The largest magnitude [`Money::parse`] and the rounding helpers accept:
/// 1,000,000,000.00 kr. Anything larger is an input mistake or an attack.
pub const MAX_ABS_ORE: i64 = 100_000_000_000;

/// An amount of money in integer øre (1 kr = 100 øre).
///
/// Integer øre keeps sums exact; floats never touch money. In JSON it is a
/// decimal string with exactly two decimals, e.g. `"1234.50"`, never a number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Money(i64);

/// A decimal string read as a whole number of hundredths: `"-12.5"` → negative, 1250.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hundredths {
    pub(crate) negative: bool,
    pub(crate) hundredths: u64,
}

/// Why a string is not a decimal with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecimalError {
    /// Not `-?digits(.d|.dd)?`.
    Format,
    /// More than two decimals.
    TooPrecise,
    /// Does not fit.
    TooLarge,
}

/// Parses `-?digits(.d|.dd)?` exactly, in integers (amounts and hours share the grammar).
/// Strict on purpose: no `+`, no whitespace, no exponent, no thousands separators, no `".5"` or `"5."`.
pub(crate) fn parse_hundredths(s: &str) -> Result<Hundredths, DecimalError> {
    let (negative, unsigned) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int_part, frac_part) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    if !is_digits(int_part) {
        return Err(DecimalError::Format);
    }
    let frac = match frac_part {
        None => 0,
        Some(f) if !is_digits(f) => return Err(DecimalError::Format),
        Some(f) if f.len() > 2 => return Err(DecimalError::TooPrecise),
        Some(f) => {
            let v: u64 = f.bytes().fold(0, |acc, b| acc * 10 + u64::from(b - b'0'));
            if f.len() == 1 { v * 10 } else { v }
        }
    };
    let hundredths = int_part
        .bytes()
        .try_fold(0u64, |acc, b| acc.checked_mul(10)?.checked_add(u64::from(b - b'0')))
        .and_then(|i| i.checked_mul(100))
        .and_then(|i| i.checked_add(frac))
        .ok_or(DecimalError::TooLarge)?;
    Ok(Hundredths { negative, hundredths })
}

/// Why a string is not an acceptable amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum MoneyError {
    /// Not of the form `-?digits(.d|.dd)?`.
    #[error("amount must be a decimal string like \"1234.50\"")]
    Format,
    /// More than two decimals.
    #[error("amounts have at most two decimals (øre)")]
    TooPrecise,
    /// Magnitude above [`MAX_ABS_ORE`].
    #[error("amount is too large; at most 1000000000.00 kroner")]
    TooLarge,
    /// Negative where only zero or more is allowed.
    #[error("amount must not be negative")]
    Negative,
    /// Zero or negative where only a positive amount is allowed.
    #[error("amount must be greater than zero")]
    NotPositive,
    /// A minus sign on zero (`"-0.00"`): one amount has one spelling.
    #[error("zero has no sign; write \"0.00\"")]
    NegativeZero,
}

impl MoneyError {
    /// Stable snake_case code for API error responses.
    pub fn code(self) -> &'static str {
        match self {
            MoneyError::Format => "money_format",
            MoneyError::TooPrecise => "money_too_precise",
            MoneyError::TooLarge => "money_too_large",
            MoneyError::Negative => "money_negative",
            MoneyError::NotPositive => "money_not_positive",
            MoneyError::NegativeZero => "money_negative_zero",
        }
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl Money {
    /// Zero kroner.
    pub const ZERO: Money = Money(0);

    /// An amount of `ore` øre.
    pub const fn from_ore(ore: i64) -> Money {
        Money(ore)
    }

    /// The amount in øre.
    pub const fn ore(self) -> i64 {
        self.0
    }

    /// A whole number of kroner. Saturates at the `i64` øre bounds, which
    /// lie far beyond any amount this system handles.
    pub const fn from_kroner(kroner: i64) -> Money {
        Money(kroner.saturating_mul(100))
    }

    /// Parses `-?digits(.d|.dd)?`, e.g. `"1234.50"`, `"-0.05"`, `"007.5"`.
    ///
    /// Strict on purpose: no `+`, no whitespace (not even around the
    /// number), no exponent, no thousands separators, no `".5"` or `"5."`,
    /// and no minus sign on zero (`"-0.00"`).
    pub fn parse(s: &str) -> Result<Money, MoneyError> {
        let d = parse_hundredths(s).map_err(|e| match e {
            DecimalError::Format => MoneyError::Format,
            DecimalError::TooPrecise => MoneyError::TooPrecise,
            DecimalError::TooLarge => MoneyError::TooLarge,
        })?;
        if d.negative && d.hundredths == 0 {
            return Err(MoneyError::NegativeZero);
        }
        let ore = i64::try_from(d.hundredths).ok().filter(|o| *o <= MAX_ABS_ORE).ok_or(MoneyError::TooLarge)?;
        Ok(Money(if d.negative { -ore } else { ore }))
    }

    /// Like [`Money::parse`], but negative amounts are refused.
    pub fn parse_non_negative(s: &str) -> Result<Money, MoneyError> {
        let m = Money::parse(s)?;
        if m.0 < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(m)
    }

    /// Like [`Money::parse`], but only amounts above zero are accepted.
    pub fn parse_positive(s: &str) -> Result<Money, MoneyError> {
        let m = Money::parse(s)?;
        if m.0 <= 0 {
            return Err(MoneyError::NotPositive);
        }
        Ok(m)
    }

    /// `self + other`, `None` on `i64` overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// `self - other`, `None` on `i64` overflow.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// `-self`, `None` on `i64` overflow.
    pub fn checked_neg(self) -> Option<Money> {
        self.0.checked_neg().map(Money)
    }

    /// True if the amount has no øre part.
    pub fn is_whole_kroner(self) -> bool {
        self.0 % 100 == 0
    }

    /// The amount in kroner if it has no øre part.
    pub fn whole_kroner(self) -> Option<i64> {
        self.is_whole_kroner().then_some(self.0 / 100)
    }

    /// True if below zero.
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// True if above zero.
    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// True if zero.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The exact amount in kroner as a decimal.
    pub fn to_decimal_kroner(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// `self × pct / 100`, rounded to øre half away from zero; `None` if the
    /// result is out of range. E.g. 12.5 % of 0.04 kr is 0.005 → 0.01 kr.
    pub fn percent(self, pct: Decimal) -> Option<Money> {
        let kroner = self.to_decimal_kroner().checked_mul(pct)?.checked_div(Decimal::ONE_HUNDRED)?;
        round_half_away_from_zero_to_ore(kroner)
    }
}

/// Rounds an amount in kroner to whole øre, half away from zero (the usual
/// commercial rule, unlike banker's rounding). `None` if the result's
/// magnitude exceeds [`MAX_ABS_ORE`].
pub fn round_half_away_from_zero_to_ore(value: Decimal) -> Option<Money> {
    let ore = value
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .checked_mul(Decimal::ONE_HUNDRED)?
        .to_i64()?;
    (ore.unsigned_abs() <= MAX_ABS_ORE.unsigned_abs()).then_some(Money(ore))
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

struct MoneyVisitor;

impl de::Visitor<'_> for MoneyVisitor {
    type Value = Money;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Numbers are refused because JSON parsers commonly turn them into
        // floats, and 0.1 + 0.2 is not an amount anyone wants to be paid.
        f.write_str("an amount as a decimal string like \"1234.50\" (amounts are strings, not JSON numbers)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
        Money::parse(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        deserializer.deserialize_str(MoneyVisitor)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;
    use serde::de::value::{Error as DeError, F64Deserializer, I64Deserializer, StrDeserializer};
    use std::str::FromStr;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn decimal_strings_parse_to_ore() {
        assert_eq!(m("1234.50").ore(), 123_450);
        assert_eq!(m("1234.5").ore(), 123_450);
        assert_eq!(m("1234").ore(), 123_400);
        assert_eq!(m("0.05").ore(), 5);
        assert_eq!(m("-0.05").ore(), -5);
        assert_eq!(m("007.50").ore(), 750);
        assert_eq!(m("1000000000.00").ore(), MAX_ABS_ORE);
        assert_eq!(m("-1000000000").ore(), -MAX_ABS_ORE);
    }

    #[test]
    fn negative_zero_is_refused_so_zero_has_one_spelling() {
        for s in ["-0.00", "-0", "-0.0", "-000"] {
            assert_eq!(Money::parse(s), Err(MoneyError::NegativeZero), "{s:?}");
            assert_eq!(Money::parse_non_negative(s), Err(MoneyError::NegativeZero), "{s:?}");
        }
        assert_eq!(MoneyError::NegativeZero.code(), "money_negative_zero");
        assert_eq!(m("0.00"), Money::ZERO);
        assert_eq!(m("-0.01").ore(), -1);
    }

    #[test]
    fn malformed_amounts_are_format_errors() {
        for s in [
            "", "+1", "+1.00", " 1", "1 ", "1 000", "1,50", "1e5", "1E5", "1.5e2", ".", "1.", ".5", "-.5", "-", "--1",
            "1.2.3", "1.-5", "abc", "NaN", "inf", "١٢", "0x10", "1_000",
        ] {
            assert_eq!(Money::parse(s), Err(MoneyError::Format), "{s:?}");
        }
    }

    #[test]
    fn more_than_two_decimals_are_too_precise() {
        assert_eq!(Money::parse("1.234"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse("0.001"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse("1.500"), Err(MoneyError::TooPrecise));
    }

    #[test]
    fn absurd_sizes_are_too_large() {
        assert_eq!(Money::parse("1000000000.01"), Err(MoneyError::TooLarge));
        assert_eq!(Money::parse("-1000000000.01"), Err(MoneyError::TooLarge));
        assert_eq!(Money::parse("99999999999999999999999999999999"), Err(MoneyError::TooLarge));
    }

    #[test]
    fn non_negative_and_positive_variants_refuse_what_they_say() {
        assert_eq!(Money::parse_non_negative("0.00"), Ok(Money::ZERO));
        assert_eq!(Money::parse_non_negative("-0.01"), Err(MoneyError::Negative));
        assert_eq!(Money::parse_non_negative("x"), Err(MoneyError::Format));
        assert_eq!(Money::parse_positive("0.01"), Ok(Money::from_ore(1)));
        assert_eq!(Money::parse_positive("0"), Err(MoneyError::NotPositive));
        assert_eq!(Money::parse_positive("-0.00"), Err(MoneyError::NegativeZero));
        assert_eq!(Money::parse_positive("-5"), Err(MoneyError::NotPositive));
    }

    #[test]
    fn display_is_canonical_with_two_decimals() {
        assert_eq!(Money::from_ore(123_450).to_string(), "1234.50");
        assert_eq!(Money::from_ore(-5).to_string(), "-0.05");
        assert_eq!(Money::ZERO.to_string(), "0.00");
        assert_eq!(Money::from_kroner(42).to_string(), "42.00");
        assert_eq!(Money::from_ore(i64::MIN).to_string(), "-92233720368547758.08");
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        assert_eq!(m("1.50").checked_add(m("2.75")), Some(m("4.25")));
        assert_eq!(m("1.50").checked_sub(m("2.75")), Some(m("-1.25")));
        assert_eq!(Money::from_ore(i64::MAX).checked_add(Money::from_ore(1)), None);
        assert_eq!(Money::from_ore(i64::MIN).checked_sub(Money::from_ore(1)), None);
        assert_eq!(Money::from_ore(i64::MIN).checked_neg(), None);
        assert_eq!(Money::from_kroner(i64::MAX).ore(), i64::MAX);
    }

    #[test]
    fn whole_kroner_are_recognised() {
        assert!(m("12").is_whole_kroner());
        assert!(m("-12.00").is_whole_kroner());
        assert!(!m("12.01").is_whole_kroner());
        assert_eq!(m("12").whole_kroner(), Some(12));
        assert_eq!(m("12.50").whole_kroner(), None);
    }

    #[test]
    fn percent_rounds_half_away_from_zero_at_exact_half_ore() {
        let holiday = dec("12.5");
        // 12.50125 -> 12.50
        assert_eq!(m("100.01").percent(holiday), Some(m("12.50")));
        // 0.005 -> 0.01 (banker's rounding would give 0.00)
        assert_eq!(m("0.04").percent(holiday), Some(m("0.01")));
        assert_eq!(m("-0.04").percent(holiday), Some(m("-0.01")));
        // 0.025 -> 0.03 (banker's rounding would give 0.02)
        assert_eq!(m("0.20").percent(holiday), Some(m("0.03")));
        assert_eq!(m("-0.20").percent(holiday), Some(m("-0.03")));
        // just below half rounds down
        assert_eq!(m("0.03").percent(holiday), Some(m("0.00")));
        assert_eq!(m("1000").percent(dec("0")), Some(Money::ZERO));
    }

    #[test]
    fn rounding_to_ore_refuses_out_of_range_values() {
        assert_eq!(round_half_away_from_zero_to_ore(dec("2.345")), Some(m("2.35")));
        assert_eq!(round_half_away_from_zero_to_ore(dec("-2.345")), Some(m("-2.35")));
        assert_eq!(round_half_away_from_zero_to_ore(dec("2.3449")), Some(m("2.34")));
        assert_eq!(round_half_away_from_zero_to_ore(dec("1000000000.004")), Some(Money::from_ore(MAX_ABS_ORE)));
        assert_eq!(round_half_away_from_zero_to_ore(dec("1000000000.005")), None);
        assert_eq!(round_half_away_from_zero_to_ore(Decimal::MAX), None);
        assert_eq!(Money::from_ore(MAX_ABS_ORE).percent(dec("200")), None);
    }

    #[test]
    fn serde_reads_and_writes_decimal_strings() {
        let parsed = Money::deserialize(StrDeserializer::<DeError>::new("1234.5")).unwrap();
        assert_eq!(parsed, m("1234.50"));
        assert_eq!(serde_json::to_value(parsed).unwrap(), serde_json::json!("1234.50"));
        let err = Money::deserialize(StrDeserializer::<DeError>::new("1.234")).unwrap_err();
        assert!(err.to_string().contains("at most two decimals"), "{err}");
    }

    #[test]
    fn serde_refuses_json_numbers() {
        let err = Money::deserialize(I64Deserializer::<DeError>::new(12)).unwrap_err();
        assert!(err.to_string().contains("decimal string"), "{err}");
        let err = Money::deserialize(F64Deserializer::<DeError>::new(12.5)).unwrap_err();
        assert!(err.to_string().contains("not JSON numbers"), "{err}");
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(ore in -MAX_ABS_ORE..=MAX_ABS_ORE) {
            let money = Money::from_ore(ore);
            let s = money.to_string();
            prop_assert_eq!(Money::parse(&s), Ok(money));
        }

        #[test]
        fn anything_that_parses_displays_to_an_equal_amount(s in "-?[0-9]{1,13}(\\.[0-9]{0,3})?") {
            if let Ok(money) = Money::parse(&s) {
                prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
                prop_assert!(money.ore().unsigned_abs() <= MAX_ABS_ORE.unsigned_abs());
            }
        }

        #[test]
        fn arbitrary_strings_never_panic(s in any::<String>()) {
            let _ = Money::parse(&s);
        }

        #[test]
        fn percent_is_within_half_an_ore_of_the_exact_value(
            ore in -MAX_ABS_ORE..=MAX_ABS_ORE,
            pct_hundredths in 0i64..=10_000,
        ) {
            let pct = Decimal::new(pct_hundredths, 2);
            let exact = Decimal::new(ore, 2) * pct / Decimal::ONE_HUNDRED;
            let got = Money::from_ore(ore).percent(pct).unwrap();
            let diff = (got.to_decimal_kroner() - exact).abs();
            prop_assert!(diff <= dec("0.005"), "{} vs {}", got, exact);
        }
    }
}
