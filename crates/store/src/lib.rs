//! GridSafe's storage: one code path over the embedded SQLite default and PostgreSQL.
//!
//! The backend is chosen at run time from the database URL and reached through sqlx's `Any`
//! driver, so every query is written once. To keep that honest the schema uses a small common
//! type set: `TEXT` for ids, codes, dates and timestamps (written by Rust in one format, see
//! [`gridsafe_domain::time::Timestamp`]), `BIGINT` for numbers and for flags (0 or 1: the `Any` driver cannot decode SQLite booleans).
//! Placeholders are `$1, $2, …` on both backends.
//!
//! Durability is not traded away: SQLite runs in WAL mode with `synchronous=FULL`, and
//! [`Database::check_durability`] lets the server refuse to start when either backend would
//! lose committed work on a power cut.

pub mod audit;
mod config;
pub mod customers;
mod decode;
pub mod demo;
pub mod emergency;
pub mod faults;
pub mod findings;
pub mod hazards;
pub mod history;
pub mod identity;
pub mod inspections;
pub mod jobs;
mod migrate;
pub mod numbers;
pub mod outages;
pub mod people;
pub mod plans;
pub mod projects;
pub mod quality;
pub mod supervision;
pub mod tickets;
pub mod webhooks;

pub use config::{DatabaseConfig, DatabaseUrl};
pub use migrate::{AppliedMigration, MIGRATIONS, Migration, SchemaStatus};

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};
use thiserror::Error;

/// Which database engine is behind the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("unsupported database URL scheme (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("cannot create the data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database error")]
    Sql(#[from] sqlx::Error),
    #[error("migration {version} ({name}) was changed after it was applied")]
    MigrationEdited { version: i64, name: String },
    #[error("the database has migration {version} which this binary does not know; it was written by a newer GridSafe")]
    SchemaAhead { version: i64 },
    #[error("timed out")]
    Timeout,
    /// A stored value that does not decode: the row was written by something other than
    /// GridSafe, or by a version that knew codes this one does not.
    #[error("stored value in {table}.{column} does not decode: {value:?}")]
    Corrupt { table: &'static str, column: &'static str, value: String },
}

impl StoreError {
    /// Every connection was busy for the whole acquire timeout: a load peak, not a fault.
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Sql(sqlx::Error::PoolTimedOut))
    }

    /// A unique constraint refused the row: the record exists already.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Sql(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// What the durability check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Durability {
    /// Each setting that is not safe, as `name=value`.
    pub unsafe_settings: Vec<String>,
}

impl Durability {
    pub fn is_safe(&self) -> bool {
        self.unsafe_settings.is_empty()
    }
}

/// The connection pool and what it is connected to.
#[derive(Clone)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
    /// On PostgreSQL, connections of its own driver for what `Any` cannot say: an import's
    /// `COPY … FROM STDIN` (see [`BulkTx`]). Opened when first asked for.
    bulk: Option<sqlx::PgPool>,
    /// On SQLite, the connection [`Database::version`] asks (see there).
    watch: std::sync::Arc<Watcher>,
}

/// SQLite's `PRAGMA data_version` changes on a connection when another connection (of this
/// process or another) commits, and only values read on one connection compare; so one
/// connection that never writes is kept for it.
struct Watcher {
    /// An in-memory database is its connection's own: another connection cannot watch it, so
    /// every version read of one is new (nothing is ever served kept).
    in_memory: bool,
    /// How many reads of the version have begun.
    begun: std::sync::atomic::AtomicU64,
    watch: tokio::sync::Mutex<Watch>,
}

struct Watch {
    options: AnyConnectOptions,
    conn: Option<sqlx::AnyConnection>,
    /// The connection's openings: a new connection starts counting afresh, and versions read on
    /// two openings never compare equal.
    epoch: u64,
    /// The last read that ended: its number (in `begun`'s count) and what it read.
    last: Option<(u64, Version)>,
}

