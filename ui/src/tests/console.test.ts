// The console as the front desk uses it, on the mock backend: the queue, the actions per
// status, confirmations, outcomes, the banner, the lock screen and the keys.
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { ACTION_TESTID, type ActionKey } from '../lib/actions';
import type { Command, Status } from '../lib/types';
import { BASE, LEE, MIN, ROSA, clinicState, renderConsole, row } from './fixtures';

afterEach(() => {
  vi.useRealTimers();
});

const rows = () => screen.getAllByTestId('queue-row');
const names = () => rows().map((r) => within(r).getByTestId('row-name').textContent);
const actCommands = (backend: { callsTo(cmd: string): Array<{ args?: Record<string, unknown> }> }) =>
  backend.callsTo('act').map((c) => c.args as { visitId: string; command: Command });

async function select(visitId: string) {
  const r = rows().find((el) => el.dataset.visitId === visitId)!;
  await fireEvent.click(r);
  return screen.findByTestId('details');
}

describe('the queue', () => {
  test('shows rows in the order given, with a live wait that ticks without refetching', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(BASE);
    const { backend } = await renderWithFakeTimers({
      now: BASE,
      queue: [
        row({ visit_id: 'v-b', patient_name: 'Bo Emergency', priority: 'emergency', waiting_since: BASE - 65_000 }),
        row({ visit_id: 'v-a', patient_name: 'Ana Longest', waiting_since: BASE - 30 * MIN }),
        row({ visit_id: 'v-c', patient_name: 'Cy In Call', status: 'in_call', in_call: [LEE] }),
      ],
    });

    // Not re-sorted by wait: the engine's order stands.
    expect(names()).toEqual(['Bo Emergency', 'Ana Longest', 'Cy In Call']);
    const waitOf = (i: number) => within(rows()[i]).getByTestId('row-wait').textContent;
    expect(waitOf(0)).toContain('1m 05s');
    expect(waitOf(1)).toContain('30m 00s');
    expect(within(rows()[0]).getByTestId('priority-badge').textContent).toMatch(/EMERGENCY/);
    expect(within(rows()[2]).getByTestId('status-badge').textContent).toContain('In call with Dr Lee');

    await vi.advanceTimersByTimeAsync(60_000);
    expect(waitOf(0)).toContain('2m 05s');
    expect(waitOf(1)).toContain('31m 00s');
    expect(backend.callsTo('app_state')).toHaveLength(1);
    expect(backend.callsTo('visit_details')).toHaveLength(0);
  });

  test('measures waits on the server clock, not this computer’s', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(BASE);
    // The server is 10 s ahead of this machine.
    await renderWithFakeTimers({
      now: BASE + 10_000,
      queue: [row({ visit_id: 'v-1', patient_name: 'Ana', waiting_since: BASE + 10_000 - 65_000 })],
    });
    expect(within(rows()[0]).getByTestId('row-wait').textContent).toContain('1m 05s');
  });

  test('keeps its order and selection when the engine pushes a new state', async () => {
    const { backend } = await renderConsole({
      queue: [row({ visit_id: 'v-1', patient_name: 'One' }), row({ visit_id: 'v-2', patient_name: 'Two' })],
    });
    await select('v-2');
    backend.update((s) => {
      s.queue = [row({ visit_id: 'v-3', patient_name: 'Three', priority: 'urgent' }), ...s.queue];
    });
    await waitFor(() => expect(names()).toEqual(['Three', 'One', 'Two']));
    expect(rows()[2].getAttribute('aria-selected')).toBe('true');
    expect(screen.getByTestId('details-name').textContent).toBe('Two');
  });

  test('filters by room', async () => {
    await renderConsole({
      queue: [
        row({ visit_id: 'v-1', patient_name: 'At reception' }),
        row({ visit_id: 'v-2', patient_name: 'With Dr Lee', room_id: 'r-lee', room_name: "Dr Lee's room" }),
      ],
    });
    const filter = screen.getByTestId('room-filter') as HTMLSelectElement;
    expect([...filter.options].map((o) => o.textContent)).toEqual(['All my rooms (2)', 'Reception (1)', "Dr Lee's room (1)"]);
    await fireEvent.change(filter, { target: { value: 'r-lee' } });
    expect(names()).toEqual(['With Dr Lee']);
    await fireEvent.change(filter, { target: { value: 'all' } });
    expect(names()).toEqual(['At reception', 'With Dr Lee']);
  });

  test('shows my unconfirmed actions as sending, never as done', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] });
    await select('v-1');
    await fireEvent.click(screen.getByTestId('action-claim'));
    const marker = await within(rows()[0]).findByTestId('row-pending');
    expect(marker.textContent).toContain('Sending claim');
    expect(rows()[0].dataset.status).toBe('waiting');
    // The button says what it is as before (no wider label to push its neighbours), and that
    // it is busy.
    const claim = screen.getByTestId('action-claim') as HTMLButtonElement;
    expect(claim.textContent?.trim()).toBe('Claim');
    expect(claim.disabled).toBe(true);
    expect(claim.getAttribute('aria-busy')).toBe('true');
    expect(screen.getByTestId('details-pending').textContent).toContain('not confirmed yet');
    expect(backend.current().connection.pending).toBe(1);
  });
});

