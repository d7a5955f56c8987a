"""How each stock move changes what a distribution point holds: ``on_hand``
(in the point) and ``allocated`` (set aside for entitlements, part of
on_hand). The database's checks keep both at or above zero and allocated
within on_hand, whatever happens concurrently; this says what each move
does and what its refusal means."""
from decimal import Decimal

#: move: (change of on_hand, change of allocated), per unit moved
EFFECTS = {
    "received": (1, 0),
    "allocated": (0, 1),
    "delivered": (-1, -1),   # what was allocated goes first (never below zero: see delivered_allocation)
    "returned": (1, 0),
}
MANUAL_MOVES = ("received", "allocated", "returned")


def delivered_allocation(allocated, quantity):
    """What a delivery takes from the allocated part: all of it that it can."""
    return min(allocated, quantity)


def is_low(on_hand, allocated, threshold):
    """A point is low on an item when what is free (not allocated) falls under its threshold."""
    return threshold > 0 and on_hand - allocated < threshold


def became_low(before, after, threshold):
    """Whether a move took the free quantity under the threshold (told once, not on every later move)."""
    return not is_low(*before, threshold) and is_low(*after, threshold)


def decimal_text(value):
    """A quantity as the contract writes it: no exponent, no trailing zeros."""
    text = format(Decimal(value).quantize(Decimal("0.001")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
