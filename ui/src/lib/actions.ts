// Which buttons a visit offers, by status and by who I am. The domain crate has the last word
// (a refused action comes back as an Outcome); this only keeps the screen from offering what
// cannot fit.

import type { Me, QueueRow } from './types';

export type ActionKey =
  | 'claim'
  | 'join'
  | 'leave_call'
  | 'end_call'
  | 'transfer'
  | 'assign'
  | 'decline'
  | 'message'
  | 'priority'
  | 'accept'
  | 'accept_and_enter'
  | 'request_decline'
  | 'session_claim'
  | 'cancel'
  | 'no_show';

/** data-testid of each action's button. */
export const ACTION_TESTID: Record<ActionKey, string> = {
  claim: 'action-claim',
  join: 'action-join',
  leave_call: 'action-leave-call',
  end_call: 'action-end-call',
  transfer: 'action-transfer',
  assign: 'action-assign',
  decline: 'action-decline',
  message: 'action-message',
  priority: 'action-priority',
  accept: 'action-accept',
  accept_and_enter: 'action-accept-enter',
  request_decline: 'request-decline',
  // A session's Claim assigns it to me; it is the same button to the person using it.
  session_claim: 'action-claim',
  cancel: 'action-cancel',
  no_show: 'action-no-show',
};

const has = (me: Me | undefined, role: string) => !!me?.roles.includes(role);

/** Takes patients into calls, messages and triages them. */
export function isCare(me: Me | undefined): boolean {
  return has(me, 'admin') || has(me, 'receptionist') || has(me, 'provider');
}

export function actionsFor(row: Pick<QueueRow, 'status' | 'in_call' | 'requested_provider' | 'assigned_provider'>, me: Me | undefined): ActionKey[] {
  const care = isCare(me);
  const imIn = !!me && row.in_call.some((p) => p.id === me.id);
  switch (row.status) {
    case 'intake':
    case 'waiting':
      return care ? ['claim', 'message', 'priority', 'transfer', 'assign', 'decline'] : ['assign'];
    case 'on_hold':
      return care
        ? ['claim', 'message', 'priority', 'transfer', 'assign', 'decline', 'end_call']
        : ['assign'];
    case 'in_call':
      if (!care) return ['assign'];
      return [imIn ? 'leave_call' : 'join', 'end_call', 'message', 'priority', 'transfer', 'assign'];
    case 'requested': {
      const mine = !!me && row.requested_provider?.id === me.id;
      const answers = mine || has(me, 'admin');
      const list: ActionKey[] = answers ? ['accept', 'accept_and_enter', 'request_decline'] : [];
      if (care) list.push('message', 'priority');
      if (has(me, 'admin') || has(me, 'receptionist') || has(me, 'scheduler')) list.push('cancel');
      return list;
    }
    case 'scheduled': {
      const list: ActionKey[] = [];
      if (me && row.assigned_provider?.id !== me.id && (care || has(me, 'scheduler'))) {
        list.push('session_claim');
      }
      list.push('assign');
      if (has(me, 'admin') || has(me, 'receptionist') || has(me, 'scheduler')) list.push('cancel');
      list.push('no_show');
      return list;
    }
    default:
      return [];
  }
}

/** The `c` key and a row's Claim: a patient in a waiting area. */
export function canClaim(row: Pick<QueueRow, 'status'>): boolean {
  return row.status === 'intake' || row.status === 'waiting' || row.status === 'on_hold';
}
