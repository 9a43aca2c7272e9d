//! Calendar dates (suppression expiry) and UTC timestamps (snapshots), without a date-time
//! dependency.

use std::fmt;

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD`, checking the day exists.
    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.trim().split('-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u32 = parts.next()?.parse().ok()?;
        let day: u32 = parts.next()?.parse().ok()?;
        if parts.next().is_some()
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
        {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Today in UTC.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days(i64::try_from(secs / 86_400).unwrap_or(0))
    }

    /// The date `days` days after 1970-01-01 (Howard Hinnant's civil-from-days).
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }
}

/// Now, in seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Microseconds since the Unix epoch, now (0 for a clock set before it).
pub fn unix_now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The current UTC time as RFC 3339 (`2026-11-26T19:42:07Z`).
pub fn utc_now_rfc3339() -> String {
    unix_seconds_rfc3339(unix_now())
}

/// A time in seconds since the Unix epoch as RFC 3339 in UTC (`2026-11-26T19:42:07Z`).
pub fn unix_seconds_rfc3339(secs: i64) -> String {
    let date = Date::from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl Date {
    /// Days since 1970-01-01 (Howard Hinnant's days-from-civil).
    pub fn to_days(self) -> i64 {
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let yoe = year.rem_euclid(400);
        let month = i64::from(self.month);
        let mp = if month > 2 { month - 3 } else { month + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

/// Seconds since the Unix epoch of an HTTP date, as `Retry-After` may give one: the
/// preferred IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two obsolete forms a
/// recipient must accept as well (RFC 9110 §5.6.7: RFC 850's `Sunday, 06-Nov-94 08:49:37
/// GMT` and asctime's `Sun Nov  6 08:49:37 1994`); `None` for anything else.
pub fn http_date_unix_seconds(text: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(text.trim()).ok()?;
    let since = at.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(since.as_secs()).ok()
}

/// Microseconds since the Unix epoch of an RFC 3339 timestamp as the API server writes them
/// (`2026-11-26T19:42:07.123456Z`, or with an offset such as `+02:00`); `None` when it is not
/// one.
pub fn rfc3339_unix_micros(text: &str) -> Option<i64> {
    match canonical_unix_micros(text.as_bytes()) {
        Some(decided) => decided,
        None => general_unix_micros(text),
    }
}

/// The digits at `bytes[range]` as a number, when they are all ASCII digits.
fn digits(bytes: &[u8], range: std::ops::Range<usize>) -> Option<i64> {
    bytes.get(range)?.iter().try_fold(0i64, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
    })
}

/// [`rfc3339_unix_micros`] of the layout the API server writes every event in
/// (`2026-11-26T19:42:07Z`, `2026-11-26T19:42:07.123456Z`), read at fixed places: the answer
/// when `bytes` is in that layout, `None` (not decided) otherwise. Every detection of every
/// event asks for its time, and the general reader cost some 1,400 instructions a call.
fn canonical_unix_micros(bytes: &[u8]) -> Option<Option<i64>> {
    let layout = bytes.len() >= 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':'
        && bytes[bytes.len() - 1] == b'Z'
        && (bytes.len() == 20 || bytes[19] == b'.');
    if !layout {
        return None;
    }
    let fields = (
        digits(bytes, 0..4),
        digits(bytes, 5..7),
        digits(bytes, 8..10),
        digits(bytes, 11..13),
        digits(bytes, 14..16),
        digits(bytes, 17..19),
    );
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = fields
    else {
        return None;
    };
    let fraction = bytes.get(20..bytes.len() - 1).unwrap_or_default();
    if !fraction.iter().all(u8::is_ascii_digit) || (bytes.len() > 20 && fraction.is_empty()) {
        return None;
    }
    let (year, month, day) = (
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    );
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Some(None);
    }
    let mut micros: i64 = 0;
    for (i, digit) in fraction.iter().take(6).enumerate() {
        micros += i64::from(digit - b'0') * 10_i64.pow(5 - i as u32);
    }
    let date = Date { year, month, day };
    let secs = date.to_days() * 86_400 + hour * 3600 + minute * 60 + second;
    Some(
        secs.checked_mul(1_000_000)
            .and_then(|s| s.checked_add(micros)),
    )
}

