"""Schemathesis against the live API with a member's token: no 5xx and no response outside the schema.

Runs in CI with `make test` (a few minutes at most on two cores). Examples per operation come from
API_FUZZ_MAX_EXAMPLES (default 10); a failing run prints schemathesis' report, with a command to
reproduce each failure.
"""

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from rest_framework.throttling import SimpleRateThrottle

from members.models import CouponTemplate
from members.services.points import points_staff_adjust
from members.tests.factories import AddressFactory, CategoryFactory, ProductFactory
from shop.models import Brand
from shop.services.cart import cart_add, cart_get_or_create
from shop.services.checkout import order_place

from .api_support import client_for, member_make

MAX_EXAMPLES = int(os.environ.get("API_FUZZ_MAX_EXAMPLES", "10"))
SCHEMATHESIS = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"


def catalogue_and_member():
    """Enough data for the fuzzer to reach past 404s: products, a cart, an address, points, a coupon,
    an unpaid order; returns the member and the ids the fuzzer should try besides random ones."""
    phones = CategoryFactory(name="手机", slug="phones")
    brand = Brand.objects.create(name="极米", slug="acme")
    products = [
        ProductFactory(
            category=phones, brand=brand, slug=f"phone-{i}", price=Decimal("99.00") + i, stock=1000
        )
        for i in range(5)
    ]
    member = member_make()
    points_staff_adjust(user=member, delta=5000, staff=member, note="fuzz")
    template = CouponTemplate.objects.create(
        name="立减5元", amount=Decimal("5.00"), is_claimable=True, per_member_limit=100
    )
    address = AddressFactory(user=member)
    cart = cart_get_or_create(user=member)
    cart_add(cart=cart, product_id=products[0].pk, quantity=1)
    order = order_place(
        user=member,
        cart=cart,
        address={
            "recipient_name": "张三",
            "phone": "13800138000",
            "province": "上海市",
            "city": "上海市",
            "address_line": "世纪大道1号",
        },
        shipping_method="standard",
        idempotency_key="fuzz-order-1",
    )
    cart_add(cart=cart, product_id=products[1].pk, quantity=1)
    known = {
        "slug": [p.slug for p in products],
        "product_id": [p.pk for p in products],
        "template_id": [template.pk],
        "address_id": [address.pk],
        "number": [order.number],
    }
    return member, known


def schemathesis_config(known: dict) -> str:
    """Path parameters take a known id half of the time and a generated value otherwise."""
    lines = ["[dictionaries]"]
    lines += [f"{name} = {{ values = {json.dumps(values)} }}" for name, values in known.items()]
    lines += ["", "[parameters]"]
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}' for name in known]
    return "\n".join(lines) + "\n"


@pytest.mark.django_db(transaction=True)
def test_fuzzing_the_api_finds_no_server_errors_and_no_schema_violations(live_server, monkeypatch, tmp_path):
    # given a member with a token, some catalogue, and throttles out of the fuzzer's way
    # (429s are covered by test_api_errors; here they would only hide the endpoints behind them)
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {scope: "100000/min" for scope in ("anon", "user", "events", "auth_token")},
    )
    member, known = catalogue_and_member()
    token = client_for(member)._credentials["HTTP_AUTHORIZATION"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(schemathesis_config(known))

    # when schemathesis runs every operation (but revoking the token, which would end the run early)
    command = [
        SCHEMATHESIS,
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{live_server.url}/api/schema/",
        "--header",
        f"Authorization: {token}",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--exclude-operation-id",
        "v1_auth_token_destroy",
        "--workers",
        "1",
        "--seed",
        "20261122",
        "--request-timeout",
        "20",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=900, env={**os.environ, "SCHEMATHESIS_HOOKS": ""}
    )

    # then it finds nothing
    print(result.stdout[-3000:])  # the summary: operations, test cases, time (pytest -s shows it)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert "passed" in result.stdout
