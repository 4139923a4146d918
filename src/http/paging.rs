//! The list envelope every collection uses: `{data, next_cursor, total}`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
