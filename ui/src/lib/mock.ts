// An in-memory stand-in for src-tauri and the console engine. UI tests drive it and read back
// the calls the UI made (named as the Tauri commands are); `npm run dev` in a plain browser uses
// it with sample patients. It behaves like the engine where the UI can tell: an action shows as
// pending first and only changes the row once "confirmed"; a rejection arrives as an Outcome.

import type { Backend } from './backend';
import type {
  AppState,
  BackendError,
  Command,
  HistoryEntry,
  NamedRef,
  Outcome,
  PrecallReport,
  QueueRow,
  Settings,
  Visit,
} from './types';

export interface MockOptions {
  /** Confirm queued actions after this many ms; leave undefined to keep them pending forever. */
  confirmAfterMs?: number;
  /** Visits returned by visit_details (others are made up from their queue row). */
  details?: Record<string, Visit>;
  /** Actions on these visits are rejected with this outcome when they are confirmed. */
  rejections?: Record<string, Omit<Outcome, 'action_id' | 'visit_id' | 'command'>>;
  /** The PIN that unlocks the station (default "1234"). */
  pin?: string;
  /** Makes act() itself reject (the shell could not queue it). */
  actError?: BackendError;
  precall?: PrecallReport;
}

export interface RecordedCall {
  cmd: string;
  args?: Record<string, unknown>;
}

export interface MockBackend extends Backend {
  /** Every call the UI made, named as the Tauri command and with the same args. */
  readonly calls: RecordedCall[];
  callsTo(cmd: string): RecordedCall[];
  /** The current state (a copy). */
  current(): AppState;
  /** Changes the state the way the engine would, and pushes a `state` event. */
  update(change: (state: AppState) => void): void;
  /** Pushes a `focus_visit` event, as a clicked desktop alert does. */
  focusVisit(visitId: string): void;
}

export const DEFAULT_SETTINGS: Settings = {
  sound: true,
  lock_after_minutes: 5,
  quick_messages: [
    'We are running 5 minutes late',
    'A provider will be with you shortly',
    'Please check your camera and microphone',
  ],
  first_in_queue_only: false,
  autostart: false,
};

export function emptyState(): AppState {
  return {
    screen: 'sign_in',
    connection: { state: 'online', pending: 0 },
    rooms: [],
    staff: [],
    queue: [],
    requests: [],
    sessions: [],
    outcomes: [],
    settings: structuredClone(DEFAULT_SETTINGS),
    now: Date.now(),
  };
}

const clone = <T>(value: T): T => structuredClone(value);

