"""The bare Channels broadcast room, the tutorial's shape: the baseline for room_bench."""
