//! Unit tests of the validator, one small definition per rule.
