import { describe, expect, test } from 'vitest';
import { clock, connectionText, historyLine, outcomeText, statusText, waitText } from '../lib/format';
import { consoleOf, roomId } from '../fixtures/engine';
import type { HistoryEntry } from '../lib/types';

const ROSA = { id: 's-rosa', name: 'Rosa Martinez' };
const LEE = { id: 's-lee', name: 'Dr Lee' };

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
    const { staff, rooms } = consoleOf('receptionist');
    const rosa = staff.find((s) => s.name === ROSA.name)!;
    const dir = { staff, rooms };
    const entry = (change: HistoryEntry['change']): HistoryEntry => ({
      version: 2,
      at: at(10, 42),
      actor: { kind: 'staff', id: rosa.id },
      change,
      status: 'in_call',
    });
    expect(historyLine(entry({ type: 'claimed', staff: rosa.id }), dir)).toBe('10:42 Claimed by Rosa Martinez, Reception');
    const to = { kind: 'room' as const, room: roomId('lee_room') };
    expect(historyLine(entry({ type: 'transferred', from_room: roomId('reception'), to, note: 'BP check' }), dir)).toBe(
      "10:42 Transferred to Dr Lee's room by Rosa Martinez, Reception — “BP check”",
    );
    // A name that carries its own brackets is not given a second pair.
    const bot = { staff: staff.map((s) => (s.id === rosa.id ? { ...s, name: 'Desk Bot (simulated)' } : s)), rooms };
    expect(historyLine(entry({ type: 'claimed', staff: rosa.id }), bot)).toBe('10:42 Claimed by Desk Bot (simulated), Reception');
    expect(clock(at(7, 3))).toBe('07:03');
  });
});
