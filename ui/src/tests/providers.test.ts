// The providers board: each provider's state, "Request session" under each, and my requests
// with their answers (pending, accepted with Join, declined with the note) until dismissed.
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, test } from 'vitest';
import { renderConsole, row } from './helpers';
import type { ProviderRow } from '../lib/types';

const PRIYA = 'b6f5b8de-0000-4000-8000-000000000001';
const OMAR = 'b6f5b8de-0000-4000-8000-000000000002';

function board(): ProviderRow[] {
  return [
    { id: OMAR, name: 'Dr. Omar Haddad', now: 'unavailable', requests: [] },
    { id: PRIYA, name: 'Dr. Priya Shah', now: 'in_call', requests: [] },
  ];
}

const card = (name: string) =>
  screen.getAllByTestId('provider').find((c) => within(c).getByTestId('provider-name').textContent === name)!;

describe('the providers board', () => {
  test('lists each provider with what they are doing now', async () => {
    await renderConsole({ providers: board() });
    await fireEvent.click(screen.getByTestId('tab-providers'));
    const cards = screen.getAllByTestId('provider');
    expect(cards.map((c) => within(c).getByTestId('provider-now').textContent)).toEqual(['Unavailable', 'In a call']);
  });

  test('Request session asks the shell with the patient named, and the answer shows until dismissed', async () => {
    const { backend } = await renderConsole({ providers: board() });
    await fireEvent.click(screen.getByTestId('tab-providers'));
    await fireEvent.click(within(card('Dr. Priya Shah')).getByTestId('request-session'));
    await fireEvent.input(screen.getByTestId('request-patient'), { target: { value: 'Sam Rivera' } });
    await fireEvent.click(screen.getByTestId('request-send'));
    await waitFor(() => expect(backend.callsTo('request_session')).toHaveLength(1));
    expect(backend.callsTo('request_session')[0].args).toEqual({ provider: PRIYA, patientName: 'Sam Rivera' });
    await waitFor(() => expect(screen.queryByTestId('request-patient')).toBeNull());

    // The engine says it waits for her, then that she declined, with her note.
    const asked = { visit_id: 'v-sam', patient_name: 'Sam Rivera', asked_at: Date.now() };
    backend.update((s) => {
      s.providers[1].requests = [{ ...asked, answer: { state: 'pending' } }];
    });
    await waitFor(() => expect(screen.getByTestId('my-request').dataset.answer).toBe('pending'));
    expect(screen.getByTestId('my-request').textContent).toContain('Waiting for Dr. Priya Shah');
    expect(screen.queryByTestId('request-dismiss')).toBeNull();
    backend.update((s) => {
      s.providers[1].requests = [{ ...asked, answer: { state: 'declined', note: 'Fully booked today' } }];
    });
    await waitFor(() => expect(screen.getByTestId('request-note').textContent).toBe('Fully booked today'));
    await fireEvent.click(screen.getByTestId('request-dismiss'));
    expect(backend.callsTo('dismiss_request')[0].args).toEqual({ visitId: 'v-sam' });
    await waitFor(() => expect(screen.queryByTestId('my-request')).toBeNull());
  });

  test('Join on an accepted request joins the call, which opens once the engine says I am in it', async () => {
    const providers = board();
    providers[1].requests = [
      { visit_id: 'v-tia', patient_name: 'Tia Novak', asked_at: Date.now(), answer: { state: 'accepted' } },
    ];
    const tia = row({ visit_id: 'v-tia', patient_name: 'Tia Novak', status: 'in_call' });
    expect(tia.allowed).toContain('join');
    const { backend } = await renderConsole({ providers, queue: [tia] });
    await fireEvent.click(screen.getByTestId('tab-providers'));
    await fireEvent.click(screen.getByTestId('request-join'));
    await waitFor(() => expect(backend.callsTo('act')).toHaveLength(1));
    expect(backend.callsTo('act')[0].args).toEqual({ visitId: 'v-tia', command: { command: 'join' } });
    expect(backend.callsTo('open_call')).toHaveLength(0);
    // The server confirms: the row carries my call link now, and the call opens, once.
    backend.update((s) => {
      s.queue[0].call_link = 'https://video.example/tia';
    });
    await waitFor(() => expect(backend.callsTo('open_call')).toEqual([{ cmd: 'open_call', args: { visitId: 'v-tia' } }]));
    backend.update((s) => {
      s.queue[0].patient_name = 'Tia Novak';
    });
    expect(backend.callsTo('open_call')).toHaveLength(1);
  });
});
