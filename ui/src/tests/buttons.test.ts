// How the domain's answers become buttons (src/lib/actions.ts): presentation only. Rows are
// the engine's recorded ones, so each list below is what that person really gets.
import { describe, expect, test } from 'vitest';
import { buttonsFor, claimKey, panelButtons, rowButtons } from '../lib/actions';
import { recordedRow } from './helpers';

describe('buttons for the domain’s answers', () => {
  test('a request’s Decline is the request’s own button, on its row with Accept', () => {
    const request = recordedRow('provider', 'requested');
    expect(buttonsFor(request)).toEqual(['accept', 'accept_and_enter', 'message', 'priority', 'request_decline']);
    expect(rowButtons(request, 'request')).toEqual(['accept', 'accept_and_enter', 'request_decline']);
    expect(panelButtons(request)).toEqual(['message', 'priority']);
  });

  test('a booked session I may take shows Claim just before Assign', () => {
    const session = recordedRow('receptionist', 'scheduled');
    expect(session.takes_session).toBe(true);
    expect(buttonsFor(session)).toEqual(['take_session', 'assign', 'cancel', 'no_show']);
    expect(rowButtons(session, 'session')).toEqual(['take_session']);
    expect(claimKey(session)).toBe('take_session');
  });

  test('my own booked session offers no Claim', () => {
    const mine = recordedRow('second_provider', 'scheduled');
    expect(mine.takes_session).toBe(false);
    expect(buttonsFor(mine)).not.toContain('take_session');
    expect(claimKey(mine)).toBeNull();
  });

  test('the c key claims a waiting patient and does nothing on a call', () => {
    expect(claimKey(recordedRow('receptionist', 'waiting'))).toBe('claim');
    expect(claimKey(recordedRow('receptionist', 'in_call'))).toBeNull();
  });

  test('the patient’s own actions never become buttons', () => {
    const offer = { status: 'intake' as const, allowed: ['update_intake', 'finish_intake', 'leave', 'guest_arrive', 'claim'] as const, takes_session: false };
    expect(buttonsFor({ ...offer, allowed: [...offer.allowed] })).toEqual(['claim']);
  });
});
