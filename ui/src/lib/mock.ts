// An in-memory stand-in for src-tauri and the console engine, for UI tests and for looking at
// the UI in a plain browser during development (never in the app's bundle: see main.ts). UI
// tests drive it and read back the calls the UI made (named as the Tauri commands are).
//
// It keeps no rules of its own. What a visit offers is on its rows (`allowed`, from the domain);
// what a confirmed action does is the engine's recorded answer to that command on that version
// of the visit (src/fixtures/engine.json): the visit's new row, or the refusal as an Outcome.
// Like the engine, it shows an action as pending first and changes nothing before it is
// "confirmed". A command it has no recorded answer for is refused with code `not_recorded`.
// Free text (a note, a message) does not pick the answer: the recorded one shows instead.

import type { Backend } from './backend';
import { engine, type EngineAnswer } from '../fixtures/engine';
import type {
  AlertSubscription,
  AppState,
  BackendError,
  BookingCheck,
  BookingDone,
  BookingForm,
  CalendarView,
  Command,
  Delivery,
  HoursPreview,
  Me,
  Outcome,
  PrecallReport,
  QueueRow,
  Report,
  RoomEntry,
  Settings,
  StaffInfo,
  Station,
  Visit,
} from './types';

export interface MockOptions {
  /** Confirm queued actions after this many ms; leave undefined to keep them pending forever. */
  confirmAfterMs?: number;
  /** Visits returned by visit_details, by id. */
  details?: Record<string, Visit>;
  /** The engine's recorded answers, by visit id. */
  answers?: Record<string, EngineAnswer[]>;
  /** The PIN that unlocks the station (default "1234"). */
  pin?: string;
  /** Who signing in makes me, when the state has no one (default: a receptionist named after the email). */
  signsInAs?: Me;
  /** Makes act() itself reject (the shell could not queue it). */
  actError?: BackendError;
  precall?: PrecallReport;
  /** What `report` answers, whatever was asked (the server's figures are the test's). */
  report?: Report;
  /** Makes `report` and `export_report` reject, as the shell does when the server refuses. */
  reportError?: BackendError;
  /** Where `export_report` says it saved the CSV. */
  savedTo?: string;
  /** The console host's calendar page (the same page whatever is asked). */
  calendar?: CalendarView;
  /** The console host's reading of a booking form, as a test records it. */
  checkBooking?: (form: BookingForm) => BookingCheck;
  /** What booking a form comes to (default: one session booked). */
  bookSession?: (form: BookingForm) => BookingDone;
  /** The form `next_appointment` gives. */
  nextAppointment?: BookingForm;
  /** What the Admin workspace's calls answer (a stand-in for the clinic server's lists). */
  admin?: AdminData;
}

/** The clinic as the Admin workspace's calls see it in the mock. */
export interface AdminData {
  rooms?: RoomEntry[];
  staff?: StaffInfo[];
  stations?: Station[];
  deliveries?: Delivery[];
  alerts?: AlertSubscription[];
  /** What `preview_hours` answers (default: open). */
  preview?: HoursPreview;
  /** A refusal for a command, as the server would send it (`{code, message, field?}`). */
  refuse?: Record<string, BackendError>;
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
  unavailable_when_locked: false,
};

