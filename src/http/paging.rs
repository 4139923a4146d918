//! The list envelope every collection uses (`{data, next_cursor, total}`), page sizes, cursors
//! and the `Link` header.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

/// Page size when `limit` is absent, and the most a client may ask for.
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// One page of a list. `next_cursor` is null on the last page; pass it back as `cursor` to get
/// the next one (the `Link: <...>; rel="next"` header carries the same URL).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Opaque cursor for the next page; null when this is the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// How many items match the request, across all pages.
    pub total: i64,
}

impl<T> Page<T> {
    /// A list that fits in one page (reference data).
    pub fn complete(data: Vec<T>) -> Self {
        let total = i64::try_from(data.len()).unwrap_or(i64::MAX);
        Page {
            data,
            next_cursor: None,
            total,
        }
    }
}

/// `limit`, checked: 1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
pub fn limit(raw: Option<i64>) -> Result<i64, ApiError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_parameter(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// A list paged by a sequence number: `limit` checked, and the position the `cursor` (one of
/// list `list`'s) carries.
pub fn seq_position(
    list: &str,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<(i64, Option<i64>), ApiError> {
    let limit = self::limit(limit)?;
    let position = cursor.map(|c| decode_id_cursor(list, c)).transpose()?;
    Ok((limit, position))
}

/// The 200 of a list paged by a sequence number: `rows` (read with `limit + 1`) cut to the
/// page, each shown with `view`, and the next cursor made from the last row's `seq`.
pub fn respond_seq<T, V: Serialize>(
    req: &HttpRequest,
    list: &str,
    (mut rows, total): (Vec<T>, i64),
    limit: i64,
    seq: impl Fn(&T) -> i64,
    view: impl Fn(T) -> V,
) -> HttpResponse {
    let next = cut(&mut rows, limit, |r| encode_id_cursor(list, seq(r)));
    respond(
        req,
        Page {
            data: rows.into_iter().map(view).collect(),
            next_cursor: next,
            total,
        },
    )
}

/// Cuts `rows`, read with `limit + 1`, to the page; when more follow, the cursor of the last
/// row kept (made by `cursor`).
pub fn cut<T>(rows: &mut Vec<T>, limit: i64, cursor: impl Fn(&T) -> String) -> Option<String> {
    let size = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() <= size {
        return None;
    }
    rows.truncate(size);
    rows.last().map(cursor)
}

/// A cursor that is the last id seen in a list ordered by id, tagged with the list's name so
/// that one list's cursor is refused by another.
pub fn encode_id_cursor(list: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{list}:{id}"))
}

pub fn decode_id_cursor(list: &str, cursor: &str) -> Result<i64, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            let (tag, id) = text.split_once(':')?;
            (tag == list).then(|| id.parse::<i64>().ok())?
        })
        .ok_or_else(|| {
            ApiError::bad_parameter(
                "cursor",
                "is not a cursor of this list: pass back `next_cursor` exactly as received",
            )
        })
}

/// 200 with the page, and `Link: <...>; rel="next"` when a next page exists: this request's
/// path and query with `cursor` replaced.
pub fn respond<T: Serialize>(req: &HttpRequest, page: Page<T>) -> HttpResponse {
    respond_with(req, page.next_cursor.clone(), &page)
}

/// [`respond`] for a body other than a plain [`Page`] (one with facets, say).
pub fn respond_with<B: Serialize>(
    req: &HttpRequest,
    next_cursor: Option<String>,
    body: &B,
) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if let Some(cursor) = &next_cursor {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
            if k != "cursor" {
                url.append_pair(&k, &v);
            }
        }
        url.append_pair("cursor", cursor);
        res.insert_header((
            header::LINK,
            format!("<{}?{}>; rel=\"next\"", req.path(), url.finish()),
        ));
    }
    res.json(body)
}
