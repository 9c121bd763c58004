//! The REST API's errors, as `application/problem+json` (RFC 9457): every error a handler meets
//! is an [`AppError`] first (the one place that turns lower layers' errors into what a user may
//! read), and becomes a [`Problem`] here, with the request field it belongs to.

use app::error::AppError;
use app::model::FieldError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// What went wrong, as `application/problem+json`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Problem {
    /// What kind of problem this is, stable for scripts to match on: `urn:keygate:problem:`
    /// followed by `invalid`, `unauthorized`, `forbidden`, `not-found`, `conflict`,
    /// `bad-request`, `too-many-requests`, `busy` or `internal`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// A short summary of the kind.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request, for a person.
    pub detail: String,
    /// The request body's field (or the header) that is wrong, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a file that was refused, every problem in it, where it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FileProblem>>,
}

/// A problem at a place in a file.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct FileProblem {
    /// `line 3`, `client 2` of a JSON file, or `file`.
    pub position: String,
    pub problem: String,
}

impl Problem {
    /// `kind` is the whole `urn:keygate:problem:…`.
    fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            kind,
            title,
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            errors: None,
        }
    }

    /// A file with `problems`, each at its place; nothing was created.
    pub fn file(problems: Vec<(String, String)>) -> Self {
        Problem {
            errors: Some(
                problems
                    .into_iter()
                    .map(|(position, problem)| FileProblem { position, problem })
                    .collect(),
            ),
            ..Problem::invalid(
                "content",
                "The file has problems (each in `errors`, where it is); nothing was imported.",
            )
        }
    }

    /// A request whose field `field` is wrong.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        Problem {
            field: Some(field.to_owned()),
            ..Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "urn:keygate:problem:invalid",
                "A field of the request is not valid",
                detail,
            )
        }
    }

    /// A request that is not even of the right shape.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "urn:keygate:problem:bad-request",
            "The request is malformed",
            detail,
        )
    }

    /// Nothing answers at this path, or the object is missing or someone else's.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "urn:keygate:problem:not-found",
            "Not found",
            detail,
        )
    }

    /// A path that exists, asked with a method it does not answer.
    pub fn method_not_allowed() -> Self {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "urn:keygate:problem:method-not-allowed",
            "Method not allowed",
            "This path does not answer this method; see /api/v1/openapi.json.",
        )
    }

    /// A request without a usable API token.
    pub fn unauthorized() -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "urn:keygate:problem:unauthorized",
            "An API token is needed",
            "Send a working API token as `Authorization: Bearer kgt_…` (Settings → API tokens). \
             A token that is unknown, expired or revoked is refused the same way.",
        )
    }

    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let unauthorized = status == StatusCode::UNAUTHORIZED;
        let mut response = (status, Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if unauthorized {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"keygate\""),
            );
        }
        response
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        let detail = e.to_string();
        match e {
            AppError::Invalid { field, .. } => Problem::invalid(field_name(field), detail),
            AppError::Unauthorized => Problem::unauthorized(),
            AppError::NotFound(_) => Problem::not_found(detail),
            AppError::Forbidden(_) => Problem::new(
                StatusCode::FORBIDDEN,
                "urn:keygate:problem:forbidden",
                "Not allowed for this token",
                detail,
            ),
            AppError::Conflict(_) => Problem::new(
                StatusCode::CONFLICT,
                "urn:keygate:problem:conflict",
                "The request conflicts with what happened since",
                detail,
            ),
            AppError::BadRequest(_) => Problem::bad_request(detail),
            AppError::TooManyAttempts(_) => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "urn:keygate:problem:too-many-requests",
                "Too many requests",
                detail,
            ),
            AppError::Busy => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "urn:keygate:problem:busy",
                "Keygate is busy",
                detail,
            ),
            AppError::Internal | AppError::Transport(_) => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "urn:keygate:problem:internal",
                "Something went wrong on the server",
                "Something went wrong on the server. Please try again.",
            ),
        }
    }
}

/// The request field a form field's error belongs to, as the REST API names it.
fn field_name(field: FieldError) -> &'static str {
    match field {
        FieldError::ClientId => "client_id",
        FieldError::Key => "key",
        FieldError::Name => "name",
        FieldError::Description => "description",
        FieldError::Email => "email",
        FieldError::Password => "password",
        FieldError::CurrentPassword => "current_password",
        FieldError::OrgName => "organization_name",
        FieldError::WorkspaceName => "workspace_name",
        FieldError::Namespace => "namespace",
        FieldError::DeviceId => "device_id",
        FieldError::Tag => "tag",
        FieldError::Scope => "scope",
        FieldError::TopicRule => "topic_rules",
        FieldError::KeyExpiry => "expiry",
        FieldError::RetireAt => "retire",
        FieldError::TokenScope => "scope",
        FieldError::IdempotencyKey => "Idempotency-Key",
        FieldError::EndpointUrl => "url",
        FieldError::EventTypes => "event_types",
    }
}

/// Anything that converts into an [`AppError`] (a use case's error) converts into a problem.
pub fn from_app<E: Into<AppError>>(e: E) -> Problem {
    e.into().into()
}

/// A body that is not JSON, not JSON of the request's shape, or not sent as JSON. axum's message
/// names the field at fault ("name: invalid type …", "unknown field `nmae`").
impl From<JsonRejection> for Problem {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let detail = rejection.body_text();
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "urn:keygate:problem:unsupported-media-type",
                "The body must be JSON",
                "Send the body as JSON, with `Content-Type: application/json`.",
            ),
            JsonRejection::JsonDataError(_) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "urn:keygate:problem:invalid",
                "The body does not have the request's fields",
                detail,
            ),
            // A body too large, or one that is not JSON at all.
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
                status,
                "urn:keygate:problem:too-large",
                "The body is too large",
                detail,
            ),
            _ => Problem::bad_request(detail),
        }
    }
}

impl From<QueryRejection> for Problem {
    fn from(rejection: QueryRejection) -> Self {
        Problem::bad_request(rejection.body_text())
    }
}

impl From<PathRejection> for Problem {
    fn from(rejection: PathRejection) -> Self {
        Problem::bad_request(rejection.body_text())
    }
}
