// Laying a push of changes onto the state the UI holds. The shell sends the whole state at
// start, on a change of screen or person and after a resync; otherwise it sends what changed
// since its last push: each changed visit's row with the list it is in now (or none, when it
// left every list), the header's figures, and the directory and providers board only when
// they changed. Rows keep the engine's order through their `rank`.

import type { AppState, DayRow, QueueRow, RowChange, StateChanges } from './types';

type ListName = 'queue' | 'requests' | 'sessions' | 'today';
const LISTS: ListName[] = ['queue', 'requests', 'sessions', 'today'];

/** The engine's order: by rank, number by number, then by visit id. */
export function compareRows(a: QueueRow, b: QueueRow): number {
  const n = Math.min(a.rank.length, b.rank.length);
  for (let i = 0; i < n; i++) {
    if (a.rank[i] !== b.rank[i]) return a.rank[i] < b.rank[i] ? -1 : 1;
  }
  if (a.rank.length !== b.rank.length) return a.rank.length - b.rank.length;
  return a.visit_id < b.visit_id ? -1 : a.visit_id > b.visit_id ? 1 : 0;
}

/** Puts `row` into the sorted `rows` at its place (rows is changed). */
function insertSorted<T extends QueueRow>(rows: T[], row: T): void {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareRows(rows[mid], row) < 0) lo = mid + 1;
    else hi = mid;
  }
  rows.splice(lo, 0, row);
}

/** One list with the changed visits taken out and put back where they now belong. */
function layList<T extends QueueRow>(rows: T[], name: ListName, changed: Map<string, RowChange>): T[] {
  const kept = rows.filter((r) => !changed.has(r.visit_id));
  for (const change of changed.values()) {
    if (change.listed?.list === name) insertSorted(kept, change.listed.row as T);
  }
  return kept;
}

/** The state after `changes`, laid onto `state` (the state of push `changes.base`). */
export function layChanges(state: AppState, changes: StateChanges): AppState {
  const next: AppState = {
    ...state,
    push: changes.push,
    me: changes.me,
    connection: changes.connection,
    outcomes: changes.outcomes,
    now: changes.now,
  };
  if (changes.directory) {
    next.clinic = changes.directory.clinic;
    next.rooms = changes.directory.rooms;
    next.staff = changes.directory.staff;
  }
  if (changes.providers) next.providers = changes.providers;
  if (changes.rows.length > 0) {
    const changed = new Map(changes.rows.map((c) => [c.visit_id, c]));
    for (const name of LISTS) {
      if (name === 'today') next.today = layList<DayRow>(state.today, name, changed);
      else next[name] = layList<QueueRow>(state[name], name, changed);
    }
  }
  return next;
}
