//! A fresh PostgreSQL database per test on the cluster named by
//! TRIBUTARY_TEST_POSTGRES_URL, dropped when the test ends (even by panic).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tokio_postgres::{Client, Config, NoTls};

pub const URL_VAR: &str = "TRIBUTARY_TEST_POSTGRES_URL";
pub const REQUIRE_VAR: &str = "TRIBUTARY_REQUIRE_POSTGRES";

pub struct TestDb {
    pub client: Client,
    admin: Config,
    name: String,
}

/// A connection to a new empty database, or None (with a printed line)
/// when no cluster is configured; fails when TRIBUTARY_REQUIRE_POSTGRES=1.
pub async fn fresh(test: &str) -> Option<TestDb> {
    let Ok(url) = std::env::var(URL_VAR) else {
        assert!(
            std::env::var(REQUIRE_VAR).as_deref() != Ok("1"),
            "{REQUIRE_VAR}=1 but {URL_VAR} is unset"
        );
        println!("skipping {test}: {URL_VAR} is unset");
        return None;
    };
    let admin: Config = url.parse().expect("TRIBUTARY_TEST_POSTGRES_URL");
    let name = format!("t_pgwrite_{:016x}", rand::random::<u64>());
    let (c, conn) = admin
        .connect(NoTls)
        .await
        .expect("connect to the test cluster");
    tokio::spawn(conn);
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let mut cfg = admin.clone();
    cfg.dbname(&name);
    let (client, conn) = cfg
        .connect(NoTls)
        .await
        .expect("connect to the test database");
    tokio::spawn(conn);
    Some(TestDb {
        client,
        admin,
        name,
    })
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop cannot await: a thread with its own runtime drops the
        // database, closing this test's connections (FORCE).
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let (c, conn) = admin.connect(NoTls).await?;
                tokio::spawn(conn);
                c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

impl TestDb {
    /// The test database's connection settings.
    pub fn config(&self) -> Config {
        let mut cfg = self.admin.clone();
        cfg.dbname(&self.name);
        cfg
    }

    /// The cluster's URL with the test database in place of its own.
    pub fn url(&self) -> String {
        let url = std::env::var(URL_VAR).expect("set when the database was made");
        let (base, query) = url.split_once('?').unwrap_or((&url, ""));
        let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
        let authority = rest.split('/').next().unwrap_or(rest);
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        format!("{scheme}://{authority}/{}{query}", self.name)
    }

    /// Output settings fixed, so values read back as text are stable.
    pub async fn set_text_output(&self) {
        self.client
            .batch_execute(
                "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; \
                 SET IntervalStyle = 'postgres'; SET extra_float_digits = 1; \
                 SET bytea_output = 'hex'",
            )
            .await
            .expect("session settings");
    }

    /// Every row of `sql`, each column as its text (None for NULL).
    pub async fn text_rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let rows = self.client.query(sql, &[]).await.expect(sql);
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.get::<_, Option<String>>(i))
                    .collect()
            })
            .collect()
    }
}

/// Rows of expected text, from string literals ("NULL" → None).
pub fn expect_rows(rows: &[&[&str]]) -> Vec<Vec<Option<String>>> {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|v| (*v != "NULL").then(|| v.to_string()))
                .collect()
        })
        .collect()
}
