// The one door between the UI and the console engine. Every screen talks to a `Backend`:
// `tauriBackend` speaks Tauri IPC to src-tauri (invoke + events); the mock (./mock.ts, imported
// only by tests and by development builds) answers as the engine did in recorded fixtures.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { steps } from './startup';
import type {
  AlertSubscription,
  AppState,
  Availability,
  BackendError,
  BookingCheck,
  BookingDone,
  BookingForm,
  CalendarQuery,
  CalendarView,
  Command,
  Delivery,
  DeliveryState,
  HoursPreview,
  NewRoom,
  NewStaff,
  OfficeHours,
  RoomEntry,
  StaffChange,
  StaffInfo,
  Station,
  PrecallReport,
  Report,
  ReportQuery,
  Settings,
  SignInRequest,
  StateChanges,
  Visit,
} from './types';

export type * from './types';

export interface Backend {
  /** `app_state` → the whole console state (used once at start; then `onState` pushes). */
  appState(): Promise<AppState>;
  /** `sign_in {server, email, password, remember}`; rejects with a BackendError. */
  signIn(request: SignInRequest): Promise<AppState>;
  /** `sign_out`. */
  signOut(): Promise<AppState>;
  /** `visit_details {visitId}` → the domain Visit. */
  visitDetails(visitId: string): Promise<Visit>;
  /** `act {visitId, command}` → the outbox's action id; progress shows in AppState. */
  act(visitId: string, command: Command): Promise<{ action_id: string }>;
  /** `open_call {visitId}`: opens the call I am in on that visit in the default browser;
   * resolves to the link opened. */
  openCall(visitId: string): Promise<string>;
  /** `set_availability {availability}`. */
  setAvailability(availability: Availability): Promise<AppState>;
  /** `request_session {provider, patientName}`: asks a provider for a session with a patient. */
  requestSession(provider: string, patientName: string): Promise<AppState>;
  /** `dismiss_request {visitId}`: puts an answered request away from the providers board. */
  dismissRequest(visitId: string): Promise<AppState>;
  /** `calendar {query}`: a day or week of booked sessions, laid out by the console host. */
  calendar(query: CalendarQuery): Promise<CalendarView>;
  /** `check_booking {form}`: the booking form read through the domain's rules. */
  checkBooking(form: BookingForm): Promise<BookingCheck>;
  /** `book_session {form}`: books with the clinic server; refusals come back by field. */
  bookSession(form: BookingForm): Promise<BookingDone>;
  /** `reschedule_session {visitId, date, time, durationMins}`: moves a booked session. */
  rescheduleSession(visitId: string, date: string, time: string, durationMins: number): Promise<BookingDone>;
  /** `next_appointment {visitId}`: the booking form prefilled for that patient. */
  nextAppointment(visitId: string): Promise<BookingForm>;
  /** `report {query}` → a manager's figures for the Reports workspace, from the clinic server. */
  report(query: ReportQuery): Promise<Report>;
  /** `export_report {query}` → the path the report's CSV was saved at (the downloads folder). */
  exportReport(query: ReportQuery): Promise<string>;
  /** `start_progress`: what start-up is doing now ("" when nothing to say), for the loading page. */
  startProgress(): Promise<string>;
  /** `reconnect_now`: try the clinic server at once instead of at the next retry. */
  reconnectNow(): Promise<AppState>;
  /** `dismiss_outcome {actionId}`. */
  dismissOutcome(actionId: string): Promise<AppState>;
  /** `lock`. */
  lock(): Promise<AppState>;
  /** `unlock {pin, staffEmail?}`: staffEmail switches the station to another person. */
  unlock(pin: string, staffEmail?: string): Promise<AppState>;
  /** `save_settings {settings}`. */
  saveSettings(settings: Settings): Promise<AppState>;
  /** `precall_check`. */
  precallCheck(): Promise<PrecallReport>;
  /** `activity`: the person is at the keyboard (the shell's idle auto-lock timer resets). */
  activity(): Promise<void>;
  /** `first_paint {rows, steps}`: the queue is on screen for the first time (start-up timing,
   * with the page's own steps). */
  firstPaint(rows: number): Promise<void>;
  /** `rows_painted {visitIds}`: these patients' rows are newly on screen (arrival timing). */
  rowsPainted(visitIds: string[]): Promise<void>;
  /** `resend_state`: the UI missed a push; the next one is the whole state. */
  resendState(): Promise<void>;
  // The Admin workspace (admins only; the server refuses anyone else).
  /** `admin_rooms` → the clinic's rooms with their front-door links. */
  adminRooms(): Promise<RoomEntry[]>;
  /** `save_room {roomId?, room}`: creates a room, or replaces the settings of `roomId`. */
  saveRoom(roomId: string | null, room: NewRoom): Promise<RoomEntry>;
  /** `preview_hours {officeHours}` → open now or when it opens, by the server's rule. */
  previewHours(officeHours: OfficeHours[]): Promise<HoursPreview>;
  /** `admin_staff` → everyone in the clinic, deactivated included. */
  adminStaff(): Promise<StaffInfo[]>;
  /** `invite_staff {staff}`. */
  inviteStaff(staff: NewStaff): Promise<StaffInfo>;
  /** `change_staff {staffId, change}`: name, phone, roles, rooms. */
  changeStaff(staffId: string, change: StaffChange): Promise<StaffInfo>;
  /** `set_staff_active {staffId, active}`: deactivate or reactivate. */
  setStaffActive(staffId: string, active: boolean): Promise<StaffInfo>;
  /** `sign_out_everywhere {staffId}`. */
  signOutEverywhere(staffId: string): Promise<void>;
  /** `set_staff_pin {staffId, pin}`: their station PIN (a locked one works again). */
  setStaffPin(staffId: string, pin: string): Promise<void>;
  /** `send_password_reset {staffId}` → the address the one-time code went to. */
  sendPasswordReset(staffId: string): Promise<string>;
  /** `admin_stations` → the clinic's registered stations. */
  adminStations(): Promise<Station[]>;
  /** `end_station {stationId}`. */
  endStation(stationId: string): Promise<void>;
  /** `deliveries {state?}` → outbound emails and texts, newest first. */
  deliveries(state: DeliveryState | null): Promise<Delivery[]>;
  /** `retry_delivery {deliveryId}`: a failed one goes once more. */
  retryDelivery(deliveryId: number): Promise<Delivery>;
  /** `my_alerts` → my alert subscriptions by room. */
  myAlerts(): Promise<AlertSubscription[]>;
  /** `set_my_alerts {alerts}`. */
  setMyAlerts(alerts: AlertSubscription[]): Promise<AlertSubscription[]>;
  /** Event `state`: the whole state, pushed at start, on a change of screen or person and
   * after a resync. Resolves to an unsubscribe function. */
  onState(handler: (state: AppState) => void): Promise<() => void>;
  /** Event `changes`: what changed since the push before (see ./changes.ts). */
  onChanges(handler: (changes: StateChanges) => void): Promise<() => void>;
  /** Event `focus_visit {visit_id}`: a desktop alert was clicked. */
  onFocusVisit(handler: (visitId: string) => void): Promise<() => void>;
}

