//! A client's access (`store::clients::update_access`): which devices it serves and its topic
//! rules, audited, and revoked in the same transaction when the change can take access away,
//! never when it only gives more.

use super::fixtures::{Org, actions_for, add_client, fresh_db, id, org, outbox_rows};
use crate::support::{Engine, engines};
use app::model::{Permission, RevocationReason, RuleAction, Scope, TopicRule, TopicRules};
use app::store::{Db, StoreError, clients};

fn scope(text: &str) -> Scope {
    Scope::parse(text).unwrap()
}

async fn namespace(db: &Db, org: &Org) -> String {
    app::store::workspaces::get(db, &org.ctx.organization_id, &org.workspace_id)
        .await
        .unwrap()
        .namespace
        .to_string()
}

fn rules(namespace: &str, filters: &[&str]) -> TopicRules {
    TopicRules::parse(
        namespace,
        filters
            .iter()
            .map(|f| TopicRule {
                permission: Permission::Deny,
                action: RuleAction::Both,
                filter: format!("{namespace}/{f}"),
            })
            .collect(),
    )
    .unwrap()
}

async fn reasons(db: &Db, client: &str) -> Vec<RevocationReason> {
    outbox_rows(db, client)
        .await
        .iter()
        .map(|r| r.reason)
        .collect()
}

async fn set(db: &Db, org: &Org, client: &str, s: Option<&Scope>, r: &TopicRules) {
    clients::update_access(db, &org.ctx, &id(client), s, r)
        .await
        .unwrap();
}

#[engines]
async fn narrowing_a_scope_is_a_revocation_and_widening_it_is_not(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let none = TopicRules::default();

    set(&db, &acme, "boiler-01", Some(&scope("d-1, d-2")), &none).await;
    assert_eq!(
        reasons(&db, "boiler-01").await,
        [RevocationReason::ScopeNarrowed],
        "restricting"
    );
    set(
        &db,
        &acme,
        "boiler-01",
        Some(&scope("d-1, d-2, env=prod")),
        &none,
    )
    .await;
    assert_eq!(
        reasons(&db, "boiler-01").await.len(),
        1,
        "adding an entry gives more"
    );
    set(
        &db,
        &acme,
        "boiler-01",
        Some(&scope("d-1, env=prod")),
        &none,
    )
    .await;
    assert_eq!(
        reasons(&db, "boiler-01").await.len(),
        2,
        "dropping d-2 narrows"
    );
    set(&db, &acme, "boiler-01", None, &none).await;
    assert_eq!(
        reasons(&db, "boiler-01").await.len(),
        2,
        "unrestricting gives more"
    );

    let row = clients::get(&db, &acme.ctx.organization_id, &id("boiler-01"))
        .await
        .unwrap();
    assert_eq!(row.row.scope, None);
    let actions = actions_for(&db, &acme, "boiler-01").await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "client.scope_changed")
            .count(),
        4,
        "{actions:?}"
    );
}

#[engines]
async fn a_rules_change_is_a_revocation_and_the_rules_read_back_in_order(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let ns = namespace(&db, &acme).await;
    let rules = rules(&ns, &["secret/#", "devices/{device_id}/cmd"]);
    set(&db, &acme, "boiler-01", None, &rules).await;
    assert_eq!(
        reasons(&db, "boiler-01").await,
        [RevocationReason::RulesChanged]
    );
    let row = clients::get(&db, &acme.ctx.organization_id, &id("boiler-01"))
        .await
        .unwrap();
    assert_eq!(row.row.topic_rules, rules);
    let credential = clients::find_credential(&db, "boiler-01")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        credential.topic_rules, rules,
        "the broker reads the same rules"
    );
    // Saving the same access again changes nothing and revokes nothing.
    set(&db, &acme, "boiler-01", None, &rules).await;
    assert_eq!(reasons(&db, "boiler-01").await.len(), 1);
    let actions = actions_for(&db, &acme, "boiler-01").await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "client.rules_changed")
            .count(),
        1,
        "{actions:?}"
    );
}

#[engines]
async fn another_organizations_client_is_not_found_and_keeps_its_access(engine: Engine) {
    let (_database, db) = fresh_db(engine).await;
    let acme = org(&db, "Acme").await;
    let mallory = org(&db, "Mallory").await;
    add_client(&db, &acme, "boiler-01", "Boiler").await;
    let result = clients::update_access(
        &db,
        &mallory.ctx,
        &id("boiler-01"),
        Some(&scope("d-1")),
        &TopicRules::default(),
    )
    .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    let row = clients::get(&db, &acme.ctx.organization_id, &id("boiler-01"))
        .await
        .unwrap();
    assert_eq!((row.row.scope, row.revision), (None, 0), "nothing changed");
    assert!(
        reasons(&db, "boiler-01").await.is_empty(),
        "nothing revoked"
    );
}
