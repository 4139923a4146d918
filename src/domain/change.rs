//! The change feed: what changed among public entities, in an order a mirror can follow.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What kind of entity changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    Organization,
    Crisis,
    Engagement,
    Need,
    Offer,
}

impl Entity {
    pub const ALL: [Entity; 5] = [
        Entity::Organization,
        Entity::Crisis,
        Entity::Engagement,
        Entity::Need,
        Entity::Offer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Organization => "organization",
            Entity::Crisis => "crisis",
            Entity::Engagement => "engagement",
            Entity::Need => "need",
            Entity::Offer => "offer",
        }
    }

    pub fn parse(raw: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.as_str() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }

    pub fn parse(raw: &str) -> Option<Op> {
        [Op::Create, Op::Update, Op::Delete]
            .into_iter()
            .find(|o| o.as_str() == raw)
    }
}

/// A position in the feed: the writing transaction's id, then the change's sequence number.
/// Every change a reader is given lies below the oldest transaction still running, so no
/// change can later appear before a position already handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub txid: i64,
    pub seq: i64,
}

/// One change, as recorded in the writing transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub position: Position,
    pub entity: Entity,
    pub entity_id: Uuid,
    pub op: Op,
    pub changed_at: DateTime<Utc>,
}
