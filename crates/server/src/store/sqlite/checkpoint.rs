//! Copying the WAL back into the database file, beside the writer rather than in it.

use super::writer::Job;
use super::{connect, lock};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Copies the WAL back into the database file every second, on its own connection. The writer
/// has automatic checkpoints turned off so a slow disk flush never holds up a commit (in WAL
/// mode with `synchronous = NORMAL` a commit itself does not wait for the disk; a committed
/// transaction survives the process being killed, only not a power cut before the next flush).
///
/// The WAL starts again from its beginning only when a write begins with every frame copied
/// back, which never happens under steady writes while the copying runs beside them: the WAL
/// would grow without end, every commit then extending a file the flush is busy with. So past
/// [`WAL_RESTART_BYTES`] the checkpointer catches up, flushes what it copied, and leaves the
/// writer to copy the little written meanwhile, between two groups: a stall of two small
/// flushes, at most every [`RESTART_EVERY`] seconds unless the WAL passes [`WAL_MAX_BYTES`].
pub(super) fn run_checkpointer(
    path: &Path,
    stop: &std::sync::mpsc::Receiver<()>,
    jobs: &std::sync::mpsc::Sender<Job>,
) {
    let Ok(conn) = connect(path) else {
        tracing::error!("checkpointer cannot open the database; the WAL will grow");
        return;
    };
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap_or(4096);
    let mut wal_path = path.as_os_str().to_owned();
    wal_path.push("-wal");
    let mut ticks = 0u64;
    let mut restarted = 0u64;
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
        stop.recv_timeout(std::time::Duration::from_secs(1))
    {
        let mut frames = checkpoint(&conn);
        ticks += 1;
        let wal = frames * page_size;
        if wal >= WAL_RESTART_BYTES && (ticks >= restarted + RESTART_EVERY || wal >= WAL_MAX_BYTES)
        {
            // Catch up until little is left, so the writer's stall is little more than the two
            // flushes.
            for _ in 0..4 {
                let before = frames;
                frames = checkpoint(&conn);
                if frames - before < 1024 {
                    break;
                }
            }
            // Under steady writes those passes never found the WAL copied to its end, so SQLite
            // left what they copied unflushed; flush it here, so the writer's own pass flushes
            // only the little it copies.
            let flushed = flush_database_file(path).and_then(|()| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&wal_path)?
                    .sync_data()
            });
            if let Err(e) = flushed {
                tracing::warn!(error = %e, "flushing before a WAL restart failed");
            }
            let _ = jobs.send(Job::Other(Box::new(|conn, _| {
                checkpoint(conn);
            })));
            restarted = ticks;
        }
    }
}

/// How large the WAL may grow under steady writes before the writer helps it start again.
const WAL_RESTART_BYTES: i64 = 32 * 1024 * 1024;

/// Seconds at least between two such stalls of the writer...
const RESTART_EVERY: u64 = 5;

/// ...unless the WAL has grown past this (a few seconds of the heaviest writes).
const WAL_MAX_BYTES: i64 = 512 * 1024 * 1024;

/// What a restarted WAL is cut back to: above what the heaviest writes add between two
/// restarts, so a restarted WAL is reused, not cut short and grown again.
pub(super) const WAL_KEPT_BYTES: i64 = 1024 * 1024 * 1024;

/// Flushes a database file to disk through a descriptor of its own, opened once and never
/// closed: closing any descriptor of a file drops every POSIX lock this process holds on it,
/// SQLite's own included. (The WAL file carries no locks; it is opened afresh each time.)
fn flush_database_file(path: &Path) -> std::io::Result<()> {
    static OPEN: Mutex<Vec<(PathBuf, std::fs::File)>> = Mutex::new(Vec::new());
    let mut open = lock(&OPEN);
    let i = match open.iter().position(|(p, _)| p == path) {
        Some(i) => i,
        None => {
            let file = std::fs::OpenOptions::new().write(true).open(path)?;
            open.push((path.to_path_buf(), file));
            open.len() - 1
        }
    };
    open[i].1.sync_data()
}

/// Copies what it can of the WAL into the database file; the WAL's size in frames.
fn checkpoint(conn: &Connection) -> i64 {
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1)) {
        Ok(frames) => frames,
        Err(e) => {
            tracing::warn!(error = %e, "checkpoint failed");
            0
        }
    }
}
