// The console's screen state: the latest AppState from the backend, a clock corrected to the
// server's, what is selected and filtered, which dialog is open, and the actions a person takes.
// Components read it from context; only this module and the components call the backend.

import { getContext, setContext, tick } from 'svelte';
import { toBackendError, type Backend } from './backend';
import { claimKey, type ButtonKey } from './actions';
import { handoff } from './calendar.svelte';
import { layChanges } from './changes';
import { mark } from './startup';
import type { AppState, Availability, Command, QueueRow, StateChanges, Workspace } from './types';

export type Tab = 'queue' | 'requests' | 'sessions' | 'today' | 'providers';

/** The queue's status filter: everyone, or one status. */
export type StatusFilter = 'all' | 'intake' | 'waiting' | 'in_call' | 'on_hold';

/** A name as search compares it: lower case, without accents ("José" is found by "jose"). */
export function searchable(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim();
}

export type DialogSpec =
  | { kind: 'end_call' | 'take_over' | 'transfer' | 'assign' | 'decline' | 'priority' | 'cancel'; visitId: string }
  | { kind: 'settings' }
  | { kind: 'precall' };

export interface LocalError {
  id: number;
  text: string;
}

/** Errors of the UI's own shown at once, the newest: a console open all day on a flaky
 * network would otherwise stack one toast per failed call up the screen. */
export const LOCAL_ERRORS_SHOWN = 5;
/** Refused actions drawn at once, the newest: the engine keeps each until it is dismissed, and
 * the older ones show as those are. */
export const OUTCOMES_SHOWN = 5;

/** How often user activity is reported to the shell's idle timer, at most. */
export const ACTIVITY_EVERY_MS = 15_000;

/** Runs `fn` after the browser has drawn the next frame: a timeout queued from
 * requestAnimationFrame runs once that frame has been painted. */
function afterPaint(fn: () => void): void {
  requestAnimationFrame(() => setTimeout(fn, 0));
}

export class ConsoleModel {
  // Replaced whole on every push, never changed in place: no deep proxies over hundreds of rows.
  state = $state.raw<AppState | null>(null);
  loadError = $state<string | null>(null);
  /** Server-corrected now, ticking every second: live waits are computed from it. */
  now = $state(Date.now());
  tab = $state<Tab>('queue');
  /** The workspace in view: the queue, or another the domain gives this person (`me.workspaces`). */
  workspace = $state<Workspace>('queue');
  /** The workspace shown: the one chosen while this person has it (a PIN switch may hand the
   *  console to someone who has not), the queue otherwise. */
  shownWorkspace = $derived<Workspace>(
    this.state?.me?.workspaces.includes(this.workspace) ? this.workspace : 'queue',
  );
  /** 'mine' (the rooms whose queue is mine), 'all' (every room, for those the engine sends
   * every room's queue) or one room's id. */
  roomFilter = $state<string>('mine');
  /** The queue's name search and status filter. */
  search = $state('');
  statusFilter = $state<StatusFilter>('all');
  /** The keyboard shortcuts overlay (`?`). */
  showKeys = $state(false);
  selectedId = $state<string | null>(null);
  dialog = $state<DialogSpec | null>(null);
  localErrors = $state<LocalError[]>([]);
  /** Bumped to ask the message box / details panel / a row to take focus. */
  focusMessage = $state(0);
  focusDetails = $state(0);
  focusRow = $state<{ id: string; n: number } | null>(null);
  focusSearch = $state(0);

  readonly backend: Backend;
  private offset = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private unlisten: Array<() => void> = [];
  private lastActivity = Number.NEGATIVE_INFINITY;
  private nextError = 1;
  private stopped = false;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  // ---- derived views ----

  myRooms = $derived.by(() => {
    const s = this.state;
    if (!s) return [];
    const mine = s.me?.rooms ?? [];
    return mine.length ? s.rooms.filter((r) => mine.includes(r.id)) : s.rooms;
  });

