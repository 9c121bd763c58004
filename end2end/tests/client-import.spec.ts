// Import on the Clients page: a Keygate CSV uploaded as a file, previewed with a bad row named by
// its line (nothing imported), fixed in place, previewed again and imported at once; the keys
// generated for the new clients are downloaded once as CSV and work on the broker at once; the
// modal cannot be closed before they are saved, and the clients are listed. A viewer has no
// Import button, and the server refuses their forged import.
import * as fs from 'node:fs';
import { connectDevice } from './devices';
import { test, expect } from './fixtures';
import { createClientsViaApi, gotoApp, PASSWORD, row, signUpViaApi, unexpectedErrors } from './helpers';

test('a file is previewed with its errors by line, fixed, imported at once, and its keys downloaded once', async ({
  page,
  keygate,
  consoleErrors,
}) => {
  await signUpViaApi(page, 'Import Labs');
  await createClientsViaApi(page, [{ client_id: 'taken-01', name: 'Already here' }]);
  await gotoApp(page, '/clients', consoleErrors);
  await page.getByTestId('import-clients').click();
  const modal = page.getByTestId('import-modal');
  await expect(modal).toBeVisible();

  const csv = [
    'client_id,name,description,active',
    'imp-01,Boiler one,Basement,true',
    'bad id,Boiler two,,true',
    'taken-01,Copy,,true',
    'imp-03,Boiler three,,false',
    '',
  ].join('\n');
  await modal.getByTestId('import-file').setInputFiles({ name: 'clients.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await expect(modal.getByTestId('import-text')).toHaveValue(csv);
  await modal.getByTestId('import-preview').click();
  const errors = modal.getByTestId('import-error');
  await expect(errors).toHaveCount(1);
  await expect(errors.first()).toContainText('line 3');
  await expect(modal.getByTestId('import-commit')).toHaveCount(0);

  // Fixed in place: the bad id is gone; the taken one is found next.
  await modal.getByTestId('import-text').fill(csv.replace('bad id,Boiler two', 'imp-02,Boiler two'));
  await expect(modal.getByTestId('import-errors')).toHaveCount(0);
  await modal.getByTestId('import-preview').click();
  await expect(errors).toHaveCount(1);
  await expect(errors.first()).toContainText('line 4');
  await expect(errors.first()).toContainText('taken');
  await expect(row(page, 'imp-01')).toHaveCount(0);

  const fixed = csv.replace('bad id,Boiler two', 'imp-02,Boiler two').replace('taken-01,Copy,,true\n', '');
  await modal.getByTestId('import-text').fill(fixed);
  await modal.getByTestId('import-preview').click();
  await expect(modal.getByTestId('import-ready')).toContainText('3 clients ready to import');
  await modal.getByTestId('import-commit').click();
  await expect(modal.getByTestId('import-done')).toHaveText('Imported 3 clients.');
  await expect(modal.getByTestId('import-keys')).toContainText('only time they are shown');

  // Not closable before the keys are saved.
  await expect(modal.getByTestId('import-close')).toBeDisabled();
  await page.keyboard.press('Escape');
  await expect(modal).toBeVisible();

  const [download] = await Promise.all([page.waitForEvent('download'), modal.getByTestId('import-download-keys').click()]);
  expect(download.suggestedFilename()).toBe('keygate-imported-keys.csv');
  const lines = fs.readFileSync((await download.path()) as string, 'utf8').trimEnd().split('\r\n');
  expect(lines[0]).toBe('client_id,key');
  expect(lines).toHaveLength(4);
  const keys = new Map(lines.slice(1).map((line) => {
    const [id, key] = line.split(',').map((field) => field.replace(/^"|"$/g, ''));
    return [id, key] as const;
  }));
  expect([...keys.keys()]).toEqual(['imp-01', 'imp-02', 'imp-03']);
  for (const key of keys.values()) expect(key).toMatch(/^kgk_/);

  await modal.getByTestId('import-saved').check();
  await modal.getByTestId('import-close').click();
  await expect(modal).toHaveCount(0);

  // Listed, with the file's status; the keys are nowhere on the page any more.
  await expect(row(page, 'imp-01')).toContainText('Boiler one');
  await expect(row(page, 'imp-03').getByTestId('active-switch')).not.toBeChecked();
  await expect(row(page, 'imp-01').getByTestId('active-switch')).toBeChecked();
  expect(await page.content()).not.toContain(keys.get('imp-01'));
  // And a device connects with its downloaded key at once.
  const device = await connectDevice(keygate.mqttPort, { identifier: 'imp-01-dev', username: 'imp-01', password: keys.get('imp-01') as string });
  await device.disconnect();
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('a viewer has no Import button and a forged import is refused', async ({ page, consoleErrors, newContextPage }) => {
  await signUpViaApi(page, 'Import Labs');
  const email = `viewer-${Date.now()}@example.com`;
  const invited = await page.request.post('/api/members/invite', { form: { email, role: 'viewer' } });
  expect(invited.ok(), await invited.text()).toBeTruthy();
  const token = ((await invited.json()) as { path: string }).path.replace('/invite/', '');
  const viewer = await newContextPage('viewer');
  const accepted = await viewer.request.post('/api/members/accept', { form: { token, password: PASSWORD } });
  expect(accepted.ok(), await accepted.text()).toBeTruthy();
  await gotoApp(viewer, '/clients', consoleErrors);
  await expect(viewer.getByTestId('export-csv')).toBeVisible();
  await expect(viewer.getByTestId('import-clients')).toHaveCount(0);
  const forged = await viewer.request.post('/api/clients/import', {
    form: { format: 'keygate-generated', text: 'client_id\nviewer-made\n', commit: 'true' },
  });
  expect(forged.status()).toBe(403);
  await gotoApp(page, '/clients', consoleErrors);
  await expect(row(page, 'viewer-made')).toHaveCount(0);
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});
