//! Page routes with a list of what was registered, so that tests can check that every route
//! has a row in the access-control matrix. API routes are listed by their OpenAPI document.

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, on};

use crate::AppState;

#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    list: Vec<(&'static str, &'static str)>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    fn add<H, T>(mut self, method: &'static str, filter: MethodFilter, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, on(filter, handler));
        self.list.push((method, path));
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add("GET", MethodFilter::GET, path, handler)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add("POST", MethodFilter::POST, path, handler)
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.list.extend(other.list);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<(&'static str, &'static str)>) {
        (self.router, self.list)
    }
}