export function emptyState(): AppState {
  return {
    push: 0,
    screen: 'sign_in',
    connection: { state: 'online', pending: 0 },
    rooms: [],
    staff: [],
    queue: [],
    requests: [],
    sessions: [],
    today: [],
    providers: [],
    outcomes: [],
    settings: structuredClone(DEFAULT_SETTINGS),
    station: false,
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
    state.push += 1;
    const s = snapshot();
    // Tauri delivers events asynchronously; so does the mock.
    queueMicrotask(() => stateListeners.forEach((l) => l(clone(s))));
  };

  const reject = (code: string, message: string): Promise<never> =>
    Promise.reject({ code, message } satisfies BackendError);

  const rowsOf = (visitId: string): QueueRow[] =>
    [...state.queue, ...state.requests, ...state.sessions].filter((r) => r.visit_id === visitId);

  const lists = ['queue', 'requests', 'sessions'] as const;

  /** The recorded answer to `command` on the visit as the row shows it now, if any. */
  const recorded = (visitId: string, row: QueueRow, command: Command): EngineAnswer | undefined => {
    const candidates = (options.answers?.[visitId] ?? []).filter((a) => a.from_version === row.version);
    return (
      candidates.find((a) => sameCommand(a.command, command, false)) ??
      candidates.find((a) => sameCommand(a.command, command, true))
    );
  };

  /** Shows the engine's answer: the visit's new row where the engine lists it, or the refusal. */
  const confirm = (visitId: string, actionId: string, command: Command) => {
    const row = rowsOf(visitId)[0];
    const answer = row && recorded(visitId, row, command);
    const refuse = (o: Omit<Outcome, 'action_id' | 'visit_id' | 'command'>) => {
      state.outcomes = [...state.outcomes, { action_id: actionId, visit_id: visitId, command: command.command, ...o }];
    };
    if (!answer) {
      refuse({ code: 'not_recorded', message: `The mock has no recorded engine answer for ${command.command} here` });
      return;
    }
    if ('refused' in answer.result) {
      const { code, message, held_by } = answer.result.refused;
      refuse({ code, message, held_by });
      return;
    }
    const { list, row: next, entries } = clone(answer.result.accepted);
    // My other actions on this visit are still on their way.
    const stillPending = row.pending;
    for (const name of lists) {
      const at = state[name].findIndex((r) => r.visit_id === visitId);
      if (at === -1) continue;
      state[name] = state[name].filter((r) => r.visit_id !== visitId);
      if (name === list && next) state[name].splice(at, 0, { ...next, pending: stillPending });
    }
    if (list && next && !state[list].some((r) => r.visit_id === visitId)) {
      state[list] = [...state[list], { ...next, pending: stillPending }];
    }
    // The details gain the recorded history entries, as an event brings them.
    const visit = details[visitId];
    if (visit && entries.length > 0) {
      visit.history = [...visit.history, ...entries];
      visit.version = entries[entries.length - 1].version;
    }
  };

  const settle = (visitId: string, actionId: string, command: Command) => {
    for (const r of rowsOf(visitId)) r.pending = r.pending.filter((p) => p.action_id !== actionId);
    state.connection.pending = Math.max(0, state.connection.pending - 1);
    confirm(visitId, actionId, command);
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
      state.me ??= options.signsInAs ? clone(options.signsInAs) : someone(request.email, state);
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
      if (rowsOf(visitId).length === 0) return reject('not_found', 'That visit is no longer in your queue.');
      const known = details[visitId];
      if (!known) return reject('not_recorded', 'The mock has no recorded visit for this row.');
      return clone(known);
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
    async openCall(visitId) {
      record('open_call', { visitId });
      // As the console answers: the link the engine's row gives someone in the call, or none.
      const link = rowsOf(visitId).find((r) => r.call_link)?.call_link;
      if (!link) return reject('no_call_link', 'There is no call link for you on this patient.');
      return link;
    },
    async setAvailability(availability) {
      record('set_availability', { availability });
      if (state.me) state.me.availability = availability;
      const mine = state.staff.find((s) => s.id === state.me?.id);
      if (mine) mine.availability = availability;
      emit();
      return snapshot();
    },
    async requestSession(provider, patientName) {
      record('request_session', { provider, patientName });
      return snapshot();
    },
    async report(query) {
      record('report', { query });
      if (options.reportError) throw clone(options.reportError);
      if (!options.report) throw { code: 'not_recorded', message: 'No report was given to the mock.' };
      return clone(options.report);
    },
    async exportReport(query) {
      record('export_report', { query });
      if (options.reportError) throw clone(options.reportError);
      return options.savedTo ?? '/home/staff/Downloads/frontdesk-report.csv';
    },
    async dismissRequest(visitId) {
      record('dismiss_request', { visitId });
      for (const p of state.providers) p.requests = p.requests.filter((r) => r.visit_id !== visitId);
      emit();
      return snapshot();
    },
    async calendar(query) {
      record('calendar', { query });
      if (!options.calendar) return reject('not_recorded', 'The mock has no calendar page');
      return clone(options.calendar);
    },
    async checkBooking(form) {
      record('check_booking', { form });
      return options.checkBooking?.(clone(form)) ?? { errors: [], sessions: [] };
    },
    async bookSession(form) {
      record('book_session', { form });
      return options.bookSession?.(clone(form)) ?? { errors: [], booked: ['booked-1'] };
    },
    async rescheduleSession(visitId, date, time, durationMins) {
      record('reschedule_session', { visitId, date, time, durationMins });
      return { errors: [], booked: [visitId] };
    },
    async nextAppointment(visitId) {
      record('next_appointment', { visitId });
      if (!options.nextAppointment) return reject('not_recorded', 'The mock has no booking form');
      return clone(options.nextAppointment);
    },
    async startProgress() {
      record('start_progress');
      return '';
    },
    async reconnectNow() {
      record('reconnect_now');
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
    async resendState() {
      record('resend_state');
      emit();
    },
    ...adminCalls(record, options.admin ?? {}, state),
    async onState(handler) {
      stateListeners.add(handler);
      return () => stateListeners.delete(handler);
    },
    // The mock pushes whole states only.
    async onChanges() {
      return () => {};
    },
    async onFocusVisit(handler) {
      focusListeners.add(handler);
      return () => focusListeners.delete(handler);
    },
  };
  return backend;
}

/** Two commands the same, or (`looseText`) the same but for their free text. */
function sameCommand(recorded: Command, sent: Command, looseText: boolean): boolean {
  const shape = (c: Command) =>
    JSON.stringify(c, (key, value) => {
      if (value === null || value === undefined) return undefined;
      if (looseText && (key === 'note' || key === 'text')) return undefined;
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
      }
      return value;
    });
  return shape(recorded) === shape(sent);
}

