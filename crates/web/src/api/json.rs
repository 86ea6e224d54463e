//! Our own JSON body extractor, so that every malformed body is answered in the API's one
//! error envelope with status 422, whatever axum's rejection was.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::{AppError, ErrorCode, ErrorInfo};

#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(AppError::Client(
                ErrorInfo::new(ErrorCode::InvalidRequest)
                    .detail("error-invalid-json", vec![("cause", crate::i18n::Arg::from(rejection.body_text()))]),
            )),
        }
    }
}
