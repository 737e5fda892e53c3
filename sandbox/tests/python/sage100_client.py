"""Drives the sandbox's Sage 100 eBusiness Web Services with `zeep`, a
standard SOAP client: it loads the served WSDL and calls the service as a
client of the real one would (a Logon and a company code on every call).
Prints a JSON summary.
Usage: sage100_client.py MANIFEST
"""
import datetime
import json
import sys

import zeep
from zeep.exceptions import Fault

manifest = json.load(open(sys.argv[1]))["sage100"]
client = zeep.Client(manifest["wsdl_url"])
service = client.service
logon = {"Username": manifest["username"], "Password": manifest["password"]}
company = manifest["company_code"]

contract = service.GetContractInformation()

# A customer lookup.
customer = service.GetCustomer(logon=logon, companyCode=company,
                               arDivisionNo="01", customerNo="0002000")

# A new customer.
created_customer = service.CreateCustomer(logon=logon, companyCode=company, customer={
    "ARDivisionNo": "01",
    "CustomerNo": "PYZEEP1",
    "CustomerName": "Zeep Client Co",
    "EmailAddress": "zeep@example.com",
    "City": "Austin",
    "State": "TX",
})

# A sales order: reserve a number, create, read back.
number = service.GetNextSalesOrderNo(logon=logon, companyCode=company)
created = service.CreateSalesOrder(logon=logon, companyCode=company, salesOrder={
    "SalesOrderNo": number,
    "OrderDate": datetime.datetime(2025, 3, 1),
    "ARDivisionNo": "01",
    "CustomerNo": "PYZEEP1",
    "CustomerPONo": "PY-1001",
    "Lines": {"SalesOrderLine": [
        {"ItemCode": "A1-100/0", "QuantityOrdered": 2, "UnitPrice": "12.50"},
        {"ItemCode": "A4-199/0", "QuantityOrdered": 1},
    ]},
})
order = service.GetSalesOrder(logon=logon, companyCode=company, salesOrderNo=number)

# The result "may be modified and used with the UpdateSalesOrder operation"
# (facts §3.1): send the whole object back with a change.
order.Comment = "Leave at the door"
service.UpdateSalesOrder(logon=logon, companyCode=company, salesOrder=order)
updated = service.GetSalesOrder(logon=logon, companyCode=company, salesOrderNo=number)

# Refused: a wrong password is a SOAP Fault.
try:
    service.GetCustomer(logon={"Username": manifest["username"], "Password": "wrong"},
                        companyCode=company, arDivisionNo="01", customerNo="0002000")
    refused = None
except Fault as fault:
    refused = fault.message

# An order that does not exist.
try:
    service.GetSalesOrder(logon=logon, companyCode=company, salesOrderNo="9999999")
    missing = None
except Fault as fault:
    missing = fault.message

print(json.dumps({
    "contract_version": contract.ContractVersion,
    "null_datetime": contract.NullDateTime.isoformat(),
    "customer_no": customer.CustomerNo,
    "customer_email": customer.EmailAddress,
    "created_customer": created_customer,
    "next_number": number,
    "created": created,
    "order_no": order.SalesOrderNo,
    "order_customer": order.CustomerNo,
    "order_po": order.CustomerPONo,
    "order_date": order.OrderDate.isoformat(),
    "lines": [[l.ItemCode, str(l.QuantityOrdered), str(l.ExtensionAmt)] for l in order.Lines.SalesOrderLine],
    "updated_comment": updated.Comment,
    "updated_lines": len(updated.Lines.SalesOrderLine),
    "updated_ship_expire": updated.ShipExpireDate.isoformat(),
    "refused": refused,
    "missing": missing,
}))
