//! The clients list's cursors: an opaque token (base64url of JSON) that holds the query a page
//! answered and the last row it had, so the next page starts right after that row whatever was
//! created or deleted meanwhile. The cursor carries its query: a later page cannot silently
//! change the search or the sort under the caller.

use super::problem::Problem;
use super::schema::ListParams;
use app::model::{AccessFilter, ClientQuery, ExpiryFilter, SortKey};
use app::store::clients::After;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// Clients per page unless `limit` says otherwise, and the most a page holds.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// What a cursor holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    search: String,
    sort: String,
    order: String,
    access: String,
    expiry: String,
    after: After,
}

/// A page request, parsed: the query, where it starts, and how many clients it holds.
#[derive(Clone, Debug)]
pub struct Page {
    pub query: ClientQuery,
    pub after: Option<After>,
    pub limit: u32,
}

/// The page `params` ask for; a parameter out of its range names itself.
pub fn page(params: &ListParams) -> Result<Page, Problem> {
    let limit = match params.limit {
        None => DEFAULT_LIMIT,
        Some(n @ 1..=MAX_LIMIT) => n,
        Some(_) => {
            return Err(Problem::invalid(
                "limit",
                format!("The limit is a number from 1 to {MAX_LIMIT}."),
            ));
        }
    };
    let Some(cursor) = &params.cursor else {
        return Ok(Page {
            query: query(
                params.search.as_deref().unwrap_or(""),
                params.sort.as_deref().unwrap_or("client_id"),
                params.order.as_deref().unwrap_or("asc"),
                params.access.as_deref().unwrap_or("all"),
                params.expiry.as_deref().unwrap_or("all"),
            )?,
            after: None,
            limit,
        });
    };
    let position = decode(cursor)?;
    let repeated = [
        (&params.search, &position.search),
        (&params.sort, &position.sort),
        (&params.order, &position.order),
        (&params.access, &position.access),
        (&params.expiry, &position.expiry),
    ];
    if repeated
        .iter()
        .any(|(given, held)| given.as_ref().is_some_and(|given| given != *held))
    {
        return Err(Problem::invalid(
            "cursor",
            "This cursor belongs to another search, filter or sort: send it with the same \
             parameters, or with none of them.",
        ));
    }
    Ok(Page {
        query: query(
            &position.search,
            &position.sort,
            &position.order,
            &position.access,
            &position.expiry,
        )?,
        after: Some(position.after),
        limit,
    })
}

/// The cursor of the page after one that ended with `last`.
pub fn next(params: &Page, last: &app::model::ClientRow) -> String {
    let query = &params.query;
    let position = Position {
        search: query.search.clone(),
        sort: sort_name(query.sort).to_owned(),
        order: if query.descending { "desc" } else { "asc" }.to_owned(),
        access: match query.access {
            AccessFilter::All => "all",
            AccessFilter::Restricted => "restricted",
            AccessFilter::Unrestricted => "unrestricted",
        }
        .to_owned(),
        expiry: match query.expiry {
            ExpiryFilter::All => "all",
            ExpiryFilter::Expiring => "expiring",
            ExpiryFilter::Expired => "expired",
        }
        .to_owned(),
        after: After::row(last, query.sort),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&position).unwrap_or_default())
}

fn decode(cursor: &str) -> Result<Position, Problem> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| {
            Problem::invalid(
                "cursor",
                "This is not a cursor Keygate made: pass a `next_cursor` as it was answered.",
            )
        })
}

fn sort_name(sort: SortKey) -> &'static str {
    match sort {
        SortKey::ClientId => "client_id",
        SortKey::Name => "name",
        SortKey::Created => "created_at",
        SortKey::LastSeen => "last_seen_at",
    }
}

/// The query the parameters name, each checked: an unknown value is an error, not the default.
fn query(
    search: &str,
    sort: &str,
    order: &str,
    access: &str,
    expiry: &str,
) -> Result<ClientQuery, Problem> {
    let search = search.trim();
    if search.chars().count() > ClientQuery::MAX_SEARCH {
        return Err(Problem::invalid(
            "search",
            format!(
                "A search is at most {} characters.",
                ClientQuery::MAX_SEARCH
            ),
        ));
    }
    let sort = SortKey::ALL
        .into_iter()
        .find(|key| sort_name(*key) == sort)
        .ok_or_else(|| {
            Problem::invalid(
                "sort",
                "Sort by `client_id`, `name`, `created_at` or `last_seen_at`.",
            )
        })?;
    let descending = match order {
        "asc" => false,
        "desc" => true,
        _ => return Err(Problem::invalid("order", "The order is `asc` or `desc`.")),
    };
    let access = match access {
        "all" => AccessFilter::All,
        "restricted" => AccessFilter::Restricted,
        "unrestricted" => AccessFilter::Unrestricted,
        _ => {
            return Err(Problem::invalid(
                "access",
                "The access filter is `all`, `restricted` or `unrestricted`.",
            ));
        }
    };
    let expiry = match expiry {
        "all" => ExpiryFilter::All,
        "expiring" => ExpiryFilter::Expiring,
        "expired" => ExpiryFilter::Expired,
        _ => {
            return Err(Problem::invalid(
                "expiry",
                "The expiry filter is `all`, `expiring` or `expired`.",
            ));
        }
    };
    Ok(ClientQuery {
        search: search.to_owned(),
        access,
        expiry,
        sort,
        descending,
        page: 1,
    })
}
