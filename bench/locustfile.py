"""Simulated agents for `make bench`'s load section (bench/load.py starts Locust with this
file against gunicorn; it is not imported by the project).

Each simulated agent is one of the bench's seeded agents, signed in by a session the
section made (its cookie in the plan file that TANDEM_LOAD_PLAN names), and works at a
fixed pace (`TANDEM_LOAD_PACE` requests a second, Locust's constant_throughput), mixing
what agents do all day: the inbox, a ticket page, a search and a reply.

FastHttpUser (geventhttpclient), not HttpUser (requests): Locust runs on the same cores
as the server it measures, and requests' client costs several times the CPU per request.
"""

from __future__ import annotations

import json
import os
import random
import re
from http.cookiejar import Cookie
from itertools import count
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, constant_throughput, task

with open(os.environ["TANDEM_LOAD_PLAN"], encoding="utf-8") as plan_file:
    PLAN: dict[str, Any] = json.load(plan_file)
_seats = count()
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Agent(FastHttpUser):
    wait_time = constant_throughput(float(os.environ.get("TANDEM_LOAD_PACE", "2.6")))

    def on_start(self) -> None:
        seat = PLAN["agents"][next(_seats) % len(PLAN["agents"])]
        self.rng = random.Random(seat["session"])
        self.tickets: list[int] = seat["tickets"]
        self.reply_tickets: list[int] = seat["reply_tickets"]
        self.client.cookiejar.set_cookie(_cookie("sessionid", seat["session"]))
        self.csrf = ""

    @task(4)
    def inbox(self) -> None:
        self.client.get(PLAN["inbox"], name="inbox")

    @task(4)
    def ticket_page(self) -> None:
        number = self.rng.choice(self.tickets)
        with self.client.get(f"/tickets/{number}/", name="ticket page", catch_response=True) as r:
            found = _CSRF.search(r.text)
            if found:
                self.csrf = found.group(1)
            else:
                r.failure("no CSRF token on the ticket page")

    @task(1)
    def search(self) -> None:
        self.client.get(PLAN["search"], params={"q": self.rng.choice(PLAN["terms"])}, name="search")

    @task(1)
    def reply(self) -> None:
        if not self.csrf:
            self.ticket_page()
        number = self.rng.choice(self.reply_tickets)
        self.client.post(
            f"/tickets/{number}/reply/",
            data=urlencode(
                {
                    "body": "Thanks for the details, we are looking into it.",
                    "cc": "",
                    "status_after": "pending",
                    "csrfmiddlewaretoken": self.csrf,
                }
            ),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "HX-Request": "true",
                "Referer": f"{self.host}/tickets/{number}/",
            },
            name="reply",
        )


def _cookie(name: str, value: str) -> Cookie:
    return Cookie(
        version=0,
        name=name,
        value=value,
        port=None,
        port_specified=False,
        domain="127.0.0.1",
        domain_specified=False,
        domain_initial_dot=False,
        path="/",
        path_specified=True,
        secure=False,
        expires=None,
        discard=True,
        comment=None,
        comment_url=None,
        rest={},
    )
