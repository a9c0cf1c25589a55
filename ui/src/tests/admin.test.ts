// The Admin workspace: only for those the domain gives it; rooms, staff, stations, messages and
// alerts through the backend; slips shown as the admin types; the server's refusals shown
// beside the field they name.
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, test } from 'vitest';
import { renderAs } from './helpers';
import { consoleOf, engine } from '../fixtures/engine';
import type { AdminData } from '../lib/mock';
import type { NewRoom, NewStaff, RoomEntry, StaffInfo } from '../lib/types';

const clinicId = engine.people.admin.view.clinic!.id;

function reception(): RoomEntry {
  const room = structuredClone(engine.people.admin.view.rooms.find((r) => r.name === 'Reception')!);
  room.office_hours = [0, 1, 2, 3, 4].map((day) => ({ day, opens: '08:30', closes: '17:00' }));
  return {
    room,
    front_door: `https://clinic.example/join/harbour/${room.id}`,
    button_html: `<a href="https://clinic.example/join/harbour/${room.id}">See us online: Reception</a>`,
  };
}

function rosa(): StaffInfo {
  return structuredClone(engine.people.admin.view.staff.find((s) => s.email === 'rosa@harbour.example')!);
}

async function openAdmin(admin: AdminData = {}) {
  const rendered = await renderAs('admin', { admin: { rooms: [reception()], staff: [rosa()], ...admin } });
  await fireEvent.click(screen.getByTestId('workspace-admin'));
  await screen.findByTestId('admin-screen');
  return rendered;
}

const type = (testid: string, value: string) => fireEvent.input(screen.getByTestId(testid), { target: { value } });

describe('who has the Admin workspace', () => {
  test('a receptionist has no Admin button, nor Calendar nor Reports', async () => {
    await renderAs('receptionist');
    expect(screen.queryByTestId('workspace-admin')).toBeNull();
    expect(screen.queryByTestId('workspace-calendar')).toBeNull();
    expect(screen.queryByTestId('workspace-reports')).toBeNull();
    expect(screen.queryByTestId('admin-screen')).toBeNull();
  });

  test('an admin opens it from the header and sees the rooms with their hours', async () => {
    const { backend } = await openAdmin();
    const item = await screen.findByTestId('room-item');
    expect(item.textContent).toContain('Reception');
    expect(item.textContent).toContain('Mon–Fri 08:30–17:00');
    expect(backend.callsTo('admin_rooms')).toHaveLength(1);
    // The selected room's links, ready to copy.
    expect((screen.getByTestId('room-link') as HTMLInputElement).value).toBe(reception().front_door);
    expect(screen.getByTestId('room-button-copy').textContent).toBe('Copy');
  });
});

