//! The writer thread: it owns the only writing connection and runs the jobs queued to it in
//! order. Visit commands that queue up while it works are committed together (group commit);
//! any other write runs alone between two groups.

use super::db;
use super::event_log::Hub;
use super::visits::write_visit_in;
use crate::events::Published;
use crate::store::{Committed, StoreError, VisitWrite, WriteAction, WriteRefused};
use frontdesk_domain::{Visit, VisitId};
use rusqlite::Connection;
use std::collections::HashMap;

pub(super) type Reply = tokio::sync::oneshot::Sender<Result<Committed, WriteRefused>>;

/// Any other write: runs alone, in its own transaction if it opens one.
pub(super) type OtherWrite = Box<dyn FnOnce(&mut Connection, &Hub) + Send>;

pub(super) enum Job {
    Visit(VisitWrite, Reply),
    Other(OtherWrite),
}

/// Most visit commands committed together.
const MAX_GROUP: usize = 256;

/// The visits as last committed, kept by the writer thread so a command does not re-read and
/// re-parse what it wrote a moment ago. Sound because this thread is the only writer of
/// visits to the file (one server process per SQLite file).
type VisitCache = HashMap<VisitId, Visit>;

/// Most visits the writer keeps in memory; past it, it starts afresh.
const MAX_CACHED_VISITS: usize = 50_000;

pub(super) fn run_writer(mut conn: Connection, hub: &Hub, queue: &std::sync::mpsc::Receiver<Job>) {
    let mut cache = VisitCache::new();
    while let Ok(first) = queue.recv() {
        let mut group = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Visit(w, reply) => group.push((w, reply)),
                Job::Other(f) => {
                    // Keep the order jobs came in: commit what is pending first.
                    commit_group(&mut conn, hub, &mut cache, std::mem::take(&mut group));
                    f(&mut conn, hub);
                }
            }
            if group.len() < MAX_GROUP {
                next = queue.try_recv().ok();
            }
        }
        commit_group(&mut conn, hub, &mut cache, group);
    }
}

/// What one pass over a group did: each command's answer (with the event to publish) in
/// order, the visits it changed, and how the commit went.
struct GroupPass {
    done: Vec<Result<(Committed, Option<Published>), WriteRefused>>,
    changed: VisitCache,
    committed: rusqlite::Result<()>,
}

/// Applies a group's commands in one transaction. With `savepoints`, each runs in its own, so
/// a failing statement refuses only its command. Without, a failing statement (after which
/// the transaction may hold half a command) rolls the whole pass back and gives None.
fn group_pass(
    conn: &mut Connection,
    cache: &VisitCache,
    group: &[(VisitWrite, Reply)],
    savepoints: bool,
) -> Option<GroupPass> {
    let mut tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(e) => {
            return Some(GroupPass {
                done: Vec::new(),
                changed: VisitCache::new(),
                committed: Err(e),
            });
        }
    };
    // What this group changed, seen by its later commands; kept only if the commit succeeds.
    let mut changed = VisitCache::new();
    let mut done = Vec::with_capacity(group.len());
    for (w, _) in group {
        let known = changed.get(&w.visit_id).or_else(|| cache.get(&w.visit_id));
        let outcome = if savepoints {
            tx.savepoint().map_err(WriteRefused::from).and_then(|sp| {
                let out = write_visit_in(&sp, known, w)?;
                sp.commit()?;
                Ok(out)
            })
        } else {
            match write_visit_in(&tx, known, w) {
                Err(WriteRefused::Store(_)) => return None,
                other => other,
            }
        };
        if let Ok((c, Some(_))) = &outcome {
            changed.insert(c.reply.visit.id, c.reply.visit.clone());
        }
        done.push(outcome);
    }
    let committed = tx.commit();
    Some(GroupPass {
        done,
        changed,
        committed,
    })
}

/// Applies a group of visit commands and commits them all at once; replies and live events go
/// out only after the commit. A refusal by the domain writes nothing, and the statements after
/// a decision fail only when the database does, so a group first runs without a savepoint
/// per command (each costs statements and a copy of every page it touches); should a
/// statement fail, the group runs again with them.
fn commit_group(
    conn: &mut Connection,
    hub: &Hub,
    cache: &mut VisitCache,
    group: Vec<(VisitWrite, Reply)>,
) {
    if group.is_empty() {
        return;
    }
    let Some(pass) =
        group_pass(conn, cache, &group, false).or_else(|| group_pass(conn, cache, &group, true))
    else {
        return;
    };
    let GroupPass {
        done,
        changed,
        committed,
    } = pass;
    if committed.is_ok() {
        if cache.len() + changed.len() > MAX_CACHED_VISITS {
            cache.clear();
        }
        for (id, visit) in changed {
            if visit.status.is_terminal() {
                cache.remove(&id);
            } else {
                cache.insert(id, visit);
            }
        }
    }
    let mut done = done.into_iter();
    for (w, reply) in group {
        let answer = match (done.next(), &committed) {
            (Some(Ok((c, published))), Ok(())) => {
                if let Some(p) = published {
                    hub.publish(w.clinic, p);
                }
                Ok(c)
            }
            (Some(Err(refused)), _) => Err(refused),
            (_, Err(e)) => Err(WriteRefused::Store(db(e))),
            (None, Ok(())) => Err(WriteRefused::Store(db("command not applied"))),
        };
        let _ = reply.send(answer);
    }
}

/// Several new visits in one transaction (a weekly booking): all commit, or none does, and
/// their events go out only after the commit. Openings only: they touch no visit the writer
/// keeps in memory, so running them outside a group leaves that copy true.
pub(super) fn write_openings(
    conn: &mut Connection,
    hub: &Hub,
    writes: &[VisitWrite],
) -> Result<Vec<Committed>, WriteRefused> {
    if writes
        .iter()
        .any(|w| !matches!(w.action, WriteAction::Open { .. }))
    {
        return Err(StoreError::Corrupt("only openings are written together".into()).into());
    }
    let tx = conn.transaction()?;
    let mut done = Vec::with_capacity(writes.len());
    for w in writes {
        done.push(write_visit_in(&tx, None, w)?);
    }
    tx.commit()?;
    Ok(writes
        .iter()
        .zip(done)
        .map(|(w, (committed, published))| {
            if let Some(p) = published {
                hub.publish(w.clinic, p);
            }
            committed
        })
        .collect())
}
