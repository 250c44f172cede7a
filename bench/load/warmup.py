"""Opens every page kind of the load mix and fails unless each answers 2xx/3xx.

Each page is also requested in parallel bursts, so every gunicorn worker has imported its code
and loaded the search dictionary before the measured run starts.
"""

import re
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main(base_url, targets_path, parallel="16"):
    text = Path(targets_path).read_text(encoding="utf-8")
    category = re.search(r'categories = \{"([^"]+)"', text).group(1)
    slug, product_id = re.search(r'products = \{\{slug = "([^"]+)", id = (\d+)\}', text).groups()
    query = re.search(r'queries = \{"([^"]+)"', text).group(1)
    session = re.search(r'session = "([^"]+)"', text).group(1)
    csrf = re.search(r'csrf = "([^"]+)"', text).group(1)
    checks = [
        ("GET", "/", None, {}),
        ("GET", f"/c/{category}/", None, {}),
        ("GET", f"/p/{slug}/", None, {}),
        ("GET", f"/search/?q={query}", None, {}),
        (
            "POST",
            "/cart/add/",
            f"csrfmiddlewaretoken={csrf}&product_id={product_id}&quantity=1",
            {"Cookie": f"csrftoken={csrf}", "Content-Type": "application/x-www-form-urlencoded"},
        ),
        ("GET", "/?member=1", None, {"Cookie": f"sessionid={session}"}),
        ("GET", "/healthz", None, {}),
    ]
    opener = urllib.request.build_opener(_NoRedirect)

    def fetch(check):
        method, path, body, headers = check
        request = urllib.request.Request(
            base_url + path, data=body.encode() if body else None, method=method, headers=headers
        )
        try:
            return opener.open(request, timeout=60).status
        except urllib.error.HTTPError as error:
            return error.code

    failed = False
    for check in checks:
        status = fetch(check)
        print(f"  {check[0]} {check[1]} -> {status}", file=sys.stderr)
        failed |= status >= 400
    if not failed:
        with ThreadPoolExecutor(int(parallel)) as pool:
            statuses = list(pool.map(fetch, checks * int(parallel)))
        bad = [status for status in statuses if status >= 400]
        print(f"  warmed every worker: {len(statuses)} requests, {len(bad)} errors", file=sys.stderr)
        failed |= bool(bad)
    if failed:
        raise SystemExit("warm-up failed: a page of the mix does not answer 2xx/3xx")


if __name__ == "__main__":
    main(*sys.argv[1:4])
