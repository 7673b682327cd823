//! Routes, following the URL tree.

pub mod health;
pub mod openapi;
pub mod orders;
