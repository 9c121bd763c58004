//! Topic rules: a client lives under its namespace, `$SYS` and shared subscriptions included, and
//! nothing crosses from one workspace to another.

use crate::broker::device::{Device, Login, VERSIONS, Version};
use crate::broker::{Form, Setup, login, topic};
use crate::support::{Engine, engines};
use std::time::Duration;

/// SUBACK failure codes: 0x80 in 3.1.1, "not authorized" 0x87 in MQTT 5.
fn refused_sub(version: Version) -> u8 {
    match version {
        Version::V311 => 0x80,
        Version::V5 => 0x87,
    }
}

#[engines]
async fn subscriptions_outside_the_namespace_fail_in_the_suback(engine: Engine) {
    let setup = Setup::new(engine).await;
    let ns = setup.client.connection.namespace.to_string();
    for version in VERSIONS {
        let mut device = Device::connect(
            version,
            &setup.tcp(),
            &login(Form::Namespace, &setup.client, setup.key()),
        )
        .await
        .expect("connects");
        for filter in [
            "#".to_string(),
            "+/#".into(),
            "$SYS/#".into(),
            "$SYS/brokers".into(),
            format!("{ns}-other/#"),
            format!("other/{ns}/#"),
            "+/devices/#".into(),
        ] {
            assert_eq!(
                device.subscribe(&filter).await,
                refused_sub(version),
                "{filter} {version:?}"
            );
        }
        for filter in [format!("{ns}/#"), ns.clone(), format!("{ns}/+/x")] {
            assert_eq!(device.subscribe(&filter).await, 1, "{filter} {version:?}");
        }
        device.disconnect().await;
    }
    setup.app.stop().await;
}

#[engines]
async fn publishes_outside_the_namespace_are_refused_and_never_delivered(engine: Engine) {
    let setup = Setup::new(engine).await;
    for version in VERSIONS {
        let mut device = Device::connect(
            version,
            &setup.tcp(),
            &login(Form::Namespace, &setup.client, setup.key()),
        )
        .await
        .expect("connects");
        let inside = topic(&setup.client, "echo");
        assert_eq!(device.subscribe(&inside).await, 1);
        for outside in ["elsewhere/x", "$SYS/fake", "x"] {
            let puback = device.publish(outside, b"leak").await;
            match version {
                Version::V5 => assert_eq!(puback, 0x87, "{outside}: PUBACK not authorized"),
                // 3.1.1's PUBACK has no reason code; the connection stays up.
                Version::V311 => assert_eq!(puback, 0),
            }
        }
        // The connection is still good and only the inside message arrives.
        assert_eq!(device.publish(&inside, b"ok").await, 0);
        let (t, payload) = device
            .message(Duration::from_secs(5))
            .await
            .expect("inside message");
        assert_eq!(
            (t.as_str(), payload.as_slice()),
            (inside.as_str(), &b"ok"[..])
        );
        assert!(device.message(Duration::from_millis(300)).await.is_none());
        device.disconnect().await;
    }
    setup.app.stop().await;
}

#[engines]
async fn nothing_crosses_between_tenants(engine: Engine) {
    let setup = Setup::new(engine).await;
    let rival = setup.app.sign_up("Rival Corp").await;
    let theirs = rival.new_client("Rival sensor").await;
    let our_ns = setup.client.connection.namespace.to_string();
    let their_ns = theirs.connection.namespace.to_string();
    assert_ne!(our_ns, their_ns);

    for version in VERSIONS {
        let mut ours = Device::connect(
            version,
            &setup.tcp(),
            &login(Form::Namespace, &setup.client, setup.key()),
        )
        .await
        .expect("ours connects");
        let mut rival_device = Device::connect(
            version,
            &setup.tcp(),
            &login(Form::Namespace, &theirs, theirs.key.expose()),
        )
        .await
        .expect("theirs connects");
        // Each listens to everything it may, plus (refused) the other's namespace.
        assert_eq!(ours.subscribe(&format!("{our_ns}/#")).await, 1);
        assert_eq!(rival_device.subscribe(&format!("{their_ns}/#")).await, 1);
        assert_eq!(
            ours.subscribe(&format!("{their_ns}/#")).await,
            refused_sub(version)
        );
        assert_eq!(
            rival_device.subscribe(&format!("{our_ns}/#")).await,
            refused_sub(version)
        );

        // The rival publishes into our namespace: refused, and we receive nothing.
        let into_ours = format!("{our_ns}/devices/x/cmd");
        let puback = rival_device.publish(&into_ours, b"hostile").await;
        if version == Version::V5 {
            assert_eq!(puback, 0x87);
        }
        // Our own traffic still flows to us only.
        let own = format!("{our_ns}/devices/x/state");
        assert_eq!(ours.publish(&own, b"mine").await, 0);
        let (t, p) = ours
            .message(Duration::from_secs(5))
            .await
            .expect("own message");
        assert_eq!((t.as_str(), p.as_slice()), (own.as_str(), &b"mine"[..]));
        assert!(
            ours.message(Duration::from_millis(300)).await.is_none(),
            "nothing hostile arrived"
        );
        assert!(
            rival_device
                .message(Duration::from_millis(300))
                .await
                .is_none(),
            "nothing of ours leaked"
        );
        ours.disconnect().await;
        rival_device.disconnect().await;
    }
    // A key of one tenant never opens the other's client, in any form.
    for form in [
        Form::Namespace,
        Form::WithOrganization,
        Form::ClientIdUsername,
    ] {
        assert!(
            Device::connect(
                Version::V5,
                &setup.tcp(),
                &login(form, &theirs, setup.key())
            )
            .await
            .is_err(),
            "{form:?}"
        );
    }
    // Nor does naming our Client ID with the rival's namespace or organization.
    let c = &setup.client.connection;
    for login in [
        Login::new(c.client_id.as_str(), &their_ns, setup.key()),
        Login::new(
            "x",
            &format!("{}@{}", c.client_id, theirs.connection.organization_id),
            setup.key(),
        ),
    ] {
        assert!(
            Device::connect(Version::V5, &setup.tcp(), &login)
                .await
                .is_err(),
            "{login:?}"
        );
    }
    setup.app.stop().await;
}

