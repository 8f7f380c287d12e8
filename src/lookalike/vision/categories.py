"""The product categories of the service (its "category reference"), and what the model's class scores say
about them.

Product instances file every image under one of these; generic instances use only OTHER. `IMAGENET` is a
hand-made table from the model's 1000 ImageNet classes to the categories: the classes that are plainly
products of one category (garments, shoes, bags, bottles, furniture, toys, electronics, make-up, food). Food
of every kind counts as Snack, the shop category for things to eat. Every other class (animals, plants,
scenes, tools, vehicles, instruments, ...) says nothing for a category, so its probability goes to Other.
"""

from __future__ import annotations

import numpy as np

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

# fmt: off
IMAGENET: dict[int, tuple[int, ...]] = {
    # cardigan, T-shirt, sweatshirt, trench coat, fur coat, lab coat, poncho, suit, cloak
    0: (474, 610, 841, 869, 568, 617, 735, 834, 501),
    # gown, hoop skirt, overskirt, kimono, abaya
    1: (578, 601, 689, 614, 399),
    # jeans, miniskirt, sarong
    2: (608, 655, 775),
    # backpack, purse, mail bag, plastic bag, wallet, pencil case
    3: (414, 748, 636, 728, 893, 709),
    # clogs, cowboy boot, slip-on shoe, running shoe, sandal
    4: (502, 514, 630, 770, 774),
    # sunglass(es), bow tie, Windsor tie, bolo tie, necklace, barrette, buckle, scarf, mitten, cowboy hat,
    # sombrero, poke bonnet, feather boa, umbrella, wig, handkerchief
    5: (836, 837, 457, 906, 451, 679, 584, 464, 824, 658, 515, 808, 452, 552, 879, 903, 591),
    # dishes, bread, vegetables, fruit (guacamole ... pomegranate, carbonara ... burrito), corn, acorn
    6: (*range(924, 958), *range(959, 966), 987, 988),
    # lipstick, face powder, lotion, perfume, hair spray, sunscreen
    7: (629, 551, 631, 711, 585, 838),
    # beer bottle, soda bottle, water bottle, wine bottle, whiskey jug, water jug, pill bottle
    8: (440, 737, 898, 907, 901, 899, 720),
    # barber/folding/rocking chair, throne, couch, dining table, desk, wardrobe, chiffonier, china cabinet,
    # four-poster bed, infant bed, cradle, bassinet, bookcase, filing cabinet, park bench, entertainment
    # center, medicine chest, chest, table lamp, lampshade
    9: (423, 559, 765, 857, 831, 532, 526, 894, 493, 495, 564, 520, 516, 431, 453, 553, 703, 548, 648, 492,
        846, 619),
    # teddy bear, jigsaw puzzle, soccer/tennis/basket/volley/rugby/golf/ping-pong/croquet/base ball,
    # pinwheel, piggy bank, toy store
    20: (850, 611, 805, 852, 430, 890, 768, 574, 722, 522, 429, 723, 719, 865),
    # bra, swimsuit, bikini, tank suit, tights, pajamas, sock, diaper
    21: (459, 842, 445, 639, 638, 697, 806, 529),
    # mobile/dial telephone, laptop, notebook/desktop/hand-held computer, monitor, CRT screen, television,
    # iPod, remote control, digital watch/clock, mouse, keyboard, printer, projector, speaker, CD/cassette/
    # tape player, modem, radio, joystick, reflex/Polaroid camera, hard disk, photocopier, microphone
    22: (487, 528, 620, 681, 527, 664, 782, 851, 605, 761, 531, 530, 590, 673, 508, 742, 745, 632, 485, 482,
         848, 662, 754, 613, 759, 732, 592, 713, 650),
}
# fmt: on

_ORDER = list(CATEGORIES)
_CLASS_SLOT = np.full(1000, _ORDER.index(OTHER))  # each ImageNet class's category, as a slot in _ORDER
for _category, _classes in IMAGENET.items():
    _CLASS_SLOT[list(_classes)] = _ORDER.index(_category)


def category_scores(logits: np.ndarray) -> dict[int, float]:
    """The model's belief in each category (they sum to 1), from one row of ImageNet logits."""
    probabilities = np.exp(logits - logits.max())
    totals = np.bincount(_CLASS_SLOT, weights=probabilities, minlength=len(_ORDER)) / probabilities.sum()
    return dict(zip(_ORDER, totals.tolist(), strict=True))
