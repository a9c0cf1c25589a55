// What a person may do to a visit, as buttons: the domain's answers (recorded from the real
// engine) on screen, the dialogs that collect what a command carries, and refusals.
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { answersOf, consoleOf, refusal, roomId, visitId } from '../fixtures/engine';
import { LEE, MIN, ROSA, actCommands, recordedRow, renderAs, renderConsole, row } from './helpers';

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

/** The test ids of the details panel's buttons, in order. */
const panelButtons = (details: HTMLElement) =>
  [...within(details).queryAllByRole('button')].map((b) => b.dataset.testid).filter((id) => id?.startsWith('action-'));

describe('the buttons are what the domain allows', () => {
  test('reception: a waiting patient, a patient on hold', async () => {
    await renderAs('receptionist');
    expect(panelButtons(await select(visitId('waiting')))).toEqual([
      'action-claim',
      'action-message',
      'action-priority',
      'action-transfer',
      'action-assign',
      'action-decline',
    ]);
    // Reception did not see this patient: finishing their visit is for whoever did.
    expect(panelButtons(await select(visitId('on_hold')))).toEqual([
      'action-claim',
      'action-message',
      'action-priority',
      'action-transfer',
      'action-assign',
      'action-decline',
    ]);
  });

  test("a provider is offered Take over… on a colleague's patient, asked to confirm, and sends take_over", async () => {
    const { backend } = await renderAs('second_provider');
    const liam = recordedRow('second_provider', 'waiting_assigned');
    expect(liam.allowed).toContain('take_over');
    expect(liam.allowed).not.toContain('claim');
    const details = await select(liam.visit_id);
    expect(within(details).queryByTestId('action-claim')).toBeNull();
    await fireEvent.click(within(details).getByTestId('action-take-over'));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain(`assigned to ${liam.assigned_provider!.name}`);
    expect(actCommands(backend)).toEqual([]);
    await fireEvent.click(within(dialog).getByTestId('dialog-confirm'));
    expect(actCommands(backend)).toEqual([{ visitId: liam.visit_id, command: { command: 'take_over' } }]);
  });

  test('a receptionist on a call they are not in sees Join, not Leave call', async () => {
    await renderAs('receptionist');
    const details = await select(visitId('in_call'));
    expect(within(details).getByTestId('action-join').textContent).toContain('Join call');
    expect(within(details).queryByTestId('action-leave-call')).toBeNull();
    expect(within(details).queryByTestId('action-claim')).toBeNull();
  });

  test('the provider in the call sees Leave call, which puts the patient on hold', async () => {
    await renderAs('second_provider');
    const details = await select(visitId('in_call'));
    expect(within(details).getByTestId('action-leave-call').textContent).toContain('Patient goes on hold');
    expect(within(details).queryByTestId('action-join')).toBeNull();
  });

  test('a scheduler sees Assign on a booked session, but not on a waiting or in-call patient', async () => {
    await renderAs('scheduler');
    for (const key of ['waiting', 'in_call'] as const) {
      const details = await select(visitId(key));
      expect(within(details).queryByTestId('action-assign'), key).toBeNull();
      expect(panelButtons(details), key).toEqual([]);
    }
    await fireEvent.click(screen.getByTestId('tab-sessions'));
    const session = screen.getAllByTestId('session-row').find((r) => r.dataset.visitId === visitId('scheduled'))!;
    expect(within(session).getByTestId('session-claim').textContent).toBe('Claim');
    await fireEvent.click(session);
    expect(panelButtons(await screen.findByTestId('details'))).toEqual([
      'action-claim',
      'action-assign',
      'action-cancel',
      'action-no-show',
      'action-reschedule',
    ]);
  });

  test('a provider sees Accept and Decline only on a request made to them', async () => {
    await renderAs('provider');
    await fireEvent.click(screen.getByTestId('tab-requests'));
    const requests = screen.getAllByTestId('request-row');
    expect(requests.map((r) => r.dataset.visitId)).toEqual([visitId('requested')]);
    for (const id of ['action-accept', 'action-accept-enter', 'request-decline']) {
      expect(within(requests[0]).queryByTestId(id), id).not.toBeNull();
    }
  });

  test('reception watches every request but does not answer them', async () => {
    await renderAs('receptionist');
    await fireEvent.click(screen.getByTestId('tab-requests'));
    const requests = screen.getAllByTestId('request-row');
    expect(requests).toHaveLength(2);
    for (const r of requests) {
      expect(within(r).queryByTestId('action-accept')).toBeNull();
      expect(within(r).queryByTestId('request-decline')).toBeNull();
    }
    await fireEvent.click(requests[0]);
    expect(panelButtons(await screen.findByTestId('details'))).toEqual([
      'action-message',
      'action-priority',
      'action-cancel',
    ]);
  });

  test('a transferred patient on hold comes back as waiting in the new room', async () => {
    const { backend } = await renderAs('receptionist', { confirmAfterMs: 0 });
    const tom = visitId('on_hold');
    await select(tom);
    await fireEvent.click(screen.getByTestId('action-transfer'));
    await fireEvent.change(await screen.findByTestId('transfer-room'), { target: { value: roomId('lee_room') } });
    await fireEvent.click(screen.getByTestId('dialog-confirm'));
    expect(actCommands(backend)).toEqual([
      { visitId: tom, command: { command: 'transfer', to: { kind: 'room', room: roomId('lee_room') } } },
    ]);
    const row = () => rows().find((r) => r.dataset.visitId === tom)!;
    await waitFor(() => expect(row().dataset.status).toBe('waiting'));
    expect(row().textContent).toContain("Dr Lee's room");
    expect(backend.current().outcomes).toEqual([]);
  });

  test('the mock answers only what the engine answered: anything else is refused as not recorded', async () => {
    const { backend } = await renderAs('receptionist', { confirmAfterMs: 0 });
    await select(visitId('waiting'));
    await fireEvent.click(screen.getByTestId('action-transfer'));
    // The recorded transfer went to Dr Lee's room; Dr Okafor's room was never asked about.
    await fireEvent.change(await screen.findByTestId('transfer-room'), { target: { value: roomId('okafor_room') } });
    await fireEvent.click(screen.getByTestId('dialog-confirm'));
    await waitFor(() => expect(backend.current().outcomes.map((o) => o.code)).toEqual(['not_recorded']));
  });
});

