//! Reporters: console, JUnit, JSON. They consume runner events and nothing else.
