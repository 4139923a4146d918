//! Request types for codes from fixed lists (sectors, kinds of support and of organization,
//! challenges, interests...). Each is a string on the wire, documented in the OpenAPI document
//! as an enum of its values; any string deserializes, and validation names the bad ones, so
//! that a request learns every bad field at once rather than the first one serde trips on.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, schema::SchemaType};

use crate::domain::organization::{CHALLENGES, CONSENT_BASES, INTERESTS};
use crate::domain::reference::{ORGANIZATION_KIND_CODES, SECTOR_CODES, SUPPORT_TYPE_CODES};

macro_rules! code_type {
    ($name:ident, $values:expr, $description:literal) => {
        #[doc = $description]
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::String))
                    .enum_values(Some($values.iter().copied()))
                    .description(Some($description))
                    .build()
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }

        impl $name {
            pub fn strings(list: Vec<$name>) -> Vec<String> {
                list.into_iter().map(|c| c.0).collect()
            }
        }
    };
}

code_type!(
    OrganizationKindCode,
    ORGANIZATION_KIND_CODES,
    "A kind of organization (GET /v1/organization-kinds)."
);
code_type!(
    SectorCode,
    SECTOR_CODES,
    "A sector: an IASC cluster or one of its areas (GET /v1/sectors)."
);
code_type!(
    SupportTypeCode,
    SUPPORT_TYPE_CODES,
    "A kind of support (GET /v1/support-types)."
);
code_type!(
    ChallengeCode,
    CHALLENGES,
    "A challenge the organization faces (IOM diaspora engagement survey)."
);
code_type!(
    InterestCode,
    INTERESTS,
    "What the organization is looking for (IOM diaspora engagement survey)."
);
code_type!(
    ConsentBasisCode,
    CONSENT_BASES,
    "Why a person's details may be held: their consent, a legitimate interest, or a public role."
);
