"""A Box's geometry: the overlap, the intersection over union and the clip that regions are made of."""

from lookalike.domain.image import Box


def test_two_overlapping_boxes_share_the_part_both_cover():
    a, b = Box(0, 100, 0, 50), Box(60, 160, 20, 80)
    assert a.intersection(b) == b.intersection(a) == Box(60, 100, 20, 50)
    assert a.iou(b) == b.iou(a) == 40 * 30 / (100 * 50 + 100 * 60 - 40 * 30)


def test_boxes_apart_or_only_touching_share_nothing():
    a = Box(0, 10, 0, 10)
    assert a.intersection(Box(10, 20, 0, 10)) is None  # x2 is exclusive: touching is not overlapping
    assert a.intersection(Box(20, 30, 20, 30)) is None
    assert a.iou(Box(20, 30, 20, 30)) == 0.0


def test_a_box_is_its_own_intersection_and_has_an_iou_of_one_with_itself():
    a = Box(3, 17, 5, 9)
    assert a.intersection(a) == a and a.iou(a) == 1.0


def test_a_box_clipped_to_a_picture_keeps_only_what_lies_inside_it():
    assert Box(-5, 50, 10, 300).clip(40, 200) == Box(0, 40, 10, 200)
    assert Box(50, 60, 0, 10).clip(40, 200) is None


def test_a_box_moved_toward_another_moves_each_side_that_share_of_the_way():
    a, b = Box(0, 100, 0, 100), Box(20, 80, 40, 100)
    assert a.toward(b, 0.0) == a and a.toward(b, 1.0) == b
    assert a.toward(b, 0.25) == Box(5, 95, 10, 100)
