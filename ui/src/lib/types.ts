// The shapes that cross the Tauri bridge, generated from the Rust types of the domain, the
// clinic API, the console's engine and the console itself (./generated/wire.ts, by
// tests/tests/ui_types.rs) and only re-exported here, under the names the screens use. Only
// the sign-in form's own argument bundle is written here.

import type {
  Check,
  ConnectionView,
  MeView,
  PendingView,
  Priority,
  RoomInfo,
  StaffInfo,
  StaffRef,
  UiError,
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

// ---- The shell's own names ----

export type PrecallCheck = Check;
/** How a Tauri command refuses: the UI switches on `code` and shows `message`. */
export type BackendError = UiError;

/** What the sign-in form hands the backend (the `sign_in` command's arguments). */
export interface SignInRequest {
  server: string;
  email: string;
  password: string;
  remember: boolean;
}
