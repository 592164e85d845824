"""A trainer and a trainee in one replay session, in two headless Chromium windows, on the full stack.

The trainer opens a session over the recorded period on /replay and drives it; the trainee joins
and from then on every page shows the replayed world under the EXERCICE / REPLAY banner; a browser
that did not join stays on live operations.
"""
from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By

from layouts import ids, replay_ids as rid
from tests.browser.chrome import chromium, console_errors
from tests.browser.replay_stack import start_replay_stack

pytestmark = pytest.mark.browser


@pytest.fixture
def stack(redis_url, tmp_path):
    st = start_replay_stack(redis_url, tmp_path, world="mini", minutes=30)
    yield st
    st.stop()


def wait(driver, predicate, timeout: float = 30.0, what: str = "condition"):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: predicate(d), message=f"timed out waiting for {what}")


def texts(driver, css: str) -> set[str]:
    """The text of every element matching `css`, read at once (the page re-renders them)."""
    return set(driver.execute_script(f"return [...document.querySelectorAll({css!r})].map(e => e.textContent.trim())"))


def click_button(driver, label: str) -> bool:
    """Click the first button whose text holds `label` (found and clicked at once: lists re-render)."""
    return driver.execute_script(
        "const b = [...document.querySelectorAll('button')].find(b => b.textContent.includes(arguments[0]));"
        "if (b) { b.click(); return true; } return false;", label)


class Joining:
    """Clicks "Rejoindre" until the exercise banner shows (again every 10 s: the session list re-renders under a click)."""

    def __init__(self) -> None:
        self.clicked_at = 0.0

    def __call__(self, driver) -> bool:
        if "EXERCICE / REPLAY" in banner(driver):
            return True
        if "/replay" in driver.current_url and time.monotonic() - self.clicked_at > 10 and click_button(driver, "Rejoindre"):
            self.clicked_at = time.monotonic()
        return False


def banner(driver) -> str:
    found = driver.find_elements(By.ID, rid.BANNER)
    return found[0].text if found else ""


def clock_drift(driver, position: float) -> float:
    """Seconds between the page's header clock and the session's clock."""
    shown = datetime.strptime(driver.find_element(By.ID, ids.CLOCK_TEXT).text.strip(), "%H:%M:%S")
    at = datetime.fromtimestamp(position, ZoneInfo("Europe/Paris"))
    diff = abs((shown.hour * 3600 + shown.minute * 60 + shown.second) - (at.hour * 3600 + at.minute * 60 + at.second))
    return min(diff, 86400 - diff)


def frame_colour(driver) -> str:
    """The colour of the frame drawn around the whole screen in an exercise ("" without one)."""
    return driver.execute_script(
        "const f = document.querySelector('.exercise-frame');"
        "return f ? getComputedStyle(f, '::after').borderTopColor + ' ' + getComputedStyle(f, '::after').borderTopWidth : '';")


def test_a_trainer_and_a_trainee_in_one_session(dash_duo, stack):
    trainer = dash_duo.driver
    trainer.get(stack.url + "/replay")
    dash_duo.wait_for_element(f"#{rid.OPEN}", timeout=30)
    trainer.find_element(By.XPATH, f"//div[@id='{rid.SPEED}']//label[contains(., '×60')]").click()
    trainer.find_element(By.ID, rid.OPEN).click()
    dash_duo.wait_for_contains_text(f"#{rid.STATUS}", "Exercice", timeout=30)
    (session,) = stack.manager.list()
    s = stack.manager.get(session["id"])
    assert (s.start, s.speed) == (stack.span[0], 60.0)

    trainee = chromium(1366, 768)
    try:
        trainee.get(stack.url + "/replay")
        wait(trainee, Joining(), timeout=90, what="the exercise banner after joining")
        assert "Exercice" in banner(trainee) and trainee.current_url.rstrip("/") == stack.url
        assert frame_colour(trainee) == "rgb(142, 36, 170) 6px"  # the exercise's purple, which nothing else in Vigie uses
        assert "anonymous" in s.trainees  # neither browser signed in: both are the stack's anonymous trainer
        wait(trainee, lambda d: texts(d, ".sup-badge .sup-id") == {"lum-t", "eau-t", "traf-t"},
             what="the recorded supervisors (live has none: nobody publishes)")

        trainer.find_element(By.ID, rid.INJECT_EVENT)  # the trainer drives: play, then silence the water supervisor
        trainer.find_element(By.ID, rid.PLAY).click()
        wait(trainer, lambda d: s.position > s.start + 30, what="the session's clock to run")
        trainer.find_element(By.ID, rid.INJECT_TARGET).send_keys("eau-t")
        dash_duo.select_dcc_dropdown(f"#{rid.INJECT_EVENT}", value="Superviseur muet")
        trainer.find_element(By.ID, rid.INJECT).click()
        dash_duo.wait_for_contains_text(f"#{rid.MESSAGE}", "Superviseur muet : eau-t", timeout=15)
        clock = trainee.find_element(By.ID, rid.BANNER_CLOCK).text
        wait(trainee, lambda d: d.find_elements(By.CSS_SELECTOR, ".sup-badge.live-stale"), timeout=30,
             what="the silenced supervisor to go stale on the trainee's page")
        wait(trainee, lambda d: d.find_element(By.ID, rid.BANNER_CLOCK).text != clock, what="the banner's clock to move")

        trainer.find_element(By.ID, rid.PAUSE).click()  # paused, the trainee's header clock stays on the session's clock
        wait(trainer, lambda d: str(s.state) == "paused", what="the session to pause")
        time.sleep(12)
        assert clock_drift(trainee, s.position) < 6, "the page's clock ran on while the session was paused"

        trainer.get(stack.url + "/")  # a browser that did not join: live operations, no banner, no replayed supervisors
        dash_duo.wait_for_element(".vigie-header", timeout=15)
        assert banner(trainer) == "" and frame_colour(trainer) == ""
        assert not texts(trainer, ".sup-badge .sup-id") & {"eau-t", "lum-t", "traf-t"}

        trainee.find_element(By.ID, rid.LEAVE).click()
        wait(trainee, lambda d: "/replay" in d.current_url and not banner(d), what="the way back to live operations")
        assert not [e for e in console_errors(trainee) if "favicon" not in e["message"]]
    finally:
        trainee.quit()

