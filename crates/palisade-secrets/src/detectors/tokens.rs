//! Tokens with a documented format: a fixed prefix, a length and an alphabet (AWS key ids,
//! GitHub, GitLab, Slack, Stripe, Twilio, SendGrid, npm, PyPI, Google API keys, JWTs).

use base64::Engine as _;

use super::{Found, find_text, words};
use crate::detector::Detector;
use crate::values::{entropy, is_documented_example};

/// `(prefix, detector, shortest and longest body after the prefix, body alphabet)`.
struct Format {
    prefix: &'static str,
    detector: Detector,
    min: usize,
    max: usize,
    alphabet: fn(u8) -> bool,
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}
fn alnum_underscore(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}
fn alnum_dash(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}
fn lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}
fn base32_upper(b: u8) -> bool {
    b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b) || b.is_ascii_digit()
}

const FORMATS: &[Format] = &[
    Format {
        prefix: "github_pat_",
        detector: Detector::GitHubToken,
        min: 60,
        max: 100,
        alphabet: alnum_underscore,
    },
    Format {
        prefix: "ghp_",
        detector: Detector::GitHubToken,
        min: 36,
        max: 36,
        alphabet: alnum,
    },
    Format {
        prefix: "gho_",
        detector: Detector::GitHubToken,
        min: 36,
        max: 36,
        alphabet: alnum,
    },
    Format {
        prefix: "ghu_",
        detector: Detector::GitHubToken,
        min: 36,
        max: 36,
        alphabet: alnum,
    },
    Format {
        prefix: "ghs_",
        detector: Detector::GitHubToken,
        min: 36,
        max: 36,
        alphabet: alnum,
    },
    Format {
        prefix: "ghr_",
        detector: Detector::GitHubToken,
        min: 36,
        max: 76,
        alphabet: alnum,
    },
    Format {
        prefix: "glpat-",
        detector: Detector::GitLabToken,
        min: 20,
        max: 60,
        alphabet: alnum_dash,
    },
    Format {
        prefix: "gldt-",
        detector: Detector::GitLabToken,
        min: 20,
        max: 60,
        alphabet: alnum_dash,
    },
    Format {
        prefix: "glrt-",
        detector: Detector::GitLabToken,
        min: 20,
        max: 60,
        alphabet: alnum_dash,
    },
    Format {
        prefix: "glptt-",
        detector: Detector::GitLabToken,
        min: 20,
        max: 60,
        alphabet: alnum_dash,
    },
    Format {
        prefix: "glcbt-",
        detector: Detector::GitLabToken,
        min: 20,
        max: 60,
        alphabet: alnum_dash,
    },
    Format {
        prefix: "xoxb-",
        detector: Detector::SlackToken,
        min: 20,
        max: 200,
        alphabet: alnum_dash,
    },
    Format {
        prefix: "xoxp-",
        detector: Detector::SlackToken,
        min: 20,
        max: 200,
        alphabet: alnum_dash,
    },
    Format {
        prefix: "xoxa-",
        detector: Detector::SlackToken,
        min: 20,
        max: 200,
        alphabet: alnum_dash,
    },
    Format {
        prefix: "xoxe-",
        detector: Detector::SlackToken,
        min: 20,
        max: 200,
        alphabet: alnum_dash,
    },
    Format {
        prefix: "xapp-",
        detector: Detector::SlackToken,
        min: 20,
        max: 200,
        alphabet: alnum_dash,
    },
    Format {
        prefix: "sk_live_",
        detector: Detector::StripeKey,
        min: 20,
        max: 250,
        alphabet: alnum,
    },
    Format {
        prefix: "rk_live_",
        detector: Detector::StripeKey,
        min: 20,
        max: 250,
        alphabet: alnum,
    },
    Format {
        prefix: "sk_test_",
        detector: Detector::StripeKey,
        min: 20,
        max: 250,
        alphabet: alnum,
    },
    Format {
        prefix: "rk_test_",
        detector: Detector::StripeKey,
        min: 20,
        max: 250,
        alphabet: alnum,
    },
    Format {
        prefix: "SK",
        detector: Detector::TwilioApiKey,
        min: 32,
        max: 32,
        alphabet: lower_hex,
    },
    Format {
        prefix: "npm_",
        detector: Detector::NpmToken,
        min: 36,
        max: 36,
        alphabet: alnum,
    },
    Format {
        prefix: "pypi-AgEIcHlwaS5vcmc",
        detector: Detector::PyPiToken,
        min: 50,
        max: 300,
        alphabet: alnum_dash,
    },
    Format {
        prefix: "AIza",
        detector: Detector::GcpApiKey,
        min: 35,
        max: 35,
        alphabet: alnum_dash,
    },
    Format {
        prefix: "AKIA",
        detector: Detector::AwsAccessKeyId,
        min: 16,
        max: 16,
        alphabet: base32_upper,
    },
    Format {
        prefix: "ASIA",
        detector: Detector::AwsAccessKeyId,
        min: 16,
        max: 16,
        alphabet: base32_upper,
    },
    Format {
        prefix: "ABIA",
        detector: Detector::AwsAccessKeyId,
        min: 16,
        max: 16,
        alphabet: base32_upper,
    },
    Format {
        prefix: "ACCA",
        detector: Detector::AwsAccessKeyId,
        min: 16,
        max: 16,
        alphabet: base32_upper,
    },
];

