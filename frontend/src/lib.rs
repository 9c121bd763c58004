//! The browser entry point: hydrates the server-rendered page. Nothing else lives here.
//!
//! The pages are lazy routes (WASM chunks of their own), so hydration is asynchronous: it waits
//! for the current page's chunk before it walks the server's HTML. Only when the whole page is
//! hydrated does `<body>` get `data-hydrated`, the marker the browser tests wait for (a click
//! before it would be lost).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
