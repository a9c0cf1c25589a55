//! Copying the WAL back into the database file, beside the writer rather than in it.

use super::writer::Job;
use super::{BUSY_TIMEOUT, connect, lock};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Copies the WAL back into the database file several times a second, on its own connection.
/// The writer has automatic checkpoints turned off so a slow disk flush never holds up a
/// commit (in WAL mode with `synchronous = NORMAL` a commit itself does not wait for the disk;
/// a committed transaction survives the process being killed, only not a power cut before the
/// next flush).
///
/// The WAL starts again from its beginning only when a write begins with every frame copied
/// back, which never happens under steady writes while the copying runs beside them: the WAL
/// would grow without end. So past [`WAL_RESTART_BYTES`] the checkpointer catches up, flushes
/// what it copied, and leaves the writer to copy the little written meanwhile, between two
/// groups: a stall of a copy and two small flushes (5–20 ms on the shared 2-core machine).
/// With time-ordered visit ids a command at full speed adds about 5 KB of WAL (the load
/// generator's "written to storage" counts it twice, copied back included), so at 15,000
/// commands/s the stall comes about every half second; at 24 MB it came every third of a
/// second and set the p99. The WAL file is cut back to [`WAL_KEPT_BYTES`] when it
/// starts again, and emptied once the writer has been idle for a while.
pub(super) fn run_checkpointer(
    path: &Path,
    key: Option<&super::at_rest::DbKey>,
    stop: &std::sync::mpsc::Receiver<()>,
    jobs: &std::sync::mpsc::Sender<Job>,
) {
    let Ok(conn) = connect(path, key) else {
        tracing::error!("checkpointer cannot open the database; the WAL will grow");
        return;
    };
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap_or(4096);
    let mut wal_path = path.as_os_str().to_owned();
    wal_path.push("-wal");
    // Set while a job for the writer is queued, so jobs never pile up behind a slow writer.
    let queued = Arc::new(AtomicBool::new(false));
    let mut last_frames = 0;
    let mut quiet_ticks = 0u32;
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(TICK) {
        let frames = checkpoint(&conn);
        quiet_ticks = if frames == last_frames {
            quiet_ticks.saturating_add(1)
        } else {
            0
        };
        last_frames = frames;
        if queued.load(Ordering::Acquire) {
            continue;
        }
        if frames * page_size >= WAL_RESTART_BYTES {
            // Catch up and flush twice: the first round copies and flushes most of the WAL while
            // writes go on, the second the little they added meanwhile, so what is left for the
            // writer's stall is a few hundred frames and two small flushes.
            for _ in 0..2 {
                catch_up(&conn);
                let flushed = flush_database_file(path).and_then(|()| {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(&wal_path)?
                        .sync_data()
                });
                if let Err(e) = flushed {
                    tracing::warn!(error = %e, "flushing before a WAL restart failed");
                }
            }
            send(jobs, &queued, |conn| {
                checkpoint(conn);
            });
        } else if quiet_ticks >= QUIET_TICKS && wal_file_bytes(&wal_path) > QUIET_KEPT_BYTES {
            // Nothing written for a while: empty the file, in the writer so no write waits on a
            // lock; a reader still on the WAL makes it give up at once rather than wait.
            send(jobs, &queued, truncate);
        }
    }
}

/// Queues `f` for the writer, marking it queued until it has run.
fn send(
    jobs: &std::sync::mpsc::Sender<Job>,
    queued: &Arc<AtomicBool>,
    f: impl FnOnce(&mut Connection) + Send + 'static,
) {
    queued.store(true, Ordering::Release);
    let done = queued.clone();
    let sent = jobs.send(Job::Other(Box::new(move |conn, _| {
        f(conn);
        done.store(false, Ordering::Release);
    })));
    if sent.is_err() {
        queued.store(false, Ordering::Release);
    }
}

/// Copies the whole WAL back and empties its file, unless a reader is still on it.
fn truncate(conn: &mut Connection) {
    let _ = conn.busy_timeout(Duration::ZERO);
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "emptying the WAL failed");
    }
    let _ = conn.busy_timeout(BUSY_TIMEOUT);
}

fn wal_file_bytes(wal_path: &std::ffi::OsStr) -> u64 {
    std::fs::metadata(wal_path).map_or(0, |m| m.len())
}

/// How often the checkpointer copies: often enough that the WAL cannot run far past
/// [`WAL_RESTART_BYTES`] under the heaviest writes before it acts.
const TICK: Duration = Duration::from_millis(100);

/// How large the WAL may grow under steady writes before the writer helps it start again.
const WAL_RESTART_BYTES: i64 = 40 * 1024 * 1024;

/// Catching up stops once fewer frames than this are left to copy.
const CAUGHT_UP_FRAMES: i64 = 256;

/// Ticks without a write before the WAL file is emptied...
const QUIET_TICKS: u32 = 10;

/// ...if it is larger than this (a small WAL is simply reused from its start by the next write,
/// the checkpointer having copied it all back meanwhile).
const QUIET_KEPT_BYTES: u64 = 4 * 1024 * 1024;

/// What a restarted WAL is cut back to: a little more than it grows to between two restarts,
/// so a restarted WAL is reused rather than grown again, and the file stays under 64 MB.
pub(super) const WAL_KEPT_BYTES: i64 = 48 * 1024 * 1024;

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
    passive(conn).0
}

/// Copies what it can of the WAL into the database file; the WAL's size in frames and how
/// many of them are copied.
fn passive(conn: &Connection) -> (i64, i64) {
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    }) {
        Ok(frames) => frames,
        Err(e) => {
            tracing::warn!(error = %e, "checkpoint failed");
            (0, 0)
        }
    }
}

/// Copies the WAL back pass after pass while writes go on, until fewer than
/// [`CAUGHT_UP_FRAMES`] are left (or a reader holds the rest back).
fn catch_up(conn: &Connection) {
    for _ in 0..16 {
        let (frames, copied) = passive(conn);
        if frames - copied < CAUGHT_UP_FRAMES {
            return;
        }
    }
}
