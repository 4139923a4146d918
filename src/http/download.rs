//! File downloads streamed from the database a chunk at a time (the 3W and the organization
//! exports): memory stays one chunk whatever the file's size, and each chunk takes a pool
//! connection for its query only, so a slow reader holds no connection while it reads.

use std::future::Future;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::db::{Connection, Pool};

/// One chunk of a download: its bytes, where the next one starts, and whether it is the last.
pub struct Chunk<K> {
    pub bytes: Vec<u8>,
    pub after: Option<K>,
    pub last: bool,
}

/// A `200` streaming `head`, then the chunks `next` reads (given a connection and where the
/// previous chunk ended) until one is the last or empty, as an attachment named `file`.
/// `guard` (a semaphore permit, say) is held until the stream ends or the client goes away.
/// A failure mid-stream is logged (as `what`) and fails the body: the server drops the
/// connection without the final chunk, so the client sees a broken download rather than a
/// short file that looks whole.
pub fn attachment<K, G, F, Fut>(
    pool: Pool,
    media_type: &'static str,
    file: &str,
    head: Vec<u8>,
    what: String,
    guard: G,
    next: F,
) -> HttpResponse
where
    K: 'static,
    G: 'static,
    F: Fn(Connection, Option<K>) -> Fut + 'static,
    Fut: Future<Output = Result<Chunk<K>, String>>,
{
    struct State<K, G, F> {
        pool: Pool,
        head: Option<Vec<u8>>,
        after: Option<K>,
        done: bool,
        what: String,
        next: F,
        _guard: G,
    }
    let state = State {
        pool,
        head: (!head.is_empty()).then_some(head),
        after: None,
        done: false,
        what,
        next,
        _guard: guard,
    };
    let body = futures_util::stream::unfold(state, move |mut s| async move {
        if s.done {
            return None;
        }
        if let Some(head) = s.head.take() {
            return Some((Ok::<_, actix_web::Error>(web::Bytes::from(head)), s));
        }
        let chunk = match crate::db::connection(&s.pool).await {
            Ok(conn) => (s.next)(conn, s.after.take()).await,
            Err(e) => Err(e.to_string()),
        };
        match chunk {
            Ok(chunk) if chunk.bytes.is_empty() => None,
            Ok(chunk) => {
                s.done = chunk.last;
                s.after = chunk.after;
                Some((Ok(web::Bytes::from(chunk.bytes)), s))
            }
            Err(e) => {
                tracing::error!(error = %e, "{} failed mid-stream", s.what);
                s.done = true;
                Some((
                    Err(actix_web::error::ErrorInternalServerError("export failed")),
                    s,
                ))
            }
        }
    });
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, media_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .streaming(body)
}
