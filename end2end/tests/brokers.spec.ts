import { expect, screenshot } from './fixtures';
import { createClientsViaApi, DEFAULT_KEY, gotoApp, reloadApp, row, signUpViaApi, toast } from './helpers';
import { rmqttTargetArgs, rmqttTargetName, test } from './rmqtt';

// Keygate with its embedded broker and a real external rmqtt (rmqtt-test-broker) as the second
// revocation target; devices log in to rmqtt through the webhooks. Failed deliveries are retried
// at least once a second.
test.use({
  keygateOptions: async ({ rmqttApiPort }, use) => {
    await use({ args: [...rmqttTargetArgs(rmqttApiPort), '--revocation-retry-max-secs', '1'] });
  },
});

test('revocation progress on the client, and broker health on Settings → Brokers', async ({
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
  // Connection form 3: the device chooses its identifier, the username is the Client ID.
  await connectDevice(rmqtt.mqttPort, {
    identifier: 'boiler-room-unit-7',
    username: 'boiler-03',
    password: DEFAULT_KEY,
  });

  await gotoApp(page, '/clients', consoleErrors);
  await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected');
  await expect(page.getByTestId('revocation')).toHaveCount(0);

  // The broker goes down (its device's connection with it). Deactivate meanwhile: the embedded
  // broker confirms at once, rmqtt cannot be reached.
  await rmqtt.stop();
  await row(page, 'boiler-03').getByTestId('active-switch').click();
  await expect(toast(page, 'boiler-03 deactivated')).toBeVisible();
  const progress = row(page, 'boiler-03').getByTestId('revocation');
  await expect(progress).toHaveText('Disconnecting… 1 of 2 brokers');
  await expect(progress).toHaveAttribute('data-done', 'false');
  await expect(row(page, 'gate-east').getByTestId('revocation')).toHaveCount(0);
  await screenshot(page, 'revocation-pending');

  // Settings → Brokers, in a second tab (the Clients page stays open): the embedded broker is
  // healthy, rmqtt failing with its error.
  const settings = await page.context().newPage();
  settings.on('pageerror', (error) => consoleErrors.push(`settings pageerror: ${error.message}`));
  settings.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`settings console.error: ${message.text()}`);
  });
  await gotoApp(settings, '/settings/brokers', consoleErrors);
  const brokers = settings.getByTestId('brokers');
  const embedded = brokers.locator('tr[data-target="embedded:keygate"]');
  const external = brokers.locator(`tr[data-target="${rmqttTargetName(rmqttApiPort)}"]`);
  await expect(embedded.getByTestId('health')).toHaveText('Healthy');
  await expect(embedded.getByTestId('queue')).toHaveText('empty');
  await expect(external.getByTestId('health')).toHaveText(/^Failing · \d+ attempts?$/);
  await expect(external.getByTestId('queue')).toContainText('1 waiting');
  await expect(external.getByTestId('last-error')).toContainText('cannot connect');
  await expect(external.getByTestId('last-success')).toHaveText('never');
  await expect(external).toContainText(`http://127.0.0.1:${rmqttApiPort}`);
  await expect(settings.getByTestId('webhooks')).toContainText('On');
  await screenshot(settings, 'brokers-failing');

  // rmqtt starts again on the same ports. Both pages follow by themselves, without a reload:
  // Settings → Brokers refreshes every few seconds, a pending badge asks for its progress.
  const again = await startRmqtt({ mqttPort: rmqtt.mqttPort });
  expect(again.api).toBe(rmqtt.api);
  await expect(external.getByTestId('health')).toHaveText('Healthy', { timeout: 15_000 });
  await expect(external.getByTestId('queue')).toHaveText('empty');
  await expect(external.getByTestId('last-success')).toHaveText(/s ago$/);
  await expect(embedded.getByTestId('health')).toHaveText('Healthy');
  await screenshot(settings, 'brokers-healthy');
  await expect(progress).toHaveText('Disconnected · done on 2 of 2 brokers', { timeout: 15_000 });
  await expect(progress).toHaveAttribute('data-done', 'true');
  await expect(row(page, 'gate-east').getByTestId('revocation')).toHaveCount(0);

  // The revocation closed what rmqtt knew of the device: no longer Connected.
  await reloadApp(page, consoleErrors);
  await expect(row(page, 'boiler-03').getByTestId('revocation')).toHaveText('Disconnected · done on 2 of 2 brokers');
  await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});
