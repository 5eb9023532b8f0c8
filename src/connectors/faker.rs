//! Faker: deterministic demo data (users, orders, events). Its output is a
//! pure function of its config, so tests compare a warehouse with it.

use super::{ConnectorError, Settings, Source};

pub struct Faker {}

impl Faker {
    pub fn new(_s: &Settings<'_>) -> Result<Self, ConnectorError> {
        Ok(Self {})
    }
}

#[async_trait::async_trait]
impl Source for Faker {
    async fn check(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
