"""The product categories of the service (its "category reference").

Product instances file every image under one of these; generic instances use only OTHER.
"""

from __future__ import annotations

OTHER = 88888888

CATEGORIES: dict[int, str] = {
    0: "Tops",
    1: "Dress",
    2: "Bottoms",
    3: "Bag",
    4: "Shoes",
    5: "Accessories",
    6: "Snack",
    7: "Makeup",
    8: "Bottle",
    9: "Furniture",
    20: "Toy",
    21: "Underwear",
    22: "Digital device",
    OTHER: "Other",
}