  /** The queue holds other rooms' rows too (the engine sends them to those who may look over
   * every room): the room filter then offers "All rooms" beside "My rooms". */
  otherRooms = $derived((this.state?.queue ?? []).some((r) => !r.in_my_rooms));

  /** The rooms the room filter lists. */
  roomChoices = $derived(this.otherRooms ? (this.state?.rooms ?? []) : this.myRooms);

  /** In the room filter. "My rooms" narrows only the queue: requests and sessions are listed
   * as the engine gives them. */
  private inFilter = (row: QueueRow, list: 'queue' | 'other' = 'other') =>
    this.roomFilter === 'all' ||
    (this.roomFilter === 'mine' ? list === 'other' || row.in_my_rooms : row.room_id === this.roomFilter);

  private inSearch = (row: QueueRow) => {
    const q = searchable(this.search);
    return q === '' || searchable(row.patient_name).includes(q);
  };
  private inStatus = (row: QueueRow) => this.statusFilter === 'all' || row.status === this.statusFilter;

  /** The queue as filtered, in the engine's order (its Waiting section, then With staff). */
  queueRows = $derived(
    (this.state?.queue ?? []).filter((r) => this.inFilter(r, 'queue') && this.inStatus(r) && this.inSearch(r)),
  );
  /** The queue's two sections, as the engine laid them out: never re-sorted here. */
  waitingRows = $derived(this.queueRows.filter((r) => r.section === 'waiting'));
  withStaffRows = $derived(this.queueRows.filter((r) => r.section !== 'waiting'));
  /** A search or a status filter narrows the queue. */
  narrowed = $derived(searchable(this.search) !== '' || this.statusFilter !== 'all');
  requestRows = $derived((this.state?.requests ?? []).filter((r) => this.inFilter(r)));
  sessionRows = $derived((this.state?.sessions ?? []).filter((r) => this.inFilter(r)));
  /** The day: who finished today in the rooms I see, the latest first (the engine's order). */
  todayRows = $derived((this.state?.today ?? []).filter((r) => this.inFilter(r)));

  /** The rows on show, top to bottom (the queue's sections one after the other). */
  visibleRows = $derived(
    this.tab === 'queue'
      ? [...this.waitingRows, ...this.withStaffRows]
      : this.tab === 'requests'
        ? this.requestRows
        : this.tab === 'today'
          ? this.todayRows
          : this.tab === 'providers'
            ? []
            : this.sessionRows,
  );

  /** The selected visit's row, wherever it is listed. */
  selectedRow = $derived.by(() => {
    const s = this.state;
    const id = this.selectedId;
    if (!s || !id) return null;
    return (
      s.queue.find((r) => r.visit_id === id) ??
      s.requests.find((r) => r.visit_id === id) ??
      s.sessions.find((r) => r.visit_id === id) ??
      s.today.find((r) => r.visit_id === id) ??
      null
    );
  });

  // ---- life cycle ----

