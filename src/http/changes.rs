//! `GET /v1/changes`: every create, update and delete of a public entity, in an order a mirror
//! can follow by polling with the last cursor it saw.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::crises::CrisisView;
use super::engagements::EngagementView;
use super::extract::Query;
use super::organizations::OrganizationView;
use super::postings::PostingView;
use super::problem::Problem;
use crate::db::{self, Connection, Pool};
use crate::domain::change::{Change, Entity, Op, Position};
use crate::error::ApiError;

/// Changes per page when `limit` is absent, and the most a client may ask for.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Organization,
    Crisis,
    Engagement,
    Need,
    Offer,
}

impl From<Entity> for EntityKind {
    fn from(e: Entity) -> Self {
        match e {
            Entity::Organization => EntityKind::Organization,
            Entity::Crisis => EntityKind::Crisis,
            Entity::Engagement => EntityKind::Engagement,
            Entity::Need => EntityKind::Need,
            Entity::Offer => EntityKind::Offer,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    Create,
    Update,
    /// A tombstone: the entity was removed, or stopped being public (an organization archived,
    /// suspended or back to draft, with its engagements, needs and offers).
    Delete,
}

impl From<Op> for ChangeOp {
    fn from(o: Op) -> Self {
        match o {
            Op::Create => ChangeOp::Create,
            Op::Update => ChangeOp::Update,
            Op::Delete => ChangeOp::Delete,
        }
    }
}

/// The entity's public representation, as its own route returns it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum EntityData {
    Organization(Box<OrganizationView>),
    Crisis(CrisisView),
    Engagement(EngagementView),
    /// A need or an offer.
    Posting(PostingView),
}

/// One change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    pub entity: EntityKind,
    pub id: Uuid,
    pub op: ChangeOp,
    /// When the writing transaction started.
    pub changed_at: DateTime<Utc>,
    /// This change's position: pass it as `since` to read what follows it.
    pub cursor: String,
    /// For creates and updates: the entity as it is now (a later change may already show in
    /// it; applying changes in order still ends at the current state). Absent for deletes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<EntityData>)]
    pub data: Option<serde_json::Value>,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    pub data: Vec<ChangeView>,
    /// Where to poll from next: the last change's cursor, or `since` when nothing followed it
    /// (null only when the feed is empty and no `since` was given).
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// Whether more changes follow right away (poll again now rather than later).
    pub has_more: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangeQuery {
    /// A cursor from a previous page (`next_cursor`, or any change's `cursor`); from the
    /// beginning without it.
    #[param(max_length = 100)]
    pub since: Option<String>,
    /// Changes per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

fn encode(p: Position) -> String {
    URL_SAFE_NO_PAD.encode(format!("changes:{}:{}", p.txid, p.seq))
}

fn malformed() -> ApiError {
    ApiError::bad_parameter(
        "since",
        "is not a cursor of the change feed: pass back `next_cursor` or a change's `cursor` exactly as received",
    )
}

fn decode(raw: &str) -> Result<Position, ApiError> {
    let text = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(malformed)?;
    let mut parts = text.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("changes"), Some(txid), Some(seq), None) => Ok(Position {
            txid: txid.parse().map_err(|_| malformed())?,
            seq: seq.parse().map_err(|_| malformed())?,
        }),
        _ => Err(malformed()),
    }
}

