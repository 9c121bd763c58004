//! Users on both engines: an email address belongs to one user, whatever its case.

use super::fixtures::fresh_db;
use crate::support::{self, Engine, engines};
use app::model::{Email, OrgName};
use app::store::{StoreError, organizations, users};

#[engines]
async fn email_is_unique_and_case_insensitive(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let name = OrgName::parse("Acme").unwrap();
    let email = Email::parse("Ann@Example.test").unwrap();
    let account = organizations::create_with_owner(&db, &name, &email, "$argon2id$x", "::1", true)
        .await
        .unwrap();
    let user = users::find_by_email(&db, &Email::parse("ann@EXAMPLE.test").unwrap())
        .await
        .unwrap()
        .expect("found whatever the case");
    assert_eq!(user.id, account.user_id);
    assert_eq!(user.organization_id, account.organization_id);
    assert!(users::exists_by_email(&db, &email).await.unwrap());

    let before = support::counts(&db).await;
    let again = organizations::create_with_owner(
        &db,
        &OrgName::parse("Other").unwrap(),
        &Email::parse("ANN@example.TEST").unwrap(),
        "$argon2id$y",
        "::1",
        true,
    )
    .await;
    assert!(matches!(again, Err(StoreError::EmailTaken)), "{again:?}");
    assert_eq!(
        support::counts(&db).await,
        before,
        "a refused sign-up leaves no organization behind"
    );
}
