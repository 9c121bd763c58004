// Settings → Events: an owner adds an endpoint (a real HTTP receiver on 127.0.0.1), sees its
// signing secret once, watches a client change arrive as a delivery, and resends it.
import { test, expect, uniqueEmail } from './fixtures';
import { PASSWORD, createClientViaApi, gotoApp, reloadApp, signUpViaApi, unexpectedErrors } from './helpers';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Received {
  id: string;
  body: string;
}

/** An HTTP endpoint on 127.0.0.1 that records every event POSTed to it and answers 200. */
async function receiver(): Promise<{ url: string; received: Received[]; close: () => void }> {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ id: String(request.headers['webhook-id'] ?? ''), body });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/keygate`, received, close: () => server.close() };
}

test('an endpoint is added with its secret shown once, gets a client change, and a delivery can be resent', async ({
  page,
  consoleErrors,
}) => {
  const hook = await receiver();
  await signUpViaApi(page, 'Acme Devices');
  await gotoApp(page, '/settings/events', consoleErrors);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings');
  await expect(page.getByText('No endpoints yet.')).toBeVisible();

  const form = page.getByTestId('new-event-endpoint');
  // Plain http to another machine is refused at the field, before any request.
  await form.getByLabel('URL').fill('http://hooks.example.com/keygate');
  await form.getByRole('button', { name: 'Add endpoint' }).click();
  await expect(form.getByTestId('error-endpoint_url')).toContainText('loopback');
  await expect(page.getByText('No endpoints yet.')).toBeVisible();

  await form.getByLabel('URL').fill(hook.url);
  const created = page.waitForResponse((r) => r.url().includes('/api/events/create'));
  await form.getByRole('button', { name: 'Add endpoint' }).click();
  expect((await created).ok()).toBe(true);
  const secret = page.getByTestId('event-secret');
  await expect(secret).toHaveText(/^whsec_[A-Za-z0-9+/=]{32}$/);
  const secretText = (await secret.textContent()) ?? '';
  const endpoint = page.locator(`tr[data-event-endpoint="${hook.url}"]`);
  await expect(endpoint).toContainText('client.created');
  await expect(endpoint.getByTestId('endpoint-status')).toHaveText('Enabled');
  await expect(endpoint.getByTestId('endpoint-last-delivery')).toHaveText('none yet');

  // Shown once: gone after a reload, and nowhere in the page.
  await reloadApp(page, consoleErrors);
  await expect(page.getByTestId('event-secret-revealed')).toHaveCount(0);
  await expect(endpoint).toBeVisible();
  expect(await page.content()).not.toContain(secretText);

  // A client change arrives at the endpoint, and shows as a delivery.
  await createClientViaApi(page, { client_id: 'boiler-1', name: 'Boiler' });
  await expect.poll(() => hook.received.length).toBe(1);
  expect(JSON.parse(hook.received[0].body)).toMatchObject({
    type: 'client.created',
    data: { client_id: 'boiler-1', name: 'Boiler', active: true },
  });
  await expect(endpoint.getByTestId('endpoint-last-delivery')).toHaveText('client.created · Delivered (200)');
  await endpoint.getByTestId('show-deliveries').click();
  const deliveries = page.getByTestId('event-deliveries');
  const first = deliveries.locator('tr[data-event-type="client.created"]');
  await expect(first).toHaveCount(1);
  await expect(first.getByTestId('delivery-state')).toHaveText('Delivered');

  // Resend: the same message once more.
  await first.getByTestId('resend-delivery').click();
  await expect(page.getByText('Event queued again')).toBeVisible();
  await expect.poll(() => hook.received.length).toBe(2);
  expect(hook.received[1].id).toBe(hook.received[0].id);
  await expect(deliveries.locator('tr[data-event-type="client.created"]')).toHaveCount(2);
  await expect(deliveries.getByTestId('delivery-state')).toHaveText(['Delivered', 'Delivered']);

  // Disabled, it says so.
  await endpoint.getByTestId('toggle-endpoint').click();
  await expect(endpoint.getByTestId('endpoint-status')).toHaveText('Disabled');

  hook.close();
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('the Events tab of Settings opens the page', async ({ page, consoleErrors }) => {
  await signUpViaApi(page, 'Acme Devices');
  await gotoApp(page, '/settings', consoleErrors);
  await page.getByTestId('events-tab').click();
  await expect(page).toHaveURL(/\/settings\/events$/);
  await expect(page.getByTestId('new-event-endpoint')).toBeVisible();
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('a viewer sees the endpoints and their deliveries, and no button that changes them', async ({
  page,
  consoleErrors,
  newContextPage,
}) => {
  const hook = await receiver();
  await signUpViaApi(page, 'Acme Devices');
  const made = await page.request.post('/api/events/create', {
    form: { url: hook.url, event_types: 'client.created' },
  });
  expect(made.ok(), await made.text()).toBe(true);
  await createClientViaApi(page, { client_id: 'boiler-2', name: 'Boiler' });
  await expect.poll(() => hook.received.length).toBe(1);

  // A viewer, invited and accepted through the server functions.
  const email = uniqueEmail('viewer');
  const invited = await page.request.post('/api/members/invite', { form: { email, role: 'viewer' } });
  expect(invited.ok(), await invited.text()).toBe(true);
  const token = ((await invited.json()) as { path: string }).path.replace('/invite/', '');
  const viewer = await newContextPage('viewer');
  const accepted = await viewer.request.post('/api/members/accept', { form: { token, password: PASSWORD } });
  expect(accepted.ok(), await accepted.text()).toBe(true);

  await gotoApp(viewer, '/settings/events', consoleErrors);
  const endpoint = viewer.locator(`tr[data-event-endpoint="${hook.url}"]`);
  await expect(endpoint.getByTestId('endpoint-last-delivery')).toHaveText('client.created · Delivered (200)');
  await expect(viewer.getByTestId('new-event-endpoint')).toHaveCount(0);
  for (const testid of ['toggle-endpoint', 'delete-endpoint']) {
    await expect(endpoint.getByTestId(testid), testid).toHaveCount(0);
  }
  await endpoint.getByTestId('show-deliveries').click();
  const delivery = viewer.getByTestId('event-deliveries').locator('tr[data-event-type="client.created"]');
  await expect(delivery.getByTestId('delivery-state')).toHaveText('Delivered');
  await expect(delivery.getByTestId('resend-delivery')).toHaveCount(0);

  hook.close();
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});
