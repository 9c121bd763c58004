import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect, screenshot } from './fixtures';
import { createClientsViaApi, gotoApp, row, signUpViaApi, toast } from './helpers';

/** A stand-in for an external broker's admin API (rmqtt's), answering with `status`. */
let status = 503;
let calls: string[] = [];
let server: http.Server;
let port = 0;

test.beforeAll(async () => {
  server = http.createServer((req, res) => {
    calls.push(`${req.method} ${req.url} ${status}`);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end('{"code":"unavailable"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

test.afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test.beforeEach(() => {
  status = 503;
  calls = [];
});

// Resolved per test, after beforeAll has chosen the port.
test.use({
  keygateOptions: async ({}, use) => {
    await use({
      args: ['--broker-target', `rmqtt=http://127.0.0.1:${port}`, '--revocation-retry-max-secs', '1'],
    });
  },
});

test('revocation progress on the client, and broker health on Settings → Brokers', async ({ page, consoleErrors }) => {
  await signUpViaApi(page, 'Acme Devices');
  await createClientsViaApi(page, [
    { client_id: 'boiler-03', name: 'Boiler room sensor 3' },
    { client_id: 'gate-east', name: 'East gate controller' },
  ]);
  await gotoApp(page, '/clients', consoleErrors);
  await expect(page.getByTestId('revocation')).toHaveCount(0);

  // Deactivate while the external broker fails: the embedded one confirms, the external one not yet.
  await row(page, 'boiler-03').getByTestId('active-switch').click();
  await expect(toast(page, 'boiler-03 deactivated')).toBeVisible();
  const progress = row(page, 'boiler-03').getByTestId('revocation');
  await expect(progress).toHaveText('Disconnecting… 1 of 2 brokers');
  await expect(progress).toHaveAttribute('data-done', 'false');
  await expect(row(page, 'gate-east').getByTestId('revocation')).toHaveCount(0);
  await screenshot(page, 'revocation-pending');

  // Settings → Brokers: the embedded broker is healthy, the external one failing with its error.
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByTestId('brokers-tab').click();
  await expect(page).toHaveURL(/\/settings\/brokers$/);
  const brokers = page.getByTestId('brokers');
  const embedded = brokers.locator('tr[data-target="embedded:keygate"]');
  const external = brokers.locator(`tr[data-target="rmqtt:127.0.0.1:${port}"]`);
  await expect(embedded.getByTestId('health')).toHaveText('Healthy');
  await expect(embedded.getByTestId('queue')).toHaveText('empty');
  await expect(external.getByTestId('health')).toHaveText(/^Failing · \d+ attempts?$/);
  await expect(external.getByTestId('queue')).toContainText('1 waiting');
  await expect(external.getByTestId('last-error')).toContainText('rmqtt answered 503');
  await expect(external.getByTestId('last-success')).toHaveText('never');
  await expect(external).toContainText(`http://127.0.0.1:${port}`);
  await expect(page.getByTestId('webhooks')).toContainText('Off');
  await screenshot(page, 'brokers-failing');

  // The broker recovers; the page refreshes itself.
  status = 204;
  await expect(external.getByTestId('health')).toHaveText('Healthy', { timeout: 15_000 });
  await expect(external.getByTestId('queue')).toHaveText('empty');
  await expect(external.getByTestId('last-success')).toHaveText(/s ago$/);
  await screenshot(page, 'brokers-healthy');
  expect(calls.filter((c) => c.endsWith(' 204'))).toEqual(['DELETE /api/v1/clients/boiler-03 204']);

  // Back on the Clients page the revocation is done on both.
  await page.getByRole('link', { name: 'Clients' }).click();
  await expect(row(page, 'boiler-03').getByTestId('revocation')).toHaveText('Disconnected · done on 2 of 2 brokers');

  // While it is pending the badge follows progress by itself, without a reload.
  status = 503;
  await row(page, 'gate-east').getByTestId('active-switch').click();
  const second = row(page, 'gate-east').getByTestId('revocation');
  await expect(second).toHaveText('Disconnecting… 1 of 2 brokers');
  status = 204;
  await expect(second).toHaveText('Disconnected · done on 2 of 2 brokers', { timeout: 15_000 });
  await expect(second).toHaveAttribute('data-done', 'true');
  expect(consoleErrors).toEqual([]);
});