  async start(): Promise<void> {
    this.stopped = false;
    let pushed = false;
    // Listening is a call to the shell each: made together, not one after another.
    const [offState, offChanges, offFocus] = await Promise.all([
      this.backend.onState((s) => {
        pushed = true;
        this.apply(s);
      }),
      this.backend.onChanges((c) => {
        pushed = true;
        this.applyChanges(c);
      }),
      this.backend.onFocusVisit((id) => this.focusVisit(id)),
    ]);
    this.unlisten.push(offState, offChanges, offFocus);
    if (this.stopped) return this.stop();
    this.timer = setInterval(() => this.tick(), 1000);
    try {
      mark('asked for the state');
      const first = await this.backend.appState();
      mark('has the state');
      // A state pushed while we asked is at least as new as the answer.
      if (!pushed) this.apply(first);
      mark('applied the state');
      void tick().then(() => mark('rendered the state'));
      this.loadError = null;
    } catch (err) {
      this.loadError = toBackendError(err).message;
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.unlisten.splice(0).forEach((off) => off());
  }

  tick(): void {
    this.now = Date.now() + this.offset;
  }

  /** "Join" on an accepted session request: this visit's call opens in the browser as soon
   * as the server confirms I am in it. */
  private openOnceInCall: string | null = null;

  private painted = false;
  /** The queue's visit ids as last drawn, to tell the shell which rows are new. */
  private onScreen = new Set<string>();
  /** Arrivals not reported yet, and whether a report waits for the next frame. A hidden or
   * minimised window draws no frames: its arrivals join the one report waiting, and those who
   * leave before it goes are dropped, so nothing piles up however long the window stays hidden. */
  private unreported = new Set<string>();
  private reportWaiting = false;

  /** Takes a whole state, unless the one held came from a later push. */
  apply(next: AppState): void {
    if (this.state && next.push < this.state.push) return;
    this.show(next);
  }

  /** Lays a push of changes on; one that does not follow the state held (a push was missed)
   * is dropped, and the whole state asked for again. */
  applyChanges(changes: StateChanges): void {
    if (!this.state || changes.base !== this.state.push) {
      if (!this.state || changes.push > this.state.push) this.backend.resendState().catch(() => {});
      return;
    }
    this.show(layChanges(this.state, changes));
  }

  private show(next: AppState): void {
    if (typeof next.now === 'number') this.offset = next.now - Date.now();
    this.state = next;
    this.tick();
    if (next.screen === 'queue') this.reportPaint(next);
    if (next.screen !== 'queue') {
      // Nothing about a patient survives a lock or a sign-out on screen.
      this.selectedId = null;
      this.dialog = null;
      return;
    }
    const known = this.roomFilter === 'mine' || (this.roomFilter === 'all' && this.otherRooms);
    if (!known && !this.roomChoices.some((r) => r.id === this.roomFilter)) {
      this.roomFilter = 'mine';
    }
    if (this.selectedId && !this.selectedRow) this.selectedId = null;
    const joining = this.openOnceInCall && next.queue.find((r) => r.visit_id === this.openOnceInCall);
    if (joining && joining.call_link) {
      this.openOnceInCall = null;
      void this.openCall(joining);
    }
  }

  /** Tells the shell, once the browser has drawn them, when the queue is first on screen
   * (start-up timing) and which patients' rows have appeared since (arrival timing). */
  private reportPaint(next: AppState): void {
    const ids = next.queue.map((r) => r.visit_id);
    if (!this.painted) {
      if (ids.length === 0) return;
      this.painted = true;
      this.onScreen = new Set(ids);
      afterPaint(() => void this.backend.firstPaint(ids.length).catch(() => {}));
      requestAnimationFrame(() => mark('drew a frame'));
      return;
    }
    for (const id of ids) if (!this.onScreen.has(id)) this.unreported.add(id);
    this.onScreen = new Set(ids);
    for (const id of this.unreported) if (!this.onScreen.has(id)) this.unreported.delete(id);
    if (this.unreported.size === 0 || this.reportWaiting) return;
    this.reportWaiting = true;
    afterPaint(() => {
      this.reportWaiting = false;
      const arrived = [...this.unreported];
      this.unreported.clear();
      if (arrived.length > 0) void this.backend.rowsPainted(arrived).catch(() => {});
    });
  }

  /** Called on keydown/mousemove/click: tells the shell someone is here, every 15 s at most. */
  activity(): void {
    if (this.state?.screen !== 'queue') return;
    const t = Date.now();
    if (t - this.lastActivity < ACTIVITY_EVERY_MS) return;
    this.lastActivity = t;
    this.backend.activity().catch(() => {});
  }

  // ---- selection ----

  select(id: string | null): void {
    this.selectedId = id;
  }

  focusVisit(id: string): void {
    const s = this.state;
    if (!s || s.screen !== 'queue') return;
    const tab: Tab | null = s.queue.some((r) => r.visit_id === id)
      ? 'queue'
      : s.requests.some((r) => r.visit_id === id)
        ? 'requests'
        : s.sessions.some((r) => r.visit_id === id)
          ? 'sessions'
          : null;
    if (!tab) return;
    this.tab = tab;
    this.roomFilter = s.queue.some((r) => r.visit_id === id && !r.in_my_rooms) ? 'all' : 'mine';
    this.search = '';
    this.statusFilter = 'all';
    this.selectedId = id;
    this.focusRow = { id, n: (this.focusRow?.n ?? 0) + 1 };
  }

  move(step: 1 | -1): void {
    const rows = this.visibleRows;
    if (rows.length === 0) return;
    const at = rows.findIndex((r) => r.visit_id === this.selectedId);
    const next =
      at === -1 ? (step === 1 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, at + step));
    const id = rows[next].visit_id;
    this.selectedId = id;
    this.focusRow = { id, n: (this.focusRow?.n ?? 0) + 1 };
  }

