//! The WSDL (facts §3.1: published at the service URL; the path itself is
//! UNVERIFIED). Document/literal wrapped, SOAP 1.1, one port type
//! `IeBusinessWebService` as a WCF `basicHttpBinding` service publishes it;
//! the schema is generated from the contract tables of [`super::model`].

use super::model::{Field, Kind, CUSTOMER, SALES_ORDER, SALES_ORDER_LINE};
use super::xml::esc;
use super::NAMESPACE;

/// One operation: its parameters (name, schema type) and its result type.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// The operation (and wrapper element) name.
    pub name: &'static str,
    /// Parameters, in order.
    pub params: &'static [(&'static str, &'static str)],
    /// The `{name}Result` type; `None` for a void operation.
    pub result: Option<&'static str>,
}

const LOGON: (&str, &str) = ("logon", "tns:Logon");
const COMPANY: (&str, &str) = ("companyCode", "xs:string");

/// The operations served (facts §3.1: names as the API reference and the
/// TOC list them; parameters beyond `(logon, companyCode, ...)` are
/// UNVERIFIED and follow the documented `GetSalesOrder` pattern).
pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "GetContractInformation",
        params: &[],
        result: Some("tns:ContractInformation"),
    },
    Operation {
        name: "GetDiagnosticInformation",
        params: &[],
        result: Some("xs:string"),
    },
    Operation {
        name: "GetNextCustomerNo",
        params: &[LOGON, COMPANY, ("arDivisionNo", "xs:string")],
        result: Some("xs:string"),
    },
    Operation {
        name: "GetCustomer",
        params: &[
            LOGON,
            COMPANY,
            ("arDivisionNo", "xs:string"),
            ("customerNo", "xs:string"),
        ],
        result: Some("tns:Customer"),
    },
    Operation {
        name: "CreateCustomer",
        params: &[LOGON, COMPANY, ("customer", "tns:Customer")],
        result: Some("xs:string"),
    },
    Operation {
        name: "UpdateCustomer",
        params: &[LOGON, COMPANY, ("customer", "tns:Customer")],
        result: None,
    },
    Operation {
        name: "GetNextSalesOrderNo",
        params: &[LOGON, COMPANY],
        result: Some("xs:string"),
    },
    Operation {
        name: "GetSalesOrderTemplate",
        params: &[LOGON, COMPANY],
        result: Some("tns:SalesOrder"),
    },
    Operation {
        name: "PreviewSalesOrder",
        params: &[LOGON, COMPANY, ("salesOrder", "tns:SalesOrder")],
        result: Some("tns:SalesOrder"),
    },
    Operation {
        name: "CreateSalesOrder",
        params: &[LOGON, COMPANY, ("salesOrder", "tns:SalesOrder")],
        result: Some("xs:string"),
    },
    Operation {
        name: "GetSalesOrder",
        params: &[LOGON, COMPANY, ("salesOrderNo", "xs:string")],
        result: Some("tns:SalesOrder"),
    },
    Operation {
        name: "UpdateSalesOrder",
        params: &[LOGON, COMPANY, ("salesOrder", "tns:SalesOrder")],
        result: None,
    },
];

/// The port type (WCF names the contract interface).
pub const PORT_TYPE: &str = "IeBusinessWebService";

/// The `SOAPAction` of an operation.
pub fn soap_action(operation: &str) -> String {
    format!("{NAMESPACE}/{PORT_TYPE}/{operation}")
}

fn xs_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Str(_) => "xs:string",
        Kind::Decimal => "xs:decimal",
        Kind::DateTime => "xs:dateTime",
        Kind::Lines => "tns:ArrayOfSalesOrderLine",
    }
}

fn complex(name: &str, fields: &[Field], out: &mut String) {
    out.push_str(&format!("<xs:complexType name=\"{name}\"><xs:sequence>"));
    for field in fields {
        // A .NET DateTime or decimal is a value type: not nillable.
        let nillable = match field.kind {
            Kind::Str(_) | Kind::Lines => " nillable=\"true\"",
            Kind::Decimal | Kind::DateTime => "",
        };
        out.push_str(&format!(
            "<xs:element minOccurs=\"0\" name=\"{}\"{nillable} type=\"{}\"/>",
            field.name,
            xs_type(field.kind)
        ));
    }
    out.push_str("</xs:sequence></xs:complexType>");
}

