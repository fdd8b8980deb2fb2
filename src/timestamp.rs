//! Instants in time as the inputs write them, without a date library: RFC 3339 timestamps
//! (`2026-03-02T09:15:00Z`, `…+08:00`, fractional seconds), a date alone (`2026-03-02`, read
//! as midnight UTC) and the space-separated form many exports use (`2026-03-02 09:15:00`, UTC
//! unless it carries an offset) → seconds since the Unix epoch, UTC; and back to RFC 3339.
//!
//! Used where results are placed in time: the training-effect windows ([`crate::effect`]).
//! The calendar arithmetic is Howard Hinnant's `days_from_civil` / `civil_from_days`, exact for
//! the proleptic Gregorian calendar.

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Seconds since the Unix epoch (UTC) of a timestamp as described in the module doc; `None` for
/// anything else (including impossible dates such as 2026-02-30). Fractional seconds are
/// truncated: windows are whole days, and truncation keeps equal inputs equal.
pub fn parse_instant(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut dp = date.split('-');
    let (y, m, d) = (dp.next()?, dp.next()?, dp.next()?);
    if dp.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d) = (digits(y)?, digits(m)? as u32, digits(d)? as u32);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let day = days_from_civil(y, m, d) * 86_400;
    let Some(rest) = rest else {
        return Some(day);
    };
    // hh:mm[:ss[.frac]] then Z, ±hh:mm, ±hhmm or nothing (UTC).
    let (clock, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let clock = clock.split('.').next()?;
    let mut cp = clock.split(':');
    let (hh, mm) = (digits(cp.next()?)?, digits(cp.next()?)?);
    let ss = match cp.next() {
        Some(x) => digits(x)?,
        None => 0,
    };
    if cp.next().is_some() || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let off = parse_offset(offset)?;
    Some(day + hh * 3600 + mm * 60 + ss.min(59) - off)
}

/// A UTC offset in seconds: `Z`, `±hh:mm` or `±hhmm`; an empty string is UTC (a timestamp
/// without an offset).
pub fn parse_offset(o: &str) -> Option<i64> {
    match o {
        "" | "Z" | "z" => Some(0),
        o => {
            let sign = match o.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let body = o[1..].replace(':', "");
            if body.len() != 4 {
                return None;
            }
            let (oh, om) = (digits(&body[..2])?, digits(&body[2..])?);
            if oh > 23 || om > 59 {
                return None;
            }
            Some(sign * (oh * 3600 + om * 60))
        }
    }
}

/// `secs` since the epoch as `YYYY-MM-DDThh:mm:ssZ`.
pub fn format_rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_inputs_use() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_instant("2026-03-02"), Some(1_772_409_600));
        assert_eq!(
            parse_instant("2026-03-02T08:00:00+08:00"),
            Some(1_772_409_600)
        );
        assert_eq!(parse_instant("2026-03-02 00:00:00"), Some(1_772_409_600));
        assert_eq!(
            parse_instant("2026-03-01T19:00:00.750-05:00"),
            Some(1_772_409_600)
        );
        assert_eq!(
            parse_instant("2026-03-02T01:30:00+0130"),
            Some(1_772_409_600)
        );
        for bad in [
            "",
            "yesterday",
            "2026-02-30",
            "2026-13-01",
            "2026-3-2",
            "2026-03-02T25:00:00Z",
            "2026-03-02T10:00:00+8",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
    }

    #[test]
    fn calendar_round_trips() {
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(
            format_rfc3339(1_772_409_600 + 3_723),
            "2026-03-02T01:02:03Z"
        );
        assert_eq!(
            parse_instant(&format_rfc3339(951_782_400)),
            Some(951_782_400)
        ); // 2000-02-29
    }
}