export function createMockBackend(
  initial?: Partial<AppState>,
  options: MockOptions = {},
): MockBackend {
  let state: AppState = { ...emptyState(), ...clone(initial ?? {}) };
  // The mock's "server" clock keeps whatever lead or lag the initial state's `now` had.
  const serverOffset = initial?.now !== undefined ? initial.now - Date.now() : 0;
  const details: Record<string, Visit> = clone(options.details ?? {});
  const calls: RecordedCall[] = [];
  const stateListeners = new Set<(s: AppState) => void>();
  const focusListeners = new Set<(id: string) => void>();
  let nextAction = 1;

  const record = (cmd: string, args?: Record<string, unknown>) => {
    calls.push(args === undefined ? { cmd } : { cmd, args: clone(args) });
  };

  const snapshot = (): AppState => {
    state.now = Date.now() + serverOffset;
    return clone(state);
  };

  const emit = () => {
    const s = snapshot();
    // Tauri delivers events asynchronously; so does the mock.
    queueMicrotask(() => stateListeners.forEach((l) => l(clone(s))));
  };

  const reject = (code: string, message: string): Promise<never> =>
    Promise.reject({ code, message } satisfies BackendError);

  const rowsOf = (visitId: string): QueueRow[] =>
    [...state.queue, ...state.requests, ...state.sessions].filter((r) => r.visit_id === visitId);

  const meRef = (): NamedRef | undefined => (state.me ? { id: state.me.id, name: state.me.name } : undefined);

  const staffRef = (id: string): NamedRef => ({
    id,
    name: state.staff.find((s) => s.id === id)?.name ?? 'a colleague',
  });

  const removeRow = (visitId: string) => {
    state.queue = state.queue.filter((r) => r.visit_id !== visitId);
    state.requests = state.requests.filter((r) => r.visit_id !== visitId);
    state.sessions = state.sessions.filter((r) => r.visit_id !== visitId);
  };

  const history = (visitId: string, entry: Omit<HistoryEntry, 'version' | 'at' | 'actor'>) => {
    const visit = details[visitId];
    if (!visit) return;
    visit.version += 1;
    visit.status = entry.status;
    visit.history.push({
      version: visit.version,
      at: Date.now(),
      actor: state.me ? { kind: 'staff', id: state.me.id } : { kind: 'system' },
      ...entry,
    } as HistoryEntry);
  };

  /** What the engine would show once the server accepted the command. */
  const confirm = (visitId: string, command: Command) => {
    const row = rowsOf(visitId)[0];
    if (!row) return;
    const me = meRef();
    const now = Date.now();
    const bump = (r: QueueRow) => {
      r.version += 1;
    };
    switch (command.command) {
      case 'claim':
        row.status = 'in_call';
        row.in_call = me ? [me] : [];
        row.waiting_since = undefined;
        history(visitId, { change: { type: 'claimed', staff: me?.id ?? '' }, status: 'in_call' });
        break;
      case 'join':
        if (me) row.in_call = [...row.in_call, me];
        history(visitId, { change: { type: 'joined', staff: me?.id ?? '' }, status: 'in_call' });
        break;
      case 'leave_call':
        row.in_call = row.in_call.filter((p) => p.id !== me?.id);
        if (row.in_call.length === 0) {
          row.status = 'on_hold';
          row.waiting_since = now;
        }
        history(visitId, { change: { type: 'left_call', staff: me?.id ?? '' }, status: row.status });
        break;
      case 'end_call':
        removeRow(visitId);
        history(visitId, { change: { type: 'call_ended' }, status: 'completed' });
        return;
      case 'transfer': {
        const room = state.rooms.find((r) => r.id === command.to.room);
        row.room_id = command.to.room;
        row.room_name = room?.name ?? row.room_name;
        if (command.to.kind === 'provider') row.assigned_provider = staffRef(command.to.provider);
        if (row.status === 'in_call') {
          row.status = 'waiting';
          row.in_call = [];
          row.waiting_since = now;
        }
        history(visitId, {
          change: { type: 'transferred', from_room: row.room_id, to: command.to, note: command.note },
          status: row.status,
        });
        break;
      }
      case 'assign':
        for (const r of rowsOf(visitId)) r.assigned_provider = staffRef(command.provider);
        history(visitId, {
          change: { type: 'assigned', provider: command.provider, note: command.note },
          status: row.status,
        });
        break;
      case 'decline':
        removeRow(visitId);
        history(visitId, { change: { type: 'declined', note: command.note }, status: 'declined' });
        return;
      case 'message':
        if (details[visitId] && me) {
          details[visitId].messages.push({ at: now, from: me.id, text: command.text });
        }
        history(visitId, { change: { type: 'messaged', text: command.text }, status: row.status });
        break;
      case 'set_priority':
        row.priority = command.priority;
        if (command.note) row.triage_note = command.note;
        history(visitId, {
          change: { type: 'priority_changed', priority: command.priority, note: command.note },
          status: row.status,
        });
        break;
      case 'accept':
      case 'accept_and_enter': {
        const enter = command.command === 'accept_and_enter';
        state.requests = state.requests.filter((r) => r.visit_id !== visitId);
        row.status = enter ? 'in_call' : 'waiting';
        row.assigned_provider = me;
        row.in_call = enter && me ? [me] : [];
        row.waiting_since = enter ? undefined : now;
        state.queue = [...state.queue, row];
        history(visitId, {
          change: { type: 'request_accepted', provider: me?.id ?? '', enter },
          status: row.status,
        });
        break;
      }
      case 'cancel':
        removeRow(visitId);
        history(visitId, { change: { type: 'cancelled', note: command.note }, status: 'cancelled' });
        return;
      case 'mark_no_show':
        removeRow(visitId);
        history(visitId, { change: { type: 'marked_no_show' }, status: 'no_show' });
        return;
    }
    for (const r of rowsOf(visitId)) bump(r);
  };

  const settle = (visitId: string, actionId: string, command: Command) => {
    for (const r of rowsOf(visitId)) r.pending = r.pending.filter((p) => p.action_id !== actionId);
    state.connection.pending = Math.max(0, state.connection.pending - 1);
    const rejection = options.rejections?.[visitId];
    if (rejection) {
      state.outcomes = [
        ...state.outcomes,
        { action_id: actionId, visit_id: visitId, command: command.command, ...clone(rejection) },
      ];
    } else {
      confirm(visitId, command);
    }
    emit();
  };

  const backend: MockBackend = {
    calls,
    callsTo: (cmd) => calls.filter((c) => c.cmd === cmd),
    current: () => clone(state),
    update(change) {
      change(state);
      emit();
    },
    focusVisit(visitId) {
      queueMicrotask(() => focusListeners.forEach((l) => l(visitId)));
    },

    async appState() {
      record('app_state');
      return snapshot();
    },
    async signIn(request) {
      record('sign_in', { ...request });
      if (!/^https?:\/\/\S+$/.test(request.server.trim())) {
        return reject('invalid_server', 'Enter the clinic server address, starting with https://');
      }
      if (request.server.includes('unreachable')) {
        return reject('unreachable', 'Cannot reach the clinic server. Check the address and your network.');
      }
      if (request.password === 'wrong' || request.password === '') {
        return reject('unauthorized', 'That email and password do not match.');
      }
      state.screen = 'queue';
      state.server_url = request.server;
      state.me ??= {
        id: 'staff-me',
        name: request.email.split('@')[0],
        email: request.email,
        roles: ['receptionist'],
        availability: 'available',
        rooms: state.rooms.map((r) => r.id),
      };
      emit();
      return snapshot();
    },
    async signOut() {
      record('sign_out');
      state.screen = 'sign_in';
      state.me = undefined;
      emit();
      return snapshot();
    },
    async visitDetails(visitId) {
      record('visit_details', { visitId });
      const known = details[visitId];
      if (known) return clone(known);
      const row = rowsOf(visitId)[0];
      if (!row) return reject('not_found', 'That visit is no longer in your queue.');
      return visitFromRow(row, state.clinic?.id ?? 'clinic');
    },
    async act(visitId, command) {
      record('act', { visitId, command });
      if (options.actError) return Promise.reject(clone(options.actError));
      const action_id = `action-${nextAction++}`;
      for (const r of rowsOf(visitId)) {
        r.pending = [...r.pending, { action_id, command: command.command, since: Date.now() }];
      }
      state.connection.pending += 1;
      emit();
      if (options.confirmAfterMs !== undefined) {
        setTimeout(() => settle(visitId, action_id, command), options.confirmAfterMs);
      }
      return { action_id };
    },
    async setAvailability(availability) {
      record('set_availability', { availability });
      if (state.me) state.me.availability = availability;
      const mine = state.staff.find((s) => s.id === state.me?.id);
      if (mine) mine.availability = availability;
      emit();
      return snapshot();
    },
    async dismissOutcome(actionId) {
      record('dismiss_outcome', { actionId });
      state.outcomes = state.outcomes.filter((o) => o.action_id !== actionId);
      emit();
      return snapshot();
    },
    async lock() {
      record('lock');
      state.screen = 'locked';
      emit();
      return snapshot();
    },
    async unlock(pin, staffEmail) {
      record('unlock', staffEmail ? { pin, staffEmail } : { pin });
      if (pin !== (options.pin ?? '1234')) {
        return reject('wrong_pin', 'That PIN is not right. Try again.');
      }
      if (staffEmail && state.me && staffEmail !== state.me.email) {
        state.me = {
          ...state.me,
          id: `staff-${staffEmail}`,
          email: staffEmail,
          name: staffEmail.split('@')[0],
        };
      }
      state.screen = 'queue';
      emit();
      return snapshot();
    },
    async saveSettings(settings) {
      record('save_settings', { settings });
      state.settings = clone(settings);
      emit();
      return snapshot();
    },
    async precallCheck() {
      record('precall_check');
      return clone(
        options.precall ?? {
          checks: [
            { name: 'Clinic server', ok: true, detail: 'Reachable, 42 ms' },
            { name: 'Live updates', ok: true, detail: 'Connected, last event 2 s ago' },
            { name: 'Desktop notifications', ok: true, detail: 'Notification service answered' },
            { name: 'Keyring', ok: true, detail: 'Secret Service unlocked' },
            { name: 'Camera and microphone', ok: false, detail: 'No camera found' },
          ],
        },
      );
    },
    async activity() {
      record('activity');
    },
    async firstPaint(rows) {
      record('first_paint', { rows });
    },
    async rowsPainted(visitIds) {
      record('rows_painted', { visitIds });
    },
    async onState(handler) {
      stateListeners.add(handler);
      return () => stateListeners.delete(handler);
    },
    async onFocusVisit(handler) {
      focusListeners.add(handler);
      return () => focusListeners.delete(handler);
    },
  };
  return backend;
}

