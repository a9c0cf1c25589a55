// Around the queue: the lock screen, sign-in, the keys, clicked alerts, the details panel,
// availability, settings and the pre-call check.
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { consoleOf, roomId } from '../fixtures/engine';
import { BASE, LEE, ROSA, actCommands, renderConsole, row } from './helpers';

afterEach(() => {
  vi.useRealTimers();
});

const rows = () => screen.getAllByTestId('queue-row');
const names = () => rows().map((r) => within(r).getByTestId('row-name').textContent);

async function select(visitId: string) {
  const r = rows().find((el) => el.dataset.visitId === visitId)!;
  await fireEvent.click(r);
  return screen.findByTestId('details');
}

describe('the lock screen', () => {
  const queue = [
    row({ visit_id: 'v-1', patient_name: 'Maria Gonzalez', triage_note: 'Chest pain' }),
    row({ visit_id: 'v-2', patient_name: 'Tom Becker' }),
  ];

  test('shows no patient at all', async () => {
    await renderConsole({
      screen: 'locked',
      queue,
      requests: [row({ visit_id: 'v-3', patient_name: 'Grace Kim', status: 'requested' })],
      outcomes: [{ action_id: 'a', visit_id: 'v-1', command: 'claim', code: 'already_claimed', message: 'm', held_by: [LEE] }],
    });
    const text = document.body.textContent ?? '';
    expect(screen.getByTestId('lock-screen')).toBeTruthy();
    expect(text).toContain('Harbour Street Clinic');
    for (const n of ['Maria', 'Gonzalez', 'Tom Becker', 'Grace Kim', 'Chest pain']) expect(text).not.toContain(n);
    expect(screen.queryByTestId('queue-row')).toBeNull();
    expect(screen.queryByTestId('outcome')).toBeNull();
  });

  test('locking hides the queue; a wrong PIN says so; the right PIN brings it back', async () => {
    const { backend } = await renderConsole({ queue });
    await select('v-1');
    await fireEvent.click(screen.getByTestId('lock'));
    await screen.findByTestId('lock-screen');
    expect(document.body.textContent).not.toContain('Maria');

    await fireEvent.input(screen.getByTestId('lock-pin'), { target: { value: '0000' } });
    await fireEvent.click(screen.getByTestId('lock-submit'));
    expect((await screen.findByTestId('lock-error')).textContent).toContain('PIN is not right');

    await fireEvent.input(screen.getByTestId('lock-pin'), { target: { value: '1234' } });
    await fireEvent.click(screen.getByTestId('lock-submit'));
    await screen.findAllByTestId('queue-row');
    expect(backend.callsTo('unlock').map((c) => c.args)).toEqual([{ pin: '0000' }, { pin: '1234' }]);
    // The selection did not survive the lock.
    expect(screen.queryByTestId('details')).toBeNull();
  });

  test('a computer that is not a clinic station asks for the password, and cannot switch user', async () => {
    const { backend } = await renderConsole({ screen: 'locked', station: false });
    const card = screen.getByTestId('lock-screen');
    expect(card.textContent).toContain('Password');
    expect(card.textContent).not.toContain('PIN');
    expect(screen.queryByTestId('lock-switch-user')).toBeNull();
    await fireEvent.input(screen.getByTestId('lock-pin'), { target: { value: 'my password' } });
    await fireEvent.click(screen.getByTestId('lock-submit'));
    expect(backend.callsTo('unlock')[0].args).toEqual({ pin: 'my password' });
  });

  test('switch user sends the other person’s email with their PIN', async () => {
    const { backend } = await renderConsole({ screen: 'locked' });
    await fireEvent.click(screen.getByTestId('lock-switch-user'));
    await fireEvent.input(screen.getByTestId('lock-email'), { target: { value: 'lee@clinic.test' } });
    await fireEvent.input(screen.getByTestId('lock-pin'), { target: { value: '1234' } });
    await fireEvent.click(screen.getByTestId('lock-submit'));
    await screen.findByTestId('clinic-name');
    expect(backend.callsTo('unlock')[0].args).toEqual({ pin: '1234', staffEmail: 'lee@clinic.test' });
  });

  test('a lock pushed by the shell (idle) takes the queue off screen', async () => {
    const { backend } = await renderConsole({ queue });
    backend.update((s) => {
      s.screen = 'locked';
    });
    await screen.findByTestId('lock-screen');
    expect(document.body.textContent).not.toContain('Tom Becker');
  });
});

