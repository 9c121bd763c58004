//! The CLI's side of the REST API: one request at a time to a running Keygate, with the token, and
//! every failure as a [`CliError`] that says what went wrong and which exit code it is.

use crate::rest::problem::FileProblem;
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a command failed; each kind is its own exit code, so a script can tell them apart.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot reach Keygate at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The API answered with a problem.
    #[error("{}", describe(.0))]
    Api(ApiProblem),
    #[error("Keygate answered something the CLI cannot read ({0}); is --url a Keygate?")]
    Unreadable(String),
}

/// A problem the API answered, with its status.
#[derive(Debug)]
pub struct ApiProblem {
    pub status: StatusCode,
    pub detail: String,
    pub field: Option<String>,
    /// A refused file's problems, each where it is.
    pub errors: Vec<FileProblem>,
}

fn describe(problem: &ApiProblem) -> String {
    let mut said = match &problem.field {
        Some(field) => format!("{} ({field}: {})", problem.detail, problem.status),
        None => format!("{} ({})", problem.detail, problem.status),
    };
    for error in &problem.errors {
        said.push_str(&format!("\n  {}: {}", error.position, error.problem));
    }
    said
}

impl CliError {
    /// The process's exit code: 2 for a mistake on the command line (as clap's own), 3 for a
    /// refused token, 4 for a scope that does not allow it, 5 for something that does not exist,
    /// 6 for input Keygate refused, 7 when Keygate cannot be reached, 1 for anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Unreachable { .. } => 7,
            CliError::Unreadable(_) => 1,
            CliError::Api(problem) => match problem.status {
                StatusCode::UNAUTHORIZED => 3,
                StatusCode::FORBIDDEN => 4,
                StatusCode::NOT_FOUND => 5,
                StatusCode::BAD_REQUEST
                | StatusCode::CONFLICT
                | StatusCode::UNPROCESSABLE_ENTITY
                | StatusCode::UNSUPPORTED_MEDIA_TYPE => 6,
                _ => 1,
            },
        }
    }
}

/// A running Keygate's REST API, as one token reaches it.
pub struct Api {
    http: reqwest::Client,
    base: Url,
    token: SecretString,
}

impl Api {
    pub fn new(url: &str, token: SecretString) -> Result<Self, CliError> {
        let mut base = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "--url {url:?} is not an http:// or https:// address of a Keygate"
                ))
            })?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        // HTTPS needs the process's TLS provider; the server installs the same one.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("keygate-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CliError::Usage(format!("cannot make an HTTP client: {e}")))?;
        Ok(Api { http, base, token })
    }

    /// `path` (below `/api/v1/`) with `query`, answered as `T`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, CliError> {
        let text = self.send(Method::GET, path, query, None, &[]).await?.1;
        parse(&text)
    }

    /// `path`'s body as text (an export).
    pub async fn get_text(&self, path: &str, query: &[(&str, String)]) -> Result<String, CliError> {
        Ok(self.send(Method::GET, path, query, None, &[]).await?.1)
    }

    /// Sends `body` with `method` to `path`, with extra `headers`; the answer as `T`.
    pub async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        headers: &[(&str, String)],
    ) -> Result<T, CliError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let text = self.send(method, path, &[], body, headers).await?.1;
        parse(&text)
    }

    /// Sends a request whose answer has no body (a delete).
    pub async fn send_empty(&self, method: Method, path: &str) -> Result<(), CliError> {
        self.send(method, path, &[], None, &[]).await.map(drop)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        headers: &[(&str, String)],
    ) -> Result<(StatusCode, String), CliError> {
        let mut url = self
            .base
            .join("api/v1/")
            .and_then(|api| api.join(path))
            .map_err(|e| CliError::Usage(format!("bad path {path:?}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(self.token.expose_secret());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request.send().await.map_err(|e| CliError::Unreachable {
            url: self.base.to_string(),
            reason: root_cause(&e),
        })?;
        let status = response.status();
        let text = response.text().await.map_err(|e| CliError::Unreachable {
            url: self.base.to_string(),
            reason: root_cause(&e),
        })?;
        if status.is_success() {
            return Ok((status, text));
        }
        Err(match serde_json::from_str::<ProblemBody>(&text) {
            Ok(problem) => CliError::Api(ApiProblem {
                status,
                detail: problem.detail,
                field: problem.field,
                errors: problem.errors.unwrap_or_default(),
            }),
            Err(_) => CliError::Api(ApiProblem {
                status,
                detail: format!("Keygate answered {status} without a problem description"),
                field: None,
                errors: Vec::new(),
            }),
        })
    }
}

/// The part of a problem+json (`rest::problem::Problem`) the CLI reads.
#[derive(serde::Deserialize)]
struct ProblemBody {
    detail: String,
    field: Option<String>,
    errors: Option<Vec<FileProblem>>,
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, CliError> {
    serde_json::from_str(text).map_err(|e| CliError::Unreadable(e.to_string()))
}

/// The innermost cause of a request error ("Connection refused"), which is what a person needs.
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