describe('actions per status', () => {
  const me = { id: ROSA.id, name: ROSA.name };
  const cases: Array<[Status, Partial<Parameters<typeof row>[0]>, ActionKey[], ActionKey[]]> = [
    ['intake', {}, ['claim', 'message', 'priority', 'transfer', 'assign', 'decline'], ['join', 'leave_call', 'end_call']],
    ['waiting', {}, ['claim', 'message', 'priority', 'transfer', 'assign', 'decline'], ['join', 'leave_call', 'end_call']],
    ['on_hold', {}, ['claim', 'end_call', 'transfer', 'assign', 'decline'], ['join', 'leave_call']],
    ['in_call', { in_call: [LEE] }, ['join', 'end_call', 'transfer', 'assign', 'message', 'priority'], ['claim', 'leave_call', 'decline']],
    ['in_call', { in_call: [me] }, ['leave_call', 'end_call'], ['claim', 'join']],
  ];

  test.each(cases)('%s %o', async (status, over, shown, hidden) => {
    await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana', status, ...over })] });
    const details = await select('v-1');
    for (const a of shown) expect(within(details).queryByTestId(ACTION_TESTID[a]), a).not.toBeNull();
    for (const a of hidden) expect(within(details).queryByTestId(ACTION_TESTID[a]), a).toBeNull();
  });

  test('leave call says the patient goes on hold', async () => {
    await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana', status: 'in_call', in_call: [me] })] });
    await select('v-1');
    expect(screen.getByTestId('action-leave-call').textContent).toContain('Patient goes on hold');
  });

  test('claim sends {command: "claim"} for the selected visit', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] });
    await select('v-1');
    await fireEvent.click(screen.getByTestId('action-claim'));
    expect(actCommands(backend)).toEqual([{ visitId: 'v-1', command: { command: 'claim' } }]);
  });

  test('end call asks first: it ends the call for everyone', async () => {
    const { backend } = await renderConsole({
      queue: [row({ visit_id: 'v-1', patient_name: 'Ana', status: 'in_call', in_call: [me, LEE] })],
    });
    await select('v-1');
    await fireEvent.click(screen.getByTestId('action-end-call'));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('This ends the call for everyone');
    expect(actCommands(backend)).toEqual([]);

    await fireEvent.click(within(dialog).getByTestId('dialog-cancel'));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(actCommands(backend)).toEqual([]);

    await fireEvent.click(screen.getByTestId('action-end-call'));
    await fireEvent.click(await screen.findByTestId('dialog-confirm'));
    expect(actCommands(backend)).toEqual([{ visitId: 'v-1', command: { command: 'end_call' } }]);
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  test('decline needs a note, which the patient sees', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] });
    await select('v-1');
    await fireEvent.click(screen.getByTestId('action-decline'));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('The patient sees this note');

    await fireEvent.click(within(dialog).getByTestId('dialog-confirm'));
    expect(within(dialog).getByRole('alert').textContent).toContain('Write a note');
    await fireEvent.input(within(dialog).getByTestId('dialog-note'), { target: { value: '   ' } });
    await fireEvent.click(within(dialog).getByTestId('dialog-confirm'));
    expect(actCommands(backend)).toEqual([]);

    await fireEvent.input(within(dialog).getByTestId('dialog-note'), {
      target: { value: ' Please call 911 for chest pain. ' },
    });
    await fireEvent.click(within(dialog).getByTestId('dialog-confirm'));
    expect(actCommands(backend)).toEqual([
      { visitId: 'v-1', command: { command: 'decline', note: 'Please call 911 for chest pain.' } },
    ]);
  });

  test('transfer to a provider sends the provider and their room, with the note', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] });
    await select('v-1');
    await fireEvent.click(screen.getByTestId('action-transfer'));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByTestId('dialog-confirm')).toHaveProperty('disabled', true);
    await fireEvent.click(within(dialog).getByTestId('transfer-kind-provider'));
    await fireEvent.change(within(dialog).getByTestId('transfer-provider'), { target: { value: LEE.id } });
    await fireEvent.input(within(dialog).getByTestId('dialog-note'), { target: { value: 'Rash, seen before' } });
    await fireEvent.click(within(dialog).getByTestId('dialog-confirm'));
    expect(actCommands(backend)).toEqual([
      {
        visitId: 'v-1',
        command: { command: 'transfer', to: { kind: 'provider', provider: LEE.id, room: 'r-lee' }, note: 'Rash, seen before' },
      },
    ]);
  });

  test('transfer to a room and assign to a provider', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] });
    await select('v-1');
    await fireEvent.click(screen.getByTestId('action-transfer'));
    await fireEvent.change(await screen.findByTestId('transfer-room'), { target: { value: 'r-lee' } });
    await fireEvent.click(screen.getByTestId('dialog-confirm'));
    await fireEvent.click(screen.getByTestId('action-assign'));
    await fireEvent.change(await screen.findByTestId('assign-provider'), { target: { value: LEE.id } });
    await fireEvent.click(screen.getByTestId('dialog-confirm'));
    expect(actCommands(backend).map((c) => c.command)).toEqual([
      { command: 'transfer', to: { kind: 'room', room: 'r-lee' } },
      { command: 'assign', provider: LEE.id },
    ]);
  });

  test('set priority with a triage note', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] });
    await select('v-1');
    await fireEvent.click(screen.getByTestId('action-priority'));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByTestId('dialog-confirm')).toHaveProperty('disabled', true);
    await fireEvent.click(within(dialog).getByTestId('priority-urgent'));
    await fireEvent.input(within(dialog).getByTestId('dialog-note'), { target: { value: 'Fever 39.5' } });
    await fireEvent.click(within(dialog).getByTestId('dialog-confirm'));
    expect(actCommands(backend).map((c) => c.command)).toEqual([
      { command: 'set_priority', priority: 'urgent', note: 'Fever 39.5' },
    ]);
  });

  test('message the patient, with a quick message', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] });
    await select('v-1');
    const chip = screen.getAllByTestId('quick-message').find((c) => c.textContent === 'We are running 5 minutes late')!;
    await fireEvent.click(chip);
    expect((screen.getByTestId('message-input') as HTMLTextAreaElement).value).toBe('We are running 5 minutes late');
    await fireEvent.click(screen.getByTestId('message-send'));
    await waitFor(() =>
      expect(actCommands(backend)).toEqual([
        { visitId: 'v-1', command: { command: 'message', text: 'We are running 5 minutes late' } },
      ]),
    );
    await waitFor(() => expect((screen.getByTestId('message-input') as HTMLTextAreaElement).value).toBe(''));
  });

  test('requests: accept, accept and enter, decline with a note', async () => {
    const { backend } = await renderConsole({
      me: { id: LEE.id, name: LEE.name, email: 'lee@c', roles: ['provider'], availability: 'available', rooms: ['r-lee'] },
      requests: [
        row({ visit_id: 'v-r1', patient_name: 'Req One', status: 'requested', room_id: 'r-lee', requested_provider: LEE }),
        row({ visit_id: 'v-r2', patient_name: 'Req Two', status: 'requested', room_id: 'r-lee', requested_provider: LEE }),
        row({ visit_id: 'v-r3', patient_name: 'Req Three', status: 'requested', room_id: 'r-lee', requested_provider: LEE }),
      ],
    });
    await fireEvent.click(screen.getByTestId('tab-requests'));
    const reqRows = screen.getAllByTestId('request-row');
    await fireEvent.click(within(reqRows[0]).getByTestId('action-accept'));
    await fireEvent.click(within(reqRows[1]).getByTestId('action-accept-enter'));
    await fireEvent.click(within(reqRows[2]).getByTestId('request-decline'));
    await fireEvent.input(await screen.findByTestId('dialog-note'), { target: { value: 'Fully booked today' } });
    await fireEvent.click(screen.getByTestId('dialog-confirm'));
    expect(actCommands(backend)).toEqual([
      { visitId: 'v-r1', command: { command: 'accept' } },
      { visitId: 'v-r2', command: { command: 'accept_and_enter' } },
      { visitId: 'v-r3', command: { command: 'decline', note: 'Fully booked today' } },
    ]);
  });

  test("today's sessions: claim assigns the session to me", async () => {
    const { backend } = await renderConsole({
      sessions: [row({ visit_id: 'v-s1', patient_name: 'Booked Guest', status: 'scheduled', starts_at: Date.now() + 30 * MIN })],
    });
    await fireEvent.click(screen.getByTestId('tab-sessions'));
    await fireEvent.click(within(screen.getByTestId('session-row')).getByTestId('session-claim'));
    expect(actCommands(backend)).toEqual([{ visitId: 'v-s1', command: { command: 'assign', provider: ROSA.id } }]);
  });

  test("today's sessions: the details panel and the c key claim too", async () => {
    const { backend } = await renderConsole({
      sessions: [row({ visit_id: 'v-s1', patient_name: 'Booked Guest', status: 'scheduled', starts_at: Date.now() + 30 * MIN })],
    });
    await fireEvent.click(screen.getByTestId('tab-sessions'));
    await fireEvent.click(screen.getByTestId('session-row'));
    await fireEvent.click(within(await screen.findByTestId('details')).getByTestId('action-claim'));
    await fireEvent.keyDown(document.body, { key: 'c' });
    expect(actCommands(backend)).toEqual([
      { visitId: 'v-s1', command: { command: 'assign', provider: ROSA.id } },
      { visitId: 'v-s1', command: { command: 'assign', provider: ROSA.id } },
    ]);
  });
});

