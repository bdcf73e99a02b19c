"""The operator console in a real browser: headless Chromium through WebDriver (Selenium).

`scripts/browser-tests` runs this file against `fastest-shop dev` (serve, scheduler, two workers
and the mock payment provider) on PostgreSQL and Redis of its own. The state each test needs is
prepared through the HTTP API; the figures each page shows are compared with what the API (or,
where the API has no listing, PostgreSQL) says at the same moment. Every page is photographed
into .fastest/screenshots/, and a page with a JavaScript console error fails its test.
"""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCREENSHOTS = os.path.join(REPO, ".fastest", "screenshots")
BIN = os.path.join(REPO, os.environ.get("FASTEST_SHOP_BIN", ".build/debug/fastest-shop"))
WAIT_SECONDS = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(what, check, seconds=WAIT_SECONDS):
    """Polls `check` until it returns something true; fails naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.25)


class Stack:
    """`fastest-shop dev` on the services scripts/browser-tests started."""

    def __init__(self):
        self.port = free_port()
        self.log = open(os.path.join(REPO, ".fastest", "browser-dev.log"), "w")
        self.process = subprocess.Popen(
            # Line-buffered: `dev` prints its operator login once, to a pipe here.
            ["stdbuf", "-oL", BIN, "dev", "--port", str(self.port), "--payments-port", str(free_port()),
             "--metrics-port", str(free_port()),
             # The diagnostics queue too, for the probe jobs the dead-job test kills.
             "--set", "worker.queues=drops,payments,diagnostics"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.url = f"http://127.0.0.1:{self.port}"
        self.email = self.password = None
        deadline = time.monotonic() + 120
        for line in self.process.stdout:
            match = re.search(r"operator\s+(\S+@\S+) / (\S+)", line)
            if match:
                self.email, self.password = match.group(1), match.group(2)
                break
            if time.monotonic() > deadline:
                break
        if not self.email:
            self.stop()
            pytest.fail("fastest-shop dev did not start (see .fastest/browser-dev.log)")
        self.operator_token = self.login(self.email, self.password)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def api(self, method, path, body=None, token=None, expect=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        if expect is not None:
            assert status == expect, f"{method} {path}: {status} {text}"
        return json.loads(text) if text else None

    def login(self, email, password):
        return self.api("POST", "/v1/auth/login", {"email": email, "password": password}, expect=200)["access_token"]

    def customer(self):
        email, password = f"c-{uuid.uuid4().hex[:10]}@browser.test", "browser-test-password-1"
        self.api("POST", "/v1/auth/signup", {"email": email, "password": password}, expect=201)
        return email, password, self.login(email, password)

    def draw(self, stock, closes_in_seconds=3600, customers=0):
        """An open draw with `customers` entries. The customers sign up first (bcrypt takes its
        time), so a short window still takes all their entries."""
        tokens = [self.customer()[2] for _ in range(customers)]
        product = self.api("POST", "/v1/products", {"name": "Browser sneaker", "price_cents": 15000, "currency": "EUR"},
                           token=self.operator_token, expect=201)
        now = datetime.now(timezone.utc)
        drop = self.api("POST", "/v1/drops", {
            "product_id": product["id"], "kind": "draw", "stock": stock,
            "opens_at": (now - timedelta(seconds=1)).isoformat(), "waitlist_depth": 2,
            "closes_at": (now + timedelta(seconds=closes_in_seconds)).isoformat(),
        }, token=self.operator_token, expect=201)
        assert drop["status"] == "open"
        for token in tokens:
            self.api("POST", f"/v1/drops/{drop['id']}/entries", {}, token=token, expect=201)
        return drop["id"]

    def all_drops(self, status):
        drops, after = [], None
        while True:
            page = self.api("GET", f"/v1/drops?status={status}&limit=500" + (f"&after={after}" if after else ""),
                            token=self.operator_token, expect=200)
            drops += page["drops"]
            after = page.get("next_after")
            if not after:
                return drops

    def sql(self, query):
        """One value from PostgreSQL, for figures the API does not list (charge outcomes)."""
        env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=os.environ["FASTEST_SHOP_POSTGRES_PORT"],
                   PGUSER=os.environ.get("FASTEST_SHOP_POSTGRES_USER", "fastest"),
                   PGDATABASE=os.environ.get("FASTEST_SHOP_POSTGRES_DATABASE", "fastest_shop"),
                   PGPASSWORD=os.environ.get("FASTEST_SHOP_POSTGRES_PASSWORD", ""))
        return subprocess.run(["psql", "-tAX", "-c", query], env=env, check=True, capture_output=True, text=True).stdout.strip()

    def redis(self, *arguments):
        # The password through the environment, never on the command line.
        env = dict(os.environ, REDISCLI_AUTH=os.environ.get("FASTEST_SHOP_REDIS_PASSWORD", ""))
        return subprocess.run(["redis-cli", "-p", os.environ["FASTEST_SHOP_REDIS_PORT"], *arguments],
                              env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def stack():
    running = Stack()
    yield running
    running.stop()


class Browser:
    """One Chromium; every page it loads is photographed and checked for console errors."""

    def __init__(self, stack):
        self.stack = stack
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1800",
                         "--disable-gpu"]:
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(30)

    def open(self, path):
        self.driver.get(self.stack.url + path)

    def shot(self, name, refused_status=None):
        """Saves the page's screenshot and fails on its console errors. A page the test expects
        to be refused (`refused_status`) logs its own status as a failed load; only that is allowed."""
        os.makedirs(SCREENSHOTS, exist_ok=True)
        self.driver.save_screenshot(os.path.join(SCREENSHOTS, name + ".png"))
        errors = [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]
        if refused_status is not None:
            errors = [entry for entry in errors if f"status of {refused_status}" not in entry["message"]]
        assert errors == [], f"console errors on {name}: {errors}"

    def submit(self, button):
        """Clicks a form's button and waits for the page it leads to (a click returns before
        the navigation it starts has finished)."""
        old_page = self.driver.find_element(By.TAG_NAME, "html")
        button.click()

        def left_old_page(_):
            # Chromium reports a node of a page that has gone either as stale or, while the new
            # page replaces the old one, as "does not belong to the document": both mean gone.
            try:
                old_page.is_enabled()
                return False
            except WebDriverException:
                return True

        WebDriverWait(self.driver, 30).until(left_old_page)

    def text(self, element_id):
        return self.driver.find_element(By.ID, element_id).text

    def sign_in(self, email, password):
        self.open("/console/login")
        self.driver.find_element(By.ID, "email").send_keys(email)
        self.driver.find_element(By.ID, "password").send_keys(password)
        self.submit(self.driver.find_element(By.ID, "sign-in"))

    def path(self):
        return "/" + self.driver.current_url.split("/", 3)[3]

    def table(self, table_id):
        """A table's rows as lists of cell texts, header row left out."""
        rows = self.driver.find_element(By.ID, table_id).find_elements(By.TAG_NAME, "tr")[1:]
        return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]

    def quit(self):
        self.driver.quit()


