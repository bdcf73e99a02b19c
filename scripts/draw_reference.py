#!/usr/bin/env python3
"""Reference implementation of fastest-shop draw protocol v1 (docs/contract.md, "Draw protocol v1").

Anyone holding a drop's audit bundle (GET /v1/drops/{id}/audit) can recompute its draw with
this script and the Python 3 standard library alone. It is written separately from the Swift
implementation, straight from the description in docs/contract.md, and the Swift unit tests pin
vectors produced by it, so each implementation checks the other.

Usage:
    draw_reference.py BUNDLE           print the recomputed draw as one JSON object
    draw_reference.py --check BUNDLE   compare with the bundle; exit 0 only if everything matches

BUNDLE is a file name, or - for standard input. It is an audit bundle, or any JSON object with
at least drop_id, seed (64 lowercase hex digits), beacon, stock, waitlist_depth and entries
([[user_id, tickets], ...] sorted by user_id). Exit status: 0 ok, 1 mismatch, 2 invalid input.
"""

import bisect
import hashlib
import hmac
import json
import sys

PROTOCOL = "fastest-shop/draw/v1"
TWO_64 = 1 << 64


class InvalidInput(Exception):
    pass


def entries_digest(entries):
    """Step 2: hex SHA-256 of the lines "<user_id>:<tickets>\\n" in canonical order."""
    text = "".join(f"{user_id}:{tickets}\n" for user_id, tickets in entries)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


class RandomWords:
    """Step 4: block i = SHA-256(R || be64(i)), read as four big-endian 64-bit words."""

    def __init__(self, r):
        self.r = r
        self.block_index = 0
        self.pending = []

    def next_word(self):
        if not self.pending:
            block = hashlib.sha256(self.r + self.block_index.to_bytes(8, "big")).digest()
            self.block_index += 1
            self.pending = [int.from_bytes(block[k:k + 8], "big") for k in range(0, 32, 8)]
        return self.pending.pop(0)

    def uniform(self, n):
        limit = TWO_64 - (TWO_64 % n)
        while True:
            x = self.next_word()
            if x < limit:
                return x % n


def draw(drop_id, seed, beacon, entries, stock, waitlist_depth):
    """Steps 3 to 6. Returns (entries_digest, winners, waitlist) as user ids."""
    digest = entries_digest(entries)
    message = f"{PROTOCOL}|{drop_id}|{digest}|{beacon}".encode("utf-8")
    words = RandomWords(hmac.new(seed, message, hashlib.sha256).digest())

    # Slot s belongs to the first entry whose cumulative ticket count exceeds s.
    cumulative = []
    total = 0
    for _, tickets in entries:
        total += tickets
        cumulative.append(total)

    wanted = min(len(entries), stock + waitlist_depth)
    ranking = []
    ranked = set()
    moved = {}  # position -> slot, for positions a swap has changed; others hold their own index
    i = 0
    while len(ranking) < wanted and i < total:
        j = i + words.uniform(total - i)
        at_i = moved.get(i, i)
        at_j = moved.get(j, j)
        moved[j] = at_i
        moved[i] = at_j
        entry = bisect.bisect_right(cumulative, at_j)
        if entry not in ranked:
            ranked.add(entry)
            ranking.append(entry)
        i += 1

    user_ids = [entries[k][0] for k in ranking]
    return digest, user_ids[:stock], user_ids[stock:]


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def read_input(bundle):
    if not isinstance(bundle, dict):
        raise InvalidInput("the input is not a JSON object")
    for field in ("drop_id", "stock", "waitlist_depth"):
        if not is_int(bundle.get(field)):
            raise InvalidInput(f"{field} must be an integer")
    if bundle["stock"] < 1 or bundle["waitlist_depth"] < 0:
        raise InvalidInput("stock must be at least 1 and waitlist_depth at least 0")
    seed_hex = bundle.get("seed")
    if not isinstance(seed_hex, str) or len(seed_hex) != 64 or seed_hex.strip("0123456789abcdef"):
        raise InvalidInput("seed must be 64 lowercase hex digits")
    beacon = bundle.get("beacon", "")
    if not isinstance(beacon, str):
        raise InvalidInput("beacon must be a string")
    entries = bundle.get("entries")
    if not isinstance(entries, list):
        raise InvalidInput("entries must be a list")
    previous = None
    for index, entry in enumerate(entries):
        if not (isinstance(entry, list) and len(entry) == 2 and all(is_int(v) for v in entry)):
            raise InvalidInput(f"entries[{index}] must be [user_id, tickets]")
        if entry[1] < 1:
            raise InvalidInput(f"entries[{index}] has fewer than 1 ticket")
        if previous is not None and entry[0] <= previous:
            raise InvalidInput(f"entries[{index}] is not in ascending user_id order")
        previous = entry[0]
    return (bundle["drop_id"], bytes.fromhex(seed_hex), beacon, entries,
            bundle["stock"], bundle["waitlist_depth"])


def main(argv):
    check = "--check" in argv
    names = [a for a in argv if a != "--check"]
    if len(names) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        if names[0] == "-":
            bundle = json.load(sys.stdin)
        else:
            with open(names[0], encoding="utf-8") as handle:
                bundle = json.load(handle)
        drop_id, seed, beacon, entries, stock, waitlist_depth = read_input(bundle)
    except (OSError, ValueError, InvalidInput) as error:
        print(f"draw_reference: {error}", file=sys.stderr)
        return 2

    digest, winners, waitlist = draw(drop_id, seed, beacon, entries, stock, waitlist_depth)
    result = {
        "commitment": hashlib.sha256(seed).hexdigest(),
        "entries_digest": digest,
        "winners": winners,
        "waitlist": waitlist,
    }
    if not check:
        print(json.dumps(result, separators=(",", ":")))
        return 0

    expected = dict(result, protocol=PROTOCOL)
    mismatches = [f"{field}: bundle has {json.dumps(bundle.get(field))}, recomputed {json.dumps(value)}"
                  for field, value in expected.items() if bundle.get(field) != value]
    for line in mismatches:
        print(line)
    if not mismatches:
        print(f"OK ({len(entries)} entries, {len(winners)} winners, {len(waitlist)} waitlisted)")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
