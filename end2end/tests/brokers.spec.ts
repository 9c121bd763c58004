// A revocation while an external broker is down: its progress on the client, the brokers' health on
// Settings → Brokers, and both following by themselves once the broker is back.
import { expect, screenshot } from './fixtures';
import { createClientsViaApi, DEFAULT_KEY, gotoApp, reloadApp, row, setActiveViaApi, signUpViaApi, toast } from './helpers';
import { rmqttTargetArgs, rmqttTargetName, test, type Rmqtt, type RmqttFixtures } from './rmqtt';
import type { Page } from '@playwright/test';

// Keygate with its embedded broker and a real external rmqtt (rmqtt-test-broker) as the second
// revocation target; devices log in to rmqtt through the webhooks. Failed deliveries are retried
// at least once a second.
test.use({
  keygateOptions: async ({ rmqttApiPort }, use) => {
    await use({ args: [...rmqttTargetArgs(rmqttApiPort), '--revocation-retry-max-secs', '1'] });
  },
});

/**
 * boiler-03 and gate-east, with a device of boiler-03 on rmqtt. Then rmqtt goes down (its device's
 * connection with it) and boiler-03 is deactivated meanwhile: the embedded broker confirms at once,
 * rmqtt cannot be reached. With `onClientsPage` the deactivation is a click on the switch of the
 * open Clients page; without, it goes through the API and no page is open.
 */
async function deactivatedWhileRmqttIsDown(
  page: Page,
  consoleErrors: string[],
  { startRmqtt, connectDevice }: Pick<RmqttFixtures, 'startRmqtt' | 'connectDevice'>,
  { onClientsPage }: { onClientsPage: boolean },
): Promise<Rmqtt> {
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

  if (!onClientsPage) {
    await rmqtt.stop();
    await setActiveViaApi(page, 'boiler-03', false);
    return rmqtt;
  }
  await gotoApp(page, '/clients', consoleErrors);
  await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected');
  await expect(page.getByTestId('revocation')).toHaveCount(0);
  await rmqtt.stop();
  await row(page, 'boiler-03').getByTestId('active-switch').click();
  await expect(toast(page, 'boiler-03 deactivated')).toBeVisible();
  return rmqtt;
}

/** rmqtt starts again on the same ports. */
async function restart(rmqtt: Rmqtt, startRmqtt: RmqttFixtures['startRmqtt']) {
  const again = await startRmqtt({ mqttPort: rmqtt.mqttPort });
  expect(again.api).toBe(rmqtt.api);
}

/** Opens Settings → Brokers; returns the rows of the embedded broker and of rmqtt. */
async function brokersPage(page: Page, consoleErrors: string[], rmqttApiPort: number) {
  await gotoApp(page, '/settings/brokers', consoleErrors);
  const brokers = page.getByTestId('brokers');
  return {
    embedded: brokers.locator('tr[data-target="embedded:keygate"]'),
    external: brokers.locator(`tr[data-target="${rmqttTargetName(rmqttApiPort)}"]`),
  };
}

test('while rmqtt is down, a deactivation shows “Disconnecting… 1 of 2 brokers” on that client only', async ({
  page,
  consoleErrors,
  startRmqtt,
  connectDevice,
}) => {
  await deactivatedWhileRmqttIsDown(page, consoleErrors, { startRmqtt, connectDevice }, { onClientsPage: true });
  const progress = row(page, 'boiler-03').getByTestId('revocation');
  await expect(progress).toHaveText('Disconnecting… 1 of 2 brokers');
  await expect(progress).toHaveAttribute('data-done', 'false');
  await expect(row(page, 'gate-east').getByTestId('revocation')).toHaveCount(0);
  await screenshot(page, 'revocation-pending');

  expect(consoleErrors).toEqual([]);
});

