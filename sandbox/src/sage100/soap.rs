//! The SOAP 1.1 endpoint (facts §3.1): `GET ...svc?wsdl` serves the WSDL,
//! `POST` takes a document/literal envelope, dispatched on the body's
//! element (and `SOAPAction` when sent). Every error is a SOAP Fault
//! (HTTP 500, `text/xml`); the fault detail shape is UNVERIFIED, so faults
//! carry only `faultcode` and `faultstring`.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::xml::{self, esc};
use super::{ops, wsdl, NAMESPACE};
use crate::World;

/// The SOAP 1.1 envelope namespace.
pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// The fault message eBWS gives for every unexpected exception (facts §3.1
/// [S100-ADMIN]); the details go to the server's Event Log.
pub const EXCEPTION_OCCURRED: &str = "An exception occurred.";

/// A SOAP Fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// `Client` (the request is wrong: do not retry as is) or `Server`.
    pub code: &'static str,
    /// `faultstring`.
    pub message: String,
    /// The HTTP status (500 for every fault, as SOAP 1.1 over HTTP says;
    /// injected faults keep theirs).
    pub status: StatusCode,
}

impl Fault {
    /// A fault caused by the request (`s:Client`).
    pub fn client(message: impl Into<String>) -> Fault {
        Fault {
            code: "Client",
            message: message.into(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A fault on the server's side (`s:Server`).
    pub fn server(message: impl Into<String>) -> Fault {
        Fault {
            code: "Server",
            message: message.into(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The response.
    pub fn into_response(self) -> HttpResponse {
        let body = format!(
            "<s:Fault><faultcode>s:{}</faultcode><faultstring xml:lang=\"en-US\">{}</faultstring></s:Fault>",
            self.code,
            esc(&self.message)
        );
        HttpResponse::build(self.status)
            .content_type("text/xml; charset=utf-8")
            .body(envelope(&body))
    }
}

/// A body wrapped in a SOAP 1.1 envelope.
pub fn envelope(body: &str) -> String {
    format!("<s:Envelope xmlns:s=\"{SOAP_ENV}\"><s:Body>{body}</s:Body></s:Envelope>")
}

/// The service URL as the client reached it (for `soap:address`).
fn service_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}{}", info.scheme(), info.host(), req.path())
}

/// `GET` on the service: the WSDL with `?wsdl` (or WCF's `?singleWsdl`),
/// else the service's help page.
pub async fn get(req: HttpRequest, world: web::Data<World>) -> HttpResponse {
    if let Some(refused) = iis(&req, &world) {
        return refused;
    }
    let query = req.query_string().to_ascii_lowercase();
    let wants_wsdl = query
        .split('&')
        .any(|p| matches!(p.split('=').next(), Some("wsdl") | Some("singlewsdl")));
    if wants_wsdl {
        let user_element = world.sage100().settings.logon_user_element.name();
        return HttpResponse::Ok()
            .content_type("text/xml; charset=UTF-8")
            .body(wsdl::document(&service_url(&req), user_element));
    }
    HttpResponse::Ok().content_type("text/html; charset=UTF-8").body(format!(
        "<html><head><title>eBusinessWebService Service</title></head><body><h1>eBusinessWebService Service</h1>\
         <p>You have created a service. To test this service, you will need to create a client and use it to call the service. \
         You can do this using the svcutil.exe tool: <pre>svcutil.exe {url}?wsdl</pre></p></body></html>",
        url = esc(&service_url(&req))
    ))
}

/// IIS's 404 for any other path.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/html")
        .body("<html><head><title>404 - File or directory not found.</title></head><body><h2>404 - File or directory not found.</h2>\
               <h3>The resource you are looking for might have been removed, had its name changed, or is temporarily unavailable.</h3></body></html>")
}

/// IIS's 403.4 for a plain-HTTP request to an SSL-only site.
fn ssl_required() -> HttpResponse {
    HttpResponse::Forbidden()
        .content_type("text/html")
        .body("<html><head><title>403.4 - SSL required.</title></head><body><h2>HTTP Error 403.4 - Forbidden</h2>\
               <h3>The page you are trying to access is secured with Secure Sockets Layer (SSL).</h3></body></html>")
}

/// The app-pool and SSL checks every request to the service passes first.
fn iis(req: &HttpRequest, world: &World) -> Option<HttpResponse> {
    let settings = world.sage100().settings.clone();
    if !settings.app_pool_running {
        return Some(app_pool_stopped());
    }
    if settings.require_ssl && req.connection_info().scheme() != "https" {
        return Some(ssl_required());
    }
    None
}

/// What IIS answers while the eBWS application pool is stopped (facts §3.1
/// [S100-CACHE]: it is stopped for maintenance).
pub fn app_pool_stopped() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .content_type("text/html; charset=us-ascii")
        .body("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"><HTML><HEAD><TITLE>Service Unavailable</TITLE></HEAD>\
               <BODY><h2>Service Unavailable</h2><hr><p>HTTP Error 503. The service is unavailable.</p></BODY></HTML>")
}

/// `POST` on the service: one SOAP call.
pub async fn post(req: HttpRequest, body: web::Bytes, world: web::Data<World>) -> HttpResponse {
    if let Some(refused) = iis(&req, &world) {
        return refused;
    }
    // basicHttpBinding speaks SOAP 1.1 only: `text/xml`.
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !content_type.starts_with("text/xml") {
        return HttpResponse::UnsupportedMediaType().body(format!(
            "Cannot process the message because the content type '{content_type}' was not the expected type 'text/xml; charset=utf-8'."
        ));
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return Fault::client("The message is not valid UTF-8.").into_response();
    };
    let message = match xml::parse(text) {
        Ok(e) if e.name == "Envelope" => e,
        Ok(_) => return Fault::client("The message is not a SOAP envelope.").into_response(),
        Err(e) => {
            return Fault::client(format!("The message is not well-formed XML: {e}"))
                .into_response()
        }
    };
    let Some(call) = message.child("Body").and_then(|b| b.children.first()) else {
        return Fault::client("The SOAP body is empty.").into_response();
    };
    let operation = call.name.clone();
    let action = req
        .headers()
        .get("SOAPAction")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"').to_string())
        .unwrap_or_default();
    if !action.is_empty() && action != wsdl::soap_action(&operation) {
        // WCF dispatches on the action: an unknown one is refused.
        return Fault::client(format!(
            "The message with Action '{action}' cannot be processed at the receiver, due to a ContractFilter mismatch at the EndpointDispatcher."
        ))
        .into_response();
    }
    let result = {
        let mut state = world.sage100();
        ops::call(&mut state, &operation, call)
    };
    match result {
        Ok(inner) => {
            let body =
                format!("<{operation}Response xmlns=\"{NAMESPACE}\">{inner}</{operation}Response>");
            HttpResponse::Ok()
                .content_type("text/xml; charset=utf-8")
                .body(envelope(&body))
        }
        Err(fault) => {
            // Variant: eBWS hides what went wrong behind one message.
            if world.sage100().settings.hide_fault_details {
                Fault {
                    message: EXCEPTION_OCCURRED.into(),
                    ..fault
                }
                .into_response()
            } else {
                fault.into_response()
            }
        }
    }
}
