// The dashboard's WASM is split (tools/build-site with Leptos's lazy routes and `#[lazy]`
// functions): each page and each modal is code of its own, fetched the first time it is shown.
// These tests open every modal after a full page load, check that its code was not part of that
// load, and that the modal then does its job. The build's manifest
// (`/pkg/__wasm_split_manifest.json`) names the chunks each lazy function needs.
import { test, expect } from './fixtures';
import { createClientViaApi, finishReveal, gotoApp, row, signUpViaApi, toast } from './helpers';
import type { Page } from '@playwright/test';

type Manifest = Record<string, string[]>;

/** The chunk files (`/pkg/chunk_N.wasm`) each lazy function needs, by the function's name. */
async function manifest(page: Page): Promise<Manifest> {
  const response = await page.request.get('/pkg/__wasm_split_manifest.json');
  expect(response.ok(), `the split manifest answered ${response.status()}`).toBeTruthy();
  return response.json();
}

/** The chunks of the lazy function whose name starts with `name` (names end in a build hash). */
function chunksOf(split: Manifest, name: string): string[] {
  const keys = Object.keys(split).filter((key) => key.startsWith(`${name}_`));
  expect(keys, `one lazy function named ${name}_… in the manifest`).toHaveLength(1);
  const chunks = split[keys[0]];
  expect(chunks.length, `${name} has code of its own`).toBeGreaterThan(0);
  return chunks.map((chunk) => (chunk.endsWith('.wasm') ? chunk : `${chunk}.wasm`));
}

/** Records every WASM file the page fetches, by file name. */
function recordWasm(page: Page): Set<string> {
  const fetched = new Set<string>();
  page.on('response', (response) => {
    const file = new URL(response.url()).pathname.split('/').pop() ?? '';
    if (file.endsWith('.wasm')) {
      expect(response.ok(), `${file} answered ${response.status()}`).toBeTruthy();
      fetched.add(file);
    }
  });
  return fetched;
}

/** The chunks of `name` that the page has not fetched yet. */
function missing(fetched: Set<string>, chunks: string[]): string[] {
  return chunks.filter((chunk) => !fetched.has(chunk));
}

test('the Clients page loads its own code and no modal’s; each modal’s code arrives when it opens and the modal works', async ({
  page,
  consoleErrors,
}) => {
  await signUpViaApi(page);
  await createClientViaApi(page, { client_id: 'sensor-1', name: 'Roof sensor' });
  await createClientViaApi(page, { client_id: 'sensor-2', name: 'Door sensor' });
  const split = await manifest(page);
  const fetched = recordWasm(page);
  await gotoApp(page, '/clients', consoleErrors);

  expect(fetched.has('keygate.wasm'), 'the main module').toBe(true);
  expect(missing(fetched, chunksOf(split, '__clients_route_view')), 'the Clients page’s chunks').toEqual([]);
  for (const other of ['__settings_route_view', '__brokers_route_view', '__sign_in_route_view']) {
    expect(missing(fetched, chunksOf(split, other)).length, `${other} is not loaded by /clients`).toBeGreaterThan(0);
  }
  const modals = ['new_client_modal', 'reveal_modal', 'edit_client_modal', 'delete_client_modal'];
  for (const modal of modals) {
    expect(missing(fetched, chunksOf(split, modal)).length, `${modal} is not loaded by /clients`).toBeGreaterThan(0);
  }

  // + New: the modal's code arrives, it creates a client, and the reveal modal (a chunk of its
  // own) shows the key once.
  await page.getByTestId('new-client').click();
  const create = page.getByTestId('new-client-modal');
  await expect(create).toBeVisible();
  expect(missing(fetched, chunksOf(split, 'new_client_modal'))).toEqual([]);
  await create.getByLabel('Client ID').fill('sensor-3');
  await create.getByLabel('Name', { exact: true }).fill('Gate sensor');
  await create.getByTestId('create-client').click();
  await expect(page.getByTestId('reveal')).toBeVisible();
  expect(missing(fetched, chunksOf(split, 'reveal_modal'))).toEqual([]);
  await expect(page.getByTestId('reveal-client-id')).toContainText('sensor-3');
  await finishReveal(page);
  await expect(row(page, 'sensor-3')).toHaveCount(1);

  // Edit: renames the client, then regenerates its key through the reveal modal again.
  await row(page, 'sensor-1').getByTestId('edit').click();
  const edit = page.getByTestId('edit-client-modal');
  await expect(edit).toBeVisible();
  expect(missing(fetched, chunksOf(split, 'edit_client_modal'))).toEqual([]);
  await edit.getByLabel('Name', { exact: true }).fill('Roof sensor, north');
  await edit.getByTestId('save-client').click();
  await expect(edit).toBeHidden();
  await expect(row(page, 'sensor-1')).toContainText('Roof sensor, north');
  await row(page, 'sensor-1').getByTestId('edit').click();
  await edit.getByTestId('regenerate').click();
  await edit.getByTestId('confirm-regenerate').click();
  await expect(page.getByTestId('reveal')).toBeVisible();
  await finishReveal(page);

  // Delete: asks, then removes the row.
  await row(page, 'sensor-2').getByTestId('delete').click();
  const remove = page.getByTestId('delete-client-modal');
  await expect(remove).toBeVisible();
  expect(missing(fetched, chunksOf(split, 'delete_client_modal'))).toEqual([]);
  await remove.getByTestId('confirm-delete').click();
  await expect(remove).toBeHidden();
  await expect(row(page, 'sensor-2')).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});

