// Settings → Activity from the browser: every change is listed newest first, the filter form
// narrows the list through the address (so the view is a link, and works before the page is
// interactive), and "Download CSV" saves what the filters select.
import * as fs from 'node:fs';
import { test, expect, screenshot } from './fixtures';
import { createClientViaApi, createWorkspaceViaApi, gotoApp, signUpViaApi, unexpectedErrors } from './helpers';

test('the activity page filters through its address and exports what it shows as CSV', async ({ page, consoleErrors }) => {
  await signUpViaApi(page, 'Acme Devices');
  await createClientViaApi(page, { client_id: 'boiler-01', name: 'Boiler 1' });
  await createClientViaApi(page, { client_id: 'pump-02', name: 'Pump 2' });
  await createWorkspaceViaApi(page, 'Staging', 'acme-staging');

  await gotoApp(page, '/settings', consoleErrors);
  await page.getByTestId('activity-tab').click();
  await expect(page).toHaveURL(/\/settings\/activity$/);
  const table = page.getByTestId('activity');
  // Newest first: the workspace, the two clients, then the sign-up.
  await expect(table.locator('tbody tr').first()).toContainText('workspace.created');
  await expect(table.locator('tbody tr', { hasText: 'client.created' })).toHaveCount(2);
  await expect(table.locator('tbody tr').last()).toContainText('organization.created');

  // What = client.created, target containing "pump": one event, and the address says so.
  const filters = page.getByTestId('activity-filters');
  await filters.getByLabel('What').selectOption('client.created');
  await filters.getByLabel('Target (client, member…)').fill('PUMP');
  await filters.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/what=client\.created/);
  await expect(page).toHaveURL(/target=PUMP/);
  await expect(page.getByTestId('activity-total')).toHaveText('1 event');
  await expect(table.locator('tbody tr')).toHaveCount(1);
  await expect(table.locator('tbody tr')).toContainText('pump-02');
  await screenshot(page, 'activity-filtered');

  // The same address in a new page shows the same view.
  await gotoApp(page, page.url(), consoleErrors);
  await expect(page.getByTestId('activity-total')).toHaveText('1 event');
  await expect(filters.getByLabel('Target (client, member…)')).toHaveValue('PUMP');

  // The export holds exactly the filtered events.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  expect(download.suggestedFilename()).toBe('keygate-activity.csv');
  const csv = fs.readFileSync((await download.path()) as string, 'utf8').trimEnd().split('\r\n');
  expect(csv[0]).toBe('time_utc,who,what,target,detail,address');
  expect(csv).toHaveLength(2);
  expect(csv[1]).toContain('"client.created","pump-02"');

  // Clear: everything again.
  await page.getByRole('link', { name: 'Clear' }).click();
  await expect(page).toHaveURL(/\/settings\/activity$/);
  await expect(table.locator('tbody tr', { hasText: 'client.created' })).toHaveCount(2);
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});