/** A plausible Visit for a row the test or sample did not describe in full. */
function visitFromRow(row: QueueRow, clinicId: string): Visit {
  const arrived = row.arrived_at ?? row.waiting_since ?? row.starts_at ?? Date.now();
  const history: HistoryEntry[] = [
    {
      version: 1,
      at: arrived,
      actor: { kind: 'patient' },
      change: {
        type: 'opened',
        clinic_id: clinicId,
        room_id: row.room_id,
        patient: { name: row.patient_name },
        status: row.status === 'in_call' || row.status === 'on_hold' ? 'waiting' : row.status,
      },
      status: row.status === 'in_call' || row.status === 'on_hold' ? 'waiting' : row.status,
    },
  ];
  return {
    id: row.visit_id,
    clinic_id: clinicId,
    room_id: row.room_id,
    status: row.status,
    priority: row.priority,
    triage_note: row.triage_note,
    patient: { name: row.patient_name },
    intake: {},
    intake_finished: row.intake_finished,
    created_at: arrived,
    arrived_at: row.arrived_at,
    requested_provider: row.requested_provider?.id,
    assigned_provider: row.assigned_provider?.id,
    in_call: row.in_call.map((p) => p.id),
    messages: [],
    after_hours: row.after_hours,
    version: row.version,
    history,
  };
}
