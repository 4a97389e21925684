//! Does the entity fit its profile? One routing activation before the first case of a run
//! against a `--target` (the profile-only checks are `suite::profile::fit`).

use super::session::{OpenError, Session, SessionSettings};
use crate::codec::doip::ActivationType;
use crate::profile::TargetProfile;
use std::net::SocketAddr;
use std::time::Duration;

/// One routing activation through the client session ([`Session`]),
/// with the profile's tester address and first activation type: the entity's logical address
/// must be the profile's `entity_address`, and routing must activate. What does not fit is a
/// warning before the first case (the cases show the details).
pub async fn fit_warnings(
    addr: SocketAddr,
    profile: &TargetProfile,
    connect: Duration,
) -> Vec<String> {
    let mut settings = SessionSettings::from_profile(profile, false);
    settings.connect_timeout = connect;
    if let Some(first) = profile.activation.types.first() {
        settings.activation_type = ActivationType::from(*first);
    }
    let (tester, kind) = (settings.tester_address, settings.activation_type.raw());
    let entity = u64::from(profile.addresses.entity);
    match Session::open(addr, None, settings).await {
        Ok(session) => {
            let got = u64::from(session.activation.entity_logical_address);
            session.close().await;
            if got == entity {
                Vec::new()
            } else {
                vec![format!(
                    "the target's logical address is 0x{got:04X}, the profile's entity_address 0x{entity:04X}"
                )]
            }
        }
        Err(OpenError::NotActivated { why, .. }) => vec![format!(
            "routing activation (tester 0x{tester:04X}, type 0x{kind:02X}) did not succeed: {why}; the profile's tester_address or activation_types may not fit this target"
        )],
        Err(OpenError::Unreachable(why)) => {
            vec![format!("the routing activation probe could not connect: {why}")]
        }
    }
}