describe('keys', () => {
  const queue = [
    row({ visit_id: 'v-1', patient_name: 'One' }),
    row({ visit_id: 'v-2', patient_name: 'Two' }),
    row({ visit_id: 'v-3', patient_name: 'Three' }),
  ];
  const key = (k: string) => fireEvent.keyDown(document.activeElement ?? document.body, { key: k });
  const selected = () => rows().findIndex((r) => r.getAttribute('aria-selected') === 'true');

  test('arrows and j/k move the selection; c claims the selected patient', async () => {
    const { backend } = await renderConsole({ queue });
    await key('ArrowDown');
    expect(selected()).toBe(0);
    await key('j');
    await key('ArrowDown');
    expect(selected()).toBe(2);
    await key('ArrowDown');
    expect(selected()).toBe(2);
    await key('k');
    expect(selected()).toBe(1);
    expect(document.activeElement).toBe(rows()[1]);
    expect(screen.getByTestId('details-name').textContent).toBe('Two');

    await key('c');
    expect(actCommands(backend)).toEqual([{ visitId: 'v-2', command: { command: 'claim' } }]);
  });

  test('Enter opens the details, m focuses the message box, Esc closes a dialog', async () => {
    const { backend } = await renderConsole({ queue });
    await key('ArrowDown');
    await key('Enter');
    expect(document.activeElement).toBe(screen.getByTestId('details-name'));
    await key('m');
    expect(document.activeElement).toBe(screen.getByTestId('message-input'));
    // Typing in the box is typing, not shortcuts.
    await key('c');
    expect(actCommands(backend)).toEqual([]);

    await fireEvent.click(screen.getByTestId('action-decline'));
    const dialog = await screen.findByRole('dialog');
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  test('c does nothing for a patient already in a call', async () => {
    const { backend } = await renderConsole({
      queue: [row({ visit_id: 'v-1', patient_name: 'One', status: 'in_call', in_call: [LEE] })],
    });
    await key('ArrowDown');
    await key('c');
    expect(actCommands(backend)).toEqual([]);
  });
});

describe('around the queue', () => {
  test('a clicked desktop alert for a request opens the requests list with it selected', async () => {
    const { backend } = await renderConsole({
      queue: [row({ visit_id: 'v-1', patient_name: 'One' })],
      requests: [row({ visit_id: 'v-r', patient_name: 'Asked For Lee', status: 'requested', requested_provider: LEE })],
    });
    backend.focusVisit('v-r');
    await waitFor(() => expect(screen.getByTestId('details-name').textContent).toBe('Asked For Lee'));
    expect(screen.getByTestId('tab-requests').getAttribute('aria-selected')).toBe('true');
    expect(screen.getByTestId('request-row').getAttribute('aria-selected')).toBe('true');
  });

  test('a clicked desktop alert selects that visit', async () => {
    const { backend } = await renderConsole({
      queue: [row({ visit_id: 'v-1', patient_name: 'One' }), row({ visit_id: 'v-2', patient_name: 'Two' })],
    });
    backend.focusVisit('v-2');
    await waitFor(() => expect(screen.getByTestId('details-name').textContent).toBe('Two'));
  });

  test('details show intake, contact, history and messages, and refetch when the version moves', async () => {
    const t = new Date(2026, 10, 21, 10, 42).getTime();
    const visit = {
      id: 'v-1',
      clinic_id: 'c-1',
      room_id: roomId('reception'),
      status: 'waiting' as const,
      priority: 'routine' as const,
      patient: { name: 'Ana', contact: { phone: '+15555550100', email: 'ana@example.org' } },
      intake: { reason_for_visit: 'Sore throat' },
      intake_finished: true,
      created_at: t,
      arrived_at: t,
      in_call: [],
      seen_by: [ROSA.id],
      messages: [{ at: t, from: ROSA.id, text: 'We are running 5 minutes late' }],
      after_hours: false,
      version: 2,
      updated_at: t,
      history: [
        { version: 2, at: t, actor: { kind: 'staff' as const, id: ROSA.id }, change: { type: 'claimed' as const, staff: ROSA.id }, status: 'in_call' as const },
      ],
    };
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana', version: 2 })] }, { details: { 'v-1': visit } });
    const details = await select('v-1');
    expect((await within(details).findByTestId('details-intake')).textContent).toContain('Sore throat');
    expect(within(details).getByTestId('details-contact').textContent).toContain('ana@example.org');
    expect(within(details).getByTestId('details-history').textContent).toContain('10:42 Claimed by Rosa Martinez, Reception');
    expect(within(details).getByTestId('details-messages').textContent).toContain('We are running 5 minutes late');
    expect(backend.callsTo('visit_details')).toHaveLength(1);

    // A push that does not touch this visit's version does not refetch it.
    backend.update((s) => {
      s.connection.pending = 1;
      s.queue[0].triage_note = 'Sore throat, 3 days';
    });
    await waitFor(() => expect(within(details).getByTestId('details-triage').textContent).toContain('3 days'));
    expect(backend.callsTo('visit_details')).toHaveLength(1);

    backend.update((s) => {
      s.queue[0].version = 3;
    });
    await waitFor(() => expect(backend.callsTo('visit_details')).toHaveLength(2));
  });

  test('what is being typed survives live updates', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana', waiting_since: Date.now() })] });
    await select('v-1');
    const input = screen.getByTestId('message-input') as HTMLTextAreaElement;
    await fireEvent.input(input, { target: { value: 'Half a sent' } });
    backend.update((s) => {
      s.queue[0].version = 2;
      s.queue = [row({ visit_id: 'v-0', patient_name: 'New arrival' }), ...s.queue];
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    await waitFor(() => expect(backend.callsTo('visit_details')).toHaveLength(2));
    expect((screen.getByTestId('message-input') as HTMLTextAreaElement).value).toBe('Half a sent');
  });

  test('moving on with the keys after Enter and m keeps focus on the rows', async () => {
    await renderConsole({
      queue: [row({ visit_id: 'v-1', patient_name: 'One' }), row({ visit_id: 'v-2', patient_name: 'Two' })],
    });
    await fireEvent.keyDown(document.body, { key: 'ArrowDown' });
    await fireEvent.keyDown(document.activeElement!, { key: 'Enter' });
    await fireEvent.keyDown(document.activeElement!, { key: 'm' });
    expect(document.activeElement).toBe(screen.getByTestId('message-input'));
    await fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    await fireEvent.keyDown(document.body, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(rows()[1]);
    expect(screen.getByTestId('details-name').textContent).toBe('Two');
  });

  test('availability: available/unavailable for reception, on call for providers', async () => {
    const { backend } = await renderConsole();
    const select = screen.getByTestId('availability') as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(['available', 'unavailable']);
    await fireEvent.change(select, { target: { value: 'unavailable' } });
    expect(backend.callsTo('set_availability')[0].args).toEqual({ availability: 'unavailable' });
    await waitFor(() => expect((screen.getByTestId('availability') as HTMLSelectElement).value).toBe('unavailable'));
  });

  test('providers can be on call', async () => {
    const lee = consoleOf('provider').me!;
    await renderConsole({ me: { ...lee, availability: 'on_call' } });
    const select = screen.getByTestId('availability') as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toContain('on_call');
    expect(select.value).toBe('on_call');
  });

  test('reports activity to the shell at most every 15 seconds', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(BASE);
    const { backend } = await renderConsole();
    await fireEvent.mouseMove(document.body);
    await fireEvent.keyDown(document.body, { key: 'x' });
    await fireEvent.click(document.body);
    expect(backend.callsTo('activity')).toHaveLength(1);
    vi.setSystemTime(BASE + 15_000);
    await fireEvent.mouseMove(document.body);
    expect(backend.callsTo('activity')).toHaveLength(2);
  });

  test('settings: edit quick messages, the lock delay and unavailable-when-locked, then save', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] });
    await fireEvent.click(screen.getByTestId('open-settings'));
    await screen.findByTestId('settings-dialog');
    await fireEvent.click(screen.getByTestId('settings-add-quick-message'));
    const inputs = screen.getAllByTestId('settings-quick-message');
    await fireEvent.input(inputs[inputs.length - 1], { target: { value: 'The doctor is on the way' } });
    await fireEvent.input(screen.getByTestId('settings-lock-after'), { target: { value: '10' } });
    await fireEvent.click(screen.getByTestId('settings-sound'));
    const away = screen.getByTestId('settings-unavailable-when-locked') as HTMLInputElement;
    expect(away.checked).toBe(false);
    await fireEvent.click(away);
    await fireEvent.click(screen.getByTestId('dialog-confirm'));
    await waitFor(() => expect(screen.queryByTestId('settings-dialog')).toBeNull());
    const saved = backend.callsTo('save_settings')[0].args!.settings as Record<string, unknown>;
    expect(saved.lock_after_minutes).toBe(10);
    expect(saved.unavailable_when_locked).toBe(true);
    expect(saved.sound).toBe(false);
    expect(saved.quick_messages).toContain('The doctor is on the way');
    expect(saved.quick_messages).toContain('We are running 5 minutes late');
    await select('v-1');
    expect(screen.getAllByTestId('quick-message').map((c) => c.textContent)).toContain('The doctor is on the way');
  });

  test('pre-call check lists each check with ok or problem', async () => {
    await renderConsole();
    await fireEvent.click(screen.getByTestId('open-precall'));
    const checks = await screen.findAllByTestId('precall-check');
    expect(checks.map((c) => c.dataset.ok)).toEqual(['true', 'true', 'true', 'true', 'false']);
    expect(checks[4].textContent).toContain('Problem');
    expect(checks[4].textContent).toContain('No camera found');
  });
});

