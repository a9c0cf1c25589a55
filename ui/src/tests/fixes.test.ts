// Smaller fixes a receptionist would notice: the "message queued" note leaves once the server
// confirms, and an on-hold patient is offered ending the visit only as the domain allows.
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, test } from 'vitest';
import { visitId } from '../fixtures/engine';
import { recordedRow, renderAs, renderConsole } from './helpers';

const rows = () => screen.queryAllByTestId('queue-row');
const rowOf = (key: Parameters<typeof visitId>[0]) => rows().find((r) => r.dataset.visitId === visitId(key))!;

describe('smaller fixes', () => {
  test('the "message queued" note goes once the server confirms', async () => {
    await renderAs('receptionist', { confirmAfterMs: 30 });
    await fireEvent.click(rowOf('waiting'));
    const input = await screen.findByTestId('message-input');
    await fireEvent.input(input, { target: { value: 'We are running 5 minutes late' } });
    await fireEvent.click(screen.getByTestId('message-send'));
    expect((await screen.findByTestId('message-queued')).textContent).toContain('shows as sent once the server confirms');
    await waitFor(() => expect(screen.queryByTestId('message-queued')).toBeNull());
  });

  test('End call… is offered on hold only as the domain allows, and named for what it does', async () => {
    // The provider who saw the patient (reception did not: see actions.test.ts).
    await renderAs('provider');
    await fireEvent.click(rowOf('on_hold'));
    const details = await screen.findByTestId('details');
    expect(recordedRow('provider', 'on_hold').allowed).toContain('end_call');
    expect(within(details).getByTestId('action-end-call').textContent).toContain('Finish visit…');
  });

  test('an on-hold row whose answer leaves out end_call offers no End call', async () => {
    const recorded = recordedRow('receptionist', 'on_hold');
    await renderConsole({
      queue: [{ ...recorded, allowed: recorded.allowed.filter((k) => k !== 'end_call') }],
    });
    await fireEvent.click(rows()[0]);
    const details = await screen.findByTestId('details');
    expect(within(details).getByTestId('action-claim')).toBeTruthy();
    expect(within(details).queryByTestId('action-end-call')).toBeNull();
  });
});