#[engines]
async fn shared_subscriptions_obey_the_namespace(engine: Engine) {
    let setup = Setup::new(engine).await;
    let ns = setup.client.connection.namespace.to_string();
    for version in VERSIONS {
        let mut device = Device::connect(
            version,
            &setup.tcp(),
            &login(Form::WithOrganization, &setup.client, setup.key()),
        )
        .await
        .expect("connects");
        assert_eq!(
            device.subscribe("$share/workers/#").await,
            refused_sub(version)
        );
        assert_eq!(
            device.subscribe("$share/workers/other/#").await,
            refused_sub(version)
        );
        // A group of its own per round: the previous round's member may still be leaving the
        // group, and round robin could hand it the message.
        assert_eq!(
            device
                .subscribe(&format!("$share/workers-{version:?}/{ns}/jobs/#"))
                .await,
            1
        );
        let job = format!("{ns}/jobs/1");
        assert_eq!(device.publish(&job, b"run").await, 0);
        let (t, p) = device
            .message(Duration::from_secs(5))
            .await
            .expect("shared delivery");
        assert_eq!((t.as_str(), p.as_slice()), (job.as_str(), &b"run"[..]));
        device.disconnect().await;
    }
    setup.app.stop().await;
}

#[engines]
async fn a_last_will_outside_the_namespace_is_refused(engine: Engine) {
    let setup = Setup::new(engine).await;
    for version in VERSIONS {
        let mut outside = login(Form::Namespace, &setup.client, setup.key());
        outside.will_topic = Some("elsewhere/will".into());
        let refused = Device::connect(version, &setup.tcp(), &outside).await.err();
        let expected = match version {
            Version::V311 => 5,
            Version::V5 => 0x87,
        };
        assert_eq!(refused.map(|r| r.0), Some(expected), "{version:?}");

        let mut inside = login(Form::Namespace, &setup.client, setup.key());
        inside.will_topic = Some(topic(&setup.client, "will"));
        Device::connect(version, &setup.tcp(), &inside)
            .await
            .expect("a will inside the namespace is fine")
            .disconnect()
            .await;
    }
    setup.app.stop().await;
}

#[engines]
async fn another_client_cannot_take_over_a_client_identifier(engine: Engine) {
    let setup = Setup::new(engine).await;
    let rival = setup.app.sign_up("Rival Corp").await;
    let theirs = rival.new_client("Rival sensor").await;
    // Forms 2 and 3 let a device choose its MQTT client identifier; both tenants choose the same.
    let identifier = "sensor-1";
    let ours_login = Login {
        client_identifier: identifier.into(),
        ..login(Form::WithOrganization, &setup.client, setup.key())
    };
    let theirs_login = Login {
        client_identifier: identifier.into(),
        ..login(Form::ClientIdUsername, &theirs, theirs.key.expose())
    };
    for version in VERSIONS {
        // Reconnects: the previous version's session had this identifier a moment ago.
        let mut ours = Device::connect(version, &setup.tcp(), &ours_login)
            .await
            .expect("ours connects");
        let refused = Device::connect(version, &setup.tcp(), &theirs_login)
            .await
            .err();
        let expected = if version == Version::V5 { 0x87 } else { 5 };
        assert_eq!(
            refused.map(|r| r.0),
            Some(expected),
            "{version:?}: the rival cannot take the session over"
        );
        // Our session was not kicked.
        let t = topic(&setup.client, "still-here");
        assert_eq!(ours.subscribe(&t).await, 1);
        assert_eq!(ours.publish(&t, b"yes").await, 0);
        assert!(
            ours.message(Duration::from_secs(5)).await.is_some(),
            "{version:?}"
        );
        // The same client may take over its own identifier (a device reconnecting).
        let again = Device::connect(version, &setup.tcp(), &ours_login)
            .await
            .expect("our own takeover");
        again.disconnect().await;
        drop(ours);
    }
    // A persistent session, offline, keeps its identifier: its subscriptions and queued messages
    // must not pass to another tenant.
    let persistent = Login {
        clean: false,
        ..ours_login.clone()
    };
    let mut ours = Device::connect(Version::V311, &setup.tcp(), &persistent)
        .await
        .unwrap();
    assert_eq!(ours.subscribe(&topic(&setup.client, "queued")).await, 1);
    ours.disconnect().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let hijack = Login {
        clean: false,
        ..theirs_login.clone()
    };
    assert_eq!(
        Device::connect(Version::V311, &setup.tcp(), &hijack)
            .await
            .err()
            .map(|r| r.0),
        Some(5),
        "the offline session stays ours"
    );
    // Once our session is gone for good (a clean connect ends it), the identifier is free.
    Device::connect(Version::V311, &setup.tcp(), &ours_login)
        .await
        .unwrap()
        .disconnect()
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    Device::connect(Version::V311, &setup.tcp(), &theirs_login)
        .await
        .expect("a free identifier")
        .disconnect()
        .await;
    setup.app.stop().await;
}