fn schema(user_element: &str) -> String {
    let mut s =
        format!("<xs:schema elementFormDefault=\"qualified\" targetNamespace=\"{NAMESPACE}\">");
    s.push_str(
        "<xs:complexType name=\"Logon\"><xs:sequence>\
         <xs:element minOccurs=\"0\" name=\"{USER}\" nillable=\"true\" type=\"xs:string\"/>\
         <xs:element minOccurs=\"0\" name=\"Password\" nillable=\"true\" type=\"xs:string\"/>\
         </xs:sequence></xs:complexType>\
         <xs:complexType name=\"ContractInformation\"><xs:sequence>\
         <xs:element minOccurs=\"0\" name=\"AssemblyVersion\" nillable=\"true\" type=\"xs:string\"/>\
         <xs:element minOccurs=\"0\" name=\"ContractVersion\" type=\"xs:int\"/>\
         <xs:element minOccurs=\"0\" name=\"NullDateTime\" type=\"xs:dateTime\"/>\
         </xs:sequence></xs:complexType>\
         <xs:complexType name=\"ArrayOfSalesOrderLine\"><xs:sequence>\
         <xs:element minOccurs=\"0\" maxOccurs=\"unbounded\" name=\"SalesOrderLine\" nillable=\"true\" type=\"tns:SalesOrderLine\"/>\
         </xs:sequence></xs:complexType>"
            .replace("{USER}", user_element)
            .as_str(),
    );
    complex("Customer", CUSTOMER, &mut s);
    complex("SalesOrder", SALES_ORDER, &mut s);
    complex("SalesOrderLine", SALES_ORDER_LINE, &mut s);
    for op in OPERATIONS {
        s.push_str(&format!(
            "<xs:element name=\"{}\"><xs:complexType><xs:sequence>",
            op.name
        ));
        for (name, ty) in op.params {
            s.push_str(&format!(
                "<xs:element minOccurs=\"0\" name=\"{name}\" nillable=\"true\" type=\"{ty}\"/>"
            ));
        }
        s.push_str("</xs:sequence></xs:complexType></xs:element>");
        s.push_str(&format!(
            "<xs:element name=\"{}Response\"><xs:complexType><xs:sequence>",
            op.name
        ));
        if let Some(ty) = op.result {
            s.push_str(&format!(
                "<xs:element minOccurs=\"0\" name=\"{}Result\" nillable=\"true\" type=\"{ty}\"/>",
                op.name
            ));
        }
        s.push_str("</xs:sequence></xs:complexType></xs:element>");
    }
    s.push_str("</xs:schema>");
    s
}

/// The WSDL, with `location` as the service address and `user_element` as
/// the user-name member of `Logon`.
pub fn document(location: &str, user_element: &str) -> String {
    let mut w = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <wsdl:definitions name=\"eBusinessWebService\" targetNamespace=\"{NAMESPACE}\" \
         xmlns:wsdl=\"http://schemas.xmlsoap.org/wsdl/\" xmlns:soap=\"http://schemas.xmlsoap.org/wsdl/soap/\" \
         xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:tns=\"{NAMESPACE}\">\
         <wsdl:types>{}</wsdl:types>",
        schema(user_element)
    );
    for op in OPERATIONS {
        w.push_str(&format!(
            "<wsdl:message name=\"{PORT_TYPE}_{0}_InputMessage\"><wsdl:part name=\"parameters\" element=\"tns:{0}\"/></wsdl:message>\
             <wsdl:message name=\"{PORT_TYPE}_{0}_OutputMessage\"><wsdl:part name=\"parameters\" element=\"tns:{0}Response\"/></wsdl:message>",
            op.name
        ));
    }
    w.push_str(&format!("<wsdl:portType name=\"{PORT_TYPE}\">"));
    for op in OPERATIONS {
        w.push_str(&format!(
            "<wsdl:operation name=\"{0}\"><wsdl:input wsaw:Action=\"{1}\" message=\"tns:{PORT_TYPE}_{0}_InputMessage\" xmlns:wsaw=\"http://www.w3.org/2006/05/addressing/wsdl\"/>\
             <wsdl:output message=\"tns:{PORT_TYPE}_{0}_OutputMessage\"/></wsdl:operation>",
            op.name,
            soap_action(op.name)
        ));
    }
    w.push_str(&format!(
        "</wsdl:portType><wsdl:binding name=\"BasicHttpBinding_{PORT_TYPE}\" type=\"tns:{PORT_TYPE}\">\
         <soap:binding transport=\"http://schemas.xmlsoap.org/soap/http\"/>"
    ));
    for op in OPERATIONS {
        w.push_str(&format!(
            "<wsdl:operation name=\"{}\"><soap:operation soapAction=\"{}\" style=\"document\"/>\
             <wsdl:input><soap:body use=\"literal\"/></wsdl:input><wsdl:output><soap:body use=\"literal\"/></wsdl:output></wsdl:operation>",
            op.name,
            soap_action(op.name)
        ));
    }
    w.push_str(&format!(
        "</wsdl:binding><wsdl:service name=\"eBusinessWebService\">\
         <wsdl:port name=\"BasicHttpBinding_{PORT_TYPE}\" binding=\"tns:BasicHttpBinding_{PORT_TYPE}\">\
         <soap:address location=\"{}\"/></wsdl:port></wsdl:service></wsdl:definitions>",
        esc(location)
    ));
    w
}