  /** "Reconnect now" in the offline banner: the engine tries the server at once. */
  async reconnectNow(): Promise<void> {
    try {
      this.apply(await this.backend.reconnectNow());
    } catch (err) {
      this.pushError(`Could not reconnect: ${toBackendError(err).message}`);
    }
  }

  setTab(tab: Tab): void {
    this.tab = tab;
  }

  /** The `/` key: the queue's search box takes focus. */
  startSearch(): void {
    this.tab = 'queue';
    this.focusSearch += 1;
  }

  clearFilters(): void {
    this.search = '';
    this.statusFilter = 'all';
  }

  /** Opens the call I am in on this visit in the default browser (the shell finds the link). */
  async openCall(row: QueueRow): Promise<void> {
    try {
      await this.backend.openCall(row.visit_id);
    } catch (err) {
      this.pushError(`Could not open the call: ${toBackendError(err).message}`);
    }
  }

  /** Copies the call's link, for pasting into another browser or a message. */
  async copyCallLink(row: QueueRow): Promise<boolean> {
    const link = row.call_link;
    if (!link) return false;
    try {
      await navigator.clipboard.writeText(link);
      return true;
    } catch {
      // Some webviews refuse the clipboard API: fall back to a selected text field.
      const field = document.createElement('textarea');
      field.value = link;
      field.setAttribute('readonly', '');
      field.style.position = 'fixed';
      field.style.opacity = '0';
      document.body.appendChild(field);
      field.select();
      const done = document.execCommand?.('copy') ?? false;
      field.remove();
      if (!done) this.pushError('Could not copy the link: select it in the details panel instead.');
      return done;
    }
  }

  // ---- actions ----

  /** Shows an error as the newest toast; the same words shown before move up rather than repeat. */
  pushError(text: string): void {
    const others = this.localErrors.filter((e) => e.text !== text);
    this.localErrors = [...others, { id: this.nextError++, text }].slice(-LOCAL_ERRORS_SHOWN);
  }

  dismissError(id: number): void {
    this.localErrors = this.localErrors.filter((e) => e.id !== id);
  }

  /** Queues a command; resolves to its action id in the outbox, or null if it was not queued. */
  async send(visitId: string, command: Command): Promise<string | null> {
    try {
      return (await this.backend.act(visitId, command)).action_id;
    } catch (err) {
      this.pushError(`Could not send: ${toBackendError(err).message}`);
      return null;
    }
  }

