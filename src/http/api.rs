//! One registration for a route and its documentation: `Api::get(path, handler, operation)`
//! adds the handler to the router and the operation to the OpenAPI document, so that neither
//! has a route the other lacks. Each resource's module builds its `Api`; `routes` merges them.

use axum::handler::Handler;
use axum::http::StatusCode;
use axum::routing::{self, MethodRouter};
use axum::Router;
use serde_json::Value;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{Content, Ref, RefOr, Required, Response, ResponseBuilder, Schema};
use utoipa::IntoParams;

use super::context::ApiContext;
use super::schemas::{schema, Components};

/// Routes with their operations, and the schemas those name.
#[derive(Default)]
pub struct Api {
    router: Router<ApiContext>,
    pub(super) operations: Vec<(String, HttpMethod, Operation)>,
    pub(super) components: Components,
}

impl Api {
    pub fn new() -> Self {
        Self::default()
    }

    /// `GET path`: `handler`, documented by what `doc` builds (with the schemas it adds).
    pub fn get<H, T>(self, path: &str, handler: H, doc: impl FnOnce(&mut Components) -> Op) -> Self
    where
        H: Handler<T, ApiContext>,
        T: 'static,
    {
        self.at(path, HttpMethod::Get, routing::get(handler), doc)
    }

    /// `POST path`: `handler`, documented by what `doc` builds.
    pub fn post<H, T>(self, path: &str, handler: H, doc: impl FnOnce(&mut Components) -> Op) -> Self
    where
        H: Handler<T, ApiContext>,
        T: 'static,
    {
        self.at(path, HttpMethod::Post, routing::post(handler), doc)
    }

    fn at(
        mut self,
        path: &str,
        method: HttpMethod,
        route: MethodRouter<ApiContext>,
        doc: impl FnOnce(&mut Components) -> Op,
    ) -> Self {
        let operation = doc(&mut self.components).0.build();
        self.operations.push((path.to_string(), method, operation));
        self.router = self.router.route(path, route);
        self
    }

    pub fn merge(mut self, other: Api) -> Self {
        self.router = self.router.merge(other.router);
        self.operations.extend(other.operations);
        for (name, schema) in other.components.into_schemas() {
            self.components.insert(name, schema);
        }
        self
    }

    pub fn into_router(self) -> Router<ApiContext> {
        self.router
    }
}

/// An operation's documentation.
pub struct Op(OperationBuilder);

impl Op {
    pub fn new(tag: &str, id: impl Into<String>, summary: impl Into<String>) -> Self {
        Self(
            OperationBuilder::new()
                .tag(tag)
                .operation_id(Some(id))
                .summary(Some(summary)),
        )
    }

    pub fn describe(self, description: impl Into<String>) -> Self {
        Self(self.0.description(Some(description)))
    }

    pub fn param(self, parameter: Parameter) -> Self {
        Self(self.0.parameter(parameter))
    }

    /// The query parameters of `Q`, from its `IntoParams` derive (`parameter_in = Query`).
    pub fn query<Q: IntoParams>(self) -> Self {
        let parameters = Q::into_params(|| None).into_iter().map(|mut parameter| {
            // utoipa drops a doc comment beside `schema_with`: such a parameter is described
            // by its schema.
            if parameter.description.is_none() {
                if let Some(RefOr::T(Schema::Object(object))) = &mut parameter.schema {
                    parameter.description = object.description.take();
                }
            }
            parameter
        });
        Self(self.0.parameters(Some(parameters)))
    }

    /// A required JSON body.
    pub fn body(self, schema: RefOr<Schema>) -> Self {
        let body = RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content("application/json", Content::new(Some(schema)));
        Self(self.0.request_body(Some(body.build())))
    }

    pub fn answer(self, status: StatusCode, response: impl Into<RefOr<Response>>) -> Self {
        Self(self.0.response(status.as_str(), response))
    }

    /// A JSON answer with `status`.
    pub fn json(self, status: StatusCode, description: &str, schema: RefOr<Schema>) -> Self {
        self.answer(status, json(description, schema))
    }

    /// Problems with these statuses, each the shared response of its status.
    pub fn problems(self, statuses: &[StatusCode]) -> Self {
        statuses.iter().fold(self, |op, status| {
            let shared = super::problem::shared_response(*status);
            let target = shared["$ref"].as_str().expect("a reference");
            op.answer(*status, Ref::new(target))
        })
    }
}

/// A JSON response.
pub fn json(description: &str, schema: RefOr<Schema>) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", Content::new(Some(schema)))
}

/// A parameter in `place` with `schema`, required in the path.
pub fn parameter(name: &str, place: ParameterIn, schema: Value, description: &str) -> Parameter {
    let required = if place == ParameterIn::Path {
        Required::True
    } else {
        Required::False
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(place)
        .required(required)
        .description(Some(description))
        .schema(Some(super::schemas::schema(schema)))
        .build()
}

/// A page size: 1 to `max`, `default` when absent.
pub fn limit(default: i64, max: i64) -> Parameter {
    parameter(
        "limit",
        ParameterIn::Query,
        page_size(default, max),
        "Page size.",
    )
}

fn page_size(default: i64, max: i64) -> Value {
    serde_json::json!({"type": "integer", "minimum": 1, "maximum": max, "default": default})
}

/// A string schema: the body of a text answer.
pub fn text() -> RefOr<Schema> {
    schema(serde_json::json!({"type": "string"}))
}
