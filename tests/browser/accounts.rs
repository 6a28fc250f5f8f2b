//! Signing up, in and out through the forms.

use super::web::{Kanect, Window, DESKTOP, PASSWORD};

#[tokio::test]
async fn a_newcomer_signs_up_sees_field_errors_then_signs_out_and_in() {
    let Some(app) = Kanect::start() else { return };
    let carol = app.window(DESKTOP).await;

    carol.goto("/login").await;
    carol.wait_visible("#id_username").await;
    carol.screenshot("sign-in").await;

    carol.click("a[href='/signup']").await;
    carol.wait_path("/signup").await;
    carol.wait_hidden("#password-meter").await;
    carol.fill("#id_username", "carol").await;

    // The meter appears with the first character and grows with the password.
    carol.fill("#id_password1", "abc").await;
    carol.wait_visible("#password-meter").await;
    carol.wait_text("#password-strength-word", "Too weak").await;
    carol.fill("#id_password1", PASSWORD).await;
    carol.wait_text("#password-strength-word", "Strong").await;

    // A bad email and a mismatched confirmation: the page comes back with field errors,
    // keeping what was typed except the passwords.
    carol.fill("#id_email", "carol-at-example").await;
    carol.fill("#id_password2", "something-else-entirely").await;
    carol.wait_text("#password2-help", "don't match").await;
    carol.click("#signup-form button[type=submit]").await;
    carol.wait_visible("#email-error").await;
    carol.wait_visible("#password2-error").await;
    let email_field = carol.find("#id_email").await;
    assert_eq!(
        email_field.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(
        email_field.prop("value").await.unwrap().as_deref(),
        Some("carol-at-example")
    );
    assert_eq!(
        carol
            .find("#id_username")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("carol")
    );
    assert_eq!(
        carol
            .find("#id_password1")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("")
    );

    carol.fill("#id_email", "carol@example.com").await;
    carol.fill("#id_password1", PASSWORD).await;
    carol.fill("#id_password2", PASSWORD).await;
    carol.click("#signup-form button[type=submit]").await;
    carol.wait_path("/").await;
    carol.wait_chat_ready().await;
    carol.wait_text("header a[href='/account']", "carol").await;

    sign_out(&carol).await;
    // Signed out means signed out: the home page sends her to sign in.
    carol.goto("/").await;
    carol.wait_path("/login?next=%2F").await;

    carol.submit_sign_in("carol", "not-her-password").await;
    carol.wait_visible("#form-error").await;
    carol.sign_in("carol", PASSWORD).await;
    carol.wait_path("/").await;
    carol.wait_chat_ready().await;

    carol.assert_console_clean();
}

async fn sign_out(window: &Window) {
    window
        .click("form[action='/logout'] button[type=submit]")
        .await;
    window
        .wait_js(
            "the sign-in page after signing out",
            "return location.pathname === '/login' || location.pathname === '/'",
            vec![],
        )
        .await;
    window.wait_visible("#id_username").await;
}
