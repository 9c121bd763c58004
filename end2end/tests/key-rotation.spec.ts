// A client's keys from the browser: rotating without downtime (the new key revealed once, both keys
// working until the old one retires, both on the card and in the Edit modal), retiring the old key
// now, changing a key's expiry, the expiry badges and filters of the Clients page, the header's
// count of expiring keys, and the organization's default expiry in Settings and in + New.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { test as base, expect, screenshot, uniqueEmail, type Keygate } from './fixtures';
import {
  card,
  createClientViaApi,
  DEFAULT_KEY,
  finishReveal,
  gotoApp,
  openNewClientModal,
  PASSWORD,
  reloadApp,
  row,
  shownIds,
  signUpViaApi,
  switchView,
  tableRows,
  toast,
  unexpectedErrors,
} from './helpers';
import type { Locator, Page } from '@playwright/test';

const DAY_MS = 24 * 3_600_000;

/** A date `days` from now as a date field takes it (UTC, like every time the dashboard shows). */
function dateIn(days: number): string {
  return new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
}

/** A client created through the server function, its key expiring as `expiry` says. */
async function createWithExpiry(page: Page, clientId: string, expiry: string, key = DEFAULT_KEY) {
  const response = await page.request.post('/api/clients/create', {
    form: { client_id: clientId, key, name: clientId, description: '', expiry },
  });
  expect(response.ok(), `create ${clientId} answered ${response.status()}: ${await response.text()}`).toBeTruthy();
}

/** Rotates a client's key through the server function the Rotate step calls. */
async function rotateViaApi(page: Page, clientId: string, key: string, retire: string) {
  const response = await page.request.post('/api/clients/rotate_key', {
    form: { client_id: clientId, key, retire, expiry: '' },
  });
  expect(response.ok(), `rotate ${clientId} answered ${response.status()}: ${await response.text()}`).toBeTruthy();
}

/**
 * Moves the end of a client's keys into the past in the test server's SQLite file, as if days had
 * gone by: a browser test cannot wait for a key to expire.
 */
function expireKeys(keygate: Keygate, clientId: string) {
  const file = keygate.databaseUrl.replace(/^sqlite:\/\//, '').split('?')[0];
  const past = Date.now() - 60_000;
  execFileSync('sqlite3', [
    '-cmd',
    '.timeout 5000',
    file,
    `UPDATE client_keys SET ends_at = ${past} WHERE client_id = '${clientId.replace(/'/g, "''")}';`,
  ]);
}

async function openEdit(page: Page, clientId: string): Promise<Locator> {
  await row(page, clientId).getByTestId('edit').click();
  const modal = page.getByTestId('edit-client-modal');
  await expect(modal).toHaveAccessibleName(`Edit client ${clientId}`);
  await expect(modal.getByTestId('keys')).toBeVisible();
  return modal;
}

function keys(scope: Locator): Locator {
  return scope.getByTestId('keys').getByTestId('key');
}

/**
 * A device holding an MQTT connection open with `key`: Debian's mosquitto_sub in connection form 3
 * (the Client ID as username, the device's own client identifier). Resolves once the broker let it in.
 */
function connectDevice(port: number, clientId: string, deviceId: string, key: string): { child: ChildProcess; accepted: Promise<void> } {
  const child = spawn(
    'stdbuf',
    ['-oL', 'mosquitto_sub', '-d', '-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311', '-u', clientId, '-P', key, '-i', deviceId, '-t', 'acme-devices/#'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (out += d));
  const accepted = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${deviceId} was not let in within 20 s:\n${out}`)), 20_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      if (out.includes('received CONNACK (0)')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${deviceId} exited (${code ?? signal}) before it was let in:\n${out}`));
    });
  });
  accepted.catch(() => undefined);
  return { child, accepted };
}

const test = base.extend<{ devices: ChildProcess[] }>({
  devices: async ({}, use) => {
    const started: ChildProcess[] = [];
    await use(started);
    for (const child of started) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
  },
});

