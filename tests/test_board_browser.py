"""`backlog board` in a real headless Chromium (Debian's, driven by Selenium over /usr/bin/chromedriver).

The page is loaded as a person would open it (the printed URL with its token); the tests read
what the browser shows, act through its buttons, and change the store beside it with the CLI.
"""

from __future__ import annotations

import os
import uuid as uuids
from pathlib import Path

import orjson
import pytest

from board_support import Board, start_board
from conftest import missing, run_backlog

pytestmark = pytest.mark.needs_tools
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT_S = 10


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        missing("chromium and chromium-driver are not installed; bash .ci/run installs them")
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager look for a driver online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1500,1000",
                "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def env(clean_env: dict, store_dir: Path) -> dict:
    return {**clean_env, "TASKDATA": str(store_dir), "USER": "tester"}


def imported(env: dict, tasks: list[dict]) -> None:
    """Put `tasks` (Taskwarrior JSON) in the store in one CLI import."""
    result = run_backlog(["import", "-"], env, stdin=orjson.dumps(tasks).decode())
    assert result.returncode == 0, result.stderr


@pytest.fixture
def board(env: dict, browser):
    imported(env, [
        {"uuid": "00000000-0000-4000-8000-000000000001", "description": "write the spec", "status": "pending",
         "priority": "H", "entry": "20261120T090000Z"},
        {"uuid": "00000000-0000-4000-8000-000000000002", "description": "build it", "status": "pending",
         "entry": "20261120T090000Z", "depends": "00000000-0000-4000-8000-000000000001"},
        {"uuid": "00000000-0000-4000-8000-000000000003", "description": "in progress", "status": "pending",
         "entry": "20261120T090000Z", "start": "20261123T090000Z", "agent": "claude"},
        {"uuid": "00000000-0000-4000-8000-000000000004", "description": "after the holidays", "status": "pending",
         "entry": "20261120T090000Z", "wait": "20261224T000000Z"},
        {"uuid": "00000000-0000-4000-8000-000000000005", "description": "shipped", "status": "completed",
         "entry": "20261120T090000Z", "end": "20261122T090000Z"},
        {"uuid": "00000000-0000-4000-8000-000000000006", "description": "shipped long ago", "status": "completed",
         "entry": "20261020T090000Z", "end": "20261022T090000Z"},
    ])
    running = start_board(env)
    browser.get(running.url)
    yield running
    running.stop()


def ids_in(browser, key: str) -> list[int]:
    from selenium.webdriver.common.by import By
    return [int(card.get_attribute("data-id")) for card in browser.find_elements(By.CSS_SELECTOR, f"#col-{key} .card")]


