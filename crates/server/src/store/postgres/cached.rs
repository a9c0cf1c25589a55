//! Statements prepared once per pooled connection and kept: [`Cached`] runs a statement by
//! its SQL text, preparing it on the connection the first time only (the pool's statement
//! cache), so each later run is one round trip to the database rather than two (tokio-postgres
//! prepares an unnamed statement before every run of a query given as text).

use deadpool_postgres::GenericClient;
use futures_util::future::BoxFuture;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Error, Row};

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The reads and writes of the store's request paths, by SQL text, on a connection or a
/// transaction of the pool.
pub(super) trait Cached {
    fn fetch<'a>(
        &'a self,
        sql: &'a str,
        params: Params<'a>,
    ) -> BoxFuture<'a, Result<Vec<Row>, Error>>;
    fn fetch_one<'a>(
        &'a self,
        sql: &'a str,
        params: Params<'a>,
    ) -> BoxFuture<'a, Result<Row, Error>>;
    fn fetch_opt<'a>(
        &'a self,
        sql: &'a str,
        params: Params<'a>,
    ) -> BoxFuture<'a, Result<Option<Row>, Error>>;
    fn run<'a>(&'a self, sql: &'a str, params: Params<'a>) -> BoxFuture<'a, Result<u64, Error>>;
}

impl<C: GenericClient + Sync> Cached for C {
    fn fetch<'a>(
        &'a self,
        sql: &'a str,
        params: Params<'a>,
    ) -> BoxFuture<'a, Result<Vec<Row>, Error>> {
        Box::pin(async move { self.query(&self.prepare_cached(sql).await?, params).await })
    }

    fn fetch_one<'a>(
        &'a self,
        sql: &'a str,
        params: Params<'a>,
    ) -> BoxFuture<'a, Result<Row, Error>> {
        Box::pin(async move {
            self.query_one(&self.prepare_cached(sql).await?, params)
                .await
        })
    }

    fn fetch_opt<'a>(
        &'a self,
        sql: &'a str,
        params: Params<'a>,
    ) -> BoxFuture<'a, Result<Option<Row>, Error>> {
        Box::pin(async move {
            self.query_opt(&self.prepare_cached(sql).await?, params)
                .await
        })
    }

    fn run<'a>(&'a self, sql: &'a str, params: Params<'a>) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move { self.execute(&self.prepare_cached(sql).await?, params).await })
    }
}
