import urllib.request


def test_daphne_serves_the_directory(daphne_server, circle):
    """A real Daphne process serves the circle directory from the test database."""
    with urllib.request.urlopen(daphne_server.url + "/") as response:
        body = response.read().decode()
    assert response.status == 200
    assert "Morning Circle" in body
