//! File uploads: binary chunk frames, the host's temp area with its byte budgets, and the
//! upload entries each view holds. The channel protocol itself (preflight, `lvu:` channels,
//! chunks, progress) is in `connection/uploads.rs`.

pub mod binary;
mod space;
mod store;

pub(crate) use space::UploadSpace;
pub use space::{SpaceError, UploadLimits};
pub(crate) use store::{SharedUploads, UploadChannel};
