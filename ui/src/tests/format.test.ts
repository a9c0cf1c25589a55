import { describe, expect, test } from 'vitest';
import { actionsFor, type ActionKey } from '../lib/actions';
import { clock, connectionText, historyLine, outcomeText, statusText, waitText } from '../lib/format';
import type { HistoryEntry, Me, QueueRow, Status } from '../lib/types';
import { LEE, ROSA, row } from './fixtures';

const at = (h: number, m: number) => new Date(2026, 10, 21, h, m).getTime();

describe('words and numbers', () => {
  test('wait times read at a glance', () => {
    expect(waitText(45_000)).toBe('45s');
    expect(waitText(65_000)).toBe('1m 05s');
    expect(waitText(72 * 60_000 + 10_000)).toBe('1h 12m');
    expect(waitText(-5_000)).toBe('0s');
  });

  test('the offline banner says when the queue is from and what is waiting to send', () => {
    expect(connectionText({ state: 'offline', as_of: at(10, 42), pending: 2 })).toBe(
      'Offline — showing the queue as of 10:42, 2 actions waiting to send',
    );
    expect(connectionText({ state: 'offline', as_of: at(9, 5), pending: 1 })).toBe(
      'Offline — showing the queue as of 09:05, 1 action waiting to send',
    );
    expect(connectionText({ state: 'offline', as_of: at(9, 5), pending: 0 })).toBe(
      'Offline — showing the queue as of 09:05',
    );
    expect(connectionText({ state: 'online', pending: 0 })).toBeNull();
    expect(connectionText({ state: 'resyncing', pending: 0 })).toMatch(/catching up/);
    expect(connectionText({ state: 'connecting', pending: 0 })).toMatch(/Connecting/);
  });

  test('status badges say who is in the call and that on hold is ready for a provider', () => {
    expect(statusText({ status: 'in_call', in_call: [LEE, ROSA] })).toBe('In call with Dr Lee and Rosa Martinez');
    expect(statusText({ status: 'in_call', in_call: [LEE, ROSA] }, ROSA.id)).toBe('In call with Dr Lee and you');
    expect(statusText({ status: 'on_hold', in_call: [] })).toBe('On hold · Ready for provider');
    expect(statusText({ status: 'scheduled', in_call: [], starts_at: at(14, 30) })).toBe('Scheduled 14:30');
  });

  test('a lost race names who won', () => {
    const o = { action_id: 'a', visit_id: 'v', command: 'claim', code: 'already_claimed', message: 'x' };
    expect(outcomeText({ ...o, held_by: [LEE] })).toBe('Already claimed by Dr Lee');
    expect(outcomeText({ ...o, held_by: [] })).toBe('Already claimed by someone else');
    expect(outcomeText({ ...o, code: 'invalid_transition', message: 'cannot claim a visit that is left' })).toBe(
      'cannot claim a visit that is left',
    );
  });

  test('history lines have a time, what happened and who did it', () => {
    const dir = {
      staff: [{ ...ROSA, roles: ['receptionist'], availability: 'available' }],
      rooms: [{ id: 'r-1', name: 'Nurse triage' }],
    };
    const entry = (change: HistoryEntry['change']): HistoryEntry => ({
      version: 2,
      at: at(10, 42),
      actor: { kind: 'staff', id: ROSA.id },
      change,
      status: 'in_call',
    });
    expect(historyLine(entry({ type: 'claimed', staff: ROSA.id }), dir)).toBe('10:42 Claimed by Rosa Martinez (Reception)');
    expect(historyLine(entry({ type: 'transferred', from_room: 'r-0', to: { kind: 'room', room: 'r-1' }, note: 'BP check' }), dir)).toBe(
      '10:42 Transferred to Nurse triage by Rosa Martinez (Reception) — “BP check”',
    );
    expect(clock(at(7, 3))).toBe('07:03');
  });
});

describe('actions that fit the status', () => {
  const receptionist: Me = { id: ROSA.id, name: ROSA.name, email: 'r@c', roles: ['receptionist'], availability: 'available', rooms: [] };
  const lee: Me = { id: LEE.id, name: LEE.name, email: 'l@c', roles: ['provider'], availability: 'available', rooms: [] };

  const cases: Array<[string, Partial<QueueRow> & { status: Status }, Me, ActionKey[], ActionKey[]]> = [
    ['intake', { status: 'intake' }, receptionist, ['claim', 'message', 'priority', 'transfer', 'assign', 'decline'], ['join', 'end_call']],
    ['waiting', { status: 'waiting' }, receptionist, ['claim', 'message', 'priority', 'transfer', 'assign', 'decline'], ['join', 'leave_call']],
    ['on_hold', { status: 'on_hold' }, receptionist, ['claim', 'end_call', 'transfer', 'assign', 'decline'], ['join']],
    ['in_call, not me', { status: 'in_call', in_call: [LEE] }, receptionist, ['join', 'end_call', 'transfer', 'message'], ['claim', 'leave_call', 'decline']],
    ['in_call, me', { status: 'in_call', in_call: [ROSA] }, receptionist, ['leave_call', 'end_call'], ['claim', 'join']],
    ['requested of me', { status: 'requested', requested_provider: LEE }, lee, ['accept', 'accept_and_enter', 'request_decline'], ['claim']],
    ['requested of someone else', { status: 'requested', requested_provider: LEE }, receptionist, ['message', 'cancel'], ['accept', 'claim']],
    ['scheduled', { status: 'scheduled', assigned_provider: LEE }, lee, ['assign', 'no_show'], ['session_claim', 'claim']],
    ['scheduled for someone else', { status: 'scheduled' }, receptionist, ['session_claim', 'cancel'], ['claim']],
    ['completed', { status: 'completed' }, receptionist, [], ['claim', 'message']],
    ['declined', { status: 'declined' }, receptionist, [], ['claim']],
  ];

  test.each(cases)('%s', (_name, over, me, shown, hidden) => {
    const actions = actionsFor(row({ visit_id: 'v', patient_name: 'P', ...over }), me);
    for (const a of shown) expect(actions).toContain(a);
    for (const a of hidden) expect(actions).not.toContain(a);
  });

  test('a scheduler only books', () => {
    const scheduler: Me = { ...receptionist, roles: ['scheduler'] };
    expect(actionsFor(row({ visit_id: 'v', patient_name: 'P' }), scheduler)).toEqual(['assign']);
  });
});
