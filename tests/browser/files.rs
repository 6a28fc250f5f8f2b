//! Files in a real browser: a screenshot pasted into the composer and a PDF dropped onto
//! the chat upload with a progress bar, go out with a message, and reach the other
//! person's window live: the images as thumbnails that open full size in the lightbox,
//! the PDF as a card whose download is byte for byte what was sent. Cancelling, a
//! refused upload, and the attach button on a phone.

use std::time::Duration;

use serde_json::json;

use super::file_gestures::{wrap_async, WATCH_PROGRESS};
use super::web::Kanect;

const ESCAPE: &str = "\u{E00C}";
const ARROW_LEFT: &str = "\u{E012}";
const ARROW_RIGHT: &str = "\u{E014}";

/// A phone as narrow as the spec promises (360 CSS pixels).
const NARROW_PHONE: (u32, u32) = (360, 740);

/// The PDF's size: large enough to take a few progress events, small for a quick test.
const PDF_BYTES: u64 = 300_000;

#[tokio::test]
async fn a_pasted_screenshot_and_a_dropped_pdf_reach_the_other_window_and_download_intact() {
    let Some(app) = Kanect::start() else { return };
    let (alice, bob) = app.alice_and_bob_in_their_chat().await;
    alice.send("Morning! Sending the Q3 material now.").await;
    bob.wait_message("Morning! Sending the Q3 material now.")
        .await;
    bob.js("window.sinceLoad = true", vec![]).await;
    alice.make_test_files().await;
    alice.js(WATCH_PROGRESS, vec![]).await;

    // Two screenshots pasted at once.
    alice
        .paste_files(json!([
            { "png": "dashboard.png", "width": 960, "height": 600 },
            { "png": "detail.png", "width": 600, "height": 800, "accent": "#0d9488" },
        ]))
        .await;
    // A PDF dragged over the chat lights it up; dropped, it uploads.
    let pdf = json!([{ "pdf": "Q3 brief.pdf", "size": PDF_BYTES }]);
    alice
        .drag_files(&["dragenter", "dragover"], pdf.clone())
        .await;
    alice.wait_visible("#drop-overlay").await;
    assert_eq!(
        alice
            .js(
                "return document.getElementById('chat-view').hasAttribute('data-dropping')",
                vec![]
            )
            .await,
        json!(true)
    );
    alice.drag_files(&["drop"], pdf).await;
    alice.wait_hidden("#drop-overlay").await;
    alice.wait_uploaded(3).await;
    assert_eq!(
        alice.js("return window.sawProgress", vec![]).await,
        json!(true),
        "each upload showed a progress bar"
    );
    let chips = alice
        .js(
            "return [...document.querySelectorAll('#upload-list li[data-status=done]')].map((li) => li.innerText)",
            vec![],
        )
        .await;
    let chips = chips.to_string();
    for name in ["dashboard.png", "detail.png", "Q3 brief.pdf", "300 KB"] {
        assert!(chips.contains(name), "{name} among the chips: {chips}");
    }

    alice.send("Dashboard, detail and the brief").await;
    alice.wait_hidden("#upload-list").await;
    alice.wait_message("Dashboard, detail and the brief").await;

    // Bob's window gets it live: thumbnails sized before they load, and the card.
    bob.wait_message("Dashboard, detail and the brief").await;
    bob.wait_js(
        "the thumbnails to load",
        "const imgs = document.querySelectorAll('#message-list [data-thumbnail] img'); \
         return imgs.length === 2 && [...imgs].every((i) => i.complete && i.naturalWidth > 0)",
        vec![],
    )
    .await;
    let thumbnails = bob.thumbnails().await;
    assert_eq!(thumbnails[0]["alt"], "dashboard.png");
    assert_eq!(thumbnails[1]["alt"], "detail.png");
    // 960 x 600 and 600 x 800, scaled into 180 x 160 boxes.
    assert_eq!(
        (&thumbnails[0]["width"], &thumbnails[0]["height"]),
        (&json!("180"), &json!("113"))
    );
    assert_eq!(
        (&thumbnails[1]["width"], &thumbnails[1]["height"]),
        (&json!("120"), &json!("160"))
    );
    for thumbnail in thumbnails.as_array().expect("thumbnails") {
        let natural = thumbnail["natural"].as_u64().unwrap_or(0);
        assert!(
            natural > 0 && natural <= 400,
            "a thumbnail, not the original: {thumbnail}"
        );
    }
    let card = bob
        .wait_text("#message-list [data-file-card]", "Q3 brief.pdf")
        .await;
    assert!(
        card.contains("PDF · 300 KB"),
        "the card says type and size: {card}"
    );
    assert_eq!(
        bob.js("return window.sinceLoad === true", vec![]).await,
        json!(true),
        "Bob's page was never reloaded"
    );

    // Full size in the lightbox; the arrows move between the message's images.
    bob.click("#message-list [data-thumbnail]").await;
    bob.wait_visible("#lightbox").await;
    let full = "const img = document.getElementById('lightbox-image'); \
                return img.complete && img.naturalWidth === arguments[0] \
                    && document.getElementById('lightbox-caption').textContent === arguments[1]";
    bob.wait_js(
        "the dashboard full size",
        full,
        vec![json!(960), json!("dashboard.png")],
    )
    .await;
    assert_eq!(bob.text("#lightbox-count").await, "1 of 2");
    bob.send_keys_to_focus(ARROW_RIGHT).await;
    bob.wait_js(
        "the detail full size",
        full,
        vec![json!(600), json!("detail.png")],
    )
    .await;
    assert_eq!(bob.text("#lightbox-count").await, "2 of 2");
    bob.send_keys_to_focus(ARROW_LEFT).await;
    bob.wait_js(
        "the dashboard again",
        full,
        vec![json!(960), json!("dashboard.png")],
    )
    .await;
    let fits = bob
        .js(
            "const r = document.getElementById('lightbox-image').getBoundingClientRect(); \
             return r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight",
            vec![],
        )
        .await;
    assert_eq!(fits, json!(true), "the full image fits the window");
    // Escape closes it, and focus is back on the thumbnail.
    bob.send_keys_to_focus(ESCAPE).await;
    bob.wait_hidden("#lightbox").await;
    let focused = bob
        .js(
            "return document.activeElement.matches('#message-list [data-thumbnail]') \
                 && document.activeElement.querySelector('img').alt",
            vec![],
        )
        .await;
    assert_eq!(
        focused,
        json!("dashboard.png"),
        "focus returns to the thumbnail"
    );
    // A click beside the image closes it too.
    bob.click("#message-list [data-thumbnail]").await;
    bob.wait_visible("#lightbox-image").await;
    bob.js(
        "document.getElementById('lightbox-stage').dispatchEvent(new MouseEvent('click', { bubbles: true }))",
        vec![],
    )
    .await;
    bob.wait_hidden("#lightbox").await;

    // The PDF downloads byte for byte as it was sent, as an attachment.
    bob.make_test_files().await;
    let download = bob
        .js(
            &wrap_async(
                "const card = document.querySelector('#message-list [data-file-card]'); \
                 const r = await fetch(card.href); \
                 const got = new Uint8Array(await r.arrayBuffer()); \
                 const want = testFiles.pdfBytes(arguments[0]); \
                 return { status: r.status, disposition: r.headers.get('content-disposition'), \
                          download: card.getAttribute('download'), length: got.length, \
                          same: got.length === want.length && got.every((b, i) => b === want[i]) };",
            ),
            vec![json!(PDF_BYTES)],
        )
        .await;
    assert_eq!(download["status"], 200, "{download}");
    assert_eq!(download["length"], PDF_BYTES, "{download}");
    assert_eq!(download["same"], true, "the same bytes: {download}");
    assert_eq!(download["download"], "Q3 brief.pdf");
    let disposition = download["disposition"].as_str().unwrap_or_default();
    assert!(
        disposition.starts_with("attachment"),
        "served as a download: {disposition}"
    );

    bob.send("Thanks! The detail view reads much better.").await;
    alice
        .wait_message("Thanks! The detail view reads much better.")
        .await;
    // The pointer and the focus leave the thumbnail (its actions toolbar would show).
    bob.hover("#chat-title").await;
    bob.js("document.activeElement.blur()", vec![]).await;
    bob.wait_toolbars_hidden().await;
    bob.screenshot("chat-files").await;

    // A message may be files only: the list says what it holds.
    alice.make_test_files().await;
    alice
        .paste_files(
            json!([{ "png": "whiteboard.png", "width": 800, "height": 500, "accent": "#e11d48", "title": "Launch plan" }]),
        )
        .await;
    alice.wait_uploaded(1).await;
    alice.click("#send-button").await;
    alice.wait_hidden("#upload-list").await;
    bob.wait_js(
        "the whiteboard thumbnail",
        "return [...document.querySelectorAll('#message-list [data-thumbnail] img')].some((i) => i.alt === 'whiteboard.png')",
        vec![],
    )
    .await;
    alice
        .wait_text("#chat-list [data-key^='chat:']", "📎 whiteboard.png")
        .await;

    alice.assert_console_clean();
    bob.assert_console_clean();
}

