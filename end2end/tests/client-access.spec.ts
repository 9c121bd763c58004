// Who may use a client and where: "Only these devices" in the New and Edit modals (chips checked as
// you type, the live count of devices in scope), the topic rules of the Edit modal (add, move,
// remove, each error at its rule), the preview box, and the Restricted badge and filter of the list.
import { execFileSync } from 'node:child_process';
import { test, expect, type Keygate } from './fixtures';
import {
  card,
  createClientViaApi,
  finishReveal,
  gotoApp,
  openNewClientModal,
  row,
  shownIds,
  signUpViaApi,
  switchView,
  tableRows,
  toast,
  unexpectedErrors,
} from './helpers';
import type { Locator, Page } from '@playwright/test';

const NS = 'acme-devices';

/** A rule as the server functions take it. */
interface Rule {
  permission: 'allow' | 'deny';
  action: 'publish' | 'subscribe' | 'both';
  filter: string;
}

/** Sets a client's access through the server function the Edit modal calls. */
async function setAccessViaApi(page: Page, clientId: string, scope: string | null, rules: Rule[] = []) {
  const form: Record<string, string> = {
    client_id: clientId,
    scope_mode: scope === null ? 'any' : 'only',
    scope: scope ?? '',
  };
  rules.forEach((r, i) => {
    form[`rules[${i}][permission]`] = r.permission;
    form[`rules[${i}][action]`] = r.action;
    form[`rules[${i}][filter]`] = r.filter;
  });
  const response = await page.request.post('/api/clients/update_access', { form });
  expect(response.ok(), `update_access ${clientId} answered ${response.status()}: ${await response.text()}`).toBeTruthy();
}

/**
 * Devices of the signed-in user's current workspace, written into the test server's SQLite file as
 * the devices store writes them (the Devices page is another feature's).
 */
