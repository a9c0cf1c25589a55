//! The server as its own process: the `frontdesk-server` binary serving a database on a free
//! loopback port, for tests of the command line and of crashes (a process can be killed).

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts the server binary `bin` (`env!("CARGO_BIN_EXE_frontdesk-server")`) serving `db` on
/// 127.0.0.1:0, with `extra` arguments; gives the child and the URL it bound, which it prints
/// as its first line.
pub fn serve_binary(bin: &str, db: &Path, extra: &[&str]) -> (Child, String) {
    serve_binary_with(bin, [std::ffi::OsStr::new("--db"), db.as_os_str()], extra)
}

/// [`serve_binary`] on the database at `url` (`sqlite:///…` or `postgres://…`; on PostgreSQL,
/// one replica of several).
pub fn serve_binary_at(bin: &str, url: &str, extra: &[&str]) -> (Child, String) {
    serve_binary_with(bin, ["--database-url", url], extra)
}

fn serve_binary_with<S: AsRef<std::ffi::OsStr>>(
    bin: &str,
    database: [S; 2],
    extra: &[&str],
) -> (Child, String) {
    let mut child = Command::new(bin)
        .arg("serve")
        .args(database)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {bin}: {e}"));
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("the child's stdout"))
        .read_line(&mut line)
        .expect("the server's first line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, url)
}
