"""Demo help-center content for `make run` (called from seed_demo)."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from kb.models import Article, ArticleStatus, Category, SearchQueryLog, Section, Visibility
from kb.services import record_feedback, save_article
from tickets.models import User

TOPICS: list[tuple[str, str, str, list[tuple[str, list[tuple[str, str]]]]]] = [
    (
        "Getting started",
        "getting-started",
        "Set up your account and invite your team.",
        [
            (
                "First steps",
                [
                    (
                        "Welcome: your first ten minutes",
                        "Sign in, invite a colleague and send your first request.\n\n"
                        "1. Open **Settings → Team** and press **Invite**.\n"
                        "2. Add your company logo under **Settings → Branding**.\n"
                        "3. Try the help center search: most answers are one search away.",
                    ),
                    (
                        "How do I add a second admin?",
                        "Admins manage users and billing. To add one:\n\n"
                        "1. Go to **Settings → Team**.\n2. Choose the colleague.\n"
                        "3. Set their role to **Admin** and save.\n\n"
                        "Only an existing admin can promote someone.",
                    ),
                    (
                        "Inviting your team",
                        "Invitations are sent by email and expire after 7 days. "
                        "Resend one from **Settings → Team → Pending**.",
                    ),
                ],
            ),
            (
                "Mobile app",
                [
                    (
                        "Mobile app crashes on start",
                        "If the Android app closes right after the splash screen:\n\n"
                        "- Update to the latest version from the Play Store.\n"
                        "- Clear the app cache: **Settings → Apps → Tandem → Storage**.\n"
                        "- Restart the phone.\n\nStill crashing? Send us a request with your "
                        "phone model and Android version.",
                    ),
                    (
                        "Using dark mode",
                        "Dark mode follows your phone's system setting. On the web, choose "
                        "**Profile → Appearance → Dark**.",
                    ),
                ],
            ),
        ],
    ),
    (
        "Account & sign-in",
        "account",
        "Passwords, two-factor sign-in and single sign-on.",
        [
            (
                "Signing in",
                [
                    (
                        "Reset your password",
                        "Forgot your password? On the sign-in page press **Forgot password** "
                        "and we will email you a reset link. The link works for one hour.\n\n"
                        "If the sign-in page still says the password is wrong after a reset, "
                        "clear your browser's saved passwords for our site and type it again.",
                    ),
                    (
                        "Turn on two-factor sign-in",
                        "Open **Profile → Security**, press **Enable two-factor** and scan the "
                        "QR code with an authenticator app. Keep the backup codes somewhere safe.",
                    ),
                    (
                        "Lost your two-factor device",
                        "Use one of your backup codes to sign in, then set up the new device. "
                        "No backup codes? Ask an admin of your company to reset two-factor.",
                    ),
                ],
            ),
            (
                "Single sign-on",
                [
                    (
                        "SSO setup with Okta (SAML)",
                        "1. In Okta, add a SAML 2.0 app.\n"
                        "2. Set the ACS URL to `https://app.example.com/sso/acs`.\n"
                        "3. Upload Okta's metadata under **Settings → Security → SSO**.\n\n"
                        "If the assertion is rejected, check that the clocks of both systems "
                        "agree and that the NameID format is *email address*.",
                    ),
                    (
                        "SSO troubleshooting checklist (agents)",
                        "Ask for the SAML response (browser dev tools → Network). Check the "
                        "audience, the certificate fingerprint and clock skew. Escalate to "
                        "engineering with the response attached.",
                    ),
                ],
            ),
        ],
    ),
    (
        "Billing",
        "billing",
        "Invoices, payments, refunds and plans.",
        [
            (
                "Invoices",
                [
                    (
                        "Change the VAT number on invoices",
                        "Update the VAT number under **Settings → Billing → Company details**. "
                        "New invoices use it right away; ask us to reissue older invoices.",
                    ),
                    (
                        "Change your billing address",
                        "Admins can change the billing address under **Settings → Billing**. "
                        "The next invoice shows the new address.",
                    ),
                    (
                        "Download past invoices",
                        "All invoices are listed under **Settings → Billing → Invoices** as PDF.",
                    ),
                ],
            ),
            (
                "Payments and refunds",
                [
                    (
                        "Why did my card payment fail?",
                        "Common reasons: the card expired, 3-D Secure was not completed, or "
                        "the bank blocked an international payment. Try again, or pay by "
                        "bank transfer from **Settings → Billing → Payment method**.",
                    ),
                    (
                        "Refund for a duplicate charge",
                        "Charged twice? Duplicate charges are refunded automatically within "
                        "5 working days. If you still see both after that, send us a request "
                        "with the two transaction ids.",
                    ),
                ],
            ),
        ],
    ),
    (
        "Integrations & API",
        "integrations",
        "Webhooks, the REST API and exports.",
        [
            (
                "API",
                [
                    (
                        "API rate limits (429 Too Many Requests)",
                        "The API allows 1,200 requests per minute per token. When you get a "
                        "`429`, wait for the number of seconds in the `Retry-After` header.\n\n"
                        "Batch reads with `page_size` up to 200 to use fewer requests.",
                    ),
                    (
                        "Create an API token",
                        "Admins create tokens under **Settings → API**. Send it as "
                        "`Authorization: Token <key>`.",
                    ),
                ],
            ),
            (
                "Webhooks and exports",
                [
                    (
                        "Webhook deliveries are delayed",
                        "Webhooks are retried with backoff when your endpoint answers slowly "
                        "or with an error. Answer within 5 seconds with a `2xx` status, and "
                        "do slow work after answering.",
                    ),
                    (
                        "Export orders to CSV",
                        "Exports of more than a year of orders run in the background; you get "
                        "an email with the download link when the file is ready.",
                    ),
                    (
                        "Connecting Slack",
                        "Open **Settings → Integrations → Slack** and press **Connect**.",
                    ),
                ],
            ),
        ],
    ),
]
UNANSWERED = ["cancel subscription", "teleport data to mars", "gdpr data export", "invoice in euro"]


def load_demo_articles(author: User, rng: random.Random) -> None:
    articles: list[Article] = []
    for position, (name, slug, description, sections) in enumerate(TOPICS):
        category = Category.objects.create(
            name=name, slug=slug, description=description, position=position
        )
        for section_position, (section_name, items) in enumerate(sections):
            section = Section.objects.create(
                category=category, name=section_name, position=section_position
            )
            for title, body in items:
                internal = "(agents)" in title
                articles.append(
                    save_article(
                        Article(),
                        editor=author,
                        title=title.replace(" (agents)", ""),
                        section=section,
                        body_markdown=body,
                        status=ArticleStatus.PUBLISHED,
                        visibility=Visibility.INTERNAL if internal else Visibility.PUBLIC,
                    )
                )
    save_article(
        Article(),
        editor=author,
        title="Plans and pricing (draft)",
        section=articles[-1].section,
        body_markdown="Work in progress.",
    )
    by_title = {article.title: article for article in articles}
    by_title["Reset your password"].related.set(
        [by_title["Turn on two-factor sign-in"], by_title["Lost your two-factor device"]]
    )
    for article in articles:
        Article.objects.filter(pk=article.pk).update(view_count=rng.randint(5, 400))
        for voter in range(rng.randint(0, 6)):
            record_feedback(
                article,
                helpful=rng.random() < 0.75,
                voter_key=f"demo:{voter}",
                comment=rng.choice(["", "", "Screenshots would help.", "Exactly what I needed!"]),
            )
    now = timezone.now()
    for query in UNANSWERED:
        for _ in range(rng.randint(1, 5)):
            SearchQueryLog.objects.create(
                query=query,
                normalized=query,
                source="help",
                result_count=0,
                at=now - timedelta(days=rng.uniform(0, 20)),
            )