test('Settings → Brokers shows the embedded broker healthy and the down rmqtt failing, with its error', async ({
  page,
  consoleErrors,
  rmqttApiPort,
  startRmqtt,
  connectDevice,
}) => {
  await deactivatedWhileRmqttIsDown(page, consoleErrors, { startRmqtt, connectDevice }, { onClientsPage: false });
  const { embedded, external } = await brokersPage(page, consoleErrors, rmqttApiPort);
  await expect(embedded.getByTestId('health')).toHaveText('Healthy');
  await expect(embedded.getByTestId('queue')).toHaveText('empty');
  await expect(external.getByTestId('health')).toHaveText(/^Failing · \d+ attempts?$/);
  await expect(external.getByTestId('queue')).toContainText('1 waiting');
  await expect(external.getByTestId('last-error')).toContainText('cannot connect');
  await expect(external.getByTestId('last-success')).toHaveText('never');
  await expect(external).toContainText(`http://127.0.0.1:${rmqttApiPort}`);
  await expect(page.getByTestId('webhooks')).toContainText('On');
  await screenshot(page, 'brokers-failing');

  expect(consoleErrors).toEqual([]);
});

test('once rmqtt is back, Settings → Brokers shows it healthy by itself, without a reload', async ({
  page,
  consoleErrors,
  rmqttApiPort,
  startRmqtt,
  connectDevice,
}) => {
  const rmqtt = await deactivatedWhileRmqttIsDown(
    page,
    consoleErrors,
    { startRmqtt, connectDevice },
    { onClientsPage: false },
  );
  const { embedded, external } = await brokersPage(page, consoleErrors, rmqttApiPort);
  await expect(external.getByTestId('health')).toHaveText(/^Failing · \d+ attempts?$/);

  // Settings → Brokers refreshes every few seconds.
  await restart(rmqtt, startRmqtt);
  await expect(external.getByTestId('health')).toHaveText('Healthy', { timeout: 15_000 });
  await expect(external.getByTestId('queue')).toHaveText('empty');
  await expect(external.getByTestId('last-success')).toHaveText(/s ago$/);
  await expect(embedded.getByTestId('health')).toHaveText('Healthy');
  await screenshot(page, 'brokers-healthy');

  expect(consoleErrors).toEqual([]);
});

test('once rmqtt is back, the pending revocation completes on the Clients page by itself, without a reload', async ({
  page,
  consoleErrors,
  startRmqtt,
  connectDevice,
}) => {
  const rmqtt = await deactivatedWhileRmqttIsDown(
    page,
    consoleErrors,
    { startRmqtt, connectDevice },
    { onClientsPage: true },
  );
  const progress = row(page, 'boiler-03').getByTestId('revocation');
  await expect(progress).toHaveText('Disconnecting… 1 of 2 brokers');

  // A pending badge asks for its progress.
  await restart(rmqtt, startRmqtt);
  await expect(progress).toHaveText('Disconnected · done on 2 of 2 brokers', { timeout: 15_000 });
  await expect(progress).toHaveAttribute('data-done', 'true');
  await expect(row(page, 'gate-east').getByTestId('revocation')).toHaveCount(0);

  expect(consoleErrors).toEqual([]);
});

test('the completed revocation closed what rmqtt knew of the device: after a reload it is not Connected', async ({
  page,
  consoleErrors,
  startRmqtt,
  connectDevice,
}) => {
  const rmqtt = await deactivatedWhileRmqttIsDown(
    page,
    consoleErrors,
    { startRmqtt, connectDevice },
    { onClientsPage: true },
  );
  const progress = row(page, 'boiler-03').getByTestId('revocation');
  await restart(rmqtt, startRmqtt);
  await expect(progress).toHaveText('Disconnected · done on 2 of 2 brokers', { timeout: 15_000 });

  await reloadApp(page, consoleErrors);
  await expect(row(page, 'boiler-03').getByTestId('revocation')).toHaveText('Disconnected · done on 2 of 2 brokers');
  await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveCount(0);

  expect(consoleErrors).toEqual([]);
});
