//! The core's ASFF [`Finding`] to the SDK's [`AwsSecurityFinding`] and back.
//!
//! The SDK types have no serde, so both directions go field by field. Every field the core
//! writes survives the round trip (tested below); fields of the SDK type the core does not
//! model are dropped on the way back.

use aws_sdk_securityhub::types as sh;
use aws_sdk_securityhub::types::AwsSecurityFinding;
use iamwatch_core::finding::*;
use iamwatch_core::Label;

/// The SDK form of a finding, for `BatchImportFindings`.
pub fn to_sdk(f: &Finding) -> AwsSecurityFinding {
    let mut b = AwsSecurityFinding::builder()
        .schema_version(&f.schema_version)
        .id(&f.id)
        .product_arn(&f.product_arn)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .set_aws_account_name(f.aws_account_name.clone())
        .set_types(Some(f.types.clone()))
        .first_observed_at(&f.first_observed_at)
        .last_observed_at(&f.last_observed_at)
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .severity(
            sh::Severity::builder()
                .label(sh::SeverityLabel::from(f.severity.label.as_str()))
                .original(&f.severity.original)
                .build(),
        )
        .title(&f.title)
        .description(&f.description)
        .remediation(
            sh::Remediation::builder()
                .recommendation(
                    sh::Recommendation::builder()
                        .text(&f.remediation.recommendation.text)
                        .set_url(f.remediation.recommendation.url.clone())
                        .build(),
                )
                .build(),
        )
        .set_product_fields(Some(
            f.product_fields
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
        .record_state(match f.record_state {
            RecordState::Active => sh::RecordState::Active,
            RecordState::Archived => sh::RecordState::Archived,
        });
    for r in &f.resources {
        b = b.resources(resource_to_sdk(r));
    }
    if let Some(a) = &f.action {
        let c = &a.aws_api_call_action;
        b = b.action(
            sh::Action::builder()
                .action_type(&a.action_type)
                .aws_api_call_action(
                    sh::AwsApiCallAction::builder()
                        .api(&c.api)
                        .service_name(&c.service_name)
                        .caller_type(&c.caller_type)
                        .first_seen(&c.first_seen)
                        .last_seen(&c.last_seen)
                        .set_remote_ip_details(c.remote_ip_details.as_ref().map(|ip| {
                            sh::ActionRemoteIpDetails::builder()
                                .ip_address_v4(&ip.ip_address_v4)
                                .build()
                        }))
                        .build(),
                )
                .build(),
        );
    }
    b.build()
}

fn resource_to_sdk(r: &Resource) -> sh::Resource {
    let details = r.details.as_ref().map(|d| {
        sh::ResourceDetails::builder()
            .set_aws_iam_user(d.aws_iam_user.as_ref().map(|u| {
                sh::AwsIamUserDetails::builder()
                    .user_name(&u.user_name)
                    .set_user_id(u.user_id.clone())
                    .set_create_date(u.create_date.clone())
                    .build()
            }))
            .set_aws_iam_access_key(d.aws_iam_access_key.as_ref().map(|k| {
                sh::AwsIamAccessKeyDetails::builder()
                    .set_status(k.status.as_deref().map(sh::AwsIamAccessKeyStatus::from))
                    .set_created_at(k.created_at.clone())
                    .set_principal_name(k.principal_name.clone())
                    .set_principal_type(k.principal_type.clone())
                    .set_account_id(k.account_id.clone())
                    .build()
            }))
            .build()
    });
    sh::Resource::builder()
        .r#type(&r.kind)
        .id(&r.id)
        .partition(sh::Partition::from(r.partition.as_str()))
        .region(&r.region)
        .set_details(details)
        .build()
}

/// A field the core needs was missing from a finding Security Hub returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("finding {id}: {field} missing or invalid")]
pub struct ConversionError {
    pub id: String,
    pub field: &'static str,
}

/// The core form of a finding `GetFindings` returned.
pub fn from_sdk(f: &AwsSecurityFinding) -> Result<Finding, ConversionError> {
    let id = f.id().unwrap_or_default().to_string();
    let missing = |field: &'static str| ConversionError {
        id: id.clone(),
        field,
    };
    let s =
        |v: Option<&str>, field: &'static str| v.map(str::to_string).ok_or_else(|| missing(field));
    let severity = f.severity().ok_or_else(|| missing("Severity"))?;
    let label = severity
        .label()
        .and_then(|l| Label::parse(l.as_str()))
        .ok_or_else(|| missing("Severity.Label"))?;
    let rec = f.remediation().and_then(|r| r.recommendation());
    let record_state = match f.record_state() {
        Some(sh::RecordState::Archived) => RecordState::Archived,
        Some(sh::RecordState::Active) | None => RecordState::Active,
        Some(_) => return Err(missing("RecordState")),
    };
    Ok(Finding {
        schema_version: s(f.schema_version(), "SchemaVersion")?,
        id: s(f.id(), "Id")?,
        product_arn: s(f.product_arn(), "ProductArn")?,
        generator_id: s(f.generator_id(), "GeneratorId")?,
        aws_account_id: s(f.aws_account_id(), "AwsAccountId")?,
        aws_account_name: f.aws_account_name().map(str::to_string),
        types: f.types().to_vec(),
        first_observed_at: f.first_observed_at().unwrap_or_default().to_string(),
        last_observed_at: f.last_observed_at().unwrap_or_default().to_string(),
        created_at: s(f.created_at(), "CreatedAt")?,
        updated_at: s(f.updated_at(), "UpdatedAt")?,
        severity: Severity {
            label,
            original: severity.original().unwrap_or_default().to_string(),
        },
        title: s(f.title(), "Title")?,
        description: s(f.description(), "Description")?,
        remediation: Remediation {
            recommendation: Recommendation {
                text: rec.and_then(|r| r.text()).unwrap_or_default().to_string(),
                url: rec.and_then(|r| r.url()).map(str::to_string),
            },
        },
        product_fields: f
            .product_fields()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        resources: f
            .resources()
            .iter()
            .map(|r| resource_from_sdk(r).ok_or_else(|| missing("Resources")))
            .collect::<Result<_, _>>()?,
        action: f.action().and_then(|a| {
            let c = a.aws_api_call_action()?;
            Some(Action {
                action_type: a.action_type().unwrap_or_default().to_string(),
                aws_api_call_action: AwsApiCallAction {
                    api: c.api().unwrap_or_default().to_string(),
                    service_name: c.service_name().unwrap_or_default().to_string(),
                    caller_type: c.caller_type().unwrap_or_default().to_string(),
                    first_seen: c.first_seen().unwrap_or_default().to_string(),
                    last_seen: c.last_seen().unwrap_or_default().to_string(),
                    remote_ip_details: c.remote_ip_details().and_then(|ip| {
                        Some(RemoteIpDetails {
                            ip_address_v4: ip.ip_address_v4()?.to_string(),
                        })
                    }),
                },
            })
        }),
        record_state,
    })
}

fn resource_from_sdk(r: &sh::Resource) -> Option<Resource> {
    Some(Resource {
        kind: r.r#type()?.to_string(),
        id: r.id()?.to_string(),
        partition: r
            .partition()
            .map(|p| p.as_str())
            .unwrap_or("aws")
            .to_string(),
        region: r.region().unwrap_or_default().to_string(),
        details: r.details().map(|d| ResourceDetails {
            aws_iam_user: d.aws_iam_user().map(|u| AwsIamUserDetails {
                user_name: u.user_name().unwrap_or_default().to_string(),
                user_id: u.user_id().map(str::to_string),
                create_date: u.create_date().map(str::to_string),
            }),
            aws_iam_access_key: d.aws_iam_access_key().map(|k| AwsIamAccessKeyDetails {
                status: k.status().map(|s| s.as_str().to_string()),
                created_at: k.created_at().map(str::to_string),
                principal_name: k.principal_name().map(str::to_string),
                principal_type: k.principal_type().map(str::to_string),
                account_id: k.account_id().map(str::to_string),
            }),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample_finding;

    #[test]
    fn round_trip_keeps_every_field() {
        for state in [RecordState::Active, RecordState::Archived] {
            let mut f = sample_finding("111122223333", "alice");
            f.record_state = state;
            assert_eq!(from_sdk(&to_sdk(&f)).unwrap(), f);
        }
    }

    #[test]
    fn missing_required_field_is_an_error() {
        let f = AwsSecurityFinding::builder().id("x").build();
        let err = from_sdk(&f).unwrap_err();
        assert_eq!(err.id, "x");
    }
}