pub(super) fn find(text: &str, out: &mut Vec<Found>) {
    for (start, word) in words(text) {
        if word.len() < 20 {
            continue;
        }
        find_in_word(text, start, word, out);
    }
    find_slack_webhooks(text, out);
}

fn find_in_word(text: &str, start: usize, word: &str, out: &mut Vec<Found>) {
    // Tokens inside a longer word (`TOKEN=ghp_...`, `key:AKIA...`): try each start after a
    // separator too.
    let starts = std::iter::once(0).chain(
        word.bytes()
            .enumerate()
            .filter(|(_, b)| matches!(b, b'=' | b'/' | b'+' | b'.' | b'_' | b'-'))
            .map(|(i, _)| i + 1),
    );
    for offset in starts.take(16) {
        let candidate = &word[offset..];
        for format in FORMATS {
            if let Some(len) = match_format(format, candidate) {
                let token = &candidate[..len];
                if plausible(format.detector, token) {
                    let at = start + offset;
                    out.push(Found::new(format.detector, at, at + len));
                    return;
                }
            }
        }
        if let Some(len) = sendgrid(candidate).or_else(|| jwt(candidate)) {
            let detector = if candidate.starts_with("SG.") {
                Detector::SendGridKey
            } else {
                Detector::Jwt
            };
            let at = start + offset;
            debug_assert!(text.is_char_boundary(at));
            out.push(Found::new(detector, at, at + len));
            return;
        }
    }
}

/// The length of the token `candidate` starts with, if it has `format`.
fn match_format(format: &Format, candidate: &str) -> Option<usize> {
    let body = candidate.strip_prefix(format.prefix)?;
    let len = body.bytes().take_while(|b| (format.alphabet)(*b)).count();
    if len < format.min || (len > format.max && format.min == format.max) {
        return None;
    }
    Some(format.prefix.len() + len.min(format.max))
}

/// Structure checks beyond the alphabet: random bodies, no documented examples, and for AWS
/// key ids the exact length.
fn plausible(detector: Detector, token: &str) -> bool {
    if is_documented_example(token) {
        return false;
    }
    let body_entropy = entropy(token);
    match detector {
        Detector::AwsAccessKeyId => token.len() == 20 && body_entropy >= 3.0,
        Detector::TwilioApiKey => body_entropy >= 3.0,
        _ => body_entropy >= 3.0,
    }
}

/// Whether a classic GitHub token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` + 30 random
/// characters + 6) carries a valid checksum: the last six characters are the CRC-32 of the
/// thirty before them, in base 62 (`0-9A-Za-z`), padded with zeros. `None` for other formats.
/// A token whose checksum does not match was never issued by GitHub: a test or made-up value.
pub fn github_checksum_valid(token: &str) -> Option<bool> {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let prefixed = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
        .iter()
        .any(|p| token.starts_with(p));
    if !prefixed || token.len() != 40 || !token.is_ascii() {
        return None;
    }
    let (entropy, checksum) = (&token[4..34], &token[34..]);
    let mut crc = flate2::Crc::new();
    crc.update(entropy.as_bytes());
    let mut value = u64::from(crc.sum());
    let mut encoded = [b'0'; 6];
    for slot in encoded.iter_mut().rev() {
        *slot = DIGITS[(value % 62) as usize];
        value /= 62;
    }
    Some(encoded == checksum.as_bytes())
}

/// `SG.` + 22 + `.` + 43 characters.
fn sendgrid(candidate: &str) -> Option<usize> {
    let rest = candidate.strip_prefix("SG.")?;
    let (a, b) = rest.split_once('.')?;
    let b_len = b.bytes().take_while(|c| alnum_dash(*c)).count();
    (a.len() == 22 && a.bytes().all(alnum_dash) && b_len == 43).then_some(3 + 22 + 1 + 43)
}

