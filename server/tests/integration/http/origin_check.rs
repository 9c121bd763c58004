//! The Origin check against cross-site requests a browser makes without an `Origin` header: one
//! whose `Sec-Fetch-Site` says it comes from another site (`cross-site`) or a sibling subdomain
//! (`same-site`) is refused like a foreign `Origin`, on the dashboard's server functions and on
//! HTTP publish. Requests with neither header (curl, devices) and those the browser marks
//! `same-origin` or `none` (typed in the address bar) pass.

use crate::broker::{Setup, topic};
use crate::support::{Engine, engines};
use app::model::RevealedKey;
use reqwest::StatusCode;

const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// What a refused cross-origin request is answered, whichever header gave it away.
fn refusal() -> serde_json::Value {
    serde_json::json!({ "error": "Cross-origin request refused." })
}

/// POSTs `payload` to HTTP publish for `client`, with `Sec-Fetch-Site: site` when given.
async fn publish(client: &RevealedKey, site: Option<&str>, payload: &str) -> (StatusCode, String) {
    let url = client
        .connection
        .publish_url
        .clone()
        .expect("the embedded broker runs");
    let mut request = reqwest::Client::new()
        .post(format!("{url}/{}", topic(client, "telemetry")))
        .basic_auth(
            client.connection.client_id.as_str(),
            Some(client.key.expose()),
        )
        .body(payload.to_owned());
    if let Some(site) = site {
        request = request.header(SEC_FETCH_SITE, site);
    }
    let response = request.send().await.expect("HTTP publish answers");
    let status = response.status();
    (status, response.text().await.expect("a body"))
}

#[engines]
async fn a_post_marked_cross_site_or_same_site_without_origin_is_refused(engine: Engine) {
    let setup = Setup::new(engine).await;
    let (app, ann) = (&setup.app, &setup.tenant);
    let before = app.counts().await;
    let key = app::model::ClientKey::generate();
    let form = [
        ("client_id", "from-a-sibling"),
        ("key", key.expose()),
        ("name", "Forged"),
        ("description", ""),
    ];
    for site in ["cross-site", "same-site", "Cross-Site"] {
        let answer = ann
            .post_with("clients/create", &form, |r| r.header(SEC_FETCH_SITE, site))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{site}: {}",
            answer.body
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&answer.body).ok(),
            Some(refusal()),
            "{site}"
        );

        let answer = app
            .anonymous()
            .post_with(
                "account/sign_in",
                &[("email", &ann.email), ("password", &ann.password)],
                |r| r.header(SEC_FETCH_SITE, site),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{site}: {}",
            answer.body
        );
        assert!(answer.headers.get(reqwest::header::SET_COOKIE).is_none());

        let (status, body) = publish(&setup.client, Some(site), "forged").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{site}: {body}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).ok(),
            Some(refusal())
        );
    }
    assert_eq!(app.counts().await, before);
    setup.app.stop().await;
}

#[engines]
async fn a_post_without_either_header_or_marked_same_origin_or_none_passes(engine: Engine) {
    let setup = Setup::new(engine).await;
    let ann = &setup.tenant;
    for (n, site) in [None, Some("same-origin"), Some("none")]
        .into_iter()
        .enumerate()
    {
        let key = app::model::ClientKey::generate();
        let client_id = format!("passes-{n}");
        let answer = ann
            .post_with(
                "clients/create",
                &[
                    ("client_id", client_id.as_str()),
                    ("key", key.expose()),
                    ("name", "Fine"),
                    ("description", ""),
                ],
                |r| match site {
                    Some(site) => r.header(SEC_FETCH_SITE, site),
                    None => r,
                },
            )
            .await;
        let revealed: RevealedKey = answer
            .decode()
            .unwrap_or_else(|e| panic!("{site:?}: {e:?}"));
        assert_eq!(revealed.row.client_id.as_str(), client_id);

        let (status, body) = publish(&setup.client, site, "fine").await;
        assert_eq!(status, StatusCode::OK, "{site:?}: {body}");
    }
    setup.app.stop().await;
}
