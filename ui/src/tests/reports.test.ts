// The Reports workspace: an admin's figures for a day, week or month, as the clinic server
// gives them (the mock answers with the test's report), the period, date and room asked for,
// and "Export CSV" saved by the shell.
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, test } from 'vitest';
import { renderAs } from './helpers';
import type { HourFigures, Report, ReportQuery, Spread } from '../lib/types';

const MIN = 60_000;
const spread = (count: number, median: number | null, p90: number | null): Spread => ({
  count,
  median_ms: median,
  p90_ms: p90,
});
const outcomes = { completed: 0, left: 0, declined: 0, no_show: 0, cancelled: 0, open: 0 };

function morning(): Report {
  const by_hour: HourFigures[] = Array.from({ length: 24 }, (_, hour) => ({
    hour,
    arrivals: hour === 8 ? 3 : hour === 9 ? 3 : 0,
    wait_for_staff: hour === 8 ? spread(2, 14.5 * MIN, 22.9 * MIN) : spread(0, null, null),
  }));
  return {
    window: {
      period: 'day',
      first_day: '2026-12-03',
      last_day: '2026-12-03',
      from: Date.UTC(2026, 11, 3),
      to: Date.UTC(2026, 11, 4),
      time_zone: 'UTC',
    },
    room: null,
    visits: 7,
    arrivals: 6,
    by_hour,
    wait_for_staff: spread(4, 3.5 * MIN, 18.7 * MIN),
    wait_for_provider: spread(3, 10 * MIN, 22 * MIN),
    time_in_call: spread(4, 15 * MIN, 21.4 * MIN),
    outcomes: { ...outcomes, completed: 4, declined: 1, left: 1, no_show: 1 },
    providers: [
      {
        provider: 'p-omar',
        name: 'Dr. Omar Haddad',
        visits: 1,
        seen: 1,
        wait_for_provider: spread(1, 25 * MIN, 25 * MIN),
        time_in_call: spread(1, 5 * MIN, 5 * MIN),
        outcomes: { ...outcomes, completed: 1 },
      },
      {
        provider: 'p-priya',
        name: 'Dr. Priya Shah',
        visits: 3,
        seen: 2,
        wait_for_provider: spread(2, 6.5 * MIN, 9.3 * MIN),
        time_in_call: spread(2, 21 * MIN, 21.8 * MIN),
        outcomes: { ...outcomes, completed: 2, no_show: 1 },
      },
    ],
  };
}

async function openReports(options: Parameters<typeof renderAs>[1] = { report: morning() }) {
  const rendered = await renderAs('admin', options);
  await fireEvent.click(screen.getByTestId('workspace-reports'));
  return rendered;
}

describe('the Reports workspace', () => {
  test('is in the header for an admin, and not for the front desk', async () => {
    await renderAs('receptionist');
    expect(screen.queryByTestId('workspace-reports')).toBeNull();
  });

  test("shows the server's figures: median and p90 waits, counts, and a line per provider", async () => {
    const { backend } = await openReports();
    await waitFor(() => expect(screen.getByTestId('median-wait-staff').textContent?.trim()).toBe('3m 30s'));
    expect(screen.getByTestId('median-wait-staff').dataset.ms).toBe(String(3.5 * MIN));
    expect(screen.getByTestId('figure-wait-staff').textContent).toContain('90% within 18m 42s');
    expect(screen.getByTestId('median-wait-provider').textContent?.trim()).toBe('10m 00s');
    expect(screen.getByTestId('median-in-call').textContent?.trim()).toBe('15m 00s');
    const count = (id: string) => within(screen.getByTestId(`count-${id}`)).getByText(/^\d+$/).textContent;
    expect([count('arrivals'), count('completed'), count('left'), count('declined'), count('no-show')]).toEqual([
      '6',
      '4',
      '1',
      '1',
      '1',
    ]);
    const lines = screen.getAllByTestId('report-provider');
    expect(lines.map((l) => l.querySelector('th')?.textContent)).toEqual(['Dr. Omar Haddad', 'Dr. Priya Shah']);
    expect(lines[1].textContent).toContain('2 of 3');
    expect(lines[1].textContent).toContain('6m 30sp90 9m 18s');
    // The hours with arrivals are in the chart's table.
    const hours = within(screen.getByTestId('report-hours')).getAllByRole('row');
    expect(hours.some((r) => r.textContent?.startsWith('08:003'))).toBe(true);
    expect(backend.callsTo('report')[0].args).toEqual({
      query: { period: 'day', date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), room: null },
    });
  });

  test('asks again for the period, date and room chosen', async () => {
    const { backend } = await openReports();
    await screen.findByTestId('median-wait-staff');
    await fireEvent.click(screen.getByTestId('report-period-month'));
    await fireEvent.input(screen.getByTestId('report-date'), { target: { value: '2026-11-15' } });
    const rooms = screen.getByTestId('report-room') as HTMLSelectElement;
    const room = rooms.options[1].value;
    await fireEvent.change(rooms, { target: { value: room } });
    await waitFor(() => {
      const last = backend.callsTo('report').at(-1)!.args as { query: ReportQuery };
      expect(last.query).toEqual({ period: 'month', date: '2026-11-15', room });
    });
  });

  test('Export CSV asks the shell to save it and says where', async () => {
    const { backend } = await openReports({ report: morning(), savedTo: '/home/rita/Downloads/report.csv' });
    await screen.findByTestId('median-wait-staff');
    await fireEvent.click(screen.getByTestId('report-export'));
    await waitFor(() => expect(screen.getByTestId('report-saved').textContent).toContain('/home/rita/Downloads/report.csv'));
    expect(backend.callsTo('export_report')).toHaveLength(1);
  });

  test("the server's refusal is shown as it says it", async () => {
    await openReports({ reportError: { code: 'bad_request', message: 'date: "2026-02-30" is not a date (YYYY-MM-DD)' } });
    await waitFor(() => expect(screen.getByTestId('report-error').textContent).toContain('is not a date'));
  });
});
