//! A cursor bound as an API wants it in a request: records carry
//! `2024-05-01T12:00:00Z`, an API may want `2024-05-01`, epoch seconds or
//! its account's local time. Seed 004's timezone and date_format decide.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// How bounds are rendered for one connection and resource.
#[derive(Debug, Clone)]
pub struct BoundFormat {
    pub pattern: Option<String>,
    pub timezone: Tz,
}

impl BoundFormat {
    /// The manifest's `format` (what the vendor requires) over the
    /// connection's date_format; the connection's timezone (UTC when unset
    /// or unknown).
    pub fn new(manifest: Option<&str>, date_format: Option<&str>, timezone: Option<&str>) -> Self {
        Self {
            pattern: manifest.or(date_format).map(str::to_string),
            timezone: timezone.and_then(|t| t.parse().ok()).unwrap_or(Tz::UTC),
        }
    }

    /// `cursor` as sent: formatted when it is a date or a time and a
    /// pattern is set, else as it is.
    pub fn render(&self, cursor: &str) -> String {
        let Some(pattern) = &self.pattern else {
            return cursor.to_string();
        };
        let at: DateTime<Utc> = if let Some(t) = instant(cursor) {
            t
        } else if let Ok(d) = NaiveDate::parse_from_str(cursor, "%Y-%m-%d") {
            // A date is midnight where the account is.
            match d
                .and_hms_opt(0, 0, 0)
                .and_then(|t| self.timezone.from_local_datetime(&t).earliest())
            {
                Some(t) => t.with_timezone(&Utc),
                None => return cursor.to_string(),
            }
        } else {
            return cursor.to_string();
        };
        match pattern.as_str() {
            "unix" => at.timestamp().to_string(),
            "unix_ms" => at.timestamp_millis().to_string(),
            p => at.with_timezone(&self.timezone).format(p).to_string(),
        }
    }
}

/// An RFC 3339 time, or one with a `+hhmm` offset as Salesforce writes
/// them (`2024-01-02T10:00:00.000+0000`).
pub fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_rendered_in_the_connections_zone_and_format() {
        let utc = BoundFormat::new(None, None, None);
        assert_eq!(
            utc.render("2024-05-01T12:00:00Z"),
            "2024-05-01T12:00:00Z",
            "as is"
        );
        let date = BoundFormat::new(Some("%Y-%m-%d"), None, Some("America/New_York"));
        // 02:00 UTC is the evening before in New York.
        assert_eq!(date.render("2024-05-02T02:00:00Z"), "2024-05-01");
        let unix = BoundFormat::new(Some("unix"), None, None);
        assert_eq!(unix.render("1970-01-02T00:00:00+00:00"), "86400");
        assert_eq!(unix.render("1970-01-02"), "86400");
        // The connection's date_format where the manifest sets none.
        let own = BoundFormat::new(None, Some("%d/%m/%Y %H:%M"), Some("Europe/Paris"));
        assert_eq!(own.render("2024-01-15T23:30:00Z"), "16/01/2024 00:30");
        // The vendor's format wins: its API takes nothing else.
        let vendor = BoundFormat::new(Some("unix"), Some("%d/%m/%Y"), None);
        assert_eq!(vendor.render("1970-01-02T00:00:00Z"), "86400");
        // Salesforce's own +0000 offsets are times too.
        let soql = BoundFormat::new(Some("%Y-%m-%dT%H:%M:%S%:z"), None, None);
        assert_eq!(
            soql.render("2024-01-02T10:00:00.000+0000"),
            "2024-01-02T10:00:00+00:00"
        );
        // Not a date: sent as it is.
        assert_eq!(unix.render("cursor-42"), "cursor-42");
    }
}
