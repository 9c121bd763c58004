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

// Leptos's async SSR re-runs the closure inside `Protected`'s `<Transition>{move || Suspend::new(..)}`.
// A resource created there would run one to three times per request, and a discarded copy, whose
// owner is disposed while its server function awaits, fails ("AppState missing from the server
// function context") and is serialized as `{"Err":"Internal"}`; hydration then panics and the page is
// dead. So pages create their resources outside `Protected`, and this test holds them to it.
test('server rendering hands the browser only successful resources, once each', async ({ page, keygate }) => {
  await signUpViaApi(page);
  await createClientsViaApi(page, [
    { client_id: 'render-1', name: 'One' },
    { client_id: 'render-2', name: 'Two' },
  ]);

  const problems: string[] = [];
  for (let round = 0; round < 15; round++) {
    await Promise.all(
      ['/clients', '/settings/activity', '/settings/members', '/settings/account'].map(async (path) => {
        const response = await page.request.get(path);
        expect(response.status()).toBe(200);
        const resources = serializedResources(await response.text());
        // Resource 0 is the signed-in user and 1 the key policy beside it (the header's count of
        // expiring keys); the page's own resource follows, exactly once.
        if (resources.size !== 3) problems.push(`${path}: ${resources.size} resources (ids ${[...resources.keys()]})`);
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
