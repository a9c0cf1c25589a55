// The shapes that cross the Tauri bridge. AppState and friends are the console's contract with
// src-tauri; Visit and Command mirror crates/domain's JSON (snake_case, tagged enums).

export type Screen = 'sign_in' | 'queue' | 'locked';

export type Status =
  | 'scheduled'
  | 'requested'
  | 'intake'
  | 'waiting'
  | 'in_call'
  | 'on_hold'
  | 'completed'
  | 'declined'
  | 'left'
  | 'no_show'
  | 'cancelled';

export const STATUSES: Status[] = [
  'scheduled',
  'requested',
  'intake',
  'waiting',
  'in_call',
  'on_hold',
  'completed',
  'declined',
  'left',
  'no_show',
  'cancelled',
];

export type Priority = 'routine' | 'urgent' | 'emergency';
export const PRIORITIES: Priority[] = ['routine', 'urgent', 'emergency'];

export type Availability = 'available' | 'on_call' | 'busy' | 'away' | 'unavailable';

export type Role = 'admin' | 'receptionist' | 'provider' | 'scheduler';

export interface NamedRef {
  id: string;
  name: string;
}

export interface Me {
  id: string;
  name: string;
  email: string;
  roles: string[];
  availability: string;
  rooms: string[];
}

export interface Clinic {
  id: string;
  name: string;
  slug: string;
}

export interface Connection {
  state: 'online' | 'connecting' | 'offline' | 'resyncing';
  /** Epoch ms the connection went offline. */
  since?: number;
  /** Epoch ms of the cached data shown. */
  as_of?: number;
  /** My actions waiting in the outbox. */
  pending: number;
}

export interface Room {
  id: string;
  name: string;
  /** Set for a provider's own room. */
  provider?: string;
}

export interface StaffMember {
  id: string;
  name: string;
  roles: string[];
  availability: string;
}

export interface PendingAction {
  action_id: string;
  command: string;
  since: number;
}

export interface QueueRow {
  visit_id: string;
  room_id: string;
  room_name: string;
  status: Status;
  priority: Priority;
  patient_name: string;
  arrived_at?: number;
  /** Epoch ms the current waiting stretch began. */
  waiting_since?: number;
  in_call: NamedRef[];
  assigned_provider?: NamedRef;
  requested_provider?: NamedRef;
  triage_note?: string;
  version: number;
  starts_at?: number;
  pending: PendingAction[];
  intake_finished: boolean;
  after_hours: boolean;
}

export interface Outcome {
  action_id: string;
  visit_id: string;
  command: string;
  code: string;
  message: string;
  held_by?: NamedRef[];
}

export interface Settings {
  sound: boolean;
  /** 0 = never. */
  lock_after_minutes: number;
  quick_messages: string[];
  first_in_queue_only: boolean;
  autostart: boolean;
}

export interface AppState {
  screen: Screen;
  server_url?: string;
  me?: Me;
  clinic?: Clinic;
  connection: Connection;
  rooms: Room[];
  staff: StaffMember[];
  queue: QueueRow[];
  requests: QueueRow[];
  sessions: QueueRow[];
  outcomes: Outcome[];
  settings: Settings;
  /** This computer is a registered clinic station: staff unlock and switch with a PIN.
   * Elsewhere the signed-in person's password unlocks. */
  station?: boolean;
  /** Server-corrected epoch ms when this state was produced. */
  now: number;
}

export interface PrecallCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface PrecallReport {
  checks: PrecallCheck[];
}

/** How a Tauri command refuses: the UI switches on `code` and shows `message`. */
export interface BackendError {
  code: string;
  message: string;
}

export interface SignInRequest {
  server: string;
  email: string;
  password: string;
  remember: boolean;
}

// ---- crates/domain: Command (tagged by "command") ----

export type TransferTarget =
  | { kind: 'room'; room: string }
  | { kind: 'provider'; provider: string; room: string };

export type Command =
  | { command: 'claim' }
  | { command: 'join' }
  | { command: 'leave_call' }
  | { command: 'end_call' }
  | { command: 'transfer'; to: TransferTarget; note?: string }
  | { command: 'assign'; provider: string; note?: string }
  | { command: 'decline'; note: string }
  | { command: 'message'; text: string }
  | { command: 'set_priority'; priority: Priority; note?: string }
  | { command: 'accept' }
  | { command: 'accept_and_enter' }
  | { command: 'cancel'; note?: string }
  | { command: 'mark_no_show' };

export type CommandName = Command['command'];

// ---- crates/domain: Visit ----

export interface Contact {
  phone?: string;
  email?: string;
}

export interface Patient {
  name: string;
  contact?: Contact;
}

export interface Guest {
  name: string;
  contact: Contact;
  arrived?: boolean;
}

export interface Booking {
  provider: string;
  starts_at: number;
  guests: Guest[];
  service_type?: string;
  location?: string;
  staff?: string[];
}

export interface StaffMessage {
  at: number;
  from: string;
  text: string;
}

export type ActorRef = { kind: 'staff'; id: string } | { kind: 'patient' } | { kind: 'system' };

export interface Opened {
  clinic_id: string;
  room_id: string;
  patient: Patient;
  status: Status;
  priority?: Priority;
  requested_provider?: string;
  booking?: Booking;
  after_hours?: boolean;
}

export type Change =
  | ({ type: 'opened' } & Opened)
  | { type: 'intake_updated'; answers: Record<string, string> }
  | { type: 'intake_finished' }
  | { type: 'guest_arrived'; guest: number }
  | { type: 'patient_left' }
  | { type: 'claimed'; staff: string }
  | { type: 'joined'; staff: string }
  | { type: 'left_call'; staff: string }
  | { type: 'put_on_hold' }
  | { type: 'call_ended' }
  | { type: 'transferred'; from_room: string; to: TransferTarget; note?: string }
  | { type: 'assigned'; provider: string; note?: string }
  | { type: 'declined'; note: string; automatic?: boolean }
  | { type: 'messaged'; text: string }
  | { type: 'priority_changed'; priority: Priority; note?: string }
  | { type: 'request_accepted'; provider: string; enter: boolean }
  | { type: 'cancelled'; note?: string }
  | { type: 'marked_no_show' };

export interface HistoryEntry {
  version: number;
  at: number;
  actor: ActorRef;
  change: Change;
  status: Status;
}

export interface Visit {
  id: string;
  clinic_id: string;
  room_id: string;
  status: Status;
  priority: Priority;
  triage_note?: string;
  patient: Patient;
  intake: Record<string, string>;
  intake_finished: boolean;
  created_at: number;
  arrived_at?: number;
  requested_provider?: string;
  assigned_provider?: string;
  in_call: string[];
  booking?: Booking;
  messages: StaffMessage[];
  decline_note?: string;
  after_hours: boolean;
  version: number;
  history: HistoryEntry[];
}
