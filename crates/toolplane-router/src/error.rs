//! Errors building or configuring a router.

/// Why a router could not be built, or a call on it was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RouterError {
    /// A router needs at least one expert.
    #[error("router: no experts configured")]
    NoExperts,
    /// Two experts share an id.
    #[error("router: two experts have the id `{0}`")]
    DuplicateExpert(String),
    /// A policy names an expert that does not exist.
    #[error("router: task `{task}`: `{field}` names unknown expert `{id}`")]
    UnknownExpert {
        /// The task type.
        task: String,
        /// The field (`order`, `only`).
        field: &'static str,
        /// The id.
        id: String,
    },
    /// A policy holds an invalid number.
    #[error("router: task `{task}`: {message}")]
    InvalidPolicy {
        /// The task type.
        task: String,
        /// What is wrong.
        message: String,
    },
    /// A number that makes no sense (NaN, infinite, negative, out of range).
    #[error("router: `{field}` {message}")]
    InvalidNumber {
        /// The setting, such as `budget_usd` or `experts[2].budget_usd`.
        field: String,
        /// What is wrong, with the value.
        message: String,
    },
    /// No expert has this index.
    #[error("router: no expert at index {0}")]
    UnknownExpertIndex(usize),
}
