// The shapes that cross the Tauri bridge. What the domain, the clinic API and the console's
// engine define is generated from their Rust types (./generated/wire.ts, by
// tests/tests/ui_types.rs) and only re-exported here, under the names the screens use. The
// shell's own types are still written by hand, in the one marked section below.

import type {
  ConnectionView,
  MeView,
  PendingView,
  Priority,
  RoomInfo,
  StaffInfo,
  StaffRef,
  View,
} from './generated/wire';

export type * from './generated/wire';

export type Me = MeView;
export type NamedRef = StaffRef;
export type Room = RoomInfo;
export type StaffMember = StaffInfo;
export type Connection = ConnectionView;
export type PendingAction = PendingView;

/** The priorities, in the order a triage dialog offers them. */
export const PRIORITIES = ['routine', 'urgent', 'emergency'] as const satisfies readonly Priority[];
// A priority the domain gains and the dialog does not offer fails to compile here.
const everyPriority: Record<Priority, true> = { routine: true, urgent: true, emergency: true };
void everyPriority;

// ---- The shell's own types (src-tauri/src/console.rs, settings.rs, precall.rs) ----
// Written by hand until the shell's types are generated like the rest.

export type Screen = 'sign_in' | 'queue' | 'locked';

export interface Settings {
  sound: boolean;
  /** 0 = never. */
  lock_after_minutes: number;
  quick_messages: string[];
  first_in_queue_only: boolean;
  autostart: boolean;
}

/** Everything the console shows: the engine's view, and the shell's screen and settings. */
export interface AppState extends View {
  screen: Screen;
  server_url?: string;
  /** Who is signed in (or was, on the lock screen). */
  email?: string;
  settings: Settings;
  /** This computer is a registered clinic station: staff unlock and switch with a PIN.
   * Elsewhere the signed-in person's password unlocks. */
  station: boolean;
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
