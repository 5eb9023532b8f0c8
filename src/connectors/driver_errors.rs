//! What a connector may say about a database driver's error. The driver's
//! own text can quote the configuration it was given, credentials included
//! (sqlx's SASLprep error quotes the offending character of a password), so
//! messages are built from the error's kind: a database server's SQLSTATE
//! and message (servers do not echo passwords), else our own fixed wording.
//! The whole-value `scrub` stays as a second line of defence.

use std::collections::BTreeMap;

use sea_orm::sqlx;

use super::{ConnectorError, scrub};

/// `what` went wrong, said without quoting anything the driver was configured with.
pub(crate) fn failed(
    what: &str,
    e: &sqlx::Error,
    credentials: &BTreeMap<String, String>,
) -> ConnectorError {
    let message = scrub(&format!("{what}: {}", describe(e)), credentials);
    if is_auth(e) {
        ConnectorError::Auth(message)
    } else {
        ConnectorError::Failed(message)
    }
}

/// Whether the server refused who we are: SQLSTATE class 28 (invalid
/// authorization: a wrong password, an unknown role) or a password SCRAM
/// cannot even send.
fn is_auth(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("28")),
        sqlx::Error::Configuration(inner) => inner.to_string().contains("saslprep"),
        _ => false,
    }
}

/// The user-facing description of a driver error.
pub(crate) fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (code {code})", db.message()),
            None => db.message().to_string(),
        },
        // Inspected, never quoted: it names the one setting at fault.
        sqlx::Error::Configuration(inner) if inner.to_string().contains("saslprep") => {
            "the user name or password contains a character that SCRAM authentication prohibits"
                .into()
        }
        sqlx::Error::Configuration(_) | sqlx::Error::InvalidArgument(_) => {
            "the connection settings are not valid".into()
        }
        sqlx::Error::Io(io) => format!("I/O error ({})", io.kind()),
        sqlx::Error::Tls(_) => "the TLS handshake failed".into(),
        sqlx::Error::Protocol(_) => "the server's answer was not understood".into(),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".into(),
        sqlx::Error::RowNotFound => "no row was returned".into(),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            "a value could not be decoded".into()
        }
        _ => "the database driver failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_texts_that_may_quote_settings_are_never_shown() {
        let password = "pa\u{1F511}ss";
        for e in [
            sqlx::Error::Configuration(
                format!("Failed to saslprep password: ProhibitedCharacter('{password}')").into(),
            ),
            sqlx::Error::Configuration(format!("bad option {password}").into()),
            sqlx::Error::Protocol(format!("unexpected {password}")),
            sqlx::Error::Tls(format!("certificate for {password}").into()),
            sqlx::Error::InvalidArgument(password.into()),
        ] {
            let m = describe(&e);
            assert!(!m.contains('\u{1F511}') && !m.contains("saslprep"), "{m}");
        }
        let io = sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            password,
        ));
        assert_eq!(describe(&io), "I/O error (connection refused)");
    }
}
