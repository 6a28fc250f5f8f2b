//! Files and images: what an upload is (`inspect`), receiving one (`upload`), and serving
//! it back (`serve`). Their rows and bytes live in `db::files`.

pub mod inspect;
pub mod serve;
pub mod upload;
