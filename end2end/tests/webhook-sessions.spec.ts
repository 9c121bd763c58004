import { expect, screenshot } from './fixtures';
import { card, createClientsViaApi, DEFAULT_KEY, gotoApp, reloadApp, row, signUpViaApi, switchView } from './helpers';
import { rmqttTargetArgs, rmqttTargetName, test, type Rmqtt, type RmqttFixtures } from './rmqtt';
import type { Page } from '@playwright/test';

// Keygate as the credential service of an external broker only: no embedded broker, the webhooks
// on, and a real rmqtt (rmqtt-test-broker) that asks them about every CONNECT and reports its
// devices' connects and disconnects to /webhooks/events.
test.use({
  keygateOptions: async ({ rmqttApiPort }, use) => {
    await use({ args: ['--no-broker', ...rmqttTargetArgs(rmqttApiPort)] });
  },
});

/** Signs up with boiler-03 and gate-east, and starts rmqtt. */
async function twoClientsAndRmqtt(page: Page, startRmqtt: RmqttFixtures['startRmqtt']) {
  await signUpViaApi(page, 'Acme Devices');
  await createClientsViaApi(page, [
    { client_id: 'boiler-03', name: 'Boiler room sensor 3' },
    { client_id: 'gate-east', name: 'East gate controller' },
  ]);
  return startRmqtt();
}

/**
 * Two devices of boiler-03 log in to rmqtt through the webhooks: form 3 (their own identifier, the
 * Client ID as username) over MQTT 5, form 1 (the Client ID as identifier, the namespace as
 * username) over MQTT 3.1.1.
 */
async function connectTwoDevices(rmqtt: Rmqtt, connectDevice: RmqttFixtures['connectDevice']) {
  const unit = await connectDevice(rmqtt.mqttPort, {
    identifier: 'boiler-room-unit-7',
    username: 'boiler-03',
    password: DEFAULT_KEY,
  });
  const gateway = await connectDevice(rmqtt.mqttPort, {
    identifier: 'boiler-03',
    username: 'acme-devices',
    password: DEFAULT_KEY,
    protocolVersion: 4,
  });
  return { unit, gateway };
}

/** rmqtt with boiler-03's two devices logged in, and the Clients page loaded after they were. */
async function twoDevicesOnRmqtt(
  page: Page,
  consoleErrors: string[],
  { startRmqtt, connectDevice }: Pick<RmqttFixtures, 'startRmqtt' | 'connectDevice'>,
) {
  const rmqtt = await twoClientsAndRmqtt(page, startRmqtt);
  const devices = await connectTwoDevices(rmqtt, connectDevice);
  await gotoApp(page, '/clients', consoleErrors);
  await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected · 2');
  return devices;
}

test('a client shows no badge and last seen never until its devices log in to rmqtt, then “Connected · 2” and now', async ({
  page,
  consoleErrors,
  startRmqtt,
  connectDevice,
}) => {
  const rmqtt = await twoClientsAndRmqtt(page, startRmqtt);
  await gotoApp(page, '/clients', consoleErrors);
  await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveCount(0);
  await expect(row(page, 'boiler-03').getByTestId('last-seen')).toHaveText('never');

  await connectTwoDevices(rmqtt, connectDevice);
  // The Clients page shows what it loaded; it does not refresh presence by itself.
  await reloadApp(page, consoleErrors);
  await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected · 2');
  await expect(row(page, 'boiler-03').getByTestId('last-seen')).toHaveText('now');
  await expect(row(page, 'gate-east').getByTestId('connected')).toHaveCount(0);
  await screenshot(page, 'webhook-sessions-list');

  expect(consoleErrors).toEqual([]);
});

test('the card view shows the same badge and last seen', async ({ page, consoleErrors, startRmqtt, connectDevice }) => {
  await twoDevicesOnRmqtt(page, consoleErrors, { startRmqtt, connectDevice });
  await switchView(page, 'cards');
  await expect(card(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected · 2');
  await expect(card(page, 'boiler-03').getByTestId('last-seen')).toHaveText('now');
  await expect(card(page, 'gate-east').getByTestId('connected')).toHaveCount(0);

  expect(consoleErrors).toEqual([]);
});

test('the Edit modal lists each session with its identifier, the rmqtt broker and the device’s address', async ({
  page,
  consoleErrors,
  rmqttApiPort,
  startRmqtt,
  connectDevice,
}) => {
  await twoDevicesOnRmqtt(page, consoleErrors, { startRmqtt, connectDevice });
  await switchView(page, 'cards');
  await card(page, 'boiler-03').getByTestId('edit').click();
  const sessions = page.getByTestId('live-sessions').locator('tbody tr');
  await expect(sessions).toHaveCount(2);
  for (const identifier of ['boiler-room-unit-7', 'boiler-03']) {
    const session = sessions.filter({
      has: page.locator('td:first-child', { hasText: new RegExp(`^${identifier}$`) }),
    });
    await expect(session).toHaveCount(1);
    await expect(session.locator('td').nth(1)).toHaveText(rmqttTargetName(rmqttApiPort));
    // The device's address as rmqtt reports it to the webhook (no port).
    await expect(session.locator('td').nth(2)).toHaveText('127.0.0.1');
  }
  await screenshot(page, 'webhook-sessions-edit');
  await page.keyboard.press('Escape');

  expect(consoleErrors).toEqual([]);
});

test('when one device disconnects, rmqtt reports it and the next page load counts one session', async ({
  page,
  consoleErrors,
  startRmqtt,
  connectDevice,
}) => {
  const { unit } = await twoDevicesOnRmqtt(page, consoleErrors, { startRmqtt, connectDevice });
  await switchView(page, 'cards');
  await unit.disconnect();
  await expect(async () => {
    await reloadApp(page, consoleErrors);
    await expect(card(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected', { timeout: 500 });
  }).toPass({ timeout: 15_000 });

  expect(consoleErrors).toEqual([]);
});

test('once both devices disconnect, the badge goes, last seen keeps the time and the Edit modal has no sessions', async ({
  page,
  consoleErrors,
  startRmqtt,
  connectDevice,
}) => {
  const { unit, gateway } = await twoDevicesOnRmqtt(page, consoleErrors, { startRmqtt, connectDevice });
  await switchView(page, 'cards');
  await unit.disconnect();
  await gateway.disconnect();
  await expect(async () => {
    await reloadApp(page, consoleErrors);
    await expect(card(page, 'boiler-03').getByTestId('connected')).toHaveCount(0, { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await expect(card(page, 'boiler-03').getByTestId('last-seen')).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
  await card(page, 'boiler-03').getByTestId('edit').click();
  await expect(page.getByTestId('live-sessions-empty')).toHaveText('No live sessions.');

  expect(consoleErrors).toEqual([]);
});
