"""Alias generation: two calm words ("Amber Heron"), chosen at random.

Pure functions.  An alias is drawn with ``secrets`` and never derived from the
handle or from any other alias of the same person, so aliases in two circles
cannot be linked to each other.
"""

import secrets
from collections.abc import Callable, Collection

ADJECTIVES = (
    "Amber",
    "Azure",
    "Birch",
    "Bright",
    "Calm",
    "Cedar",
    "Clear",
    "Coral",
    "Dawn",
    "Dusk",
    "Ember",
    "Fern",
    "Gentle",
    "Golden",
    "Hazel",
    "Honey",
    "Indigo",
    "Ivory",
    "Jade",
    "Juniper",
    "Kind",
    "Lark",
    "Linen",
    "Lunar",
    "Maple",
    "Meadow",
    "Mellow",
    "Misty",
    "Moss",
    "Night",
    "Ocean",
    "Olive",
    "Opal",
    "Pearl",
    "Pine",
    "Quiet",
    "Rain",
    "River",
    "Rose",
    "Russet",
    "Sage",
    "Sandy",
    "Silver",
    "Slate",
    "Snow",
    "Soft",
    "Solar",
    "Spring",
    "Still",
    "Stone",
    "Summer",
    "Sunny",
    "Tidal",
    "Velvet",
    "Violet",
    "Warm",
    "Willow",
    "Winter",
    "Wild",
    "Woven",
    "Young",
    "Zephyr",
    "Autumn",
    "Cobalt",
)
NOUNS = (
    "Heron",
    "Otter",
    "Finch",
    "Fox",
    "Wren",
    "Sparrow",
    "Robin",
    "Hare",
    "Deer",
    "Swan",
    "Owl",
    "Lynx",
    "Badger",
    "Crane",
    "Dove",
    "Egret",
    "Falcon",
    "Gull",
    "Ibis",
    "Kestrel",
    "Lark",
    "Marten",
    "Moth",
    "Newt",
    "Oriole",
    "Plover",
    "Quail",
    "Raven",
    "Seal",
    "Thrush",
    "Turtle",
    "Whale",
    "Brook",
    "Cloud",
    "Comet",
    "Creek",
    "Dune",
    "Fjord",
    "Glade",
    "Grove",
    "Harbor",
    "Hill",
    "Island",
    "Lagoon",
    "Leaf",
    "Meadow",
    "Moon",
    "Orchard",
    "Pebble",
    "Pond",
    "Reed",
    "Ridge",
    "Shore",
    "Sky",
    "Spruce",
    "Star",
    "Stream",
    "Tide",
    "Valley",
    "Wave",
    "Willow",
    "Wind",
    "Aspen",
    "Bay",
)

ALIAS_SPACE = len(ADJECTIVES) * len(NOUNS)


def random_alias(choice: Callable[[tuple[str, ...]], str] = secrets.choice) -> str:
    while True:
        adjective, noun = choice(ADJECTIVES), choice(NOUNS)
        if adjective != noun:
            return f"{adjective} {noun}"


def unique_alias(taken: Collection[str], *, avoid: str = "") -> str:
    """Return a random alias not in ``taken`` (and different from ``avoid``).

    Raises ``ValueError`` when the circle has used up the alias space (4,096
    names, far above any circle's capacity).
    """
    if len(taken) >= ALIAS_SPACE - 64:
        raise ValueError("alias space exhausted")
    while True:
        alias = random_alias()
        if alias not in taken and alias != avoid:
            return alias