@pytest.fixture
def browser(stack):
    running = Browser(stack)
    yield running
    running.quit()


@pytest.fixture
def operator(browser, stack):
    browser.sign_in(stack.email, stack.password)
    assert browser.path() == "/console"
    browser.shot("overview-after-sign-in")
    return browser


def test_a_customer_cannot_sign_in(browser, stack):
    email, password, _ = stack.customer()
    browser.sign_in(email, password)
    assert browser.path() == "/console/login"
    assert "not an operator account" in browser.text("error")
    browser.shot("customer-refused", refused_status=401)
    browser.open("/console")
    assert browser.path() == "/console/login"


def test_each_page_shows_what_the_api_says(operator, stack):
    browser = operator
    mid_entry = stack.draw(stock=3, customers=4)

    browser.open("/console")
    browser.shot("overview")
    assert int(browser.text("drops-open")) == len(stack.all_drops("open"))
    assert int(browser.text("drops-scheduled")) == len(stack.all_drops("scheduled"))
    assert int(browser.text("workers-alive")) == 2

    browser.open(f"/console/drops/{mid_entry}")
    browser.shot("drop-mid-entry")
    drop = stack.api("GET", f"/v1/drops/{mid_entry}")
    assert browser.text("drop-status") == drop["status"] == "open"
    assert int(browser.text("stock-available")) == drop["available"] == 3
    assert int(browser.text("stock-held")) == drop["held"]
    assert int(browser.text("stock-sold")) == drop["sold"]
    assert int(browser.text("entry-count")) == drop["entry_count"] == 4
    assert browser.text("commitment") == drop["commitment"]
    assert browser.driver.find_elements(By.CSS_SELECTOR, "svg.chart"), "the entries chart is drawn"

    browser.open("/console/drops?status=open")
    browser.shot("drops-open")
    listed = [int(row.get_attribute("data-drop-id")) for row in browser.driver.find_elements(By.CSS_SELECTOR, "tr.drop-row")]
    assert listed == [d["id"] for d in stack.all_drops("open")][:50]

    # Payments: draws whose winners are charged by the dev provider, which declines about a
    # fifth of the charges; more draws until one was declined (ten charges each).
    # Each draw is waited for until it is settled (closed, drawn, every charge answered): a
    # condition that only looked at drops already past their closing time held at once, before
    # the new draw had closed, and the page was then read before any charge was declined.
    for _ in range(5):
        draw_id = stack.draw(stock=10, closes_in_seconds=5, customers=10)
        eventually("the draw's charges to settle", lambda: stack.sql(
            f"SELECT status FROM drops WHERE id = {int(draw_id)}") == "settled", seconds=120)
        if int(stack.sql("SELECT count(*) FROM orders WHERE failure = 'declined'")) > 0:
            break
    browser.open("/console/payments")
    browser.shot("payments")
    shown = {row[0]: int(row[1]) for row in browser.table("outcomes") if len(row) == 2}
    stored = dict(line.split("|") for line in stack.sql(
        "SELECT outcome, count(*) FROM charge_attempts WHERE at > now() - interval '60 minutes' GROUP BY outcome").splitlines())
    assert shown == {outcome: int(count) for outcome, count in stored.items()}
    # A declined charge: the provider's answer is recorded as a failed attempt, the order fails.
    assert shown.get("failed", 0) > 0
    orders = {row[0]: int(row[1]) for row in browser.table("orders-by-state") if len(row) == 2}
    stored_orders = dict(line.split("|") for line in stack.sql("SELECT status, count(*) FROM orders GROUP BY status").splitlines())
    assert orders == {status: int(count) for status, count in stored_orders.items()}
    assert orders.get("failed", 0) > 0
    reasons = {row[0]: int(row[1]) for row in browser.table("failure-reasons") if len(row) == 2}
    assert reasons.get("declined", 0) == int(stack.sql("SELECT count(*) FROM orders WHERE status = 'failed' AND failure = 'declined'")) > 0
    assert sum(reasons.values()) == orders["failed"]
    # Provider latency over the charge answers the workers timed, as PostgreSQL computes it.
    p50, p99 = stack.sql(
        "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms))::bigint, "
        "round(percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms))::bigint "
        "FROM charge_attempts WHERE at > now() - interval '60 minutes'").split("|")
    assert p50 != "", "the workers time the provider's answers"
    assert browser.text("latency-p50") == f"{p50} ms"
    assert browser.text("latency-p99") == f"{p99} ms"
    assert int(browser.text("late-successes")) == int(stack.sql(
        "SELECT count(*) FROM refunds WHERE reason = 'late_success' AND requested_at > now() - interval '60 minutes'"))

    browser.open("/console/queues")
    browser.shot("queues")
    workers = browser.table("workers")
    assert len([row for row in workers if row[-1] == "yes"]) == 2