/** Turns whatever a rejected call carried into `{code, message}`. */
export function toBackendError(err: unknown): BackendError {
  if (err && typeof err === 'object') {
    const e = err as Record<string, unknown>;
    if (typeof e.message === 'string') {
      const code = typeof e.code === 'string' ? e.code : 'error';
      return typeof e.field === 'string' ? { code, message: e.message, field: e.field } : { code, message: e.message };
    }
  }
  if (typeof err === 'string' && err.trim() !== '') {
    return { code: 'error', message: err };
  }
  return { code: 'error', message: 'Something went wrong. Please try again.' };
}

/** Rejections always carry a BackendError, whatever the shell sent. */
async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (err) {
    throw toBackendError(err);
  }
}

export const tauriBackend: Backend = {
  appState: () => call<AppState>('app_state'),
  signIn: ({ server, email, password, remember }) =>
    call<AppState>('sign_in', { server, email, password, remember }),
  signOut: () => call<AppState>('sign_out'),
  visitDetails: (visitId) => call<Visit>('visit_details', { visitId }),
  act: (visitId, command) => call<{ action_id: string }>('act', { visitId, command }),
  openCall: (visitId) => call<string>('open_call', { visitId }),
  setAvailability: (availability) => call<AppState>('set_availability', { availability }),
  dismissOutcome: (actionId) => call<AppState>('dismiss_outcome', { actionId }),
  reconnectNow: () => call<AppState>('reconnect_now'),
  startProgress: () => call<string>('start_progress'),
  requestSession: (provider, patientName) => call<AppState>('request_session', { provider, patientName }),
  dismissRequest: (visitId) => call<AppState>('dismiss_request', { visitId }),
  calendar: (query) => call<CalendarView>('calendar', { query }),
  checkBooking: (form) => call<BookingCheck>('check_booking', { form }),
  bookSession: (form) => call<BookingDone>('book_session', { form }),
  rescheduleSession: (visitId, date, time, durationMins) =>
    call<BookingDone>('reschedule_session', { visitId, date, time, durationMins }),
  nextAppointment: (visitId) => call<BookingForm>('next_appointment', { visitId }),
  report: (query) => call<Report>('report', { query }),
  exportReport: (query) => call<string>('export_report', { query }),
  lock: () => call<AppState>('lock'),
  unlock: (pin, staffEmail) =>
    call<AppState>('unlock', staffEmail ? { pin, staffEmail } : { pin }),
  saveSettings: (settings) => call<AppState>('save_settings', { settings }),
  precallCheck: () => call<PrecallReport>('precall_check'),
  activity: () => call<void>('activity'),
  firstPaint: (rows) => call<void>('first_paint', { rows, steps: steps() }),
  rowsPainted: (visitIds) => call<void>('rows_painted', { visitIds }),
  resendState: () => call<void>('resend_state'),
  adminRooms: () => call<RoomEntry[]>('admin_rooms'),
  saveRoom: (roomId, room) => call<RoomEntry>('save_room', { roomId, room }),
  previewHours: (officeHours) => call<HoursPreview>('preview_hours', { officeHours }),
  adminStaff: () => call<StaffInfo[]>('admin_staff'),
  inviteStaff: (staff) => call<StaffInfo>('invite_staff', { staff }),
  changeStaff: (staffId, change) => call<StaffInfo>('change_staff', { staffId, change }),
  setStaffActive: (staffId, active) => call<StaffInfo>('set_staff_active', { staffId, active }),
  signOutEverywhere: (staffId) => call<void>('sign_out_everywhere', { staffId }),
  setStaffPin: (staffId, pin) => call<void>('set_staff_pin', { staffId, pin }),
  sendPasswordReset: (staffId) => call<string>('send_password_reset', { staffId }),
  adminStations: () => call<Station[]>('admin_stations'),
  endStation: (stationId) => call<void>('end_station', { stationId }),
  deliveries: (state) => call<Delivery[]>('deliveries', { state }),
  retryDelivery: (deliveryId) => call<Delivery>('retry_delivery', { deliveryId }),
  myAlerts: () => call<AlertSubscription[]>('my_alerts'),
  setMyAlerts: (alerts) => call<AlertSubscription[]>('set_my_alerts', { alerts }),
  onState: (handler) => listen<AppState>('state', (event) => handler(event.payload)),
  onChanges: (handler) => listen<StateChanges>('changes', (event) => handler(event.payload)),
  onFocusVisit: (handler) =>
    listen<{ visit_id: string }>('focus_visit', (event) => handler(event.payload.visit_id)),
};

/** True inside the Tauri webview (the shell injects its IPC internals before the page runs). */
export function inTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}
