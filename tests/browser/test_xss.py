"""A hostile asset name shows literally, and runs nothing, in a real browser: Dash page and Jinja pages, under Vigie's CSP."""
from __future__ import annotations

import re
import socket

import dash_ag_grid as dag
import dash_leaflet as dl
import pytest
import redis
from argon2 import PasswordHasher
from dash import Dash, Input, Output, html
from flask import Flask
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from services.accounts import Passwords
from services.contract.messages import AssetDef, Point
from services.settings import Settings
from services.web.security import init_security

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)>"
PW = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def secured(redis_url):
    """A Dash page built from a hostile asset record, behind Vigie's sign-in, CSP and admin pages."""
    # The feed contract already refuses markup in names at the boundary; this pins the second line of
    # defence, for text that got in some other way (comments, older data): the constructor does not validate.
    asset = AssetDef(id="lamp-1", type="Streetlight", name=XSS, geometry=Point(coordinates=(3.8767, 43.6108)))
    lon, lat = asset.geometry.coordinates
    server = Flask(__name__)
    security = init_security(server, Settings(), redis.Redis.from_url(redis_url),
                             passwords=Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)))
    security.store.create_user("root", "admin", None, PW, now=0.0)
    security.store.create_token(asset.name, "viewer", None, device=False, created_by="test", now=0.0)
    app = Dash(__name__, server=server, url_base_pathname="/")
    app.layout = html.Div([
        html.H1(asset.name, id="asset-name"),
        dag.AgGrid(id="grid", rowData=[{"id": asset.id, "name": asset.name}], columnDefs=[{"field": "id"}, {"field": "name"}]),
        dl.Map([dl.TileLayer(url="/no-tiles/{z}/{x}/{y}.png"),
                dl.Marker(position=[lat, lon], id="marker",
                          children=[dl.Tooltip(asset.name, permanent=True), dl.Popup(asset.name)])],
               center=[lat, lon], zoom=15, style={"height": "300px"}),
        html.Button("details", id="show"), html.Div(id="details"),
    ])

    @app.callback(Output("details", "children"), Input("show", "n_clicks"), prevent_initial_call=True)
    def show(_clicks):  # a server callback: the browser's POST must carry Dash's CSRF header to get here
        return [html.B("Name: "), asset.name]
    security.register_dash(app)
    attacker = server.test_client()  # a hostile failed sign-in, through the real form
    token = re.search(r'name="csrf_token" value="([^"]+)"', attacker.get("/auth/signin").text).group(1)
    attacker.post("/auth/signin", data={"csrf_token": token, "name": asset.name, "password": "wrong password"})
    return app, security


def no_alert(driver) -> bool:
    try:
        WebDriverWait(driver, 0.5).until(expected_conditions.alert_is_present())
    except TimeoutException:
        return True
    driver.switch_to.alert.dismiss()
    return False


def assert_inert(driver) -> None:
    driver.implicitly_wait(0)  # an absent element is the expected answer: do not wait for it
    try:
        assert driver.find_elements(By.CSS_SELECTOR, "img[src='x']") == []
        assert no_alert(driver)
    finally:
        driver.implicitly_wait(2)


def test_hostile_names_render_as_text_everywhere(dash_duo, secured):
    app, _ = secured
    dash_duo.start_server(app, navigate=False, port=free_port())
    base, driver = dash_duo.server.url, dash_duo.driver
    driver.get(base + "/")  # not signed in: the sign-in page
    dash_duo.wait_for_element("input[name=name]", timeout=10).send_keys("root")
    driver.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(PW)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    dash_duo.wait_for_text_to_equal("#asset-name", XSS, timeout=15)
    dash_duo.wait_for_text_to_equal(".ag-cell[col-id=name]", XSS, timeout=10)
    dash_duo.wait_for_text_to_equal(".leaflet-tooltip", XSS, timeout=10)
    driver.find_element(By.CSS_SELECTOR, ".leaflet-marker-icon").click()
    dash_duo.wait_for_text_to_equal(".leaflet-popup-content", XSS, timeout=10)
    driver.find_element(By.ID, "show").click()
    dash_duo.wait_for_text_to_equal("#details", "Name: " + XSS, timeout=10)
    assert_inert(driver)
    csp_errors = [e for e in driver.get_log("browser") if "Content Security Policy" in e.get("message", "")]
    assert csp_errors == []  # Dash, AG Grid and Leaflet run under the policy

    driver.get(base + "/admin/audit?action=signin")
    dash_duo.wait_for_element("#audit", timeout=10)
    actors = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#audit td.actor")]
    assert XSS.lower() in actors  # sign-in names are lower-cased before they are logged
    assert_inert(driver)

    driver.get(base + "/admin/tokens")
    names = [td.text for td in dash_duo.wait_for_element("table", timeout=10).find_elements(By.CSS_SELECTOR, "td.name")]
    assert names == [XSS]
    assert_inert(driver)
