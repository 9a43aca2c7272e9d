//! CVSS base scores from the vectors OSV records carry: version 3.0/3.1 and version 2, by the
//! formulas of their specifications (FIRST), and the qualitative rating each version gives a
//! score. A vector missing a base metric, or with a value the version does not define, has no
//! score.

use palisade_core::Severity;

/// A vector's base score and the severity its CVSS version gives that score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub base: f64,
    pub severity: Severity,
}

/// The value of metric `name` in a `/`-separated vector (`AV:N/AC:L/...`).
fn metric<'a>(vector: &'a str, name: &str) -> Option<&'a str> {
    vector
        .split('/')
        .filter_map(|part| part.split_once(':'))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// CVSS 3.x's rounding up to one decimal, as section 7.4 of 3.1 defines it (exact on the
/// integer scale, so 4.000000001 is 4.0 rather than 4.1).
fn round_up(value: f64) -> f64 {
    let scaled = (value * 100_000.0).round() as i64;
    if scaled % 10_000 == 0 {
        scaled as f64 / 100_000.0
    } else {
        ((scaled / 10_000) + 1) as f64 / 10.0
    }
}

/// The base score of a CVSS 3.0 or 3.1 vector (`CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`).
pub fn v3(vector: &str) -> Option<Score> {
    if !vector.starts_with("CVSS:3.") {
        return None;
    }
    let changed = match metric(vector, "S")? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av: f64 = match metric(vector, "AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match metric(vector, "AC")? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (metric(vector, "PR")?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match metric(vector, "UI")? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |name| match metric(vector, name) {
        Some("H") => Some(0.56_f64),
        Some("L") => Some(0.22),
        Some("N") => Some(0.0),
        _ => None,
    };
    let (c, i, a) = (cia("C")?, cia("I")?, cia("A")?);
    let iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    let base = if impact <= 0.0 {
        0.0
    } else if changed {
        round_up((1.08 * (impact + exploitability)).min(10.0))
    } else {
        round_up((impact + exploitability).min(10.0))
    };
    let severity = match base {
        b if b >= 9.0 => Severity::Critical,
        b if b >= 7.0 => Severity::High,
        b if b >= 4.0 => Severity::Medium,
        b if b > 0.0 => Severity::Low,
        _ => Severity::Info,
    };
    Some(Score { base, severity })
}

/// The base score of a CVSS 2 vector (`AV:N/AC:L/Au:N/C:P/I:P/A:P`, with or without a
/// `(...)` around it).
pub fn v2(vector: &str) -> Option<Score> {
    let vector = vector.trim_start_matches('(').trim_end_matches(')');
    let av: f64 = match metric(vector, "AV")? {
        "L" => 0.395,
        "A" => 0.646,
        "N" => 1.0,
        _ => return None,
    };
    let ac = match metric(vector, "AC")? {
        "H" => 0.35,
        "M" => 0.61,
        "L" => 0.71,
        _ => return None,
    };
    let au = match metric(vector, "Au")? {
        "M" => 0.45,
        "S" => 0.56,
        "N" => 0.704,
        _ => return None,
    };
    let cia = |name| match metric(vector, name) {
        Some("N") => Some(0.0_f64),
        Some("P") => Some(0.275),
        Some("C") => Some(0.660),
        _ => None,
    };
    let (c, i, a) = (cia("C")?, cia("I")?, cia("A")?);
    let impact = 10.41 * (1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a));
    let exploitability = 20.0 * av * ac * au;
    let f = if impact == 0.0 { 0.0 } else { 1.176 };
    let base = (((0.6 * impact) + (0.4 * exploitability) - 1.5) * f * 10.0).round() / 10.0;
    let base = base.max(0.0);
    let severity = match base {
        b if b >= 7.0 => Severity::High,
        b if b >= 4.0 => Severity::Medium,
        b if b > 0.0 => Severity::Low,
        _ => Severity::Info,
    };
    Some(Score { base, severity })
}

/// Whether a CVSS vector (any version) says the flaw is exploited over the network (`AV:N`).
pub fn network_attack(vector: &str) -> bool {
    metric(vector.trim_start_matches('('), "AV") == Some("N")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores NVD publishes for these vectors (the CVEs named), and the last two worked by hand
    /// from the specification's formula (scope changed, with its `PR` weights).
    #[test]
    fn v3_scores_match_published_ones() {
        let cases = [
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
                10.0,
                Severity::Critical,
            ), // CVE-2021-44228
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                9.8,
                Severity::Critical,
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
                7.5,
                Severity::High,
            ), // CVE-2023-44487
            (
                "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
                7.8,
                Severity::High,
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                6.1,
                Severity::Medium,
            ), // reflected XSS
            (
                "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N",
                3.7,
                Severity::Low,
            ),
            (
                "CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N",
                0.0,
                Severity::Info,
            ),
            (
                "CVSS:3.1/AV:L/AC:H/PR:H/UI:N/S:C/C:H/I:H/A:H",
                7.5,
                Severity::High,
            ),
            (
                "CVSS:3.1/AV:A/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:L",
                6.5,
                Severity::Medium,
            ),
        ];
        for (vector, base, severity) in cases {
            let score = v3(vector).unwrap();
            assert_eq!((score.base, score.severity), (base, severity), "{vector}");
        }
        assert!(v3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H").is_none());
        assert!(v3("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").is_none());
        assert!(v3("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").is_none());
    }

    #[test]
    fn v2_scores_match_published_ones() {
        assert_eq!(v2("AV:N/AC:L/Au:N/C:C/I:C/A:C").unwrap().base, 10.0);
        assert_eq!(v2("AV:N/AC:L/Au:N/C:P/I:P/A:P").unwrap().base, 7.5);
        assert_eq!(v2("(AV:N/AC:M/Au:N/C:N/I:P/A:N)").unwrap().base, 4.3);
        assert_eq!(v2("AV:L/AC:L/Au:N/C:P/I:N/A:N").unwrap().base, 2.1);
        assert!(v2("AV:N/AC:L/Au:N/C:P/I:P").is_none());
    }

    #[test]
    fn network_vectors_are_told_apart() {
        assert!(network_attack(
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        ));
        assert!(!network_attack(
            "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        ));
        assert!(network_attack(
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
        ));
    }
}
