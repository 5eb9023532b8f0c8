//! ConnectionService: decode, call the use case, encode.

use tonic::{Request, Response, Status};

use super::{
    convert, file_items,
    lists::{self, fit, list_response},
    principal,
};
use crate::{
    domain::connector_settings::ConnectorSettings,
    pb::{self, connection_service_server::ConnectionService},
    service::{
        Services,
        connections::{ConnectionPatch, NewConnection},
    },
};

pub struct Connections(pub Services);

type Reply<T> = Result<Response<T>, Status>;

fn ok(c: crate::store::connections::ConnectionRecord) -> Reply<pb::Connection> {
    Ok(Response::new(convert::connection(c)))
}

#[tonic::async_trait]
impl ConnectionService for Connections {
    async fn list_connections(
        &self,
        req: Request<pb::ListConnectionsRequest>,
    ) -> Reply<pb::ListConnectionsResponse> {
        let p = principal(&req)?;
        let q = super::lists::connections(req.get_ref(), &self.0.tokens)?;
        let page = self
            .0
            .list_connections(&p, &q.filter, q.sort, q.order, &q.page)
            .await?;
        let page = fit(page, convert::connection);
        let ids = page
            .items
            .iter()
            .flat_map(|c| [c.created_by.clone(), c.updated_by.clone()])
            .collect();
        let users = self.0.display_names(ids).await?;
        Ok(Response::new(list_response!(
            ListConnectionsResponse { connections },
            q,
            page,
            &self.0.tokens,
            users
        )))
    }

