//! PLACEHOLDER until the core's table rows land: the rows as DESIGN.md lays them out.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessKeyRow {
    pub id: Option<String>,
    pub active: bool,
    pub last_rotated: Option<String>,
    pub last_used: Option<String>,
    pub last_used_service: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserRow {
    pub account_id: String,
    pub account_name: Option<String>,
    pub ou_path: Vec<String>,
    pub user: String,
    pub arn: String,
    pub created: Option<String>,
    pub password_enabled: bool,
    pub password_last_used: Option<String>,
    pub mfa_active: bool,
    pub access_keys: Vec<AccessKeyRow>,
    pub admin: bool,
    pub admin_via: Vec<String>,
    pub groups: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub owner: Option<String>,
    pub creator: Option<String>,
    pub score: u8,
    pub rules: Vec<String>,
    pub report_time: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccountRow {
    pub account_id: String,
    pub account_name: Option<String>,
    pub ou_path: Vec<String>,
    pub users: u64,
    pub risky_users: u64,
    pub access_keys: u64,
    pub report_time: Option<String>,
    pub status: String,
    pub error: Option<String>,
}
