//! The few browser APIs the dashboard uses directly: clipboard, file download and upload, and the
//! clock. They are only ever called from event handlers and modals, so they never run during
//! server rendering.

use std::time::Duration;
use wasm_bindgen::JsCast;

/// How long a download's object URL outlives the click. Firefox and Safari start reading the blob
/// after the click's task has ended, so a URL revoked in that task cancels the download (Mozilla
/// bug 1282407); FileSaver.js waits 40 s for the same reason. The blob holds the key, so it is
/// not kept for the page's whole life either.
const OBJECT_URL_LIFETIME: Duration = Duration::from_secs(40);

/// Copies `text` to the clipboard: the async Clipboard API where the page is a secure context,
/// else a selected textarea and `execCommand("copy")` (plain-HTTP deployments on a LAN).
pub fn copy_to_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    let has_clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into())
        .map(|c| !c.is_undefined())
        .unwrap_or(false);
    if has_clipboard && window.is_secure_context() {
        let _ = navigator.clipboard().write_text(text);
        return true;
    }
    let Some(document) = window.document() else {
        return false;
    };
    let Ok(area) = document.create_element("textarea") else {
        return false;
    };
    let area: web_sys::HtmlTextAreaElement = area.unchecked_into();
    area.set_value(text);
    let _ = area.set_attribute("style", "position:fixed;opacity:0");
    let Some(body) = document.body() else {
        return false;
    };
    let _ = body.append_child(&area);
    area.select();
    let copied = document
        .dyn_ref::<web_sys::HtmlDocument>()
        .and_then(|d| d.exec_command("copy").ok())
        .unwrap_or(false);
    area.remove();
    copied
}

/// Offers `contents` as a file download named `filename`, without a server round trip (the
/// credentials file never touches the server). Its object URL is revoked
/// [`OBJECT_URL_LIFETIME`] later.
pub fn download_text(filename: &str, contents: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&contents.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/plain;charset=utf-8");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(anchor) = document.create_element("a") {
        let anchor: web_sys::HtmlAnchorElement = anchor.unchecked_into();
        anchor.set_href(&url);
        anchor.set_download(filename);
        anchor.click();
    }
    leptos::prelude::set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        OBJECT_URL_LIFETIME,
    );
}

/// The text of the file chosen in `input` (read as UTF-8, in the browser: an import previews it
/// before anything is sent); `None` when none is chosen or it cannot be read.
pub async fn chosen_file_text(input: &web_sys::HtmlInputElement) -> Option<String> {
    let file = input.files()?.get(0)?;
    wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()?
        .as_string()
}

/// The browser's clock in Unix milliseconds: what a modal counts "in 3 days" from and checks a
/// chosen date against. Pages the server renders count from the server's clock instead (the
/// hydrated text must match the rendered one); off the browser this is the process's clock.
pub fn now_millis() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
}
