//! AWS adapters of iamwatch.