def wait_for(browser, condition) -> None:
    """Poll `condition` until true. An element found just before the page swapped its <main> for a
    pushed change is stale: that try counts as not yet, and the next finds the new one."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, WAIT_S, poll_frequency=0.2,
                  ignored_exceptions=[StaleElementReferenceException]).until(lambda driver: condition())


def test_the_board_shows_each_task_in_its_column(board: Board, browser):
    assert browser.current_url == f"{board.origin}/"  # the token left the address bar
    assert {key: ids_in(browser, key) for key in ("ready", "active", "blocked", "waiting", "done")} == {
        "ready": [1], "active": [3], "blocked": [2], "waiting": [4], "done": [5]}
    from selenium.webdriver.common.by import By
    assert "held by claude" in browser.find_element(By.ID, "col-active").text
    assert "blocked by 1" in browser.find_element(By.ID, "col-blocked").text


def test_a_task_opens_and_its_doc_renders(board: Board, browser, env: dict):
    from selenium.webdriver.common.by import By
    from backlog.runtime import open_backlog
    open_backlog(env, str(Path.cwd()), channel="cli").doc_write(1, "# The plan\n\nShip **soon**.\n")
    browser.get(f"{board.origin}/")
    browser.find_element(By.CSS_SELECTOR, '#col-ready .card[data-id="1"] a').click()
    wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "article.doc h1"))
    assert browser.find_element(By.CSS_SELECTOR, "article.doc h1").text == "The plan"
    assert browser.find_element(By.CSS_SELECTOR, "article.doc strong").text == "soon"
    assert "write the spec" in browser.find_element(By.TAG_NAME, "h1").text


def test_script_and_onerror_in_a_doc_do_not_run(board: Board, browser, env: dict):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from backlog.runtime import open_backlog
    hostile = ('<script>window.pwned = "script"; alert(1)</script>\n\n'
               '<img src="x" onerror="window.pwned = \'onerror\'; alert(2)">\n\n'
               '[click](javascript:window.pwned=3)\n\n<svg onload="window.pwned=4"></svg>\n')
    facade = open_backlog(env, str(Path.cwd()), channel="cli")
    facade.doc_write(2, hostile)
    facade.annotate(2, '**note** <img src="x" onerror="window.pwned = \'note\'">')
    facade.add('**hostile** <img src="x" onerror="window.pwned = \'description\'">')
    for page in ("/", "/activity", "/task/2"):  # ends on the task page, whose doc is checked below
        browser.get(f"{board.origin}{page}")
        wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "main strong"))
        assert browser.execute_script("return typeof window.pwned") == "undefined", page
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text
        assert browser.find_elements(By.CSS_SELECTOR, "main img") == [], page
    assert browser.find_elements(By.CSS_SELECTOR, "article.doc script, article.doc img, article.doc svg") == []
    assert "<script>" in browser.find_element(By.CSS_SELECTOR, "article.doc").text  # shown as text


def test_a_task_added_with_the_cli_appears_without_reload(board: Board, browser, env: dict):
    browser.execute_script("window.sameDocument = true")
    assert run_backlog(["add", "arrived live", "priority:H"], env).returncode == 0
    wait_for(browser, lambda: 7 in ids_in(browser, "ready"))
    assert browser.execute_script("return window.sameDocument") is True
    assert run_backlog(["7", "done"], env).returncode == 0
    wait_for(browser, lambda: 7 in ids_in(browser, "done"))
    assert browser.execute_script("return window.sameDocument") is True


def test_a_board_action_changes_the_store(board: Board, browser, env: dict):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    browser.get(f"{board.origin}/task/1")
    browser.find_element(By.ID, "act-start").click()
    wait_for(browser, lambda: browser.find_elements(By.ID, "act-stop"))
    Select(browser.find_element(By.ID, "priority")).select_by_value("L")
    browser.find_element(By.ID, "act-priority").click()
    wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, '#priority option[value="L"][selected]'))
    browser.find_element(By.ID, "note").send_keys("checked on the board")
    browser.find_element(By.ID, "act-annotate").click()
    wait_for(browser, lambda: "checked on the board" in browser.find_element(By.CSS_SELECTOR, ".notes").text)
    listed = orjson.loads(run_backlog(["+ACTIVE", "list", "--json", "--fields", "id,priority"], env).stdout)
    assert {"id": 1, "priority": "L"} in listed["tasks"]
    history = orjson.loads(run_backlog(["1", "history", "--json"], env).stdout)
    assert [(e["agent"], e["tool"]) for e in history["entries"][-3:]] == [
        ("board:tester", "board:start"), ("board:tester", "board:modify"), ("board:tester", "board:annotate")]


def test_the_graph_of_300_tasks_has_no_overlapping_boxes(env: dict, browser):
    made = [str(uuids.UUID(int=n, version=4)) for n in range(300)]
    tasks = []
    for n, uuid in enumerate(made):
        deps = sorted({made[d] for d in (n - 1, n // 2, n - 7) if 0 <= d < n and n % 5})
        tasks.append({"uuid": uuid, "description": f"task number {n}", "status": "pending",
                      "entry": "20261120T090000Z", **({"depends": ",".join(deps)} if deps else {})})
    imported(env, tasks)
    running = start_board(env)
    try:
        browser.get(running.url.replace("/?", "/graph?"))
        boxes = browser.execute_script(
            "return [...document.querySelectorAll('a.node')].map(a => {const r = a.querySelector('rect');"
            " return [a.dataset.id, +r.getAttribute('x'), +r.getAttribute('y'), +r.getAttribute('width'),"
            " +r.getAttribute('height'), a.classList[1], a.querySelector('text.status').textContent]})")
        edges = browser.execute_script(
            "return [...document.querySelectorAll('line.edge')].map(l => [l.dataset.from, l.dataset.to,"
            " +l.getAttribute('x1'), +l.getAttribute('y1'), +l.getAttribute('x2'), +l.getAttribute('y2')])")
    finally:
        running.stop()
    assert len(boxes) == 300
    assert all(kind == text for *_, kind, text in boxes)  # status as colour class and as text
    rects = sorted((x, y, x + w, y + h) for _, x, y, w, h, _, _ in boxes)
    for i, (x1, y1, x2, y2) in enumerate(rects):
        for a1, b1, a2, b2 in rects[i + 1:]:
            if a1 >= x2:
                break
            assert b1 >= y2 or b2 <= y1, f"boxes at {(x1, y1)} and {(a1, b1)} overlap"
    place = {id_: (x, y, w, h) for id_, x, y, w, h, _, _ in boxes}
    assert len(edges) == sum(len(t.get("depends", "").split(",")) for t in tasks if t.get("depends"))
    for source, target, x1, y1, x2, y2 in edges:
        sx, sy, sw, sh = place[source]
        tx, ty, tw, th = place[target]
        assert (x1, y1) == (sx + sw, sy + sh // 2) and (x2, y2) == (tx, ty + th // 2)