test('the Devices page arrives as a chunk when navigated to, and each of its modals works', async ({
  page,
  consoleErrors,
}) => {
  await signUpViaApi(page);
  const split = await manifest(page);
  const fetched = recordWasm(page);
  await gotoApp(page, '/clients', consoleErrors);
  expect(missing(fetched, chunksOf(split, '__devices_route_view')).length, 'no Devices code on /clients').toBeGreaterThan(0);

  // Client-side navigation: the router fetches the page's chunk, then shows it.
  await page.getByRole('link', { name: 'Devices', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Devices', exact: true })).toBeVisible();
  expect(missing(fetched, chunksOf(split, '__devices_route_view'))).toEqual([]);
  const device = (id: string) => page.locator(`[data-testid=device-table] tr[data-device-id="${id}"]`);

  await page.getByTestId('new-device').click();
  const create = page.getByTestId('new-device-modal');
  await expect(create).toBeVisible();
  expect(missing(fetched, chunksOf(split, 'new_device_modal'))).toEqual([]);
  await create.getByLabel('Device ID').fill('gw-1');
  await create.getByTestId('create-device').click();
  await expect(create).toBeHidden();
  await expect(device('gw-1')).toHaveCount(1);

  await page.getByTestId('bulk-devices').click();
  const bulk = page.getByTestId('bulk-devices-modal');
  await expect(bulk).toBeVisible();
  expect(missing(fetched, chunksOf(split, 'bulk_devices_modal'))).toEqual([]);
  await bulk.getByLabel('Device IDs').fill('gw-2\ngw-3');
  await bulk.getByTestId('create-devices').click();
  await expect(bulk).toBeHidden();
  await expect(device('gw-3')).toHaveCount(1);

  await device('gw-1').getByTestId('edit').click();
  const edit = page.getByTestId('edit-device-modal');
  await expect(edit).toBeVisible();
  expect(missing(fetched, chunksOf(split, 'edit_device_modal'))).toEqual([]);
  await edit.getByLabel('Tags').fill('zone=roof');
  await edit.getByTestId('save-device').click();
  await expect(edit).toBeHidden();
  await expect(device('gw-1').getByTestId('tag')).toHaveText(['zone=roof']);

  await device('gw-2').getByTestId('delete').click();
  const remove = page.getByTestId('delete-device-modal');
  await expect(remove).toBeVisible();
  expect(missing(fetched, chunksOf(split, 'delete_device_modal'))).toEqual([]);
  await remove.getByTestId('confirm-delete').click();
  await expect(remove).toBeHidden();
  await expect(toast(page, 'gw-2 deleted')).toBeVisible();
  await expect(device('gw-2')).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});
