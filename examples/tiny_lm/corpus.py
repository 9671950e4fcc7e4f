"""The tiny LM's training text: Debian's `fortunes` package (installed by scripts/setup.sh), read locally.

Vocabulary: newline plus the 95 printable ASCII characters (96 symbols, token id = position in VOCAB).
Normalisation: a backspace deletes the character before it (the files' "overstriking"), a tab becomes a space,
every other character outside the vocabulary is dropped. Fortunes are separated by a blank line.
Split: fortune number i (counted over all files in sorted order) is held out when i % 20 == 19 (5 %).
"""
import os

FORTUNE_DIR = "/usr/share/games/fortunes"
EXCLUDED = {"art", "ascii-art"}  # pictures, not prose
VOCAB = "\n" + "".join(chr(c) for c in range(32, 127))
INDEX = {ch: i for i, ch in enumerate(VOCAB)}


def _clean(text):
    out = []
    for ch in text:
        if ch == "\b":
            if out:
                out.pop()
        elif ch == "\t":
            out.append(" ")
        elif ch in INDEX:
            out.append(ch)
    return "".join(out)


def fortunes(directory=FORTUNE_DIR):
    if not os.path.isdir(directory):
        raise SystemExit(f"error: {directory} not found; install Debian's 'fortunes' package (scripts/setup.sh)")
    names = sorted(n for n in os.listdir(directory)
                   if "." not in n and n not in EXCLUDED and not os.path.islink(os.path.join(directory, n)))
    result = []
    for n in names:
        with open(os.path.join(directory, n), "rb") as f:
            raw = f.read().decode("utf-8", errors="ignore")
        for block in raw.split("\n%\n"):
            block = _clean(block).strip("\n")
            if block and block != "%":
                result.append(block)
    return result


def split(directory=FORTUNE_DIR):
    """(train_text, heldout_text) as strings over VOCAB."""
    items = fortunes(directory)
    train = [t for i, t in enumerate(items) if i % 20 != 19]
    held = [t for i, t in enumerate(items) if i % 20 == 19]
    return "\n\n".join(train) + "\n\n", "\n\n".join(held) + "\n\n"


def encode(text):
    return [INDEX[ch] for ch in text]


def decode(ids):
    return "".join(VOCAB[i] for i in ids)


if __name__ == "__main__":
    import argparse
    import sys
    ap = argparse.ArgumentParser(description="Print the training or held-out text of the tiny LM.")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--train", action="store_true")
    g.add_argument("--heldout", action="store_true")
    a = ap.parse_args()
    sys.stdout.write(split()[0 if a.train else 1])