describe('rejected actions', () => {
  test('an already_claimed outcome says who has the patient and can be dismissed', async () => {
    const { backend } = await renderConsole({
      queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })],
      outcomes: [
        {
          action_id: 'a-1',
          visit_id: 'v-1',
          command: 'claim',
          code: 'already_claimed',
          message: 'already claimed by someone else',
          held_by: [LEE],
        },
      ],
    });
    const toast = screen.getByTestId('outcome');
    expect(toast.textContent).toContain('Already claimed by Dr Lee');
    expect(toast.textContent).toContain('Ana');
    await fireEvent.click(within(toast).getByTestId('outcome-dismiss'));
    await waitFor(() => expect(screen.queryByTestId('outcome')).toBeNull());
    expect(backend.callsTo('dismiss_outcome')).toEqual([{ cmd: 'dismiss_outcome', args: { actionId: 'a-1' } }]);
    expect(rows()).toHaveLength(1);
  });

  test('a lost race arriving from the engine shows up and nothing breaks', async () => {
    const { backend } = await renderConsole(
      { queue: [row({ visit_id: 'v-1', patient_name: 'Ana' }), row({ visit_id: 'v-2', patient_name: 'Bo' })] },
      {
        confirmAfterMs: 0,
        rejections: { 'v-1': { code: 'already_claimed', message: 'already claimed', held_by: [LEE] } },
      },
    );
    await select('v-1');
    await fireEvent.click(screen.getByTestId('action-claim'));
    expect((await screen.findByTestId('outcome')).textContent).toContain('Already claimed by Dr Lee');
    expect(backend.current().queue[0].pending).toEqual([]);
    // Still usable: claim the next one.
    await select('v-2');
    await fireEvent.click(screen.getByTestId('action-claim'));
    await waitFor(() => expect(rows()[1].dataset.status).toBe('in_call'));
  });

  test('an action the shell could not queue is shown, not swallowed', async () => {
    await renderConsole(
      { queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] },
      { actError: { code: 'locked', message: 'The station is locked' } },
    );
    await select('v-1');
    await fireEvent.click(screen.getByTestId('action-claim'));
    expect((await screen.findByTestId('local-error')).textContent).toContain('The station is locked');
  });
});