/// `eyJ...header.eyJ...payload.signature` whose header decodes to JSON naming an `alg`.
fn jwt(candidate: &str) -> Option<usize> {
    if !candidate.starts_with("eyJ") {
        return None;
    }
    let mut parts = candidate.splitn(3, '.');
    let header = parts.next()?;
    let payload = parts.next()?;
    // The signature with its dot; a token cut after its payload has neither (and is still
    // taken: an unsigned token is a credential too).
    let signature_len = parts.next().map_or(0, |signature| {
        1 + signature.bytes().take_while(|c| alnum_dash(*c)).count()
    });
    if payload.len() < 4 || !payload.bytes().all(alnum_dash) {
        return None;
    }
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()?;
    let json: serde_json::Value = serde_json::from_slice(&decoded).ok()?;
    json.get("alg")?;
    Some(header.len() + 1 + payload.len() + signature_len)
}

/// `https://hooks.slack.com/services/T.../B.../secret`.
fn find_slack_webhooks(text: &str, out: &mut Vec<Found>) {
    const HOOK: &str = "hooks.slack.com/services/";
    let mut from = 0;
    while let Some(i) = find_text(&text[from..], HOOK) {
        let start = from + i + HOOK.len();
        let len = text[start..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'/')
            .count();
        let path = &text[start..start + len];
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() == 3
            && parts[0].starts_with('T')
            && parts[1].starts_with('B')
            && parts[2].len() >= 20
        {
            // The workspace and channel ids are not secret; the last segment is.
            let secret_at = start + parts[0].len() + parts[1].len() + 2;
            out.push(Found::new(Detector::SlackWebhook, secret_at, start + len));
        }
        from = start + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str) -> Vec<(Detector, String)> {
        super::super::matches(find, text)
    }

    /// A token that ends after its payload (no second dot) is matched to its end, not one
    /// byte past it: `scan_text` found the scan of a ConfigMap panicking on one.
    #[test]
    fn a_token_without_a_signature_ends_at_its_payload() {
        let header = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZpeHR1cmUifQ";
        let payload = "eyJpc3MiOiJodHRwczovL2t1YmVybmVl4dHVyZS1zaWduYXR1cmUtbm90LXZhbGlk";
        let token = format!("{header}.{payload}");
        assert_eq!(detect(&token), [(Detector::Jwt, token.clone())]);
        assert_eq!(
            crate::text::scan_value(Some("token"), &token).len(),
            1,
            "the value is scanned without a panic"
        );
        let signed = format!("{token}.c2lnbmF0dXJl");
        assert_eq!(detect(&format!("x {signed} y")), [(Detector::Jwt, signed)]);
    }

    #[test]
    fn formats_are_recognised_inside_assignments() {
        let gh = "ghp_Zq3V8mK1pL9xR2tY7wB4nC6dF0hJ5sA8eG1u";
        assert_eq!(
            detect(&format!("TOKEN={gh}")),
            [(Detector::GitHubToken, gh.to_string())]
        );
        assert_eq!(detect("AKIAZ7QK3LM4NP5RT6VW").len(), 1);
        assert!(
            detect("AKIAIOSFODNN7EXAMPLE").is_empty(),
            "documented example"
        );
        assert!(detect("AKIA-not-a-key-at-all").is_empty());
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJlLWJ5dGVz";
        assert_eq!(detect(jwt), [(Detector::Jwt, jwt.to_string())]);
        assert!(
            detect("eyJub3QiOiJhIGp3dCJ9.eyJ4Ijoi.abc").is_empty(),
            "no alg"
        );
    }

    #[test]
    fn github_checksums_are_checked() {
        // The example of a public write-up of the format (the token was revoked): its last six
        // characters are the checksum GitHub computed, so this checks the scheme, not itself.
        let token = "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";
        assert_eq!(github_checksum_valid(token), Some(true));
        assert_eq!(
            github_checksum_valid("ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq18"),
            Some(false)
        );
        assert_eq!(github_checksum_valid("github_pat_x"), None);
    }

    #[test]
    fn slack_webhooks_are_found_in_urls() {
        let url = "https://hooks.slack.com/services/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";
        assert_eq!(
            detect(url),
            [(
                Detector::SlackWebhook,
                "q8Zk3LmN5pR7tV9xW1yA2bC4".to_string()
            )]
        );
    }
}
