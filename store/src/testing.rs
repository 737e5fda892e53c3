//! Throwaway databases for tests: a fresh SQLite file or a fresh PostgreSQL
//! database per test, so tests run in parallel without seeing each other.
//!
//! PostgreSQL is reached through `MLC_TEST_DATABASE_URL` (an administrative
//! URL such as `postgres://postgres@127.0.0.1:5432/postgres`, set by
//! `scripts/test`), else `postgres://127.0.0.1:5432/postgres`. A test that
//! needs PostgreSQL fails when none answers: it is never skipped silently.

use std::path::PathBuf;

use sqlx::{Connection, Executor, PgConnection};

use crate::{EventStore, StoreOptions};

/// A database that exists for one test, dropped with it.
pub struct TestDatabase {
    /// The URL the store under test opens.
    pub url: String,
    admin_url: Option<String>,
    name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

/// The administrative PostgreSQL URL tests create their databases through.
pub fn admin_url() -> String {
    std::env::var("MLC_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://127.0.0.1:5432/postgres".into())
}

impl TestDatabase {
    /// A new, empty SQLite file in its own temporary folder.
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("temporary folder");
        TestDatabase {
            url: format!("sqlite:{}", dir.path().join("events.db").display()),
            admin_url: None,
            name: None,
            _dir: Some(dir),
        }
    }

    /// A new, empty PostgreSQL database.
    pub async fn postgres() -> TestDatabase {
        let admin = admin_url();
        let name = format!("mlc_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!("PostgreSQL must answer at {admin} (set MLC_TEST_DATABASE_URL): {e}")
        });
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        // The same server and options (`?sslmode=...`), another database.
        let (base, options) = match admin.split_once('?') {
            Some((base, options)) => (base, format!("?{options}")),
            None => (admin.as_str(), String::new()),
        };
        let url = match base.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}{options}"),
            None => panic!("MLC_TEST_DATABASE_URL must end with a database name"),
        };
        TestDatabase {
            url,
            admin_url: Some(admin),
            name: Some(name),
            _dir: None,
        }
    }

    /// A new database of the named backend (`sqlite` or `postgres`).
    pub async fn of(backend: &str) -> TestDatabase {
        match backend {
            "sqlite" => TestDatabase::sqlite(),
            "postgres" => TestDatabase::postgres().await,
            other => panic!("unknown backend {other}"),
        }
    }

    /// The store on this database, migrated.
    pub async fn store(&self) -> EventStore {
        EventStore::connect(&self.url, StoreOptions::default())
            .await
            .expect("open test store")
    }

    /// The SQLite file, for a test that opens it from another process.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.url.strip_prefix("sqlite:").map(PathBuf::from)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let (Some(admin), Some(name)) = (self.admin_url.take(), self.name.take()) {
            // Drop on a thread of its own: Drop may run inside a runtime.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(async {
                        if let Ok(mut conn) = PgConnection::connect(&admin).await {
                            let _ = conn
                                .execute(
                                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                                )
                                .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}
