//! Companies: whether a coordinator of the company's municipality has vouched for it.

use serde::{Deserialize, Serialize};

/// Whether a coordinator has vouched for a company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// Registered, not yet looked at: it may draft tasks but not open them.
    Unverified,
    /// Vouched for by a coordinator of its municipality.
    Verified,
    /// Refused by a coordinator of its municipality.
    Rejected,
}

crate::coded_enum!(Verification, "company verification" {
    Unverified => "unverified",
    Verified => "verified",
    Rejected => "rejected",
});

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::coded::{Coded, parse_code};

    #[test]
    fn every_verification_reads_back_from_its_code_and_serializes_as_it() {
        for v in Verification::ALL {
            assert_eq!(parse_code::<Verification>(v.code()), Ok(v));
            assert_eq!(serde_json::to_value(v).ok(), Some(serde_json::Value::from(v.as_str())));
        }
    }

    #[test]
    fn an_unknown_verification_code_names_the_kind() {
        let e = parse_code::<Verification>("pending").unwrap_err();
        assert_eq!(e.to_string(), "`pending` is not a known company verification");
    }
}
