// The development sample is reception's recorded console: it starts, and its variants show
// what they say they do.
import { render, screen } from '@testing-library/svelte';
import { describe, expect, test } from 'vitest';
import App from '../App.svelte';
import { createMockBackend } from '../lib/mock';
import { sampleClinic } from '../lib/sample';

async function renderSample(variant: string, first: string) {
  const { state, options } = sampleClinic(variant);
  render(App, { props: { backend: createMockBackend(state, { ...options, confirmAfterMs: undefined }) } });
  return screen.findByTestId(first);
}

describe('the development sample', () => {
  test('shows reception’s recorded queue', async () => {
    await renderSample('', 'clinic-name');
    expect(screen.getAllByTestId('queue-row').map((r) => r.querySelector('[data-testid="row-name"]')?.textContent)).toContain(
      'Maria Gonzalez',
    );
  });

  test('outcome: the engine’s answer to a lost race', async () => {
    expect((await renderSample('outcome', 'outcome')).textContent).toContain('Already claimed by Dr Amir Lee');
  });

  test('offline: the banner and what waits to send', async () => {
    expect((await renderSample('offline', 'connection-banner')).textContent).toContain('2 actions waiting to send');
  });
});
