"""Opens every page kind of the load mix once and fails unless each answers 2xx/3xx."""
import re
import sys
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main(base_url, targets_path):
    text = open(targets_path, encoding="utf-8").read()
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
        ("POST", "/cart/add/", f"csrfmiddlewaretoken={csrf}&product_id={product_id}&quantity=1",
         {"Cookie": f"csrftoken={csrf}", "Content-Type": "application/x-www-form-urlencoded"}),
        ("GET", "/?member=1", None, {"Cookie": f"sessionid={session}"}),
        ("GET", "/healthz", None, {}),
    ]
    opener = urllib.request.build_opener(_NoRedirect)
    failed = False
    for method, path, body, headers in checks:
        request = urllib.request.Request(base_url + path, data=body.encode() if body else None,
                                         method=method, headers=headers)
        try:
            status = opener.open(request, timeout=30).status
        except urllib.error.HTTPError as error:
            status = error.code
        print(f"  {method} {path} -> {status}", file=sys.stderr)
        failed |= status >= 400
    if failed:
        raise SystemExit("warm-up failed: a page of the mix does not answer 2xx/3xx")


if __name__ == "__main__":
    main(*sys.argv[1:3])
