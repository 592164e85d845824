"""The browser test harness itself works: Chromium loads a Dash page from this machine."""
from dash import Dash, html


def test_dash_page_renders_in_headless_chromium(dash_duo):
    app = Dash(__name__)
    app.layout = html.Div("Vigie", id="hello")
    dash_duo.start_server(app)
    dash_duo.wait_for_text_to_equal("#hello", "Vigie", timeout=10)
    assert dash_duo.get_logs() == []
