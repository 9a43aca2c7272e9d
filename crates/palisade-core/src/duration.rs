//! Durations as Kubernetes and kubectl write them (Go's `time.Duration` syntax): the CLI's
//! `--timeout 2m30s`, and the `timeout` the API server puts in a webhook request's query.

use std::time::Duration;

/// Parses `5s`, `1m`, `2m30s`, `1h`, `500ms`, `1.5h`, `1m0s`; a bare number is seconds. Zero,
/// negative and absurd values (over 30 years) are refused.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let invalid = || {
        format!(
            "invalid duration `{text}` (expected seconds, or a duration such as 30s, 5m, 2m30s, 1h)"
        )
    };
    if text.is_empty() {
        return Err(invalid());
    }
    let total = if let Ok(seconds) = text.parse::<f64>() {
        seconds
    } else {
        let mut total = 0.0;
        let mut rest = text;
        while !rest.is_empty() {
            let number_end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(invalid)?;
            let number: f64 = rest[..number_end].parse().map_err(|_| invalid())?;
            rest = &rest[number_end..];
            let unit_end = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let factor = match &rest[..unit_end] {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 0.001,
                "us" | "µs" => 0.000_001,
                "ns" => 0.000_000_001,
                _ => return Err(invalid()),
            };
            total += number * factor;
            rest = &rest[unit_end..];
        }
        total
    };
    if !total.is_finite() || total <= 0.0 || total > 1e9 {
        return Err(format!("duration `{text}` must be positive"));
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_as_kubectl_and_go_write_them() {
        assert_eq!(parse("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse("1m0s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse("2m30s"), Ok(Duration::from_secs(150)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        for bad in ["", "5x", "s", "-5", "0", "0s", "1m-", "NaN", "inf", "1e10"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