describe('a room', () => {
  test('shows the server’s open/closed answer for the hours as typed', async () => {
    const { backend } = await openAdmin({
      preview: { open: false, reopens: 'tomorrow at 09:00', time_zone: 'Australia/Sydney', local_time: '19:10', local_day: 0 },
    });
    await waitFor(() => expect(screen.getByTestId('hours-preview').textContent).toContain('Closed now — opens tomorrow at 09:00'));
    expect(backend.callsTo('preview_hours')[0].args).toEqual({
      officeHours: [0, 1, 2, 3, 4].map((day) => ({ day, opens: '08:30', closes: '17:00' })),
    });
    await type('hours-0-0-opens', '09:00');
    await waitFor(() =>
      expect((backend.callsTo('preview_hours').at(-1)!.args as { officeHours: { opens: string }[] }).officeHours[0].opens).toBe('09:00'),
    );
  });

  test('slips show as the admin types, and nothing is saved until they are fixed', async () => {
    const { backend } = await openAdmin();
    await fireEvent.click(await screen.findByTestId('room-new'));
    await type('room-name', 'Kids clinic');
    await type('room-name', '');
    expect(screen.getByTestId('room-name-error').textContent).toBe('Give the room a name.');
    await type('hours-0-0-opens', '9am');
    expect(screen.getByTestId('hours-error').textContent).toBe('Monday: write times as HH:MM, e.g. 09:00.');
    expect(screen.getByTestId('hours-preview').textContent).toContain('Fix the hours');
    await type('hours-0-0-opens', '18:00');
    expect(screen.getByTestId('hours-error').textContent).toBe('Monday: the hours must close after they open.');
    await fireEvent.click(screen.getByTestId('question-add'));
    await type('question-0-label', 'Preferred time');
    await fireEvent.change(screen.getByTestId('question-0-kind'), { target: { value: 'choice' } });
    await type('question-0-options', 'Morning');
    expect(screen.getByTestId('questions-error').textContent).toBe('"Preferred time" needs at least two options, one per line.');
    await fireEvent.click(screen.getByTestId('room-save'));
    expect(backend.callsTo('save_room')).toHaveLength(0);

    await type('room-name', 'Kids clinic');
    await type('hours-0-0-opens', '09:00');
    await type('question-0-options', 'Morning\nAfternoon');
    expect(screen.queryByTestId('room-name-error')).toBeNull();
    expect(screen.queryByTestId('hours-error')).toBeNull();
    expect(screen.queryByTestId('questions-error')).toBeNull();
    await fireEvent.click(screen.getByTestId('room-save'));
    await waitFor(() => expect(backend.callsTo('save_room')).toHaveLength(1));
    const sent = backend.callsTo('save_room')[0].args as { roomId: string | null; room: NewRoom };
    expect(sent.roomId).toBeNull();
    expect(sent.room.name).toBe('Kids clinic');
    expect(sent.room.intake_questions).toEqual([{ label: 'Preferred time', kind: 'choice', options: ['Morning', 'Afternoon'] }]);
    expect(sent.room.office_hours[0]).toEqual({ day: 0, opens: '09:00', closes: '17:00' });
    // The new room joins the list, selected, with its link.
    await waitFor(() => expect(screen.getAllByTestId('room-item')).toHaveLength(2));
    expect(screen.getByTestId('room-link')).toBeTruthy();
  });

  test('a refusal that names a field shows beside it; one that names none, above the form', async () => {
    await openAdmin({
      refuse: { save_room: { code: 'validation', message: 'name: must be at most 120 characters (got 130)', field: 'name' } },
    });
    await screen.findByTestId('room-editor');
    await fireEvent.click(screen.getByTestId('room-save'));
    expect((await screen.findByTestId('room-name-error')).textContent).toBe('name: must be at most 120 characters (got 130)');
    expect(screen.queryByTestId('room-error')).toBeNull();
  });

  test('a refusal without a field shows above the form', async () => {
    await openAdmin({ refuse: { save_room: { code: 'forbidden', message: 'only admins may do this' } } });
    await screen.findByTestId('room-editor');
    await fireEvent.click(screen.getByTestId('room-save'));
    expect((await screen.findByTestId('room-error')).textContent).toBe('only admins may do this');
  });
});

describe('staff', () => {
  test('adding a person checks the email, password and PIN as typed, then sends them', async () => {
    const { backend } = await openAdmin();
    await fireEvent.click(screen.getByTestId('admin-section-staff'));
    const table = await screen.findByTestId('staff-table');
    expect(within(table).getByText('Rosa Martinez')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('staff-invite'));
    await type('staff-name', 'Tess Nguyen');
    await type('staff-email', 'tess@');
    await type('staff-password', 'short');
    await type('staff-pin', '12a4');
    expect(screen.getByTestId('staff-email-error').textContent).toBe('An email address such as name@clinic.org.');
    expect(screen.getByTestId('staff-password-error').textContent).toBe('At least 8 characters.');
    expect(screen.getByTestId('staff-pin-error').textContent).toBe('A PIN is 4 to 8 digits.');
    await fireEvent.click(screen.getByTestId('staff-save'));
    expect(backend.callsTo('invite_staff')).toHaveLength(0);

    await type('staff-email', 'tess@harbour.example');
    await type('staff-password', 'a-long-password');
    await type('staff-pin', '4321');
    await fireEvent.click(screen.getByTestId('staff-role-provider'));
    await fireEvent.click(screen.getByTestId('staff-save'));
    await waitFor(() => expect(backend.callsTo('invite_staff')).toHaveLength(1));
    const sent = (backend.callsTo('invite_staff')[0].args as { staff: NewStaff }).staff;
    expect(sent).toMatchObject({
      name: 'Tess Nguyen',
      email: 'tess@harbour.example',
      roles: ['receptionist', 'provider'],
      pin: '4321',
    });
    await waitFor(() => expect(screen.getAllByTestId('staff-row')).toHaveLength(2));
  });

  test('the server’s refusal of an email shows beside the email', async () => {
    await openAdmin({
      refuse: { invite_staff: { code: 'validation', message: 'email: must be an email address', field: 'email' } },
    });
    await fireEvent.click(screen.getByTestId('admin-section-staff'));
    await fireEvent.click(await screen.findByTestId('staff-invite'));
    await type('staff-name', 'Tess');
    await type('staff-email', 'tess@harbour.example');
    await type('staff-password', 'a-long-password');
    await fireEvent.click(screen.getByTestId('staff-save'));
    expect((await screen.findByTestId('staff-email-error')).textContent).toBe('email: must be an email address');
  });

  test('deactivating asks first, then tells the shell', async () => {
    const { backend } = await openAdmin();
    await fireEvent.click(screen.getByTestId('admin-section-staff'));
    await fireEvent.click(await screen.findByTestId('staff-row'));
    await fireEvent.click(screen.getByTestId('staff-deactivate'));
    expect(backend.callsTo('set_staff_active')).toHaveLength(0);
    await fireEvent.click(screen.getByTestId('staff-deactivate-confirm'));
    await waitFor(() => expect(backend.callsTo('set_staff_active')[0].args).toEqual({ staffId: rosa().id, active: false }));
    expect(await screen.findByText('Deactivated')).toBeTruthy();
    expect(screen.getByTestId('staff-reactivate')).toBeTruthy();
    expect((screen.getByTestId('staff-reset-password') as HTMLButtonElement).disabled).toBe(true);
  });
});

