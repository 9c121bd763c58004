import { spawn, type ChildProcess } from 'node:child_process';
import { test, expect, screenshot } from './fixtures';
import { card, createClientsViaApi, DEFAULT_KEY, gotoApp, reloadApp, row, signUpViaApi } from './helpers';

/** A device holding an MQTT connection open: Debian's mosquitto_sub, subscribed in its namespace. */
function device(port: number, args: string[]): ChildProcess {
  const child = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-P', DEFAULT_KEY, '-t', 'acme-devices/#', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (d) => console.error(`mosquitto_sub: ${d}`));
  return child;
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

test('connected devices show as a badge in both views and as live sessions in the Edit modal', async ({
  page,
  keygate,
  consoleErrors,
}) => {
  await signUpViaApi(page, 'Acme Devices');
  await createClientsViaApi(page, [
    { client_id: 'boiler-03', name: 'Boiler room sensor 3' },
    { client_id: 'gate-east', name: 'East gate controller' },
  ]);

  await gotoApp(page, '/clients', consoleErrors);
  await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveCount(0);
  await expect(row(page, 'boiler-03').getByTestId('last-seen')).toHaveText('never');

  // Two devices of boiler-03: form 1 over MQTT 5, form 3 over MQTT 3.1.1.
  const devices = [
    device(keygate.mqttPort, ['-V', 'mqttv5', '-i', 'boiler-03', '-u', 'acme-devices']),
    device(keygate.mqttPort, ['-V', 'mqttv311', '-i', 'boiler-room-unit-7', '-u', 'boiler-03']),
  ];
  try {
    await expect(async () => {
      await reloadApp(page, consoleErrors);
      await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected · 2', { timeout: 500 });
    }).toPass({ timeout: 15_000 });
    await expect(row(page, 'boiler-03').getByTestId('last-seen')).toHaveText('now');
    await expect(row(page, 'gate-east').getByTestId('connected')).toHaveCount(0);
    await screenshot(page, 'live-sessions-list');

    // The card view shows the same.
    const saved = page.waitForResponse((r) => r.url().includes('/api/account/set_view') && r.ok());
    await page.getByTestId('view-cards').click();
    await saved;
    await expect(card(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected · 2');
    await expect(card(page, 'boiler-03').getByTestId('last-seen')).toHaveText('now');
    await expect(card(page, 'gate-east').getByTestId('connected')).toHaveCount(0);

    // The Edit modal lists both sessions with their identifiers, broker and addresses.
    await card(page, 'boiler-03').getByTestId('edit').click();
    const sessions = page.getByTestId('live-sessions');
    await expect(sessions.locator('tbody tr')).toHaveCount(2);
    await expect(sessions).toContainText('boiler-03');
    await expect(sessions).toContainText('boiler-room-unit-7');
    const first = sessions.locator('tbody tr').first().locator('td');
    await expect(first.nth(1)).toHaveText('embedded:keygate');
    await expect(first.nth(2)).toHaveText(/^127\.0\.0\.1:\d+$/);
    await screenshot(page, 'live-sessions-edit');
    await page.keyboard.press('Escape');
  } finally {
    await Promise.all(devices.map(stopped));
  }

  // Once they disconnect, the badge goes and "last seen" keeps the time.
  await expect(async () => {
    await reloadApp(page, consoleErrors);
    await expect(card(page, 'boiler-03').getByTestId('connected')).toHaveCount(0, { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await expect(card(page, 'boiler-03').getByTestId('last-seen')).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
  await card(page, 'boiler-03').getByTestId('edit').click();
  await expect(page.getByTestId('live-sessions-empty')).toHaveText('No live sessions.');
});