describe('sending what a button asks for', () => {
  test('claim sends {command: "claim"} for the selected visit', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] });
    await select('v-1');
    await fireEvent.click(screen.getByTestId('action-claim'));
    expect(actCommands(backend)).toEqual([{ visitId: 'v-1', command: { command: 'claim' } }]);
  });

  test('end call asks first: it ends the call for everyone', async () => {
    const { backend } = await renderConsole({
      // What the domain offers the provider in the call.
      queue: [
        row({
          visit_id: 'v-1',
          patient_name: 'Ana',
          status: 'in_call',
          in_call: [LEE],
          allowed: recordedRow('second_provider', 'in_call').allowed,
        }),
      ],
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
        command: { command: 'transfer', to: { kind: 'provider', provider: LEE.id, room: roomId('lee_room') }, note: 'Rash, seen before' },
      },
    ]);
  });

  test('transfer to a room and assign to a provider', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] });
    await select('v-1');
    await fireEvent.click(screen.getByTestId('action-transfer'));
    await fireEvent.change(await screen.findByTestId('transfer-room'), { target: { value: roomId('lee_room') } });
    await fireEvent.click(screen.getByTestId('dialog-confirm'));
    await fireEvent.click(screen.getByTestId('action-assign'));
    await fireEvent.change(await screen.findByTestId('assign-provider'), { target: { value: LEE.id } });
    await fireEvent.click(screen.getByTestId('dialog-confirm'));
    expect(actCommands(backend).map((c) => c.command)).toEqual([
      { command: 'transfer', to: { kind: 'room', room: roomId('lee_room') } },
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
    // Three requests to Dr Lee, each offering what the engine offered him on his recorded one.
    const request = (visit_id: string, patient_name: string) => ({ ...recordedRow('provider', 'requested'), visit_id, patient_name });
    const { backend } = await renderConsole({
      ...consoleOf('provider'),
      requests: [request('v-r1', 'Req One'), request('v-r2', 'Req Two'), request('v-r3', 'Req Three')],
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
    expect(toast.textContent).toContain('Already claimed by Dr Amir Lee');
    expect(toast.textContent).toContain('Ana');
    await fireEvent.click(within(toast).getByTestId('outcome-dismiss'));
    await waitFor(() => expect(screen.queryByTestId('outcome')).toBeNull());
    expect(backend.callsTo('dismiss_outcome')).toEqual([{ cmd: 'dismiss_outcome', args: { actionId: 'a-1' } }]);
    expect(rows()).toHaveLength(1);
  });

  test('a lost race arriving from the engine shows up and nothing breaks', async () => {
    // Dr Lee claimed Maria a moment before reception did: the engine's answer to that claim.
    const lost = refusal('lost_race');
    const { answers } = answersOf('receptionist');
    const { backend } = await renderAs('receptionist', {
      confirmAfterMs: 0,
      answers: { ...answers, [lost.visitId]: [lost.answer] },
    });
    await select(lost.visitId);
    await fireEvent.click(screen.getByTestId('action-claim'));
    expect((await screen.findByTestId('outcome')).textContent).toContain('Already claimed by Dr Amir Lee');
    expect(backend.current().queue.find((r) => r.visit_id === lost.visitId)!.pending).toEqual([]);
    // Still usable: claim the next one, and the engine's answer shows.
    const liam = visitId('waiting_assigned');
    await select(liam);
    await fireEvent.click(screen.getByTestId('action-claim'));
    await waitFor(() => expect(rows().find((r) => r.dataset.visitId === liam)!.dataset.status).toBe('in_call'));
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