def test_a_drop_closed_from_the_console_is_drawn(operator, stack):
    browser = operator
    drop_id = stack.draw(stock=2, customers=5)
    browser.open(f"/console/drops/{drop_id}")
    browser.submit(browser.driver.find_element(By.ID, "close-now"))
    assert "closes now" in browser.text("notice")
    browser.shot("drop-closing")

    def drawn():
        browser.open(f"/console/drops/{drop_id}")
        return browser.text("drop-status") in ("drawn", "settled")
    eventually("the draw", drawn)
    browser.shot("drop-drawn")
    assert browser.driver.find_elements(By.ID, "verified"), "the stored result matches the recomputation"
    bundle = stack.api("GET", f"/v1/drops/{drop_id}/audit", expect=200)
    assert browser.text("seed") == bundle["seed"]
    assert browser.text("entries-digest") == bundle["entries_digest"]
    assert [int(row[1]) for row in browser.table("winners")] == bundle["winners"]
    assert [int(row[1]) for row in browser.table("waitlist") if len(row) == 3] == bundle["waitlist"]
    assert browser.driver.find_element(By.ID, "bundle-link").get_attribute("href").endswith(f"/v1/drops/{drop_id}/audit")


def test_a_dead_job_retried_from_queues_runs(operator, stack):
    browser = operator
    key = "browser-probe-" + uuid.uuid4().hex[:8]
    job_id = "probe-" + uuid.uuid4().hex[:12]
    # A probe that fails its five attempts (jobs/probe.json) and succeeds on its sixth start.
    payload = json.dumps({"key": key, "fail_times": 5})
    envelope = f"v1|{job_id}|probe|diagnostics|1|5|5000|{int(time.time() * 1000)}||{payload}"
    stack.redis("SADD", "fs:jobs:{jobs}:queues", "diagnostics")
    stack.redis("RPUSH", "fs:jobs:{diagnostics}:q", envelope)

    def dead():
        browser.open("/console/queues")
        return browser.driver.find_elements(By.CSS_SELECTOR, f"tr.dead-job[data-job-id='{job_id}']")
    row = eventually("the probe to die", dead)[0]
    browser.shot("queues-dead-job")
    assert "probe asked to fail" in row.text
    assert stack.redis("GET", key + ":completions") == ""
    # The queue's row says what Redis holds: its dead jobs, and the probe's five failed attempts
    # (four retried, the last buried) among the failed of the last hour.
    queue_row = browser.driver.find_element(By.CSS_SELECTOR, "#queues tr[data-queue='diagnostics']")
    dead_here = [env for env in stack.redis("HVALS", "fs:jobs:{diagnostics}:dead:jobs").splitlines() if env.split("|")[3:4] == ["diagnostics"]]
    assert int(queue_row.find_element(By.CSS_SELECTOR, "td.dead").text) == len(dead_here) >= 1
    assert int(queue_row.find_element(By.CSS_SELECTOR, "td.failed-hour").text) >= 5
    browser.submit(row.find_element(By.CSS_SELECTOR, "button.retry"))
    assert "re-queued" in browser.text("notice")
    eventually("the retried probe to run", lambda: stack.redis("GET", key + ":completions") == "1")
    browser.open("/console/queues")
    browser.shot("queues-after-retry")
    assert not browser.driver.find_elements(By.CSS_SELECTOR, f"tr.dead-job[data-job-id='{job_id}']")


