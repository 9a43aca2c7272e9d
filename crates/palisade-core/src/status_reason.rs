//! The reason an admission denial gives the client, and the HTTP status code that goes with
//! it: what a ValidatingAdmissionPolicy validation's `reason` sets (`Invalid` when it sets
//! none), as the API server answers for it.

use std::fmt;

/// A reason a ValidatingAdmissionPolicy validation may give (the four the API server
/// accepts in `validations[].reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusReason {
    Unauthorized,
    Forbidden,
    Invalid,
    RequestEntityTooLarge,
}

impl StatusReason {
    /// The four, in the API documentation's order.
    pub const ALL: [StatusReason; 4] = [
        StatusReason::Unauthorized,
        StatusReason::Forbidden,
        StatusReason::Invalid,
        StatusReason::RequestEntityTooLarge,
    ];

    /// The reason named `text` (exactly as the API names it), if it is one of the four.
    pub fn parse(text: &str) -> Option<StatusReason> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatusReason::Unauthorized => "Unauthorized",
            StatusReason::Forbidden => "Forbidden",
            StatusReason::Invalid => "Invalid",
            StatusReason::RequestEntityTooLarge => "RequestEntityTooLarge",
        }
    }

    /// The HTTP status code the API server answers a denial with this reason with.
    pub fn code(self) -> u16 {
        match self {
            StatusReason::Unauthorized => 401,
            StatusReason::Forbidden => 403,
            StatusReason::Invalid => 422,
            StatusReason::RequestEntityTooLarge => 413,
        }
    }
}

impl fmt::Display for StatusReason {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each name reads back as itself, with the code the API server's `reasonToCode` gives;
    /// other spellings are not reasons.
    #[test]
    fn each_reason_has_its_name_and_code() {
        let codes: Vec<(StatusReason, u16)> = [
            "Unauthorized",
            "Forbidden",
            "Invalid",
            "RequestEntityTooLarge",
        ]
        .iter()
        .map(|name| {
            let reason = StatusReason::parse(name).expect(name);
            assert_eq!(reason.as_str(), *name);
            (reason, reason.code())
        })
        .collect();
        assert_eq!(
            codes,
            [
                (StatusReason::Unauthorized, 401),
                (StatusReason::Forbidden, 403),
                (StatusReason::Invalid, 422),
                (StatusReason::RequestEntityTooLarge, 413),
            ]
        );
        for other in ["invalid", "NotFound", "", "Conflict"] {
            assert_eq!(StatusReason::parse(other), None, "{other}");
        }
    }
}
