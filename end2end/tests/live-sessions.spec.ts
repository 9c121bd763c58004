// Devices connected to the embedded broker: a Connected badge and "last seen" in both views, and
// their sessions in the Edit modal; what stays once they disconnect.
import { spawn, type ChildProcess } from 'node:child_process';
import { test as base, expect, screenshot } from './fixtures';
import { card, createClientsViaApi, DEFAULT_KEY, gotoApp, reloadApp, row, signUpViaApi, switchView } from './helpers';
import type { Page } from '@playwright/test';

/**
 * A device holding an MQTT connection open: Debian's mosquitto_sub, subscribed in its namespace.
 * `accepted` resolves once the broker accepted its CONNECT (it prints that with -d).
 */
function device(port: number, args: string[]): { child: ChildProcess; accepted: Promise<void> } {
  // stdbuf: line-buffered stdout, else the debug lines wait in a buffer while the pipe is open.
  const child = spawn(
    'stdbuf',
    ['-oL', 'mosquitto_sub', '-d', '-h', '127.0.0.1', '-p', String(port), '-P', DEFAULT_KEY, '-t', 'acme-devices/#', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr += d;
    console.error(`mosquitto_sub: ${d}`);
  });
  const accepted = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    // Keeps reading after the CONNACK too: a full pipe would block it.
    const timer = setTimeout(
      () => reject(new Error(`mosquitto_sub ${args.join(' ')} was not let in within 20 s:\n${out}${stderr}`)),
      20_000,
    );
    child.stdout!.on('data', (d: string) => {
      out += d;
      if (out.includes('received CONNACK (0)')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`mosquitto_sub ${args.join(' ')} exited (${code ?? signal}) before it was let in:\n${out}${stderr}`));
    });
  });
  accepted.catch(() => undefined); // a device stopped on purpose rejects it; whoever awaits it sees that
  return { child, accepted };
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const test = base.extend<{
  /**
   * Starts boiler-03's two devices on this test's embedded broker and resolves once the broker let
   * both in; they are stopped after the test.
   */
  startDevices: () => Promise<ChildProcess[]>;
}>({
  startDevices: async ({ keygate }, use) => {
    const started: ChildProcess[] = [];
    await use(async () => {
      // Form 1 over MQTT 5, form 3 over MQTT 3.1.1.
      const devices = [
        device(keygate.mqttPort, ['-V', 'mqttv5', '-i', 'boiler-03', '-u', 'acme-devices']),
        device(keygate.mqttPort, ['-V', 'mqttv311', '-i', 'boiler-room-unit-7', '-u', 'boiler-03']),
      ];
      started.push(...devices.map((d) => d.child));
      await Promise.all(devices.map((d) => d.accepted));
      return devices.map((d) => d.child);
    });
    await Promise.all(started.map(stopped));
  },
});

/** Signs up with boiler-03 and gate-east. */
async function twoClients(page: Page) {
  await signUpViaApi(page, 'Acme Devices');
  await createClientsViaApi(page, [
    { client_id: 'boiler-03', name: 'Boiler room sensor 3' },
    { client_id: 'gate-east', name: 'East gate controller' },
  ]);
}

/** Loads the Clients page (again) until the list shows boiler-03's two devices. */
async function untilConnected(page: Page, consoleErrors: string[]) {
  await expect(async () => {
    await gotoApp(page, '/clients', consoleErrors);
    await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected · 2', { timeout: 500 });
  }).toPass({ timeout: 15_000 });
}

/** Signs up with boiler-03 and gate-east, connects boiler-03's two devices, opens the Clients page. */
async function twoDevicesConnected(page: Page, consoleErrors: string[], startDevices: () => Promise<ChildProcess[]>) {
  await twoClients(page);
  const devices = await startDevices();
  await untilConnected(page, consoleErrors);
  return devices;
}

test('a client shows no badge and last seen never until its devices connect, then “Connected · 2” and now', async ({
  page,
  consoleErrors,
  startDevices,
}) => {
  await twoClients(page);
  await gotoApp(page, '/clients', consoleErrors);
  await expect(row(page, 'boiler-03').getByTestId('connected')).toHaveCount(0);
  await expect(row(page, 'boiler-03').getByTestId('last-seen')).toHaveText('never');

  await startDevices();
  await untilConnected(page, consoleErrors);
  await expect(row(page, 'boiler-03').getByTestId('last-seen')).toHaveText('now');
  await expect(row(page, 'gate-east').getByTestId('connected')).toHaveCount(0);
  await screenshot(page, 'live-sessions-list');

  expect(consoleErrors).toEqual([]);
});

test('the card view shows the same badge and last seen', async ({ page, consoleErrors, startDevices }) => {
  await twoDevicesConnected(page, consoleErrors, startDevices);
  await switchView(page, 'cards');
  await expect(card(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected · 2');
  await expect(card(page, 'boiler-03').getByTestId('last-seen')).toHaveText('now');
  await expect(card(page, 'gate-east').getByTestId('connected')).toHaveCount(0);

  expect(consoleErrors).toEqual([]);
});

test('the Edit modal lists both sessions with their identifiers, broker and addresses', async ({
  page,
  consoleErrors,
  startDevices,
}) => {
  await twoDevicesConnected(page, consoleErrors, startDevices);
  await switchView(page, 'cards');
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

  expect(consoleErrors).toEqual([]);
});

test('once the devices disconnect, the badge goes, last seen keeps the time and the Edit modal has no sessions', async ({
  page,
  consoleErrors,
  startDevices,
}) => {
  const devices = await twoDevicesConnected(page, consoleErrors, startDevices);
  await switchView(page, 'cards');
  await expect(card(page, 'boiler-03').getByTestId('connected')).toHaveText('Connected · 2');

  await Promise.all(devices.map(stopped));
  await expect(async () => {
    await reloadApp(page, consoleErrors);
    await expect(card(page, 'boiler-03').getByTestId('connected')).toHaveCount(0, { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await expect(card(page, 'boiler-03').getByTestId('last-seen')).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
  await card(page, 'boiler-03').getByTestId('edit').click();
  await expect(page.getByTestId('live-sessions-empty')).toHaveText('No live sessions.');

  expect(consoleErrors).toEqual([]);
});
