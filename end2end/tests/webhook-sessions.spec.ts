import { expect, screenshot } from './fixtures';
import { card, createClientsViaApi, DEFAULT_KEY, gotoApp, reloadApp, row, signUpViaApi } from './helpers';
import { rmqttTargetArgs, rmqttTargetName, test } from './rmqtt';

// Keygate as the credential service of an external broker only: no embedded broker, the webhooks
// on, and a real rmqtt (rmqtt-test-broker) that asks them about every CONNECT and reports its
// devices' connects and disconnects to /webhooks/events.
test.use({
  keygateOptions: async ({ rmqttApiPort }, use) => {
    await use({ args: ['--no-broker', ...rmqttTargetArgs(rmqttApiPort)] });
  },
});

test('devices on an external broker show as Connected in both views and as live sessions in the Edit modal', async ({
  page,
  consoleErrors,
  rmqttApiPort,
  startRmqtt,
  connectDevice,
}) => {
  await signUpViaApi(page, 'Acme Devices');
  await createClientsViaApi(page, [
    { client_id: 'boiler-03', name: 'Boiler room sensor 3' },
    { client_id: 'gate-east', name: 'East gate controller' },
  ]);
  const rmqtt = await startRmqtt();

  await gotoApp(page, '/clients', consoleErrors);
  await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveCount(0);
  await expect(row(page, 'boiler-03').getByTestId('last-seen')).toHaveText('never');

  // Two devices of boiler-03 log in to rmqtt through the webhooks: form 3 (their own identifier,
  // the Client ID as username) over MQTT 5, form 1 (the Client ID as identifier, the namespace as
  // username) over MQTT 3.1.1.
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

  // The Clients page shows what it loaded; it does not refresh presence by itself.
  await reloadApp(page, consoleErrors);
  await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected · 2');
  await expect(row(page, 'boiler-03').getByTestId('last-seen')).toHaveText('now');
  await expect(row(page, 'gate-east').getByTestId('connected')).toHaveCount(0);
  await screenshot(page, 'webhook-sessions-list');

  // The card view shows the same.
  const saved = page.waitForResponse((r) => r.url().includes('/api/account/set_view') && r.ok());
  await page.getByTestId('view-cards').click();
  await saved;
  await expect(card(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected · 2');
  await expect(card(page, 'boiler-03').getByTestId('last-seen')).toHaveText('now');
  await expect(card(page, 'gate-east').getByTestId('connected')).toHaveCount(0);

  // The Edit modal lists each session with its identifier and the broker it is on.
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

  // A device disconnects; rmqtt reports it, and the next load of the page counts one session.
  await unit.disconnect();
  await expect(async () => {
    await reloadApp(page, consoleErrors);
    await expect(card(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected', { timeout: 500 });
  }).toPass({ timeout: 15_000 });

  // The other one too: the badge goes, "last seen" keeps the time.
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