describe('the connection banner', () => {
  test('offline: when the queue is from and how many actions wait to send', async () => {
    const asOf = new Date(2026, 10, 21, 10, 42).getTime();
    await renderConsole({ connection: { state: 'offline', since: asOf, as_of: asOf, pending: 2 } });
    expect(screen.getByTestId('connection-banner').textContent).toContain(
      'Offline — showing the queue as of 10:42, 2 actions waiting to send',
    );
  });

  test('online with nothing to send: no banner; resyncing says so', async () => {
    const { backend } = await renderConsole();
    expect(screen.queryByTestId('connection-banner')).toBeNull();
    backend.update((s) => {
      s.connection = { state: 'resyncing', pending: 0 };
    });
    expect((await screen.findByTestId('connection-banner')).textContent).toMatch(/catching up/);
  });
});

describe('a long queue', () => {
  const many = (n: number) =>
    Array.from({ length: n }, (_, i) => row({ visit_id: `v-${i}`, patient_name: `Patient ${i}` }));

  test('draws only the rows in view, and the keys still reach every patient', async () => {
    vi.useRealTimers();
    await renderConsole({ queue: many(500) });
    const list = screen.getByTestId('queue-list');
    expect(list.dataset.rows).toBe('500');
    expect(screen.getByTestId('tab-queue').textContent).toContain('500');
    const drawn = rows().length;
    expect(drawn).toBeGreaterThan(5);
    expect(drawn).toBeLessThan(60);
    expect(names()[0]).toBe('Patient 0');

    // Far down the list with the arrow key: the row is drawn, selected and focused.
    await fireEvent.keyDown(window, { key: 'ArrowDown' });
    for (let i = 0; i < 99; i++) await fireEvent.keyDown(document.activeElement ?? window, { key: 'ArrowDown' });
    await waitFor(() => expect((document.activeElement as HTMLElement | null)?.dataset.visitId).toBe('v-99'));
    expect(within(document.activeElement as HTMLElement).getByTestId('row-name').textContent).toBe('Patient 99');
    expect(rows().length).toBeLessThan(60);
    expect((await screen.findByTestId('details-name')).textContent).toContain('Patient 99');
  });
});

