//! A throwaway PostgreSQL cluster for tests: `initdb` into a temp dir, `pg_ctl start` on a unix
//! socket in that dir (no TCP port), `fsync` off. One cluster serves a whole test binary
//! ([`PgCluster::shared`]); each test takes a fresh database of its own
//! ([`PgCluster::fresh_database`]), so tests stay independent and run in parallel.
//!
//! PostgreSQL refuses to run as root: when the tests do, `initdb` and `pg_ctl` run as the
//! `postgres` user (`runuser`), which then owns the cluster's dir.
//!
//! The shared cluster is stopped when the test binary exits, however it exits (killed by a
//! time limit included): a small watcher process, deaf to the signals that end a test run,
//! waits for the end of a pipe only this process holds, then stops the cluster
//! (`pg_ctl -m immediate stop`) and removes its dir.

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The port only names the socket file inside the cluster's own dir, so any will do.
const PORT: u16 = 5432;

/// Where Debian's `postgresql` package puts its programs (they are not on PATH there).
const DEBIAN_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A running cluster. Dropping it stops it (the shared one is stopped at exit instead).
pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    /// The shared cluster's watcher: stops the cluster when this end closes.
    watcher: Option<(Child, ChildStdin)>,
    databases: AtomicU32,
}

impl std::fmt::Debug for PgCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCluster").field("dir", &self.dir).finish()
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn find_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    if Path::new(DEBIAN_BIN).join("initdb").exists() {
        return PathBuf::from(DEBIAN_BIN);
    }
    panic!(
        "PostgreSQL's initdb is missing: run tests/setup.sh (it installs Debian's postgresql), \
         or point PG_BIN at the directory holding initdb and pg_ctl"
    )
}

impl PgCluster {
    /// The cluster this test binary shares, started on first use.
    pub fn shared() -> &'static PgCluster {
        static SHARED: OnceLock<PgCluster> = OnceLock::new();
        SHARED.get_or_init(|| {
            let mut cluster = PgCluster::start();
            cluster.stop_at_exit();
            cluster
        })
    }

    /// A cluster of its own, stopped when dropped.
    pub fn start() -> PgCluster {
        let dir = tempfile::Builder::new()
            .prefix("frontdesk-pg-")
            .tempdir()
            .expect("a temp dir for the cluster")
            .keep();
        let cluster = PgCluster {
            dir,
            bin: find_bin(),
            as_postgres: is_root(),
            watcher: None,
            databases: AtomicU32::new(0),
        };
        if cluster.as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&cluster.dir)
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown of the cluster's dir to postgres");
        }
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--no-sync".as_ref(),
            ],
        );
        // FRONTDESK_PG_OPTIONS adds server options for a measurement (say, `-c
        // shared_preload_libraries=pg_stat_statements`).
        let options = format!(
            "-p {PORT} -k {} -c listen_addresses='' -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300 {}",
            cluster.dir.display(),
            std::env::var("FRONTDESK_PG_OPTIONS").unwrap_or_default()
        );
        let log = cluster.dir.join("server.log");
        cluster.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "start".as_ref(),
            ],
        );
        cluster
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) {
        let out = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program} could not run: {e}"));
        assert!(
            out.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Hands the stop to a watcher process that outlives this one by a moment.
    fn stop_at_exit(&mut self) {
        let stop = self.stop_command();
        // Deaf to the signals that end the test run (`timeout` and Ctrl-C signal the whole
        // process group); `cat` inherits that, so only the pipe's end stops the cluster.
        let script = format!(
            "trap '' INT TERM HUP; cat >/dev/null; {stop}; rm -rf '{}'",
            self.dir.display()
        );
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the cluster's watcher starts");
        let stdin = child.stdin.take().expect("the watcher's stdin");
        self.watcher = Some((child, stdin));
    }

    fn stop_command(&self) -> String {
        let pg_ctl = self.bin.join("pg_ctl");
        let prefix = if self.as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        };
        format!(
            "{prefix}'{}' -D '{}' -m immediate stop",
            pg_ctl.display(),
            self.dir.join("data").display()
        )
    }

    /// The process id of the cluster's postmaster, the parent of every backend (for a
    /// benchmark to read the database's CPU time).
    pub fn server_pid(&self) -> Option<u32> {
        let pid = std::fs::read_to_string(self.dir.join("data/postmaster.pid")).ok()?;
        pid.lines().next()?.trim().parse().ok()
    }

    /// The directory holding the cluster's socket.
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// The URL of database `name` in this cluster, as the server takes it.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://postgres@/{name}?host={}&port={PORT}",
            self.dir.display()
        )
    }

    /// Runs `sql` as the superuser on the cluster's `postgres` database (to create a database,
    /// or to cut connections as a failing network would); its output, unaligned.
    pub fn sql(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-U",
                "postgres",
                "-h",
            ])
            .arg(&self.dir)
            .args(["-p", &PORT.to_string(), "-d", "postgres", "-c", sql])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A new, empty database of this cluster: its URL.
    pub fn fresh_database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{}_{n}", std::process::id());
        self.sql(&format!("CREATE DATABASE {name}"));
        self.url(&name)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some((mut child, stdin)) = self.watcher.take() {
            drop(stdin);
            let _ = child.wait();
            return;
        }
        let _ = Command::new("sh")
            .args(["-c", &self.stop_command()])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
