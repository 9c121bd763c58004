//! Every HTTP answer names the request it answers in `x-request-id`: the id a proxy in front sent,
//! when it is one a log line can carry, or a fresh one. The server's log lines for the request
//! carry the same id (`tests/secret_leak.rs` reads them).

use crate::support::{Engine, TestApp, engines};

const REQUEST_ID: &str = "x-request-id";

#[engines]
async fn every_answer_names_its_request(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let http = reqwest::Client::new();
    let answer = |id: Option<String>| {
        let mut request = http.get(app.url("/signin"));
        if let Some(id) = id {
            request = request.header(REQUEST_ID, id);
        }
        async move {
            let response = request.send().await.expect("the page answers");
            assert!(response.status().is_success(), "{}", response.status());
            response
                .headers()
                .get(REQUEST_ID)
                .expect("an x-request-id in the answer")
                .to_str()
                .expect("an ASCII id")
                .to_owned()
        }
    };

    let fresh = answer(None).await;
    assert_eq!(fresh.len(), 36, "a UUID: {fresh}");
    let again = answer(None).await;
    assert_ne!(fresh, again, "each request has its own");

    let from_proxy = "Root=1-67891233-abcdef012345678912345678";
    assert_eq!(answer(Some(from_proxy.into())).await, from_proxy);

    for unusable in ["two words".to_owned(), "x".repeat(129)] {
        let replaced = answer(Some(unusable.clone())).await;
        assert_ne!(replaced, unusable);
        assert_eq!(replaced.len(), 36, "a fresh UUID instead of {unusable:?}");
    }

    // Server functions and the fallback (static files, unknown pages) are answered the same way.
    let tenant = app.anonymous();
    let api = tenant.post("account/me", &[]).await;
    assert!(api.headers.contains_key(REQUEST_ID));
    let missing = http
        .get(app.url("/no/such/page"))
        .send()
        .await
        .expect("an answer");
    assert!(missing.headers().contains_key(REQUEST_ID));
    app.stop().await;
}
