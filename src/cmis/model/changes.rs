//! The change log: change types, change events and getContentChanges pages.

use chrono::{DateTime, Utc};

use super::Properties;

/// The kind of a content change event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Created,
    Updated,
    Deleted,
    Security,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Created => "created",
            ChangeType::Updated => "updated",
            ChangeType::Deleted => "deleted",
            ChangeType::Security => "security",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeType> {
        Some(match s {
            "created" => ChangeType::Created,
            "updated" => ChangeType::Updated,
            "deleted" => ChangeType::Deleted,
            "security" => ChangeType::Security,
            _ => return None,
        })
    }
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    pub object_id: String,
    pub change_type: ChangeType,
    pub change_time: Option<DateTime<Utc>>,
    /// Properties of the changed object, when the repository includes them.
    pub properties: Properties,
}

/// getContentChanges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContentChanges {
    pub events: Vec<ChangeEvent>,
    pub has_more_items: bool,
    /// The token to pass next time to continue after these events.
    pub latest_change_log_token: Option<String>,
}