/** Reloads the Clients page until `check` passes (the broker's sessions are tracked in batches). */
async function untilShown(page: Page, consoleErrors: string[], check: () => Promise<void>) {
  await expect(async () => {
    await gotoApp(page, '/clients', consoleErrors);
    await check();
  }).toPass({ timeout: 15_000 });
}

test('Rotate reveals the new key once; both keys work, the card and the Edit modal show both, and Rotate waits for the old one to go', async ({
  page,
  consoleErrors,
}) => {
  await signUpViaApi(page, 'Acme Devices');
  await createClientViaApi(page, { client_id: 'rotate-me', name: 'Rotate me' });
  await gotoApp(page, '/clients', consoleErrors);

  let modal = await openEdit(page, 'rotate-me');
  await expect(keys(modal)).toHaveCount(1);
  await expect(modal.getByTestId('rotate')).toBeEnabled();
  await modal.getByTestId('rotate').click();
  await expect(modal).toHaveAccessibleName('Rotate key for rotate-me');
  await expect(modal.getByTestId('key-generated')).toBeChecked();
  await expect(modal.getByTestId('retire-24h')).toBeChecked();
  // The organization's default (never, on a new install) is preselected and marked.
  await expect(modal.getByTestId('expiry')).toHaveValue('never');
  await expect(modal.getByTestId('expiry').locator('option:checked')).toHaveText('Never (organization default)');
  await modal.getByTestId('retire-7d').check();
  await screenshot(page, 'rotate-step');
  await modal.getByTestId('confirm-rotate').click();

  const reveal = page.getByTestId('reveal');
  await expect(reveal.getByRole('heading', { level: 2 })).toHaveText('New key for rotate-me');
  await expect(toast(page, /^New key for rotate-me: the old key works until \d{4}-\d\d-\d\d \d\d:\d\d UTC$/)).toBeVisible();
  await expect(reveal.getByTestId('reveal-previous')).toHaveText(
    /^The previous key keeps working until \d{4}-\d\d-\d\d \d\d:\d\d UTC: move your devices to this key before then\.$/,
  );
  const revealed = await reveal.getByTestId('reveal-key').innerText();
  expect(revealed).toMatch(/^kgk_\S{30,}$/);
  await finishReveal(page);
  expect(await page.content()).not.toContain(revealed);

  // The list says a rotation is under way, and when it ends.
  await expect(row(page, 'rotate-me').getByTestId('rotating-badge')).toHaveText('Rotating · old key retires in 7 days');
  await expect(row(page, 'rotate-me').getByTestId('expiry-badge')).toHaveCount(0);

  modal = await openEdit(page, 'rotate-me');
  await expect(keys(modal)).toHaveCount(2);
  await expect(keys(modal).nth(0)).toHaveAttribute('data-state', 'retiring');
  await expect(keys(modal).nth(0)).toContainText('old key');
  await expect(keys(modal).nth(0).getByTestId('key-end')).toHaveText(/^Retires \d{4}-\d\d-\d\d \d\d:\d\d UTC · in 7 days$/);
  await expect(keys(modal).nth(1)).toHaveAttribute('data-state', 'active');
  await expect(keys(modal).nth(1)).toContainText('new key');
  await expect(keys(modal).nth(1).getByTestId('key-end')).toHaveText('Never expires');
  await expect(keys(modal).nth(0).getByTestId('retire-now')).toBeVisible();
  await expect(keys(modal).nth(1).getByTestId('retire-now')).toHaveCount(0);
  await expect(keys(modal).nth(1).getByTestId('change-expiry')).toBeVisible();
  // A third key would have nowhere to go.
  await expect(modal.getByTestId('rotate')).toBeDisabled();
  await expect(modal.getByTestId('rotate-refused')).toHaveText(/this client has two/);
  await modal.getByTestId('keys').scrollIntoViewIfNeeded();
  await screenshot(page, 'keys-in-edit');
  await page.keyboard.press('Escape');

  await switchView(page, 'cards');
  const rotating = card(page, 'rotate-me');
  await expect(keys(rotating)).toHaveCount(2);
  await expect(keys(rotating).nth(0).getByTestId('key-use')).toHaveText('Never used · No live sessions');
  await expect(rotating.getByTestId('rotating-badge')).toBeVisible();
  await screenshot(page, 'keys-on-card');

  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('during a rotation devices connect with either key; Retire now closes the old key’s session and keeps the new one’s', async ({
  page,
  keygate,
  consoleErrors,
  devices,
}) => {
  await signUpViaApi(page, 'Acme Devices');
  await createClientViaApi(page, { client_id: 'gate-1', name: 'Gate' });
  const newKey = 'the-new-key-0123456789';
  await rotateViaApi(page, 'gate-1', newKey, '7d');
  const old = connectDevice(keygate.mqttPort, 'gate-1', 'unit-old', DEFAULT_KEY);
  const fresh = connectDevice(keygate.mqttPort, 'gate-1', 'unit-new', newKey);
  devices.push(old.child, fresh.child);
  await Promise.all([old.accepted, fresh.accepted]);

  await untilShown(page, consoleErrors, async () => {
    await expect(row(page, 'gate-1').getByTestId('connected')).toHaveText('Connected · 2', { timeout: 500 });
  });
  const modal = await openEdit(page, 'gate-1');
  await expect(keys(modal).nth(0).getByTestId('key-sessions')).toHaveText('1 live session');
  await expect(keys(modal).nth(1).getByTestId('key-sessions')).toHaveText('1 live session');
  await expect(keys(modal).nth(0).getByTestId('key-use')).toHaveText(/^Last used \d{4}-\d\d-\d\d \d\d:\d\d UTC from 127\.0\.0\.1/);
  const oldFingerprint = await keys(modal).nth(0).getAttribute('data-fingerprint');
  const newFingerprint = await keys(modal).nth(1).getAttribute('data-fingerprint');
  expect(oldFingerprint).not.toBe(newFingerprint);
  // Each live session names the key it authenticated with (in the sessions' own order).
  await expect(modal.getByTestId('session-key')).toHaveCount(2);
  const sessionKeys = await modal.getByTestId('session-key').allInnerTexts();
  expect(sessionKeys.sort()).toEqual([oldFingerprint!, newFingerprint!].sort());

  // Retire now asks first, with the keyboard on Cancel; Cancel leaves the key as it was and the
  // keyboard where it was.
  await keys(modal).nth(0).getByTestId('retire-now').click();
  const confirm = keys(modal).nth(0).getByTestId('retire-confirm');
  await expect(confirm).toContainText(`Retire key ${oldFingerprint} now?`);
  await expect(confirm.getByTestId('cancel-retire')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(confirm).toHaveCount(0);
  await expect(keys(modal).nth(0).getByTestId('retire-now')).toBeFocused();
  await keys(modal).nth(0).getByTestId('retire-now').click();
  await screenshot(page, 'retire-confirm');
  await keys(modal).nth(0).getByTestId('confirm-retire').click();
  await expect(toast(page, `Key ${oldFingerprint} of gate-1 retired: its sessions are being closed`)).toBeVisible();
  await expect(keys(modal)).toHaveCount(1);
  await expect(keys(modal).nth(0)).toHaveAttribute('data-fingerprint', newFingerprint!);
  await expect(modal.getByTestId('rotate')).toBeEnabled();
  await page.keyboard.press('Escape');

  // The list shows the revocation on its way, and no rotation any more.
  await expect(row(page, 'gate-1').getByTestId('revocation')).toBeVisible();
  await expect(row(page, 'gate-1').getByTestId('rotating-badge')).toHaveCount(0);
  // The old key's device is gone; the new key's stays.
  await untilShown(page, consoleErrors, async () => {
    await expect(row(page, 'gate-1').getByTestId('connected')).toHaveText('Connected', { timeout: 500 });
  });
  expect(fresh.child.exitCode).toBeNull();

  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('a rotation to a key the user types, retiring the old one at a chosen time', async ({ page, consoleErrors }) => {
  await signUpViaApi(page, 'Acme Devices');
  await createClientViaApi(page, { client_id: 'typed-1', name: 'Typed' });
  await gotoApp(page, '/clients', consoleErrors);
  const modal = await openEdit(page, 'typed-1');
  await modal.getByTestId('rotate').click();
  await modal.getByTestId('key-own').check();
  await modal.getByLabel('Your key').fill('short');
  await expect(modal.getByTestId('error-key')).toHaveText('A key needs at least 16 characters.');
  await modal.getByLabel('Your key').fill('my-rotated-key-98765');
  await modal.getByTestId('retire-at').check();
  await modal.getByLabel('Retire the current key at (UTC)').fill('2001-01-01T10:00');
  await expect(modal.getByTestId('error-retire')).toHaveText('Pick a moment that has not passed yet.');
  await modal.getByTestId('confirm-rotate').click();
  await expect(page.getByTestId('reveal')).toHaveCount(0);
  const at = `${dateIn(2)}T09:30`;
  await modal.getByLabel('Retire the current key at (UTC)').fill(at);
  await expect(modal.getByTestId('error-retire')).toHaveText('');
  await modal.getByTestId('expiry').selectOption('90');
  await modal.getByTestId('confirm-rotate').click();

  const reveal = page.getByTestId('reveal');
  await expect(reveal.getByTestId('reveal-key')).toHaveText('my-rotated-key-98765');
  await expect(reveal.getByTestId('reveal-previous')).toContainText(`keeps working until ${at.replace('T', ' ')} UTC`);
  await finishReveal(page);
  const edit = await openEdit(page, 'typed-1');
  await expect(keys(edit).nth(0).getByTestId('key-end')).toHaveText(new RegExp(`^Retires ${at.replace('T', ' ')} UTC · in [123] days$`));
  await expect(keys(edit).nth(1).getByTestId('key-end')).toHaveText(/^Expires \d{4}-\d\d-\d\d \d\d:\d\d UTC · in 90 days$/);

  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('expiry badges warn within 7 days, the filters find expiring and expired clients, and the header counts expiring keys', async ({
  page,
  keygate,
  consoleErrors,
}) => {
  await signUpViaApi(page, 'Acme Devices');
  await createWithExpiry(page, 'never-1', 'never');
  await createWithExpiry(page, 'month-1', '30');
  await createWithExpiry(page, 'soon-1', dateIn(3));
  await createWithExpiry(page, 'expired-1', '30');
  expireKeys(keygate, 'expired-1');
  await gotoApp(page, '/clients', consoleErrors);

  await expect(row(page, 'never-1').getByTestId('expiry-badge')).toHaveCount(0);
  const month = row(page, 'month-1').getByTestId('expiry-badge');
  await expect(month).toHaveText('Expires in 30 days');
  await expect(month).toHaveAttribute('data-warn', 'false');
  const soon = row(page, 'soon-1').getByTestId('expiry-badge');
  await expect(soon).toHaveText(/^Expires in [23] days$/);
  await expect(soon).toHaveAttribute('data-warn', 'true');
  const expired = row(page, 'expired-1').getByTestId('expiry-badge');
  await expect(expired).toHaveText('Expired');
  await expect(expired).toHaveAttribute('data-warn', 'true');
  await screenshot(page, 'expiry-badges');

  // One key expires within 7 days: the header says so and leads to it.
  const count = page.getByTestId('expiring-keys');
  await expect(count).toHaveText('1 key expiring');
  await count.click();
  await expect(page).toHaveURL(/\/clients\?expiry=expiring$/);
  await expect(page.getByTestId('expiry-expiring')).toHaveAttribute('aria-current', 'page');
  await expect.poll(() => shownIds(tableRows(page))).toEqual(['soon-1']);
  await page.getByTestId('expiry-expired').click();
  await expect.poll(() => shownIds(tableRows(page))).toEqual(['expired-1']);
  await page.getByTestId('expiry-any').click();
  await expect(tableRows(page)).toHaveCount(4);

  // The card of the expired client says so too.
  await switchView(page, 'cards');
  await expect(card(page, 'expired-1').getByTestId('expiry-badge')).toHaveText('Expired');
  await expect(keys(card(page, 'expired-1')).nth(0)).toHaveAttribute('data-state', 'expired');
  await expect(keys(card(page, 'expired-1')).nth(0).getByTestId('key-end')).toHaveText(/^Expired \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);

  // A key that no longer expires soon leaves the count.
  await switchView(page, 'list');
  const modal = await openEdit(page, 'soon-1');
  await keys(modal).nth(0).getByTestId('change-expiry').click();
  await modal.getByTestId('key-expiry').selectOption('never');
  await modal.getByTestId('save-expiry').click();
  await expect(toast(page, /^Key [0-9a-f]{8} never expires$/)).toBeVisible();
  await expect(keys(modal).nth(0).getByTestId('key-end')).toHaveText('Never expires');
  await page.keyboard.press('Escape');
  await expect(row(page, 'soon-1').getByTestId('expiry-badge')).toHaveCount(0);
  await expect(page.getByTestId('expiring-keys')).toHaveCount(0);

  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('a key’s expiry changes to a date, and a past date is refused at the field', async ({ page, consoleErrors }) => {
  await signUpViaApi(page, 'Acme Devices');
  await createClientViaApi(page, { client_id: 'dated-1', name: 'Dated' });
  await gotoApp(page, '/clients', consoleErrors);
  const modal = await openEdit(page, 'dated-1');
  await keys(modal).nth(0).getByTestId('change-expiry').click();
  await expect(modal.getByTestId('key-expiry')).toBeFocused();
  await modal.getByTestId('key-expiry').selectOption('date');
  await expect(modal.getByTestId('error-key-expiry')).toHaveText('Pick one of the choices, or a date as YYYY-MM-DD.');
  await modal.getByLabel('Expiry date (UTC)').fill('2001-01-01');
  await expect(modal.getByTestId('error-key-expiry')).toHaveText('Pick a moment that has not passed yet.');
  const date = dateIn(5);
  await modal.getByLabel('Expiry date (UTC)').fill(date);
  await expect(modal.getByTestId('error-key-expiry')).toHaveText('');
  await screenshot(page, 'change-expiry');
  // Enter in the date field saves, as in a form.
  await modal.getByLabel('Expiry date (UTC)').press('Enter');
  await expect(toast(page, `expires ${date} 00:00 UTC`)).toBeVisible();
  await expect(keys(modal).nth(0).getByTestId('key-end')).toHaveText(new RegExp(`^Expires ${date} 00:00 UTC · in [45] days$`));
  // The Edit form is still there, unsaved and unchanged.
  await expect(modal.getByTestId('save-client')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(row(page, 'dated-1').getByTestId('expiry-badge')).toHaveText(/^Expires in [45] days$/);
  await expect(page.getByTestId('expiring-keys')).toHaveText('1 key expiring');

  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('Regenerate offers an expiry and still replaces the old key at once', async ({ page, consoleErrors }) => {
  await signUpViaApi(page, 'Acme Devices');
  await createClientViaApi(page, { client_id: 'regen-1', name: 'Regen' });
  await rotateViaApi(page, 'regen-1', 'the-new-key-0123456789', '24h');
  await gotoApp(page, '/clients', consoleErrors);
  const modal = await openEdit(page, 'regen-1');
  await modal.getByTestId('regenerate').click();
  await expect(modal.getByRole('note')).toContainText('The current key stops working as soon as you confirm.');
  await modal.getByTestId('expiry').selectOption('30');
  await modal.getByTestId('confirm-regenerate').click();
  const reveal = page.getByTestId('reveal');
  await expect(reveal.getByTestId('reveal-previous')).toHaveText('The previous key has stopped working.');
  await finishReveal(page);
  // Both old keys are gone: one key, expiring in 30 days, and no rotation.
  await expect(row(page, 'regen-1').getByTestId('rotating-badge')).toHaveCount(0);
  await expect(row(page, 'regen-1').getByTestId('expiry-badge')).toHaveText('Expires in 30 days');
  const edit = await openEdit(page, 'regen-1');
  await expect(keys(edit)).toHaveCount(1);

  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('Settings sets the default expiry of new keys, + New preselects it, and a viewer only reads it', async ({
  page,
  consoleErrors,
  newContextPage,
}) => {
  await signUpViaApi(page, 'Acme Devices');
  await gotoApp(page, '/settings', consoleErrors);
  const panel = page.getByTestId('key-defaults');
  const select = panel.getByLabel('Default key expiry for new keys');
  await expect(select).toHaveValue('never');
  await expect(panel.getByTestId('expiry-date')).toHaveCount(0);
  await expect(select.locator('option')).toHaveText(['Never (organization default)', 'In 30 days', 'In 90 days', 'In 365 days']);
  await select.selectOption('90');
  await panel.getByTestId('save-default-expiry').click();
  await expect(toast(page, 'New keys expire after 90 days.')).toBeVisible();
  await reloadApp(page, consoleErrors);
  await expect(panel.getByLabel('Default key expiry for new keys')).toHaveValue('90');

  await gotoApp(page, '/clients', consoleErrors);
  const modal = await openNewClientModal(page);
  const expiry = modal.getByLabel('Key expires');
  await expect(expiry).toHaveValue('90');
  await expect(expiry.locator('option:checked')).toHaveText('In 90 days (organization default)');
  await modal.getByLabel('Client ID').fill('default-1');
  await modal.getByLabel('Name').fill('Default');
  await modal.getByTestId('create-client').click();
  await finishReveal(page);
  const edit = await openEdit(page, 'default-1');
  await expect(keys(edit).nth(0).getByTestId('key-end')).toHaveText(/^Expires \d{4}-\d\d-\d\d \d\d:\d\d UTC · in 90 days$/);
  await page.keyboard.press('Escape');

  // A viewer sees the default and cannot change it.
  const invited = uniqueEmail('viewer');
  const invitation = await page.request.post('/api/members/invite', { form: { email: invited, role: 'viewer' } });
  expect(invitation.ok(), await invitation.text()).toBeTruthy();
  const token = ((await invitation.json()) as { path: string }).path.split('/').pop()!;
  const viewer = await newContextPage('viewer');
  const accepted = await viewer.request.post('/api/members/accept', { form: { token, password: PASSWORD } });
  expect(accepted.ok(), await accepted.text()).toBeTruthy();
  await gotoApp(viewer, '/settings', consoleErrors);
  const readOnly = viewer.getByTestId('key-defaults');
  await expect(readOnly.getByTestId('default-expiry')).toHaveText('New keys expire after 90 days.');
  await expect(readOnly.locator('select')).toHaveCount(0);
  await expect(readOnly.getByRole('button')).toHaveCount(0);

  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('the default expiry form works without JavaScript', async ({ browser, keygate }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, baseURL: keygate.url });
  const page = await context.newPage();
  await signUpViaApi(page, 'Acme Devices');
  await page.goto('/settings');
  const panel = page.getByTestId('key-defaults');
  await panel.getByLabel('Default key expiry for new keys').selectOption('365');
  await panel.getByTestId('save-default-expiry').click();
  // Back on the page the form was on (Leptos leaves an empty query on the address).
  await expect(page).toHaveURL(/\/settings\??$/);
  await expect(page.getByTestId('key-defaults').getByLabel('Default key expiry for new keys')).toHaveValue('365');
  await context.close();
});
