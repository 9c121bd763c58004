// Export on the Clients page: CSV and JSON files of every client of the workspace (not only the
// page shown), saved by the browser, holding no key, with a hostile name defused for spreadsheets.
import * as fs from 'node:fs';
import { test, expect } from './fixtures';
import { createClientsViaApi, gotoApp, signUpViaApi, unexpectedErrors, DEFAULT_KEY } from './helpers';
import type { Page } from '@playwright/test';

async function exported(page: Page, testId: string): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return { name: download.suggestedFilename(), text: fs.readFileSync((await download.path()) as string, 'utf8') };
}

test('Export saves every client of the workspace as CSV and JSON, without keys', async ({ page, consoleErrors }) => {
  await signUpViaApi(page, 'Export Labs');
  const clients = Array.from({ length: 27 }, (_, i) => ({
    client_id: `exp-${String(i).padStart(2, '0')}`,
    name: i === 0 ? '=HYPERLINK("http://evil")' : `Sensor ${i}`,
  }));
  await createClientsViaApi(page, clients);
  await gotoApp(page, '/clients', consoleErrors);
  const namespace = await page.getByTestId('namespace').innerText();

  const csv = await exported(page, 'export-csv');
  expect(csv.name).toBe(`keygate-clients-${namespace}.csv`);
  const lines = csv.text.trimEnd().split('\r\n');
  expect(lines[0]).toBe(
    'client_id,name,description,active,scope,topic_rules,created_utc,last_seen_utc,key_fingerprints,expires_utc',
  );
  // Every client, beyond the page's 25.
  expect(lines).toHaveLength(28);
  expect(lines[1]).toContain(`"exp-00","'=HYPERLINK(""http://evil"")"`);
  expect(csv.text).not.toContain(DEFAULT_KEY);

  const json = await exported(page, 'export-json');
  expect(json.name).toBe(`keygate-clients-${namespace}.json`);
  const parsed = JSON.parse(json.text) as Array<{ client_id: string; keys: Array<{ fingerprint: string }> }>;
  expect(parsed.map((c) => c.client_id)).toEqual(clients.map((c) => c.client_id));
  expect(parsed[0].keys).toHaveLength(1);
  expect(parsed[0].keys[0].fingerprint).toMatch(/^[0-9a-f]{8}$/);
  expect(json.text).not.toContain(DEFAULT_KEY);
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});