#[tokio::test]
async fn a_cancelled_upload_goes_a_refused_one_says_why_and_names_stay_text() {
    let Some(app) = Kanect::start_with(&[("KANECT_MAX_UPLOAD_MB", "1")]) else {
        return;
    };
    let (alice, _bob) = app.alice_and_bob_in_their_chat().await;
    alice.make_test_files().await;

    // Cancelled in the same moment it started: the row goes and nothing waits to be sent.
    let cancelled = alice
        .js(
            &wrap_async(
                "const data = new DataTransfer(); \
                 data.items.add(testFiles.pdf('cancel me.pdf', 600000)); \
                 const zone = document.getElementById('message-scroller'); \
                 for (const type of ['dragenter', 'dragover', 'drop']) \
                   zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true })); \
                 const row = document.querySelector('#upload-list li[data-status=uploading]'); \
                 const bar = Boolean(row && row.querySelector('progress')); \
                 row.querySelector('button[data-control^=cancel]').click(); \
                 return { bar, rows: document.querySelectorAll('#upload-list li').length, \
                          send: document.getElementById('send-button').disabled };",
            ),
            vec![],
        )
        .await;
    assert_eq!(
        cancelled,
        json!({ "bar": true, "rows": 0, "send": true }),
        "cancelled"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    alice.wait_hidden("#upload-list").await;

    // Over the limit (1 MB here), which the page knows: refused before it is sent.
    let limit = alice
        .js(
            "return document.getElementById('app').dataset.maxUploadBytes",
            vec![],
        )
        .await;
    assert_eq!(limit, json!("1000000"), "the page knows the limit");
    alice
        .drag_files(
            &["dragenter", "dragover", "drop"],
            json!([{ "pdf": "too big.pdf", "size": 1_600_000 }]),
        )
        .await;
    let error = alice
        .wait_text("#upload-list [data-upload-error]", "Not uploaded")
        .await;
    assert!(
        error.contains("1.6 MB") && error.contains("at most 1 MB"),
        "says it is too large: {error}"
    );
    // A page that does not know the limit sends it: the server's 413 shows.
    alice
        .js(
            "document.getElementById('app').dataset.maxUploadBytes = ''",
            vec![],
        )
        .await;
    alice
        .drag_files(
            &["dragenter", "dragover", "drop"],
            json!([{ "pdf": "too big again.pdf", "size": 1_600_000 }]),
        )
        .await;
    let error = alice
        .wait_text(
            "#upload-list li:last-child [data-upload-error]",
            "Not uploaded",
        )
        .await;
    println!("the server refused: {error}");
    assert!(
        error.contains("1 MB") || error.contains("large"),
        "says it is too large: {error}"
    );
    assert_eq!(
        alice
            .js(
                "return document.getElementById('send-button').disabled",
                vec![]
            )
            .await,
        json!(true)
    );
    // An empty file is refused at once.
    alice.paste_files(json!([{ "empty": "empty.txt" }])).await;
    alice
        .wait_text("#upload-list li:last-child [data-upload-error]", "empty")
        .await;
    // Dismissed, they go.
    for _ in 0..3 {
        alice
            .click("#upload-list button[data-control^=dismiss]")
            .await;
    }
    alice.wait_hidden("#upload-list").await;

    // A name made of markup stays text, in the chip and in the message (no `/` in it:
    // the server keeps only the last part of a path).
    let name = "<img src=x onerror=alert(1)> & <b>notes.txt";
    alice
        .drag_files(
            &["dragenter", "dragover", "drop"],
            json!([{ "pdf": name, "size": 2000 }]),
        )
        .await;
    alice.wait_uploaded(1).await;
    alice.click("#send-button").await;
    let card = alice
        .wait_text("#message-list [data-file-card]", "notes")
        .await;
    assert!(card.contains(name), "the name as text: {card}");
    let markup = alice
        .js(
            "return document.querySelectorAll('#message-list img[src=x], #message-list b, #upload-list b').length",
            vec![],
        )
        .await;
    assert_eq!(markup, json!(0), "no element came from the name");

    // The refusal itself is logged by the browser as a failed request; nothing else.
    let problems = alice.console_problems(&["413"]);
    assert!(
        problems.is_empty(),
        "the browser reported problems:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn files_are_attached_and_viewed_on_a_narrow_phone() {
    let Some(app) = Kanect::start() else { return };
    app.member("alice");
    let mut bob = app.member("bob");
    let chat = bob.chat_with("alice");
    super::web::say(&mut bob, chat, "Can you send the photo of the whiteboard?");
    let phone = app.signed_in("alice", NARROW_PHONE).await;
    phone
        .click(&format!("#chat-list button[data-key='chat:{chat}']"))
        .await;
    phone
        .wait_message("Can you send the photo of the whiteboard?")
        .await;

    // The attach button is a real button that opens the file picker (camera or gallery
    // on a phone: any file, several at once, no `capture` forcing the camera).
    let picker = phone
        .js(
            "const input = document.getElementById('file-input'); \
             input.click = () => { window.pickerOpened = true; }; \
             return { multiple: input.multiple, capture: input.hasAttribute('capture'), accept: input.accept }",
            vec![],
        )
        .await;
    assert_eq!(
        picker,
        json!({ "multiple": true, "capture": false, "accept": "" })
    );
    let label = phone
        .find("#attach-button")
        .await
        .attr("aria-label")
        .await
        .expect("a label");
    assert_eq!(label.as_deref(), Some("Attach files"));
    phone.click("#attach-button").await;
    assert_eq!(
        phone
            .js("return window.pickerOpened === true", vec![])
            .await,
        json!(true)
    );
    // What the picker gives comes in through the input's change event.
    phone.make_test_files().await;
    phone
        .js(
            &wrap_async(
                "const data = new DataTransfer(); \
                 data.items.add(await testFiles.png('whiteboard.png', 1200, 900, '#0d9488')); \
                 data.items.add(testFiles.pdf('a rather long file name for the minutes of the meeting.pdf', 20000)); \
                 const input = document.getElementById('file-input'); \
                 input.files = data.files; \
                 input.dispatchEvent(new Event('change', { bubbles: true })); \
                 return true;",
            ),
            vec![],
        )
        .await;
    phone.wait_uploaded(2).await;
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth";
    assert_eq!(phone.js(fits, vec![]).await, json!(true), "the chips fit");
    phone.click("#send-button").await;
    phone.wait_hidden("#upload-list").await;
    phone
        .wait_visible("#message-list [data-thumbnail] img")
        .await;
    phone.wait_visible("#message-list [data-file-card]").await;
    assert_eq!(
        phone.js(fits, vec![]).await,
        json!(true),
        "the message fits"
    );
    let inside = phone
        .js(
            "return [...document.querySelectorAll('#message-list [data-thumbnail], #message-list [data-file-card]')] \
               .every((e) => { const r = e.getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth; })",
            vec![],
        )
        .await;
    assert_eq!(inside, json!(true), "thumbnail and card are on screen");

    phone.click("#message-list [data-thumbnail]").await;
    phone.wait_visible("#lightbox-image").await;
    let fits_screen = phone
        .js(
            "const r = document.getElementById('lightbox-image').getBoundingClientRect(); \
             const c = document.getElementById('lightbox-close').getBoundingClientRect(); \
             return r.width > 300 && r.right <= innerWidth && r.bottom <= innerHeight && c.right <= innerWidth",
            vec![],
        )
        .await;
    assert_eq!(
        fits_screen,
        json!(true),
        "the image and its close button fit"
    );
    // Escape closes the lightbox only: on a phone it would otherwise leave the chat.
    phone.send_keys_to_focus(ESCAPE).await;
    phone.wait_hidden("#lightbox").await;
    phone.wait_visible("#composer-input").await;
    assert_eq!(phone.path().await, format!("/chats/{chat}"));
    phone.click("#message-list [data-thumbnail]").await;
    phone.wait_visible("#lightbox-image").await;
    phone.click("#lightbox-close").await;
    phone.wait_hidden("#lightbox").await;
    phone.assert_console_clean();
}
