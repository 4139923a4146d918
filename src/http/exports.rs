//! `GET /v1/export/organizations`: every published organization matching discovery's filters,
//! streamed from the database in constant memory as CSV, HXL or NDJSON. Organization-level
//! data only: contact persons are not read at all.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::codes::{OrganizationKindCode, SectorCode, SupportTypeCode};
use super::discovery::{organization_filter, organization_filter_query};
use super::extract::Query;
use super::organizations::OrganizationView;
use super::problem::Problem;
use crate::db::discovery as queries;
use crate::db::{self, Pool};
use crate::domain::discovery::{After, Sort};
use crate::domain::organization::Organization;
use crate::error::ApiError;
use crate::export::{self, Column, Format};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Hxl,
    Ndjson,
}

organization_filter_query! {
    #[derive(Debug, Deserialize, IntoParams)]
    #[serde(deny_unknown_fields)]
    #[into_params(parameter_in = Query)]
    pub struct ExportQuery {
        /// `csv` (the default), `hxl` (CSV with a row of HXL hashtags under the header) or
        /// `ndjson` (one organization per line, as `GET /v1/organizations/{id}` shows it).
        #[param(inline)]
        pub format: Option<ExportFormat>,
    }
}

/// The columns of the CSV and HXL exports, with their HXL hashtags. Lists are
/// space-separated codes.
pub const ORGANIZATION_COLUMNS: [Column; 20] = [
    Column {
        header: "ID",
        hxl: "#org+id",
    },
    Column {
        header: "Slug",
        hxl: "#org+code",
    },
    Column {
        header: "Name",
        hxl: "#org+name",
    },
    Column {
        header: "Acronym",
        hxl: "#org+acronym",
    },
    Column {
        header: "Organization type",
        hxl: "#org+type",
    },
    Column {
        header: "Description",
        hxl: "#description",
    },
    Column {
        header: "Founded",
        hxl: "#date+founded",
    },
    Column {
        header: "Residence country",
        hxl: "#country+code+residence",
    },
    Column {
        header: "City",
        hxl: "#loc+name",
    },
    Column {
        header: "Origin countries",
        hxl: "#country+code+origin",
    },
    Column {
        header: "Operating countries",
        hxl: "#country+code+operating",
    },
    Column {
        header: "Sectors",
        hxl: "#sector+cluster",
    },
    Column {
        header: "Support types",
        hxl: "#activity+type",
    },
    Column {
        header: "Languages",
        hxl: "#meta+languages",
    },
    Column {
        header: "Website",
        hxl: "#contact+url",
    },
    Column {
        header: "Public e-mail",
        hxl: "#contact+email",
    },
    Column {
        header: "Public phone",
        hxl: "#contact+phone",
    },
    Column {
        header: "Verified",
        hxl: "#status+verified",
    },
    Column {
        header: "Verified until",
        hxl: "#date+verified_until",
    },
    Column {
        header: "Updated",
        hxl: "#date+updated",
    },
];

fn cells(org: &Organization, now: DateTime<Utc>) -> Vec<String> {
    let p = &org.profile;
    let join = |v: &[String]| v.join(" ");
    let mut sectors: Vec<String> = p.capabilities.iter().map(|c| c.sector.clone()).collect();
    sectors.sort();
    sectors.dedup();
    let mut support: Vec<String> = p
        .capabilities
        .iter()
        .flat_map(|c| c.support_types.iter().cloned())
        .collect();
    support.sort();
    support.dedup();
    let verified = org.verification.is_verified_at(now);
    vec![
        org.id.to_string(),
        org.slug.clone(),
        p.name.clone(),
        p.acronym.clone().unwrap_or_default(),
        p.kind.clone(),
        p.description.clone().unwrap_or_default(),
        p.founded_year.map(|y| y.to_string()).unwrap_or_default(),
        p.residence_country.clone().unwrap_or_default(),
        p.city.clone().unwrap_or_default(),
        join(&p.origin_countries),
        join(&p.operating_countries),
        join(&sectors),
        join(&support),
        join(&p.languages),
        p.website.clone().unwrap_or_default(),
        p.public_email.clone().unwrap_or_default(),
        p.public_phone.clone().unwrap_or_default(),
        if verified { "yes" } else { "no" }.to_owned(),
        if verified {
            org.verification
                .verified_until
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default()
        } else {
            String::new()
        },
        org.updated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    ]
}