/// [`rfc3339_unix_micros`] of any layout it reads.
fn general_unix_micros(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = text.split_at_checked(10)?;
    let date = Date::parse(date)?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (clock, offset_secs) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else {
        let sign_at = rest.rfind(['+', '-'])?;
        let (clock, offset) = rest.split_at(sign_at);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let (h, m) = offset[1..].split_once(':')?;
        let minutes = h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?;
        (clock, sign * minutes * 60)
    };
    let (whole, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut parts = whole.split(':');
    let hour: i64 = parts.next()?.parse().ok()?;
    let minute: i64 = parts.next()?.parse().ok()?;
    let second: i64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut micros: i64 = 0;
    for (i, digit) in fraction.bytes().take(6).enumerate() {
        micros += i64::from(digit - b'0') * 10_i64.pow(5 - u32::try_from(i).ok()?);
    }
    let secs = date.to_days() * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    secs.checked_mul(1_000_000)?.checked_add(micros)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three forms RFC 9110 §5.6.7 makes a recipient accept (its own example date in
    /// each), and what is none of them.
    #[test]
    fn http_dates_in_each_form_a_recipient_accepts() {
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(http_date_unix_seconds(form), Some(784_111_777), "{form}");
        }
        assert_eq!(
            http_date_unix_seconds("Sat, 05 Dec 2026 12:00:00 GMT"),
            rfc3339_unix_micros("2026-12-05T12:00:00Z").map(|m| m / 1_000_000)
        );
        for bad in [
            "120",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "",
        ] {
            assert_eq!(http_date_unix_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn converts_days_to_dates() {
        assert_eq!(Date::from_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_days(20_454).to_string(), "2026-01-01");
        assert_eq!(Date::from_days(11_016).to_string(), "2000-02-29");
    }

    #[test]
    fn writes_unix_seconds_as_rfc3339() {
        assert_eq!(unix_seconds_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(unix_seconds_rfc3339(1_796_119_205), "2026-12-01T10:00:05Z");
        assert_eq!(unix_seconds_rfc3339(-1), "1969-12-31T23:59:59Z");
        let micros = rfc3339_unix_micros("2026-12-01T10:00:05.250000Z").unwrap();
        assert_eq!(
            unix_seconds_rfc3339(micros / 1_000_000),
            "2026-12-01T10:00:05Z"
        );
    }

    proptest::proptest! {
        /// The fixed-place reader of the API server's layout decides exactly as the general
        /// reader: on timestamps of that layout (valid or not: day 31 of a short month, hour
        /// 24, a fraction with no digit) and on near misses it leaves to it.
        #[test]
        fn the_canonical_layout_reads_as_the_general_reader_does(
            year in 0u32..10_000,
            month in 0u32..14,
            day in 0u32..33,
            hour in 0u32..26,
            minute in 0u32..62,
            second in 0u32..62,
            fraction in "[0-9]{0,9}",
            dot in proptest::bool::ANY,
            noise in proptest::option::of((0usize..24, "[ 0-9TZz:.+-]")),
        ) {
            let dot = if dot || !fraction.is_empty() { "." } else { "" };
            let mut text = format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{dot}{fraction}Z"
            );
            if let Some((at, with)) = noise {
                let at = at.min(text.len() - 1);
                text.replace_range(at..=at, &with);
            }
            let fast = canonical_unix_micros(text.as_bytes());
            if let Some(decided) = fast {
                proptest::prop_assert_eq!(decided, general_unix_micros(&text), "{}", text);
            }
            proptest::prop_assert_eq!(rfc3339_unix_micros(&text), general_unix_micros(&text), "{}", text);
        }
    }

    #[test]
    fn reads_rfc3339_timestamps() {
        assert_eq!(rfc3339_unix_micros("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_unix_micros("2018-10-25T13:58:49.730588Z"),
            Some(1_540_475_929_730_588)
        );
        assert_eq!(
            rfc3339_unix_micros("2018-10-25T15:58:49.5+02:00"),
            Some(1_540_475_929_500_000)
        );
        assert_eq!(rfc3339_unix_micros("yesterday"), None);
        assert_eq!(rfc3339_unix_micros("2018-10-25T25:00:00Z"), None);
        for days in [-1000, 0, 11_016, 20_454, 40_000] {
            assert_eq!(Date::from_days(days).to_days(), days);
        }
    }

    #[test]
    fn parses_and_validates() {
        assert_eq!(Date::parse("2027-02-28").unwrap().to_string(), "2027-02-28");
        assert!(Date::parse("2027-02-29").is_none());
        assert!(Date::parse("2027-13-01").is_none());
        assert!(Date::parse("tomorrow").is_none());
        assert!(Date::parse("2026-01-01").unwrap() < Date::parse("2026-01-02").unwrap());
    }
}
