//! Cloud credentials that are recognised by their surroundings rather than a token prefix:
//! Google Cloud service-account key files, Azure connection-string keys and shared access
//! signatures. (AWS key ids and Google API keys have prefixes: see `tokens`.)

use super::{Found, find_text};
use crate::detector::Detector;
use crate::values::{is_placeholder, is_reference};

pub(super) fn find(text: &str, out: &mut Vec<Found>) {
    gcp_service_account(text, out);
    azure_keys(text, out);
    azure_sas(text, out);
}

/// A service-account key file: `"type": "service_account"` and a `"private_key"` holding a
/// key block. The match is the private key's value.
fn gcp_service_account(text: &str, out: &mut Vec<Found>) {
    if !text.contains("service_account") {
        return;
    }
    let Some(key) = find_text(text, "\"private_key\"") else {
        return;
    };
    let Some(open) = text[key + 13..].find('"').map(|i| key + 13 + i + 1) else {
        return;
    };
    let Some(len) = text[open..].find('"') else {
        return;
    };
    let value = &text[open..open + len];
    if value.contains("PRIVATE KEY") && value.len() > 100 {
        out.push(Found::new(Detector::GcpServiceAccountKey, open, open + len));
    }
}

/// `AccountKey=...;` and `SharedAccessKey=...;` in Azure connection strings (storage, Service
/// Bus, Event Hubs, IoT Hub).
fn azure_keys(text: &str, out: &mut Vec<Found>) {
    for field in ["AccountKey=", "SharedAccessKey="] {
        let mut from = 0;
        while let Some(i) = find_text(&text[from..], field) {
            let start = from + i + field.len();
            let len = text[start..]
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
                .count();
            let value = &text[start..start + len];
            if len >= 32 && !is_reference(value) && !is_placeholder(field, value) {
                out.push(Found::new(Detector::AzureAccountKey, start, start + len));
            }
            from = start + len;
        }
    }
}

/// A shared access signature: a query with `sig=` and a signed version `sv=`.
fn azure_sas(text: &str, out: &mut Vec<Found>) {
    let mut from = 0;
    while let Some(i) = find_text(&text[from..], "sig=") {
        let start = from + i + 4;
        from = start;
        if start < 5 || !matches!(text.as_bytes()[start - 5], b'?' | b'&') {
            continue;
        }
        let query_start = text[..start]
            .rfind(|c: char| c.is_whitespace() || c == '"')
            .map_or(0, |q| q + 1);
        let query = &text[query_start..];
        if !(query.contains("sv=") && (query.contains("se=") || query.contains("sp="))) {
            continue;
        }
        let len = text[start..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'%' | b'+' | b'/' | b'='))
            .count();
        if len >= 20 {
            out.push(Found::new(Detector::AzureSasToken, start, start + len));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str) -> Vec<Detector> {
        super::super::matches(find, text)
            .into_iter()
            .map(|(d, _)| d)
            .collect()
    }

    #[test]
    fn azure_connection_strings_and_sas_are_found() {
        let cs = "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy+/==;EndpointSuffix=core.windows.net";
        assert_eq!(detect(cs), [Detector::AzureAccountKey]);
        let sas = "https://shop.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=o&sp=r&se=2027-01-01T00:00:00Z&sig=Q2FuYXJ5U2lnbmF0dXJlRm9yVGVzdHM%3D";
        assert_eq!(detect(sas), [Detector::AzureSasToken]);
        assert!(detect("AccountKey=${STORAGE_KEY}").is_empty());
    }
}