/// Where the stored data stands. Two equal versions read from one [`Database`] mean that no
/// transaction committed in between, in this process or any other: what was read after the
/// first is still what the database holds. A cache keyed by it (the signed-in session, a
/// rendered list) can therefore never serve what a commit has changed; versions are only
/// compared for equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version(VersionOf);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum VersionOf {
    /// The watch connection's opening and its `PRAGMA data_version`.
    Sqlite { epoch: u64, data: i64 },
    /// `pg_current_snapshot()`: the transactions completed and in progress (cluster-wide, so a
    /// commit in another database changes it too, which only costs a cache a miss).
    Postgres(String),
    /// A version equal to no other (an in-memory SQLite database).
    Unique(u64),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// A write transaction. On SQLite it was begun `IMMEDIATE`, so it holds the write lock from
/// the start and never fails half-way with `SQLITE_BUSY` on the read-to-write upgrade. It is
/// the connection the area modules' functions take (`&mut tx`); dropped uncommitted, it rolls
/// back.
pub struct WriteTx(Transaction<'static, Any>);

impl WriteTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.0.commit().await?)
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.0.rollback().await?)
    }
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteTx")
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.0
    }
}

/// A write transaction on PostgreSQL's own driver, for the one write the `Any` driver cannot
/// make: `COPY … FROM STDIN`, the server's bulk load, which stores an import's rows in half the
/// time of the fastest `INSERT` (`bench/import.sh`). Only the functions that take a
/// `&mut PgConnection` run on it; dropped uncommitted, it rolls back.
pub struct BulkTx(Transaction<'static, sqlx::Postgres>);

impl BulkTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.0.commit().await?)
    }
}

impl std::fmt::Debug for BulkTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BulkTx")
    }
}

impl std::ops::Deref for BulkTx {
    type Target = BulkConn;
    fn deref(&self) -> &BulkConn {
        &self.0
    }
}

impl std::ops::DerefMut for BulkTx {
    fn deref_mut(&mut self) -> &mut BulkConn {
        &mut self.0
    }
}

/// A read-only snapshot: every statement on it sees the database as it was at its first read,
/// so a read made of several statements (the register, a batch at a time) adds up even while
/// others write. A deferred `BEGIN` on SQLite (in WAL mode a reader's snapshot), `REPEATABLE
/// READ, READ ONLY` on PostgreSQL; dropped, it ends (it never wrote).
pub struct Snapshot(Transaction<'static, Any>);

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Snapshot")
    }
}

impl std::ops::Deref for Snapshot {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl std::ops::DerefMut for Snapshot {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.0
    }
}