/// The current public representation of each changed entity, by entity and id; an entity
/// that is gone or no longer public has none.
async fn representations(
    conn: &mut Connection,
    changes: &[Change],
) -> Result<HashMap<(Entity, Uuid), serde_json::Value>, ApiError> {
    let ids = |wanted: &[Entity]| -> Vec<Uuid> {
        changes
            .iter()
            .filter(|c| c.op != Op::Delete && wanted.contains(&c.entity))
            .map(|c| c.entity_id)
            .collect()
    };
    let mut out: HashMap<(Entity, Uuid), serde_json::Value> = HashMap::new();
    let mut put = |key: (Entity, Uuid), data: EntityData| -> Result<(), ApiError> {
        let json = serde_json::to_value(data)
            .map_err(|e| ApiError::internal("serialising a changed entity", e))?;
        out.insert(key, json);
        Ok(())
    };
    let now = Utc::now();
    let today = now.date_naive();
    let organizations = ids(&[Entity::Organization]);
    if !organizations.is_empty() {
        for org in crate::db::organizations::organizations_by_ids(conn, &organizations)
            .await
            .map_err(db::query_failed("loading changed organizations"))?
        {
            if org.is_public() {
                put(
                    (Entity::Organization, org.id),
                    EntityData::Organization(Box::new(OrganizationView::of(org, now))),
                )?;
            }
        }
    }
    let crises = ids(&[Entity::Crisis]);
    if !crises.is_empty() {
        for crisis in crate::db::crises::crises_by_ids(conn, &crises)
            .await
            .map_err(db::query_failed("loading changed crises"))?
        {
            put(
                (Entity::Crisis, crisis.id),
                EntityData::Crisis(CrisisView::from(crisis)),
            )?;
        }
    }
    let engagements = ids(&[Entity::Engagement]);
    if !engagements.is_empty() {
        for e in crate::db::engagements::public_engagements_by_ids(conn, &engagements)
            .await
            .map_err(db::query_failed("loading changed engagements"))?
        {
            put(
                (Entity::Engagement, e.id),
                EntityData::Engagement(EngagementView::from(e)),
            )?;
        }
    }
    let postings = ids(&[Entity::Need, Entity::Offer]);
    if !postings.is_empty() {
        for p in crate::db::postings::public_postings_by_ids(conn, &postings)
            .await
            .map_err(db::query_failed("loading changed needs and offers"))?
        {
            let entity = match p.side {
                crate::domain::posting::Side::Need => Entity::Need,
                crate::domain::posting::Side::Offer => Entity::Offer,
            };
            put(
                (entity, p.id),
                EntityData::Posting(PostingView::of(p, today)),
            )?;
        }
    }
    Ok(out)
}

/// The change feed
///
/// Every create, update and delete of a public entity (organizations, crises, engagements,
/// needs and offers), each recorded in the transaction that made it. Poll with the last
/// `next_cursor`: no change is missed and none comes twice, even when transactions commit out
/// of order, because a change is only listed once every transaction that began writing before
/// it has ended. An organization that stops being public appears as a delete, with its
/// engagements, needs and offers. Creates and updates carry the entity as it is now: treat
/// both as "upsert".
#[utoipa::path(
    tag = "integrators",
    operation_id = "list_changes",
    params(ChangeQuery),
    responses(
        (status = 200, description = "A page of changes, oldest first", body = ChangePage),
        (status = 400, description = "`since` is malformed or names no change; `limit` is out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/changes")]
pub async fn list_changes(
    pool: web::Data<Pool>,
    query: Query<ChangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = match q.limit {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::bad_parameter(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
    };
    let since = q.since.as_deref().map(decode).transpose()?;
    let mut conn = db::connection(&pool).await?;
    if let Some(position) = since
        && !crate::db::changes::position_exists(&mut conn, position)
            .await
            .map_err(db::query_failed("checking a change cursor"))?
    {
        return Err(ApiError::bad_parameter(
            "since",
            "names no change of this feed (was it issued by another server?): start again without `since`",
        ));
    }
    let mut changes = crate::db::changes::changes_after(&mut conn, since, limit + 1)
        .await
        .map_err(db::query_failed("reading the change feed"))?;
    let has_more = changes.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    changes.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let found = representations(&mut conn, &changes).await?;
    let next_cursor = changes
        .last()
        .map(|c| encode(c.position))
        .or(q.since.clone());
    let views = changes
        .into_iter()
        .map(|c| {
            let data = match c.op {
                Op::Delete => None,
                Op::Create | Op::Update => found.get(&(c.entity, c.entity_id)).cloned(),
            };
            ChangeView {
                entity: c.entity.into(),
                id: c.entity_id,
                // Gone, or no longer public, since: a tombstone.
                op: if data.is_none() {
                    ChangeOp::Delete
                } else {
                    c.op.into()
                },
                changed_at: c.changed_at,
                cursor: encode(c.position),
                data,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(ChangePage {
        data: views,
        next_cursor,
        has_more,
    }))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_changes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let p = Position {
            txid: 15171,
            seq: 42,
        };
        assert_eq!(decode(&encode(p)).unwrap(), p);
        for bad in [
            "garbage",
            "",
            &URL_SAFE_NO_PAD.encode("needs:1:2"),
            &URL_SAFE_NO_PAD.encode("changes:1"),
            &URL_SAFE_NO_PAD.encode("changes:1:2:3"),
            &URL_SAFE_NO_PAD.encode("changes:x:2"),
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }
}
