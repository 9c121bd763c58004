import { test, expect } from './fixtures';
import { createClientsViaApi, signUpViaApi } from './helpers';

/** The resources a server-rendered page hands to the browser for hydration, by id. */
function serializedResources(html: string): Map<number, string> {
  const resources = new Map<number, string>();
  for (const match of html.matchAll(/__RESOLVED_RESOURCES\[(\d+)\] = "((?:[^"\\]|\\.)*)"/g)) {
    resources.set(Number(match[1]), JSON.parse(`"${match[2]}"`));
  }
  return resources;
}

// KNOWN BUG, marked test.fail so the suite stays honest until the app is fixed:
// server-rendering /clients or /settings runs the page's resource (list_clients / recent_activity)
// one to three times per request, nondeterministically (`__PENDING_RESOURCES=[0,2]`, `[0,2,4]` or
// `[0,2,4,6]`). The page is built inside `Protected`'s `<Transition>{move || Suspend::new(..)}`
// closure, which leptos's async SSR re-runs (`dry_resolve`), creating a new page component and a
// new resource each time and disposing the previous one. A copy whose owner was disposed while its
// server function was awaiting fails with `AppState missing from the server function context`
// (logged at ERROR) and is serialized as `{"Err":"Internal"}`. When that copy is the one the browser
// hydrates from (the first), the browser renders an error banner where the server rendered the
// table, hydration panics ("A hydration error occurred ... app/src/pages/clients/mod.rs:172" or
// settings.rs:199, then "Unrecoverable hydration error") and the page is dead: switches stay
// disabled, List/Cards no longer switch. Seen on ~5% of /clients loads and ~30% of /settings loads
// on a loaded 2-core machine, far more with concurrent requests.
test('server rendering hands the browser only successful resources, once each', async ({ page, keygate }) => {
  test.fail(true, 'known bug: /clients and /settings SSR re-creates the page resource; a disposed copy serializes Err(Internal)');
  await signUpViaApi(page);
  await createClientsViaApi(page, [
    { client_id: 'render-1', name: 'One' },
    { client_id: 'render-2', name: 'Two' },
  ]);

  const problems: string[] = [];
  for (let round = 0; round < 15; round++) {
    await Promise.all(
      ['/clients', '/settings', '/clients', '/settings'].map(async (path) => {
        const response = await page.request.get(path);
        expect(response.status()).toBe(200);
        const resources = serializedResources(await response.text());
        // Resource 0 is the signed-in user; the page's own resource follows, exactly once.
        if (resources.size !== 2) problems.push(`${path}: ${resources.size} resources (ids ${[...resources.keys()]})`);
        for (const [id, value] of resources) {
          if (value.startsWith('{"Err"')) problems.push(`${path}: resource ${id} = ${value}`);
        }
      }),
    );
  }
  const appStateMissing = keygate.log().split('\n').filter((line) => line.includes('AppState missing')).length;
  expect({ problems: problems.slice(0, 10), total: problems.length, appStateMissing }).toEqual({
    problems: [],
    total: 0,
    appStateMissing: 0,
  });
});