impl Database {
    /// Connects, creating the SQLite file and its folder on first start.
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let url = config.url.expose();
        let backend = config.url.backend()?;
        let connect_url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let busy_ms = config.busy_timeout_ms;
        let options: AnyConnectOptions = connect_url.parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(config.max_connections)
            .min_connections(0)
            .acquire_timeout(Duration::from_millis(config.acquire_timeout_ms))
            // A pooled PostgreSQL connection is pinged before it is handed out (the server may
            // have closed it); an SQLite one lives in this process and cannot go away, and the
            // ping was a round trip to its worker thread on every read.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // journal_mode is stored in the file; the others are per connection.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        // 32 MB of pages a connection (SQLite's default is 2 MB): an import of a
                        // million orders otherwise reads its indexes' pages back from the file
                        // for every row (7.4 s against 4.6 s for the same rows in sqlite3).
                        conn.execute("PRAGMA cache_size = -32768").await?;
                        let busy = format!("PRAGMA busy_timeout = {busy_ms}");
                        conn.execute(sqlx::AssertSqlSafe(busy)).await?;
                    }
                    Ok(())
                })
            })
            .connect_lazy_with(options.clone());
        let watch = Watch { options, conn: None, epoch: 0, last: None };
        let in_memory =
            backend == Backend::Sqlite && (config.url.sqlite_file().is_none() || connect_url.contains("mode=memory"));
        let watch = Watcher { in_memory, begun: 0.into(), watch: tokio::sync::Mutex::new(watch) };
        let bulk = match backend {
            Backend::Sqlite => None,
            // Two imports load at once at most (each keeps a core of the server busy); the
            // next waits for one of them, up to half a minute, then is told to try again.
            Backend::Postgres => Some(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .min_connections(0)
                    .acquire_timeout(Duration::from_secs(30))
                    .test_before_acquire(true)
                    .connect_lazy_with(connect_url.parse()?),
            ),
        };
        let db = Self { pool, backend, bulk, watch: std::sync::Arc::new(watch) };
        // Fail fast on a bad URL or an unreachable server, rather than on the first request.
        db.ping().await?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Where the stored data stands now (see [`Version`]): read before the reads a cache keeps,
    /// compared for equality before it serves them. On SQLite one statement on the watch
    /// connection; on PostgreSQL one on a pooled connection.
    pub async fn version(&self) -> Result<Version, StoreError> {
        match self.backend {
            Backend::Postgres => {
                let row = self.pool.fetch_one("SELECT pg_current_snapshot()::text").await?;
                Ok(Version(VersionOf::Postgres(row.try_get(0)?)))
            }
            Backend::Sqlite if self.watch.in_memory => {
                Ok(Version(VersionOf::Unique(self.watch.begun.fetch_add(1, std::sync::atomic::Ordering::SeqCst))))
            }
            Backend::Sqlite => {
                use std::sync::atomic::Ordering::SeqCst;
                // A read that begins after this call began sees every commit made before it, so
                // it serves this call too: the calls that arrive while one read is under way
                // share the next one (one round trip to the connection's thread for many).
                let arrived = self.watch.begun.load(SeqCst);
                let mut watch = self.watch.watch.lock().await;
                if let Some((read, version)) = &watch.last
                    && *read > arrived
                {
                    return Ok(version.clone());
                }
                let read = self.watch.begun.fetch_add(1, SeqCst) + 1;
                let watch = &mut *watch;
                let conn = match &mut watch.conn {
                    Some(conn) => conn,
                    None => {
                        use sqlx::ConnectOptions;
                        let mut conn = watch.options.connect().await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        watch.epoch += 1;
                        watch.conn.insert(conn)
                    }
                };
                match conn.fetch_one("PRAGMA data_version").await.and_then(|row| row.try_get::<i64, _>(0)) {
                    Ok(data) => {
                        let version = Version(VersionOf::Sqlite { epoch: watch.epoch, data });
                        watch.last = Some((read, version.clone()));
                        Ok(version)
                    }
                    Err(e) => {
                        // Opened again on the next call, as a new epoch.
                        watch.conn = None;
                        Err(e.into())
                    }
                }
            }
        }
    }

    /// [`Self::ping`] bounded in time, so a hung server makes the check fail instead of hang.
    pub async fn ping_within(&self, limit: Duration) -> Result<(), StoreError> {
        tokio::time::timeout(limit, self.ping()).await.map_err(|_| StoreError::Timeout)?
    }

    /// A pooled connection for reads (`&mut *conn` for the area modules' functions).
    pub async fn read(&self) -> Result<sqlx::pool::PoolConnection<Any>, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    /// Begins a [`Snapshot`] for a read of several statements.
    pub async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN").await?,
            Backend::Postgres => self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?,
        };
        Ok(Snapshot(tx))
    }

    /// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx(tx))
    }

    /// On PostgreSQL, a write transaction on its own driver's connection (see [`BulkTx`]);
    /// `None` on SQLite, whose write transactions load in bulk as they are.
    pub async fn begin_bulk(&self) -> Result<Option<BulkTx>, StoreError> {
        match &self.bulk {
            Some(pool) => Ok(Some(BulkTx(pool.begin().await?))),
            None => Ok(None),
        }
    }

    /// Checks that committed work survives a power cut: WAL with `synchronous=FULL` (or
    /// `EXTRA`) on SQLite, `fsync` and `synchronous_commit` on PostgreSQL.
    pub async fn check_durability(&self) -> Result<Durability, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut unsafe_settings = Vec::new();
        match self.backend {
            Backend::Sqlite => {
                let mode: String = conn.fetch_one("PRAGMA journal_mode").await?.try_get(0)?;
                if !mode.eq_ignore_ascii_case("wal") {
                    unsafe_settings.push(format!("journal_mode={mode}"));
                }
                let sync: i64 = conn.fetch_one("PRAGMA synchronous").await?.try_get(0)?;
                // 2 = FULL, 3 = EXTRA.
                if sync < 2 {
                    unsafe_settings.push(format!("synchronous={sync}"));
                }
            }
            Backend::Postgres => {
                let fsync: String = conn.fetch_one("SHOW fsync").await?.try_get(0)?;
                if fsync != "on" {
                    unsafe_settings.push(format!("fsync={fsync}"));
                }
                let commit: String = conn.fetch_one("SHOW synchronous_commit").await?.try_get(0)?;
                if commit == "off" {
                    unsafe_settings.push(format!("synchronous_commit={commit}"));
                }
            }
        }
        Ok(Durability { unsafe_settings })
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        if let Some(watch) = self.watch.watch.lock().await.conn.take() {
            use sqlx::Connection;
            let _ = watch.close().await;
        }
        self.pool.close().await;
    }
}

