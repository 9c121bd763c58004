// What each client is doing, in the browser: wrong keys sent with Debian's mosquitto_pub show in
// the Edit modal as the last failed login, the count and the lock-out; Clear lock-out lets the
// right key in at once; Disconnect all sessions asks first, closes a device's live session, and
// the device connects again with its key; a viewer sees the logins without either button.
import { spawnSync } from 'node:child_process';
import { connectDevice, type Device } from './devices';
import { test as base, expect, screenshot } from './fixtures';
import { createClientsViaApi, DEFAULT_KEY, gotoApp, PASSWORD, row, signUpViaApi, toast, unexpectedErrors } from './helpers';
import type { Page } from '@playwright/test';

const CLIENT = 'boiler-03';
const NAMESPACE = 'acme-devices';

const test = base.extend({
  // Two wrong keys are free, the third locks for two minutes: only Clear lock-out lets a device
  // in during the test.
  keygateOptions: [{ args: ['--mqtt-lockout-after', '2', '--mqtt-lockout-ms', '120000'] }, { option: true }],
});

/** One CONNECT with `key` (and a publish when let in) by mosquitto_pub; whether it got in. */
function publish(port: number, key: string): boolean {
  const run = spawnSync(
    'mosquitto_pub',
    ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv5', '-i', CLIENT, '-u', NAMESPACE, '-P', key, '-t', `${NAMESPACE}/devices/${CLIENT}/t`, '-m', '21.5'],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return run.status === 0;
}

/** The client's device, connected over MQTT 5 in connection form 1 with the client's key. */
function device(port: number): Promise<Device> {
  return connectDevice(port, { identifier: CLIENT, username: NAMESPACE, password: DEFAULT_KEY });
}

async function openEdit(page: Page) {
  await row(page, CLIENT).getByTestId('edit').click();
  const modal = page.getByTestId('edit-client-modal');
  await expect(modal).toBeVisible();
  return modal;
}

test('wrong keys show as the last failed login and a lock-out, and Clear lock-out lets the right key in at once', async ({
  page,
  keygate,
  consoleErrors,
}) => {
  await signUpViaApi(page, 'Acme Devices');
  await createClientsViaApi(page, [{ client_id: CLIENT, name: 'Boiler room sensor 3' }]);
  for (let i = 0; i < 3; i++) expect(publish(keygate.mqttPort, 'a-wrong-key-0123456789'), `wrong key ${i}`).toBe(false);
  expect(publish(keygate.mqttPort, DEFAULT_KEY), 'locked out: the right key is refused too').toBe(false);

  await gotoApp(page, '/clients', consoleErrors);
  const modal = await openEdit(page);
  const logins = modal.getByTestId('login-activity');
  await expect(logins.getByTestId('failures-24h')).toHaveText('4');
  await expect(logins.getByTestId('last-failure')).toHaveText(/ UTC · locked out · from 127\.0\.0\.1$/);
  await expect(logins.getByTestId('lockout')).toContainText(/^Locked out · (1 min \d+ s|2 min) left · new devices are refused$/);
  await logins.scrollIntoViewIfNeeded();
  await screenshot(page, 'client-activity-locked');

  await logins.getByTestId('clear-lockout').click();
  await expect(toast(page, `Lock-out of ${CLIENT} cleared`)).toBeVisible();
  await expect(logins.getByTestId('lockout')).toHaveText('Not locked out');
  await expect(logins.getByTestId('clear-lockout')).toHaveCount(0);
  await expect(logins.getByTestId('failures-24h')).toHaveText('4');
  expect(publish(keygate.mqttPort, DEFAULT_KEY), 'the right key gets in at once').toBe(true);

  // The activity log says who cleared it.
  await page.keyboard.press('Escape');
  await gotoApp(page, '/settings/activity?what=client.lockout_cleared', consoleErrors);
  const events = page.getByTestId('activity').locator('tbody tr');
  await expect(events).toHaveCount(1);
  await expect(events).toContainText(CLIENT);
  await expect(events).toContainText("lifted the client's lock");
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('Disconnect all sessions asks first, closes the live session, and the device reconnects with its key', async ({
  page,
  keygate,
  consoleErrors,
}) => {
  await signUpViaApi(page, 'Acme Devices');
  await createClientsViaApi(page, [{ client_id: CLIENT, name: 'Boiler room sensor 3' }]);
  const devices: Device[] = [await device(keygate.mqttPort)];
  try {
    await expect(async () => {
      await gotoApp(page, '/clients', consoleErrors);
      await expect(row(page, CLIENT).getByTestId('connected')).toHaveText('Connected', { timeout: 500 });
    }).toPass({ timeout: 15_000 });

    const modal = await openEdit(page);
    await modal.getByTestId('disconnect-all').click();
    const confirm = modal.getByTestId('disconnect-all-confirm');
    await expect(confirm).toContainText(`Close every live session of ${CLIENT} on every broker`);
    await confirm.scrollIntoViewIfNeeded();
    await screenshot(page, 'client-activity-disconnect-confirm');
    // Cancel changes nothing.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(confirm).toHaveCount(0);
    await page.waitForTimeout(500);
    expect(devices[0].connected(), 'Cancel leaves the device connected').toBe(true);

    await modal.getByTestId('disconnect-all').click();
    await modal.getByTestId('confirm-disconnect-all').click();
    await expect(toast(page, `Disconnecting every session of ${CLIENT}`)).toBeVisible();
    await expect(modal.getByTestId('revocation')).toHaveText('Disconnected · done on 1 of 1 broker', { timeout: 10_000 });
    await expect.poll(() => devices[0].connected(), { timeout: 10_000 }).toBe(false);
    // The same key, the same identifier: let in again at once.
    devices.push(await device(keygate.mqttPort));
    await page.waitForTimeout(1_000);
    expect(devices[1].connected(), 'the new session stays open').toBe(true);
    await modal.getByTestId('revocation').scrollIntoViewIfNeeded();
    await screenshot(page, 'client-activity-disconnected');

    // Still active; the list shows the revocation too, and the activity log the change.
    await page.keyboard.press('Escape');
    await expect(row(page, CLIENT).getByTestId('active-switch')).toBeChecked();
    await expect(row(page, CLIENT).getByTestId('revocation')).toContainText('Disconnected');
    await gotoApp(page, '/settings/activity?what=client.sessions_disconnected', consoleErrors);
    await expect(page.getByTestId('activity').locator('tbody tr')).toHaveCount(1);
  } finally {
    await Promise.all(devices.map((d) => d.disconnect()));
  }
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('a viewer sees a client’s logins without Clear lock-out or Disconnect all sessions', async ({
  page,
  keygate,
  consoleErrors,
  newContextPage,
}) => {
  await signUpViaApi(page, 'Acme Devices');
  await createClientsViaApi(page, [{ client_id: CLIENT, name: 'Boiler room sensor 3' }]);
  for (let i = 0; i < 3; i++) publish(keygate.mqttPort, 'a-wrong-key-0123456789');
  const email = `viewer-${Date.now()}@example.com`;
  const invited = await page.request.post('/api/members/invite', { form: { email, role: 'viewer' } });
  expect(invited.ok(), await invited.text()).toBeTruthy();
  const token = ((await invited.json()) as { path: string }).path.replace('/invite/', '');
  const viewer = await newContextPage('viewer');
  const accepted = await viewer.request.post('/api/members/accept', { form: { token, password: PASSWORD } });
  expect(accepted.ok(), await accepted.text()).toBeTruthy();

  // The Logins modal is code of its own (a `#[lazy]` function), fetched when it opens.
  const split = (await (await viewer.request.get('/pkg/__wasm_split_manifest.json')).json()) as Record<string, string[]>;
  const names = Object.keys(split).filter((name) => name.startsWith('login_activity_modal_'));
  expect(names).toHaveLength(1);
  const chunks = split[names[0]].map((chunk) => (chunk.endsWith('.wasm') ? chunk : `${chunk}.wasm`));
  const fetched = new Set<string>();
  viewer.on('response', (response) => fetched.add(new URL(response.url()).pathname.split('/').pop() ?? ''));
  await gotoApp(viewer, '/clients', consoleErrors);
  expect(chunks.filter((chunk) => !fetched.has(chunk)).length, 'not loaded by /clients').toBeGreaterThan(0);
  await expect(row(viewer, CLIENT).getByTestId('edit')).toHaveCount(0);
  await row(viewer, CLIENT).getByTestId('logins').click();
  const modal = viewer.getByTestId('login-activity-modal');
  await expect(modal).toHaveAccessibleName(`Logins of ${CLIENT}`);
  expect(chunks.filter((chunk) => !fetched.has(chunk)), 'loaded when it opens').toEqual([]);
  await expect(modal.getByTestId('failures-24h')).toHaveText('3');
  await expect(modal.getByTestId('last-failure')).toContainText('wrong key · from 127.0.0.1');
  await expect(modal.getByTestId('lockout')).toContainText('Locked out');
  await expect(modal.getByTestId('clear-lockout')).toHaveCount(0);
  await expect(modal.getByTestId('disconnect-all')).toHaveCount(0);
  await screenshot(viewer, 'client-activity-viewer');
  // The owner has no Logins button: their Edit modal shows the same.
  await gotoApp(page, '/clients', consoleErrors);
  await expect(row(page, CLIENT).getByTestId('logins')).toHaveCount(0);
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});
