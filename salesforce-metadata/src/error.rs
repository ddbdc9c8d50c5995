//! Why a project could not be read: always with the file at fault, and the XML element when
//! one is to blame, so a user can open the file and fix it.

/// A source file that could not be read, parsed or made sense of.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{message}", element.as_ref().map(|name| format!("<{name}>: ")).unwrap_or_default())]
pub struct MetadataError {
    /// The file (or folder) as the reader named it: under the directory given, or under
    /// `salesforce/force-app/main/default` for the embedded project.
    pub file: String,
    /// The element at fault, e.g. `type` or `errorConditionFormula`.
    pub element: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl MetadataError {
    /// An error about a whole file (or folder).
    pub fn file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            element: None,
            message: message.into(),
        }
    }

    /// An error about one element of a file.
    pub fn element(
        file: impl Into<String>,
        element: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            element: Some(element.into()),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_element() {
        let error = MetadataError::element("objects/A__c/fields/B__c.field-meta.xml", "type", "x");
        assert_eq!(
            error.to_string(),
            "objects/A__c/fields/B__c.field-meta.xml: <type>: x"
        );
        assert_eq!(MetadataError::file("f", "y").to_string(), "f: y");
    }
}
