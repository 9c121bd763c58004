// The reveal's "Download credentials" with a typed key that holds what shells and dotenv parsers
// treat specially: the file the browser saves is exactly what was meant, sh and python-dotenv read
// the key back byte for byte, and so does sh from the mosquitto_pub snippet on the page. The
// download's object URL holds the key: it is revoked, but only once the browser has had time to
// read it (Firefox and Safari may cancel a download whose URL is revoked at the click).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { test, expect } from './fixtures';
import { gotoApp, openNewClientModal, signUpViaApi } from './helpers';
import type { Page } from '@playwright/test';

/** python-dotenv's Python: scripts/install.sh makes a venv with it, scripts/test.sh names it. */
const PYTHON = process.env.KEYGATE_TEST_PYTHON || 'python3';

/** Typed keys and the `MQTT_PASSWORD=` value the file must hold for each. */
const HOSTILE_KEYS: Array<{ key: string; written: string }> = [
  // No single quote, so single quotes hold everything else as it is.
  { key: '"$HOME"-`id`-$(id)-\\n-#1!^*?', written: `'"$HOME"-\`id\`-$(id)-\\n-#1!^*?'` },
  // A single quote and no `$`: double quotes, with `\` and `"` escaped.
  { key: `it's-"q"-\\\\-#1!^*?;&|<>`, written: `"it's-\\"q\\"-\\\\\\\\-#1!^*?;&|<>"` },
];

/** Creates `clientId` with `key` typed in `+ New`; resolves once the reveal shows. */
async function createWithTypedKey(page: Page, clientId: string, key: string) {
  const modal = await openNewClientModal(page);
  await modal.getByLabel('Name').fill('Hostile key');
  await modal.getByLabel('Client ID').fill(clientId);
  await modal.getByLabel('Key', { exact: true }).fill(key);
  await expect(modal.getByTestId('error-key')).toHaveText('');
  await modal.getByTestId('create-client').click();
  const reveal = page.getByTestId('reveal');
  await expect(reveal.getByTestId('reveal-key')).toHaveText(key);
  return reveal;
}

/** What `set -a; . FILE` in sh exports as `name`. */
function sourcedInSh(file: string, name: string): string {
  return execFileSync('sh', ['-c', `set -a; . "$1"; printf '%s' "$${name}"`, 'sh', file], { encoding: 'utf8' });
}

/** What python-dotenv reads as `name` (as load_dotenv would set it). */
function readByPythonDotenv(file: string, name: string): string {
  const script = 'import sys, dotenv; sys.stdout.write(dotenv.dotenv_values(sys.argv[1])[sys.argv[2]])';
  return execFileSync(PYTHON, ['-c', script, file, name], { encoding: 'utf8' });
}

/** The arguments sh passes to `mosquitto_pub` when it runs `snippet`. */
function mosquittoArguments(snippet: string): string[] {
  const standIn = `mosquitto_pub() { printf '%s\\0' "$@"; }\n`;
  return execFileSync('sh', ['-c', standIn + snippet], { encoding: 'utf8' }).split('\0').slice(0, -1);
}

test('a typed key with quotes, $, backticks and backslashes downloads and reads back byte for byte', async ({
  page,
  consoleErrors,
}) => {
  await signUpViaApi(page, 'Acme Devices');
  await gotoApp(page, '/clients', consoleErrors);
  for (const [i, { key, written }] of HOSTILE_KEYS.entries()) {
    const clientId = `hostile-${i}`;
    const reveal = await createWithTypedKey(page, clientId, key);
    const org = await reveal.getByTestId('reveal-org').innerText();
    const port = await reveal.getByTestId('reveal-port').innerText();

    const [download] = await Promise.all([page.waitForEvent('download'), reveal.getByTestId('download').click()]);
    expect(download.suggestedFilename()).toBe(`keygate-${clientId}.env`);
    const file = (await download.path()) as string;
    const text = fs.readFileSync(file, 'utf8');
    // Only the minute it was issued is not known in advance.
    const issued = /^# Keygate credentials for client [^,]+, issued (\d{4}-\d\d-\d\d \d\d:\d\d UTC)\.$/m.exec(text)?.[1];
    expect(issued, text).toBeTruthy();
    expect(text).toBe(
      `# Keygate credentials for client ${clientId}, issued ${issued}.\n` +
        '# Keep this file secret: the key is shown once and Keygate cannot show it again.\n' +
        'MQTT_HOST=127.0.0.1\n' +
        `MQTT_PORT=${port}\n` +
        `MQTT_CLIENT_ID=${clientId}\n` +
        'MQTT_USERNAME=acme-devices\n' +
        `MQTT_PASSWORD=${written}\n` +
        '# Other ways to connect with the same key:\n' +
        `#   username=${clientId}@${org} with any client identifier\n` +
        `#   username=${clientId} with a device id as client identifier\n` +
        `KEYGATE_ORGANIZATION_ID=${org}\n` +
        'KEYGATE_NAMESPACE=acme-devices\n',
    );
    expect(sourcedInSh(file, 'MQTT_PASSWORD')).toBe(key);
    expect(readByPythonDotenv(file, 'MQTT_PASSWORD')).toBe(key);

    const snippet = (await reveal.getByTestId('snippet').textContent()) ?? '';
    const args = mosquittoArguments(snippet);
    expect(args[args.indexOf('-P') + 1], snippet).toBe(key);
    expect(args[args.indexOf('-i') + 1], snippet).toBe(clientId);

    await reveal.getByTestId('saved-checkbox').check();
    await reveal.getByTestId('reveal-done').click();
    await expect(reveal).toBeHidden();
  }

  expect(consoleErrors).toEqual([]);
});

type ObjectUrls = { created: string[]; revoked: string[] };

/** Records every object URL the page creates and revokes, in `window.__objectUrls`. */
async function recordObjectUrls(page: Page) {
  await page.addInitScript(() => {
    const urls: ObjectUrls = { created: [], revoked: [] };
    (window as unknown as { __objectUrls: ObjectUrls }).__objectUrls = urls;
    const create = URL.createObjectURL.bind(URL);
    const revoke = URL.revokeObjectURL.bind(URL);
    URL.createObjectURL = (object: Blob | MediaSource) => {
      const url = create(object);
      urls.created.push(url);
      return url;
    };
    URL.revokeObjectURL = (url: string) => {
      urls.revoked.push(url);
      revoke(url);
    };
  });
}

function objectUrls(page: Page): Promise<ObjectUrls> {
  return page.evaluate(() => (window as unknown as { __objectUrls: ObjectUrls }).__objectUrls);
}

test('the download’s object URL outlives the click, and is revoked a while later', async ({ page, consoleErrors }) => {
  // The page's timers run on a clock the test can move forward.
  await page.clock.install();
  await recordObjectUrls(page);
  await signUpViaApi(page, 'Acme Devices');
  await gotoApp(page, '/clients', consoleErrors);
  const reveal = await createWithTypedKey(page, 'sensor-01', HOSTILE_KEYS[0].key);

  const [download] = await Promise.all([page.waitForEvent('download'), reveal.getByTestId('download').click()]);
  expect(fs.readFileSync((await download.path()) as string, 'utf8')).toContain(`MQTT_PASSWORD=${HOSTILE_KEYS[0].written}\n`);
  const { created, revoked } = await objectUrls(page);
  expect(created).toHaveLength(1);
  expect(revoked, 'the URL was revoked while the browser may still be reading it').toEqual([]);

  await page.clock.fastForward('01:00');
  await expect.poll(async () => (await objectUrls(page)).revoked).toEqual(created);

  expect(consoleErrors).toEqual([]);
});