async function addDevices(page: Page, keygate: Keygate, devices: { id: string; tags: string[] }[]) {
  const me = await (await page.request.post('/api/account/me')).json();
  const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
  const statements = devices.flatMap((d, i) => {
    const rowId = quote(`e2e-device-${i}`);
    return [
      `INSERT INTO devices (id, workspace_id, organization_id, device_id, tags, created_at, updated_at)
       VALUES (${rowId}, ${quote(me.current_workspace_id)}, ${quote(me.organization_id)}, ${quote(d.id)}, ${quote(d.tags.join(', '))}, 0, 0);`,
      ...d.tags.map(
        (t) => `INSERT INTO device_tags (device_row, workspace_id, tag) VALUES (${rowId}, ${quote(me.current_workspace_id)}, ${quote(t)});`,
      ),
    ];
  });
  const file = keygate.databaseUrl.replace(/^sqlite:\/\//, '').split('?')[0];
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', file, statements.join('\n')]);
}

async function clientsPage(page: Page, consoleErrors: string[]) {
  await signUpViaApi(page, 'Acme Devices');
  await createClientViaApi(page, { client_id: 'open-1', name: 'Open' });
  await gotoApp(page, '/clients', consoleErrors);
}

async function openEdit(page: Page, clientId: string): Promise<Locator> {
  await row(page, clientId).getByTestId('edit').click();
  const modal = page.getByTestId('edit-client-modal');
  await expect(modal).toBeVisible();
  await expect(modal.getByTestId('scope-editor')).toBeVisible();
  return modal;
}

/** Chooses "Only these devices" and types `list`. */
async function restrictTo(modal: Locator, list: string) {
  await modal.getByTestId('scope-only').check();
  await modal.getByLabel('Device ids and tags').fill(list);
}

function chips(modal: Locator): Locator {
  return modal.getByTestId('scope-chip');
}

test('New: "Only these devices" creates a client restricted to the devices and tags listed', async ({
  page,
  consoleErrors,
}) => {
  await clientsPage(page, consoleErrors);
  const modal = await openNewClientModal(page);
  await expect(modal.getByTestId('scope-any')).toBeChecked();
  await modal.getByLabel('Client ID').fill('fleet-1');
  await modal.getByLabel('Name').fill('Fleet');
  await restrictTo(modal, 'd-2, env=prod,d-1');
  await expect(chips(modal)).toHaveText(['d-2×', 'env=prod×', 'd-1×']);
  await expect(modal.locator('[data-testid=scope-chip][data-invalid=true]')).toHaveCount(0);
  await modal.getByTestId('create-client').click();
  await finishReveal(page);

  const badge = row(page, 'fleet-1').getByTestId('restricted-badge');
  await expect(badge).toHaveText('Restricted: d-1, d-2, env=prod');
  await expect(badge).toHaveAttribute('title', 'Restricted to: d-1, d-2, env=prod');
  await expect(row(page, 'open-1').getByTestId('restricted-badge')).toHaveCount(0);
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('Edit: the scope is shown, changed and saved, and "Any device" lifts it', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors);
  await setAccessViaApi(page, 'open-1', 'd-1');
  await gotoApp(page, '/clients', consoleErrors);
  let modal = await openEdit(page, 'open-1');
  await expect(modal.getByTestId('scope-only')).toBeChecked();
  await expect(modal.getByLabel('Device ids and tags')).toHaveValue('d-1');
  await modal.getByLabel('Device ids and tags').fill('d-1, zone=eu');
  await modal.getByTestId('save-client').click();
  await expect(toast(page, 'open-1 saved')).toBeVisible();
  await expect(modal).toBeHidden();
  await expect(row(page, 'open-1').getByTestId('restricted-badge')).toHaveText('Restricted: d-1, zone=eu');
  // Restricting the client (before this test opened the page) narrowed its access: the brokers
  // check its sessions again, which the badge says is applied, not that it was disconnected.
  await expect(row(page, 'open-1').getByTestId('revocation')).toHaveText(/^(Applying… \d of 1 broker|Applied · done on 1 of 1 broker)$/);

  modal = await openEdit(page, 'open-1');
  await expect(modal.getByLabel('Device ids and tags')).toHaveValue('d-1, zone=eu');
  await modal.getByTestId('scope-any').check();
  await expect(modal.getByLabel('Device ids and tags')).toBeHidden();
  await modal.getByTestId('save-client').click();
  await expect(modal).toBeHidden();
  await expect(row(page, 'open-1').getByTestId('restricted-badge')).toHaveCount(0);
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('a character a device id cannot hold turns its chip red, says why, and blocks Create', async ({
  page,
  consoleErrors,
}) => {
  await clientsPage(page, consoleErrors);
  const modal = await openNewClientModal(page);
  await modal.getByLabel('Name').fill('Fleet');
  await restrictTo(modal, 'd-1, a/b');
  const bad = modal.locator('[data-testid=scope-chip][data-invalid=true]');
  await expect(bad).toHaveCount(1);
  await expect(bad).toContainText('a/b');
  await expect(bad).toHaveAttribute('title', /'\/' is not allowed in a device id or tag/);
  await expect(modal.getByTestId('error-scope')).toHaveText(
    `"a/b": '/' is not allowed in a device id or tag: use letters, digits, '-', '_', '.', ':' and '@'.`,
  );
  await modal.getByTestId('create-client').click();
  await expect(modal).toBeVisible();
  await expect(tableRows(page)).toHaveCount(1);

  // Its × takes the entry out, and the error with it.
  await bad.getByRole('button', { name: 'Remove a/b' }).click();
  await expect(modal.getByLabel('Device ids and tags')).toHaveValue('d-1');
  await expect(modal.getByTestId('error-scope')).toBeEmpty();
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('a tag with an empty side is refused at the scope field', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors);
  const modal = await openNewClientModal(page);
  await restrictTo(modal, 'd-1, env=');
  await expect(modal.getByTestId('error-scope')).toHaveText('"env=": Write a tag as key=value, both sides filled in.');
  await modal.getByLabel('Device ids and tags').fill('=prod');
  await expect(modal.getByTestId('error-scope')).toHaveText('"=prod": Write a tag as key=value, both sides filled in.');
  await expect(modal.locator('[data-testid=scope-chip][data-invalid=true]')).toHaveText(['=prod×']);
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('"Only these devices" with an empty list is refused when you create', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors);
  const modal = await openNewClientModal(page);
  await modal.getByLabel('Name').fill('Fleet');
  await modal.getByTestId('scope-only').check();
  await expect(modal.getByTestId('error-scope')).toBeEmpty();
  await modal.getByTestId('create-client').click();
  await expect(modal.getByTestId('error-scope')).toHaveText('List at least one device id or key=value tag.');
  await expect(modal).toBeVisible();
  await expect(tableRows(page)).toHaveCount(1);
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('the live count says how many devices of the workspace are in scope now', async ({
  page,
  keygate,
  consoleErrors,
}) => {
  await clientsPage(page, consoleErrors);
  await addDevices(page, keygate, [
    { id: 'd-1', tags: ['env=prod'] },
    { id: 'd-2', tags: ['env=dev'] },
    { id: 'd-3', tags: ['env=prod', 'zone=eu'] },
  ]);
  const modal = await openNewClientModal(page);
  await restrictTo(modal, 'd-1');
  await expect(modal.getByTestId('scope-count')).toHaveText('1 device in scope now');
  await modal.getByLabel('Device ids and tags').fill('d-2, env=prod');
  await expect(modal.getByTestId('scope-count')).toHaveText('3 devices in scope now');
  await modal.getByLabel('Device ids and tags').fill('d-9');
  await expect(modal.getByTestId('scope-count')).toHaveText('0 devices in scope now');
  // No count for a list that does not parse.
  await modal.getByLabel('Device ids and tags').fill('d-1, a/b');
  await expect(modal.getByTestId('scope-count')).toBeEmpty();
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('the list and the cards show the Restricted badge with the scope and the number of rules', async ({
  page,
  consoleErrors,
}) => {
  await clientsPage(page, consoleErrors);
  const scope = 'd-0001, d-0002, d-0003, d-0004, d-0005';
  await createClientViaApi(page, { client_id: 'fleet-1', name: 'Fleet' });
  await setAccessViaApi(page, 'fleet-1', scope, [
    { permission: 'deny', action: 'publish', filter: `${NS}/devices/+/secret` },
    { permission: 'allow', action: 'both', filter: `${NS}/#` },
  ]);
  await gotoApp(page, '/clients', consoleErrors);
  const badge = row(page, 'fleet-1').getByTestId('restricted-badge');
  await expect(badge).toHaveText('Restricted: d-0001, d-0002, d-0003, d-0004, …');
  await expect(badge).toHaveAttribute('title', `Restricted to: ${scope}`);
  await expect(row(page, 'fleet-1').getByTestId('rules-badge')).toHaveText('2 rules');
  await expect(row(page, 'open-1').getByTestId('rules-badge')).toHaveCount(0);

  await switchView(page, 'cards');
  await expect(card(page, 'fleet-1').getByTestId('restricted-badge')).toHaveText('Restricted: d-0001, d-0002, d-0003, d-0004, …');
  await expect(card(page, 'fleet-1').getByTestId('rules-badge')).toHaveText('2 rules');
  await expect(card(page, 'open-1').getByTestId('restricted-badge')).toHaveCount(0);
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('the access filter shows restricted or unrestricted clients, also as a plain link', async ({
  page,
  consoleErrors,
}) => {
  await clientsPage(page, consoleErrors);
  await createClientViaApi(page, { client_id: 'fleet-1', name: 'Fleet' });
  await setAccessViaApi(page, 'fleet-1', 'env=prod');
  await gotoApp(page, '/clients', consoleErrors);
  await expect(tableRows(page)).toHaveCount(2);

  await page.getByTestId('access-restricted').click();
  await expect(page).toHaveURL(/\/clients\?access=restricted$/);
  await expect.poll(() => shownIds(tableRows(page))).toEqual(['fleet-1']);
  // A search keeps the filter.
  await page.getByTestId('search').fill('1');
  await expect(page).toHaveURL(/\/clients\?q=1&access=restricted$/);
  await expect.poll(() => shownIds(tableRows(page))).toEqual(['fleet-1']);
  await page.getByTestId('search').fill('open');
  await expect(page.getByTestId('no-match')).toContainText('No restricted client matches “open”.');
  await page.getByTestId('search').fill('');
  await page.getByTestId('access-unrestricted').click();
  await expect.poll(() => shownIds(tableRows(page))).toEqual(['open-1']);
  await page.getByTestId('access-all').click();
  await expect(tableRows(page)).toHaveCount(2);

  // The server renders the filtered page by itself (before any WASM).
  const html = await (await page.request.get('/clients?access=restricted')).text();
  expect(html).toContain('data-client-id="fleet-1"');
  expect(html).not.toContain('data-client-id="open-1"');
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

/** The rules of the Edit modal as (permission, action, filter), in order. */
async function shownRules(modal: Locator) {
  return modal.getByTestId('rule').evaluateAll((items) =>
    items.map((li) => {
      const value = (selector: string) => (li.querySelector(selector) as HTMLInputElement | HTMLSelectElement).value;
      return `${value('[data-testid=rule-permission]')} ${value('[data-testid=rule-action]')} ${value('[data-testid=rule-filter]')}`;
    }),
  );
}

test('topic rules are added, moved, removed and saved in order', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors);
  let modal = await openEdit(page, 'open-1');
  await expect(modal.getByTestId('no-rules')).toBeVisible();
  for (const [permission, action, filter] of [
    ['allow', 'subscribe', `${NS}/devices/{device_id}/#`],
    ['deny', 'publish', `${NS}/devices/+/secret`],
    ['deny', 'both', `${NS}/admin/#`],
  ]) {
    await modal.getByTestId('add-rule').click();
    const rule = modal.getByTestId('rule').last();
    await rule.getByTestId('rule-permission').selectOption(permission);
    await rule.getByTestId('rule-action').selectOption(action);
    await rule.getByTestId('rule-filter').fill(filter);
  }
  await expect(modal.getByTestId('rule-up').first()).toBeDisabled();
  await expect(modal.getByTestId('rule-down').last()).toBeDisabled();
  await modal.getByRole('button', { name: 'Move rule 2 up' }).click();
  await modal.getByRole('button', { name: 'Remove rule 3' }).click();
  expect(await shownRules(modal)).toEqual([
    `deny publish ${NS}/devices/+/secret`,
    `allow subscribe ${NS}/devices/{device_id}/#`,
  ]);
  await modal.getByTestId('save-client').click();
  await expect(modal).toBeHidden();
  await expect(row(page, 'open-1').getByTestId('rules-badge')).toHaveText('2 rules');

  modal = await openEdit(page, 'open-1');
  expect(await shownRules(modal)).toEqual([
    `deny publish ${NS}/devices/+/secret`,
    `allow subscribe ${NS}/devices/{device_id}/#`,
  ]);
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('each invalid topic rule shows its error at the rule and is not saved', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors);
  const modal = await openEdit(page, 'open-1');
  await modal.getByTestId('add-rule').click();
  const rule = modal.getByTestId('rule').first();
  const filter = rule.getByTestId('rule-filter');
  const error = rule.getByTestId('rule-error');
  await expect(filter).toHaveValue(`${NS}/`);
  for (const [typed, says] of [
    ['other/#', "A topic filter must start with the workspace's namespace: rules cannot reach outside it."],
    ['#', "A topic filter must start with the workspace's namespace: rules cannot reach outside it."],
    [`${NS}/#/x`, "This is not a valid MQTT topic filter: '+' and '#' must fill a whole level, '#' only the last."],
    [`${NS}/x+`, "This is not a valid MQTT topic filter: '+' and '#' must fill a whole level, '#' only the last."],
    [`${NS}/{device}/x`, 'Use {client_id} or {device_id} as a whole level; no other placeholders exist.'],
    [`${NS}/a b`, '\' \' is not allowed in a topic filter.'],
    ['', 'Enter a topic filter.'],
  ]) {
    await filter.fill(typed);
    await expect(error).toHaveText(says);
    await expect(filter).toHaveAttribute('aria-invalid', 'true');
  }
  await modal.getByTestId('save-client').click();
  await expect(modal).toBeVisible();
  await filter.fill(`${NS}/devices/#`);
  await expect(error).toBeEmpty();
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

/** Asks the preview box and waits for its verdict. */
async function ask(modal: Locator, device: string, action: 'publish' | 'subscribe', topic: string) {
  await modal.getByTestId('preview-device').fill(device);
  await modal.getByTestId('preview-action').selectOption(action);
  await modal.getByTestId('preview-topic').fill(topic);
}

test('the preview box answers allowed, denied by a rule, and outside the namespace', async ({
  page,
  consoleErrors,
}) => {
  await clientsPage(page, consoleErrors);
  const modal = await openEdit(page, 'open-1');
  const answer = modal.getByTestId('preview-answer');
  await modal.getByTestId('add-rule').click();
  await modal.getByTestId('rule-permission').selectOption('deny');
  await modal.getByTestId('rule-action').selectOption('publish');
  await modal.getByTestId('rule-filter').fill(`${NS}/devices/+/secret`);

  await ask(modal, 'd-1', 'publish', `${NS}/devices/d-1/telemetry`);
  await expect(answer).toHaveText('Allowed: no rule matches (default inside the namespace).');
  await expect(answer).toHaveAttribute('data-verdict', 'allowed');
  await ask(modal, 'd-1', 'publish', `${NS}/devices/d-1/secret`);
  await expect(answer).toHaveText('Denied by rule 1.');
  await expect(answer).toHaveAttribute('data-verdict', 'denied');
  await ask(modal, 'd-1', 'subscribe', `${NS}/devices/d-1/secret`);
  await expect(answer).toHaveText('Allowed: no rule matches (default inside the namespace).');
  await ask(modal, 'd-1', 'publish', 'other-ns/devices/d-1/telemetry');
  await expect(answer).toHaveText('Denied: outside the namespace.');
  // The preview follows the rules as they are being edited, before any save.
  await ask(modal, 'd-1', 'publish', `${NS}/devices/d-1/secret`);
  await expect(answer).toHaveText('Denied by rule 1.');
  await modal.getByTestId('rule-permission').selectOption('allow');
  await expect(answer).toHaveText('Allowed by rule 1.');
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('the preview box says when a device is outside the scope, or its topic is', async ({
  page,
  keygate,
  consoleErrors,
}) => {
  await clientsPage(page, consoleErrors);
  await addDevices(page, keygate, [{ id: 'd-3', tags: ['env=prod'] }]);
  const modal = await openEdit(page, 'open-1');
  const answer = modal.getByTestId('preview-answer');
  await restrictTo(modal, 'd-1, env=prod');

  await ask(modal, 'd-9', 'publish', `${NS}/devices/d-9/telemetry`);
  await expect(answer).toHaveText("Denied: device d-9 is not in this client's scope — it could not even connect.");
  await ask(modal, 'd-1', 'subscribe', `${NS}/devices/d-2/telemetry`);
  await expect(answer).toHaveText(/^Denied: outside the scope/);
  await ask(modal, 'd-1', 'subscribe', `${NS}/devices/d-3/telemetry`);
  await expect(answer).toHaveText('Allowed: no rule matches (default inside the namespace).');
  await ask(modal, 'd-3', 'publish', `${NS}/devices/d-3/telemetry`);
  await expect(answer).toHaveText('Allowed: no rule matches (default inside the namespace).');
  // Nothing was saved by asking.
  await page.keyboard.press('Escape');
  await expect(row(page, 'open-1').getByTestId('restricted-badge')).toHaveCount(0);
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});
