//! Identifiers of the clinic's things. Each is its own type so a room id can never be passed
//! where a visit id is expected; all are UUIDs on the wire and in storage.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(type = "string"))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Wraps an existing UUID (ids are minted by whoever stores the thing).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// A fixed id from a number: for seeds and tests.
            pub const fn from_u128(n: u128) -> Self {
                Self(Uuid::from_u128(n))
            }

            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::from_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A clinic: the tenant. Nothing crosses from one clinic to another.
    ClinicId
);
id_type!(
    /// A room: a shared waiting area such as Reception, or a provider's own room.
    RoomId
);
id_type!(
    /// A member of staff (receptionist, provider, scheduler, admin).
    StaffId
);
id_type!(
    /// One patient encounter.
    VisitId
);