/// A connection: a pooled one for reads, or the one of a write transaction (`&mut *tx`).
/// Every function of an area module takes one, so the same read serves a page and the rule
/// check inside a unit of work.
pub use sqlx::AnyConnection as Conn;
/// The connection of a [`BulkTx`]: PostgreSQL's own driver.
pub use sqlx::PgConnection as BulkConn;

/// Which engine a connection talks to.
pub fn backend_of(conn: &Conn) -> Backend {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") { Backend::Postgres } else { Backend::Sqlite }
}

/// One value of a row written by [`insert_many`].
pub(crate) enum Cell {
    Text(String),
    Int(i64),
}

/// Rows written with one statement on SQLite: at most ten values a row bind 5,000, well inside
/// its limit of 32,766.
const ROWS_A_STATEMENT: usize = 500;

/// Rows written with one statement on PostgreSQL, a column to a bound array: 10,000 rows of an
/// import are about 2 MB of text.
const ROWS_AN_ARRAY: usize = 10_000;

/// Writes one row of `columns` into `table` for each of `items` (`row` gives its values in
/// column order, each column always the same kind of [`Cell`]), many rows to a statement,
/// `tail` after the rows (an `ON CONFLICT` clause, or nothing); then brings the table's
/// statistics up to date when they were many ([`analyze_after_bulk`]). A chunk must not name
/// the same conflicting row twice.
///
/// On SQLite a statement is `VALUES (?, …), …`: every full chunk has the same text, so it is
/// prepared once, and the marks are plain `?` bound in order (sqlx looks up each numbered mark's
/// name in a list as long as the statement's: 3,500 values of a 500-row insert spent half an
/// import there). On PostgreSQL each column of a chunk is one bound array (`unnest($1::text[],
/// $2::bigint[], …)`): the server parses one value a column instead of one a cell and plans one
/// statement for 10,000 rows; 200,000 orders went in 2.0 s instead of 2.7 s.
pub(crate) async fn insert_many<T>(
    conn: &mut Conn,
    table: &str,
    columns: &str,
    tail: &str,
    items: &[T],
    row: impl Fn(&T) -> Vec<Cell>,
) -> Result<(), StoreError> {
    let postgres = backend_of(conn) == Backend::Postgres;
    // The table, columns and tail are ours; only the values come from outside.
    let statement = |chunk: &[T]| {
        if postgres {
            let (source, arrays) = unnest(chunk, &row, columns);
            let sql = format!("INSERT INTO {table} ({columns}) SELECT * FROM {source}{tail}");
            return arrays.into_iter().fold(sqlx::query(sqlx::AssertSqlSafe(sql)), Query::bind);
        }
        let cells: Vec<Cell> = chunk.iter().flat_map(&row).collect();
        let width = cells.len() / chunk.len();
        let marks = format!("({})", vec!["?"; width].join(", "));
        let sql = format!("INSERT INTO {table} ({columns}) VALUES {}{tail}", vec![marks; chunk.len()].join(", "));
        // Bound by value: the `Any` driver keeps an owned string as it is, and copies a borrowed one.
        cells.into_iter().fold(sqlx::query(sqlx::AssertSqlSafe(sql)), |q, cell| match cell {
            Cell::Text(text) => q.bind(text),
            Cell::Int(n) => q.bind(n),
        })
    };
    // Each statement is built while the database runs the one before it.
    let mut chunks = items.chunks(if postgres { ROWS_AN_ARRAY } else { ROWS_A_STATEMENT });
    let mut next = chunks.next().map(statement);
    while let Some(query) = next.take() {
        let (done, built) = overlapped(conn, query, || chunks.next().map(statement)).await;
        done?;
        next = built;
    }
    analyze_after_bulk(conn, &[table], items.len()).await
}