describe('sign in', () => {
  test('shows the error inline and keeps the form usable', async () => {
    const { backend } = await renderConsole({ screen: 'sign_in', me: undefined, server_url: undefined });
    await fireEvent.input(screen.getByTestId('signin-server'), { target: { value: 'https://clinic.test' } });
    await fireEvent.input(screen.getByTestId('signin-email'), { target: { value: 'rosa@clinic.test' } });
    await fireEvent.input(screen.getByTestId('signin-password'), { target: { value: 'wrong' } });
    await fireEvent.click(screen.getByTestId('signin-remember'));
    await fireEvent.click(screen.getByTestId('signin-submit'));
    expect((await screen.findByTestId('signin-error')).textContent).toContain('do not match');
    expect(backend.callsTo('sign_in')[0].args).toEqual({
      server: 'https://clinic.test',
      email: 'rosa@clinic.test',
      password: 'wrong',
      remember: true,
    });

    await fireEvent.input(screen.getByTestId('signin-password'), { target: { value: 'right' } });
    await fireEvent.click(screen.getByTestId('signin-submit'));
    await screen.findByTestId('clinic-name');
  });

  test('after the server ended the session it says why, with the email filled in', async () => {
    await renderConsole({
      screen: 'sign_in',
      me: undefined,
      email: 'rosa@clinic.test',
      session_ended: 'Your session ended: you were signed out elsewhere. Sign in again.',
    });
    expect(screen.getByTestId('signin-session-ended').textContent).toContain('signed out elsewhere');
    expect((screen.getByTestId('signin-email') as HTMLInputElement).value).toBe('rosa@clinic.test');
  });

  test('the button is disabled while signing in', async () => {
    let release: () => void = () => {};
    const { backend } = await renderConsole({ screen: 'sign_in', me: undefined });
    const original = backend.signIn;
    backend.signIn = (req) =>
      new Promise((resolve) => {
        release = () => resolve(original(req));
      });
    await fireEvent.input(screen.getByTestId('signin-server'), { target: { value: 'https://clinic.test' } });
    await fireEvent.input(screen.getByTestId('signin-email'), { target: { value: 'rosa@clinic.test' } });
    await fireEvent.input(screen.getByTestId('signin-password'), { target: { value: 'pw' } });
    await fireEvent.click(screen.getByTestId('signin-submit'));
    await waitFor(() => expect(screen.getByTestId('signin-submit').textContent).toContain('Signing in'));
    expect((screen.getByTestId('signin-password') as HTMLInputElement).closest('fieldset')!.disabled).toBe(true);
    release();
    await screen.findByTestId('clinic-name');
  });
});
