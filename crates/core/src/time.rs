//! Timestamps: CloudTrail's `eventTime` (RFC 3339, UTC) normalized to ASFF's form with
//! milliseconds, compared and nudged forward without a date library.

/// Milliseconds since the Unix epoch of an RFC 3339 UTC timestamp
/// (`2024-08-01T13:33:28Z`, `2024-08-01T13:33:28.123Z`, `+00:00` offsets).
pub fn parse_millis(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let mut ms = frac[..digits.min(3)].to_string();
        while ms.len() < 3 {
            ms.push('0');
        }
        millis = ms.parse().ok()?;
        rest = &frac[digits..];
    }
    let offset_min = match rest {
        "Z" | "z" | "" => 0,
        o if o.len() == 6 && o.is_ascii() && (o.starts_with('+') || o.starts_with('-')) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o.get(1..3)?.parse::<i64>().ok()? * 60 + o.get(4..6)?.parse::<i64>().ok()?)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some(((days * 86_400 + h * 3600 + mi * 60 + se - offset_min * 60) * 1000) + millis)
}

/// RFC 3339 UTC with milliseconds, as ASFF timestamps are written.
pub fn format_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// `s` normalized to ASFF form; unparseable input is returned as it is.
pub fn normalize(s: &str) -> String {
    parse_millis(s)
        .map(format_millis)
        .unwrap_or_else(|| s.to_string())
}

/// The UTC date (`YYYY-MM-DD`) of a timestamp.
pub fn utc_date(s: &str) -> Option<String> {
    parse_millis(s).map(|ms| format_millis(ms)[..10].to_string())
}

/// `candidate` if it is later than `current`, else one millisecond after `current`.
pub fn later_than(candidate: &str, current: &str) -> String {
    match (parse_millis(candidate), parse_millis(current)) {
        (Some(c), Some(cur)) if c > cur => format_millis(c),
        (_, Some(cur)) => format_millis(cur + 1),
        _ => normalize(candidate),
    }
}

// Howard Hinnant's civil calendar algorithms.

/// Days since 1970-01-01 of a proleptic Gregorian date (year, month 1-12, day 1-31).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_forms() {
        assert_eq!(
            normalize("2024-08-01T13:33:28Z"),
            "2024-08-01T13:33:28.000Z"
        );
        assert_eq!(
            normalize("2024-02-29T23:59:59.5Z"),
            "2024-02-29T23:59:59.500Z"
        );
        assert_eq!(
            normalize("2024-08-01T15:33:28+02:00"),
            "2024-08-01T13:33:28.000Z"
        );
        assert_eq!(parse_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(normalize("garbage"), "garbage");
        assert!(parse_millis("2024-13-01T00:00:00Z").is_none());
        assert!(parse_millis("2024-08-01T13:33:28+1é:1").is_none());
        assert!(parse_millis("2024-08-01T13:33:28é").is_none());
        assert!(parse_millis("01/02/2024 10:00").is_none());
    }

    #[test]
    fn later_than_moves_forward() {
        assert_eq!(
            later_than("2024-08-01T13:33:29Z", "2024-08-01T13:33:28.000Z"),
            "2024-08-01T13:33:29.000Z"
        );
        assert_eq!(
            later_than("2024-08-01T13:33:28Z", "2024-08-01T13:33:28.000Z"),
            "2024-08-01T13:33:28.001Z"
        );
        assert_eq!(
            later_than("2024-12-31T23:59:59.999Z", "2024-12-31T23:59:59.999Z"),
            "2025-01-01T00:00:00.000Z"
        );
    }
}
