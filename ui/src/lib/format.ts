// Words and numbers as the front desk reads them: wait times, clock times, status and priority
// labels, names of staff, and one readable line per history entry.

import type {
  AppState,
  Change,
  Connection,
  HistoryEntry,
  NamedRef,
  Outcome,
  Priority,
  QueueRow,
  Room,
  StaffMember,
  Status,
  Workspace,
} from './types';

const pad = (n: number) => String(n).padStart(2, '0');

/** "10:42", local time, 24-hour. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A wait as it reads on a row: "45s", "4m 05s", "1h 12m". */
export function waitText(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

/** Spoken form for screen readers: "4 minutes 5 seconds". */
export function waitSpoken(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const part = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (h > 0) return `${part(h, 'hour')} ${part(m, 'minute')}`;
  if (m > 0) return `${part(m, 'minute')} ${part(s, 'second')}`;
  return part(s, 'second');
}

/** How long is long: rows get heavier, and say so in text, as waits grow. */
export function waitLevel(ms: number): 'ok' | 'long' | 'very-long' {
  const min = ms / 60_000;
  if (min >= 20) return 'very-long';
  if (min >= 10) return 'long';
  return 'ok';
}

export const STATUS_LABEL: Record<Status, string> = {
  scheduled: 'Scheduled',
  requested: 'Requested',
  intake: 'Intake',
  waiting: 'Waiting',
  in_call: 'In call',
  on_hold: 'On hold',
  completed: 'Completed',
  declined: 'Declined',
  left: 'Left',
  no_show: 'No-show',
  cancelled: 'Cancelled',
};

export const PRIORITY_LABEL: Record<Priority, string> = {
  routine: 'Routine',
  urgent: 'Urgent',
  emergency: 'Emergency',
};

export const AVAILABILITY_LABEL: Record<string, string> = {
  available: 'Available',
  on_call: 'On call',
  busy: 'Busy',
  away: 'Away',
  unavailable: 'Unavailable',
};

/**
 * The workspaces the console has a screen for, by the name its button shows. The header lists
 * those of `me.workspaces` (the domain's answer for this person) found here, in that order.
 */
export const WORKSPACE_LABEL: Partial<Record<Workspace, string>> = {
  queue: 'Queue',
  calendar: 'Calendar',
  admin: 'Admin',
  reports: 'Reports',
};

/** What a provider is doing now, on the providers board. */
export const PROVIDER_NOW_LABEL: Record<string, string> = {
  in_call: 'In a call',
  available: 'Available',
  on_call: 'On call',
  busy: 'Busy',
  away: 'Away',
  unavailable: 'Unavailable',
};

export const COMMAND_LABEL: Record<string, string> = {
  claim: 'Claim',
  join: 'Join',
  leave_call: 'Leave call',
  end_call: 'End call',
  transfer: 'Transfer',
  assign: 'Assign',
  decline: 'Decline',
  message: 'Message',
  set_priority: 'Set priority',
  accept: 'Accept',
  accept_and_enter: 'Accept and enter',
  cancel: 'Cancel',
  mark_no_show: 'Mark no-show',
  reschedule: 'Reschedule',
};

/** What is pending on a row, as a marker: "Sending claim…". */
export function pendingText(row: QueueRow): string | null {
  if (row.pending.length === 0) return null;
  const names = row.pending.map((p) => (COMMAND_LABEL[p.command] ?? p.command).toLowerCase());
  return `Sending ${[...new Set(names)].join(', ')}…`;
}

/** "Dr Lee", "Dr Lee and Sam", "Dr Lee, Sam and Ana". */
export function names(people: { name: string }[]): string {
  const list = people.map((p) => p.name);
  if (list.length <= 1) return list[0] ?? '';
  return `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}

/** The badge text for a row's status: "In call with Dr Lee", "On hold · Ready for provider". */
export function statusText(row: Pick<QueueRow, 'status' | 'in_call' | 'starts_at'>, meId?: string): string {
  switch (row.status) {
    case 'in_call': {
      const people = row.in_call.map((p) => (p.id === meId ? { name: 'you' } : p));
      return people.length ? `In call with ${names(people)}` : 'In call';
    }
    case 'on_hold':
      return 'On hold · Ready for provider';
    case 'scheduled':
      return row.starts_at ? `Scheduled ${clock(row.starts_at)}` : 'Scheduled';
    default:
      return STATUS_LABEL[row.status] ?? row.status;
  }
}

/** The words of a rejected action: "Already claimed by Dr Lee". */
export function outcomeText(outcome: Outcome): string {
  if (outcome.code === 'already_claimed') {
    const who = outcome.held_by?.length ? names(outcome.held_by) : 'someone else';
    return `Already claimed by ${who}`;
  }
  return outcome.message || `${COMMAND_LABEL[outcome.command] ?? outcome.command} was refused`;
}

/** The connection banner's sentence, or null when there is nothing to say (online, all sent). */
export function connectionText(c: Connection): string | null {
  const actions = (n: number) => `${n} action${n === 1 ? '' : 's'}`;
  switch (c.state) {
    case 'offline': {
      const asOf = c.as_of ?? c.since;
      let text = asOf
        ? `Offline — showing the queue as of ${clock(asOf)}`
        : 'Offline — showing the last queue this computer saw';
      if (c.pending > 0) text += `, ${actions(c.pending)} waiting to send`;
      return text;
    }
    case 'connecting':
      return c.pending > 0
        ? `Connecting to the clinic server… ${actions(c.pending)} waiting to send`
        : 'Connecting to the clinic server…';
    case 'resyncing':
      return c.pending > 0
        ? `Back online — catching up with changes, ${actions(c.pending)} waiting to send`
        : 'Back online — catching up with changes…';
    case 'online':
      return c.pending > 0 ? `Sending ${actions(c.pending)}…` : null;
    case 'signed_out':
      // The server stopped accepting this console's sign-in; the shell asks for it again.
      return c.pending > 0
        ? `Signed out by the clinic server — sign in again, ${actions(c.pending)} waiting to send`
        : 'Signed out by the clinic server — sign in again';
  }
}

const ROLE_LABEL: Record<string, string> = {
  receptionist: 'Reception',
  provider: 'Provider',
  admin: 'Admin',
  scheduler: 'Scheduling',
};

export function roleText(roles: string[]): string {
  const order = ['provider', 'receptionist', 'admin', 'scheduler'];
  const first = order.find((r) => roles.includes(r));
  return first ? ROLE_LABEL[first] : '';
}

/** Looks up people and rooms by id for history lines. */
export interface Directory {
  staff: StaffMember[];
  rooms: Room[];
  me?: NamedRef;
}

export function directoryOf(state: AppState): Directory {
  return {
    staff: state.staff,
    rooms: state.rooms,
    me: state.me ? { id: state.me.id, name: state.me.name } : undefined,
  };
}

export function staffName(dir: Directory, id: string, withRole = false): string {
  const member = dir.staff.find((s) => s.id === id);
  const name = member?.name ?? (dir.me?.id === id ? dir.me.name : 'a colleague');
  if (!withRole || !member) return name;
  const role = roleText(member.roles);
  // The role after a comma, never in brackets: a name may carry its own ("Desk Bot (simulated)").
  return role ? `${name}, ${role}` : name;
}

export function roomName(dir: Directory, id: string): string {
  return dir.rooms.find((r) => r.id === id)?.name ?? 'another room';
}

function by(entry: HistoryEntry, dir: Directory): string {
  switch (entry.actor.kind) {
    case 'staff':
      return staffName(dir, entry.actor.id, true);
    case 'patient':
      return 'the patient';
    case 'system':
      return 'the clinic';
  }
}

const withNote = (text: string, note?: string | null) => (note ? `${text} — “${note}”` : text);

/** One history entry as a sentence without its time: "Claimed by Rosa, Reception". */
export function historyText(entry: HistoryEntry, dir: Directory): string {
  const c: Change = entry.change;
  const who = by(entry, dir);
  switch (c.type) {
    case 'opened':
      if (c.status === 'requested' && c.requested_provider)
        return `Requested a session with ${staffName(dir, c.requested_provider)}`;
      if (c.status === 'scheduled')
        return c.booking ? `Session booked for ${clock(c.booking.starts_at)}` : 'Session booked';
      return `Arrived in ${roomName(dir, c.room_id)}${c.after_hours ? ' (after hours)' : ''}`;
    case 'intake_updated':
      return 'Intake answers updated';
    case 'intake_finished':
      return 'Finished the intake form';
    case 'guest_arrived':
      return 'A guest joined';
    case 'patient_left':
      return 'Patient left the waiting room';
    case 'claimed':
      return `Claimed by ${staffName(dir, c.staff, true)}`;
    case 'joined':
      return `${staffName(dir, c.staff, true)} joined the call`;
    case 'left_call':
      return `${staffName(dir, c.staff, true)} left the call`;
    case 'put_on_hold':
      return 'On hold — ready for provider';
    case 'call_ended':
      return `Call ended by ${who}`;
    case 'transferred': {
      const to =
        c.to.kind === 'provider'
          ? `${staffName(dir, c.to.provider)} (${roomName(dir, c.to.room)})`
          : roomName(dir, c.to.room);
      return withNote(`Transferred to ${to} by ${who}`, c.note);
    }
    case 'assigned':
      return withNote(`Assigned to ${staffName(dir, c.provider)} by ${who}`, c.note);
    case 'declined':
      return c.automatic
        ? withNote('Declined automatically (provider unavailable)', c.note)
        : withNote(`Declined by ${who}`, c.note);
    case 'messaged':
      return `Message sent by ${who}`;
    case 'priority_changed':
      return withNote(`Priority set to ${PRIORITY_LABEL[c.priority]} by ${who}`, c.note);
    case 'request_accepted':
      return `Request accepted by ${staffName(dir, c.provider)}${c.enter ? ', who entered the call' : ''}`;
    case 'cancelled':
      return withNote(`Cancelled by ${who}`, c.note);
    case 'marked_no_show':
      return `Marked as no-show by ${who}`;
    case 'rescheduled':
      return `Moved to ${clock(c.starts_at)} (${c.duration_mins} min) by ${who}`;
    default:
      return String((c as { type?: string }).type ?? 'Changed').replaceAll('_', ' ');
  }
}

export function historyLine(entry: HistoryEntry, dir: Directory): string {
  return `${clock(entry.at)} ${historyText(entry, dir)}`;
}

/** Intake question keys as a heading: "reason_for_visit" → "Reason for visit". */
export function questionText(key: string): string {
  const words = key.replaceAll('_', ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
