// How the actions the domain allows look on screen: a label, a test id, where each button sits.
// Which actions a visit offers is never decided here: a row carries `allowed` (what I may do
// now, in the order to offer them) and `takes_session` (a booked session I may take as mine),
// both answered by crates/domain; this module only turns them into buttons.

import type { CommandKind, QueueRow } from './types';

/** A button the console draws. Most are one command kind; a few are a kind in a setting. */
export type ButtonKey =
  | 'claim'
  /** Claim a patient assigned to another provider: asked for with a confirm, recorded as a takeover. */
  | 'take_over'
  /** A booked session's Claim: assigns the session to me. */
  | 'take_session'
  | 'join'
  | 'leave_call'
  | 'accept'
  | 'accept_and_enter'
  | 'message'
  | 'priority'
  | 'transfer'
  | 'assign'
  | 'decline'
  /** A request's Decline: the provider asked says no. */
  | 'request_decline'
  | 'end_call'
  | 'cancel'
  | 'no_show'
  /** Opens the session in the Calendar, to move it there. */
  | 'reschedule';

export interface ButtonLook {
  label: string;
  /** data-testid in the details panel (and on a row, unless `rowTestid` says otherwise). */
  testid: string;
  rowTestid?: string;
  /** The command it sends at once: the button shows as busy while that is being sent. */
  busyOn?: CommandKind;
  hint?: string;
  tone?: 'primary' | 'danger';
}

export const BUTTONS: Record<ButtonKey, ButtonLook> = {
  claim: { label: 'Claim', testid: 'action-claim', busyOn: 'claim', hint: 'Take the patient into a call', tone: 'primary' },
  take_over: {
    label: 'Take over…',
    testid: 'action-take-over',
    busyOn: 'take_over',
    hint: 'Assigned to another provider: take the patient over',
    tone: 'primary',
  },
  // The same Claim to the person using it; on a session's row it keeps its own test id.
  take_session: {
    label: 'Claim',
    testid: 'action-claim',
    rowTestid: 'session-claim',
    busyOn: 'assign',
    hint: 'Assign this session to me',
    tone: 'primary',
  },
  join: { label: 'Join call', testid: 'action-join', busyOn: 'join', tone: 'primary' },
  leave_call: { label: 'Leave call', testid: 'action-leave-call', busyOn: 'leave_call', hint: 'Patient goes on hold' },
  accept: { label: 'Accept', testid: 'action-accept', busyOn: 'accept', tone: 'primary' },
  accept_and_enter: { label: 'Accept and enter', testid: 'action-accept-enter', busyOn: 'accept_and_enter' },
  message: { label: 'Message', testid: 'action-message' },
  priority: { label: 'Priority…', testid: 'action-priority' },
  transfer: { label: 'Transfer…', testid: 'action-transfer' },
  assign: { label: 'Assign…', testid: 'action-assign' },
  decline: { label: 'Decline…', testid: 'action-decline', tone: 'danger' },
  request_decline: { label: 'Decline…', testid: 'request-decline', busyOn: 'decline', tone: 'danger' },
  end_call: { label: 'End call…', testid: 'action-end-call', busyOn: 'end_call', tone: 'danger' },
  cancel: { label: 'Cancel session…', testid: 'action-cancel', tone: 'danger' },
  no_show: { label: 'Mark no-show', testid: 'action-no-show', busyOn: 'mark_no_show' },
  reschedule: { label: 'Reschedule…', testid: 'action-reschedule', hint: 'Move this session in the Calendar' },
};

/** The button for each kind staff may be offered; the patient's own kinds have none. */
const BUTTON_OF: Partial<Record<CommandKind, ButtonKey>> = {
  claim: 'claim',
  take_over: 'take_over',
  join: 'join',
  leave_call: 'leave_call',
  accept: 'accept',
  accept_and_enter: 'accept_and_enter',
  message: 'message',
  set_priority: 'priority',
  transfer: 'transfer',
  assign: 'assign',
  decline: 'decline',
  end_call: 'end_call',
  cancel: 'cancel',
  mark_no_show: 'no_show',
  reschedule: 'reschedule',
};

/** A button's words for this row: the domain lets staff end an on-hold visit (no call is going
 * on), which the button then calls finishing the visit. */
export function buttonLabel(key: ButtonKey, row: Pick<QueueRow, 'status'>): string {
  if (key === 'end_call' && row.status === 'on_hold') return 'Finish visit…';
  return BUTTONS[key].label;
}

/** A request's answers sit on its row, so each exists once on screen. */
const REQUEST_ANSWERS: ReadonlySet<ButtonKey> = new Set(['accept', 'accept_and_enter', 'request_decline']);

type Offer = Pick<QueueRow, 'status' | 'allowed' | 'takes_session'>;

/** Every button the domain's answer for this row calls for, in the order it gave. */
export function buttonsFor(row: Offer): ButtonKey[] {
  const keys: ButtonKey[] = [];
  for (const kind of row.allowed) {
    const key = BUTTON_OF[kind];
    if (!key) continue;
    // Declining a request answers it; declining a waiting patient turns them away.
    if (key === 'decline' && row.status === 'requested') keys.push('request_decline');
    else {
      // Taking a booked session is an assignment to me: it goes just before Assign.
      if (key === 'assign' && row.takes_session) keys.push('take_session');
      keys.push(key);
    }
  }
  return keys;
}

/** The buttons of the details panel: all but a request's answers, which live on its row. */
export function panelButtons(row: Offer): ButtonKey[] {
  return buttonsFor(row).filter((k) => !REQUEST_ANSWERS.has(k));
}

/** The buttons on a row: a request's answers, and a booked session's Claim. */
export function rowButtons(row: Offer, list: 'queue' | 'request' | 'session'): ButtonKey[] {
  const all = buttonsFor(row);
  if (list === 'request') return all.filter((k) => REQUEST_ANSWERS.has(k));
  if (list === 'session') return all.filter((k) => k === 'take_session');
  return [];
}

/** What the `c` key does on this row: claim the patient (ask to take them over when they are
 * assigned to someone else), or take the session as mine. */
export function claimKey(row: Offer): ButtonKey | null {
  if (row.allowed.includes('claim')) return 'claim';
  if (row.allowed.includes('take_over')) return 'take_over';
  if (row.takes_session) return 'take_session';
  return null;
}
