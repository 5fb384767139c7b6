//! Unit tests of the AtomPub binding on captured XML.
