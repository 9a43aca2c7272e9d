//! Records the commit and the build date for `palisade --version`.
//!
//! The commit comes from `git` when the source is a checkout (`unknown` otherwise, as in a
//! crate tarball); the date is `SOURCE_DATE_EPOCH` when set (reproducible builds), else today.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    println!("cargo:rustc-env=PALISADE_COMMIT={commit}");
    println!(
        "cargo:rustc-env=PALISADE_BUILD_DATE={}",
        civil_date(seconds)
    );
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // A new commit changes HEAD (a branch checkout) or the branch's ref.
    for path in [
        "../../.git/HEAD",
        "../../.git/refs/heads",
        "../../.git/packed-refs",
    ] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// `YYYY-MM-DD` of a Unix time (UTC).
fn civil_date(seconds: i64) -> String {
    palisade_core::date::Date::from_days(seconds.div_euclid(86_400)).to_string()
}
