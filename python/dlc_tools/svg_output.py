"""What the drawing tools share: writing the picture, or saying why not."""
import json
import sys


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_svg(tool, output, make):
    """Writes the SVG text that make() returns to `output`; where make()
    cannot read its inputs, says why, writes nothing and returns 1."""
    try:
        svg = make()
    except (OSError, ValueError, KeyError) as error:
        print("%s: %s" % (tool, error), file=sys.stderr)
        return 1
    with open(output, "w") as f:
        f.write(svg)
    return 0