test('a new station PIN is checked as typed and set for the person', async () => {
  const { backend } = await openAdmin();
  await fireEvent.click(screen.getByTestId('admin-section-staff'));
  await fireEvent.click(await screen.findByTestId('staff-row'));
  await type('staff-new-pin', '12a');
  expect(screen.getByTestId('staff-new-pin-error').textContent).toBe('A PIN is 4 to 8 digits.');
  expect((screen.getByTestId('staff-set-pin') as HTMLButtonElement).disabled).toBe(true);
  await type('staff-new-pin', '4321');
  expect(screen.queryByTestId('staff-new-pin-error')).toBeNull();
  await fireEvent.click(screen.getByTestId('staff-set-pin'));
  await waitFor(() => expect(backend.callsTo('set_staff_pin')[0].args).toEqual({ staffId: rosa().id, pin: '4321' }));
  expect((await screen.findByTestId('staff-notice')).textContent).toContain('new PIN is set');
});

describe('stations, messages and alerts', () => {
  test('a station shows when it was last used and can be ended', async () => {
    const now = consoleOf('admin').now;
    const { backend } = await openAdmin({
      stations: [{ id: 'st-1', clinic_id: clinicId, name: 'Front desk PC', last_seen_at: now - 12 * 60_000 }],
    });
    await fireEvent.click(screen.getByTestId('admin-section-stations'));
    const row = await screen.findByTestId('station-row');
    expect(row.textContent).toContain('Front desk PC');
    expect(row.textContent).toContain('12 min ago');
    await fireEvent.click(within(row).getByTestId('station-end'));
    await fireEvent.click(within(row).getByTestId('station-end-confirm'));
    await waitFor(() => expect(backend.callsTo('end_station')[0].args).toEqual({ stationId: 'st-1' }));
    expect(await screen.findByTestId('stations-empty')).toBeTruthy();
  });

  test('a failed text is sent again from the messages list', async () => {
    const { backend } = await openAdmin({
      deliveries: [
        {
          id: 7,
          clinic_id: clinicId,
          visit_id: null,
          kind: 'declined',
          channel: 'sms',
          to: '+61400222333',
          subject: 'A note from Harbour Clinic',
          body: 'Hello',
          due_at: Date.now() - 5 * 60_000,
          state: 'failed',
          attempts: 8,
          last_error: 'the SMS gateway answered 503',
          next_at: Date.now(),
        },
      ],
    });
    await fireEvent.click(screen.getByTestId('admin-section-deliveries'));
    const row = await screen.findByTestId('delivery-row');
    expect(row.textContent).toContain('the SMS gateway answered 503');
    expect(backend.callsTo('deliveries')[0].args).toEqual({ state: 'failed' });
    await fireEvent.click(within(row).getByTestId('delivery-retry'));
    await waitFor(() => expect(backend.callsTo('retry_delivery')[0].args).toEqual({ deliveryId: 7 }));
    expect(await within(row).findByText('Queued to send again.')).toBeTruthy();
    expect(within(row).queryByTestId('delivery-retry')).toBeNull();
  });

  test('my alerts by room and channel are saved together', async () => {
    const { backend } = await openAdmin();
    await fireEvent.click(screen.getByTestId('admin-section-alerts'));
    const row = await screen.findByTestId('alerts-row');
    await fireEvent.click(within(row).getByTestId('alert-email'));
    await fireEvent.click(screen.getByTestId('alerts-save'));
    await waitFor(() =>
      expect(backend.callsTo('set_my_alerts')[0].args).toEqual({
        alerts: [{ room_id: reception().room.id, desktop: false, email: true, sms: false }],
      }),
    );
  });
});
