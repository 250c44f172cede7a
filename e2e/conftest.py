"""Browser journeys: one headless Chromium per session, a fresh context per test, strict console."""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item, so the page fixture knows whether to take a screenshot.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _fresh_cache(fresh_cache):
    # Rate-limit counters and cached navigation must not leak from one journey into the next.
    return


@pytest.fixture(scope="session")
def browser():
    from playwright import sync_api  # pinned in requirements.txt: missing is an error, not a skip

    if not Path(CHROMIUM).exists():
        # CI installs it and must run these; a laptop without it still runs the rest of `make test`.
        missing = f"Chromium not found at {CHROMIUM}: apt-get install chromium (see .ci/run)"
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    # Playwright's sync API runs an event loop in this thread; the ORM calls our tests make beside
    # it (seeding, assertions) are plain synchronous code, so Django's async guard does not apply.
    # Only while the browser is open: the variable must not reach `check --deploy` subprocesses.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class Tab:
    """A page plus everything that went wrong on it: console errors, page errors, CSP violations."""

    page: object
    base_url: str
    problems: list = field(default_factory=list)

    def url(self, path):
        return self.base_url + path

    def goto(self, path, *, status=200):
        response = self.page.goto(self.url(path))
        assert response is not None and response.status == status, (
            f"GET {path}: {response.status if response else 'no response'}"
        )
        self.assert_clean()
        return response

    def assert_clean(self):
        problems, self.problems[:] = list(self.problems), []
        assert not problems, "browser reported problems:\n" + "\n".join(problems)


def _open_tab(browser, base_url, viewport):
    context = browser.new_context(
        viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai", base_url=base_url
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    tab = Tab(page=page, base_url=base_url)
    page.on(
        "console",
        lambda msg: msg.type == "error" and tab.problems.append(f"console error on {page.url}: {msg.text}"),
    )
    page.on(
        "response",
        lambda resp: (
            resp.status >= 400
            and resp.request.resource_type != "document"
            and tab.problems.append(f"{resp.status} for {resp.url} on {page.url}")
        ),
    )
    page.on("pageerror", lambda exc: tab.problems.append(f"page error on {page.url}: {exc}"))
    # CSP violations also reach the console, but this catches report-only ones and says which rule.
    page.add_init_script("""
        document.addEventListener('securitypolicyviolation', e => console.error(
            'CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI));
    """)
    return context, tab


def _close_tab(context, tab, request):
    failed = any(
        getattr(request.node, f"report_{when}", None) is not None
        and getattr(request.node, f"report_{when}").failed
        for when in ("setup", "call")
    )
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        try:
            tab.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            (ARTIFACTS / f"{name}.html").write_text(tab.page.content(), encoding="utf-8")
        except Exception:  # the page may be gone; the report still has the assertion
            pass
    context.close()
    if not failed:
        tab.assert_clean()


@pytest.fixture(params=[PHONE, DESKTOP], ids=["390px", "1280px"])
def viewport(request):
    return request.param


@pytest.fixture
def tab(browser, live_server, viewport, request):
    """A fresh browser context (no cookies) at the test's width, against the live server."""
    context, tab = _open_tab(browser, live_server.url, viewport)
    yield tab
    _close_tab(context, tab, request)


@pytest.fixture
def mail_outbox():
    """The live server runs in this process, so its emails land in Django's locmem outbox."""
    from django.core import mail

    mail.outbox = []
    return mail.outbox


def confirmation_link(outbox, email):
    """The email-confirmation URL from the newest message sent to `email`."""
    for message in reversed(outbox):
        if email in message.to:
            match = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+", message.body)
            if match:
                return re.sub(r"^https?://[^/]+", "", match.group(0))
    raise AssertionError(f"no confirmation email to {email} in {len(outbox)} message(s)")
