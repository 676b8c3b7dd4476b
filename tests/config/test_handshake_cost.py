"""config.daphne: autobahn's per-connection debug formatting costs nothing
unless its debug log is on (a session-start storm spent 7 % of its CPU on it)."""

import pytest
import txaio


@pytest.fixture
def twisted_txaio():
    txaio.use_twisted()
    from txaio import tx

    before = tx.get_global_log_level()
    yield tx
    tx.set_global_log_level(before)


def test_the_configuration_is_not_formatted_while_debug_logging_is_off(twisted_txaio):
    from autobahn.websocket import protocol

    from config import daphne

    original = protocol.pformat
    try:
        daphne._install_cheap_handshake()
        twisted_txaio.set_global_log_level("info")
        assert protocol.pformat([("openHandshakeTimeout", 5, "Factory")]) == "(autobahn debug logging is off)"
        twisted_txaio.set_global_log_level("debug")
        assert protocol.pformat([("openHandshakeTimeout", 5, "Factory")]) == "[('openHandshakeTimeout', 5, 'Factory')]"
    finally:
        protocol.pformat = original
