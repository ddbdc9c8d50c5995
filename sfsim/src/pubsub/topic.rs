//! Change event channel names: `/data/ChangeEvents` (every selected object),
//! `/data/<Object>ChangeEvent` for a standard object and `/data/<Name>__ChangeEvent` for a
//! custom object `<Name>__c`.

use super::event::ChangeEvent;

/// The channel of all selected objects.
pub const ALL_CHANGE_EVENTS: &str = "/data/ChangeEvents";

/// A change event channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    /// `/data/ChangeEvents`.
    All,
    /// One object's channel.
    Entity(String),
}

impl Topic {
    /// The channel named `name`, if it exists for the `selected` objects.
    pub fn parse(name: &str, selected: &[String]) -> Option<Self> {
        if name == ALL_CHANGE_EVENTS {
            return Some(Self::All);
        }
        let event = name.strip_prefix("/data/")?;
        let object = match event.strip_suffix("__ChangeEvent") {
            Some(custom) => format!("{custom}__c"),
            None => event.strip_suffix("ChangeEvent")?.to_string(),
        };
        selected
            .iter()
            .find(|s| s.eq_ignore_ascii_case(&object))
            .map(|s| Self::Entity(s.clone()))
    }

    /// The channel name of an object's events.
    pub fn channel_of(object: &str) -> String {
        match object.strip_suffix("__c") {
            Some(custom) => format!("/data/{custom}__ChangeEvent"),
            None => format!("/data/{object}ChangeEvent"),
        }
    }

    /// Whether the channel carries `event`.
    pub fn carries(&self, event: &ChangeEvent) -> bool {
        match self {
            Self::All => true,
            Self::Entity(entity) => *entity == event.entity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_map_to_objects_and_back() {
        let selected = vec!["Contact".to_string(), "Stripe_Subscription__c".to_string()];
        assert_eq!(
            Topic::parse("/data/ChangeEvents", &selected),
            Some(Topic::All)
        );
        assert_eq!(
            Topic::parse("/data/ContactChangeEvent", &selected),
            Some(Topic::Entity("Contact".into()))
        );
        assert_eq!(
            Topic::parse("/data/Stripe_Subscription__ChangeEvent", &selected),
            Some(Topic::Entity("Stripe_Subscription__c".into()))
        );
        assert_eq!(Topic::parse("/data/AccountChangeEvent", &selected), None);
        assert_eq!(Topic::parse("/event/Foo__e", &selected), None);
        assert_eq!(
            Topic::channel_of("Stripe_Subscription__c"),
            "/data/Stripe_Subscription__ChangeEvent"
        );
        assert_eq!(Topic::channel_of("Contact"), "/data/ContactChangeEvent");
    }
}
