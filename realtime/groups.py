"""Channel-layer group names, built from ids only (never from user input)."""


def circle_group(circle_id: int) -> str:
    """Everything that happens in one circle's live room."""
    return f"circle.{int(circle_id)}"


def staff_group() -> str:
    """Every site moderator's staff socket (crisis alerts, queue changes)."""
    return "staff.all"
