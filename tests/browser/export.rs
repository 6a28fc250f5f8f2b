//! An export read offline: `kanect export DIR` of a seeded team, then DIR/index.html opened
//! from the file system in Chromium with no server: every message shows as text (the
//! script someone typed included, never run), the image loads from the copied file, the
//! PDF is a link to its copy, and the page logs no error.

use serde_json::{json, Value};

use super::web::{offline_window, DESKTOP};
use crate::common::TestApp;
use crate::export::{export, seed, SCRIPT};

#[rocket::async_test]
async fn an_export_opens_from_the_file_system_with_every_message_and_the_image() {
    let app = TestApp::new().await;
    let team = seed(&app).await;
    let out = tempfile::tempdir().expect("a folder");
    let dir = out.path().join("archive");
    let done = export(&app, &dir);
    assert!(
        done.status.success(),
        "export: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    // The server and its database are no part of what follows.
    drop(team);
    drop(app);
    let Some(window) = offline_window(DESKTOP).await else {
        return;
    };
    let page = dir.join("index.html");
    window.goto(&page.display().to_string()).await;

    let texts = window
        .js(
            "return [...document.querySelectorAll('.message .body')].map((b) => b.textContent)",
            vec![],
        )
        .await;
    let texts: Vec<String> = serde_json::from_value(texts).expect("texts");
    for body in [
        "Hello team",
        SCRIPT,
        "Me too",
        "Our photo",
        "Just between us",
        "The brief",
    ] {
        assert!(texts.iter().any(|t| t == body), "{body} among {texts:?}");
    }
    assert_eq!(
        window
            .js("return document.querySelectorAll('script').length", vec![])
            .await,
        json!(0),
        "what people wrote never became a script"
    );

    // The image, from the copied file; the PDF, a link to its copy.
    let image = window
        .wait_js(
            "the image to load",
            "const img = document.querySelector('.attachment img');
             return img && img.complete && img.naturalWidth > 0
                 ? [img.naturalWidth, img.naturalHeight, img.currentSrc] : null;",
            vec![],
        )
        .await;
    assert_eq!(image[0], json!(64));
    assert_eq!(image[1], json!(48));
    let src = image[2].as_str().unwrap_or_default();
    assert!(src.starts_with("file://"), "{src}");
    let pdf = window
        .js(
            "const a = [...document.querySelectorAll('.attachment a')]
                 .find((a) => a.textContent === 'brief.pdf');
             return a ? a.href : null;",
            vec![],
        )
        .await;
    let pdf = pdf.as_str().expect("a link to the PDF");
    assert!(
        pdf.starts_with("file://") && pdf.ends_with("/brief.pdf"),
        "{pdf}"
    );
    let deleted: Value = window
        .js(
            "return document.querySelectorAll('.deleted').length",
            vec![],
        )
        .await;
    assert_eq!(deleted, json!(1));
    window.screenshot("export").await;
    window.assert_console_clean();
    if let Some(source) = super::axe::source() {
        super::axe::assert_clean(&window, source, "the exported archive").await;
    }
}
