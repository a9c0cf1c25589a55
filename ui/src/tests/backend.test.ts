// tauriBackend speaks the contract with src-tauri: these pin the command names, the argument
// names (camelCase, as Tauri maps them to the Rust parameters) and the events.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { inTauri, tauriBackend } from '../lib/backend';
import type { AppState } from '../lib/types';
import { clinicState } from './helpers';

afterEach(() => {
  clearMocks();
  delete (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__;
});

function record(result: (cmd: string) => unknown = () => clinicState()) {
  const calls: Array<{ cmd: string; args: unknown }> = [];
  mockIPC(
    (cmd, args) => {
      calls.push({ cmd, args });
      return result(cmd);
    },
    { shouldMockEvents: true },
  );
  return calls;
}

describe('tauriBackend', () => {
  test('calls each Tauri command by name with the contract arguments', async () => {
    const calls = record((cmd) =>
      cmd === 'act'
        ? { action_id: 'a-1' }
        : cmd === 'precall_check'
          ? { checks: [] }
          : cmd === 'activity'
            ? null
            : clinicState(),
    );
    const settings = clinicState().settings;

    await tauriBackend.appState();
    await tauriBackend.signIn({ server: 'https://c.test', email: 'r@c.test', password: 'pw', remember: true });
    await tauriBackend.signOut();
    await tauriBackend.visitDetails('v-1');
    expect(await tauriBackend.act('v-1', { command: 'claim' })).toEqual({ action_id: 'a-1' });
    await tauriBackend.act('v-2', { command: 'transfer', to: { kind: 'provider', provider: 's-lee', room: 'r-lee' }, note: 'x' });
    await tauriBackend.setAvailability('on_call');
    await tauriBackend.dismissOutcome('a-1');
    await tauriBackend.lock();
    await tauriBackend.unlock('1234');
    await tauriBackend.unlock('5678', 'lee@c.test');
    await tauriBackend.saveSettings(settings);
    await tauriBackend.precallCheck();
    await tauriBackend.activity();

    expect(calls.map((c) => [c.cmd, c.args])).toEqual([
      ['app_state', {}],
      ['sign_in', { server: 'https://c.test', email: 'r@c.test', password: 'pw', remember: true }],
      ['sign_out', {}],
      ['visit_details', { visitId: 'v-1' }],
      ['act', { visitId: 'v-1', command: { command: 'claim' } }],
      [
        'act',
        { visitId: 'v-2', command: { command: 'transfer', to: { kind: 'provider', provider: 's-lee', room: 'r-lee' }, note: 'x' } },
      ],
      ['set_availability', { availability: 'on_call' }],
      ['dismiss_outcome', { actionId: 'a-1' }],
      ['lock', {}],
      ['unlock', { pin: '1234' }],
      ['unlock', { pin: '5678', staffEmail: 'lee@c.test' }],
      ['save_settings', { settings }],
      ['precall_check', {}],
      ['activity', {}],
    ]);
  });

  test('a refusal arrives as {code, message}, whatever shape the shell used', async () => {
    mockIPC((cmd) => {
      if (cmd === 'sign_in') throw { code: 'unauthorized', message: 'That email and password do not match.' };
      if (cmd === 'unlock') throw 'plain text error';
      return null;
    });
    await expect(
      tauriBackend.signIn({ server: 's', email: 'e', password: 'p', remember: false }),
    ).rejects.toEqual({ code: 'unauthorized', message: 'That email and password do not match.' });
    await expect(tauriBackend.unlock('0000')).rejects.toEqual({ code: 'error', message: 'plain text error' });
  });

  test('listens to the state and focus_visit events', async () => {
    record();
    const states: AppState[] = [];
    const focused: string[] = [];
    const offState = await tauriBackend.onState((s) => states.push(s));
    const offFocus = await tauriBackend.onFocusVisit((id) => focused.push(id));

    const pushed = clinicState({ screen: 'locked' });
    await emit('state', pushed);
    await emit('focus_visit', { visit_id: 'v-9' });
    await vi.waitFor(() => expect(focused).toEqual(['v-9']));
    expect(states).toEqual([pushed]);

    offState();
    offFocus();
  });

  test('knows whether it runs inside Tauri', () => {
    expect(inTauri()).toBe(false);
    mockIPC(() => null);
    expect(inTauri()).toBe(true);
  });
});
