"""Drives the sandbox's BigCommerce with the official `bigcommerce` library
and verifies a webhook delivery with the `standardwebhooks` library.

The library builds every URL as "https://" + host + "/stores/{store_hash}/v2/{resource}",
the host coming from the BC_API_ENDPOINT environment variable (default
api.bigcommerce.com). The host can be pointed at the sandbox that way
(host "127.0.0.1:PORT/bigcommerce"), but the scheme is hard-coded to
https and the sandbox serves plain http, so this script monkeypatches
`OAuthConnection.full_path` to use "http://" and changes nothing else.
Prints a JSON summary.
Usage: bigcommerce_client.py MANIFEST
"""
import base64
import http.server
import json
import os
import sys
import threading
import time
from urllib.parse import urlsplit

import requests
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

manifest = json.load(open(sys.argv[1]))["bigcommerce"]
base = urlsplit(manifest["base_url"])
os.environ["BC_API_ENDPOINT"] = base.netloc + base.path.rstrip("/")

import bigcommerce  # noqa: E402  (reads BC_API_ENDPOINT when an API is made)
from bigcommerce import connection  # noqa: E402
from bigcommerce.exception import ClientRequestException  # noqa: E402


def full_path(self, url):
    # The library's own full_path with "http://" for "https://".
    return "http://" + self.host + self.api_path.format(self.store_hash, url)


connection.OAuthConnection.full_path = full_path

api = bigcommerce.api.BigcommerceApi(
    client_id=manifest["client_id"],
    store_hash=manifest["store_hash"],
    access_token=manifest["access_token"],
)

# (a) Orders (v2): iterall pages with limit=250 until the 204 of an empty
# page; then explicit pages of 25 until an empty answer.
iterated = [o.id for o in api.Orders.iterall()]
pages = 0
paged = 0
while True:
    page = api.Orders.all(limit=25, page=pages + 1)
    # The 204 of an empty page comes back as an empty resource object,
    # not a list (the library wraps `{}`).
    if not isinstance(page, list):
        break
    pages += 1
    paged += len(page)
rate_limit = dict(api.connection.rate_limit)
lines = api.Orders.get(iterated[0]).products()

# Products (v3 catalog): the library's connection with the v3 path.
v3 = connection.OAuthConnection(
    manifest["client_id"],
    manifest["store_hash"],
    manifest["access_token"],
    host=os.environ["BC_API_ENDPOINT"],
    api_path="/stores/{}/v3/{}",
)
first = v3.get("catalog/products", limit=250, page=1)
total_pages = first["meta"]["pagination"]["total_pages"]
products = list(first["data"])
for p in range(2, total_pages + 1):
    products.extend(v3.get("catalog/products", limit=250, page=p)["data"])

# A wrong token is refused.
bad = bigcommerce.api.BigcommerceApi(
    client_id=manifest["client_id"], store_hash=manifest["store_hash"], access_token="wrong"
)
try:
    bad.Orders.all()
    refused = None
except ClientRequestException as e:
    refused = e.status_code

# (b) A webhook delivery captured by a local receiver, verified with
# standardwebhooks as BigCommerce's docs do (secret = base64(client secret)).
captured = []


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        captured.append((dict(self.headers.items()), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
destination = "http://127.0.0.1:%d/webhooks" % server.server_address[1]
hook = v3.post("hooks", {"scope": "store/order/created", "destination": destination, "is_active": True})

control = "%s://%s/_sandbox/bigcommerce" % (base.scheme, base.netloc)
placed = requests.post(control + "/orders", json={"products": [{"sku": "A1-100/0", "quantity": 2}]}, timeout=10)
placed.raise_for_status()
deadline = time.time() + 10
while not captured and time.time() < deadline:
    time.sleep(0.05)
server.shutdown()
headers, body = captured[0]

secret = base64.b64encode(manifest["client_secret"].encode()).decode()
payload = Webhook(secret).verify(body, headers)
try:
    Webhook(base64.b64encode(b"not-the-secret").decode()).verify(body, headers)
    wrong_secret_rejected = False
except WebhookVerificationError:
    wrong_secret_rejected = True

print(json.dumps({
    "orders_iterated": len(iterated),
    "orders_paged": paged,
    "order_pages": pages,
    "rate_limit": rate_limit,
    "first_order_lines": len(lines),
    "products_total": first["meta"]["pagination"]["total"],
    "products_seen": len(products),
    "product_skus": [products[0]["sku"], products[-1]["sku"]],
    "refused_status": refused,
    "hook_id": hook["data"]["id"],
    "placed_order": placed.json()["id"],
    "verified_scope": payload["scope"],
    "verified_order": payload["data"]["id"],
    "wrong_secret_rejected": wrong_secret_rejected,
}))
