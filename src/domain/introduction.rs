//! Introductions: an organization asks another to be introduced. The receiving side accepts or
//! declines; the sending side may withdraw while it waits. Acceptance lets each side see the
//! other's contact persons and opens a message thread between them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::organization::Validator;
use super::reference::SECTOR_CODES;
use crate::error::FieldError;

pub mod limits {
    pub const SUBJECT: usize = 200;
    pub const MESSAGE: usize = 5000;
    pub const BODY: usize = 5000;
    /// New requests an organization may send in any 24 hours, unless configured otherwise.
    pub const DEFAULT_DAILY_CAP: u32 = 20;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Accepted,
    Declined,
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::Accepted,
        Status::Declined,
        Status::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Accepted => "accepted",
            Status::Declined => "declined",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// What a party does to a pending request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Decline,
    Withdraw,
}

/// Which side of a request the caller is on (through the organizations they belong to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sides {
    pub sender: bool,
    pub receiver: bool,
}

impl Sides {
    pub fn is_party(self) -> bool {
        self.sender || self.receiver
    }
}

/// Why a decision is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller is on the wrong side for this decision.
    WrongSide(&'static str),
    /// The request is no longer pending.
    NotPending(Status),
}

impl Decision {
    /// The status the request moves to.
    pub fn outcome(self) -> Status {
        match self {
            Decision::Accept => Status::Accepted,
            Decision::Decline => Status::Declined,
            Decision::Withdraw => Status::Withdrawn,
        }
    }

    /// Whether a caller on `sides` may take this decision on a request in `status`.
    pub fn check(self, sides: Sides, status: Status) -> Result<(), Refusal> {
        let allowed = match self {
            Decision::Accept | Decision::Decline => sides.receiver,
            Decision::Withdraw => sides.sender,
        };
        if !allowed {
            return Err(Refusal::WrongSide(match self {
                Decision::Accept | Decision::Decline => {
                    "Only the organization that received the request can accept or decline it."
                }
                Decision::Withdraw => {
                    "Only the organization that sent the request can withdraw it."
                }
            }));
        }
        if status != Status::Pending {
            return Err(Refusal::NotPending(status));
        }
        Ok(())
    }
}

/// A new request, as sent.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub from_organization_id: Uuid,
    pub to_organization_id: Uuid,
    pub subject: String,
    pub message: String,
    pub sector: Option<String>,
    pub crisis_id: Option<Uuid>,
    /// The need and the offer the request follows from (a match), if cited.
    pub need_id: Option<Uuid>,
    pub offer_id: Option<Uuid>,
}

/// What the database says about a request's citations.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cited {
    /// Whether `crisis_id`, if given, names a registered crisis.
    pub crisis_known: bool,
    /// The organization whose need `need_id` names; `None` when it names no need.
    pub need_owner: Option<Uuid>,
    /// The organization whose offer `offer_id` names; `None` when it names no offer.
    pub offer_owner: Option<Uuid>,
}

impl NewRequest {
    /// Checks and trims the texts; every problem at once. A cited need or offer must be one
    /// of the two organizations'.
    pub fn validate(self, cited: Cited) -> Result<NewRequest, Vec<FieldError>> {
        let mut v = Validator::default();
        let subject = v.required_line("subject", &self.subject, limits::SUBJECT);
        let message = v.required_text("message", &self.message, limits::MESSAGE);
        if self.from_organization_id == self.to_organization_id {
            v.error(
                "from_organization_id",
                "is the organization asked: an organization cannot ask itself for an introduction",
            );
        }
        if let Some(sector) = &self.sector {
            v.code("sector", sector, &SECTOR_CODES);
        }
        if self.crisis_id.is_some() && !cited.crisis_known {
            v.error(
                "crisis_id",
                "names no crisis known to the directory (GET /v1/crises lists them)",
            );
        }
        let parties = [self.from_organization_id, self.to_organization_id];
        for (field, what, id, owner) in [
            ("need_id", "need", self.need_id, cited.need_owner),
            ("offer_id", "offer", self.offer_id, cited.offer_owner),
        ] {
            match (id, owner) {
                (None, _) => {}
                (Some(_), None) => v.error(field, format!("names no {what} (GET /v1/{what}s/{{id}})")),
                (Some(_), Some(owner)) if !parties.contains(&owner) => v.error(
                    field,
                    format!("is another organization's {what}: cite one of the asking or the asked organization's"),
                ),
                _ => {}
            }
        }
        if let (Some(need), Some(offer)) = (cited.need_owner, cited.offer_owner)
            && need == offer
            && parties.contains(&need)
        {
            v.error(
                "offer_id",
                "is the same organization's as the need: cite one organization's need and the other's offer",
            );
        }
        v.finish(NewRequest {
            subject,
            message,
            ..self
        })
    }
}

/// A request and the two organizations' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRequest {
    pub id: Uuid,
    pub seq: i64,
    pub from_organization_id: Uuid,
    pub from_organization_name: String,
    pub to_organization_id: Uuid,
    pub to_organization_name: String,
    pub created_by: Option<Uuid>,
    pub subject: String,
    pub message: String,
    pub sector: Option<String>,
    pub crisis_id: Option<Uuid>,
    pub need_id: Option<Uuid>,
    pub offer_id: Option<Uuid>,
    pub status: Status,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl ContactRequest {
    /// The caller's sides, given the organizations they belong to.
    pub fn sides(&self, memberships: &[Uuid]) -> Sides {
        Sides {
            sender: memberships.contains(&self.from_organization_id),
            receiver: memberships.contains(&self.to_organization_id),
        }
    }
}

