"""Screenshots of the main screens in light and dark mode, for docs/design.md.

Run against a server holding the demo data (`make run`, or `manage.py seed_demo` and
`manage.py runserver`):

    python docs/design/screenshots.py http://127.0.0.1:8000 docs/design

It signs in as the demo agent, manager and customer, and writes one PNG per screen and
scheme (1200x720, the visible part of the page: about 150 KB each).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
DOMAIN = "demo.tandem.test"
SCREENS = [
    # (file name, who signs in, path)
    ("inbox", "agent", "/"),
    ("ticket", "agent", "/tickets/{ticket}/"),
    ("dashboard", "manager", "/dashboards/support/"),
    ("portal", "customer", "/portal/requests/"),
    ("kb", None, "/help/"),
    ("kb-editor", "agent", "/kb/{article}/edit/"),
]
PASSWORDS = {"agent": "demo-agent-pass", "manager": "demo-manager-pass"}


def _sign_in(page: Page, base: str, who: str) -> None:
    if who == "customer":
        page.goto(f"{base}/portal/sign-in/")
        form = page.locator("form", has=page.get_by_role("button", name="Sign in with password"))
        form.get_by_label("Email").fill(f"customer@{DOMAIN}")
        form.get_by_label("Password").fill("demo-customer-pass")
        form.get_by_role("button", name="Sign in with password").click()
    else:
        page.goto(f"{base}/login/")
        page.get_by_label("Username").fill(f"{who}@{DOMAIN}")
        page.get_by_label("Password").fill(PASSWORDS[who])
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def main(base: str, out: Path, only: set[str] | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
        )
        for scheme in ("light", "dark"):
            pages: dict[str | None, Page] = {}
            for name, who, path in SCREENS:
                if only and name not in only:
                    continue
                if who not in pages:
                    context = browser.new_context(
                        viewport={"width": 1200, "height": 720}, color_scheme=scheme
                    )
                    pages[who] = context.new_page()
                    if who:
                        _sign_in(pages[who], base, who)
                page = pages[who]
                if "{ticket}" in path:
                    page.goto(f"{base}/?view=open")
                    path = page.locator("a.subject").first.get_attribute("href") or "/"
                if "{article}" in path:
                    page.goto(f"{base}/kb/")
                    edit = page.locator("a[href$='/edit/']").first.get_attribute("href")
                    path = edit or "/kb/"
                page.goto(f"{base}{path}")
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(out / f"{name}-{scheme}.png"))
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), set(sys.argv[3:]) or None)
