//! The REST API (`/api/v1/`) from the outside, as a script calls it: JSON over HTTP with an API
//! token made on Settings → API tokens, answers checked as bodies and as problem+json; and the
//! `keygate clients …` CLI run as a real process against a real `keygate`.

mod cli;
mod clients;
mod idempotency;
mod imports;
mod openapi;
mod pagination;
mod problems;
mod reach;

use crate::support::Tenant;
use app::model::IssuedApiToken;
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;

/// A token made by `owner` on Settings → API tokens: `scope` `read` or `manage_clients`, limited
/// to `workspace_id` unless it is empty.
pub async fn token(owner: &Tenant, name: &str, scope: &str, workspace_id: &str) -> String {
    let issued: IssuedApiToken = owner
        .call(
            "api_tokens/create",
            &[
                ("name", name),
                ("scope", scope),
                ("workspace_id", workspace_id),
                ("lifetime", "never"),
            ],
        )
        .await
        .expect("a token");
    issued.token
}

/// The id of `tenant`'s current workspace.
pub async fn workspace_of(tenant: &Tenant) -> String {
    tenant.me().await.current_workspace_id
}

/// A script calling the API with one token.
#[derive(Clone)]
pub struct Script {
    http: reqwest::Client,
    base: String,
    pub(super) token: Option<String>,
}

/// An answer: its status, headers and body (JSON, or `Value::String` of the text when it is not).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts that this is a problem+json with `status`, at `field` when given; its detail.
    #[track_caller]
    pub fn problem(&self, status: StatusCode, field: Option<&str>) -> String {
        assert_eq!(self.status, status, "status of {:?}", self.body);
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "{:?}",
            self.body
        );
        assert_eq!(self.body["status"], status.as_u16(), "{:?}", self.body);
        assert!(
            self.body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:keygate:problem:")),
            "{:?}",
            self.body
        );
        assert_eq!(
            self.body["field"].as_str(),
            field,
            "the field of {:?}",
            self.body
        );
        let detail = self.body["detail"].as_str().unwrap_or("").to_owned();
        assert!(!detail.trim().is_empty(), "a problem without a detail");
        detail
    }
}

impl Script {
    pub fn new(base: &str, token: Option<&str>) -> Self {
        Script {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            token: token.map(str::to_owned),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None, &[]).await
    }
}
