//! The fuzz targets' shared code: see [`harness`].

pub mod harness;