  /** A button (or key) for one of the actions the row allows. */
  perform(key: ButtonKey, row: QueueRow): void {
    const me = this.state?.me;
    switch (key) {
      case 'claim':
        void this.send(row.visit_id, { command: 'claim' });
        return;
      case 'take_session':
        if (me) void this.send(row.visit_id, { command: 'assign', provider: me.id });
        return;
      case 'join':
        void this.send(row.visit_id, { command: 'join' });
        return;
      case 'leave_call':
        void this.send(row.visit_id, { command: 'leave_call' });
        return;
      case 'accept':
        void this.send(row.visit_id, { command: 'accept' });
        return;
      case 'accept_and_enter':
        void this.send(row.visit_id, { command: 'accept_and_enter' });
        return;
      case 'no_show':
        void this.send(row.visit_id, { command: 'mark_no_show' });
        return;
      case 'message':
        this.selectedId = row.visit_id;
        this.focusMessage += 1;
        return;
      case 'request_decline':
      case 'decline':
        this.dialog = { kind: 'decline', visitId: row.visit_id };
        return;
      case 'end_call':
      case 'take_over':
      case 'transfer':
      case 'assign':
      case 'cancel':
        this.dialog = { kind: key, visitId: row.visit_id };
        return;
      case 'priority':
        this.dialog = { kind: 'priority', visitId: row.visit_id };
        return;
      case 'reschedule':
        // Moved in the Calendar, on the session's own page.
        handoff.move = row.visit_id;
        this.workspace = 'calendar';
        return;
    }
  }

  /** The `c` key: claim a waiting patient, or take a scheduled session. */
  claimSelected(): void {
    const row = this.selectedRow;
    if (!row) return;
    const key = claimKey(row);
    if (key) this.perform(key, row);
  }

  async dismissOutcome(actionId: string): Promise<void> {
    try {
      this.apply(await this.backend.dismissOutcome(actionId));
    } catch (err) {
      this.pushError(toBackendError(err).message);
    }
  }

  /** "Request session" on the providers board. Resolves to an error's words, or null when sent. */
  async requestSession(providerId: string, patientName: string): Promise<string | null> {
    try {
      this.apply(await this.backend.requestSession(providerId, patientName));
      return null;
    } catch (err) {
      return toBackendError(err).message;
    }
  }

  /** "Join" on an accepted session request: with the patient in the queue, into the call (join
   * it, or claim them while they wait), and the call opens once the server confirms. */
  async joinRequest(visitId: string): Promise<void> {
    this.focusVisit(visitId);
    const row = this.state?.queue.find((r) => r.visit_id === visitId);
    const command = row?.allowed.includes('join') ? 'join' : row?.allowed.includes('claim') ? 'claim' : null;
    if (!row || !command) {
      this.pushError('This patient cannot be joined now.');
      return;
    }
    if (row.call_link) {
      await this.openCall(row);
      return;
    }
    this.openOnceInCall = visitId;
    if ((await this.send(visitId, { command })) === null) this.openOnceInCall = null;
  }

  async dismissRequest(visitId: string): Promise<void> {
    try {
      this.apply(await this.backend.dismissRequest(visitId));
    } catch (err) {
      this.pushError(toBackendError(err).message);
    }
  }

  async setAvailability(availability: Availability): Promise<void> {
    try {
      this.apply(await this.backend.setAvailability(availability));
    } catch (err) {
      this.pushError(`Could not change availability: ${toBackendError(err).message}`);
    }
  }

  async lock(): Promise<void> {
    try {
      this.apply(await this.backend.lock());
    } catch (err) {
      this.pushError(toBackendError(err).message);
    }
  }

  async signOut(): Promise<void> {
    try {
      this.dialog = null;
      this.apply(await this.backend.signOut());
    } catch (err) {
      this.pushError(toBackendError(err).message);
    }
  }

  openDialog(spec: DialogSpec): void {
    this.dialog = spec;
  }

  closeDialog(): void {
    this.dialog = null;
  }
}

const KEY = Symbol('console');

export function provideConsole(model: ConsoleModel): ConsoleModel {
  return setContext(KEY, model);
}

export function useConsole(): ConsoleModel {
  return getContext<ConsoleModel>(KEY);
}