describe('start-up timing', () => {
  test('the shell is told once when the queue is first on screen', async () => {
    vi.useRealTimers();
    const { backend } = await renderConsole({
      queue: [row({ visit_id: 'v-1', patient_name: 'Maria Gonzalez' }), row({ visit_id: 'v-2', patient_name: 'Ahmed Khan' })],
    });
    await waitFor(() => expect(backend.callsTo('first_paint')).toHaveLength(1));
    expect(backend.callsTo('first_paint')[0].args).toEqual({ rows: 2 });
    backend.update((s) => {
      s.queue = [...s.queue];
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(backend.callsTo('first_paint')).toHaveLength(1);
  });

  test('a new arrival is reported once its row is on screen, and only then', async () => {
    vi.useRealTimers();
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Maria Gonzalez' })] });
    await waitFor(() => expect(backend.callsTo('first_paint')).toHaveLength(1));
    expect(backend.callsTo('rows_painted')).toHaveLength(0);
    backend.update((s) => {
      s.queue = [...s.queue, row({ visit_id: 'v-2', patient_name: 'Kofi Mensah' })];
    });
    await waitFor(() => expect(backend.callsTo('rows_painted')).toHaveLength(1));
    expect(backend.callsTo('rows_painted')[0].args).toEqual({ visitIds: ['v-2'] });
    expect(document.querySelector('[data-visit-id="v-2"]')?.textContent).toContain('Kofi Mensah');
    backend.update((s) => {
      s.queue = [...s.queue];
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(backend.callsTo('rows_painted')).toHaveLength(1);
  });
});

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
      room_id: 'r-reception',
      status: 'waiting' as const,
      priority: 'routine' as const,
      patient: { name: 'Ana', contact: { phone: '+15555550100', email: 'ana@example.org' } },
      intake: { reason_for_visit: 'Sore throat' },
      intake_finished: true,
      created_at: t,
      arrived_at: t,
      in_call: [],
      messages: [{ at: t, from: ROSA.id, text: 'We are running 5 minutes late' }],
      after_hours: false,
      version: 2,
      history: [
        { version: 2, at: t, actor: { kind: 'staff' as const, id: ROSA.id }, change: { type: 'claimed' as const, staff: ROSA.id }, status: 'in_call' as const },
      ],
    };
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana', version: 2 })] }, { details: { 'v-1': visit } });
    const details = await select('v-1');
    expect((await within(details).findByTestId('details-intake')).textContent).toContain('Sore throat');
    expect(within(details).getByTestId('details-contact').textContent).toContain('ana@example.org');
    expect(within(details).getByTestId('details-history').textContent).toContain('10:42 Claimed by Rosa Martinez (Reception)');
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
    await renderConsole({
      me: { id: LEE.id, name: LEE.name, email: 'l@c', roles: ['provider'], availability: 'on_call', rooms: [] },
    });
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

  test('settings: edit quick messages and the lock delay, then save', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] });
    await fireEvent.click(screen.getByTestId('open-settings'));
    await screen.findByTestId('settings-dialog');
    await fireEvent.click(screen.getByTestId('settings-add-quick-message'));
    const inputs = screen.getAllByTestId('settings-quick-message');
    await fireEvent.input(inputs[inputs.length - 1], { target: { value: 'The doctor is on the way' } });
    await fireEvent.input(screen.getByTestId('settings-lock-after'), { target: { value: '10' } });
    await fireEvent.click(screen.getByTestId('settings-sound'));
    await fireEvent.click(screen.getByTestId('dialog-confirm'));
    await waitFor(() => expect(screen.queryByTestId('settings-dialog')).toBeNull());
    const saved = backend.callsTo('save_settings')[0].args!.settings as Record<string, unknown>;
    expect(saved.lock_after_minutes).toBe(10);
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

/** Rendering under fake timers: flush the first load by hand (testing-library's waits poll on timers). */
async function renderWithFakeTimers(over: Parameters<typeof clinicState>[0]) {
  const { createMockBackend } = await import('../lib/mock');
  const { render } = await import('@testing-library/svelte');
  const App = (await import('../App.svelte')).default;
  const backend = createMockBackend(clinicState(over));
  const result = render(App, { props: { backend } });
  await vi.advanceTimersByTimeAsync(0);
  flushSync();
  return { backend, ...result };
}