/// Runs `query` and, once it has been handed to the database (SQLite's connection thread, or
/// PostgreSQL's server), `next` here, so that the two run at once: what `next` built, with
/// how the query ended. Building a statement's values took half of an import's writing on
/// SQLite, with the database idle meanwhile.
async fn overlapped<R>(
    conn: &mut Conn,
    query: Query<'_>,
    next: impl FnOnce() -> R,
) -> (Result<sqlx::any::AnyQueryResult, sqlx::Error>, R) {
    let mut run = std::pin::pin!(query.execute(&mut *conn));
    // Polled once: that sends the statement.
    let started = std::future::poll_fn(|cx| std::task::Poll::Ready(run.as_mut().poll(cx))).await;
    let built = next();
    let done = match started {
        std::task::Poll::Ready(done) => done,
        std::task::Poll::Pending => run.await,
    };
    (done, built)
}

/// Writes one row of `columns` into `table` for each of `items` as [`insert_many`] does, a row
/// whose `key` (the first of `columns`, the table's primary key) is already stored replacing
/// that row's other columns (`ON CONFLICT DO UPDATE`): an import's rows on SQLite. On PostgreSQL
/// imports load with `COPY` instead ([`copy_upsert`]). The caller brings the table's statistics
/// up to date ([`analyze_after_bulk`]).
pub(crate) async fn upsert_many<T>(
    conn: &mut Conn,
    table: &str,
    columns: &str,
    items: &[T],
    row: impl Fn(&T) -> Vec<Cell>,
) -> Result<(), StoreError> {
    let names: Vec<&str> = columns.split(", ").collect();
    let (key, rest) = names.split_first().expect("a key and columns");
    let set: Vec<String> = rest.iter().map(|c| format!("{c} = excluded.{c}")).collect();
    let tail = format!(" ON CONFLICT ({key}) DO UPDATE SET {}", set.join(", "));
    insert_many(conn, table, columns, &tail, items, row).await
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// [`upsert_many`] with PostgreSQL's bulk load: the rows go to `table` with one `COPY` (a day's
/// new orders). When one of them is stored already (`COPY` only inserts), that is undone and
/// they go again through a temporary table: new rows inserted, stored ones updated where they
/// differ. The check and the insert are exact because every writer of such rows holds one lock
/// ([`findings::hold_imported_rows`]) until its transaction ends.
pub(crate) async fn copy_upsert<T>(
    conn: &mut sqlx::PgConnection,
    table: &str,
    columns: &str,
    items: &[T],
    row: impl Fn(&T) -> Vec<Cell>,
) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    // The table and columns are ours; only the rows come from outside, as COPY's data.
    conn.execute("SAVEPOINT bulk").await?;
    match copy_in(conn, table, columns, items, &row).await {
        Ok(()) => {
            conn.execute("RELEASE SAVEPOINT bulk").await?;
            return Ok(());
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => {
            conn.execute("ROLLBACK TO SAVEPOINT bulk").await?;
            conn.execute("RELEASE SAVEPOINT bulk").await?;
        }
        Err(e) => return Err(e.into()),
    }
    let incoming = format!("incoming_{table}");
    let sql = format!("CREATE TEMPORARY TABLE {incoming} (LIKE {table})");
    conn.execute(sqlx::AssertSqlSafe(sql)).await?;
    copy_in(conn, &incoming, columns, items, &row).await?;
    let names: Vec<&str> = columns.split(", ").collect();
    let (key, rest) = names.split_first().expect("a key and columns");
    let set: Vec<String> = rest.iter().map(|c| format!("{c} = excluded.{c}")).collect();
    let own: Vec<String> = rest.iter().map(|c| format!("t.{c}")).collect();
    let new: Vec<String> = rest.iter().map(|c| format!("excluded.{c}")).collect();
    let sql = format!(
        "INSERT INTO {table} AS t ({columns}) SELECT {columns} FROM {incoming} ON CONFLICT ({key}) DO UPDATE SET {} \
         WHERE ({}) IS DISTINCT FROM ({})",
        set.join(", "),
        own.join(", "),
        new.join(", ")
    );
    conn.execute(sqlx::AssertSqlSafe(sql)).await?;
    // Gone before the next piece of the import may need it again (or with the transaction).
    conn.execute(sqlx::AssertSqlSafe(format!("DROP TABLE {incoming}"))).await?;
    Ok(())
}

/// `items` into `table` with `COPY … FROM STDIN` (its text format), a megabyte at a time: the
/// server stores one while the next is written.
async fn copy_in<T>(
    conn: &mut sqlx::PgConnection,
    table: &str,
    columns: &str,
    items: &[T],
    row: &impl Fn(&T) -> Vec<Cell>,
) -> Result<(), sqlx::Error> {
    const CHUNK: usize = 1 << 20;
    let mut copy = conn.copy_in_raw(&format!("COPY {table} ({columns}) FROM STDIN")).await?;
    let mut data = Vec::with_capacity(CHUNK + 4096);
    for item in items {
        copy_line(&mut data, &row(item));
        if data.len() >= CHUNK {
            copy.send(std::mem::take(&mut data)).await?;
            data.reserve(CHUNK + 4096);
        }
    }
    if !data.is_empty() {
        copy.send(data).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// One row of `COPY`'s text format: columns apart by tabs, the row ended by a newline, and in
/// a value a backslash, tab, newline or carriage return written as its escape.
fn copy_line(data: &mut Vec<u8>, cells: &[Cell]) {
    for (n, cell) in cells.iter().enumerate() {
        if n > 0 {
            data.push(b'\t');
        }
        match cell {
            Cell::Int(i) => data.extend_from_slice(i.to_string().as_bytes()),
            Cell::Text(text) if !text.bytes().any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) => {
                data.extend_from_slice(text.as_bytes());
            }
            Cell::Text(text) => {
                for &b in text.as_bytes() {
                    match b {
                        b'\\' => data.extend_from_slice(b"\\\\"),
                        b'\t' => data.extend_from_slice(b"\\t"),
                        b'\n' => data.extend_from_slice(b"\\n"),
                        b'\r' => data.extend_from_slice(b"\\r"),
                        _ => data.push(b),
                    }
                }
            }
        }
    }
    data.push(b'\n');
}

/// The rows of `chunk` as PostgreSQL's `unnest($1::text[], $2::bigint[], …) AS r(columns)`,
/// with its binds: one array literal a column.
fn unnest<T>(chunk: &[T], row: impl Fn(&T) -> Vec<Cell>, columns: &str) -> (String, Vec<String>) {
    let mut arrays: Vec<(String, bool)> = Vec::new();
    for (n, item) in chunk.iter().enumerate() {
        for (c, cell) in row(item).into_iter().enumerate() {
            if c == arrays.len() {
                arrays.push((String::with_capacity(chunk.len() * 16), matches!(cell, Cell::Int(_))));
            }
            let (array, _) = &mut arrays[c];
            array.push(if n == 0 { '{' } else { ',' });
            match cell {
                Cell::Int(i) => array.push_str(&i.to_string()),
                Cell::Text(text) => array_element(array, &text),
            }
        }
    }
    let sources: Vec<String> = arrays
        .iter()
        .enumerate()
        .map(|(c, (_, int))| format!("${}::{}[]", c + 1, if *int { "bigint" } else { "text" }))
        .collect();
    let binds = arrays
        .into_iter()
        .map(|(mut array, _)| {
            array.push('}');
            array
        })
        .collect();
    (format!("unnest({}) AS r({columns})", sources.join(", ")), binds)
}

/// `text` as an element of a PostgreSQL array literal: always quoted, its quotes and
/// backslashes escaped, so that no value (empty, `NULL`, braces, commas, spaces) reads as
/// anything but itself.
fn array_element(array: &mut String, text: &str) {
    array.push('"');
    for ch in text.chars() {
        if ch == '"' || ch == '\\' {
            array.push('\\');
        }
        array.push(ch);
    }
    array.push('"');
}

/// Rows written at once from which [`analyze_after_bulk`] brings statistics up to date.
const ANALYZE_AFTER: usize = 10_000;

/// After `rows` rows were written to `tables` at once: on PostgreSQL, when they are many, the
/// tables' statistics brought up to date at once, so that the next statements are planned for
/// the tables as they are now (the day's import after a store of a million orders took 4 s
/// instead of 0.35 s to find its findings, planned for the empty tables autovacuum last saw).
/// SQLite plans without statistics.
/// A table may name the columns whose statistics its readers need (`"t (a, b)"`): the others
/// are left to autovacuum, which still analyzes the whole table later (a partial `ANALYZE` does
/// not reset its count of changed rows); the orders' three took 0.08 s of 200,000 where all
/// their columns took 0.24 s.
pub(crate) async fn analyze_after_bulk(conn: &mut Conn, tables: &[&str], rows: usize) -> Result<(), StoreError> {
    if rows >= ANALYZE_AFTER && backend_of(conn) == Backend::Postgres {
        for table in tables {
            // Table names are ours, never input.
            conn.execute(sqlx::AssertSqlSafe(format!("ANALYZE {table}"))).await?;
        }
    }
    Ok(())
}

/// The rows of `SELECT {columns} {rest}`, each through `decode`, handed over by the database as
/// one value (a JSON array of arrays) instead of one by one. On SQLite every row otherwise crosses
/// from the connection's thread to the request's and is copied once more into the `Any` driver's
/// row: a page of a hundred tickets spent most of its time there. For the lists a page or the API
/// shows; a decoder reads these rows through [`decode::Fields`] as it reads the driver's, and its
/// text is borrowed from the packed value (copied once, into the decoded row).
///
/// The rows come in no particular order: the caller sorts them. An `ORDER BY` inside the
/// aggregate made SQLite copy every row into a temporary index first, a tenth of the ticket list's
/// CPU, for an order a hundred decoded rows get back for nothing. Each of `columns` is
/// `table.column`, `column` or `expression AS name`, without commas inside; its name is what
/// follows the `AS` or the dot.
pub(crate) async fn packed<T>(
    conn: &mut Conn,
    table: &'static str,
    columns: &'static str,
    rest: &str,
    binds: &[String],
    decode: impl Fn(&decode::Packed<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let names = column_names(columns);
    let values: Vec<String> = names.iter().map(|c| format!("p.{c}")).collect();
    let (aggregate, array, cast) = match backend_of(conn) {
        Backend::Sqlite => ("json_group_array", "json_array", ""),
        Backend::Postgres => ("json_agg", "json_build_array", "::text"),
    };
    // The columns and the rest of the select are ours; only the bound values come from outside.
    let sql =
        format!("SELECT {aggregate}({array}({})){cast} AS packed FROM (SELECT {columns} {rest}) p", values.join(", "));
    let text: Option<String> = bound(sql, binds).fetch_one(&mut *conn).await?.try_get("packed")?;
    // PostgreSQL aggregates no rows to NULL.
    let Some(text) = text else { return Ok(Vec::new()) };
    let rows: Vec<Vec<decode::Cell<'_>>> = serde_json::from_str(&text).map_err(|_| StoreError::Corrupt {
        table,
        column: "*",
        value: text.chars().take(200).collect(),
    })?;
    rows.into_iter().map(|values| decode(&decode::Packed { table, columns: &names, values })).collect()
}

/// The names a select list gives its columns (see [`packed`]).
fn column_names(columns: &'static str) -> Vec<&'static str> {
    columns
        .split(',')
        .map(|column| {
            let column = column.trim();
            let name = column.rsplit_once(" AS ").map_or(column, |(_, name)| name);
            name.rsplit_once('.').map_or(name, |(_, name)| name).trim()
        })
        .collect()
}

/// `column LIKE $n OR …` for every unit path of a scope (each matching its subtree), with the
/// values to bind from `$first` on. An empty scope matches nothing.
pub fn scope_clause(column: &str, scope: &[gridsafe_domain::access::UnitPath], first: usize) -> (String, Vec<String>) {
    if scope.is_empty() {
        return ("1 = 0".to_owned(), Vec::new());
    }
    let terms: Vec<String> = (0..scope.len()).map(|i| format!("{column} LIKE ${}", first + i)).collect();
    (format!("({})", terms.join(" OR ")), scope.iter().map(|p| format!("{}%", p.as_str())).collect())
}

/// `column LIKE $n` regardless of case, with the escape character search patterns use: SQLite's
/// `LIKE` ignores the case of ASCII letters and PostgreSQL's does not, so both sides are lowered
/// and a search for `p01` finds 工号 `P010` on either (no index serves a pattern that starts with
/// `%` anyway).
pub fn like(column: &str, n: usize) -> String {
    format!("lower({column}) LIKE lower(${n}) ESCAPE '\\'")
}

/// Ids from the database as an SQL list (`1,2,3`): integers, never user text.
pub(crate) fn id_list<T: Copy + Into<i64>>(ids: &[T]) -> String {
    ids.iter().map(|id| (*id).into().to_string()).collect::<Vec<_>>().join(",")
}

/// ` FOR UPDATE` on PostgreSQL, nothing on SQLite (whose write transactions, begun `IMMEDIATE`,
/// already hold the one writer lock): appended to a `SELECT` that reads what a rule decides on.
pub fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}

/// An optional real number to bind as text, with the SQL casting it: `CAST($n AS DOUBLE
/// PRECISION)`. sqlx 0.9's `Any` driver sends a `None` of `f64` to PostgreSQL as a `float4` NULL,
/// so a cached statement first run with `None` then refuses an `f64` ("incorrect binary data
/// format"). Text plus a cast types the parameter the same way every time, on both backends.
pub fn real_text(value: Option<f64>) -> Option<String> {
    value.map(|v| v.to_string())
}

/// A query built at run time (a scope of units, optional filters) with its text values bound in
/// order as `$1, $2, …`. The SQL text is ours; only the values come from outside.
pub fn bound(sql: String, values: &[String]) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments> {
    values.iter().fold(sqlx::query(sqlx::AssertSqlSafe(sql)), |q, v| q.bind(v.as_str()))
}

/// Creates the folder of an SQLite file and asks sqlx to create the file itself.
fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest =
        url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).ok_or(StoreError::UnsupportedUrl)?;
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let parent = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent.filter(|_| path != ":memory:") {
        std::fs::create_dir_all(parent)
            .map_err(|source| StoreError::DataDir { path: parent.display().to_string(), source })?;
    }
    Ok(match query {
        Some(q) if q.split('&').any(|kv| kv.starts_with("mode=")) => url.to_owned(),
        Some(_) => format!("{url}&mode=rwc"),
        None => format!("{url}?mode=rwc"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_version_of_a_file_moves_with_a_commit_and_that_of_an_in_memory_database_always() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("v.db").display());
        let db = Database::connect(&DatabaseConfig { url: DatabaseUrl::new(url), ..Default::default() })
            .await
            .expect("connect");
        db.pool().execute("CREATE TABLE t (x BIGINT)").await.expect("create");
        let before = db.version().await.expect("version");
        assert_eq!(db.version().await.expect("version"), before, "nothing committed");
        db.pool().execute("INSERT INTO t VALUES (1)").await.expect("insert");
        assert_ne!(db.version().await.expect("version"), before);
        db.close().await;

        // Another connection cannot see an in-memory database, so no version of one repeats.
        let memory = DatabaseUrl::new("sqlite::memory:".to_owned());
        let db = Database::connect(&DatabaseConfig { url: memory, ..Default::default() }).await.expect("connect");
        let first = db.version().await.expect("version");
        assert_ne!(db.version().await.expect("version"), first);
    }

    #[test]
    fn a_select_lists_names_are_what_follows_as_or_the_dot() {
        assert_eq!(
            column_names("t.id, tt.name AS type_name,\n    path, lp.code AS leader_code"),
            ["id", "type_name", "path", "leader_code"]
        );
    }

    #[test]
    fn sqlite_url_gets_create_mode_and_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("nested/gs.db");
        let url = format!("sqlite://{}", file.display());
        let prepared = prepare_sqlite_url(&url).expect("prepared");
        assert_eq!(prepared, format!("{url}?mode=rwc"));
        assert!(file.parent().expect("parent").is_dir());
        assert_eq!(prepare_sqlite_url("sqlite://x.db?mode=ro").expect("ok"), "sqlite://x.db?mode=ro");
    }
}
