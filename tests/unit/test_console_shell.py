"""The staff console's shell carries the Temporal UI its workflow links open (``ui.routes.console_shell``): a UI on
another host by its URL, the embedded one of `los up` by its port (the page keeps the host it was opened on), and a
value a deployer wrote into the page stands."""

from __future__ import annotations

from ui.routes import STATIC, console_shell

PAGE = (STATIC / "console" / "index.html").read_text(encoding="utf-8")


def test_an_embedded_ui_is_linked_by_its_port_on_the_host_the_console_was_opened_on() -> None:
    page = console_shell(PAGE, "http://localhost:18233")
    assert '<meta name="los-temporal-ui-port" content="18233">' in page
    assert '<meta name="los-temporal-ui" content="">' in page


def test_a_ui_elsewhere_is_linked_by_its_url() -> None:
    page = console_shell(PAGE, "https://temporal.example.in/ui?a=1&b=2")
    assert '<meta name="los-temporal-ui" content="https://temporal.example.in/ui?a=1&amp;b=2">' in page
    assert '<meta name="los-temporal-ui-port" content="">' in page


def test_no_ui_known_or_one_the_deployer_wrote_leaves_the_page_as_it_is() -> None:
    assert console_shell(PAGE, None) == PAGE
    written = PAGE.replace(
        '<meta name="los-temporal-ui" content="">', '<meta name="los-temporal-ui" content="https://t">'
    )
    assert console_shell(written, "https://other.example") == written


def test_a_local_ui_behind_a_path_keeps_its_url_and_a_bad_port_changes_nothing() -> None:
    page = console_shell(PAGE, "https://localhost/temporal")
    assert '<meta name="los-temporal-ui" content="https://localhost/temporal">' in page
    assert console_shell(PAGE, "http://localhost:99999") == PAGE