/// Organizations per query while an export streams.
const CHUNK: i64 = 500;

/// Exports streaming at once, per process: each reads the whole filtered set, and with `q`
/// each chunk re-ranks every match, so an unbounded number would starve the API.
pub const CONCURRENT_EXPORTS: usize = 2;

#[derive(Clone, Copy)]
enum Output {
    Table(Format),
    Ndjson,
}

impl Output {
    fn media_type(&self) -> &'static str {
        match self {
            Output::Table(f) => f.media_type(),
            Output::Ndjson => "application/x-ndjson",
        }
    }

    fn file_name(&self) -> String {
        match self {
            Output::Table(f) => f.file_name("organizations"),
            Output::Ndjson => "organizations.ndjson".to_owned(),
        }
    }

    fn chunk(&self, orgs: Vec<Organization>, now: DateTime<Utc>) -> Result<Vec<u8>, String> {
        match self {
            Output::Table(_) => {
                let lines: Vec<Vec<String>> = orgs.iter().map(|o| cells(o, now)).collect();
                Ok(export::rows(&lines))
            }
            Output::Ndjson => {
                let mut out = Vec::new();
                for org in orgs {
                    serde_json::to_writer(&mut out, &OrganizationView::of(org, now))
                        .map_err(|e| e.to_string())?;
                    out.push(b'\n');
                }
                Ok(out)
            }
        }
    }
}

/// Export organizations
///
/// Every published organization matching the filters (those of `GET /v1/organizations`), in
/// name order, streamed from the database a chunk at a time: memory stays flat whatever the
/// size, and the download starts at once. Organization-level data only, never a contact
/// person. CSV is RFC 4180 (CRLF, quoted cells); HXL adds a row of hashtags under the header;
/// cells a spreadsheet would run as a formula start with an apostrophe. A failure mid-stream
/// breaks the download (no final chunk) rather than ending it early as if complete.
#[utoipa::path(
    tag = "integrators",
    operation_id = "export_organizations",
    params(ExportQuery),
    responses(
        (status = 200, description = "The file",
            content(
                (String = "text/csv"),
                (String = "application/x-ndjson"),
            ),
            headers(("Content-Disposition" = String, description = "`attachment; filename=...`"))),
        (status = 400, description = "A parameter is invalid or names an unknown code", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many exports are streaming at once; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/export/organizations")]
pub async fn export_organizations(
    state: web::Data<super::AppState>,
    pool: web::Data<Pool>,
    query: Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let permit = state
        .exports
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::RateLimited {
            detail: format!(
                "{CONCURRENT_EXPORTS} exports are streaming already, the most at once: retry in a few seconds."
            ),
            retry_after_secs: 5,
        })?;
    let format = q.format.unwrap_or(ExportFormat::Csv);
    let output = match format {
        ExportFormat::Csv => Output::Table(Format::Csv),
        ExportFormat::Hxl => Output::Table(Format::Hxl),
        ExportFormat::Ndjson => Output::Ndjson,
    };
    let mut conn = db::connection(&pool).await?;
    let filter = organization_filter(&mut conn, q.filter()).await?;
    // The total chooses how pages are read (see `db::discovery::Plan`).
    let total = queries::total(&mut conn, &filter)
        .await
        .map_err(db::query_failed("counting organizations"))?;
    drop(conn);
    tracing::info!(organizations = total, format = ?format, "export started");
    let file = output.file_name();
    let head = match output {
        Output::Table(format) => export::header(&ORGANIZATION_COLUMNS, format),
        Output::Ndjson => Vec::new(),
    };
    Ok(super::download::attachment(
        pool.get_ref().clone(),
        output.media_type(),
        &file,
        head,
        "organization export".to_owned(),
        permit,
        move |mut conn, after: Option<After>| {
            let filter = filter.clone();
            async move {
                let rows =
                    queries::page(&mut conn, &filter, Sort::Name, after.as_ref(), CHUNK, total)
                        .await
                        .map_err(|e| e.to_string())?;
                let last = i64::try_from(rows.len()).unwrap_or(0) <= CHUNK;
                let after = rows.last().map(|(_, key)| key.clone());
                let orgs = rows.into_iter().map(|(org, _)| org).collect();
                Ok(super::download::Chunk {
                    bytes: output.chunk(orgs, Utc::now())?,
                    after,
                    last,
                })
            }
        },
    ))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(export_organizations);
}