    async fn create_connection(
        &self,
        req: Request<pb::CreateConnectionRequest>,
    ) -> Reply<pb::Connection> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = crate::error::Violations::new();
        let rate_limit_unit = convert::rate_limit_unit(r.rate_limit_unit, &mut v);
        v.check()?;
        let settings = ConnectorSettings {
            timezone: (!r.timezone.is_empty()).then_some(r.timezone),
            date_format: (!r.date_format.is_empty()).then_some(r.date_format),
            rate_limit_unit,
            rate_limit_duration: (r.rate_limit_duration != 0).then_some(r.rate_limit_duration),
            variables: convert::variables(r.variables),
        };
        let input = NewConnection {
            name: r.name,
            provider: r.provider,
            config: convert::struct_to_json(r.config),
            credentials: convert::credentials(r.credentials),
            slug: r.slug,
            is_default: r.is_default,
            request_id: r.request_id,
            settings,
        };
        ok(self.0.create_connection(&p, input).await?)
    }

    async fn get_connection(
        &self,
        req: Request<pb::GetConnectionRequest>,
    ) -> Reply<pb::Connection> {
        let p = principal(&req)?;
        ok(self
            .0
            .get_connection(&p, req.into_inner().connection_id)
            .await?)
    }

    async fn get_connection_by_slug(
        &self,
        req: Request<pb::GetConnectionBySlugRequest>,
    ) -> Reply<pb::Connection> {
        let p = principal(&req)?;
        ok(self
            .0
            .get_connection_by_slug(&p, &req.get_ref().slug)
            .await?)
    }

    async fn update_connection(
        &self,
        req: Request<pb::UpdateConnectionRequest>,
    ) -> Reply<pb::Connection> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let replace = r.replace_credentials || !r.credentials.is_empty();
        let replace_variables = r.replace_variables || !r.variables.is_empty();
        let mut v = crate::error::Violations::new();
        let rate_limit_unit = r
            .rate_limit_unit
            .map(|n| convert::rate_limit_unit(n, &mut v));
        v.check()?;
        let patch = ConnectionPatch {
            name: r.name,
            slug: r.slug,
            config: r.config.map(|c| convert::struct_to_json(Some(c))),
            credentials: replace.then(|| convert::credentials(r.credentials)),
            etag: r.etag,
            timezone: r.timezone,
            date_format: r.date_format,
            rate_limit_unit,
            rate_limit_duration: r.rate_limit_duration,
            variables: replace_variables.then(|| convert::variables(r.variables)),
        };
        ok(self.0.update_connection(&p, r.connection_id, patch).await?)
    }

    async fn delete_connection(&self, req: Request<pb::DeleteConnectionRequest>) -> Reply<()> {
        let p = principal(&req)?;
        self.0
            .delete_connection(&p, req.into_inner().connection_id)
            .await?;
        Ok(Response::new(()))
    }

    async fn disable_connection(
        &self,
        req: Request<pb::DisableConnectionRequest>,
    ) -> Reply<pb::Connection> {
        let p = principal(&req)?;
        ok(self
            .0
            .disable_connection(&p, req.into_inner().connection_id)
            .await?)
    }

    async fn reactivate_connection(
        &self,
        req: Request<pb::ReactivateConnectionRequest>,
    ) -> Reply<pb::Connection> {
        let p = principal(&req)?;
        ok(self
            .0
            .reactivate_connection(&p, req.into_inner().connection_id)
            .await?)
    }

    async fn set_default_connection(
        &self,
        req: Request<pb::SetDefaultConnectionRequest>,
    ) -> Reply<pb::Connection> {
        let p = principal(&req)?;
        ok(self
            .0
            .set_default_connection(&p, req.into_inner().connection_id)
            .await?)
    }

    async fn verify_connection(
        &self,
        req: Request<pb::VerifyConnectionRequest>,
    ) -> Reply<pb::Connection> {
        let p = principal(&req)?;
        let r = req.into_inner();
        ok(self
            .0
            .verify_connection(&p, r.connection_id, r.as_destination)
            .await?)
    }

    async fn list_files(&self, req: Request<pb::ListFilesRequest>) -> Reply<pb::ListFilesResponse> {
        let p = principal(&req)?;
        let q = lists::files(req.get_ref(), &self.0.tokens)?;
        let r = req.into_inner();
        let folder = self
            .0
            .list_files(&p, r.connection_id, &r.path, &q.page)
            .await?;
        let page = fit(folder.page, file_items::file_item);
        Ok(Response::new(pb::ListFilesResponse {
            next_page_token: q.next_token(&self.0.tokens, page.next.as_ref()),
            items: page.items,
            path: folder.path,
        }))
    }

    async fn validate_file_selection(
        &self,
        req: Request<pb::ValidateFileSelectionRequest>,
    ) -> Reply<pb::ValidateFileSelectionResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let s = self
            .0
            .validate_file_selection(&p, r.connection_id, &r.root_path, &r.selected_items)
            .await?;
        Ok(Response::new(file_items::file_selection(s)))
    }

    async fn list_schema_tables(
        &self,
        req: Request<pb::ListSchemaTablesRequest>,
    ) -> Reply<pb::ListSchemaTablesResponse> {
        let p = principal(&req)?;
        let q = lists::schema_tables(req.get_ref(), &self.0.tokens)?;
        let r = req.into_inner();
        let page = self
            .0
            .list_schema_tables(&p, r.connection_id, r.include_system, &q.page)
            .await?;
        let page = fit(page, |t| pb::SchemaTable {
            spec: format!("{}.{}", t.schema, t.table),
            schema: t.schema,
            table: t.table,
        });
        Ok(Response::new(pb::ListSchemaTablesResponse {
            next_page_token: q.next_token(&self.0.tokens, page.next.as_ref()),
            has_next: page.has_next,
            tables: page.items,
        }))
    }

    async fn list_schema_columns(
        &self,
        req: Request<pb::ListSchemaColumnsRequest>,
    ) -> Reply<pb::ListSchemaColumnsResponse> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let cols = self
            .0
            .list_schema_columns(&p, r.connection_id, &r.schema, &r.table)
            .await?;
        Ok(Response::new(pb::ListSchemaColumnsResponse {
            columns: cols
                .into_iter()
                .map(|c| pb::SchemaColumn {
                    name: c.name,
                    data_type: c.data_type,
                    nullable: c.nullable,
                })
                .collect(),
            schema: r.schema,
            table: r.table,
        }))
    }
}
