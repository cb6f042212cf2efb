"""Sign the demo agent in over plain HTTP and open the inbox (used by .ci/run)."""

import http.cookiejar
import re
import sys
import urllib.parse
import urllib.request

base = sys.argv[1].rstrip("/")
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
page = opener.open(f"{base}/login/", timeout=30).read().decode()
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
form = urllib.parse.urlencode(
    {
        "username": "agent@demo.tandem.test",
        "password": "demo-agent-pass",
        "csrfmiddlewaretoken": token,
    }
).encode()
request = urllib.request.Request(f"{base}/login/", data=form, headers={"Referer": f"{base}/login/"})
response = opener.open(request, timeout=30)
inbox = response.read().decode()
assert response.geturl().rstrip("/") == base, (
    f"sign-in did not land on the inbox: {response.geturl()}"
)
assert "Sign in" not in inbox or "Sign out" in inbox, "still on the sign-in page"
numbers = re.findall(r"#(\d+)", inbox)
assert numbers, "the inbox lists no tickets"
print(f"smoke: signed in as the demo agent; inbox lists {len(numbers)} ticket references")
