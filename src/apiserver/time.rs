//! RFC 3339 timestamps (`2024-05-01T12:00:00Z`) without a date-time dependency.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The current time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_rfc3339() -> String {
    format_rfc3339(unix_now())
}

/// The current time as Go's `RFC3339Nano`: what `flux reconcile` and Flux's Receivers write
/// into `reconcile.fluxcd.io/requestedAt`. The sub-second part matters: two requests within
/// one second must still change the annotation, or the second patch is a no-op.
pub fn now_rfc3339_nano() -> String {
    format_rfc3339_nano(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

/// Formats a time since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.fffffffffZ`, trailing zeros of
/// the fraction trimmed and no fraction at all on a whole second, as Go's `RFC3339Nano`.
pub fn format_rfc3339_nano(since_epoch: Duration) -> String {
    let secs = format_rfc3339(since_epoch.as_secs() as i64);
    let base = secs.strip_suffix('Z').unwrap_or(&secs);
    let frac = format!("{:09}", since_epoch.subsec_nanos());
    match frac.trim_end_matches('0') {
        "" => format!("{base}Z"),
        frac => format!("{base}.{frac}Z"),
    }
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn format_rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (fractional seconds ignored) into Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// `5s`, `3m`, `2h`, `4d` as kubectl prints ages.
pub fn human_age(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 * 3 => format!("{}m", s / 60),
        s if s < 86_400 * 2 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_known_instants() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(1_709_251_200), "2024-03-01T00:00:00Z");
        assert_eq!(parse_rfc3339("2024-03-01T00:00:00Z"), Some(1_709_251_200));
        assert_eq!(
            parse_rfc3339(&format_rfc3339(1_234_567_890)),
            Some(1_234_567_890)
        );
    }

    #[test]
    fn nano_timestamps_trim_trailing_zeros_like_go() {
        let at = |nanos| format_rfc3339_nano(Duration::new(1_709_251_200, nanos));
        assert_eq!(at(0), "2024-03-01T00:00:00Z");
        assert_eq!(at(120_000_000), "2024-03-01T00:00:00.12Z");
        assert_eq!(at(7), "2024-03-01T00:00:00.000000007Z");
        assert_eq!(
            parse_rfc3339(&now_rfc3339_nano()).map(|s| s > 0),
            Some(true)
        );
    }

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(human_age(5), "5s");
        assert_eq!(human_age(300), "5m");
        assert_eq!(human_age(86_400 * 3), "3d");
    }
}
