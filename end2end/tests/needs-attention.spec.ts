import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, screenshot } from './fixtures';
import { createClientsViaApi, DEFAULT_KEY, gotoApp, row, signUpViaApi, toast } from './helpers';
import { test as rmqttTest, rmqttTargetArgs, rmqttTargetName, WEBHOOK_SECRET } from './rmqtt';

/** A stand-in for rmqtt's admin API: answers every call with `status`, and records it. */
interface StandIn {
  port: number;
  status: number;
  calls: string[];
}

// The first test needs a broker that refuses a revocation with an unexpected status (405) and,
// once fixed, takes it while keygate runs on. A real rmqtt cannot be made to: it answers 405 only
// to a target URL with a wrong path (no such route), which only restarting keygate with the right
// URL fixes. So there a Node server stands in for rmqtt's admin API. The refusal a real rmqtt can
// make and then stop making, 401 for an admin token the target lacks, is the second test's.
const test = rmqttTest.extend<{ standIn: StandIn }>({
  standIn: async ({}, use) => {
    const standIn: StandIn = { port: 0, status: 405, calls: [] };
    const server = http.createServer((req, res) => {
      standIn.calls.push(`${req.method} ${req.url} ${standIn.status}`);
      if (standIn.status === 204) {
        res.writeHead(204).end();
      } else {
        res.writeHead(standIn.status, { 'content-type': 'application/json' });
        res.end('{"code":405,"message":"method not allowed"}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    standIn.port = (server.address() as AddressInfo).port;
    await use(standIn);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  },
});

test.describe('a stand-in broker answering 405', () => {
  test.use({
    keygateOptions: async ({ standIn }, use) => {
      await use({ args: [...rmqttTargetArgs(standIn.port), '--revocation-retry-max-secs', '1'] });
    },
  });

  test('a revocation the broker refuses needs attention, and Retry delivers it once the broker is fixed', async ({
    page,
    consoleErrors,
    standIn,
  }) => {
    const target = rmqttTargetName(standIn.port);
    await signUpViaApi(page, 'Acme Devices');
    await createClientsViaApi(page, [
      { client_id: 'boiler-03', name: 'Boiler room sensor 3' },
      { client_id: 'gate-east', name: 'East gate controller' },
    ]);

    // A device logs in to the broker: the broker asks the authentication webhook as rmqtt and EMQX
    // do, and Keygate records the session.
    const login = await page.request.post(`/webhooks/emqx/authn?broker=${encodeURIComponent(target)}`, {
      headers: { authorization: `Bearer ${WEBHOOK_SECRET}` },
      data: { clientid: 'boiler-room-unit-7', username: 'boiler-03', password: DEFAULT_KEY, peerhost: '127.0.0.1' },
    });
    expect(login.ok(), `the webhook answered ${login.status()}`).toBeTruthy();
    expect((await login.json()).result).toBe('allow');

    await gotoApp(page, '/clients', consoleErrors);
    await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected');

    // Deactivate: the embedded broker confirms, the broker refuses with a 405, which retrying
    // cannot fix. The revocation is set aside and says so.
    await row(page, 'boiler-03').getByTestId('active-switch').click();
    await expect(toast(page, 'boiler-03 deactivated')).toBeVisible();
    const badge = row(page, 'boiler-03').getByTestId('revocation');
    await expect(badge).toHaveText('Needs attention · done on 1 of 2 brokers');
    await expect(badge).toHaveClass('revocation attention');
    await expect(badge).toHaveAttribute('title', /rmqtt answered 405/);
    await expect(badge).toHaveAttribute('title', /Settings → Brokers can retry it/);
    expect(standIn.calls).toContain('DELETE /api/v1/clients/boiler-room-unit-7 405');

    // The queue goes on: a client holding nothing on the broker is done on both at once.
    await row(page, 'gate-east').getByTestId('active-switch').click();
    await expect(row(page, 'gate-east').getByTestId('revocation')).toHaveText('Disconnected · done on 2 of 2 brokers');
    await screenshot(page, 'revocation-needs-attention');

    // Settings → Brokers names the target, the error and a Retry.
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByTestId('brokers-tab').click();
    await expect(page).toHaveURL(/\/settings\/brokers$/);
    const external = page.getByTestId('brokers').locator(`tr[data-target="${target}"]`);
    await expect(external.getByTestId('health')).toHaveText('Needs attention');
    const attention = external.getByTestId('needs-attention');
    await expect(attention).toContainText('1 needs attention');
    await expect(attention).toContainText('rmqtt answered 405');
    await expect(external.getByTestId('last-error')).toContainText('405');
    const retry = attention.getByTestId('retry-set-aside');
    await expect(retry).toBeVisible();
    await screenshot(page, 'brokers-needs-attention');

    // The broker is fixed; Retry delivers the revocation.
    standIn.status = 204;
    await retry.click();
    await expect(external.getByTestId('health')).toHaveText('Healthy', { timeout: 15_000 });
    await expect(external.getByTestId('needs-attention')).toHaveCount(0);
    await expect(external.getByTestId('queue')).toHaveText('empty');
    await expect(external.getByTestId('last-success')).toHaveText(/s ago$/);
    expect(standIn.calls).toContain('DELETE /api/v1/clients/boiler-room-unit-7 204');

    await page.getByRole('link', { name: 'Clients' }).click();
    await expect(row(page, 'boiler-03').getByTestId('revocation')).toHaveText('Disconnected · done on 2 of 2 brokers');
    await expect(row(page, 'boiler-03').getByTestId('revocation')).toHaveAttribute('data-done', 'true');
    await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveCount(0);
    expect(consoleErrors).toEqual([]);
  });
});

test.describe('the real rmqtt, its admin token missing from the target', () => {
  test.use({
    keygateOptions: async ({ rmqttApiPort }, use) => {
      await use({ args: [...rmqttTargetArgs(rmqttApiPort), '--revocation-retry-max-secs', '1'] });
    },
  });

  test('a broker refusing Keygate (401) needs attention until it lets Keygate in and Retry is clicked', async ({
    page,
    consoleErrors,
    rmqttApiPort,
    startRmqtt,
    connectDevice,
  }) => {
    const target = rmqttTargetName(rmqttApiPort);
    await signUpViaApi(page, 'Acme Devices');
    await createClientsViaApi(page, [{ client_id: 'boiler-03', name: 'Boiler room sensor 3' }]);
    // rmqtt's admin API wants a token the broker target was not given.
    const rmqtt = await startRmqtt({ apiToken: 'rmqtt-admin-token-keygate-lacks' });
    const device = await connectDevice(rmqtt.mqttPort, {
      identifier: 'boiler-room-unit-7',
      username: 'boiler-03',
      password: DEFAULT_KEY,
    });
    await gotoApp(page, '/clients', consoleErrors);
    await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected');

    await row(page, 'boiler-03').getByTestId('active-switch').click();
    const badge = row(page, 'boiler-03').getByTestId('revocation');
    await expect(badge).toHaveText('Needs attention · done on 1 of 2 brokers');
    await expect(badge).toHaveAttribute('title', /rmqtt answered 401/);
    // Nothing closed the device's session there: that is what needs attention.
    expect(device.connected()).toBe(true);

    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByTestId('brokers-tab').click();
    const external = page.getByTestId('brokers').locator(`tr[data-target="${target}"]`);
    await expect(external.getByTestId('health')).toHaveText('Needs attention');
    await expect(external.getByTestId('needs-attention')).toContainText('rmqtt answered 401');

    // The operator takes the token off the admin API (rmqtt restarts on the same ports), then
    // clicks Retry.
    await rmqtt.stop();
    await startRmqtt({ mqttPort: rmqtt.mqttPort });
    await external.getByTestId('retry-set-aside').click();
    await expect(external.getByTestId('health')).toHaveText('Healthy', { timeout: 15_000 });
    await expect(external.getByTestId('needs-attention')).toHaveCount(0);

    await page.getByRole('link', { name: 'Clients' }).click();
    await expect(row(page, 'boiler-03').getByTestId('revocation')).toHaveText('Disconnected · done on 2 of 2 brokers');
    expect(consoleErrors).toEqual([]);
  });
});