/** The recorded receptionist under another email, for a sign-in the test did not set up. */
function someone(email: string, state: AppState): Me {
  const receptionist = engine.people.receptionist.view.me!;
  return {
    ...structuredClone(receptionist),
    id: `staff-${email}`,
    clinic_id: state.clinic?.id ?? receptionist.clinic_id,
    name: email.split('@')[0],
    email,
    rooms: [],
  };
}

/** The Admin workspace's calls on in-memory lists: a save is answered with what was sent, a
 * refusal configured for the command is answered instead (the rules are the server's). */
function adminCalls(
  record: (cmd: string, args?: Record<string, unknown>) => void,
  data: AdminData,
  state: AppState,
): Pick<
  Backend,
  | 'adminRooms'
  | 'saveRoom'
  | 'previewHours'
  | 'adminStaff'
  | 'inviteStaff'
  | 'changeStaff'
  | 'setStaffActive'
  | 'signOutEverywhere'
  | 'sendPasswordReset'
  | 'setStaffPin'
  | 'adminStations'
  | 'endStation'
  | 'deliveries'
  | 'retryDelivery'
  | 'myAlerts'
  | 'setMyAlerts'
> {
  const db = {
    rooms: clone(data.rooms ?? []),
    staff: clone(data.staff ?? []),
    stations: clone(data.stations ?? []),
    deliveries: clone(data.deliveries ?? []),
    alerts: clone(data.alerts ?? []),
  };
  let nextId = 1;
  const answer = async <T>(cmd: string, args: Record<string, unknown> | undefined, value: () => T): Promise<T> => {
    record(cmd, args);
    const refusal = data.refuse?.[cmd];
    if (refusal) return Promise.reject(clone(refusal));
    return clone(value());
  };
  const person = (id: string) => {
    const found = db.staff.find((s) => s.id === id);
    if (!found) throw { code: 'not_found', message: 'staff not found' } satisfies BackendError;
    return found;
  };
  const clinicId = state.clinic?.id ?? 'clinic';
  return {
    adminRooms: () => answer('admin_rooms', undefined, () => db.rooms),
    saveRoom: (roomId, room) =>
      answer('save_room', { roomId, room }, () => {
        const id = roomId ?? `room-new-${nextId++}`;
        const entry: RoomEntry = {
          room: {
            id,
            clinic_id: clinicId,
            name: room.name.trim(),
            provider: room.provider ?? null,
            office_hours: room.office_hours,
            emergency_info: room.emergency_info ?? null,
            waiting_message: room.waiting_message ?? null,
            intake_questions: room.intake_questions,
            after_hours: room.after_hours,
            show_place_in_line: room.show_place_in_line,
            minutes_per_patient: room.minutes_per_patient ?? null,
          },
          front_door: `https://clinic.example/join/demo/${id}`,
          button_html: `<a href="https://clinic.example/join/demo/${id}">See us online</a>`,
        };
        db.rooms = [...db.rooms.filter((r) => r.room.id !== id), entry];
        return entry;
      }),
    previewHours: (officeHours) =>
      answer('preview_hours', { officeHours }, () => data.preview ?? { open: true, time_zone: 'UTC', local_time: '10:00', local_day: 0 }),
    adminStaff: () => answer('admin_staff', undefined, () => db.staff),
    inviteStaff: (staff) =>
      answer('invite_staff', { staff }, () => {
        const created: StaffInfo = {
          id: `staff-new-${nextId++}`,
          clinic_id: clinicId,
          name: staff.name.trim(),
          email: staff.email.trim(),
          phone: staff.phone ?? null,
          roles: staff.roles,
          availability: 'available',
          rooms: staff.rooms,
          all_rooms: staff.all_rooms,
          deactivated: false,
        };
        db.staff = [...db.staff, created];
        return created;
      }),
    changeStaff: (staffId, change) =>
      answer('change_staff', { staffId, change }, () => {
        const p = person(staffId);
        if (change.name !== undefined) p.name = change.name;
        if (change.roles !== undefined) p.roles = change.roles;
        if (change.rooms !== undefined) p.rooms = change.rooms;
        if (change.all_rooms !== undefined) p.all_rooms = change.all_rooms;
        return p;
      }),
    setStaffActive: (staffId, active) =>
      answer('set_staff_active', { staffId, active }, () => {
        const p = person(staffId);
        p.deactivated = !active;
        return p;
      }),
    signOutEverywhere: (staffId) => answer('sign_out_everywhere', { staffId }, () => undefined),
    setStaffPin: (staffId, pin) =>
      answer('set_staff_pin', { staffId, pin }, () => {
        person(staffId);
      }),
    sendPasswordReset: (staffId) => answer('send_password_reset', { staffId }, () => person(staffId).email),
    adminStations: () => answer('admin_stations', undefined, () => db.stations),
    endStation: (stationId) =>
      answer('end_station', { stationId }, () => {
        db.stations = db.stations.filter((s) => s.id !== stationId);
      }),
    deliveries: (deliveryState) =>
      answer('deliveries', { state: deliveryState }, () =>
        db.deliveries.filter((d) => deliveryState === null || d.state === deliveryState),
      ),
    retryDelivery: (deliveryId) =>
      answer('retry_delivery', { deliveryId }, () => {
        const d = db.deliveries.find((x) => x.id === deliveryId);
        if (!d) throw { code: 'not_found', message: 'delivery not found' } satisfies BackendError;
        d.state = 'pending';
        return d;
      }),
    myAlerts: () => answer('my_alerts', undefined, () => db.alerts),
    setMyAlerts: (alerts) =>
      answer('set_my_alerts', { alerts }, () => {
        db.alerts = clone(alerts);
        return db.alerts;
      }),
  };
}
