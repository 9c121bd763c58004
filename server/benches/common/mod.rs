//! What the benchmarks share: a signed-in dashboard session on a running Keygate.

/// Signs up `organization` at `base` (`http://127.0.0.1:PORT`) and returns the HTTP client that
/// holds its session cookie.
pub async fn signed_up(base: &str, organization: &str) -> reqwest::Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let signed_up = http
        .post(format!("{base}/api/account/sign_up"))
        .form(&[
            ("email", "bench@example.com"),
            ("password", "bench-password-123"),
            ("organization", organization),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        signed_up.status().is_success(),
        "sign-up failed: {}",
        signed_up.status()
    );
    http
}