def test_an_order_refunded_and_a_drop_cancelled_from_the_console(operator, stack):
    browser = operator
    # A paid order: a short draw whose winners the dev provider charges (some are declined).
    for _ in range(5):
        drawn_id = stack.draw(stock=3, closes_in_seconds=5, customers=3)
        eventually("the draw's charges to settle", lambda: stack.sql(
            f"SELECT status FROM drops WHERE id = {int(drawn_id)}") == "settled", seconds=120)
        paid = stack.sql(f"SELECT min(id) FROM orders WHERE drop_id = {int(drawn_id)} AND status = 'paid'")
        if paid:
            break
    assert paid, "one of the draws' charges succeeded"
    browser.open(f"/console/drops/{drawn_id}")
    row = browser.driver.find_element(By.CSS_SELECTOR, f"#orders tr[data-order-id='{paid}']")
    assert row.find_element(By.CSS_SELECTOR, "td.order-state").text == "paid"
    browser.submit(row.find_element(By.CSS_SELECTOR, "button.refund"))
    assert "refunded" in browser.text("notice")
    browser.shot("drop-order-refunded")
    state = browser.driver.find_element(By.CSS_SELECTOR, f"#orders tr[data-order-id='{paid}'] td.order-state").text
    assert state in ("refund_pending", "refunded")
    assert stack.sql(f"SELECT count(*) FROM refunds WHERE order_id = {int(paid)} AND reason = 'operator'") == "1"

    open_id = stack.draw(stock=2, customers=2)
    browser.open(f"/console/drops/{open_id}")
    browser.submit(browser.driver.find_element(By.ID, "cancel-drop"))
    assert "cancelled" in browser.text("notice")
    browser.shot("drop-cancelled")
    assert browser.text("drop-status") == stack.api("GET", f"/v1/drops/{open_id}")["status"] == "cancelled"
    assert not browser.driver.find_elements(By.ID, "cancel-drop")


def test_a_post_without_the_csrf_token_is_refused(operator, stack):
    browser = operator
    drop_id = stack.draw(stock=1)
    closes_at = stack.api("GET", f"/v1/drops/{drop_id}")["closes_at"]
    browser.open(f"/console/drops/{drop_id}")
    # What a forged cross-site form would send: the right fields, no token.
    browser.driver.execute_script("document.querySelector('#close-form input[name=csrf]').value = ''")
    browser.submit(browser.driver.find_element(By.ID, "close-now"))
    assert "CSRF" in browser.text("message")
    browser.shot("csrf-refused", refused_status=403)
    # Close now brings closes_at forward; refused, it left the drop as it was.
    drop = stack.api("GET", f"/v1/drops/{drop_id}")
    assert drop["status"] == "open" and drop["closes_at"] == closes_at


def test_after_sign_out_pages_redirect_to_sign_in(operator):
    browser = operator
    browser.submit(browser.driver.find_element(By.ID, "sign-out"))
    assert browser.path() == "/console/login"
    browser.shot("signed-out")
    for page in ["/console", "/console/drops", "/console/queues", "/console/payments"]:
        browser.open(page)
        assert browser.path() == "/console/login", page