/// A message of a request's thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: Uuid,
    pub seq: i64,
    pub contact_request_id: Uuid,
    pub author_organization_id: Uuid,
    pub author_user_id: Option<Uuid>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A message body: trimmed, never blank, bounded.
pub fn message_body(raw: &str) -> Result<String, Vec<FieldError>> {
    let mut v = Validator::default();
    let body = v.required_text("body", raw, limits::BODY);
    v.finish(body)
}

/// What a notification reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    RequestReceived,
    RequestAccepted,
    RequestDeclined,
    RequestWithdrawn,
    MessageReceived,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 5] = [
        NotificationKind::RequestReceived,
        NotificationKind::RequestAccepted,
        NotificationKind::RequestDeclined,
        NotificationKind::RequestWithdrawn,
        NotificationKind::MessageReceived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::RequestReceived => "contact_request.received",
            NotificationKind::RequestAccepted => "contact_request.accepted",
            NotificationKind::RequestDeclined => "contact_request.declined",
            NotificationKind::RequestWithdrawn => "contact_request.withdrawn",
            NotificationKind::MessageReceived => "message.received",
        }
    }

    pub fn parse(raw: &str) -> Option<NotificationKind> {
        NotificationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
    }

    /// What the other side is told when a request reaches `status`.
    pub fn of_decision(decision: Decision) -> NotificationKind {
        match decision {
            Decision::Accept => NotificationKind::RequestAccepted,
            Decision::Decline => NotificationKind::RequestDeclined,
            Decision::Withdraw => NotificationKind::RequestWithdrawn,
        }
    }
}

/// A notification as one member sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: Uuid,
    pub seq: i64,
    pub organization_id: Uuid,
    pub kind: NotificationKind,
    pub contact_request_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// A record of an organization's contact persons shown outside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub id: i64,
    pub organization_id: Uuid,
    pub viewer_user_id: Option<Uuid>,
    pub viewer_organization_id: Option<Uuid>,
    pub contact_request_id: Option<Uuid>,
    pub as_moderator: bool,
    pub contact_ids: Vec<Uuid>,
    pub released_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENDER: Sides = Sides {
        sender: true,
        receiver: false,
    };
    const RECEIVER: Sides = Sides {
        sender: false,
        receiver: true,
    };

    #[test]
    fn only_the_receiver_accepts_or_declines_and_only_the_sender_withdraws() {
        for d in [Decision::Accept, Decision::Decline] {
            assert_eq!(d.check(RECEIVER, Status::Pending), Ok(()));
            assert!(matches!(
                d.check(SENDER, Status::Pending),
                Err(Refusal::WrongSide(_))
            ));
        }
        assert_eq!(Decision::Withdraw.check(SENDER, Status::Pending), Ok(()));
        assert!(matches!(
            Decision::Withdraw.check(RECEIVER, Status::Pending),
            Err(Refusal::WrongSide(_))
        ));
    }

    #[test]
    fn a_decided_request_cannot_be_decided_again() {
        for status in [Status::Accepted, Status::Declined, Status::Withdrawn] {
            assert_eq!(
                Decision::Withdraw.check(SENDER, status),
                Err(Refusal::NotPending(status))
            );
            assert_eq!(
                Decision::Accept.check(RECEIVER, status),
                Err(Refusal::NotPending(status))
            );
        }
    }

    #[test]
    fn codes_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for k in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn a_request_needs_a_subject_and_a_message_and_another_organization() {
        let id = Uuid::new_v4();
        let errors = NewRequest {
            from_organization_id: id,
            to_organization_id: id,
            subject: "  ".into(),
            message: "".into(),
            sector: None,
            crisis_id: None,
            need_id: None,
            offer_id: None,
        }
        .validate(Cited {
            crisis_known: true,
            ..Cited::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["subject", "message", "from_organization_id"]);
        assert!(message_body(" \n ").is_err());
        assert_eq!(message_body(" hello ").unwrap(), "hello");
    }

    #[test]
    fn a_cited_need_or_offer_must_be_one_of_the_two_organizations() {
        let (from, to, stranger) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let request = NewRequest {
            from_organization_id: from,
            to_organization_id: to,
            subject: "Insulin".into(),
            message: "We can help.".into(),
            sector: None,
            crisis_id: None,
            need_id: Some(Uuid::new_v4()),
            offer_id: Some(Uuid::new_v4()),
        };
        let cited = |need_owner, offer_owner| Cited {
            crisis_known: true,
            need_owner,
            offer_owner,
        };
        assert!(
            request
                .clone()
                .validate(cited(Some(to), Some(from)))
                .is_ok()
        );
        let errors = request
            .clone()
            .validate(cited(Some(to), Some(to)))
            .unwrap_err();
        assert_eq!(errors[0].field, "offer_id");
        let errors = request
            .clone()
            .validate(cited(None, Some(stranger)))
            .unwrap_err();
        assert_eq!(errors[0].field, "need_id");
        assert!(errors[0].message.contains("names no need"));
        assert_eq!(errors[1].field, "offer_id");
        assert!(errors[1].message.contains("another organization's offer"));
    }
}
