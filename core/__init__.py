"""The shared kernel: what every layer may import (no app, no channel layer)."""
