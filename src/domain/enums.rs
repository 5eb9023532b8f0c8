//! Stored enum values. The store keeps them as lowercase strings (readable in
//! SQL, stable across proto renumbering); the API maps them to proto enums.

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }
        }

        // As the stored string, so the JSON of events and payloads reads
        // like the columns.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown {} {s:?}", stringify!($name)))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(
    /// Lifecycle of a connection.
    ConnectionStatus {
        NeedsVerification = "needs_verification",
        Active = "active",
        Error = "error",
        Disabled = "disabled",
    }
);

str_enum!(
    /// Lifecycle of a sync.
    SyncStatus { Draft = "draft", Active = "active", Paused = "paused", Error = "error", Archived = "archived" }
);

str_enum!(ExecutionBackend { Native = "native", Prefect = "prefect", Temporal = "temporal", External = "external" });
str_enum!(ExecutionMode { Sequential = "sequential", FanOutEntity = "fan_out_entity", FanOutWindow = "fan_out_window" });
str_enum!(TriggerMode { Manual = "manual", Scheduled = "scheduled", OnCreate = "on_create" });
str_enum!(LoadMode { AppendEvent = "append_event", Upsert = "upsert", Replace = "replace" });
str_enum!(TableNamingVersion { Legacy = "legacy", V2 = "v2" });
str_enum!(TimeUnit { Minutes = "minutes", Hours = "hours", Days = "days", Weeks = "weeks", Months = "months" });

str_enum!(
    /// Lifecycle of a run; see `domain::run` for the transitions.
    RunStatus {
        Pending = "pending",
        Running = "running",
        Cancelling = "cancelling",
        Succeeded = "succeeded",
        Failed = "failed",
        Cancelled = "cancelled",
    }
);
str_enum!(RunMode { Incremental = "incremental", FullRefresh = "full_refresh" });
str_enum!(TriggeredBy {
    Manual = "manual",
    Schedule = "schedule",
    OnCreate = "on_create",
    Retry = "retry",
    AutoResume = "auto_resume",
});
str_enum!(ResultClass { Success = "success", Failure = "failure", Cancelled = "cancelled" });
str_enum!(ResultReasonCode {
    HeartbeatTimeout = "heartbeat_timeout",
    UserCancelled = "user_cancelled",
    SourceError = "source_error",
    DestinationError = "destination_error",
    ConfigError = "config_error",
    AuthError = "auth_error",
    RateLimited = "rate_limited",
    InternalError = "internal_error",
    ServerShutdown = "server_shutdown",
});

str_enum!(
    /// What an API key may do.
    Role { Admin = "admin", Editor = "editor", Viewer = "viewer", Executor = "executor" }
);
str_enum!(LogLevel { Debug = "debug", Info = "info", Warn = "warn", Error = "error" });
