"""Drives the sandbox's WooCommerce with the official `woocommerce` library.

Over plain HTTP the library signs every request with OAuth 1.0a one-legged
(HMAC-SHA256), as WooCommerce requires there. Prints a JSON summary.
Usage: woocommerce_client.py MANIFEST
"""
import json
import sys

from woocommerce import API

manifest = json.load(open(sys.argv[1]))["woocommerce"]
wcapi = API(
    url=manifest["base_url"],
    consumer_key=manifest["consumer_key"],
    consumer_secret=manifest["consumer_secret"],
    version="wc/v3",
    timeout=10,
)

# List and page to the last page, as the paging headers say.
first = wcapi.get("products", params={"per_page": 50, "page": 1})
assert first.status_code == 200, (first.status_code, first.text)
total = int(first.headers["X-WP-Total"])
pages = int(first.headers["X-WP-TotalPages"])
seen = len(first.json())
for page in range(2, pages + 1):
    response = wcapi.get("products", params={"per_page": 50, "page": page})
    assert response.status_code == 200, (page, response.status_code, response.text)
    seen += len(response.json())
past_the_end = wcapi.get("products", params={"per_page": 50, "page": pages + 1})

# Create, then find it by SKU.
created = wcapi.post("products", {
    "name": "Python client widget",
    "sku": "PY-WIDGET-1",
    "regular_price": "12.50",
    "manage_stock": True,
    "stock_quantity": 7,
})
assert created.status_code == 201, (created.status_code, created.text)
found = wcapi.get("products", params={"sku": "PY-WIDGET-1"}).json()

# A wrong secret is refused.
refused = API(url=manifest["base_url"], consumer_key=manifest["consumer_key"],
              consumer_secret="cs_wrong", version="wc/v3", timeout=10).get("products")

print(json.dumps({
    "total": total,
    "pages": pages,
    "seen": seen,
    "past_the_end": len(past_the_end.json()),
    "created_id": created.json()["id"],
    "created_price": created.json()["regular_price"],
    "found": [p["id"] for p in found],
    "refused_status": refused.status_code,
    "refused_code": refused.json().get("code"),
}))
