//! The archive's page, `index.html`: every chat and message as text (Tera escapes every
//! value), images from the copied files, links to the others. No script, no request to a
//! server: it opens from the file system.

use std::collections::HashMap;

use rocket_dyn_templates::tera::{Context, Tera};

use super::Archive;

const TEMPLATE: &str = "export/archive.html.tera";

/// The page's style, a file beside it: the page's own policy allows no inline style.
pub const STYLE: &str = "export/archive.css";

pub fn render(archive: &Archive) -> Result<String, String> {
    let source = crate::embed::template(TEMPLATE).ok_or("the archive template is missing")?;
    let mut tera = Tera::default();
    // Named `.html` so that Tera escapes everything it puts in.
    tera.add_raw_template("archive.html", &source)
        .map_err(|e| format!("{e:?}"))?;
    let shown: HashMap<&str, &str> = archive
        .people
        .iter()
        .map(|p| {
            let shown = p.display_name.as_deref().unwrap_or(&p.username);
            (p.username.as_str(), shown)
        })
        .collect();
    let mut context = Context::from_serialize(archive).map_err(|e| format!("{e:?}"))?;
    context.insert("shown", &shown);
    tera.render("archive.html", &context)
        .map_err(|e| format!("{e:?}"))
}
