//! Executing an operation over HTTP (feature `http`).
